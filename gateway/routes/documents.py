"""/v1/documents, /v1/statistics, /v1/register-books: the registry service, agency-scoped.

Scope rule: a document is visible to users of the agency whose register holds it (and to
province admins). Anybody else gets 404 for it — the same answer as for a document that does
not exist, so ids of other agencies' documents cannot be probed.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from google.protobuf.json_format import MessageToDict
from lienthong.registry.v1 import registry_pb2 as pb
from pydantic import BaseModel, Field

from gateway import problems
from gateway.accounts.domain import Principal, Role
from gateway.deps import CurrentPrincipal, call_service, require, scoped_agency
from gateway.routes.auth import AGENCY_CODE_PATTERN
from gateway.routes.text import PRINTABLE, TOKEN

UUID_PATTERN = r"^[0-9a-fA-F-]{36}$"
DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"
STATUS_NAMES = [n.removeprefix("STATUS_").lower() for n in pb.Status.keys()[1:]]
STATUS_PATTERN = "^(" + "|".join(STATUS_NAMES) + ")$"

# Who may move a document to which status: the clerk receives, accepts, returns and recalls;
# the people assigned process and complete (the statuses of QĐ 28/2018 Điều 10 khoản 2 h).
TRANSITION_ROLES: dict[str, tuple[Role, ...]] = {
    "accepted": (Role.CLERK,),
    "rejected": (Role.CLERK,),
    "recalled": (Role.CLERK,),
    "deleted": (Role.CLERK,),
    "assigned": (Role.CLERK, Role.SIGNER),
    "in_progress": (Role.OFFICER, Role.CLERK, Role.SIGNER),
    "completed": (Role.OFFICER, Role.CLERK, Role.SIGNER),
}


def document_json(document: pb.Document) -> dict[str, Any]:
    body = MessageToDict(document, preserving_proto_field_name=True)
    body["status"] = pb.Status.Name(document.status).removeprefix("STATUS_").lower()
    body["direction"] = pb.Direction.Name(document.direction).removeprefix("DIRECTION_").lower()
    body["version"] = document.version
    for attachment in body.get("attachments", []):
        attachment.pop("content", None)
    return body


def _status(name: str, field: str) -> int:
    try:
        return pb.Status.Value("STATUS_" + name.upper())
    except ValueError as exc:
        raise problems.invalid(
            f"{name!r} is not a status ({', '.join(STATUS_NAMES)})", field
        ) from exc


async def visible_document(request: Request, who: Principal, document_id: str) -> pb.Document:
    """The document, or 404 if it does not exist or belongs to another agency."""
    document = await call_service(request, who, "registry", "Get", pb.GetRequest(id=document_id))
    if not who.may_see_agency(document.agency_code):
        raise problems.not_found(f"no document {document_id}", "document_id")
    return document


class TransitionBody(BaseModel):
    target: str = Field(pattern=STATUS_PATTERN, description="accepted, rejected, in_progress…")
    note: str = Field(
        default="", max_length=2000, pattern=PRINTABLE, description="Required for rejected"
    )
    expected_version: int = Field(default=0, ge=0)


class AssigneeBody(BaseModel):
    assignee_id: str = Field(min_length=1, max_length=255, pattern=PRINTABLE)
    role: str = Field(pattern="^(lead|support|information)$")
    due_date: str = Field(default="", pattern=r"^(\d{4}-\d{2}-\d{2})?$")


class AssignBody(BaseModel):
    assignees: list[AssigneeBody] = Field(min_length=1, max_length=100)
    due_in_working_days: int = Field(default=0, ge=0, le=365)
    instructions: str = Field(default="", max_length=2000, pattern=PRINTABLE)


def _path(pattern: str) -> Any:
    from fastapi import Path

    re.compile(pattern)
    return Path(pattern=pattern)


DocId = Annotated[str, _path(UUID_PATTERN)]


def documents_router() -> APIRouter:
    router = APIRouter(tags=["documents"])

    @router.get("/v1/documents")
    async def list_documents(
        who: CurrentPrincipal,
        request: Request,
        agency_code: Annotated[str | None, Query(pattern=AGENCY_CODE_PATTERN)] = None,
        direction: Annotated[str | None, Query(pattern="^(outgoing|incoming)$")] = None,
        status: Annotated[
            list[Annotated[str, Query(pattern=STATUS_PATTERN)]] | None, Query()
        ] = None,
        q: Annotated[str, Query(max_length=200, pattern=PRINTABLE)] = "",
        year: Annotated[int, Query(ge=0, le=9999)] = 0,
        date_from: Annotated[str, Query(pattern=f"({DATE_PATTERN})?")] = "",
        date_to: Annotated[str, Query(pattern=f"({DATE_PATTERN})?")] = "",
        overdue_only: bool = False,
        page_size: Annotated[int, Query(ge=1, le=500)] = 50,
        page_token: Annotated[str, Query(max_length=40, pattern=TOKEN)] = "",
    ) -> dict[str, Any]:
        """The agency's register (outgoing and/or incoming), newest first, a page at a time."""
        code = scoped_agency(who, agency_code)
        listing = pb.ListRequest(
            agency_code=code,
            direction=pb.Direction.Value("DIRECTION_" + direction.upper()) if direction else 0,
            statuses=[_status(s, "status") for s in status or []],
            query=q,
            year=year,
            date_from=date_from,
            date_to=date_to,
            overdue_only=overdue_only,
            page_size=page_size,
            page_token=page_token,
        )
        page = await call_service(request, who, "registry", "List", listing)
        return {
            "documents": [document_json(d) for d in page.documents],
            "next_page_token": page.next_page_token,
        }

    @router.get("/v1/documents/{document_id}")
    async def get_document(
        document_id: DocId, who: CurrentPrincipal, request: Request
    ) -> dict[str, Any]:
        return document_json(await visible_document(request, who, document_id))

    @router.get("/v1/documents/{document_id}/history")
    async def document_history(
        document_id: DocId, who: CurrentPrincipal, request: Request
    ) -> dict[str, Any]:
        await visible_document(request, who, document_id)
        history = await call_service(
            request,
            who,
            "registry",
            "GetHistory",
            pb.HistoryRequest(id=document_id),
        )
        entries = []
        for entry in history.entries:
            row = MessageToDict(entry, preserving_proto_field_name=True)
            row["from_status"] = pb.Status.Name(entry.from_status).removeprefix("STATUS_").lower()
            row["to_status"] = pb.Status.Name(entry.to_status).removeprefix("STATUS_").lower()
            entries.append(row)
        return {"entries": entries}

    @router.post("/v1/documents/{document_id}/transitions")
    async def transition_document(
        document_id: DocId, body: TransitionBody, who: CurrentPrincipal, request: Request
    ) -> dict[str, Any]:
        """Accept, return (rejected, with the reason in ``note``), process, complete, recall."""
        allowed = TRANSITION_ROLES.get(body.target)
        if allowed is None:
            raise problems.invalid(f"{body.target!r} is not a status a user sets", "target")
        if body.target == "rejected" and not body.note.strip():
            # QĐ 28/2018 Điều 10 khoản 2 h: a return states its reason.
            raise problems.invalid("a returned document needs the reason in note", "note")
        await visible_document(request, who, document_id)
        if not who.has_any(*allowed):
            names = ", ".join(r.value for r in allowed)
            raise problems.forbidden(f"moving to {body.target} needs one of: {names}", "target")
        document = await call_service(
            request,
            who,
            "registry",
            "Transition",
            pb.TransitionRequest(
                id=document_id,
                target=_status(body.target, "target"),
                actor=who.username,
                note=body.note,
                expected_version=body.expected_version,
            ),
        )
        return document_json(document)

    @router.post("/v1/documents/{document_id}/assignments")
    async def assign_document(
        document_id: DocId,
        body: AssignBody,
        request: Request,
        who: Annotated[Principal, Depends(require(Role.CLERK, Role.SIGNER))],
    ) -> dict[str, Any]:
        """Assign to units or people (chủ trì, phối hợp, để biết) with a due date."""
        await visible_document(request, who, document_id)
        document = await call_service(
            request,
            who,
            "registry",
            "Assign",
            pb.AssignRequest(
                id=document_id,
                assignees=[
                    pb.Assignee(
                        assignee_id=a.assignee_id,
                        role=pb.AssignmentRole.Value("ASSIGNMENT_ROLE_" + a.role.upper()),
                        due_date=a.due_date,
                    )
                    for a in body.assignees
                ],
                due_in_working_days=body.due_in_working_days,
                instructions=body.instructions,
                actor=who.username,
            ),
        )
        return document_json(document)

    @router.get("/v1/statistics")
    async def statistics(
        who: CurrentPrincipal,
        request: Request,
        date_from: Annotated[str, Query(pattern=DATE_PATTERN)],
        date_to: Annotated[str, Query(pattern=DATE_PATTERN)],
        agency_code: Annotated[
            list[Annotated[str, Query(pattern=AGENCY_CODE_PATTERN)]] | None, Query()
        ] = None,
    ) -> dict[str, Any]:
        """Sent, received, on time, late, overdue, pending per agency; own agency by default,
        any agencies (or all, with none named) for a province admin."""
        if agency_code:
            codes = [scoped_agency(who, c) for c in agency_code]
        else:
            codes = [] if who.is_province_admin else [who.agency_code]
        stats = await call_service(
            request,
            who,
            "registry",
            "GetStatistics",
            pb.StatisticsRequest(agency_codes=codes, date_from=date_from, date_to=date_to),
        )
        return {
            "agencies": [
                MessageToDict(
                    a, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
                )
                for a in stats.agencies
            ]
        }

    @router.get(
        "/v1/register-books/{kind}/{month}",
        response_class=Response,
        responses={200: {"content": {"application/pdf": {}, "text/csv": {}}}},
    )
    async def register_book(
        kind: Annotated[str, _path("^(outgoing|incoming)$")],
        month: Annotated[str, _path(r"^\d{4}-(0[1-9]|1[0-2])$")],
        request: Request,
        who: Annotated[Principal, Depends(require(Role.CLERK, Role.AGENCY_ADMIN, Role.SIGNER))],
        agency_code: Annotated[str | None, Query(pattern=AGENCY_CODE_PATTERN)] = None,
        format: Annotated[str, Query(pattern="^(pdf|csv|xlsx)$")] = "pdf",
    ) -> Response:
        """Sổ đăng ký văn bản đi/đến of a month (NĐ 30/2020 Phụ lục IV), as PDF, CSV or XLSX."""
        code = scoped_agency(who, agency_code)
        book = await call_service(
            request,
            who,
            "registry",
            "ExportBook",
            pb.ExportBookRequest(
                agency_code=code,
                kind=pb.Direction.Value("DIRECTION_" + kind.upper()),
                month=month,
                format=pb.BookFormat.Value("BOOK_FORMAT_" + format.upper()),
            ),
            timeout_s=60,
        )
        filename = f"so-{kind}-{code}-{month}.{format}"
        return Response(
            content=book.content,
            media_type=book.media_type,
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )

    return router
