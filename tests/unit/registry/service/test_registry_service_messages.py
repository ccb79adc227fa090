"""Protobuf ↔ domain translation, the agency directory adapter and small parsers (no I/O)."""

from __future__ import annotations

from datetime import date

import grpc
import pytest
from lienthong.identifiers.v1 import identifiers_pb2 as ipb
from lienthong.registry.v1 import registry_pb2 as pb

from services.chassis.errors import InvalidArgument, Unavailable
from services.registry.domain.classification import Confidentiality, SignerAuthority, Urgency
from services.registry.domain.errors import InvalidField, StateSecretNotAllowed
from services.registry.domain.register_books import Direction
from services.registry.entrypoints.grpc import parse_month
from services.registry.service_layer import messages
from services.registry.service_layer.directory import (
    AgencyInfo,
    GrpcAgencyDirectory,
    StaticAgencyDirectory,
    UnknownAgency,
)


def _outgoing(**changes) -> pb.Document:
    document = pb.Document(
        agency_code="000.00.00.H56",
        document_type="quyet_dinh",
        subject="  Về việc   phê duyệt  ",
        signer=pb.Signer(title="PHÓ CHỦ TỊCH", full_name="Hà Văn Nam", authority="kt.",
                         on_behalf_of="CHỦ TỊCH"),
        receivers=[pb.Party(name="Sở Y tế", agency_code="000.00.09.H56")],
        urgency=pb.URGENCY_VERY_URGENT,
    )  # fmt: skip
    for name, value in changes.items():
        setattr(document, name, value)
    return document


def test_record_from_pb_builds_a_validated_record_with_nfc_text():
    record = messages.record_from_pb(
        _outgoing(), Direction.OUTGOING, number_and_symbol="01/QĐ-UBND",
        document_date=date(2026, 11, 2),
    )  # fmt: skip
    assert record.subject == "Về việc phê duyệt"
    assert record.urgency is Urgency.VERY_URGENT
    assert record.signer is not None and record.signer.authority is SignerAuthority.DEPUTY
    assert record.receivers[0].agency_code == "000.00.09.H56"
    row = messages.record_to_row(record)
    assert row["subject_folded"] == "ve viec phe duyet"
    assert row["uniqueness_key"] == "000.00.00.H56|2026|01/QĐ-UBND"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"subject": "a" * 1001}, "subject"),
        ({"document_type": "chieu_thu"}, "document.document_type"),
        ({"document_type": ""}, "document.document_type"),
        ({"agency_code": "000.00.00.h56"}, "agency_code"),
        ({"page_count": 100_000}, "page_count"),
        ({"due_date": "2026-02-30"}, "document.due_date"),
        ({"sent_at": "2026-11-02T09:00:00"}, "document.sent_at"),
        ({"urgency": 9}, "document.urgency"),
    ],
)
def test_bad_fields_are_named(change, field):
    with pytest.raises((InvalidField, InvalidArgument)) as caught:
        messages.record_from_pb(
            _outgoing(**change), Direction.OUTGOING, number_and_symbol="01/QĐ-UBND",
            document_date=date(2026, 11, 2),
        )  # fmt: skip
    assert caught.value.field == field


def test_an_electronic_state_secret_is_refused():
    document = _outgoing(electronic=True, confidentiality=pb.CONFIDENTIALITY_TOP_SECRET)
    with pytest.raises(StateSecretNotAllowed):
        messages.record_from_pb(document, Direction.OUTGOING, number_and_symbol="01/QĐ-UBND",
                                document_date=date(2026, 11, 2))  # fmt: skip
    paper = messages.record_from_pb(
        _outgoing(electronic=False, confidentiality=pb.CONFIDENTIALITY_TOP_SECRET),
        Direction.OUTGOING, number_and_symbol="01/QĐ-UBND", document_date=date(2026, 11, 2),
    )  # fmt: skip
    assert paper.confidentiality is Confidentiality.TOP_SECRET


def test_status_and_enum_mappings_are_total_and_reversible():
    assert set(messages.PB_TO_STATUS) == {v for v in pb.Status.values() if v}
    for status, value in messages.STATUS_TO_PB.items():
        assert messages.PB_TO_STATUS[value] == status
    for urgency in Urgency:
        assert messages.PB_TO_URGENCY[messages.URGENCY_TO_PB[urgency]] is urgency
    with pytest.raises(InvalidArgument) as caught:
        messages.processing_status_of(pb.STATUS_DRAFT)
    assert caught.value.field == "target"


def test_parse_month():
    assert parse_month("2026-02") == (date(2026, 2, 1), date(2026, 2, 28))
    assert parse_month("2028-02") == (date(2028, 2, 1), date(2028, 2, 29))
    for bad in ("2026-13", "11/2026", "", "2026"):
        with pytest.raises(InvalidArgument) as caught:
            parse_month(bad)
        assert caught.value.field == "month"


class _Rpc(grpc.RpcError):
    def __init__(self, code: grpc.StatusCode) -> None:
        self._code = code

    def code(self) -> grpc.StatusCode:
        return self._code


class _Stub:
    def __init__(self, answer) -> None:
        self.answer = answer

    def GetAgency(self, request, timeout=None):
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def test_grpc_directory_maps_the_identifiers_answers():
    agency = ipb.Agency(code="000.00.00.H56", name="UBND tỉnh", abbreviation="UBND",
                        status=ipb.AGENCY_STATUS_ACTIVE)  # fmt: skip
    assert GrpcAgencyDirectory(_Stub(agency)).get("000.00.00.H56") == AgencyInfo(
        "000.00.00.H56", "UBND tỉnh", "UBND", True
    )
    with pytest.raises(UnknownAgency) as caught:
        GrpcAgencyDirectory(_Stub(_Rpc(grpc.StatusCode.NOT_FOUND))).get("000.00.00.H57", "x")
    assert (caught.value.status, caught.value.field) == ("FAILED_PRECONDITION", "x")
    merged = ipb.Agency(code="000.00.00.H56", name="Cũ", status=ipb.AGENCY_STATUS_MERGED)
    with pytest.raises(UnknownAgency, match="no longer active"):
        GrpcAgencyDirectory(_Stub(merged)).get("000.00.00.H56")
    with pytest.raises(Unavailable):
        GrpcAgencyDirectory(_Stub(_Rpc(grpc.StatusCode.UNAVAILABLE))).get("000.00.00.H56")
    with pytest.raises(UnknownAgency):
        StaticAgencyDirectory({}).get("000.00.00.H56")
