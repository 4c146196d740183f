"""Generate a realistic repository of site files (and a matching sandbox seed).

Reused by the benchmarks (``bench_validate.py`` now, ``plan`` later) and usable by hand::

    python benchmarks/generate.py /tmp/repo --count 10000 --seed-file

The repository is valid: ``reconciler validate`` accepts it. It mixes the situations an
agency really has, in stable proportions (the generator is deterministic for a seed):

- work in progress: the expert owns the site and shares a preview with the client;
- handed over: the client owns and pays, the expert stays on as an editor;
- being handed over: the file names the client as owner, the platform still says expert;
- the studio's own sites, billed to ``accounts@`` on the expert's domain.

Handles from ``people.yaml`` (freelancers, some clients) and e-mail addresses are both
used; some files leave ``collaborators`` or ``package`` out (not managed) and some say
``collaborators: {}``. Collaborator counts respect the platform's caps (free: 2,
premium: 10) so that the seed is accepted and ``apply`` can succeed.

With ``seed_file=True`` a sandbox seed (DESIGN.md section 7) is written beside the files:
the platform's state, equal to the desired state except for a share of drifted sites
(``drift``) and the pending handovers, so that ``plan`` has realistic work to do.
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

EXPERT = "studio@pixel.example"
EXPERT_TOKEN = "studio-token"
EXPERT_ACCOUNTS = "accounts@pixel.example"
SCHEMA_MODELINE = "# yaml-language-server: $schema=../schema/site.schema.json"
SEED_FILE = "sandbox.seed.yaml"
CAPS = {"free": 2, "premium": 10}

_WORDS = [
    "acme",
    "bakery",
    "bistro",
    "verde",
    "harbor",
    "yoga",
    "pixel",
    "studio",
    "north",
    "star",
    "garden",
    "cafe",
    "alpine",
    "dental",
    "river",
    "books",
    "urban",
    "bikes",
    "lotus",
    "spa",
    "maple",
    "law",
    "coastal",
    "surf",
    "golden",
    "paws",
    "bright",
    "smile",
    "iron",
    "gym",
    "blue",
    "wave",
    "solar",
    "home",
    "swift",
    "move",
    "happy",
    "tails",
    "old",
    "mill",
    "green",
    "leaf",
]
_FIRST_NAMES = [
    "anna",
    "tom",
    "lena",
    "marco",
    "sara",
    "jonas",
    "mia",
    "paul",
    "eva",
    "luca",
    "nina",
    "omar",
    "ida",
    "felix",
    "zoe",
    "ben",
    "clara",
    "noah",
    "emma",
    "leo",
]


@dataclass(frozen=True)
class Site:
    """One generated site: the desired state (as written) and the platform's state."""

    id: str
    name: str
    kind: str
    owner: str  # as written: an e-mail, a handle or "expert"
    owner_email: str
    billing_contact: str | None
    collaborators: dict[str, str] | None  # as written: e-mail or handle -> role
    collaborator_emails: dict[str, str] | None
    package: str | None
    comment: str
    observed_owner: str
    observed_billing: str
    observed_package: str
    observed_collaborators: dict[str, str]


@dataclass(frozen=True)
class GeneratedRepository:
    root: Path
    sites: tuple[Site, ...]
    people: dict[str, str] = field(default_factory=dict)  # handle -> e-mail
    seed_path: Path | None = None
    expert: str = EXPERT
    expert_token: str = EXPERT_TOKEN

    @property
    def site_ids(self) -> list[str]:
        return [site.id for site in self.sites]


