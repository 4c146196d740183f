"""The rules of a site file (DESIGN.md section 3), as `reconciler validate` reports them."""

from __future__ import annotations

import pytest
from desired_support import Repo

ALLOWED = (
    "check the spelling (allowed: id, name, owner, billing_contact, collaborators, package, "
    "ask_again_after)"
)
ROLES = "use 'viewer', 'editor' or 'admin'"


# (file name, file text, the exact problem lines `validate` prints)
INVALID_SITES = {
    "unknown key": (
        "a",
        "id: a\nowner: expert\ncolour: red\n",
        [f"sites/a.yaml:3:1: error: unknown key 'colour'; {ALLOWED}"],
    ),
    "unknown keys, each reported": (
        "a",
        "Id: a\nid: a\nowner: expert\ncollaborator:\n  tom: viewer\n",
        [
            f"sites/a.yaml:1:1: error: unknown key 'Id'; {ALLOWED}",
            f"sites/a.yaml:4:1: error: unknown key 'collaborator'; {ALLOWED}",
        ],
    ),
    "file name differs from id": (
        "b",
        "id: a\nowner: expert\n",
        [
            "sites/b.yaml:1:5: error: id 'a' differs from the file name 'b'; "
            "rename the file to a.yaml or change the id"
        ],
    ),
    "file name differs from id in case": (
        "ACME",
        "id: acme\nowner: expert\n",
        [
            "sites/ACME.yaml:1:5: error: id 'acme' differs from the file name 'ACME'; "
            "rename the file to acme.yaml or change the id"
        ],
    ),
    "invalid site id in a file of another name: no advice to rename the file to it": (
        "dots",
        "id: ../etc\nowner: expert\n",
        [
            "sites/dots.yaml:1:5: error: id: '../etc' is not a valid site id; "
            "use lower-case letters, digits and hyphens (at most 63)"
        ],
    ),
    "invalid site id": (
        "Acme_Bakery",
        "id: Acme_Bakery\nowner: expert\n",
        [
            "sites/Acme_Bakery.yaml:1:5: error: id: 'Acme_Bakery' is not a valid site id; "
            "use lower-case letters, digits and hyphens (at most 63)"
        ],
    ),
    "missing id and owner": (
        "a",
        "# a comment\nname: A\n",
        [
            "sites/a.yaml:2:1: error: missing required key 'id'",
            "sites/a.yaml:2:1: error: missing required key 'owner'",
        ],
    ),
    "malformed owner e-mail": (
        "a",
        "id: a\nowner: anna@\n",
        ["sites/a.yaml:2:8: error: 'anna@' is not a valid e-mail address"],
    ),
    "malformed billing contact": (
        "a",
        "id: a\nowner: expert\nbilling_contact: accounts@pixel\n",
        [
            "sites/a.yaml:3:18: error: 'accounts@pixel' is not a valid e-mail address: "
            "the domain needs a dot, like example.com"
        ],
    ),
    "malformed collaborator e-mail points at the key": (
        "a",
        "id: a\nowner: expert\ncollaborators:\n  tom@@freelance.example: viewer\n",
        [
            "sites/a.yaml:4:3: error: 'tom@@freelance.example' is not a valid e-mail address: "
            "it holds more than one @"
        ],
    ),
    "unknown handle as owner": (
        "a",
        "id: a\nowner: bob\n",
        [
            "sites/a.yaml:2:8: error: unknown handle 'bob'; add it to people.yaml or "
            "write an e-mail address"
        ],
    ),
    "unknown handle as collaborator and billing contact": (
        "a",
        "id: a\nowner: expert\nbilling_contact: accounts\ncollaborators:\n  bob: viewer\n",
        [
            "sites/a.yaml:3:18: error: unknown handle 'accounts'; add it to people.yaml or "
            "write an e-mail address",
            "sites/a.yaml:5:3: error: unknown handle 'bob'; add it to people.yaml or "
            "write an e-mail address",
        ],
    ),
    "handles are case-sensitive": (
        "a",
        "id: a\nowner: Tom\n",
        [
            "sites/a.yaml:2:8: error: unknown handle 'Tom'; add it to people.yaml or "
            "write an e-mail address"
        ],
    ),
    "owner listed as collaborator, by another spelling": (
        "a",
        "id: a\nowner: anna\ncollaborators:\n  tom: viewer\n  ANNA@acme-bakery.EXAMPLE: editor\n",
        [
            "sites/a.yaml:5:3: error: the owner anna@acme-bakery.example is listed as a "
            "collaborator; the owner has full access already, remove this line"
        ],
    ),
    "expert owner listed as collaborator": (
        "a",
        "id: a\nowner: expert\ncollaborators:\n  Studio@Pixel.example: admin\n",
        [
            "sites/a.yaml:4:3: error: the owner studio@pixel.example is listed as a "
            "collaborator; the owner has full access already, remove this line"
        ],
    ),
    "the same collaborator twice": (
        "a",
        "id: a\nowner: expert\ncollaborators:\n  tom: viewer\n  TOM@freelance.example: editor\n",
        [
            "sites/a.yaml:5:3: error: 'TOM@freelance.example' is tom@freelance.example, "
            "already listed as 'tom'; list each person once"
        ],
    ),
    "billing contact of a client site is the expert": (
        "a",
        "id: a\nowner: anna\nbilling_contact: expert\n",
        [
            "sites/a.yaml:3:18: error: billing contact studio@pixel.example is outside the "
            "owning party: the client (anna@acme-bakery.example) owns this site, so invoices "
            "go to anna@acme-bakery.example or another address on @acme-bakery.example"
        ],
    ),
    "billing contact of a client site on another domain": (
        "a",
        "id: a\nowner: lena@harbor-yoga.example\nbilling_contact: tom\n",
        [
            "sites/a.yaml:3:18: error: billing contact tom@freelance.example is outside the "
            "owning party: the client (lena@harbor-yoga.example) owns this site, so invoices "
            "go to lena@harbor-yoga.example or another address on @harbor-yoga.example"
        ],
    ),
    "billing contact of an expert site is a client": (
        "a",
        "id: a\nowner: expert\nbilling_contact: anna@acme-bakery.example\n",
        [
            "sites/a.yaml:3:18: error: billing contact anna@acme-bakery.example is outside the "
            "owning party: the expert (studio@pixel.example) owns this site, so invoices go to "
            "studio@pixel.example or another address on @pixel.example"
        ],
    ),
    "invalid role": (
        "a",
        "id: a\nowner: expert\ncollaborators:\n  tom: owner\n  anna: Editor\n",
        [
            f"sites/a.yaml:4:8: error: collaborators.tom: 'owner' is not allowed; {ROLES}",
            f"sites/a.yaml:5:9: error: collaborators.anna: 'Editor' is not allowed; {ROLES}",
        ],
    ),
    "role left empty or not text": (
        "a",
        "id: a\nowner: expert\ncollaborators:\n  tom:\n  anna: [editor]\n",
        [
            f"sites/a.yaml:4:7: error: collaborators.tom: an empty value is not allowed; {ROLES}",
            f"sites/a.yaml:5:9: error: collaborators.anna: a list is not allowed; {ROLES}",
        ],
    ),
    "invalid package": (
        "a",
        "id: a\nowner: anna\npackage: gold\n",
        ["sites/a.yaml:3:10: error: package: 'gold' is not allowed; use 'free' or 'premium'"],
    ),
    "values of the wrong type": (
        "a",
        "id: 5\nowner: [expert]\nname: {a: 1}\ncollaborators: [tom]\n",
        [
            "sites/a.yaml:1:5: error: id: must be text, not 5",
            "sites/a.yaml:2:8: error: owner: must be text, not a list",
            "sites/a.yaml:3:7: error: name: must be text, not a mapping",
            "sites/a.yaml:4:16: error: collaborators: must be a mapping, not a list",
        ],
    ),
    "an empty owner": (
        "a",
        "id: a\nowner: ''\n",
        ["sites/a.yaml:2:8: error: owner: must not be empty"],
    ),
}


