"""The fast paths that fill the outbox (benchmarks/bench_outbox.py) give exactly what the general
machinery gave: signatures byte for byte as earlier versions wrote them (so their files verify), fingerprints
equal to the ones earlier runs stored in journals, the same format findings, and files staged by
the signing workers that end up in place, or nowhere — never as a leftover temporary."""

from __future__ import annotations

import base64
import hashlib
import shutil
import stat
import unicodedata
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from signxml import DigestAlgorithm, SignatureMethod

from tests.helpers import write_setup
from tests.message_samples import CASES, SENDER, build, employer
from uwvcli.app.correction import fingerprint
from uwvcli.app.credentials import load_credentials
from uwvcli.app.prepare import prepare
from uwvcli.domain.keys import aanleverkenmerk, parse_key
from uwvcli.domain.models import Sender
from uwvcli.errors import SigningError
from uwvcli.inputs.config import load_config
from uwvcli.messages.build import NAMESPACE, build_message, check_message, content_digest, message_reference
from uwvcli.messages.signing import Credentials, sign_document, verify_document
from uwvcli.simulator.pki import simulator_pki_folder
from uwvcli.state.journal import Journal, JournalState
from uwvcli.state.outbox import Outbox

UWV = f"{{{NAMESPACE}}}"
EXAMPLES = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(scope="module")
def credentials(tmp_path_factory: pytest.TempPathFactory) -> Credentials:
    state = tmp_path_factory.mktemp("state")
    return load_credentials(
        Sender(name="Test", role="Intermediair"), environment="simulator", state_dir=state
    )


def signature_as_written_before(xml: bytes, credentials: Credentials) -> bytes:
    """An outbox file as uwvcli wrote it before it signed with signxml: the signature built from
    a template around lxml's exclusive C14N and `cryptography`. Files like these lie in outboxes
    written by earlier versions; they must still verify, and a file signed now is the same."""
    ds, exc = "http://www.w3.org/2000/09/xmldsig#", "http://www.w3.org/2001/10/xml-exc-c14n#"
    root = etree.fromstring(xml, etree.XMLParser(resolve_entities=False, no_network=True))
    digest = hashlib.sha256(etree.tostring(root, method="c14n", exclusive=True)).digest()
    signed_info = (
        f'<ds:SignedInfo xmlns:ds="{ds}">'
        f'<ds:CanonicalizationMethod Algorithm="{exc}"></ds:CanonicalizationMethod>'
        f'<ds:SignatureMethod Algorithm="{SignatureMethod.RSA_SHA256.value}"></ds:SignatureMethod>'
        f'<ds:Reference URI=""><ds:Transforms>'
        f'<ds:Transform Algorithm="{ds}enveloped-signature"></ds:Transform>'
        f'<ds:Transform Algorithm="{exc}"></ds:Transform></ds:Transforms>'
        f'<ds:DigestMethod Algorithm="{DigestAlgorithm.SHA256.value}"></ds:DigestMethod>'
        f"<ds:DigestValue>{base64.b64encode(digest).decode()}</ds:DigestValue></ds:Reference></ds:SignedInfo>"
    )
    value = credentials.private_key.sign(signed_info.encode(), padding.PKCS1v15(), hashes.SHA256())
    pem = credentials.certificate.public_bytes(serialization.Encoding.PEM).decode()
    certificate = "".join(line + "\n" for line in pem.splitlines() if not line.startswith("-----"))
    declaration = f' xmlns:ds="{ds}"'
    signature = (
        f'<ds:Signature xmlns:ds="{ds}">{signed_info.replace(declaration, "", 1)}'
        f"<ds:SignatureValue>{base64.b64encode(value).decode()}</ds:SignatureValue>"
        f"<ds:KeyInfo><ds:X509Data><ds:X509Certificate>{certificate}"
        "</ds:X509Certificate></ds:X509Data></ds:KeyInfo></ds:Signature>"
    )
    root.append(etree.fromstring(signature))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8") + b"\n"


# ---------------------------------------------------------------- signing


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_kind_of_message_is_signed_as_before_and_old_files_still_verify(
    case: str, credentials: Credentials
) -> None:
    message = build(*CASES[case])
    signed = sign_document(message, credentials)
    old = signature_as_written_before(message, credentials)
    assert signed == old
    assert verify_document(signed, trusted=credentials.certificate) == message
    assert verify_document(old, trusted=credentials.certificate) == message


