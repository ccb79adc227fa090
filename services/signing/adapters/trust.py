"""Trust configuration: anchors, intermediates and CRLs to sign (B-LT) and to validate against.

Production trust is configuration, not code: a directory of certificates and CRLs
(:meth:`TrustConfig.from_directory`), e.g. the Ban Cơ yếu Chính phủ root; the development PKI
builds its own :class:`TrustConfig` in ``service_layer/workflow.py``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from asn1crypto import pem
from asn1crypto import x509 as asn1_x509
from pyhanko_certvalidator import ValidationContext

from services.signing.domain.errors import SignerCertificateUntrusted


@dataclass(frozen=True)
class TrustConfig:
    """Trust anchors, intermediates and revocation data used to sign (LT) and to validate.

    Production: a directory of certificates (``from_directory``), see docs/signing.md.
    """

    roots: tuple[asn1_x509.Certificate, ...]
    intermediates: tuple[asn1_x509.Certificate, ...] = ()
    crls: tuple[bytes, ...] = ()
    allow_fetching: bool = False

    def __post_init__(self) -> None:
        parse_fully(*self.roots, *self.intermediates)

    def validation_context(self, moment: dt.datetime | None = None) -> ValidationContext:
        return ValidationContext(
            trust_roots=list(self.roots),
            other_certs=list(self.intermediates),
            crls=list(self.crls),
            allow_fetching=self.allow_fetching,
            revocation_mode="hard-fail",
            moment=moment,
        )

    @classmethod
    def from_directory(cls, directory: Path, allow_fetching: bool = True) -> TrustConfig:
        """Self-signed certificates become anchors, others intermediates; ``*.crl`` are CRLs."""
        roots, intermediates, crls = [], [], []
        for path in sorted(directory.iterdir()):
            data = path.read_bytes()
            if path.suffix in (".crl",):
                crls.append(pem_to_der(data))
            elif path.suffix in (".pem", ".crt", ".cer", ".der"):
                certificate = asn1_x509.Certificate.load(pem_to_der(data))
                (roots if certificate.self_signed != "no" else intermediates).append(certificate)
        if not roots:
            raise SignerCertificateUntrusted(f"trust directory {directory}: no self-signed root")
        return cls(tuple(roots), tuple(intermediates), tuple(crls), allow_fetching)


def parse_fully(*certificates: asn1_x509.Certificate) -> None:
    """Parse every part of certificates that several threads will read.

    asn1crypto parses lazily and fills a structure's child list in place; two threads reading
    a half-parsed certificate at once can see an incomplete list (observed: "Integer value
    must be an integer ... not NoneType" when signing from 4 threads). Parsed once up front,
    the objects are only read afterwards.
    """
    for certificate in certificates:
        certificate.native  # noqa: B018 — forces the recursive parse
        certificate.issuer_serial  # noqa: B018 — cached properties pyHanko reads
        certificate.sha256  # noqa: B018
        certificate.sha1  # noqa: B018
        certificate.self_signed  # noqa: B018
        certificate.public_key.native  # noqa: B018


def pem_to_der(data: bytes) -> bytes:
    """DER bytes of a PEM or DER encoded object."""
    if pem.detect(data):
        _, _, der = pem.unarmor(data)
        return der
    return data


def load_certificates(paths: Iterable[Path]) -> tuple[asn1_x509.Certificate, ...]:
    return tuple(asn1_x509.Certificate.load(pem_to_der(path.read_bytes())) for path in paths)
