"""PAdES verification of received PDFs with pyHanko 0.38: integrity, trust, time, roles, changes.

How the pitfalls of pyHanko 0.38 (issue #5) are handled:

* ``validate_pdf_signature`` alone ignores the revocation data embedded in the document, so a
  B-LT file looks untrusted offline. Here every signature is validated with a validation
  context that holds the document's own DSS (certificates, CRLs, OCSP responses — the
  *embedded* revocation data, used first) **plus** the configured intermediates and CRLs
  (second), in hard-fail revocation mode unless the policy says otherwise.
* The certificate is judged *at signing time* when a signature timestamp proves it (its token
  is verified by pyHanko against the same trust). Without one the claimed time is reported
  (WARN: weaker) and checked against the validity period, but trust and revocation are judged
  now: a claimed time cannot move a revoked key back before its revocation.
* A tampered file can still report ``valid=True`` on the CMS alone: the verdict combines
  integrity, signature value, trust, time, modification level, the DocMDP outcome, the
  platform's own field whitelist and the roles; no single flag decides.

What is cached (per trust-store version, see :class:`TrustMaterial`): parsed anchors,
intermediates and CRLs and pyHanko's trust manager. Never a verdict: every document is
validated in full, with a fresh validation context that sees only its own embedded data.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import hashlib
import io
import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from asn1crypto import cms, core
from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.decode_limits import DecodePurpose
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import async_validate_pdf_signature, async_validate_pdf_timestamp
from pyhanko.sign.validation.dss import DocumentSecurityStore, NoDSSFoundError
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.authority import CertTrustAnchor
from pyhanko_certvalidator.registry import SimpleTrustManager

from services.certificates.identity import read_subject
from services.chassis.errors import InvalidArgument, ResourceExhausted
from services.identifiers.domain.codes import AgencyCode, InvalidAgencyCode
from services.signing.adapters import pdf_speedups
from services.signing.adapters.sample_document import DATE_FIELD, NUMBER_FIELD
from services.verification.adapters import speedups
from services.verification.adapters.revisions import Outcome, RevisionReviewer, UpdateReview
from services.verification.adapters.truststore import TrustStore
from services.verification.domain.model import (
    CertificateInfo,
    Check,
    DocumentReport,
    SignatureLevel,
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

# pyHanko reads every /Contents hex string byte by byte; the signing service's reader gives
# the same objects and errors in chunks (tested in tests/unit/signing). Name preparation is
# memoised (speedups.py). Both are behaviour-identical.
pdf_speedups.install()
speedups.install()

logger = logging.getLogger(__name__)
VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
MIB = 1024 * 1024
_MATERIAL_CACHE_SIZE = 4
# Deep enough for any real form tree, shallow enough to stop a hostile /Kids loop early.
_MAX_FIELD_DEPTH = 32
_MAX_FIELDS = 2000


class DocumentTooLarge(ResourceExhausted):
    """The document exceeds the configured size limit; it is refused before parsing."""


@dataclass(frozen=True)
class VerificationPolicy:
    """What the platform accepts. Defaults follow issue #5: hard-fail revocation, offline."""

    revocation_mode: str = "hard-fail"  # "hard-fail" | "soft-fail" | "require"
    allow_fetching: bool = False  # fetch CRLs/OCSP named in certificates (configured sources)
    require_person: bool = True
    require_organisation: bool = True
    allowed_fill_fields: frozenset[str] = frozenset({NUMBER_FIELD, DATE_FIELD})
    max_document_bytes: int = 50 * MIB
    max_signatures: int = 16

    def __post_init__(self) -> None:
        if self.revocation_mode not in ("hard-fail", "soft-fail", "require"):
            raise InvalidArgument(
                f"{self.revocation_mode!r} is not hard-fail, soft-fail or require",
                field="revocation_mode",
            )

    def as_dict(self) -> dict[str, Any]:
        values = dataclasses.asdict(self)
        values["allowed_fill_fields"] = sorted(self.allowed_fill_fields)
        return values


