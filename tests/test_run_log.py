"""What the cron job's log file says (issue 13): the documented crontab line sends stdout to
/dev/null, so every notification that needs a person is a WARNING line there — key, state, the
Digipoort code, what to do and by when — and the run's last line is its summary with the exit
code. `uwvcli run` in a subprocess against the in-process simulator, one message made to fail by
the simulator's markers, a real SMTP server; the log file is read as a person would."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

from tests.run_support import (
    PLAIN_LINE,
    RUN_DATE,
    SmtpServer,
    cron_environment,
    due_keys,
    personal_data_in,
    personal_values,
    setup_samples,
    uwvcli,
)
from uwvcli.recap.mails import dutch_date


def cron_run(config: Path, log: Path, *, today: str = RUN_DATE):
    """As the crontab line runs it: quiet, stdout thrown away (here: not looked at), a log file."""
    return uwvcli(
        "-q", "--log-file", str(log), "run", "--config", str(config), "--date", RUN_DATE,
        "--poll-seconds", "10", cwd=config.parent, env=cron_environment(UWVCLI_TODAY=today),
    )  # fmt: skip


def test_the_log_file_names_every_notification_that_needs_a_person_and_ends_with_the_exit_code(
    tmp_path: Path, smtp: SmtpServer, test_pki: Path
) -> None:
    config = setup_samples(tmp_path / "samples", test_pki, smtp_port=smtp.port)
    export = config.parent / "exports" / "testbrood-dossiers.csv"
    text = export.read_text(encoding="utf-8-sig")
    assert ";Z-101;" in text, "the samples changed: pick another dossier"
    export.write_text(text.replace(";Z-101;", ";Z-101.FLOW-311;"), encoding="utf-8")
    sendable, blocked = due_keys(config)
    (rejected,) = {key for key in sendable if ".FLOW-311" in key}
    assert blocked, "the samples no longer block a notification"
    log = tmp_path / "uwvcli.log"

    done = cron_run(config, log)

    assert done.returncode == 1, done.stderr
    lines = log.read_text(encoding="utf-8").splitlines()
    assert lines and all(PLAIN_LINE.match(line) for line in lines)
    warnings = [line for line in lines if " WARNING " in line]
    (line,) = [w for w in warnings if f" {rejected}: " in w]
    found = re.search(
        rf"{re.escape(rejected)}: rejected \(Digipoort code VAS500\): "
        r"correct the data in the export by (\S+);",
        line,
    )
    assert found, line
    (mail,) = smtp.mailbox.by_recap()[f"WG001 {RUN_DATE}"]  # the recap's day, by the same rule
    assert (
        f"corrigeer uiterlijk {dutch_date(date.fromisoformat(found.group(1)), weekday=True)}" in mail.text()
    )
    for key in blocked:
        assert any(f" {key}: blocked" in w for w in warnings), (key, warnings)
    assert " INFO " in lines[-1] and "done, exit code 1: " in lines[-1] and "Digipoort: " in lines[-1]
    assert personal_data_in("\n".join(lines), personal_values(config.parent / "exports")) == []


def test_a_catch_up_says_so_in_the_log_and_in_the_recap(
    tmp_path: Path, smtp: SmtpServer, test_pki: Path
) -> None:
    config = setup_samples(tmp_path / "samples", test_pki, smtp_port=smtp.port)
    log = tmp_path / "uwvcli.log"
    today = date.fromisoformat(RUN_DATE) + timedelta(days=10)

    done = cron_run(config, log, today=today.isoformat())

    assert done.returncode == 1, done.stderr
    lines = log.read_text(encoding="utf-8").splitlines()
    assert any(f"catch-up run: the run date {RUN_DATE} is 10 days ago" in line for line in lines)
    assert "(catch-up) done, exit code 1" in lines[-1]
    (mail,) = smtp.mailbox.by_recap()[f"WG001 {RUN_DATE}"]
    assert (
        "Inhaalrun: dit overzicht hoort bij 1 december 2026 en is op 11 december 2026 gemaakt" in mail.text()
    )
