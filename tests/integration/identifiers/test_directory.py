"""The agency directory through real gRPC calls into the service on real PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import grpc
import pytest
import sqlalchemy as sa
from lienthong.identifiers.v1 import identifiers_pb2 as pb

from services.chassis.grpc_server import ERROR_FIELD_HEADER

DEMO = Path(__file__).resolve().parents[3] / "services/identifiers/data/demo_province.json"
PROVINCE = "000.00.00.H56"


def _outbox_count(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT count(*) FROM identifiers.outbox")).scalar_one()


@pytest.fixture(scope="module")
def demo_province(identifiers) -> dict:
    result = identifiers.ImportAgencies(
        pb.ImportAgenciesRequest(format=pb.DIRECTORY_FORMAT_JSON, content=DEMO.read_bytes())
    )
    return {"result": result, "rows": json.loads(DEMO.read_text(encoding="utf-8"))}


def test_demo_province_imports_once_and_reimport_changes_nothing(
    identifiers, demo_province, engine
):
    rows = demo_province["rows"]
    first = demo_province["result"]
    assert len(rows) >= 300
    assert first.created + first.updated + first.unchanged == len(rows)
    events_before = _outbox_count(engine)
    again = identifiers.ImportAgencies(
        pb.ImportAgenciesRequest(format=pb.DIRECTORY_FORMAT_JSON, content=DEMO.read_bytes())
    )
    assert (again.created, again.updated, again.unchanged) == (0, 0, len(rows))
    assert _outbox_count(engine) == events_before, "an unchanged import must publish nothing"


def test_export_then_import_is_a_fixed_point(identifiers, demo_province):
    for fmt in (pb.DIRECTORY_FORMAT_CSV, pb.DIRECTORY_FORMAT_JSON):
        exported = identifiers.ExportAgencies(pb.ExportAgenciesRequest(format=fmt)).content
        result = identifiers.ImportAgencies(pb.ImportAgenciesRequest(format=fmt, content=exported))
        assert result.created == result.updated == 0
        assert result.unchanged >= len(demo_province["rows"])


def test_search_ignores_diacritics_and_case(identifiers, demo_province):
    departments = [r for r in demo_province["rows"] if r["kind"] == "department"]
    target = departments[0]["name"]  # e.g. "Sở Tài chính"
    from services.chassis.text import fold

    found = identifiers.SearchAgencies(pb.SearchAgenciesRequest(query=fold(target).upper()))
    assert target in [a.name for a in found.agencies]
    assert all(fold(target) in fold(a.name) for a in found.agencies)


def test_search_pages_by_keyset_without_gaps_or_repeats(identifiers, demo_province, engine):
    # Other suites add communes of their own provinces: the truth is the table, not the file.
    with engine.connect() as conn:
        expected = (
            conn.execute(
                sa.text(
                    "SELECT code FROM identifiers.agencies WHERE kind IN ('commune', 'ward') "
                    "AND status = 'active' ORDER BY code"
                )
            )
            .scalars()
            .all()
        )
    assert len(expected) >= 100
    seen: list[str] = []
    token = ""
    while True:
        page = identifiers.SearchAgencies(
            pb.SearchAgenciesRequest(kinds=["commune", "ward"], page_size=17, page_token=token)
        )
        seen += [a.code for a in page.agencies]
        token = page.next_page_token
        if not token:
            break
    assert seen == expected


def test_get_children_and_group_resolution(identifiers, demo_province):
    rows = demo_province["rows"]
    province = identifiers.GetAgency(pb.GetAgencyRequest(code=PROVINCE))
    assert province.level == 1 and province.updated_at.endswith("+07:00")
    children = identifiers.ListChildren(pb.ListChildrenRequest(code=PROVINCE)).agencies
    demo_children = {
        r["code"] for r in rows if r["parent_code"] == PROVINCE and r["status"] == "active"
    }
    # Every active child of the file is there, and whatever else is there (other tests may
    # add agencies under the province) is an active child too.
    assert demo_children <= {c.code for c in children}
    assert all(c.parent_code == PROVINCE and c.status == pb.AGENCY_STATUS_ACTIVE for c in children)
    communes = identifiers.ResolveGroup(
        pb.ResolveGroupRequest(root_code=PROVINCE, kinds=["commune", "ward"], recursive=True)
    ).agencies
    demo_communes = {
        r["code"] for r in rows if r["kind"] in ("commune", "ward") and r["status"] == "active"
    }
    assert demo_communes <= {c.code for c in communes}
    assert all(
        c.kind in ("commune", "ward") and c.status == pb.AGENCY_STATUS_ACTIVE for c in communes
    )
    inactive = {
        r["code"] for r in rows if r["kind"] in ("commune", "ward") and r["status"] != "active"
    }
    assert inactive and not inactive & {c.code for c in communes}


def test_errors_are_precise(identifiers, demo_province):
    with pytest.raises(grpc.RpcError) as err:
        identifiers.GetAgency(pb.GetAgencyRequest(code="000.00.99.Z99"))
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.RpcError) as err:
        identifiers.GetAgency(pb.GetAgencyRequest(code="000.00.1.H56"))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "level-2 group" in err.value.details()
    assert dict(err.value.trailing_metadata())[ERROR_FIELD_HEADER] == "code"
    with pytest.raises(grpc.RpcError) as err:
        identifiers.SearchAgencies(pb.SearchAgenciesRequest(page_size=10_000))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert dict(err.value.trailing_metadata())[ERROR_FIELD_HEADER] == "page_size"


def test_update_versions_and_optimistic_concurrency(identifiers, demo_province, engine):
    code = "000.00.97.H56"
    agency = pb.Agency(code=code, name="Ban Thử nghiệm", parent_code=PROVINCE, kind="department")
    created = identifiers.UpsertAgency(pb.UpsertAgencyRequest(agency=agency))
    assert created.created and created.agency.version == 1
    same = identifiers.UpsertAgency(pb.UpsertAgencyRequest(agency=agency))
    assert not same.changed and same.agency.version == 1
    agency.name = "Ban Thử nghiệm và Đổi mới"
    updated = identifiers.UpsertAgency(pb.UpsertAgencyRequest(agency=agency, expected_version=1))
    assert updated.changed and updated.agency.version == 2
    with pytest.raises(grpc.RpcError) as err:
        identifiers.UpsertAgency(pb.UpsertAgencyRequest(agency=agency, expected_version=1))
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert dict(err.value.trailing_metadata())[ERROR_FIELD_HEADER] == "expected_version"
    with engine.connect() as conn:
        types = (
            conn.execute(
                sa.text("SELECT type FROM identifiers.outbox WHERE key = :k ORDER BY seq"),
                {"k": code},
            )
            .scalars()
            .all()
        )
    assert types == [
        "vn.lienthong.identifiers.agency.created",
        "vn.lienthong.identifiers.agency.updated",
    ]


def test_unknown_parent_is_refused_and_a_bad_file_writes_nothing(identifiers, engine):
    orphan = pb.Agency(code="000.00.96.H56", name="Mồ côi", parent_code="000.00.00.Z01")
    with pytest.raises(grpc.RpcError) as err:
        identifiers.UpsertAgency(pb.UpsertAgencyRequest(agency=orphan))
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert dict(err.value.trailing_metadata())[ERROR_FIELD_HEADER] == "parent_code"
    content = (
        "code,name,parent_code\n"
        "000.00.00.K11,Tỉnh Thử,\n"
        "000.00.01.K11,Sở Thử,000.00.00.K11\n"
        "000.00.02.K11,Sở Lỗi,000.00.00.K99\n"  # parent nowhere: the whole file is refused
    ).encode()
    with pytest.raises(grpc.RpcError) as err:
        identifiers.ImportAgencies(
            pb.ImportAgenciesRequest(format=pb.DIRECTORY_FORMAT_CSV, content=content)
        )
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    with engine.connect() as conn:
        left = conn.execute(
            sa.text("SELECT count(*) FROM identifiers.agencies WHERE code LIKE '%.K11'")
        ).scalar_one()
    assert left == 0


def test_merge_marks_the_agency_and_publishes_a_merge_event(identifiers, engine):
    for code, name in (("000.00.95.H56", "Sở Cũ"), ("000.00.94.H56", "Sở Mới")):
        identifiers.UpsertAgency(
            pb.UpsertAgencyRequest(agency=pb.Agency(code=code, name=name, parent_code=PROVINCE))
        )
    merged = identifiers.MergeAgency(
        pb.MergeAgencyRequest(
            code="000.00.95.H56", into_code="000.00.94.H56", effective_from="2026-01-01"
        )
    )
    assert merged.status == pb.AGENCY_STATUS_MERGED and merged.merged_into == "000.00.94.H56"
    with pytest.raises(grpc.RpcError) as err:  # merging into a merged agency
        identifiers.MergeAgency(
            pb.MergeAgencyRequest(
                code="000.00.94.H56", into_code="000.00.95.H56", effective_from="2026-01-01"
            )
        )
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    with engine.connect() as conn:
        last = conn.execute(
            sa.text(
                "SELECT type FROM identifiers.outbox WHERE key = '000.00.95.H56' "
                "ORDER BY seq DESC LIMIT 1"
            )
        ).scalar_one()
    assert last == "vn.lienthong.identifiers.agency.merged"


def test_validate_code_reports_registration(identifiers, demo_province):
    ok = identifiers.ValidateAgencyCode(pb.ValidateAgencyCodeRequest(code=PROVINCE))
    assert ok.valid and ok.registered and ok.level == 1
    bad = identifiers.ValidateAgencyCode(pb.ValidateAgencyCodeRequest(code="28.22.H17"))
    assert not bad.valid and "four groups" in bad.reason
