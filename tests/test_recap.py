"""The employer's recap: what payroll staff read after a run, and that it reaches them.

Mail goes through a real SMTP server (aiosmtpd) that each test starts on loopback, with real
STARTTLS (a throwaway CA from trustme) and AUTH where the test needs it."""

from __future__ import annotations

import logging
import socket
import ssl
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from hypothesis import given
from hypothesis import strategies as st

from uwvcli.digipoort import codes
from uwvcli.domain import rules
from uwvcli.domain.keys import NotificationKey, parse_key
from uwvcli.domain.models import (
    Dossier,
    Employer,
    Kind,
    MailSettings,
    Notification,
    OrgUnit,
    PathSettings,
    State,
    StatusRecord,
)
from uwvcli.domain.problems import Code, Note, Problem
from uwvcli.recap import mails as recap
from uwvcli.recap.mails import EmployerRecap, RecapItem

RUN_DATE = date(2026, 12, 1)  # a Tuesday

# Realistic dossiers: the recap must name these people only by personnel number and initials.
PEOPLE = {
    "1001": {
        "bsn": "111222333",
        "initials": "J.P.",
        "first_name": "Johanna",
        "name_prefix": "van der",
        "last_name": "Berghuis",
        "birth_date": date(1988, 7, 14),
    },
    "1002": {
        "bsn": "123456782",
        "initials": "A.",
        "first_name": "Aylin",
        "last_name": "Kaya-Smit",
        "birth_date": date(1993, 3, 9),
    },
    "1003": {
        "bsn": "012345672",
        "initials": "M.",
        "first_name": "Mohammed",
        "last_name": "El Idrissi",
        "birth_date": date(1979, 11, 30),
    },
}


def _personal_values() -> list[str]:
    values = []
    for person in PEOPLE.values():
        values += [person["bsn"], person["first_name"], person["last_name"]]
        born: date = person["birth_date"]
        values += [born.isoformat(), born.strftime("%d-%m-%Y"), born.strftime("%Y%m%d")]
        values.append(f"{born.day} {_MONTHS_NL[born.month - 1]} {born.year}")
    return values


def _employer(
    name: str = "Bakkerij De Vries BV", recap_email: str | None = "salaris@bakkerij.example"
) -> Employer:
    return Employer(
        id="WG001",
        name=name,
        active=True,
        start_date=date(2026, 1, 1),
        recap_email=recap_email,
        notifications=dict.fromkeys(Kind, True),
        org_units={},
    )


def _dossier(employee_id: str, dossier_id: str, **extra: object) -> Dossier:
    return Dossier(
        source="exports/dossiers.csv",
        line=2,
        employer_id="WG001",
        org_unit_id="OE2",
        employee_id=employee_id,
        dossier_id=dossier_id,
        dossier_type="ziekte",
        gender="V",
        **PEOPLE[employee_id],  # type: ignore[arg-type]
        **extra,  # type: ignore[arg-type]
    )


def _notification(
    dossier: Dossier,
    kind: Kind,
    due: date,
    deadline: date | None,
    variant: str | None = None,
    **extra: object,
) -> Notification:
    return Notification(
        key=NotificationKey(dossier.employer_id, dossier.dossier_id, kind, variant),
        kind=kind,
        employer_id=dossier.employer_id,
        employee_id=dossier.employee_id,
        dossier_id=dossier.dossier_id,
        due_date=due,
        deadline=deadline,
        state=extra.pop("state", State.DUE),  # type: ignore[arg-type]
        variant=variant,
        **extra,  # type: ignore[arg-type]
    )


#: UWV's findings for the rejected message; the second quotes the person's BSN and birth date.
REJECTION_DETAILS = (
    '<Responsemessage version="2006.1"><Identification><MessageId>M-1</MessageId></Identification>'
    "<Specification><Class>F</Class><Code>ZW0101</Code>"
    "<Description>DatEersteAoDag ontbreekt.</Description></Specification>"
    "<Specification><Class>F</Class><Code>ZW0202</Code><Description>Persoon met BSN "
    f"{PEOPLE['1001']['bsn']}, geboren {PEOPLE['1001']['birth_date']:%d-%m-%Y}, is niet bekend "
    "bij UWV.</Description></Specification></Responsemessage>"
)


def _busy_day(employer: Employer | None = None) -> EmployerRecap:
    """A run on which everything happens at once."""
    sick = _dossier("1001", "Z-17", first_sick_day=date(2026, 11, 30), vangnet_status="no_risk")
    mla = _dossier("1002", "Z-20", first_sick_day=date(2026, 2, 2))
    pregnant = replace(
        _dossier("1003", "P-3", expected_delivery_date=date(2027, 3, 1)),
        dossier_type="zwangerschap",
        first_sick_day=None,
    )
    rejected_status = StatusRecord(
        code="311",
        timestamp=datetime(2026, 11, 30, 23, 30, tzinfo=UTC),  # 1 December 00:30 in Amsterdam
        description="Validatie niet gelukt",
        foutcode="VAS500",
        foutbeschrijving="Het bericht voldoet niet aan de berichtspecificatie: DatEersteAoDag ontbreekt.",
        details=REJECTION_DETAILS,
    )
    zm = _notification(sick, Kind.ZW_ZIEKMELDING, date(2026, 11, 30), date(2026, 12, 3))
    wh = _notification(
        sick, Kind.WERKHERVATTING, date(2026, 11, 20), date(2026, 11, 24), "partial", state=State.LATE
    )
    mla_n = _notification(
        mla,
        Kind.MLA,
        date(2026, 11, 13),
        date(2026, 11, 20),
        state=State.LATE,
        notes=(Note.of(Code.RISICOCODE_DEFAULT, code="01", sector="013"),),
    )
    wazo = _notification(
        pregnant,
        Kind.WAZO,
        date(2026, 12, 10),
        date(2027, 1, 4),
        state=State.UPCOMING,
        leave_start=date(2027, 1, 18),
        leave_start_assumed=True,
        notes=(Note.of(Code.LEAVE_START_ASSUMED, leave_start="2027-01-18"),),
    )
    blocked = _notification(
        mla,
        Kind.HERSTEL_MLA,
        date(2026, 11, 25),
        None,
        state=State.BLOCKED,
        problems=(Problem.of(Code.BSN_MISSING),),
    )
    return EmployerRecap(
        employer=employer or _employer(),
        run_date=RUN_DATE,
        sent=[RecapItem.from_notification(zm, sick), RecapItem.from_notification(mla_n, mla)],
        rejected=[
            RecapItem.from_notification(
                wh,
                sick,
                status=rejected_status,
                explanation="Validatie niet gelukt: het bericht is afgekeurd",
            )
        ],
        blocked=[RecapItem.from_notification(blocked, mla)],
        late=[RecapItem.from_notification(mla_n, mla), RecapItem.from_notification(wh, sick)],
        changed_after_sending=[
            RecapItem.from_notification(
                _notification(sick, Kind.ZW_ZIEKMELDING, date(2026, 11, 2), None), sick
            )
        ],
        upcoming=[RecapItem.from_notification(wazo, pregnant)],
    )


