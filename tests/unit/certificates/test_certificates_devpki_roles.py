"""The dev PKI's signer roles: the demo province's issuer and chairman next to the test agency
(no HSM: subjects are built and read back, certificates signed with software keys)."""

from __future__ import annotations

import datetime as dt
import unicodedata

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding

from services.certificates.devpki import (
    DEMO_CHAIRMAN,
    DEMO_CHAIRMAN_ROLE,
    DEMO_ISSUER,
    DEMO_ORGANISATION_ROLE,
    DEV_AGENCY,
    DEV_PERSON,
    ORGANISATION_ROLE,
    PERSON_ROLE,
    key_id_of,
    subject_name,
    subject_of,
)
from services.certificates.identity import read_subject


def _read_back(name: x509.Name) -> asn1_x509.Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return asn1_x509.Certificate.load(certificate.public_bytes(Encoding.DER))


def test_existing_roles_keep_their_key_ids_and_subjects() -> None:
    # Tests and running stacks find these keys by CKA_ID: adding roles must not move them.
    assert key_id_of(PERSON_ROLE) == b"lt-dev-person"
    assert key_id_of(ORGANISATION_ROLE) == b"lt-dev-organisation"
    assert subject_of(PERSON_ROLE) == DEV_PERSON
    assert subject_of(ORGANISATION_ROLE) == DEV_AGENCY


def test_demo_roles_have_their_own_key_ids() -> None:
    assert key_id_of(DEMO_CHAIRMAN_ROLE) == b"lt-dev-demo-chairman"
    assert key_id_of(DEMO_ORGANISATION_ROLE) == b"lt-dev-demo-organisation"
    assert subject_of(DEMO_CHAIRMAN_ROLE) == DEMO_CHAIRMAN
    assert subject_of(DEMO_ORGANISATION_ROLE) == DEMO_ISSUER


def test_demo_issuer_is_the_demo_province_root() -> None:
    import json
    from importlib import resources

    directory = json.loads(
        resources.files("services.identifiers")
        .joinpath("data/demo_province.json")
        .read_text(encoding="utf-8")
    )
    root = next(a for a in directory if a["parent_code"] is None)
    assert (DEMO_ISSUER.code, DEMO_ISSUER.name) == (root["code"], root["name"])


def test_chairman_certificate_reads_as_a_person_of_the_issuer() -> None:
    subject = read_subject(_read_back(subject_name(DEMO_CHAIRMAN)))
    assert subject.is_person
    assert subject.title == "Chủ tịch"
    assert subject.common_name == DEMO_CHAIRMAN.full_name
    assert subject.agency_code == "000.00.00.H56"
    assert subject.organisation == "Ủy ban nhân dân tỉnh Lạc Hồng"
    assert unicodedata.is_normalized("NFC", subject.common_name)


def test_issuer_certificate_reads_as_an_organisation() -> None:
    subject = read_subject(_read_back(subject_name(DEMO_ISSUER)))
    assert not subject.is_person
    assert subject.agency_code == DEMO_ISSUER.code
    assert subject.common_name == DEMO_ISSUER.name


def test_unknown_role_is_named() -> None:
    with pytest.raises(KeyError, match=r"'chairman'.*unknown"):
        key_id_of("chairman")
