"""Enveloped XML-DSig of edXML packages, in the form the SDK samples carry.

Form (``edoc.edxml``): a ``Signature`` element in the XML-DSig namespace, inside
``edXMLHeader`` right after ``TraceHeaderList``; one ``Reference URI=""`` (the whole package,
attachments included) with the enveloped-signature transform; ``SignedInfo`` canonicalized with
C14N 1.0 (``http://www.w3.org/TR/2001/REC-xml-c14n-20010315``); ``KeyInfo/X509Data`` with
``X509SubjectName`` and the signer's ``X509Certificate``.

:func:`sign` writes RSA-SHA256 / SHA-256 through an :class:`XmlSigner` (the HSM key plugs in
there). :func:`verify` accepts RSA-SHA1 from old peers with a warning, RSA-SHA256/512, the
namespace-less ``Signature`` the SDK's generated samples carry (it then sits in the edXML
namespace) and exclusive C14N transforms, including the non-standard URI
``http://www.w3.org/TR/xml-exc-c14n#`` found in those samples (with a warning). Signature
problems come back as a :class:`VerificationResult`; only unreadable bytes raise.
"""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
from dataclasses import dataclass, field
from typing import Protocol

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from lxml import etree

from services.distribution.edxml._xml import (
    XMLDSIG_NAMESPACE,
    element_children,
    local_name,
    read_tree,
)
from services.distribution.edxml.errors import SignatureFormatError
from services.distribution.edxml.model import EDXML_NAMESPACE
from services.distribution.edxml.parse import DEFAULT_LIMITS, ParseLimits

C14N_10 = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
C14N_10_WITH_COMMENTS = C14N_10 + "#WithComments"
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
EXC_C14N_WITH_COMMENTS = EXC_C14N + "WithComments"
EXC_C14N_SDK_MISSPELLED = "http://www.w3.org/TR/xml-exc-c14n#"
ENVELOPED_SIGNATURE = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
RSA_SHA1 = "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
RSA_SHA512 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512"
DIGEST_SHA1 = "http://www.w3.org/2000/09/xmldsig#sha1"
DIGEST_SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
DIGEST_SHA512 = "http://www.w3.org/2001/04/xmlenc#sha512"

_SIGNATURE_HASHES: dict[str, hashes.HashAlgorithm] = {
    RSA_SHA1: hashes.SHA1(),
    RSA_SHA256: hashes.SHA256(),
    RSA_SHA512: hashes.SHA512(),
}
_DIGESTS = {DIGEST_SHA1: "sha1", DIGEST_SHA256: "sha256", DIGEST_SHA512: "sha512"}
# (exclusive, with_comments) for each canonicalization URI.
_CANONICALIZATIONS: dict[str, tuple[bool, bool]] = {
    C14N_10: (False, False),
    C14N_10_WITH_COMMENTS: (False, True),
    EXC_C14N: (True, False),
    EXC_C14N_WITH_COMMENTS: (True, True),
    EXC_C14N_SDK_MISSPELLED: (True, False),
}
_SIGNATURE_NAMESPACES = (XMLDSIG_NAMESPACE, EDXML_NAMESPACE, None)


class XmlSigner(Protocol):
    """Signs with the agency key: RSA PKCS#1 v1.5 over SHA-256 of ``data``.

    ``services/signing/adapters/hsm.py`` provides the HSM-backed implementation.
    """

    @property
    def certificate_der(self) -> bytes: ...

    def sign(self, data: bytes) -> bytes: ...


@dataclass(frozen=True)
class SoftwareRsaSigner:
    """An :class:`XmlSigner` over an in-memory RSA key (tests and development only)."""

    private_key: rsa.RSAPrivateKey
    certificate: x509.Certificate

    @property
    def certificate_der(self) -> bytes:
        from cryptography.hazmat.primitives.serialization import Encoding

        return self.certificate.public_bytes(Encoding.DER)

    def sign(self, data: bytes) -> bytes:
        return self.private_key.sign(data, padding.PKCS1v15(), hashes.SHA256())