def _parts(message: EmailMessage) -> tuple[str, str]:
    plain = message.get_body(("plain",))
    rich = message.get_body(("html",))
    assert plain is not None and rich is not None
    return plain.get_content(), rich.get_content()


def _parse(raw: bytes) -> EmailMessage:
    return BytesParser(policy=policy.default).parsebytes(raw)  # type: ignore[return-value]


# ---------------------------------------------------------------- content


def test_subject_tells_at_a_glance_with_the_urgent_count_first() -> None:
    message = recap.compose_recap(_busy_day(), from_address="uwvcli@verzuim.example")
    assert message["Subject"].startswith("uwvcli: 1 afgewezen, 1 geblokkeerd, 2 te laat")
    assert "2 verzonden" in message["Subject"]
    assert message["Subject"].endswith("— Bakkerij De Vries BV, 1 december 2026")


def test_mail_has_both_parts_and_the_headers_a_mail_client_needs() -> None:
    now = datetime(2026, 12, 1, 16, 5, tzinfo=UTC)
    message = recap.compose_recap(_busy_day(), from_address="uwvcli@verzuim.example", now=now)
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    assert message["To"] == "salaris@bakkerij.example"
    assert message["From"] == "uwvcli@verzuim.example"
    assert parsedate_to_datetime(message["Date"]) == now
    assert message["Message-ID"].startswith("<") and message["Message-ID"].endswith("@verzuim.example>")
    other = recap.compose_recap(_busy_day(), from_address="uwvcli@verzuim.example", now=now)
    assert other["Message-ID"] != message["Message-ID"]


def test_rejection_comes_first_urgent_with_code_verbatim_text_and_fix_by_date() -> None:
    text, rich = _parts(recap.compose_recap(_busy_day()))
    assert text.index("AFGEWEZEN — DRINGEND") < text.index("GEBLOKKEERD") < text.index("VERZONDEN")
    assert rich.index("Afgewezen — dringend") < rich.index("Geblokkeerd") < rich.index("Verzonden")
    rejected_block = text[text.index("AFGEWEZEN") : text.index("GEBLOKKEERD")]
    assert "Werkhervatting (gedeeltelijk), personeelsnr. 1001 (J.P.), dossier Z-17" in rejected_block
    assert "Digipoort-status 311 (Validatie niet gelukt), foutcode VAS500" in rejected_block
    assert "Uitleg: Validatie niet gelukt: het bericht is afgekeurd" in rejected_block
    assert "uwvcli explain VAS500" in rejected_block
    assert (
        "“Het bericht voldoet niet aan de berichtspecificatie: DatEersteAoDag ontbreekt.”" in rejected_block
    )
    # reported at 00:30 Amsterdam time on 1 December → to be corrected on Wednesday 2 December
    assert "Gemeld op 1 december 2026; corrigeer uiterlijk woensdag 2 december 2026." in rejected_block
    assert "boete" in rejected_block
    assert "dringend" in rich[: rich.index("Verzonden")].lower() and "color: #b00020" in rich


def test_a_rejection_lists_uwvs_findings_after_the_toelichting_redacted() -> None:
    text, rich = _parts(recap.compose_recap(_busy_day()))
    rejected_block = text[text.index("AFGEWEZEN") : text.index("GEBLOKKEERD")]
    expected = (
        "    Toelichting van Digipoort/UWV: “Het bericht voldoet niet aan de berichtspecificatie: "
        "DatEersteAoDag ontbreekt.”\n"
        "    Bevindingen van UWV:\n"
        "      - ZW0101: DatEersteAoDag ontbreekt. (Class F)\n"
        "      - ZW0202: Persoon met BSN […], geboren […], is niet bekend bij UWV. (Class F)\n"
        "    Meer uitleg: uwvcli explain VAS500\n"
    )
    assert expected in rejected_block
    assert (
        "<li>Bevindingen van UWV:<ul><li>ZW0101: DatEersteAoDag ontbreekt. (Class F)</li>"
        "<li>ZW0202: Persoon met BSN […], geboren […], is niet bekend bij UWV. (Class F)</li></ul></li>"
    ) in rich


