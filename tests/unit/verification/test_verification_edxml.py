"""edXML packages: the enveloped XML-DSig and its signer, through the same Verifier."""

from __future__ import annotations

import base64
import io
import zipfile
from pathlib import Path

import pytest

from services.verification import corpus
from services.verification.domain.model import CheckStatus, Indication, SubIndication
from services.verification.service_layer.verifier import Verifier, sniff

SAMPLES = Path("/work/shared/conformance/edxml")
FAILED = Indication.TOTAL_FAILED


@pytest.fixture(scope="module")
def package() -> bytes:
    return (SAMPLES / "edoc_revocation.edxml").read_bytes()


@pytest.fixture(scope="module")
def signed(pki: corpus.SoftPki, package: bytes) -> bytes:
    return corpus.signed_edxml(pki, package)


@pytest.fixture(scope="module")
def engine(pki: corpus.SoftPki) -> Verifier:
    return Verifier(pki.trust_store())


def test_signed_package_of_the_sender_passes(engine: Verifier, signed: bytes) -> None:
    report = engine.verify(signed)
    assert report.kind == "edxml"
    assert report.indication is Indication.TOTAL_PASSED, report.verdict
    assert report.sender == corpus.AGENCY.code
    assert report.signatures[0].certificate is not None
    assert report.signatures[0].certificate.agency_code == corpus.AGENCY.code


def test_changed_package_fails_with_hash_failure(engine: Verifier, signed: bytes) -> None:
    changed = signed.replace(b"<edXML:Code>", b"<edXML:Code>9", 1)
    assert changed != signed
    report = engine.verify(changed)
    assert (report.indication, report.sub_indication) == (FAILED, SubIndication.HASH_FAILURE)


def test_changed_signature_value_fails_with_crypto_failure(engine: Verifier, signed: bytes) -> None:
    start = signed.index(b"SignatureValue>") + len(b"SignatureValue>")
    value = signed[start : signed.index(b"</", start)]
    raw = bytearray(base64.b64decode(value))
    raw[10] ^= 0x01
    forged = signed.replace(value, base64.b64encode(bytes(raw)), 1)
    report = engine.verify(forged)
    assert (report.indication, report.sub_indication) == (FAILED, SubIndication.SIG_CRYPTO_FAILURE)


def test_package_signed_under_another_root_is_indeterminate(signed: bytes) -> None:
    stranger = Verifier(corpus.SoftPki.create("Unknown Root CA").trust_store())
    report = stranger.verify(signed)
    assert (report.indication, report.sub_indication) == (
        Indication.INDETERMINATE, SubIndication.NO_CERTIFICATE_CHAIN_FOUND,
    )


def test_declared_sender_must_match_the_signer(engine: Verifier, signed: bytes) -> None:
    report = engine.verify_edxml(signed, sender=corpus.OTHER_AGENCY.code)
    assert (report.indication, report.sub_indication) == (
        FAILED, SubIndication.SIGNER_NOT_OF_SENDER,
    )


def test_unsigned_package_fails(engine: Verifier, package: bytes) -> None:
    start = package.find(b"<Signature")
    unsigned = package if start < 0 else package[:start] + package[
        package.index(b"</Signature>", start) + len(b"</Signature>") :
    ]
    report = engine.verify(unsigned)
    assert report.indication is FAILED


def test_sha1_sample_signature_is_reported_with_its_weakness(engine: Verifier) -> None:
    report = engine.verify((SAMPLES / "edoc.edxml").read_bytes())
    warnings = [c.detail for s in report.signatures for c in s.checks
                if c.status is CheckStatus.WARN]
    assert any("SHA-1" in w or "SHA1" in w for w in warnings)
    assert report.indication is not Indication.TOTAL_PASSED  # its digest does not match


def test_zip_bomb_attachment_is_a_format_failure(engine: Verifier, package: bytes) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("zeros.bin", b"\0" * (20 * 1024 * 1024))
    start = package.index(b'QCVN_102_2016">UEsD') + len(b'QCVN_102_2016">')
    end = package.index(b"</edXML:ContentTransferEncoded>")
    bomb = package[:start] + base64.b64encode(buffer.getvalue()) + package[end:]
    report = engine.verify(bomb)
    assert (report.indication, report.sub_indication) == (FAILED, SubIndication.FORMAT_FAILURE)


@pytest.mark.parametrize(
    ("data", "kind"),
    [(b"%PDF-1.7", "pdf"), (b"\xef\xbb\xbf  <?xml", "edxml"), (b"\x00\x01", None)],
)
def test_sniffing(data: bytes, kind: str | None) -> None:
    assert sniff(data) == kind


def test_neither_pdf_nor_xml_is_a_format_failure(engine: Verifier) -> None:
    report = engine.verify(b"\x00\x01binary")
    assert (report.kind, report.sub_indication) == ("unknown", SubIndication.FORMAT_FAILURE)
