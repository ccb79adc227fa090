"""The pure rules: check combination, document verdict, roles, texts."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from services.verification.domain.model import (
    Check,
    DocumentReport,
    Indication,
    SignatureResult,
    SignerRole,
    SubIndication,
    TimeSource,
)
from services.verification.domain.rules import (
    RolePolicy,
    SignerFacts,
    combine,
    document_verdict,
    role_checks,
    summaries,
)

AGENCY = "000.00.12.H23"
OTHER = "000.00.13.H23"


def _failures(checks: list[Check]) -> set[SubIndication]:
    return {c.sub_indication for c in checks if c.sub_indication is not None}


def test_no_failure_passes_and_warnings_do_not_fail() -> None:
    verdict = combine([Check.passed("a"), Check.warning("b", "claimed time")])
    assert verdict.indication is Indication.TOTAL_PASSED
    assert verdict.sub_indication is None


def test_the_most_fundamental_failure_is_reported() -> None:
    verdict = combine(
        [
            Check.failed("trust", SubIndication.NO_CERTIFICATE_CHAIN_FOUND, "untrusted"),
            Check.failed("integrity", SubIndication.HASH_FAILURE, "digest"),
            Check.failed("roles", SubIndication.SIGNER_NOT_OF_SENDER, "agency"),
        ]
    )
    assert (verdict.indication, verdict.sub_indication) == (
        Indication.TOTAL_FAILED,
        SubIndication.HASH_FAILURE,
    )
    assert verdict.reason == "digest"


@pytest.mark.parametrize(
    ("sub", "indication"),
    [
        (SubIndication.REVOKED, Indication.TOTAL_FAILED),
        (SubIndication.EXPIRED, Indication.TOTAL_FAILED),
        (SubIndication.DISALLOWED_MODIFICATION, Indication.TOTAL_FAILED),
        (SubIndication.NO_CERTIFICATE_CHAIN_FOUND, Indication.INDETERMINATE),
        (SubIndication.TRY_LATER, Indication.INDETERMINATE),
        (SubIndication.OUT_OF_BOUNDS_NO_POE, Indication.INDETERMINATE),
    ],
)
def test_indication_follows_sub_indication(sub: SubIndication, indication: Indication) -> None:
    assert combine([Check.failed("x", sub, "why")]).indication is indication


def test_a_failed_check_needs_a_reason_code() -> None:
    with pytest.raises(ValueError, match="sub-indication"):
        Check("x", Check.failed("y", SubIndication.HASH_FAILURE, "").status)


def _signature(sub: SubIndication | None) -> SignatureResult:
    checks = (Check.failed("x", sub, "bad"),) if sub else (Check.passed("x"),)
    return SignatureResult(
        field_name="sig",
        role=SignerRole.PERSON,
        signer="A",
        certificate=None,
        signing_time=None,
        time_source=TimeSource.NONE,
        level=None,
        checks=checks,
        verdict=combine(checks),
    )


def test_document_failed_beats_indeterminate_signature() -> None:
    verdict = document_verdict(
        [_signature(SubIndication.NO_CERTIFICATE_CHAIN_FOUND)],
        [Check.failed("roles", SubIndication.SIGNATURE_ORDER_FAILURE, "order")],
    )
    assert verdict.indication is Indication.TOTAL_FAILED
    assert verdict.sub_indication is SubIndication.SIGNATURE_ORDER_FAILURE


def test_one_indeterminate_signature_makes_the_document_indeterminate() -> None:
    verdict = document_verdict([_signature(None), _signature(SubIndication.TRY_LATER)], [])
    assert verdict.indication is Indication.INDETERMINATE


PERSON = SignerFacts("p", SignerRole.PERSON, AGENCY)
ORG = SignerFacts("o", SignerRole.ORGANISATION, AGENCY)


def test_person_then_organisation_of_the_sender_passes() -> None:
    checks = role_checks([PERSON, ORG], AGENCY)
    assert not _failures(checks)
    assert any(c.name == "signature order" for c in checks)


def test_organisation_before_person_fails() -> None:
    assert _failures(role_checks([ORG, PERSON], None)) == {SubIndication.SIGNATURE_ORDER_FAILURE}


def test_organisation_of_another_agency_than_the_sender_fails() -> None:
    assert _failures(role_checks([PERSON, ORG], OTHER)) == {SubIndication.SIGNER_NOT_OF_SENDER}


def test_person_of_another_agency_fails_even_without_sender() -> None:
    person = SignerFacts("p", SignerRole.PERSON, OTHER)
    assert _failures(role_checks([person, ORG], None)) == {SubIndication.SIGNER_NOT_OF_SENDER}


def test_missing_signatures_follow_the_policy() -> None:
    assert _failures(role_checks([ORG], None)) == {SubIndication.SIGNATURE_MISSING}
    assert not _failures(role_checks([ORG], None, RolePolicy(require_person=False)))
    assert _failures(role_checks([], None)) == {SubIndication.SIGNATURE_MISSING}


def test_unknown_signer_is_not_of_the_sender() -> None:
    unknown = SignerFacts("u", SignerRole.UNKNOWN, None)
    failures = _failures(role_checks([PERSON, unknown, ORG], None))
    assert SubIndication.SIGNER_NOT_OF_SENDER in failures


def test_every_sub_indication_has_vietnamese_and_english_text() -> None:
    for sub in SubIndication:
        verdict = combine([Check.failed("x", sub, "detail")])
        vi, en = summaries(verdict)
        assert sub.value in vi and sub.value in en
        assert vi != en


def test_report_serialises_to_json_with_vietnam_time() -> None:
    checks = (Check.failed("integrity", SubIndication.HASH_FAILURE, "digest"),)
    verdict = document_verdict((), checks)
    vi, en = summaries(verdict)
    report = DocumentReport(
        kind="pdf",
        sha256="00",
        size=1,
        verified_at=datetime(2026, 11, 22, 1, 0, tzinfo=UTC),
        trust_store_version="v",
        verdict=verdict,
        checks=checks,
        summary_vi=vi,
        summary_en=en,
    )
    decoded = json.loads(report.to_json())
    assert decoded["verdict"]["indication"] == "TOTAL-FAILED"
    assert decoded["verdict"]["sub_indication"] == "HASH_FAILURE"
    assert decoded["checks"][0]["status"] == "fail"
    assert "thay đổi" in decoded["summary_vi"]
    assert decoded["verified_at"] == "2026-11-22T01:00:00+00:00"