def test_findings_are_escaped_in_html_and_cut_in_dutch() -> None:
    base = _busy_day()
    many = "\n".join(["<b>kapot</b> & stuk", *(f"Bevinding {i}" for i in range(12))])
    status = StatusRecord("510", datetime(2026, 12, 1, 12, tzinfo=UTC), "Afgekeurd", details=many)
    item = RecapItem.from_notification(
        _notification(_dossier("1001", "Z-17"), Kind.ZW_ZIEKMELDING, RUN_DATE, None), status=status
    )
    text, rich = _parts(recap.compose_recap(replace(base, rejected=[item])))
    assert "<b>kapot</b>" not in rich and "&lt;b&gt;kapot&lt;/b&gt; &amp; stuk" in rich
    assert "      - … en nog 4 bevinding(en)" in text


def test_a_rejection_without_details_has_no_findings_heading() -> None:
    base = _busy_day()
    item = replace(base.rejected[0], findings=())
    text, rich = _parts(recap.compose_recap(replace(base, rejected=[item])))
    assert "Bevindingen" not in text and "Bevindingen" not in rich


def test_blocked_says_what_to_fix_and_where() -> None:
    text, _ = _parts(recap.compose_recap(_busy_day()))
    blocked_block = text[text.index("GEBLOKKEERD") : text.index("TE LAAT")]
    assert "Herstel 42e-weeksmelding, personeelsnr. 1002 (A.), dossier Z-20" in blocked_block
    assert "BSN ontbreekt — vul het aan in het HR-systeem (exportveld bsn)" in blocked_block


def test_late_items_show_the_fine_band_reached() -> None:
    text, _ = _parts(recap.compose_recap(_busy_day()))
    late_block = text[text.index("TE LAAT") : text.index("GEWIJZIGD NA VERZENDING")]
    # the MLA (deadline 20 November) went today, 11 days late: the €230 band (7–27 days)
    assert "Termijn was 20 november 2026: 11 dagen te laat." in late_block
    assert "Bij deze run verzonden; boete-indicatie € 230." in late_block


def test_late_item_not_yet_sent_shows_when_the_fine_goes_up() -> None:
    base = _busy_day()
    late_unsent = replace(base, sent=[], rejected=[], late=[base.late[0]])
    text, _ = _parts(recap.compose_recap(late_unsent))
    assert "Nog niet verzonden; boete-indicatie nu € 230." in text
    assert "Vanaf 18 december 2026 € 455." in text  # 20 November + 28 days
    assert "€ 70." not in text.split("TE LAAT")[1]  # a band already passed is not announced


def test_late_wazo_warns_about_benefit_not_a_fine() -> None:
    base = _busy_day()
    wazo = replace(base.upcoming[0], deadline=date(2026, 11, 20), due_date=date(2026, 11, 1))
    text, _ = _parts(recap.compose_recap(replace(base, late=[wazo])))
    block = text[text.index("TE LAAT") :]
    assert "WAZO-aanvraag" in block and "niet verder terug dan een jaar" in block
    assert "boete-indicatie" not in block.split("GEWIJZIGD")[0]


def test_changed_after_sending_upcoming_and_notes() -> None:
    text, rich = _parts(recap.compose_recap(_busy_day()))
    assert "GEWIJZIGD NA VERZENDING — INTREKKEN EN OPNIEUW VERSTUREN (1)" in text
    upcoming = text[text.index("DE KOMENDE 14 DAGEN") :]
    assert "WAZO-aanvraag, personeelsnr. 1003 (M.), dossier P-3" in upcoming
    assert "Wordt verstuurd op donderdag 10 december 2026." in upcoming
    notes = text[text.index("OPMERKINGEN") :]
    assert (
        "42e-weeksmelding, personeelsnr. 1002 (A.), dossier Z-20: Geen risicopremiegroep ingevuld: 01"
        in notes
    )
    assert "sector 013" in notes
    assert "Opmerkingen" in rich


def test_notes_about_the_assumed_leave_start_when_the_wazo_is_sent() -> None:
    base = _busy_day()
    sent_wazo = replace(base, sent=[base.upcoming[0]], upcoming=[])
    text, _ = _parts(recap.compose_recap(sent_wazo))
    assert "vroegst toegestane ingangsdatum van het verlof (18 januari 2027)" in text


def test_no_personal_data_anywhere_in_the_raw_message_or_its_decoded_parts() -> None:
    message = recap.compose_recap(_busy_day())
    raw = message.as_bytes()
    text, rich = _parts(_parse(raw))
    haystacks = [raw.decode("ascii", "replace"), text, rich, str(message["Subject"])]
    for value in _personal_values():
        for haystack in haystacks:
            assert value not in haystack, f"personal data leaked: {value!r}"
    assert "1001" in text and "J.P." in text  # the personnel number and initials do appear


def test_hostile_employer_name_is_escaped_and_cannot_inject_headers() -> None:
    hostile = '<script>alert("x")</script> & Zn\r\nBcc: everyone@evil.example'
    base = _busy_day(_employer(name=hostile))
    item = replace(base.rejected[0], foutbeschrijving='<b>kapot</b> & "stuk"')
    message = recap.compose_recap(replace(base, rejected=[item]))
    raw = message.as_bytes()
    parsed = _parse(raw)
    assert parsed["Bcc"] is None
    assert "\n" not in str(parsed["Subject"])
    _, rich = _parts(parsed)
    assert "<script>" not in rich and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Zn" in rich
    assert "<b>kapot</b>" not in rich and "&lt;b&gt;kapot&lt;/b&gt;" in rich


def test_upcoming_alone_is_not_news() -> None:
    base = _busy_day()
    quiet = EmployerRecap(employer=base.employer, run_date=RUN_DATE, upcoming=base.upcoming, notes=["x"])
    assert not quiet.has_news
    assert base.has_news


def test_recap_folder_lives_next_to_the_journal(tmp_path: Path) -> None:
    paths = PathSettings(dossiers=(), outbox=tmp_path / "outbox", state=tmp_path / "var" / "uwvcli.sqlite")
    assert recap.recap_folder(paths) == tmp_path / "var" / "recaps"


