"""E-mail addresses: the one validator for site files, people.yaml, the wire and the sandbox.

An address is ASCII: the part before ``@`` in ASCII letters, digits and a few marks, the
domain in IDNA's ASCII form (``bäckerei.example`` becomes ``xn--bckerei-5wa.example``).
Nothing invisible (a zero-width space), no control character, nothing that would change
the platform's URL path (``a/../b@x``): such an address passed validation, then every
apply failed on it. ``LookAlikes`` finds an address written to pass for another one.
"""

from __future__ import annotations

import contextlib
import functools
import re
import sys
import unicodedata
from collections.abc import Iterable

_LOCAL = re.compile(r"^[a-z0-9!$&'*+=^_`{|}~.-]+$")
_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_PATH_CHARACTERS = "/\\%?#"
_INVISIBLE = frozenset({"Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp", "Zs"})
# Letters of other scripts drawn like Latin ones (after NFKC and lower case): a small,
# common part of Unicode's confusables (UTS #39), enough for the look-alikes of a name.
_LOOK_ALIKES = str.maketrans(
    {
        "а": "a", "е": "e", "ё": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x",
        "і": "i", "ї": "i", "ј": "j", "ѕ": "s", "һ": "h", "ԁ": "d", "ԛ": "q", "ԝ": "w",
        "ӏ": "l", "ɡ": "g", "ı": "i", "ℓ": "l", "α": "a", "ο": "o", "ν": "v", "ρ": "p",
        "υ": "u", "ι": "i", "κ": "k", "χ": "x", "ϲ": "c", "ε": "e", "τ": "t", "ѡ": "w",
    }
)  # fmt: skip


_NORMALISED: dict[str, str] = {}
"""Addresses already normalised, as written -> normal form: a listing of 10,000 sites
names the expert's on most of them, and a site file names its client twice. Bounded:
past the limit, new addresses are normalised each time (the frequent ones came first)."""
_NORMALISED_LIMIT = 1 << 16


def normalise_email(value: str) -> str:
    """The address in its one written form; ``ValueError`` says what is wrong with it."""
    known = _NORMALISED.get(value)
    if known is not None:
        return known
    normal = _normalised(value)
    if len(_NORMALISED) < _NORMALISED_LIMIT:
        _NORMALISED[value] = normal
    return normal


_ATOM = r"[a-z0-9!$&'*+=^_`{|}~-]+"
_PLAIN_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_NORMAL = re.compile(rf"(?=[^@]{{1,64}}@){_ATOM}(?:\.{_ATOM})*@{_PLAIN_LABEL}(?:\.{_PLAIN_LABEL})+")
"""An address in its normal form already, as most are written: lower-case ASCII, no
space, and parts ``_normalised`` accepts as they are (``fullmatch`` only)."""


def _normalised(value: str) -> str:
    if _NORMAL.fullmatch(value) is not None:
        return sys.intern(value)  # what the checks below make of it, at a tenth the cost
    text = value.strip()
    local, at, domain = text.rpartition("@")
    if not at or not local or not domain:
        raise _invalid(value)
    if "@" in local:
        raise _invalid(value, "it holds more than one @")
    reason = _invisible(text) or _local_problem(local.lower())
    if reason:
        raise _invalid(value, reason)
    # One string for each address, however many sites name it (the expert's is on most).
    return sys.intern(f"{local.lower()}@{_ascii_domain(value, domain)}")


def _invalid(value: str, reason: str = "") -> ValueError:
    return ValueError(
        f"{value!r} is not a valid e-mail address" + (f": {reason}" if reason else "")
    )


def _invisible(text: str) -> str:
    if text.isascii() and text.isprintable() and " " not in text:
        return ""  # ASCII's invisible characters are its controls and the space
    for character in text:
        if unicodedata.category(character) in _INVISIBLE:  # spaces and controls too
            return f"it holds {_describe(character)}, an invisible or control character"
    return ""


def _local_problem(local: str) -> str:
    for character in local:
        if character in _PATH_CHARACTERS:
            return (
                f"{character!r} may not be in an address (it would change the platform's URL path)"
            )
    if not local.isascii():
        foreign = next(c for c in local if not c.isascii())
        return f"the part before @ must be ASCII (it has {foreign!r} {_describe(foreign)})"
    if ".." in local or local.startswith(".") or local.endswith("."):
        return "the part before @ may not have two dots in a row, or start or end with one"
    if not _LOCAL.match(local) or len(local) > 64:
        return "the part before @ holds a character an address may not have"
    return ""


