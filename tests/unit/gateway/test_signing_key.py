"""Binding a signer's HSM key to an account: only a person's key of the user's own agency."""

from __future__ import annotations

import pytest
from lienthong.signing.v1 import signing_pb2 as spb

from gateway.accounts.domain import AccountError, check_signing_key, normalise_signing_key_id

AGENCY = "000.00.12.H23"
KEYS = [
    spb.SigningKey(key_id_hex="0a1b", has_certificate=True, title="GIÁM ĐỐC", agency_code=AGENCY),
    spb.SigningKey(key_id_hex="0c0d", has_certificate=True, title="", agency_code=AGENCY),
    spb.SigningKey(key_id_hex="0e0f", has_certificate=False),
    spb.SigningKey(
        key_id_hex="1111", has_certificate=True, title="CHỦ TỊCH", agency_code="000.00.13.H23"
    ),
]


def test_a_person_key_of_the_agency_is_accepted_in_any_case() -> None:
    assert check_signing_key("0A1B", AGENCY, KEYS) == "0a1b"


@pytest.mark.parametrize(
    ("key_id", "reason"),
    [
        ("0c0d", "no person certificate"),  # the organisation's seal key
        ("0e0f", "no person certificate"),  # no certificate at all
        ("1111", "not for the user's agency"),
        ("abcd", "has no key"),
        ("xyz", "hex"),
        ("abc", "hex"),  # odd number of digits
    ],
)
def test_other_keys_are_refused_naming_the_field(key_id: str, reason: str) -> None:
    with pytest.raises(AccountError) as caught:
        check_signing_key(key_id, AGENCY, KEYS)
    assert caught.value.field == "signing_key_id"
    assert reason in caught.value.reason


def test_normalise_strips_and_lowers() -> None:
    assert normalise_signing_key_id(" 00FF ") == "00ff"
