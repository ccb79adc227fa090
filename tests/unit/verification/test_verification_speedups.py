"""The library speedups give the libraries' own answers."""

from __future__ import annotations

import io
import re

import pytest
from asn1crypto import crl as asn1_crl
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives.serialization import Encoding
from pyhanko.pdf_utils.misc import PdfReadError

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


def test_name_equality_gives_the_original_answers(pki: corpus.SoftPki) -> None:
    original = speedups.original_name_eq()
    names = [
        _asn1(pki.root).subject,
        _asn1(pki.intermediate).subject,
        _asn1(pki.intermediate).issuer,  # the root's name, a separately parsed copy
        _asn1(pki.signers["person"].certificate).subject,
        asn1_x509.Name.build({"common_name": "Sở  Tài chính"}),
        asn1_x509.Name.build({"common_name": "sở tài CHÍNH"}),  # equal after RFC 4518 prep
    ]
    for _ in range(2):  # the second time from the remembered answers
        for first in names:
            for second in names:
                assert speedups._name_eq(first, second) == original(first, second)
    assert speedups._name_eq(names[4], names[5]) is True
    assert speedups._name_eq(names[0], "not a name") == original(names[0], "not a name")


@pytest.mark.parametrize(
    "data",
    [
        b"Name /Next",
        b"abc",
        b"12 0 R",
        b"x" * 300 + b"(",
        b"a\x00b",
        b"",
        b"/",
        b"Type>>",
        b"F1%comment",
        b"a\fb",
        b"#41B{",
        b"y" * 128,
        b"z" * 128 + b" ",
    ],
)
def test_token_reader_reads_and_rewinds_like_pyhanko(data: bytes) -> None:
    for offset in range(min(len(data), 3) + 1):
        ours, theirs = io.BytesIO(data), io.BytesIO(data)
        ours.seek(offset)
        theirs.seek(offset)
        assert speedups.read_until_delimiter(ours) == speedups.original_read_until_delimiter()(
            theirs
        )
        assert ours.tell() == theirs.tell()


@pytest.mark.parametrize("raw", [b"Type", b"A#20B", b"S\xe1\xbb\x9f", b"Lat\xe9", b"#4", b"a b"])
def test_name_decoding_gives_the_same_names_and_errors(raw: bytes) -> None:
    original = speedups.original_decode_name()
    try:
        expected = original(raw)
    except PdfReadError as exc:
        with pytest.raises(PdfReadError, match=re.escape(str(exc))):
            speedups._decode_name(raw)
        return
    for _ in range(2):
        decoded = speedups._decode_name(raw)
        assert decoded == expected and type(decoded) is type(expected)
    assert speedups._decode_name(raw) is not speedups._decode_name(raw)  # fresh objects


def test_crl_signature_check_is_remembered_only_when_it_verified(pki: corpus.SoftPki) -> None:
    from pyhanko_certvalidator.errors import CRLValidationError
    from pyhanko_certvalidator.sig_validate import DefaultSignatureValidator

    crl = asn1_crl.CertificateList.load(pki.crl)
    issuer_key = _asn1(pki.intermediate).public_key
    wrong_key = _asn1(pki.root).public_key
    original = speedups.original_verify_crl_signature()
    validator = DefaultSignatureValidator()
    for _ in range(2):
        assert speedups._verify_crl_signature(crl, issuer_key, validator) is None
        assert original(crl, issuer_key, validator) is None
        with pytest.raises(CRLValidationError):
            speedups._verify_crl_signature(crl, wrong_key, validator)
        with pytest.raises(CRLValidationError):
            original(crl, wrong_key, validator)
    forged_der = bytearray(pki.crl)
    forged_der[-5] ^= 0x01  # inside the signature value
    forged = asn1_crl.CertificateList.load(bytes(forged_der))
    with pytest.raises(CRLValidationError):
        speedups._verify_crl_signature(forged, issuer_key, validator)


def test_name_hashable_is_the_original(pki: corpus.SoftPki) -> None:
    original = speedups.original_name_hashable()
    names = [
        _asn1(pki.root).subject,
        _asn1(pki.signers["person"].certificate).subject,
        asn1_x509.Name.build({"common_name": "Sở  Tài chính", "organization_name": "UBND"}),
    ]
    for _ in range(2):
        for name in names:
            assert speedups._name_hashable(name) == original(name)
