"""The portfolio status as text (terminal), JSON (scripts) and CSV (spreadsheets).

The HTML page is ``render.status_html``. Pure functions of a ``StatusReport``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

import click

from reconciler.model import BillingPeriod
from reconciler.reconcile.status import Renewal, SiteStatus, StatusReport, Totals
from reconciler.render import escape
from reconciler.render.plan import describe

CSV_COLUMNS = (
    "id",
    "name",
    "owner",
    "desired_owner",
    "billing_contact",
    "paid_by",
    "package",
    "package_paid_until",
    "package_price_cents",
    "package_price_currency",
    "package_price_period",
    "package_renews_at",
    "collaborators",
    "pending_to",
    "pending_expires_at",
    "last_transfer_status",
    "last_transfer_ended_at",
    "managed",
    "in_sync",
    "state",
)
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_STATE_COLOUR = {
    "in sync": "green",
    "waiting": "blue",
    "changes": "yellow",
    "warning": "yellow",
    "blocked": "red",
    "drift": "red",
    "missing": "red",
    "unmanaged": None,
}
_GAP = 2
_MIN_WIDTH = 6


def state_of(site: SiteStatus) -> str:
    """The site's state as people read it: ``in sync`` for JSON's ``in_sync``."""
    return site.state.replace("_", " ")


def money(cents: int, currency: str) -> str:
    """``EUR 1,188.00``: an amount in a currency's minor unit (cents), as an invoice
    writes it."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{currency} {sign}{whole:,}.{part:02d}"


def yearly_label(totals: Totals) -> str:
    """What the expert pays a year, a sum per currency: ``EUR 237.60, USD 154.80``."""
    sums: dict[str, int] = {}
    for cost in totals.expert_pays_per_year:
        sums[cost.currency] = sums.get(cost.currency, 0) + cost.amount_cents
    return ", ".join(money(cents, currency) for currency, cents in sorted(sums.items()))


def yearly_detail(totals: Totals) -> str:
    """By package, then currency: ``premium: EUR 118.80 (1 site), USD 154.80 (1 site)``."""
    by_package: dict[str, list[str]] = {}
    for cost in totals.expert_pays_per_year:
        by_package.setdefault(cost.package, []).append(
            f"{money(cost.amount_cents, cost.currency)} ({_sites(cost.sites)})"
        )
    return "; ".join(f"{package}: {', '.join(costs)}" for package, costs in by_package.items())


def renewal_label(renewal: Renewal) -> str:
    """``Studio Site (studio-site), premium, EUR 118.80 a year``."""
    name = (
        renewal.site
        if not renewal.name or renewal.name == renewal.site
        else (f"{renewal.name} ({renewal.site})")
    )
    every = "a month" if renewal.period is BillingPeriod.MONTH else "a year"
    return f"{name}, {renewal.package}, {money(renewal.amount_cents, renewal.currency)} {every}"


def _sites(n: int) -> str:
    return f"{n} site{'' if n == 1 else 's'}"


def owner_label(site: SiteStatus, expert: str) -> str:
    if site.owner is None:
        return "?"
    return "expert" if site.owner == expert else site.owner


def invoiced_label(site: SiteStatus) -> str:
    """Who pays, the expert or the client; then where the invoices go, when that is not
    the owner's own address."""
    if site.paid_by is None:
        return site.billing_contact or ""
    if site.billing_contact is None or site.billing_contact == site.owner:
        return site.paid_by
    return f"{site.paid_by}: {site.billing_contact}"


def handover_label(site: SiteStatus) -> str:
    """The pending transfer, else how the last one ended."""
    pending, last = site.pending_transfer, site.last_transfer
    if pending is not None:
        return f"{_days(pending.days_left)} left: {pending.to}"
    if last is not None:
        return f"{last.status} {_date(last.ended_at)}: {last.to}"
    return ""


def _days(n: int) -> str:
    return f"{n} day{'' if n == 1 else 's'}"


def _date(moment: datetime | None) -> str:
    return "" if moment is None else moment.date().isoformat()


# --- JSON --------------------------------------------------------------------------------


def as_json(report: StatusReport) -> str:
    return escape.json_text(report.model_dump_json(indent=2)) + "\n"


# --- CSV ---------------------------------------------------------------------------------


