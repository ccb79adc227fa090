"""SendDocument over the real registry (Get, GetFile), identifiers and the HSM token.

A document of the dev PKI's agency is registered, numbered and given its main-file versions in
the real registry; SendDocument builds the edXML package from the record, signs it with that
agency's organisation key found on the SoftHSM token, and sends it: the receivers get the
sealed PDF and the attachment, the header carries the record's metadata.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import grpc
import pytest
from distribution_helpers import Province, wait_for
from lienthong.distribution.v1 import distribution_pb2 as pb
from lienthong.identifiers.v1 import identifiers_pb2 as ipb
from lienthong.registry.v1 import registry_pb2 as rpb
from lienthong.registry.v1 import registry_pb2_grpc

from services.certificates.devpki import DEV_AGENCY
from services.chassis.caller import CALLER_HEADER, Caller, encode_caller
from services.distribution.edxml import dsig
from services.distribution.edxml.codes import Priority
from services.distribution.edxml.model import DocumentPackage
from services.distribution.edxml.parse import parse

SUBJECT = "Về việc triển khai liên thông văn bản điện tử năm 2027"
ANNEX = "Danh sách cơ quan, đơn vị nhận văn bản\n".encode() * 40


def _pdf(label: str) -> bytes:
    return b"%PDF-1.7\n% " + label.encode() + b"\n" + bytes(range(256)) * 16 + b"\n%%EOF\n"


@pytest.fixture(scope="module")
def registry(registry_for_distribution) -> Iterator[registry_pb2_grpc.RegistryStub]:  # type: ignore[no-untyped-def]
    channel = grpc.insecure_channel(f"127.0.0.1:{registry_for_distribution.port}")
    yield registry_pb2_grpc.RegistryStub(channel)
    channel.close()


@pytest.fixture(scope="module")
def dev_agency(identifiers) -> str:  # type: ignore[no-untyped-def]
    identifiers.UpsertAgency(
        ipb.UpsertAgencyRequest(
            agency=ipb.Agency(
                code=DEV_AGENCY.code,
                name=DEV_AGENCY.name,
                abbreviation="STTTT",
                kind="department",
                exchanges_electronically=True,
            )
        )
    )
    return DEV_AGENCY.code


def _put(registry, record_id: str, kind: str, data: bytes) -> rpb.Document:  # type: ignore[no-untyped-def]
    def chunks() -> Iterator[rpb.FileChunk]:
        yield rpb.FileChunk(
            header=rpb.FileVersionHeader(
                id=record_id,
                kind=kind,
                file_name=f"cong-van-{kind}.pdf",
                media_type="application/pdf",
                actor="văn thư",
            )
        )
        yield rpb.FileChunk(data=data)

    return registry.PutFileVersion(chunks())


def _draft(registry, agency: str, receivers: list[str]) -> rpb.Document:  # type: ignore[no-untyped-def]
    return registry.RegisterOutgoing(
        rpb.RegisterOutgoingRequest(
            document=rpb.Document(
                agency_code=agency,
                document_type="cong_van",
                drafting_unit="CNTT",
                subject=SUBJECT,
                urgency=rpb.URGENCY_EXPRESS,
                signer=rpb.Signer(title="Giám đốc", full_name="Nguyễn Thị Hương Giang"),
                receivers=[rpb.Party(name=f"Cơ quan {c}", agency_code=c) for c in receivers],
                attachments=[
                    rpb.Attachment(
                        file_name="danh-sach.txt", media_type="text/plain", content=ANNEX
                    )
                ],
                extra={"place": "Hà Giang"},
            ),
            actor="chuyên viên",
        )
    )


def _issue(registry, agency: str, receivers: list[str], *, seal: bool = True) -> rpb.Document:  # type: ignore[no-untyped-def]
    draft = _draft(registry, agency, receivers)
    _put(registry, draft.id, "original", _pdf("original"))
    today = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date().isoformat()
    registry.AssignNumber(rpb.AssignNumberRequest(id=draft.id, issue_date=today, actor="văn thư"))
    _put(registry, draft.id, "numbered", _pdf("numbered"))
    if seal:
        _put(registry, draft.id, "sealed", _pdf(f"sealed {draft.id}"))
    return registry.Get(rpb.GetRequest(id=draft.id))


def _get_file_served(registry, record_id: str) -> bool:  # type: ignore[no-untyped-def]
    try:
        list(registry.GetFile(rpb.GetFileRequest(id=record_id)))
    except grpc.RpcError as error:
        if error.code() is grpc.StatusCode.UNIMPLEMENTED:
            return False
        raise
    return True


def test_an_issued_record_is_sent_as_a_package_signed_by_its_agency(
    distribution, registry, dev_agency: str, province: Province, axis_signer_role
) -> None:  # type: ignore[no-untyped-def]
    receivers = province.departments[37:39]
    record = _issue(registry, dev_agency, receivers)
    if not _get_file_served(registry, record.id):
        pytest.skip("the registry does not implement GetFile yet")
    sent = distribution.SendDocument(
        pb.SendDocumentRequest(registry_id=record.id, receivers=receivers, actor="văn thư")
    )
    assert sorted(d.receiver_code for d in sent.deliveries) == sorted(receivers)
    assert {d.lane for d in sent.deliveries} == {"express"}  # the record is hỏa tốc

    def arrived() -> bool:
        view = distribution.Tracking(pb.TrackingRequest(dispatch_id=sent.dispatch_id))
        return all(d.state == "arrived" for d in view.deliveries)

    wait_for(arrived, what="every 01 of the document sent from the registry")
    retried = distribution.SendDocument(
        pb.SendDocumentRequest(registry_id=record.id, receivers=receivers, actor="văn thư")
    )
    assert list(retried.deliveries) == [], "a retried SendDocument sends nothing twice"
    entry = distribution.GetInboxEntry(
        pb.GetInboxEntryRequest(delivery_id=sent.deliveries[0].delivery_id)
    )
    assert entry.subject == SUBJECT and entry.priority == Priority.EXPRESS
    package = parse(entry.package).package
    assert isinstance(package, DocumentPackage)
    header = package.header
    assert header.from_.organ_id == dev_agency and header.from_.organ_name == DEV_AGENCY.name
    number, _, notation = record.number_and_symbol.partition("/")
    assert header.code is not None
    assert (header.code.code_number, header.code.code_notation) == (number, notation)
    assert header.promulgation_info is not None
    assert header.promulgation_info.place == "Hà Giang"
    assert header.promulgation_info.promulgation_date.isoformat() == record.document_date  # type: ignore[union-attr]
    assert header.signer_info is not None and header.signer_info.position == "Giám đốc"
    assert sorted(o.organ_id for o in header.to) == sorted(receivers)  # type: ignore[type-var]
    assert [a.data for a in package.attachments] == [_pdf(f"sealed {record.id}"), ANNEX]
    verified = dsig.verify(entry.package)
    assert verified.valid and verified.certificate_der == axis_signer_role.certificate_der

    # The receiver registers it: the registry takes the number and symbol from the header.
    accepted = distribution.Accept(pb.AcceptRequest(delivery_id=entry.delivery_id, actor="vt"))
    assert accepted.state == "accepted" and accepted.arrival_number >= 1


def test_refuses_a_draft_an_unsealed_record_and_another_agency(
    distribution, registry, dev_agency: str, province: Province
) -> None:  # type: ignore[no-untyped-def]
    receivers = province.departments[38:39]
    draft = _draft(registry, dev_agency, receivers)
    unsealed = _issue(registry, dev_agency, receivers, seal=False)
    for record_id, reason in ((draft.id, "issued"), (unsealed.id, "sealed")):
        with pytest.raises(grpc.RpcError) as caught:
            distribution.SendDocument(
                pb.SendDocumentRequest(registry_id=record_id, receivers=receivers)
            )
        assert caught.value.code() is grpc.StatusCode.FAILED_PRECONDITION
        assert reason in caught.value.details()
        assert dict(caught.value.trailing_metadata())["lt-error-field"] == "registry_id"
    sealed = _issue(registry, dev_agency, receivers)
    outsider = encode_caller(Caller("clerk", province.departments[0], frozenset({"clerk"})))
    with pytest.raises(grpc.RpcError) as hidden:
        distribution.SendDocument(
            pb.SendDocumentRequest(registry_id=sealed.id, receivers=receivers),
            metadata=((CALLER_HEADER, outsider),),
        )
    assert hidden.value.code() is grpc.StatusCode.NOT_FOUND
    assert SUBJECT not in hidden.value.details()
