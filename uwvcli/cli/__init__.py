"""uwvcli's command line. `main` is the console script (and `python -m uwvcli`); it maps the
project's exceptions to clean messages and the exit codes of CONTRACT §1 (never a traceback:
an exception nobody foresaw is reported in one line and exits 70, EX_SOFTWARE).

Each command parses, makes one `app` call and renders; `cli/` may import every other folder,
nothing imports `cli/`. The command modules are imported when their command is asked for
(`cli.app.COMMANDS`), not here: `uwvcli --version` and `uwvcli explain CODE` start quickly."""

from __future__ import annotations

import contextlib
import logging
import os
import sys

from uwvcli.cli.app import app, report_internal_error
from uwvcli.common.memory import pause_cycle_collection
from uwvcli.errors import EXIT_UNUSABLE, UwvcliError


def main() -> None:
    pause_cycle_collection()  # the process-wide decision, made here once: see common/memory.py
    try:
        app(standalone_mode=True)
        code = 0
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else (0 if done.code is None else EXIT_UNUSABLE)
    except UwvcliError as error:  # raised outside a command's own handling
        print(f"error: {error}", file=sys.stderr)
        code = error.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        code = 130
    except OSError as error:
        print(f"error: {error}", file=sys.stderr)
        code = EXIT_UNUSABLE
    except Exception as error:  # outside a command (which reports its own, knowing -vv): a bug
        code = report_internal_error(error)
    leave(code)


def leave(code: int) -> None:
    """Exit without tearing down the interpreter. Every command has closed its files, journal
    and connections by now (context managers); what is left is freeing a run's in-memory data
    object by object — for a million-row export a tenth of a second of pure waste."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe (`uwvcli due | head`)
            stream.flush()
    logging.shutdown()
    os._exit(code)
