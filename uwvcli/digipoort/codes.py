"""Digipoort's status codes and foutcodes, decoded in uwvcli's own words.

Every place that shows a code (status overview, recap mail, `uwvcli explain`) goes through this
module, and the delivery loop asks `outcome()` when a message has reached its end, so the table in
`uwvcli/data/digipoort-codes.yaml` is the single source of what a code means. Logius' own tables
are not public; the table marks how sure it is of each code, and a code that is not in it still
gets the best explanation its shape allows (`known: false`) instead of an error.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

import yaml

from uwvcli.common.yamlsafe import SAFE_LOADER

STATUS = "status"
ERROR = "error"

# Phases in the order a message passes them; `statusinformatie` is where status calls fail.
PHASES = (
    "aanleveren",
    "authenticatie",
    "validatie",
    "afleveren",
    "uitvragende-partij",
    "statusinformatie",
)
UNKNOWN_PHASE = "unknown"  # what `--phase` calls the codes whose phase nobody documented (7xx)

PHASE_LABELS = {
    "aanleveren": "submission to Digipoort (aanleveren)",
    "authenticatie": "authentication of the sender (authenticatie)",
    "validatie": "Digipoort's validation (validatie)",
    "afleveren": "delivery to UWV (afleveren)",
    "uitvragende-partij": "UWV's own check (uitvragende partij)",
    "statusinformatie": "status requests (statusinformatie)",
}

# Other words people use for a phase, accepted wherever a phase is asked for.
_PHASE_ALIASES = {
    "submission": "aanleveren",
    "aanlevering": "aanleveren",
    "authentication": "authenticatie",
    "authorisation": "authenticatie",
    "authorization": "authenticatie",
    "autorisatie": "authenticatie",
    "validation": "validatie",
    "delivery": "afleveren",
    "aflevering": "afleveren",
    "bezorging": "afleveren",
    "receiver": "uitvragende-partij",
    "ontvanger": "uitvragende-partij",
    "uwv": "uitvragende-partij",
    "uitvragende_partij": "uitvragende-partij",
    "uitvragendepartij": "uitvragende-partij",
    "status": "statusinformatie",
    "onbekend": UNKNOWN_PHASE,
}

# Journal outcomes (docs/ARCHITECTURE.md, journal states).
ACCEPTED = "accepted"
DELIVERED = "delivered"
REJECTED = "rejected"
FAILED = "failed"

# Phases whose final failures mean "the content was refused"; other final failures are `failed`.
_REJECTING_PHASES = frozenset({"aanleveren", "validatie", "uitvragende-partij"})

_STATUS_SHAPE = re.compile(r"[0-9]{3}")
_FOUTCODE_SHAPE = re.compile(r"([A-Z]{3})([0-9]{3})")
_SEPARATORS = re.compile(r"[\s_-]+")
_ECHO_LIMIT = 40


@dataclass(frozen=True, slots=True)
class CodeInfo:
    """What one code means. `to_json()` is the CONTRACT §5 object; the fields after `action`
    are uwvcli's additions (CONTRACT allows adding, not changing)."""

    code: str  # normalised ("ALS100"); for input that is no code at all, what was typed
    type: str | None  # "status" | "error"; None when the input has the shape of neither
    known: bool  # in uwvcli's table; False: everything below is inferred from the shape
    phase: str | None  # one of PHASES; None when not known
    final: bool | None  # nothing further happens to the message; None: cannot tell
    success: bool | None  # that step went well; None: progress (or cannot tell)
    name_nl: str | None  # Digipoort's own Dutch wording, verbatim; None where no source gives it
    meaning: str
    action: str
    retry: str  # "no" | "yes" | "wait" | "unknown": would sending the same message again help?
    confidence: str  # "confirmed" | "partly" | "unknown"
    summary: str  # one short clause for one-line descriptions
    service: str | None = None  # foutcodes: the Digipoort service reporting it
    related: tuple[str, ...] = field(default=())
    summary_nl: str | None = None  # `summary` in Dutch (the recap mails); None outside the table
    action_nl: str | None = None  # `action` in Dutch; None outside the table

    def to_json(self) -> dict[str, object]:
        return {
            "code": self.code,
            "type": self.type,
            "known": self.known,
            "phase": self.phase,
            "final": self.final,
            "success": self.success,
            "name_nl": self.name_nl,
            "meaning": self.meaning,
            "action": self.action,
            "retry": self.retry,
            "confidence": self.confidence,
            "service": self.service,
            "summary": self.summary,
            "related": list(self.related),
            "summary_nl": self.summary_nl,
            "action_nl": self.action_nl,
        }


