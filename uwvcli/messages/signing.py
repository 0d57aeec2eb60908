"""The sender's key and certificate: loading them safely, mutual TLS, and signing outbox files.

Every message is signed into the outbox (enveloped XML-DSig) so that `send` can prove that the
file it submits is the one `run` built: a file changed in between is refused, not sent. The bytes
submitted to Digipoort are the verified document with the signature removed, because UWV's schema
has no place for it.
"""

from __future__ import annotations

import base64
import datetime as dt
import os
import secrets
import ssl
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from lxml import etree
from signxml import (
    CanonicalizationMethod,
    DigestAlgorithm,
    SignatureConfiguration,
    SignatureConstructionMethod,
    SignatureMethod,
    XMLSigner,
    XMLVerifier,
)
from signxml.exceptions import InvalidCertificate

from uwvcli.common import xmlsafe
from uwvcli.domain.models import Sender
from uwvcli.errors import SigningError

EXPIRY_WARNING_DAYS = 30
_DS = "http://www.w3.org/2000/09/xmldsig#"
_PKCS12_SUFFIXES = {".p12", ".pfx"}
_STRICT_ENVIRONMENTS = {"preprod", "production"}

#: The organisation of every certificate the simulator's test PKI issues, so that preprod and
#: production can refuse them (`is_test_certificate`).
TEST_PKI_ORGANIZATION = "uwvcli test PKI"
_TAMPERED = "the outbox file was changed after it was signed, or was not signed by uwvcli"
_REBUILD = "do not send it; run `uwvcli run` again to rebuild and re-sign it"


@dataclass(frozen=True)
class Credentials:
    """The sender's RSA key with its certificate (and any intermediate certificates)."""

    private_key: rsa.RSAPrivateKey = field(repr=False)
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...] = ()

    def load_into(self, context: ssl.SSLContext) -> None:
        """Load the client certificate and key into `context` for mutual TLS.

        `ssl` only reads keys from files. So the key is written re-encrypted under a random
        one-time password into a private temporary folder, loaded, and the folder removed at
        once: an unencrypted key never touches the disk, whatever the source format was.
        """
        password = secrets.token_urlsafe(32).encode()
        key_pem = self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(password),
        )
        chain_pem = b"".join(
            c.public_bytes(serialization.Encoding.PEM) for c in (self.certificate, *self.chain)
        )
        with tempfile.TemporaryDirectory(prefix="uwvcli-tls-") as folder:  # mkdtemp: mode 0700
            cert_file, key_file = Path(folder, "client.pem"), Path(folder, "client.key")
            _write_private(cert_file, chain_pem)
            _write_private(key_file, key_pem)
            context.load_cert_chain(cert_file, key_file, password=password)

    def expiry_warning(self, today: dt.date | None = None) -> str | None:
        """A warning when the certificate expires within 30 days (or has expired) on `today`."""
        today = today or dt.date.today()
        expires = self.certificate.not_valid_after_utc.date()
        days = (expires - today).days
        if days > EXPIRY_WARNING_DAYS:
            return None
        serial = f"the sender certificate (serial {self.certificate.serial_number:x})"
        if days < 0:
            return f"{serial} expired on {expires.isoformat()}: configure its successor in sender.certificate"
        return (
            f"{serial} expires on {expires.isoformat()} (in {days} day(s)): "
            "order a new one and configure it in sender.certificate before then"
        )


# ---------------------------------------------------------------- loading


def load_credentials(sender: Sender, *, environment: str) -> Credentials:
    """The sender's credentials as configured, checked before anything is signed or sent.

    Refuses (SigningError) a key that does not belong to its certificate, a certificate outside its
    validity period, and the uwvcli test PKI outside the simulator and custom environments. Which
    files to use (the test PKI's for `environment: simulator`) is `app.credentials`' decision.
    """
    if sender.private_key is None and sender.certificate is None:
        raise SigningError(
            "sender.certificate and sender.private_key are not configured: "
            f"environment {environment!r} needs the sender's PKIoverheid certificate and key"
        )
    elif sender.private_key is None:
        raise SigningError("sender.private_key is not configured: name the key file of sender.certificate")
    else:
        password = _password(sender)
        if sender.private_key.suffix.lower() in _PKCS12_SUFFIXES:
            credentials = _from_pkcs12(sender.private_key, sender.certificate, password)
        elif sender.certificate is None:
            raise SigningError(
                "sender.certificate is not configured: name the PEM certificate that belongs to "
                f"sender.private_key ({sender.private_key}), or use a .p12/.pfx bundle"
            )
        else:
            credentials = _from_pem(sender.certificate, sender.private_key, password=password)
    _check_usable(credentials, environment)
    return credentials


def _password(sender: Sender) -> bytes | None:
    name = sender.private_key_password_env
    if not name:
        return None
    value = os.environ.get(name)
    if value is None:
        raise SigningError(
            f"environment variable {name} (sender.private_key_password_env) is not set: "
            "set it to the password of sender.private_key before running uwvcli"
        )
    return value.encode()