def _ascii_domain(value: str, domain: str) -> str:
    """The domain in IDNA's ASCII form, each label checked."""
    if domain.isascii():
        ascii_domain = domain.lower()
    else:
        import idna  # only for a domain in another script: most runs have none

        try:
            ascii_domain = idna.encode(domain, uts46=True).decode("ascii")
        except idna.IDNAError as exc:
            raise _invalid(value, f"the domain is not a valid international name ({exc})") from None
    labels = ascii_domain.split(".")
    if len(labels) < 2:
        raise _invalid(value, "the domain needs a dot, like example.com")
    for label in labels:
        if not _LABEL.match(label):
            raise _invalid(value, f"{label!r} is not a valid domain label")
    return ascii_domain


def _describe(character: str) -> str:
    name = unicodedata.name(character, "")
    return f"U+{ord(character):04X}" + (f" {name}" if name else "")


@functools.lru_cache(maxsize=4096)
def skeleton(address: str) -> str:
    """What an address looks like: its Unicode form, folded, look-alikes made Latin."""
    text = unicodedata.normalize("NFKC", _unicode_form(address)).casefold()
    text = "".join(c for c in text if unicodedata.category(c) not in _INVISIBLE)
    return text.translate(_LOOK_ALIKES)


class LookAlikes:
    """Addresses seen so far, indexed by what they look like, so that checking one more
    costs one lookup (people.yaml holds hundreds, 10,000 site files each a few).

    While every address is plain ASCII, none can pass for another, and the index (a
    Unicode normalisation of each) is not built until one that is not plain comes.
    """

    def __init__(self, addresses: Iterable[str] = ()) -> None:
        self._by_shape: dict[str, list[str]] = {}
        self._pending: list[str] | None = []  # not indexed yet, all plain; None: indexed
        for address in addresses:
            self.add(address)

    def add(self, address: str) -> None:
        if self._pending is not None and plain_address(address):
            self._pending.append(address)
            return
        self._index()
        same = self._by_shape.setdefault(skeleton(address), [])
        if address not in same:
            same.append(address)

    def _index(self) -> None:
        pending, self._pending = self._pending or [], None
        for address in pending:
            same = self._by_shape.setdefault(skeleton(address), [])
            if address not in same:
                same.append(address)

    def passed_for(self, written: str) -> tuple[str, str] | None:
        """The address seen that ``written`` passes for without being it, and the
        character that gives it away ("'е' U+0435 CYRILLIC SMALL LETTER IE"); or None."""
        if self._pending is not None and plain_address(written):
            return None  # plain ASCII addresses look alike only when they are the same
        self._index()
        mine = written.strip().casefold()
        for other in self._by_shape.get(skeleton(written), []):
            if other != mine:
                tell = next((c for c in _unicode_form(written) if not c.isascii()), "")
                return other, (f"{tell!r} {_describe(tell)}" if tell else "")
        return None


def plain_address(address: str) -> bool:
    """Plain ASCII, with no IDNA label: two such addresses look alike only when they are
    the same (``LookAlikes`` indexes none until another kind comes)."""
    return address.isascii() and "xn--" not in address


def _unicode_form(address: str) -> str:
    local, _, domain = address.strip().rpartition("@")
    if "xn--" in domain:
        import idna

        with contextlib.suppress(idna.IDNAError):  # not IDNA after all: shown as written
            domain = idna.decode(domain)
    return f"{local}@{domain}"


def _email_pattern() -> str:
    """A regular expression (JSON Schema's ECMA-262 dialect, and Python's) for what
    ``normalise_email`` accepts, for the schemas of the files an expert writes.

    For an ASCII address it accepts exactly what ``normalise_email`` accepts: spaces
    around it, any case, the marks ``_LOCAL`` allows before the @ (no dot first, last or
    twice, at most 64), and a domain of at least two labels ``_LABEL`` allows. K (the
    Kelvin sign) is the one other character whose lower case is ASCII. A domain in
    another script is accepted with any character but an ASCII mark, a space or a control:
    whether IDNA (UTS 46) takes it is beyond a regular expression.
    """
    atom = r"[A-Za-z0-9!$&'*+=^_`{|}~\u212a-]+"
    local = rf"(?=[^@]{{1,64}}@){atom}(?:\.{atom})*"
    label = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    invisible = r"\x00-\x20\x7f-\xa0\u00ad\u1680\u180e\u2000-\u200f\u2028-\u202f"
    invisible += r"\u205f-\u206f\u3000\ufeff"  # spaces, controls, formats
    marks = r"!-,/:-@\[-`{-~"  # every ASCII character but letters, digits, - and .
    other_script = rf"[^\x00-\x7f{invisible}]"  # in the domain, and not a space after it
    international = rf"(?=[A-Za-z0-9.-]*{other_script})[^@{marks}{invisible}]+"
    return rf"^\s*{local}@(?:{label}(?:\.{label})+|{international})\s*$"


EMAIL_PATTERN = _email_pattern()
"""What an e-mail address looks like, for JSON Schemas: see ``_email_pattern``."""
