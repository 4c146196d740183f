"""A plan as text (terminal), JSON (scripts, plan files) and Markdown (pull requests)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable

import click

from reconciler.model import Package
from reconciler.reconcile.changes import (
    Action,
    BillingContactSet,
    Change,
    CollaboratorAdd,
    CollaboratorRemove,
    CollaboratorUpdate,
    Note,
    NoteCode,
    NoteKind,
    PackagePurchase,
    TransferCancel,
    TransferStart,
)
from reconciler.reconcile.plan import Plan
from reconciler.render import escape
from reconciler.render.escape import code, markdown

GITHUB_COMMENT_LIMIT = 65_536
# Room for what a workflow puts around the plan (a marker, a heading, a link to the run).
COMMENT_BUDGET = GITHUB_COMMENT_LIMIT - 1_536
_SYMBOL = {
    Action.COLLABORATOR_ADD: "+",
    Action.COLLABORATOR_UPDATE: "~",
    Action.COLLABORATOR_REMOVE: "-",
    Action.BILLING_CONTACT_SET: "~",
    Action.TRANSFER_START: ">",
    Action.TRANSFER_CANCEL: "x",
    Action.PACKAGE_PURCHASE: "$",
}
_COLOUR = {
    Action.COLLABORATOR_ADD: "green",
    Action.COLLABORATOR_UPDATE: "yellow",
    Action.COLLABORATOR_REMOVE: "red",
    Action.BILLING_CONTACT_SET: "yellow",
    Action.TRANSFER_START: "magenta",
    Action.TRANSFER_CANCEL: "red",
    Action.PACKAGE_PURCHASE: "cyan",
}
_NOTE_COLOUR = {
    NoteKind.WAITING: "blue",
    NoteKind.BLOCKED: "red",
    NoteKind.UNMANAGED: None,
    NoteKind.DRIFT: "magenta",
    NoteKind.WARNING: "yellow",
    NoteKind.INFO: None,
}


def describe(change: Change) -> str:
    """One line a reviewer reads: what happens to whom."""
    match change:
        case CollaboratorAdd():
            return f"give {change.email} {change.role.value} access"
        case CollaboratorUpdate():
            return f"change {change.email} from {change.previous_role.value} to {change.role.value}"
        case CollaboratorRemove():
            first = ", first: it makes room for the additions" if change.make_room else ""
            return f"remove {change.email} (was {change.previous_role.value}){first}"
        case BillingContactSet():
            return f"send invoices to {change.email} (was {change.previous})"
        case TransferStart():
            stay = (
                "the expert stays as editor" if change.stay_as_collaborator else "the expert leaves"
            )
            return f"HANDOVER to {change.to} ({stay})"
        case TransferCancel():
            return f"cancel the transfer to {change.to}: {change.reason}"
        case PackagePurchase() if change.feature_plan:
            return f"set the site's plan to {change.package.value} (nobody is charged for it)"
        case PackagePurchase():
            first = ", first: it raises the collaborator cap" if change.raises_cap else ""
            return (
                f"buy {change.package.value} (charged to the expert, who owns and keeps the "
                f"site){first}"
            )


# Notes that say the platform does not match the files (yet): never "No changes: the
# platform matches" beside one of them. Unmanaged sites and info need nothing.
_ATTENTION = frozenset({NoteKind.DRIFT, NoteKind.BLOCKED, NoteKind.WAITING, NoteKind.WARNING})


def summary_line(plan: Plan) -> str:
    attention = {note.site for note in plan.notes if note.kind in _ATTENTION}
    covered = " to the sites this plan covers" if plan.not_applied else ""
    if not plan.changes and attention:
        text = (
            f"No changes to apply{covered}, but the platform does not match the site files "
            f"of {_count(len(attention), 'site')}: see the notes."
        )
    elif not plan.changes and plan.not_applied:
        text = "No changes to the sites this plan covers."
    elif not plan.changes:
        text = "No changes: the platform matches the site files."
    else:
        counts = ", ".join(f"{n} {action.value}" for action, n in sorted(plan.counts().items()))
        text = f"Plan: {_count(len(plan.changes), 'change')} ({counts})."
    notes = Counter(note.kind for note in plan.notes)
    if notes:
        text += " Notes: " + ", ".join(f"{n} {kind.value}" for kind, n in sorted(notes.items()))
        text += "."
    return text


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _sites_in_order(plan: Plan) -> list[str]:
    return sorted({change.site for change in plan.changes} | {note.site for note in plan.notes})


# --- text --------------------------------------------------------------------------------


def as_text(plan: Plan, *, colour: bool = False) -> str:
    def style(text: str, fg: str | None = None, bold: bool = False) -> str:
        return click.style(text, fg=fg, bold=bold) if colour and (fg or bold) else text

    changes, notes = plan.changes_by_site(), _notes_by_site(plan.notes)
    scope_note = plan.scope_note and escape.text(plan.scope_note)
    lines: list[str] = [style(scope_note, bold=True), ""] if scope_note else []
    for site in _sites_in_order(plan):
        lines.append(style(escape.text(site), bold=True))
        for change in changes.get(site, []):
            symbol, action = _SYMBOL[change.action], f"{change.action.value:<20}"
            text = f"  {symbol} {action} {escape.text(describe(change))}"
            lines.append(style(text, _COLOUR[change.action], bold=change.is_handover))
        for note in notes.get(site, []):
            text = f"  ! {note.kind.value}: {escape.text(note.message)}"
            lines.append(style(text, _NOTE_COLOUR[note.kind]))
        lines.append("")
    lines.append(style(summary_line(plan), bold=True))
    handovers = sum(1 for c in plan.changes if c.is_handover)
    removals = sum(1 for c in plan.changes if c.is_removal)
    if handovers or removals:
        lines.append(
            style(f"{_count(handovers, 'handover')}, {_count(removals, 'removal')}.", "magenta")
        )
    if plan.also_applied:
        lines += ["", style(also_applied_heading(plan), bold=True)]
        lines += [_listed(change) for change in plan.also_applied]
    if plan.not_applied:
        lines += ["", style(not_applied_heading(plan), bold=True)]
        lines += [_listed(change) for change in plan.not_applied]
    return "\n".join(lines)


def _listed(change: Change) -> str:
    symbol, action = _SYMBOL[change.action], f"{change.action.value:<20}"
    return f"  {symbol} {escape.text(f'{change.site}: {action} {describe(change)}')}"


def also_applied_heading(plan: Plan) -> str:
    also = plan.also_applied or ()
    count, sites = len(also), len({change.site for change in also})
    return (
        f"Also applied by this merge: {_count(count, 'pending change')} on "
        f"{_count(sites, 'site')} that earlier merges changed and left behind (held back, "
        "failed, or never applied); the merge's apply (--since-last-apply) makes "
        f"{'it' if count == 1 else 'them'} too:"
    )


def not_applied_heading(plan: Plan) -> str:
    rest = plan.not_applied or ()
    count, sites = len(rest), len({change.site for change in rest})
    return (
        f"Not applied: {_count(count, 'other pending change')} on {_count(sites, 'site')} "
        "outside this plan's scope; applying this plan does NOT make "
        f"{'it' if count == 1 else 'them'}:"
    )


def _notes_by_site(notes: Iterable[Note]) -> dict[str, list[Note]]:
    grouped: dict[str, list[Note]] = {}
    for note in notes:
        grouped.setdefault(note.site, []).append(note)
    return grouped


# --- JSON --------------------------------------------------------------------------------


def as_json(plan: Plan) -> str:
    return escape.json_text(plan.to_json().rstrip("\n"))


# --- Markdown ----------------------------------------------------------------------------


def as_markdown(plan: Plan, *, limit: int = COMMENT_BUDGET, title: str | None = None) -> str:
    """A pull-request comment: summary table, handovers, then details; within ``limit``."""
    head = [f"### {title or 'reconciler plan'}", ""]
    if plan.scope_note:
        head += [f"_{markdown(plan.scope_note)}_", ""]
    head += [summary_line(plan), ""]
    head += _summary_table(plan)
    head += _note_section("Drift", plan.notes_of(NoteKind.DRIFT))
    head += _handover_section(plan)
    head += _blocked_section(plan)
    head += _note_section("Waiting on clients", plan.notes_of(NoteKind.WAITING))
    head += _note_section("Handovers expiring within three days", _coded(plan, _EXPIRING))
    head += _note_section("Declined or expired handovers", _coded(plan, _ENDED))
    if plan.changes:
        head += [f"#### Pending changes ({len(plan.changes)}), with every note, per site", ""]
    tail = [
        *_also_applied_section(plan),
        *_not_applied_section(plan),
        "",
        f"<sub>fingerprint `{plan.fingerprint[:19]}…` · {_count(len(plan.scope), 'site')} "
        "planned</sub>",
    ]
    details = _details_sections(plan)
    return _fit(head, details, tail, limit)


def _summary_table(plan: Plan) -> list[str]:
    if not plan.changes and not plan.notes:
        return []
    rows = ["| action | count |", "| --- | ---: |"]
    rows += [f"| `{a.value}` | {n} |" for a, n in sorted(plan.counts().items())]
    rows += [
        f"| note: {kind.value} | {n} |"
        for kind, n in sorted(Counter(note.kind for note in plan.notes).items())
    ]
    return [*rows, ""]


def _handover_section(plan: Plan) -> list[str]:
    handovers = [c for c in plan.changes if isinstance(c, TransferStart)]
    if not handovers:
        return []
    lines = [f"#### Handovers ({len(handovers)})", ""]
    for change in handovers:
        consequence = markdown(_billing_consequence(change))
        lines += [f"- **{markdown(change.site)}** → {code(change.to)}: {consequence}"]
    return [*lines, ""]


def _billing_consequence(change: TransferStart) -> str:
    to = change.to
    text = (
        f"from acceptance on, {to} owns the site, pays with their own card, is invoiced in "
        f"their own name and is the billing contact (now {change.billing_contact_before}); "
        "invoices issued before stay with the expert."
    )
    if change.package is not Package.FREE:
        until = change.package_paid_until
        period = f" until {until.isoformat()}" if until else ""
        text += (
            f" The paid {change.package.value} package moves with the site{period}, is not "
            f"refunded, and renews on {to}'s card."
        )
    stay = "stays as editor" if change.stay_as_collaborator else "loses all access"
    return text + f" The expert {stay}."


_EXPIRING = frozenset({NoteCode.HANDOVER_EXPIRING})
_ENDED = frozenset({NoteCode.HANDOVER_DECLINED, NoteCode.HANDOVER_EXPIRED})


def _coded(plan: Plan, codes: frozenset[NoteCode]) -> list[Note]:
    return [note for note in plan.notes if note.code in codes]


def _note_section(title: str, notes: list[Note]) -> list[str]:
    if not notes:
        return []
    lines = [f"#### {title} ({len(notes)})", ""]
    lines += [f"- **{markdown(note.site)}**: {markdown(note.message)}" for note in notes]
    return [*lines, ""]


NOT_APPLIED_SHOWN = 100


def _not_applied_section(plan: Plan) -> list[str]:
    """Every other pending change of the repository, which this merge will NOT apply."""
    if not plan.not_applied:
        return []
    count = len(plan.not_applied)
    lines = [
        "",
        f"#### Not applied by this merge ({count})",
        "",
        f"{_count(count, 'pending change')} on other sites, which this merge will NOT apply "
        "(apply them from main with a manual run of the apply workflow, or in their own "
        "pull request):",
        "",
    ]
    shown = plan.not_applied[:NOT_APPLIED_SHOWN]
    lines += [f"- **{markdown(c.site)}** `{c.action.value}` {markdown(describe(c))}" for c in shown]
    if count > len(shown):
        lines.append(f"- … and {count - len(shown)} more; run `reconciler plan` to see them")
    return lines


def _also_applied_section(plan: Plan) -> list[str]:
    """Changes earlier merges left behind, which this merge's apply takes up."""
    if not plan.also_applied:
        return []
    count = len(plan.also_applied)
    lines = [
        "",
        f"#### Also applied by this merge ({count})",
        "",
        f"{_count(count, 'pending change')} on other sites that earlier merges changed "
        "and left behind (held back, failed, or a run that never ran); each was reviewed in "
        "the pull request that brought it, and this merge's apply makes them too:",
        "",
    ]
    shown = plan.also_applied[:NOT_APPLIED_SHOWN]
    lines += [f"- **{markdown(c.site)}** `{c.action.value}` {markdown(describe(c))}" for c in shown]
    if count > len(shown):
        lines.append(f"- … and {count - len(shown)} more; run `reconciler plan` to see them")
    return lines


