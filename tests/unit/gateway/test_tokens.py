"""Local HS256 access tokens and the OIDC path against a locally generated key and JWKS."""

from __future__ import annotations

import json
import time
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from gateway.accounts.domain import Principal, Role
from gateway.accounts.tokens import (
    OidcValidator,
    TokenError,
    issue_access_token,
    new_refresh_token,
    read_access_token,
    refresh_token_hash,
)
from gateway.config import OidcSettings

KEY = b"k" * 32
PRINCIPAL = Principal("u-1", "vanthu.stc", "000.00.03.H56", frozenset({Role.CLERK}), "Văn thư")


def test_access_token_round_trip() -> None:
    token, ttl = issue_access_token(PRINCIPAL, KEY, 300)
    assert ttl == 300
    assert read_access_token(token, KEY) == PRINCIPAL


def test_expired_tampered_and_foreign_tokens_are_refused() -> None:
    expired, _ = issue_access_token(PRINCIPAL, KEY, -60)
    with pytest.raises(TokenError, match="expired"):
        read_access_token(expired, KEY)
    token, _ = issue_access_token(PRINCIPAL, KEY, 300)
    with pytest.raises(TokenError):
        read_access_token(token, b"x" * 32)
    header, payload, signature = token.split(".")
    claims = json.loads(jwt.utils.base64url_decode(payload))
    claims["agency_code"] = "000.00.01.H56"
    forged = ".".join(
        [header, jwt.utils.base64url_encode(json.dumps(claims).encode()).decode(), signature]
    )
    with pytest.raises(TokenError):
        read_access_token(forged, KEY)
    unsigned = jwt.encode({**claims, "exp": time.time() + 60}, None, algorithm="none")
    with pytest.raises(TokenError):
        read_access_token(unsigned, KEY)


def test_refresh_tokens_are_random_and_stored_hashed() -> None:
    first, first_hash = new_refresh_token()
    second, _ = new_refresh_token()
    assert first != second and first.startswith("rt_")
    assert first_hash == refresh_token_hash(first) and first not in first_hash


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> tuple[rsa.RSAPrivateKey, OidcSettings]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update({"kid": "test-key", "use": "sig", "alg": "RS256"})
    path = Path(tmp_path_factory.mktemp("oidc")) / "jwks.json"
    path.write_text(json.dumps({"keys": [jwk]}))
    settings = OidcSettings(
        issuer="https://sso.lachong.gov.vn/realms/lienthong",
        audience="lienthong-gateway",
        jwks_url=path.as_uri(),
        agency_claim="agency_code",
        roles_claim="roles",
    )
    return key, settings


def _oidc_token(key: rsa.RSAPrivateKey, settings: OidcSettings, **overrides: object) -> str:
    now = int(time.time())
    claims = {
        "iss": settings.issuer,
        "aud": settings.audience,
        "sub": "f3a1",
        "preferred_username": "lanhdao.stc",
        "agency_code": "000.00.03.H56",
        "roles": ["signer", "offline_access"],
        "iat": now,
        "exp": now + 300,
        **overrides,
    }
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "test-key"})


def test_oidc_token_of_the_provider_gives_agency_and_known_roles(provider) -> None:  # type: ignore[no-untyped-def]
    key, settings = provider
    principal = OidcValidator(settings).read(_oidc_token(key, settings))
    assert principal.agency_code == "000.00.03.H56"
    assert principal.roles == {Role.SIGNER}  # the provider's own "offline_access" is ignored
    assert principal.username == "lanhdao.stc"


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"aud": "someone-else"}, "(?i)audience"),
        ({"iss": "https://evil.example"}, "(?i)issuer"),
        ({"exp": int(time.time()) - 600}, "expired"),
        ({"agency_code": None}, "agency_code"),
    ],
)
def test_oidc_tokens_with_wrong_claims_are_refused(provider, overrides, reason) -> None:  # type: ignore[no-untyped-def]
    key, settings = provider
    with pytest.raises(TokenError, match=reason):
        OidcValidator(settings).read(_oidc_token(key, settings, **overrides))


def test_oidc_token_signed_by_another_key_is_refused(provider) -> None:  # type: ignore[no-untyped-def]
    _, settings = provider
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(TokenError):
        OidcValidator(settings).read(_oidc_token(other, settings))
