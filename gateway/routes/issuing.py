"""Issuing an outgoing document over HTTP: the draft with its PDF, the person's signature, the
number and date, the organisation's seal, the files of each step, and sending.

Who does what (NĐ 30/2020/NĐ-CP Điều 15–16): a chuyên viên, văn thư or lãnh đạo records the
draft; the lãnh đạo signs it with their own key (the account's ``signing_key_id``); the văn thư
numbers and dates it, seals it with the agency's key and sends it. Every route first reads the
record for the caller — another agency's document answers 404, as if it did not exist — and
every service call carries the caller, so the services check the agency again.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, Header, Request, Response, UploadFile
from fastapi.responses import StreamingResponse
from google.protobuf.json_format import MessageToDict
from lienthong.distribution.v1 import distribution_pb2 as dpb
from lienthong.registry.v1 import registry_pb2 as rpb
from lienthong.signing.v1 import signing_pb2 as spb
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool

from gateway import issuing, problems
from gateway.accounts.domain import Principal, Role
from gateway.deps import CurrentPrincipal, call_service, gateway, require, scoped_agency
from gateway.routes.auth import AGENCY_CODE_PATTERN
from gateway.routes.documents import DATE_PATTERN, DocId, _path, document_json, visible_document
from gateway.routes.text import PRINTABLE
from services.chassis.timeutil import VIETNAM, now

UPLOAD_PATH = "/v1/documents"
KIND_PATTERN = "^(" + "|".join(issuing.DOWNLOAD_KINDS) + ")$"
AUTHORITY_PATTERN = r"^(TM\.|KT\.|TL\.|TUQ\.|Q\.)?$"
DATETIME_PATTERN = r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?([+-]\d{2}:\d{2}|Z))?$"

Drafter = Annotated[Principal, Depends(require(Role.CLERK, Role.OFFICER, Role.SIGNER))]
Signer = Annotated[Principal, Depends(require(Role.SIGNER))]
Clerk = Annotated[Principal, Depends(require(Role.CLERK))]


class SignerIn(BaseModel):
    """i) chức vụ, họ tên người ký; ``authority`` TM., KT., TL., TUQ., Q. or empty."""

    model_config = ConfigDict(extra="forbid")
    title: str = Field(default="", max_length=255, pattern=PRINTABLE)
    full_name: str = Field(default="", max_length=100, pattern=PRINTABLE)
    authority: str = Field(default="", pattern=AUTHORITY_PATTERN)
    on_behalf_of: str = Field(default="", max_length=255, pattern=PRINTABLE)


class ReceiverIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    agency_code: str = Field(default="", pattern=f"({AGENCY_CODE_PATTERN})|^$")
    name: str = Field(default="", max_length=255, pattern=PRINTABLE)


class NewDocument(BaseModel):
    """The ``document`` part of ``POST /v1/documents``: the draft's metadata."""

    model_config = ConfigDict(extra="forbid")
    agency_code: str | None = Field(
        default=None, pattern=AGENCY_CODE_PATTERN, description="Province admins only"
    )
    document_type: str = Field(pattern=r"^[a-z_]{1,64}$", description="e.g. quyet_dinh")
    subject: str = Field(min_length=1, max_length=1000, pattern=PRINTABLE)
    urgency: Literal["normal", "urgent", "very_urgent", "express", "express_timed"] = "normal"
    confidentiality: Literal["normal", "confidential", "secret", "top_secret"] = "normal"
    signer: SignerIn = Field(default_factory=SignerIn)
    receivers: list[ReceiverIn] = Field(default_factory=list, max_length=1000)
    drafting_unit: str = Field(default="", max_length=50, pattern=PRINTABLE)
    legal_normative: bool = False
    page_count: int = Field(default=0, ge=0, le=100_000)
    number_of_copies: int = Field(default=0, ge=0, le=100_000)
    distribution_instructions: str = Field(default="", max_length=2000, pattern=PRINTABLE)
    note: str = Field(default="", max_length=2000, pattern=PRINTABLE)
    due_date: str = Field(default="", pattern=f"({DATE_PATTERN})|^$", description="yyyy-MM-dd")
    language: str = Field(default="", max_length=20, pattern=PRINTABLE, description="e.g. vi")
    dossier_code: str = Field(default="", max_length=100, pattern=PRINTABLE)
    place: str = Field(
        default="",
        max_length=100,
        pattern=PRINTABLE,
        description="Địa danh of the issue line (kept in extra.place; the default of /number)",
    )

    def record(self, agency_code: str) -> rpb.Document:
        return rpb.Document(
            agency_code=agency_code,
            document_type=self.document_type,
            subject=self.subject,
            urgency=rpb.Urgency.Value("URGENCY_" + self.urgency.upper()),
            confidentiality=rpb.Confidentiality.Value(
                "CONFIDENTIALITY_" + self.confidentiality.upper()
            ),
            signer=rpb.Signer(**self.signer.model_dump()),
            receivers=[rpb.Party(name=r.name, agency_code=r.agency_code) for r in self.receivers],
            drafting_unit=self.drafting_unit,
            legal_normative=self.legal_normative,
            page_count=self.page_count,
            number_of_copies=self.number_of_copies,
            distribution_instructions=self.distribution_instructions,
            note=self.note,
            due_date=self.due_date,
            language=self.language,
            dossier_code=self.dossier_code,
            electronic=True,
            extra={"place": self.place} if self.place else {},
        )


class NumberBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    issue_date: str | None = Field(
        default=None, pattern=DATE_PATTERN, description="yyyy-MM-dd; today if omitted"
    )
    place: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        pattern=PRINTABLE,
        description="Địa danh before the date; if omitted the draft's place, else the "
        "gateway's LT_GATEWAY_PLACE_NAME",
    )


class SendBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    receivers: list[Annotated[str, Field(pattern=AGENCY_CODE_PATTERN)]] = Field(
        default_factory=list, max_length=5000
    )
    group_root: str | None = Field(default=None, pattern=AGENCY_CODE_PATTERN)
    group_kinds: list[Annotated[str, Field(pattern=r"^[a-z_]{1,32}$")]] = Field(
        default_factory=list, max_length=20
    )
    deliver_at: str | None = Field(
        default=None, pattern=DATETIME_PATTERN, description="hỏa tốc hẹn giờ only"
    )
    priority: int = Field(
        default=0, ge=0, le=4, description="edXML Priority 1–4; 0: from the record's urgency"
    )
    supersedes_dispatch_id: str = Field(
        default="",
        pattern=r"^[0-9A-Za-z-]{0,64}$",
        description="Update or replace an earlier dispatch",
    )


def parse_new_document(text: str) -> NewDocument:
    """The ``document`` part, each error a 422 naming ``document.<field>``."""
    try:
        return NewDocument.model_validate_json(text)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ()))
        field = f"document.{where}" if where else "document"
        raise problems.invalid(f"{field}: {first.get('msg')}", field) from exc


def pdf_response(
    version: rpb.FileVersion, data: Any, default_name: str, media_type: str | None = None
) -> StreamingResponse:
    headers = {
        "Content-Disposition": issuing.content_disposition(version.file_name or default_name),
        "ETag": f'"{version.sha256}"',
        "Cache-Control": "private, no-cache",
    }
    if version.size_bytes:
        headers["Content-Length"] = str(version.size_bytes)
    return StreamingResponse(
        data, media_type=media_type or version.media_type or "application/pdf", headers=headers
    )


def _etag_matches(if_none_match: str | None, sha256: str) -> bool:
    if not if_none_match or not sha256:
        return False
    tags = {t.strip().removeprefix("W/").strip('"') for t in if_none_match.split(",")}
    return sha256 in tags or "*" in tags


async def _step(
    request: Request, who: Principal, document: rpb.Document, header: spb.SignHeader, kind: str
) -> dict[str, Any]:
    result = await run_in_threadpool(
        issuing.signing_step, gateway(request).clients, who, document, header, kind
    )
    return {**document_json(result.document), "audit": issuing.audit_json(result.audit)}


def _signing_key_of(request: Request, who: Principal) -> str:
    """The hex CKA_ID bound to the caller's account; 409 if none is bound."""
    accounts = gateway(request).accounts
    user = accounts.store.user_by_name(who.username) if accounts is not None else None
    if user is None or not user.signing_key_id:
        raise problems.Problem(
            409,
            "Failed precondition",
            "no signing key is bound to your account; an administrator sets signing_key_id "
            "(PATCH /v1/users/{id})",
            "failed-precondition",
            "signing_key_id",
        )
    return user.signing_key_id


