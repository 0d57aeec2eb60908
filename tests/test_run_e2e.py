"""The 16:00 job end to end, as cron starts it: `uwvcli run` in a subprocess on a copy of the
samples, the in-process Digipoort simulator over real mutual TLS, and a real SMTP server on
loopback. What arrives at Digipoort is counted in the simulator's own store; what arrives at the
mail server is read as the employer would read it."""

from __future__ import annotations

import csv
import json
import shutil
import stat
from pathlib import Path

import yaml

from tests.helpers import write_setup
from tests.run_support import (
    FROM_ADDRESS,
    PLAIN_LINE,
    RUN_DATE,
    Mailbox,
    SmtpServer,
    due_keys,
    due_notifications,
    free_port,
    journal_status,
    personal_data_in,
    personal_values,
    received_by_key,
    run_day,
    setup_samples,
    simulator_received,
    uwvcli,
)
from uwvcli.simulator.pki import simulator_pki_folder

ANSI = "\x1b["


def employers_of(config: Path) -> dict[str, dict]:
    return {e["id"]: e for e in yaml.safe_load(config.read_text(encoding="utf-8"))["employers"]}


def initials_by_dossier(exports: Path) -> dict[str, tuple[str, str]]:
    """dossier_id -> (personnel number, initials), read from the sample exports themselves."""
    found: dict[str, tuple[str, str]] = {}
    for path in exports.glob("*.csv"):
        text = path.read_text(encoding="utf-8-sig")
        delimiter = ";" if text.count(";") > text.count(",") else ","
        for row in csv.DictReader(text.splitlines(), delimiter=delimiter):
            found[row["dossier_id"]] = (row["employee_id"], row["initials"])
    for row in json.loads((exports / "pregnancies.json").read_text(encoding="utf-8"))["dossiers"]:
        found[row["dossier_id"]] = (str(row["employee_id"]), row["initials"])
    return found


def expected_recaps(config: Path, keys: set[str], day: str = RUN_DATE) -> dict[str, str]:
    """`<employer> <day>` -> recap_email for every employer with news and an address."""
    employers = employers_of(config)
    with_news = {key.split("/")[0] for key in keys}
    return {
        f"{employer_id} {day}": employers[employer_id]["uwv_interface"]["recap_email"]
        for employer_id in with_news
        if employers[employer_id]["uwv_interface"].get("recap_email")
    }


def test_the_daily_run_sends_every_due_notification_once_and_mails_each_employer(
    tmp_path: Path, smtp: SmtpServer, test_pki: Path
) -> None:
    config = setup_samples(tmp_path / "samples", test_pki, smtp_port=smtp.port)
    state = config.parent / "var"
    sendable, blocked = due_keys(config)
    assert sendable and blocked, "the samples no longer show both kinds: this test would prove nothing"

    done = run_day(config)

    # 1 = finished, a person must look: blocked notifications and an unreadable export row
    assert done.returncode == 1, done.stderr
    assert received_by_key(config, state / "simulator") == dict.fromkeys(sendable, 1)
    assert not blocked & set(received_by_key(config, state / "simulator"))

    # one mail per employer with news and a recap_email, to that address, from the configured sender
    mails = smtp.mailbox.by_recap()
    expected = expected_recaps(config, sendable | blocked)
    assert set(mails) == set(expected)
    for recap, address in expected.items():
        (mail,) = mails[recap]
        assert mail.recipients == (address,)
        assert mail.mail_from == FROM_ADDRESS

    # in Dutch, with the sections the employer needs, people by personnel number and initials only
    people = initials_by_dossier(config.parent / "exports")
    wg001 = mails[f"WG001 {RUN_DATE}"][0]
    subject = str(wg001.message["Subject"])
    assert "Bakkerij Testbrood BV" in subject and "1 december 2026" in subject
    assert "geblokkeerd" in subject and "te laat" in subject
    text = wg001.text()
    for section in ("GEBLOKKEERD", "TE LAAT", "GEACCEPTEERD DOOR UWV"):
        assert section in text
    for key in (k for k in sendable | blocked if k.startswith("WG001/")):
        number, initials = people[key.split("/")[1]]
        assert f"personeelsnr. {number} ({initials})" in text
    values = personal_values(config.parent / "exports")
    for mail in smtp.mailbox.snapshot():
        raw = mail.raw.decode("utf-8", "replace")
        assert personal_data_in(raw, values) == [] and personal_data_in(mail.text(), values) == []
    assert personal_data_in(done.stdout + done.stderr, values) == []
    for path in (state / "recaps").rglob("*.eml"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600

    # cron sees plain timestamped lines on stderr, no escape sequences anywhere
    assert ANSI not in done.stdout and ANSI not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line]
    assert lines and all(PLAIN_LINE.match(line) for line in lines), done.stderr
    assert any("other-dossiers.csv:4" in line and " WARNING " in line for line in lines)

    # the same day again: nothing more reaches Digipoort or the employers
    before = simulator_received(state / "simulator")
    again = run_day(config)
    assert again.returncode == 1
    assert simulator_received(state / "simulator") == before
    assert len(smtp.mailbox.snapshot()) == len(expected)


