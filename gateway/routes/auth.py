"""/v1/auth (local login, refresh, logout), /v1/me, /v1/users and /v1/audit."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from gateway import problems
from gateway.accounts.domain import ROLE_LABELS_VI, AccountError, Principal, Role
from gateway.accounts.service import (
    UNCHANGED,
    LoginRefused,
    LoginThrottled,
    RefreshRefused,
    ScopeDenied,
    Session,
    UsernameTaken,
    UserNotFound,
)
from gateway.accounts.store import UserRecord
from gateway.deps import CurrentPrincipal, client_address, gateway, require, scoped_agency
from gateway.routes.text import PRINTABLE, TOKEN, USERNAME

AGENCY_CODE_PATTERN = r"^\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}$"
SIGNING_KEY_ID = r"^([0-9a-fA-F]{2}){1,64}$"


class LoginRequest(BaseModel):
    username: str = Field(pattern=USERNAME)
    password: str = Field(min_length=1, max_length=1024)


class RefreshRequest(BaseModel):
    refresh_token: str = Field(min_length=1, max_length=256, pattern=TOKEN)


class UserOut(BaseModel):
    id: str
    username: str
    full_name: str
    agency_code: str
    roles: list[Role]
    role_labels: list[str]
    active: bool = True
    signing_key_id: str | None = Field(
        default=None, description="Hex CKA_ID of the person's signing key on the HSM, if bound"
    )


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "Bearer"
    expires_in: int
    refresh_token: str
    user: UserOut


class NewUser(BaseModel):
    username: str = Field(min_length=3, max_length=64, pattern=USERNAME)
    password: str | None = Field(
        default=None,
        min_length=1,
        max_length=1024,
        description="Omit for accounts that only sign in through the OIDC provider.",
    )
    full_name: str = Field(default="", max_length=255, pattern=PRINTABLE)
    agency_code: str = Field(pattern=AGENCY_CODE_PATTERN)
    roles: list[Role] = Field(min_length=1)
    signing_key_id: str | None = Field(
        default=None,
        pattern=SIGNING_KEY_ID,
        description="Hex CKA_ID of the person's key (a person certificate of the same agency)",
    )


class UserChange(BaseModel):
    roles: list[Role] | None = Field(default=None, min_length=1)
    active: bool | None = None
    signing_key_id: str | None = Field(
        default=None,
        pattern=f"({SIGNING_KEY_ID})|^$",
        description='Bind a person\'s key (hex CKA_ID); null or "" unbinds; omit to keep',
    )


def user_out(user: UserRecord | Principal, active: bool = True) -> UserOut:
    roles = sorted(user.roles)
    return UserOut(
        id=user.id if isinstance(user, UserRecord) else user.subject,
        username=user.username,
        full_name=user.full_name,
        agency_code=user.agency_code,
        roles=roles,
        role_labels=[ROLE_LABELS_VI[r] for r in roles],
        active=user.active if isinstance(user, UserRecord) else active,
        signing_key_id=user.signing_key_id if isinstance(user, UserRecord) else None,
    )


def _tokens(session: Session) -> TokenResponse:
    return TokenResponse(
        access_token=session.access_token,
        expires_in=session.expires_in,
        refresh_token=session.refresh_token,
        user=user_out(session.principal),
    )


def _accounts(request: Request):  # type: ignore[no-untyped-def]
    accounts = gateway(request).accounts
    if accounts is None:
        raise problems.Problem(
            409,
            "Local accounts disabled",
            "accounts are managed by the OIDC provider",
            "failed-precondition",
        )
    return accounts


def auth_router() -> APIRouter:
    """Login, refresh and logout exist only with local accounts (LT_GATEWAY_AUTH_MODE=local)."""
    router = APIRouter(prefix="/v1/auth", tags=["auth"])

    @router.post("/login", response_model=TokenResponse)
    async def login(body: LoginRequest, request: Request) -> TokenResponse:
        try:
            session = await run_in_threadpool(
                _accounts(request).login, body.username, body.password, client_address(request)
            )
        except LoginThrottled as exc:
            raise problems.too_many(str(exc), exc.retry_after_s) from exc
        except LoginRefused as exc:
            raise problems.unauthenticated(str(exc)) from exc
        return _tokens(session)

    @router.post("/refresh", response_model=TokenResponse)
    async def refresh(body: RefreshRequest, request: Request) -> TokenResponse:
        try:
            session = await run_in_threadpool(
                _accounts(request).refresh, body.refresh_token, client_address(request)
            )
        except RefreshRefused as exc:
            raise problems.unauthenticated(str(exc)) from exc
        return _tokens(session)

    @router.post("/logout", status_code=204)
    async def logout(who: CurrentPrincipal, request: Request) -> None:
        await run_in_threadpool(_accounts(request).logout, who, client_address(request))

    return router


def users_router() -> APIRouter:
    router = APIRouter(tags=["accounts"])
    admin = Depends(require(Role.AGENCY_ADMIN))

    @router.get("/v1/me", response_model=UserOut)
    async def me(who: CurrentPrincipal) -> UserOut:
        return user_out(who)

    @router.get("/v1/users", response_model=list[UserOut], dependencies=[admin])
    async def list_users(
        who: CurrentPrincipal,
        request: Request,
        agency_code: Annotated[str | None, Query(pattern=AGENCY_CODE_PATTERN)] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
        offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    ) -> list[UserOut]:
        code = scoped_agency(who, agency_code)
        users = await run_in_threadpool(_accounts(request).store.list_users, code, limit, offset)
        return [user_out(u) for u in users]

    @router.post("/v1/users", response_model=UserOut, status_code=201, dependencies=[admin])
    async def create_user(body: NewUser, who: CurrentPrincipal, request: Request) -> UserOut:
        accounts = _accounts(request)
        try:
            user = await run_in_threadpool(
                lambda: accounts.create_user(
                    who,
                    username=body.username,
                    password=body.password,
                    full_name=body.full_name,
                    agency_code=body.agency_code,
                    roles=frozenset(body.roles),
                    client=client_address(request),
                    signing_key_id=body.signing_key_id,
                )
            )
        except AccountError as exc:
            raise problems.invalid(exc.reason, exc.field) from exc
        except ScopeDenied as exc:
            raise problems.forbidden(str(exc), "agency_code") from exc
        except UsernameTaken as exc:
            raise problems.conflict(str(exc), "username") from exc
        return user_out(user)

    @router.get("/v1/users/{user_id}", response_model=UserOut, dependencies=[admin])
    async def get_user(user_id: str, who: CurrentPrincipal, request: Request) -> UserOut:
        user = await run_in_threadpool(_accounts(request).store.user_by_id, user_id)
        if user is None or not who.may_see_agency(user.agency_code):
            raise problems.not_found(f"no user {user_id}", "user_id")
        return user_out(user)

    @router.patch("/v1/users/{user_id}", response_model=UserOut, dependencies=[admin])
    async def change_user(
        user_id: str, body: UserChange, who: CurrentPrincipal, request: Request
    ) -> UserOut:
        accounts = _accounts(request)
        try:
            user = await run_in_threadpool(
                lambda: accounts.update_user(
                    who,
                    user_id,
                    roles=frozenset(body.roles) if body.roles is not None else None,
                    active=body.active,
                    client=client_address(request),
                    signing_key_id=(
                        body.signing_key_id
                        if "signing_key_id" in body.model_fields_set
                        else UNCHANGED
                    ),
                )
            )
        except UserNotFound as exc:
            raise problems.not_found(str(exc), "user_id") from exc
        except ScopeDenied as exc:
            raise problems.forbidden(str(exc), "roles") from exc
        except AccountError as exc:
            raise problems.invalid(exc.reason, exc.field) from exc
        return user_out(user)

    @router.get("/v1/audit", dependencies=[admin])
    async def audit(
        who: CurrentPrincipal,
        request: Request,
        agency_code: Annotated[str | None, Query(pattern=AGENCY_CODE_PATTERN)] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> list[dict[str, Any]]:
        """Logins, logouts and permission changes of an agency, newest first."""
        code = scoped_agency(who, agency_code)
        rows = await run_in_threadpool(_accounts(request).store.audit_entries, code, limit)
        return [{**r, "at": r["at"].isoformat()} for r in rows]

    return router
