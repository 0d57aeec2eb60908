"""The Digipoort code table (`uwvcli.digipoort.codes`): every code of the project's research is
decoded and agrees with it, unknown codes get a sensible inference, and the delivery loop's
outcome mapping follows DIGIPOORT.md."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from uwvcli.digipoort import codes
from uwvcli.digipoort.codes import CodeInfo, all_codes, describe, explain, outcome

CONTRACT_KEYS = ["code", "type", "known", "phase", "final", "success", "name_nl", "meaning", "action"]
DOCS = Path(__file__).resolve().parent.parent / "docs" / "codes.md"

# The reference names phases and services its own way; the project's table uses these.
REFERENCE_PHASES = {
    "aanleveren": "aanleveren",
    "authenticatie": "authenticatie",
    "validatie": "validatie",
    "afleveren": "afleveren",
    "uitvragende_partij": "uitvragende-partij",
    "unknown_7xx": None,
}
REFERENCE_CONFIDENCE = {"high": "confirmed", "medium": "partly", "low": "unknown"}
REFERENCE_RETRY = {True: "yes", False: "no", "unknown": "unknown"}


def reference_phase_of_service(service: str) -> str:
    """`afleverservice (receiving side; …)` → afleveren, and so on."""
    word = service.split()[0]
    return {
        "aanleverservice": "aanleveren",
        "statusinformatieservice": "statusinformatie",
        "validatie": "validatie",
        "afleverservice": "afleveren",
    }[word]


@pytest.fixture
def reference(shared: Path) -> dict:
    """The project's research: ../shared/reference/digipoort/codes.yaml."""
    path = shared / "reference" / "digipoort" / "codes.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def reference_entries(reference: dict) -> list[tuple[str, dict]]:
    return [("status", e) for e in reference["statuses"]] + [("error", e) for e in reference["errors"]]


# ---------------------------------------------------------------- the table against the research


def test_the_table_holds_exactly_the_researched_codes(reference: dict) -> None:
    researched = {entry["code"] for _, entry in reference_entries(reference)}
    assert {info.code for info in all_codes()} == researched
    assert sum(info.type == "status" for info in all_codes()) == reference["meta"]["counts"]["statuses"]
    assert sum(info.type == "error" for info in all_codes()) == reference["meta"]["counts"]["errors"]


def test_every_researched_status_is_decoded_with_its_phase_finality_and_success(reference: dict) -> None:
    for entry in reference["statuses"]:
        info = explain(entry["code"])
        assert info.known and info.type == "status", entry["code"]
        assert info.phase == REFERENCE_PHASES[entry["phase"]], entry["code"]
        assert info.final is entry["final"], entry["code"]
        assert info.success is entry["success"], entry["code"]
        assert info.confidence == REFERENCE_CONFIDENCE[entry["confidence"]], entry["code"]


def test_every_researched_foutcode_is_decoded_with_its_service_and_resend_advice(reference: dict) -> None:
    for entry in reference["errors"]:
        info = explain(entry["code"])
        assert info.known and info.type == "error", entry["code"]
        assert info.phase == reference_phase_of_service(entry["service"]), entry["code"]
        assert info.success is False, entry["code"]
        assert info.retry == REFERENCE_RETRY[entry["retry"]], entry["code"]
        assert info.confidence == REFERENCE_CONFIDENCE[entry["confidence"]], entry["code"]


def test_dutch_names_are_digipoorts_own_and_never_a_guess(reference: dict) -> None:
    """Users search for the official wording; a name the research only inferred (510) must not
    be presented as official."""
    for _, entry in reference_entries(reference):
        info = explain(entry["code"])
        if entry["name_nl_basis"] in ("inferred", "unknown"):
            assert info.name_nl is None, entry["code"]
        else:
            assert info.name_nl == entry["name_nl"], entry["code"]


def _word_runs(text: str, length: int) -> set[tuple[str, ...]]:
    words = re.findall(r"[a-z0-9']+", text.lower())
    return {tuple(words[i : i + length]) for i in range(len(words) - length + 1)}


