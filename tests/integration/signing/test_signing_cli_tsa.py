"""CLI provisioning, the sample command, EC keys through pyHanko, and the HTTP TSA."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import threading
import urllib.request
from pathlib import Path

import pytest
from asn1crypto import algos, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from services.certificates.devpki import issue_certificate
from services.signing.adapters.hsm import KeyAlgorithm
from services.signing.adapters.validation import validate_with_pdfsig, validate_with_pyhanko
from services.signing.entrypoints.cli import main

pytestmark = pytest.mark.integration


def _intermediate_key(dev_pki):  # type: ignore[no-untyped-def]
    return serialization.load_pem_private_key(
        (dev_pki.directory / "intermediate.key.pem").read_bytes(), password=None
    )


def test_keys_generate_csr_import_list(hsm, dev_pki, test_key_id, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    key_text = test_key_id.decode()
    assert main(["keys", "generate", "--id", key_text, "--label", "Nguyễn Văn An"]) == 0
    csr_path = tmp_path / "an.csr"
    assert (
        main(
            [
                "keys",
                "csr",
                "--id",
                key_text,
                "--common-name",
                "Nguyễn Văn An",
                "--title",
                "Chánh Văn phòng",
                "--organisation",
                "Sở Nội vụ tỉnh Hà Giang",
                "--agency-code",
                "000.00.14.H23",
                "--out",
                str(csr_path),
            ]
        )
        == 0
    )
    request = x509.load_pem_x509_csr(csr_path.read_bytes())
    assert request.is_signature_valid
    assert request.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value == (
        "Nguyễn Văn An"
    )
    now = dt.datetime.now(dt.UTC)
    certificate = issue_certificate(
        hsm=hsm,
        key_id=test_key_id,
        subject=request.subject,
        issuer_cert=dev_pki.intermediate,
        issuer_key=_intermediate_key(dev_pki),
        not_before=now - dt.timedelta(minutes=1),
        not_after=now + dt.timedelta(days=30),
    )
    cert_path = tmp_path / "an.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    assert main(["keys", "import-cert", "--id", key_text, "--cert", str(cert_path)]) == 0
    capsys.readouterr()
    assert main(["keys", "list", "--prefix", key_text]) == 0
    listing = capsys.readouterr().out
    assert key_text in listing and " cert " in listing


def test_bad_agency_code_is_refused(test_key_id, tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert main(["keys", "generate", "--id", test_key_id.decode(), "--label", "x"]) == 0
    code = main(
        [
            "keys",
            "csr",
            "--id",
            test_key_id.decode(),
            "--common-name",
            "X",
            "--agency-code",
            "H56",
            "--out",
            str(tmp_path / "x.csr"),
        ]
    )
    assert code == 1
    assert not (tmp_path / "x.csr").exists()


def test_sign_sample_writes_verifiable_files(signing, nss_store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert main(["sign", "sample", "--out", str(tmp_path)]) == 0
    for name in ("van-ban-mau-da-ky.pdf", "phu-luc-da-ky.pdf"):
        data = (tmp_path / name).read_bytes()
        assert all(report.ok for report in validate_with_pyhanko(data, signing.trust))
        signatures = [
            s
            for s in validate_with_pdfsig(data, nss_store)
            if s.signer.startswith(("Nguyễn", "Sở"))
        ]
        assert signatures and all(s.signature_valid and s.certificate_trusted for s in signatures)
    assert len((tmp_path / "audit.jsonl").read_text(encoding="utf-8").splitlines()) == 4


def test_ec_p256_person_signature_uses_raw_ecdsa(  # type: ignore[no-untyped-def]
    hsm, dev_pki, signing, sample_pdf, test_key_id
) -> None:
    import dataclasses

    hsm.generate_key(test_key_id, "EC person", KeyAlgorithm.EC_P256)
    person_cert = dev_pki.signer("person").certificate
    now = dt.datetime.now(dt.UTC)
    certificate = issue_certificate(
        hsm=hsm,
        key_id=test_key_id,
        subject=person_cert.subject,
        issuer_cert=dev_pki.intermediate,
        issuer_key=_intermediate_key(dev_pki),
        not_before=now - dt.timedelta(minutes=1),
        not_after=now + dt.timedelta(days=30),
    )
    profile = dataclasses.replace(
        signing.person,
        key_id=test_key_id,
        algorithm=KeyAlgorithm.EC_P256,
        certificate=asn1_x509.Certificate.load(
            certificate.public_bytes(serialization.Encoding.DER)
        ),
    )
    signed = signing.engine.sign_person(sample_pdf, profile)
    (report,) = validate_with_pyhanko(signed, signing.trust)
    assert report.ok


def test_http_rfc3161_endpoint(signing, dev_pki) -> None:  # type: ignore[no-untyped-def]
    from services.signing.adapters.tsa import serve_http

    server = serve_http(signing.engine.timestamper, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        digest = hashlib.sha256(b"van ban can dong dau thoi gian").digest()
        nonce = int.from_bytes(os.urandom(8), "big")
        request = tsp.TimeStampReq(
            {
                "version": "v1",
                "message_imprint": tsp.MessageImprint(
                    {
                        "hash_algorithm": algos.DigestAlgorithm({"algorithm": "sha256"}),
                        "hashed_message": digest,
                    }
                ),
                "nonce": nonce,
                "cert_req": True,
            }
        )
        http_request = urllib.request.Request(
            f"http://127.0.0.1:{server.server_port}/",
            data=request.dump(),
            headers={"Content-Type": "application/timestamp-query"},
            method="POST",
        )
        with urllib.request.urlopen(http_request, timeout=30) as reply:
            assert reply.headers["Content-Type"] == "application/timestamp-reply"
            response = tsp.TimeStampResp.load(reply.read())
    finally:
        server.shutdown()
    assert response["status"]["status"].native == "granted"
    signed_data = response["time_stamp_token"]["content"]
    info = signed_data["encap_content_info"]["content"].parsed
    assert info["message_imprint"]["hashed_message"].native == digest
    assert info["nonce"].native == nonce
    signer_info = signed_data["signer_infos"][0]
    tsa_certificate = dev_pki.signer("tsa").certificate
    # Signed attributes are verified in their SET OF encoding, not the [0] tag they carry.
    signed_attributes = b"\x31" + signer_info["signed_attrs"].dump()[1:]
    tsa_certificate.public_key().verify(  # type: ignore[union-attr]
        signer_info["signature"].native,
        signed_attributes,
        padding.PKCS1v15(),
        hashes.SHA256(),  # type: ignore[call-arg]
    )
    eku = tsa_certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert eku.critical and list(eku.value) == [x509.oid.ExtendedKeyUsageOID.TIME_STAMPING]


def test_dev_pki_is_idempotent_and_marked_dev(hsm, dev_pki) -> None:  # type: ignore[no-untyped-def]
    from services.certificates.devpki import ensure_dev_pki

    again = ensure_dev_pki(hsm, Path(os.environ["LT_VAR_DIR"]))
    assert again.root == dev_pki.root
    assert again.signer("person").certificate == dev_pki.signer("person").certificate
    organisation = dev_pki.root.subject.get_attributes_for_oid(x509.NameOID.ORGANIZATION_NAME)
    assert organisation[0].value == "LiênThông DEV — không dùng thật"
    revoked = dev_pki.signer("person-revoked").certificate.serial_number
    assert dev_pki.intermediate_crl.get_revoked_certificate_by_serial_number(revoked) is not None


def test_devpki_cli_lists_the_signers(hsm, dev_pki, capsys) -> None:  # type: ignore[no-untyped-def]
    import argparse

    from services.certificates.entrypoints.cli import register

    parser = argparse.ArgumentParser(prog="lienthong")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["devpki", "show"])
    assert args.handler(args) == 0
    listing = capsys.readouterr().out
    for role in ("person", "organisation", "tsa", "person-revoked"):
        assert f"lt-dev-{role}" in listing
