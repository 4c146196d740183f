"""The portfolio status as ONE self-contained HTML page.

No network at view time: the style, the chart (inline SVG) and the script are in the
page, and its Content-Security-Policy allows nothing else (``default-src 'none'``; the
one style and the one script by hash), so even a mistake in escaping could neither load
nor run anything. Every text that came from the platform or the files goes through
``render.escape.html``, line breaks included: none starts a line of the page's source,
where a CI log would read ``::`` as a workflow command. Without JavaScript the page is a
plain table whose rows still open (``<details>``); with it, the table sorts and filters.

The rows are lean on purpose (optional end tags left out, short attribute names): the
page for 10,000 sites stays a few MB.
"""

from __future__ import annotations

import base64
import hashlib
from collections import Counter
from collections.abc import Iterable

from reconciler.reconcile.status import SiteStatus, StatusReport
from reconciler.render.escape import html as escape
from reconciler.render.plan import describe
from reconciler.render.status import (
    handover_label,
    invoiced_label,
    money,
    owner_label,
    renewal_label,
    state_of,
    yearly_detail,
    yearly_label,
)

_STYLE = """
:root{--ink:#1b1f24;--muted:#4a5360;--line:#d0d7de;--bg:#fff;--panel:#f6f8fa;
--free:#5b6b7f;--premium:#8a4b08;--bad:#a40e26;--warn:#7a4a00;--ok:#116329;--wait:#0a4a9c}
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
color:var(--ink);background:var(--bg)}
header,main{max-width:80rem;margin:0 auto;padding:0 1rem}
h1{font-size:1.5rem;margin:1rem 0 .25rem}h2{font-size:1.15rem;margin:1.5rem 0 .5rem}
.sub{color:var(--muted);margin:0}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(11rem,1fr));gap:.75rem;
margin:0;padding:0}
.card{background:var(--panel);border:1px solid var(--line);border-radius:.5rem;
padding:.6rem .8rem}
.card dt{color:var(--muted);font-size:.85rem}
.card dd{margin:0}.card .n{font-size:1.6rem;font-weight:650}
.card .m{font-size:1.25rem;font-weight:650}
.card .x{color:var(--muted);font-size:.85rem}
figure{margin:0}svg{max-width:36rem;width:100%;height:auto}
svg text{font:13px system-ui,sans-serif;fill:#1b1f24}
.filters{display:flex;flex-wrap:wrap;gap:.5rem 1.25rem;align-items:center;margin:.5rem 0}
.filters[hidden]{display:none}
input,select,button{font:inherit;color:inherit}
input[type=search]{padding:.3rem .5rem;border:1px solid var(--muted);border-radius:.3rem}
table{border-collapse:collapse;width:100%}
caption{text-align:left;color:var(--muted);padding:.25rem 0}
th,td{text-align:left;vertical-align:top;padding:.35rem .5rem;border-bottom:1px solid var(--line)}
th{background:var(--panel);position:sticky;top:0}
th button{border:0;background:none;padding:0;font-weight:650;cursor:pointer}
th[aria-sort=ascending] button::after{content:" \\25B2"}
th[aria-sort=descending] button::after{content:" \\25BC"}
.js #sites tbody tr{display:none}.js #sites tbody tr.on{display:table-row}
td{overflow-wrap:anywhere}
summary{cursor:pointer;font-weight:600}
details dl{display:grid;grid-template-columns:max-content 1fr;gap:.1rem .75rem;
margin:.4rem 0;font-weight:400;min-width:18rem}
details dt{color:var(--muted)}details dd{margin:0}
details ul{margin:0;padding-left:1.1rem}
td[class^=s-]{font-weight:600;white-space:nowrap}
.s-drift,.s-blocked,.s-missing{color:var(--bad)}
.s-changes,.s-warning{color:var(--warn)}.s-waiting{color:var(--wait)}
.s-insync{color:var(--ok)}
@media (max-width:45rem){
thead{display:none}
table,tbody,tr,td,.js #sites tbody tr.on{display:block}
tr{border:1px solid var(--line);border-radius:.5rem;margin:.5rem 0;padding:.25rem}
td{border:0;padding:.15rem .4rem}
td:nth-child(n+2)::before{color:var(--muted);font-size:.85rem;display:block}
td:nth-child(2)::before{content:"Owner"}td:nth-child(3)::before{content:"Invoiced"}
td:nth-child(4)::before{content:"Package"}td:nth-child(5)::before{content:"Paid until"}
td:nth-child(6)::before{content:"Collaborators"}td:nth-child(7)::before{content:"Handover"}
td:nth-child(8)::before{content:"State"}
}
"""

