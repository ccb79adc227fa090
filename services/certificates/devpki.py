"""Development PKI — for tests and ``make run`` ONLY, never production trust.

Every certificate issued here carries ``O=LiênThông DEV — không dùng thật`` in its issuer chain
(the root and intermediate subjects), so no validator configured with real trust anchors
(Ban Cơ yếu Chính phủ's root, see ``docs/signing.md``) will accept it.

Layout of ``$LT_VAR_DIR/devpki/`` (created by :func:`ensure_dev_pki`, idempotent):

* ``root.key.pem`` / ``root.crt.pem`` — the test "government root CA" (software key: dev only).
* ``intermediate.key.pem`` / ``intermediate.crt.pem`` — the issuing CA (software key).
* ``root.crl.der`` / ``intermediate.crl.der`` — CRLs; the intermediate's lists the revoked
  test signer. Re-issued when less than 7 days of validity are left.
* ``<role>.crt.pem`` — one certificate per signer role; the signer's private key is generated
  IN THE HSM under CKA_ID ``lt-dev-<role>`` and never leaves it.

Two families of signers: the test agency's (``DEV_AGENCY``, 000.00.12.H23 — person,
organisation, TSA, revoked, expired, other agency), which the signing and verification tests
use, and the demo province's issuing agency (``DEMO_ISSUER``, Ủy ban nhân dân tỉnh Lạc Hồng,
000.00.00.H56 — its organisation key ``lt-dev-demo-organisation`` and its chairman's person key
``lt-dev-demo-chairman``), which ``make run`` and ``lienthong demo`` sign with. Adding a role
never touches the keys and certificates of the others.

Subject attributes (all UTF8String, NFC):

* person: ``CN`` full name, ``title`` (2.5.4.12) function, ``O`` agency name, ``OU`` the
  13-character agency code, ``organizationIdentifier`` (2.5.4.97) the agency code again,
  ``L`` province, ``C=VN``.
* organisation: ``CN`` and ``O`` agency name, ``OU`` and ``organizationIdentifier`` the code.

The agency code format (e.g. ``000.00.01.H56``) is the one of QĐ 28/2018/QĐ-TTg Điều 10.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from services.certificates.identity import (
    DEV_MARKER_ORGANISATION,
    AgencyIdentity,
    PersonIdentity,
)
from services.certificates.profiles import ca_certificate, crl_distribution_point
from services.signing.adapters.hsm import Hsm, KeyAlgorithm, KeyNotFound

ROOT_NOT_BEFORE = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
CRL_URL_ROOT = "http://pki.lienthong.invalid/dev/root.crl"
CRL_URL_INTERMEDIATE = "http://pki.lienthong.invalid/dev/intermediate.crl"
KEY_ID_PREFIX = b"lt-dev-"

DEV_AGENCY = AgencyIdentity(
    name="Sở Thông tin và Truyền thông tỉnh Hà Giang",
    code="000.00.12.H23",
    province="Hà Giang",
)

#: Signer roles of the dev PKI: role -> (identity, how the certificate is made special).
PERSON_ROLE = "person"
ORGANISATION_ROLE = "organisation"
TSA_ROLE = "tsa"
REVOKED_PERSON_ROLE = "person-revoked"
EXPIRED_PERSON_ROLE = "person-expired"
OTHER_AGENCY_PERSON_ROLE = "person-other-agency"

DEV_PERSON = PersonIdentity(full_name="Nguyễn Thị Hương Giang", title="Giám đốc", agency=DEV_AGENCY)
_OTHER_AGENCY = AgencyIdentity(
    name="Sở Tài chính tỉnh Hà Giang", code="000.00.13.H23", province="Hà Giang"
)
#: The demo province's issuing agency (services/identifiers/data/demo_province.json).
DEMO_ISSUER = AgencyIdentity(
    name="Ủy ban nhân dân tỉnh Lạc Hồng", code="000.00.00.H56", province="Lạc Hồng"
)
#: Its chairman, the authorised person who signs the demo's directive (Chỉ thị).
DEMO_CHAIRMAN = PersonIdentity(full_name="Hoàng Minh Khôi", title="Chủ tịch", agency=DEMO_ISSUER)
DEMO_ORGANISATION_ROLE = "demo-organisation"
DEMO_CHAIRMAN_ROLE = "demo-chairman"

_SIGNER_SUBJECTS: dict[str, PersonIdentity | AgencyIdentity | str] = {
    PERSON_ROLE: DEV_PERSON,
    ORGANISATION_ROLE: DEV_AGENCY,
    TSA_ROLE: "LiênThông DEV Timestamping Authority",
    REVOKED_PERSON_ROLE: PersonIdentity(
        full_name="Trần Văn Đức", title="Phó Giám đốc", agency=DEV_AGENCY
    ),
    EXPIRED_PERSON_ROLE: PersonIdentity(
        full_name="Lê Quang Vũ", title="Phó Giám đốc", agency=DEV_AGENCY
    ),
    OTHER_AGENCY_PERSON_ROLE: PersonIdentity(
        full_name="Phạm Minh Châu", title="Giám đốc", agency=_OTHER_AGENCY
    ),
    DEMO_ORGANISATION_ROLE: DEMO_ISSUER,
    DEMO_CHAIRMAN_ROLE: DEMO_CHAIRMAN,
}


def subject_of(role: str) -> PersonIdentity | AgencyIdentity | str:
    """Who the certificate of a dev PKI role names; :class:`KeyError` for an unknown role."""
    try:
        return _SIGNER_SUBJECTS[role]
    except KeyError:
        raise KeyError(
            f"dev PKI role {role!r}: unknown, expected one of {sorted(_SIGNER_SUBJECTS)}"
        ) from None


def key_id_of(role: str) -> bytes:
    """The HSM CKA_ID of a dev PKI role's key (``lt-dev-<role>``)."""
    subject_of(role)
    return KEY_ID_PREFIX + role.encode("ascii")


