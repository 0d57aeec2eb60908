"""`uwvcli report` end to end: a real run over the in-process simulator (mutual TLS, two
notifications made to fail by the simulator's markers), then the command as cron or a person starts
it, and the page opened in a real headless Chromium (Debian's package, driven by Playwright):
it renders, the filters work, no script error or policy violation, every kenmerk of the journal is
there, and no BSN, name or birth date of the exports is."""

from __future__ import annotations

import re
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.run_support import (
    RUN_DATE,
    make_test_pki,
    personal_data_in,
    personal_values,
    run_day,
    setup_samples,
    uwvcli,
)
from uwvcli.state.locking import run_lock

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def after_a_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The samples after one real run on RUN_DATE, with one validation failure (311) and one
    refusal by UWV (510) among what was sent; returns the configuration."""
    folder = tmp_path_factory.mktemp("report")
    config = setup_samples(folder / "samples", make_test_pki(tmp_path_factory), smtp_port=None)
    export = config.parent / "exports" / "testbrood-dossiers.csv"
    text = export.read_text(encoding="utf-8-sig")
    assert ";Z-101;" in text and ";Z-102;" in text, "the samples changed: pick other dossiers"
    export.write_text(
        text.replace(";Z-101;", ";Z-101.FLOW-311;").replace(";Z-102;", ";Z-102.FLOW-510;"), encoding="utf-8"
    )
    done = run_day(config)
    assert done.returncode == 1, done.stderr  # the two failures need attention
    return config


def journal_rows(config: Path) -> list[sqlite3.Row]:
    with sqlite3.connect(f"file:{config.parent / 'var' / 'uwvcli.sqlite'}?mode=ro", uri=True) as db:
        db.row_factory = sqlite3.Row
        return db.execute("SELECT key, employer_id, kind, state, kenmerk FROM notifications").fetchall()


@pytest.fixture(scope="module")
def page_file(after_a_run: Path) -> Path:
    out = after_a_run.parent / "overzicht.html"
    done = uwvcli(
        "report",
        "--config",
        str(after_a_run),
        "--date",
        RUN_DATE,
        "--output",
        str(out),
        cwd=after_a_run.parent,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(out)
    return out


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.skip(
            f"{CHROMIUM} is absent: install Debian's chromium (.ci/run does) to run the browser tests"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            yield launched
        finally:
            launched.close()


class OpenPage:
    """The report in a fresh page, with every script error and console error collected."""

    def __init__(self, browser, path: Path):
        self.errors: list[str] = []
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.context.route(re.compile(r"^(?!file:).*"), self._refuse)  # anything not the file itself
        self.page = self.context.new_page()
        self.page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))
        self.page.on(
            "console",
            lambda m: self.errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None,
        )
        self.requests: list[str] = []
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.goto(path.as_uri())

    def _console(self, message) -> None:
        if message.type == "error":  # a policy violation is reported here too
            self.errors.append(f"console error: {message.text}")

    def _refuse(self, route) -> None:
        self.errors.append(f"request to {route.request.url}")
        route.abort()

    def visible_rows(self) -> list[dict[str, str]]:
        return self.page.eval_on_selector_all(
            "tr.row",
            "rows => rows.filter(r => r.offsetParent !== null).map(r => ({key: r.dataset.key, "
            "employer: r.dataset.employer, kind: r.dataset.kind, state: r.dataset.state}))",
        )

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def opened(browser, page_file: Path) -> Iterator[OpenPage]:
    page = OpenPage(browser, page_file)
    yield page
    page.close()
    assert page.errors == []
    assert page.requests == [page_file.as_uri()]  # the file itself, nothing else


def test_the_page_renders_every_notification_of_the_journal(opened: OpenPage, after_a_run: Path) -> None:
    page = opened.page
    assert page.title().startswith("UWV-meldingen — overzicht")
    assert page.is_visible("#filters")  # the script ran and showed the filters
    rows = journal_rows(after_a_run)
    assert {r["key"] for r in opened.visible_rows()} == {r["key"] for r in rows}
    assert page.inner_text("#shown") == f"{len(rows)} van {len(rows)} meldingen zichtbaar"
    # attention first: the first rows of the bakery are its two rejections
    first = page.eval_on_selector_all(
        "section.employer[data-employer='WG001'] tr.row", "rows => rows.slice(0, 2).map(r => r.dataset.state)"
    )
    assert first == ["rejected", "rejected"]
    assert page.is_visible("table.calendar")
    # the sample export row with an impossible date is not silently missing from the calendar
    assert "1 exportregel(s) konden niet worden gelezen" in page.inner_text("#agenda")
    assert page.is_visible("figure.chart[data-employer=''] svg rect.bar")


def test_choosing_an_employer_shows_only_its_notifications_and_chart(opened: OpenPage) -> None:
    page = opened.page
    page.select_option("#f-employer", "WG002")
    rows = opened.visible_rows()
    assert rows and {r["employer"] for r in rows} == {"WG002"}
    assert not page.is_visible("section.employer[data-employer='WG001']")
    assert page.is_visible("figure.chart[data-employer='WG002']")
    assert not page.is_visible("figure.chart[data-employer='']")
    assert page.inner_text("#shown").startswith(f"{len(rows)} van ")
    page.select_option("#f-employer", "WG001")
    planned = page.eval_on_selector_all(
        "li.planned", "items => items.filter(i => i.offsetParent !== null).map(i => i.dataset.employer)"
    )
    assert planned and set(planned) == {"WG001"}  # the calendar follows the filter too


def test_choosing_a_kind_and_a_state_narrows_further_and_reset_shows_all(
    opened: OpenPage, after_a_run: Path
) -> None:
    page = opened.page
    page.select_option("#f-kind", "zw-ziekmelding")
    rows = opened.visible_rows()
    assert rows and {r["kind"] for r in rows} == {"zw-ziekmelding"}
    expected = {r["key"] for r in journal_rows(after_a_run) if r["kind"] == "zw-ziekmelding"}
    assert {r["key"] for r in rows} == expected
    page.select_option("#f-state", "s:rejected")
    rows = opened.visible_rows()
    assert len(rows) == 2 and {r["state"] for r in rows} == {"rejected"}
    page.select_option("#f-kind", "wazo")
    assert opened.visible_rows() == []
    assert page.is_visible("#nothing-matches")
    page.click("#f-reset")
    assert len(opened.visible_rows()) == len(journal_rows(after_a_run))


def test_attention_filter_keeps_only_what_needs_a_person(opened: OpenPage) -> None:
    opened.page.select_option("#f-state", "attention")
    states = {r["state"] for r in opened.visible_rows()}
    assert states == {"rejected", "blocked"}


def test_every_kenmerk_and_no_personal_data_and_no_external_url(page_file: Path, after_a_run: Path) -> None:
    html = page_file.read_text(encoding="utf-8")
    kenmerken = [r["kenmerk"] for r in journal_rows(after_a_run) if r["kenmerk"]]
    assert len(kenmerken) >= 10
    assert [k for k in kenmerken if k not in html] == []
    assert personal_data_in(html, personal_values(after_a_run.parent / "exports")) == []
    assert not re.search(r"\b(?:src|href)\s*=\s*[\"']?\s*(?:https?:)?//", html)
    assert "http://" not in html and "https://" not in html
    assert stat.S_IMODE(page_file.stat().st_mode) == 0o600


def test_without_output_the_page_goes_next_to_the_state_even_while_a_run_holds_the_lock(
    after_a_run: Path,
) -> None:
    state = after_a_run.parent / "var" / "uwvcli.sqlite"
    with run_lock(state):  # a report never waits for (or takes) the run lock
        done = uwvcli("report", "--config", str(after_a_run), "--date", RUN_DATE, cwd=after_a_run.parent)
    assert done.returncode == 0, done.stderr
    expected = state.parent / "reports" / f"overzicht-{RUN_DATE}.html"
    assert done.stdout.strip() == str(expected)
    assert stat.S_IMODE(expected.stat().st_mode) == 0o600
    assert "Digipoort" in expected.read_text(encoding="utf-8")


def test_before_any_run_the_page_says_so_and_no_state_is_created(tmp_path: Path) -> None:
    config = setup_samples(tmp_path / "samples", None, smtp_port=None)
    out = tmp_path / "leeg.html"
    done = uwvcli("report", "--config", str(config), "--date", RUN_DATE, "-o", str(out), cwd=config.parent)
    assert done.returncode == 0, done.stderr
    assert not (config.parent / "var" / "uwvcli.sqlite").exists()
    html = out.read_text(encoding="utf-8")
    assert "Het journaal bevat nog geen meldingen" in html
    assert "gepland volgens de regels" in html  # the calendar comes from the exports alone


def test_an_unwritable_output_is_a_clear_error(after_a_run: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    done = uwvcli(
        "report", "--config", str(after_a_run), "-o", str(blocker / "overzicht.html"), cwd=after_a_run.parent
    )
    assert done.returncode == 2
    assert "cannot write the overview" in done.stderr
