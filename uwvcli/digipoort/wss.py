"""WS-Security for Digipoort's WUS profile: sign a SOAP envelope, and verify one.

The profile is narrow and fixed (DIGIPOORT.md, and the policy text inside Logius' WSDLs): a
`wsu:Timestamp`, the X.509 certificate as a `wsse:BinarySecurityToken`, and one XML signature
with a separate `ds:Reference` for the Body, the Timestamp and every WS-Addressing header, each
canonicalised with exclusive C14N, the key found through a `wsse:SecurityTokenReference`.
That is exactly what public WUS clients (wus-js, wus.core, Java CXF set-ups) send, so it is built
here directly with lxml's C14N and `cryptography` rather than through a general XML-DSig engine
that knows nothing of security tokens. The tests verify what this module signs with xmlsec1.

Verification is strict on purpose: ids must be unique (no signature wrapping), every element that
must be covered is located structurally (the Envelope's own Body, the Header's own children) and
its id must be among the references, and only the algorithms of the profile are accepted.
"""

from __future__ import annotations

import base64
import hmac
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from lxml import etree

from uwvcli.digipoort.soap import DS, EXC_C14N, SOAP11, WSA, WSSE, WSU, canonical, parse_xml, xsd_datetime
from uwvcli.errors import DigipoortError

X509V3 = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3"
BASE64_BINARY = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"
)

# The configuration names the algorithm; the URIs and hashes follow from it.
SIGNATURE_ALGORITHMS: dict[str, tuple[str, str, type[hashes.HashAlgorithm]]] = {
    "rsa-sha1": (f"{DS}rsa-sha1", f"{DS}sha1", hashes.SHA1),
    "rsa-sha256": ("http://www.w3.org/2001/04/xmldsig-more#rsa-sha256", "http://www.w3.org/2001/04/xmlenc#sha256",
                   hashes.SHA256),
}  # fmt: skip
_SIGNATURE_METHODS = {uri: hash_ for uri, _, hash_ in SIGNATURE_ALGORITHMS.values()}
_DIGEST_METHODS = {digest: hash_ for _, digest, hash_ in SIGNATURE_ALGORITHMS.values()}

TIMESTAMP_LIFETIME = timedelta(minutes=5)
CLOCK_SKEW = timedelta(minutes=5)

_WSU_ID = f"{{{WSU}}}Id"


class WsSecurityError(DigipoortError):
    """A signature, token or timestamp does not hold. The message names the element and the
    check that failed; it never contains message content."""


@dataclass(frozen=True)
class VerifiedEnvelope:
    """An envelope whose signature holds. Read data only through `body` and `header`: canonical
    copies (`soap.canonical`) of the exact elements whose digests were checked."""

    envelope: etree._Element
    header: etree._Element
    body: etree._Element
    certificate: x509.Certificate
    signed_ids: frozenset[str]
    created: datetime
    expires: datetime | None


# ------------------------------------------------------------------------------------- signing