@dataclass(frozen=True)
class TrustMaterial:
    """Everything derived from one trust-store version that is safe to share between documents.

    Parsing certificates and CRLs and normalising their names is a large part of a validation;
    doing it once per version (not per document) is the engine's main saving. Shared objects
    are read-only to pyHanko: each document still gets its own ValidationContext.
    """

    version: str
    trust_manager: SimpleTrustManager
    intermediates: tuple[asn1_x509.Certificate, ...]
    crls: tuple[asn1_crl.CertificateList, ...]

    @classmethod
    def build(cls, trust: TrustStore) -> TrustMaterial:
        anchors = [CertTrustAnchor(certificate) for certificate in trust.anchors]
        crls = tuple(asn1_crl.CertificateList.load(der) for der in trust.crls)
        for crl in crls:
            _warm_crl(crl)
        for certificate in (*trust.anchors, *trust.intermediates):
            _ = certificate.subject.hashable, certificate.issuer.hashable  # warm name caches
        for crl in crls:
            _ = crl.issuer.hashable
        return cls(
            trust.version, SimpleTrustManager.build(anchors), tuple(trust.intermediates), crls
        )


@dataclass
class _Embedded:
    """Validation data the document carries (its DSS), parsed once per document."""

    certificates: list[asn1_x509.Certificate] = field(default_factory=list)
    crls: list[asn1_crl.CertificateList] = field(default_factory=list)
    ocsps: list[asn1_ocsp.OCSPResponse] = field(default_factory=list)

    @property
    def has_revocation_data(self) -> bool:
        return bool(self.crls or self.ocsps)


def _warm_crl(crl: asn1_crl.CertificateList) -> None:
    """Parse every entry once: certvalidator scans the entries for each certificate checked."""
    for entry in crl["tbs_cert_list"]["revoked_certificates"]:
        _ = entry["user_certificate"]


class ParsedObjects:
    """Parsed certificates and CRLs by the SHA-256 of their DER: content-addressed, so safe
    to share between documents and trust-store versions.

    A government CA's CRL can hold tens of thousands of entries and every B-LT document embeds
    a copy; parsing it (and indexing its entries) once instead of per document is where most
    of the caching gain is on production-sized trust data. Objects are read-only to pyHanko.
    """

    def __init__(self, max_items: int = 512, max_item_bytes: int = 16 * MIB) -> None:
        self.max_items = max_items
        self.max_item_bytes = max_item_bytes
        self._items: OrderedDict[tuple[str, bytes], Any] = OrderedDict()
        self._lock = threading.Lock()

    def _get(self, kind: str, der: bytes, load: Any) -> Any:
        if len(der) > self.max_item_bytes:
            return load(der)
        key = (kind, hashlib.sha256(der).digest())
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found
        parsed = load(der)
        with self._lock:
            self._items[key] = parsed
            while len(self._items) > self.max_items:
                self._items.popitem(last=False)
        return parsed

    def certificate(self, der: bytes) -> asn1_x509.Certificate:
        return self._get("cert", der, asn1_x509.Certificate.load)

    def crl(self, der: bytes) -> asn1_crl.CertificateList:
        def load(data: bytes) -> asn1_crl.CertificateList:
            loaded = asn1_crl.CertificateList.load(data)
            _warm_crl(loaded)
            return loaded

        return self._get("crl", der, load)

    def ocsp(self, der: bytes) -> asn1_ocsp.OCSPResponse:
        return self._get("ocsp", der, asn1_ocsp.OCSPResponse.load)


