"""The signing scope rules without a token: roles per step, the key's agency, who passes."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from lienthong.signing.v1 import signing_pb2 as pb

from services.chassis import caller as callers
from services.chassis.errors import PermissionDenied
from services.signing.service_layer.grpc_support import SignRequest
from services.signing.service_layer.scope import STEP_ROLES, check_caller_scope

KEY = b"lt-dev-person"
AGENCY = "000.00.12.H23"


class Directory:
    """Stands in for the token's signer directory: one key certified for ``AGENCY``."""

    def __init__(self, agency_code: str | None = AGENCY) -> None:
        self.agency_code = agency_code
        self.asked: list[bytes] = []

    def profile(self, key_id: bytes) -> SimpleNamespace:
        self.asked.append(key_id)
        return SimpleNamespace(subject=SimpleNamespace(agency_code=self.agency_code))


def request(step: int) -> SignRequest:
    key = None if step == pb.NUMBER_AND_DATE else KEY
    return SignRequest(step=step, operation="op", requested_by="x", key_id=key)


def check(step: int, caller: callers.Caller | None, directory: Directory | None = None) -> None:
    handle = callers.enter(caller, "token")
    try:
        check_caller_scope(request(step), directory or Directory())  # type: ignore[arg-type]
    finally:
        callers.leave(handle)


def user(agency: str, *roles: str) -> callers.Caller:
    return callers.Caller("u", agency, frozenset(roles))


def test_every_step_has_a_role():
    assert STEP_ROLES[pb.PERSON] == "signer"
    assert {STEP_ROLES[s] for s in (pb.NUMBER_AND_DATE, pb.ORGANISATION, pb.ATTACHMENT,
                                    pb.COPY)} == {"clerk"}  # fmt: skip


@pytest.mark.parametrize("step", sorted(STEP_ROLES))
def test_the_right_role_of_the_keys_agency_passes_and_the_wrong_role_does_not(step):
    role = STEP_ROLES[step]
    check(step, user(AGENCY, role))
    other = "clerk" if role == "signer" else "signer"
    with pytest.raises(PermissionDenied) as caught:
        check(step, user(AGENCY, other, "officer"))
    assert caught.value.field == "caller"


@pytest.mark.parametrize("certified_for", ["000.00.99.H99", None])
def test_a_key_of_another_agency_or_of_none_is_refused_naming_the_key(certified_for):
    with pytest.raises(PermissionDenied) as caught:
        check(pb.PERSON, user(AGENCY, "signer"), Directory(certified_for))
    assert caught.value.field == "header.key_id_hex" and KEY.hex() in caught.value.reason


def test_the_platform_and_province_admins_pass_without_reading_the_token():
    directory = Directory("000.00.99.H99")
    check(pb.PERSON, None, directory)
    check(pb.ORGANISATION, user(AGENCY, "province_admin"), directory)
    assert directory.asked == []
    check(pb.NUMBER_AND_DATE, user(AGENCY, "clerk"), directory)  # no key to check
    assert directory.asked == []