class _Generator:
    def __init__(
        self, count: int, rng: random.Random, drift: float, handing_over: float = 0.12
    ) -> None:
        self.count = count
        self.rng = rng
        self.drift = drift
        self.handing_over = handing_over
        self.freelancers = {
            f"{name}{i}": f"{name}{i}@freelance{i % 7}.example"
            for i, name in enumerate(_FIRST_NAMES * 3)
        }
        self.client_handles: dict[str, str] = {}

    def site(self, index: int) -> Site:
        words = self.rng.sample(_WORDS, 2)
        site_id = f"{words[0]}-{words[1]}-{index:05d}"
        name = f"{words[0].title()} {words[1].title()} {index}"
        domain = f"{site_id}.example"
        client = f"{self.rng.choice(_FIRST_NAMES)}@{domain}"
        roll = self.rng.random()
        if roll < 0.35:
            return self._work_in_progress(site_id, name, client)
        if roll < 0.92 - self.handing_over:
            return self._handed_over(site_id, name, client, domain)
        if roll < 0.92:
            return self._handing_over(site_id, name, client)
        return self._own_site(site_id, name)

    def _freelancer_handles(self, n: int) -> dict[str, str]:
        handles = self.rng.sample(sorted(self.freelancers), n)
        return {handle: self.rng.choice(("editor", "viewer", "admin")) for handle in handles}

    def _client_ref(self, client: str) -> str:
        """Some clients get a handle in people.yaml (they appear on several sites)."""
        if self.rng.random() < 0.1:
            handle = client.replace("@", ".").removesuffix(".example")
            self.client_handles[handle] = client
            return handle
        return client

    def _work_in_progress(self, site_id: str, name: str, client: str) -> Site:
        collaborators = {self._client_ref(client): "viewer"}
        if self.rng.random() < 0.5:
            collaborators.update(self._freelancer_handles(1))
        return self._site(
            site_id, name, "work-in-progress", "expert", None, collaborators, None,
            comment="Work in progress: the studio owns it and shares a preview.",
        )  # fmt: skip

    def _handed_over(self, site_id: str, name: str, client: str, domain: str) -> Site:
        package = self.rng.choice(("premium", "free", None))
        cap = CAPS[package or "free"]
        collaborators: dict[str, str] | None = {EXPERT: "editor"}
        assert collaborators is not None
        collaborators.update(self._freelancer_handles(self.rng.randint(0, cap - 1)))
        if self.rng.random() < 0.1:
            collaborators = None
        elif self.rng.random() < 0.05:
            collaborators = {}
        billing = f"accounts@{domain}" if self.rng.random() < 0.3 else None
        return self._site(
            site_id, name, "handed-over", self._client_ref(client), billing, collaborators,
            package, comment="Handed over: the client owns and pays; the studio keeps editing.",
        )  # fmt: skip

    def _handing_over(self, site_id: str, name: str, client: str) -> Site:
        collaborators = {EXPERT: "editor", **self._freelancer_handles(1)}
        return self._site(
            site_id, name, "handing-over", self._client_ref(client), None, collaborators,
            "premium", comment="Being handed over; the client buys premium after accepting.",
        )  # fmt: skip

    def _own_site(self, site_id: str, name: str) -> Site:
        collaborators = self._freelancer_handles(self.rng.randint(0, 3))
        return self._site(
            site_id, name, "own", "expert", EXPERT_ACCOUNTS, collaborators, "premium",
            comment="The studio's own site: it keeps it and pays for it.",
        )  # fmt: skip

    def _email(self, written: str) -> str:
        if written == "expert":
            return EXPERT
        if "@" in written:
            return written
        return self.freelancers.get(written) or self.client_handles[written]

    def _site(
        self,
        site_id: str,
        name: str,
        kind: str,
        owner: str,
        billing: str | None,
        collaborators: dict[str, str] | None,
        package: str | None,
        comment: str,
    ) -> Site:
        owner_email = self._email(owner)
        emails = (
            None
            if collaborators is None
            else {self._email(who): role for who, role in collaborators.items()}
        )
        observed_owner = EXPERT if kind == "handing-over" else owner_email
        observed_collaborators = dict(emails or {})
        if kind == "handing-over":
            observed_collaborators.pop(EXPERT, None)
        observed_package = "free" if kind == "handing-over" else package or "free"
        observed_billing = billing or observed_owner
        if self.rng.random() < self.drift:
            observed_collaborators = self._drifted(observed_collaborators, observed_package)
        return Site(
            id=site_id,
            name=name,
            kind=kind,
            owner=owner,
            owner_email=owner_email,
            billing_contact=billing,
            collaborators=collaborators,
            collaborator_emails=emails,
            package=package,
            comment=comment,
            observed_owner=observed_owner,
            observed_billing=observed_billing,
            observed_package=observed_package,
            observed_collaborators=observed_collaborators,
        )

    def _drifted(self, collaborators: dict[str, str], package: str) -> dict[str, str]:
        """Someone changed access by hand: a role differs, a person left or was added."""
        drifted = dict(collaborators)
        if drifted and self.rng.random() < 0.5:
            who = self.rng.choice(sorted(drifted))
            if self.rng.random() < 0.5:
                del drifted[who]
            else:
                drifted[who] = "admin" if drifted[who] != "admin" else "viewer"
        elif len(drifted) < CAPS[package]:
            drifted[self.rng.choice(sorted(self.freelancers.values()))] = "editor"
        return drifted


