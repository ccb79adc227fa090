"""The ASGI application: routes, error rendering, middleware, start-up and shutdown."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from gateway import problems
from gateway.accounts.service import AccountService
from gateway.accounts.store import AccountStore
from gateway.accounts.tokens import OidcValidator
from gateway.clients import ServiceClients
from gateway.config import GatewaySettings
from gateway.deps import Gateway
from gateway.live import LIVE_TOPICS, KafkaFeed, LiveHub
from gateway.middleware import BodyLimitMiddleware, CorrelationMiddleware
from gateway.routes.agencies import agencies_router
from gateway.routes.auth import auth_router, users_router
from gateway.routes.distribution import UPLOAD_PREFIX as DISPATCH_PREFIX
from gateway.routes.distribution import distribution_router
from gateway.routes.documents import documents_router
from gateway.routes.issuing import UPLOAD_PATH as DOCUMENT_UPLOAD_PATH
from gateway.routes.issuing import issuing_router
from gateway.routes.live import live_router
from gateway.routes.verification import UPLOAD_PREFIX, verification_router
from services.chassis import logs

log = logging.getLogger("lienthong.gateway")

DESCRIPTION = """\
HTTP/JSON API of LiênThông: agencies, documents, verification, accounts and live updates.

Authenticate with `POST /v1/auth/login` (or a token of the configured OIDC provider) and send
`Authorization: Bearer <access_token>`. Errors are RFC 9457 `application/problem+json` naming
the offending `field` and the `correlation_id` to quote to support.
"""


def _problem_response(request: Request, problem: problems.Problem) -> JSONResponse:
    if problem.correlation_id is None:
        problem.correlation_id = logs.correlation_id.get()
    return JSONResponse(
        problem.body(request.url.path),
        status_code=problem.status,
        media_type=problems.PROBLEM_MEDIA_TYPE,
        headers=problem.headers,
    )


def _validation_field(location: tuple[Any, ...]) -> str:
    parts = [str(p) for p in location if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or str(location[0] if location else "body")


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(problems.Problem)
    async def on_problem(request: Request, exc: problems.Problem) -> JSONResponse:
        return _problem_response(request, exc)

    @app.exception_handler(RequestValidationError)
    async def on_validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        first = errors[0] if errors else {"loc": ("body",), "msg": "invalid request"}
        field = _validation_field(tuple(first.get("loc", ())))
        status = 400 if first.get("type") in {"json_invalid", "model_attributes_type"} else 422
        problem = problems.Problem(
            status,
            "Invalid argument" if status == 422 else "Bad request",
            f"{field}: {first.get('msg')}",
            "invalid-argument" if status == 422 else "bad-request",
            field,
        )
        response = _problem_response(request, problem)
        return response

    @app.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        slug = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "http-error")
        problem = problems.Problem(
            exc.status_code,
            str(exc.detail),
            f"{request.method} {request.url.path}: {exc.detail}",
            slug,
            headers=dict(exc.headers or {}),
        )
        return _problem_response(request, problem)

    @app.exception_handler(Exception)
    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", extra={"path": request.url.path})
        cid = logs.correlation_id.get()
        problem = problems.Problem(
            500, "Internal error", f"internal error; quote correlation id {cid}", "internal"
        )
        return _problem_response(request, problem)


def create_app(
    settings: GatewaySettings | None = None,
    *,
    clients: ServiceClients | None = None,
    engine: Any = None,
    start_feed: bool | None = None,
) -> FastAPI:
    """The app. ``clients``/``engine`` may be given (tests); otherwise built from the env."""
    settings = settings or GatewaySettings.from_env()
    clients = clients or ServiceClients(settings.rpc_timeout_s)
    hub = LiveHub()
    feed_wanted = settings.live_enabled if start_feed is None else start_feed

    accounts = None
    oidc = None
    if settings.auth_mode == "oidc":
        assert settings.oidc is not None
        oidc = OidcValidator(settings.oidc)
    else:
        if engine is None:
            from services.chassis.db import make_engine

            engine = make_engine()
        accounts = AccountService(
            AccountStore(engine), settings, clients.agency_is_registered, clients.signing_keys
        )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        feed = None
        if feed_wanted:
            feed = KafkaFeed(hub, list(LIVE_TOPICS))
            feed.start()
        app.state.feed = feed
        try:
            yield
        finally:
            if feed is not None:
                feed.stop()
            clients.close()

    app = FastAPI(
        title="LiênThông gateway",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.gateway = Gateway(settings, clients, accounts, oidc, hub)
    app.state.feed = None
    install_error_handlers(app)

    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, Any]:
        """Liveness: the process answers. Also says whether the live feed is connected."""
        feed = app.state.feed
        return {
            "status": "ok",
            "auth_mode": settings.auth_mode,
            "live_feed": bool(feed and feed.ready.is_set()),
            "live_subscribers": hub.size,
        }

    if settings.auth_mode == "local":
        app.include_router(auth_router())
    app.include_router(users_router())
    app.include_router(agencies_router())
    app.include_router(documents_router())
    app.include_router(issuing_router())
    app.include_router(distribution_router())
    app.include_router(verification_router())
    app.include_router(live_router())

    # Outermost last: the correlation id exists before the size check may answer 413.
    app.add_middleware(
        BodyLimitMiddleware,
        json_limit=settings.max_body_bytes,
        upload_limit=settings.max_upload_bytes,
        upload_prefixes=(UPLOAD_PREFIX, DISPATCH_PREFIX),
        upload_paths=frozenset({DOCUMENT_UPLOAD_PATH}),
    )
    app.add_middleware(CorrelationMiddleware)
    return app
