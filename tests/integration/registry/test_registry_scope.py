"""Agency scope in the registry: calls carrying an end user (``lt-caller``) over real gRPC.

Another agency's record is NOT_FOUND exactly like a missing one and is never changed; a request
naming another agency is PERMISSION_DENIED; the same agency, a province admin and a call
without ``lt-caller`` (the platform itself) are served.
"""

from __future__ import annotations

import grpc
import pytest
from lienthong.identifiers.v1 import identifiers_pb2 as ipb
from lienthong.registry.v1 import registry_pb2 as pb

from services.chassis.caller import CALLER_HEADER, Caller, encode_caller
from tests.integration.registry.conftest import fresh_agency_code
from tests.integration.registry.test_registry_files import (
    _error,
    draft,
    get_file,
    incoming,
    pdf,
    put,
)

MISSING = "00000000-0000-4000-8000-000000000000"


def as_user(agency_code: str, *roles: str, username: str = "nguoi.dung") -> tuple:
    token = encode_caller(Caller(username, agency_code, frozenset(roles or ("clerk",))))
    return ((CALLER_HEADER, token),)


@pytest.fixture
def other_agency(identifiers) -> str:
    code = fresh_agency_code()
    identifiers.UpsertAgency(
        ipb.UpsertAgencyRequest(
            agency=ipb.Agency(
                code=code,
                name="Sở Thông tin và Truyền thông",
                abbreviation="STTTT",
                kind="department",
            )
        )
    )
    return code


def _by_id_calls(registry, record_id: str, metadata) -> dict:
    return {
        "Get": lambda: registry.Get(pb.GetRequest(id=record_id), metadata=metadata),
        "GetHistory": lambda: registry.GetHistory(
            pb.HistoryRequest(id=record_id), metadata=metadata
        ),
        "GetFile": lambda: get_file(registry, record_id, metadata=metadata),
        "PutFileVersion": lambda: put(
            registry, record_id, "person_signed", pdf(900), metadata=metadata
        ),
        "Transition": lambda: registry.Transition(
            pb.TransitionRequest(id=record_id, target=pb.STATUS_ACCEPTED), metadata=metadata
        ),
        "Assign": lambda: registry.Assign(
            pb.AssignRequest(
                id=record_id,
                assignees=[pb.Assignee(assignee_id="VP", role=pb.ASSIGNMENT_ROLE_LEAD)],
            ),
            metadata=metadata,
        ),
        "AssignNumber": lambda: registry.AssignNumber(
            pb.AssignNumberRequest(id=record_id, issue_date="2026-11-10"), metadata=metadata
        ),
        "Recall": lambda: registry.Recall(
            pb.RecallRequest(id=record_id, reason="thu hồi"), metadata=metadata
        ),
    }


def test_another_agencys_record_is_not_found_like_a_missing_one_and_stays_unchanged(
    registry, agency, other_agency
):
    outgoing = draft(registry, agency)
    put(registry, outgoing.id, "original", pdf(1_500))
    arrived = incoming(registry, agency)
    before = {r.id: registry.Get(pb.GetRequest(id=r.id)) for r in (outgoing, arrived)}
    stranger = as_user(other_agency, "clerk", "signer", "officer", "agency_admin")
    for record_id in (outgoing.id, arrived.id):
        for name, call in _by_id_calls(registry, record_id, stranger).items():
            code, details, field = _error(call)
            assert (code, field) == (grpc.StatusCode.NOT_FOUND, "id"), name
            # Indistinguishable from an id that does not exist.
            missing = _error(_by_id_calls(registry, MISSING, stranger)[name])
            assert (code, details.replace(record_id, MISSING), field) == missing, name
    for record_id, earlier in before.items():
        assert registry.Get(pb.GetRequest(id=record_id)) == earlier