class DevPkiError(Exception):
    """The development PKI directory is unusable (unreadable or inconsistent file)."""


@dataclass(frozen=True)
class DevSigner:
    """A signer of the dev PKI: its HSM key id and its certificate."""

    role: str
    key_id: bytes
    certificate: x509.Certificate
    certificate_path: Path

    @property
    def certificate_der(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.DER)


@dataclass(frozen=True)
class DevPki:
    """The loaded development PKI."""

    directory: Path
    root: x509.Certificate
    intermediate: x509.Certificate
    root_crl: x509.CertificateRevocationList
    intermediate_crl: x509.CertificateRevocationList
    signers: dict[str, DevSigner]

    def signer(self, role: str) -> DevSigner:
        try:
            return self.signers[role]
        except KeyError:
            raise KeyError(
                f"dev PKI role {role!r}: unknown, expected one of {sorted(self.signers)}"
            ) from None

    @property
    def crls_der(self) -> list[bytes]:
        return [
            crl.public_bytes(serialization.Encoding.DER)
            for crl in (self.root_crl, self.intermediate_crl)
        ]

    @property
    def chain_der(self) -> list[bytes]:
        """Intermediate then root, DER (what a signature embeds besides the signer)."""
        return [
            cert.public_bytes(serialization.Encoding.DER) for cert in (self.intermediate, self.root)
        ]


def _ca_name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, DEV_MARKER_ORGANISATION),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


