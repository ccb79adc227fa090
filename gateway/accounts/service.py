"""Account use cases: login, refresh, logout, creating users and changing their permissions.

Every login (successful, failed or throttled), logout and permission change is written to the
audit trail in the same transaction as its effect.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta

from gateway.accounts import passwords, tokens
from gateway.accounts.domain import (
    AccountError,
    Principal,
    Role,
    SigningKeyView,
    check_password,
    check_signing_key,
    check_username,
)
from gateway.accounts.store import AccountStore, UserRecord
from gateway.config import GatewaySettings
from services.chassis import logs
from services.chassis.text import nfc
from services.chassis.timeutil import now


class LoginRefused(Exception):
    """Wrong user name or password, or a disabled account (deliberately not told apart)."""


class LoginThrottled(Exception):
    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"too many failed logins; retry in {retry_after_s} s")
        self.retry_after_s = retry_after_s


class RefreshRefused(Exception):
    """The refresh token is unknown, expired, revoked or was already used."""


class UserNotFound(Exception):
    pass


class UsernameTaken(Exception):
    pass


class ScopeDenied(Exception):
    """The caller may not manage this agency's accounts or grant these roles."""


class Unchanged(enum.Enum):
    """Marks an argument the caller did not give (as opposed to None, which clears)."""

    UNCHANGED = "unchanged"


UNCHANGED = Unchanged.UNCHANGED


@dataclass(frozen=True, slots=True)
class Session:
    access_token: str
    expires_in: int
    refresh_token: str
    principal: Principal


def principal_of(user: UserRecord) -> Principal:
    return Principal(
        subject=user.id,
        username=user.username,
        agency_code=user.agency_code,
        roles=user.roles,
        full_name=user.full_name,
    )