def as_csv(report: StatusReport) -> str:
    """One row per site with DESIGN.md's scalar fields; text that a spreadsheet would
    run as a formula is prefixed with ``'``, a line of a cell that a CI log would run as
    a workflow command gets a ``\\`` (``\\::``, ``##\\[``).

    Rows end in CRLF (RFC 4180), which also makes the writer quote every cell holding a
    CR or an LF: a spreadsheet ends a row at a bare CR outside quotes, so that the rest
    of a name would start a row of its own, formula and all.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for site in report.sites:
        writer.writerow([_cell(value) for value in csv_row(site)])
    return out.getvalue()


def csv_row(site: SiteStatus) -> tuple[object, ...]:
    pending, last = site.pending_transfer, site.last_transfer
    return (
        site.id,
        site.name,
        site.owner,
        site.desired_owner,
        site.billing_contact,
        site.paid_by,
        None if site.package is None else site.package.value,
        site.package_paid_until,
        None if (price := site.package_price) is None else price.amount_cents,
        None if price is None else price.currency,
        None if price is None else price.period.value,
        site.package_renews_at,
        len(site.collaborators),
        None if pending is None else pending.to,
        None if pending is None else pending.expires_at,
        None if last is None else last.status,
        None if last is None else last.ended_at,
        site.managed,
        site.in_sync,
        site.state,
    )


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    text = escape.commandless(str(value))  # a CSV printed to a CI log is read by the runner
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


# --- text --------------------------------------------------------------------------------

_HEADERS = ("SITE", "OWNER", "INVOICED", "PACKAGE", "PAID UNTIL", "COLLAB", "HANDOVER", "STATE")
# Columns that give up width first when the terminal is narrow, most willing first.
_SHRINKABLE = (6, 2, 1, 0)


def as_text(report: StatusReport, *, width: int = 120, colour: bool = False) -> str:
    """Totals first, then one line per site fitted to ``width``, then what needs doing."""

    def style(text: str, fg: str | None = None, bold: bool = False) -> str:
        return click.style(text, fg=fg, bold=bold) if colour and (fg or bold) else text

    lines = [style(line, bold=i == 0) for i, line in enumerate(totals_lines(report))]
    lines.append("")
    rows = [tuple(map(escape.text, _text_row(site, report.expert))) for site in report.sites]
    widths = _fit(_HEADERS, rows, width)
    lines.append(style(_line(_HEADERS, widths), bold=True))
    for site, row in zip(report.sites, rows, strict=True):
        line = _line(row, widths)
        lines.append(style(line, _STATE_COLOUR[state_of(site)]) if colour else line)
    attention = [site for site in report.sites if site.notes or site.planned]
    if attention:
        lines += ["", style("Notes and planned changes:", bold=True)]
        for site in attention:
            lines += _detail_lines(site, style)
    return "\n".join(lines)


def totals_lines(report: StatusReport) -> list[str]:
    """The totals in a few lines; also the job summary of the drift workflow."""
    t = report.totals
    waiting_on = ", ".join(f"{who}: {n}" for who, n in sorted(report.waiting_on().items()))
    return [
        f"Portfolio of {report.expert} as of {report.as_of:%Y-%m-%d %H:%M} UTC",
        f"Sites:       {t.sites} ({t.managed} managed, {t.unmanaged} unmanaged)",
        f"Owned by:    the expert {t.owned_by_expert}, clients {t.owned_by_clients}",
        f"Expert pays: {_pays_line(t)}",
        f"Renews next: {_renews_line(t.expert_renews_next)}",
        f"Handovers:   {t.handovers_pending} pending, {t.handovers_expiring} expiring within "
        "3 days",
        f"Ended (30d): {_by_key(t.handovers_ended_30d)}",
        f"Attention:   {t.waiting} waiting{f' (on {waiting_on})' if waiting_on else ''}, "
        f"{t.blocked} blocked, {t.drift} drift",
    ]


def _pays_line(totals: Totals) -> str:
    """``premium 2: EUR 118.80, USD 154.80 a year`` (by package too when there are
    several); free sites cost nothing and are not counted."""
    paid = sum(totals.expert_pays.values())
    if not paid:
        return "nothing (no paid package on the expert's sites)"
    yearly = yearly_label(totals)
    if not yearly:
        return f"{_by_key(totals.expert_pays)} (the platform does not say what they cost)"
    packages = {cost.package for cost in totals.expert_pays_per_year}
    detail = f" ({yearly_detail(totals)})" if len(packages) > 1 else ""
    return f"{_by_key(totals.expert_pays)}: {yearly} a year{detail}"


def _renews_line(renewal: Renewal | None) -> str:
    if renewal is None:
        return "nothing (no paid package of the expert renews)"
    return f"{_date(renewal.renews_at)} {renewal_label(renewal)}"


def _by_key(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{key} {n}" for key, n in counts.items())


def _text_row(site: SiteStatus, expert: str) -> tuple[str, ...]:
    return (
        site.id,
        owner_label(site, expert),
        invoiced_label(site),
        "" if site.package is None else site.package.value,
        _date(site.package_paid_until),
        str(len(site.collaborators)) if site.owner is not None else "",
        handover_label(site),
        state_of(site),
    )


def _fit(headers: Sequence[str], rows: Sequence[Sequence[str]], width: int) -> list[int]:
    """Column widths that fit ``width``: the shrinkable columns give up width, the
    widest first, down to a few characters each."""
    widths = [len(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            if len(cell) > widths[i]:
                widths[i] = len(cell)
    excess = sum(widths) + _GAP * (len(widths) - 1) - width
    while excess > 0:
        candidates = [i for i in _SHRINKABLE if widths[i] > _MIN_WIDTH]
        if not candidates:
            break
        widest = max(candidates, key=lambda i: widths[i])
        others = [widths[i] for i in candidates if i != widest]
        target = max(_MIN_WIDTH, max(others, default=_MIN_WIDTH), widths[widest] - excess)
        if target >= widths[widest]:
            target = widths[widest] - 1
        excess -= widths[widest] - target
        widths[widest] = target
    return widths


def _line(cells: Sequence[str], widths: Sequence[int]) -> str:
    gap = " " * _GAP
    return gap.join(_clip(cell, w).ljust(w) for cell, w in zip(cells, widths, strict=True)).rstrip()


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _detail_lines(site: SiteStatus, style: Callable[..., str]) -> list[str]:
    lines = [style(escape.text(site.id), bold=True)]
    lines += [
        f"  {change.action.value:<20} {escape.text(describe(change))}" for change in site.planned
    ]
    lines += [f"  ! {note.kind}: {escape.text(note.message)}" for note in site.notes]
    return lines
