"""/v1/verification: reports on a signed PDF or edXML package (TT 41/2017), over the
verification service. The upload is read from the socket in chunks into a spooled temporary
file (memory up to 1 MiB, then disk) and streamed to the service in 1 MiB gRPC messages — a
50 MB file never sits whole in the gateway's memory.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from typing import IO, Annotated, Any

from fastapi import APIRouter, Query, Request
from lienthong.verification.v1 import verification_pb2 as pb
from starlette.concurrency import run_in_threadpool

from gateway import problems
from gateway.deps import CurrentPrincipal, call_service
from gateway.routes.auth import AGENCY_CODE_PATTERN

CHUNK_BYTES = 1024 * 1024
UPLOAD_PREFIX = "/v1/verification/"


def _chunks(spool: IO[bytes], sender: str) -> Iterator[pb.DocumentChunk]:
    spool.seek(0)
    first = True
    while True:
        data = spool.read(CHUNK_BYTES)
        if not data and not first:
            return
        yield pb.DocumentChunk(data=data, sender=sender if first else "")
        first = False
        if not data:
            return


def verification_router() -> APIRouter:
    router = APIRouter(prefix="/v1/verification", tags=["verification"])

    @router.post(
        "/pdf",
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
            }
        },
    )
    async def verify_pdf(
        request: Request,
        who: CurrentPrincipal,
        sender: Annotated[str, Query(pattern=f"^({AGENCY_CODE_PATTERN[1:-1]})?$")] = "",
    ) -> dict[str, Any]:
        """Verify a signed PDF sent as the raw request body (Content-Type: application/pdf)."""
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type != "application/pdf":
            raise problems.Problem(
                415,
                "Unsupported media type",
                "send the PDF as application/pdf",
                "unsupported-media-type",
                "content-type",
            )
        with tempfile.SpooledTemporaryFile(max_size=CHUNK_BYTES) as spool:
            size = 0
            async for piece in request.stream():
                size += len(piece)
                await run_in_threadpool(spool.write, piece)
            if size == 0:
                raise problems.invalid("the PDF is empty", "body")
            report = await call_service(
                request,
                who,
                "verification",
                "VerifyPdfStream",
                _chunks(spool, sender),
                timeout_s=120,
            )
        return json.loads(report.json) if report.json else {"summary_en": report.summary_en}

    return router
