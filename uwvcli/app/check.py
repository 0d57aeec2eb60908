"""`uwvcli check` as one use case: every problem of the configuration and the dossier exports at
once — configuration errors, missing certificate files, unreadable exports, rows that cannot be
used (including the rules' cross-row overlaps), configuration values that will block notifications
— plus the hand-over list: notifications due before an employer's start date whose deadline is on
or after it, which the previous system should have sent."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date

from uwvcli.app import planning
from uwvcli.app.planning import export_warnings
from uwvcli.domain.models import Config, Notification
from uwvcli.errors import EXIT_ATTENTION, EXIT_OK, EXIT_UNUSABLE, ConfigError, InputFileError
from uwvcli.inputs import exports
from uwvcli.inputs.config import blocking_values


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem, located: the file, the line (JSON exports: the item's index), the key or field."""

    severity: str  # "error" (cannot be used) | "warning" (will block notifications)
    source: str
    line: int | None
    field: str | None
    message: str

    def where(self) -> str:
        if self.line is None:
            return self.source
        if self.source.lower().endswith(".json"):
            return f"{self.source} item {self.line}"
        return f"{self.source}:{self.line}"

    def to_json(self) -> dict[str, object]:
        return {
            "severity": self.severity,
            "source": self.source,
            "line": self.line,
            "field": self.field,
            "message": self.message,
        }


@dataclass(frozen=True)
class CheckResult:
    source: str  # the configuration file, as the user named it
    day: date
    findings: list[Finding]
    handover: list[Notification] = field(default_factory=list)
    dossiers: int | None = None  # None: the configuration or an export could not be read
    files_missing: bool = False  # a configured certificate or key file does not exist

    @property
    def unusable(self) -> bool:
        """The configuration, an export or a certificate file cannot be used."""
        return self.files_missing or self.dossiers is None

    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if f.severity == "error")

    @property
    def warnings(self) -> int:
        return len(self.findings) - self.errors


def unusable_config(error: ConfigError, source: str, day: date) -> CheckResult:
    """The result when the configuration itself cannot be loaded: its problems, nothing else."""
    findings = [Finding("error", error.source, None, p.path or None, p.message) for p in error.problems]
    return CheckResult(source, day, findings)


def check(config: Config, source: str, day: date) -> CheckResult:
    """Every problem of a loadable configuration and its exports, and the hand-over list."""
    findings = missing_files(config, source)
    files_missing = any(f.severity == "error" for f in findings)
    findings += [Finding("warning", source, None, p.path, p.message) for p in blocking_values(config)]
    try:
        plan = planning.plan(config, day, names=False)
    except InputFileError:
        findings += unreadable_exports(config)
        return CheckResult(source, day, findings)
    findings += [Finding("error", e.source, e.line, e.field, e.message) for e in plan.input_errors]
    findings += [Finding("warning", e.source, e.line, e.field, e.message) for e in plan.warnings]
    findings += [
        Finding("warning", file, None, None, text) for file, text in export_warnings(plan.export_rows)
    ]
    return CheckResult(
        source, day, findings, plan.handover, dossiers=len(plan.dossiers), files_missing=files_missing
    )


def exit_code(result: CheckResult) -> int:
    """CONTRACT §1: 2 when something is unusable (the configuration, an export, a certificate
    file), 1 for fixable rows and values, 0 otherwise (the hand-over list is information)."""
    if result.unusable:
        return EXIT_UNUSABLE
    return EXIT_ATTENTION if result.findings else EXIT_OK


def missing_files(config: Config, source: str) -> list[Finding]:
    """Certificates and keys named in the configuration must exist; a password variable should be
    set (a warning only: cron may have an environment this shell does not)."""
    findings = []
    named = (
        ("sender.certificate", config.sender.certificate),
        ("sender.private_key", config.sender.private_key),
        ("digipoort.ca_bundle", config.digipoort.ca_bundle),
        ("digipoort.service_certificate", config.digipoort.service_certificate),
    )
    for key, path in named:
        if path is not None and not path.is_file():
            findings.append(Finding("error", source, None, key, f"file not found: {path}"))
    for key, variable in (
        ("sender.private_key_password_env", config.sender.private_key_password_env),
        ("mail.username_env", config.mail.username_env if config.mail else None),
        ("mail.password_env", config.mail.password_env if config.mail else None),
    ):
        if variable is not None and variable not in os.environ:
            findings.append(
                Finding(
                    "warning",
                    source,
                    None,
                    key,
                    f"environment variable {variable} is not set here: make sure the cron job sets it",
                )
            )
    return findings


def unreadable_exports(config: Config) -> list[Finding]:
    """Every unusable export, not only the first one the plan stumbled on. Each file is read
    again on its own, as a preview reads it (a table, without the names): only whether it can
    be read at all matters here."""
    findings = []
    base = config.source.parent
    for path in config.paths.dossiers:
        try:
            exports.load_table([path], config.employers, display_base=base, names=False)
        except InputFileError as error:
            source = exports.display_name(path, base)
            message = str(error).removeprefix(f"{source}: ")  # the finding names its file already
            findings.append(Finding("error", source, None, None, message))
    return findings
