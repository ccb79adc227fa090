"""PostgreSQL adapter of the accounts: users, refresh tokens, the audit trail (schema gateway)."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from gateway.accounts.domain import Role


@dataclass(frozen=True, slots=True)
class UserRecord:
    id: str
    username: str
    full_name: str
    agency_code: str
    roles: frozenset[Role]
    password_hash: str | None
    active: bool
    signing_key_id: str | None = None  # hex CKA_ID of the person's key on the HSM token


_USER_COLUMNS = "id, username, full_name, agency_code, roles, password_hash, active, signing_key_id"


def _user(row: Any) -> UserRecord:
    return UserRecord(
        id=str(row.id),
        username=row.username,
        full_name=row.full_name,
        agency_code=row.agency_code,
        roles=frozenset(Role(r) for r in row.roles if r in Role._value2member_map_),
        password_hash=row.password_hash,
        active=row.active,
        signing_key_id=row.signing_key_id,
    )


class AccountStore:
    """Plain SQL over one engine; each method is one transaction unless given a connection."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- users ------------------------------------------------------------------------------
    def user_by_name(self, username: str) -> UserRecord | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.text(f"SELECT {_USER_COLUMNS} FROM gateway.users WHERE username = :u"),
                {"u": username},
            ).first()
        return _user(row) if row else None

    def user_by_id(self, user_id: str) -> UserRecord | None:
        try:
            uuid.UUID(user_id)
        except ValueError:
            return None
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.text(f"SELECT {_USER_COLUMNS} FROM gateway.users WHERE id = :i"), {"i": user_id}
            ).first()
        return _user(row) if row else None

    def list_users(self, agency_code: str | None, limit: int, offset: int) -> list[UserRecord]:
        where = "WHERE agency_code = :a" if agency_code else ""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    f"SELECT {_USER_COLUMNS} FROM gateway.users {where} "
                    "ORDER BY agency_code, username LIMIT :l OFFSET :o"
                ),
                {"a": agency_code, "l": limit, "o": offset},
            ).all()
        return [_user(r) for r in rows]

    def insert_user(
        self,
        conn: Connection,
        *,
        username: str,
        full_name: str,
        agency_code: str,
        roles: frozenset[Role],
        password_hash: str | None,
        signing_key_id: str | None = None,
    ) -> UserRecord | None:
        """The new user, or None when the user name is taken."""
        row = conn.execute(
            sa.text(
                "INSERT INTO gateway.users (id, username, full_name, agency_code, roles, "
                "password_hash, signing_key_id) VALUES (:i, :u, :f, :a, :r, :p, :k) "
                f"ON CONFLICT (username) DO NOTHING RETURNING {_USER_COLUMNS}"
            ),
            {
                "i": str(uuid.uuid4()),
                "u": username,
                "f": full_name,
                "a": agency_code,
                "r": sorted(r.value for r in roles),
                "p": password_hash,
                "k": signing_key_id,
            },
        ).first()
        return _user(row) if row else None

    def set_signing_key(
        self, conn: Connection, user_id: str, signing_key_id: str | None
    ) -> UserRecord | None:
        """Bind (or with None unbind) the user's signing key; the user after, or None."""
        row = conn.execute(
            sa.text(
                "UPDATE gateway.users SET signing_key_id = :k, updated_at = now() "
                f"WHERE id = :i RETURNING {_USER_COLUMNS}"
            ),
            {"i": user_id, "k": signing_key_id},
        ).first()
        return _user(row) if row else None

    def update_user(
        self, conn: Connection, user_id: str, *, roles: frozenset[Role] | None, active: bool | None
    ) -> UserRecord | None:
        row = conn.execute(
            sa.text(
                "UPDATE gateway.users SET roles = COALESCE(:r, roles), "
                "active = COALESCE(:act, active), updated_at = now() "
                f"WHERE id = :i RETURNING {_USER_COLUMNS}"
            ),
            {
                "i": user_id,
                "r": sorted(r.value for r in roles) if roles is not None else None,
                "act": active,
            },
        ).first()
        return _user(row) if row else None

    def set_password_hash(self, user_id: str, password_hash: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                sa.text("UPDATE gateway.users SET password_hash = :p WHERE id = :i"),
                {"p": password_hash, "i": user_id},
            )

    # -- refresh tokens ---------------------------------------------------------------------
    def add_refresh_token(
        self, conn: Connection, token_hash: str, user_id: str, expires_at: datetime
    ) -> None:
        conn.execute(
            sa.text(
                "INSERT INTO gateway.refresh_tokens (token_hash, user_id, expires_at) "
                "VALUES (:h, :u, :e)"
            ),
            {"h": token_hash, "u": user_id, "e": expires_at},
        )

    def consume_refresh_token(self, conn: Connection, token_hash: str) -> tuple[str, bool] | None:
        """Revoke the token; (user id, whether it was still valid) or None if unknown.

        A token presented twice was stolen or replayed: the caller then revokes every token
        of that user (RFC 6819 §5.2.2.3 refresh token rotation).
        """
        row = conn.execute(
            sa.text(
                "UPDATE gateway.refresh_tokens t SET revoked_at = COALESCE(t.revoked_at, now()) "
                "FROM gateway.refresh_tokens old WHERE t.token_hash = :h "
                "AND old.token_hash = t.token_hash "
                "RETURNING t.user_id, old.revoked_at IS NULL AND old.expires_at > now() AS ok"
            ),
            {"h": token_hash},
        ).first()
        return (str(row.user_id), bool(row.ok)) if row else None

    def revoke_all_refresh_tokens(self, conn: Connection, user_id: str) -> None:
        conn.execute(
            sa.text(
                "UPDATE gateway.refresh_tokens SET revoked_at = now() "
                "WHERE user_id = :u AND revoked_at IS NULL"
            ),
            {"u": user_id},
        )

    # -- audit ------------------------------------------------------------------------------
    def audit(
        self,
        conn: Connection,
        *,
        action: str,
        actor: str,
        subject: str,
        agency_code: str | None = None,
        client: str | None = None,
        correlation_id: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        conn.execute(
            sa.text(
                "INSERT INTO gateway.audit (action, actor, subject, agency_code, client, "
                "correlation_id, detail) VALUES (:a, :ac, :s, :ag, :c, :cid, CAST(:d AS jsonb))"
            ),
            {
                "a": action,
                "ac": actor,
                "s": subject,
                "ag": agency_code,
                "c": client,
                "cid": correlation_id,
                "d": json.dumps(detail or {}, ensure_ascii=False),
            },
        )

    def recent_failures(self, username: str, client: str, window: timedelta) -> tuple[int, int]:
        """Failed logins in the window: (for this user name, from this client address)."""
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.text(
                    "SELECT "
                    "(SELECT count(*) FROM gateway.audit WHERE action = 'login.failed' "
                    " AND subject = :u AND at > now() - :w) AS by_user, "
                    "(SELECT count(*) FROM gateway.audit WHERE action = 'login.failed' "
                    " AND client = :c AND at > now() - :w) AS by_client"
                ),
                {"u": username, "c": client, "w": window},
            ).one()
        return int(row.by_user), int(row.by_client)

    def audit_entries(self, agency_code: str | None, limit: int) -> list[dict[str, Any]]:
        where = "WHERE agency_code = :a" if agency_code else ""
        with self.engine.connect() as conn:
            rows = (
                conn.execute(
                    sa.text(
                        "SELECT seq, at, action, actor, subject, agency_code, client, "
                        f"correlation_id, detail FROM gateway.audit {where} "
                        "ORDER BY seq DESC LIMIT :l"
                    ),
                    {"a": agency_code, "l": limit},
                )
                .mappings()
                .all()
            )
        return [dict(r) for r in rows]
