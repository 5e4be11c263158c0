"""The recording index: one SQLite database (WAL mode) of every recording and deletion.

``index.sqlite`` under the recording root holds one row per recording with call id,
campaign, agent id and name, customer number, start time, duration, outcome, encoding,
reason, pause intervals, size, checksum and state (:data:`COLUMNS`); deletions are logged
in a table of their own (the archive logs them in the structured log as well).

It is written from the engine thread (a recording opens), the finishing thread
(checksums) and the RPC loop (searches), so every statement runs under one lock.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from trunkline.errors import ConfigError
from trunkline.gateway.recording.errors import RecordingError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS recordings (
    id INTEGER PRIMARY KEY,
    path TEXT UNIQUE NOT NULL,
    call_id INTEGER, campaign TEXT, agent_id TEXT, agent_name TEXT, customer TEXT,
    started REAL NOT NULL, duration REAL, outcome TEXT, encoding TEXT,
    state TEXT NOT NULL, reason TEXT, pauses TEXT, size INTEGER, sha256 TEXT, error TEXT,
    finished REAL
);
CREATE INDEX IF NOT EXISTS rec_call ON recordings(call_id);
CREATE INDEX IF NOT EXISTS rec_campaign ON recordings(campaign);
CREATE INDEX IF NOT EXISTS rec_agent ON recordings(agent_id);
CREATE INDEX IF NOT EXISTS rec_agent_name ON recordings(agent_name);
CREATE INDEX IF NOT EXISTS rec_customer ON recordings(customer);
CREATE INDEX IF NOT EXISTS rec_started ON recordings(started);
CREATE INDEX IF NOT EXISTS rec_outcome ON recordings(outcome);
CREATE INDEX IF NOT EXISTS rec_state ON recordings(state);
CREATE TABLE IF NOT EXISTS deletions (
    id INTEGER PRIMARY KEY, recording INTEGER, path TEXT, deleted_at REAL, rule TEXT,
    campaign TEXT, started REAL, sha256 TEXT
);
"""
#: The recordings table's columns: ``add`` and ``update`` ignore any other key.
COLUMNS = ("id", "path", "call_id", "campaign", "agent_id", "agent_name", "customer",
           "started", "duration", "outcome", "encoding", "state", "reason", "pauses", "size",
           "sha256", "error", "finished")


class RecordingIndex:
    """The SQLite (WAL) index of recordings; safe to use from several threads."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(self.path), check_same_thread=False,
                                       isolation_level=None, timeout=10)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as err:
            raise RecordingError(f"{self.path}: cannot open the recording index: {err}") \
                from err
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _exec(self, sql: str, args: Iterable[Any] = ()) -> sqlite3.Cursor:
        with self._lock:
            return self._db.execute(sql, tuple(args))

    def add(self, **row: Any) -> int:
        row.setdefault("state", "recording")
        row.setdefault("started", time.time())
        if isinstance(row.get("pauses"), list):
            row["pauses"] = json.dumps(row["pauses"])
        keys = [k for k in row if k in COLUMNS and k != "id"]
        cur = self._exec(f"INSERT OR REPLACE INTO recordings ({', '.join(keys)}) VALUES "
                         f"({', '.join('?' for _ in keys)})", [row[k] for k in keys])
        return int(cur.lastrowid or 0)

    def update(self, path: str | Path, **fields: Any) -> None:
        if isinstance(fields.get("pauses"), list):
            fields["pauses"] = json.dumps(fields["pauses"])
        keys = [k for k in fields if k in COLUMNS and k not in ("id", "path")]
        if keys:
            self._exec(f"UPDATE recordings SET {', '.join(f'{k} = ?' for k in keys)} "
                       "WHERE path = ?", [fields[k] for k in keys] + [str(path)])

    def get(self, path: str | Path) -> dict[str, Any] | None:
        rows = self._rows("SELECT * FROM recordings WHERE path = ?", [str(path)])
        return rows[0] if rows else None

    def _rows(self, sql: str, args: Iterable[Any] = ()) -> list[dict[str, Any]]:
        with self._lock:
            cur = self._db.execute(sql, tuple(args))
            names = [d[0] for d in cur.description]
            out = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
        for row in out:
            if row.get("pauses"):
                row["pauses"] = json.loads(row["pauses"])
        return out

    def search(self, *, limit: int = 100, **filters: Any) -> list[dict[str, Any]]:
        """Rows matching every filter given (None = any); ``agent_name`` and ``customer``
        match substrings; ``since``/``until`` bound the start time (epoch seconds)."""
        where, args = [], []
        for key, value in filters.items():
            if value is None:
                continue
            if key == "since":
                where.append("started >= ?")
            elif key == "until":
                where.append("started < ?")
            elif key == "call":
                where.append("call_id = ?")
            elif key in ("agent_name", "customer"):
                where.append(f"{key} LIKE ?")
                value = f"%{value}%"
            elif key in ("call_id", "campaign", "agent_id", "outcome", "state", "encoding"):
                where.append(f"{key} = ?")
            else:
                raise ConfigError(f"cannot search recordings by {key!r}")
            args.append(value)
        sql = "SELECT * FROM recordings"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY started DESC, id DESC LIMIT ?"
        return self._rows(sql, [*args, int(limit)])

    def all(self) -> list[dict[str, Any]]:
        return self._rows("SELECT * FROM recordings ORDER BY id")

    def deletions(self) -> list[dict[str, Any]]:
        return self._rows("SELECT * FROM deletions ORDER BY id")

    def log_deletion(self, row: dict[str, Any], rule: str, now: float) -> None:
        with self._lock:
            self._db.execute("BEGIN")
            self._db.execute("INSERT INTO deletions (recording, path, deleted_at, rule, "
                             "campaign, started, sha256) VALUES (?, ?, ?, ?, ?, ?, ?)",
                             (row["id"], row["path"], now, rule, row.get("campaign"),
                              row["started"], row.get("sha256")))
            self._db.execute("DELETE FROM recordings WHERE id = ?", (row["id"],))
            self._db.execute("COMMIT")

    def backup_to(self, dest: Path) -> None:
        with self._lock:
            target = sqlite3.connect(str(dest))
            try:
                self._db.backup(target)
            finally:
                target.close()