def _from_pem(cert_path: Path, key_path: Path, *, password: bytes | None) -> Credentials:
    certs = _read_certificates(cert_path)
    key_data = _read(key_path, "sender.private_key")
    try:
        key = serialization.load_pem_private_key(key_data, password=password)
    except TypeError:
        if password is not None:  # a password was configured, but the key is not encrypted
            key = _load_unencrypted_key(key_data, key_path)
        else:
            raise SigningError(
                f"sender.private_key ({key_path}) is encrypted: set sender.private_key_password_env "
                "to the name of an environment variable that holds its password"
            ) from None
    except ValueError:
        if password is not None and b"ENCRYPTED" in key_data:
            raise SigningError(_wrong_password(key_path)) from None
        raise SigningError(
            f"sender.private_key ({key_path}) is not a PEM private key (-----BEGIN PRIVATE KEY-----)"
        ) from None
    except UnsupportedAlgorithm:
        raise SigningError(f"sender.private_key ({key_path}): the key type is not supported") from None
    leaf, chain = _pick_leaf(certs, key, cert_path)
    return Credentials(private_key=_rsa(key, key_path), certificate=leaf, chain=chain)


def _load_unencrypted_key(data: bytes, key_path: Path):
    try:
        return serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise SigningError(f"sender.private_key ({key_path}) is not a usable PEM private key") from None


def _from_pkcs12(bundle_path: Path, cert_path: Path | None, password: bytes | None) -> Credentials:
    data = _read(bundle_path, "sender.private_key")
    try:
        key, cert, extra = pkcs12.load_key_and_certificates(data, password)
    except ValueError:
        if password is None:
            raise SigningError(
                f"sender.private_key ({bundle_path}) cannot be opened without a password: set "
                "sender.private_key_password_env to the name of an environment variable that holds it"
            ) from None
        raise SigningError(
            _wrong_password(bundle_path) + " (and that the file is a PKCS#12 bundle)"
        ) from None
    if key is None:
        raise SigningError(f"sender.private_key ({bundle_path}) holds no private key")
    certs = ([cert] if cert is not None else []) + list(extra)
    if cert is None and cert_path is not None:
        certs = _read_certificates(cert_path) + certs
    if not certs:
        raise SigningError(f"sender.private_key ({bundle_path}) holds no certificate: set sender.certificate")
    leaf, chain = _pick_leaf(certs, key, bundle_path)
    return Credentials(private_key=_rsa(key, bundle_path), certificate=leaf, chain=chain)


def _wrong_password(path: Path) -> str:
    return (
        f"the password in sender.private_key_password_env does not open sender.private_key ({path}): "
        "check the environment variable's value"
    )


