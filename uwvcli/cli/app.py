"""The Typer application and the one object every command receives.

Commands live in sibling modules, one each, named after the command (`COMMANDS`); each parses its
options, calls one library function and renders the result. A module is imported only when its
command is run or listed (`LazyGroup`): `uwvcli explain 311`, run by hand, does not pay for the
signing, transport and database modules of `run` and `send` (issue 14).

The options every command shares (`--config`, `--verbose`, `--quiet`, `--log-file`) are accepted
before and after the command name (CONTRACT §1): the root callback takes them, and `command`
adds them to every command's signature, so no command module has to repeat them."""

from __future__ import annotations

import copy
import functools
import importlib
import inspect
import logging
import os
import sys
import traceback
import typing
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, ParamSpec, TypeVar

import typer
import typer.main
from typer.core import TyperGroup
from typer.models import OptionInfo, ParameterInfo

from uwvcli import __version__
from uwvcli.cli.console import Terminal
from uwvcli.cli.options import ConfigOption, metavar_for
from uwvcli.errors import EXIT_SOFTWARE, ConfigError, ConfigProblem, UwvcliError

if typing.TYPE_CHECKING:
    from typer._click import Command, Context  # the Click that Typer bundles

    from uwvcli.domain.models import Config  # made by `load_config`, which imports it when used

P = ParamSpec("P")
R = TypeVar("R")

#: The commands in the order `uwvcli --help` lists them. `uwvcli.cli.<name>` registers each.
COMMANDS = (
    "check",
    "due",
    "explain",
    "report",
    "resolve",
    "run",
    "send",
    "simulator",
    "status",
    "recover",
    "withdraw",
)

#: Where the configuration is looked for when neither --config nor $UWVCLI_CONFIG names it.
DEFAULT_CONFIGS = (Path("uwvcli.yaml"), Path("/etc/uwvcli/uwvcli.yaml"))


class _Commands(MutableMapping[str, "Command"]):
    """The group's commands by name: every name in `COMMANDS` is there from the start, its click
    command made on first look-up by importing the module that registers it. Typer reads this
    mapping for everything (running a command, --help, completion, "did you mean"), so only
    what it actually needs gets imported: the help lists all, `explain 311` loads one."""

    def __init__(self, made: Mapping[str, Command]) -> None:
        self._made = dict(made)

    def __getitem__(self, name: str) -> Command:
        if name not in self._made:
            if name not in COMMANDS:
                raise KeyError(name)
            self._made[name] = _load(name)
        return self._made[name]

    def __setitem__(self, name: str, command: Command) -> None:
        self._made[name] = command

    def __delitem__(self, name: str) -> None:
        del self._made[name]

    def __contains__(self, name: object) -> bool:
        return name in COMMANDS or name in self._made

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys([*COMMANDS, *self._made]))

    def __len__(self) -> int:
        return len(set(COMMANDS) | set(self._made))


class LazyGroup(TyperGroup):
    """The root group, with `_Commands` for its commands (Typer builds it with the commands
    registered so far, which is none unless something imported a command module already)."""

    def __init__(self, *, commands: Mapping[str, Command] | None = None, **kwargs: typing.Any):
        super().__init__(**kwargs)
        self.commands = _Commands(commands or {})

    def list_commands(self, ctx: Context) -> list[str]:
        return list(self.commands)  # the names: the commands themselves are made when asked for


def _load(name: str) -> Command:
    """Import `uwvcli.cli.<name>` (which registers the command on `app`) and make its click
    command as Typer would have when building the group."""
    importlib.import_module(f"uwvcli.cli.{name}")
    registered = next(info for info in app.registered_commands if info.name == name)
    return typer.main.get_command_from_info(
        registered, pretty_exceptions_short=app.pretty_exceptions_short, rich_markup_mode=app.rich_markup_mode
    )


app = typer.Typer(
    name="uwvcli",
    cls=LazyGroup,
    help="Get sickness and pregnancy notifications to UWV on time, through Digipoort.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog=(
        "\b\nExamples:\n"
        "  uwvcli --config /etc/uwvcli/uwvcli.yaml due --horizon 14\n"
        "  uwvcli run --date today --log-file /var/log/uwvcli.log\n"
        "  uwvcli COMMAND -h                                    (help for one command)"
    ),
)

