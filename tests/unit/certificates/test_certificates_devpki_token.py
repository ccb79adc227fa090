"""ensure_dev_pki against a token shared by several dev PKI directories (an in-memory token
with software keys stands in for SoftHSM: the logic under test is the directory ↔ token
bookkeeping, not PKCS#11)."""

from __future__ import annotations

from pathlib import Path

from asn1crypto import keys as asn1_keys
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from services.certificates.devpki import DEMO_CHAIRMAN_ROLE, PERSON_ROLE, ensure_dev_pki
from services.signing.adapters.hsm import KeyNotFound


class MemoryToken:
    """The part of ``Hsm`` that ensure_dev_pki uses; EC keys (fast), certificates by CKA_ID."""

    def __init__(self) -> None:
        self.keys: dict[bytes, ec.EllipticCurvePrivateKey] = {}
        self.certificates: dict[bytes, bytes] = {}
        self.generated = 0

    def public_key_info(self, key_id: bytes) -> asn1_keys.PublicKeyInfo:
        if key_id not in self.keys:
            raise KeyNotFound(f"key_id {key_id.hex()}: no public key on the token")
        der = (
            self.keys[key_id]
            .public_key()
            .public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
        return asn1_keys.PublicKeyInfo.load(der)

    def generate_key(self, key_id: bytes, label: str, algorithm: object) -> None:
        self.keys[key_id] = ec.generate_private_key(ec.SECP256R1())
        self.generated += 1

    def delete_key(self, key_id: bytes) -> int:
        removed = int(self.keys.pop(key_id, None) is not None)
        return removed + int(self.certificates.pop(key_id, None) is not None)

    def import_certificate(self, key_id: bytes, certificate_der: bytes, label: str) -> None:
        self.certificates[key_id] = certificate_der

    def certificate_der(self, key_id: bytes) -> bytes:
        if key_id not in self.certificates:
            raise KeyNotFound(f"key_id {key_id.hex()}: no certificate on the token")
        return self.certificates[key_id]


def _issuer_of_token_certificate(token: MemoryToken, key_id: bytes) -> bytes:
    certificate = x509.load_der_x509_certificate(token.certificate_der(key_id))
    extension = certificate.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier)
    return extension.value.key_identifier or b""


def _ski(certificate: x509.Certificate) -> bytes:
    return certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest


def test_second_run_creates_nothing(tmp_path: Path) -> None:
    token = MemoryToken()
    first = ensure_dev_pki(token, tmp_path)  # type: ignore[arg-type]
    keys_made = token.generated
    again = ensure_dev_pki(token, tmp_path)  # type: ignore[arg-type]
    assert token.generated == keys_made == len(first.signers)
    chairman = DEMO_CHAIRMAN_ROLE
    assert again.signer(chairman).certificate == first.signer(chairman).certificate


def test_ensuring_a_directory_puts_its_certificates_back_on_a_shared_token(
    tmp_path: Path,
) -> None:
    token = MemoryToken()
    profile = ensure_dev_pki(token, tmp_path / "profile")  # type: ignore[arg-type]
    # Another directory on the same token: its own CAs re-certify the same keys.
    other = ensure_dev_pki(token, tmp_path / "elsewhere")  # type: ignore[arg-type]
    for role in (PERSON_ROLE, DEMO_CHAIRMAN_ROLE):
        key_id = profile.signer(role).key_id
        assert _issuer_of_token_certificate(token, key_id) == _ski(other.intermediate)

    restored = ensure_dev_pki(token, tmp_path / "profile")  # type: ignore[arg-type]
    assert restored.intermediate == profile.intermediate
    for role in (PERSON_ROLE, DEMO_CHAIRMAN_ROLE):
        signer = restored.signer(role)
        assert token.certificate_der(signer.key_id) == signer.certificate_der
        assert _issuer_of_token_certificate(token, signer.key_id) == _ski(profile.intermediate)
