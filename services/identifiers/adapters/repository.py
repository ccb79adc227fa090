"""Reading and writing agencies in PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from services.chassis.text import fold
from services.identifiers.adapters.orm import agencies
from services.identifiers.domain.model import Agency, AgencyStatus

_COLUMNS = [
    "code", "name", "abbreviation", "parent_code", "level", "kind", "organization_in_charge",
    "address", "email", "telephone", "fax", "website", "status", "status_effective_from",
    "merged_into", "exchanges_electronically", "version",
]  # fmt: skip


def _to_agency(row: Any) -> Agency:
    values = {name: getattr(row, name) for name in _COLUMNS}
    values["status"] = AgencyStatus(values["status"])
    return Agency(**values)


def _to_row(agency: Agency) -> dict[str, Any]:
    row = {name: getattr(agency, name) for name in _COLUMNS}
    row["status"] = agency.status.value
    row["name_folded"] = agency.name_folded
    return row


class AgencyRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, code: str, *, for_update: bool = False) -> Agency | None:
        query = sa.select(agencies).where(agencies.c.code == code)
        if for_update:
            query = query.with_for_update()
        row = self.session.execute(query).first()
        return _to_agency(row) if row else None

    def get_many(self, codes: Iterable[str], *, for_update: bool = False) -> dict[str, Agency]:
        wanted = list(set(codes))
        if not wanted:
            return {}
        query = sa.select(agencies).where(agencies.c.code.in_(wanted)).order_by(agencies.c.code)
        if for_update:
            query = query.with_for_update()
        return {row.code: _to_agency(row) for row in self.session.execute(query)}

    def get_with_time(self, code: str) -> tuple[Agency, Any] | None:
        """The agency and when it last changed, in one query."""
        row = self.session.execute(sa.select(agencies).where(agencies.c.code == code)).first()
        return (_to_agency(row), row.updated_at) if row else None

    def save(self, agency: Agency) -> None:
        """Insert or overwrite ``agency`` (its ``version`` already set by the caller)."""
        row = _to_row(agency)
        statement = insert(agencies).values(**row)
        statement = statement.on_conflict_do_update(
            index_elements=[agencies.c.code],
            set_={
                **{k: statement.excluded[k] for k in row if k != "code"},
                "updated_at": sa.func.now(),
            },
        )
        self.session.execute(statement)

    def search(
        self,
        query: str,
        *,
        kinds: Sequence[str] = (),
        include_inactive: bool = False,
        after_code: str = "",
        limit: int = 50,
    ) -> list[Agency]:
        """Diacritic-insensitive search on name, abbreviation and code; keyset-paginated by code."""
        statement = sa.select(agencies).order_by(agencies.c.code).limit(limit)
        for word in fold(query).split():
            pattern = f"%{_escape_like(word)}%"
            statement = statement.where(
                sa.or_(
                    agencies.c.name_folded.like(pattern, escape="\\"),
                    sa.func.lower(agencies.c.abbreviation).like(pattern, escape="\\"),
                    agencies.c.code.like(pattern, escape="\\"),
                )
            )
        if kinds:
            statement = statement.where(agencies.c.kind.in_(list(kinds)))
        if not include_inactive:
            statement = statement.where(agencies.c.status == AgencyStatus.ACTIVE.value)
        if after_code:
            statement = statement.where(agencies.c.code > after_code)
        return [_to_agency(row) for row in self.session.execute(statement)]

    def children(self, code: str, *, include_inactive: bool = False) -> list[Agency]:
        statement = sa.select(agencies).where(agencies.c.parent_code == code)
        if not include_inactive:
            statement = statement.where(agencies.c.status == AgencyStatus.ACTIVE.value)
        return [_to_agency(r) for r in self.session.execute(statement.order_by(agencies.c.code))]

    def descendants(self, code: str) -> list[Agency]:
        """Every agency below ``code`` in the tree (recursive), any status."""
        tree = (
            sa.select(agencies.c.code)
            .where(agencies.c.parent_code == code)
            .cte("tree", recursive=True)
        )
        tree = tree.union(sa.select(agencies.c.code).where(agencies.c.parent_code == tree.c.code))
        statement = (
            sa.select(agencies).join(tree, agencies.c.code == tree.c.code).order_by(agencies.c.code)
        )
        return [_to_agency(row) for row in self.session.execute(statement)]

    def all(self) -> list[Agency]:
        return [
            _to_agency(row)
            for row in self.session.execute(sa.select(agencies).order_by(agencies.c.code))
        ]


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
