"""The durable SMS store: one SQLite database (WAL, synchronous FULL) of every message sent
and received, the parts sent with their references, and the SIMs' usage for the limits.

Crash safety, step by step:

* ``sms.send`` stores the message (``queued``) and the SIM's usage grant in one
  transaction before anything reaches a module: a crash after the reply loses nothing.
* Before a message is handed to a module it becomes ``sending`` (committed first). After
  a restart, ``queued`` messages are sent; ``sending`` ones are NOT sent again (the module
  may have sent some or all of it): they become ``failed`` with a reason saying so, so no
  recipient ever gets a message twice from a restart (:meth:`SmsStore.recover`).
* A received message is stored before the module may delete it (``SmsLink.acknowledge``);
  a message read again after a crash has the same receipt and is not stored twice.
* Usage grants are never lost with a restart: :meth:`SmsStore.grants` feeds them back to
  the limits.

One lock serialises statements: the store is used from the RPC loop and the engine thread.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from trunkline.errors import TrunklineError
from trunkline.gateway.sms.limits import Grant

__all__ = ["SmsStore", "SmsStoreError"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    direction TEXT NOT NULL CHECK (direction IN ('out', 'in')),
    number TEXT NOT NULL,
    text TEXT NOT NULL,
    grp TEXT, module TEXT, sim TEXT,
    state TEXT NOT NULL,
    reason TEXT, code INTEGER, note TEXT,
    parts INTEGER NOT NULL DEFAULT 1,
    encoding TEXT, report INTEGER NOT NULL DEFAULT 1,
    created REAL NOT NULL, sent REAL, finished REAL,
    receipt TEXT, service_time TEXT, smsc TEXT, missing TEXT, client_ref TEXT
);
CREATE INDEX IF NOT EXISTS msg_state ON messages(state);
CREATE INDEX IF NOT EXISTS msg_number ON messages(number);
CREATE UNIQUE INDEX IF NOT EXISTS msg_receipt ON messages(module, receipt)
    WHERE receipt IS NOT NULL;
CREATE TABLE IF NOT EXISTS sent_parts (
    message INTEGER NOT NULL REFERENCES messages(id),
    part INTEGER NOT NULL,
    reference INTEGER NOT NULL,
    module TEXT NOT NULL, sim TEXT NOT NULL, recipient TEXT NOT NULL,
    sent REAL NOT NULL,
    outcome TEXT, status INTEGER, reason TEXT, reported REAL,
    PRIMARY KEY (message, part)
);
CREATE INDEX IF NOT EXISTS part_ref ON sent_parts(module, reference);
CREATE TABLE IF NOT EXISTS grants (
    id INTEGER PRIMARY KEY, sim TEXT NOT NULL, module TEXT NOT NULL, kind TEXT NOT NULL,
    at REAL NOT NULL, count INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS grant_at ON grants(at);
CREATE TABLE IF NOT EXISTS call_ends (sim TEXT PRIMARY KEY, at REAL NOT NULL);
"""

#: Outbound states: queued -> sending -> sent -> delivered | failed (and failed early).
#: Inbound: received.
FINAL_STATES = ("delivered", "failed", "received")

#: How long a sent part waits for its status report to be matched (TP-MR is 8 bits and
#: wraps: an older part with the same reference must not take a new report).
MATCH_WINDOW = 7 * 86400.0


class SmsStoreError(TrunklineError):
    """The SMS database cannot be opened or written."""


def _digits(number: str) -> str:
    return "".join(c for c in number if c.isdigit())


def _same_number(a: str, b: str) -> bool:
    """International and national forms of one number end alike: compare the last
    digits (at least 7, as many as the shorter has)."""
    da, db = _digits(a), _digits(b)
    if not da or not db:
        return da == db
    n = min(len(da), len(db))
    return (n >= 7 and da[-n:] == db[-n:]) or da == db


