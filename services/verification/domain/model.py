"""The verification report: indications, checks, per-signature results, the document verdict.

Pure (no I/O). Vocabulary in the spirit of ETSI TS 119 102-1 / EN 319 102-1: a validation
ends in one *indication* (TOTAL-PASSED, TOTAL-FAILED, INDETERMINATE) qualified by a
*sub-indication* saying why. The platform adds the policy outcomes the Vietnamese rules need
(signer not of the sending agency, person/organisation order, disallowed modification).

A receiving clerk checks "tính đầy đủ, xác thực, toàn vẹn" of every electronic document before
accepting it and returns it to the sender otherwise (QĐ 29/2021/QĐ-UBND Điện Biên Điều 8.1):
:attr:`DocumentReport.summary_vi` / :attr:`DocumentReport.summary_en` are the text quoted in
that return (edXML status 02).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Indication(StrEnum):
    TOTAL_PASSED = "TOTAL-PASSED"
    TOTAL_FAILED = "TOTAL-FAILED"
    INDETERMINATE = "INDETERMINATE"


class SubIndication(StrEnum):
    """Why a signature or a document did not pass."""

    # TOTAL-FAILED: the signature or document is proven bad.
    FORMAT_FAILURE = "FORMAT_FAILURE"
    HASH_FAILURE = "HASH_FAILURE"
    SIG_CRYPTO_FAILURE = "SIG_CRYPTO_FAILURE"
    DISALLOWED_MODIFICATION = "DISALLOWED_MODIFICATION"
    REVOKED = "REVOKED"
    EXPIRED = "EXPIRED"
    NOT_YET_VALID = "NOT_YET_VALID"
    SIGNER_NOT_OF_SENDER = "SIGNER_NOT_OF_SENDER"
    SIGNATURE_ORDER_FAILURE = "SIGNATURE_ORDER_FAILURE"
    SIGNATURE_MISSING = "SIGNATURE_MISSING"
    # INDETERMINATE: the evidence at hand neither proves nor disproves the signature.
    NO_CERTIFICATE_CHAIN_FOUND = "NO_CERTIFICATE_CHAIN_FOUND"
    OUT_OF_BOUNDS_NO_POE = "OUT_OF_BOUNDS_NO_POE"
    REVOKED_NO_POE = "REVOKED_NO_POE"
    TRY_LATER = "TRY_LATER"
    CHAIN_CONSTRAINTS_FAILURE = "CHAIN_CONSTRAINTS_FAILURE"
    SIG_CONSTRAINTS_FAILURE = "SIG_CONSTRAINTS_FAILURE"
    NO_POE = "NO_POE"
    TIMESTAMP_FAILURE = "TIMESTAMP_FAILURE"


#: Sub-indications that prove failure; every other one leaves the result INDETERMINATE.
FAILED_SUB_INDICATIONS = frozenset(
    {
        SubIndication.FORMAT_FAILURE,
        SubIndication.HASH_FAILURE,
        SubIndication.SIG_CRYPTO_FAILURE,
        SubIndication.DISALLOWED_MODIFICATION,
        SubIndication.REVOKED,
        SubIndication.EXPIRED,
        SubIndication.NOT_YET_VALID,
        SubIndication.SIGNER_NOT_OF_SENDER,
        SubIndication.SIGNATURE_ORDER_FAILURE,
        SubIndication.SIGNATURE_MISSING,
    }
)

#: Which reason a document report quotes when several apply: the most fundamental first
#: (a tampered file is reported as tampered, not as "also signed by the wrong person").
SUB_INDICATION_PRIORITY: tuple[SubIndication, ...] = (
    SubIndication.FORMAT_FAILURE,
    SubIndication.HASH_FAILURE,
    SubIndication.SIG_CRYPTO_FAILURE,
    SubIndication.DISALLOWED_MODIFICATION,
    SubIndication.REVOKED,
    SubIndication.EXPIRED,
    SubIndication.NOT_YET_VALID,
    SubIndication.SIGNATURE_MISSING,
    SubIndication.SIGNER_NOT_OF_SENDER,
    SubIndication.SIGNATURE_ORDER_FAILURE,
    SubIndication.NO_CERTIFICATE_CHAIN_FOUND,
    SubIndication.REVOKED_NO_POE,
    SubIndication.OUT_OF_BOUNDS_NO_POE,
    SubIndication.CHAIN_CONSTRAINTS_FAILURE,
    SubIndication.SIG_CONSTRAINTS_FAILURE,
    SubIndication.TIMESTAMP_FAILURE,
    SubIndication.NO_POE,
    SubIndication.TRY_LATER,
)


class CheckStatus(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    WARN = "warn"


class SignatureLevel(StrEnum):
    """PAdES baseline level (ETSI EN 319 142-1) the signature reaches in this file."""

    B_B = "B-B"
    B_T = "B-T"
    B_LT = "B-LT"
    B_LTA = "B-LTA"


class TimeSource(StrEnum):
    """Where the signing time comes from; a claimed time is weaker evidence."""

    SIGNATURE_TIMESTAMP = "signature-timestamp"
    CLAIMED = "claimed"
    DOCUMENT_TIMESTAMP = "document-timestamp"
    NONE = "none"


class SignerRole(StrEnum):
    PERSON = "person"
    ORGANISATION = "organisation"
    DOCUMENT_TIMESTAMP = "document-timestamp"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Check:
    """One thing that was checked. ``sub_indication`` is set when ``status`` is FAIL."""

    name: str
    status: CheckStatus
    detail: str = ""
    sub_indication: SubIndication | None = None

    def __post_init__(self) -> None:
        if self.status is CheckStatus.FAIL and self.sub_indication is None:
            raise ValueError(f"check {self.name!r}: a failed check needs a sub-indication")

    @classmethod
    def passed(cls, name: str, detail: str = "") -> Check:
        return cls(name, CheckStatus.PASS, detail)

    @classmethod
    def warning(cls, name: str, detail: str) -> Check:
        return cls(name, CheckStatus.WARN, detail)

    @classmethod
    def failed(cls, name: str, sub_indication: SubIndication, detail: str) -> Check:
        return cls(name, CheckStatus.FAIL, detail, sub_indication)


@dataclass(frozen=True, slots=True)
class CertificateInfo:
    subject: str
    issuer: str
    serial_number: str  # hex
    not_before: datetime
    not_after: datetime
    sha256: str
    agency_code: str | None = None
    title: str | None = None


@dataclass(frozen=True, slots=True)
class Verdict:
    indication: Indication
    sub_indication: SubIndication | None = None
    reason: str = ""

    @property
    def passed(self) -> bool:
        return self.indication is Indication.TOTAL_PASSED


@dataclass(frozen=True, slots=True)
class SignatureResult:
    """What was found about one signature (or document timestamp) of a file."""

    field_name: str
    role: SignerRole
    signer: str
    certificate: CertificateInfo | None
    signing_time: datetime | None
    time_source: TimeSource
    level: SignatureLevel | None
    checks: tuple[Check, ...]
    verdict: Verdict


@dataclass(frozen=True, slots=True)
class AttachmentReport:
    """One PDF attachment of an edXML package, verified with the PDF engine.

    ``name`` is the package's AttachmentName (else its ContentId, else its position).
    """

    name: str
    content_id: str | None
    content_type: str | None
    report: DocumentReport


@dataclass(frozen=True, slots=True)
class DocumentReport:
    """The verification report of one document (PDF or edXML package)."""

    kind: str  # "pdf" | "edxml"
    sha256: str
    size: int
    verified_at: datetime
    trust_store_version: str
    verdict: Verdict
    signatures: tuple[SignatureResult, ...] = ()
    checks: tuple[Check, ...] = ()
    sender: str | None = None
    summary_vi: str = ""
    summary_en: str = ""
    policy: dict[str, Any] = field(default_factory=dict)
    # edXML packages: the report of each PDF attachment (already folded into ``verdict``).
    attachments: tuple[AttachmentReport, ...] = ()

    @property
    def indication(self) -> Indication:
        return self.verdict.indication

    @property
    def sub_indication(self) -> SubIndication | None:
        return self.verdict.sub_indication

    def to_dict(self) -> dict[str, Any]:
        return _jsonable(asdict(self))

    def to_json(self, *, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value
