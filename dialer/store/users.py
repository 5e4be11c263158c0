"""Users of the dialer service: who may log in to the web API, with which role.

The store keeps only what a login needs: the name, the role, the password's hash (an
encoded argon2 string made by :mod:`trunkline.dialer.service.passwords`; the store never
sees a password), whether the user is disabled, and when the row was made and last
changed. Users are never deleted: the audit log names them, so a leaver is disabled.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass

from trunkline.dialer.errors import StoreError
from trunkline.dialer.store.database import Database

#: The roles, from least to most trusted. A supervisor may do what an agent may not
#: (campaign control); an admin may also manage users.
ROLES: tuple[str, ...] = ("agent", "supervisor", "admin")

#: A user name: what an agent types at the login screen and what the audit log shows;
#: no spaces or separators, so it is safe in logs, URLs and CSV reports.
_NAME = re.compile(r"[A-Za-z0-9_.@-]{1,64}")


@dataclass(frozen=True, slots=True)
class User:
    """One user, as stored."""

    name: str
    role: str
    password_hash: str
    disabled: bool
    created_at: float
    changed_at: float


def check_user_name(name: str) -> str:
    """``name`` if it is a valid user name; else :class:`StoreError` saying why."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise StoreError(f"bad user name {name!r}: use 1 to 64 letters, digits or . _ - @")
    return name


def check_role(role: str) -> str:
    """``role`` if it is one of :data:`ROLES`; else :class:`StoreError` naming them."""
    if role not in ROLES:
        raise StoreError(f"unknown role {role!r} (roles: {', '.join(ROLES)})")
    return role


def _user(row: sqlite3.Row) -> User:
    return User(row["name"], row["role"], row["password_hash"], bool(row["disabled"]),
                row["created_at"], row["changed_at"])


class Users(Database):
    """The users (see :class:`~trunkline.dialer.store.Store`)."""

    def add_user(self, name: str, role: str, password_hash: str, *, now: float) -> User:
        """Create user ``name``; :class:`StoreError` if it exists or a field is bad."""
        check_user_name(name)
        check_role(role)
        if not password_hash:
            raise StoreError(f"user {name!r} needs a password hash")
        with self.transaction() as db:
            if db.execute("SELECT 1 FROM user WHERE name=?", (name,)).fetchone():
                raise StoreError(f"user {name!r} already exists (use 'trunkline users "
                                 "passwd' to change the password)")
            db.execute("INSERT INTO user (name, role, password_hash, created_at, changed_at) "
                       "VALUES (?,?,?,?,?)", (name, role, password_hash, now, now))
        return self.get_user(name)

    def get_user(self, name: str) -> User:
        """User ``name``; :class:`StoreError` if there is none."""
        user = self.find_user(name)
        if user is None:
            raise StoreError(f"no user {name!r}")
        return user

    def find_user(self, name: str) -> User | None:
        """User ``name``, or None."""
        rows = self.query("SELECT * FROM user WHERE name=?", (name,))
        return _user(rows[0]) if rows else None

    def users(self) -> list[User]:
        """Every user, by name."""
        return [_user(row) for row in self.query("SELECT * FROM user ORDER BY name")]

    def set_password_hash(self, name: str, password_hash: str, *, now: float) -> None:
        """Replace the password hash of ``name`` (a new password, or a rehash)."""
        if not password_hash:
            raise StoreError(f"user {name!r} needs a password hash")
        self._update(name, "password_hash=?", password_hash, now)

    def set_disabled(self, name: str, disabled: bool, *, now: float) -> None:
        """Disable (or enable again) ``name``: a disabled user cannot log in, and its
        open web sessions are refused at their next request."""
        self._update(name, "disabled=?", int(disabled), now)

    def set_role(self, name: str, role: str, *, now: float) -> None:
        check_role(role)
        self._update(name, "role=?", role, now)

    def _update(self, name: str, assignment: str, value: object, now: float) -> None:
        with self.transaction() as db:
            done = db.execute(f"UPDATE user SET {assignment}, changed_at=? WHERE name=?",
                              (value, now, name)).rowcount
            if not done:
                raise StoreError(f"no user {name!r}")