class SmsStore:
    """See the module docstring."""

    def __init__(self, path: str | Path, *, durable: bool = True) -> None:
        """``durable`` False skips the flush to disk at each commit (tests that commit
        thousands of times); the gateway always keeps it."""
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(self.path), check_same_thread=False,
                                       isolation_level=None, timeout=10)
            self._db.row_factory = sqlite3.Row
            self._db.execute("PRAGMA journal_mode=WAL")
            # FULL: a message the caller was told is stored survives a power cut.
            self._db.execute(f"PRAGMA synchronous={'FULL' if durable else 'OFF'}")
            self._db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as err:
            raise SmsStoreError(f"{self.path}: cannot open the SMS store: {err}") from err
        self._lock = threading.RLock()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                yield self._db
                self._db.execute("COMMIT")
            except sqlite3.Error as err:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise SmsStoreError(f"{self.path}: {err}") from err
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise

    def _query(self, sql: str, args: Iterable[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            try:
                return self._db.execute(sql, tuple(args)).fetchall()
            except sqlite3.Error as err:
                raise SmsStoreError(f"{self.path}: {err}") from err

    # -- outbound -----------------------------------------------------------------------
    def add_outgoing(self, *, number: str, text: str, group: str | None, grant: Grant,
                     parts: int, encoding: str, report: bool, now: float,
                     client_ref: str | None = None) -> int:
        """Store a message to send and its SIM's grant, together; the message id."""
        with self._tx() as db:
            cur = db.execute(
                "INSERT INTO messages (direction, number, text, grp, module, sim, state, "
                "parts, encoding, report, created, client_ref) "
                "VALUES ('out', ?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?)",
                (number, text, group, grant.module, grant.sim, parts, encoding, int(report),
                 now, client_ref))
            db.execute("INSERT INTO grants (sim, module, kind, at, count) VALUES (?,?,?,?,?)",
                       (grant.sim, grant.module, grant.kind, grant.at, grant.count))
            return int(cur.lastrowid or 0)

    def queued(self, module: str | None = None) -> list[dict[str, Any]]:
        """Messages waiting to be handed to a module, oldest first."""
        sql = "SELECT * FROM messages WHERE direction='out' AND state='queued'"
        args: tuple[Any, ...] = ()
        if module is not None:
            sql += " AND module=?"
            args = (module,)
        return [dict(r) for r in self._query(sql + " ORDER BY id", args)]

    def mark_sending(self, message: int) -> None:
        with self._tx() as db:
            db.execute("UPDATE messages SET state='sending' WHERE id=? AND state='queued'",
                       (message,))

    def mark_sent(self, message: int, references: Iterable[int], now: float) -> None:
        with self._tx() as db:
            row = db.execute("SELECT module, sim, number, report FROM messages WHERE id=?",
                             (message,)).fetchone()
            if row is None:
                return
            refs = list(references)
            for part, ref in enumerate(refs, start=1):
                db.execute("INSERT OR REPLACE INTO sent_parts (message, part, reference, "
                           "module, sim, recipient, sent) VALUES (?,?,?,?,?,?,?)",
                           (message, part, ref, row["module"], row["sim"], row["number"],
                            now))
            db.execute("UPDATE messages SET state='sent', sent=? WHERE id=?", (now, message))

    def mark_failed(self, message: int, reason: str, now: float, *, code: int | None = None
                    ) -> None:
        with self._tx() as db:
            db.execute("UPDATE messages SET state='failed', reason=?, code=?, finished=? "
                       "WHERE id=? AND state NOT IN ('delivered', 'failed')",
                       (reason, code, now, message))

    def recover(self, now: float) -> tuple[list[int], list[int]]:
        """After a start: (ids still queued, ids that were being sent and are now failed
        without a resend)."""
        with self._tx() as db:
            interrupted = [r[0] for r in db.execute(
                "SELECT id FROM messages WHERE direction='out' AND state='sending'")]
            db.execute(
                "UPDATE messages SET state='failed', finished=?, reason='the gateway stopped "
                "while a module was sending it; not sent again, so the recipient never gets "
                "it twice (send it anew if it did not arrive)' WHERE direction='out' AND "
                "state='sending'", (now,))
            queued = [r[0] for r in db.execute(
                "SELECT id FROM messages WHERE direction='out' AND state='queued'")]
        return queued, interrupted

    def report(self, module: str, reference: int, recipient: str, outcome: str, status: int,
               reason: str, now: float) -> dict[str, Any] | None:
        """Match a status report to the part sent from ``module`` with TP-MR
        ``reference`` to ``recipient`` (the latest such part within
        :data:`MATCH_WINDOW`); update the part and the message. The message's row after
        the update, with ``changed`` (its state moved), or None when nothing matched."""
        with self._tx() as db:
            rows = db.execute(
                "SELECT message, part, recipient FROM sent_parts WHERE module=? AND "
                "reference=? AND sent>=? ORDER BY sent DESC, message DESC",
                (module, reference, now - MATCH_WINDOW)).fetchall()
            match = next((r for r in rows if _same_number(r["recipient"], recipient)), None)
            if match is None:
                return None
            db.execute("UPDATE sent_parts SET outcome=?, status=?, reason=?, reported=? "
                       "WHERE message=? AND part=?",
                       (outcome, status, reason, now, match["message"], match["part"]))
            message = match["message"]
            parts = db.execute("SELECT outcome, reason, part FROM sent_parts WHERE message=?",
                               (message,)).fetchall()
            row = db.execute("SELECT * FROM messages WHERE id=?", (message,)).fetchone()
            before = row["state"]
            state = before
            why = row["reason"]
            failed = [p for p in parts if p["outcome"] == "failed"]
            if failed:
                state = "failed"
                why = f"part {failed[0]['part']}: {failed[0]['reason']}" if len(parts) > 1 \
                    else failed[0]["reason"]
            elif len(parts) == row["parts"] and all(p["outcome"] == "delivered"
                                                    for p in parts):
                state = "delivered"
            if state != before and before not in ("delivered", "failed"):
                db.execute("UPDATE messages SET state=?, reason=?, finished=? WHERE id=?",
                           (state, why, now, message))
            out = dict(db.execute("SELECT * FROM messages WHERE id=?", (message,)).fetchone())
            out["changed"] = out["state"] != before
            out["part"] = match["part"]
            return out

    # -- inbound ------------------------------------------------------------------------
    def add_incoming(self, *, module: str, sim: str, sender: str, text: str, receipt: str,
                     parts: int, encoding: str, note: str, service_time: str | None,
                     smsc: str, missing: Iterable[int], now: float) -> int | None:
        """Store a received message; None when this receipt is already stored (the
        module gave it again after a crash)."""
        with self._tx() as db:
            seen = db.execute("SELECT id FROM messages WHERE module=? AND receipt=?",
                              (module, receipt)).fetchone()
            if seen is not None:
                return None
            cur = db.execute(
                "INSERT INTO messages (direction, number, text, module, sim, state, parts, "
                "encoding, created, finished, receipt, note, service_time, smsc, missing) "
                "VALUES ('in', ?, ?, ?, ?, 'received', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (sender, text, module, sim, parts, encoding, now, now, receipt, note or None,
                 service_time, smsc or None, json.dumps(list(missing)) if missing else None))
            return int(cur.lastrowid or 0)

    # -- reading ------------------------------------------------------------------------
    def get(self, message: int) -> dict[str, Any] | None:
        rows = self._query("SELECT * FROM messages WHERE id=?", (message,))
        if not rows:
            return None
        out = dict(rows[0])
        out["part_reports"] = [dict(r) for r in self._query(
            "SELECT part, reference, outcome, status, reason, reported FROM sent_parts "
            "WHERE message=? ORDER BY part", (message,))]
        return out

    def messages(self, *, direction: str | None = None, state: str | None = None,
             number: str | None = None, since: float | None = None, limit: int = 100
             ) -> list[dict[str, Any]]:
        sql = "SELECT * FROM messages WHERE 1=1"
        args: list[Any] = []
        for column, value in (("direction", direction), ("state", state),
                              ("number", number)):
            if value is not None:
                sql += f" AND {column}=?"
                args.append(value)
        if since is not None:
            sql += " AND created>=?"
            args.append(since)
        sql += " ORDER BY id DESC LIMIT ?"
        args.append(limit)
        return [dict(r) for r in self._query(sql, args)]

    # -- limits -------------------------------------------------------------------------
    def add_grant(self, grant: Grant) -> None:
        with self._tx() as db:
            db.execute("INSERT INTO grants (sim, module, kind, at, count) VALUES (?,?,?,?,?)",
                       (grant.sim, grant.module, grant.kind, grant.at, grant.count))

    def call_ended(self, sim: str, at: float) -> None:
        with self._tx() as db:
            db.execute("INSERT INTO call_ends (sim, at) VALUES (?, ?) ON CONFLICT(sim) DO "
                       "UPDATE SET at=max(at, excluded.at)", (sim, at))

    def grants(self, since: float) -> list[Grant]:
        """Grants since ``since``, and the latest of every SIM and kind (its last use, and
        its last call, which may still have been up at the restart), for the limits after
        a start; older ones are deleted (they count for nothing)."""
        # UNION over whole rows, id included: two grants alike in every other column
        # (one SIM, the same second) are two grants.
        rows = self._query(
            "SELECT id, sim, module, kind, at, count FROM grants WHERE at>=? UNION "
            "SELECT id, sim, module, kind, at, count FROM grants WHERE id IN "
            "(SELECT max(id) FROM grants GROUP BY sim, kind)", (since,))
        with self._tx() as db:
            db.execute("DELETE FROM grants WHERE at<? AND id NOT IN "
                       "(SELECT max(id) FROM grants GROUP BY sim, kind)", (since,))
        return [Grant(r["sim"], r["module"], r["kind"], r["at"], r["count"]) for r in rows]

    def call_ends(self) -> list[tuple[str, float]]:
        return [(r["sim"], r["at"]) for r in self._query("SELECT sim, at FROM call_ends")]
