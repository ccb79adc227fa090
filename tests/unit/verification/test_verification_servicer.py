"""The gRPC servicer's methods called directly (worker_factory): no server, no database."""

from __future__ import annotations

import json

import pytest
from lienthong.identifiers.v1 import identifiers_pb2
from lienthong.verification.v1 import verification_pb2 as pb

from services.chassis.errors import InvalidArgument, ResourceExhausted
from services.chassis.events import Event
from services.chassis.testing import FakeContext, worker_factory
from services.verification import corpus
from services.verification.adapters.pdf import VerificationPolicy
from services.verification.entrypoints.grpc import VerificationService
from services.verification.service_layer.trust import TrustedVerifier


class _Directory:
    """Stands in for the identifiers stub: every agency is active."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def GetAgency(self, request, timeout=None):  # type: ignore[no-untyped-def]
        self.asked.append(request.code)
        return identifiers_pb2.Agency(
            code=request.code, status=identifiers_pb2.AGENCY_STATUS_ACTIVE
        )


@pytest.fixture
def service(pki: corpus.SoftPki):  # type: ignore[no-untyped-def]
    trusted = TrustedVerifier(pki.trust_store(), VerificationPolicy(max_document_bytes=2_000_000))
    return worker_factory(VerificationService, trusted=trusted, identifiers=_Directory())


def test_verify_pdf_returns_the_report_with_directory_check(
    service, issued: dict[str, bytes]
) -> None:  # type: ignore[no-untyped-def]
    report = service.VerifyPdf(pb.VerifyPdfRequest(document=issued["B-LT"]), FakeContext())
    assert report.indication == pb.TOTAL_PASSED, report.summary_en
    assert json.loads(report.json)["verdict"]["indication"] == "TOTAL-PASSED"
    assert service.identifiers.asked == [corpus.AGENCY.code]


def test_stream_is_joined_and_bounded(service, issued: dict[str, bytes]) -> None:  # type: ignore[no-untyped-def]
    data = issued["B-T"]
    chunks = [pb.DocumentChunk(data=data[i : i + 4096]) for i in range(0, len(data), 4096)]
    report = service.VerifyPdfStream(iter(chunks), FakeContext())
    assert report.indication == pb.TOTAL_PASSED
    too_big = (pb.DocumentChunk(data=b"\0" * 1_000_000) for _ in range(3))
    with pytest.raises(ResourceExhausted) as error:
        service.VerifyPdfStream(too_big, FakeContext())
    assert error.value.field == "document"


def test_empty_inputs_are_invalid_arguments(service) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidArgument) as pdf:
        service.VerifyPdf(pb.VerifyPdfRequest(), FakeContext())
    assert pdf.value.field == "document"
    with pytest.raises(InvalidArgument) as edxml:
        service.VerifyEdxml(pb.VerifyEdxmlRequest(), FakeContext())
    assert edxml.value.field == "package"


def test_trust_store_event_forces_a_reload(service) -> None:  # type: ignore[no-untyped-def]
    service._verifier()  # loads (the fake database has no managed anchors)
    assert not service.trusted.stale
    event = Event(
        topic="lienthong.verification.truststore.v1",
        type="x",
        source="/t",
        subject="ab" * 32,
        data=b"",
    )
    service.on_trust_store_changed(event, None)
    assert service.trusted.stale