def _blocked_section(plan: Plan) -> list[str]:
    blocked = [n for n in plan.notes_of(NoteKind.BLOCKED) if n.code not in _ENDED]
    if not blocked:
        return []
    lines = [f"#### Waiting on the owner ({len(blocked)})", ""]
    lines += [f"- **{markdown(note.site)}**: {markdown(note.message)}" for note in blocked]
    return [*lines, ""]


def _details_sections(plan: Plan) -> list[str]:
    changes, notes = plan.changes_by_site(), _notes_by_site(plan.notes)
    sections = []
    for site in _sites_in_order(plan):
        body = [f"- `{c.action.value}` {markdown(describe(c))}" for c in changes.get(site, [])]
        body += [f"- _{n.kind.value}_: {markdown(n.message)}" for n in notes.get(site, [])]
        sections.append(
            "\n".join(
                [
                    f"<details><summary><b>{escape.html(site)}</b></summary>",
                    "",
                    *body,
                    "",
                    "</details>",
                ]
            )
        )
    return sections


def _fit(head: list[str], sections: list[str], tail: list[str], limit: int) -> str:
    """Join the parts, dropping detail sections that do not fit, with a note saying so."""
    start, end = "\n".join(head).rstrip("\n"), "\n".join(tail)

    def render(kept: int) -> str:
        omitted = len(sections) - kept
        note = (
            [
                f"_{omitted} more site(s) not shown: the comment would exceed GitHub's limit; "
                "run `reconciler plan` for the full plan._"
            ]
            if omitted
            else []
        )
        return "\n\n".join([start, *sections[:kept], *note]) + "\n" + end

    kept = _largest_that_fits(len(sections), lambda n: len(render(n)) <= limit)
    text = render(kept)
    if len(text) <= limit:
        return text
    # The head alone (e.g. thousands of handovers) is too long: cut it at a line.
    cut = (
        "\n\n_…truncated: the comment would exceed GitHub's limit; run `reconciler plan` "
        "for the full plan._\n" + end
    )
    kept_text = text[: max(0, limit - len(cut))]
    kept_text = kept_text[: kept_text.rfind("\n")] if "\n" in kept_text else kept_text
    return (kept_text + cut)[:limit]


def _largest_that_fits(total: int, fits: Callable[[int], bool]) -> int:
    low, high = 0, total
    while low < high:
        middle = (low + high + 1) // 2
        if fits(middle):
            low = middle
        else:
            high = middle - 1
    return low