def explain(code: str) -> CodeInfo:
    """Decode a statuscode or foutcode, forgiving case and stray spaces (` als 100 `). Never
    raises: a code outside the table gets what its shape tells (`known: false`)."""
    normal = normalize(code)
    known = _table().get(normal)
    if known is not None:
        return known
    if _STATUS_SHAPE.fullmatch(normal):
        return _infer_status(normal)
    shape = _FOUTCODE_SHAPE.fullmatch(normal)
    if shape:
        return _infer_foutcode(normal, shape.group(1), int(shape.group(2)))
    return _not_a_code(code)


def all_codes() -> list[CodeInfo]:
    """Every code in the table: statuses by number, then foutcodes alphabetically."""
    table = _table().values()
    statuses = sorted((info for info in table if info.type == STATUS), key=lambda info: info.code)
    errors = sorted((info for info in table if info.type == ERROR), key=lambda info: info.code)
    return statuses + errors


def codes_in_phase(phase: str) -> list[CodeInfo]:
    """The table's codes of one phase (see `phase_named`); `unknown` lists those without one."""
    wanted = None if phase == UNKNOWN_PHASE else phase
    return [info for info in all_codes() if info.phase == wanted]


def phase_named(text: str) -> str | None:
    """The phase a user means (`Validatie`, `delivery`, `receiver`…), or None when none fits."""
    word = text.strip().lower()
    if word in PHASES or word == UNKNOWN_PHASE:
        return word
    return _PHASE_ALIASES.get(word)


def describe(code: str, foutcode: str | None = None) -> str:
    """One plain line for tables, logs and mails, e.g.
    `311 Validatie niet gelukt — the message failed Digipoort's validation (VAS500: …)`."""
    info = explain(code)
    title = info.code or "(empty)"
    if info.type == STATUS and info.name_nl:  # foutcode names are whole sentences: not a title
        title += f" {info.name_nl}"
    line = f"{title} — {info.summary}"
    if foutcode and foutcode.strip():
        fout = explain(foutcode)
        line += f" ({fout.code}: {fout.summary})"
    return line


def describe_nl(code: str, foutcode: str | None = None) -> str:
    """`describe` in Dutch, for the recap mails: e.g. `311 Validatie niet gelukt — het bericht is
    afgekeurd bij de validatie van Digipoort (VAS500: de inhoud is afgekeurd …)`. A code outside
    the table says so, in Dutch, instead of borrowing the English guess."""
    info = explain(code)
    title = info.code or "(leeg)"
    if info.type == STATUS and info.name_nl:
        title += f" {info.name_nl}"
    line = f"{title} — {_summary_nl(info)}"
    if foutcode and foutcode.strip():
        fout = explain(foutcode)
        line += f" ({fout.code}: {_summary_nl(fout)})"
    return line


def _summary_nl(info: CodeInfo) -> str:
    return info.summary_nl or _UNKNOWN_NL


_UNKNOWN_NL = "staat niet in de codetabel van uwvcli: de toelichting van Digipoort legt het uit"


def describe_with_text(code: str, foutcode: str | None, text: str | None) -> str:
    """`describe` plus Digipoort's own words (its statusomschrijving or foutbeschrijving),
    verbatim, but only when they add something: most statusomschrijvingen are the code's
    `name_nl`, which `describe` already shows."""
    line = describe(code, foutcode)
    words = " ".join((text or "").split())
    if not words or _same_words(words, explain(code).name_nl) or _same_words(words, line):
        return line
    return f"{line} — Digipoort: {words}"