def render_site(site: Site) -> str:
    lines = [SCHEMA_MODELINE, f"# {site.comment}", f"id: {site.id}", f"name: {site.name}"]
    lines.append(f"owner: {site.owner}")
    if site.billing_contact is not None:
        lines.append(f"billing_contact: {site.billing_contact}")
    if site.collaborators is not None:
        if not site.collaborators:
            lines.append("collaborators: {}             # nobody but the owner")
        else:
            lines.append("collaborators:")
            lines.extend(f"  {who}: {role}" for who, role in site.collaborators.items())
    if site.package is not None:
        lines.append(f"package: {site.package}")
    return "\n".join(lines) + "\n"


def render_people(people: dict[str, str]) -> str:
    lines = ["# Handles for people who appear on many sites."]
    for handle, email in sorted(people.items()):
        lines.append(f"{handle}:")
        lines.append(f"  email: {email}")
        lines.append(f"  name: {handle.split('.')[0].rstrip('0123456789').title()}")
    return "\n".join(lines) + "\n"


def render_config() -> str:
    return (
        f"expert: {EXPERT}\n"
        "policy:\n"
        "  max_handovers: 10\n"
        "  max_removals: 20\n"
    )  # fmt: skip


def render_seed(sites: Iterable[Site], extra_accounts: Iterable[str]) -> str:
    """The sandbox seed (DESIGN.md section 7): every account, and each site as observed."""
    sites = list(sites)
    emails = set(extra_accounts)
    for site in sites:
        emails.add(site.owner_email)
        emails.add(site.observed_billing)
        emails.update(site.observed_collaborators)
        emails.update(site.collaborator_emails or {})
        if site.billing_contact:
            emails.add(site.billing_contact)
    emails.discard(EXPERT)
    lines = ["accounts:", f"  - {{email: {EXPERT}, kind: expert, token: {EXPERT_TOKEN}}}"]
    lines.extend(f"  - {{email: {email}, kind: customer}}" for email in sorted(emails))
    lines.append("sites:")
    for site in sites:
        collaborators = ", ".join(f"{k}: {v}" for k, v in site.observed_collaborators.items())
        lines += [
            f"  - id: {site.id}",
            f"    name: {site.name}",
            f"    owner: {site.observed_owner}",
            f"    billing_contact: {site.observed_billing}",
            f"    package: {site.observed_package}",
            f"    collaborators: {{{collaborators}}}",
        ]
    return "\n".join(lines) + "\n"


