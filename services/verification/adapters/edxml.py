"""Verification of edXML packages (QCVN 102:2016/BTTTT): the enveloped XML-DSig and its signer.

The XML-DSig arithmetic is the edXML codec's (:func:`services.distribution.edxml.dsig.verify`);
this module turns its result into the same report as a PDF's: digest (HASH_FAILURE), signature
value (SIG_CRYPTO_FAILURE), the signer's certificate chain to the trust store with revocation
(NO_CERTIFICATE_CHAIN_FOUND, REVOKED, EXPIRED...), and whether the certificate's agency code is
the package's sender (``From/OrganId``). SHA-1 packages from old peers pass with a WARN check.
Attachments are opened behind the codec's zip-bomb guard; a bomb fails the package.

Every PDF attachment (a PDF content type or ``%PDF-`` in its first KiB) is verified with the
PDF engine, with the package's sender (``From/OrganId``, or the given sender) as the sender
its signers must belong to. Each attachment's report is listed with its file name, and one
check per attachment folds its verdict into the package's: the package is only as good as the
worst of its signature and its attachments. Sizes are bounded by the codec (per attachment and
in total) and by the engine's document limit; at most :data:`MAX_PDF_ATTACHMENTS` are verified.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from datetime import datetime

from asn1crypto import x509 as asn1_x509
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator import errors as cv_errors

from services.chassis.errors import ServiceError
from services.distribution.edxml import dsig
from services.distribution.edxml.errors import EdxmlError, PackageTooLarge, ZipBomb
from services.distribution.edxml.model import Attachment, DocumentPackage, StatusPackage
from services.distribution.edxml.parse import DEFAULT_LIMITS, ParseLimits, parse
from services.identifiers.domain.codes import AgencyCode, InvalidAgencyCode
from services.verification.adapters.pdf import (
    VIETNAM,
    DocumentTooLarge,
    TrustMaterial,
    VerificationPolicy,
    certificate_info,
    role_of,
)
from services.verification.domain.model import (
    AttachmentReport,
    Check,
    DocumentReport,
    SignatureResult,
    SignerRole,
    SubIndication,
    TimeSource,
)
from services.verification.domain.rules import combine, document_verdict, summaries

#: Verifies one PDF attachment for a sender (None: the signers' own agency).
PdfCheck = Callable[[bytes, str | None], DocumentReport]

#: More PDFs than any real package carries; past it the package is refused, not half-checked.
MAX_PDF_ATTACHMENTS = 32
_PDF_CONTENT_TYPES = frozenset({"application/pdf", "application/x-pdf", "application/acrobat"})
_PDF_HEADER_WINDOW = 1024


def is_pdf(attachment: Attachment) -> bool:
    """A PDF by its declared content type or by the ``%PDF-`` header (within the first KiB)."""
    content_type = (attachment.content_type or "").split(";")[0].strip().lower()
    return content_type in _PDF_CONTENT_TYPES or b"%PDF-" in attachment.data[:_PDF_HEADER_WINDOW]


def _attachment_name(attachment: Attachment, position: int) -> str:
    return attachment.name or attachment.content_id or f"Attachment[{position}]"


def _verify_attachments(
    package: DocumentPackage, sender: str | None, verify_pdf: PdfCheck
) -> tuple[list[AttachmentReport], list[Check]]:
    """Reports of the package's PDF attachments and one check per attachment."""
    pdfs = [
        (position, attachment)
        for position, attachment in enumerate(package.attachments, start=1)
        if attachment.undecoded is None and is_pdf(attachment)
    ]
    if len(pdfs) > MAX_PDF_ATTACHMENTS:
        return [], [
            Check.failed(
                "attachments",
                SubIndication.FORMAT_FAILURE,
                f"{len(pdfs)} PDF attachments, more than the limit {MAX_PDF_ATTACHMENTS}",
            )
        ]
    reports: list[AttachmentReport] = []
    checks: list[Check] = []
    for position, attachment in pdfs:
        name = _attachment_name(attachment, position)
        check_name = "attachment"  # the detail starts with the file name
        try:
            report = verify_pdf(attachment.data, sender)
        except ServiceError as exc:  # over the engine's size limit
            checks.append(
                Check.failed(check_name, SubIndication.FORMAT_FAILURE, f"{name}: {exc.reason}")
            )
            continue
        reports.append(
            AttachmentReport(name, attachment.content_id, attachment.content_type, report)
        )
        verdict = report.verdict
        if verdict.sub_indication is None:
            checks.append(Check.passed(check_name, f"{name}: {verdict.indication}"))
        else:
            checks.append(
                Check.failed(check_name, verdict.sub_indication, f"{name}: {verdict.reason}")
            )
    return reports, checks


