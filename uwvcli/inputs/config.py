"""Reading `uwvcli.yaml` (CONTRACT §2) into a `models.Config`, strictly.

YAML guesses types (`013` is the octal number 11, `no` is false, `2026-01-01` a date), and a typo in
a key would silently switch something off. So every key is known, every value has one type, and
every problem in the file is collected — with its key path, line and how to write it — before one
`ConfigError` is raised: the user fixes the file in one pass instead of one error per run.

Values that are well typed but wrong (a sector that does not exist, an IBAN that fails its check)
are deliberately *not* errors here: they block only the notifications that need them (RULES §7),
so one employer's typo does not stop the others. `uwvcli check` warns about them.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

from uwvcli.common.yamlsafe import SAFE_LOADER
from uwvcli.domain import blocking, keys
from uwvcli.domain.models import (
    Config,
    DeliverySettings,
    DigipoortSettings,
    Employer,
    Kind,
    MailSettings,
    OrgUnit,
    PathSettings,
    Sender,
)
from uwvcli.errors import ConfigError, ConfigProblem

ENVIRONMENTS = ("simulator", "custom", "preprod", "production")
SIGNATURE_ALGORITHMS = ("rsa-sha1", "rsa-sha256")
WITHDRAWAL_STYLES = ("indicator", "melding-intrekking")  # MESSAGES.md "Withdrawals and revisions"
ROLES = ("Bedrijf", "Intermediair")
EXPORT_SUFFIXES = (".csv", ".json")
KEY_BUNDLE_SUFFIXES = (".p12", ".pfx")

_TOP_KEYS = ("sender", "digipoort", "paths", "mail", "employers")
_SENDER_KEYS = (
    "name",
    "role",
    "contact_name",
    "contact_phone",
    "certificate",
    "private_key",
    "private_key_password_env",
)
_DIGIPOORT_KEYS = (
    "environment",
    "aanlever_url",
    "status_url",
    "ca_bundle",
    "service_certificate",
    "signature_algorithm",
    "berichtsoorten",
    "timeout_seconds",
    "delivery",
    "withdrawal_style",
)
_DELIVERY_SECONDS = (
    "clock_skew_seconds",
    "processing_margin_seconds",
    "settle_wait_seconds",
    "backoff_seconds",
    "backoff_cap_seconds",
    "request_deadline_seconds",
)
_DELIVERY_COUNTS = {"settle_checks": (1, 20), "retries": (0, 10), "overdue_after_days": (1, 365)}
_PATHS_KEYS = ("dossiers", "outbox", "state")
_MAIL_KEYS = ("smtp_host", "smtp_port", "from", "starttls", "username_env", "password_env")
_EMPLOYER_KEYS = ("id", "name", "uwv_interface", "notifications", "share_with_employee", "org_units")
_INTERFACE_KEYS = ("active", "start_date", "recap_email")
_ORG_UNIT_KEYS = (
    "id",
    "name",
    "parent",
    "legal_entity",
    "loonheffingennummer",
    "uwv_aansluitnummer",
    "uwv_sector",
    "uwv_risicocode",
    "iban",
)
_KINDS = tuple(kind.value for kind in Kind)


# ---------------------------------------------------------------- a YAML loader that keeps lines


class _Mapping(dict[Any, Any]):
    """A YAML mapping that remembers where each key stands and how each scalar was spelt, so a
    message can say "line 34" and "write it quoted: \"013\"" instead of "11 is not a string"."""

    def __init__(self, line: int):
        super().__init__()
        self.line = line
        self.key_lines: dict[Any, int] = {}
        self.spelling: dict[Any, str] = {}
        self.duplicates: list[tuple[Any, int]] = []


#: A configuration is a few lines per employer: a file beyond this is not one (and YAML costs
#: memory and time in proportion).
MAX_BYTES = 64 * 1024 * 1024
#: uwvcli's own keys nest six deep; anything much deeper is not a configuration.
MAX_DEPTH = 32
#: Every value an alias (`*name`) repeats counts again: this bounds what a few bytes of anchors
#: and aliases may expand to (a "billion laughs"), far above any real configuration's size.
MAX_EXPANDED_NODES = 5_000_000
#: Digits a YAML number may have; a longer one stays text (and is then reported as such).
MAX_DIGITS = 40


class _LineLoader(SAFE_LOADER):  # type: ignore[valid-type,misc]
    pass


class _Hostile(Exception):
    """A document that is not a configuration whatever its keys say (too deep, an alias bomb)."""


def _check_shape(root: yaml.Node) -> None:
    """Depth and expanded size of the node graph, iteratively (no recursion to exhaust) and
    with each shared node (an alias) counted once per use without being walked again."""
    sizes: dict[int, int] = {}
    stack: list[tuple[yaml.Node, int, bool]] = [(root, 1, False)]
    while stack:
        node, depth, children_done = stack.pop()
        if depth > MAX_DEPTH:
            raise _Hostile(
                f"nested more than {MAX_DEPTH} levels deep (line {node.start_mark.line + 1}): "
                "not a uwvcli configuration"
            )
        children = _children(node)
        if id(node) in sizes:
            continue
        if children_done or not children:
            total = 1 + sum(sizes[id(child)] for child in children)
            if total > MAX_EXPANDED_NODES:
                raise _Hostile(
                    f"its aliases (*name) expand to more than {MAX_EXPANDED_NODES:,} values "
                    f"(line {node.start_mark.line + 1}): write the values out, or use fewer aliases"
                )
            sizes[id(node)] = total
            continue
        stack.append((node, depth, True))
        stack.extend((child, depth + 1, False) for child in children if id(child) not in sizes)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> Iterable[_Mapping]:
    loader.flatten_mapping(node)
    data = _Mapping(node.start_mark.line + 1)
    yield data
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode):  # a list or mapping as a key: never uwvcli's
            key: Any = f"<a {'list' if isinstance(key_node, yaml.SequenceNode) else 'mapping'}>"
        else:
            key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str | int | float | bool | date | None):
            key = str(key)
        line = key_node.start_mark.line + 1
        if key in data:
            data.duplicates.append((key, line))
        data[key] = loader.construct_object(value_node, deep=True)
        data.key_lines[key] = line
        if isinstance(value_node, yaml.ScalarNode):
            data.spelling[key] = value_node.value


def _construct_timestamp(loader: _LineLoader, node: yaml.ScalarNode) -> object:
    """A date-like scalar that is no real date (2026-13-01) stays text, so it is reported with its
    key path instead of crashing the parser."""
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError:
        return str(node.value)


def _construct_int(loader: _LineLoader, node: yaml.ScalarNode) -> object:
    """A number of more than MAX_DIGITS digits stays text: Python refuses to read 5,000 digits
    (and no key of uwvcli wants them)."""
    if sum(c.isdigit() for c in str(node.value)) > MAX_DIGITS:
        return str(node.value)
    return yaml.SafeLoader.construct_yaml_int(loader, node)


_LineLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
_LineLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)
_LineLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)


def _parse(text: str) -> object:
    """The YAML document, refused (`_Hostile`) before it is built when its shape is hostile
    (an alias bomb, too deep: a deeper one than Python can build ends as `RecursionError`).
    Loading stays linear in the number of employers only while Python's cycle collector is off,
    as the command line has it (`common/memory.py`): it would rescan every object built so far."""
    loader = _LineLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if "&" in text:  # without an anchor there is no alias, and libyaml bounds the depth
            _check_shape(node)
        return loader.construct_document(node)
    except RecursionError:
        raise _Hostile("nested too deeply: not a uwvcli configuration") from None
    finally:
        loader.dispose()


# ---------------------------------------------------------------- validation


class _Reader:
    """Walks the parsed YAML, converts what it can and records every problem with its key path."""

    def __init__(self, folder: Path):
        self.folder = folder
        self._found: list[tuple[int, ConfigProblem]] = []

    def problem(self, path: str, message: str, line: int | None = None) -> None:
        self._found.append((line or 0, ConfigProblem(path, f"{message} (line {line})" if line else message)))

    @property
    def problems(self) -> list[ConfigProblem]:
        """In the order of the file, so the list reads top to bottom like the YAML."""
        return [problem for _, problem in sorted(self._found, key=lambda found: found[0])]

    # -- structure

    def section(self, parent: _Mapping, key: str, path: str, *, required: bool = True) -> _Mapping | None:
        value = parent.get(key)
        if value is None:
            if required:
                self.problem(path, f"missing: add the `{key}:` section", parent.line)
            return None
        if not isinstance(value, _Mapping):
            self.problem(
                path, "must be a mapping of `key: value` lines (indented below it)", self.line(parent, key)
            )
            return None
        return value

    def keys(
        self, mapping: _Mapping, path: str, known: tuple[str, ...], required: tuple[str, ...] = ()
    ) -> None:
        prefix = f"{path}." if path else ""
        for key in mapping:
            if key not in known:
                self.problem(f"{prefix}{key}", _unknown_key_hint(key, known), mapping.key_lines.get(key))
        for key, line in mapping.duplicates:
            self.problem(f"{prefix}{key}", "written twice in the same section: keep one", line)
        for key in required:
            if mapping.get(key) in (None, ""):
                self.problem(f"{prefix}{key}", "missing: this key is required", mapping.line)

    @staticmethod
    def line(mapping: _Mapping, key: str) -> int:
        return mapping.key_lines.get(key, mapping.line)

    def items(self, parent: _Mapping, key: str, path: str) -> list[tuple[str, _Mapping]]:
        """The mappings of a list section, each with its key path (`employers[2]`)."""
        value = parent.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.problem(path, "must be a list (each item starts with `- `)", self.line(parent, key))
            return []
        result = []
        for index, item in enumerate(value):
            item_path = f"{path}[{index}]"
            if isinstance(item, _Mapping):
                result.append((item_path, item))
            else:
                self.problem(item_path, "must be a mapping of `key: value` lines", self.line(parent, key))
        return result

    # -- scalars

    def text(self, mapping: _Mapping, key: str, path: str) -> str | None:
        """A string. YAML's guesses (numbers, booleans, dates) are refused with the quoted form."""
        value = mapping.get(key)
        if value is None:
            return None
        if isinstance(value, str):
            return value.strip() or None
        spelling = mapping.spelling.get(key)
        line = self.line(mapping, key)
        if isinstance(value, bool):
            self.problem(path, f'YAML reads this as a yes/no value; write it quoted: "{spelling}"', line)
        elif isinstance(value, int | float) and spelling is not None:
            if spelling.strip().lstrip("+-").startswith("0") and str(value) != spelling.strip():
                read_as = f"YAML reads a leading 0 as octal: this is the number {value}"
            else:
                read_as = "YAML reads this as a number"
            self.problem(path, f'must be text; {read_as}; write it quoted: "{spelling}"', line)
        elif isinstance(value, date | datetime) and spelling is not None:
            self.problem(
                path, f'must be text; YAML reads this as a date; write it quoted: "{spelling}"', line
            )
        else:
            self.problem(path, "must be a single text value, not a list or mapping", line)
        return None

    def flag(self, mapping: _Mapping, key: str, path: str, default: bool) -> bool:
        value = mapping.get(key)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        self.problem(
            path,
            f"must be true or false (unquoted), not {mapping.spelling.get(key, 'a list or mapping')!r}",
            self.line(mapping, key),
        )
        return default

    def day(self, mapping: _Mapping, key: str, path: str) -> date | None:
        value = mapping.get(key)
        if value is None:
            return None
        if isinstance(value, datetime):
            value = value.date()
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value.strip())
            except ValueError:
                pass
        self.problem(
            path, "must be a date written YYYY-MM-DD (e.g. 2026-01-01) that exists", self.line(mapping, key)
        )
        return None

    def integer(self, mapping: _Mapping, key: str, path: str, low: int, high: int) -> int | None:
        value = mapping.get(key)
        if value is None:
            return None
        if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high:
            return value
        self.problem(path, f"must be a whole number from {low} to {high}, unquoted", self.line(mapping, key))
        return None

    def seconds(self, mapping: _Mapping, key: str, path: str) -> float | None:
        value = mapping.get(key)
        if value is None:
            return None
        if isinstance(value, int | float) and not isinstance(value, bool) and 0 < value <= 3600:
            return float(value)
        self.problem(
            path, "must be a number of seconds above 0 (at most 3600), unquoted", self.line(mapping, key)
        )
        return None

    def choice(self, mapping: _Mapping, key: str, path: str, options: tuple[str, ...]) -> str | None:
        value = self.text(mapping, key, path)
        if value is None or value in options:
            return value
        self.problem(path, f"{value!r} is not one of: {', '.join(options)}", self.line(mapping, key))
        return None

    def location(self, mapping: _Mapping, key: str, path: str) -> Path | None:
        """A path; relative ones are relative to the configuration file's folder."""
        value = self.text(mapping, key, path)
        if value is None:
            return None
        return self.resolve(value, path, self.line(mapping, key))

    def resolve(self, value: str, path: str, line: int) -> Path | None:
        """`value` as an absolute path (`~` and `~user` expanded), or None and a problem when it
        cannot be one (an unknown user, a NUL character, a name the system refuses)."""
        if "\0" in value:
            self.problem(path, "contains a NUL character: write the path as plain text", line)
            return None
        try:
            return (self.folder / Path(value).expanduser()).resolve()
        except RuntimeError:
            self.problem(path, "starts with ~ but names no user of this system: write the full path", line)
        except (OSError, ValueError) as error:
            reason = getattr(error, "strerror", None) or "not a usable path"
            self.problem(path, f"cannot be used as a path ({reason}): write the full path", line)
        return None

    def env_name(self, mapping: _Mapping, key: str, path: str) -> str | None:
        value = self.text(mapping, key, path)
        if value is not None and not (value.replace("_", "a").isalnum() and not value[0].isdigit()):
            self.problem(
                path,
                "must be the *name* of an environment variable (letters, digits, _), never the secret itself",
                self.line(mapping, key),
            )
            return None
        return value

    def url(self, mapping: _Mapping, key: str, path: str) -> str | None:
        value = self.text(mapping, key, path)
        if value is not None and not value.startswith("https://"):
            self.problem(
                path,
                "must be an https:// address (uwvcli never talks to Digipoort unencrypted)",
                self.line(mapping, key),
            )
            return None
        return value


