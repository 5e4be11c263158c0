"""The audit log: every state-changing action of a user, with who, when, what and from
where, committed before the action's answer is sent.

Rows are only ever added. ``details`` is a JSON object (what was asked, e.g. the
campaign and the new state); ``remote`` is the client's address as the service saw it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from trunkline.dialer.errors import StoreError
from trunkline.dialer.store.database import Database


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One row of the audit log."""

    id: int
    ts: float
    user: str | None
    action: str
    target: str | None
    details: dict[str, Any]
    remote: str | None


class AuditLog(Database):
    """The audit log (see :class:`~trunkline.dialer.store.Store`)."""

    def audit(self, action: str, *, now: float, user: str | None = None,
              target: str | None = None, details: Mapping[str, Any] | None = None,
              remote: str | None = None) -> int:
        """Record that ``user`` did ``action`` on ``target`` at ``now``; returns the row id.

        ``user`` is None for what no logged-in user did (a failed login names the name
        tried in ``details``). Committed before it returns.
        """
        if not action:
            raise StoreError("an audit entry needs an action")
        text = json.dumps(dict(details or {}), ensure_ascii=False, sort_keys=True,
                          default=str)
        with self.transaction() as db:
            row = db.execute(
                "INSERT INTO audit (ts, user, action, target, details, remote) "
                "VALUES (?,?,?,?,?,?)", (now, user, action, target, text, remote)).lastrowid
        assert row is not None  # an INSERT always has one
        return row

    def audit_entries(self, *, user: str | None = None, action: str | None = None,
                      since: float | None = None, limit: int = 1000) -> list[AuditEntry]:
        """The newest entries first, filtered by user, action and time."""
        where: list[str] = ["1=1"]
        params: list[Any] = []
        if user is not None:
            where.append("user=?")
            params.append(user)
        if action is not None:
            where.append("action=?")
            params.append(action)
        if since is not None:
            where.append("ts>=?")
            params.append(since)
        rows = self.query(f"SELECT * FROM audit WHERE {' AND '.join(where)} "
                          "ORDER BY ts DESC, id DESC LIMIT ?", (*params, int(limit)))
        return [AuditEntry(r["id"], r["ts"], r["user"], r["action"], r["target"],
                           json.loads(r["details"]), r["remote"]) for r in rows]
