"""Numbering through the use cases on the real database, with the clock passed in."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime

import pytest
import sqlalchemy as sa
from lienthong.registry.v1 import registry_pb2 as pb

from services.chassis.db import Database
from services.registry.adapters import orm
from services.registry.domain.register_books import VIETNAM
from services.registry.service_layer import use_cases
from services.registry.service_layer.directory import AgencyInfo, StaticAgencyDirectory
from tests.integration.registry.conftest import fresh_agency_code


@pytest.fixture
def database(registry_schema) -> Iterator[Database]:
    database = Database(schema=orm.SCHEMA, metadata=orm.metadata)
    database.setup("registry")
    yield database
    database.stop()


def _document(agency: str) -> pb.Document:
    return pb.Document(
        agency_code=agency,
        document_type="to_trinh",
        subject="Tờ trình đề nghị phê duyệt dự toán",
        signer=pb.Signer(title="GIÁM ĐỐC", full_name="Vũ Thị Lan"),
        receivers=[pb.Party(name="Ủy ban nhân dân tỉnh")],
    )


def _issue(database: Database, agency: str, day: date, *, commit: bool = True) -> int | None:
    directory = StaticAgencyDirectory({agency: AgencyInfo(agency, "Sở Thử", "STH")})
    with database.unit_of_work() as uow:
        registered = use_cases.register_outgoing(
            uow,
            directory,
            _document(agency),
            (),
            actor="văn thư",
            now=datetime.combine(day, datetime.min.time(), VIETNAM).replace(hour=9),
            issue_date=day,
        )
        if commit:
            uow.commit()
    return registered.number


def test_numbers_restart_at_01_on_the_first_of_january(database):
    agency = fresh_agency_code()
    assert [_issue(database, agency, date(2026, 12, 31)) for _ in range(3)] == [1, 2, 3]
    assert _issue(database, agency, date(2027, 1, 4)) == 1
    assert _issue(database, agency, date(2027, 1, 4)) == 2
    with database.unit_of_work() as uow:
        symbols = uow.session.execute(
            sa.select(orm.documents.c.year, orm.documents.c.number_and_symbol)
            .where(orm.documents.c.agency_code == agency)
            .order_by(orm.documents.c.year, orm.documents.c.number)
        ).all()
    assert [tuple(r) for r in symbols] == [
        (2026, "01/TTr-STH"), (2026, "02/TTr-STH"), (2026, "03/TTr-STH"),
        (2027, "01/TTr-STH"), (2027, "02/TTr-STH"),
    ]  # fmt: skip


def test_a_rolled_back_allocation_leaves_no_gap(database):
    agency = fresh_agency_code()
    assert _issue(database, agency, date(2026, 11, 2)) == 1
    assert _issue(database, agency, date(2026, 11, 2), commit=False) == 2  # rolled back
    assert _issue(database, agency, date(2026, 11, 2)) == 2
    with database.unit_of_work() as uow:
        rows = uow.session.execute(
            sa.select(sa.func.count(), sa.func.max(orm.documents.c.number)).where(
                orm.documents.c.agency_code == agency
            )
        ).one()
    assert tuple(rows) == (2, 2)


@pytest.mark.parametrize("windows", [(2, 3), (1, 50), (100, 1000)])
def test_text_search_across_windows_is_exact_and_newest_first(database, monkeypatch, windows):
    """Windows then the trigram index must give the same pages as a plain scan would."""
    from services.registry.adapters import repository
    from services.registry.adapters.repository import DocumentFilter, DocumentRepository

    agency = fresh_agency_code()
    directory = StaticAgencyDirectory({agency: AgencyInfo(agency, "Sở Thử", "STH")})
    subjects = [
        "Về việc đầu tư xây dựng cầu" if n % 5 in (0, 3) else f"Về việc khác số {n}"
        for n in range(23)
    ]
    with database.unit_of_work() as uow:
        for subject in subjects:
            document = _document(agency)
            document.subject = subject
            use_cases.register_outgoing(
                uow, directory, document, (), actor="văn thư",
                now=datetime(2026, 11, 2, 9, 0, tzinfo=VIETNAM), issue_date=date(2026, 11, 2),
            )  # fmt: skip
        uow.commit()
    monkeypatch.setattr(repository, "SEARCH_WINDOWS", windows)
    with database.unit_of_work() as uow:
        repo = DocumentRepository(uow.session)
        every = repo.search(DocumentFilter(agency), before_seq=None, limit=100)
        expected = [r.seq for r in every if "dau tu" in r.subject_folded]
        pages = {}
        for spec in (DocumentFilter(agency, query="ĐẦU TƯ"),
                     DocumentFilter(agency, query="ĐẦU TƯ", year=2026)):  # fmt: skip
            seen: list[int] = []
            before = None
            while True:
                page = repo.search(spec, before_seq=before, limit=2)
                seen += [r.seq for r in page]
                if len(page) < 2:
                    break
                before = page[-1].seq
            pages[spec.year] = seen
        none_in_2025 = repo.search(
            DocumentFilter(agency, query="đầu tư", year=2025), before_seq=None, limit=2
        )
    assert len(expected) == 9
    assert pages == {None: expected, 2026: expected}
    assert none_in_2025 == []
