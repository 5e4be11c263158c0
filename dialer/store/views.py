"""What a user of the service may read: calls (attempts) and contacts, scoped by role.

The scope is applied here, in the SQL, not by the web layer filtering rows it fetched:
an agent's query can only ever return the agent's own calls, and the contacts it talked
to or holds a callback for (issue 17: "an agent sees only its own calls and contacts").
Supervisors and admins see everything. A contact an agent may not see is reported as
absent, so its existence does not leak.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from trunkline.dialer.store.database import Database


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who is asking: a user name and its role (``agent``, ``supervisor``, ``admin``)."""

    name: str
    role: str

    @property
    def sees_all(self) -> bool:
        return self.role in ("supervisor", "admin")


_CALL_COLUMNS = ("a.id, k.name AS campaign, a.contact_id, a.number, a.state, a.claimed_at, "
                 "a.dialed_at, a.answered_at, a.ended_at, a.outcome, a.cause, a.agent, "
                 "a.talk, a.wrap, a.note")

#: An agent's contacts: those of its calls, and those whose callback is its own.
_AGENT_CONTACT = ("(c.callback_agent=:agent OR EXISTS (SELECT 1 FROM attempt x WHERE "
                  "x.contact_id=c.id AND x.agent=:agent) OR EXISTS (SELECT 1 FROM "
                  "callback b WHERE b.contact_id=c.id AND b.agent=:agent))")


class Views(Database):
    """Scoped reads (see :class:`~trunkline.dialer.store.Store`)."""

    def calls_for(self, viewer: Viewer, *, campaign: str | None = None,
                  agent: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """The newest calls ``viewer`` may see (an agent: its own only; ``agent`` is then
        ignored unless it is the viewer), newest first."""
        where = ["a.state != 'released'"]
        params: dict[str, Any] = {"limit": int(limit)}
        if not viewer.sees_all:
            where.append("a.agent=:me")
            params["me"] = viewer.name
        elif agent is not None:
            where.append("a.agent=:agent")
            params["agent"] = agent
        if campaign is not None:
            where.append("k.name=:campaign")
            params["campaign"] = campaign
        rows = self.query(
            f"SELECT {_CALL_COLUMNS} FROM attempt a JOIN campaign k ON k.id=a.campaign_id "
            f"WHERE {' AND '.join(where)} ORDER BY a.claimed_at DESC, a.id DESC "
            "LIMIT :limit", params)
        return [dict(row) for row in rows]

    def contact_for(self, viewer: Viewer, contact: int) -> dict[str, Any] | None:
        """Contact ``contact`` with its calls, if ``viewer`` may see it; else None."""
        params: dict[str, Any] = {"id": int(contact), "agent": viewer.name}
        scope = "" if viewer.sees_all else f" AND {_AGENT_CONTACT}"
        rows = self.query(
            "SELECT c.id, k.name AS campaign, c.number, c.time_zone, c.fields, c.state, "
            "c.attempts, c.next_at, c.callback_agent, c.last_outcome, c.last_at "
            "FROM contact c JOIN campaign k ON k.id=c.campaign_id "
            f"WHERE c.id=:id{scope}", params)
        if not rows:
            return None
        out = dict(rows[0])
        out["fields"] = json.loads(out["fields"])
        calls = self.query(
            f"SELECT {_CALL_COLUMNS} FROM attempt a JOIN campaign k ON k.id=a.campaign_id "
            "WHERE a.contact_id=:id AND a.state != 'released'"
            + ("" if viewer.sees_all else " AND a.agent=:agent")
            + " ORDER BY a.claimed_at", params)
        out["calls"] = [dict(row) for row in calls]
        return out