@pytest.mark.parametrize(
    ("file_name", "text", "expected"), INVALID_SITES.values(), ids=INVALID_SITES.keys()
)
def test_an_invalid_site_file_is_reported_at_its_line(
    repo: Repo, file_name: str, text: str, expected: list[str]
) -> None:
    repo.site(file_name, text)

    result = repo.validate()

    assert result.exit_code == 1
    assert result.lines[:-1] == expected
    assert result.lines[-1].startswith(f"{len(expected)} error")


VALID_SITES = {
    "expert owner, billed to the expert's accounts address": (
        "id: a\nowner: expert\nbilling_contact: accounts@pixel.example\n"
    ),
    "expert owner written as an e-mail in upper case": (
        "id: a\nowner: STUDIO@pixel.example\nbilling_contact: expert\n"
    ),
    "client owner billed on the client's domain": (
        "id: a\nowner: anna\nbilling_contact: Accounts@ACME-bakery.example\n"
    ),
    "client owner billed to the owner, written differently": (
        "id: a\nowner: anna\nbilling_contact: anna@acme-bakery.example\n"
    ),
    "the expert stays on after a handover": (
        "id: a\nowner: lena@harbor-yoga.example\ncollaborators:\n"
        "  expert: editor\n  tom: admin\npackage: premium\n"
    ),
    "collaborators: {}": "id: a\nowner: expert\ncollaborators: {}\npackage: free\n",
    "a name that is not text-like": "id: a\nname: '2024'\nowner: expert\n",
    "a modeline, comments and a document marker": (
        "# yaml-language-server: $schema=../schema/site.schema.json\n---\n"
        "id: a  # the id\nowner: expert\n...\n"
    ),
}