# Free text as exports hold it: accents, XML's special characters, quotes, C1 controls the
# builder must clean; the surrounding structure varies with namespaces and attributes too.
TEXT = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1, max_size=40
)


XML_TEXT = st.text(
    st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff"), max_size=20
)


@EXAMPLES
@given(
    last_name=TEXT,
    company=TEXT,
    text=XML_TEXT,
    attribute=XML_TEXT,
    prefix=st.sampled_from([None, "ds", "u", "x"]),
)
def test_any_document_is_signed_as_before_and_old_files_still_verify(
    credentials: Credentials, last_name: str, company: str, text: str, attribute: str, prefix: str | None
) -> None:
    n, d = CASES["zw-zwangerschap"]
    message = build(n, replace(d, last_name=last_name), sender=replace(SENDER, name=company))
    old = signature_as_written_before(message, credentials)
    assert sign_document(message, credentials) == old
    assert verify_document(old, trusted=credentials.certificate) == message

    nsmap = {prefix: "urn:example"} if prefix else {None: "urn:example"}
    root = etree.Element("{urn:example}doc", nsmap={**nsmap, "other": "urn:other"})
    etree.SubElement(root, "{urn:other}item", {"note": attribute}).text = text
    document = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    signed = sign_document(document, credentials)
    assert signed == signature_as_written_before(document, credentials)
    assert etree.tostring(etree.fromstring(verify_document(signed)), method="c14n") == etree.tostring(
        root, method="c14n"
    )


def test_what_cannot_be_signed_is_a_clear_signing_error(credentials: Credentials) -> None:
    with pytest.raises(SigningError, match="not well-formed XML"):
        sign_document(b"<UwvZwMeldingInternBody><unclosed>", credentials)
    with pytest.raises(SigningError, match="DOCTYPE"):
        sign_document(b'<!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>', credentials)


# ---------------------------------------------------------------- fingerprints


def fingerprint_as_stored_before(xml_at_fixed_moment: bytes) -> str:
    """The fingerprint as earlier versions computed and stored it: the message built at
    2000-01-01 00:00 UTC, without its Ketenpartij, exclusive C14N, sha256."""
    root = etree.fromstring(xml_at_fixed_moment)
    for block in root.findall(f"{UWV}Ketenpartij"):
        root.remove(block)
    return hashlib.sha256(etree.tostring(root, method="c14n", exclusive=True)).hexdigest()


MOMENTS = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2040, 12, 31), timezones=st.just(UTC)
)


@EXAMPLES
@given(
    case=st.sampled_from(sorted(CASES)),
    created=MOMENTS,
    revision=st.integers(min_value=1, max_value=9),
    phone=st.from_regex(r"0[1-9][0-9]{8}", fullmatch=True),
)
def test_fingerprints_stay_what_journals_stored_whatever_the_moment_revision_or_sender(
    case: str, created: datetime, revision: int, phone: str
) -> None:
    n, d = CASES[case]
    emp = employer()
    stored = fingerprint_as_stored_before(
        build_message(
            n,
            d,
            emp,
            SENDER,
            aanleverkenmerk=aanleverkenmerk(n.key),
            created=datetime(2000, 1, 1, tzinfo=UTC),
        )
    )
    assert fingerprint(n, d, emp, SENDER) == stored
    built_now = build_message(
        n,
        d,
        emp,
        replace(SENDER, contact_phone=phone),
        aanleverkenmerk=aanleverkenmerk(n.key, revision),
        created=created,
    )
    assert content_digest(built_now, n.key) == stored


@pytest.mark.parametrize(
    "correction",
    [
        {"sick_reported_date": date(2026, 3, 1)},
        {"last_name": "Jansen-de Vries"},
        {"employee_id": "9999"},
    ],
)
def test_a_correction_of_the_export_changes_the_fingerprint(correction: dict) -> None:
    n, d = CASES["zw-zwangerschap"]
    emp = employer()
    assert fingerprint(n, replace(d, **correction), emp, SENDER) != fingerprint(n, d, emp, SENDER)


# ---------------------------------------------------------------- format checks


def with_timestamp(value: str) -> bytes:
    n, d = CASES["zw-zwangerschap"]
    root = etree.fromstring(build(n, d))
    root.find(f".//{UWV}DatTijdOpstellenMelding").text = value
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def strptime_accepts(value: str) -> bool:
    try:
        datetime.strptime(value, "%Y%m%d%H%M%S")
    except ValueError:
        return False
    return True


