"""Adoption (issue 21 item 4): `reconciler init` in a brand-new git repository, then
`import` of the platform's sites; validate passes and plan has nothing to do.

Real git repositories in temporary folders; the platform is the embedded sandbox over
real HTTP on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from reconciler.cli import cli
from support.repo import EXPERT, Repo, git

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_WORKFLOWS = ROOT / "examples" / "site-repository" / ".github" / "workflows"
WRITTEN = [
    "reconciler.yaml",
    "people.yaml",
    "schema/site.schema.json",
    "schema/reconciler.schema.json",
    "schema/people.schema.json",
    ".github/workflows/pull-request.yml",
    ".github/workflows/apply.yml",
    ".github/workflows/drift.yml",
    ".gitignore",
]


def run_in(folder: Path, *args: str) -> tuple[int, str, str]:
    """``reconciler ARGS`` started in ``folder``, as a user types it (no --root)."""
    previous = Path.cwd()
    os.chdir(folder)
    try:
        done = CliRunner().invoke(cli, list(args), env={"NO_COLOR": "1"})
    finally:
        os.chdir(previous)
    return done.exit_code, done.stdout, done.stderr


@pytest.fixture
def fresh(tmp_path: Path) -> Path:
    """A brand-new git repository, with nothing in it."""
    root = tmp_path / "sites-repo"
    root.mkdir()
    git(root, "init", "--quiet", "--initial-branch=main")
    return root


def test_init_in_a_new_git_repository_then_validate_and_plan_pass(fresh: Path) -> None:
    (fresh / "docs").mkdir()  # run from a subfolder: init writes in the work tree's top

    code, stdout, stderr = run_in(fresh / "docs", "init", "--expert", EXPERT)

    assert (code, stderr) == (0, "")
    assert stdout.splitlines()[: len(WRITTEN)] == [f"wrote {name}" for name in WRITTEN]
    # With no platform block, import would read the empty embedded sandbox: the next step
    # says to name the platform first.
    assert stdout.splitlines()[-1] == (
        "Next: add sites/<id>.yaml files by hand, or name your platform in "
        "reconciler.yaml's `platform:` block and run `reconciler import --all` to write "
        "them from it; then `reconciler validate`, and set up GitHub as the README says."
    )
    assert (fresh / "sites").is_dir()
    assert (fresh / ".gitignore").read_text(encoding="utf-8") == ".reconciler/\n"
    assert f"expert: {EXPERT}\n" in (fresh / "reconciler.yaml").read_text(encoding="utf-8")
    assert run_in(fresh, "validate") == (0, "0 site files valid\n", "")
    assert run_in(fresh / "docs", "plan")[:2] == (
        0,
        "No changes: the platform matches the site files.\n",
    )
    assert run_in(fresh, "fmt", "--check")[0] == 0
    git(fresh, "add", "-A")  # the embedded sandbox's .reconciler/ is ignored
    staged = git(fresh, "diff", "--cached", "--name-only").split()
    assert sorted(staged) == sorted(WRITTEN)


def test_the_workflows_are_the_example_site_repositorys_and_the_schemas_are_current(
    fresh: Path,
) -> None:
    """Only `uses:` lines of the reusable workflows (checked by actionlint and zizmor in
    `make lint`, on examples/site-repository/), and the schemas `reconciler schema`
    prints."""
    assert run_in(fresh, "init", "--expert", EXPERT)[0] == 0

    for name in ("pull-request.yml", "apply.yml", "drift.yml"):
        written = (fresh / ".github" / "workflows" / name).read_text(encoding="utf-8")
        assert written == (EXAMPLE_WORKFLOWS / name).read_text(encoding="utf-8"), name
    for kind in ("site", "reconciler", "people"):
        written = (fresh / "schema" / f"{kind}.schema.json").read_text(encoding="utf-8")
        assert written == run_in(fresh, "schema", "--file", kind)[1]
        assert written == (ROOT / "schema" / f"{kind}.schema.json").read_text(encoding="utf-8")


def test_init_overwrites_nothing_and_writes_nothing_when_a_file_exists(fresh: Path) -> None:
    (fresh / "people.yaml").write_text("tom: {email: tom@freelance.example}\n", encoding="utf-8")

    code, stdout, stderr = run_in(fresh, "init", "--expert", EXPERT)

    assert (code, stdout) == (1, "")
    assert stderr == (
        f"error: not initialised: people.yaml already exist in {fresh}; init writes nothing "
        "over a file (move them away, or edit them by hand)\n"
    )
    assert sorted(p.name for p in fresh.iterdir()) == [".git", "people.yaml"]
    assert (fresh / "people.yaml").read_text(encoding="utf-8") == (
        "tom: {email: tom@freelance.example}\n"
    )


@pytest.mark.parametrize(
    ("name", "make", "what"),
    [
        ("sites", lambda path: path.write_text(""), "sites is not a folder"),
        (".gitignore", lambda path: path.mkdir(), ".gitignore is not a plain file"),
    ],
)
def test_a_sites_or_gitignore_that_init_cannot_use_is_refused_before_anything_is_written(
    fresh: Path, name: str, make: Callable[[Path], object], what: str
) -> None:
    make(fresh / name)

    code, stdout, stderr = run_in(fresh, "init", "--expert", EXPERT)

    assert (code, stdout) == (1, "")
    assert stderr == (
        f"error: not initialised: {what} in {fresh}; init writes nothing until it can write "
        "everything (move it away)\n"
    )
    assert sorted(p.name for p in fresh.iterdir()) == sorted([".git", name])


def test_a_second_init_is_refused(fresh: Path) -> None:
    assert run_in(fresh, "init")[0] == 0
    config = (fresh / "reconciler.yaml").read_bytes()

    code, stdout, _ = run_in(fresh, "init", "--format", "json")

    assert code == 1
    assert json.loads(stdout)["error"]["message"].startswith(
        "not initialised: .github/workflows/apply.yml, "
    )
    assert (fresh / "reconciler.yaml").read_bytes() == config


def test_an_existing_gitignore_gets_the_line_once(fresh: Path) -> None:
    (fresh / ".gitignore").write_text("node_modules/", encoding="utf-8")

    code, stdout, _ = run_in(fresh, "init", "--format", "json")

    assert code == 0
    done = json.loads(stdout)
    assert (done["appended"], ".gitignore" in done["written"]) == ([".gitignore"], False)
    assert (fresh / ".gitignore").read_text(encoding="utf-8") == "node_modules/\n.reconciler/\n"


def test_without_expert_init_writes_a_placeholder_and_says_so(fresh: Path) -> None:
    code, stdout, _ = run_in(fresh, "init")

    assert code == 0
    assert (
        "Set `expert:` in reconciler.yaml to your expert account (now studio@agency.example)."
    ) in stdout
    assert run_in(fresh, "validate")[0] == 0


def test_a_malformed_expert_is_refused_before_anything_is_written(fresh: Path) -> None:
    code, _, stderr = run_in(fresh, "init", "--expert", "studio@pixel")

    assert code == 1
    assert stderr.startswith("error: --expert: 'studio@pixel' is not a valid e-mail address")
    assert sorted(p.name for p in fresh.iterdir()) == [".git"]


SEED = {
    "accounts": [
        {"email": EXPERT, "kind": "expert", "token": "studio-token"},
        {"email": "lena@harbor-yoga.example", "kind": "customer"},
        {"email": "mia@glow-salon.example", "kind": "customer"},
    ],
    "sites": [
        {"id": "own-site", "name": "Own", "owner": EXPERT, "billing_contact": EXPERT},
        {
            "id": "harbor-yoga",
            "name": "Harbor Yoga",
            "owner": "lena@harbor-yoga.example",
            "billing_contact": "accounts@harbor-yoga.example",
            "collaborators": {EXPERT: "editor"},
        },
        {
            # Handed over, but the invoices still go to the agency: validate would refuse
            # `billing_contact: studio@pixel.example` for a site the client owns.
            "id": "glow-salon",
            "name": "Glow Salon",
            "owner": "mia@glow-salon.example",
            "billing_contact": EXPERT,
            "collaborators": {EXPERT: "editor"},
        },
    ],
}


def test_import_after_init_writes_billing_contacts_and_the_schema_line(fresh: Path) -> None:
    assert run_in(fresh, "init", "--expert", EXPERT)[0] == 0
    repo = Repo(fresh, {"NO_COLOR": "1"})
    repo.seed(SEED)

    imported = repo.run("import", "--all")

    assert imported.exit_code == 0, imported.output
    own, harbor, glow = (repo.read_site(s) for s in ("own-site", "harbor-yoga", "glow-salon"))
    assert own.startswith("# yaml-language-server: $schema=../schema/site.schema.json\n")
    assert "owner: expert\nbilling_contact: expert\n" in own
    assert "billing_contact: accounts@harbor-yoga.example\n" in harbor
    assert "billing_contact" not in glow.split("#")[0]
    assert (
        "owner: mia@glow-salon.example  # billing contact left out: the platform's "
        "studio@pixel.example is outside the owning party, which validate refuses; the owner "
        "sets one of theirs\n"
    ) in glow
    assert repo.validate().exit_code == 0
    planned = repo.run("plan", "--format", "json")
    assert json.loads(planned.stdout)["changes"] == []
    assert repo.run("import", "--all").stdout.endswith("Imported: 0 written, 3 unchanged.\n")


def test_import_without_schema_folder_names_no_schema(tmp_path: Path) -> None:
    repo = Repo(tmp_path, {"NO_COLOR": "1"})
    repo.write("reconciler.yaml", f"expert: {EXPERT}\n")
    repo.seed(SEED)

    assert repo.run("import", "own-site").exit_code == 0

    assert repo.read_site("own-site").startswith("id: own-site\n")