@dataclass(frozen=True)
class VerificationResult:
    """The outcome of checking a package's enveloped signature.

    ``valid`` is true only if the reference digest and the signature value both match.
    ``problems`` say why not; ``warnings`` note accepted weaknesses (RSA-SHA1, ...).
    """

    valid: bool
    signature_algorithm: str | None = None
    digest_algorithm: str | None = None
    canonicalization: str | None = None
    transforms: tuple[str, ...] = ()
    digest_matches: bool = False
    signature_matches: bool = False
    certificate_der: bytes | None = None
    signer_subject: str | None = None
    signer_serial_number: int | None = None
    problems: tuple[str, ...] = ()
    warnings: tuple[str, ...] = field(default=())


def _name(element: etree._Element) -> tuple[str | None, str] | None:
    if not isinstance(element.tag, str):
        return None
    tag = element.tag
    if tag.startswith("{"):
        namespace, _, name = tag[1:].partition("}")
        return namespace, name
    return None, tag.rpartition(":")[2]


def _child(element: etree._Element, name: str) -> etree._Element | None:
    for child in element_children(element):
        parts = _name(child)
        if parts and parts[1] == name and parts[0] in _SIGNATURE_NAMESPACES:
            return child
    return None


def _children(element: etree._Element, name: str) -> list[etree._Element]:
    return [
        child
        for child in element_children(element)
        if (parts := _name(child)) and parts[1] == name and parts[0] in _SIGNATURE_NAMESPACES
    ]


def _find_signatures(root: etree._Element) -> list[etree._Element]:
    return [
        element
        for element in root.iter()
        if (parts := _name(element))
        and parts[1] == "Signature"
        and parts[0] in _SIGNATURE_NAMESPACES
        and _child(element, "SignedInfo") is not None
    ]


def _remove_keeping_tail(element: etree._Element) -> None:
    """Remove an element but not the text after it (lxml would drop the tail with it)."""
    parent = element.getparent()
    tail = element.tail or ""
    previous = element.getprevious()
    if tail:
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(element)


def _canonicalize(node: etree._Element | etree._ElementTree, method: str) -> bytes:
    """Canonicalize a whole document, or an element as a document subset.

    An element is first copied into a document of its own whose root declares every namespace
    in scope at the element: lxml 6 / libxml2 2.14 write spurious ``xmlns=""`` on grandchildren
    when canonicalizing an element in place, which broke interoperability with xmlsec1.
    """
    exclusive, with_comments = _CANONICALIZATIONS[method]
    if isinstance(node, etree._Element):
        apex = etree.Element(node.tag, attrib=dict(node.attrib), nsmap=node.nsmap)
        apex.text = node.text
        apex.extend(copy.deepcopy(child) for child in node)
        node = apex.getroottree()
    return etree.tostring(node, method="c14n", exclusive=exclusive, with_comments=with_comments)


def _enveloped_document_digest_input(
    root: etree._Element, signature: etree._Element, transforms: list[str]
) -> bytes:
    """Apply the Reference's transforms to the whole document (``URI=""``)."""
    # Positions from the root, to find the same Signature node in the copy.
    positions = []
    node = signature
    while node is not root:
        parent = node.getparent()
        positions.append(parent.index(node))
        node = parent
    document = copy.deepcopy(root)
    canonicalization = C14N_10  # URI="" : the document without comments, C14N 1.0 by default
    for transform in transforms:
        if transform == ENVELOPED_SIGNATURE:
            copied = document
            for position in reversed(positions):
                copied = copied[position]
            _remove_keeping_tail(copied)
        else:
            canonicalization = transform
    return _canonicalize(document.getroottree(), canonicalization)


def _text(element: etree._Element | None) -> str:
    return "".join((element.text or "").split()) if element is not None else ""