def _read(path: Path, setting: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise SigningError(f"{setting} ({path}) cannot be read: {error.strerror}") from None


def _read_certificates(path: Path) -> list[x509.Certificate]:
    data = _read(path, "sender.certificate")
    try:
        return x509.load_pem_x509_certificates(data)
    except ValueError:
        raise SigningError(
            f"sender.certificate ({path}) is not a PEM certificate (-----BEGIN CERTIFICATE-----)"
        ) from None


def _pick_leaf(certs: list[x509.Certificate], key, source: Path):
    """The certificate that belongs to the key, and the others as its chain."""
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    for index, cert in enumerate(certs):
        spki = cert.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        if spki == public:
            return cert, tuple(certs[:index] + certs[index + 1 :])
    raise SigningError(
        f"the private key does not belong to the certificate ({source}): "
        "configure the key and certificate that were issued together"
    )


def _rsa(key, source: Path) -> rsa.RSAPrivateKey:
    if not isinstance(key, rsa.RSAPrivateKey):
        raise SigningError(f"sender.private_key ({source}) is not an RSA key, which Digipoort requires")
    return key


def _check_usable(credentials: Credentials, environment: str) -> None:
    cert = credentials.certificate
    now = dt.datetime.now(dt.UTC)
    if now < cert.not_valid_before_utc:
        raise SigningError(
            f"the sender certificate is not valid before {cert.not_valid_before_utc:%Y-%m-%d %H:%M} UTC: "
            "wait until then or configure the current certificate"
        )
    if now > cert.not_valid_after_utc:
        raise SigningError(
            f"the sender certificate expired on {cert.not_valid_after_utc:%Y-%m-%d}: "
            "configure its successor in sender.certificate and sender.private_key"
        )
    if environment in _STRICT_ENVIRONMENTS and is_test_certificate(cert):
        raise SigningError(
            f"the sender certificate is a uwvcli test certificate, which {environment} does not accept: "
            "configure the sender's PKIoverheid certificate"
        )


def is_test_certificate(cert: x509.Certificate) -> bool:
    """True for a certificate issued by (or being) a uwvcli test CA."""
    return any(
        attribute.value == TEST_PKI_ORGANIZATION
        for name in (cert.issuer, cert.subject)
        for attribute in name.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    )


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


# ---------------------------------------------------------------- XML signatures


def sign_document(xml: bytes, credentials: Credentials) -> bytes:
    """Sign `xml` enveloped with signxml: RSA-SHA256, SHA-256 digest, exclusive C14N, the
    certificate in KeyInfo, the signature as the root's last child. Verifying the result gives
    `xml` back. (Files of earlier versions, signed from a template of this same shape, verify
    as before: `verify_document` checks the signature, not who wrote it.)"""
    try:
        root = etree.fromstring(xml, xmlsafe.parser())
    except etree.XMLSyntaxError:
        raise SigningError("cannot sign the message: it is not well-formed XML") from None
    if root.getroottree().docinfo.doctype:
        raise SigningError("cannot sign the message: it has a DOCTYPE, which uwvcli's messages never have")
    signed = _SIGNER.sign(root, key=credentials.private_key, cert=[credentials.certificate])
    return _serialize(signed)


_SIGNER = XMLSigner(
    method=SignatureConstructionMethod.enveloped,
    signature_algorithm=SignatureMethod.RSA_SHA256,
    digest_algorithm=DigestAlgorithm.SHA256,
    c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0,
)


def verify_document(signed: bytes, *, trusted: x509.Certificate | None = None) -> bytes:
    """Check the signature of an outbox file and return the document without it — exactly the
    bytes that go into `berichtInhoud`.

    With `trusted`, the signature must have been made with that certificate's key; without it,
    with the certificate embedded in the file. Anything the signature would not cover (comments,
    processing instructions, a DTD, a second signature) is refused too.
    """
    try:
        root = etree.fromstring(signed, xmlsafe.parser())
    except etree.XMLSyntaxError:
        raise SigningError(f"{_TAMPERED}: it is not well-formed XML; {_REBUILD}") from None
    signature = _the_signature(root)
    embedded = _embedded_certificate(signature)
    if trusted is not None and embedded != trusted:
        raise SigningError(
            f"{_TAMPERED}: it was signed with another certificate than the sender's; {_REBUILD}"
        )
    try:
        XMLVerifier().verify(
            root,
            x509_cert=embedded,
            expect_config=SignatureConfiguration(
                signature_methods=frozenset({SignatureMethod.RSA_SHA256}),
                digest_algorithms=frozenset({DigestAlgorithm.SHA256}),
                expect_references=1,
            ),
        )
    except InvalidCertificate:
        raise SigningError(
            "the outbox file was signed with a certificate that is not valid today (expired?): "
            f"{_REBUILD} with the current certificate"
        ) from None
    except Exception:  # whatever a damaged or hostile file makes the verifier trip over: not trusted
        raise SigningError(f"{_TAMPERED}: the signature does not match its content; {_REBUILD}") from None
    root.remove(signature)
    return _serialize(root)


def _the_signature(root: etree._Element) -> etree._Element:
    """The one enveloped signature, as the root's last child, over the whole document."""
    if root.getroottree().docinfo.doctype:
        raise SigningError(f"{_TAMPERED}: it contains a DOCTYPE; {_REBUILD}")
    if root.xpath("//comment() | //processing-instruction()"):
        raise SigningError(f"{_TAMPERED}: it contains comments or processing instructions; {_REBUILD}")
    signatures = root.findall(f".//{{{_DS}}}Signature")
    last = root[-1] if len(root) else None
    if len(signatures) != 1 or last is None or last is not signatures[0]:
        raise SigningError(f"{_TAMPERED}: it does not end in exactly one uwvcli signature; {_REBUILD}")
    references = last.findall(f"{{{_DS}}}SignedInfo/{{{_DS}}}Reference")
    if len(references) != 1 or references[0].get("URI") != "":
        raise SigningError(f"{_TAMPERED}: the signature does not cover the whole document; {_REBUILD}")
    return last


def _embedded_certificate(signature: etree._Element) -> x509.Certificate:
    text = signature.findtext(f"{{{_DS}}}KeyInfo/{{{_DS}}}X509Data/{{{_DS}}}X509Certificate")
    if not text:
        raise SigningError(f"{_TAMPERED}: the signature carries no certificate; {_REBUILD}")
    try:
        return x509.load_der_x509_certificate(_b64decode(text))
    except ValueError:
        raise SigningError(f"{_TAMPERED}: the signature's certificate is damaged; {_REBUILD}") from None


def _b64decode(text: str) -> bytes:
    return base64.b64decode("".join(text.split()), validate=True)


def _serialize(root: etree._Element) -> bytes:
    """One serialization for signing and verifying (ending in a newline, like `build_message`'s
    output), so that verifying a signed message gives back the very bytes that were signed."""
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8") + b"\n"
