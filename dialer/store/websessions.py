"""Web sessions of the dialer service, kept in the campaign database (schema 8), so that
restarting the service does not log everyone out.

Only a SHA-256 of the session id is stored: the id is a 256-bit random value, so a
plain hash (no salt, no stretching) cannot be reversed, and a copy of the database (a
backup, a support bundle) opens no session. The CSRF token is stored as it is: it must be
given back by ``GET /api/me`` and is worthless without the session cookie.

What the rules are (idle timeout, lifetime, a user changed or disabled) stays with the
service (:mod:`trunkline.dialer.service.websessions`); the store only keeps rows.
"""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass

from trunkline.dialer.store.database import Database


def session_hash(session_id: str) -> str:
    """What the store keeps of a session id (hex SHA-256)."""
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class StoredSession:
    """One stored session (without its id: only its hash is kept)."""

    id_hash: str
    user: str
    role: str
    csrf: str
    created_at: float
    last_seen: float


def _row(row: sqlite3.Row) -> StoredSession:
    return StoredSession(row["id_hash"], row["user"], row["role"], row["csrf"],
                         row["created_at"], row["last_seen"])


class WebSessionRecords(Database):
    """The stored web sessions (see :class:`~trunkline.dialer.store.Store`)."""

    def save_web_session(self, session_id: str, user: str, role: str, csrf: str, *,
                         created_at: float, last_seen: float) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO web_session (id_hash, user, role, csrf, "
                       "created_at, last_seen) VALUES (?,?,?,?,?,?)",
                       (session_hash(session_id), user, role, csrf, created_at, last_seen))

    def find_web_session(self, session_id: str) -> StoredSession | None:
        rows = self.query("SELECT * FROM web_session WHERE id_hash=?",
                          (session_hash(session_id),))
        return _row(rows[0]) if rows else None

    def touch_web_session(self, session_id: str, last_seen: float) -> None:
        with self.transaction() as db:
            db.execute("UPDATE web_session SET last_seen=max(last_seen, ?) WHERE id_hash=?",
                       (last_seen, session_hash(session_id)))

    def delete_web_session(self, session_id: str) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM web_session WHERE id_hash=?", (session_hash(session_id),))

    def delete_user_web_sessions(self, user: str) -> int:
        """Forget every stored session of ``user``; returns how many."""
        with self.transaction() as db:
            return db.execute("DELETE FROM web_session WHERE user=?", (user,)).rowcount

    def expire_web_sessions(self, *, idle_before: float, created_before: float) -> int:
        """Forget sessions last used before ``idle_before`` or opened before
        ``created_before``; returns how many."""
        with self.transaction() as db:
            return db.execute("DELETE FROM web_session WHERE last_seen < ? OR created_at < ?",
                              (idle_before, created_before)).rowcount

    def web_session_count(self) -> int:
        return int(self.query("SELECT count(*) AS n FROM web_session")[0]["n"])
