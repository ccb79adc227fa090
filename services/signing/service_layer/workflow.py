"""Signing use cases with their audit trail: every operation, signed or refused, is recorded.

The gRPC servicer (later) and the CLI call :class:`SigningService`. A refusal raises the
specific :class:`~services.signing.domain.errors.SigningRefused` subclass (or an HSM error)
after writing the audit entry; anything unexpected is wrapped into ``SigningEngineFailed`` so
a worker never dies on one bad document.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from cryptography.hazmat.primitives.serialization import Encoding

from services.certificates.devpki import (
    ORGANISATION_ROLE,
    PERSON_ROLE,
    TSA_ROLE,
    DevPki,
)
from services.signing.adapters.hsm import Hsm, HsmError
from services.signing.adapters.images import (
    EncodedImage,
    handwritten_signature_png,
    round_seal_png,
)
from services.signing.adapters.pades import CopyForm, PadesEngine, SignerProfile
from services.signing.adapters.trust import TrustConfig
from services.signing.adapters.tsa import HsmTimestampAuthority
from services.signing.domain.audit import AuditEvent, AuditRecord, Outcome
from services.signing.domain.errors import SigningEngineFailed, SigningRefused

logger = logging.getLogger(__name__)


class AuditLog(Protocol):
    def append(self, event: AuditEvent) -> AuditRecord: ...


@dataclass(frozen=True)
class SignedResult:
    document: bytes
    audit: AuditRecord


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class SigningService:
    """The person → number → organisation workflow, plus attachments and copies."""

    def __init__(self, engine: PadesEngine, audit_log: AuditLog) -> None:
        self.engine = engine
        self.audit_log = audit_log

    async def _audited(
        self,
        operation: str,
        requested_by: str,
        key_id: bytes | None,
        data: bytes,
        action: Callable[[], Awaitable[bytes]],
    ) -> SignedResult:
        before = sha256_hex(data)
        key_hex = key_id.hex() if key_id else ""

        def audit_unsigned(outcome: Outcome, exc: Exception) -> None:
            detail = f"{type(exc).__name__}: {exc}"
            self.audit_log.append(
                AuditEvent(requested_by, operation, key_hex, before, None, outcome, detail)
            )

        try:
            signed = await action()
        except (SigningRefused, HsmError) as exc:
            audit_unsigned(Outcome.REFUSED, exc)
            raise
        except Exception as exc:
            logger.exception("signing operation %s failed unexpectedly", operation)
            audit_unsigned(Outcome.FAILED, exc)
            raise SigningEngineFailed(f"{operation}: {type(exc).__name__}: {exc}") from exc
        record = self.audit_log.append(
            AuditEvent(requested_by, operation, key_hex, before, sha256_hex(signed), Outcome.SIGNED)
        )
        return SignedResult(signed, record)

    async def sign_person(
        self, data: bytes, signer: SignerProfile, requested_by: str
    ) -> SignedResult:
        return await self._audited(
            "sign_person",
            requested_by,
            signer.key_id,
            data,
            lambda: self.engine.async_sign_person(data, signer),
        )

    async def fill_number_and_date(
        self, data: bytes, number: str, place_and_date: str, requested_by: str
    ) -> SignedResult:
        return await self._audited(
            "fill_number_and_date",
            requested_by,
            None,
            data,
            lambda: self.engine.async_fill_number_and_date(
                data, number=number, place_and_date=place_and_date
            ),
        )

    async def sign_organisation(
        self, data: bytes, signer: SignerProfile, requested_by: str, *, digitised_copy: bool = False
    ) -> SignedResult:
        return await self._audited(
            "sign_organisation",
            requested_by,
            signer.key_id,
            data,
            lambda: self.engine.async_sign_organisation(
                data, signer, digitised_copy=digitised_copy
            ),
        )

    async def sign_attachment(
        self,
        data: bytes,
        signer: SignerProfile,
        number: str,
        requested_by: str,
        filename: str = "",
    ) -> SignedResult:
        return await self._audited(
            "sign_attachment",
            requested_by,
            signer.key_id,
            data,
            lambda: self.engine.async_sign_attachment(
                data, signer, number=number, filename=filename
            ),
        )

    async def sign_copy(
        self,
        data: bytes,
        signer: SignerProfile,
        copy_form: CopyForm,
        copying_agency: str,
        requested_by: str,
    ) -> SignedResult:
        return await self._audited(
            "sign_copy",
            requested_by,
            signer.key_id,
            data,
            lambda: self.engine.async_sign_copy(
                data, signer, copy_form=copy_form, copying_agency=copying_agency
            ),
        )

    async def issue(
        self,
        data: bytes,
        person: SignerProfile,
        organisation: SignerProfile,
        number: str,
        place_and_date: str,
        requested_by: str,
    ) -> SignedResult:
        """The complete workflow: person signs, clerk numbers, organisation seals."""
        signed = await self.sign_person(data, person, requested_by)
        numbered = await self.fill_number_and_date(
            signed.document, number, place_and_date, requested_by
        )
        return await self.sign_organisation(numbered.document, organisation, requested_by)

    async def sign_batch(
        self,
        documents: Iterable[bytes],
        signer: SignerProfile,
        requested_by: str,
        concurrency: int = 4,
    ) -> AsyncIterator[tuple[int, SignedResult | SigningRefused | HsmError]]:
        """Sign many documents (person signature), yielding ``(index, result or refusal)``."""
        semaphore = asyncio.Semaphore(concurrency)

        async def one(index: int, data: bytes):
            async with semaphore:
                try:
                    return index, await self.sign_person(data, signer, requested_by)
                except (SigningRefused, HsmError) as exc:
                    return index, exc

        tasks = [asyncio.ensure_future(one(i, d)) for i, d in enumerate(documents)]
        for finished in asyncio.as_completed(tasks):
            yield await finished


@dataclass(frozen=True)
class DevSigning:
    """Everything the dev PKI provides to sign with: engine and the two signer profiles."""

    engine: PadesEngine
    trust: TrustConfig
    person: SignerProfile
    organisation: SignerProfile


def _asn1(certificate) -> object:
    from asn1crypto import x509 as asn1_x509

    return asn1_x509.Certificate.load(certificate.public_bytes(Encoding.DER))


def dev_signing(hsm: Hsm, pki: DevPki, *, person_role: str = PERSON_ROLE) -> DevSigning:
    """Build the engine, trust and profiles from the dev PKI (tests, ``make run``, bench)."""
    from services.certificates.devpki import DEV_AGENCY
    from services.certificates.identity import read_subject

    root, intermediate = _asn1(pki.root), _asn1(pki.intermediate)
    chain = (intermediate, root)
    trust = TrustConfig(roots=(root,), intermediates=(intermediate,), crls=tuple(pki.crls_der))
    tsa_signer = pki.signer(TSA_ROLE)
    authority = HsmTimestampAuthority(hsm, tsa_signer.key_id, _asn1(tsa_signer.certificate), chain)
    engine = PadesEngine(hsm=hsm, trust=trust, timestamper=authority)
    person_signer = pki.signer(person_role)
    person_certificate = _asn1(person_signer.certificate)
    person_name = read_subject(person_certificate).common_name  # type: ignore[arg-type]
    person = SignerProfile(
        key_id=person_signer.key_id,
        certificate=person_certificate,  # type: ignore[arg-type]
        chain=chain,  # type: ignore[arg-type]
        image=EncodedImage.from_png(handwritten_signature_png(person_name)),
    )
    org_signer = pki.signer(ORGANISATION_ROLE)
    organisation = SignerProfile(
        key_id=org_signer.key_id,
        certificate=_asn1(org_signer.certificate),  # type: ignore[arg-type]
        chain=chain,  # type: ignore[arg-type]
        image=EncodedImage.from_png(round_seal_png(DEV_AGENCY.name, DEV_AGENCY.code)),
    )
    return DevSigning(engine=engine, trust=trust, person=person, organisation=organisation)


def dev_profile(hsm: Hsm, pki: DevPki, role: str) -> SignerProfile:
    """A profile for any dev PKI role (revoked, expired, other agency...) with an image."""
    return dev_signing(hsm, pki, person_role=role).person
