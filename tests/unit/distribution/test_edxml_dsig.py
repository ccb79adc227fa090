"""Enveloped XML-DSig: sign → verify, tampering, and what the samples' signatures are."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from services.distribution.edxml.build import build
from services.distribution.edxml.dsig import RSA_SHA256, sign, verify
from services.distribution.edxml.errors import MalformedPackage
from services.distribution.edxml.parse import parse

from .conftest import sample


@pytest.fixture
def signed_document(software_signer) -> bytes:
    package = parse(sample("edoc_revocation.edxml")).package
    return sign(build(package, include_signature=False), software_signer)


def test_sign_then_verify(signed_document: bytes, software_signer) -> None:
    result = verify(signed_document)
    assert result.valid, result.problems
    assert result.signature_algorithm == RSA_SHA256
    assert result.digest_matches and result.signature_matches
    assert result.certificate_der == software_signer.certificate_der
    assert "Văn thư Sở Thông tin và Truyền thông" in result.signer_subject
    assert result.warnings == ()
    # Still a package that parses to the same content.
    assert parse(signed_document).package.header.document_id == (
        "000.00.00.G22,2015/09/30,7816/VPCP-TTĐT"
    )


def test_signature_sits_after_trace_header_list(signed_document: bytes) -> None:
    text = signed_document.decode()
    assert (
        text.index("</edXML:TraceHeaderList>")
        < text.index('<Signature xmlns="http://www.w3.org/2000/09/xmldsig#">')
        < text.index("</edXML:edXMLHeader>")
    )


def test_a_changed_byte_in_the_content_fails_the_digest(signed_document: bytes) -> None:
    at = signed_document.index("Thu hồi".encode())
    tampered = signed_document[:at] + b"T" + signed_document[at + 1 :].replace(b"h", b"H", 1)
    result = verify(tampered)
    assert not result.valid
    assert not result.digest_matches
    assert any("digest mismatch" in problem for problem in result.problems)


def test_a_changed_attachment_byte_fails_the_digest(signed_document: bytes) -> None:
    at = signed_document.index(b'QCVN_102_2016">UEsD') + len(b'QCVN_102_2016">UEsD') + 10
    flipped = b"A" if signed_document[at : at + 1] != b"A" else b"B"
    result = verify(signed_document[:at] + flipped + signed_document[at + 1 :])
    assert not result.valid and not result.digest_matches


def test_a_changed_signed_info_fails_the_signature(signed_document: bytes) -> None:
    tampered = signed_document.replace(b'<Reference URI="">', b'<Reference URI="" Id="x">')
    result = verify(tampered)
    assert not result.signature_matches
    assert any("signature mismatch" in problem for problem in result.problems)


def test_resigning_replaces_the_old_signature(signed_document: bytes, software_signer) -> None:
    again = sign(signed_document, software_signer)
    assert again.count(b"<Signature ") == 1
    assert verify(again).valid


def test_status_package_signs(software_signer) -> None:
    signed = sign(sample("status_finish_06.edxml"), software_signer)
    assert verify(signed).valid


def test_unsigned_package_is_a_result_not_an_exception() -> None:
    result = verify(sample("status.edxml"))
    assert not result.valid and result.problems == ("no Signature element",)


def test_signing_refuses_packages_that_need_recovery(software_signer) -> None:
    with pytest.raises(MalformedPackage):
        sign(sample("edoc_new.edxml"), software_signer)


def test_sample_signatures_do_not_verify_and_say_why() -> None:
    edoc = verify(sample("edoc.edxml"))
    assert not edoc.valid
    assert edoc.signer_subject is not None and "TRẦN ANH TUẤN" in edoc.signer_subject
    assert any("SHA1" in warning for warning in edoc.warnings)
    assert not edoc.digest_matches and not edoc.signature_matches
    for name in ("edoc_new.edxml", "edoc_revocation.edxml"):
        result = verify(sample(name))
        assert not result.valid
        assert any("X509Certificate" in problem for problem in result.problems)
        assert any("namespace-less" in warning for warning in result.warnings)


@pytest.mark.skipif(shutil.which("xmlsec1") is None, reason="xmlsec1 not installed")
def test_xmlsec1_accepts_our_signature(signed_document: bytes, software_signer, tmp_path) -> None:
    package = tmp_path / "signed.edxml"
    package.write_bytes(signed_document)
    certificate = tmp_path / "signer.pem"
    certificate.write_bytes(software_signer.certificate.public_bytes(Encoding.PEM))
    completed = subprocess.run(
        ["xmlsec1", "--verify", "--trusted-pem", str(certificate), str(package)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-500:]
    package.write_bytes(signed_document.replace("Thu hồi".encode(), "Thu hôi".encode(), 1))
    completed = subprocess.run(
        ["xmlsec1", "--verify", "--trusted-pem", str(certificate), str(package)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode != 0
