"""The approval gate is the `[github]` extra: without it, the core still applies, and
asking for the gate is exit 1 with the pip line that installs it (never a traceback).

The extra is hidden from a real `reconciler` process by a None entry in sys.modules,
which makes `import githubkit` fail as it does where the extra is not installed.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from git_support import GitRepo

ROOT = Path(__file__).resolve().parents[2]
SEED = """\
accounts:
  - {email: studio@pixel.example, kind: expert, token: studio-token}
  - {email: anna@acme-bakery.example, kind: customer}
sites:
  - {id: acme-bakery, name: ACME, owner: studio@pixel.example,
     billing_contact: studio@pixel.example, package: free, collaborators: {}}
"""
WITHOUT_GITHUB = """\
import sys
for name in ("githubkit", "githubkit_schemas", "hishel"):
    sys.modules[name] = None  # as if the [github] extra were not installed
from reconciler.cli import main
sys.argv = ["reconciler", *sys.argv[1:]]
main()
"""


@pytest.fixture
def merged(tmp_path: Path) -> GitRepo:
    made = GitRepo(tmp_path / "repo")
    made.write("reconciler.yaml", "expert: studio@pixel.example\n")
    made.write(".gitignore", ".reconciler/\n")
    made.write("sandbox.seed.yaml", SEED)
    made.site("acme-bakery", collaborators={})
    made.commit("Manage ACME")
    made.site("acme-bakery", "anna@acme-bakery.example", collaborators={})
    made.commit("Hand ACME over to Anna", author="carol")
    return made


def without_github(repo: GitRepo, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_GITHUB, "--root", str(repo.root), *args],
        capture_output=True,
        text=True,
        env={"NO_COLOR": "1", "PATH": "/usr/bin:/bin", "HOME": str(repo.root)},
        timeout=60,
        check=False,
    )


def test_the_gate_without_the_github_extra_says_what_to_install(merged: GitRepo) -> None:
    done = without_github(merged, "apply", "--yes", "--require-approval")

    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.splitlines()[-2:] == [
        "error: the approval gate (--require-approval, policy.require_approval) needs "
        "reconciler's [github] extra, which is not installed here; install it with:",
        f"  {sys.executable} -m pip install -e '{ROOT}[github]'",
    ]
    plan = without_github(merged, "plan", "--format", "json")
    assert [c["action"] for c in json.loads(plan.stdout)["changes"]] == ["transfer.start"]


def test_the_policy_turns_the_gate_on_and_needs_the_extra_too(merged: GitRepo) -> None:
    merged.write(
        "reconciler.yaml",
        "expert: studio@pixel.example\npolicy:\n  require_approval: [transfer.start]\n",
    )
    merged.commit("Handovers need an approved pull request")

    done = without_github(merged, "apply", "--yes")

    assert done.returncode == 1
    assert "needs reconciler's [github] extra" in done.stderr


def test_the_core_applies_without_the_github_extra(merged: GitRepo) -> None:
    done = without_github(merged, "apply", "--yes", "--format", "json")

    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert [(r["action"], r["outcome"]) for r in report["results"]] == [("transfer.start", "done")]
