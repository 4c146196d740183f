"""``init``: the files a new site repository starts from, in its root.

reconciler.yaml, people.yaml, the JSON Schemas under schema/ (which the files' first
lines name, for editors), sites/, a .gitignore for the embedded sandbox's
.reconciler/, and the three workflows that only call reconciler's reusable workflows
(the same files as examples/site-repository/). Nothing is overwritten: when one of the
files exists, nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from reconciler.desired.schemas import json_schema
from reconciler.errors import ReconcilerError
from reconciler.model import normalise_email
from reconciler.operations.output import write_output

IGNORED = ".reconciler/"
WORKFLOWS = ("pull-request.yml", "apply.yml", "drift.yml")
PLACEHOLDER_EXPERT = "studio@agency.example"


def config_text(expert: str) -> str:
    return f"""\
# yaml-language-server: $schema=schema/reconciler.schema.json
# The expert account that manages these sites (the account the platform token is of).
expert: {expert}
# The platform's API. Without this block, every command plans and applies against an
# embedded sandbox (.reconciler/, git-ignored): a local stand-in to try things on.
# platform:
#   url: https://platform.example/api
#   token_env: PLATFORM_TOKEN   # each workflow puts its own token here (read or write)
policy:
  max_handovers: 10             # per run; more fails the plan unless --force
  max_removals: 20
  # require_approval: [transfer.start]   # every apply holds handovers back unless approved
"""


PEOPLE_TEXT = """\
# yaml-language-server: $schema=schema/people.schema.json
# Handles for people who appear on many sites; use the handle in site files, e.g.
# tom: {email: tom@freelance.example, name: Tom}
# and offboard a person who left with one line: `left: 2026-11-27` under their handle.
{}
"""


@dataclass
class Initialised:
    """What ``init`` wrote (paths from the root) and what it changed in place."""

    root: Path
    written: list[str] = field(default_factory=list)
    appended: list[str] = field(default_factory=list)  # .gitignore, when it existed
    expert: str = PLACEHOLDER_EXPERT
    placeholder: bool = True


@dataclass(frozen=True)
class InitOperation:
    root: Path
    expert: str | None = None

    def run(self) -> Initialised:
        expert = PLACEHOLDER_EXPERT if self.expert is None else _checked(self.expert)
        files = self._files(expert)
        existing = sorted(name for name in files if _taken(self.root / name))
        if existing:
            raise ReconcilerError(
                f"not initialised: {', '.join(existing)} already exist in {self.root}; "
                "init writes nothing over a file (move them away, or edit them by hand)"
            )
        unusable = self._unusable()
        if unusable:  # found before writing, so that a refused init leaves no half
            raise ReconcilerError(
                f"not initialised: {unusable} in {self.root}; init writes nothing until it "
                "can write everything (move it away)"
            )
        done = Initialised(self.root, expert=expert, placeholder=self.expert is None)
        for name, text in files.items():
            write_output(self.root / name, text, make_folders=True)
            done.written.append(name)
        (self.root / "sites").mkdir(exist_ok=True)
        self._ignore_sandbox(done)
        return done

    def _unusable(self) -> str | None:
        """A ``sites`` that is no folder, a ``.gitignore`` that is no plain file."""
        sites, ignore = self.root / "sites", self.root / ".gitignore"
        if _taken(sites) and (sites.is_symlink() or not sites.is_dir()):
            return "sites is not a folder"
        if _taken(ignore) and (ignore.is_symlink() or not ignore.is_file()):
            return ".gitignore is not a plain file"
        return None

    def _files(self, expert: str) -> dict[str, str]:
        files = {
            "reconciler.yaml": config_text(expert),
            "people.yaml": PEOPLE_TEXT,
            "schema/site.schema.json": json_schema("site"),
            "schema/reconciler.schema.json": json_schema("reconciler"),
            "schema/people.schema.json": json_schema("people"),
        }
        templates = resources.files("reconciler") / "templates" / "workflows"
        for name in WORKFLOWS:
            files[f".github/workflows/{name}"] = (templates / name).read_text(encoding="utf-8")
        return files

    def _ignore_sandbox(self, done: Initialised) -> None:
        """A .gitignore that ignores .reconciler/: written, or the line added."""
        path = self.root / ".gitignore"
        if not _taken(path):
            write_output(path, f"{IGNORED}\n")
            done.written.append(".gitignore")
            return
        if path.is_symlink() or not path.is_file():
            raise ReconcilerError(".gitignore is not a plain file; add `.reconciler/` to it")
        text = path.read_text(encoding="utf-8")
        if IGNORED in text.splitlines() or IGNORED.rstrip("/") in text.splitlines():
            return
        write_output(
            path, text + ("" if text.endswith("\n") or not text else "\n") + IGNORED + "\n"
        )
        done.appended.append(".gitignore")


def _taken(path: Path) -> bool:
    return path.is_symlink() or path.exists()


def _checked(expert: str) -> str:
    try:
        return normalise_email(expert)
    except ValueError as exc:
        raise ReconcilerError(f"--expert: {exc}") from None
