"""Web sessions, kept by the service (sans-IO: the caller passes ``now``).

A session is a random 256-bit id held in a signed cookie (see :mod:`.web`); what it
means (the user, its role, its CSRF token, when it was last used) stays here, so logging
out, disabling a user or an idle timeout ends it at once, whatever the browser keeps.
Sessions live in memory: restarting the service logs everyone out.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass


@dataclass(slots=True)
class WebSession:
    """One logged-in browser (or API client)."""

    id: str
    user: str
    role: str
    csrf: str
    created_at: float
    last_seen: float


class SessionTable:
    """The open sessions. ``idle`` seconds without a request end a session; none lasts
    longer than ``lifetime`` (a shift and a half by default)."""

    def __init__(self, *, idle: float = 30 * 60.0, lifetime: float = 12 * 3600.0) -> None:
        if idle <= 0 or lifetime <= 0:
            raise ValueError(f"timeouts must be > 0: {idle=}, {lifetime=}")
        self.idle = idle
        self.lifetime = lifetime
        self._sessions: dict[str, WebSession] = {}

    def open(self, user: str, role: str, now: float) -> WebSession:
        session = WebSession(secrets.token_urlsafe(32), user, role, secrets.token_urlsafe(32),
                             now, now)
        self._sessions[session.id] = session
        return session

    def use(self, session_id: str, now: float) -> WebSession | None:
        """The session ``session_id`` if it is still open, marked used at ``now``."""
        session = self._sessions.get(session_id)
        if session is None:
            return None
        if now - session.last_seen > self.idle or now - session.created_at > self.lifetime:
            del self._sessions[session_id]
            return None
        session.last_seen = max(session.last_seen, now)
        return session

    def peek(self, session_id: str, now: float) -> WebSession | None:
        """Like :meth:`use` but without marking it used (a WebSocket staying open is not
        activity)."""
        session = self._sessions.get(session_id)
        if session is None:
            return None
        if now - session.last_seen > self.idle or now - session.created_at > self.lifetime:
            return None
        return session

    def close(self, session_id: str) -> WebSession | None:
        return self._sessions.pop(session_id, None)

    def close_user(self, user: str) -> list[str]:
        """End every session of ``user`` (disabled, password changed); returns their ids."""
        ids = [s.id for s in self._sessions.values() if s.user == user]
        for session_id in ids:
            del self._sessions[session_id]
        return ids

    def expire(self, now: float) -> int:
        """Forget the sessions that timed out; returns how many."""
        ids = [s.id for s in self._sessions.values()
               if now - s.last_seen > self.idle or now - s.created_at > self.lifetime]
        for session_id in ids:
            del self._sessions[session_id]
        return len(ids)

    def __len__(self) -> int:
        return len(self._sessions)
