"""Seed files and the ``sandbox`` commands, run through click."""

from __future__ import annotations

import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from reconciler.cli import cli
from reconciler.errors import ReconcilerError
from reconciler.model import Package, Role
from reconciler.sandbox.cli import sandbox
from reconciler.sandbox.faults import FaultSpecError
from reconciler.sandbox.seed import SeedError, load_seed, seed_file
from reconciler.sandbox.store import SandboxError, SandboxStore

SEED = """\
accounts:
  - {email: studio@pixel.example, kind: expert, token: studio-token}
  - {email: Anna@ACME-bakery.example, kind: customer}
sites:
  - id: acme-bakery
    name: ACME Bakery
    owner: studio@pixel.example
    billing_contact: studio@pixel.example
    package: free
    collaborators: {tom@freelance.example: viewer}
  - id: old-shop
    name: Old Shop
    owner: anna@acme-bakery.example
    package: premium
"""


@pytest.fixture
def seed_path(tmp_path: Path) -> Path:
    path = tmp_path / "seed.yaml"
    path.write_text(SEED)
    return path


def test_a_seed_creates_accounts_and_sites(tmp_path: Path, seed_path: Path) -> None:
    with SandboxStore(tmp_path / "s.db") as store:
        result = seed_file(store, seed_path)
        assert (result.accounts, result.sites) == (2, 2)
        site = store.site("acme-bakery")
        assert site.collaborators == {"tom@freelance.example": Role.VIEWER}
        assert store.token_for("studio@pixel.example") == "studio-token"
        # An account without a token in the seed gets one.
        assert store.token_for("anna@acme-bakery.example").startswith("sbx_")
        old_shop = store.site("old-shop")
        assert (old_shop.billing_contact, old_shop.package) == (
            "anna@acme-bakery.example",
            Package.PREMIUM,
        )
        assert old_shop.package_paid_until is not None


