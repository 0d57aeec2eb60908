"""One terminal wrapper: data on stdout, diagnostics on stderr; Rich on a terminal, plain
timestamped lines for cron (no colour, no animation), NO_COLOR honoured.

Library modules never print: they return results or log through `logging`; the CLI renders."""

from __future__ import annotations

import logging
import os
import sys
from datetime import datetime
from pathlib import Path

from rich.console import Console
from rich.logging import RichHandler

log = logging.getLogger("uwvcli")


class Terminal:
    def __init__(self, verbosity: int = 0, log_file: Path | None = None):
        self.verbosity = verbosity
        self.log_file = log_file
        self.wide = False  # --wide: tables show every column, however wide (cli/tables.py)
        no_color = bool(os.environ.get("NO_COLOR"))
        self.out = Console(no_color=no_color, highlight=False, soft_wrap=True)
        self.err = Console(stderr=True, no_color=no_color, highlight=False, soft_wrap=True)
        self.interactive = self.err.is_terminal and not os.environ.get("CI")
        self._log_file: logging.Handler | None = None
        self._setup_logging(log_file)

    def _setup_logging(self, log_file: Path | None) -> None:
        level = (
            logging.WARNING if self.verbosity < 0 else (logging.DEBUG if self.verbosity > 0 else logging.INFO)
        )
        log.setLevel(logging.DEBUG)
        for handler in list(log.handlers):
            log.removeHandler(handler)
            handler.close()
        log.propagate = False
        fmt = logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%Y-%m-%dT%H:%M:%S%z")
        if self.interactive:
            stderr_handler: logging.Handler = RichHandler(console=self.err, show_path=False, show_time=False)
        else:
            stderr_handler = logging.StreamHandler(sys.stderr)
            stderr_handler.setFormatter(fmt)
        stderr_handler.setLevel(level)
        log.addHandler(stderr_handler)
        if log_file is not None:
            log_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            descriptor = os.open(log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)  # owner-only
            try:
                if os.fstat(descriptor).st_mode & 0o077:  # an existing 0644 log is tightened
                    os.fchmod(descriptor, 0o600)
            finally:
                os.close(descriptor)
            file_handler = logging.FileHandler(log_file, encoding="utf-8")
            file_handler.setFormatter(fmt)
            file_handler.setLevel(min(level, logging.INFO))
            log.addHandler(file_handler)
            self._log_file = file_handler

    def _to_log_file(self, level: int, message: str) -> None:
        """What the terminal says goes to --log-file too: under cron stderr is often discarded and
        the log file is where a person reads what to fix (quiet or not)."""
        if self._log_file is None:
            return
        for line in message.splitlines() or [""]:
            record = logging.makeLogRecord(
                {"name": log.name, "levelno": level, "levelname": logging.getLevelName(level), "msg": line}
            )
            self._log_file.handle(record)

    # Diagnostics, always on stderr. On a terminal: coloured; otherwise plain timestamped lines.
    def _plain(self, level: str, message: str) -> None:
        stamp = datetime.now().astimezone().strftime("%Y-%m-%dT%H:%M:%S%z")
        for line in message.splitlines() or [""]:
            print(f"{stamp} {level} {line}", file=sys.stderr, flush=True)

    def error(self, message: str) -> None:
        self._to_log_file(logging.ERROR, message)
        if self.interactive:
            self.err.print(f"[bold red]error:[/] {message}", markup=True)
        else:
            self._plain("ERROR", message)

    def warning(self, message: str) -> None:
        self._to_log_file(logging.WARNING, message)  # --quiet keeps warnings: "only warnings and errors"
        if self.interactive:
            self.err.print(f"[yellow]warning:[/] {message}", markup=True)
        else:
            self._plain("WARNING", message)

    def info(self, message: str) -> None:
        self._to_log_file(logging.INFO, message)
        if self.verbosity < 0:
            return
        if self.interactive:
            self.err.print(message, markup=False)
        else:
            self._plain("INFO", message)

    def success(self, message: str) -> None:
        self._to_log_file(logging.INFO, message)
        if self.verbosity < 0:
            return
        if self.interactive:
            self.err.print(f"[green]{message}[/]", markup=True)
        else:
            self._plain("INFO", message)
