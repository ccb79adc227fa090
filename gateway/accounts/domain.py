"""Roles, the authenticated principal and the scope rules (pure: no I/O).

Roles are those of office work under NĐ 30/2020/NĐ-CP: the văn thư (clerk) receives,
registers, numbers and sends documents; the lãnh đạo (signer) approves, signs and assigns; the
chuyên viên (officer) drafts and processes what is assigned to them. An agency admin manages
the accounts of one agency; a province admin manages all and sees every agency.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field


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
