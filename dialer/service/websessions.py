"""Web sessions, kept by the service (sans-IO: the caller passes ``now``).

A session is a random 256-bit id held in a signed cookie (see :mod:`.web`); what it
means (the user, its role, its CSRF token, when it was last used) stays here, so logging
out, disabling a user or an idle timeout ends it at once, whatever the browser keeps.

Sessions survive a restart of the service: with a ``keeper`` (the campaign database,
:mod:`trunkline.dialer.store.websessions`, which keeps only a hash of each id) every
session opened is stored, ended sessions are deleted, and a cookie whose session is not
in memory (the service restarted) is looked up there. The memory table is the fast path;
the last use is written to the keeper at most every :data:`TOUCH_EVERY` seconds (not at
every request: each write is a synchronous commit), so after a restart a session may
seem up to that much less idle than it was. The rules are the same either way: ``idle``
seconds without a request, or ``lifetime`` since the login, end a session.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Protocol

#: The longest the stored last use of a session may lag behind the real one (seconds).
TOUCH_EVERY = 60.0


@dataclass(slots=True)
class WebSession:
    """One logged-in browser (or API client)."""

    id: str
    user: str
    role: str
    csrf: str
    created_at: float
    last_seen: float
    stored_seen: float = 0.0  # the last use the keeper has


class StoredRow(Protocol):
    user: str
    role: str
    csrf: str
    created_at: float
    last_seen: float


class SessionKeeper(Protocol):
    """Where sessions are kept across restarts (the store's web session records)."""

    def save_web_session(self, session_id: str, user: str, role: str, csrf: str, *,
                         created_at: float, last_seen: float) -> None: ...

    def find_web_session(self, session_id: str) -> StoredRow | None: ...

    def touch_web_session(self, session_id: str, last_seen: float) -> None: ...

    def delete_web_session(self, session_id: str) -> None: ...

    def delete_user_web_sessions(self, user: str) -> int: ...

    def expire_web_sessions(self, *, idle_before: float, created_before: float) -> int: ...


class SessionTable:
    """The open sessions. ``idle`` seconds without a request end a session; none lasts
    longer than ``lifetime`` (a shift and a half by default). ``keeper``: where they are
    kept across restarts (None: in memory only)."""

    def __init__(self, *, idle: float = 30 * 60.0, lifetime: float = 12 * 3600.0,
                 keeper: SessionKeeper | None = None) -> None:
        if idle <= 0 or lifetime <= 0:
            raise ValueError(f"timeouts must be > 0: {idle=}, {lifetime=}")
        self.idle = idle
        self.lifetime = lifetime
        self.keeper = keeper
        self._sessions: dict[str, WebSession] = {}

    def open(self, user: str, role: str, now: float) -> WebSession:
        session = WebSession(secrets.token_urlsafe(32), user, role, secrets.token_urlsafe(32),
                             now, now, now)
        if self.keeper is not None:  # stored before the cookie is handed out
            self.keeper.save_web_session(session.id, user, role, session.csrf,
                                         created_at=now, last_seen=now)
        self._sessions[session.id] = session
        return session

    def _find(self, session_id: str) -> WebSession | None:
        session = self._sessions.get(session_id)
        if session is None and self.keeper is not None:
            row = self.keeper.find_web_session(session_id)
            if row is not None:  # opened before a restart
                session = WebSession(session_id, row.user, row.role, row.csrf,
                                     row.created_at, row.last_seen, row.last_seen)
                self._sessions[session_id] = session
        return session

    def _expired(self, session: WebSession, now: float) -> bool:
        return now - session.last_seen > self.idle or now - session.created_at > self.lifetime

    def use(self, session_id: str, now: float) -> WebSession | None:
        """The session ``session_id`` if it is still open, marked used at ``now``."""
        session = self._find(session_id)
        if session is None:
            return None
        if self._expired(session, now):
            self.close(session_id)
            return None
        session.last_seen = max(session.last_seen, now)
        if self.keeper is not None and session.last_seen - session.stored_seen >= TOUCH_EVERY:
            self.keeper.touch_web_session(session_id, session.last_seen)
            session.stored_seen = session.last_seen
        return session

    def peek(self, session_id: str, now: float) -> WebSession | None:
        """Like :meth:`use` but without marking it used (a WebSocket staying open is not
        activity)."""
        session = self._find(session_id)
        if session is None or self._expired(session, now):
            return None
        return session

    def close(self, session_id: str) -> WebSession | None:
        if self.keeper is not None:
            self.keeper.delete_web_session(session_id)
        return self._sessions.pop(session_id, None)

    def close_user(self, user: str) -> list[str]:
        """End every session of ``user`` (disabled, password changed), stored ones too;
        returns the ids of those open in this process."""
        ids = [s.id for s in self._sessions.values() if s.user == user]
        for session_id in ids:
            del self._sessions[session_id]
        if self.keeper is not None:
            self.keeper.delete_user_web_sessions(user)
        return ids

    def expire(self, now: float) -> int:
        """Forget the sessions that timed out (stored ones too); returns how many of
        those in memory."""
        ids = [s.id for s in self._sessions.values() if self._expired(s, now)]
        for session_id in ids:
            del self._sessions[session_id]
        if self.keeper is not None:
            self.keeper.expire_web_sessions(idle_before=now - self.idle,
                                            created_before=now - self.lifetime)
        return len(ids)

    def __len__(self) -> int:
        return len(self._sessions)
