"""The overview as one self-contained HTML page: `render(overview) -> str`.

Pure (data in, text out). Everything the page needs is inside it — style, script, the chart as
inline SVG — and a Content-Security-Policy allows only that inline style and script (by hash) and
nothing from any network, so the file works from a file share or as a mail attachment and cannot
be made to load or run anything else. Every value is escaped (`markup.el`). Dutch, for payroll
staff; dates as in the recap mails."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from datetime import date, datetime, timedelta

from uwvcli import __version__
from uwvcli.domain.keys import parse_key
from uwvcli.domain.labels import KIND_LABELS, kind_label
from uwvcli.recap.mails import AMSTERDAM, RecapItem, dutch_date, problem_in_dutch
from uwvcli.report import assets
from uwvcli.report.markup import Markup, el, join
from uwvcli.report.model import (
    CHART_WEEKS,
    GROUPS,
    PLANNED_STATE,
    REJECTED,
    Group,
    Overview,
    Planned,
    Row,
    WeekCounts,
    is_late,
    ordered,
    sent_late,
    state_label,
    week_chart,
)

_WEEKDAYS_SHORT = ("ma", "di", "wo", "do", "vr", "za", "zo")
_MONTHS_SHORT = ("jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec")
_COLUMNS = (
    ("who", "Personeelsnr."),
    ("kind", "Melding"),
    ("due", "Meldingsdatum"),
    ("deadline", "Termijn"),
    ("state", "Status"),
    ("digipoort", "Digipoort"),
    ("explanation", "Toelichting"),
)


def render(overview: Overview) -> str:
    """The whole page."""
    rows = ordered(overview.rows, overview.day)
    style = Markup(
        assets.CSS + "".join(f".g-{group.id} {{ --group: {group.colour}; }}\n" for group in GROUPS)
    )
    script = assets.JS
    policy = (
        "default-src 'none'; "
        f"style-src '{_sha256(style)}'; script-src '{_sha256(script)}'; "
        "img-src data:; form-action 'none'; base-uri 'none'"
    )
    title = f"UWV-meldingen — overzicht {dutch_date(overview.day)}"
    head = el(
        "head",
        None,
        el("meta", {"charset": "utf-8"}),
        el("meta", {"http-equiv": "Content-Security-Policy", "content": policy}),
        el("meta", {"name": "referrer", "content": "no-referrer"}),
        el("meta", {"name": "viewport", "content": "width=device-width, initial-scale=1"}),
        el("title", None, title),
        el("style", None, style),
    )
    body = el(
        "body",
        None,
        _header(overview, rows),
        _filters(overview, rows),
        el(
            "main",
            None,
            _summary(overview, rows),
            _employers(overview, rows),
            _calendar(overview),
            _charts(overview),
        ),
        el(
            "footer",
            None,
            el(
                "p",
                None,
                "Gemaakt door uwvcli ",
                __version__,
                " uit het journaal en de HR-exports. Medewerkers staan hier alleen met hun "
                "personeelsnummer: geen BSN, naam of geboortedatum. Een code uitgelegd: ",
                el("code", None, "uwvcli explain <code>"),
                ".",
            ),
        ),
        el("script", None, script),
    )
    return "<!DOCTYPE html>\n" + el("html", {"lang": "nl"}, head, body) + "\n"


def _sha256(text: str) -> str:
    """A CSP source for exactly this inline style or script."""
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")


# ---------------------------------------------------------------- header and filters


def _moment(moment: datetime) -> str:
    local = moment.astimezone(AMSTERDAM)
    return f"{dutch_date(local.date())} om {local:%H:%M}"


def _header(overview: Overview, rows: Sequence[tuple[Group, Row]]) -> Markup:
    needing = [(g, sum(1 for group, _ in rows if group is g)) for g in GROUPS if g.attention]
    needing = [(g, n) for g, n in needing if n]
    total = sum(n for _, n in needing)
    if total:
        banner = el(
            "p",
            {"class": "attention-banner"},
            el("strong", None, f"{total} {_meldingen(total)} vragen aandacht: "),
            ", ".join(f"{n} {g.title.lower()}" for g, n in needing),
            ". Ze staan bij elke werkgever bovenaan.",
        )
    else:
        banner = el("p", {"class": "calm-banner"}, "Geen meldingen die aandacht vragen.")
    return el(
        "header",
        None,
        el("h1", None, "UWV-meldingen — overzicht"),
        el(
            "p",
            {"class": "meta"},
            f"Stand op {dutch_date(overview.day, weekday=True)} · gemaakt op {_moment(overview.generated)}",
        ),
        banner,
        _older(overview),
    )


def _older(overview: Overview) -> Markup | None:
    """The settled notifications of before the overview's period: counted, not listed."""
    if not overview.older or overview.since is None:
        return None
    return el(
        "p",
        {"class": "meta"},
        f"{overview.older} afgeronde {_meldingen(overview.older)} van vóór "
        f"{dutch_date(overview.since)} staan niet in dit overzicht. Wilt u ze zien, maak het "
        f"overzicht dan met een eerdere datum: uwvcli report --since JJJJ-MM-DD.",
    )


