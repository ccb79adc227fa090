"""Roles, the authenticated principal and the scope rules (pure: no I/O).

Roles are those of office work under NĐ 30/2020/NĐ-CP: the văn thư (clerk) receives,
registers, numbers and sends documents; the lãnh đạo (signer) approves, signs and assigns; the
chuyên viên (officer) drafts and processes what is assigned to them. An agency admin manages
the accounts of one agency; a province admin manages all and sees every agency.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol


class Role(enum.StrEnum):
    CLERK = "clerk"  # văn thư
    SIGNER = "signer"  # lãnh đạo
    OFFICER = "officer"  # chuyên viên
    AGENCY_ADMIN = "agency_admin"
    PROVINCE_ADMIN = "province_admin"


ROLE_LABELS_VI: dict[Role, str] = {
    Role.CLERK: "Văn thư",
    Role.SIGNER: "Lãnh đạo",
    Role.OFFICER: "Chuyên viên",
    Role.AGENCY_ADMIN: "Quản trị cơ quan",
    Role.PROVINCE_ADMIN: "Quản trị tỉnh",
}

USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
MIN_PASSWORD_LENGTH = 10


class AccountError(ValueError):
    """An account value breaks a rule; names the field."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def parse_roles(names: list[str] | tuple[str, ...], field: str = "roles") -> frozenset[Role]:
    roles = set()
    for name in names:
        try:
            roles.add(Role(name))
        except ValueError as exc:
            allowed = ", ".join(r.value for r in Role)
            raise AccountError(field, f"unknown role {name!r} (allowed: {allowed})") from exc
    if not roles:
        raise AccountError(field, "at least one role is required")
    return frozenset(roles)


def check_username(username: str) -> str:
    if not USERNAME_PATTERN.fullmatch(username):
        raise AccountError(
            "username", "3–64 characters: lower-case letters, digits, '.', '_' or '-'"
        )
    return username


def check_password(password: str, username: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError("password", f"must be at least {MIN_PASSWORD_LENGTH} characters")
    if username and username.lower() in password.lower():
        raise AccountError("password", "must not contain the user name")
    return password


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: from a local access token or an OIDC token."""

    subject: str  # user id (local) or `sub` (OIDC)
    username: str
    agency_code: str
    roles: frozenset[Role] = field(default_factory=frozenset)
    full_name: str = ""

    @property
    def is_province_admin(self) -> bool:
        return Role.PROVINCE_ADMIN in self.roles

    def has_any(self, *roles: Role) -> bool:
        return self.is_province_admin or bool(self.roles.intersection(roles))

    def may_see_agency(self, agency_code: str) -> bool:
        """A user reads and changes their own agency's data only; a province admin all."""
        return self.is_province_admin or agency_code == self.agency_code

    def may_grant(self, roles: frozenset[Role], agency_code: str) -> bool:
        """Province admins grant anything; agency admins any role but province admin, and only
        within their own agency; nobody else manages accounts."""
        if self.is_province_admin:
            return True
        return (
            Role.AGENCY_ADMIN in self.roles
            and agency_code == self.agency_code
            and Role.PROVINCE_ADMIN not in roles
        )


# -- the signing key of a signer --------------------------------------------------------------
SIGNING_KEY_ID_PATTERN = re.compile(r"^(?:[0-9a-f]{2}){1,64}$")


class SigningKeyView(Protocol):
    """What the signing service's ``ListKeys`` says about one key (``SigningKey`` message)."""

    key_id_hex: str
    has_certificate: bool
    title: str
    agency_code: str


def normalise_signing_key_id(key_id: str, field: str = "signing_key_id") -> str:
    """The CKA_ID in lower-case hex, or AccountError naming ``field``."""
    value = key_id.strip().lower()
    if not SIGNING_KEY_ID_PATTERN.fullmatch(value):
        raise AccountError(field, "must be the key's CKA_ID in hex (2–128 hex digits, even)")
    return value


def check_signing_key(
    key_id: str,
    agency_code: str,
    keys: Iterable[SigningKeyView],
    field: str = "signing_key_id",
) -> str:
    """The normalised key id if ``keys`` hold it as a person's key of ``agency_code``.

    A person's certificate is the one with a title (chức vụ); the organisation's has none and
    must never be bound to a person — the seal is the clerk's step, not the signer's.
    """
    wanted = normalise_signing_key_id(key_id, field)
    for key in keys:
        if key.key_id_hex.lower() != wanted:
            continue
        if not key.has_certificate or not key.title:
            raise AccountError(field, f"key {wanted} has no person certificate (no title)")
        if key.agency_code != agency_code:
            raise AccountError(
                field,
                f"key {wanted} is certified for {key.agency_code or 'no agency'}, "
                f"not for the user's agency {agency_code}",
            )
        return wanted
    raise AccountError(field, f"the signing service has no key {wanted}")