def verify(data: bytes, *, limits: ParseLimits = DEFAULT_LIMITS) -> VerificationResult:
    """Check the enveloped XML-DSig of a package; raises only for bytes that are not XML."""
    root, read_issues = read_tree(
        data,
        strict=False,
        max_package_bytes=limits.max_package_bytes,
        max_stray_prefix_bytes=limits.max_stray_prefix_bytes,
        keep_comments=True,
    )
    warnings = [f"{issue.field}: {issue.reason}" for issue in read_issues]
    signatures = _find_signatures(root)
    if not signatures:
        return VerificationResult(valid=False, problems=("no Signature element",))
    if len(signatures) > 1:
        warnings.append(f"{len(signatures)} Signature elements; only the first is checked")
    signature = signatures[0]
    if _name(signature)[0] != XMLDSIG_NAMESPACE:
        warnings.append("Signature is not in the XML-DSig namespace (SDK namespace-less form)")
    problems: list[str] = []
    signed_info = _child(signature, "SignedInfo")
    method_element = _child(signed_info, "CanonicalizationMethod")
    canonicalization = method_element.get("Algorithm") if method_element is not None else None
    signature_method = _child(signed_info, "SignatureMethod")
    signature_algorithm = (
        signature_method.get("Algorithm") if signature_method is not None else None
    )
    references = _children(signed_info, "Reference")
    digest_algorithm = None
    transforms: list[str] = []
    digest_matches = False
    if len(references) != 1:
        problems.append(f"expected one Reference, found {len(references)}")
    else:
        reference = references[0]
        uri = reference.get("URI")
        transforms_element = _child(reference, "Transforms")
        if transforms_element is not None:
            transforms = [
                t.get("Algorithm") or "" for t in _children(transforms_element, "Transform")
            ]
        digest_method = _child(reference, "DigestMethod")
        digest_algorithm = digest_method.get("Algorithm") if digest_method is not None else None
        unknown = [
            t for t in transforms if t != ENVELOPED_SIGNATURE and t not in _CANONICALIZATIONS
        ]
        if uri != "":
            problems.append(f'Reference URI {uri!r} is not supported (only the whole package, "")')
        elif unknown:
            problems.append(f"unsupported transform(s): {', '.join(unknown)}")
        elif digest_algorithm not in _DIGESTS:
            problems.append(f"unsupported digest method {digest_algorithm!r}")
        else:
            if EXC_C14N_SDK_MISSPELLED in transforms:
                warnings.append(
                    f"transform {EXC_C14N_SDK_MISSPELLED} is not a standard URI; read as "
                    "exclusive C14N"
                )
            if digest_algorithm == DIGEST_SHA1:
                warnings.append("SHA-1 digest (accepted from old peers; weak)")
            try:
                digest_input = _enveloped_document_digest_input(root, signature, transforms)
                actual = hashlib.new(_DIGESTS[digest_algorithm], digest_input).digest()
                expected = base64.b64decode(_text(_child(reference, "DigestValue")), validate=True)
                digest_matches = actual == expected
                if not digest_matches:
                    problems.append(
                        "digest mismatch: the package content changed after signing "
                        f"(computed {base64.b64encode(actual).decode()}, "
                        f"signed {base64.b64encode(expected).decode()})"
                    )
            except (binascii.Error, ValueError) as error:
                problems.append(f"DigestValue is not base64: {error}")
            except etree.LxmlError as error:
                problems.append(f"cannot canonicalize the package: {error}")

    certificate_der, subject, serial, certificate = None, None, None, None
    key_info = _child(signature, "KeyInfo")
    x509_data = _child(key_info, "X509Data") if key_info is not None else None
    certificate_element = _child(x509_data, "X509Certificate") if x509_data is not None else None
    if certificate_element is None:
        problems.append("no KeyInfo/X509Data/X509Certificate: cannot tell who signed")
    else:
        try:
            certificate_der = base64.b64decode(_text(certificate_element), validate=True)
            certificate = x509.load_der_x509_certificate(certificate_der)
            subject = certificate.subject.rfc4514_string()
            serial = certificate.serial_number
        except (binascii.Error, ValueError) as error:
            problems.append(f"X509Certificate is not a readable certificate: {error}")

    signature_matches = False
    hash_algorithm = _SIGNATURE_HASHES.get(signature_algorithm or "")
    if hash_algorithm is None:
        problems.append(f"unsupported signature method {signature_algorithm!r}")
    elif canonicalization not in _CANONICALIZATIONS:
        problems.append(f"unsupported canonicalization {canonicalization!r}")
    elif certificate is not None:
        if signature_algorithm == RSA_SHA1:
            warnings.append("RSA-SHA1 signature (accepted from old peers; weak)")
        public_key = certificate.public_key()
        if not isinstance(public_key, rsa.RSAPublicKey):
            problems.append(f"certificate key is {type(public_key).__name__}, expected RSA")
        else:
            try:
                signature_value = base64.b64decode(
                    _text(_child(signature, "SignatureValue")), validate=True
                )
                public_key.verify(
                    signature_value,
                    _canonicalize(signed_info, canonicalization),
                    padding.PKCS1v15(),
                    hash_algorithm,
                )
                signature_matches = True
            except InvalidSignature:
                problems.append("signature mismatch: SignatureValue does not match SignedInfo")
            except (binascii.Error, ValueError) as error:
                problems.append(f"SignatureValue is not usable: {error}")
            except etree.LxmlError as error:
                problems.append(f"cannot canonicalize SignedInfo: {error}")
    return VerificationResult(
        valid=digest_matches and signature_matches and not problems,
        signature_algorithm=signature_algorithm,
        digest_algorithm=digest_algorithm,
        canonicalization=canonicalization,
        transforms=tuple(transforms),
        digest_matches=digest_matches,
        signature_matches=signature_matches,
        certificate_der=certificate_der,
        signer_subject=subject,
        signer_serial_number=serial,
        problems=tuple(problems),
        warnings=tuple(warnings),
    )


