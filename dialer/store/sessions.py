"""Agent sessions: each login to logout, committed as it happens, for occupancy.

A crashed runner's open sessions are closed at restart by
:meth:`AgentSessions.close_stale_sessions`, at the agent's last known activity. Pause
time is not recorded yet.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence

from trunkline.dialer.errors import StoreError
from trunkline.dialer.store.database import Database


class AgentSessions(Database):
    """Agent sessions (see :class:`~trunkline.dialer.store.Store`)."""

    def open_agent_session(self, agent: str, campaigns: Sequence[str], now: float) -> int:
        """Record that ``agent`` logged in to ``campaigns`` at ``now``; returns the session id.

        Committed before it returns, so logged-in time (the denominator of occupancy in
        :mod:`trunkline.dialer.campaigns.reports`) is never lost to a crash: a session a
        crashed runner left open is closed at restart by :meth:`close_stale_sessions`. An
        agent is logged in once, so a session of the same agent still open here is such a
        leftover too: it is closed the same way (``crash``, at the agent's last known
        activity) rather than counted twice.

        Pause time is not tracked yet: a session counts as logged in from login to logout,
        paused or not (the runner has no pause; an agent screen will add pause records).
        """
        if not agent:
            raise StoreError("an agent session needs an agent id")
        names = list(dict.fromkeys(campaigns))
        if not names:
            raise StoreError(f"agent {agent!r} cannot log in to no campaign")
        for name in names:
            self.campaign_id(name)  # raises for an unknown campaign
        with self.transaction() as db:
            for row in db.execute("SELECT * FROM agent_session WHERE agent=? AND "
                                  "ended_at IS NULL", (agent,)).fetchall():
                close_stale(db, row, now)
            return db.execute(
                "INSERT INTO agent_session (agent, campaigns, started_at) VALUES (?,?,?)",
                (agent, json.dumps(names, ensure_ascii=False), now)).lastrowid

    def close_agent_session(self, session: int, now: float, *, how: str = "logout") -> None:
        """Record that the agent of ``session`` logged out at ``now``, committed.

        ``how`` says why the session ended: ``logout`` (the agent left, or the runner
        stopped cleanly); :meth:`close_stale_sessions` writes ``crash``. Idempotent: a
        session already closed keeps the end it has. Raises :class:`StoreError` for an
        unknown session or an end before the session's start.
        """
        if not how:
            raise StoreError(f"closing agent session {session} needs a reason (how)")
        with self.transaction() as db:
            row = db.execute("SELECT started_at, ended_at FROM agent_session WHERE id=?",
                             (session,)).fetchone()
            if row is None:
                raise StoreError(f"no agent session {session}")
            if row["ended_at"] is not None:
                return
            if now < row["started_at"]:
                raise StoreError(f"cannot end agent session {session} at {now}: it started "
                                 f"at {row['started_at']}")
            db.execute("UPDATE agent_session SET ended_at=?, ended_how=? WHERE id=?",
                       (now, how, session))

    def close_stale_sessions(self, campaigns: Sequence[str], now: float) -> int:
        """Close the sessions of ``campaigns`` left open by a runner that crashed.

        Call it when a runner starts, before it opens sessions of its own: any session of
        its campaigns still open belongs to a process that is gone. Each is closed as
        ``crash`` at the last moment the store knows its agent was active in that
        session: the latest claim, dial or answer of an attempt of the agent in the
        session's campaigns, or the end of its wrap-up (``ended_at + wrap``) for calls the
        agent talked on; else the session's start. The end of an attempt *without* talk or
        wrap is not used, because :meth:`reconcile` stamps the attempts it settles with
        the restart time, which would count the whole outage as logged in. Returns how
        many sessions were closed.
        """
        names = list(dict.fromkeys(campaigns))
        for name in names:
            self.campaign_id(name)
        if not names:
            return 0
        marks = ",".join("?" * len(names))
        with self.transaction() as db:
            rows = db.execute(
                "SELECT * FROM agent_session s WHERE s.ended_at IS NULL AND EXISTS "
                f"(SELECT 1 FROM json_each(s.campaigns) j WHERE j.value IN ({marks}))",
                names).fetchall()
            for row in rows:
                close_stale(db, row, now)
            return len(rows)


def close_stale(db: sqlite3.Connection, session: sqlite3.Row, now: float) -> None:
    """Close an open agent session as ``crash`` at its agent's last known activity
    (see :meth:`AgentSessions.close_stale_sessions`), never after ``now`` nor after the start
    of a later session of the same agent (activity then belongs to that one)."""
    start = session["started_at"]
    later = db.execute("SELECT MIN(started_at) FROM agent_session WHERE agent=? AND "
                       "started_at>? AND id!=?",
                       (session["agent"], start, session["id"])).fetchone()[0]
    limit = now if later is None else min(now, later)
    names = json.loads(session["campaigns"]) or [""]  # a hand-written [] matches nothing
    marks = ",".join("?" * len(names))
    end = start
    for claimed, dialed, answered, ended, talk, wrap in db.execute(
            "SELECT a.claimed_at, a.dialed_at, a.answered_at, a.ended_at, a.talk, a.wrap "
            "FROM attempt a JOIN campaign k ON k.id=a.campaign_id WHERE a.agent=? AND "
            f"k.name IN ({marks}) AND a.state!='released' AND (a.ended_at>=? OR "
            "a.state IN ('claimed', 'dialing'))", (session["agent"], *names, start)):
        times = [claimed, dialed, answered]
        if ended is not None and (talk is not None or wrap is not None):
            times.append(ended + (wrap or 0.0))
        end = max([end, *(t for t in times if t is not None and start <= t <= limit)])
    db.execute("UPDATE agent_session SET ended_at=?, ended_how='crash' WHERE id=?",
               (end, session["id"]))