def seed_database(db: Path, repo: GeneratedRepository) -> None:
    """The platform's state of ``repo`` straight into a sandbox database: the same
    accounts and sites as ``sandbox.seed.yaml``, without reading a seed file (one of
    100,000 sites is over the limits of a file the loader reads)."""
    from reconciler.sandbox.seed import Seed, apply_seed
    from reconciler.sandbox.store import SandboxStore

    emails = {EXPERT, *repo.people.values()}
    for site in repo.sites:
        emails.update((site.owner_email, site.observed_billing, *site.observed_collaborators))
        emails.update(site.collaborator_emails or {})
    emails.discard(EXPERT)
    accounts = [{"email": EXPERT, "kind": "expert", "token": EXPERT_TOKEN}]
    accounts += [{"email": email, "kind": "customer"} for email in sorted(emails)]
    sites = [
        {
            "id": site.id,
            "name": site.name,
            "owner": site.observed_owner,
            "billing_contact": site.observed_billing,
            "package": site.observed_package,
            "collaborators": site.observed_collaborators,
        }
        for site in repo.sites
    ]
    with SandboxStore(db) as store:
        apply_seed(store, Seed.model_validate({"accounts": accounts, "sites": sites}))


def _accept_handovers_beyond(sites: tuple[Site, ...], keep: int) -> tuple[Site, ...]:
    """Only the first ``keep`` handovers still to start; on the platform, the client has
    accepted the others already (the site is as its file says)."""
    kept, result = 0, []
    for site in sites:
        if site.kind == "handing-over":
            kept += 1
            if kept > keep:
                site = replace(
                    site,
                    observed_owner=site.owner_email,
                    observed_billing=site.owner_email,
                    observed_package=site.package or "free",
                    observed_collaborators=dict(site.collaborator_emails or {}),
                )
        result.append(site)
    return tuple(result)


def generate_repository(
    root: Path,
    count: int,
    seed_file: bool = False,
    *,
    seed: int = 2024,
    drift: float = 0.1,
    handovers: int | None = None,
    handing_over: float = 0.12,
) -> GeneratedRepository:
    """Write reconciler.yaml, people.yaml and ``count`` site files under ``root``.

    With ``seed_file`` also write ``sandbox.seed.yaml``: the platform's matching state.
    Deterministic for a given ``seed``; ``drift`` is the share of sites whose access on
    the platform differs from the files; ``handing_over`` the share of sites whose file
    names the client as owner while the platform still says expert (``handovers`` keeps
    only the first so many of those still to start).
    """
    rng = random.Random(seed)
    generator = _Generator(count, rng, drift, handing_over)
    sites = tuple(generator.site(index) for index in range(count))
    if handovers is not None:
        sites = _accept_handovers_beyond(sites, handovers)
    sites_dir = root / "sites"
    sites_dir.mkdir(parents=True, exist_ok=True)
    (root / "reconciler.yaml").write_text(render_config(), encoding="utf-8")
    people = {**generator.freelancers, **generator.client_handles}
    (root / "people.yaml").write_text(render_people(people), encoding="utf-8")
    for site in sites:
        (sites_dir / f"{site.id}.yaml").write_text(render_site(site), encoding="utf-8")
    seed_path = None
    if seed_file:
        seed_path = root / SEED_FILE
        seed_path.write_text(render_seed(sites, people.values()), encoding="utf-8")
    return GeneratedRepository(root=root, sites=sites, people=people, seed_path=seed_path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path, help="folder to write the repository into")
    parser.add_argument("--count", type=int, default=10_000, help="number of site files")
    parser.add_argument("--seed-file", action="store_true", help=f"also write {SEED_FILE}")
    parser.add_argument("--seed", type=int, default=2024, help="random seed")
    args = parser.parse_args()
    repo = generate_repository(args.root, args.count, args.seed_file, seed=args.seed)
    print(f"wrote {len(repo.sites)} site files to {repo.root / 'sites'}")
    if repo.seed_path is not None:
        print(f"wrote {repo.seed_path}")


if __name__ == "__main__":
    main()
