"""The Typer application and the one object every command receives.

Commands live in sibling modules (due.py, check.py, run.py, send.py, status.py, resolve.py,
explain.py, simulator.py); each parses its options, calls one library function and renders the result."""

from __future__ import annotations

import functools
import logging
import os
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, ParamSpec, TypeVar

import typer

from uwvcli import __version__
from uwvcli.cli.console import Terminal
from uwvcli.domain.models import Config
from uwvcli.errors import EXIT_SOFTWARE, UwvcliError

P = ParamSpec("P")
R = TypeVar("R")

app = typer.Typer(
    name="uwvcli",
    help="Get sickness and pregnancy notifications to UWV on time, through Digipoort.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


@dataclass
class App:
    """Built once in the root callback, handed to every command via `ctx.obj`."""

    terminal: Terminal
    _configs: dict[Path, Config] = field(default_factory=dict)

    @staticmethod
    def config_path(option: Path | None) -> Path:
        if option is not None:
            return option
        env = os.environ.get("UWVCLI_CONFIG")
        return Path(env) if env else Path("uwvcli.yaml")

    def load_config(self, option: Path | None) -> Config:
        """Load and validate the configuration (raises ConfigError, exit 2)."""
        from uwvcli.inputs.config import load_config

        path = self.config_path(option)
        if path not in self._configs:
            self._configs[path] = load_config(path)
        return self._configs[path]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"uwvcli {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True, help="More detail on stderr.")] = 0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only warnings and errors on stderr.")] = False,
    log_file: Annotated[
        Path | None, typer.Option("--log-file", help="Also append log lines to this file.")
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    ctx.obj = App(terminal=Terminal(verbosity=-1 if quiet else verbose, log_file=log_file))


def get_app(ctx: typer.Context) -> App:
    obj = ctx.find_root().obj
    assert isinstance(obj, App)
    return obj


def _root_app(arguments: tuple[object, ...]) -> App | None:
    """The `App` of the command's context (every command takes `ctx` first), if it was made."""
    for value in arguments:
        find_root = getattr(value, "find_root", None)  # the (Typer-bundled) Click context
        if callable(find_root):
            obj = find_root().obj
            return obj if isinstance(obj, App) else None
    return None


def report_internal_error(error: BaseException, *, verbosity: int = 0) -> int:
    """An exception nobody foresaw is a bug in uwvcli, not a problem of the input: one line on
    stderr says what failed, where, and where the log is; the traceback goes to the --log-file
    (and to stderr with -vv). Only the exception's type and the code's places are written, never
    its message, which may quote personal data. Returns EXIT_SOFTWARE (70)."""
    frames = traceback.extract_tb(error.__traceback__)
    place = f" in {Path(frames[-1].filename).name} line {frames[-1].lineno}" if frames else ""
    trace = (
        "Traceback (most recent call last):\n" + "".join(traceback.format_list(frames)) + type(error).__name__
    )
    files = [h for h in logging.getLogger("uwvcli").handlers if isinstance(h, logging.FileHandler)]
    for handler in files:
        for line in trace.splitlines():
            handler.handle(
                logging.makeLogRecord(
                    {"name": "uwvcli", "levelno": logging.ERROR, "levelname": "ERROR", "msg": line}
                )
            )
    where = (
        f"the traceback is in {files[0].baseFilename}"
        if files
        else "run it again with -vv or --log-file FILE for the traceback"
    )
    print(
        f"error: internal error ({type(error).__name__}{place}), a bug in uwvcli: {where}; please report it",
        file=sys.stderr,
    )
    if verbosity >= 2:
        print(trace, file=sys.stderr)
    return EXIT_SOFTWARE


def command(*args: object, **kwargs: object) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """`@app.command()` that turns the project's exceptions into a clean message on stderr and
    the CONTRACT exit code, so no command ever shows a traceback for a foreseen problem."""

    def register(function: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(function)
        def guarded(*a: P.args, **kw: P.kwargs) -> R:
            try:
                return function(*a, **kw)
            except UwvcliError as error:
                root = _root_app((*a, *kw.values()))
                terminal = root.terminal if root else Terminal()
                terminal.error(str(error))
                raise typer.Exit(error.exit_code) from None
            except (typer.Exit, typer.Abort, typer.TyperException, OSError):
                raise  # the command line's own ways out; `main` words a file system problem
            except Exception as error:  # a bug: the last-resort report, with the -v count known here
                root = _root_app((*a, *kw.values()))
                verbosity = root.terminal.verbosity if root else 0
                raise typer.Exit(report_internal_error(error, verbosity=verbosity)) from None

        app.command(*args, **kwargs)(guarded)  # type: ignore[arg-type]
        return guarded

    return register
