"""/v1/inbox and /v1/dispatches: sending, the inbox, receivers' actions, tracking and recall,
over the distribution service (QĐ 28/2018/QĐ-TTg: gửi, nhận, trạng thái, thu hồi).

Scope: an inbox entry belongs to its receiving agency, a dispatch to its sending agency; other
users get 404 for them. A package may only be sent in the name of the caller's own agency: the
gateway reads ``MessageHeader/From/OrganId`` of the uploaded edXML before sending it.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Iterator
from typing import IO, Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse
from google.protobuf.json_format import MessageToDict
from lienthong.distribution.v1 import distribution_pb2 as pb
from lxml import etree
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from gateway import problems
from gateway.accounts.domain import Principal, Role
from gateway.deps import CurrentPrincipal, call_service, require, scoped_agency
from gateway.issuing import CHUNK_BYTES, PDF_MEDIA_TYPE, content_disposition, first_pdf_attachment
from gateway.routes.auth import AGENCY_CODE_PATTERN
from gateway.routes.text import PRINTABLE, TOKEN
from services.distribution.edxml.errors import EdxmlError
from services.distribution.edxml.parse import parse as edxml_parse

UPLOAD_PREFIX = "/v1/dispatches"
SPOOL_BYTES = 1024 * 1024
ID_PATTERN = r"^[0-9A-Za-z-]{1,64}$"
STATES = (
    "queued|arrived|returned|accepted|assigned|processing|completed|notice_pending|recalled|"
    "undeliverable"
)

Clerk = Annotated[Principal, Depends(require(Role.CLERK))]
ClerkOrSigner = Annotated[Principal, Depends(require(Role.CLERK, Role.SIGNER))]
Processor = Annotated[Principal, Depends(require(Role.OFFICER, Role.CLERK, Role.SIGNER))]


def _id_path() -> Any:
    from fastapi import Path

    return Path(pattern=ID_PATTERN)


DeliveryId = Annotated[str, _id_path()]
DispatchId = Annotated[str, _id_path()]


def entry_json(entry: pb.InboxEntry) -> dict[str, Any]:
    body = MessageToDict(entry, preserving_proto_field_name=True)
    body.pop("package", None)  # listings never carry it; downloads go through package_url
    body["package_url"] = f"/v1/inbox/{entry.delivery_id}/package"
    return body


async def _call(
    request: Request,
    who: Principal,
    method: str,
    message: Any,
    timeout_s: float | None = None,
) -> Any:
    return await call_service(request, who, "distribution", method, message, timeout_s=timeout_s)


async def visible_entry(request: Request, who: Principal, delivery_id: str) -> pb.InboxEntry:
    entry = await _call(
        request, who, "GetInboxEntry", pb.GetInboxEntryRequest(delivery_id=delivery_id)
    )
    if not who.may_see_agency(entry.receiver_code):
        raise problems.not_found(f"no inbox entry {delivery_id}", "delivery_id")
    return entry


async def inbox_action(
    request: Request, who: Principal, delivery_id: str, method: str, message: Any
) -> dict[str, Any]:
    """A receiver's action on an inbox entry the caller may see; returns the entry after it."""
    await visible_entry(request, who, delivery_id)
    return entry_json(await _call(request, who, method, message))


async def visible_dispatch(request: Request, who: Principal, dispatch_id: str) -> pb.TrackingView:
    view = await _call(request, who, "Tracking", pb.TrackingRequest(dispatch_id=dispatch_id))
    if not who.may_see_agency(view.sender_code):
        raise problems.not_found(f"no dispatch {dispatch_id}", "dispatch_id")
    return view


def main_pdf_of(package: bytes) -> Any:
    """The first PDF attachment of a received package; 404 naming ``delivery_id`` if none (a
    status-only or paper delivery), 502 if the stored package no longer parses."""
    try:
        parsed = edxml_parse(package).package
    except EdxmlError as exc:
        raise problems.Problem(
            502, "Bad gateway", f"the received package does not parse ({exc})", "bad-gateway"
        ) from exc
    attachment = first_pdf_attachment(getattr(parsed, "attachments", ()))
    if attachment is None:
        raise problems.not_found("the received package has no PDF attachment", "delivery_id")
    return attachment


def _slices(data: bytes, size: int = CHUNK_BYTES) -> Iterator[bytes]:
    view = memoryview(data)
    for start in range(0, len(view), size):
        yield bytes(view[start : start + size])


