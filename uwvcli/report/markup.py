"""A minimal, escape-by-default way to build HTML: `el("td", {"class": "x"}, text)`.

Every `str` that goes in — text or attribute value — is escaped with `html.escape`; only
`Markup` (what `el` itself returns, or a constant of this package) passes unchanged. So a hostile
employer name or dossier id from the configuration or an export cannot open a tag or a script,
and there is no template string in which escaping could be forgotten."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping

_NAME = re.compile(r"[a-zA-Z][a-zA-Z0-9-]*")  # tag and attribute names: ours, never input
_VOID = frozenset({"meta", "br", "hr", "input", "col"})


class Markup(str):
    """HTML that is already safe: built by `el`, or a constant written by hand."""

    __slots__ = ()


def escape(value: object) -> Markup:
    return value if isinstance(value, Markup) else Markup(html.escape(str(value), quote=True))


def join(children: Iterable[object]) -> Markup:
    """Children in order; None is nothing, nested iterables are flattened, the rest escaped."""
    parts: list[str] = []
    for child in children:
        if child is None or child is False:
            continue
        if isinstance(child, str | int):
            parts.append(escape(child))
        else:
            parts.append(join(child))  # type: ignore[arg-type]
    return Markup("".join(parts))


def el(tag: str, attrs: Mapping[str, object | None] | None = None, *children: object) -> Markup:
    """`<tag attr="…">children</tag>`. An attribute whose value is None or False is left out;
    True writes it bare (`hidden`)."""
    if not _NAME.fullmatch(tag):
        raise ValueError(f"not a tag name: {tag!r}")
    rendered = []
    for name, value in (attrs or {}).items():
        if not _NAME.fullmatch(name.replace("_", "-")):
            raise ValueError(f"not an attribute name: {name!r}")
        if value is None or value is False:
            continue
        attr = name.replace("_", "-")
        rendered.append(f" {attr}" if value is True else f' {attr}="{escape(value)}"')
    opening = f"<{tag}{''.join(rendered)}>"
    if tag in _VOID:
        return Markup(opening)
    return Markup(f"{opening}{join(children)}</{tag}>")
