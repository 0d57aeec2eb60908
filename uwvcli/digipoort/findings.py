"""What a Digipoort status's `statusdetails` says, as short lines that are safe to show.

When Digipoort or UWV rejects a message (311 with VAS500, 510 from the receiver), what is wrong
is in `statusdetails`, not in the foutbeschrijving ("Het bericht voldoet niet aan de
validatieregels."). Payroll staff must correct the report by the next day, so the recap, `explain
--kenmerk` and `status` show these findings.

Two shapes arrive:

- a business acknowledgement, an XML `Responsemessage` (Identification, then one `Specification`
  {Class, Code, Description} per finding): one line per Specification, `Code: Description`, with
  `(Class X)` added when the class is not the acknowledgement class `A`. The Identification block
  (message ids, receipt time) is left out: it says nothing about what to correct. A
  Responsemessage without findings gives no lines;
- anything else is plain text (the simulator's own findings, one per line): its non-empty lines.

Safe to show means the project's privacy rule holds (BSNs, names and birth dates never in output,
logs or mails): UWV's text may quote a value from the message, so every run of digits that holds
8 or more digits in a row (a BSN, a date written `YYYYMMDD`) or a date (`YYYY-MM-DD`,
`DD-MM-YYYY`, with `-`, `/` or `.`) is replaced by `[…]`. Nothing is lost for the reader: the
finding still names the field, and the value is in the HR system. Control characters are masked,
there are at most `MAX_LINES` lines of at most `MAX_CHARS` characters each, and the input never
makes this module raise: a display helper must not break a recap.
"""

from __future__ import annotations

from lxml import etree

from uwvcli.common import xmlsafe
from uwvcli.common.privacy import redact

MAX_LINES = 10
MAX_CHARS = 300
MORE = "… and {n} more"  # the last line when findings were cut; `{n}` is how many
ACKNOWLEDGEMENT_CLASS = "A"  # Responsemessage Class of "accepted": not worth repeating

#: Elements of a Responsemessage that each hold one finding (local names, lower case).
_FINDING_ELEMENTS = frozenset({"specification", "finding", "bevinding", "error", "fout"})
_CODE_ELEMENTS = ("code", "foutcode", "errorcode")
_DESCRIPTION_ELEMENTS = ("description", "omschrijving", "foutomschrijving", "foutbeschrijving", "message")
_SKIPPED_ELEMENTS = frozenset({"identification"})


def findings(details: str | None, *, more: str = MORE) -> list[str]:
    """The findings in `details` (a status's `statusdetails`), redacted and cut to size; an
    empty list when there is nothing to show. `more` words the last line when lines were cut
    (`{n}`: how many), so the Dutch recap can say it in Dutch."""
    if not details or not details.strip():
        return []
    raw = _from_xml(details)
    if raw is None:
        raw = details.splitlines()
    lines = [line for line in (safe_line(text) for text in raw) if line]
    if len(lines) <= MAX_LINES:
        return lines
    kept = MAX_LINES - 1
    return [*lines[:kept], more.format(n=len(lines) - kept)]


def safe_line(text: str) -> str:
    """One line fit to show: control characters masked, whitespace collapsed, personal-looking
    numbers and dates redacted, at most `MAX_CHARS` characters."""
    line = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    line = redact(line)
    return line if len(line) <= MAX_CHARS else line[: MAX_CHARS - 1].rstrip() + "…"


# ---------------------------------------------------------------- XML


def _from_xml(details: str) -> list[str] | None:
    """The lines of an XML document, or None when `details` is not one (then it is plain text)."""
    if not details.lstrip().startswith("<"):
        return None
    root = _parse(details)
    if root is None:
        return None
    found = [element for element in root.iter(etree.Element) if _local(element) in _FINDING_ELEMENTS]
    if found:
        return [_finding_line(element) for element in found]
    return _text_lines(root)


def _parse(details: str) -> etree._Element | None:
    """lxml without entities, network, DTD or huge trees: the text comes from outside."""
    parser = xmlsafe.parser(keep_comments=False)
    try:
        return etree.fromstring(details.encode("utf-8", "replace"), parser)
    except (etree.LxmlError, ValueError):
        return None


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname.lower()


def _finding_line(element: etree._Element) -> str:
    """`Code: Description`, plus `(Class X)` unless it is the acknowledgement class."""
    code = _child_text(element, _CODE_ELEMENTS)
    description = _child_text(element, _DESCRIPTION_ELEMENTS)
    klass = _child_text(element, ("class", "klasse"))
    line = ": ".join(part for part in (code, description) if part)
    if not line:
        line = " ".join(" ".join(element.itertext()).split())
    if klass and klass.upper() != ACKNOWLEDGEMENT_CLASS:
        line = f"{line} (Class {klass})"
    return line


def _child_text(element: etree._Element, names: tuple[str, ...]) -> str:
    for child in element.iterchildren(etree.Element):
        if _local(child) in names:
            return " ".join(" ".join(child.itertext()).split())
    return ""


def _text_lines(root: etree._Element) -> list[str]:
    """A document without finding elements: its text, outside the Identification block."""
    if _local(root) in _SKIPPED_ELEMENTS:
        return []
    lines = (root.text or "").splitlines()
    for child in root.iterchildren(etree.Element):
        lines += _text_lines(child)
        lines += (child.tail or "").splitlines()
    return lines
