"""uwvcli's command line. `main` is the console script; it maps the project's exceptions to
clean messages and the exit codes of CONTRACT §1 (never a traceback)."""

from __future__ import annotations

import sys

from uwvcli.cli.app import app
from uwvcli.errors import EXIT_UNUSABLE, UwvcliError

# Each module registers its command(s) on `app` when imported.
from uwvcli.cli import check, due, explain, run, send, simulator, status  # noqa: F401  isort: skip


def main() -> None:
    try:
        app(standalone_mode=True)
    except UwvcliError as error:  # raised outside a command's own handling
        print(f"error: {error}", file=sys.stderr)
        sys.exit(error.exit_code)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    except OSError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(EXIT_UNUSABLE)
