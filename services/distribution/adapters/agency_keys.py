"""Which HSM key signs edXML for an agency: its organisation certificate on the token.

An agency's organisation key (the seal's key, ``services/certificates/devpki.py`` in dev) sits
on the PKCS#11 token with its certificate under the same CKA_ID. Its subject names the agency
code in ``organizationIdentifier`` (2.5.4.97) or ``OU`` and carries no ``title`` (a person's
certificate does). The key ring indexes the token's certificates by that code and picks, per
agency, the valid one that expires last; a person's key never signs a package for the agency.

Used for the packages SendDocument builds (the sending agency's key, no fallback: a document
is not sent under another agency's name) and for the status packages to the national axis (the
receiving agency's key, the hub key ``LT_DISTRIBUTION_AXIS_KEY_ID`` as the fallback).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from asn1crypto import x509 as asn1_x509

from services.certificates.identity import read_subject
from services.chassis.errors import FailedPrecondition
from services.distribution.adapters.hsm_signer import HsmXmlSigner
from services.distribution.edxml.dsig import XmlSigner

#: A miss re-reads the token at most this often (an agency's key imported meanwhile shows up).
REFRESH_ON_MISS_S = 10.0


class NoAgencyKey(FailedPrecondition):
    """No organisation key of the agency on the token (and no fallback allowed)."""


class TokenKeys(Protocol):
    """What the key ring reads from the HSM (``services.signing.adapters.hsm.Hsm``)."""

    def list_keys(self, id_prefix: bytes = b"") -> list[Any]: ...

    def certificate_der(self, key_id: bytes) -> bytes: ...

    def sign(self, key_id: bytes, data: bytes) -> bytes: ...


@dataclass(frozen=True, slots=True)
class AgencyKey:
    agency_code: str
    key_id: bytes
    not_after: datetime


def organisation_keys(hsm: TokenKeys, at: datetime | None = None) -> dict[str, AgencyKey]:
    """Agency code → its valid organisation key on the token (latest expiry wins)."""
    at = at or datetime.now(UTC)
    found: dict[str, AgencyKey] = {}
    for info in hsm.list_keys():
        if not info.has_certificate:
            continue
        try:
            certificate = asn1_x509.Certificate.load(hsm.certificate_der(info.key_id))
            subject = read_subject(certificate)
            validity = certificate["tbs_certificate"]["validity"]
            not_before = validity["not_before"].native
            not_after = validity["not_after"].native
        except Exception:
            continue
        if subject.is_person or not subject.agency_code or not not_before <= at <= not_after:
            continue
        current = found.get(subject.agency_code)
        if current is None or not_after > current.not_after:
            found[subject.agency_code] = AgencyKey(subject.agency_code, info.key_id, not_after)
    return found


class AgencyKeyRing:
    """Signers per agency over one token, the index kept in memory and re-read on a miss."""

    def __init__(self, hsm: TokenKeys, fallback_key_id: bytes | None = None) -> None:
        self.hsm = hsm
        self.fallback_key_id = fallback_key_id
        self._index: dict[str, AgencyKey] = {}
        self._read_at = float("-inf")
        self._lock = threading.Lock()

    def key_id_for(self, agency_code: str) -> bytes | None:
        """The agency's own key id, or None."""
        with self._lock:
            known = self._index.get(agency_code)
            if known is None and time.monotonic() - self._read_at >= REFRESH_ON_MISS_S:
                self._index = organisation_keys(self.hsm)
                self._read_at = time.monotonic()
                known = self._index.get(agency_code)
        return known.key_id if known else None

    def signer_for(self, agency_code: str) -> XmlSigner:
        """The agency's signer; :class:`NoAgencyKey` names the agency when it has none."""
        key_id = self.key_id_for(agency_code)
        if key_id is None:
            raise NoAgencyKey(
                f"agency {agency_code} has no organisation key with a valid certificate "
                "on the HSM token",
                field="agency_code",
            )
        return HsmXmlSigner(self.hsm, key_id)  # type: ignore[arg-type]

    def signer_or_fallback(self, agency_code: str) -> XmlSigner | None:
        """The agency's signer, else the hub key's, else None (unsigned)."""
        key_id = self.key_id_for(agency_code) or self.fallback_key_id
        return HsmXmlSigner(self.hsm, key_id) if key_id else None  # type: ignore[arg-type]