# ---------------------------------------------------------------- Dutch wording, as properties

_MONTHS_NL = [
    "januari", "februari", "maart", "april", "mei", "juni",
    "juli", "augustus", "september", "oktober", "november", "december",
]  # fmt: skip


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31)))
def test_dutch_date_reads_back_to_the_same_day(day: date) -> None:
    weekday_name, day_number, month_name, year = recap.dutch_date(day, weekday=True).split(" ")
    assert date(int(year), _MONTHS_NL.index(month_name) + 1, int(day_number)) == day
    anchor = date(2026, 1, 1)  # a Thursday ("donderdag")
    weekdays = ["donderdag", "vrijdag", "zaterdag", "zondag", "maandag", "dinsdag", "woensdag"]
    assert weekday_name == weekdays[(day - anchor).days % 7]


@given(st.integers(min_value=1, max_value=2000))
def test_fine_never_decreases_and_follows_the_three_bands(days: int) -> None:
    fine = recap.fine_for(days)
    assert fine == (70 if days < 7 else 230 if days < 28 else 455)
    assert recap.fine_for(days + 1) >= fine


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)))
def test_fix_by_is_the_day_after_uwv_reported_it_in_dutch_time(moment: datetime) -> None:
    status = StatusRecord(
        code="311", timestamp=moment, description="Validatie niet gelukt", foutcode="VAS500"
    )
    sick = _dossier("1001", "Z-1", first_sick_day=date(2026, 1, 5))
    item = RecapItem.from_notification(
        _notification(sick, Kind.ZW_ZIEKMELDING, date(2026, 1, 5), None), sick, status=status
    )
    local = moment.astimezone(recap.AMSTERDAM).date()
    assert item.reported_on == local
    assert item.fix_by == local + timedelta(days=1)


# ---------------------------------------------------------------- files


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_written_first_as_private_eml_named_without_personal_data(tmp_path: Path) -> None:
    folder = tmp_path / "recaps"
    path = recap.write_recap(folder, recap.compose_recap(_busy_day()))
    assert path == folder / "pending" / "WG001_2026-12-01.eml"
    assert _mode(path) == 0o600
    assert _mode(folder) == 0o700 and _mode(folder / "pending") == 0o700
    assert [p.name for p in (folder / "pending").iterdir()] == [path.name]  # no temp file left behind
    assert _parse(path.read_bytes())["Subject"].startswith("uwvcli: 1 afgewezen")


def test_employer_without_recap_email_gets_an_unaddressed_file(tmp_path: Path) -> None:
    folder = tmp_path / "recaps"
    path = recap.write_recap(folder, recap.compose_recap(_busy_day(_employer(recap_email=None))))
    assert path.parent == folder / "unaddressed"
    assert _parse(path.read_bytes())["To"] is None


def test_employer_id_with_unsafe_characters_gives_a_safe_file_name(tmp_path: Path) -> None:
    employer = replace(_employer(), id="../WG 001")
    path = recap.write_recap(tmp_path, recap.compose_recap(_busy_day(employer)))
    assert path.parent == tmp_path / "pending" and path.name.startswith("___WG_001-")


def test_rerun_before_mailing_keeps_the_pending_recap_and_adds_a_follow_up(tmp_path: Path) -> None:
    """A rerun knows only its own run's events: the first run's recap, still waiting for the mail
    server, must survive it (its news would be lost otherwise)."""
    base = _busy_day()
    first = recap.write_recap(tmp_path, recap.compose_recap(replace(base, rejected=[])))
    first_bytes = first.read_bytes()
    again = recap.write_recap(tmp_path, recap.compose_recap(replace(base, rejected=[])))
    assert again == first and first.read_bytes() == first_bytes  # nothing new: nothing written
    second = recap.write_recap(tmp_path, recap.compose_recap(base))
    assert second != first and first.read_bytes() == first_bytes
    assert {p.name for p in (tmp_path / "pending").iterdir()} == {first.name, second.name}
    subject = _parse(second.read_bytes())["Subject"]
    assert subject.startswith("Aanvulling") and "1 afgewezen" in subject


# ---------------------------------------------------------------- SMTP


@dataclass
class Mailbox:
    """What the SMTP server received."""

    messages: list[tuple[str, list[str], bytes]] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)
    refuse_data: bool = False

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.refuse_data:
            return "554 5.7.1 message rejected as spam"
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server() -> Iterator[tuple[Controller, Mailbox]]:
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield controller, mailbox
    controller.stop()


@pytest.fixture
def tls_ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def tls_smtp_server(tls_ca: trustme.CA) -> Iterator[tuple[Controller, Mailbox]]:
    """STARTTLS required, AUTH required (only after TLS), one account."""
    mailbox = Mailbox()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls_ca.issue_cert("127.0.0.1", "localhost").configure_cert(server_context)

    def authenticate(server, session, envelope, mechanism, auth_data) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
            b"recaps",
            b"s3cret-Pa55",
        )
        if ok:
            mailbox.logins.append(auth_data.login.decode())
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535 itself

    controller = Controller(
        mailbox,
        hostname="127.0.0.1",
        port=_free_port(),
        tls_context=server_context,
        require_starttls=True,
        auth_required=True,
        auth_require_tls=True,
        authenticator=authenticate,
    )
    controller.start()
    yield controller, mailbox
    controller.stop()


def _mail(port: int, **extra: object) -> MailSettings:
    return MailSettings(smtp_host="127.0.0.1", smtp_port=port, from_address="uwvcli@verzuim.example", **extra)  # type: ignore[arg-type]


