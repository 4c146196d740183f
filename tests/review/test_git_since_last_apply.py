"""Nothing is left behind by a merge (DESIGN.md sections 5, 7 and 8).

The scripted scenario of issue 18, in a real git repository against the sandbox served
on 127.0.0.1 (behind a proxy that can refuse one site's writes): merge 1 is applied and
noted; merge 2's run never runs (GitHub cancelled it while queued); merge 3's `apply
--since-last-apply` applies both. A change that failed is taken up by the next such
apply; `--site` and `--changed-since` runs are never its base.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from git_support import GitRepo
from refusing_proxy import Refusals, refusing_proxy

from reconciler.cli import cli
from reconciler.sandbox.seed import seed_file
from reconciler.sandbox.server import ThreadedSandbox
from reconciler.sandbox.store import SandboxStore

SITES = ("alpha", "bravo", "charlie")
SEED = """\
accounts:
  - {email: studio@pixel.example, kind: expert, token: studio-token}
sites:
""" + "".join(
    f"  - {{id: {site}, name: {site.title()}, owner: studio@pixel.example,\n"
    "     billing_contact: studio@pixel.example, package: free, collaborators: {}}\n"
    for site in SITES
)
TOM = "tom@freelance.example"


@dataclass
class Served:
    repo: GitRepo
    store: SandboxStore
    refusals: Refusals

    def run(self, *args: str) -> Result:
        return CliRunner().invoke(
            cli,
            ["--root", str(self.repo.root), *args],
            env={"NO_COLOR": "1", "SANDBOX_TOKEN": "studio-token", "COLUMNS": "120"},
        )

    def merge(self, site: str, collaborators: dict[str, str], branch: str) -> str:
        """A pull request that changes one site file, merged into main (--no-ff)."""
        self.repo.checkout("-b", branch)
        self.repo.site(site, collaborators=collaborators)
        self.repo.commit(f"{branch}: {site}")
        self.repo.checkout("main")
        return self.repo.merge(branch, f"Merge {branch}")

    def collaborators(self, site: str) -> dict[str, str]:
        return {email: role.value for email, role in self.store.site(site).collaborators.items()}

    def block(self, sha: str) -> str:
        """The first line of the last block of ``sha``'s note."""
        note = self.repo.note(sha) or ""
        return [line for line in note.splitlines() if line.startswith("reconciler-apply ")][-1]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    with (
        ThreadedSandbox(tmp_path / "platform.db") as platform,
        refusing_proxy(platform.url) as (url, refusals),
    ):
        (tmp_path / "seed.yaml").write_text(SEED)
        seed_file(platform.store, tmp_path / "seed.yaml")
        repo = GitRepo(tmp_path / "repo")
        repo.write(".gitignore", ".reconciler/\n")
        repo.write(
            "reconciler.yaml",
            f"expert: studio@pixel.example\nplatform:\n  url: {url}\n  token_env: SANDBOX_TOKEN\n",
        )
        for site in SITES:
            repo.site(site, collaborators={})
        repo.commit("Manage three sites")
        yield Served(repo, platform.store, refusals)


def complete(sha: str, scope: str) -> str:
    return f"reconciler-apply v1 commit={sha} scope={scope} finished=true failed=0 held=0"


def test_with_no_note_since_last_apply_is_an_error_that_says_what_to_do(served: Served) -> None:
    for command in ("plan", "apply"):
        result = served.run(command, "--since-last-apply", *(["--yes"] * (command == "apply")))

        assert result.exit_code == 1, result.output
        assert "error: --since-last-apply: no complete apply is recorded" in result.output
        assert "Run one full apply first" in result.output
        assert "git fetch origin refs/notes/reconciler:refs/notes/reconciler" in result.output
        assert "Traceback" not in result.output
    assert served.repo.note(served.repo.head()) is None  # nothing was applied or noted


def test_a_merge_whose_run_never_ran_is_applied_by_the_next_merge(served: Served) -> None:
    first = served.run("apply", "--yes")  # the first full apply: the first base
    assert first.exit_code == 0, first.output
    assert served.block(served.repo.head()) == complete(served.repo.head(), "all")

    merge1 = served.merge("alpha", {TOM: "viewer"}, "one")
    applied1 = served.run("apply", "--yes", "--since-last-apply")
    assert applied1.exit_code == 0, applied1.output
    assert "Apply: 1 done, 0 failed, 0 skipped." in applied1.output
    assert served.block(merge1) == complete(merge1, "since-last-apply")

    served.merge("bravo", {TOM: "editor"}, "two")  # its apply run never runs
    merge3 = served.merge("charlie", {TOM: "viewer"}, "three")
    planned = served.run("plan", "--since-last-apply")
    applied3 = served.run("apply", "--yes", "--since-last-apply")

    assert planned.exit_code == 0, planned.output
    assert f"Sites whose files changed since the last complete apply ({merge1[:12]}): 2." in (
        planned.output
    )
    assert "alpha" not in planned.output.split("Not applied")[0]
    assert applied3.exit_code == 0, applied3.output
    assert "done    bravo: collaborator.add" in applied3.output
    assert "done    charlie: collaborator.add" in applied3.output
    assert "Apply: 2 done, 0 failed, 0 skipped." in applied3.output
    assert served.collaborators("bravo") == {TOM: "editor"}
    assert served.collaborators("charlie") == {TOM: "viewer"}
    assert served.block(merge3) == complete(merge3, "since-last-apply")
    assert served.run("plan", "--detailed-exitcode").exit_code == 0


