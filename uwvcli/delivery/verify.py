"""Is this outbox file the journal's message? A valid signature only says that uwvcli signed the
file, not that it is the message the journal means: a file copied over another one is validly
signed too, and `send` would post the first message twice and the second never. So before a POST
the file's bytes must be the ones the journal recorded (their sha256) and the message inside must
carry the journal's aanleverkenmerk (`BerichtkenmerkIndiener`)."""

from __future__ import annotations

from lxml import etree

from uwvcli.common import xmlsafe
from uwvcli.state.outbox import sha256_hex

#: The element of the UWV message that carries uwvcli's own reference (messages.build._ketenpartij).
REFERENCE_ELEMENT = "BerichtkenmerkIndiener"


def message_reference(payload: bytes) -> str | None:
    """The aanleverkenmerk written inside a message (its `BerichtkenmerkIndiener`), or None."""
    try:
        root = etree.fromstring(payload, xmlsafe.parser(keep_comments=False))
    except etree.XMLSyntaxError:
        return None
    for element in root.iter("{*}" + REFERENCE_ELEMENT):
        return (element.text or "").strip()
    return None


def mismatch(signed: bytes, payload: bytes, *, sha256: str | None, aanleverkenmerk: str | None) -> str | None:
    """Why a validly signed outbox file is not the journal's message (None when it is): its bytes
    differ from what the journal recorded, or the message inside names another aanleverkenmerk."""
    inside = message_reference(payload)
    if aanleverkenmerk is not None and inside != aanleverkenmerk:
        named = f"names {inside}" if inside else "names no aanleverkenmerk"
        return f"it {named}, not {aanleverkenmerk} (a file of another message was put in its place)"
    if sha256 is not None and sha256_hex(signed) != sha256:
        return "its bytes differ from the file the journal recorded (it was replaced after signing)"
    return None
