"""Shared by the WUS tests (wss, client, simulator): a running simulator with a client that trusts
it, raw signed requests for the cases the client would never send, and independent checks
(the reference XSD, xmlsec1 / python-xmlsec)."""

from __future__ import annotations

import atexit
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import requests
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from lxml import etree
from message_samples import build, cases

from uwvcli.app.credentials import load_credentials
from uwvcli.digipoort import soap
from uwvcli.digipoort.client import DigipoortClient
from uwvcli.domain.models import Sender
from uwvcli.messages.signing import Credentials
from uwvcli.simulator.pki import ensure_test_pki, simulator_pki_folder
from uwvcli.simulator.server import Simulator

LHNR = "123456782L01"
BERICHTSOORT = "UWV_ZW_ZIEKMELDING"  # one of the placeholders the simulator knows
BSN = "111222333"  # the fictitious employee in message_samples
XMLSEC_IDS = ("Body", "Timestamp", "Action", "MessageID", "To", "ReplyTo", "RelatesTo")


def valid_message() -> bytes:
    """A real UWV message built by uwvcli (passes messages.check_message)."""
    return build(*cases()["zw-zwangerschap"])


@dataclass
class Setup:
    """A running simulator and the test PKI credentials that go with it."""

    simulator: Simulator
    credentials: Credentials
    state: Path
    requests: list[bytes] = field(default_factory=list)  # every request body the simulator got

    def client(self, **overrides: object) -> DigipoortClient:
        options: dict[str, object] = {
            "ca_bundle": self.simulator.ca_bundle,
            "service_certificate": self.simulator.service_certificate,
            "timeout": 10.0,
        }
        options.update(overrides)
        return DigipoortClient(
            self.simulator.aanlever_url,
            self.simulator.status_url,
            self.credentials,
            **options,  # type: ignore[arg-type]
        )

    def raw_session(self) -> requests.Session:
        """A plain mutual-TLS session (the test PKI's sender) for hand-made requests."""
        session = requests.Session()
        session.trust_env = False  # REQUESTS_CA_BUNDLE in the environment would replace `verify`
        session.cert = (str(self.simulator.pki.sender_cert), str(self.simulator.pki.sender_key))
        session.verify = str(self.simulator.ca_bundle)
        return session


_TEMPLATE_PKI: list[Path] = []


def seed_test_pki(state: Path) -> None:
    """Give `state` a test PKI copied from one generated once per test session: RSA key
    generation is most of a simulator's start-up time."""
    if not _TEMPLATE_PKI:
        folder = Path(tempfile.mkdtemp(prefix="uwvcli-test-pki-"))
        atexit.register(shutil.rmtree, folder, True)
        ensure_test_pki(folder / "test-pki")
        _TEMPLATE_PKI.append(folder / "test-pki")
    state.mkdir(mode=0o700, parents=True, exist_ok=True)
    target = simulator_pki_folder(state)
    if not target.exists():
        shutil.copytree(_TEMPLATE_PKI[0], target)


@contextmanager
def running_simulator(state: Path, **options: object) -> Iterator[Setup]:
    """The layout of `environment: simulator`: `<state>/simulator` next to `<state>/test-pki`."""
    seed_test_pki(state)
    with Simulator(state / "simulator", **options) as simulator:  # type: ignore[arg-type]
        credentials = load_credentials(
            Sender(name="Test", role="Bedrijf"), environment="simulator", state_dir=state
        )
        setup = Setup(simulator, credentials, state)
        handle = simulator.handle

        def recording(request):  # type: ignore[no-untyped-def]
            setup.requests.append(request.body)
            return handle(request)

        simulator.handle = recording  # type: ignore[method-assign]
        yield setup


def submit(client: DigipoortClient, aanleverkenmerk: str, inhoud: bytes | None = None):  # type: ignore[no-untyped-def]
    return client.aanleveren(
        berichtsoort=BERICHTSOORT,
        aanleverkenmerk=aanleverkenmerk,
        loonheffingennummer=LHNR,
        rol="Bedrijf",
        bestandsnaam=f"{aanleverkenmerk}.xml",
        inhoud=valid_message() if inhoud is None else inhoud,
    )


def reference_schema(shared: Path) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(shared / "reference/digipoort/digipoort-koppelvlak-1.2.xsd")))


def own_schema() -> etree.XMLSchema:
    return etree.XMLSchema(
        etree.parse(str(Path(soap.__file__).parent.parent / "data/digipoort-koppelvlak-uwvcli.xsd"))
    )


def payload_of(envelope: bytes) -> etree._Element:
    """The koppelvlak element of a request or response (the Fault's detail for a fault)."""
    root = soap.parse_xml(envelope)
    body = root.find(f"{{{soap.SOAP11}}}Body")
    assert body is not None
    fault = body.find(f"{{{soap.SOAP11}}}Fault")
    if fault is not None:
        detail = fault.find("detail")
        assert detail is not None
        return detail[0]
    return body[0]


def pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def xmlsec1_verify(
    signed: bytes, certificate_pem: Path, folder: Path
) -> subprocess.CompletedProcess[str] | None:
    """Verify with the xmlsec1 command-line tool; None where it is not installed."""
    if shutil.which("xmlsec1") is None:
        return None
    document = folder / "signed.xml"
    document.write_bytes(signed)
    ids = [arg for name in XMLSEC_IDS for arg in ("--id-attr:Id", name)]
    return subprocess.run(
        ["xmlsec1", "--verify", "--pubkey-cert-pem", str(certificate_pem), *ids, str(document)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def python_xmlsec_verify(signed: bytes, certificate_pem: bytes) -> None:
    """Verify with python-xmlsec (libxmlsec1): registers the wsu:Id attributes, takes the key
    from the certificate (it cannot follow a wsse:SecurityTokenReference). Raises on failure."""
    import xmlsec

    root = etree.fromstring(signed)
    for element in root.iter():
        if isinstance(element.tag, str) and element.get(f"{{{soap.WSU}}}Id"):
            xmlsec.tree.add_ids(element, ["Id"])
    signature = root.find(f".//{{{soap.DS}}}Signature")
    context = xmlsec.SignatureContext()
    context.key = xmlsec.Key.from_memory(certificate_pem, xmlsec.constants.KeyDataFormatCertPem)
    context.verify(signature)