def sender_of(package: IO[bytes]) -> str:
    """``MessageHeader/From/OrganId`` of an edXML package, read incrementally and safely (no
    entities, no network, no DTD)."""
    package.seek(0)
    try:
        for _, element in etree.iterparse(
            package,
            events=("end",),
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            huge_tree=False,
        ):
            if etree.QName(element).localname == "OrganId":
                parent = element.getparent()
                if parent is not None and etree.QName(parent).localname == "From":
                    return (element.text or "").strip()
    except etree.XMLSyntaxError as exc:
        raise problems.invalid(f"the package is not well-formed XML ({exc})", "body") from exc
    raise problems.invalid("the package has no MessageHeader/From/OrganId", "body")


class AcceptBody(BaseModel):
    due_in_working_days: int = Field(default=0, ge=0, le=365)


class ReturnBody(BaseModel):
    reason: str = Field(min_length=1, max_length=2000, pattern=PRINTABLE)


class AssignBody(BaseModel):
    assignee: str = Field(min_length=1, max_length=255, pattern=PRINTABLE)
    note: str = Field(default="", max_length=2000, pattern=PRINTABLE)


class StatusBody(BaseModel):
    status_code: str = Field(pattern="^(05|06)$", description="05 đang xử lý, 06 hoàn thành")
    note: str = Field(default="", max_length=2000, pattern=PRINTABLE)


class RecallAnswerBody(BaseModel):
    agreed: bool
    reason: str = Field(default="", max_length=2000, pattern=PRINTABLE)


class RecallBody(BaseModel):
    reason: str = Field(min_length=1, max_length=2000, pattern=PRINTABLE)


