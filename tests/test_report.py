"""The HTML overview's renderer and ordering, as pure functions: hostile values are escaped, what
needs attention comes first (unknown states included), the week chart counts right, and the page
loads nothing from anywhere. The browser tests (test_report_browser.py) run the real page."""

from __future__ import annotations

import base64
import hashlib
import html
import re
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser

from hypothesis import given
from hypothesis import strategies as st

from uwvcli.domain.models import Kind
from uwvcli.domain.problems import Code, Problem, legacy
from uwvcli.report import model
from uwvcli.report.html import render
from uwvcli.report.markup import Markup, el
from uwvcli.report.model import GROUPS, LastStatus, Overview, Planned, Row, group_of, ordered, week_chart

DAY = date(2026, 12, 1)  # a Tuesday
NOW = datetime(2026, 12, 1, 16, 30, tzinfo=UTC)


def row(key: str, state: str, *, due: date = DAY, deadline: date | None = None, **extra: object) -> Row:
    employer, dossier, kind = key.split("/")[:3]
    return Row(
        key=key,
        kind=Kind(kind),
        employer_id=employer,
        employee_id=extra.pop("employee_id", "1001"),  # type: ignore[arg-type]
        dossier_id=dossier,
        due_date=due,
        deadline=deadline,
        state=state,
        **extra,  # type: ignore[arg-type]
    )


def overview(rows: list[Row], *, employers: dict[str, str] | None = None, **extra: object) -> Overview:
    return Overview(
        day=DAY,
        generated=NOW,
        horizon=28,
        employers=employers if employers is not None else {"WG001": "Bakkerij BV"},
        rows=rows,
        **extra,  # type: ignore[arg-type]
    )