def test_a_failed_change_is_taken_up_by_the_next_apply_since_the_last(served: Served) -> None:
    assert served.run("apply", "--yes").exit_code == 0
    served.refusals.sites.add("alpha")
    merge1 = served.merge("alpha", {TOM: "viewer"}, "one")

    failed = served.run("apply", "--yes", "--since-last-apply")

    assert failed.exit_code == 1
    assert "FAILED  alpha: collaborator.add" in failed.output
    assert served.block(merge1) == (
        f"reconciler-apply v1 commit={merge1} scope=since-last-apply finished=true failed=1 held=0"
    )
    served.refusals.sites.clear()  # the platform takes writes again
    merge2 = served.merge("bravo", {TOM: "viewer"}, "two")

    again = served.run("apply", "--yes", "--since-last-apply")

    assert again.exit_code == 0, again.output
    assert "done    alpha: collaborator.add" in again.output
    assert "done    bravo: collaborator.add" in again.output
    assert served.collaborators("alpha") == {TOM: "viewer"}
    assert served.block(merge2) == complete(merge2, "since-last-apply")


def test_site_plans_and_applies_only_the_named_sites_and_is_never_the_base(
    served: Served,
) -> None:
    assert served.run("apply", "--yes").exit_code == 0
    base = served.repo.head()
    served.merge("alpha", {TOM: "viewer"}, "one")
    head = served.merge("bravo", {TOM: "viewer"}, "two")

    planned = served.run("plan", "--site", "alpha")
    applied = served.run("apply", "--yes", "--site", "alpha")
    left = served.run("plan", "--since-last-apply")

    assert planned.exit_code == 0, planned.output
    assert planned.output.startswith("Sites named with --site: alpha.\n")
    assert "Not applied: 1 other pending change on 1 site" in planned.output
    assert applied.exit_code == 0, applied.output
    assert "Apply: 1 done, 0 failed, 0 skipped." in applied.output
    assert served.collaborators("bravo") == {}
    assert served.block(head) == (
        f"reconciler-apply v1 commit={head} scope=sites finished=true failed=0 held=0"
    )
    # The base is still the full apply: bravo is left behind, alpha has nothing to do.
    assert f"since the last complete apply ({base[:12]}): 2." in left.output
    assert "\nbravo\n  + collaborator.add" in left.output
    assert "\nalpha\n" not in left.output


def test_site_without_a_file_and_scope_options_together_are_refused(served: Served) -> None:
    unknown = served.run("plan", "--site", "nope")
    both = served.run("apply", "--yes", "--site", "alpha", "--since-last-apply")

    assert unknown.exit_code == 1
    assert "error: --site nope: no such site file under sites/" in unknown.output
    assert both.exit_code == 1
    assert "error: give one of --since-last-apply and --site, not both" in both.output


def test_a_pull_requests_plan_shows_what_its_merge_also_applies(served: Served) -> None:
    assert served.run("apply", "--yes").exit_code == 0
    served.merge("bravo", {TOM: "editor"}, "two")  # its apply run never runs
    main = served.repo.head()
    served.repo.checkout("-b", "three")
    served.repo.site("charlie", collaborators={TOM: "viewer"})
    served.repo.commit("three: charlie")

    markdown = served.run("plan", "--changed-since", main, "--format", "markdown")
    text = served.run("plan", "--changed-since", main)
    as_json = served.run("plan", "--changed-since", main, "--format", "json")

    assert markdown.exit_code == 0, markdown.output
    also = markdown.output.split("#### Also applied by this merge (1)\n\n", 1)[1]
    why, listed = also.split("\n\n")[:2]
    assert "earlier merges changed and left behind" in why
    assert listed == "- **bravo** `collaborator.add` give tom@freelance.example editor access"
    assert "Not applied by this merge" not in markdown.output
    assert "<b>charlie</b>" in markdown.output.split("#### Also applied")[0]
    assert "Also applied by this merge: 1 pending change on 1 site" in text.output
    plan = json.loads(as_json.output)
    assert [change["site"] for change in plan["also_applied"]] == ["bravo"]
    assert plan["not_applied"] == []
    assert plan["scope_kind"] == "changed-since"


def test_without_a_recorded_apply_a_pull_requests_plan_has_no_also_applied(
    served: Served,
) -> None:
    main = served.repo.head()
    served.repo.checkout("-b", "one")
    served.repo.site("alpha", collaborators={TOM: "viewer"})
    served.repo.commit("one: alpha")

    planned = served.run("plan", "--changed-since", main, "--format", "json")

    assert planned.exit_code == 0, planned.output
    assert "also_applied" not in json.loads(planned.output)


def test_a_saved_plan_is_noted_with_the_scope_it_covers_and_no_more(
    served: Served, tmp_path: Path
) -> None:
    """The manual run applies a saved plan: of every site, it is the next base; of
    --site, never; nor is a plan file edited to claim every site."""
    everything, some, forged = (tmp_path / f"{n}.json" for n in ("all", "some", "forged"))
    assert served.run("plan", "--out", str(everything)).exit_code == 0
    head = served.repo.head()

    applied = served.run("apply", str(everything))

    assert applied.exit_code == 0, applied.output
    assert served.block(head) == complete(head, "all")
    merge = served.merge("alpha", {TOM: "viewer"}, "one")
    assert served.run("plan", "--site", "alpha", "--out", str(some)).exit_code == 0
    plan = json.loads(some.read_text())
    assert plan["scope_kind"] == "sites"
    plan["scope_kind"] = None
    plan.pop("scope_note")
    forged.write_text(json.dumps(plan))

    refused = served.run("apply", str(forged), "--site", "alpha")
    applied = served.run("apply", str(forged))

    assert refused.exit_code == 1
    assert "error: give a plan file or --site, not both" in refused.output
    assert applied.exit_code == 0, applied.output
    assert served.block(merge) == (
        f"reconciler-apply v1 commit={merge} scope=sites finished=true failed=0 held=0"
    )