def distribution_router() -> APIRouter:
    router = APIRouter(tags=["distribution"])

    @router.get("/v1/inbox")
    async def list_inbox(
        who: CurrentPrincipal,
        request: Request,
        agency_code: Annotated[str | None, Query(pattern=AGENCY_CODE_PATTERN)] = None,
        state: Annotated[
            list[Annotated[str, Query(pattern=f"^({STATES})$")]] | None, Query()
        ] = None,
        page_size: Annotated[int, Query(ge=1, le=500)] = 50,
        page_token: Annotated[str, Query(max_length=64, pattern=TOKEN)] = "",
    ) -> dict[str, Any]:
        """The agency's received documents (văn bản đến) with their state, newest first."""
        code = scoped_agency(who, agency_code)
        page = await _call(
            request,
            who,
            "ListInbox",
            pb.ListInboxRequest(
                receiver_code=code, states=state or [], page_size=page_size, page_token=page_token
            ),
        )
        return {
            "entries": [entry_json(e) for e in page.entries],
            "next_page_token": page.next_page_token,
        }

    @router.get("/v1/inbox/{delivery_id}")
    async def get_inbox_entry(
        delivery_id: DeliveryId, who: CurrentPrincipal, request: Request
    ) -> dict[str, Any]:
        return entry_json(await visible_entry(request, who, delivery_id))

    @router.get(
        "/v1/inbox/{delivery_id}/package",
        response_class=Response,
        responses={200: {"content": {"application/octet-stream": {}}}},
    )
    async def download_package(
        delivery_id: DeliveryId, who: CurrentPrincipal, request: Request
    ) -> Response:
        """The signed edXML package as received."""
        entry = await visible_entry(request, who, delivery_id)
        return Response(
            content=entry.package,
            media_type="application/octet-stream",
            headers={"Content-Disposition": f'attachment; filename="{delivery_id}.edxml"'},
        )

    @router.get(
        "/v1/inbox/{delivery_id}/file",
        response_class=StreamingResponse,
        responses={200: {"content": {"application/pdf": {}}}},
    )
    async def download_main_file(
        delivery_id: DeliveryId, who: CurrentPrincipal, request: Request
    ) -> StreamingResponse:
        """The document itself: the first PDF attachment of the received edXML package."""
        entry = await visible_entry(request, who, delivery_id)
        attachment = await run_in_threadpool(main_pdf_of, entry.package)
        digest = hashlib.sha256(attachment.data).hexdigest()
        return StreamingResponse(
            _slices(attachment.data),
            media_type=PDF_MEDIA_TYPE,
            headers={
                "Content-Disposition": content_disposition(attachment.name or f"{delivery_id}.pdf"),
                "Content-Length": str(len(attachment.data)),
                "ETag": f'"{digest}"',
            },
        )

    @router.post("/v1/inbox/{delivery_id}/accept")
    async def accept(
        delivery_id: DeliveryId, body: AcceptBody, who: Clerk, request: Request
    ) -> dict[str, Any]:
        """Tiếp nhận (03): registers the document and gives it its số đến."""
        return await inbox_action(
            request,
            who,
            delivery_id,
            "Accept",
            pb.AcceptRequest(
                delivery_id=delivery_id,
                actor=who.username,
                due_in_working_days=body.due_in_working_days,
            ),
        )

    @router.post("/v1/inbox/{delivery_id}/return")
    async def return_entry(
        delivery_id: DeliveryId, body: ReturnBody, who: Clerk, request: Request
    ) -> dict[str, Any]:
        """Trả lại (02) with the reason, which reaches the sender."""
        return await inbox_action(
            request,
            who,
            delivery_id,
            "Return",
            pb.ReturnRequest(delivery_id=delivery_id, actor=who.username, reason=body.reason),
        )

    @router.post("/v1/inbox/{delivery_id}/assign")
    async def assign(
        delivery_id: DeliveryId, body: AssignBody, who: ClerkOrSigner, request: Request
    ) -> dict[str, Any]:
        """Phân công (04) to a unit or a person."""
        return await inbox_action(
            request,
            who,
            delivery_id,
            "Assign",
            pb.AssignRequest(
                delivery_id=delivery_id, actor=who.username, assignee=body.assignee, note=body.note
            ),
        )

    @router.post("/v1/inbox/{delivery_id}/status")
    async def update_status(
        delivery_id: DeliveryId, body: StatusBody, who: Processor, request: Request
    ) -> dict[str, Any]:
        """Đang xử lý (05) or hoàn thành (06)."""
        return await inbox_action(
            request,
            who,
            delivery_id,
            "UpdateStatus",
            pb.UpdateStatusRequest(
                delivery_id=delivery_id,
                status_code=body.status_code,
                actor=who.username,
                note=body.note,
            ),
        )

    @router.post("/v1/inbox/{delivery_id}/recall-answer")
    async def answer_recall(
        delivery_id: DeliveryId, body: RecallAnswerBody, who: Clerk, request: Request
    ) -> dict[str, Any]:
        """Answer a recall: agree (15) or refuse with a reason (16)."""
        if not body.agreed and not body.reason.strip():
            raise problems.invalid("refusing a recall needs the reason", "reason")
        return await inbox_action(
            request,
            who,
            delivery_id,
            "AnswerRecall",
            pb.AnswerRecallRequest(
                delivery_id=delivery_id, agreed=body.agreed, actor=who.username, reason=body.reason
            ),
        )

    @router.post(
        "/v1/dispatches",
        status_code=201,
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
                },
            }
        },
    )
    async def send(
        request: Request,
        who: Clerk,
        receiver: Annotated[
            list[Annotated[str, Query(pattern=AGENCY_CODE_PATTERN)]] | None, Query()
        ] = None,
        group_root: Annotated[str | None, Query(pattern=AGENCY_CODE_PATTERN)] = None,
        group_kind: Annotated[
            list[Annotated[str, Query(pattern=r"^[a-z_]{1,32}$")]] | None, Query()
        ] = None,
    ) -> dict[str, Any]:
        """Send a signed edXML package (the raw request body) to agencies and/or a group
        (every agency under ``group_root``, optionally of ``group_kind``)."""
        if not receiver and not group_root:
            raise problems.invalid("name at least one receiver or a group_root", "receiver")
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool:
            size = 0
            async for piece in request.stream():
                size += len(piece)
                await run_in_threadpool(spool.write, piece)
            if size == 0:
                raise problems.invalid("the package is empty", "body")
            sender = await run_in_threadpool(sender_of, spool)
            if not who.may_see_agency(sender):
                raise problems.forbidden(
                    f"you may only send in your own agency's name, not {sender}", "body"
                )
            spool.seek(0)
            package = await run_in_threadpool(spool.read)  # Send is a unary RPC
        groups = (
            [pb.ReceiverGroup(root_code=group_root, kinds=group_kind or [], recursive=True)]
            if group_root
            else []
        )
        sent = await _call(
            request,
            who,
            "Send",
            pb.SendRequest(
                package=package, receivers=receiver or [], groups=groups, actor=who.username
            ),
            timeout_s=60,
        )
        return MessageToDict(sent, preserving_proto_field_name=True)

    @router.get("/v1/dispatches/{dispatch_id}")
    async def tracking(
        dispatch_id: DispatchId, who: CurrentPrincipal, request: Request
    ) -> dict[str, Any]:
        """Who received what, when, with which status (the sender's view)."""
        view = await visible_dispatch(request, who, dispatch_id)
        return MessageToDict(view, preserving_proto_field_name=True)

    @router.post("/v1/dispatches/{dispatch_id}/recall")
    async def recall(
        dispatch_id: DispatchId, body: RecallBody, who: Clerk, request: Request
    ) -> dict[str, Any]:
        """Thu hồi (13): every receiver is asked to agree or refuse."""
        await visible_dispatch(request, who, dispatch_id)
        answer = await _call(
            request,
            who,
            "Recall",
            pb.RecallRequest(dispatch_id=dispatch_id, actor=who.username, reason=body.reason),
        )
        return MessageToDict(answer, preserving_proto_field_name=True)

    return router
