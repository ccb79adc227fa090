"""Trust anchors for verification: a directory of certificates plus a database-managed list.

The production anchors are the government root CA list (Ban Cơ yếu Chính phủ, the public CA
roots the province accepts); in development, the dev PKI's root (``$LT_VAR_DIR/devpki``).
A :class:`TrustStore` is immutable and has a :attr:`~TrustStore.version` (a digest of its
content): engines cache what they derive from it under that version, so a change of anchors
is a change of version and nothing derived from the old anchors is ever reused.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from asn1crypto import pem
from asn1crypto import x509 as asn1_x509

from services.chassis import config
from services.chassis.errors import FailedPrecondition, InvalidArgument

TRUST_DIR_ENV = "LT_TRUST_DIR"
CERTIFICATE_SUFFIXES = (".pem", ".crt", ".cer", ".der")
CRL_SUFFIXES = (".crl",)
MAX_TRUST_FILE_BYTES = 4 * 1024 * 1024


class TrustStoreError(FailedPrecondition):
    """The trust configuration is unusable (no anchor, unreadable file)."""


class InvalidCertificate(InvalidArgument):
    """Bytes given as a certificate are not one."""


def der_blocks(data: bytes, pem_type: str | None = None) -> list[bytes]:
    """Every DER object in ``data``: a PEM bundle's blocks (of ``pem_type`` if given, so a
    private key next to a certificate is skipped), or ``data`` itself if it is DER."""
    if pem.detect(data):
        return [
            der
            for type_name, _, der in pem.unarmor(data, multiple=True)
            if pem_type is None or type_name == pem_type
        ]
    return [data]


def load_certificate(der: bytes, field: str = "certificate") -> asn1_x509.Certificate:
    """Parse a DER certificate strictly (a parse of every field, not a lazy wrapper)."""
    try:
        certificate = asn1_x509.Certificate.load(der, strict=True)
        _ = certificate.subject.native, certificate.not_valid_after, certificate.public_key
    except (ValueError, TypeError, KeyError) as exc:
        raise InvalidCertificate(f"not an X.509 certificate ({exc})", field=field) from None
    return certificate


def fingerprint(certificate: asn1_x509.Certificate) -> str:
    return hashlib.sha256(certificate.dump()).hexdigest()


@dataclass(frozen=True)
class TrustStore:
    """Anchors (trusted roots), intermediates offered for path building, configured CRLs."""

    anchors: tuple[asn1_x509.Certificate, ...]
    intermediates: tuple[asn1_x509.Certificate, ...] = ()
    crls: tuple[bytes, ...] = ()
    source: str = ""

    @cached_property
    def version(self) -> str:
        """Digest of the content: equal stores have equal versions, whatever their source."""
        digest = hashlib.sha256()
        for label, items in (
            (b"A", sorted(c.dump() for c in self.anchors)),
            (b"I", sorted(c.dump() for c in self.intermediates)),
            (b"C", sorted(self.crls)),
        ):
            for item in items:
                digest.update(label + hashlib.sha256(item).digest())
        return digest.hexdigest()[:16]

    def merged(self, anchors: Iterable[asn1_x509.Certificate], source: str = "") -> TrustStore:
        """This store plus more anchors (the database-managed list), duplicates dropped."""
        known = {fingerprint(c) for c in self.anchors}
        extra = tuple(c for c in anchors if fingerprint(c) not in known)
        return TrustStore(
            self.anchors + extra,
            self.intermediates,
            self.crls,
            " + ".join(part for part in (self.source, source) if part),
        )

    @classmethod
    def from_directory(cls, directory: Path) -> TrustStore:
        """Self-signed certificates are anchors, others intermediates; ``*.crl`` files CRLs."""
        if not directory.is_dir():
            raise TrustStoreError(f"{directory} is not a directory", field="trust")
        anchors: list[asn1_x509.Certificate] = []
        intermediates: list[asn1_x509.Certificate] = []
        crls: list[bytes] = []
        for path in sorted(directory.iterdir()):
            suffixes = "".join(path.suffixes[-2:])
            if not path.is_file() or path.stat().st_size > MAX_TRUST_FILE_BYTES:
                continue
            if path.suffix in CRL_SUFFIXES or suffixes == ".crl.der":
                crls.extend(der_blocks(path.read_bytes(), "X509 CRL"))
                continue
            if path.suffix not in CERTIFICATE_SUFFIXES:
                continue
            for index, der in enumerate(der_blocks(path.read_bytes(), "CERTIFICATE")):
                try:
                    certificate = load_certificate(der, f"{path.name}[{index}]")
                except InvalidCertificate as exc:
                    raise TrustStoreError(exc.reason, field=f"trust/{path.name}") from None
                if certificate.self_signed != "no":
                    anchors.append(certificate)
                else:
                    intermediates.append(certificate)
        if not anchors:
            raise TrustStoreError(
                f"{directory} holds no self-signed root certificate", field="trust"
            )
        return cls(tuple(anchors), tuple(intermediates), tuple(crls), str(directory))

    @classmethod
    def configured(cls) -> TrustStore:
        """The platform's directory: ``$LT_TRUST_DIR``, else the dev PKI of ``$LT_VAR_DIR``."""
        explicit = config.TRUST_DIR.value()
        if explicit:
            return cls.from_directory(Path(explicit))
        var_dir = os.environ.get("LT_VAR_DIR")
        if var_dir and (Path(var_dir) / "devpki").is_dir():
            return cls.from_directory(Path(var_dir) / "devpki")
        raise TrustStoreError(
            f"no trust store configured: set {TRUST_DIR_ENV} (a directory of root "
            "certificates) or LT_VAR_DIR with a dev PKI, or pass --trust DIR",
            field="trust",
        )