class Elements(HTMLParser):
    """Every start tag with its attributes, and the text inside <script> elements."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"
        if self._in_script:
            self.scripts.append("")

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts[-1] += data


def parse(page: str) -> Elements:
    parser = Elements()
    parser.feed(page)
    return parser


HOSTILE = '<script>alert("x")</script>'
HOSTILE_ATTR = '"><img src=x onerror=alert(1)>'


def test_hostile_employer_names_and_ids_are_text_never_markup() -> None:
    hostile = row(
        f"WG<script>/{HOSTILE_ATTR}/zw-ziekmelding",
        "rejected",
        employee_id=HOSTILE,
        problems=(legacy(HOSTILE),),
        kenmerk=HOSTILE_ATTR,
        status=LastStatus(
            code="311",
            at=NOW,
            description=HOSTILE,
            meaning="311 Validatie niet gelukt",
            foutbeschrijving=HOSTILE_ATTR,
            findings=(HOSTILE,),
        ),
    )
    planned = Planned(
        key=f"{HOSTILE}/D/wazo",
        kind=Kind.WAZO,
        employer_id=HOSTILE,
        employee_id=HOSTILE_ATTR,
        dossier_id=HOSTILE,
        due_date=DAY + timedelta(days=3),
        deadline=None,
        problems=(legacy(HOSTILE),),
    )
    page = render(
        overview(
            [hostile],
            employers={"WG<script>": HOSTILE, HOSTILE: HOSTILE_ATTR},
            planned=[planned],
            plan_problem=HOSTILE,
        )
    )
    elements = parse(page)
    assert [tag for tag, _ in elements.tags].count("script") == 1  # only the page's own
    assert not [tag for tag, _ in elements.tags if tag == "img"]
    assert not [attrs for _, attrs in elements.tags if any(name.startswith("on") for name in attrs)]
    assert "alert" not in elements.scripts[0]
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    # the hostile employer id is still usable as a filter value, exactly as written
    options = [attrs.get("value") for tag, attrs in elements.tags if tag == "option"]
    assert "WG<script>" in options and HOSTILE in options


def test_the_page_loads_nothing_and_its_csp_allows_exactly_its_own_style_and_script() -> None:
    page = render(overview([row("WG001/Z-1/zw-ziekmelding", "accepted", kenmerk="k-1")]))
    assert not re.search(r"https?:", page)
    assert re.findall(r"\b(?:src|href)\s*=\s*\"([^\"]*)\"", page) == ["#werkgever-0"]  # in-page links only
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page)
    assert csp is not None
    policy = html.unescape(csp.group(1))
    assert "default-src 'none'" in policy
    for tag in ("style", "script"):
        body = re.search(rf"<{tag}>(.*?)</{tag}>", page, re.DOTALL)
        assert body is not None
        digest = base64.b64encode(hashlib.sha256(body.group(1).encode()).digest()).decode()
        assert f"{tag}-src 'sha256-{digest}'" in policy


def test_attention_comes_first_in_the_documented_group_order() -> None:
    rows = [
        row("WG001/A/zw-ziekmelding", "accepted"),
        row("WG001/B/zw-ziekmelding", "submitted"),
        row("WG001/C/zw-ziekmelding", "some_future_state"),
        row("WG001/D/zw-ziekmelding/intrekking/1", "written", deadline=DAY + timedelta(days=1)),
        row("WG001/D/zw-ziekmelding", "accepted"),
        row("WG001/E/zw-ziekmelding", "parked"),
        row("WG001/F/zw-ziekmelding", "written", deadline=DAY - timedelta(days=2)),
        row("WG001/G/zw-ziekmelding", "blocked", problems=(Problem.of(Code.BSN_MISSING),)),
        row("WG001/H/zw-ziekmelding", "rejected"),
        row("WG001/I/zw-ziekmelding", "delivered"),
    ]
    groups = [(g.id, r.key.split("/")[1]) for g, r in ordered(rows, DAY)]
    assert groups == [
        ("rejected", "H"),
        ("blocked", "G"),
        ("late", "F"),
        ("in_doubt", "E"),
        ("correction", "D"),  # the withdrawal (deadline tomorrow) before the withdrawn one (none)
        ("correction", "D"),
        ("other", "C"),
        ("in_progress", "B"),
        ("done", "A"),
        ("done", "I"),
    ]
    page = render(overview(rows))
    keys = re.findall(r'data-key="([^"]+)"', page)
    assert keys == [r.key for _, r in ordered(rows, DAY)]
    assert "some_future_state" in page  # an unknown state is shown as it is


def test_a_rejected_withdrawal_is_a_rejection_and_late_needs_an_unsent_state() -> None:
    past = DAY - timedelta(days=1)
    rejected_withdrawal = row("WG001/D/zw-ziekmelding/intrekking/1", "rejected", deadline=past)
    assert group_of(rejected_withdrawal, DAY, model.corrections([rejected_withdrawal])) is model.REJECTED
    assert group_of(row("WG001/D/wazo", "accepted", deadline=past), DAY) is model.DONE
    assert group_of(row("WG001/D/wazo", "blocked", deadline=past), DAY) is model.BLOCKED
    assert model.is_late(row("WG001/D/wazo", "blocked", deadline=past), DAY)
    assert not model.is_late(row("WG001/D/wazo", "blocked", deadline=DAY), DAY)  # the last day is in time


def test_cancelled_and_withdrawn_are_done_and_worded_in_dutch() -> None:
    assert group_of(row("WG001/D/wazo", "cancelled"), DAY) is model.DONE
    assert group_of(row("WG001/D/wazo", "withdrawn"), DAY) is model.DONE
    assert model.state_label("withdrawn") == "ingetrokken"
    assert model.state_label("cancelled").startswith("vervallen")


def test_every_group_has_a_distinct_id_and_attention_groups_come_first() -> None:
    assert len({g.id for g in GROUPS}) == len(GROUPS)
    flags = [g.attention for g in GROUPS]
    assert flags == sorted(flags, reverse=True)


def test_the_week_chart_counts_each_notification_once_in_its_due_week() -> None:
    monday = DAY - timedelta(days=DAY.weekday())
    rows = [
        row("WG001/A/zw-ziekmelding", "accepted", due=monday),
        row("WG001/B/zw-ziekmelding", "accepted", due=monday + timedelta(days=6)),  # the same week's Sunday
        row("WG001/C/zw-ziekmelding", "rejected", due=monday - timedelta(days=1)),  # the week before
        row("WG001/D/zw-ziekmelding", "blocked", due=monday - timedelta(weeks=30)),  # outside the window
    ]
    weeks, outside = week_chart(rows, DAY)
    assert len(weeks) == model.CHART_WEEKS and weeks[-1].start == monday
    assert dict(weeks[-1].counts) == {"done": 2}
    assert dict(weeks[-2].counts) == {"rejected": 1}
    assert sum(w.total for w in weeks[:-2]) == 0
    assert outside == 1
    page = render(overview(rows))
    chart = page.split('data-employer=""', 1)[1].split("</figure>", 1)[0]  # the all-employers chart
    assert f'data-week="{monday.isoformat()}" data-total="2"' in chart
    assert re.search(r'data-group="done" data-count="2"', chart)
    assert "1 melding met een meldingsdatum buiten deze weken" in page


@given(st.lists(st.sampled_from([*model.STATE_LABELS, "x-new"]), max_size=30), st.integers(-60, 60))
def test_the_chart_never_loses_or_invents_a_notification(states: list[str], shift: int) -> None:
    rows = [
        row(f"WG001/D{i}/zw-ziekmelding", state, due=DAY + timedelta(days=shift - i * 3))
        for i, state in enumerate(states)
    ]
    weeks, outside = week_chart(rows, DAY)
    assert sum(w.total for w in weeks) + outside == len(rows)


def test_the_calendar_shows_planned_notifications_on_their_day_with_their_problems() -> None:
    planned = [
        Planned(
            "WG001/Z-9/zw-ziekmelding",
            Kind.ZW_ZIEKMELDING,
            "WG001",
            "1009",
            "Z-9",
            DAY + timedelta(days=7),
            None,
        ),
        Planned(
            "WG001/P-1/wazo",
            Kind.WAZO,
            "WG001",
            "1010",
            "P-1",
            DAY + timedelta(days=2),
            None,
            problems=(Problem.of(Code.BSN_MISSING),),
        ),
    ]
    page = render(overview([], planned=planned))
    assert "Agenda: de komende 28 dagen" in page
    assert "2 meldingen gepland" in page
    wazo = page.split('data-key="WG001/P-1/wazo"', 1)[1].split("</li>", 1)[0]
    assert "BSN ontbreekt" in wazo  # the recap's Dutch wording of the problem
    assert "Het journaal bevat nog geen meldingen" in page


def test_dates_are_written_as_in_the_recap() -> None:
    page = render(overview([row("WG001/A/zw-ziekmelding", "written", deadline=date(2026, 12, 4))]))
    assert "Stand op dinsdag 1 december 2026" in page
    assert "4 december 2026" in page and "nog 3 dagen" in page


def test_markup_escapes_text_and_attributes_but_not_what_it_built() -> None:
    inner = el("b", None, "<i>")
    assert el("p", {"title": '"x"', "hidden": True, "id": None}, inner, "&") == (
        '<p title="&quot;x&quot;" hidden><b>&lt;i&gt;</b>&amp;</p>'
    )
    assert isinstance(inner, Markup)
    assert (
        el("p", None, inner + "<u>") == "<p>&lt;b&gt;&amp;lt;i&amp;gt;&lt;/b&gt;&lt;u&gt;</p>"
    )  # str + Markup is str


def test_a_rejection_says_by_when_to_correct_it() -> None:
    status = LastStatus(
        code="311", at=datetime(2026, 12, 1, 15, 0, tzinfo=UTC), description="", meaning="311"
    )
    page = render(overview([row("WG001/A/zw-ziekmelding", "rejected", status=status)]))
    assert "Corrigeer uiterlijk woensdag 2 december 2026." in page


def _tags(page: str) -> list[str]:
    return sorted(tag for tag, _ in parse(page).tags)


@given(st.text(max_size=40), st.text(max_size=40), st.text(max_size=40), st.text(max_size=40))
def test_no_text_from_outside_ever_adds_an_element(
    name: str, employee: str, dossier: str, problem: str
) -> None:
    def page(name: str, employee: str, dossier: str, problem: str) -> str:
        hostile = Row(
            key=f"WG001/{dossier}/zw-ziekmelding",
            kind=Kind.ZW_ZIEKMELDING,
            employer_id="WG001",
            employee_id=employee,
            dossier_id=dossier,
            due_date=DAY,
            deadline=None,
            state="blocked",
            problems=(legacy(problem),),
        )
        return render(overview([hostile], employers={"WG001": name}))

    assert _tags(page(name, employee, dossier, problem)) == _tags(page("n", "e", "d", "p"))