def _meldingen(count: int) -> str:
    return "melding" if count == 1 else "meldingen"


def _employer_name(overview: Overview, employer_id: str) -> str:
    name = overview.employers.get(employer_id)
    return f"{employer_id} — {name}" if name else f"{employer_id} (niet in de configuratie)"


def _employer_ids(overview: Overview) -> list[str]:
    """Configured employers in configuration order, then those only the journal knows."""
    known = list(overview.employers)
    extra = {r.employer_id for r in overview.rows} | {p.employer_id for p in overview.planned}
    return known + sorted(extra - set(known))


def _option(value: str, label: str) -> Markup:
    return el("option", {"value": value}, label)


def _filters(overview: Overview, rows: Sequence[tuple[Group, Row]]) -> Markup:
    """Hidden until the script runs: without script the page simply shows everything."""
    groups = [g for g in GROUPS if any(group is g for group, _ in rows)]
    states = sorted({row.state for _, row in rows}, key=state_label)
    state_options = [
        _option("", "Alle"),
        _option("attention", "Alles wat aandacht vraagt"),
        el("optgroup", {"label": "Groep"}, [_option(f"g:{g.id}", g.title) for g in groups]),
        el(
            "optgroup",
            {"label": "Status"},
            [_option(f"s:{s}", state_label(s)) for s in states],
            _option(f"s:{PLANNED_STATE}", "gepland (agenda)") if overview.planned else None,
        ),
    ]
    return el(
        "nav",
        {"id": "filters", "hidden": True, "aria-label": "Filters"},
        el(
            "label",
            None,
            "Werkgever",
            el(
                "select",
                {"id": "f-employer"},
                _option("", "Alle werkgevers"),
                [_option(e, _employer_name(overview, e)) for e in _employer_ids(overview)],
            ),
        ),
        el(
            "label",
            None,
            "Soort melding",
            el(
                "select",
                {"id": "f-kind"},
                _option("", "Alle soorten"),
                [_option(str(kind), label) for kind, label in KIND_LABELS.items()],
            ),
        ),
        el("label", None, "Status", el("select", {"id": "f-state"}, state_options)),
        el("button", {"type": "button", "id": "f-reset"}, "Wis filters"),
        el("span", {"id": "shown", "aria-live": "polite"}),
    )


# ---------------------------------------------------------------- summary and the notifications


def _summary(overview: Overview, rows: Sequence[tuple[Group, Row]]) -> Markup:
    groups = [g for g in GROUPS if any(group is g for group, _ in rows)]
    head = el(
        "tr",
        None,
        el("th", None, "Werkgever"),
        [el("th", {"class": "num"}, el("span", {"class": f"swatch g-{g.id}"}), g.title) for g in groups],
        el("th", {"class": "num"}, "Totaal"),
        el("th", {"class": "num"}, f"Gepland (komende {overview.horizon} dagen)"),
    )
    body = []
    for index, employer_id in enumerate(_employer_ids(overview)):
        mine = [group for group, row in rows if row.employer_id == employer_id]
        planned = sum(1 for p in overview.planned if p.employer_id == employer_id)
        name = _employer_name(overview, employer_id)
        body.append(
            el(
                "tr",
                {"data-by-employer": True, "data-employer": employer_id},
                el("td", None, el("a", {"href": f"#werkgever-{index}"}, name) if mine else name),
                [el("td", {"class": "num"}, _count(sum(1 for m in mine if m is g), g)) for g in groups],
                el("td", {"class": "num"}, len(mine)),
                el("td", {"class": "num"}, planned),
            )
        )
    return el(
        "section",
        {"id": "samenvatting"},
        el("h2", None, "Samenvatting per werkgever"),
        el("div", {"class": "scroll"}, el("table", None, el("thead", None, head), el("tbody", None, body))),
    )


def _count(count: int, group: Group) -> Markup:
    return el("strong", None, count) if count and group.attention else Markup(str(count))


