"""Agency codes and certificate subjects (no HSM: certificates built with software keys)."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from services.certificates.identity import (
    AgencyIdentity,
    InvalidAgencyCode,
    check_agency_code,
    read_subject,
)


@pytest.mark.parametrize("code", ["000.00.01.H56", "000.00.12.H23", "999.99.99.Z99"])
def test_valid_agency_codes(code: str) -> None:
    assert check_agency_code(code) == code


@pytest.mark.parametrize(
    "code", ["000.00.01.h56", "00.00.01.H56", "000-00-01-H56", "000.00.01.H5", ""]
)
def test_invalid_agency_codes(code: str) -> None:
    with pytest.raises(InvalidAgencyCode, match=re.escape("NNN.NN.NN.XNN")):
        check_agency_code(code)


def test_agency_identity_is_nfc() -> None:
    decomposed = unicodedata.normalize("NFD", "Sở  Tài chính")
    agency = AgencyIdentity(decomposed, "000.00.13.H23", "Hà Giang")
    assert agency.name == "Sở Tài chính"
    assert unicodedata.is_normalized("NFC", agency.name)


def _certificate(attributes: list[x509.NameAttribute]) -> asn1_x509.Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(attributes)
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return asn1_x509.Certificate.load(cert.public_bytes(Encoding.DER))


def test_person_subject_with_title_and_organization_identifier() -> None:
    subject = read_subject(
        _certificate(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Sở Tài chính tỉnh Hà Giang"),
                x509.NameAttribute(NameOID.ORGANIZATION_IDENTIFIER, "000.00.13.H23"),
                x509.NameAttribute(NameOID.TITLE, "Giám đốc"),
                x509.NameAttribute(NameOID.COMMON_NAME, "Phạm Minh Châu"),
            ]
        )
    )
    assert subject.is_person
    assert (subject.common_name, subject.title, subject.agency_code) == (
        "Phạm Minh Châu",
        "Giám đốc",
        "000.00.13.H23",
    )


def test_agency_code_falls_back_to_ou_and_ignores_other_units() -> None:
    subject = read_subject(
        _certificate(
            [
                x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Văn phòng"),
                x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "000.00.01.H56"),
                x509.NameAttribute(NameOID.COMMON_NAME, "Ủy ban nhân dân tỉnh"),
            ]
        )
    )
    assert not subject.is_person
    assert subject.agency_code == "000.00.01.H56"


def test_no_agency_code() -> None:
    subject = read_subject(_certificate([x509.NameAttribute(NameOID.COMMON_NAME, "Ai đó")]))
    assert subject.agency_code is None