_SCRIPT = """
(function () {
  "use strict";
  var PAGE = 250;
  var table = document.getElementById("sites");
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  var q = document.getElementById("q");
  var owner = document.getElementById("owner");
  var attention = document.getElementById("attention");
  var shown = document.getElementById("shown");
  var more = document.getElementById("more");
  var all = document.getElementById("all");
  var texts = null;
  var matches = rows;
  var on = [];
  var limit = PAGE;
  var collator = new Intl.Collator(undefined, {numeric: true, sensitivity: "base"});
  document.getElementById("filters").hidden = false;
  document.getElementById("filters").addEventListener("submit", function (e) {
    e.preventDefault();
  });
  function text(i) {
    if (texts === null) {
      texts = new Map();
      rows.forEach(function (r) { texts.set(r, r.textContent.toLowerCase()); });
    }
    return texts.get(i);
  }
  function show() {
    on.forEach(function (r) { r.classList.remove("on"); });
    on = matches.slice(0, limit);
    on.forEach(function (r) { r.classList.add("on"); });
    var n = matches.length;
    shown.textContent = n > limit
      ? "Showing " + limit + " of " + n + " matching sites (" + rows.length + " in all)"
      : n + " of " + rows.length + " sites shown";
    more.hidden = all.hidden = n <= limit;
  }
  function filter() {
    var needle = q.value.trim().toLowerCase();
    var who = owner.value;
    var only = attention.checked;
    matches = rows.filter(function (r) {
      return (!who || r.dataset.o === who) && (!only || r.dataset.a === "1") &&
        (!needle || text(r).indexOf(needle) !== -1);
    });
    limit = PAGE;
    show();
  }
  function key(row, col) {
    var cell = row.cells[col];
    var s = cell.getAttribute("data-s");
    if (s !== null) { return s; }
    var summary = cell.querySelector("summary");
    return (summary || cell).textContent.trim();
  }
  function sortBy(th, col) {
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    var keyed = rows.map(function (r, i) { return [key(r, col), i, r]; });
    keyed.sort(function (a, b) {
      var c = collator.compare(a[0], b[0]);
      return (ascending ? c : -c) || a[1] - b[1];
    });
    rows = keyed.map(function (k) { return k[2]; });
    var heads = table.tHead.rows[0].cells;
    for (var i = 0; i < heads.length; i++) { heads[i].removeAttribute("aria-sort"); }
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var fragment = document.createDocumentFragment();
    rows.forEach(function (r) { fragment.appendChild(r); });
    body.appendChild(fragment);
    var keep = limit;
    filter();
    limit = Math.max(keep, PAGE);
    show();
  }
  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, col) {
    var label = th.textContent;
    var button = document.createElement("button");
    button.type = "button";
    button.textContent = label;
    button.title = "Sort by " + label;
    th.textContent = "";
    th.appendChild(button);
    button.addEventListener("click", function () { sortBy(th, col); });
  });
  q.addEventListener("input", filter);
  owner.addEventListener("change", filter);
  attention.addEventListener("change", filter);
  more.addEventListener("click", function () { limit += PAGE; show(); });
  all.addEventListener("click", function () { limit = matches.length; show(); });
  filter();
})();
"""

# Runs first: until the table's script has chosen the rows of the first page, the
# browser lays out no row at all (10,000 rows take seconds; a page of them does not).
_HEAD_SCRIPT = 'document.documentElement.classList.add("js");'


_COLUMNS = (
    "Site",
    "Owner",
    "Invoiced",
    "Package",
    "Paid until",
    "Collaborators",
    "Handover",
    "State",
)
_PACKAGE_COLOURS = {"free": "#5b6b7f", "premium": "#8a4b08"}
_UNKNOWN_COLOUR = "#c9d1d9"
"""The chart's segment for sites whose package the expert cannot see (handed over and
left, or lost): they are counted, as the totals count them."""


