"""The agency directory check on top of a report (no service: a lookup function)."""

from __future__ import annotations

from services.verification import corpus
from services.verification.adapters.pdf import PdfVerifier
from services.verification.domain.model import CheckStatus, Indication, SubIndication
from services.verification.service_layer.directory import (
    AgencyState,
    CachedLookup,
    directory_checks,
)


def _directory_statuses(report) -> list[CheckStatus]:  # type: ignore[no-untyped-def]
    return [c.status for c in report.checks if c.name == "agency directory"]


def test_registered_active_agency_passes(verifier: PdfVerifier, issued: dict[str, bytes]) -> None:
    report = directory_checks(verifier.verify(issued["B-T"]), lambda code: AgencyState.ACTIVE)
    assert report.indication is Indication.TOTAL_PASSED
    assert _directory_statuses(report) == [CheckStatus.PASS]


def test_unknown_agency_fails_and_the_summary_follows(
    verifier: PdfVerifier, issued: dict[str, bytes]
) -> None:
    report = directory_checks(verifier.verify(issued["B-T"]), lambda code: AgencyState.UNKNOWN)
    assert (report.indication, report.sub_indication) == (
        Indication.TOTAL_FAILED,
        SubIndication.SIGNER_NOT_OF_SENDER,
    )
    assert corpus.AGENCY.code in report.verdict.reason
    assert "SIGNER_NOT_OF_SENDER" in report.summary_en


def test_inactive_or_unreachable_directory_only_warns(
    verifier: PdfVerifier, issued: dict[str, bytes]
) -> None:
    for state in (AgencyState.INACTIVE, AgencyState.UNAVAILABLE):
        report = directory_checks(verifier.verify(issued["B-T"]), lambda code, s=state: s)
        assert report.indication is Indication.TOTAL_PASSED
        assert _directory_statuses(report) == [CheckStatus.WARN]


def test_cached_lookup_remembers_answers_but_not_outages() -> None:
    calls: list[str] = []
    answers = iter([AgencyState.UNAVAILABLE, AgencyState.ACTIVE, AgencyState.UNKNOWN])

    def lookup(code: str) -> AgencyState:
        calls.append(code)
        return next(answers)

    cached = CachedLookup(lookup, ttl_seconds=3600)
    assert cached("000.00.12.H99") is AgencyState.UNAVAILABLE
    assert cached("000.00.12.H99") is AgencyState.ACTIVE
    assert cached("000.00.12.H99") is AgencyState.ACTIVE
    assert len(calls) == 2
    cached.invalidate("000.00.12.H99")
    assert cached("000.00.12.H99") is AgencyState.UNKNOWN