def _employers(overview: Overview, rows: Sequence[tuple[Group, Row]]) -> Markup:
    sections = []
    for index, employer_id in enumerate(_employer_ids(overview)):
        mine = [(group, row) for group, row in rows if row.employer_id == employer_id]
        if not mine:
            continue
        tbodies = []
        for group in GROUPS:
            members = [row for g, row in mine if g is group]
            if not members:
                continue
            tbodies.append(
                el(
                    "tbody",
                    {"class": f"group g-{group.id}", "data-group": group.id},
                    el(
                        "tr",
                        {"class": "group-head"},
                        el(
                            "th",
                            {"colspan": len(_COLUMNS)},
                            el("h4", {"class": "group-title"}, f"{group.title} ({len(members)})"),
                            el("p", None, group.intro),
                        ),
                    ),
                    [_row(overview.day, group, row) for row in members],
                )
            )
        sections.append(
            el(
                "section",
                {"class": "employer", "id": f"werkgever-{index}", "data-employer": employer_id},
                el("h3", None, _employer_name(overview, employer_id)),
                el(
                    "div",
                    {"class": "scroll"},
                    el(
                        "table",
                        {"class": "notifications"},
                        el("colgroup", None, [el("col", {"class": f"c-{c}"}) for c, _ in _COLUMNS]),
                        el("thead", None, el("tr", None, [el("th", None, title) for _, title in _COLUMNS])),
                        tbodies,
                    ),
                ),
            )
        )
    return el(
        "section",
        {"id": "meldingen"},
        el("h2", None, "Meldingen per werkgever"),
        el(
            "p",
            {"class": "muted small"},
            "Wat aandacht vraagt staat bovenaan; daarbinnen de vroegste termijn eerst.",
        ),
        el("p", {"id": "nothing-matches", "hidden": True}, "Geen meldingen die aan de filters voldoen."),
        sections or el("p", None, "Het journaal bevat nog geen meldingen (er is nog geen run geweest)."),
    )


def _row(day: date, group: Group, row: Row) -> Markup:
    return el(
        "tr",
        {
            "class": "row",
            "data-filter": True,
            "data-employer": row.employer_id,
            "data-kind": str(row.kind),
            "data-state": row.state,
            "data-group": group.id,
            "data-attention": "1" if group.attention else "0",
            "data-key": row.key,
        },
        el(
            "td",
            None,
            el("strong", None, row.employee_id),
            el("br"),
            el("span", {"class": "small muted"}, "dossier ", row.dossier_id),
        ),
        el(
            "td",
            None,
            kind_label(row.kind, row.variant),
            [" ", el("span", {"class": "flag info"}, "intrekking")] if row.is_withdrawal else None,
        ),
        el("td", None, dutch_date(row.due_date)),
        el("td", None, _deadline(day, row)),
        el("td", None, el("span", {"class": f"badge g-{group.id}"}, state_label(row.state))),
        el("td", None, _digipoort(row)),
        el("td", None, _explanation(day, group, row)),
    )


def _deadline(day: date, row: Row) -> Markup:
    if row.deadline is None:
        return Markup("–")
    flag = None
    if is_late(row, day):
        late = (day - row.deadline).days
        flag = el("span", {"class": "flag warn"}, f"{late} {'dag' if late == 1 else 'dagen'} te laat")
    elif sent_late(row):
        flag = el("span", {"class": "flag info"}, "te laat verzonden")
    elif row.state in ("blocked", "written"):
        left = (row.deadline - day).days
        flag = el(
            "span",
            {"class": "small muted"},
            "vandaag" if left == 0 else f"nog {left} {'dag' if left == 1 else 'dagen'}",
        )
    return join([dutch_date(row.deadline), el("br") if flag else None, flag])


def _digipoort(row: Row) -> Markup:
    status = row.status
    parts: list[object] = []
    if status is not None:
        # codes.describe says "<code> <name> — <meaning>"; the code is shown bold before it
        meaning = status.meaning.removeprefix(status.code).strip().removeprefix("—").strip()
        said = status.description.strip().rstrip(".")
        parts += [
            el("strong", None, status.code),
            " ",
            meaning,
            el("br"),
            el(
                "span",
                {"class": "small muted"},
                f"Digipoort: “{said}” · " if said and said.lower() not in meaning.lower() else "",
                _moment(status.at),
            ),
        ]
        if status.foutbeschrijving:
            parts += [
                el("br"),
                el("span", {"class": "small"}, "Toelichting: “", status.foutbeschrijving, "”"),
            ]
        if status.findings:
            parts.append(el("ul", {"class": "plain small"}, [el("li", None, f) for f in status.findings]))
    if row.kenmerk:
        parts.append(
            el("div", {"class": "small muted"}, "kenmerk ", el("span", {"class": "kenmerk"}, row.kenmerk))
        )
    elif row.aanleverkenmerk:
        parts.append(
            el(
                "div",
                {"class": "small muted"},
                "aanleverkenmerk ",
                el("span", {"class": "kenmerk"}, row.aanleverkenmerk),
            )
        )
    return join(parts) if parts else Markup("–")