def test_a_run_after_days_without_one_catches_up_and_flags_what_is_late(
    tmp_path: Path, smtp: SmtpServer, test_pki: Path
) -> None:
    config = setup_samples(tmp_path / "samples", test_pki, smtp_port=smtp.port)
    state = config.parent / "var"
    first, _ = due_keys(config)
    assert run_day(config).returncode == 1
    catch_up_day = "2026-12-29"  # four weeks without a run
    caught_up, _ = due_keys(config, catch_up_day)
    late = {n["key"] for n in due_notifications(config, catch_up_day) if n["state"] == "late"}
    assert caught_up and not caught_up & first and late, "the samples no longer show a late catch-up"

    done = run_day(config, catch_up_day, "--format", "json", today=catch_up_day)

    assert done.returncode == 1  # the blocked ones still are
    document = json.loads(done.stdout)  # stdout is exactly one JSON object
    assert document["exit_code"] == 1
    assert received_by_key(config, state / "simulator") == dict.fromkeys(first | caught_up, 1)
    written = {n["key"]: n for n in document["written"]}
    assert set(written) == caught_up
    assert {k for k, n in written.items() if n["state"] == "late"} == late
    assert {d["key"] for d in document["deliveries"] if d["state"] == "accepted"} == caught_up

    mail = smtp.mailbox.by_recap()[f"WG001 {catch_up_day}"]
    assert len(mail) == 1
    text = mail[0].text()
    late_section = text.split("TE LAAT", 1)[1].split("\n\n\n", 1)[0]
    people = initials_by_dossier(config.parent / "exports")
    for key in late:
        assert f"personeelsnr. {people[key.split('/')[1]][0]}" in late_section
    assert "29 december 2026" in str(mail[0].message["Subject"])


def test_quiet_keeps_warnings_and_the_log_file_keeps_every_line(
    tmp_path: Path, smtp: SmtpServer, test_pki: Path
) -> None:
    config = setup_samples(tmp_path / "samples", test_pki, smtp_port=smtp.port)
    log = tmp_path / "logs" / "uwvcli.log"

    done = run_day(config, RUN_DATE, "--format", "json")
    verbose_lines = [line for line in done.stderr.splitlines() if line]
    shutil.rmtree(config.parent / "var" / "recaps")  # so the quiet run has a recap to mail too
    quiet = _quiet_run(config, log)

    assert quiet.returncode == 1
    assert json.loads(quiet.stdout)["exit_code"] == 1
    assert any(" INFO " in line for line in verbose_lines)
    quiet_lines = [line for line in quiet.stderr.splitlines() if line]
    assert not any(" INFO " in line for line in quiet_lines), quiet.stderr
    # what a person must act on still shows with -q: the unreadable export row
    assert any(" WARNING " in line and "other-dossiers.csv:4" in line for line in quiet_lines), quiet.stderr

    logged = log.read_text(encoding="utf-8").splitlines()
    assert logged and all(PLAIN_LINE.match(line) for line in logged)
    assert any("other-dossiers.csv:4" in line for line in logged)
    assert any(" INFO " in line and f"run {RUN_DATE}" in line for line in logged)
    assert any("recap mailed" in line for line in logged)
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    assert personal_data_in("\n".join(logged), personal_values(config.parent / "exports")) == []


def _quiet_run(config: Path, log: Path):
    return uwvcli(
        "-q", "--log-file", str(log), "run", "--config", str(config), "--date", RUN_DATE,
        "--poll-seconds", "10", "--format", "json", cwd=config.parent,
    )  # fmt: skip


# ---------------------------------------------------------------- the mail server is down