@pytest.mark.parametrize("text", VALID_SITES.values(), ids=VALID_SITES.keys())
def test_a_valid_site_file_passes(repo: Repo, text: str) -> None:
    repo.site("a", text)

    result = repo.validate()

    assert (result.exit_code, result.lines) == (0, ["1 site file valid"])


def test_every_problem_of_every_file_is_reported_in_one_run(repo: Repo) -> None:
    repo.site("a", "id: a\nowner: bob\ncolour: red\ncollaborators:\n  tom: boss\n")
    repo.site("b", "id: c\nowner: expert\n")
    repo.site("c", "id: c\nowner: expert\n")
    repo.site("d", "id: d\nowner: anna@x\nbilling_contact: anna@x\n")

    result = repo.validate()

    assert result.exit_code == 1
    assert result.lines == [
        "sites/a.yaml:2:8: error: unknown handle 'bob'; add it to people.yaml or write an "
        "e-mail address",
        f"sites/a.yaml:3:1: error: unknown key 'colour'; {ALLOWED}",
        f"sites/a.yaml:5:8: error: collaborators.tom: 'boss' is not allowed; {ROLES}",
        "sites/b.yaml:1:5: error: id 'c' differs from the file name 'b'; rename the file to "
        "c.yaml or change the id",
        "sites/d.yaml:2:8: error: 'anna@x' is not a valid e-mail address: the domain needs a "
        "dot, like example.com",
        "sites/d.yaml:3:18: error: 'anna@x' is not a valid e-mail address: the domain needs a "
        "dot, like example.com",
        "6 errors in 3 files",
    ]


def test_the_same_site_id_twice_yaml_beside_yml(repo: Repo) -> None:
    repo.site("x.yaml", "id: x\nowner: expert\n")
    repo.site("x.yml", "# the same site\nid: x\nowner: expert\n")

    result = repo.validate()

    assert result.exit_code == 1
    assert result.lines == [
        "sites/x.yml:2:5: error: site 'x' is already declared in sites/x.yaml; "
        "keep one file per site",
        "1 error in 1 file",
    ]


def test_a_yml_file_alone_is_a_site_file(repo: Repo) -> None:
    repo.site("x.yml", "id: x\nowner: expert\n")

    assert repo.validate().lines == ["1 site file valid"]


def test_no_sites_folder_means_no_sites(repo: Repo) -> None:
    (repo.root / "sites").rmdir()

    result = repo.validate()

    assert (result.exit_code, result.lines) == (0, ["0 site files valid"])


def test_other_files_in_sites_are_warned_about_not_failed(repo: Repo) -> None:
    repo.site("a", "id: a\nowner: expert\n")
    repo.site("README.md", "# notes\n")
    repo.site(".hidden.yaml", "not: checked\n")
    (repo.root / "sites" / "archive").mkdir()

    result = repo.validate()

    assert result.exit_code == 0
    assert result.lines == [
        "sites/README.md:1:1: warning: ignored: site files are sites/<site-id>.yaml",
        "sites/archive:1:1: warning: ignored: site files are sites/<site-id>.yaml",
        "1 site file valid, 2 warnings",
    ]
