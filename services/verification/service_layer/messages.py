"""Reports as protobuf messages (the JSON form rides along in ``Report.json``)."""

from __future__ import annotations

from lienthong.verification.v1 import verification_pb2 as pb

from services.verification.domain.model import (
    CertificateInfo,
    Check,
    DocumentReport,
    Indication,
    SignatureResult,
)

_INDICATIONS = {
    Indication.TOTAL_PASSED: pb.TOTAL_PASSED,
    Indication.TOTAL_FAILED: pb.TOTAL_FAILED,
    Indication.INDETERMINATE: pb.INDETERMINATE,
}


def _check(check: Check) -> pb.Check:
    return pb.Check(
        name=check.name,
        status=check.status.value,
        detail=check.detail,
        sub_indication=check.sub_indication.value if check.sub_indication else "",
    )


def _certificate(info: CertificateInfo) -> pb.Certificate:
    return pb.Certificate(
        subject=info.subject,
        issuer=info.issuer,
        serial_number=info.serial_number,
        not_before=info.not_before.isoformat(),
        not_after=info.not_after.isoformat(),
        sha256=info.sha256,
        agency_code=info.agency_code or "",
        title=info.title or "",
    )


def _signature(result: SignatureResult) -> pb.SignatureReport:
    message = pb.SignatureReport(
        field_name=result.field_name,
        role=result.role.value,
        signer=result.signer,
        signing_time=result.signing_time.isoformat() if result.signing_time else "",
        time_source=result.time_source.value,
        level=result.level.value if result.level else "",
        checks=[_check(c) for c in result.checks],
        indication=_INDICATIONS[result.verdict.indication],
        sub_indication=result.verdict.sub_indication.value if result.verdict.sub_indication else "",
        reason=result.verdict.reason,
    )
    if result.certificate is not None:
        message.certificate.CopyFrom(_certificate(result.certificate))
    return message


def report_to_pb(report: DocumentReport) -> pb.Report:
    return pb.Report(
        kind=report.kind,
        sha256=report.sha256,
        size=report.size,
        verified_at=report.verified_at.isoformat(),
        trust_store_version=report.trust_store_version,
        indication=_INDICATIONS[report.indication],
        sub_indication=report.sub_indication.value if report.sub_indication else "",
        reason=report.verdict.reason,
        signatures=[_signature(s) for s in report.signatures],
        checks=[_check(c) for c in report.checks],
        sender=report.sender or "",
        summary_vi=report.summary_vi,
        summary_en=report.summary_en,
        json=report.to_json(indent=None),
        attachments=[
            pb.AttachmentReport(
                name=attachment.name,
                content_id=attachment.content_id or "",
                content_type=attachment.content_type or "",
                report=report_to_pb(attachment.report),
            )
            for attachment in report.attachments
        ],
    )