def _sender_of(package: DocumentPackage | StatusPackage) -> str | None:
    organisation = package.header.from_ if isinstance(package, DocumentPackage) else package.from_
    return organisation.organ_id if organisation is not None else None


async def _chain_check(
    certificate: asn1_x509.Certificate, material: TrustMaterial, policy: VerificationPolicy
) -> Check:
    context = ValidationContext(
        trust_manager=material.trust_manager,
        other_certs=list(material.intermediates),
        crls=list(material.crls),
        allow_fetching=policy.allow_fetching,
        revocation_mode=policy.revocation_mode,
    )
    validator = CertificateValidator(certificate, validation_context=context)
    try:
        await validator.async_validate_usage(set())
    except cv_errors.RevokedError as exc:
        return Check.failed("trust", SubIndication.REVOKED, str(exc))
    except cv_errors.ExpiredError as exc:
        return Check.failed("trust", SubIndication.EXPIRED, str(exc))
    except cv_errors.NotYetValidError as exc:
        return Check.failed("trust", SubIndication.NOT_YET_VALID, str(exc))
    except cv_errors.InsufficientRevinfoError as exc:
        return Check.failed("trust", SubIndication.TRY_LATER, str(exc))
    except (cv_errors.PathBuildingError, cv_errors.PathValidationError) as exc:
        return Check.failed("trust", SubIndication.NO_CERTIFICATE_CHAIN_FOUND, str(exc))
    except cv_errors.InvalidCertificateError as exc:
        return Check.failed("trust", SubIndication.SIG_CONSTRAINTS_FAILURE, str(exc))
    return Check.passed("trust", "the signer certificate chains to a trust anchor, not revoked")