def _unknown_key_hint(key: object, known: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
    if close:
        return f"unknown key: did you mean `{close[0]}`?"
    return f"unknown key: the keys allowed here are {', '.join(known)}"


# ---------------------------------------------------------------- sections


def _sender(reader: _Reader, root: _Mapping, environment: str | None) -> Sender | None:
    section = reader.section(root, "sender", "sender")
    if section is None:
        return None
    reader.keys(section, "sender", _SENDER_KEYS, ("name", "role"))
    certificate = reader.location(section, "certificate", "sender.certificate")
    private_key = reader.location(section, "private_key", "sender.private_key")
    bundle = private_key is not None and private_key.suffix.lower() in KEY_BUNDLE_SUFFIXES
    key_absent = section.get("private_key") in (None, "")
    certificate_absent = section.get("certificate") in (None, "")
    if environment and environment != "simulator":
        if key_absent:
            reader.problem(
                "sender.private_key",
                f"missing: environment {environment} needs the sender's key (PEM, or a .p12/.pfx bundle)",
                section.line,
            )
        if certificate_absent and not bundle:
            reader.problem(
                "sender.certificate",
                f"missing: environment {environment} needs the sender's PKIoverheid certificate (PEM)",
                section.line,
            )
    elif certificate_absent != key_absent and not bundle:
        missing = "private_key" if key_absent else "certificate"
        reader.problem(f"sender.{missing}", "give both certificate and private_key, or neither", section.line)
    return Sender(
        name=reader.text(section, "name", "sender.name") or "",
        role=reader.choice(section, "role", "sender.role", ROLES) or "",
        contact_name=reader.text(section, "contact_name", "sender.contact_name"),
        contact_phone=reader.text(section, "contact_phone", "sender.contact_phone"),
        certificate=certificate,
        private_key=private_key,
        private_key_password_env=reader.env_name(
            section, "private_key_password_env", "sender.private_key_password_env"
        ),
    )


def _digipoort(reader: _Reader, root: _Mapping) -> DigipoortSettings | None:
    section = reader.section(root, "digipoort", "digipoort")
    if section is None:
        return None
    reader.keys(section, "digipoort", _DIGIPOORT_KEYS, ("environment",))
    environment = reader.choice(section, "environment", "digipoort.environment", ENVIRONMENTS)
    aanlever_url = reader.url(section, "aanlever_url", "digipoort.aanlever_url")
    status_url = reader.url(section, "status_url", "digipoort.status_url")
    if environment == "custom":
        for key, value in (("aanlever_url", aanlever_url), ("status_url", status_url)):
            if value is None and key not in section:
                reader.problem(
                    f"digipoort.{key}", "missing: environment custom needs both URLs", section.line
                )
    algorithm = reader.choice(
        section, "signature_algorithm", "digipoort.signature_algorithm", SIGNATURE_ALGORITHMS
    )
    return DigipoortSettings(
        environment=environment or "",
        aanlever_url=aanlever_url,
        status_url=status_url,
        ca_bundle=reader.location(section, "ca_bundle", "digipoort.ca_bundle"),
        service_certificate=reader.location(section, "service_certificate", "digipoort.service_certificate"),
        signature_algorithm=algorithm or "rsa-sha1",
        berichtsoorten=_berichtsoorten(reader, section),
        timeout_seconds=reader.seconds(section, "timeout_seconds", "digipoort.timeout_seconds") or 30.0,
        delivery=_delivery(reader, section),
        withdrawal_style=reader.choice(
            section, "withdrawal_style", "digipoort.withdrawal_style", WITHDRAWAL_STYLES
        )
        or "indicator",
    )


def _delivery(reader: _Reader, digipoort: _Mapping) -> DeliverySettings:
    """`digipoort.delivery:`: every key optional, each absent one keeps its documented default."""
    section = reader.section(digipoort, "delivery", "digipoort.delivery", required=False)
    if section is None:
        return DeliverySettings()
    reader.keys(section, "digipoort.delivery", (*_DELIVERY_SECONDS, *_DELIVERY_COUNTS))
    values: dict[str, Any] = {}
    for key in _DELIVERY_SECONDS:
        value = reader.seconds(section, key, f"digipoort.delivery.{key}")
        if value is not None:
            values[key] = value
    for key, (low, high) in _DELIVERY_COUNTS.items():
        count = reader.integer(section, key, f"digipoort.delivery.{key}", low, high)
        if count is not None:
            values[key] = float(count) if key == "overdue_after_days" else count
    return DeliverySettings(**values)


def _berichtsoorten(reader: _Reader, digipoort: _Mapping) -> dict[Kind, str]:
    section = reader.section(digipoort, "berichtsoorten", "digipoort.berichtsoorten", required=False)
    if section is None:
        return {}
    reader.keys(section, "digipoort.berichtsoorten", _KINDS)
    result = {}
    for key in section:
        if key in _KINDS:
            value = reader.text(section, key, f"digipoort.berichtsoorten.{key}")
            if value is not None:
                result[Kind(key)] = value
    return result


def _paths(reader: _Reader, root: _Mapping) -> PathSettings | None:
    section = reader.section(root, "paths", "paths")
    if section is None:
        return None
    reader.keys(section, "paths", _PATHS_KEYS, ("dossiers", "outbox", "state"))
    exports: list[Path] = []
    raw = section.get("dossiers")
    entries = [raw] if isinstance(raw, str) else raw
    if isinstance(entries, list):
        for index, entry in enumerate(entries):
            path = f"paths.dossiers[{index}]"
            if not isinstance(entry, str) or not entry.strip():
                reader.problem(path, "must be a file name (text)", reader.line(section, "dossiers"))
                continue
            if Path(entry).suffix.lower() not in EXPORT_SUFFIXES:
                reader.problem(
                    path, "an export must be a .csv or .json file", reader.line(section, "dossiers")
                )
                continue
            resolved = reader.resolve(entry.strip(), path, reader.line(section, "dossiers"))
            if resolved is not None:
                exports.append(resolved)
        if not entries:
            reader.problem(
                "paths.dossiers", "lists no export: name at least one .csv or .json file", section.line
            )
    elif raw is not None:
        reader.problem(
            "paths.dossiers",
            "must be a list of export files, e.g. [exports/dossiers.csv]",
            reader.line(section, "dossiers"),
        )
    return PathSettings(
        dossiers=tuple(exports),
        outbox=reader.location(section, "outbox", "paths.outbox") or reader.folder,
        state=reader.location(section, "state", "paths.state") or reader.folder,
    )


def _mail(reader: _Reader, root: _Mapping) -> MailSettings | None:
    section = reader.section(root, "mail", "mail", required=False)
    if section is None:
        return None
    reader.keys(section, "mail", _MAIL_KEYS, ("smtp_host",))
    sender = reader.text(section, "from", "mail.from")
    if sender is not None and "@" not in sender:
        reader.problem("mail.from", "must be an e-mail address", reader.line(section, "from"))
    return MailSettings(
        smtp_host=reader.text(section, "smtp_host", "mail.smtp_host") or "",
        smtp_port=reader.integer(section, "smtp_port", "mail.smtp_port", 1, 65535) or 25,
        from_address=sender or "uwvcli@localhost",
        starttls=reader.flag(section, "starttls", "mail.starttls", False),
        username_env=reader.env_name(section, "username_env", "mail.username_env"),
        password_env=reader.env_name(section, "password_env", "mail.password_env"),
    )


def _employers(reader: _Reader, root: _Mapping) -> dict[str, Employer]:
    if root.get("employers") is None:
        reader.problem("employers", "missing: add the `employers:` list (it may be empty: `employers: []`)")
        return {}
    employers: dict[str, Employer] = {}
    first_path: dict[str, str] = {}
    lines: dict[str, int] = {}
    for path, item in reader.items(root, "employers", "employers"):
        employer = _employer(reader, item, path)
        if employer is None:
            continue
        if employer.id in employers:
            reader.problem(
                f"{path}.id",
                f"employer id {employer.id!r} is already used by {first_path[employer.id]}: "
                "ids must be unique",
                reader.line(item, "id"),
            )
            continue
        employers[employer.id] = employer
        first_path[employer.id] = path
        lines[employer.id] = reader.line(item, "id")
    for employer_id in employers:
        problem = keys.employer_id_problem(employer_id, employers)
        if problem is not None:
            reader.problem(
                f"{first_path[employer_id]}.id", f"employer id {employer_id!r} {problem}", lines[employer_id]
            )
    return employers


def _employer(reader: _Reader, item: _Mapping, path: str) -> Employer | None:
    reader.keys(item, path, _EMPLOYER_KEYS, ("id", "name", "uwv_interface"))
    employer_id = reader.text(item, "id", f"{path}.id")
    name = reader.text(item, "name", f"{path}.name")
    interface = reader.section(item, "uwv_interface", f"{path}.uwv_interface", required=False)
    active, start_date, recap_email = False, None, None
    if interface is not None:
        interface_path = f"{path}.uwv_interface"
        reader.keys(interface, interface_path, _INTERFACE_KEYS, ("active",))
        active = reader.flag(interface, "active", f"{interface_path}.active", False)
        start_date = reader.day(interface, "start_date", f"{interface_path}.start_date")
        if active and start_date is None and interface.get("start_date") is None:
            reader.problem(
                f"{interface_path}.start_date",
                "missing: an active employer needs the date from which uwvcli is responsible",
                interface.line,
            )
        recap_email = reader.text(interface, "recap_email", f"{interface_path}.recap_email")
        if recap_email is not None and "@" not in recap_email:
            reader.problem(
                f"{interface_path}.recap_email",
                "must be an e-mail address",
                reader.line(interface, "recap_email"),
            )
    notifications = _per_kind(reader, item, "notifications", f"{path}.notifications", True)
    shared = _per_kind(reader, item, "share_with_employee", f"{path}.share_with_employee", False)
    units = _org_units(reader, item, f"{path}.org_units")
    if employer_id is None or name is None:
        return None
    return Employer(
        id=employer_id,
        name=name,
        active=active,
        start_date=start_date,
        recap_email=recap_email,
        notifications=notifications,
        org_units=units,
        share_with_employee=shared,
    )


def _per_kind(reader: _Reader, employer: _Mapping, name: str, path: str, default: bool) -> dict[Kind, bool]:
    """A yes/no per notification kind (`notifications:`, `share_with_employee:`): every kind
    present, an absent one `default`; an unknown kind or a non-boolean is a problem at its path."""
    enabled = dict.fromkeys(Kind, default)
    section = reader.section(employer, name, path, required=False)
    if section is None:
        return enabled
    reader.keys(section, path, _KINDS)
    for key in section:
        if key in _KINDS:
            enabled[Kind(key)] = reader.flag(section, key, f"{path}.{key}", default)
    return enabled


def _org_units(reader: _Reader, employer: _Mapping, path: str) -> dict[str, OrgUnit]:
    if employer.get("org_units") is None:
        reader.problem(
            path, "missing: list the employer's org units (at least the legal entity)", employer.line
        )
        return {}
    units: dict[str, OrgUnit] = {}
    paths: dict[str, str] = {}
    lines: dict[str, int] = {}
    for unit_path, item in reader.items(employer, "org_units", path):
        reader.keys(item, unit_path, _ORG_UNIT_KEYS, ("id", "name"))
        unit_id = reader.text(item, "id", f"{unit_path}.id")
        unit = OrgUnit(
            id=unit_id or "",
            name=reader.text(item, "name", f"{unit_path}.name") or "",
            parent=reader.text(item, "parent", f"{unit_path}.parent"),
            legal_entity=reader.flag(item, "legal_entity", f"{unit_path}.legal_entity", False),
            loonheffingennummer=reader.text(item, "loonheffingennummer", f"{unit_path}.loonheffingennummer"),
            uwv_aansluitnummer=reader.text(item, "uwv_aansluitnummer", f"{unit_path}.uwv_aansluitnummer"),
            uwv_sector=reader.text(item, "uwv_sector", f"{unit_path}.uwv_sector"),
            uwv_risicocode=reader.text(item, "uwv_risicocode", f"{unit_path}.uwv_risicocode"),
            iban=reader.text(item, "iban", f"{unit_path}.iban"),
        )
        if unit_id is None:
            continue
        if unit_id in units:
            reader.problem(
                f"{unit_path}.id",
                f"org unit id {unit_id!r} is already used by {paths[unit_id]}: "
                "ids must be unique within an employer",
                reader.line(item, "id"),
            )
            continue
        units[unit_id] = unit
        paths[unit_id] = unit_path
        lines[unit_id] = reader.line(item, "parent")
    _check_parents(reader, units, paths, lines)
    return units


def _check_parents(
    reader: _Reader, units: Mapping[str, OrgUnit], paths: Mapping[str, str], lines: Mapping[str, int]
) -> None:
    """Every parent exists and no chain of parents comes back to where it started."""
    in_cycle: set[str] = set()
    for unit in units.values():
        if unit.parent is not None and unit.parent not in units:
            reader.problem(
                f"{paths[unit.id]}.parent",
                f"no org unit {unit.parent!r} in this employer: "
                "use the id of one of its org units, or remove `parent`",
                lines[unit.id],
            )
            continue
        chain = [unit.id]
        current = unit
        while current.parent is not None and current.parent in units:
            if current.parent in chain:
                cycle = chain[chain.index(current.parent) :]
                if not in_cycle.intersection(cycle):
                    in_cycle.update(cycle)
                    reader.problem(
                        f"{paths[cycle[0]]}.parent",
                        f"the parents form a cycle ({' → '.join([*cycle, cycle[0]])}): "
                        "one of these units must be the top (no `parent`)",
                        lines[cycle[0]],
                    )
                break
            chain.append(current.parent)
            current = units[current.parent]


# ---------------------------------------------------------------- entry point


def load_config(path: Path) -> Config:
    """Read and validate the configuration file; raises `ConfigError` listing every problem."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            source,
            [
                ConfigProblem(
                    "",
                    "file not found: pass --config PATH or set UWVCLI_CONFIG "
                    "(config.example.yaml shows every key)",
                )
            ],
        ) from None
    except UnicodeDecodeError:
        raise ConfigError(source, [ConfigProblem("", "not UTF-8 text: save the file as UTF-8")]) from None
    except OSError as error:
        raise ConfigError(source, [ConfigProblem("", f"cannot be read ({error.strerror})")]) from None
    if len(text) > MAX_BYTES:
        raise ConfigError(
            source,
            [ConfigProblem("", f"is larger than {MAX_BYTES // 2**20} MB: not a uwvcli configuration")],
        )
    try:
        root = _parse(text)  # _LineLoader is a SafeLoader
    except _Hostile as error:
        raise ConfigError(source, [ConfigProblem("", f"cannot be read: {error}")]) from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise ConfigError(
            source,
            [
                ConfigProblem(
                    "",
                    f"not valid YAML: {where}{error.problem or error.context}; "
                    "check the indentation and quoting there",
                )
            ],
        ) from None
    except yaml.YAMLError as error:
        raise ConfigError(source, [ConfigProblem("", f"not valid YAML: {error}")]) from None
    if root is None:
        raise ConfigError(
            source, [ConfigProblem("", "the file is empty: config.example.yaml shows every key")]
        )
    if not isinstance(root, _Mapping):
        raise ConfigError(
            source,
            [ConfigProblem("", "must be a YAML mapping with sender, digipoort, paths, employers at the top")],
        )
    folder = Path(os.path.abspath(Path(path).parent))
    reader = _Reader(folder)
    reader.keys(root, "", _TOP_KEYS)
    digipoort = _digipoort(reader, root)
    sender = _sender(reader, root, digipoort.environment if digipoort else None)
    paths = _paths(reader, root)
    mail = _mail(reader, root)
    employers = _employers(reader, root)
    if reader.problems or sender is None or digipoort is None or paths is None:
        raise ConfigError(source, reader.problems)
    return Config(
        source=folder / Path(path).name,
        sender=sender,
        digipoort=digipoort,
        paths=paths,
        mail=mail,
        employers=employers,
    )


# ---------------------------------------------------------------- values that will block notifications


def blocking_values(config: Config) -> list[ConfigProblem]:
    """Well-typed values of active employers that will block their notifications (RULES §7):
    not configuration errors (the other employers go on), but `uwvcli check` warns about them,
    in the words of the rules (`domain.blocking`, the one place that decides it). Messages name
    the key path, never the value (an IBAN may be a person's)."""
    warnings: list[ConfigProblem] = []
    for index, employer in enumerate(config.employers.values()):
        if not employer.active:
            continue
        units = list(employer.org_units.values())
        for unit_index, unit in enumerate(units):
            path = f"employers[{index}].org_units[{unit_index}]"
            if unit.legal_entity:
                warnings.extend(
                    ConfigProblem(f"{path}.{key}", f"{problem} ({_BLOCKS.get(key, _BLOCKS[None])})")
                    for key, problem in blocking.legal_entity_problems(employer, unit)
                )
            elif employer.legal_entity_for(unit.id) is None:
                problem = blocking.no_legal_entity(employer, unit.id)
                warnings.append(ConfigProblem(path, f"{problem} ({_BLOCKS[None]})"))
    return warnings


_BLOCKS = {
    None: "until then the notifications of its employees are blocked",
    "iban": "until then its employees' "
    + ", ".join(str(kind) for kind in Kind if kind in blocking.CARRIES_IBAN)
    + " notifications are blocked",
}
