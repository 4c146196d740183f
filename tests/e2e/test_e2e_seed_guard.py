"""A bad ``sandbox.seed.yaml`` stops the embedded sandbox clearly, and leaves nothing.

A half-made database would be taken for a seeded one by the next command, which would
then plan against an empty platform ("No changes") without a word.
"""

from __future__ import annotations

from e2e_support import Repo


def test_a_deeply_nested_seed_stops_plan_and_leaves_no_database(repo: Repo) -> None:
    repo.write("sandbox.seed.yaml", "accounts: " + "[" * 100_000 + "\n")

    for _ in range(2):  # the second run must not find a half-made database
        result = repo.run("plan")

        assert result.exit_code == 1
        assert result.stderr.splitlines()[-1] == (
            f"error: {repo.root / 'sandbox.seed.yaml'}:1:43: nests deeper than 32 levels"
        )
        assert not repo.db.exists()
        assert list((repo.root / ".reconciler").iterdir()) == []


def test_a_seed_linked_outside_the_repository_is_refused(repo: Repo) -> None:
    outside = repo.root.parent / "outside-seed.yaml"
    outside.write_text((repo.root / "sandbox.seed.yaml").read_text())
    (repo.root / "sandbox.seed.yaml").unlink()
    (repo.root / "sandbox.seed.yaml").symlink_to(outside)

    result = repo.run("plan")

    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        f"error: {repo.root / 'sandbox.seed.yaml'}: cannot read the seed file (is a link to a "
        "file outside the repository; a file the repository holds must be inside it: replace "
        "the link by the file)"
    )
    assert not repo.db.exists()


def test_the_repositorys_seed_is_a_file_the_repository_holds_limited_to_1_mib(
    repo: Repo,
) -> None:
    """DESIGN.md section 7: 1 MiB for a file the repository holds, before parsing (a
    5 MB flow list once took plan minutes and gigabytes)."""
    repo.write("sandbox.seed.yaml", "accounts: []\nsites: []\nname: [" + "1," * 2_500_000 + "1]\n")

    result = repo.run("plan")

    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        f"error: {repo.root / 'sandbox.seed.yaml'}: cannot read the seed file (is larger than "
        "1 MiB (the limit for a file the repository holds); split it, or raise the limit "
        "with RECONCILER_MAX_FILE_BYTES)"
    )
    assert not repo.db.exists()


def test_a_large_seed_named_on_the_command_line_counts_its_values_before_building_them(
    repo: Repo,
) -> None:
    """A seed the user names may be large (many sites), but not one value per byte."""
    big = repo.root / "big-seed.yaml"
    big.write_text("accounts: []\nsites: []\nname: [" + "1," * 2_500_000 + "1]\n")

    result = repo.run("sandbox", "seed", str(big), "--db", str(repo.root / "big.db"))

    assert result.exit_code == 1
    assert result.stderr.endswith(
        "big-seed.yaml:3:1450002: holds more than 725004 values; a seed holds about one "
        "value per 15 bytes\n"
    )
    assert not (repo.root / "big.db").exists()