def _same_words(text: str, other: str | None) -> bool:
    """`Validatie gelukt.` and `validatie gelukt` say the same; a text inside `other` adds nothing."""

    def plain(value: str) -> str:
        return " ".join(value.split()).rstrip(".").casefold()

    return other is not None and (plain(text) == plain(other) or plain(text) in plain(other))


def outcome(code: str, foutcode: str | None = None) -> str | None:
    """The journal outcome a status leads to: `accepted`, `delivered`, `rejected`, `failed`, or
    None while the message is not finished.

    `delivered` (400) is provisional: keep polling for UWV's verdict (5xx) within the polling
    window and record `delivered` only when none comes; every other outcome is final. A foutcode
    passed as `code` (a synchronous fault) gives the outcome of that fault."""
    info = explain(code)
    fout = explain(foutcode) if foutcode and foutcode.strip() else None
    if info.type == ERROR:
        return _fault_outcome(info)
    if info.code == "420":  # Digipoort retries delivery for 72 hours; AFS600 means it gave up
        return FAILED if fout is not None and fout.code == "AFS600" else None
    if info.code == "400":
        return DELIVERED
    if info.final:
        return _end(info, succeeded=bool(info.success))
    if not info.known and fout is not None:  # a status we do not know that carries a foutcode ends it
        return _end(info, succeeded=False)
    return None


def transient(foutcode: str) -> bool:
    """A synchronous fault that means "not processed, send the same message again later" (the
    table's `retry: "yes"`, e.g. ALS400): the send loop retries it, never records it as rejected."""
    info = explain(foutcode)
    return info.type == ERROR and info.retry == "yes"


def normalize(code: str) -> str:
    """`als 100`, ` 311 `, `Als-100` → `ALS100`, `311`."""
    return _SEPARATORS.sub("", code).upper()


def _end(info: CodeInfo, *, succeeded: bool) -> str:
    if succeeded:
        return ACCEPTED
    return REJECTED if info.phase in _REJECTING_PHASES else FAILED


def _fault_outcome(info: CodeInfo) -> str | None:
    """A fault on the status service says nothing about the message; one on aanleveren means the
    submission was refused (`rejected`, per the journal's states)."""
    if info.phase == "statusinformatie":
        return None
    return _end(info, succeeded=False)


@cache
def _table() -> dict[str, CodeInfo]:
    text = resources.files("uwvcli").joinpath("data/digipoort-codes.yaml").read_text(encoding="utf-8")
    data = yaml.load(text, Loader=SAFE_LOADER)  # a safe loader: plain data, never objects
    table: dict[str, CodeInfo] = {}
    for kind, section in ((STATUS, "statuses"), (ERROR, "errors")):
        for entry in data[section]:
            related = tuple(str(code) for code in entry.pop("related", ()))
            info = CodeInfo(type=kind, known=True, related=related, **entry)
            table[info.code] = info
    return table


# ---------------------------------------------------------------- codes outside the table

_UNKNOWN_ACTION = (
    "Read the statusomschrijving and foutbeschrijving Digipoort sent with it (uwvcli status, or "
    "uwvcli explain --kenmerk); they explain it. When they do not, ask the Logius Servicecentrum, "
    "and tell the uwvcli maintainers so the table can be extended."
)

# By the last two digits of a status, as far as every documented status follows the pattern:
# (success, final, retry, what it suggests).
_STATUS_PATTERNS: dict[str, tuple[bool | None, bool | None, str, str]] = {
    "00": (True, None, "wait", "that step succeeded"),
    "01": (True, None, "wait", "that step succeeded"),
    "05": (None, False, "wait", "that step is in progress"),
    "10": (False, True, "no", "that step failed and processing stopped"),
    "11": (False, True, "no", "that step failed and processing stopped"),
    "20": (False, None, "unknown", "a technical problem in that step"),
    "21": (False, None, "unknown", "a technical problem in that step"),
    "30": (False, None, "unknown", "a technical problem in that step"),
}