def sign_envelope(
    envelope: etree._Element,
    *,
    private_key: rsa.RSAPrivateKey,
    certificate: x509.Certificate,
    algorithm: str = "rsa-sha1",
    now: datetime | None = None,
) -> None:
    """Add the `wsse:Security` header to `envelope` (in place): a Timestamp valid for five
    minutes from `now`, the certificate as BinarySecurityToken, and a signature over the Body,
    the Timestamp and every WS-Addressing header. Call it last, just before sending: a retry
    must build and sign a new envelope (fresh Timestamp, new MessageID)."""
    if algorithm not in SIGNATURE_ALGORITHMS:
        raise WsSecurityError(
            f"unknown signature algorithm {algorithm!r}: use one of {', '.join(SIGNATURE_ALGORITHMS)}"
        )
    if not isinstance(private_key, rsa.RSAPrivateKey):
        raise WsSecurityError("Digipoort's WS-Security profile signs with RSA: the key is not an RSA key")
    signature_uri, digest_uri, hash_type = SIGNATURE_ALGORITHMS[algorithm]
    header, body = _header_and_body(envelope)
    created = (now or datetime.now(UTC)).astimezone(UTC)

    security = etree.Element(f"{{{WSSE}}}Security", nsmap={"wsse": WSSE, "wsu": WSU})
    security.set(f"{{{SOAP11}}}mustUnderstand", "1")
    header.insert(0, security)

    timestamp = etree.SubElement(security, f"{{{WSU}}}Timestamp")
    timestamp.set(_WSU_ID, _new_id("TS"))
    etree.SubElement(timestamp, f"{{{WSU}}}Created").text = xsd_datetime(created)
    etree.SubElement(timestamp, f"{{{WSU}}}Expires").text = xsd_datetime(created + TIMESTAMP_LIFETIME)

    token = etree.SubElement(security, f"{{{WSSE}}}BinarySecurityToken")
    token.set(_WSU_ID, _new_id("X509"))
    token.set("EncodingType", BASE64_BINARY)
    token.set("ValueType", X509V3)
    token.text = base64.b64encode(certificate.public_bytes(serialization.Encoding.DER)).decode("ascii")

    signed = [timestamp, *_addressing_headers(header), body]
    for element in signed:
        if element.get(_WSU_ID) is None:
            element.set(_WSU_ID, _new_id(etree.QName(element).localname))

    signature = etree.SubElement(security, f"{{{DS}}}Signature", nsmap={"ds": DS})
    signed_info = etree.SubElement(signature, f"{{{DS}}}SignedInfo")
    etree.SubElement(signed_info, f"{{{DS}}}CanonicalizationMethod", Algorithm=EXC_C14N)
    etree.SubElement(signed_info, f"{{{DS}}}SignatureMethod", Algorithm=signature_uri)
    for element in signed:
        reference = etree.SubElement(signed_info, f"{{{DS}}}Reference", URI=f"#{element.get(_WSU_ID)}")
        transforms = etree.SubElement(reference, f"{{{DS}}}Transforms")
        etree.SubElement(transforms, f"{{{DS}}}Transform", Algorithm=EXC_C14N)
        etree.SubElement(reference, f"{{{DS}}}DigestMethod", Algorithm=digest_uri)
        etree.SubElement(reference, f"{{{DS}}}DigestValue").text = _digest(element, hash_type)

    value = private_key.sign(_c14n(signed_info), padding.PKCS1v15(), hash_type())
    etree.SubElement(signature, f"{{{DS}}}SignatureValue").text = base64.b64encode(value).decode("ascii")
    key_info = etree.SubElement(signature, f"{{{DS}}}KeyInfo")
    str_ = etree.SubElement(key_info, f"{{{WSSE}}}SecurityTokenReference")
    etree.SubElement(str_, f"{{{WSSE}}}Reference", URI=f"#{token.get(_WSU_ID)}", ValueType=X509V3)


# ---------------------------------------------------------------------------------- verifying


def verify_envelope(
    xml: bytes | etree._Element,
    *,
    trusted_certificate: x509.Certificate | None = None,
    now: datetime | None = None,
    clock_skew: timedelta = CLOCK_SKEW,
    require_must_understand: bool = True,
) -> VerifiedEnvelope:
    """Check a signed envelope the way Digipoort's profile demands and return what was verified.

    Every reference digest and the signature value must hold; the Body, the Timestamp and every
    WS-Addressing header must be among the signed references; the Timestamp must be current
    (within `clock_skew`); and when `trusted_certificate` is given the signing certificate must be
    exactly that one. Raises `WsSecurityError` naming the first check that failed.

    `require_must_understand`: Digipoort demands `mustUnderstand="1"` on a request's wsse:Security
    (the simulator checks it). On an answer the flag only tells its receiver to process the
    header, which the client does anyway; it adds no trust, so the client does not insist on it."""
    envelope = parse_xml(xml) if isinstance(xml, bytes) else xml
    if envelope.tag != f"{{{SOAP11}}}Envelope":
        raise WsSecurityError("the message is not a SOAP 1.1 envelope")
    header, body = _header_and_body(envelope)
    security = _only_child(header, f"{{{WSSE}}}Security", "the Header", "wsse:Security")
    if require_must_understand and security.get(f"{{{SOAP11}}}mustUnderstand") not in ("1", "true"):
        raise WsSecurityError('wsse:Security is not marked soapenv:mustUnderstand="1"')

    timestamp = _only_child(security, f"{{{WSU}}}Timestamp", "wsse:Security", "wsu:Timestamp")
    created, expires = _check_timestamp(timestamp, now or datetime.now(UTC), clock_skew)

    ids = _ids(envelope)
    signature = _only_child(security, f"{{{DS}}}Signature", "wsse:Security", "ds:Signature")
    signed_info = _only_child(signature, f"{{{DS}}}SignedInfo", "ds:Signature", "ds:SignedInfo")
    signed_ids = _check_references(signed_info, ids)

    required = {"the Body": body, "the Timestamp": timestamp}
    required.update({f"wsa:{etree.QName(h).localname}": h for h in _addressing_headers(header)})
    for name, element in required.items():
        element_id = element.get(_WSU_ID)
        if element_id is None or element_id not in signed_ids or ids.get(element_id) is not element:
            raise WsSecurityError(f"the signature does not cover {name}")

    certificate = _signing_certificate(signature, security, ids)
    _check_signature_value(signature, signed_info, certificate)
    if trusted_certificate is not None and not _same_certificate(certificate, trusted_certificate):
        raise WsSecurityError(
            "the message is signed with a certificate other than the expected one "
            f"(SHA-256 fingerprint {certificate.fingerprint(hashes.SHA256()).hex()})"
        )
    # Values are read from what the digests covered, not from the tree as parsed: exclusive C14N
    # without comments skips comments and processing instructions, and lxml's `.text` stops at
    # them, so a comment inside a signed value would change what is read while the signature holds.
    return VerifiedEnvelope(
        envelope, canonical(header), canonical(body), certificate, frozenset(signed_ids), created, expires
    )


