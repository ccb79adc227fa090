"""Bad input and missing prerequisites: each is a specific refusal, and audited as such."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import re

import pytest
from reportlab.pdfgen.canvas import Canvas

from services.certificates.devpki import (
    EXPIRED_PERSON_ROLE,
    OTHER_AGENCY_PERSON_ROLE,
    REVOKED_PERSON_ROLE,
)
from services.signing.adapters.hsm import KeyNotFound
from services.signing.adapters.validation import validate_with_pyhanko
from services.signing.domain.audit import InMemoryAuditLog, Outcome, verify_chain
from services.signing.domain.errors import (
    BrokenExistingSignature,
    CorruptPdf,
    DocumentTooLarge,
    EncryptedPdf,
    NotAPdf,
    PersonSignatureMissing,
    SignerCertificateExpired,
    SignerCertificateRevoked,
)
from services.signing.service_layer.workflow import SigningService, dev_profile

pytestmark = pytest.mark.integration


def test_not_a_pdf(signing) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NotAPdf, match="%PDF-"):
        signing.engine.sign_person(b"GIF89a not a document", signing.person)


def test_encrypted_pdf(signing) -> None:  # type: ignore[no-untyped-def]
    buffer = io.BytesIO()
    canvas = Canvas(buffer, encrypt="mat-khau")
    canvas.drawString(100, 700, "secret")
    canvas.save()
    with pytest.raises(EncryptedPdf, match="encrypted"):
        signing.engine.sign_person(buffer.getvalue(), signing.person)


def test_corrupt_cross_reference_table(signing, sample_pdf: bytes) -> None:  # type: ignore[no-untyped-def]
    corrupt = re.sub(rb"startxref\s+\d+\s+%%EOF\s*$", b"startxref\n999999\n%%EOF\n", sample_pdf)
    assert corrupt != sample_pdf
    with pytest.raises(CorruptPdf, match=r"unreadable|broken"):
        signing.engine.sign_person(corrupt, signing.person)


def test_truncated_pdf_is_corrupt(signing, sample_pdf: bytes) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CorruptPdf):
        signing.engine.sign_person(sample_pdf[: len(sample_pdf) // 2], signing.person)


def test_broken_existing_signature(signing, workflow_outputs) -> None:  # type: ignore[no-untyped-def]
    data = bytearray(workflow_outputs["person"])
    # Flip a byte inside the first content stream: still parses, no longer matches the digest.
    position = data.index(b"stream", data.index(b"/Length")) + 30
    data[position] ^= 0x01
    with pytest.raises(BrokenExistingSignature, match="chu_ky_nguoi_co_tham_quyen"):
        signing.engine.sign_organisation(bytes(data), signing.organisation)


def test_over_size_limit(signing, sample_pdf: bytes) -> None:  # type: ignore[no-untyped-def]
    small = dataclasses.replace(signing.engine, max_document_bytes=1000)
    with pytest.raises(DocumentTooLarge, match="limit of 1000 bytes"):
        small.sign_person(sample_pdf, signing.person)


def test_missing_key(signing, sample_pdf: bytes) -> None:  # type: ignore[no-untyped-def]
    ghost = dataclasses.replace(signing.person, key_id=b"lt-test-no-such-key")
    with pytest.raises(KeyNotFound, match=b"lt-test-no-such-key".hex()):
        signing.engine.sign_person(sample_pdf, ghost)


def test_expired_signer_certificate(hsm, dev_pki, signing, sample_pdf: bytes) -> None:  # type: ignore[no-untyped-def]
    expired = dev_profile(hsm, dev_pki, EXPIRED_PERSON_ROLE)
    with pytest.raises(SignerCertificateExpired, match="Lê Quang Vũ"):
        signing.engine.sign_person(sample_pdf, expired)


def test_revoked_signer_certificate(hsm, dev_pki, signing, sample_pdf: bytes) -> None:  # type: ignore[no-untyped-def]
    revoked = dev_profile(hsm, dev_pki, REVOKED_PERSON_ROLE)
    with pytest.raises(SignerCertificateRevoked, match="revoked"):
        signing.engine.sign_person(sample_pdf, revoked)


def test_organisation_before_person_is_refused(signing, sample_pdf: bytes) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PersonSignatureMissing, match=re.escape("000.00.12.H23")):
        signing.engine.sign_organisation(sample_pdf, signing.organisation)


def test_person_of_another_agency_does_not_count(hsm, dev_pki, signing, sample_pdf) -> None:  # type: ignore[no-untyped-def]
    other = dev_profile(hsm, dev_pki, OTHER_AGENCY_PERSON_ROLE)
    signed_by_other = signing.engine.sign_person(sample_pdf, other)
    with pytest.raises(PersonSignatureMissing, match=re.escape("000.00.13.H23")):
        signing.engine.sign_organisation(signed_by_other, signing.organisation)


def test_digitised_copy_may_be_sealed_without_person(signing, sample_pdf: bytes) -> None:  # type: ignore[no-untyped-def]
    sealed = signing.engine.sign_organisation(sample_pdf, signing.organisation, digitised_copy=True)
    assert all(report.ok for report in validate_with_pyhanko(sealed, signing.trust))


def test_refusal_is_audited_and_chain_verifies(signing, sample_pdf: bytes) -> None:  # type: ignore[no-untyped-def]
    audit = InMemoryAuditLog()
    service = SigningService(signing.engine, audit)

    async def scenario() -> None:
        with pytest.raises(PersonSignatureMissing):
            await service.sign_organisation(sample_pdf, signing.organisation, "van.thu@stttt")
        await service.issue(
            sample_pdf,
            signing.person,
            signing.organisation,
            "7/STTTT-VP",
            "Hà Giang, ngày 23 tháng 11 năm 2026",
            "van.thu@stttt",
        )

    asyncio.run(scenario())
    records = audit.records()
    assert [record.event.outcome for record in records] == [
        Outcome.REFUSED,
        Outcome.SIGNED,
        Outcome.SIGNED,
        Outcome.SIGNED,
    ]
    assert "PersonSignatureMissing" in records[0].event.detail
    assert records[0].event.document_sha256_after is None
    assert records[1].event.document_sha256_after == records[2].event.document_sha256_before
    assert verify_chain(records) == 4


def test_batch_streams_results_and_refusals(signing, sample_pdf: bytes) -> None:  # type: ignore[no-untyped-def]
    service = SigningService(signing.engine, InMemoryAuditLog())

    async def collect():  # type: ignore[no-untyped-def]
        return [
            item
            async for item in service.sign_batch(
                [sample_pdf, b"not a pdf", sample_pdf], signing.person, "batch@test", concurrency=2
            )
        ]

    results = dict(asyncio.run(collect()))
    assert isinstance(results[1], NotAPdf)
    for index in (0, 2):
        assert all(r.ok for r in validate_with_pyhanko(results[index].document, signing.trust))