def test_pending_recap_is_mailed_and_moved_to_sent(
    tmp_path: Path, smtp_server: tuple[Controller, Mailbox]
) -> None:
    controller, mailbox = smtp_server
    path = recap.write_recap(
        tmp_path, recap.compose_recap(_busy_day(), from_address="uwvcli@verzuim.example")
    )
    report = recap.deliver_pending(tmp_path, _mail(controller.port))
    assert report.complete and report.sent == (tmp_path / "sent" / path.name,)
    assert not path.exists() and _mode(tmp_path / "sent" / path.name) == 0o600
    assert _mode(tmp_path / "sent") == 0o700
    [(sender, recipients, raw)] = mailbox.messages
    assert sender == "uwvcli@verzuim.example" and recipients == ["salaris@bakkerij.example"]
    received = _parse(raw)
    text, rich = _parts(received)
    assert "AFGEWEZEN — DRINGEND (1)" in text and "<h2" in rich
    for value in _personal_values():
        assert value not in raw.decode("ascii", "replace") and value not in text and value not in rich


def test_rerun_the_same_day_does_not_mail_twice_but_new_news_gets_a_follow_up(
    tmp_path: Path, smtp_server: tuple[Controller, Mailbox]
) -> None:
    controller, mailbox = smtp_server
    base = _busy_day()
    morning = replace(base, rejected=[])
    recap.write_recap(tmp_path, recap.compose_recap(morning))
    recap.deliver_pending(tmp_path, _mail(controller.port))

    again = recap.write_recap(tmp_path, recap.compose_recap(morning))  # a rerun with nothing new
    assert again == tmp_path / "sent" / "WG001_2026-12-01.eml"
    assert recap.deliver_pending(tmp_path, _mail(controller.port)).sent == ()
    assert len(mailbox.messages) == 1

    follow_up = recap.write_recap(tmp_path, recap.compose_recap(base))  # UWV rejected one since
    assert follow_up == tmp_path / "pending" / "WG001_2026-12-01-2.eml"
    recap.deliver_pending(tmp_path, _mail(controller.port))
    assert len(mailbox.messages) == 2
    assert _parse(mailbox.messages[1][2])["Subject"].startswith("Aanvulling — uwvcli: 1 afgewezen")


def test_server_down_loses_nothing_and_delivers_on_the_next_call(tmp_path: Path) -> None:
    port = _free_port()  # nothing listens here yet
    path = recap.write_recap(tmp_path, recap.compose_recap(_busy_day()))
    report = recap.deliver_pending(
        tmp_path,
        _mail(
            port,
        ),
        timeout=5,
    )
    assert not report.complete and report.sent == ()
    [waiting] = report.waiting
    assert waiting.path == path and path.exists()
    assert f"127.0.0.1:{port}" in waiting.reason and "next run" in waiting.reason

    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        report = recap.deliver_pending(tmp_path, _mail(port))
    finally:
        controller.stop()
    assert report.complete and len(mailbox.messages) == 1 and not path.exists()


def test_without_mail_configuration_the_eml_is_the_output(tmp_path: Path) -> None:
    path = recap.write_recap(tmp_path, recap.compose_recap(_busy_day()))
    before = path.read_bytes()
    report = recap.deliver_pending(tmp_path, None)
    assert not report.mail_configured and report.sent == ()
    assert [w.path for w in report.waiting] == [path] and path.read_bytes() == before
    assert not (tmp_path / "sent").exists()


