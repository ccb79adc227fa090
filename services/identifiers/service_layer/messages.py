"""Conversions between the domain model and the protobuf contract."""

from __future__ import annotations

from datetime import datetime

from lienthong.identifiers.v1 import identifiers_pb2 as pb

from services.chassis.timeutil import iso
from services.identifiers.domain.model import Agency, AgencyStatus, new_agency

STATUS_TO_PB = {
    AgencyStatus.ACTIVE: pb.AGENCY_STATUS_ACTIVE,
    AgencyStatus.MERGED: pb.AGENCY_STATUS_MERGED,
    AgencyStatus.DISSOLVED: pb.AGENCY_STATUS_DISSOLVED,
}
PB_TO_STATUS = {v: k for k, v in STATUS_TO_PB.items()}


def agency_to_pb(agency: Agency, updated_at: datetime | None = None) -> pb.Agency:
    return pb.Agency(
        code=agency.code,
        name=agency.name,
        abbreviation=agency.abbreviation,
        parent_code=agency.parent_code or "",
        level=agency.level,
        kind=agency.kind,
        contact=pb.Contact(
            organization_in_charge=agency.organization_in_charge,
            address=agency.address,
            email=agency.email,
            telephone=agency.telephone,
            fax=agency.fax,
            website=agency.website,
        ),
        status=STATUS_TO_PB[agency.status],
        status_effective_from=(
            agency.status_effective_from.isoformat() if agency.status_effective_from else ""
        ),
        merged_into=agency.merged_into or "",
        exchanges_electronically=agency.exchanges_electronically,
        version=agency.version,
        updated_at=iso(updated_at) if updated_at else "",
    )


def agency_from_pb(message: pb.Agency) -> Agency:
    """Validate a client's agency message (unset status means active)."""
    status = PB_TO_STATUS.get(message.status, AgencyStatus.ACTIVE)
    return new_agency(
        code=message.code,
        name=message.name,
        abbreviation=message.abbreviation,
        parent_code=message.parent_code or None,
        level=message.level or None,
        kind=message.kind or "other",
        organization_in_charge=message.contact.organization_in_charge,
        address=message.contact.address,
        email=message.contact.email,
        telephone=message.contact.telephone,
        fax=message.contact.fax,
        website=message.contact.website,
        status=status,
        status_effective_from=message.status_effective_from or None,
        merged_into=message.merged_into or None,
        exchanges_electronically=message.exchanges_electronically,
    )
