"""/v1/agencies: the province's agency directory (read-only), over the identifiers service.

The directory is shared reference data — every user must find the agencies they send to — so
any authenticated user may read it; changing it stays with the identifiers service's operators.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from google.protobuf.json_format import MessageToDict
from lienthong.identifiers.v1 import identifiers_pb2 as pb

from gateway.deps import CurrentPrincipal, call_service
from gateway.routes.auth import AGENCY_CODE_PATTERN
from gateway.routes.text import PRINTABLE, TOKEN

KINDS = r"^[a-z_]{1,32}$"


def agency_json(agency: pb.Agency) -> dict[str, Any]:
    body = MessageToDict(
        agency, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
    )
    body["status"] = pb.AgencyStatus.Name(agency.status).removeprefix("AGENCY_STATUS_").lower()
    body["version"] = agency.version
    return body


def agencies_router() -> APIRouter:
    router = APIRouter(prefix="/v1/agencies", tags=["agencies"])

    @router.get("")
    async def search_agencies(
        who: CurrentPrincipal,
        request: Request,
        q: Annotated[
            str, Query(max_length=200, pattern=PRINTABLE, description="Diacritic-insensitive")
        ] = "",
        kind: Annotated[list[Annotated[str, Query(pattern=KINDS)]] | None, Query()] = None,
        include_inactive: bool = False,
        page_size: Annotated[int, Query(ge=1, le=500)] = 50,
        page_token: Annotated[str, Query(max_length=200, pattern=TOKEN)] = "",
    ) -> dict[str, Any]:
        """Search the directory by name (all of it with no ``q``), a page at a time."""
        page = await call_service(
            request,
            who,
            "identifiers",
            "SearchAgencies",
            pb.SearchAgenciesRequest(
                query=q,
                kinds=kind or [],
                include_inactive=include_inactive,
                page_size=page_size,
                page_token=page_token,
            ),
        )
        return {
            "agencies": [agency_json(a) for a in page.agencies],
            "next_page_token": page.next_page_token,
        }

    @router.get("/{code}")
    async def get_agency(
        code: Annotated[str, _code_path()], who: CurrentPrincipal, request: Request
    ) -> dict[str, Any]:
        agency = await call_service(
            request,
            who,
            "identifiers",
            "GetAgency",
            pb.GetAgencyRequest(code=code),
        )
        return agency_json(agency)

    @router.get("/{code}/children")
    async def agency_children(
        code: Annotated[str, _code_path()],
        who: CurrentPrincipal,
        request: Request,
        include_inactive: bool = False,
    ) -> dict[str, Any]:
        listing = await call_service(
            request,
            who,
            "identifiers",
            "ListChildren",
            pb.ListChildrenRequest(code=code, include_inactive=include_inactive),
        )
        return {"agencies": [agency_json(a) for a in listing.agencies]}

    return router


def _code_path() -> Any:
    from fastapi import Path

    return Path(pattern=AGENCY_CODE_PATTERN, description="Mã định danh, NNN.NN.NN.XNN")