def test_with_the_mail_server_down_digipoort_work_completes_and_recaps_go_next_run(
    tmp_path: Path, test_pki: Path
) -> None:
    port = free_port()  # nothing listens here yet
    config = setup_samples(tmp_path / "samples", test_pki, smtp_port=port)
    state = config.parent / "var"
    sendable, blocked = due_keys(config)

    down = run_day(config)

    assert down.returncode == 1
    assert received_by_key(config, state / "simulator") == dict.fromkeys(sendable, 1)
    pending = sorted(p.name for p in (state / "recaps" / "pending").iterdir())
    expected = expected_recaps(config, sendable | blocked)
    assert pending == sorted(f"{r.replace(' ', '_')}.eml" for r in expected)
    assert "recap not mailed yet" in down.stderr and f"127.0.0.1:{port}" in down.stderr

    server = SmtpServer(port, Mailbox()).start()
    try:
        up = run_day(config)
        again = run_day(config)
    finally:
        server.stop()

    assert up.returncode == 1 and again.returncode == 1
    assert received_by_key(config, state / "simulator") == dict.fromkeys(sendable, 1)
    mails = server.mailbox.by_recap()
    assert {recap: len(m) for recap, m in mails.items()} == dict.fromkeys(expected, 1)
    assert list((state / "recaps" / "pending").iterdir()) == []
    assert len(list((state / "recaps" / "sent").iterdir())) == len(expected)


def test_an_undelivered_recap_alone_makes_the_run_need_attention(tmp_path: Path, test_pki: Path) -> None:
    """Everything else fine: exit 1 only because the mail did not go; 0 once it has gone."""
    port = free_port()
    config = write_setup(
        tmp_path,
        [
            {
                "employee_id": "1001",
                "dossier_id": "Z-1",
                "dossier_type": "ziekte",
                "first_sick_day": "2026-11-30",
                "sick_reason": "zwangerschap",
            }
        ],
        mail={"smtp_host": "127.0.0.1", "smtp_port": port, "from": FROM_ADDRESS},
    )
    (tmp_path / "var").mkdir(mode=0o700)
    shutil.copytree(test_pki, simulator_pki_folder(tmp_path / "var"))

    down = run_day(config)
    server = SmtpServer(port, Mailbox()).start()
    try:
        up = run_day(config)
    finally:
        server.stop()

    assert down.returncode == 1, down.stderr
    assert up.returncode == 0, up.stderr
    assert [m.recap for m in server.mailbox.snapshot()] == [f"WG001 {RUN_DATE}"]


def test_a_rejected_notification_mails_uwvs_findings_without_personal_data(
    tmp_path: Path, smtp: SmtpServer, test_pki: Path
) -> None:
    """Payroll staff must correct a rejection by the next day: the recap and `explain --kenmerk`
    show what UWV/Digipoort found (the simulator's markers make one message fail validation and
    let UWV refuse another), and neither shows the person's BSN or birth date."""
    config = setup_samples(tmp_path / "samples", test_pki, smtp_port=smtp.port)
    export = config.parent / "exports" / "testbrood-dossiers.csv"
    text = export.read_text(encoding="utf-8-sig")
    assert ";Z-101;" in text and ";Z-102;" in text, "the samples changed: pick other dossiers"
    text = text.replace(";Z-101;", ";Z-101.FLOW-311;").replace(";Z-102;", ";Z-102.FLOW-510;")
    export.write_text(text, encoding="utf-8")
    sendable, _ = due_keys(config)
    rejected = {key for key in sendable if ".FLOW-" in key}
    assert len(rejected) == 2, sendable

    done = run_day(config)

    assert done.returncode == 1, done.stderr
    statuses = journal_status(config)
    assert {statuses[key]["status_code"] for key in rejected} == {"311", "510"}
    (mail,) = smtp.mailbox.by_recap()[f"WG001 {RUN_DATE}"]
    body = mail.text()
    plain = mail.message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    section = "\n\n".join(plain[plain.index("AFGEWEZEN — DRINGEND") :].split("\n\n")[:2])  # title, items
    assert section.count("Bevindingen van UWV:") == 2
    assert "      - Simulator: FLOW-311." in section  # the simulator's own finding for a valid message
    assert "      - De uitvragende partij heeft het bericht afgekeurd (simulator: FLOW-510)." in section
    assert "<li>Bevindingen van UWV:<ul><li>Simulator: FLOW-311.</li></ul></li>" in body  # the HTML part
    values = personal_values(config.parent / "exports")
    assert personal_data_in(mail.raw.decode("utf-8", "replace"), values) == []
    assert personal_data_in(body, values) == []

    for key, finding in (
        (next(k for k in rejected if "FLOW-311" in k), "Simulator: FLOW-311."),
        (next(k for k in rejected if "FLOW-510" in k), "(simulator: FLOW-510)"),
    ):
        assert finding in statuses[key]["findings"][0]
        explained = uwvcli(
            "explain", "--kenmerk", statuses[key]["kenmerk"], "--config", str(config), "--format", "json",
            cwd=config.parent,
        )  # fmt: skip
        assert explained.returncode == 0, explained.stderr
        history = json.loads(explained.stdout)["statuses"]
        assert finding in history[-1]["findings"][0]
        assert all(status["findings"] == [] for status in history[:-1])
        assert personal_data_in(explained.stdout, values) == []