def _check_timestamp(
    timestamp: etree._Element, now: datetime, skew: timedelta
) -> tuple[datetime, datetime | None]:
    created = _timestamp_value(timestamp, "Created", required=True)
    expires = _timestamp_value(timestamp, "Expires", required=False)
    assert created is not None
    if created > now + skew:
        raise WsSecurityError(f"wsu:Timestamp Created ({xsd_datetime(created)}) lies in the future")
    if expires is not None and expires <= created:
        raise WsSecurityError("wsu:Timestamp Expires is not after Created")
    if (expires or created + TIMESTAMP_LIFETIME) < now - skew:
        raise WsSecurityError(f"wsu:Timestamp has expired (created {xsd_datetime(created)})")
    return created, expires


def _timestamp_value(timestamp: etree._Element, name: str, *, required: bool) -> datetime | None:
    elements = timestamp.findall(f"{{{WSU}}}{name}")
    if not elements:
        if required:
            raise WsSecurityError(f"wsu:Timestamp has no wsu:{name}")
        return None
    if len(elements) > 1:
        raise WsSecurityError(f"wsu:Timestamp has more than one wsu:{name}")
    try:
        value = datetime.fromisoformat((elements[0].text or "").strip().replace("Z", "+00:00"))
    except ValueError:
        raise WsSecurityError(f"wsu:{name} is not an xsd:dateTime") from None
    if value.tzinfo is None:
        raise WsSecurityError(f"wsu:{name} has no time zone")
    return value.astimezone(UTC)


def _check_references(signed_info: etree._Element, ids: dict[str, etree._Element]) -> set[str]:
    _signed_info_prefixes(signed_info)
    signed: set[str] = set()
    references = signed_info.findall(f"{{{DS}}}Reference")
    if not references:
        raise WsSecurityError("the signature has no references")
    for reference in references:
        uri = reference.get("URI", "")
        if not uri.startswith("#") or uri[1:] not in ids:
            raise WsSecurityError(f"signature reference {uri!r} does not point to an element in the message")
        element_id = uri[1:]
        if element_id in signed:
            raise WsSecurityError(f"signature reference {uri!r} appears twice")
        prefixes = _reference_transform(reference)
        digest_method = reference.find(f"{{{DS}}}DigestMethod")
        hash_type = _DIGEST_METHODS.get(
            digest_method.get("Algorithm", "") if digest_method is not None else ""
        )
        if hash_type is None:
            raise WsSecurityError(f"signature reference {uri!r} uses an unsupported digest method")
        expected = (reference.findtext(f"{{{DS}}}DigestValue") or "").strip()
        actual = _digest(ids[element_id], hash_type, prefixes)
        if not hmac.compare_digest(expected.encode(), actual.encode()):
            raise WsSecurityError(f"the digest of signed element {uri!r} does not match: it was altered")
        signed.add(element_id)
    return signed


def _signed_info_prefixes(signed_info: etree._Element) -> list[str] | None:
    """SignedInfo must be canonicalised with exclusive C14N. Its CanonicalizationMethod may name
    an InclusiveNamespaces PrefixList, as WSS4J/CXF-based peers write it: then the SignatureValue
    was computed over SignedInfo *with* those inherited namespace declarations."""
    method = signed_info.find(f"{{{DS}}}CanonicalizationMethod")
    if method is None or method.get("Algorithm") != EXC_C14N:
        raise WsSecurityError("SignedInfo is not canonicalised with exclusive C14N")
    return _inclusive_prefixes(method)


def _reference_transform(reference: etree._Element) -> list[str] | None:
    """The only transform the profile uses is one exclusive C14N (optionally with a PrefixList)."""
    transforms = reference.findall(f"{{{DS}}}Transforms/{{{DS}}}Transform")
    if len(transforms) != 1 or transforms[0].get("Algorithm") != EXC_C14N:
        raise WsSecurityError(
            f"signature reference {reference.get('URI')!r} must have exactly one exclusive C14N transform"
        )
    return _inclusive_prefixes(transforms[0])


