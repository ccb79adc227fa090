"""Signed sample document packages for tests, the e2e run and the benchmark (not production).

The template is the clean conformance sample ``edoc_revocation.edxml`` (real structure of the
national axis); sender, receivers, id, subject, priority and business type are replaced, and
the package is signed with an in-memory RSA key (XML-DSig, RSA-SHA256).
"""

from __future__ import annotations

import dataclasses
import datetime
import uuid
from functools import cache
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from services.distribution.edxml.build import build, manifest_for
from services.distribution.edxml.codes import BussinessDocType, Priority
from services.distribution.edxml.dsig import SoftwareRsaSigner, XmlSigner, sign
from services.distribution.edxml.model import Attachment, DocumentPackage, Organization
from services.distribution.edxml.parse import parse

TEMPLATE = Path("/work/shared/conformance/edxml/edoc_revocation.edxml")


@cache
def software_signer() -> SoftwareRsaSigner:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Văn thư (thử nghiệm)")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return SoftwareRsaSigner(key, certificate)


@cache
def _template() -> DocumentPackage:
    package = parse(TEMPLATE.read_bytes()).package
    assert isinstance(package, DocumentPackage)
    return package


def make_package(
    sender: str,
    receivers: list[str],
    *,
    subject: str = "Về việc thử nghiệm liên thông văn bản",
    priority: Priority = Priority.NORMAL,
    kind: BussinessDocType = BussinessDocType.NEW,
    number: int | None = None,
    notation: str = "UBND-VP",
    signer: XmlSigner | None = None,
    attachments: tuple[Attachment, ...] | None = None,
) -> bytes:
    """A signed package from ``sender`` to ``receivers``; unique unless ``number`` repeats.

    ``number``/``notation`` make the số and ký hiệu (e.g. 7 and "QĐ-STTTT" for 07/QĐ-STTTT, as
    the registry numbered it); ``attachments`` replace the template's (the signed PDF of an
    issued document); ``signer`` defaults to a throw-away software key.
    """
    template = _template()
    header = template.header
    number = number if number is not None else uuid.uuid4().int % 10**6
    today = datetime.date.today()
    other_info = dataclasses.replace(header.other_info, priority=priority)  # type: ignore[type-var]
    header = dataclasses.replace(
        header,
        from_=dataclasses.replace(header.from_, organ_id=sender),
        to=tuple(Organization(organ_id=code, organ_name=code) for code in receivers[:50]),
        document_id=f"{sender},{today:%Y/%m/%d},{number}/{notation}",
        code=dataclasses.replace(header.code, code_number=str(number), code_notation=notation),  # type: ignore[type-var]
        subject=subject,
        other_info=other_info,
    )
    trace = template.trace_header_list
    assert trace is not None and trace.bussiness is not None
    trace = dataclasses.replace(
        trace,
        bussiness=dataclasses.replace(
            trace.bussiness, bussiness_doc_type=kind, bussiness_doc_reason=kind.vietnamese
        ),
    )
    package = dataclasses.replace(
        template,
        header=header,
        trace_header_list=trace,
        signature=None,
        attachments=template.attachments if attachments is None else attachments,
        manifest=template.manifest if attachments is None else manifest_for(attachments),
    )
    return sign(build(package, include_signature=False), signer or software_signer())


def tamper(package: bytes) -> bytes:
    """The same package with one character of its subject changed (signature now wrong)."""
    marker = b"<edXML:Subject>"
    at = package.index(marker) + len(marker)
    return package[:at] + b"X" + package[at + 1 :]