def _read_dss(reader: PdfFileReader, parsed: ParsedObjects) -> _Embedded:
    try:
        dss = DocumentSecurityStore.read_dss(reader)
    except NoDSSFoundError:
        return _Embedded()
    embedded = _Embedded()
    for ref in dss.certs.values():
        der = ref.get_object().read_data(DecodePurpose.CERTIFICATE)
        embedded.certificates.append(parsed.certificate(der))
    for ref in dss.crls:
        embedded.crls.append(parsed.crl(ref.get_object().read_data(DecodePurpose.CRL)))
    for ref in dss.ocsps:
        der = ref.get_object().read_data(DecodePurpose.OCSP_RESPONSE)
        embedded.ocsps.append(parsed.ocsp(der))
    return embedded


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _vietnam(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(VIETNAM)


def certificate_info(certificate: asn1_x509.Certificate) -> CertificateInfo:
    subject = read_subject(certificate)
    return CertificateInfo(
        subject=certificate.subject.human_friendly,
        issuer=certificate.issuer.human_friendly,
        serial_number=format(certificate.serial_number, "x"),
        not_before=_vietnam(certificate.not_valid_before),  # type: ignore[arg-type]
        not_after=_vietnam(certificate.not_valid_after),  # type: ignore[arg-type]
        sha256=_sha256(certificate.dump()),
        agency_code=subject.agency_code,
        title=subject.title,
    )


def claimed_timestamp_time(signer_info: cms.SignerInfo) -> datetime | None:
    """genTime of the signature timestamp token, read WITHOUT verifying it.

    Only used to pick the moment at which the signer certificate is judged; the token itself is
    verified by pyHanko, and a token that does not verify fails the signature.
    """
    unsigned = signer_info["unsigned_attrs"]
    # Not ``.native``: that would decode every unsigned attribute, the whole token included.
    if isinstance(unsigned, core.Void) or len(unsigned) == 0:
        return None
    for attribute in unsigned:
        if attribute["type"].native != "signature_time_stamp_token":
            continue
        token = attribute["values"][0]
        tst_info = token["content"]["encap_content_info"]["content"].parsed
        return tst_info["gen_time"].native
    return None


def role_of(certificate: asn1_x509.Certificate) -> tuple[SignerRole, str | None, str]:
    """(role, agency code, why) read from the certificate subject."""
    subject = read_subject(certificate)
    code = subject.agency_code
    if code is not None:
        try:
            code = str(AgencyCode.parse(code, "certificate.organizationIdentifier"))
        except InvalidAgencyCode as exc:
            return SignerRole.UNKNOWN, None, exc.reason
    if code is None:
        return SignerRole.UNKNOWN, None, "no agency code in the certificate subject"
    if subject.is_person:
        return SignerRole.PERSON, code, f"person ({subject.title}) of agency {code}"
    return SignerRole.ORGANISATION, code, f"agency {code}"


def _field_states(reader: Any, revision: int) -> dict[str, tuple[str, str, str, str]]:
    """Non-signature form fields at ``revision``: name → (type, value, appearance, rect)."""
    resolver = reader.get_historical_resolver(revision)
    try:
        fields = resolver.root["/AcroForm"]["/Fields"]
    except (KeyError, TypeError):
        return {}
    states: dict[str, tuple[str, str, str, str]] = {}
    seen: set[tuple[int, int]] = set()

    def visit(ref: Any, prefix: str, depth: int, inherited_type: str) -> None:
        if depth > _MAX_FIELD_DEPTH or len(states) > _MAX_FIELDS:
            raise _FormTooDeep(f"form field tree deeper than {_MAX_FIELD_DEPTH} or too large")
        if isinstance(ref, generic.IndirectObject):
            key = (ref.idnum, ref.generation)
            if key in seen:
                raise _FormTooDeep(f"form field object {ref.idnum} {ref.generation} R repeats")
            seen.add(key)
        node = ref.get_object()
        if not isinstance(node, generic.DictionaryObject):
            return
        partial = str(node.get("/T", ""))
        name = f"{prefix}.{partial}" if prefix and partial else (partial or prefix)
        field_type = str(node.get("/FT", inherited_type))
        kids = node.get("/Kids")
        if isinstance(kids, generic.ArrayObject) and any(
            isinstance(k.get_object(), generic.DictionaryObject) and "/T" in k.get_object()
            for k in kids
        ):
            for kid in kids:
                visit(kid, name, depth + 1, field_type)
            return
        if field_type == "/Sig":
            return
        appearance = node.get("/AP")
        states[name] = (
            field_type,
            repr(node.get("/V")),
            _sha256(repr(appearance).encode()) if appearance is not None else "",
            repr(node.get("/Rect")),
        )

    for ref in fields:
        visit(ref, "", 0, "")
    return states


class _FormTooDeep(Exception):
    pass


def field_changes_after(reader: Any, signed_revision: int, allowed: frozenset[str]) -> list[str]:
    """Descriptions of changes to form fields after ``signed_revision`` that are not allowed.

    Allowed: the value and appearance of the whitelisted fields (number/symbol and date),
    never their position. Everything else — another field's value, a new field, a moved
    field — is refused, even where pyHanko's generic policy calls it "form filling".
    """
    problems: list[str] = []
    total = reader.xrefs.total_revisions
    before = _field_states(reader, signed_revision)
    for revision in range(signed_revision + 1, total):
        after = _field_states(reader, revision)
        for name, state in after.items():
            old = before.get(name)
            if old == state:
                continue
            if old is None:
                problems.append(f"revision {revision}: new form field {name!r}")
            elif name not in allowed:
                problems.append(f"revision {revision}: form field {name!r} changed")
            elif old[3] != state[3] or old[0] != state[0]:
                problems.append(f"revision {revision}: form field {name!r} moved or retyped")
        for name in before.keys() - after.keys():
            problems.append(f"revision {revision}: form field {name!r} removed")
        before = after
    return problems


_PYHANKO_TO_SUB = {sub.value: sub for sub in SubIndication}


def _trust_sub_indication(indication: Any) -> SubIndication:
    if indication is None:
        return SubIndication.NO_CERTIFICATE_CHAIN_FOUND
    return _PYHANKO_TO_SUB.get(indication.name, SubIndication.CHAIN_CONSTRAINTS_FAILURE)


def _own_review(reviewer: RevisionReviewer, sig: EmbeddedPdfSignature) -> UpdateReview | None:
    """Our review of the updates after ``sig`` when it decides; None: pyHanko's analysis runs.

    Field locks (/Lock, FieldMDP) restrict later changes field by field: pyHanko judges those.
    """
    if sig.fieldmdp is not None or "/Lock" in sig.sig_field:
        return None
    review = reviewer.review_after(sig.signed_revision)
    if review.outcome is Outcome.UNRECOGNISED:
        logger.debug("pyHanko reviews %s: %s", sig.field_name, review.reason)
        return None
    return review


def _modification_checks(status: Any, review: UpdateReview | None, docmdp: Any) -> list[Check]:
    """Coverage and modification checks, from our review or else from pyHanko's analysis."""
    checks: list[Check] = []
    coverage = status.coverage
    if coverage not in (SignatureCoverageLevel.ENTIRE_REVISION, SignatureCoverageLevel.ENTIRE_FILE):
        checks.append(
            Check.failed(
                "coverage",
                SubIndication.FORMAT_FAILURE,
                f"the signed byte ranges do not cover a whole revision ({coverage})",
            )
        )
    else:
        checks.append(Check.passed("coverage", str(coverage.name)))
    if review is not None and review.outcome is Outcome.DISALLOWED:
        checks.append(
            Check.failed(
                "modifications",
                SubIndication.DISALLOWED_MODIFICATION,
                f"{review.reason}; only form filling of the number/date fields, later "
                "signatures and LTA updates are allowed",
            )
        )
        return checks
    if review is not None:
        level = review.level
        # pyHanko's rule (summarise_integrity_info): a level above the DocMDP permission fails.
        docmdp_ok = docmdp is None or level.value <= docmdp.value
    else:
        level, docmdp_ok = status.modification_level, status.docmdp_ok
    if docmdp_ok is False or level is None or level > ModificationLevel.FORM_FILLING:
        checks.append(
            Check.failed(
                "modifications",
                SubIndication.DISALLOWED_MODIFICATION,
                f"changes after signing are of level {getattr(level, 'name', level)}; only form "
                "filling of the number/date fields, later signatures and LTA updates are allowed",
            )
        )
    else:
        checks.append(Check.passed("modifications", level.name))
    return checks


class PdfVerifier:
    """Verifies signed PDFs against a trust store and a policy. Thread-safe; reuse one."""

    def __init__(self, trust: TrustStore, policy: VerificationPolicy | None = None) -> None:
        self.policy = policy or VerificationPolicy()
        self._trust = trust
        self._materials: OrderedDict[str, TrustMaterial] = OrderedDict()
        self._parsed = ParsedObjects()
        self._lock = threading.Lock()

    @property
    def trust(self) -> TrustStore:
        return self._trust

    def with_policy(self, policy: VerificationPolicy) -> PdfVerifier:
        """The same engine and caches under another policy (edXML attachments)."""
        twin = copy.copy(self)
        twin.policy = policy
        return twin

    def use_trust(self, trust: TrustStore) -> None:
        """Switch to another trust store (the API changed it); derived data is keyed by version."""
        self._trust = trust

    def material(self, trust: TrustStore | None = None) -> TrustMaterial:
        trust = trust or self._trust
        with self._lock:
            cached = self._materials.get(trust.version)
            if cached is not None:
                self._materials.move_to_end(trust.version)
                return cached
        built = TrustMaterial.build(trust)
        with self._lock:
            self._materials[trust.version] = built
            while len(self._materials) > _MATERIAL_CACHE_SIZE:
                self._materials.popitem(last=False)
        return built

    def _context(
        self, material: TrustMaterial, embedded: _Embedded, moment: datetime | None
    ) -> ValidationContext:
        # Embedded (document) data first, configured data second; certvalidator consults both.
        return ValidationContext(
            trust_manager=material.trust_manager,
            other_certs=[*embedded.certificates, *material.intermediates],
            crls=[*embedded.crls, *material.crls],
            ocsps=list(embedded.ocsps),
            moment=moment,
            retroactive_revinfo=True,
            allow_fetching=self.policy.allow_fetching,
            revocation_mode=self.policy.revocation_mode,
        )

    def verify(self, data: bytes, *, sender: str | None = None) -> DocumentReport:
        return asyncio.run(self.async_verify(data, sender=sender))

    async def async_verify(self, data: bytes, *, sender: str | None = None) -> DocumentReport:
        if len(data) > self.policy.max_document_bytes:
            raise DocumentTooLarge(
                f"{len(data)} bytes, the limit is {self.policy.max_document_bytes}",
                field="document",
            )
        if sender is not None:
            try:
                sender = str(AgencyCode.parse(sender, "sender"))
            except InvalidAgencyCode as exc:
                raise InvalidArgument(exc.reason, field="sender") from None
        trust = self._trust
        material = self.material(trust)
        signatures: list[SignatureResult] = []
        checks: list[Check] = []
        try:
            signatures, checks = await self._verify_pdf(data, material, sender)
        except RecursionError:
            checks = [Check.failed("structure", SubIndication.FORMAT_FAILURE, "nesting too deep")]
        except Exception as exc:  # hostile input: any parser failure is a verdict
            logger.debug("unreadable PDF", exc_info=True)
            checks = [
                Check.failed(
                    "structure",
                    SubIndication.FORMAT_FAILURE,
                    f"not a readable signed PDF ({type(exc).__name__}: {_short(exc)})",
                )
            ]
        verdict = document_verdict(signatures, checks)
        summary_vi, summary_en = summaries(verdict)
        return DocumentReport(
            kind="pdf",
            sha256=_sha256(data),
            size=len(data),
            verified_at=datetime.now(VIETNAM).replace(microsecond=0),
            trust_store_version=trust.version,
            verdict=verdict,
            signatures=tuple(signatures),
            checks=tuple(checks),
            sender=sender,
            summary_vi=summary_vi,
            summary_en=summary_en,
            policy=self.policy.as_dict(),
        )

    async def _verify_pdf(
        self, data: bytes, material: TrustMaterial, sender: str | None
    ) -> tuple[list[SignatureResult], list[Check]]:
        reader = PdfFileReader(io.BytesIO(data), strict=True)
        if reader.encrypted:
            return [], [
                Check.failed("structure", SubIndication.FORMAT_FAILURE, "the PDF is encrypted")
            ]
        embedded_signatures = list(reader.embedded_signatures)
        if len(embedded_signatures) > self.policy.max_signatures:
            return [], [
                Check.failed(
                    "structure",
                    SubIndication.FORMAT_FAILURE,
                    f"{len(embedded_signatures)} signatures, more than the limit "
                    f"{self.policy.max_signatures}",
                )
            ]
        embedded = _read_dss(reader, self._parsed)
        document_timestamps = [
            (sig.signed_revision, sig) for sig in embedded_signatures if _is_doc_timestamp(sig)
        ]
        # Timestamps are judged now; one context serves all of this document's tokens.
        now_context = self._context(material, embedded, None)
        # One review of each incremental update, shared by the signatures it follows.
        reviewer = RevisionReviewer(reader, self.policy.allowed_fill_fields)
        results: list[SignatureResult] = []
        for sig in embedded_signatures:
            if _is_doc_timestamp(sig):
                results.append(await self._document_timestamp(sig, now_context))
            else:
                results.append(
                    await self._signature(
                        reader,
                        sig,
                        material,
                        embedded,
                        now_context,
                        document_timestamps,
                        reviewer,
                    )
                )
        facts = [
            SignerFacts(r.field_name, r.role, r.certificate.agency_code if r.certificate else None)
            for r in results
            if r.role is not SignerRole.DOCUMENT_TIMESTAMP
        ]
        role_policy = RolePolicy(self.policy.require_person, self.policy.require_organisation)
        return results, role_checks(facts, sender, role_policy)

    async def _document_timestamp(
        self, sig: EmbeddedPdfSignature, context: ValidationContext
    ) -> SignatureResult:
        checks: list[Check] = []
        time = None
        certificate = None
        try:
            certificate = certificate_info(sig.signer_cert)
            # The difference analysis after a document timestamp is never consulted here:
            # changes after it are judged through the signatures it follows.
            status = await async_validate_pdf_timestamp(
                sig, validation_context=context, skip_diff=True
            )
            time = _vietnam(status.timestamp)
            checks.extend(_integrity_checks(status))
            if status.intact and status.valid:
                checks.append(_trust_check(status, "timestamp authority"))
        except Exception as exc:  # a broken token is a verdict, not a crash
            checks.append(_unreadable(exc))
        return SignatureResult(
            field_name=sig.field_name,
            role=SignerRole.DOCUMENT_TIMESTAMP,
            signer=read_subject(sig.signer_cert).common_name if certificate else "",
            certificate=certificate,
            signing_time=time,
            time_source=TimeSource.DOCUMENT_TIMESTAMP if time else TimeSource.NONE,
            level=None,
            checks=tuple(checks),
            verdict=combine(checks),
        )

    async def _signature(
        self,
        reader: PdfFileReader,
        sig: EmbeddedPdfSignature,
        material: TrustMaterial,
        embedded: _Embedded,
        ts_context: ValidationContext,
        document_timestamps: Sequence[tuple[int, EmbeddedPdfSignature]],
        reviewer: RevisionReviewer,
    ) -> SignatureResult:
        checks: list[Check] = []
        certificate = None
        role, signer = SignerRole.UNKNOWN, ""
        signing_time: datetime | None = None
        time_source = TimeSource.NONE
        level: SignatureLevel | None = None
        try:
            cert = sig.signer_cert
            certificate = certificate_info(cert)
            signer = read_subject(cert).common_name
            role, _, role_detail = role_of(cert)
            checks.append(
                Check.passed("signer role", role_detail)
                if role is not SignerRole.UNKNOWN
                else Check.warning("signer role", role_detail)
            )
            # Judged at the timestamp's time (a forged token fails the signature anyway); a
            # claimed time proves nothing, so without a token the certificate is judged now —
            # else a revoked key could simply claim a time before its revocation.
            moment = claimed_timestamp_time(sig.signer_info)
            claimed = sig.self_reported_timestamp
            context = self._context(material, embedded, moment)
            review = _own_review(reviewer, sig)
            status = await async_validate_pdf_signature(
                sig,
                signer_validation_context=context,
                ts_validation_context=ts_context,
                skip_diff=review is not None,
            )
            checks.extend(_integrity_checks(status))
            ts_status = status.timestamp_validity
            if ts_status is not None:
                signing_time, time_source = (
                    _vietnam(ts_status.timestamp),
                    (TimeSource.SIGNATURE_TIMESTAMP),
                )
                checks.append(_timestamp_check(ts_status))
            elif claimed is not None:
                signing_time, time_source = _vietnam(claimed), TimeSource.CLAIMED
                checks.append(
                    Check.warning(
                        "signing time",
                        "no signature timestamp: the signer's claimed time is used (weaker)",
                    )
                )
            validity = _validity_check(cert, signing_time)
            if validity is not None:
                checks.append(validity)
            elif status.intact and status.valid:
                checks.append(_trust_check(status, "signer certificate"))
            checks.extend(_modification_checks(status, review, sig.docmdp_level))
            # An ALLOWED review already proves it: only the whitelisted fields' value and
            # appearance changed, no field was added (but signatures), moved or removed.
            problems = (
                []
                if review is not None and review.outcome is Outcome.ALLOWED
                else field_changes_after(
                    reader, sig.signed_revision, self.policy.allowed_fill_fields
                )
            )
            if problems:
                checks.append(
                    Check.failed(
                        "form fields",
                        SubIndication.DISALLOWED_MODIFICATION,
                        "; ".join(problems[:5]),
                    )
                )
            else:
                checks.append(Check.passed("form fields", "only the number/date fields changed"))
            level = _level(sig, ts_status is not None, embedded, document_timestamps)
        except _FormTooDeep as exc:
            checks.append(Check.failed("form fields", SubIndication.FORMAT_FAILURE, str(exc)))
        except Exception as exc:  # malformed CMS etc.: a verdict, not a crash
            logger.debug("signature %s unreadable", sig.field_name, exc_info=True)
            checks.append(_unreadable(exc))
        return SignatureResult(
            field_name=sig.field_name,
            role=role,
            signer=signer,
            certificate=certificate,
            signing_time=signing_time,
            time_source=time_source,
            level=level,
            checks=tuple(checks),
            verdict=combine(checks),
        )


def _is_doc_timestamp(sig: EmbeddedPdfSignature) -> bool:
    return sig.sig_object.get("/Type") == "/DocTimeStamp"


def _short(exc: BaseException) -> str:
    text = str(exc)
    return text if len(text) <= 200 else text[:197] + "..."


def _unreadable(exc: Exception) -> Check:
    return Check.failed(
        "format",
        SubIndication.FORMAT_FAILURE,
        f"signature cannot be processed ({type(exc).__name__}: {_short(exc)})",
    )


def _integrity_checks(status: Any) -> list[Check]:
    if not status.intact:
        return [
            Check.failed(
                "integrity",
                SubIndication.HASH_FAILURE,
                "the digest of the signed byte ranges does not match the signed digest",
            )
        ]
    checks = [Check.passed("integrity", "digest of the signed byte ranges matches")]
    if not status.valid:
        checks.append(
            Check.failed(
                "signature value",
                SubIndication.SIG_CRYPTO_FAILURE,
                "the CMS signature does not verify with the certificate's public key",
            )
        )
    else:
        checks.append(Check.passed("signature value", "verifies with the certificate's key"))
    return checks


def _trust_check(status: Any, what: str) -> Check:
    if status.trusted:
        return Check.passed("trust", f"{what} chains to a trust anchor, not revoked")
    sub = _trust_sub_indication(status.trust_problem_indic)
    if status.revoked:
        sub = SubIndication.REVOKED
    return Check.failed(
        "trust", sub, f"{what}: {getattr(status.trust_problem_indic, 'name', 'untrusted')}"
    )


def _timestamp_check(ts_status: Any) -> Check:
    if not ts_status.intact:
        return Check.failed(
            "signature timestamp",
            SubIndication.HASH_FAILURE,
            "the timestamp token does not match the signature it claims to cover",
        )
    if not ts_status.valid:
        return Check.failed(
            "signature timestamp",
            SubIndication.SIG_CRYPTO_FAILURE,
            "the timestamp token's signature does not verify",
        )
    if not ts_status.trusted:
        return Check.failed(
            "signature timestamp",
            SubIndication.TIMESTAMP_FAILURE,
            "the timestamp authority is not trusted",
        )
    return Check.passed(
        "signature timestamp",
        f"valid token of a trusted TSA at {_vietnam(ts_status.timestamp).isoformat()}",  # type: ignore[union-attr]
    )


def _validity_check(cert: asn1_x509.Certificate, moment: datetime | None) -> Check | None:
    """EXPIRED / NOT_YET_VALID when the signing time lies outside the certificate's validity."""
    if moment is None:
        return None
    if moment > cert.not_valid_after:
        return Check.failed(
            "certificate validity",
            SubIndication.EXPIRED,
            f"signed at {moment.isoformat()}, the certificate expired "
            f"{_vietnam(cert.not_valid_after).isoformat()}",  # type: ignore[union-attr]
        )
    if moment < cert.not_valid_before:
        return Check.failed(
            "certificate validity",
            SubIndication.NOT_YET_VALID,
            f"signed at {moment.isoformat()}, the certificate is valid from "
            f"{_vietnam(cert.not_valid_before).isoformat()}",  # type: ignore[union-attr]
        )
    return None


def _level(
    sig: EmbeddedPdfSignature,
    has_timestamp: bool,
    embedded: _Embedded,
    document_timestamps: Sequence[tuple[int, EmbeddedPdfSignature]],
) -> SignatureLevel:
    if not has_timestamp:
        return SignatureLevel.B_B
    if not embedded.has_revocation_data:
        return SignatureLevel.B_T
    if any(revision > sig.signed_revision for revision, _ in document_timestamps):
        return SignatureLevel.B_LTA
    return SignatureLevel.B_LT


__all__ = [
    "DocumentTooLarge",
    "PdfVerifier",
    "TrustMaterial",
    "VerificationPolicy",
    "certificate_info",
    "field_changes_after",
    "role_of",
]