def test_starttls_and_login_with_credentials_from_the_environment(
    tmp_path: Path,
    tls_smtp_server: tuple[Controller, Mailbox],
    tls_ca: trustme.CA,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    controller, mailbox = tls_smtp_server
    monkeypatch.setenv("RECAP_SMTP_USER", "recaps")
    monkeypatch.setenv("RECAP_SMTP_PASSWORD", "s3cret-Pa55")
    client_context = ssl.create_default_context()
    tls_ca.configure_trust(client_context)
    mail = _mail(
        controller.port, starttls=True, username_env="RECAP_SMTP_USER", password_env="RECAP_SMTP_PASSWORD"
    )
    recap.write_recap(tmp_path, recap.compose_recap(_busy_day()))
    report = recap.deliver_pending(tmp_path, mail, ssl_context=client_context)
    assert report.complete, report.waiting
    assert mailbox.logins == ["recaps"] and len(mailbox.messages) == 1


def test_wrong_password_keeps_the_recap_and_never_shows_the_password(
    tmp_path: Path,
    tls_smtp_server: tuple[Controller, Mailbox],
    tls_ca: trustme.CA,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    controller, mailbox = tls_smtp_server
    monkeypatch.setenv("RECAP_SMTP_USER", "recaps")
    monkeypatch.setenv("RECAP_SMTP_PASSWORD", "wrong-Pa55word")
    client_context = ssl.create_default_context()
    tls_ca.configure_trust(client_context)
    mail = _mail(
        controller.port, starttls=True, username_env="RECAP_SMTP_USER", password_env="RECAP_SMTP_PASSWORD"
    )
    path = recap.write_recap(tmp_path, recap.compose_recap(_busy_day()))
    report = recap.deliver_pending(tmp_path, mail, ssl_context=client_context)
    [waiting] = report.waiting
    assert path.exists() and mailbox.messages == []
    assert "refused the login" in waiting.reason and "RECAP_SMTP_PASSWORD" in waiting.reason
    assert "wrong-Pa55word" not in repr(report)


def test_missing_password_variable_is_named(
    tmp_path: Path, tls_smtp_server: tuple[Controller, Mailbox], monkeypatch: pytest.MonkeyPatch
) -> None:
    controller, _ = tls_smtp_server
    monkeypatch.setenv("RECAP_SMTP_USER", "recaps")
    monkeypatch.delenv("RECAP_SMTP_PASSWORD", raising=False)
    mail = _mail(
        controller.port, starttls=True, username_env="RECAP_SMTP_USER", password_env="RECAP_SMTP_PASSWORD"
    )
    recap.write_recap(tmp_path, recap.compose_recap(_busy_day()))
    [waiting] = recap.deliver_pending(tmp_path, mail).waiting
    assert "RECAP_SMTP_PASSWORD (mail.password_env) is not set" in waiting.reason


def test_tls_verification_stays_on_for_an_untrusted_server_certificate(
    tmp_path: Path, tls_smtp_server: tuple[Controller, Mailbox], monkeypatch: pytest.MonkeyPatch
) -> None:
    controller, mailbox = tls_smtp_server
    monkeypatch.setenv("RECAP_SMTP_USER", "recaps")
    monkeypatch.setenv("RECAP_SMTP_PASSWORD", "s3cret-Pa55")
    mail = _mail(
        controller.port, starttls=True, username_env="RECAP_SMTP_USER", password_env="RECAP_SMTP_PASSWORD"
    )
    path = recap.write_recap(tmp_path, recap.compose_recap(_busy_day()))
    report = recap.deliver_pending(tmp_path, mail)  # the default context does not know the test CA
    assert path.exists() and mailbox.messages == [] and mailbox.logins == []
    assert "CERTIFICATE_VERIFY_FAILED" in report.waiting[0].reason


def test_password_is_never_sent_unencrypted_to_a_remote_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RECAP_SMTP_USER", "recaps")
    monkeypatch.setenv("RECAP_SMTP_PASSWORD", "s3cret-Pa55")
    mail = MailSettings(
        smtp_host="smtp.invalid", username_env="RECAP_SMTP_USER", password_env="RECAP_SMTP_PASSWORD"
    )
    path = recap.write_recap(tmp_path, recap.compose_recap(_busy_day()))
    [waiting] = recap.deliver_pending(tmp_path, mail).waiting
    assert waiting.path == path and "set mail.starttls: true" in waiting.reason


def test_a_refused_recipient_keeps_that_recap_and_still_sends_the_others(
    tmp_path: Path, smtp_server: tuple[Controller, Mailbox]
) -> None:
    controller, mailbox = smtp_server
    mailbox.refuse = {"salaris@bakkerij.example"}
    refused = recap.write_recap(tmp_path, recap.compose_recap(_busy_day()))
    other_employer = replace(_employer(recap_email="hr@molen.example"), id="WG002", name="Molen BV")
    accepted = recap.write_recap(tmp_path, recap.compose_recap(_busy_day(other_employer)))
    report = recap.deliver_pending(tmp_path, _mail(controller.port))
    assert report.sent == (tmp_path / "sent" / accepted.name,)
    assert [w.path for w in report.waiting] == [refused] and refused.exists()
    assert [m[1] for m in mailbox.messages] == [["hr@molen.example"]]


def test_the_wage_of_a_partial_return_stays_out_of_the_recap() -> None:
    sick = _dossier("1001", "Z-9", first_sick_day=date(2026, 1, 5), partial_daily_wage=Decimal("84.50"))
    item = RecapItem.from_notification(
        _notification(sick, Kind.WERKHERVATTING, date(2026, 2, 1), None, "partial"), sick
    )
    text, _ = _parts(recap.compose_recap(EmployerRecap(employer=_employer(), run_date=RUN_DATE, sent=[item])))
    assert "84" not in text.split("VERZONDEN")[1].split("--")[0]


# ---------------------------------------------------------------- the rules' own wording


def _org_units(*units: OrgUnit) -> dict[str, OrgUnit]:
    return {unit.id: unit for unit in units}


def test_every_blocking_problem_the_rules_produce_reaches_the_employer_in_dutch() -> None:
    """Drives rules.evaluate with broken data of every §7 kind, so a rewording in rules.py that
    the recap no longer recognises fails here instead of reaching a Dutch mail in English."""
    employer = replace(
        _employer(),
        org_units=_org_units(
            OrgUnit(
                "OE1", "Hoofdkantoor", legal_entity=True, loonheffingennummer="123456789L01",
                uwv_aansluitnummer="123", uwv_sector="036", uwv_risicocode="1", iban="NL00ABNA0000000000",
            ),
            OrgUnit("OE3", "Los filiaal"),
            OrgUnit("OE4", "Lege BV", legal_entity=True),
            OrgUnit(
                "OE5", "Goede BV", legal_entity=True, loonheffingennummer="123456782L01",
                uwv_aansluitnummer="013000000123456", uwv_sector="013",
            ),
        ),
    )  # fmt: skip
    sick = {"vangnet_status": "no_risk", "first_sick_day": date(2026, 11, 23)}
    dossiers = [
        replace(
            _dossier("1001", "Z-1", **sick),
            org_unit_id="OE1", bsn=None, birth_date=None, direct_payment=True,
            loonheffingennummer="999999999L01", partial_recovery_date=date(2026, 11, 26),
        ),
        replace(_dossier("1002", "Z-2", **sick), org_unit_id="OE3"),
        replace(
            _dossier("1003", "Z-3", **sick),
            employee_id="1006", org_unit_id="OE4", bsn="123456780", iban="NL00ABNA0000000001",
        ),
        replace(
            _dossier("1003", "P-1"), org_unit_id="OE5", dossier_type="zwangerschap",
            expected_delivery_date=date(2027, 1, 20), leave_start_date=date(2026, 11, 20),
        ),
        replace(_dossier("1002", "Z-5", **sick), employee_id="1005", org_unit_id="OE5"),
    ]  # fmt: skip
    evaluation = rules.evaluate({"WG001": employer}, dossiers, RUN_DATE, horizon=14)
    assert not evaluation.input_errors
    problems = {p for n in evaluation.notifications for p in n.problems}
    assert len(problems) >= 12  # the data above breaks nearly every rule of RULES §7
    assert Code.LEGACY not in {p.code for p in problems}
    untranslated = sorted(str(p) for p in problems if recap.problem_in_dutch(p) == str(p))
    assert untranslated == []
    notes = {n for item in evaluation.notifications for n in item.notes}
    assert notes and all(recap.note_in_dutch(n) != str(n) for n in notes)

    by_id = {d.dossier_id: d for d in dossiers}
    items = [RecapItem.from_notification(n, by_id[n.dossier_id]) for n in evaluation.notifications]
    blocked = [i for i in items if i.problems]
    message = recap.compose_recap(
        EmployerRecap(
            employer=employer, run_date=RUN_DATE, blocked=blocked, sent=[i for i in items if not i.problems]
        )
    )
    text, rich = _parts(_parse(message.as_bytes()))
    assert "Organisatie-eenheid OE3 valt niet onder een juridische entiteit" in text
    assert (
        "UWV-aansluitnummer ontbreekt — vul het in bij organisatie-eenheid OE4 in de uwvcli-configuratie"
        in text
    )
    assert "Geen risicopremiegroep ingevuld: 01 gebruikt" in text
    for value in _personal_values():
        assert value not in text and value not in rich


def test_each_new_piece_of_news_after_mailing_gets_the_next_follow_up(
    tmp_path: Path, smtp_server: tuple[Controller, Mailbox]
) -> None:
    controller, mailbox = smtp_server
    base = _busy_day()
    days_news = [replace(base, rejected=[], blocked=[]), replace(base, blocked=[]), base]
    written = []
    for recap_of_the_moment in days_news:
        written.append(recap.write_recap(tmp_path, recap.compose_recap(recap_of_the_moment)).name)
        recap.deliver_pending(tmp_path, _mail(controller.port))
    assert written == ["WG001_2026-12-01.eml", "WG001_2026-12-01-2.eml", "WG001_2026-12-01-3.eml"]
    assert recap.write_recap(tmp_path, recap.compose_recap(base)).name == "WG001_2026-12-01-3.eml"
    assert len(mailbox.messages) == 3 and not list((tmp_path / "pending").iterdir())


def test_write_recaps_skips_employers_with_nothing_to_tell(tmp_path: Path) -> None:
    busy = _busy_day()
    quiet = EmployerRecap(
        employer=replace(_employer(), id="WG002"), run_date=RUN_DATE, upcoming=busy.upcoming
    )
    paths = recap.write_recaps(tmp_path, [busy, quiet], from_address="uwvcli@verzuim.example")
    assert [p.name for p in paths] == ["WG001_2026-12-01.eml"]
    assert _parse(paths[0].read_bytes())["From"] == "uwvcli@verzuim.example"


def test_a_recap_that_cannot_be_written_is_a_clear_error_not_a_traceback(tmp_path: Path) -> None:
    blocker = tmp_path / "recaps"
    blocker.write_text("not a folder")
    with pytest.raises(recap.RecapError) as caught:
        recap.write_recap(blocker, recap.compose_recap(_busy_day()))
    assert "cannot write the recap of employer WG001" in str(caught.value)
    assert caught.value.exit_code == 1


def test_without_an_explanation_the_code_table_explains_the_code() -> None:
    base = _busy_day()
    fault = replace(base.rejected[0], code=None, status_description=None, explanation=None, foutcode="ALS100")
    text, _ = _parts(recap.compose_recap(replace(base, rejected=[fault])))
    block = text[text.index("AFGEWEZEN") : text.index("GEBLOKKEERD")]
    assert "Foutcode ALS100" in block
    assert f"Uitleg: {codes.describe_nl('ALS100')}" in block
    assert "Wat te doen: Lees de toelichting." in block and "refused" not in block


def test_a_server_without_starttls_is_not_used_when_starttls_is_configured(
    tmp_path: Path, smtp_server: tuple[Controller, Mailbox]
) -> None:
    controller, mailbox = smtp_server
    path = recap.write_recap(tmp_path, recap.compose_recap(_busy_day()))
    [waiting] = recap.deliver_pending(tmp_path, _mail(controller.port, starttls=True)).waiting
    assert waiting.path == path and "STARTTLS" in waiting.reason and mailbox.messages == []


def test_a_refused_message_says_what_the_server_answered(
    tmp_path: Path, smtp_server: tuple[Controller, Mailbox]
) -> None:
    controller, mailbox = smtp_server
    mailbox.refuse_data = True
    path = recap.write_recap(tmp_path, recap.compose_recap(_busy_day()))
    [waiting] = recap.deliver_pending(tmp_path, _mail(controller.port)).waiting
    assert waiting.path == path and path.exists()
    assert "554 5.7.1 message rejected as spam" in waiting.reason


def test_a_from_address_with_a_display_name_still_gives_a_clean_envelope(
    tmp_path: Path, smtp_server: tuple[Controller, Mailbox]
) -> None:
    controller, mailbox = smtp_server
    named = "uwvcli Verzuimdiensten <uwvcli@verzuim.example>"
    message = recap.compose_recap(_busy_day(), from_address=named)
    assert message["Message-ID"].endswith("@verzuim.example>")
    recap.write_recap(tmp_path, message)
    mail = MailSettings(smtp_host="127.0.0.1", smtp_port=controller.port, from_address=named)
    assert recap.deliver_pending(tmp_path, mail).complete
    assert mailbox.messages[0][0] == "uwvcli@verzuim.example"


def test_a_large_employer_recap_survives_the_round_trip_through_the_file(tmp_path: Path) -> None:
    base = _busy_day()
    template = base.sent[0]
    many = [
        replace(template, key=parse_key(f"WG001/Z-{n}/zw-ziekmelding"), dossier_id=f"Z-{n}")
        for n in range(600)
    ]
    big = replace(base, sent=many)
    first = recap.write_recap(tmp_path, recap.compose_recap(big))
    assert "600 verzonden" in _parse(first.read_bytes())["Subject"]
    (tmp_path / "sent").mkdir(mode=0o700)
    first.rename(tmp_path / "sent" / first.name)  # as if mailed
    assert recap.write_recap(tmp_path, recap.compose_recap(big)) == tmp_path / "sent" / first.name
    assert not list((tmp_path / "pending").iterdir())


@given(
    st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)),
    st.integers(min_value=1, max_value=60),
)
def test_a_late_unsent_item_announces_only_future_fine_steps(deadline: date, days_late: int) -> None:
    run_date = deadline + timedelta(days=days_late)
    item = replace(_busy_day().late[0], deadline=deadline)
    text, _ = _parts(recap.compose_recap(EmployerRecap(employer=_employer(), run_date=run_date, late=[item])))
    assert f"boete-indicatie nu € {recap.fine_for(days_late)}." in text
    steps = []
    for line in text.splitlines():
        if line.strip().startswith("Vanaf "):
            _, day, month, year, _, amount = line.strip().rstrip(".").split(" ")
            steps.append((date(int(year), _MONTHS_NL.index(month) + 1, int(day)), int(amount)))
    assert all(when > run_date for when, _ in steps)
    assert all(amount > recap.fine_for(days_late) for _, amount in steps)
    assert [when for when, _ in steps] == sorted(when for when, _ in steps)
    assert (steps == []) == (days_late >= 28)  # from 28 days late the highest fine applies


