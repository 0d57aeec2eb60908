"""The employee's copy (issue 13): once UWV accepted a notification of a kind the employer shares
(`employers[].share_with_employee`), the employee gets one short Dutch mail at the address of the
export's `employee_email` — without BSN or birth date. Real runs against the simulator, a real
SMTP server on loopback; the configuration and export reading as units."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

import pytest
import yaml

from tests.helpers import employer, write_setup
from tests.run_support import (
    FROM_ADDRESS,
    Mail,
    Mailbox,
    SmtpServer,
    free_port,
    personal_data_in,
    personal_values,
    received_by_key,
    run_day,
    setup_samples,
)
from uwvcli.domain.identifiers import is_email_address
from uwvcli.domain.keys import Kind
from uwvcli.errors import ConfigError
from uwvcli.inputs.config import load_config
from uwvcli.inputs.exports import load_table

ANNA = "anna.testpersoon@example.org"  # Z-101, zw-ziekmelding accepted on the run date
BART = "b.werknemer@example.org"  # Z-108: zw-ziekmelding and a werkhervatting, both accepted
NOT_AN_ADDRESS = "z104 bij testbrood"  # Z-104: must never be echoed
WITHOUT_ADDRESS = 4  # Z-102, Z-105, Z-107, Z-109: zw-ziekmeldingen accepted, no employee_email


def share(config: Path, employer_id: str, kinds: dict[str, object]) -> None:
    document = yaml.safe_load(config.read_text(encoding="utf-8"))
    for entry in document["employers"]:
        if entry["id"] == employer_id:
            entry["share_with_employee"] = kinds
    config.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True), encoding="utf-8")


def add_addresses(config: Path, addresses: dict[str, str]) -> None:
    """An `employee_email` column in the Testbrood export, filled for the given dossiers."""
    path = config.parent / "exports" / "testbrood-dossiers.csv"
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig")), delimiter=";"))
    out = io.StringIO()
    writer = csv.DictWriter(out, [*rows[0], "employee_email"], delimiter=";", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({**row, "employee_email": addresses.get(row["dossier_id"], "")})
    path.write_text(out.getvalue(), encoding="utf-8-sig")


def shared_samples(folder: Path, pki: Path, port: int) -> Path:
    config = setup_samples(folder, pki, smtp_port=port)
    share(config, "WG001", {"zw-ziekmelding": True})
    add_addresses(config, {"Z-101": ANNA, "Z-108": BART, "Z-104": NOT_AN_ADDRESS})
    return config


def copies(mails: list[Mail]) -> list[Mail]:
    return [mail for mail in mails if mail.message["X-Uwvcli-Copy"]]


def recap_text(mails: list[Mail], employer_id: str) -> str:
    return "\n".join(m.text() for m in mails if str(m.message["X-Uwvcli-Recap"]).startswith(employer_id))


def test_an_accepted_shared_notification_mails_the_employee_once_in_dutch_without_bsn(
    tmp_path: Path, smtp: SmtpServer, test_pki: Path
) -> None:
    config = shared_samples(tmp_path / "samples", test_pki, smtp.port)
    exports = config.parent / "exports"

    first = run_day(config)
    again = run_day(config)

    assert first.returncode == again.returncode == 1  # the samples' blocked ones
    mails = smtp.mailbox.snapshot()
    sent = copies(mails)
    assert sorted(m.recipients for m in sent) == [(ANNA,), (BART,)]  # not Z-108's werkhervatting
    anna = next(m for m in sent if m.recipients == (ANNA,))
    text = anna.text()
    assert str(anna.message["To"]) == ANNA and anna.mail_from == FROM_ADDRESS
    assert "ZW-ziekmelding" in text and "Bakkerij Testbrood BV" in text
    assert "eerste ziektedag: 30 november 2026" in text
    assert "Bakkerij Testbrood BV heeft op " in text and " ontvangen en geaccepteerd" in text
    assert personal_data_in(text, personal_values(exports)) == []
    recap = recap_text(mails, "WG001")
    assert f"{WITHOUT_ADDRESS} werknemer(s) kregen geen kopie" in recap and "geen employee_email" in recap
    assert "1 werknemer(s) kregen geen kopie" in recap and "geen geldig e-mailadres" in recap
    for output in (recap, first.stdout, first.stderr, again.stdout, again.stderr):
        assert NOT_AN_ADDRESS not in output
    assert copies(smtp.mailbox.snapshot()) == sent  # the rerun mailed no copy again


def test_a_kind_the_employer_does_not_share_mails_no_employee(
    tmp_path: Path, smtp: SmtpServer, test_pki: Path
) -> None:
    config = setup_samples(tmp_path / "samples", test_pki, smtp_port=smtp.port)
    share(config, "WG001", {"werkhervatting": False, "wazo": True})  # P-105 has no address
    add_addresses(config, {"Z-101": ANNA, "Z-108": BART})

    assert run_day(config).returncode == 1

    mails = smtp.mailbox.snapshot()
    assert copies(mails) == []
    assert "1 werknemer(s) kregen geen kopie" in recap_text(mails, "WG001")  # the wazo, enabled
    assert "kopie" not in recap_text(mails, "WG002")


def test_with_the_mail_server_down_the_copy_waits_and_the_uwv_message_is_not_resent(
    tmp_path: Path, test_pki: Path
) -> None:
    port = free_port()  # nothing listens here yet
    config = shared_samples(tmp_path / "samples", test_pki, port)
    state = config.parent / "var"

    down = run_day(config)

    assert down.returncode == 1
    sent_once = received_by_key(config, state / "simulator")
    assert sent_once and set(sent_once.values()) == {1}
    assert len(list((state / "employee-copies" / "pending").glob("*.eml"))) == 2
    recap = next((state / "recaps" / "pending").glob("WG001_*.eml")).read_text(encoding="utf-8")
    assert "kopie(=C3=ABn) voor werknemers konden nog niet worden gemaild" in recap  # quoted-printable

    server = SmtpServer(port, Mailbox()).start()
    try:
        up = run_day(config)
        again = run_day(config)
    finally:
        server.stop()

    assert up.returncode == again.returncode == 1
    assert received_by_key(config, state / "simulator") == sent_once
    assert sorted(m.recipients for m in copies(server.mailbox.snapshot())) == [(ANNA,), (BART,)]
    assert list((state / "employee-copies" / "pending").iterdir()) == []


# ---------------------------------------------------------------- configuration and export


def configured(tmp_path: Path, share_with_employee: object = None) -> Path:
    tmp_path.mkdir(exist_ok=True)
    entry = employer()
    if share_with_employee is not None:
        entry["share_with_employee"] = share_with_employee
    return write_setup(tmp_path, [], employers=[entry])


def test_share_with_employee_defaults_to_false_per_kind(tmp_path: Path) -> None:
    config = load_config(configured(tmp_path, {"wazo": True}))
    employer = config.employers["WG001"]
    assert employer.shares(Kind.WAZO)
    assert not any(employer.shares(kind) for kind in Kind if kind != Kind.WAZO)
    assert not any(load_config(configured(tmp_path / "none")).employers["WG001"].shares(k) for k in Kind)


@pytest.mark.parametrize(
    ("value", "path", "says"),
    [
        ({"ziekmelding": True}, "employers[0].share_with_employee.ziekmelding", "unknown"),
        ({"wazo": "yes please"}, "employers[0].share_with_employee.wazo", "true or false"),
        (["wazo"], "employers[0].share_with_employee", "mapping"),
    ],
)
def test_share_with_employee_is_strict(tmp_path: Path, value: object, path: str, says: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(configured(tmp_path, value))
    assert path in str(caught.value) and says in str(caught.value).lower()


def test_an_invalid_employee_email_is_a_warning_of_its_row_that_never_shows_the_value(tmp_path: Path) -> None:
    config = load_config(configured(tmp_path))
    export = tmp_path / "invalid-email.csv"
    export.write_text(
        "employer_id,org_unit_id,employee_id,dossier_id,dossier_type,first_sick_day,employee_email\n"
        "WG001,OE2,1,Z-1,ziekte,2026-11-30,jan@example.org\n"
        "WG001,OE2,2,Z-2,ziekte,2026-11-30,jan at example\n"
        "WG001,OE2,3,Z-3,ziekte,2026-11-30,\n",
        encoding="utf-8",
    )
    table, errors = load_table([export], config.employers)
    assert errors == []
    assert [d.employee_email for d in table.dossiers()] == ["jan@example.org", "jan at example", None]
    (warning,) = table.invalid_emails()
    assert (warning.line, warning.field) == (3, "employee_email")
    assert "jan at example" not in warning.message and "not an e-mail address" in warning.message
    preview, _ = load_table([export], config.employers, names=False)  # due/check do not read it
    assert {d.employee_email for d in preview.dossiers()} == {None}


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("a@example.org", True),
        ("a.b+c@mail.example.nl", True),
        ("a@localhost", False),
        ("a b@example.org", False),
        ("a@example.org, b@example.org", False),
        ("<a@example.org>", False),
        ("a@example.org\r\nBcc: x@example.org", False),
        ("", False),
    ],
)
def test_an_employee_email_is_one_plain_address(text: str, valid: bool) -> None:
    assert is_email_address(text) is valid


def test_the_copy_names_the_dates_of_its_kind() -> None:
    from uwvcli.domain.models import Dossier
    from uwvcli.recap.copies import notification_dates

    dossier = Dossier(
        "x", 1, "WG001", "OE1", "1", "P-1", "zwangerschap", expected_delivery_date=date(2027, 3, 1)
    )
    assert notification_dates(Kind.WAZO, None, dossier) == [
        ("vermoedelijke bevallingsdatum", date(2027, 3, 1))
    ]


def test_a_json_export_has_employee_email_too(tmp_path: Path) -> None:
    config = load_config(configured(tmp_path))
    export = tmp_path / "dossiers.json"
    common = {
        "employer_id": "WG001",
        "org_unit_id": "OE2",
        "dossier_type": "ziekte",
        "first_sick_day": "2026-11-30",
    }
    export.write_text(
        json.dumps(
            [
                {**common, "employee_id": "1", "dossier_id": "Z-1", "employee_email": "jan@example.org"},
                {**common, "employee_id": "2", "dossier_id": "Z-2", "employee_email": "@example.org"},
            ]
        ),
        encoding="utf-8",
    )
    table, errors = load_table([export], config.employers)
    assert errors == []
    assert [d.employee_email for d in table.dossiers()] == ["jan@example.org", "@example.org"]
    assert [(w.line, w.field) for w in table.invalid_emails()] == [(1, "employee_email")]
