"""Password hashing with argon2id (memory-hard, RFC 9106), via argon2-cffi.

Parameters are RFC 9106's second recommended option (64 MiB, 3 passes, 4 lanes); hashes carry
their parameters, so raising them later re-hashes each user at their next login.
"""

from __future__ import annotations

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher(time_cost=3, memory_cost=64 * 1024, parallelism=4, type=Type.ID)

# Verified against when the user does not exist, so an unknown name costs as much as a known one
# (no user-enumeration by timing).
_DUMMY_HASH = _hasher.hash("not a password of anyone")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)
