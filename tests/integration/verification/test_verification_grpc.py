"""The verification service through real gRPC calls: reports, streaming, trust store + events."""

from __future__ import annotations

import hashlib
import json
import uuid

import grpc
import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.serialization import Encoding
from lienthong.verification.v1 import verification_pb2 as pb

from services.chassis.grpc_server import ERROR_FIELD_HEADER
from services.verification import corpus
from services.verification.service_layer.trust_anchors import TRUSTSTORE_TOPIC


@pytest.fixture(scope="module")
def sealed(issue, sample_pdf: bytes) -> bytes:  # type: ignore[no-untyped-def]
    return issue(sample_pdf)


def _error_field(error: grpc.RpcError) -> str | None:
    return dict(error.trailing_metadata() or ()).get(ERROR_FIELD_HEADER)


def test_verify_pdf_passes_and_carries_the_json_report(
    verification, verification_container, sealed: bytes
) -> None:  # type: ignore[no-untyped-def]
    # Served the way production serves it: in bounded worker processes.
    assert verification_container.instance.trusted.isolated is not None
    report = verification.VerifyPdf(pb.VerifyPdfRequest(document=sealed, sender="000.00.12.H23"))
    assert report.indication == pb.TOTAL_PASSED, report.summary_en
    assert [s.role for s in report.signatures] == ["person", "organisation", "document-timestamp"]
    assert report.signatures[1].certificate.agency_code == "000.00.12.H23"
    assert report.signatures[0].level == "B-LTA"
    assert report.signatures[0].signing_time.endswith("+07:00")
    assert [c.status for c in report.checks if c.name == "agency directory"] == ["pass"]
    assert json.loads(report.json)["verdict"]["indication"] == "TOTAL-PASSED"


def test_verify_pdf_reports_a_shadow_attack(verification, sealed: bytes) -> None:
    report = verification.VerifyPdf(pb.VerifyPdfRequest(document=corpus.shadow_hide(sealed)))
    assert (report.indication, report.sub_indication) == (
        pb.TOTAL_FAILED,
        "DISALLOWED_MODIFICATION",
    )
    assert "sửa đổi" in report.summary_vi


def test_streamed_upload_gives_the_same_verdict(verification, sealed: bytes) -> None:
    chunks = [
        pb.DocumentChunk(data=sealed[i : i + 16384], sender="000.00.13.H23" if i == 0 else "")
        for i in range(0, len(sealed), 16384)
    ]
    report = verification.VerifyPdfStream(iter(chunks))
    assert (report.indication, report.sub_indication) == (pb.TOTAL_FAILED, "SIGNER_NOT_OF_SENDER")
    assert report.sha256 == hashlib.sha256(sealed).hexdigest()


def test_garbage_is_a_verdict_and_bad_sender_an_invalid_argument(verification) -> None:
    report = verification.VerifyPdf(pb.VerifyPdfRequest(document=b"%PDF-1.7 garbage"))
    assert (report.indication, report.sub_indication) == (pb.TOTAL_FAILED, "FORMAT_FAILURE")
    with pytest.raises(grpc.RpcError) as error:
        verification.VerifyPdf(pb.VerifyPdfRequest(document=b"%PDF", sender="H23"))
    assert error.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert _error_field(error.value) == "sender"
    with pytest.raises(grpc.RpcError) as empty:
        verification.VerifyPdf(pb.VerifyPdfRequest())
    assert empty.value.code() is grpc.StatusCode.INVALID_ARGUMENT


def test_verify_edxml_signed_package(verification) -> None:  # type: ignore[no-untyped-def]
    from pathlib import Path

    sample = Path("/work/shared/conformance/edxml/edoc.edxml").read_bytes()
    report = verification.VerifyEdxml(pb.VerifyEdxmlRequest(package=sample))
    assert report.kind == "edxml"
    assert report.indication in (pb.TOTAL_FAILED, pb.INDETERMINATE)
    assert report.signatures and report.signatures[0].field_name == "edXMLHeader/Signature"


def test_verify_edxml_verifies_pdf_attachments_in_the_workers(verification, sealed: bytes) -> None:  # type: ignore[no-untyped-def]
    from pathlib import Path

    from services.verification import corpus

    sample = Path("/work/shared/conformance/edxml/edoc.edxml").read_bytes()
    package = corpus.edxml_with_attachments(
        sample,
        [
            ("quyet-dinh.pdf", "application/pdf", sealed),
            ("hong.pdf", "application/pdf", b"%PDF-1.7 truncated"),
        ],
        sender="000.00.12.H23",
    )
    report = verification.VerifyEdxml(pb.VerifyEdxmlRequest(package=package))
    assert [a.name for a in report.attachments] == ["quyet-dinh.pdf", "hong.pdf"]
    first, second = (a.report for a in report.attachments)
    assert first.indication == pb.TOTAL_PASSED, first.summary_en
    assert first.sender == "000.00.12.H23"
    assert (second.indication, second.sub_indication) == (pb.TOTAL_FAILED, "FORMAT_FAILURE")
    assert report.indication == pb.TOTAL_FAILED  # the package signature no longer matches
    assert '"attachments"' in report.json