@settings(max_examples=300, deadline=None)
@given(
    st.from_regex(r"[0-9]{4}(0[0-9]|1[0-3])([0-3][0-9])([0-2][0-9])([0-6][0-9])([0-6][0-9])", fullmatch=True)
    | st.text("0123456789", min_size=14, max_size=14)
)
def test_a_timestamp_is_accepted_exactly_when_it_exists(value: str) -> None:
    findings = [f for f in check_message(with_timestamp(value)) if "DatTijdOpstellenMelding" in f]
    assert (findings == []) == strptime_accepts(value), findings


@pytest.mark.parametrize("value", ["2026022915000", "202602281500000", "2026-02-28T15:00", "20260229150000"])
def test_timestamps_of_the_wrong_length_or_day_are_found(value: str) -> None:
    assert any("DatTijdOpstellenMelding" in f for f in check_message(with_timestamp(value)))


def not_text(ch: str) -> bool:
    """What XML text in a UWV message must not hold (the definition the project started from)."""
    return unicodedata.category(ch) in ("Cc", "Cs") or ch in "\ufffe\uffff"


@EXAMPLES
@given(st.text(min_size=1, max_size=30))
def test_the_builder_cleans_any_name_into_text_the_check_accepts(name: str) -> None:
    n, d = CASES["zw-zwangerschap"]
    message = build(n, replace(d, last_name=name))
    written = etree.fromstring(message).findtext(f".//{UWV}SignificantDeelVanDeAchternaam")
    if written is not None:
        assert not any(not_text(ch) for ch in written)
        assert written == written.strip() and "  " not in written
    assert check_message(message) == []


def test_the_builder_cleans_every_code_point_as_the_definition_says() -> None:
    """All of Unicode, a hundred code points per name: what the builder writes is the name with
    every character that is not text replaced by a space, runs of spaces collapsed."""
    n, d = CASES["zw-zwangerschap"]
    for start in range(0, 0x110000, 100):
        name = "a".join(chr(c) for c in range(start, min(start + 100, 0x110000)))
        message = build(n, replace(d, last_name=name))
        written = etree.fromstring(message).findtext(f".//{UWV}SignificantDeelVanDeAchternaam")
        expected = " ".join("".join(" " if not_text(ch) else ch for ch in name).split())[:200].strip()
        assert written == (expected or None), hex(start)


def test_control_characters_xml_allows_are_still_found_by_the_check() -> None:
    n, d = CASES["zw-zwangerschap"]
    clean = build(n, replace(d, last_name="Vries"))
    for ch in ["\x7f", "\x85", "\x9f"]:
        assert not_text(ch)
        dirty = clean.replace(b">Vries<", f">Vr{ch}ies<".encode())
        assert any("contains control characters" in f for f in check_message(dirty)), repr(ch)
    for ch in ["\xa0", "\u200b", "\u00e9"]:
        assert not not_text(ch)
        assert check_message(clean.replace(b">Vries<", f">Vr{ch}ies<".encode())) == [], repr(ch)


# ---------------------------------------------------------------- staged files


def test_a_staged_file_is_private_invisible_and_goes_in_place_or_nowhere(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "outbox")
    old, _ = box.write("WG001-Z-1-ZM", b"<old/>")
    staged = box.stage("WG001-Z-1-ZM", b"<new/>")
    temporary = Path(staged.temporary)
    assert stat.S_IMODE(temporary.stat().st_mode) == 0o600
    assert box.messages() == [old] and old.read_bytes() == b"<old/>"  # send cannot pick it up yet
    assert staged.sha256 == hashlib.sha256(b"<new/>").hexdigest()
    assert box.commit(staged) == old and old.read_bytes() == b"<new/>"
    assert sorted(p.name for p in box.folder.iterdir()) == ["WG001-Z-1-ZM.xml"]

    dropped = box.stage("WG001-Z-2-ZM", b"<blocked after all/>")
    box.discard(dropped)
    assert sorted(p.name for p in box.folder.iterdir()) == ["WG001-Z-1-ZM.xml"]

    box.stage("WG001-Z-3-ZM", b"<the run was killed here/>")
    assert box.remove_temporaries() == 1
    assert box.messages() == [old]


# ---------------------------------------------------------------- prepare, in-process and in workers