@contextmanager
def _directory_lock(directory: Path) -> Iterator[None]:
    """Serialise ensure_dev_pki between processes (test workers, bench workers)."""
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".lock", "w") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def _write_private(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    tmp.replace(path)


def _write_public(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def _load_or_create_ca(
    directory: Path,
    stem: str,
    common_name: str,
    issuer: tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None,
    now: dt.datetime,
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key_path, cert_path = directory / f"{stem}.key.pem", directory / f"{stem}.crt.pem"
    if key_path.exists() and cert_path.exists():
        try:
            key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
            cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        except ValueError as exc:
            raise DevPkiError(f"{stem} CA files in {directory}: unreadable ({exc})") from None
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        return cert, key
    key = ec.generate_private_key(ec.SECP256R1())
    name = _ca_name(common_name)
    cert = ca_certificate(
        name,
        key,
        issuer=issuer,
        not_before=ROOT_NOT_BEFORE,
        not_after=now + dt.timedelta(days=365 * (20 if issuer is None else 10)),
        issuer_crl_url=CRL_URL_ROOT,
    )
    _write_private(
        key_path,
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )
    _write_public(cert_path, cert.public_bytes(serialization.Encoding.PEM))
    return cert, key


def subject_name(subject: PersonIdentity | AgencyIdentity | str) -> x509.Name:
    """The certificate subject for a signer (attributes listed in the module docstring)."""
    if isinstance(subject, str):
        return _ca_name(subject)
    if isinstance(subject, PersonIdentity):
        agency = subject.agency
        attributes = [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
            x509.NameAttribute(NameOID.LOCALITY_NAME, agency.province),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, agency.name),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, agency.code),
            x509.NameAttribute(NameOID.ORGANIZATION_IDENTIFIER, agency.code),
            x509.NameAttribute(NameOID.TITLE, subject.title),
            x509.NameAttribute(NameOID.COMMON_NAME, subject.full_name),
        ]
    else:
        attributes = [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
            x509.NameAttribute(NameOID.LOCALITY_NAME, subject.province),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, subject.name),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, subject.code),
            x509.NameAttribute(NameOID.ORGANIZATION_IDENTIFIER, subject.code),
            x509.NameAttribute(NameOID.COMMON_NAME, subject.name),
        ]
    return x509.Name(attributes)


def issue_certificate(
    *,
    hsm: Hsm,
    key_id: bytes,
    subject: x509.Name,
    issuer_cert: x509.Certificate,
    issuer_key: ec.EllipticCurvePrivateKey,
    not_before: dt.datetime,
    not_after: dt.datetime,
    timestamping: bool = False,
) -> x509.Certificate:
    """Certify the public half of HSM key ``key_id`` (the private key stays in the token)."""
    public_key = serialization.load_der_public_key(hsm.public_key_info(key_id).dump())
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_cert.subject)
        .public_key(public_key)  # type: ignore[arg-type]
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=not timestamping,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)  # type: ignore[arg-type]
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
        .add_extension(crl_distribution_point(CRL_URL_INTERMEDIATE), critical=False)
    )
    if timestamping:
        # RFC 3161 §2.3: the TSA certificate has exactly one EKU, timeStamping, critical.
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True
        )
    return builder.sign(issuer_key, hashes.SHA256())


def _issue_crl(
    issuer_cert: x509.Certificate,
    issuer_key: ec.EllipticCurvePrivateKey,
    revoked_serials: list[int],
    now: dt.datetime,
) -> x509.CertificateRevocationList:
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer_cert.subject)
        .last_update(now - dt.timedelta(minutes=5))
        .next_update(now + dt.timedelta(days=30))
        .add_extension(x509.CRLNumber(int(now.timestamp())), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
    )
    for serial in revoked_serials:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(serial)
            .revocation_date(now - dt.timedelta(days=1))
            .add_extension(x509.CRLReason(x509.ReasonFlags.key_compromise), critical=False)
            .build()
        )
    return builder.sign(issuer_key, hashes.SHA256())


def _load_crl(path: Path, now: dt.datetime) -> x509.CertificateRevocationList | None:
    if not path.exists():
        return None
    crl = x509.load_der_x509_crl(path.read_bytes())
    next_update = crl.next_update_utc
    if next_update is None or next_update - now < dt.timedelta(days=7):
        return None
    return crl