def _digest(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


_CSP = (
    f"default-src 'none'; style-src {_digest(_STYLE)}; "
    f"script-src {_digest(_HEAD_SCRIPT)} {_digest(_SCRIPT)}; "
    "img-src 'none'; base-uri 'none'; form-action 'none'"
)


def as_html(report: StatusReport) -> str:
    expert = escape(report.expert)
    parts = [
        "<!DOCTYPE html>\n<html lang=en>\n<head>\n<meta charset=utf-8>\n",
        '<meta name=viewport content="width=device-width, initial-scale=1">\n',
        f'<meta http-equiv=Content-Security-Policy content="{_CSP}">\n',
        "<meta name=referrer content=no-referrer>\n",
        f"<script>{_HEAD_SCRIPT}</script>\n",
        f"<title>Portfolio of {expert} — reconciler status</title>\n",
        f"<style>{_STYLE}</style>\n</head>\n<body>\n<header>\n",
        f"<h1>Portfolio of {expert}</h1>\n",
        f"<p class=sub>As of {report.as_of:%Y-%m-%d %H:%M} UTC, from the site files and the "
        "platform (<code>reconciler status</code>).</p>\n</header>\n<main>\n",
        _cards(report),
        _chart(report),
        _table(report),
        f"</main>\n<script>{_SCRIPT}</script>\n</body>\n</html>\n",
    ]
    return "".join(parts)


# --- totals and chart --------------------------------------------------------------------


def _card(key: str, title: str, value: int | str, extra: str = "") -> str:
    more = f"<dd class=x>{escape(extra)}</dd>" if extra else ""
    size = "n" if isinstance(value, int) else "m"
    return (
        f"<div class=card><dt>{escape(title)}</dt>"
        f'<dd class={size} data-total="{key}">{escape(str(value))}</dd>{more}</div>\n'
    )


def _cards(report: StatusReport) -> str:
    t = report.totals
    ended = t.handovers_ended_30d
    pays = ", ".join(f"{n} {package}" for package, n in t.expert_pays.items())
    renewal = t.expert_renews_next
    waiting_on = ", ".join(f"{who} ({n})" for who, n in sorted(report.waiting_on().items()))
    cards = [
        _card("sites", "Sites", t.sites, f"{t.managed} managed, {t.unmanaged} unmanaged"),
        _card("owned_by_expert", "Owned by the expert", t.owned_by_expert),
        _card("owned_by_clients", "Owned by clients", t.owned_by_clients),
        _card("expert_pays", "Paid packages of the expert", sum(t.expert_pays.values()), pays),
        _card(
            "expert_pays_per_year",
            "The expert pays a year",
            yearly_label(t) or "nothing",
            yearly_detail(t),
        ),
        _card(
            "expert_renews_next",
            "Renews next",
            "nothing" if renewal is None else f"{renewal.renews_at:%Y-%m-%d}",
            "" if renewal is None else renewal_label(renewal),
        ),
        _card("handovers_pending", "Handovers pending", t.handovers_pending),
        _card("handovers_expiring", "Expiring within 3 days", t.handovers_expiring),
        _card(
            "handovers_declined_expired",
            "Declined or expired (30 days)",
            ended.get("declined", 0) + ended.get("expired", 0),
            ", ".join(f"{n} {status}" for status, n in ended.items()),
        ),
        _card("waiting", "Waiting on someone", t.waiting, waiting_on and f"on {waiting_on}"),
        _card("blocked", "Blocked", t.blocked),
        _card("drift", "Drift", t.drift),
        _card("unmanaged", "Unmanaged", t.unmanaged),
    ]
    return (
        "<section aria-labelledby=totals-h>\n<h2 id=totals-h>Totals</h2>\n<dl class=cards>\n"
        + "".join(cards)
        + "</dl>\n</section>\n"
    )


def _chart(report: StatusReport) -> str:
    """A stacked bar per kind of owner, one segment per package: every site, as the
    totals count it (a site handed over and left is its client's, its package unknown;
    a site the expert lost is of an unknown owner)."""
    groups: dict[str, Counter[str]] = {"The expert": Counter(), "Clients": Counter()}
    for site in report.sites:
        if site.owner is None:
            group = "Unknown owner"
        else:
            group = "The expert" if site.owner == report.expert else "Clients"
        package = "unknown" if site.package is None else site.package.value
        groups.setdefault(group, Counter())[package] += 1
    colours = dict(_PACKAGE_COLOURS)
    if any(c["unknown"] for c in groups.values()):
        colours["unknown"] = _UNKNOWN_COLOUR
    largest = max((sum(c.values()) for c in groups.values()), default=0) or 1
    bars, summary = [], []
    for row, (label, counts) in enumerate(groups.items()):
        y, x = 10 + row * 40, 110.0
        bars.append(f'<text x="0" y="{y + 18}">{label}</text>')
        for package, colour in colours.items():
            width = 380 * counts[package] / largest
            if width:
                bars.append(
                    f'<rect x="{x:.1f}" y="{y}" width="{width:.1f}" height="26" '
                    f'fill="{colour}"><title>{label}: {counts[package]} {package}</title></rect>'
                )
            x += width
        bars.append(f'<text x="{x + 6:.1f}" y="{y + 18}">{sum(counts.values())}</text>')
        summary.append(f"{label}: " + ", ".join(f"{counts[p]} {p}" for p in colours))
    top = 16 + len(groups) * 40
    legend = "".join(
        f'<rect x="{110 + i * 110}" y="{top}" width="14" height="14" fill="{colour}"/>'
        f'<text x="{130 + i * 110}" y="{top + 12}">{package}</text>'
        for i, (package, colour) in enumerate(colours.items())
    )
    text = escape("; ".join(summary))
    return (
        "<section aria-labelledby=chart-h>\n<h2 id=chart-h>Sites by owner and package</h2>\n"
        f'<figure><svg viewBox="0 0 540 {top + 24}" role=img aria-labelledby=chart-t>'
        f"<title id=chart-t>{text}</title>{''.join(bars)}{legend}</svg>\n"
        f"<figcaption class=sub>{text}</figcaption></figure>\n</section>\n"
    )


# --- the table ---------------------------------------------------------------------------


def _table(report: StatusReport) -> str:
    heads = "".join(f"<th scope=col>{name}" for name in _COLUMNS)
    # In the order of the names the Site column shows (the script sorts from there).
    ordered = sorted(report.sites, key=lambda site: ((site.name or site.id).casefold(), site.id))
    rows = "".join(_row(site, report.expert) for site in ordered)
    return (
        "<section aria-labelledby=sites-h>\n<h2 id=sites-h>Sites</h2>\n"
        "<form id=filters class=filters role=search hidden>\n"
        '<label>Search <input type=search id=q placeholder="site, e-mail, note"></label>\n'
        '<label>Owner <select id=owner><option value="">anyone'
        "<option value=expert>the expert<option value=client>clients"
        "<option value=unknown>unknown</select></label>\n"
        "<label><input type=checkbox id=attention> needs attention only</label>\n"
        "<output id=shown aria-live=polite></output>\n"
        "<button type=button id=more hidden>Show more</button> "
        "<button type=button id=all hidden>Show all</button>\n</form>\n"
        "<table id=sites>\n<caption>One row per site; open a site for its details. "
        "Needs attention: anything but in sync.</caption>\n"
        f"<thead><tr>{heads}</thead>\n<tbody>\n{rows}</tbody>\n</table>\n</section>\n"
    )


def _row(site: SiteStatus, expert: str) -> str:
    state = state_of(site)
    kind = site.paid_by or "unknown"
    expiry = f' data-s="{_handover_key(site)}"'
    return (
        f'<tr data-i="{escape(site.id)}" data-o={kind} data-a={0 if state == "in sync" else 1}>'
        f"<td>{_details(site)}"
        f"<td>{escape(owner_label(site, expert))}<td>{escape(invoiced_label(site))}"
        f"<td>{'' if site.package is None else site.package.value}"
        f"<td>{_date(site)}<td>{len(site.collaborators) if site.owner else ''}"
        f"<td{expiry}>{escape(handover_label(site))}"
        f"<td class=s-{state.replace(' ', '')}>{state}\n"
    )


def _handover_key(site: SiteStatus) -> str:
    """Pending handovers first, the soonest to expire first; then ended ones; then none."""
    if (pending := site.pending_transfer) is not None:
        return f"0 {pending.expires_at.isoformat()}"
    if (last := site.last_transfer) is not None:
        return f"1 {last.ended_at.isoformat()}"
    return "2"


def _date(site: SiteStatus) -> str:
    paid = site.package_paid_until
    return "" if paid is None else paid.date().isoformat()


def _details(site: SiteStatus) -> str:
    """The site's name opens its details (the id when it has none), which start with the
    id that commands take (``reconciler history ID``)."""
    items = [("Id", escape(site.id))]
    if (price := site.package_price) is not None:
        renews = site.package_renews_at
        items.append(
            (
                "Price",
                escape(
                    f"{money(price.amount_cents, price.currency)} a {price.period.value}"
                    + ("" if renews is None else f", renews {renews:%Y-%m-%d}")
                    + ("" if site.paid_by is None else f", paid by the {site.paid_by}")
                ),
            )
        )
    if site.owner is None:
        items.append(("Owner", "unknown: the expert cannot see the site"))
    if site.desired_owner != site.owner:
        items.append(("File wants", escape(site.desired_owner or "no file: unmanaged")))
    if site.collaborators:
        items.append(("Collaborators", _list(f"{e}: {r}" for e, r in site.collaborators.items())))
    if (pending := site.pending_transfer) is not None:
        items.append(
            (
                "Pending handover",
                escape(
                    f"to {pending.to}, since {pending.created_at:%Y-%m-%d}, expires "
                    f"{pending.expires_at:%Y-%m-%d %H:%M} UTC ({pending.days_left} days left)"
                ),
            )
        )
    if (last := site.last_transfer) is not None:
        items.append(
            ("Last handover", escape(f"{last.status}, to {last.to}, {last.ended_at:%Y-%m-%d}"))
        )
    if site.planned:
        items.append(("Plan would", _list(describe(change) for change in site.planned)))
    if site.notes:
        items.append(("Notes", _list(f"{note.kind}: {note.message}" for note in site.notes)))
    body = "".join(f"<dt>{term}<dd>{value}" for term, value in items if value)
    title = escape(site.name or site.id)
    return f"<details><summary>{title}</summary><dl>{body}</dl></details>"


def _list(texts: Iterable[str]) -> str:
    return "<ul>" + "".join(f"<li>{escape(text)}" for text in texts) + "</ul>"