def verify_edxml(
    data: bytes,
    material: TrustMaterial,
    policy: VerificationPolicy,
    *,
    sender: str | None = None,
    limits: ParseLimits = DEFAULT_LIMITS,
    verify_pdf: PdfCheck | None = None,
) -> DocumentReport:
    """Verify an edXML package's signature and signer, and with ``verify_pdf`` its PDF
    attachments; a verdict for any bytes."""
    if len(data) > policy.max_document_bytes:
        raise DocumentTooLarge(
            f"{len(data)} bytes, the limit is {policy.max_document_bytes}", field="document"
        )
    checks: list[Check] = []
    signatures: list[SignatureResult] = []
    package_sender: str | None = None
    package: DocumentPackage | None = None
    try:
        parsed = parse(data, limits=limits, inspect_zips=True)
        if isinstance(parsed.package, DocumentPackage):
            package = parsed.package
        package_sender = _sender_of(parsed.package)
        checks.append(Check.passed("package", "well-formed edXML package"))
        result = dsig.verify(data, limits=limits)
    except (ZipBomb, PackageTooLarge) as exc:
        checks.append(Check.failed("attachments", SubIndication.FORMAT_FAILURE, str(exc)))
        result = None
    except (EdxmlError, RecursionError, ValueError) as exc:
        checks.append(
            Check.failed(
                "package",
                SubIndication.FORMAT_FAILURE,
                f"not a readable edXML package ({type(exc).__name__}: {exc})",
            )
        )
        result = None
    if result is not None:
        signatures.append(asyncio.run(_signature(result, material, policy)))
        expected = sender or package_sender
        certificate = signatures[0].certificate
        if expected is not None and certificate is not None:
            try:
                expected = str(AgencyCode.parse(expected, "From/OrganId"))
            except InvalidAgencyCode as exc:
                checks.append(Check.failed("sender", SubIndication.FORMAT_FAILURE, exc.reason))
            else:
                if certificate.agency_code is None:
                    checks.append(
                        Check.warning(
                            "sender", "the signer certificate carries no agency code to compare"
                        )
                    )
                elif certificate.agency_code != expected:
                    checks.append(
                        Check.failed(
                            "sender",
                            SubIndication.SIGNER_NOT_OF_SENDER,
                            f"signed by agency {certificate.agency_code}, the sender is {expected}",
                        )
                    )
                else:
                    checks.append(Check.passed("sender", f"signed by the sender {expected}"))
    attachments: list[AttachmentReport] = []
    if package is not None and verify_pdf is not None:
        attachments, attachment_checks = _verify_attachments(
            package, _valid_code(sender or package_sender), verify_pdf
        )
        checks.extend(attachment_checks)
    verdict = document_verdict(signatures, checks)
    summary_vi, summary_en = summaries(verdict)
    return DocumentReport(
        kind="edxml",
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        verified_at=datetime.now(VIETNAM).replace(microsecond=0),
        trust_store_version=material.version,
        verdict=verdict,
        signatures=tuple(signatures),
        checks=tuple(checks),
        sender=sender or package_sender,
        summary_vi=summary_vi,
        summary_en=summary_en,
        policy=policy.as_dict(),
        attachments=tuple(attachments),
    )


def _valid_code(code: str | None) -> str | None:
    """The sender code the attachments' signers must belong to; a malformed one already
    failed the package, and the attachments are then judged without it."""
    if code is None:
        return None
    try:
        return str(AgencyCode.parse(code, "sender"))
    except InvalidAgencyCode:
        return None


async def _signature(
    result: dsig.VerificationResult, material: TrustMaterial, policy: VerificationPolicy
) -> SignatureResult:
    checks: list[Check] = []
    for warning in result.warnings:
        checks.append(Check.warning("xml-dsig", warning))
    if not result.digest_matches:
        reason = next((p for p in result.problems), "the package digest does not match")
        sub = (
            SubIndication.HASH_FAILURE
            if "digest mismatch" in reason
            else SubIndication.FORMAT_FAILURE
        )
        checks.append(Check.failed("integrity", sub, reason))
    else:
        checks.append(Check.passed("integrity", "the package digest matches"))
    if result.digest_matches and not result.signature_matches:
        reason = "; ".join(result.problems) or "SignatureValue does not verify"
        sub = (
            SubIndication.SIG_CRYPTO_FAILURE
            if "signature mismatch" in reason
            else SubIndication.FORMAT_FAILURE
        )
        checks.append(Check.failed("signature value", sub, reason))
    elif result.signature_matches:
        checks.append(Check.passed("signature value", str(result.signature_algorithm)))
    certificate = None
    signer = result.signer_subject or ""
    role = SignerRole.UNKNOWN
    if result.certificate_der is not None:
        try:
            cert = asn1_x509.Certificate.load(result.certificate_der)
            certificate = certificate_info(cert)
            signer = certificate.subject
            role, _, _ = role_of(cert)
            if result.valid:
                checks.append(await _chain_check(cert, material, policy))
        except (ValueError, TypeError) as exc:
            checks.append(Check.failed("certificate", SubIndication.FORMAT_FAILURE, str(exc)))
    return SignatureResult(
        field_name="edXMLHeader/Signature",
        role=role,
        signer=signer,
        certificate=certificate,
        signing_time=None,
        time_source=TimeSource.NONE,
        level=None,
        checks=tuple(checks),
        verdict=combine(checks),
    )
