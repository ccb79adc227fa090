"""Access tokens: short-lived JWTs the gateway signs (local mode) or an OIDC provider signs.

Local access tokens are HS256 JWTs (RFC 7519) with the user's agency and roles, valid for
``LT_GATEWAY_ACCESS_TTL_S``; refresh tokens are opaque random strings kept hashed in the
database and rotated at each use (see :mod:`gateway.accounts.store`). In OIDC mode the gateway
issues nothing: it validates the provider's RS256/ES256 tokens against the provider's JWKS.
"""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from urllib.request import url2pathname

import jwt

from gateway.accounts.domain import Principal, Role
from gateway.config import OidcSettings

LOCAL_ISSUER = "lienthong-gateway"
LOCAL_AUDIENCE = "lienthong-api"
_LEEWAY_S = 5


class TokenError(Exception):
    """A token is missing, malformed, expired or not ours; the reason is safe to show."""


def issue_access_token(principal: Principal, key: bytes, ttl_s: int) -> tuple[str, int]:
    """(token, expires_in seconds)."""
    now = int(time.time())
    claims = {
        "iss": LOCAL_ISSUER,
        "aud": LOCAL_AUDIENCE,
        "sub": principal.subject,
        "preferred_username": principal.username,
        "name": principal.full_name,
        "agency_code": principal.agency_code,
        "roles": sorted(r.value for r in principal.roles),
        "iat": now,
        "exp": now + ttl_s,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, key, algorithm="HS256"), ttl_s


def read_access_token(token: str, key: bytes) -> Principal:
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=["HS256"],
            audience=LOCAL_AUDIENCE,
            issuer=LOCAL_ISSUER,
            leeway=_LEEWAY_S,
            options={"require": ["exp", "iat", "sub", "iss", "aud"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise TokenError("the access token has expired; refresh it") from exc
    except jwt.PyJWTError as exc:
        raise TokenError(f"the access token is not valid ({exc})") from exc
    return _principal(claims, "agency_code", "roles")


def new_refresh_token() -> tuple[str, str]:
    """(the token given to the client, its SHA-256 kept in the database)."""
    token = "rt_" + secrets.token_urlsafe(32)
    return token, refresh_token_hash(token)


def refresh_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class OidcValidator:
    """Validates an OIDC provider's access/ID tokens against its JWKS (cached, refetched when a
    token names an unknown key id, so key rotation at the provider needs no restart)."""

    def __init__(self, settings: OidcSettings) -> None:
        self.settings = settings
        self._file = (
            Path(url2pathname(urlparse(settings.jwks_url).path))
            if settings.jwks_url.startswith("file:")
            else None
        )
        self._jwks = (
            None
            if self._file
            else jwt.PyJWKClient(settings.jwks_url, cache_keys=True, lifespan=3600)
        )

    def _signing_key(self, token: str) -> Any:
        if self._jwks is not None:
            return self._jwks.get_signing_key_from_jwt(token).key
        # A JWKS file (air-gapped deployments) is re-read each time: it is small and local.
        assert self._file is not None
        kid = jwt.get_unverified_header(token).get("kid")
        keys = jwt.PyJWKSet.from_json(self._file.read_text(encoding="utf-8"))
        for key in keys.keys:
            if kid is None or key.key_id == kid:
                return key.key
        raise jwt.PyJWKClientError(f"no key {kid!r} in {self._file}")

    def read(self, token: str) -> Principal:
        try:
            signing_key = self._signing_key(token)
            claims = jwt.decode(
                token,
                signing_key,
                algorithms=["RS256", "ES256", "PS256", "EdDSA"],
                audience=self.settings.audience,
                issuer=self.settings.issuer,
                leeway=_LEEWAY_S,
                options={"require": ["exp", "sub", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise TokenError("the token has expired") from exc
        except jwt.PyJWTError as exc:
            raise TokenError(f"the token is not valid ({exc})") from exc
        return _principal(claims, self.settings.agency_claim, self.settings.roles_claim)


def _principal(claims: dict[str, Any], agency_claim: str, roles_claim: str) -> Principal:
    agency = claims.get(agency_claim)
    if not isinstance(agency, str) or not agency:
        raise TokenError(f"the token has no {agency_claim!r} claim naming the user's agency")
    raw_roles = claims.get(roles_claim) or []
    if isinstance(raw_roles, str):
        raw_roles = raw_roles.split()
    # Roles the platform does not know (the provider's own groups) are ignored, not an error.
    roles = frozenset(Role(r) for r in raw_roles if r in Role._value2member_map_)
    return Principal(
        subject=str(claims["sub"]),
        username=str(claims.get("preferred_username") or claims["sub"]),
        agency_code=agency,
        roles=roles,
        full_name=str(claims.get("name") or ""),
    )