def ensure_dev_pki(hsm: Hsm, var_dir: Path | None = None) -> DevPki:
    """Create or load the dev PKI under ``var_dir/devpki`` (default ``$LT_VAR_DIR``).

    Idempotent: existing CA files, HSM keys and certificates are reused; a signer whose HSM
    key is missing (token re-initialised) gets a new key and a new certificate; a token
    certificate left by another dev PKI directory is replaced by this directory's; stale CRLs
    are re-issued. Safe to call from several processes at once (file lock).
    """
    if var_dir is None:
        var_env = os.environ.get("LT_VAR_DIR", "")
        if not var_env:
            raise DevPkiError("environment variable LT_VAR_DIR: state directory is not set")
        var_dir = Path(var_env)
    directory = var_dir / "devpki"
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    with _directory_lock(directory):
        root, root_key = _load_or_create_ca(directory, "root", "LiênThông DEV Root CA", None, now)
        intermediate, intermediate_key = _load_or_create_ca(
            directory, "intermediate", "LiênThông DEV Issuing CA", (root, root_key), now
        )
        signers: dict[str, DevSigner] = {}
        for role, subject in _SIGNER_SUBJECTS.items():
            signers[role] = _ensure_signer(
                hsm, directory, role, subject, intermediate, intermediate_key, now
            )
        root_crl = _load_crl(directory / "root.crl.der", now)
        if root_crl is None:
            root_crl = _issue_crl(root, root_key, [], now)
            _write_public(
                directory / "root.crl.der", root_crl.public_bytes(serialization.Encoding.DER)
            )
        revoked_serial = signers[REVOKED_PERSON_ROLE].certificate.serial_number
        intermediate_crl = _load_crl(directory / "intermediate.crl.der", now)
        if (
            intermediate_crl is None
            or intermediate_crl.get_revoked_certificate_by_serial_number(revoked_serial) is None
        ):
            intermediate_crl = _issue_crl(intermediate, intermediate_key, [revoked_serial], now)
            _write_public(
                directory / "intermediate.crl.der",
                intermediate_crl.public_bytes(serialization.Encoding.DER),
            )
    return DevPki(
        directory=directory,
        root=root,
        intermediate=intermediate,
        root_crl=root_crl,
        intermediate_crl=intermediate_crl,
        signers=signers,
    )


def _restore_token_certificate(
    hsm: Hsm, key_id: bytes, role: str, certificate: x509.Certificate
) -> None:
    """Put this directory's certificate back on the token if another one sits there.

    One token may serve several dev PKI directories (a test that points ``LT_VAR_DIR``
    elsewhere gets its own CAs and re-certifies the same keys). The signing service reads the
    certificate from the token and the chain from the directory, so a foreign certificate makes
    every signature "untrusted"; ensuring this directory's PKI makes the token agree with it
    again.
    """
    der = certificate.public_bytes(serialization.Encoding.DER)
    try:
        if hsm.certificate_der(key_id) == der:
            return
    except KeyNotFound:
        pass
    hsm.import_certificate(key_id, der, f"LiênThông DEV {role}")


def _ensure_signer(
    hsm: Hsm,
    directory: Path,
    role: str,
    subject: PersonIdentity | AgencyIdentity | str,
    intermediate: x509.Certificate,
    intermediate_key: ec.EllipticCurvePrivateKey,
    now: dt.datetime,
) -> DevSigner:
    key_id = key_id_of(role)
    cert_path = directory / f"{role}.crt.pem"
    token_public = None
    try:
        token_public = hsm.public_key_info(key_id).dump()
    except KeyNotFound:
        hsm.delete_key(key_id)  # remove a half-provisioned leftover, if any
        hsm.generate_key(key_id, f"LiênThông DEV {role}", KeyAlgorithm.RSA_2048)
    if token_public is not None and cert_path.exists():
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        cert_public = cert.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        if cert_public == token_public and cert.issuer == intermediate.subject:
            _restore_token_certificate(hsm, key_id, role, cert)
            return DevSigner(role=role, key_id=key_id, certificate=cert, certificate_path=cert_path)
    if role == EXPIRED_PERSON_ROLE:
        not_before, not_after = now - dt.timedelta(days=730), now - dt.timedelta(days=365)
    else:
        not_before, not_after = now - dt.timedelta(days=1), now + dt.timedelta(days=730)
    cert = issue_certificate(
        hsm=hsm,
        key_id=key_id,
        subject=subject_name(subject),
        issuer_cert=intermediate,
        issuer_key=intermediate_key,
        not_before=not_before,
        not_after=not_after,
        timestamping=role == TSA_ROLE,
    )
    _write_public(cert_path, cert.public_bytes(serialization.Encoding.PEM))
    hsm.import_certificate(
        key_id, cert.public_bytes(serialization.Encoding.DER), f"LiênThông DEV {role}"
    )
    return DevSigner(role=role, key_id=key_id, certificate=cert, certificate_path=cert_path)