# ---------------------------------------------------------------- the contrib files stay runnable


CONTRIB = Path(__file__).resolve().parent.parent / "contrib"


def _uwvcli_arguments(line: str) -> list[str]:
    """The arguments after `…/bin/uwvcli` in a service or crontab line, up to a redirection."""
    words = line.split(" ")
    start = next(i for i, w in enumerate(words) if w.endswith("/bin/uwvcli")) + 1
    arguments = []
    for word in words[start:]:
        if word.startswith((">", "|", ";")) or word.endswith(";"):
            break
        arguments.append(word)
    return arguments


@pytest.mark.parametrize(("file", "prefix"), [("uwvcli.service", "ExecStart="), ("crontab", "0 16 * * *")])
def test_the_scheduled_command_line_is_one_uwvcli_accepts(file: str, prefix: str, tmp_path: Path) -> None:
    # Imported here: the whole CLI is written in parallel, and its state must not decide
    # whether the recap tests above can run at all.
    from typer.testing import CliRunner

    from uwvcli.cli import app

    [line] = [ln for ln in (CONTRIB / file).read_text().splitlines() if ln.startswith(prefix)]
    arguments = _uwvcli_arguments(line)
    assert arguments[-3:] == ["run", "--date", "today"] and "--log-file" in arguments
    arguments[arguments.index("--log-file") + 1] = str(tmp_path / "uwvcli.log")
    try:
        result = CliRunner().invoke(app, [*arguments, "--help"])
    finally:  # the log file the root callback opened stays open after the command returns
        for handler in logging.getLogger("uwvcli").handlers:
            handler.close()
    assert result.exit_code == 0, result.output
    assert (tmp_path / "uwvcli.log").exists()


