"""Passwords: the rules a new password must meet, and argon2id hashing.

Hashing is argon2id through argon2-cffi (the reference C implementation; RFC 9106),
with the library's default parameters, which follow RFC 9106's second recommended
("low memory") option. The encoded hash carries its parameters, so a hash made with
older parameters still verifies, and :func:`needs_rehash` says when to replace it at the
next successful login.
"""

from __future__ import annotations

import threading

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from trunkline.dialer.errors import DialerError

#: The shortest password accepted. NIST SP 800-63B §5.1.1.2 asks for at least 8
#: characters for memorised secrets chosen by the user.
MIN_LENGTH = 8
#: Longer passwords are refused: argon2 would accept them, but a megabyte "password"
#: is a way to make the service hash a lot (SP 800-63B allows a limit of 64 or more).
MAX_LENGTH = 256

_HASHER = PasswordHasher()
#: At most this many hashes at once: each takes the hasher's memory cost (64 MiB by
#: default) for about a third of a second, so 200 agents logging in together at the start
#: of a shift would otherwise take gigabytes from the web server's threads.
CONCURRENT_HASHES = 4
_SLOTS = threading.BoundedSemaphore(CONCURRENT_HASHES)


class WeakPassword(DialerError, ValueError):
    """A new password does not meet the rules; the message says which."""


def check_password(password: str, *, user: str = "") -> str:
    """``password`` if it may be set for ``user``; else :class:`WeakPassword` saying why."""
    if not password:
        raise WeakPassword("the password is empty")
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"the password is too short ({len(password)} characters; at "
                           f"least {MIN_LENGTH})")
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"the password is too long (at most {MAX_LENGTH} characters)")
    if len(set(password)) == 1:
        raise WeakPassword("the password repeats one character")
    if user and password.casefold() == user.casefold():
        raise WeakPassword("the password is the user name")
    return password


def hash_password(password: str) -> str:
    """The encoded argon2id hash of ``password`` (salted: two calls differ)."""
    with _SLOTS:
        return _HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``password_hash``; False for a malformed hash too
    (a row edited by hand must not let anyone in)."""
    if len(password) > MAX_LENGTH:
        return False
    try:
        with _SLOTS:
            return _HASHER.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with other parameters than today's defaults."""
    try:
        return _HASHER.check_needs_rehash(password_hash)
    except (InvalidHashError, ValueError):
        return True
