"""What a route handler gets injected: the gateway's parts and the authenticated principal."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from gateway import problems
from gateway.accounts.domain import Principal, Role
from gateway.accounts.service import AccountService
from gateway.accounts.tokens import OidcValidator, TokenError, read_access_token
from gateway.clients import ServiceClients
from gateway.config import GatewaySettings
from gateway.live import LiveHub

bearer = HTTPBearer(auto_error=False, description="An access token from /v1/auth/login")


@dataclass
class Gateway:
    """The parts of one gateway process, kept on ``app.state.gateway``."""

    settings: GatewaySettings
    clients: ServiceClients
    accounts: AccountService | None  # None in OIDC mode
    oidc: OidcValidator | None
    hub: LiveHub


def gateway(request: Request) -> Gateway:
    return request.app.state.gateway


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise problems.unauthenticated("an Authorization: Bearer <access token> header is required")
    parts = gateway(request)
    try:
        if parts.oidc is not None:
            # The JWKS may have to be fetched: network I/O, off the event loop.
            return await run_in_threadpool(parts.oidc.read, credentials.credentials)
        return read_access_token(credentials.credentials, parts.settings.token_secret)
    except TokenError as exc:
        raise problems.unauthenticated(str(exc)) from exc


CurrentPrincipal = Annotated[Principal, Depends(principal)]


def require(*roles: Role):  # type: ignore[no-untyped-def]
    """A dependency admitting principals with any of ``roles`` (province admins always)."""

    async def check(who: CurrentPrincipal) -> Principal:
        if not who.has_any(*roles):
            names = ", ".join(r.value for r in roles)
            raise problems.forbidden(f"this action needs one of the roles: {names}")
        return who

    return check


def scoped_agency(who: Principal, agency_code: str | None, field: str = "agency_code") -> str:
    """The agency a listing is about: the caller's own by default; another one only for a
    province admin (403 otherwise — the caller named it, so nothing leaks by saying no)."""
    code = agency_code or who.agency_code
    if not who.may_see_agency(code):
        raise problems.forbidden("you may only see your own agency's data", field)
    return code


async def call_service(
    request: Request,
    who: Principal | None,
    service: str,
    method: str,
    message: Any,
    *,
    timeout_s: float | None = None,
) -> Any:
    """A unary gRPC call for ``who`` (carried to the service as ``lt-caller``), off the event
    loop; a failure is raised as the matching problem."""
    return await run_in_threadpool(
        partial(
            gateway(request).clients.call, service, method, message, timeout_s=timeout_s, who=who
        )
    )