def _explanation(day: date, group: Group, row: Row) -> Markup:
    lines = [problem_in_dutch(p) for p in row.problems]
    if row.reason and row.reason not in row.problems:
        lines.append(row.reason)
    if group is REJECTED and row.status is not None:
        reported = RecapItem(
            parse_key(row.key),
            row.kind,
            row.employee_id,
            row.dossier_id,
            reported_on=row.status.at.astimezone(AMSTERDAM).date(),
        )
        if reported.fix_by:  # the recap's rule: corrected by the day after UWV reported it
            lines.append(f"Corrigeer uiterlijk {dutch_date(reported.fix_by, weekday=True)}.")
    if not lines:
        return Markup("")
    if len(lines) == 1:
        return el("span", None, lines[0])
    return el("ul", {"class": "plain"}, [el("li", None, line) for line in lines])


# ---------------------------------------------------------------- the calendar


def _calendar(overview: Overview) -> Markup:
    day, horizon = overview.day, overview.horizon
    notes: list[Markup] = []
    if overview.plan_problem:
        notes.append(el("p", {"class": "attention-banner"}, "Geen agenda: ", overview.plan_problem))
    if overview.input_errors:
        notes.append(
            el(
                "p",
                {"class": "attention-banner"},
                f"{overview.input_errors} exportregel(s) konden niet worden gelezen en ontbreken in de "
                "agenda; ",
                el("code", None, "uwvcli check"),
                " noemt bestand en regel.",
            )
        )
    by_day: dict[date, list[Planned]] = {}
    for planned in overview.planned:
        by_day.setdefault(planned.due_date, []).append(planned)
    first, last = day + timedelta(days=1), day + timedelta(days=horizon)
    start = first - timedelta(days=first.weekday())
    weeks = []
    while start <= last:
        cells = []
        for offset in range(7):
            current = start + timedelta(days=offset)
            classes = ["day"]
            if not first <= current <= last:
                classes.append("outside")
            if current == day:
                classes.append("today")
            items = sorted(by_day.get(current, []), key=lambda p: (p.employer_id, p.employee_id, p.key))
            cells.append(
                el(
                    "td",
                    {"class": " ".join(classes)},
                    el("div", {"class": "date"}, f"{current.day} {_MONTHS_SHORT[current.month - 1]}"),
                    el("ul", None, [_planned(p) for p in items]) if items else None,
                )
            )
        week = start.isocalendar().week
        weeks.append(el("tr", None, el("th", {"class": "week"}, f"wk {week}"), cells))
        start += timedelta(weeks=1)
    calendar = (
        el(
            "div",
            {"class": "scroll"},
            el(
                "table",
                {"class": "calendar"},
                el(
                    "thead",
                    None,
                    el(
                        "tr",
                        None,
                        el("th", {"class": "week"}, "Week"),
                        [el("th", None, d) for d in _WEEKDAYS_SHORT],
                    ),
                ),
                el("tbody", None, weeks),
            ),
        )
        if horizon > 0
        else None
    )
    count = len(overview.planned)
    return el(
        "section",
        {"id": "agenda"},
        el("h2", None, f"Agenda: de komende {horizon} dagen"),
        el(
            "p",
            {"class": "muted small"},
            f"{count} {_meldingen(count)} gepland volgens de regels en de huidige HR-exports, op de dag dat "
            "uwvcli ze verstuurt. Rood gemarkeerd: er ontbreekt nog iets; los dat vóór die dag op.",
        ),
        notes,
        calendar,
    )


def _planned(planned: Planned) -> Markup:
    problems = [problem_in_dutch(p) for p in planned.problems]
    label = kind_label(planned.kind, planned.variant)
    deadline = f"; termijn {dutch_date(planned.deadline)}" if planned.deadline else ""
    return el(
        "li",
        {
            "class": "planned warn" if problems else "planned",
            "data-filter": True,
            "data-employer": planned.employer_id,
            "data-kind": str(planned.kind),
            "data-state": PLANNED_STATE,
            "data-group": "",
            "data-attention": "1" if problems else "0",
            "data-key": planned.key,
            "title": "; ".join([f"{label}, dossier {planned.dossier_id}{deadline}", *problems]),
        },
        f"{planned.employer_id} · {planned.employee_id} · {label}",
        [el("br"), el("span", None, "Let op: ", "; ".join(problems))] if problems else None,
    )


