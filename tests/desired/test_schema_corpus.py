"""The JSON Schemas and validate agree on a corpus of tricky files (issue 21).

Each file of ``schema_corpus/`` (site files, reconciler.yaml and people.yaml) is read
with the project's own YAML loader, as validate reads it, and checked twice: by the
jsonschema library against ``reconciler schema`` (formats checked), and by
``reconciler validate`` in a repository that holds it. They must agree on every file,
except the ones ``OUT_OF_REACH`` lists: rules no JSON Schema can state (across files,
between two values of a file, of YAML itself, of IDNA); on those the schema accepts and
validate refuses. Each file's first line says what validate makes of it.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from desired_support import CONFIG, PEOPLE, Repo
from hypothesis import example, given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from reconciler.addresses import EMAIL_PATTERN, normalise_email
from reconciler.desired.loader import parse_yaml
from reconciler.desired.schemas import json_schema

CORPUS = Path(__file__).parent / "schema_corpus"
KINDS = {"sites": "site", "reconciler": "reconciler", "people": "people"}
FILES = sorted(path.relative_to(CORPUS).as_posix() for path in CORPUS.glob("*/*.yaml"))

OUT_OF_REACH = {
    # Across files: people.yaml, reconciler.yaml's expert, the file's own name.
    "sites/file-name-differs.yaml": "the id must equal the file's name",
    "sites/unknown-handle.yaml": "a handle must be in people.yaml",
    "sites/looks-like-the-expert.yaml": "an address must not pass for the expert's own",
    # Between two values of one file.
    "sites/owner-also-collaborator.yaml": "the owner must not be a collaborator too",
    "sites/billing-outside-party.yaml": "the billing contact belongs to the owner's party",
    "sites/same-person-twice.yaml": "a person is listed once, however written",
    "people/looks-like-the-expert.yaml": "an address must not pass for another one",
    # YAML itself: the JSON an editor makes of these keeps one value and drops the tag.
    "sites/duplicate-key.yaml": "a key is written once",
    "sites/yaml-tag.yaml": "a value carries no YAML tag",
    # What no regular expression knows.
    "sites/domain-idna-refuses.yaml": "an international domain must be valid IDNA",
    "reconciler/url-broken-ipv6.yaml": "a URL's [IPv6] host must be well formed",
    "reconciler/kind-not-installed.yaml": "a platform kind must be installed",
}
NINE_KINDS = [  # the files the schema accepted and validate refused (issue 21)
    "sites/name-null.yaml",
    "sites/collaborators-no-value.yaml",
    "sites/package-tilde.yaml",
    "sites/owner-display-name.yaml",
    "sites/owner-trailing-dot.yaml",
    "sites/owner-non-ascii-local.yaml",
    "sites/owner-fullwidth-at.yaml",
    "sites/collaborator-display-name.yaml",
    "sites/billing-contact-null.yaml",
]


def _read(name: str) -> Any:
    """The file's data as validate sees it (the project's loader), so as JSON."""
    parsed = parse_yaml((CORPUS / name).read_text(encoding="utf-8"), name, allow_empty=True)
    assert parsed.document is not None, parsed.problems
    return parsed.document.data


@cache
def _validator(kind: str) -> Draft202012Validator:
    schema = json.loads(json_schema(kind))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def schema_accepts(name: str) -> bool:
    return _validator(KINDS[name.split("/")[0]]).is_valid(_read(name))


def validate_accepts(name: str, tmp_path: Path) -> bool:
    folder, file = name.split("/")
    repo = Repo(tmp_path, {"NO_COLOR": "1"})
    repo.write("reconciler.yaml", CONFIG)
    repo.write("people.yaml", PEOPLE)
    (tmp_path / "sites").mkdir()
    target = {"sites": f"sites/{file}", "reconciler": "reconciler.yaml", "people": "people.yaml"}
    (tmp_path / target[folder]).write_bytes((CORPUS / name).read_bytes())
    result = repo.validate("--format", "json")
    problems = json.loads(result.stdout)["problems"]
    errors = [p for p in problems if p["severity"] == "error" and p["file"] == target[folder]]
    assert result.exit_code == (1 if errors else 0), result.output
    return not errors


def expected(name: str) -> bool:
    first = (CORPUS / name).read_text(encoding="utf-8").splitlines()[0]
    match = re.match(r"# expect: (valid|invalid)\b", first)
    assert match, f"{name} must start with '# expect: valid' or '# expect: invalid'"
    return match[1] == "valid"


def test_the_corpus_holds_the_tricky_files_of_the_issue_and_more() -> None:
    assert set(NINE_KINDS) <= set(FILES)
    assert set(OUT_OF_REACH) <= set(FILES)
    assert len(FILES) >= 30
    assert {name.split("/")[0] for name in FILES} == set(KINDS)
    assert sum(expected(name) for name in FILES) >= 10  # valid files too


@pytest.mark.parametrize("name", FILES)
def test_the_schema_and_validate_agree(name: str, tmp_path: Path) -> None:
    validated = validate_accepts(name, tmp_path)

    assert validated == expected(name), f"validate: {name} is not as its first line says"
    if name in OUT_OF_REACH:
        assert schema_accepts(name), f"{name} is listed out of reach but the schema refuses it"
        assert not validated
    else:
        assert schema_accepts(name) == validated


# --- the address pattern against the address validator ----------------------------------

_LOCAL_CHARACTERS = "aZ09!$&'*+=^_`{|}~.-@ /\\%?#\"(),:;<>[]\t\u212aéа\u200b＠"
_DOMAIN_CHARACTERS = "az09-._@ äא。\u200b/"


def _accepted(address: str) -> bool:
    try:
        normalise_email(address)
    except ValueError:
        return False
    return True


@given(
    st.text(_LOCAL_CHARACTERS, max_size=8),
    st.text(_DOMAIN_CHARACTERS, max_size=12),
    st.sampled_from(["", " ", "\n", "\u3000"]),
)
@example("a", "b.c", "")
@example("a" * 64, "b.c", "")
@example("a" * 65, "b.c", "")
@example("a", "b" * 63 + ".c", "")
@example("a", "b" * 64 + ".c", "")
def test_the_address_pattern_is_the_address_validator(local: str, domain: str, pad: str) -> None:
    """For an ASCII domain the pattern accepts exactly what validate accepts; for a
    domain in another script it may accept more (IDNA is beyond it), never less."""
    address = f"{pad}{local}@{domain}{pad}"
    matches = re.search(EMAIL_PATTERN, address) is not None

    if domain.isascii():
        assert matches == _accepted(address), address
    else:
        assert matches or not _accepted(address), address


def test_validate_reads_counts_and_days_only_as_written(repo: Repo) -> None:
    """pydantic alone would read ``"3"`` and ``true`` as counts, a number as a timestamp
    and a date and time at midnight as a day; the schema refuses them, and so does
    validate, saying what to write."""
    repo.write("reconciler.yaml", CONFIG + 'policy:\n  max_handovers: "3"\n  approvals: true\n')
    repo.write(
        "people.yaml",
        "tom: {email: tom@x.example, left: 0}\n"
        "bob: {email: bob@x.example, left: 2020-11-27T00:00:00}\n",
    )

    result = repo.validate()

    assert result.exit_code == 1
    assert result.lines == [
        "people.yaml:1:35: error: tom.left: must be a date such as 2026-11-27, not 0",
        "people.yaml:2:35: error: bob.left: must be a date such as 2026-11-27, not "
        "'2020-11-27T00:00:00'",
        "reconciler.yaml:3:18: error: policy.max_handovers: must be a whole number, not '3'",
        "reconciler.yaml:4:14: error: policy.approvals: must be a whole number, not the "
        "boolean true",
        "4 errors in 2 files",
    ]
