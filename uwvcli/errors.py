"""The project's own exceptions. The CLI turns each into a clear message and an exit code
(CONTRACT §1); nothing below the CLI prints or exits."""

from __future__ import annotations

from dataclasses import dataclass

EXIT_OK = 0
EXIT_ATTENTION = 1  # finished, but something needs a person
EXIT_UNUSABLE = 2  # unusable invocation, configuration or input file; nothing was done
EXIT_SOFTWARE = 70  # EX_SOFTWARE: a bug in uwvcli (an exception nobody foresaw)
EXIT_LOCKED = 75  # EX_TEMPFAIL: another run holds the lock


class UwvcliError(Exception):
    """Base class: `str(error)` is a complete, personal-data-free message for the user."""

    exit_code = EXIT_UNUSABLE


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    path: str  # key path, e.g. "employers[0].org_units[1].uwv_sector"
    message: str  # what is wrong and how to write it

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class ConfigError(UwvcliError):
    """The configuration cannot be used. Carries every problem found, not just the first."""

    def __init__(self, source: str, problems: list[ConfigProblem]):
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"{source}: the configuration has {len(problems)} problem(s):\n{lines}")


class InputFileError(UwvcliError):
    """A whole export file is unusable (missing, unreadable, no header, not JSON)."""


class LockedError(UwvcliError):
    exit_code = EXIT_LOCKED


class SigningError(UwvcliError):
    """A key or certificate cannot be used (mismatch, expired, wrong password, test PKI in production)."""


class DigipoortError(UwvcliError):
    """Talking to Digipoort failed in a way the caller must handle (fault, bad signature, transport)."""

    exit_code = EXIT_ATTENTION
