"""Passwords: argon2id hashes with argon2-cffi's defaults (RFC 9106's low-memory profile).

A hash made under older parameters is replaced at the next successful login
(``needs_rehash``). ``dummy_hash`` is verified against when a name is unknown, so a login for
a name that does not exist takes as long as one with a wrong password.
"""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from digiweetjes.errors import UserError

MIN_LENGTH = 12
#: Far beyond any passphrase; a megabyte of "password" would only cost hashing time.
MAX_LENGTH = 1024

_HASHER = PasswordHasher()


def check_password(password: str) -> None:
    """UserError (Dutch) for a password that is too short or too long."""
    if len(password) < MIN_LENGTH:
        raise UserError(f"Het wachtwoord moet minstens {MIN_LENGTH} tekens lang zijn.")
    if len(password) > MAX_LENGTH:
        raise UserError(f"Het wachtwoord mag hoogstens {MAX_LENGTH} tekens lang zijn.")


def hash_password(password: str) -> str:
    """The argon2id hash (PHC string) of a password that passed ``check_password``."""
    check_password(password)
    return _HASHER.hash(password)


def verify(stored_hash: str, password: str) -> bool:
    """Whether ``password`` matches; False for a wrong one and for an unusable stored hash."""
    if len(password) > MAX_LENGTH:
        return False
    try:
        return _HASHER.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """Whether the hash was made with other parameters than the current defaults."""
    try:
        return _HASHER.check_needs_rehash(stored_hash)
    except (InvalidHashError, ValueError):
        return True


@cache
def dummy_hash() -> str:
    """A hash no password is known for, to verify against when the name is unknown."""
    return _HASHER.hash("digiweetjes: no such user, same work as a real check")