#: "Examples:" of each command's --help, in one place (the commands' epilogs).
EXAMPLES = {
    "due": (
        "uwvcli due --horizon 14",
        "uwvcli due --date 2026-12-01 --format json",
        "uwvcli due --format csv --excel --output due.csv",
    ),
    "run": (
        "uwvcli run --date today",
        "uwvcli run --date 2026-12-01 --no-send",
        "uwvcli --config /etc/uwvcli/uwvcli.yaml run --quiet --log-file /var/log/uwvcli.log",
    ),
    "send": ("uwvcli send", "uwvcli send --poll-seconds 300 -v"),
    "status": (
        "uwvcli status",
        "uwvcli status --state rejected --since yesterday",
        "uwvcli status --employer WG001 --format csv --excel --output status.csv",
        "uwvcli status WG001/Z-17/zw-ziekmelding",
    ),
    "report": ("uwvcli report", "uwvcli report --output /srv/share/uwv-overzicht.html --horizon 42"),
    "resolve": (
        "uwvcli resolve WG001/Z-17/zw-ziekmelding --kenmerk 8b1e6c2a-4a5e-4d3f-9a0b-2c6d7e8f9a01",
        "uwvcli resolve WG001/Z-17/zw-ziekmelding --not-received",
    ),
    "explain": (
        "uwvcli explain 311",
        "uwvcli explain ALS100 VAS500",
        "uwvcli explain --list --phase validatie",
    ),
    "check": ("uwvcli check", "uwvcli check --config samples/uwvcli.yaml --format json"),
    "simulator": ("uwvcli simulator", "uwvcli simulator --port 8443 --lifecycle timed --step 2"),
}


@dataclass
class App:
    """Built once in the root callback, handed to every command via `ctx.obj`."""

    terminal: Terminal
    config_option: Path | None = None  # --config given before the command name
    _configs: dict[Path, Config] = field(default_factory=dict)

    @staticmethod
    def config_path(option: Path | None) -> Path:
        """--config, else $UWVCLI_CONFIG, else the first of `DEFAULT_CONFIGS` that exists (the
        first one when none does: `load_config` then names every place tried)."""
        if option is not None:
            return option
        env = os.environ.get("UWVCLI_CONFIG")
        if env:
            return Path(env)
        return next((path for path in DEFAULT_CONFIGS if path.is_file()), DEFAULT_CONFIGS[0])

    def load_config(self, option: Path | None) -> Config:
        """Load and validate the configuration (raises ConfigError, exit 2)."""
        from uwvcli.inputs.config import load_config

        path = self.config_path(option)
        if option is None and not os.environ.get("UWVCLI_CONFIG") and not path.is_file():
            tried = ", ".join(str(p) if p.is_absolute() else f"./{p}" for p in DEFAULT_CONFIGS)
            raise ConfigError(
                str(path),
                [
                    ConfigProblem(
                        "",
                        f"no configuration found (tried $UWVCLI_CONFIG: not set, {tried}): pass "
                        "--config PATH or set UWVCLI_CONFIG (config.example.yaml shows every key)",
                    )
                ],
            )
        if path not in self._configs:
            self._configs[path] = load_config(path)
        return self._configs[path]

    def configure(self, verbose: int, quiet: bool, log_file: Path | None) -> None:
        """The shared options given after the command name add to those given before it."""
        if not (verbose or quiet or log_file):
            return
        before = self.terminal
        verbosity = -1 if quiet or before.verbosity < 0 else before.verbosity + verbose
        self.terminal = Terminal(verbosity=verbosity, log_file=log_file or before.log_file)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"uwvcli {__version__}")
        raise typer.Exit()


VerboseOption = Annotated[
    int, typer.Option("--verbose", "-v", count=True, help="More detail on stderr.", show_default=False)
]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="Only warnings and errors on stderr.")]
LogFileOption = Annotated[
    Path | None,
    typer.Option(
        "--log-file", metavar="FILE", help="Also append log lines to this file.", show_default=False
    ),
]


