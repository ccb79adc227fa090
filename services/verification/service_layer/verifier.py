"""The verification use case: any received bytes → a report, with the configured trust.

One :class:`Verifier` per process (CLI run, gRPC server): it owns the PDF engine (and through
it the per-trust-version caches) and dispatches on content: ``%PDF`` → PAdES, XML → edXML.
Anything else gets a FORMAT_FAILURE report, never an exception; only a document over the size
limit or a malformed sender code raise (as chassis errors with the field named).
"""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import datetime

from services.verification.adapters.edxml import verify_edxml
from services.verification.adapters.pdf import VIETNAM, PdfVerifier, VerificationPolicy
from services.verification.adapters.truststore import TrustStore
from services.verification.domain.model import Check, DocumentReport, SubIndication
from services.verification.domain.rules import document_verdict, summaries

_PDF_MAGIC = b"%PDF-"
# PDF readers accept the header within the first 1024 bytes (ISO 32000-1 Annex H.3 note).
_PDF_HEADER_WINDOW = 1024


def sniff(data: bytes) -> str | None:
    """ "pdf", "edxml" or None for bytes that are neither."""
    if _PDF_MAGIC in data[:_PDF_HEADER_WINDOW]:
        return "pdf"
    head = data[:_PDF_HEADER_WINDOW].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<"):
        return "edxml"
    return None


class Verifier:
    def __init__(self, trust: TrustStore, policy: VerificationPolicy | None = None) -> None:
        self.pdf = PdfVerifier(trust, policy)

    @property
    def policy(self) -> VerificationPolicy:
        return self.pdf.policy

    @property
    def trust(self) -> TrustStore:
        return self.pdf.trust

    def use_trust(self, trust: TrustStore) -> None:
        self.pdf.use_trust(trust)

    def verify_pdf(self, data: bytes, *, sender: str | None = None) -> DocumentReport:
        return self.pdf.verify(data, sender=sender)

    def verify_edxml(self, data: bytes, *, sender: str | None = None) -> DocumentReport:
        attachments = self.pdf.with_policy(attachment_policy(self.policy))
        return verify_edxml(
            data,
            self.pdf.material(),
            self.policy,
            sender=sender,
            verify_pdf=lambda pdf, code: attachments.verify(pdf, sender=code),
        )

    def verify(self, data: bytes, *, sender: str | None = None) -> DocumentReport:
        kind = sniff(data)
        if kind == "pdf":
            return self.verify_pdf(data, sender=sender)
        if kind == "edxml":
            return self.verify_edxml(data, sender=sender)
        return unreadable_report(data, self.trust.version, "neither a PDF nor an XML package")


def attachment_policy(policy: VerificationPolicy) -> VerificationPolicy:
    """The policy for PDFs attached to an edXML package: the agency's signature is required,
    the person's is not — annexes sent with the main document and digitised copies carry the
    agency signature alone (NĐ 30/2020/NĐ-CP Phụ lục I; QĐ 29/2021/QĐ-UBND Điện Biên Điều
    10.5); when a person did sign, order and agency are checked as for any document."""
    return dataclasses.replace(policy, require_person=False)


def unreadable_report(data: bytes, trust_version: str, reason: str) -> DocumentReport:
    checks = (Check.failed("format", SubIndication.FORMAT_FAILURE, reason),)
    verdict = document_verdict((), checks)
    summary_vi, summary_en = summaries(verdict)
    return DocumentReport(
        kind="unknown",
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        verified_at=datetime.now(VIETNAM).replace(microsecond=0),
        trust_store_version=trust_version,
        verdict=verdict,
        checks=checks,
        summary_vi=summary_vi,
        summary_en=summary_en,
    )
