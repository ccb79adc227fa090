"""Pure ASGI middleware: correlation ids and access logs, and request body size limits.

Pure ASGI (not Starlette's BaseHTTPMiddleware) so streamed request and response bodies — file
uploads, the Server-Sent Events stream — pass through without being buffered, and so the
correlation id set here is the one the endpoint (and the gRPC client interceptor) sees.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from gateway.problems import PROBLEM_MEDIA_TYPE, too_large
from services.chassis import logs

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

log = logging.getLogger("lienthong.gateway.http")

CORRELATION_HEADER = b"x-correlation-id"
# A client-chosen id is accepted only if it cannot inject anything into logs or headers.
_ACCEPTABLE_CID = re.compile(rb"^[A-Za-z0-9._-]{8,128}$")


class CorrelationMiddleware:
    """Takes the caller's ``X-Correlation-Id`` (or makes one), echoes it, logs one JSON line per
    request with method, path, status and duration."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers") or []).get(CORRELATION_HEADER, b"")
        cid = given.decode() if _ACCEPTABLE_CID.fullmatch(given) else logs.new_correlation_id()
        token = logs.correlation_id.set(cid)
        started = time.perf_counter()
        status = 500

        async def send_with_cid(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (CORRELATION_HEADER, cid.encode()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_cid)
        finally:
            log.info(
                "http",
                extra={
                    "method": scope.get("method"),
                    "path": scope.get("path"),
                    "status": status,
                    "ms": round((time.perf_counter() - started) * 1e3, 2),
                },
            )
            logs.correlation_id.reset(token)


class BodyLimitMiddleware:
    """413 for bodies over the limit: at once from Content-Length, else while streaming.

    Routes under ``upload_prefixes`` or exactly at one of ``upload_paths`` get
    ``upload_limit`` (files); everything else ``json_limit``. The body is counted as it
    arrives, never read whole here.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        json_limit: int,
        upload_limit: int,
        upload_prefixes: tuple[str, ...] = (),
        upload_paths: frozenset[str] = frozenset(),
    ) -> None:
        self.app = app
        self.json_limit = json_limit
        self.upload_limit = upload_limit
        self.upload_prefixes = upload_prefixes
        self.upload_paths = upload_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        limit = (
            self.upload_limit
            if path in self.upload_paths or any(path.startswith(p) for p in self.upload_prefixes)
            else self.json_limit
        )
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None:
            try:
                declared_size = int(declared)
            except ValueError:
                declared_size = -1
            if declared_size > limit:
                await _send_413(scope, send, limit)
                return
        seen = 0
        started = False
        refused = False

        async def counting_receive() -> Message:
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    # Answer now and tell the app the client went away: frameworks turn an
                    # exception raised here into their own 400, which would hide the reason.
                    refused = True
                    if not started:
                        await _send_413(scope, send, limit)
                    return {"type": "http.disconnect"}
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if refused:
                return  # the 413 went out; whatever the app says after is dropped
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await self.app(scope, counting_receive, tracking_send)


async def _send_413(scope: Scope, send: Send, limit: int) -> None:
    problem = too_large("the request body is too large", limit)
    body = json.dumps(problem.body(scope.get("path", "")), ensure_ascii=False).encode()
    cid = logs.correlation_id.get()
    if cid:
        problem_body = json.loads(body)
        problem_body["correlation_id"] = cid
        body = json.dumps(problem_body, ensure_ascii=False).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