def test_requests_naming_another_agency_are_permission_denied(registry, agency, other_agency):
    stranger = as_user(other_agency)
    document = draft(registry, agency)  # only to reuse a valid outgoing document
    outgoing = pb.Document()
    outgoing.CopyFrom(document)
    for output_only in ("id", "status", "registered_at", "version", "files"):
        outgoing.ClearField(output_only)
    calls = {
        "List": (
            lambda: registry.List(pb.ListRequest(agency_code=agency), metadata=stranger),
            "agency_code",
        ),
        "GetStatistics": (
            lambda: registry.GetStatistics(
                pb.StatisticsRequest(
                    agency_codes=[other_agency, agency],
                    date_from="2026-11-01",
                    date_to="2026-11-30",
                ),
                metadata=stranger,
            ),
            "agency_codes[1]",
        ),
        "GetStatistics of every agency": (
            lambda: registry.GetStatistics(
                pb.StatisticsRequest(date_from="2026-11-01", date_to="2026-11-30"),
                metadata=stranger,
            ),
            "agency_codes",
        ),
        "ExportBook": (
            lambda: registry.ExportBook(
                pb.ExportBookRequest(
                    agency_code=agency,
                    kind=pb.DIRECTION_OUTGOING,
                    month="2026-11",
                    format=pb.BOOK_FORMAT_CSV,
                ),
                metadata=stranger,
            ),
            "agency_code",
        ),
        "GetOfficeHours": (
            lambda: registry.GetOfficeHours(
                pb.GetOfficeHoursRequest(agency_code=agency), metadata=stranger
            ),
            "agency_code",
        ),
        "SetOfficeHours": (
            lambda: registry.SetOfficeHours(
                pb.SetOfficeHoursRequest(office_hours=pb.OfficeHours(agency_code=agency)),
                metadata=stranger,
            ),
            "office_hours.agency_code",
        ),
        "RegisterOutgoing": (
            lambda: registry.RegisterOutgoing(
                pb.RegisterOutgoingRequest(document=outgoing), metadata=stranger
            ),
            "document.agency_code",
        ),
        "RegisterIncoming": (
            lambda: registry.RegisterIncoming(
                pb.RegisterIncomingRequest(document=pb.Document(agency_code=agency, subject="x")),
                metadata=stranger,
            ),
            "document.agency_code",
        ),
    }
    for name, (call, expected_field) in calls.items():
        code, details, field = _error(call)
        assert (code, field) == (grpc.StatusCode.PERMISSION_DENIED, expected_field), name
        assert other_agency in details, (name, details)
    # Nothing was registered for the agency by the refused calls.
    listed = registry.List(pb.ListRequest(agency_code=agency, page_size=500)).documents
    assert [d.id for d in listed] == [document.id]


def test_the_same_agency_a_province_admin_and_the_platform_are_served(
    registry, agency, other_agency
):
    own = as_user(agency, "clerk")
    record = registry.RegisterOutgoing(
        pb.RegisterOutgoingRequest(document=_document_of(registry, agency)), metadata=own
    )
    content = pdf(3_000)
    added = put(registry, record.id, "original", content, metadata=own)
    assert registry.Get(pb.GetRequest(id=record.id), metadata=own).version == added.version
    assert get_file(registry, record.id, metadata=own)[1] == content
    listed = registry.List(pb.ListRequest(agency_code=agency), metadata=own).documents
    assert record.id in [d.id for d in listed]
    registry.GetStatistics(
        pb.StatisticsRequest(agency_codes=[agency], date_from="2026-11-01", date_to="2026-11-30"),
        metadata=own,
    )
    admin = as_user(other_agency, "province_admin", username="so.noi.vu")
    numbered = registry.AssignNumber(
        pb.AssignNumberRequest(id=record.id, issue_date="2026-11-10"), metadata=admin
    )
    assert numbered.status == pb.STATUS_ISSUED
    registry.GetStatistics(
        pb.StatisticsRequest(date_from="2026-11-01", date_to="2026-11-30"), metadata=admin
    )
    # No lt-caller: the platform itself (distribution's consumer, the CLI).
    assert get_file(registry, record.id)[1] == content


def _document_of(registry, agency: str) -> pb.Document:
    template = draft(registry, agency)
    document = pb.Document()
    document.CopyFrom(template)
    for output_only in ("id", "status", "registered_at", "version", "files"):
        document.ClearField(output_only)
    return document
