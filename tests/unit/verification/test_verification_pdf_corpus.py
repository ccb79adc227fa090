"""The generated corpus through the PDF engine: each document with its expected indication."""

from __future__ import annotations

import pytest

from services.chassis.errors import InvalidArgument
from services.verification import corpus
from services.verification.adapters.pdf import (
    DocumentTooLarge,
    PdfVerifier,
    VerificationPolicy,
    field_changes_after,
)
from services.verification.domain.model import (
    CheckStatus,
    DocumentReport,
    Indication,
    SignatureLevel,
    SignerRole,
    SubIndication,
    TimeSource,
)

FAILED, INDETERMINATE = Indication.TOTAL_FAILED, Indication.INDETERMINATE


def _expect(report: DocumentReport, indication: Indication, sub: SubIndication | None) -> None:
    assert (report.indication, report.sub_indication) == (indication, sub), report.verdict


@pytest.mark.parametrize("level", corpus.LEVELS)
def test_valid_person_and_organisation_document_passes(
    verifier: PdfVerifier, issued: dict[str, bytes], level: str
) -> None:
    report = verifier.verify(issued[level], sender=corpus.AGENCY.code)
    _expect(report, Indication.TOTAL_PASSED, None)
    signers = [s for s in report.signatures if s.role is not SignerRole.DOCUMENT_TIMESTAMP]
    assert [s.role for s in signers] == [SignerRole.PERSON, SignerRole.ORGANISATION]
    assert {s.level for s in signers} == {SignatureLevel(level)}
    assert signers[0].signer == corpus.PERSON.full_name
    assert signers[1].certificate is not None
    assert signers[1].certificate.agency_code == corpus.AGENCY.code
    expected_source = TimeSource.CLAIMED if level == "B-B" else TimeSource.SIGNATURE_TIMESTAMP
    assert {s.time_source for s in signers} == {expected_source}
    assert all(
        s.signing_time and s.signing_time.utcoffset().total_seconds() == 7 * 3600 for s in signers
    )
    warned = [c.name for s in signers for c in s.checks if c.status is CheckStatus.WARN]
    assert ("signing time" in warned) == (level == "B-B")
    timestamps = [s for s in report.signatures if s.role is SignerRole.DOCUMENT_TIMESTAMP]
    assert bool(timestamps) == (level == "B-LTA")


def test_b_lt_passes_offline_only_thanks_to_embedded_revocation_data(
    pki: corpus.SoftPki, issued: dict[str, bytes]
) -> None:
    # No CRL configured: the revocation data must come from the document's DSS.
    offline = PdfVerifier(pki.trust_store(with_crl=False))
    _expect(offline.verify(issued["B-LT"]), Indication.TOTAL_PASSED, None)
    # A B-T file carries none, so hard-fail cannot decide: INDETERMINATE, not a pass.
    report = offline.verify(issued["B-T"])
    assert report.indication is INDETERMINATE
    soft = PdfVerifier(
        pki.trust_store(with_crl=False), VerificationPolicy(revocation_mode="soft-fail")
    )
    _expect(soft.verify(issued["B-T"]), Indication.TOTAL_PASSED, None)


def test_tampered_bytes_fail_with_hash_failure(
    verifier: PdfVerifier, issued: dict[str, bytes]
) -> None:
    _expect(
        verifier.verify(corpus.tamper_signed_byte(issued["B-LTA"])),
        FAILED,
        SubIndication.HASH_FAILURE,
    )


def test_swapped_signature_fails_with_hash_failure(
    pki: corpus.SoftPki, verifier: PdfVerifier, issued: dict[str, bytes], base_pdf: bytes
) -> None:
    donor = corpus.issued(pki, level="B-T", base=base_pdf)
    _expect(
        verifier.verify(corpus.swap_signature(issued["B-T"], donor)),
        FAILED,
        SubIndication.HASH_FAILURE,
    )