def test_explanations_are_in_the_projects_own_words(reference: dict) -> None:
    """Facts from the research, prose of our own: no run of seven words taken over."""
    for _, entry in reference_entries(reference):
        info = explain(entry["code"])
        theirs = set().union(
            *(_word_runs(entry.get(field) or "", 7) for field in ("meaning_en", "action_en", "notes"))
        )
        ours = _word_runs(f"{info.meaning} {info.action}", 7)
        assert not ours & theirs, (entry["code"], sorted(ours & theirs)[:3])


def test_every_entry_is_complete_and_consistent() -> None:
    table = {info.code for info in all_codes()}
    for info in all_codes():
        assert info.phase in (*codes.PHASES, None), info.code
        assert info.retry in ("no", "yes", "wait", "unknown"), info.code
        assert info.confidence in ("confirmed", "partly", "unknown"), info.code
        assert info.meaning and info.action and info.summary, info.code
        assert "\n" not in info.summary, info.code
        assert set(info.related) <= table, info.code
        assert (info.service is None) == (info.type == "status"), info.code


def test_digipoort_end_states_are_final_and_the_rest_is_not() -> None:
    """DIGIPOORT.md: 500 succeeds; 210, 230, 311, 321, 410, 510 fail; 400 and 420 are not yet the
    end (400: wait for UWV's verdict; 420: Digipoort is still retrying)."""
    assert explain("500").final is True and explain("500").success is True
    for code in ("210", "230", "311", "321", "410", "510"):
        assert explain(code).final is True and explain(code).success is False, code
    for code in ("105", "100", "110", "200", "301", "405", "400", "420"):
        assert explain(code).final is False, code


# ---------------------------------------------------------------- outcome: the delivery loop's mapping


@pytest.mark.parametrize(
    ("code", "foutcode", "expected"),
    [
        ("500", None, "accepted"),
        ("400", None, "delivered"),
        ("311", "VAS500", "rejected"),
        ("321", "VAS400", "rejected"),
        ("510", None, "rejected"),
        ("210", None, "failed"),
        ("220", None, "failed"),
        ("230", None, "failed"),
        ("410", "AFS400", "failed"),
        ("410", "AFO100", "failed"),
        ("420", "AFS600", "failed"),
        ("420", None, None),  # Digipoort still retrying for up to 72 hours
        ("420", "AFS400", None),
        ("710", None, "failed"),
        ("105", None, None),
        ("100", None, None),
        ("110", None, None),
        ("200", None, None),
        ("301", None, None),
        ("405", None, None),
        (" 311 ", " vas500 ", "rejected"),
        ("ALS100", None, "rejected"),  # a synchronous fault on aanleveren
        ("ALS400", None, "rejected"),
        ("STS100", None, None),  # a failed status request says nothing about the message
        ("399", "VAS999", "rejected"),  # an unknown status carrying a foutcode ends the process
        ("699", "XYZ123", "failed"),
        ("399", None, None),
        ("312", None, None),
        ("hello", None, None),
    ],
)
def test_outcome_maps_statuses_to_journal_states(
    code: str, foutcode: str | None, expected: str | None
) -> None:
    assert outcome(code, foutcode) == expected


# ---------------------------------------------------------------- forgiving input


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("als100", "ALS100"),
        (" ALS100 ", "ALS100"),
        ("Als 100", "ALS100"),
        ("als-100", "ALS100"),
        ("\t311\n", "311"),
        (" 311 ", "311"),
        ("vas500", "VAS500"),
        ("afs_600", "AFS600"),
    ],
)
def test_case_and_spaces_do_not_matter(typed: str, code: str) -> None:
    info = explain(typed)
    assert info.known and info.code == code
    assert info == explain(code)


@given(
    st.sampled_from([info.code for info in all_codes()]),
    st.lists(st.booleans(), min_size=6, max_size=6),
    st.text(alphabet=" \t", max_size=3),
    st.text(alphabet=" \t\n", max_size=3),
)
def test_any_casing_and_padding_of_a_known_code_finds_it(
    code: str, upper: list[bool], before: str, after: str
) -> None:
    cased = "".join(char.upper() if up else char.lower() for char, up in zip(code, upper, strict=False))
    typed = before + cased + after
    assert explain(typed).code == code and explain(typed).known


# ---------------------------------------------------------------- codes outside the table