def test_seeding_twice_gives_the_same_state(tmp_path: Path, seed_path: Path) -> None:
    with SandboxStore(tmp_path / "s.db") as store:
        seed_file(store, seed_path)
        before = [store.site(s) for s in ("acme-bakery", "old-shop")]
        token = store.token_for("anna@acme-bakery.example")
        seed_file(store, seed_path)
        assert [store.site(s) for s in ("acme-bakery", "old-shop")] == before
        assert store.token_for("anna@acme-bakery.example") == token
        assert store.invoices_of("old-shop") == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("accounts: [\n  {email: x", "seed.yaml:2:12: not valid YAML"),  # where the loader points
        ("- just a list", "seed.yaml: a seed file is a mapping"),
        ("acounts: []", "seed.yaml: the seed file has problems:\n  acounts: Extra inputs"),
        (
            "accounts:\n  - {email: not-an-address, kind: expert}",
            "accounts[0].email: Value error, 'not-an-address' is not a valid e-mail",
        ),
        ("accounts:\n  - {email: a@b.example, kind: robot}", "accounts[0].kind: Input should be"),
        (
            "sites:\n  - {id: Bad_Id, name: x, owner: a@b.example}",
            "sites[0].id: String should match pattern",
        ),
        (
            "accounts:\n  - {email: a@b.example, kind: expert}\n"
            "  - {email: A@b.example, kind: expert}",
            "account listed more than once: a@b.example",
        ),
        (
            "sites:\n  - {id: s, name: x, owner: a@b.example,\n"
            "     collaborators: {a@b.example: viewer}}",
            "the owner a@b.example cannot also be a collaborator",
        ),
    ],
)
def test_a_bad_seed_file_is_explained_with_its_name(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "seed.yaml"
    path.write_text(text)
    with pytest.raises(SeedError) as caught:
        load_seed(path)
    assert str(path) in str(caught.value)
    assert message.replace("seed.yaml", str(path)) in str(caught.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            "accounts: " + "[" * 3000 + "]" * 3000, "nests deeper than 32 levels", id="deep"
        ),
        pytest.param(
            "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
            + "".join(
                f"{b}: &{b} [*{a}, *{a}, *{a}, *{a}, *{a}, *{a}, *{a}, *{a}, *{a}, *{a}]\n"
                for a, b in zip("abcdef", "bcdefg", strict=True)
            ),
            "expands through aliases to more than",
            id="aliases",
        ),
    ],
)
def test_a_seed_file_holds_to_the_same_limits_as_site_files(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "seed.yaml"
    path.write_text(text)
    with pytest.raises(SeedError) as caught:
        load_seed(path)
    assert str(caught.value).startswith(f"{path}:")
    assert message in str(caught.value)


def test_an_empty_seed_file_seeds_nothing(tmp_path: Path) -> None:
    path = tmp_path / "seed.yaml"
    path.write_text("# nothing yet\n")
    assert load_seed(path).sites == []


def test_a_site_owned_by_an_unknown_account_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "seed.yaml"
    path.write_text("sites:\n  - {id: s, name: S, owner: ghost@b.example}")
    with SandboxStore(tmp_path / "s.db") as store, pytest.raises(SeedError) as caught:
        seed_file(store, path)
    assert "site 's': the owner ghost@b.example is not an account" in str(caught.value)
    assert str(path) in str(caught.value)


def test_a_missing_seed_file_is_explained(tmp_path: Path) -> None:
    with pytest.raises(SeedError, match="cannot read the seed file"):
        load_seed(tmp_path / "missing.yaml")


# -- the commands --


def invoke(*args: str) -> tuple[int, str, BaseException | None]:
    result = CliRunner().invoke(sandbox, list(args))
    return result.exit_code, result.output, result.exception


def test_seed_and_transfer_commands(tmp_path: Path, seed_path: Path) -> None:
    db = str(tmp_path / "cli.db")
    code, output, _ = invoke("seed", str(seed_path), "--db", db)
    assert (code, output) == (0, f"seeded 2 accounts and 2 sites into {db}\n")
    with SandboxStore(Path(db)) as store, store.transaction() as tx:
        tx.start_transfer(
            "studio@pixel.example", "acme-bakery", "anna@acme-bakery.example", True, None
        )
    code, output, _ = invoke("transfer", "accept", "acme-bakery", "--db", db)
    assert code == 0
    assert output.startswith("anna@acme-bakery.example accepted the transfer of acme-bakery")
    with SandboxStore(Path(db)) as store:
        assert store.site("acme-bakery").owner == "anna@acme-bakery.example"


def test_answering_without_a_pending_transfer_is_a_clear_error(
    tmp_path: Path, seed_path: Path
) -> None:
    db = str(tmp_path / "cli.db")
    invoke("seed", str(seed_path), "--db", db)
    code, _, error = invoke("transfer", "decline", "acme-bakery", "--db", db)
    assert code == 1
    assert isinstance(error, SandboxError)
    assert str(error) == (
        "site 'acme-bakery' has no pending transfer to decline; the owner must start one first"
    )
    _, _, error = invoke("transfer", "accept", "nowhere", "--db", db)
    assert isinstance(error, ReconcilerError)
    assert "there is no site 'nowhere'" in str(error)


def test_serve_refuses_a_bad_fault_spec_before_serving(tmp_path: Path) -> None:
    code, _, error = invoke("serve", "--faults", "error_rate=5", "--db", str(tmp_path / "x.db"))
    assert code == 1
    assert isinstance(error, FaultSpecError)
    assert "error_rate must be between 0 and 1" in str(error)


def test_the_default_database_lives_under_dot_reconciler(
    tmp_path: Path, seed_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, _ = invoke("seed", str(seed_path))
    assert code == 0
    assert (tmp_path / ".reconciler" / "sandbox.db").is_file()


@pytest.mark.parametrize(
    "command", [["serve"], ["seed"], ["transfer"], ["clock", "advance"], ["account", "add"]]
)
def test_every_command_has_examples_in_its_help(command: list[str]) -> None:
    code, output, _ = invoke(*command, "--help")
    assert code == 0
    assert "Examples:" in output
    assert "reconciler sandbox " + " ".join(command) in output


def test_the_owner_cancels_through_the_command(tmp_path: Path, seed_path: Path) -> None:
    db = str(tmp_path / "cli.db")
    invoke("seed", str(seed_path), "--db", db)
    with SandboxStore(Path(db)) as store, store.transaction() as tx:
        transfer, _ = tx.start_transfer(
            "studio@pixel.example", "acme-bakery", "anna@acme-bakery.example", True, None
        )
    code, output, _ = invoke("transfer", "cancel", "acme-bakery", "--db", db)
    assert (code, output) == (
        0,
        f"studio@pixel.example cancelled the transfer of acme-bakery ({transfer.id})\n",
    )
    with SandboxStore(Path(db)) as store:
        site = store.site("acme-bakery")
    assert site.pending_transfer is None
    assert site.last_transfer is not None
    assert (site.last_transfer.id, site.last_transfer.status.value) == (transfer.id, "cancelled")
    code, _, error = invoke("transfer", "cancel", "acme-bakery", "--db", db)
    assert code == 1
    assert str(error) == (
        "site 'acme-bakery' has no pending transfer to cancel; the owner must start one first"
    )


def test_a_client_signs_up_through_the_command(tmp_path: Path, seed_path: Path) -> None:
    db = str(tmp_path / "cli.db")
    invoke("seed", str(seed_path), "--db", db)
    code, output, _ = invoke("account", "add", "Marco@Glow-Salon.example", "--db", db)
    assert (code, output) == (0, "marco@glow-salon.example signed up (customer account)\n")
    code, output, _ = invoke("account", "add", "marco@glow-salon.example", "--db", db)
    assert (code, output) == (
        0,
        "marco@glow-salon.example already has a customer account; nothing to do\n",
    )
    with SandboxStore(Path(db)) as store, store.transaction() as tx:
        account = tx.account("marco@glow-salon.example")
    assert account is not None
    assert account.kind.value == "customer"
    code, _, error = invoke("account", "add", "studio@pixel.example", "--db", db)
    assert code == 1
    assert str(error) == (
        "studio@pixel.example already has an account of kind expert, not customer"
    )
    code, output, _ = invoke("account", "add", "not-an-address", "--db", db)
    assert code == 2
    assert "'not-an-address' is not a valid e-mail address" in output
    code, _, error = invoke("account", "add", "x@y.example", "--db", str(tmp_path / "none.db"))
    assert code == 1
    assert "no sandbox database at" in str(error)


def test_a_seed_account_may_have_a_read_token(tmp_path: Path) -> None:
    path = tmp_path / "seed.yaml"
    path.write_text(
        "accounts:\n"
        "  - {email: studio@pixel.example, kind: expert, token: studio-token,"
        " read_token: studio-read}\n"
    )
    with SandboxStore(tmp_path / "s.db") as store:
        seed_file(store, path)
        write, read = store.grant_for_token("studio-token"), store.grant_for_token("studio-read")
    assert write is not None
    assert read is not None
    assert (write.account.email, write.scope.value) == ("studio@pixel.example", "write")
    assert (read.account.email, read.scope.value) == ("studio@pixel.example", "read")


def test_a_token_used_twice_in_a_seed_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "seed.yaml"
    path.write_text(
        "accounts:\n"
        "  - {email: studio@pixel.example, kind: expert, token: same-token}\n"
        "  - {email: anna@acme-bakery.example, kind: customer, read_token: same-token}\n"
    )
    with pytest.raises(SeedError, match="every token must be different"):
        load_seed(path)


# -- hostile seed files: the same guarded reader as site files --


def test_a_deeply_nested_seed_is_a_clear_error_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "seed.yaml"
    path.write_text("accounts: " + "[" * 100_000 + "\n")
    db = tmp_path / "s.db"

    # In a child process: libyaml's composer crashed the whole process (exit 139).
    done = subprocess.run(
        [sys.executable, "-m", "reconciler", "sandbox", "seed", str(path), "--db", str(db)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 1
    assert done.stderr == f"error: {path}:1:43: nests deeper than 32 levels\n"


def test_the_seed_keeps_its_values_types(tmp_path: Path) -> None:
    path = tmp_path / "seed.yaml"
    path.write_text(
        "accounts:\n  - {email: a@b.example, kind: customer}\n"
        "sites:\n  - id: s\n    name: '2024'\n    owner: a@b.example\n    package: premium\n"
        "    package_paid_until: 2027-01-01T00:00:00Z\n"
    )

    seed = load_seed(path)

    assert seed.sites[0].name == "2024"
    assert seed.sites[0].package_paid_until is not None
    assert seed.sites[0].package_paid_until.year == 2027


def run_main(*args: str) -> tuple[int, str, str]:
    """The whole CLI, its error boundary included: exit code, stdout, stderr."""
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_serve_on_a_port_in_use_is_an_error_and_names_no_address_it_does_not_serve(
    tmp_path: Path,
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, out, err = run_main(
            "sandbox", "serve", "--port", str(port), "--db", str(tmp_path / "x.db")
        )

    assert (code, out) == (1, "")
    assert err == (
        f"error: cannot serve the sandbox on 127.0.0.1:{port}: Address already in use; "
        "choose another --port (--port 0 takes a free one) or --host\n"
    )


def test_serve_on_port_0_says_the_port_it_took(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "reconciler", "sandbox", "serve", "--port", "0"]
    command += ["--db", str(tmp_path / "x.db")]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as server:
        try:
            assert server.stdout is not None
            first = server.stdout.readline()
            url = first.split()[2]
            assert url.startswith("http://127.0.0.1:")
            assert url != "http://127.0.0.1:0"
            with urllib.request.urlopen(f"{url}/sandbox/stats", timeout=30) as answer:
                assert answer.status == 200
        finally:
            server.terminate()
            server.wait(timeout=15)


def test_clock_advance_beyond_a_century_is_refused_as_an_input(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    SandboxStore(db).close()

    code, _, err = run_main("sandbox", "clock", "advance", "1e9", "--db", str(db))

    assert code == 1
    assert err.endswith(
        "Error: Invalid value for 'DAYS': 1000000000.0 is not in the range 0<x<=36500.\n"
    )