@app.callback()
def root(
    ctx: typer.Context,
    config: ConfigOption = None,
    verbose: VerboseOption = 0,
    quiet: QuietOption = False,
    log_file: LogFileOption = None,
    version: Annotated[
        bool, typer.Option("--version", "-V", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    ctx.obj = App(
        terminal=Terminal(verbosity=-1 if quiet else verbose, log_file=log_file), config_option=config
    )


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


WideOption = Annotated[
    bool,
    typer.Option("--wide", "-w", help="Show every column of the table, even when wider than the terminal."),
]

_SHARED = {"verbose": (VerboseOption, 0), "quiet": (QuietOption, False), "log_file": (LogFileOption, None)}


def command(
    *args: object, tables: bool = False, **kwargs: object
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """`@app.command()` that also takes the shared options after the command name, gives every
    option a readable metavar and the command its examples, and turns the project's exceptions
    into a clean message on stderr and the CONTRACT exit code, so no command ever shows a
    traceback for a foreseen problem. `tables`: the command renders tables and takes `--wide`."""

    def register(function: Callable[P, R]) -> Callable[P, R]:
        signature = inspect.signature(function, eval_str=True)
        takes_config = "config" in signature.parameters

        @functools.wraps(function)
        def guarded(*a: P.args, **kw: P.kwargs) -> R:
            root = _root_app((*a, *kw.values()))
            shared = {name: kw.pop(name, default) for name, (_, default) in _SHARED.items()}
            wide = bool(kw.pop("wide", False))
            try:
                if root is not None:
                    root.configure(**shared)  # type: ignore[arg-type]
                    root.terminal.wide = wide
                    if takes_config and kw.get("config") is None:
                        kw["config"] = root.config_option
                return function(*a, **kw)
            except UwvcliError as error:
                terminal = root.terminal if root else Terminal()
                terminal.error(str(error))
                raise typer.Exit(error.exit_code) from None
            except (typer.Exit, typer.Abort, typer.TyperException, OSError):
                raise  # the command line's own ways out; `main` words a file system problem
            except Exception as error:  # a bug: the last-resort report, with the -v count known here
                verbosity = root.terminal.verbosity if root else 0
                raise typer.Exit(report_internal_error(error, verbosity=verbosity)) from None

        parameters = [_readable(p) for p in signature.parameters.values()]
        parameters += [
            inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=default)
            for name, (annotation, default) in _SHARED.items()
        ]
        if tables:
            parameters.append(
                inspect.Parameter(
                    "wide", inspect.Parameter.KEYWORD_ONLY, annotation=WideOption, default=False
                )
            )
        guarded.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
        del guarded.__wrapped__  # typer must read the signature above, not the function's own
        guarded.__annotations__ = {p.name: p.annotation for p in parameters}  # evaluated: no names to resolve
        name = str(args[0]) if args else function.__name__
        if name in EXAMPLES and "epilog" not in kwargs:
            kwargs["epilog"] = "\b\nExamples:\n" + "\n".join(f"  {line}" for line in EXAMPLES[name])
        app.command(*args, **kwargs)(guarded)  # type: ignore[arg-type]
        return guarded

    return register


def _readable(parameter: inspect.Parameter) -> inspect.Parameter:
    """The parameter with a metavar people read (`DAYS`, `FILE`) instead of Click's type name
    (`<int range>`, `<path>`), unless the command chose one."""
    if typing.get_origin(parameter.annotation) is not Annotated:
        return parameter
    base, *extras = typing.get_args(parameter.annotation)
    infos = [extra for extra in extras if isinstance(extra, ParameterInfo)]
    if not infos or infos[0].metavar is not None or getattr(infos[0], "count", False):
        return parameter
    info = infos[0]
    if isinstance(info, OptionInfo):
        names = [
            n for n in (info.default, *(info.param_decls or ())) if isinstance(n, str) and n.startswith("--")
        ]
        metavar = metavar_for(names[0] if names else f"--{parameter.name}", base)
    else:  # an argument: its name, as the usage line shows it
        metavar = parameter.name.upper()
    if metavar is None:
        return parameter
    updated = copy.copy(info)
    updated.metavar = metavar
    rest = [extra for extra in extras if extra is not info]
    return parameter.replace(annotation=Annotated[(base, updated, *rest)])