ROWS = [
    {
        "employee_id": "1001",
        "dossier_id": "Z-1",
        "dossier_type": "ziekte",
        "first_sick_day": "2026-11-16",
        "sick_reason": "zwangerschap",
        "partial_recovery_date": "2026-11-25",
        "partial_daily_wage": "84,50",
    },
    {
        "employee_id": "1002",
        "dossier_id": "P-1",
        "dossier_type": "zwangerschap",
        "expected_delivery_date": "2027-01-30",
    },
]
RUN_DATE = date(2026, 11, 26)


def use_test_pki(state_dir: Path, pki: Path) -> None:
    """The module's PKI where `environment: simulator` looks for it (generating keys is slow)."""
    target = simulator_pki_folder(state_dir)
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    shutil.copytree(pki, target)


@pytest.mark.parametrize("workers", [0, 2])
def test_a_successor_built_while_its_predecessor_is_held_back_leaves_no_file_at_all(
    tmp_path: Path, test_pki: Path, workers: int
) -> None:
    """The partial werkhervatting is built and signed (in a worker: staged) before the run learns
    that its zw-ziekmelding, rejected and unchanged, holds it back: its staged file is dropped."""
    without_partial = [{k: v for k, v in ROWS[0].items() if not k.startswith("partial")}, ROWS[1]]
    config_path = write_setup(tmp_path, without_partial)
    state = tmp_path / "var" / "uwvcli.sqlite"
    use_test_pki(state.parent, test_pki)
    config = load_config(config_path)
    credentials = load_credentials(config.sender, environment="simulator", state_dir=state.parent)
    with Journal.open(state) as journal:
        prepare(config, RUN_DATE, journal, credentials=credentials, workers=workers)
        attempt = journal.begin_attempt("WG001/Z-1/zw-ziekmelding")
        journal.record_fault(attempt, "ALS100", "niet valide")

    config = load_config(write_setup(tmp_path, ROWS))
    with Journal.open(state) as journal:
        report = prepare(config, RUN_DATE, journal, credentials=credentials, workers=workers)
        partial = journal.entry("WG001/Z-1/werkhervatting/partial")
    assert partial is not None and partial.state == JournalState.BLOCKED
    assert tuple(map(str, partial.problems)) == ("waits for WG001/Z-1/zw-ziekmelding",)
    assert [str(e.key) for e in report.still_unsuccessful] == ["WG001/Z-1/zw-ziekmelding"]
    assert sorted(p.name for p in config.paths.outbox.iterdir()) == ["WG001-P-1-WAZO.xml", "WG001-Z-1-ZM.xml"]


def test_workers_and_the_run_itself_write_the_same_outbox_for_many_messages(
    tmp_path: Path, test_pki: Path
) -> None:
    """Enough dossiers for the default to choose worker processes; the files they stage are put
    in place, recorded with their sha256, and verify."""
    rows = [
        {
            **ROWS[0],
            "employee_id": f"{2000 + i}",
            "dossier_id": f"Z-{i}",
            "first_sick_day": (date(2026, 11, 16) - timedelta(days=i % 9)).isoformat(),
        }
        for i in range(300)
    ]
    outboxes = {}
    for workers in (0, None):
        folder = tmp_path / f"workers-{workers}"
        folder.mkdir()
        config = load_config(write_setup(folder, rows))
        use_test_pki(config.paths.state.parent, test_pki)
        credentials = load_credentials(
            config.sender, environment="simulator", state_dir=config.paths.state.parent
        )
        with Journal.open(config.paths.state) as journal:
            report = prepare(config, RUN_DATE, journal, credentials=credentials, workers=workers)
            entries = journal.entries()
        assert len(report.written) == 600 and not report.blocked
        files = {p.name: p.read_bytes() for p in config.paths.outbox.iterdir()}
        assert len(files) == 600  # nothing staged is left behind
        for entry in entries:
            signed = files[entry.file.name]
            assert hashlib.sha256(signed).hexdigest() == entry.sha256
            assert check_message(verify_document(signed, trusted=credentials.certificate)) == []
        outboxes[workers] = {name: messages_of(signed) for name, signed in files.items()}
    assert outboxes[0] == outboxes[None]


def messages_of(signed: bytes) -> str:
    """The message without what differs per run (the moment it was built): its content digest."""
    document = verify_document(signed)
    reference = message_reference(document)
    assert reference is not None
    return content_digest(document, parse_key(reference))  # revision 1 of a short key: the key
