"""The agency directory check: the agencies named in the signer certificates must exist.

The organisation certificate carries the sending agency's code and the person's certificate
the code of the agency the person belongs to; the identifiers service says whether such an
agency is in the directory (QĐ 28/2018/QĐ-TTg Điều 10: the agency codes of the exchange) and
whether it is still active. An unknown code fails the document (SIGNER_NOT_OF_SENDER); a
merged or dissolved agency, or a directory that cannot be reached, gives a WARN check — the
clerk decides, the verification is not held hostage by another service being down.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from enum import StrEnum

from services.verification.domain.model import Check, DocumentReport, SignerRole, SubIndication
from services.verification.domain.rules import document_verdict, summaries


class AgencyState(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"  # merged or dissolved
    UNKNOWN = "unknown"  # not in the directory
    UNAVAILABLE = "unavailable"  # the directory could not be asked


AgencyLookup = Callable[[str], AgencyState]


def directory_checks(report: DocumentReport, lookup: AgencyLookup) -> DocumentReport:
    """``report`` with one check per agency code of its signers, and the verdict recomputed."""
    codes = sorted(
        {
            signature.certificate.agency_code
            for signature in report.signatures
            if signature.role in (SignerRole.PERSON, SignerRole.ORGANISATION)
            and signature.certificate is not None
            and signature.certificate.agency_code
        }
    )
    if not codes:
        return report
    checks: list[Check] = []
    for code in codes:
        state = lookup(code)
        if state is AgencyState.ACTIVE:
            checks.append(Check.passed("agency directory", f"{code} is an active agency"))
        elif state is AgencyState.UNKNOWN:
            checks.append(
                Check.failed(
                    "agency directory",
                    SubIndication.SIGNER_NOT_OF_SENDER,
                    f"agency {code} named in a signer certificate is not in the directory",
                )
            )
        elif state is AgencyState.INACTIVE:
            checks.append(
                Check.warning("agency directory", f"agency {code} is merged or dissolved")
            )
        else:
            checks.append(
                Check.warning("agency directory", f"the directory could not be asked about {code}")
            )
    all_checks = (*report.checks, *checks)
    verdict = document_verdict(report.signatures, all_checks)
    summary_vi, summary_en = summaries(verdict)
    return dataclasses.replace(
        report, checks=all_checks, verdict=verdict, summary_vi=summary_vi, summary_en=summary_en
    )


class CachedLookup:
    """Remembers answers for ``ttl_seconds`` (not UNAVAILABLE: that is asked again)."""

    def __init__(self, lookup: AgencyLookup, ttl_seconds: float = 60.0) -> None:
        self._lookup = lookup
        self._ttl = ttl_seconds
        self._answers: dict[str, tuple[float, AgencyState]] = {}
        self._lock = threading.Lock()

    def __call__(self, code: str) -> AgencyState:
        now = time.monotonic()
        with self._lock:
            hit = self._answers.get(code)
        if hit is not None and now - hit[0] < self._ttl:
            return hit[1]
        state = self._lookup(code)
        if state is not AgencyState.UNAVAILABLE:
            with self._lock:
                self._answers[code] = (now, state)
        return state

    def invalidate(self, code: str | None = None) -> None:
        with self._lock:
            if code is None:
                self._answers.clear()
            else:
                self._answers.pop(code, None)