_PHASE_BY_HUNDREDS = {
    "1": "aanleveren",
    "2": "authenticatie",
    "3": "validatie",
    "4": "afleveren",
    "5": "uitvragende-partij",
}

# By prefix: (service, phase, final, what it suggests).
_SERVICES: dict[str, tuple[str, str, bool | None, str]] = {
    "ALS": (
        "AanleverService",
        "aanleveren",
        True,
        "Digipoort refused the submission itself: nothing was accepted and there is no kenmerk",
    ),
    "STS": (
        "StatusinformatieService",
        "statusinformatie",
        False,
        "a status request was refused; it says nothing about the notification itself",
    ),
    "VAS": ("Validatie", "validatie", True, "the message did not get through Digipoort's validation"),
    "AFS": ("AfleverService", "afleveren", None, "delivery to UWV ran into a problem"),
    "AFO": ("AfleverService", "afleveren", None, "delivery to UWV ran into a problem"),
}

# By the number of a foutcode, as far as the documented ones follow a pattern: (retry, hint).
_FOUT_NUMBERS: dict[int, tuple[str, str]] = {
    100: ("no", "the request did not follow the interface rules"),
    400: ("yes", "a technical fault"),
    500: ("no", "the content failed a check"),
    600: ("unknown", "delivery was given up"),
}


def _infer_status(code: str) -> CodeInfo:
    phase = _PHASE_BY_HUNDREDS.get(code[0])
    success, final, retry, pattern = _STATUS_PATTERNS.get(code[1:], (None, None, "unknown", ""))
    where = f"a status of {PHASE_LABELS[phase]}" if phase else "a status of a phase nobody documented"
    guess = f"{where}, and its last digits suggest {pattern}" if pattern else where
    return CodeInfo(
        code=code,
        type=STATUS,
        known=False,
        phase=phase,
        final=final,
        success=success,
        name_nl=None,
        meaning=(
            f"Status {code} is not in uwvcli's table of Digipoort codes. Going by its number it is "
            f"{guess}. This is a guess from the numbering, not documented."
        ),
        action=_UNKNOWN_ACTION,
        retry=retry,
        confidence="unknown",
        summary=f"not in uwvcli's table; by its number {guess}",
    )


def _infer_foutcode(code: str, prefix: str, number: int) -> CodeInfo:
    service, phase, final, what = _SERVICES.get(prefix, (None, None, None, ""))
    retry, hint = _FOUT_NUMBERS.get(number, ("unknown", ""))
    clues = [part for part in (what, hint and f"the number suggests {hint}") if part]
    guess = "; ".join(clues) if clues else "neither its prefix nor its number is documented"
    return CodeInfo(
        code=code,
        type=ERROR,
        known=False,
        phase=phase,
        final=final,
        success=False,
        name_nl=None,
        meaning=(
            f"Foutcode {code} is not in uwvcli's table of Digipoort codes. Going by its shape: {guess}. "
            "This is a guess, not documented."
        ),
        action=_UNKNOWN_ACTION,
        retry=retry,
        confidence="unknown",
        service=service,
        summary=f"not in uwvcli's table; {guess}",
    )


def _not_a_code(typed: str) -> CodeInfo:
    # Shown on a terminal: control and formatting characters must not reach it.
    echo = "".join("?" if unicodedata.category(char).startswith("C") else char for char in typed.strip())
    if len(echo) > _ECHO_LIMIT:
        echo = echo[: _ECHO_LIMIT - 1] + "…"
    what = f"{echo!r} is not a Digipoort code" if echo else "No code was given"
    return CodeInfo(
        code=echo,
        type=None,
        known=False,
        phase=None,
        final=None,
        success=None,
        name_nl=None,
        meaning=(
            f"{what}. Status codes are three digits (such as 311); foutcodes are three letters and "
            "three digits (such as ALS100 or VAS500)."
        ),
        action=(
            "Copy the statuscode or foutcode from the status overview (uwvcli status) or from the "
            "recap mail, and try again."
        ),
        retry="unknown",
        confidence="unknown",
        summary="not a Digipoort code",
    )