def test_the_timer_fires_at_four_in_amsterdam_and_catches_up() -> None:
    timer = (CONTRIB / "uwvcli.timer").read_text()
    assert "OnCalendar=*-*-* 16:00:00 Europe/Amsterdam" in timer and "Persistent=true" in timer
    service = (CONTRIB / "uwvcli.service").read_text()
    for setting in (
        "Type=oneshot",
        "UMask=0077",
        "ProtectSystem=strict",
        "NoNewPrivileges=yes",
        "PrivateTmp=yes",
    ):
        assert setting in service.splitlines()
    assert "CRON_TZ=Europe/Amsterdam" in (CONTRIB / "crontab").read_text().splitlines()


# ---------------------------------------------------------------- entirely in Dutch


def test_the_codes_are_explained_in_dutch_with_what_to_do() -> None:
    base = _busy_day()
    untold = replace(base.rejected[0], explanation=None)  # what the run gives: no explanation of its own
    text, rich = _parts(recap.compose_recap(replace(base, rejected=[untold])))
    block = text[text.index("AFGEWEZEN") : text.index("GEBLOKKEERD")]
    assert (
        "Uitleg: 311 Validatie niet gelukt — het bericht is afgekeurd bij de validatie van Digipoort "
        "(VAS500: de inhoud is afgekeurd bij de validatie van Digipoort)" in " ".join(block.split())
    )
    assert "Wat te doen: Lees de bevindingen, corrigeer de gegevens" in block
    for english in (
        codes.explain("311").summary,
        codes.explain("VAS500").summary,
        codes.explain("311").action,
    ):
        assert english not in text and english not in rich


def test_a_note_shared_by_many_notifications_is_one_line_with_their_count() -> None:
    base = _busy_day()
    note = Note.of(Code.RISICOCODE_DEFAULT, code="01", sector="013")
    sent = []
    for number in range(17):
        dossier = replace(
            _dossier("1001", f"Z-{100 + number}", first_sick_day=date(2026, 11, 2)),
            employee_id=f"2{number:03d}",
        )
        zm = _notification(dossier, Kind.ZW_ZIEKMELDING, date(2026, 11, 30), date(2026, 12, 3), notes=(note,))
        sent.append(RecapItem.from_notification(zm, dossier))
    text, _ = _parts(recap.compose_recap(replace(base, sent=sent, late=[], upcoming=[])))
    notes = " ".join(text[text.index("OPMERKINGEN") :].split())
    said = recap.note_in_dutch(note)
    assert f"17 meldingen: {said}" in notes
    assert notes.count(said) == 1
    assert "Personeelsnummers: 2000, 2001," in notes and "2016." in notes
