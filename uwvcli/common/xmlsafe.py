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