def issuing_router() -> APIRouter:
    router = APIRouter(tags=["issuing"])

    @router.post(UPLOAD_PATH, status_code=201)
    async def create_document(
        request: Request,
        who: Drafter,
        document: Annotated[
            str,
            Form(
                description="JSON: document_type, subject, urgency, signer{title, full_name, "
                "authority, on_behalf_of}, receivers[{agency_code, name}], drafting_unit, "
                "confidentiality…, agency_code (province admins)",
                max_length=100_000,
            ),
        ],
        file: Annotated[UploadFile, File(description="The draft PDF (application/pdf)")],
    ) -> dict[str, Any]:
        """Record a draft (dự thảo, status draft) with its PDF as the ``original`` version.

        The PDF is spooled (memory up to 1 MiB, then disk) and passed to the registry in chunks.
        If storing it fails the draft stays registered without a file; the problem says so and
        gives its ``document_id``.
        """
        new = parse_new_document(document)
        agency_code = scoped_agency(who, new.agency_code, "document.agency_code")
        media_type = (file.content_type or "").split(";")[0].strip().lower()
        if media_type not in ("application/pdf", "application/octet-stream", ""):
            raise problems.Problem(
                415,
                "Unsupported media type",
                f"the file part is {media_type}; send the draft as application/pdf",
                "unsupported-media-type",
                "file",
            )
        head = await file.read(len(issuing.PDF_MAGIC))
        if head != issuing.PDF_MAGIC:
            raise problems.invalid("the file is not a PDF (it does not start with %PDF-)", "file")
        try:
            record = await call_service(
                request,
                who,
                "registry",
                "RegisterOutgoing",
                rpb.RegisterOutgoingRequest(document=new.record(agency_code), actor=who.username),
            )
        except problems.Problem as problem:
            # The registry names fields of its Document; here they are in the document part.
            if problem.field and problem.status == 422:
                problem.field = "document." + problem.field.removeprefix("document.")
            raise
        try:
            stored = await run_in_threadpool(
                issuing.put_file,
                gateway(request).clients,
                who,
                record.id,
                "original",
                file.filename or "du-thao.pdf",
                file.file,
            )
        except problems.Problem as problem:
            problem.detail = (
                f"the draft {record.id} was registered but its file was not stored: "
                f"{problem.detail}; it stays a draft without a file"
            )
            problem.extensions = {"document_id": record.id}
            raise
        return document_json(stored)

    @router.get("/v1/documents/{document_id}/files")
    async def list_files(
        document_id: DocId, who: CurrentPrincipal, request: Request
    ) -> dict[str, Any]:
        """The main file's versions, oldest first, each with its download URL."""
        document = await visible_document(request, who, document_id)
        files = document_json(document).get("files", [])
        for row in files:
            row["url"] = f"/v1/documents/{document_id}/files/{row['kind']}"
        return {"files": files}

    @router.get(
        "/v1/documents/{document_id}/files/{kind}",
        response_class=StreamingResponse,
        responses={200: {"content": {"application/pdf": {}}}, 304: {"description": "Unchanged"}},
    )
    async def download_file(
        document_id: DocId,
        kind: Annotated[str, _path(KIND_PATTERN)],
        who: CurrentPrincipal,
        request: Request,
        if_none_match: Annotated[str | None, Header(max_length=1000)] = None,
    ) -> Response:
        """One version of the main file (``latest``: the newest), streamed; ``ETag`` is its
        SHA-256, so ``If-None-Match`` answers 304 without a transfer."""
        document = await visible_document(request, who, document_id)
        known = issuing.newest_version(document, kind)
        if known is None:
            raise problems.not_found(f"the document has no {kind!r} version", "kind")
        if _etag_matches(if_none_match, known.sha256):
            return Response(status_code=304, headers={"ETag": f'"{known.sha256}"'})
        version, data = await run_in_threadpool(
            issuing.open_file, gateway(request).clients, who, document_id, known.kind
        )
        return pdf_response(version, iterate_in_threadpool(data), f"{known.kind}.pdf")

    @router.post("/v1/documents/{document_id}/signatures/person")
    async def sign_as_person(document_id: DocId, who: Signer, request: Request) -> dict[str, Any]:
        """The lãnh đạo signs the newest version with their own key → ``person_signed``."""
        # The record first: for another agency's document the answer is 404 whatever the key.
        document = await visible_document(request, who, document_id)
        key_id = await run_in_threadpool(_signing_key_of, request, who)
        header = spb.SignHeader(step=spb.PERSON, key_id_hex=key_id, requested_by=who.username)
        return await _step(request, who, document, header, "person_signed")

    @router.post("/v1/documents/{document_id}/number")
    async def number_document(
        document_id: DocId, body: NumberBody, who: Clerk, request: Request
    ) -> dict[str, Any]:
        """The văn thư gives the next number of the book and the date (registry
        ``AssignNumber``), then fills them into the PDF → ``numbered``.

        Repeating the request after the number was given but the PDF was not stored fills in
        the number already given (no second number is taken)."""
        document = await visible_document(request, who, document_id)
        if any(f.kind == "numbered" for f in document.files):
            raise problems.Problem(
                409,
                "Failed precondition",
                f"the document is already numbered ({document.number_and_symbol})",
                "failed-precondition",
                "document_id",
            )
        if document.status != rpb.STATUS_ISSUED:
            document = await call_service(
                request,
                who,
                "registry",
                "AssignNumber",
                rpb.AssignNumberRequest(
                    id=document_id,
                    # The date of signing and issuing is today's in Vietnam unless the clerk
                    # gives another (NĐ 30/2020/NĐ-CP Phụ lục I: ngày, tháng, năm ban hành).
                    issue_date=body.issue_date or now().astimezone(VIETNAM).date().isoformat(),
                    actor=who.username,
                ),
            )
        place = body.place or document.extra.get("place") or gateway(request).settings.place_name
        header = spb.SignHeader(
            step=spb.NUMBER_AND_DATE,
            requested_by=who.username,
            number=document.number_and_symbol,
            place_and_date=issuing.place_and_date(
                place, date.fromisoformat(document.document_date)
            ),
        )
        return await _step(request, who, document, header, "numbered")

    @router.post("/v1/documents/{document_id}/signatures/organisation")
    async def seal(document_id: DocId, who: Clerk, request: Request) -> dict[str, Any]:
        """The văn thư signs with the agency's key (the seal) → ``sealed``."""
        document = await visible_document(request, who, document_id)
        keys = await run_in_threadpool(gateway(request).clients.signing_keys, who)
        key = issuing.organisation_key(list(keys), document.agency_code)
        if key is None:
            raise problems.Problem(
                409,
                "Failed precondition",
                f"the signing service has no organisation key of {document.agency_code}",
                "failed-precondition",
                "agency_code",
            )
        header = spb.SignHeader(
            step=spb.ORGANISATION, key_id_hex=key.key_id_hex, requested_by=who.username
        )
        return await _step(request, who, document, header, "sealed")

    @router.post("/v1/documents/{document_id}/send", status_code=201)
    async def send_document(
        document_id: DocId, body: SendBody, who: Clerk, request: Request
    ) -> dict[str, Any]:
        """Send the issued document: the distribution service builds and signs the edXML
        package from the record and its newest (sealed) version."""
        if not body.receivers and not body.group_root:
            raise problems.invalid("name at least one receiver or a group_root", "receivers")
        await visible_document(request, who, document_id)
        groups = (
            [dpb.ReceiverGroup(root_code=body.group_root, kinds=body.group_kinds, recursive=True)]
            if body.group_root
            else []
        )
        sent = await call_service(
            request,
            who,
            "distribution",
            "SendDocument",
            dpb.SendDocumentRequest(
                registry_id=document_id,
                receivers=body.receivers,
                groups=groups,
                deliver_at=body.deliver_at or "",
                actor=who.username,
                priority=body.priority,
                supersedes_dispatch_id=body.supersedes_dispatch_id,
            ),
            timeout_s=60,
        )
        return MessageToDict(
            sent, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
        )

    return router