def _events(engine: sa.Engine, fingerprint: str) -> list[str]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                sa.text(
                    "SELECT type FROM verification.outbox WHERE key = :k AND topic = :t "
                    "ORDER BY seq"
                ),
                {"k": fingerprint, "t": TRUSTSTORE_TOPIC},
            ).scalars()
        )


def test_trust_anchor_lifecycle_changes_verdicts_and_publishes_events(
    verification, engine: sa.Engine, base_pdf_from_stranger: bytes
) -> None:
    stranger_root, document = base_pdf_from_stranger
    before = verification.VerifyPdf(pb.VerifyPdfRequest(document=document))
    assert before.sub_indication == "NO_CERTIFICATE_CHAIN_FOUND"
    added = verification.AddTrustAnchor(
        pb.AddTrustAnchorRequest(certificate=stranger_root, note="test anchor")
    )
    assert added.created and added.anchor.source == "database"
    fingerprint = added.anchor.fingerprint
    again = verification.AddTrustAnchor(pb.AddTrustAnchorRequest(certificate=stranger_root))
    assert not again.created and again.version == added.version
    listed = verification.ListTrustAnchors(pb.ListTrustAnchorsRequest())
    assert fingerprint in {a.fingerprint for a in listed.anchors}
    assert {"directory", "database"} <= {a.source for a in listed.anchors}
    after = verification.VerifyPdf(pb.VerifyPdfRequest(document=document))
    assert after.indication == pb.TOTAL_PASSED, after.summary_en
    assert after.trust_store_version == added.version != before.trust_store_version
    removed = verification.RemoveTrustAnchor(pb.RemoveTrustAnchorRequest(fingerprint=fingerprint))
    assert removed.removed and removed.version == before.trust_store_version
    final = verification.VerifyPdf(pb.VerifyPdfRequest(document=document))
    assert final.sub_indication == "NO_CERTIFICATE_CHAIN_FOUND"
    assert _events(engine, fingerprint) == [
        "vn.lienthong.verification.truststore.added",
        "vn.lienthong.verification.truststore.removed",
    ]
    with pytest.raises(grpc.RpcError) as missing:
        verification.RemoveTrustAnchor(pb.RemoveTrustAnchorRequest(fingerprint=fingerprint))
    assert missing.value.code() is grpc.StatusCode.NOT_FOUND


def test_signers_of_an_agency_missing_from_the_directory_fail(verification) -> None:  # type: ignore[no-untyped-def]
    pki = corpus.SoftPki.create()
    document = corpus.issued(
        pki, level="B-T", person="person-other-agency", organisation="organisation-other-agency"
    )
    report = verification.VerifyPdf(pb.VerifyPdfRequest(document=document))
    assert report.sub_indication == "SIGNER_NOT_OF_SENDER"
    directory = [c for c in report.checks if c.name == "agency directory"]
    assert [(c.status, corpus.OTHER_AGENCY.code in c.detail) for c in directory] == [("fail", True)]


def test_add_trust_anchor_refuses_what_is_not_a_root(verification) -> None:
    pki = corpus.SoftPki.create()
    leaf = pki.signers["person"].certificate.public_bytes(Encoding.DER)
    for certificate in (b"not a certificate", leaf):
        with pytest.raises(grpc.RpcError) as error:
            verification.AddTrustAnchor(pb.AddTrustAnchorRequest(certificate=certificate))
        assert error.value.code() is grpc.StatusCode.INVALID_ARGUMENT
        assert _error_field(error.value) == "certificate"
    with pytest.raises(grpc.RpcError) as bad:
        verification.RemoveTrustAnchor(pb.RemoveTrustAnchorRequest(fingerprint="xyz"))
    assert bad.value.code() is grpc.StatusCode.INVALID_ARGUMENT


@pytest.fixture
def base_pdf_from_stranger() -> tuple[bytes, bytes]:
    """A valid document whose PKI the service does not know yet (unique per run)."""
    pki = corpus.SoftPki.create(f"Stranger Root {uuid.uuid4().hex[:6]}")
    document = corpus.issued(pki, level="B-LT", organisation="organisation")
    # The stranger's organisation names corpus.AGENCY; no sender given, so it is consistent.
    return pki.root.public_bytes(Encoding.PEM), document