def _inclusive_prefixes(method: etree._Element) -> list[str] | None:
    """The PrefixList of an exclusive C14N method, None without one. Known limit: lxml drops
    `#default`, so a signature that needs an *inherited* default namespace rendered fails (no
    captured Digipoort answer declares a default namespace above a signed element)."""
    inclusive = method.find(f"{{{EXC_C14N}}}InclusiveNamespaces")
    return inclusive.get("PrefixList", "").split() if inclusive is not None else None


def _signing_certificate(
    signature: etree._Element, security: etree._Element, ids: dict[str, etree._Element]
) -> x509.Certificate:
    reference = signature.find(f"{{{DS}}}KeyInfo/{{{WSSE}}}SecurityTokenReference/{{{WSSE}}}Reference")
    if reference is None:
        raise WsSecurityError("KeyInfo does not refer to a security token")
    uri = reference.get("URI", "")
    token = ids.get(uri[1:]) if uri.startswith("#") else None
    if token is None or token.tag != f"{{{WSSE}}}BinarySecurityToken" or token.getparent() is not security:
        raise WsSecurityError(
            "the KeyInfo reference does not point to a BinarySecurityToken in wsse:Security"
        )
    if token.get("ValueType") != X509V3:
        raise WsSecurityError("the BinarySecurityToken is not an X.509 v3 certificate")
    if token.get("EncodingType", BASE64_BINARY) != BASE64_BINARY:
        raise WsSecurityError("the BinarySecurityToken is not Base64Binary")
    try:
        return x509.load_der_x509_certificate(base64.b64decode("".join((token.text or "").split())))
    except ValueError:
        raise WsSecurityError("the BinarySecurityToken does not hold a readable certificate") from None


def _check_signature_value(
    signature: etree._Element, signed_info: etree._Element, certificate: x509.Certificate
) -> None:
    method = signed_info.find(f"{{{DS}}}SignatureMethod")
    hash_type = _SIGNATURE_METHODS.get(method.get("Algorithm", "") if method is not None else "")
    if hash_type is None:
        raise WsSecurityError("the signature uses an unsupported signature method (rsa-sha1 or rsa-sha256)")
    public_key = certificate.public_key()
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise WsSecurityError("the signing certificate does not hold an RSA key")
    try:
        value = base64.b64decode("".join((signature.findtext(f"{{{DS}}}SignatureValue") or "").split()))
        public_key.verify(
            value, _c14n(signed_info, _signed_info_prefixes(signed_info)), padding.PKCS1v15(), hash_type()
        )
    except (InvalidSignature, ValueError):
        raise WsSecurityError(
            "the signature value does not verify: SignedInfo was altered or forged"
        ) from None


# ------------------------------------------------------------------------------------- helpers


def _header_and_body(envelope: etree._Element) -> tuple[etree._Element, etree._Element]:
    header = _only_child(envelope, f"{{{SOAP11}}}Header", "the Envelope", "soapenv:Header")
    body = _only_child(envelope, f"{{{SOAP11}}}Body", "the Envelope", "soapenv:Body")
    return header, body


def _only_child(parent: etree._Element, tag: str, parent_name: str, name: str) -> etree._Element:
    found = [child for child in parent if child.tag == tag]
    if len(found) != 1:
        raise WsSecurityError(f"{parent_name} must hold exactly one {name} (found {len(found)})")
    return found[0]


def _addressing_headers(header: etree._Element) -> list[etree._Element]:
    return [child for child in header if isinstance(child.tag, str) and child.tag.startswith(f"{{{WSA}}}")]


def _ids(envelope: etree._Element) -> dict[str, etree._Element]:
    """Every wsu:Id in the message; a duplicate is refused, since it is how signatures get wrapped."""
    ids: dict[str, etree._Element] = {}
    for element in envelope.iter():
        element_id = element.get(_WSU_ID) if isinstance(element.tag, str) else None
        if element_id is None:
            continue
        if element_id in ids:
            raise WsSecurityError(f"the id {element_id!r} occurs more than once in the message")
        ids[element_id] = element
    return ids


def _c14n(element: etree._Element, inclusive_prefixes: list[str] | None = None) -> bytes:
    return etree.tostring(
        element, method="c14n", exclusive=True, with_comments=False, inclusive_ns_prefixes=inclusive_prefixes
    )


def _digest(
    element: etree._Element, hash_type: type[hashes.HashAlgorithm], prefixes: list[str] | None = None
) -> str:
    digest = hashes.Hash(hash_type())
    digest.update(_c14n(element, prefixes))
    return base64.b64encode(digest.finalize()).decode("ascii")


def _same_certificate(a: x509.Certificate, b: x509.Certificate) -> bool:
    return a.public_bytes(serialization.Encoding.DER) == b.public_bytes(serialization.Encoding.DER)


def _new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex}"
