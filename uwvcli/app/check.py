"""`uwvcli check` as one use case: every problem of the configuration and the dossier exports at
once — configuration errors, missing certificate files, unreadable exports, rows that cannot be
used (including the rules' cross-row overlaps), configuration values that will block notifications
— plus the hand-over list: notifications due before an employer's start date whose deadline is on
or after it, which the previous system should have sent."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from uwvcli.app import planning
from uwvcli.app.connection import service_certificate
from uwvcli.app.credentials import load_credentials
from uwvcli.app.planning import export_warnings
from uwvcli.digipoort.client import check_trust
from uwvcli.domain.models import Config, Notification
from uwvcli.errors import EXIT_ATTENTION, EXIT_OK, EXIT_UNUSABLE, ConfigError, InputFileError, UwvcliError
from uwvcli.inputs import exports
from uwvcli.inputs.config import blocking_values
from uwvcli.recap.mails import check_smtp


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
    run_would_stop: bool = False  # credentials, trust files or folders `run` cannot use

    @property
    def unusable(self) -> bool:
        """The configuration, an export or a certificate file cannot be used."""
        return self.files_missing or self.run_would_stop or self.dossiers is None

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


def check(config: Config, source: str, day: date, *, smtp: bool = False) -> CheckResult:
    """Every problem of a loadable configuration and its exports, and the hand-over list; and the
    go-live checks: whatever `run` would stop on (credentials, trust files, folders), and with
    `smtp` whether the mail server answers."""
    findings = missing_files(config, source) + state_findings(config)
    files_missing = any(f.severity == "error" for f in findings)
    stops = [] if files_missing else credentials_and_trust(config, source, day)
    stops += folders(config, source)
    run_would_stop = any(f.severity == "error" for f in stops)
    findings += stops
    if smtp:
        findings += mail_server(config, source)
    findings += [Finding("warning", source, None, p.path, p.message) for p in blocking_values(config)]
    try:
        plan = planning.plan(config, day, names=False)
    except InputFileError:
        findings += unreadable_exports(config)
        return CheckResult(source, day, findings, run_would_stop=run_would_stop)
    findings += [Finding("error", e.source, e.line, e.field, e.message) for e in plan.input_errors]
    findings += [Finding("warning", e.source, e.line, e.field, e.message) for e in plan.warnings]
    findings += [
        Finding("warning", file, None, None, text) for file, text in export_warnings(plan.export_rows)
    ]
    return CheckResult(
        source,
        day,
        findings,
        plan.handover,
        dossiers=len(plan.dossiers),
        files_missing=files_missing,
        run_would_stop=run_would_stop,
    )


def exit_code(result: CheckResult) -> int:
    """CONTRACT §1: 2 when something is unusable (the configuration, an export, a certificate
    file, what `run` would stop on), 1 for fixable rows and values and a mail server that does
    not answer, 0 otherwise (the hand-over list is information)."""
    if result.unusable:
        return EXIT_UNUSABLE
    return EXIT_ATTENTION if result.findings else EXIT_OK


def state_findings(config: Config) -> list[Finding]:
    """The journal's own integrity check (an error: the next run would refuse it) and state
    folders or files that others may read (warnings)."""
    from uwvcli.state.integrity import journal_problems, permission_problems

    state = config.paths.state
    findings = [Finding("error", str(state), None, "paths.state", m) for m in journal_problems(state)]
    wide = permission_problems([config.paths.outbox, state.parent], [state])
    return findings + [Finding("warning", str(state.parent), None, "paths", m) for m in wide]


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


def credentials_and_trust(config: Config, source: str, day: date) -> list[Finding]:
    """The sender's key and certificate as `run` loads them (a key of another certificate, a
    test certificate for preprod/production, outside its validity; a warning 30 days before it
    expires), and the CA bundle and service certificate as the Digipoort client reads them."""
    findings = []
    sender, environment = config.sender, config.digipoort.environment
    generated = environment == "simulator" and sender.certificate is None and sender.private_key is None
    password_unset = sender.private_key_password_env and sender.private_key_password_env not in os.environ
    if not generated and not password_unset:  # the test PKI is made by the first run; no password: warned
        try:
            credentials = load_credentials(
                sender, environment=environment, state_dir=config.paths.state.parent
            )
        except UwvcliError as error:
            findings.append(Finding("error", source, None, "sender", str(error)))
        else:
            expiry = credentials.expiry_warning(day)
            if expiry:
                findings.append(Finding("warning", source, None, "sender.certificate", expiry))
    if environment != "simulator":
        try:
            check_trust(config.digipoort.ca_bundle, service_certificate(config.digipoort))
        except UwvcliError as error:
            findings.append(Finding("error", source, None, "digipoort", str(error)))
    return findings


def folders(config: Config, source: str) -> list[Finding]:
    """The state and outbox folders must be writable (or creatable): `run` writes both."""
    findings = []
    for key, folder in (("paths.state", config.paths.state.parent), ("paths.outbox", config.paths.outbox)):
        problem = _not_writable(folder)
        if problem:
            findings.append(Finding("error", source, None, key, problem))
    return findings


def _not_writable(folder: Path) -> str | None:
    """Why `folder` cannot be written, by trying: a temporary file in it (or in the nearest
    existing folder above it, when `run` would create it)."""
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        return f"{folder} cannot be created: {existing} is not a folder"
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as error:
        return f"{folder} cannot be written ({error.strerror}): give the user of the cron job write access"
    return None


def mail_server(config: Config, source: str) -> list[Finding]:
    """`check --smtp`: a real SMTP conversation with the configured server, no mail sent."""
    if config.mail is None:
        return [
            Finding(
                "warning", source, None, "mail", "no mail: section: recaps are only written as .eml files"
            )
        ]
    problem = check_smtp(config.mail)
    return [Finding("error", source, None, "mail", problem)] if problem else []


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
