"""The library speedups give the libraries' own answers."""

from __future__ import annotations

from asn1crypto import crl as asn1_crl
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives.serialization import Encoding

from services.verification import corpus
from services.verification.adapters import speedups


def _asn1(certificate) -> asn1_x509.Certificate:  # type: ignore[no-untyped-def]
    return asn1_x509.Certificate.load(certificate.public_bytes(Encoding.DER))


def test_indexed_crl_lookup_matches_the_scan(pki: corpus.SoftPki) -> None:
    crl = asn1_crl.CertificateList.load(pki.crl)
    issuer = _asn1(pki.intermediate).subject
    original = speedups.original_find()
    revoked = _asn1(pki.signers["person-revoked"].certificate)
    good = _asn1(pki.signers["person"].certificate)
    for certificate in (revoked, good):
        for authority in (issuer, _asn1(pki.root).subject):
            assert speedups.find_cert_in_list(certificate, issuer, crl, authority) == original(
                certificate, issuer, crl, authority
            )
    date, reason = speedups.find_cert_in_list(revoked, issuer, crl, issuer)
    assert date is not None and reason.native == "key_compromise"
    assert speedups.find_cert_in_list(good, issuer, crl, issuer) == (None, None)


def test_name_preparation_is_memoised_not_changed() -> None:
    original = speedups.original_prep()
    for text in ("Sở Thông tin và Truyền thông", "  A  B ", "ĐỖ THU HÀ", ""):
        assert speedups._memoised_prep(None, text) == original(None, text)
