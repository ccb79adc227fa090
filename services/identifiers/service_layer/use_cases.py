"""Use cases of the agency directory. Each runs in one unit of work: state and events together."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from datetime import date

from lienthong.identifiers.v1 import identifiers_pb2 as pb

from services.chassis.db import UnitOfWork
from services.chassis.errors import FailedPrecondition, InvalidArgument, NotFound
from services.chassis.events import Event, topic_name
from services.identifiers.adapters.repository import AgencyRepository
from services.identifiers.domain.model import Agency, AgencyStatus, merge
from services.identifiers.service_layer.messages import agency_to_pb

SERVICE = "identifiers"
AGENCY_TOPIC = topic_name(SERVICE, "agency")
_TYPE_PREFIX = "vn.lienthong.identifiers.agency."


@dataclass(frozen=True, slots=True)
class Saved:
    agency: Agency
    created: bool
    changed: bool


def _change_kind(before: Agency | None, after: Agency) -> pb.AgencyChanged.Change.ValueType:
    if before is None:
        return pb.AgencyChanged.CHANGE_CREATED
    if before.status is not after.status and after.status is AgencyStatus.MERGED:
        return pb.AgencyChanged.CHANGE_MERGED
    if before.status is not after.status and after.status is AgencyStatus.DISSOLVED:
        return pb.AgencyChanged.CHANGE_DISSOLVED
    return pb.AgencyChanged.CHANGE_UPDATED


def _event(before: Agency | None, after: Agency, changed: list[str]) -> Event:
    kind = _change_kind(before, after)
    payload = pb.AgencyChanged(change=kind, agency=agency_to_pb(after), changed_fields=changed)
    if before is not None:
        payload.previous.CopyFrom(agency_to_pb(before))
    type_suffix = pb.AgencyChanged.Change.Name(kind).removeprefix("CHANGE_").lower()
    return Event.of(AGENCY_TOPIC, _TYPE_PREFIX + type_suffix, SERVICE, after.code, payload)


def _check_references(repo: AgencyRepository, agency: Agency, pending: set[str]) -> None:
    for field, code in (("parent_code", agency.parent_code), ("merged_into", agency.merged_into)):
        if code and code not in pending and repo.get(code) is None:
            raise FailedPrecondition(f"{code} is not in the directory", field=field)


def save_agency(
    uow: UnitOfWork,
    candidate: Agency,
    *,
    expected_version: int = 0,
    pending: set[str] | None = None,
) -> Saved:
    """Create or update; an unchanged agency is left alone (no new version, no event)."""
    repo = AgencyRepository(uow.session)
    current = repo.get(candidate.code, for_update=True)
    if expected_version:
        if current is None:
            raise NotFound(f"{candidate.code} is not in the directory", field="agency.code")
        if current.version != expected_version:
            raise FailedPrecondition(
                f"{candidate.code} is at version {current.version}, not {expected_version}; "
                "reload and retry",
                field="expected_version",
            )
    _check_references(repo, candidate, pending or set())
    if current is not None:
        changed = current.changed_fields(candidate)
        if not changed:
            return Saved(current, created=False, changed=False)
    else:
        changed = list(candidate.content_fields())
    saved = replace(candidate, version=(current.version + 1) if current else 1)
    repo.save(saved)
    uow.publish(_event(current, saved, changed))
    return Saved(saved, created=current is None, changed=True)


def merge_agency(uow: UnitOfWork, code: str, into_code: str, effective_from: date) -> Agency:
    repo = AgencyRepository(uow.session)
    found = repo.get_many([code, into_code], for_update=True)
    if code not in found:
        raise NotFound(f"{code} is not in the directory", field="code")
    if into_code not in found:
        raise NotFound(f"{into_code} is not in the directory", field="into_code")
    merged = merge(found[code], found[into_code], effective_from)
    return save_agency(uow, merged).agency


@dataclass(frozen=True, slots=True)
class ImportResult:
    created: int
    updated: int
    unchanged: int


def import_agencies(uow: UnitOfWork, agencies: list[Agency]) -> ImportResult:
    """Upsert a whole directory file atomically: all rows or none, parents before children."""
    counts = Counter(a.code for a in agencies)
    duplicates = sorted(code for code, n in counts.items() if n > 1)
    if duplicates:
        raise InvalidArgument(f"codes appear more than once: {duplicates[:10]}", field="content")
    pending = set(counts)
    created = updated = unchanged = 0
    for agency in _parents_first(agencies):
        result = save_agency(uow, agency, pending=pending)
        if result.created:
            created += 1
        elif result.changed:
            updated += 1
        else:
            unchanged += 1
    return ImportResult(created, updated, unchanged)


def _parents_first(agencies: list[Agency]) -> list[Agency]:
    by_code = {a.code: a for a in agencies}
    ordered: list[Agency] = []
    state: dict[str, int] = {}  # 1 visiting, 2 done

    def visit(agency: Agency, path: tuple[str, ...]) -> None:
        mark = state.get(agency.code)
        if mark == 2:
            return
        if mark == 1:
            raise InvalidArgument(
                f"the parent/merge references form a cycle: {' → '.join((*path, agency.code))}",
                field="content",
            )
        state[agency.code] = 1
        for ref in (agency.parent_code, agency.merged_into):
            if ref and ref in by_code:
                visit(by_code[ref], (*path, agency.code))
        state[agency.code] = 2
        ordered.append(agency)

    for agency in agencies:
        visit(agency, ())
    return ordered