@pytest.mark.parametrize(
    ("person", "indication", "sub"),
    [
        ("person-expired", FAILED, SubIndication.EXPIRED),
        ("person-not-yet-valid", FAILED, SubIndication.NOT_YET_VALID),
        ("person-revoked", FAILED, SubIndication.REVOKED),
        ("person-other-agency", FAILED, SubIndication.SIGNER_NOT_OF_SENDER),
    ],
)
def test_bad_person_certificates(
    pki: corpus.SoftPki,
    verifier: PdfVerifier,
    base_pdf: bytes,
    person: str,
    indication: Indication,
    sub: SubIndication,
) -> None:
    document = corpus.issued(pki, level="B-T", person=person, base=base_pdf)
    report = verifier.verify(document)
    _expect(report, indication, sub)
    assert report.summary_vi and sub.value in report.summary_en


def test_untrusted_signer_is_indeterminate(verifier: PdfVerifier, base_pdf: bytes) -> None:
    stranger = corpus.SoftPki.create("Unknown Root CA")
    _expect(
        verifier.verify(corpus.issued(stranger, level="B-T", base=base_pdf)),
        INDETERMINATE,
        SubIndication.NO_CERTIFICATE_CHAIN_FOUND,
    )


def test_wrong_sender_fails(verifier: PdfVerifier, issued: dict[str, bytes]) -> None:
    report = verifier.verify(issued["B-T"], sender=corpus.OTHER_AGENCY.code)
    _expect(report, FAILED, SubIndication.SIGNER_NOT_OF_SENDER)
    assert corpus.OTHER_AGENCY.code in report.verdict.reason


def test_organisation_of_another_agency_fails(
    pki: corpus.SoftPki, verifier: PdfVerifier, base_pdf: bytes
) -> None:
    document = corpus.issued(
        pki, level="B-T", organisation="organisation-other-agency", base=base_pdf
    )
    _expect(verifier.verify(document), FAILED, SubIndication.SIGNER_NOT_OF_SENDER)


def test_malformed_sender_code_is_an_invalid_argument(
    verifier: PdfVerifier, issued: dict[str, bytes]
) -> None:
    with pytest.raises(InvalidArgument) as error:
        verifier.verify(issued["B-T"], sender="H23")
    assert error.value.field == "sender"


def test_organisation_before_person_fails(pki: corpus.SoftPki, verifier: PdfVerifier) -> None:
    _expect(
        verifier.verify(corpus.organisation_before_person(pki)),
        FAILED,
        SubIndication.SIGNATURE_ORDER_FAILURE,
    )


def test_person_only_document_misses_the_organisation(
    pki: corpus.SoftPki, verifier: PdfVerifier, base_pdf: bytes
) -> None:
    person_only = corpus.sign(
        base_pdf, pki, "person", "chu_ky_nguoi_co_tham_quyen", level="B-T", certify=True
    )
    _expect(verifier.verify(person_only), FAILED, SubIndication.SIGNATURE_MISSING)


@pytest.mark.parametrize("attack", ["hide", "replace", "move-number-field"])
def test_shadow_attacks_fail_with_disallowed_modification(
    verifier: PdfVerifier, issued: dict[str, bytes], attack: str
) -> None:
    make = {
        "hide": corpus.shadow_hide,
        "replace": corpus.shadow_replace,
        "move-number-field": corpus.move_number_field,
    }[attack]
    report = verifier.verify(make(issued["B-LTA"]))
    _expect(report, FAILED, SubIndication.DISALLOWED_MODIFICATION)
    # Each signature is intact on its own byte range: only the modification check catches it.
    person = report.signatures[0]
    assert {c.name: c.status for c in person.checks}["integrity"] is CheckStatus.PASS


def test_shadow_hide_and_replace_fails(pki: corpus.SoftPki, verifier: PdfVerifier) -> None:
    prepared = corpus.base_document(hidden_alternative=corpus.HIDDEN_ALTERNATIVE)
    signed = corpus.issued(pki, level="B-LTA", base=prepared)
    _expect(verifier.verify(signed), Indication.TOTAL_PASSED, None)  # harmless until swapped
    _expect(
        verifier.verify(corpus.shadow_hide_and_replace(signed)),
        FAILED,
        SubIndication.DISALLOWED_MODIFICATION,
    )