def _edxml_child(element: etree._Element, name: str) -> etree._Element | None:
    return next((c for c in element_children(element) if local_name(c) == name), None)


def _dsig(parent: etree._Element, name: str, **attributes: str) -> etree._Element:
    return etree.SubElement(parent, f"{{{XMLDSIG_NAMESPACE}}}{name}", attributes)


def sign(data: bytes, signer: XmlSigner, *, limits: ParseLimits = DEFAULT_LIMITS) -> bytes:
    """Return the package with a new enveloped RSA-SHA256 signature (any old one is replaced).

    The package must be well-formed as it stands (strict reading: no recovery), since a
    signature over a repaired document would not match the bytes a peer receives.
    """
    root, _ = read_tree(
        data,
        strict=True,
        max_package_bytes=limits.max_package_bytes,
        max_stray_prefix_bytes=limits.max_stray_prefix_bytes,
        keep_comments=True,
    )
    for old in _find_signatures(root):
        _remove_keeping_tail(old)
    envelope = _edxml_child(root, "edXMLEnvelope")
    header = _edxml_child(envelope, "edXMLHeader") if envelope is not None else None
    if header is None:
        raise SignatureFormatError("edXMLEnvelope/edXMLHeader: missing, nowhere to put Signature")
    certificate_der = signer.certificate_der
    certificate = x509.load_der_x509_certificate(certificate_der)

    signature = etree.Element(f"{{{XMLDSIG_NAMESPACE}}}Signature", nsmap={None: XMLDSIG_NAMESPACE})
    signed_info = _dsig(signature, "SignedInfo")
    _dsig(signed_info, "CanonicalizationMethod", Algorithm=C14N_10)
    _dsig(signed_info, "SignatureMethod", Algorithm=RSA_SHA256)
    reference = _dsig(signed_info, "Reference", URI="")
    transforms = _dsig(reference, "Transforms")
    _dsig(transforms, "Transform", Algorithm=ENVELOPED_SIGNATURE)
    _dsig(reference, "DigestMethod", Algorithm=DIGEST_SHA256)
    digest_value = _dsig(reference, "DigestValue")
    signature_value = _dsig(signature, "SignatureValue")
    key_info = _dsig(signature, "KeyInfo")
    x509_data = _dsig(key_info, "X509Data")
    _dsig(x509_data, "X509SubjectName").text = certificate.subject.rfc4514_string()
    _dsig(x509_data, "X509Certificate").text = base64.b64encode(certificate_der).decode("ascii")

    # Where the samples put it: after TraceHeaderList, else after MessageHeader.
    anchor = None
    for child in element_children(header):
        if local_name(child) in ("MessageHeader", "TraceHeaderList"):
            anchor = child
    depth = len(list(header.iterancestors())) + 1
    indent = "\n" + "  " * depth
    etree.indent(signature, space="  ", level=depth)
    if anchor is None:
        header.insert(0, signature)
    else:
        anchor.addnext(signature)
    signature.tail = anchor.tail if anchor is not None else indent
    if anchor is not None:
        anchor.tail = indent

    digest_input = _enveloped_document_digest_input(root, signature, [ENVELOPED_SIGNATURE])
    digest_value.text = base64.b64encode(hashlib.sha256(digest_input).digest()).decode("ascii")
    signed_bytes = _canonicalize(signed_info, C14N_10)
    value = signer.sign(signed_bytes)
    if not isinstance(value, bytes) or not value:
        raise SignatureFormatError("signer: returned no signature bytes")
    signature_value.text = base64.b64encode(value).decode("ascii")
    return (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        + etree.tostring(root, encoding="UTF-8", xml_declaration=False)
        + b"\n"
    )
