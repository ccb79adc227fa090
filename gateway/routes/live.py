"""/v1/events: the caller's Server-Sent Events stream of what concerns their agency."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from gateway import problems
from gateway.deps import CurrentPrincipal, gateway
from gateway.live import LIVE_TOPICS

RETRY_MS = 3000


def live_router() -> APIRouter:
    router = APIRouter(tags=["live"])

    @router.get(
        "/v1/events",
        response_class=StreamingResponse,
        responses={200: {"content": {"text/event-stream": {}}}},
    )
    async def events(who: CurrentPrincipal, request: Request) -> StreamingResponse:
        """Events of the caller's agency (all agencies for a province admin) as they happen:
        agency directory changes, document registrations (new arrivals), status changes and
        recalls. Each message: ``id`` (CloudEvents id), ``event`` (its type), ``data`` (JSON).
        """
        parts = gateway(request)
        if not parts.settings.live_enabled:
            raise problems.Problem(
                503, "Live updates off", "LT_GATEWAY_LIVE=0 on this gateway", "unavailable"
            )
        subscription = parts.hub.subscribe(who)
        heartbeat = parts.settings.live_heartbeat_s

        async def stream() -> AsyncIterator[bytes]:
            try:
                topics = ",".join(LIVE_TOPICS)
                yield f"retry: {RETRY_MS}\n: following {topics}\n\n".encode()
                while True:
                    try:
                        event = await asyncio.wait_for(subscription.queue.get(), heartbeat)
                    except TimeoutError:
                        if await request.is_disconnected():
                            return
                        yield b": keep-alive\n\n"
                        continue
                    if event is None:  # the client fell too far behind
                        return
                    yield event.sse()
            finally:
                parts.hub.unsubscribe(subscription)

        return StreamingResponse(
            stream(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    return router