def test_field_whitelist_reports_fields_outside_it(issued: dict[str, bytes]) -> None:
    import io

    from pyhanko.pdf_utils.reader import PdfFileReader

    reader = PdfFileReader(io.BytesIO(issued["B-T"]))
    person_revision = reader.embedded_signatures[0].signed_revision
    allowed = frozenset({"so_ky_hieu", "ngay_ban_hanh"})
    assert field_changes_after(reader, person_revision, allowed) == []
    problems = field_changes_after(reader, person_revision, frozenset({"so_ky_hieu"}))
    assert problems and "ngay_ban_hanh" in problems[0]


@pytest.mark.parametrize(
    "data",
    [b"", b"garbage", b"%PDF-1.7\n1 0 obj\n<<", b"%PDF-1.7\n" + b"[" * 100_000],
    ids=["empty", "garbage", "truncated-object", "deep-nesting"],
)
def test_unreadable_input_is_a_format_failure(verifier: PdfVerifier, data: bytes) -> None:
    _expect(verifier.verify(data), FAILED, SubIndication.FORMAT_FAILURE)


def test_truncated_signed_document_is_a_verdict(
    verifier: PdfVerifier, issued: dict[str, bytes]
) -> None:
    data = issued["B-LTA"]
    report = verifier.verify(data[: len(data) * 2 // 3])
    assert report.indication is FAILED


def test_byte_range_outside_the_file_is_a_verdict(
    verifier: PdfVerifier, issued: dict[str, bytes]
) -> None:
    data = issued["B-T"]
    start = data.index(b"/ByteRange")
    end = data.index(b"]", start)
    slot = end - start
    hostile = b"/ByteRange [0 10 99999999 99999999"
    mutated = data[:start] + hostile.ljust(slot, b" ") + data[end:]
    assert verifier.verify(mutated).indication is FAILED


def test_malformed_cms_is_a_verdict(verifier: PdfVerifier, issued: dict[str, bytes]) -> None:
    data = issued["B-T"]
    start = data.index(b"/Contents <") + len(b"/Contents <")
    mutated = data[:start] + b"3082FFFF" + b"00" * 40 + data[start + 88 :]
    report = verifier.verify(mutated)
    assert report.indication is FAILED
    assert report.sub_indication in (SubIndication.FORMAT_FAILURE, SubIndication.HASH_FAILURE)


def test_size_limit_is_refused_before_parsing(pki: corpus.SoftPki) -> None:
    small = PdfVerifier(pki.trust_store(), VerificationPolicy(max_document_bytes=1000))
    with pytest.raises(DocumentTooLarge) as error:
        small.verify(b"%PDF-1.7" + b" " * 2000)
    assert error.value.field == "document"


def test_material_is_cached_per_trust_store_version(pki: corpus.SoftPki) -> None:
    engine = PdfVerifier(pki.trust_store())
    first = engine.material()
    assert engine.material() is first
    engine.use_trust(pki.trust_store(with_crl=False))
    second = engine.material()
    assert second is not first and second.version != first.version


def test_revoked_signer_cannot_backdate_its_claimed_time(
    pki: corpus.SoftPki, verifier: PdfVerifier, base_pdf: bytes
) -> None:
    import datetime as dt

    # Revoked 12 h ago, certified from 24 h ago: claim a time in between.
    before_revocation = dt.datetime.now(dt.UTC) - dt.timedelta(hours=18)
    person = corpus.sign(
        base_pdf,
        pki,
        "person-revoked",
        "chu_ky_nguoi_co_tham_quyen",
        level="B-B",
        certify=True,
        signing_time=before_revocation,
    )
    document = corpus.sign(
        corpus.fill_number_and_date(person), pki, "organisation", "chu_ky_co_quan", level="B-B"
    )
    report = verifier.verify(document)
    _expect(report, FAILED, SubIndication.REVOKED)
    assert report.signatures[0].time_source is TimeSource.CLAIMED
