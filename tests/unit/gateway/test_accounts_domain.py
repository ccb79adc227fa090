"""Roles, scope rules, account value checks, argon2id hashing."""

from __future__ import annotations

import pytest

from gateway.accounts import passwords
from gateway.accounts.domain import (
    AccountError,
    Principal,
    Role,
    check_password,
    check_username,
    parse_roles,
)

STC = "000.00.03.H56"
VP = "000.00.01.H56"


def who(*roles: Role, agency: str = STC) -> Principal:
    return Principal("id-1", "someone", agency, frozenset(roles))


def test_users_see_their_own_agency_only_and_province_admin_sees_all() -> None:
    assert who(Role.CLERK).may_see_agency(STC)
    assert not who(Role.CLERK, Role.AGENCY_ADMIN).may_see_agency(VP)
    assert who(Role.PROVINCE_ADMIN).may_see_agency(VP)


def test_agency_admin_grants_within_own_agency_but_never_province_admin() -> None:
    admin = who(Role.AGENCY_ADMIN)
    assert admin.may_grant(frozenset({Role.CLERK, Role.SIGNER}), STC)
    assert not admin.may_grant(frozenset({Role.CLERK}), VP)
    assert not admin.may_grant(frozenset({Role.PROVINCE_ADMIN}), STC)
    assert not who(Role.CLERK).may_grant(frozenset({Role.CLERK}), STC)
    assert who(Role.PROVINCE_ADMIN).may_grant(frozenset({Role.PROVINCE_ADMIN}), VP)


def test_has_any_admits_listed_roles_and_province_admin() -> None:
    assert who(Role.OFFICER).has_any(Role.OFFICER, Role.CLERK)
    assert not who(Role.OFFICER).has_any(Role.CLERK)
    assert who(Role.PROVINCE_ADMIN).has_any(Role.CLERK)


def test_parse_roles_names_the_field_and_the_allowed_values() -> None:
    assert parse_roles(["clerk", "signer"]) == {Role.CLERK, Role.SIGNER}
    with pytest.raises(AccountError) as caught:
        parse_roles(["janitor"])
    assert caught.value.field == "roles" and "clerk" in caught.value.reason
    with pytest.raises(AccountError):
        parse_roles([])


@pytest.mark.parametrize("name", ["ab", "Upper", "has space", "x" * 65, "-lead"])
def test_bad_usernames_are_refused(name: str) -> None:
    with pytest.raises(AccountError) as caught:
        check_username(name)
    assert caught.value.field == "username"


def test_password_rules() -> None:
    assert check_password("a long enough one", "vanthu") == "a long enough one"
    with pytest.raises(AccountError, match="at least"):
        check_password("short", "vanthu")
    with pytest.raises(AccountError, match="user name"):
        check_password("vanthu.stc-2026!", "vanthu.stc")


def test_argon2id_hash_verifies_only_the_right_password() -> None:
    stored = passwords.hash_password("mật khẩu đúng 123")
    assert stored.startswith("$argon2id$")
    assert "m=65536" in stored
    assert passwords.verify_password(stored, "mật khẩu đúng 123")
    assert not passwords.verify_password(stored, "mật khẩu sai 123")
    assert not passwords.verify_password(None, "anything at all")
    assert not passwords.verify_password("not-a-hash", "anything at all")
