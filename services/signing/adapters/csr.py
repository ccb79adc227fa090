"""PKCS#10 certificate requests signed inside the HSM (the private key never leaves it)."""

from __future__ import annotations

from asn1crypto import algos, csr, x509
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from services.signing.adapters.hsm import Hsm, KeyAlgorithm


def build_subject(
    *,
    common_name: str,
    organisation: str | None = None,
    agency_code: str | None = None,
    title: str | None = None,
    locality: str | None = None,
) -> x509.Name:
    """Subject in the platform's layout (see services/certificates/devpki.py), UTF8String."""
    attributes: dict[str, str] = {"country_name": "VN"}
    if locality:
        attributes["locality_name"] = locality
    if organisation:
        attributes["organization_name"] = organisation
    if agency_code:
        attributes["organizational_unit_name"] = agency_code
        attributes["organization_identifier"] = agency_code
    if title:
        attributes["title"] = title
    attributes["common_name"] = common_name
    return x509.Name.build(attributes, use_printable=False)


def certificate_request(hsm: Hsm, key_id: bytes, subject: x509.Name) -> bytes:
    """Return a DER CSR for ``key_id`` signed by the token (SHA-256)."""
    algorithm = hsm.algorithm_of(key_id)
    info = csr.CertificationRequestInfo(
        {
            "version": "v1",
            "subject": subject,
            "subject_pk_info": hsm.public_key_info(key_id),
            "attributes": [],
        }
    )
    raw = hsm.sign(key_id, info.dump())
    if algorithm is KeyAlgorithm.EC_P256:
        half = len(raw) // 2
        signature = encode_dss_signature(
            int.from_bytes(raw[:half], "big"), int.from_bytes(raw[half:], "big")
        )
        signature_algorithm = "sha256_ecdsa"
    else:
        signature, signature_algorithm = raw, "sha256_rsa"
    request = csr.CertificationRequest(
        {
            "certification_request_info": info,
            "signature_algorithm": algos.SignedDigestAlgorithm({"algorithm": signature_algorithm}),
            "signature": signature,
        }
    )
    return request.dump()