@pytest.mark.parametrize(
    ("code", "type_", "phase", "final", "success"),
    [
        ("115", "status", "aanleveren", None, None),
        ("250", "status", "authenticatie", None, None),
        ("312", "status", "validatie", None, None),
        ("302", "status", "validatie", None, None),
        ("430", "status", "afleveren", None, False),
        ("401", "status", "afleveren", None, True),
        ("520", "status", "uitvragende-partij", None, False),
        ("511", "status", "uitvragende-partij", True, False),
        ("610", "status", None, True, False),  # no documented phase, but "x10" fails everywhere
        ("705", "status", None, False, None),
        ("099", "status", None, None, None),
        ("ALS999", "error", "aanleveren", True, False),
        ("als180", "error", "aanleveren", True, False),
        ("STS400", "error", "statusinformatie", False, False),
        ("VAS600", "error", "validatie", True, False),
        ("AFS200", "error", "afleveren", None, False),
        ("AFO300", "error", "afleveren", None, False),
        ("AUS100", "error", None, None, False),
        ("ORS100", "error", None, None, False),
    ],
)
def test_unknown_codes_are_inferred_from_their_shape(
    code: str, type_: str, phase: str | None, final: bool | None, success: bool | None
) -> None:
    info = explain(code)
    assert not info.known
    assert (info.type, info.phase, info.final, info.success) == (type_, phase, final, success)
    assert info.confidence == "unknown"
    assert "not in uwvcli's table" in info.meaning


@pytest.mark.parametrize(
    ("code", "service", "retry"),
    [
        ("ALS999", "AanleverService", "unknown"),
        ("STS400", "StatusinformatieService", "yes"),  # …400 is a technical fault everywhere
        ("AFS100", "AfleverService", "no"),  # known, as a control
        ("AFO100", "AfleverService", "unknown"),
        ("AFS500", "AfleverService", "no"),
        ("XYZ100", None, "no"),
    ],
)
def test_foutcode_prefix_names_the_service_and_the_number_hints_at_resending(
    code: str, service: str | None, retry: str
) -> None:
    info = explain(code)
    assert (info.service, info.retry) == (service, retry)


NOT_CODES = ["", "   ", "hello", "31", "3111", "ALS10", "ALS1000", "31 1x", "ⅲⅰⅰ", "３１１"]


@pytest.mark.parametrize("typed", NOT_CODES)
def test_input_that_is_no_code_gets_a_clear_unknown_answer(typed: str) -> None:
    info = explain(typed)
    assert not info.known and info.type is None
    assert (info.phase, info.final, info.success) == (None, None, None)
    assert "three digits" in info.meaning and "ALS100" in info.meaning
    assert describe(typed).endswith("not a Digipoort code")


def test_echoed_input_cannot_steer_the_terminal_and_stays_short() -> None:
    info = explain("\x1b[31mred\x1b[0m" + "x" * 100)
    assert "\x1b" not in info.code and "\x1b" not in info.meaning
    assert len(info.code) <= 40


@given(st.text())
def test_any_string_gets_an_answer_and_never_raises(text: str) -> None:
    info = explain(text)
    assert isinstance(info, CodeInfo)
    document = json.loads(json.dumps(info.to_json()))
    assert list(document)[: len(CONTRACT_KEYS)] == CONTRACT_KEYS
    assert document["type"] in ("status", "error", None)
    assert document["known"] is (info.code in {known.code for known in all_codes()})
    line = describe(text, text)
    assert "\n" not in line and "\r" not in line
    assert outcome(text, text) in (None, "accepted", "delivered", "rejected", "failed")


@given(st.from_regex(r"[0-9]{3}", fullmatch=True))
def test_every_three_digit_code_is_a_status_of_the_phase_its_hundreds_name(code: str) -> None:
    info = explain(code)
    assert info.type == "status"
    expected = {"1": "aanleveren", "2": "authenticatie", "3": "validatie", "4": "afleveren"}
    expected["5"] = "uitvragende-partij"
    assert info.phase == expected.get(code[0])


# ---------------------------------------------------------------- shapes for other modules


