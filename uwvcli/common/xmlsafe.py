"""One way to parse XML that comes from outside: Digipoort's answers, outbox files, UWV's
statusdetails, and the messages uwvcli checks before signing."""

from __future__ import annotations

from lxml import etree


def parser(*, keep_comments: bool = True) -> etree.XMLParser:
    """No entities, no DTD, no network, no huge trees: a document cannot make uwvcli read a file,
    fetch a URL or expand a billion laughs. `keep_comments=False` also drops comments and
    processing instructions, for reading what a document says; signatures and digests keep them,
    because the bytes they cover include them."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=not keep_comments,
        remove_pis=not keep_comments,
    )


def syntax_reason(error: etree.XMLSyntaxError) -> str:
    """What is wrong with a document that is not well-formed, without any of its content: lxml's
    own message quotes names and text from the document, and in a damaged message those may be a
    BSN or a name run together with a tag (`attribute x111222333`). Only libxml2's error type is
    told (`ERR_TAG_NAME_MISMATCH` → "tag name mismatch") and the line."""
    last = error.error_log.last_error if error.error_log else None
    kind = (last.type_name if last is not None else "") or "ERR_SYNTAX"
    reason = kind.removeprefix("ERR_").replace("_", " ").lower()
    return f"{reason} (line {error.lineno})" if error.lineno else reason
