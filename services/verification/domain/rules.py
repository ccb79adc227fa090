"""Pure rules: checks → signature verdict, signatures → document verdict, roles, texts.

Who must sign an outgoing document (NĐ 30/2020/NĐ-CP Phụ lục I; QĐ 29/2021/QĐ-UBND Điện Biên
Điều 10.1–10.2 and 10.6): first the authorised person ("người có thẩm quyền"), then the clerk
numbers the document and the agency ("cơ quan, tổ chức") signs with its seal. The organisation
certificate carries the sending agency's code (QĐ 28/2018/QĐ-TTg Điều 10), and the person's
certificate names the same agency.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from services.verification.domain.model import (
    FAILED_SUB_INDICATIONS,
    SUB_INDICATION_PRIORITY,
    Check,
    CheckStatus,
    Indication,
    SignatureResult,
    SignerRole,
    SubIndication,
    Verdict,
)

_PRIORITY = {sub: index for index, sub in enumerate(SUB_INDICATION_PRIORITY)}


def indication_of(sub: SubIndication) -> Indication:
    return Indication.TOTAL_FAILED if sub in FAILED_SUB_INDICATIONS else Indication.INDETERMINATE


def combine(checks: Iterable[Check]) -> Verdict:
    """The verdict of a set of checks: the most fundamental failure wins; no failure passes."""
    failures = [check for check in checks if check.status is CheckStatus.FAIL]
    if not failures:
        return Verdict(Indication.TOTAL_PASSED)
    worst = min(failures, key=lambda check: _PRIORITY.get(check.sub_indication, len(_PRIORITY)))
    assert worst.sub_indication is not None
    return Verdict(indication_of(worst.sub_indication), worst.sub_indication, worst.detail)


def document_verdict(
    signatures: Sequence[SignatureResult], document_checks: Sequence[Check]
) -> Verdict:
    """TOTAL-FAILED if anything failed for sure, else INDETERMINATE if anything is open."""
    all_checks = [*document_checks]
    for signature in signatures:
        if signature.verdict.sub_indication is not None:
            all_checks.append(
                Check.failed(
                    f"signature {signature.field_name}",
                    signature.verdict.sub_indication,
                    f"{signature.field_name}: {signature.verdict.reason}",
                )
            )
    return combine(all_checks)


@dataclass(frozen=True, slots=True)
class SignerFacts:
    """What the role rules need to know about one (non-timestamp) signature, in file order."""

    field_name: str
    role: SignerRole
    agency_code: str | None


@dataclass(frozen=True, slots=True)
class RolePolicy:
    require_person: bool = True
    require_organisation: bool = True


def role_checks(
    signers: Sequence[SignerFacts], sender: str | None, policy: RolePolicy = RolePolicy()
) -> list[Check]:
    """Person first, organisation second; the organisation is the sender; the person is of it."""
    checks: list[Check] = []
    if not signers:
        return [Check.failed("signatures", SubIndication.SIGNATURE_MISSING, "no signature")]
    persons = [s for s in signers if s.role is SignerRole.PERSON]
    organisations = [s for s in signers if s.role is SignerRole.ORGANISATION]
    unknown = [s for s in signers if s.role is SignerRole.UNKNOWN]
    for s in unknown:
        checks.append(
            Check.failed(
                "signer role",
                SubIndication.SIGNER_NOT_OF_SENDER,
                f"{s.field_name}: the certificate names neither a person of an agency "
                "nor an agency (no agency code)",
            )
        )
    if policy.require_person and not persons:
        checks.append(
            Check.failed(
                "person signature",
                SubIndication.SIGNATURE_MISSING,
                "no signature of an authorised person",
            )
        )
    if policy.require_organisation and not organisations:
        checks.append(
            Check.failed(
                "organisation signature",
                SubIndication.SIGNATURE_MISSING,
                "no signature of the sending agency",
            )
        )
    if persons and organisations:
        first_org = signers.index(organisations[0])
        late_persons = [s for s in signers[first_org:] if s.role is SignerRole.PERSON]
        if late_persons:
            checks.append(
                Check.failed(
                    "signature order",
                    SubIndication.SIGNATURE_ORDER_FAILURE,
                    f"{late_persons[0].field_name}: the person signed after the organisation "
                    f"({organisations[0].field_name}); the person signs first",
                )
            )
        else:
            checks.append(Check.passed("signature order", "person first, organisation second"))
    agency = sender
    if organisations:
        org_codes = {s.agency_code for s in organisations}
        if len(org_codes) > 1:
            checks.append(
                Check.failed(
                    "organisation agency",
                    SubIndication.SIGNER_NOT_OF_SENDER,
                    f"organisation signatures name several agencies: {sorted(map(str, org_codes))}",
                )
            )
        org_code = organisations[0].agency_code
        if sender is not None and org_code != sender:
            checks.append(
                Check.failed(
                    "organisation agency",
                    SubIndication.SIGNER_NOT_OF_SENDER,
                    f"{organisations[0].field_name}: certificate of agency {org_code}, "
                    f"but the sender is {sender}",
                )
            )
        elif len(org_codes) == 1:
            checks.append(Check.passed("organisation agency", f"agency {org_code}"))
        agency = agency or org_code
    for person in persons:
        if agency is not None and person.agency_code != agency:
            checks.append(
                Check.failed(
                    "person agency",
                    SubIndication.SIGNER_NOT_OF_SENDER,
                    f"{person.field_name}: a person of agency {person.agency_code}, "
                    f"not of the sending agency {agency}",
                )
            )
        elif agency is not None:
            checks.append(Check.passed("person agency", f"{person.field_name}: agency {agency}"))
    return checks


#: Vietnamese and English reasons, quoted in an edXML status-02 (returned) message.
_REASONS: dict[SubIndication, tuple[str, str]] = {
    SubIndication.FORMAT_FAILURE: (
        "tệp không đúng định dạng hoặc chữ ký số không đọc được",
        "the file is malformed or a signature cannot be read",
    ),
    SubIndication.HASH_FAILURE: (
        "nội dung văn bản đã bị thay đổi sau khi ký (sai giá trị băm)",
        "the content was changed after signing (digest mismatch)",
    ),
    SubIndication.SIG_CRYPTO_FAILURE: (
        "giá trị chữ ký số không khớp với khóa của chứng thư số",
        "the signature value does not verify with the certificate's key",
    ),
    SubIndication.DISALLOWED_MODIFICATION: (
        "văn bản bị sửa đổi không được phép sau khi ký",
        "the document was modified after signing in a way that is not allowed",
    ),
    SubIndication.REVOKED: (
        "chứng thư số của người ký đã bị thu hồi",
        "the signer's certificate is revoked",
    ),
    SubIndication.EXPIRED: (
        "chứng thư số đã hết hạn tại thời điểm ký",
        "the certificate had expired at signing time",
    ),
    SubIndication.NOT_YET_VALID: (
        "chứng thư số chưa có hiệu lực tại thời điểm ký",
        "the certificate was not yet valid at signing time",
    ),
    SubIndication.SIGNER_NOT_OF_SENDER: (
        "người ký hoặc cơ quan ký không thuộc cơ quan gửi",
        "a signer does not belong to the sending agency",
    ),
    SubIndication.SIGNATURE_ORDER_FAILURE: (
        "thứ tự ký sai: người có thẩm quyền ký trước, cơ quan ký sau",
        "wrong signing order: the authorised person signs first, the agency second",
    ),
    SubIndication.SIGNATURE_MISSING: (
        "thiếu chữ ký số bắt buộc",
        "a required signature is missing",
    ),
    SubIndication.NO_CERTIFICATE_CHAIN_FOUND: (
        "chứng thư số không xác thực được tới tổ chức cung cấp dịch vụ tin cậy",
        "the certificate does not chain to a trusted root",
    ),
    SubIndication.OUT_OF_BOUNDS_NO_POE: (
        "không chứng minh được chữ ký được tạo trong thời hạn của chứng thư số",
        "no proof that the signature was made while the certificate was valid",
    ),
    SubIndication.REVOKED_NO_POE: (
        "chứng thư số bị thu hồi và không chứng minh được thời điểm ký trước đó",
        "the certificate is revoked and no proof the signature predates it",
    ),
    SubIndication.TRY_LATER: (
        "chưa kiểm tra được tình trạng thu hồi của chứng thư số",
        "the revocation status of the certificate could not be checked",
    ),
    SubIndication.CHAIN_CONSTRAINTS_FAILURE: (
        "chuỗi chứng thư số không đáp ứng ràng buộc",
        "the certificate chain violates its constraints",
    ),
    SubIndication.SIG_CONSTRAINTS_FAILURE: (
        "chứng thư số không được phép dùng để ký văn bản",
        "the certificate is not allowed for document signing (key usage)",
    ),
    SubIndication.NO_POE: (
        "không có bằng chứng thời điểm tồn tại của chữ ký",
        "no proof of existence of the signature",
    ),
    SubIndication.TIMESTAMP_FAILURE: (
        "dấu thời gian không hợp lệ hoặc không tin cậy",
        "the timestamp is invalid or untrusted",
    ),
}


def summaries(verdict: Verdict) -> tuple[str, str]:
    """(Vietnamese, English) one-line texts for the verdict, ready to quote in a rejection."""
    if verdict.passed:
        return (
            "Văn bản hợp lệ: các chữ ký số toàn vẹn, xác thực và đúng thẩm quyền.",
            "Document valid: every signature is intact, trusted and of the right signer.",
        )
    assert verdict.sub_indication is not None
    vi, en = _REASONS[verdict.sub_indication]
    head_vi = (
        "Văn bản không hợp lệ"
        if verdict.indication is Indication.TOTAL_FAILED
        else ("Chưa xác định được tính hợp lệ của văn bản")
    )
    head_en = (
        "Document invalid"
        if verdict.indication is Indication.TOTAL_FAILED
        else ("Document validity undetermined")
    )
    code = f"{verdict.indication}/{verdict.sub_indication}"
    detail = f" ({verdict.reason})" if verdict.reason else ""
    return f"{head_vi}: {vi} [{code}].", f"{head_en}: {en} [{code}]{detail}."
