"""The layout is a promise: a module's folder says what it may import (the rule is in each folder's
`__init__.py`), and no two modules import each other, directly or round a circle. Checked on the
source with `ast`, imports inside functions and under TYPE_CHECKING included, so a shortcut taken
"just for now" fails here rather than in a newcomer's head."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import uwvcli

PACKAGE = Path(uwvcli.__file__).parent
EVERYWHERE = {"uwvcli", "uwvcli.errors"}  # the version and the exceptions with their exit codes

#: Which folders (first-level packages) each folder may import besides itself.
MAY_IMPORT: dict[str, set[str]] = {
    "domain": set(),
    "common": set(),
    "inputs": {"domain", "common"},
    "messages": {"domain", "common"},
    "state": {"domain", "common"},
    "digipoort": {"domain", "common"},
    "delivery": {"digipoort", "state", "messages", "domain", "common"},
    "simulator": {"digipoort", "messages", "domain", "common"},
    "recap": {"digipoort", "state", "domain", "common"},
    "report": {"recap", "digipoort", "domain", "common"},
    "app": {
        "inputs",
        "messages",
        "state",
        "delivery",
        "digipoort",
        "simulator",
        "recap",
        "report",
        "domain",
        "common",
    },
    "cli": {
        "app",
        "inputs",
        "messages",
        "state",
        "delivery",
        "digipoort",
        "simulator",
        "recap",
        "report",
        "domain",
    }
    | {"common"},
}

#: Known violations another change of issue 10 removes (the gc pause leaves the domain); an entry
#: here that no longer occurs fails the test, so the list cannot go stale.
PENDING: set[tuple[str, str]] = set()

#: What `recap/` may use of `digipoort/`: the meaning of codes and findings, never the transport.
RECAP_FROM_DIGIPOORT = {"uwvcli.digipoort.codes", "uwvcli.digipoort.findings"}

#: Standard-library and third-party modules that do I/O or read the clock: never in `domain/`.
IO_MODULES = {"sqlite3", "socket", "ssl", "requests", "smtplib", "subprocess", "http", "urllib", "os", "gc"}
IO_MODULES |= {"shutil", "tempfile", "threading", "multiprocessing", "logging", "time", "lxml"}


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


MODULES = modules()


def imported_names(name: str, path: Path) -> Iterator[tuple[str, int]]:
    """Every absolute module name `name` imports (relative imports resolved), with its line."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            yield module, node.lineno
            for alias in node.names:  # `from uwvcli.app import run` imports the module uwvcli.app.run
                if f"{module}.{alias.name}" in MODULES:
                    yield f"{module}.{alias.name}", node.lineno


def own_module(name: str) -> str | None:
    """The uwvcli module an import refers to (a name inside it counts as the module)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


@cache
def graph() -> dict[str, dict[str, int]]:
    """module -> {imported uwvcli module: line}; a package's `__init__` that only has its docstring
    is imported implicitly by its submodules and not counted."""
    edges: dict[str, dict[str, int]] = {}
    for name, path in MODULES.items():
        targets: dict[str, int] = {}
        for imported, line in imported_names(name, path):
            if not imported.startswith("uwvcli"):
                continue
            target = own_module(imported)
            if target and target != name and not _only_a_docstring(target):
                targets.setdefault(target, line)
        edges[name] = targets
    return edges


@cache
def _only_a_docstring(name: str) -> bool:
    body = ast.parse(MODULES[name].read_text(encoding="utf-8")).body
    return MODULES[name].name == "__init__.py" and all(
        isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) for node in body
    )


def cycles(edges: dict[str, dict[str, int]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each a cycle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in edges.get(node, {}):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def folder(name: str) -> str:
    parts = name.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and name in _PACKAGES) else ""


_PACKAGES = {name for name, path in MODULES.items() if path.name == "__init__.py"}


def test_no_import_cycles() -> None:
    edges = graph()
    found = cycles(edges)
    assert not found, f"{len(found)} import cycle(s) between uwvcli modules: " + "; ".join(
        " <-> ".join(component) for component in found
    )


def test_every_folder_keeps_to_its_imports() -> None:
    violations = []
    pending = set()
    for name, targets in graph().items():
        source = folder(name)
        if not source:
            continue
        allowed = MAY_IMPORT[source] | {source}
        for target, line in targets.items():
            destination = folder(target)
            if target in EVERYWHERE or destination == source:
                continue
            if (name, target) in PENDING:
                pending.add((name, target))
                continue
            if source == "recap" and destination == "digipoort" and target not in RECAP_FROM_DIGIPOORT:
                violations.append(f"{name}:{line} imports {target} (recap uses only codes and findings)")
            elif destination not in allowed:
                violations.append(f"{name}:{line} imports {target} ({source}/ may not import {destination}/)")
    assert not violations, f"{len(violations)} layer violation(s):\n" + "\n".join(violations)
    assert pending == PENDING, f"no longer violated, remove from PENDING: {PENDING - pending}"


def test_the_domain_does_no_io() -> None:
    """`domain/` is pure: no files, network, database, processes, clock or gc; its only outside
    imports are the standard library's value types."""
    found = []
    for name, path in MODULES.items():
        if folder(name) != "domain":
            continue
        for imported, line in imported_names(name, path):
            if imported.split(".")[0] in IO_MODULES:
                found.append(f"{name}:{line} imports {imported}")
        source = path.read_text(encoding="utf-8")
        for clock in ("datetime.now", "date.today", ".now(", ".today(", "time.time"):
            if clock in source:
                found.append(f"{name} reads the clock ({clock})")
    assert not found, "domain/ does I/O:\n" + "\n".join(found)


def test_every_folder_states_its_rule() -> None:
    """The rule a newcomer needs sits where they look first: the folder's `__init__.py`."""
    missing = [
        name
        for name in sorted(_PACKAGES)
        if name != "uwvcli" and not ast.get_docstring(ast.parse(MODULES[name].read_text(encoding="utf-8")))
    ]
    assert not missing, f"folders without a docstring stating what they may import: {missing}"
    assert set(MAY_IMPORT) == {folder(name) for name in _PACKAGES if name != "uwvcli"}


def test_commands_leave_the_work_to_app() -> None:
    """A thin CLI: the run lock is taken (and the journal written) by the use case in `app/`,
    never by a command, so each command is parse → one `app` call → render."""
    found = [
        f"{name}:{line}"
        for name, targets in graph().items()
        if folder(name) == "cli"
        for target, line in targets.items()
        if target == "uwvcli.state.locking"
    ]
    assert not found, f"commands that take the run lock themselves: {found}"