def test_json_is_the_contract_object_with_additions_after_it() -> None:
    document = explain("311").to_json()
    assert list(document)[: len(CONTRACT_KEYS)] == CONTRACT_KEYS
    assert document["code"] == "311" and document["type"] == "status" and document["known"] is True
    assert document["phase"] == "validatie"
    assert document["final"] is True and document["success"] is False
    assert document["name_nl"] == "Validatie niet gelukt"
    assert json.loads(json.dumps(document)) == document


def test_describe_is_one_line_with_the_dutch_name_and_the_foutcode() -> None:
    line = describe("311", "VAS500")
    assert line.startswith("311 Validatie niet gelukt — ")
    assert "(VAS500: " in line and "\n" not in line
    assert describe("als100").startswith("ALS100 — ")  # foutcode texts are sentences: not in the title
    assert describe("510").startswith("510 — ")  # no official name to show
    assert "not in uwvcli's table" in describe("312")


def test_all_codes_lists_statuses_by_number_then_foutcodes() -> None:
    listed = [info.code for info in all_codes()]
    statuses = [code for code in listed if code.isdigit()]
    assert listed[: len(statuses)] == sorted(statuses, key=int)
    assert listed[len(statuses) :] == sorted(listed[len(statuses) :])


@pytest.mark.parametrize(
    ("typed", "phase"),
    [
        ("validatie", "validatie"),
        ("Validation", "validatie"),
        ("bezorging", "afleveren"),
        ("receiver", "uitvragende-partij"),
        ("uitvragende_partij", "uitvragende-partij"),
        ("autorisatie", "authenticatie"),
        ("unknown", "unknown"),
        ("nonsense", None),
    ],
)
def test_phase_names_people_use_are_understood(typed: str, phase: str | None) -> None:
    assert codes.phase_named(typed) == phase


def test_codes_in_a_phase() -> None:
    validatie = {info.code for info in codes.codes_in_phase("validatie")}
    assert validatie == {"301", "311", "321", "VAS400", "VAS500"}
    assert {info.code for info in codes.codes_in_phase("unknown")} == {"710", "720"}


# ---------------------------------------------------------------- docs/codes.md cannot rot

START, END = "<!-- generated: codes table -->", "<!-- end of generated codes table -->"


def render_code_tables() -> str:
    """The generated part of docs/codes.md: one table per phase."""
    parts: list[str] = []
    for phase in (*codes.PHASES, codes.UNKNOWN_PHASE):
        infos = codes.codes_in_phase(phase)
        label = codes.PHASE_LABELS.get(phase, "phase not documented (7xx)")
        parts += [f"### {phase}: {label}", ""]
        parts += ["| code | Digipoort's name | final | result | send again? | sure? | meaning | what to do |"]
        parts += ["| --- | --- | --- | --- | --- | --- | --- | --- |"]
        for info in infos:
            final = {True: "yes", False: "no", None: "?"}[info.final]
            result = {True: "success", False: "failure", None: "progress"}[info.success]
            cells = [info.code, info.name_nl or "–", final, result, info.retry, info.confidence]
            cells += [info.meaning, info.action]
            parts.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
        parts.append("")
    return "\n".join(parts)


def test_docs_codes_md_matches_the_table() -> None:
    """Regenerate with `UWVCLI_UPDATE_DOCS=1 .venv/bin/pytest tests/test_codes.py -k docs`."""
    text = DOCS.read_text(encoding="utf-8")
    head, rest = text.split(START + "\n", 1)
    _, tail = rest.split(END, 1)
    expected = f"{head}{START}\n{render_code_tables()}{END}{tail}"
    if os.environ.get("UWVCLI_UPDATE_DOCS") == "1":
        DOCS.write_text(expected, encoding="utf-8")
        text = expected
    assert text == expected, "docs/codes.md is out of date: regenerate it (see this test's docstring)"


def test_which_faults_are_transient_comes_from_the_table() -> None:
    """ALS400 says "send again later": not processed, so retried, never `rejected` (issue 11)."""
    assert codes.transient("ALS400") and codes.transient(" als 400 ")
    assert not codes.transient("ALS100") and not codes.transient("STS100")
    assert not codes.transient("500"), "a status is not a fault"
    for info in codes.all_codes():
        assert codes.transient(info.code) == (info.type == codes.ERROR and info.retry == "yes")