# ---------------------------------------------------------------- the chart (inline SVG)


def _charts(overview: Overview) -> Markup:
    figures = [_chart(overview, None)]
    for employer_id in _employer_ids(overview):
        if any(r.employer_id == employer_id for r in overview.rows):
            figures.append(_chart(overview, employer_id))
    present = {group.id for group, _ in ordered(overview.rows, overview.day)}
    legend = el(
        "ul",
        {"class": "legend small"},
        [
            el("li", None, el("span", {"class": f"swatch g-{g.id}"}), g.title)
            for g in GROUPS
            if g.id in present
        ],
    )
    return el(
        "section",
        {"id": "grafiek"},
        el("h2", None, "Meldingen per week"),
        el(
            "p",
            {"class": "muted small"},
            f"De laatste {CHART_WEEKS} weken, naar de week van de meldingsdatum, per uitkomst. "
            "De grafiek volgt het werkgeversfilter.",
        ),
        legend,
        figures,
    )


_WIDTH, _HEIGHT, _LEFT, _BOTTOM, _TOP = 760, 220, 36, 24, 10


def _chart(overview: Overview, employer_id: str | None) -> Markup:
    rows = [r for r in overview.rows if employer_id is None or r.employer_id == employer_id]
    weeks, outside = week_chart(rows, overview.day)
    peak = max((w.total for w in weeks), default=0)
    scale_max = max(peak, 1)
    plot_height = _HEIGHT - _BOTTOM - _TOP
    slot = (_WIDTH - _LEFT) / len(weeks)
    shapes: list[Markup] = [
        el(
            "line",
            {"class": "axis", "x1": _LEFT, "y1": _HEIGHT - _BOTTOM, "x2": _WIDTH, "y2": _HEIGHT - _BOTTOM},
        )
    ]
    for tick in _ticks(scale_max):
        y = _HEIGHT - _BOTTOM - plot_height * tick / scale_max
        shapes += [
            el("line", {"class": "axis", "x1": _LEFT, "y1": f"{y:.1f}", "x2": _WIDTH, "y2": f"{y:.1f}"}),
            el("text", {"x": _LEFT - 6, "y": f"{y + 4:.1f}", "text-anchor": "end"}, tick),
        ]
    for index, week in enumerate(weeks):
        x = _LEFT + index * slot + slot * 0.15
        base: float = _HEIGHT - _BOTTOM
        bars = []
        for group in reversed(GROUPS):  # done at the bottom, attention on top
            count = week.counts.get(group.id, 0)
            if not count:
                continue
            height = plot_height * count / scale_max
            base -= height
            bars.append(
                el(
                    "rect",
                    {
                        "class": f"bar g-{group.id}",
                        "x": f"{x:.1f}",
                        "y": f"{base:.1f}",
                        "width": f"{slot * 0.7:.1f}",
                        "height": f"{height:.1f}",
                        "data-group": group.id,
                        "data-count": count,
                    },
                )
            )
        shapes.append(
            el(
                "g",
                {"class": "week", "data-week": week.start.isoformat(), "data-total": week.total},
                el("title", None, _week_title(week)),
                bars,
                el(
                    "text",
                    {"x": f"{x + slot * 0.35:.1f}", "y": _HEIGHT - 8, "text-anchor": "middle"},
                    f"wk {week.start.isocalendar().week}",
                ),
            )
        )
    who = "alle werkgevers" if employer_id is None else _employer_name(overview, employer_id)
    caption = f"Meldingen per week — {who}"
    if outside:
        caption += f" ({outside} {_meldingen(outside)} met een meldingsdatum buiten deze weken)"
    return el(
        "figure",
        {"class": "chart", "data-employer": employer_id or "", "hidden": employer_id is not None},
        el(
            "svg",
            {"viewBox": f"0 0 {_WIDTH} {_HEIGHT}", "width": "100%", "role": "img", "aria-label": caption},
            shapes,
        ),
        el("figcaption", {"class": "small"}, caption),
    )


def _ticks(top: int) -> list[int]:
    """A few round numbers from 0 to `top` for the y axis."""
    step = max(1, -(-top // 4))
    return list(range(0, top + 1, step))


def _week_title(week: WeekCounts) -> str:
    end = week.start + timedelta(days=6)
    counts = [f"{week.counts[g.id]} {g.title.lower()}" for g in GROUPS if week.counts.get(g.id)]
    return f"Week {week.start.isocalendar().week} ({dutch_date(week.start)} – {dutch_date(end)}): " + (
        ", ".join(counts) if counts else "geen meldingen"
    )