class AccountService:
    def __init__(
        self,
        store: AccountStore,
        settings: GatewaySettings,
        agency_is_registered: Callable[[str], bool],
        signing_keys: Callable[[], Iterable[SigningKeyView]] | None = None,
    ) -> None:
        """``signing_keys``: the signing service's ``ListKeys`` (needed only to bind keys)."""
        self.store = store
        self.settings = settings
        self.agency_is_registered = agency_is_registered
        self.signing_keys = signing_keys

    def checked_signing_key(self, key_id: str, agency_code: str) -> str:
        """The normalised key id, if the HSM holds it as a person's key of ``agency_code``."""
        if self.signing_keys is None:
            raise AccountError("signing_key_id", "the signing service is not configured here")
        return check_signing_key(key_id, agency_code, self.signing_keys())

    # -- sessions ---------------------------------------------------------------------------
    def login(self, username: str, password: str, client: str) -> Session:
        username = username.strip().lower()
        window = timedelta(seconds=self.settings.login_window_s)
        by_user, by_client = self.store.recent_failures(username, client, window)
        if (
            by_user >= self.settings.login_max_failures
            or by_client >= self.settings.login_max_failures_per_client
        ):
            with self.store.engine.begin() as conn:
                self.store.audit(
                    conn,
                    action="login.throttled",
                    actor=username,
                    subject=username,
                    client=client,
                    correlation_id=logs.correlation_id.get(),
                )
            raise LoginThrottled(self.settings.login_window_s)
        user = self.store.user_by_name(username)
        # Always run argon2 so a missing user costs the same time as a wrong password.
        ok = passwords.verify_password(user.password_hash if user else None, password)
        if not (ok and user is not None and user.active):
            with self.store.engine.begin() as conn:
                self.store.audit(
                    conn,
                    action="login.failed",
                    actor=username,
                    subject=username,
                    agency_code=user.agency_code if user else None,
                    client=client,
                    correlation_id=logs.correlation_id.get(),
                    detail={"reason": "disabled" if ok and user else "credentials"},
                )
            raise LoginRefused("wrong user name or password")
        if user.password_hash and passwords.needs_rehash(user.password_hash):
            self.store.set_password_hash(user.id, passwords.hash_password(password))
        with self.store.engine.begin() as conn:
            session = self._new_session(conn, user)
            self.store.audit(
                conn,
                action="login.succeeded",
                actor=username,
                subject=username,
                agency_code=user.agency_code,
                client=client,
                correlation_id=logs.correlation_id.get(),
            )
        return session

    def refresh(self, refresh_token: str, client: str) -> Session:
        with self.store.engine.begin() as conn:
            found = self.store.consume_refresh_token(conn, tokens.refresh_token_hash(refresh_token))
            if found is None:
                raise RefreshRefused("unknown refresh token")
            user_id, valid = found
            user = self.store.user_by_id(user_id)
            if not valid or user is None or not user.active:
                # Reuse of a rotated token: assume theft and end every session of the user.
                self.store.revoke_all_refresh_tokens(conn, user_id)
                self.store.audit(
                    conn,
                    action="refresh.refused",
                    actor=user_id,
                    subject=user_id,
                    agency_code=user.agency_code if user else None,
                    client=client,
                    correlation_id=logs.correlation_id.get(),
                )
                conn.commit()
                raise RefreshRefused("the refresh token was revoked, expired or already used")
            return self._new_session(conn, user)

    def logout(self, principal: Principal, client: str) -> None:
        with self.store.engine.begin() as conn:
            self.store.revoke_all_refresh_tokens(conn, principal.subject)
            self.store.audit(
                conn,
                action="logout",
                actor=principal.username,
                subject=principal.username,
                agency_code=principal.agency_code,
                client=client,
                correlation_id=logs.correlation_id.get(),
            )

    def principal_for(self, user_id: str) -> Principal | None:
        user = self.store.user_by_id(user_id)
        return principal_of(user) if user and user.active else None

    def _new_session(self, conn, user: UserRecord) -> Session:  # type: ignore[no-untyped-def]
        principal = principal_of(user)
        access, expires_in = tokens.issue_access_token(
            principal, self.settings.token_secret, self.settings.access_ttl_s
        )
        refresh, refresh_hash = tokens.new_refresh_token()
        self.store.add_refresh_token(
            conn, refresh_hash, user.id, now() + timedelta(seconds=self.settings.refresh_ttl_s)
        )
        return Session(access, expires_in, refresh, principal)

    # -- administration ---------------------------------------------------------------------
    def create_user(
        self,
        actor: Principal | None,
        *,
        username: str,
        password: str | None,
        full_name: str,
        agency_code: str,
        roles: frozenset[Role],
        client: str = "cli",
        signing_key_id: str | None = None,
    ) -> UserRecord:
        """``actor`` None: the operator's command line (seed-users, users add)."""
        username = check_username(username.strip().lower())
        if password is not None:
            check_password(password, username)
        if actor is not None and not actor.may_grant(roles, agency_code):
            raise ScopeDenied("you may not create accounts with these roles in this agency")
        if not self.agency_is_registered(agency_code):
            raise AccountError("agency_code", f"{agency_code!r} is not a registered agency code")
        if signing_key_id:
            signing_key_id = self.checked_signing_key(signing_key_id, agency_code)
        password_hash = passwords.hash_password(password) if password else None
        with self.store.engine.begin() as conn:
            user = self.store.insert_user(
                conn,
                username=username,
                full_name=nfc(full_name),
                agency_code=agency_code,
                roles=roles,
                password_hash=password_hash,
                signing_key_id=signing_key_id or None,
            )
            if user is None:
                raise UsernameTaken(f"user name {username!r} is taken")
            self.store.audit(
                conn,
                action="user.created",
                actor=actor.username if actor else "cli",
                subject=username,
                agency_code=agency_code,
                client=client,
                correlation_id=logs.correlation_id.get(),
                detail={
                    "roles": sorted(r.value for r in roles),
                    "signing_key_id": signing_key_id or None,
                },
            )
        return user

    def update_user(
        self,
        actor: Principal,
        user_id: str,
        *,
        roles: frozenset[Role] | None,
        active: bool | None,
        client: str,
        signing_key_id: str | Unchanged | None = UNCHANGED,
    ) -> UserRecord:
        """Change roles, the active flag and/or the signing key (None or "" unbinds it)."""
        current = self.store.user_by_id(user_id)
        # Another agency's account is reported as missing, not as forbidden: no existence leak.
        if current is None or not actor.may_see_agency(current.agency_code):
            raise UserNotFound(f"no user {user_id}")
        if not actor.may_grant(roles or current.roles, current.agency_code) or not (
            actor.may_grant(current.roles, current.agency_code)
        ):
            raise ScopeDenied("you may not change this account's permissions")
        if actor.subject == user_id and (
            active is False
            or (
                roles is not None
                and not (roles >= {Role.AGENCY_ADMIN} or roles >= {Role.PROVINCE_ADMIN})
            )
        ):
            raise AccountError("roles", "you may not remove your own administration rights")
        new_key: str | Unchanged | None = signing_key_id
        if isinstance(signing_key_id, str) and signing_key_id:
            new_key = self.checked_signing_key(signing_key_id, current.agency_code)
        elif signing_key_id == "":
            new_key = None
        with self.store.engine.begin() as conn:
            updated = self.store.update_user(conn, user_id, roles=roles, active=active)
            if updated is None:
                raise UserNotFound(f"no user {user_id}")
            if not isinstance(new_key, Unchanged):
                updated = self.store.set_signing_key(conn, user_id, new_key) or updated
            if active is False:
                self.store.revoke_all_refresh_tokens(conn, user_id)
            detail: dict[str, object] = {
                "roles_before": sorted(r.value for r in current.roles),
                "roles_after": sorted(r.value for r in updated.roles),
                "active_before": current.active,
                "active_after": updated.active,
            }
            if not isinstance(new_key, Unchanged):
                detail["signing_key_before"] = current.signing_key_id
                detail["signing_key_after"] = updated.signing_key_id
            self.store.audit(
                conn,
                action="user.permissions_changed",
                actor=actor.username,
                subject=current.username,
                agency_code=current.agency_code,
                client=client,
                correlation_id=logs.correlation_id.get(),
                detail=detail,
            )
        return updated

    def bind_signing_key(
        self,
        actor: Principal | None,
        username: str,
        signing_key_id: str | None,
        client: str = "cli",
    ) -> UserRecord:
        """Bind a person's HSM key to the account ``username`` (None unbinds), checked against
        the signing service and audited. ``actor`` None: the operator or the demo seeder."""
        user = self.store.user_by_name(username.strip().lower())
        if user is None:
            raise UserNotFound(f"no user {username!r}")
        if actor is not None:
            return self.update_user(
                actor,
                user.id,
                roles=None,
                active=None,
                client=client,
                signing_key_id=signing_key_id or "",
            )
        key = self.checked_signing_key(signing_key_id, user.agency_code) if signing_key_id else None
        with self.store.engine.begin() as conn:
            updated = self.store.set_signing_key(conn, user.id, key)
            if updated is None:
                raise UserNotFound(f"no user {username!r}")
            self.store.audit(
                conn,
                action="user.permissions_changed",
                actor="cli",
                subject=user.username,
                agency_code=user.agency_code,
                client=client,
                correlation_id=logs.correlation_id.get(),
                detail={"signing_key_before": user.signing_key_id, "signing_key_after": key},
            )
        return updated
