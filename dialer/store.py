"""Durable campaign state in SQLite: contacts, attempts (call records), DNC, counters.

The rule (DESIGN.md principle 5; issue 7 item 1): **every state change is durable before
it is acted on.** A contact is handed out only by a committed transaction that marks it
``dialing`` and writes an *attempt* row; the runner marks the attempt ``dialing`` (another
commit, which re-checks the DNC lists) *before* it sends the originate; an outcome, the
abandon counters and the next-call time are committed in one transaction before the
runner does anything that depends on them. Hence after a crash or ``kill -9``:

- an attempt still ``claimed`` was never sent to the gateway: :meth:`Store.recover`
  releases it, and the contact is due again as it was;
- an attempt still ``dialing`` may or may not have reached the network:
  :meth:`Store.reconcile` asks the caller (who asks the gateway) and otherwise records it
  as ``error`` with the strategy's retry delay, so the contact is never dialled twice in a
  row and never early;
- outcomes and abandon counters that were committed are all there (WAL with
  ``synchronous=FULL``: a committed transaction survives a process crash and power loss).

Attempt states::

    claimed --mark_dialing--> dialing --record_outcome--> done
       |                         |
       +--release (deferred)     +--reconcile after a crash--> done (error / gateway's outcome)
       v
    released

Agent sessions (schema 3) record each login to logout, committed as they happen, for the
occupancy of the reports; a crashed runner's open sessions are closed at restart by
:meth:`Store.close_stale_sessions`. Pause time is not recorded yet.

Times are epoch seconds (UTC floats) supplied by the caller; the store reads no clock.

Schema versions are applied in order by :func:`migrate` (``PRAGMA user_version``); a
database written by a newer trunkline is refused rather than misread.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trunkline.dialer.campaigns.strategies import (
    HourOfWeekStats,
    Strategy,
    hour_of_week,
    limit_block,
    local_week_start,
)
from trunkline.dialer.errors import DialerError
from trunkline.dialer.pacing.compliance import AbandonLedger
from trunkline.dialer.pacing.contacts import Contact
from trunkline.dialer.vocab import CallOutcome


class StoreError(DialerError):
    """The campaign database cannot be used as asked (unknown campaign, newer schema...)."""


#: Schema migrations, applied in order; index + 1 is the schema version they produce.
#: Never edit a released step: add a new one.
MIGRATIONS: tuple[str, ...] = (
    # 1: campaigns, lists, contacts, attempts, callbacks, DNC, abandon windows
    """
    CREATE TABLE campaign (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        strategy TEXT NOT NULL DEFAULT '{}',
        config TEXT NOT NULL DEFAULT '{}',
        created_at REAL NOT NULL
    );
    CREATE TABLE list (
        id INTEGER PRIMARY KEY,
        campaign_id INTEGER NOT NULL REFERENCES campaign(id),
        name TEXT NOT NULL,
        source TEXT,
        imported_at REAL NOT NULL,
        rows_total INTEGER NOT NULL DEFAULT 0,
        rows_ok INTEGER NOT NULL DEFAULT 0,
        rows_bad INTEGER NOT NULL DEFAULT 0,
        rows_merged INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE contact (
        id INTEGER PRIMARY KEY,
        campaign_id INTEGER NOT NULL REFERENCES campaign(id),
        number TEXT NOT NULL,
        time_zone TEXT,
        fields TEXT NOT NULL DEFAULT '{}',
        state TEXT NOT NULL DEFAULT 'ready'
            CHECK (state IN ('ready', 'dialing', 'done', 'dnc')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_at REAL NOT NULL DEFAULT 0,
        lockout_until REAL NOT NULL DEFAULT 0,
        callback_agent TEXT,
        last_outcome TEXT,
        last_at REAL,
        priority INTEGER NOT NULL DEFAULT 0,
        created_at REAL NOT NULL,
        UNIQUE (campaign_id, number)
    );
    CREATE INDEX contact_due ON contact (campaign_id, state, priority, next_at);
    CREATE INDEX contact_number ON contact (number);
    CREATE TABLE contact_list (
        contact_id INTEGER NOT NULL REFERENCES contact(id),
        list_id INTEGER NOT NULL REFERENCES list(id),
        line INTEGER NOT NULL,
        PRIMARY KEY (contact_id, list_id)
    );
    CREATE TABLE import_error (
        list_id INTEGER NOT NULL REFERENCES list(id),
        line INTEGER NOT NULL,
        reason TEXT NOT NULL,
        raw TEXT NOT NULL
    );
    CREATE TABLE attempt (
        id INTEGER PRIMARY KEY,
        contact_id INTEGER NOT NULL REFERENCES contact(id),
        campaign_id INTEGER NOT NULL REFERENCES campaign(id),
        number TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('claimed', 'dialing', 'done', 'released')),
        claimed_at REAL NOT NULL,
        dialed_at REAL,
        answered_at REAL,
        ended_at REAL,
        outcome TEXT,
        cause INTEGER,
        agent TEXT,
        call_ref TEXT,
        local_how INTEGER,
        talk REAL,
        wrap REAL,
        note TEXT
    );
    CREATE INDEX attempt_open ON attempt (state) WHERE state IN ('claimed', 'dialing');
    CREATE INDEX attempt_contact ON attempt (contact_id, claimed_at);
    CREATE INDEX attempt_campaign ON attempt (campaign_id, ended_at);
    CREATE TABLE callback (
        id INTEGER PRIMARY KEY,
        contact_id INTEGER NOT NULL REFERENCES contact(id),
        due_at REAL NOT NULL,
        agent TEXT,
        created_by TEXT,
        note TEXT,
        state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'taken')),
        created_at REAL NOT NULL
    );
    CREATE TABLE dnc (
        scope TEXT NOT NULL,
        number TEXT NOT NULL,
        prefix INTEGER NOT NULL DEFAULT 0,
        kind TEXT NOT NULL DEFAULT 'dnc',
        source TEXT,
        added_at REAL NOT NULL,
        PRIMARY KEY (scope, number, prefix)
    );
    CREATE TABLE abandon_window (
        campaign_id INTEGER NOT NULL REFERENCES campaign(id),
        window INTEGER NOT NULL,
        live REAL NOT NULL DEFAULT 0,
        abandoned REAL NOT NULL DEFAULT 0,
        machines REAL NOT NULL DEFAULT 0,
        PRIMARY KEY (campaign_id, window)
    );
    """,
    # 2: preview records (shown to an agent first, even inside an automatic campaign)
    """
    ALTER TABLE contact ADD COLUMN preview INTEGER NOT NULL DEFAULT 0;
    """,
    # 3: agent sessions (logged-in time, the denominator of occupancy in the reports)
    """
    CREATE TABLE agent_session (
        id INTEGER PRIMARY KEY,
        agent TEXT NOT NULL,
        campaigns TEXT NOT NULL,
        started_at REAL NOT NULL,
        ended_at REAL,
        ended_how TEXT,
        CHECK ((ended_at IS NULL) = (ended_how IS NULL)),
        CHECK (ended_at IS NULL OR ended_at >= started_at)
    );
    CREATE INDEX agent_session_time ON agent_session (started_at, ended_at);
    CREATE INDEX agent_session_open ON agent_session (agent) WHERE ended_at IS NULL;
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)
GLOBAL = ""  # the DNC scope that applies to every campaign
_OPEN_STATES = ("claimed", "dialing")
#: Outcomes after which a pending callback is dropped: the number cannot be called.
_FINAL_NO_CALLBACK = frozenset({"invalid_number"})


def migrate(conn: sqlite3.Connection) -> int:
    """Bring ``conn``'s schema to :data:`SCHEMA_VERSION`; returns the version found.

    Each step runs in its own transaction with the version bump, so a crash mid-migration
    leaves the previous version intact.
    """
    found = conn.execute("PRAGMA user_version").fetchone()[0]
    if found > SCHEMA_VERSION:
        raise StoreError(f"the campaign database has schema version {found}, newer than "
                         f"this trunkline understands ({SCHEMA_VERSION}); upgrade trunkline")
    for version in range(found + 1, SCHEMA_VERSION + 1):
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _statements(MIGRATIONS[version - 1]):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {version}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return found


def _statements(script: str) -> Iterator[str]:
    buf = ""
    for line in script.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            if buf.strip():
                yield buf.strip()
            buf = ""
    if buf.strip():
        yield buf.strip()


@dataclass(frozen=True, slots=True)
class Claim:
    """A contact handed out for one call; ``attempt`` is the call record's id."""

    attempt: int
    contact: int
    campaign: str
    number: str
    time_zone: str | None
    fields: Mapping[str, str]
    preview: bool = False
    callback_agent: str | None = None


@dataclass(frozen=True, slots=True)
class InFlight:
    """An attempt found open after a restart."""

    attempt: int
    contact: int
    campaign: str
    number: str
    state: str
    claimed_at: float
    dialed_at: float | None
    call_ref: str | None


@dataclass(frozen=True, slots=True)
class Resolution:
    """What the gateway says about an attempt that was in flight when we stopped.

    ``outcome`` None means the gateway does not know the call (it never went out, or the
    gateway restarted too): it is recorded as ``error`` and retried after the strategy's
    delay for errors, never at once.
    """

    outcome: str | None = None
    cause: int | None = None
    still_up: bool = False  # the call is still up on the gateway: leave it dialing


@dataclass(frozen=True, slots=True)
class NewContact:
    """One row to add: the E.164 ``number`` and the columns that travel with it."""

    number: str
    fields: Mapping[str, str]
    time_zone: str | None = None
    line: int = 0
    priority: int = 0


class Store:
    """The campaign database. One connection, used from one thread at a time.

    ``path`` may be ``":memory:"`` for tests. Several processes may share a file: every
    write is a ``BEGIN IMMEDIATE`` transaction, so two dialers never claim one contact.
    """

    def __init__(self, path: str | Path, *, timeout: float = 10.0) -> None:
        self.path = str(path)
        self._conn = sqlite3.connect(self.path, timeout=timeout, isolation_level=None,
                                     check_same_thread=False)
        self._conn.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        self._depth = 0
        if self.path != ":memory:":
            mode = self._conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if mode.lower() != "wal":
                raise StoreError(f"{self.path}: cannot switch to WAL journal (got {mode})")
        # FULL: a commit is on disk before COMMIT returns, so "durable before acted on"
        # holds across power loss too, not only across a process crash.
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.execute("PRAGMA foreign_keys=ON")
        self.schema_found = migrate(self._conn)
        self._campaign_ids: dict[str, int] = {}
        self._strategies: dict[str, Strategy] = {}

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One ``BEGIN IMMEDIATE ... COMMIT``; nested uses join the outer transaction."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self._conn
                finally:
                    self._depth -= 1
                return
            self._conn.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield self._conn
            except BaseException:
                self._depth = 0
                self._conn.execute("ROLLBACK")
                raise
            self._depth = 0
            self._conn.execute("COMMIT")

    def query(self, sql: str, params: Iterable[Any] | Mapping[str, Any] = ()
              ) -> list[sqlite3.Row]:
        """Read-only SQL for reports and tests."""
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    # -- campaigns -----------------------------------------------------------------------

    def create_campaign(self, name: str, strategy: Strategy | None = None, *,
                        config: Mapping[str, Any] | None = None, now: float = 0.0) -> int:
        """Define a campaign (or update its strategy and config); returns its id."""
        if not name:
            raise StoreError("a campaign needs a name")
        strategy = strategy or Strategy()
        with self.transaction() as db:
            db.execute(
                "INSERT INTO campaign (name, strategy, config, created_at) VALUES (?,?,?,?) "
                "ON CONFLICT(name) DO UPDATE SET strategy=excluded.strategy, "
                "config=excluded.config",
                (name, json.dumps(strategy.to_dict()), json.dumps(dict(config or {})), now))
            cid = db.execute("SELECT id FROM campaign WHERE name=?", (name,)).fetchone()[0]
        self._campaign_ids[name] = cid
        self._strategies[name] = strategy
        return cid

    def campaigns(self) -> list[str]:
        return [r[0] for r in self.query("SELECT name FROM campaign ORDER BY name")]

    def campaign_id(self, name: str) -> int:
        cid = self._campaign_ids.get(name)
        if cid is None:
            row = self.query("SELECT id FROM campaign WHERE name=?", (name,))
            if not row:
                known = ", ".join(self.campaigns()) or "none"
                raise StoreError(f"no campaign {name!r} (known: {known})")
            cid = self._campaign_ids[name] = row[0][0]
        return cid

    def strategy(self, name: str) -> Strategy:
        strategy = self._strategies.get(name)
        if strategy is None:
            self.campaign_id(name)
            raw = self.query("SELECT strategy FROM campaign WHERE name=?", (name,))[0][0]
            strategy = self._strategies[name] = Strategy.from_dict(json.loads(raw))
        return strategy

    def campaign_config(self, name: str) -> dict[str, Any]:
        self.campaign_id(name)
        return json.loads(self.query("SELECT config FROM campaign WHERE name=?", (name,))[0][0])

    # -- contacts ------------------------------------------------------------------------

    def add_list(self, campaign: str, name: str, rows: Iterable[NewContact], *,
                 now: float, source: str | None = None,
                 errors: Iterable[tuple[int, str, str]] = ()) -> dict[str, int]:
        """Add one imported list in one transaction: all its good rows, or none.

        A number already in the campaign (from this list or an earlier one) is merged:
        the existing contact keeps its history and state, gains the new non-empty columns,
        and is linked to this list too. Returns counts: ``added``, ``merged``, ``errors``.
        """
        cid = self.campaign_id(campaign)
        added = merged = 0
        errors = list(errors)
        with self.transaction() as db:
            list_id = db.execute(
                "INSERT INTO list (campaign_id, name, source, imported_at) VALUES (?,?,?,?)",
                (cid, name, source, now)).lastrowid
            total = 0
            for row in rows:
                total += 1
                old = db.execute("SELECT id, fields, time_zone FROM contact "
                                 "WHERE campaign_id=? AND number=?",
                                 (cid, row.number)).fetchone()
                if old is None:
                    contact_id = db.execute(
                        "INSERT INTO contact (campaign_id, number, time_zone, fields, "
                        "priority, created_at) VALUES (?,?,?,?,?,?)",
                        (cid, row.number, row.time_zone,
                         json.dumps(dict(row.fields), ensure_ascii=False), row.priority,
                         now)).lastrowid
                    added += 1
                else:
                    contact_id = old["id"]
                    fields = json.loads(old["fields"])
                    fields.update({k: v for k, v in row.fields.items() if v != ""})
                    db.execute("UPDATE contact SET fields=?, time_zone=COALESCE(?, time_zone)"
                               " WHERE id=?",
                               (json.dumps(fields, ensure_ascii=False), row.time_zone,
                                contact_id))
                    merged += 1
                db.execute("INSERT OR IGNORE INTO contact_list (contact_id, list_id, line) "
                           "VALUES (?,?,?)", (contact_id, list_id, row.line))
            db.executemany("INSERT INTO import_error (list_id, line, reason, raw) "
                           "VALUES (?,?,?,?)", [(list_id, *e) for e in errors])
            db.execute("UPDATE list SET rows_total=?, rows_ok=?, rows_bad=?, rows_merged=? "
                       "WHERE id=?", (total + len(errors), added, len(errors), merged, list_id))
        return {"list": list_id, "added": added, "merged": merged, "errors": len(errors)}

    def contact_fields(self, contact_id: int) -> dict[str, str]:
        """The custom columns of a contact, for the agent's screen."""
        row = self.query("SELECT fields FROM contact WHERE id=?", (contact_id,))
        if not row:
            raise StoreError(f"no contact {contact_id}")
        return json.loads(row[0][0])

    def contact(self, contact_id: int) -> sqlite3.Row:
        row = self.query("SELECT * FROM contact WHERE id=?", (contact_id,))
        if not row:
            raise StoreError(f"no contact {contact_id}")
        return row[0]

    # -- DNC -----------------------------------------------------------------------------

    def add_dnc(self, numbers: Iterable[str], *, now: float, campaign: str | None = None,
                kind: str = "dnc", source: str | None = None) -> int:
        """Add E.164 numbers (or prefixes ending in ``*``) to the global or a campaign list.

        Effective at once: every claim checks the lists inside its transaction.
        """
        if campaign is not None:
            self.campaign_id(campaign)  # raises for an unknown campaign
        scope = GLOBAL if campaign is None else campaign
        rows = []
        for number in numbers:
            prefix = number.endswith("*")
            rows.append((scope, number.rstrip("*"), int(prefix), kind, source, now))
        with self.transaction() as db:
            before = db.total_changes
            db.executemany("INSERT OR IGNORE INTO dnc (scope, number, prefix, kind, source, "
                           "added_at) VALUES (?,?,?,?,?,?)", rows)
            return db.total_changes - before

    def remove_dnc(self, numbers: Iterable[str], *, campaign: str | None = None) -> int:
        scope = GLOBAL if campaign is None else campaign
        with self.transaction() as db:
            before = db.total_changes
            for number in numbers:
                db.execute("DELETE FROM dnc WHERE scope=? AND number=? AND prefix=?",
                           (scope, number.rstrip("*"), int(number.endswith("*"))))
            return db.total_changes - before

    def dnc_hit(self, number: str, campaign: str) -> str | None:
        """The kind of list entry (``dnc``, ``blacklist``...) that bars ``number``, or None."""
        with self._lock:
            return _dnc_hit(self._conn, number, campaign)

    # -- claiming ------------------------------------------------------------------------

    def claim_next(self, campaign: str, now: float, *, scan: int = 64) -> Claim | None:
        """Hand out the next due contact of ``campaign``, committed as ``dialing``.

        Checks, inside the one transaction: the DNC lists (a hit ends the contact as
        ``dnc``), the lockout after an abandon, the per-day and per-week limits and the
        calling window in the contact's time zone (a contact that fails a time check is
        moved to when it passes, so it is not scanned again before then). Due callbacks
        for anyone come first, as preview records; personal callbacks are left for
        :meth:`claim_callback`.
        """
        cid = self.campaign_id(campaign)
        strategy = self.strategy(campaign)
        with self.transaction() as db:
            rows = db.execute(
                "SELECT * FROM contact WHERE campaign_id=? AND state='ready' AND next_at<=? "
                "AND callback_agent IS NULL ORDER BY priority DESC, next_at, id LIMIT ?",
                (cid, now, scan)).fetchall()
            for row in rows:
                claim = self._try_claim(db, row, campaign, cid, strategy, now)
                if claim is not None:
                    return claim
        return None

    def claim_callback(self, agent: str, now: float) -> Claim | None:
        """The agent's own due callback (personal callbacks), claimed like any contact."""
        with self.transaction() as db:
            rows = db.execute(
                "SELECT c.*, k.name AS campaign_name FROM contact c "
                "JOIN campaign k ON k.id = c.campaign_id WHERE c.callback_agent=? "
                "AND c.state='ready' AND c.next_at<=? ORDER BY c.next_at LIMIT 16",
                (agent, now)).fetchall()
            for row in rows:
                name = row["campaign_name"]
                claim = self._try_claim(db, row, name, row["campaign_id"],
                                        self.strategy(name), now, callback=True)
                if claim is not None:
                    return claim
        return None

    def _try_claim(self, db: sqlite3.Connection, row: sqlite3.Row, campaign: str, cid: int,
                   strategy: Strategy, now: float, *, callback: bool = False) -> Claim | None:
        contact_id, number = row["id"], row["number"]
        hit = _dnc_hit(db, number, campaign)
        if hit is not None:
            db.execute("UPDATE contact SET state='dnc', last_outcome=?, last_at=? WHERE id=?",
                       (hit, now, contact_id))
            return None
        tz = strategy.zone(row["time_zone"])
        wait_until = row["lockout_until"] if row["lockout_until"] > now else None
        if wait_until is None:
            calls = [r[0] for r in db.execute(
                "SELECT claimed_at FROM attempt WHERE contact_id=? AND claimed_at>=? "
                "AND state!='released'",
                (contact_id, local_week_start(now, tz) - 1.0))]
            wait_until = limit_block(strategy, now, tz, calls)
        opens = strategy.windows.next_open(wait_until or now, tz)
        if opens is None:  # no window left in the horizon: park it far away, visibly
            db.execute("UPDATE contact SET next_at=?, last_outcome='no_window' WHERE id=?",
                       (now + 365 * 86_400.0, contact_id))
            return None
        if opens > now:
            db.execute("UPDATE contact SET next_at=? WHERE id=?", (opens, contact_id))
            return None
        pending_cb = db.execute("SELECT id FROM callback WHERE contact_id=? AND "
                                "state='pending' AND due_at<=?", (contact_id, now)).fetchone()
        attempt = db.execute(
            "INSERT INTO attempt (contact_id, campaign_id, number, state, claimed_at, "
            "local_how) VALUES (?,?,?,'claimed',?,?)",
            (contact_id, cid, number, now, hour_of_week(now, tz))).lastrowid
        db.execute("UPDATE contact SET state='dialing' WHERE id=? AND state='ready'",
                   (contact_id,))
        if db.execute("SELECT changes()").fetchone()[0] != 1:  # pragma: no cover - guarded
            raise StoreError(f"contact {contact_id} was claimed twice")
        if pending_cb is not None:
            db.execute("UPDATE callback SET state='taken' WHERE id=?", (pending_cb[0],))
        return Claim(attempt, contact_id, campaign, number, row["time_zone"],
                     json.loads(row["fields"]),
                     preview=bool(row["preview"]) or pending_cb is not None,
                     callback_agent=row["callback_agent"] if callback else None)

    def release(self, attempt: int, *, not_before: float) -> None:
        """Give a claimed contact back undialled (the engine deferred it)."""
        with self.transaction() as db:
            row = db.execute("SELECT contact_id, state FROM attempt WHERE id=?",
                             (attempt,)).fetchone()
            if row is None:
                raise StoreError(f"no attempt {attempt}")
            if row["state"] != "claimed":
                raise StoreError(f"cannot release attempt {attempt}: state is {row['state']}")
            db.execute("UPDATE attempt SET state='released', ended_at=? WHERE id=?",
                       (not_before, attempt))
            db.execute("UPDATE contact SET state='ready', next_at=MAX(next_at, ?) "
                       "WHERE id=? AND state='dialing'", (not_before, row["contact_id"]))

    def mark_dialing(self, attempt: int, now: float, *, call_ref: str | None = None,
                     agent: str | None = None) -> bool:
        """Commit that the originate is about to be sent; False if it must not be.

        Re-checks the DNC lists, because a preview record may have been held for a while
        since it was claimed: on a hit the attempt is released, the contact ends as
        ``dnc``, and the caller must not dial (and tells the engine the call failed).
        """
        with self.transaction() as db:
            row = db.execute("SELECT a.state, a.number, a.contact_id, k.name FROM attempt a "
                             "JOIN campaign k ON k.id=a.campaign_id WHERE a.id=?",
                             (attempt,)).fetchone()
            if row is None:
                raise StoreError(f"no attempt {attempt}")
            if row["state"] != "claimed":
                raise StoreError(f"cannot dial attempt {attempt}: state is {row['state']}")
            hit = _dnc_hit(db, row["number"], row["name"])
            if hit is not None:
                db.execute("UPDATE attempt SET state='released', ended_at=?, note=? "
                           "WHERE id=?", (now, f"on {hit} list at dial time", attempt))
                db.execute("UPDATE contact SET state='dnc', last_outcome=?, last_at=? "
                           "WHERE id=?", (hit, now, row["contact_id"]))
                return False
            db.execute("UPDATE attempt SET state='dialing', dialed_at=?, call_ref=?, agent=? "
                       "WHERE id=?", (now, call_ref, agent, attempt))
            return True

    def set_call_ref(self, attempt: int, call_ref: str) -> None:
        """Remember the gateway's call id once the originate returned it."""
        with self.transaction() as db:
            db.execute("UPDATE attempt SET call_ref=? WHERE id=?", (call_ref, attempt))

    # -- outcomes ------------------------------------------------------------------------

    def mark_answered(self, attempt: int, kind: str, now: float, *, window: int = 0) -> None:
        """Count a live answer (or machine) in the abandon window at the moment it happens.

        ``window`` is :func:`trunkline.dialer.pacing.compliance.window_index` of ``now`` under the
        campaign's regime; the runner knows the regime, the store does not need to.
        """
        with self.transaction() as db:
            row = db.execute("SELECT campaign_id, answered_at FROM attempt WHERE id=?",
                             (attempt,)).fetchone()
            if row is None:
                raise StoreError(f"no attempt {attempt}")
            if row["answered_at"] is not None:
                return  # idempotent
            db.execute("UPDATE attempt SET answered_at=? WHERE id=?", (now, attempt))
            column = "live" if kind == "human" else "machines" if kind == "machine" else None
            if column is not None:
                _bump(db, row["campaign_id"], window, column)

    def record_outcome(self, attempt: int, outcome: str, now: float, *,
                       window: int | None = None, cause: int | None = None,
                       agent: str | None = None, talk: float | None = None,
                       wrap: float | None = None, redial_not_before: float | None = None,
                       stats: HourOfWeekStats | None = None) -> float | None:
        """Commit a call's final outcome and when its contact is due again.

        In one transaction: the attempt row, the contact's state and next time (by the
        campaign's strategy; ``redial_not_before`` from the engine's regulatory lockouts
        and the strategy's ``abandon_lockout`` both apply), and the abandon counters of
        ``window``. Idempotent: a second call for a finished attempt changes nothing.
        Returns the contact's next due time, or None when it is finished.
        """
        outcome = str(CallOutcome(outcome))
        with self.transaction() as db:
            row = db.execute(
                "SELECT a.*, c.attempts, c.time_zone, k.name AS campaign_name FROM attempt a "
                "JOIN contact c ON c.id=a.contact_id JOIN campaign k ON k.id=a.campaign_id "
                "WHERE a.id=?", (attempt,)).fetchone()
            if row is None:
                raise StoreError(f"no attempt {attempt}")
            if row["state"] == "done":
                return None
            if row["state"] == "released":
                raise StoreError(f"cannot record attempt {attempt}: it was released undialled")
            strategy = self.strategy(row["campaign_name"])
            tz = strategy.zone(row["time_zone"])
            attempts = row["attempts"] + 1
            db.execute("UPDATE attempt SET state='done', ended_at=?, outcome=?, cause=?, "
                       "agent=COALESCE(?, agent), talk=?, wrap=? WHERE id=?",
                       (now, outcome, cause, agent, talk, wrap, attempt))
            if window is not None:
                if outcome == "human" and row["answered_at"] is None:
                    _bump(db, row["campaign_id"], window, "live")
                if outcome == "abandoned":
                    if row["answered_at"] is None:
                        _bump(db, row["campaign_id"], window, "live")
                    _bump(db, row["campaign_id"], window, "abandoned")
                if outcome == "machine" and row["answered_at"] is None:
                    _bump(db, row["campaign_id"], window, "machines")
            lockout = 0.0
            if outcome == "abandoned" and strategy.abandon_lockout:
                lockout = now + strategy.abandon_lockout
            if redial_not_before is not None:
                lockout = max(lockout, redial_not_before)
            due = strategy.next_attempt(outcome, attempts, now, tz, stats)
            if due is not None and lockout:
                due = strategy.windows.next_open(max(due, lockout), tz)
            callback_agent = None
            callback = db.execute(  # a callback set during the call wins over the retry rule
                "SELECT due_at, agent FROM callback WHERE contact_id=? AND state='pending' "
                "ORDER BY id DESC LIMIT 1", (row["contact_id"],)).fetchone()
            if callback is not None and outcome not in _FINAL_NO_CALLBACK:
                due, callback_agent = max(callback["due_at"], lockout), callback["agent"]
            state = "ready" if due is not None else "done"
            db.execute("UPDATE contact SET state=?, attempts=?, next_at=?, "
                       "lockout_until=MAX(lockout_until, ?), last_outcome=?, last_at=?, "
                       "callback_agent=? WHERE id=?",
                       (state, attempts, due if due is not None else now, lockout, outcome,
                        now, callback_agent, row["contact_id"]))
            return due

    def schedule_callback(self, contact_id: int, due_at: float, *, now: float,
                          agent: str | None = None, created_by: str | None = None,
                          note: str | None = None) -> int:
        """An agent asks for a callback: personal (``agent``) or for anyone (None).

        The contact becomes due at ``due_at`` whatever its retry schedule said; a contact
        being dialled keeps its call and takes the callback when that call is recorded.
        """
        with self.transaction() as db:
            row = db.execute("SELECT state FROM contact WHERE id=?", (contact_id,)).fetchone()
            if row is None:
                raise StoreError(f"no contact {contact_id}")
            if row["state"] == "dnc":
                raise StoreError(f"cannot schedule a callback for contact {contact_id}: "
                                 "it is on a do-not-call list")
            cb = db.execute("INSERT INTO callback (contact_id, due_at, agent, created_by, "
                            "note, created_at) VALUES (?,?,?,?,?,?)",
                            (contact_id, due_at, agent, created_by, note, now)).lastrowid
            db.execute("UPDATE contact SET next_at=?, callback_agent=?, "
                       "state=CASE state WHEN 'done' THEN 'ready' ELSE state END WHERE id=?",
                       (due_at, agent, contact_id))
            return cb

    # -- restart -------------------------------------------------------------------------

    def in_flight(self) -> list[InFlight]:
        rows = self.query(
            "SELECT a.id, a.contact_id, k.name, a.number, a.state, a.claimed_at, a.dialed_at,"
            " a.call_ref FROM attempt a JOIN campaign k ON k.id=a.campaign_id "
            "WHERE a.state IN ('claimed', 'dialing') ORDER BY a.id")
        return [InFlight(*r) for r in rows]

    def recover(self, now: float) -> int:
        """Release every attempt that was claimed but never marked dialing (safe: the
        originate is sent only after :meth:`mark_dialing` commits). Returns how many."""
        released = 0
        for item in self.in_flight():
            if item.state == "claimed":
                self.release(item.attempt, not_before=now)
                released += 1
        return released

    def reconcile(self, resolve: Callable[[InFlight], Resolution], now: float, *,
                  window_of: Callable[[str, float], int] | None = None) -> dict[str, int]:
        """After a restart: settle every attempt that may have reached the network.

        ``resolve`` asks the gateway about one attempt (``calls.list``, the call record).
        Unknown calls are recorded as ``error`` (note ``"unknown after restart"``), so
        the contact waits for the strategy's error delay: never dialled twice in a row.
        """
        counts = {"released": self.recover(now), "resolved": 0, "unknown": 0, "still_up": 0}
        for item in self.in_flight():
            answer = resolve(item)
            if answer.still_up:
                counts["still_up"] += 1
                continue
            window = window_of(item.campaign, now) if window_of is not None else None
            if answer.outcome is None:
                self.record_outcome(item.attempt, "error", now, window=None)
                with self.transaction() as db:
                    db.execute("UPDATE attempt SET note='unknown after restart' WHERE id=?",
                               (item.attempt,))
                counts["unknown"] += 1
            else:
                self.record_outcome(item.attempt, answer.outcome, now, cause=answer.cause,
                                    window=window)
                counts["resolved"] += 1
        return counts

    # -- agent sessions ------------------------------------------------------------------

    def open_agent_session(self, agent: str, campaigns: Sequence[str], now: float) -> int:
        """Record that ``agent`` logged in to ``campaigns`` at ``now``; returns the session id.

        Committed before it returns, so logged-in time (the denominator of occupancy in
        :mod:`trunkline.dialer.campaigns.reports`) is never lost to a crash: a session a crashed
        runner left open is closed at restart by :meth:`close_stale_sessions`. An agent is
        logged in once, so a session of the same agent still open here is such a leftover
        too: it is closed the same way (``crash``, at the agent's last known activity)
        rather than counted twice.

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
                _close_stale(db, row, now)
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
                _close_stale(db, row, now)
            return len(rows)

    # -- abandon counters and learning ---------------------------------------------------

    def abandon_counts(self, campaign: str, window: int) -> tuple[float, float, float]:
        """``(live, abandoned, machines)`` recorded in ``window`` for ``campaign``."""
        rows = self.query("SELECT live, abandoned, machines FROM abandon_window "
                          "WHERE campaign_id=? AND window=?",
                          (self.campaign_id(campaign), window))
        return tuple(rows[0]) if rows else (0.0, 0.0, 0.0)  # type: ignore[return-value]

    def restore_ledger(self, ledger: AbandonLedger, campaign: str, window: int) -> None:
        """Seed an engine's ledger (``engine.ledger(name)``) with the stored window.

        UK: each machine adds the AMD false-positive share to both sides, as
        :meth:`AbandonLedger.record_machine` does live.
        """
        live, abandoned, machines = self.abandon_counts(campaign, window)
        f = ledger.amd_false_positive_rate if ledger.regime == "uk" else 0.0
        ledger.window = window
        ledger.live = live + f * machines
        ledger.abandoned = abandoned + f * machines

    def hour_stats(self, campaign: str, *, since: float = 0.0) -> HourOfWeekStats:
        """Dials and live answers by the contact's local hour of week (best time to call)."""
        stats = HourOfWeekStats()
        for how, n, live in self.query(
                "SELECT local_how, COUNT(*), SUM(outcome IN ('human', 'abandoned')) "
                "FROM attempt WHERE campaign_id=? AND state='done' AND claimed_at>=? "
                "AND local_how IS NOT NULL GROUP BY local_how",
                (self.campaign_id(campaign), since)):
            stats.dials[how] += n
            stats.live[how] += live or 0
        return stats


def _bump(db: sqlite3.Connection, campaign_id: int, window: int, column: str) -> None:
    db.execute(f"INSERT INTO abandon_window (campaign_id, window, {column}) VALUES (?,?,1) "
               f"ON CONFLICT(campaign_id, window) DO UPDATE SET {column}={column}+1",
               (campaign_id, window))


def _close_stale(db: sqlite3.Connection, session: sqlite3.Row, now: float) -> None:
    """Close an open agent session as ``crash`` at its agent's last known activity
    (see :meth:`Store.close_stale_sessions`), never after ``now`` nor after the start
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


def _dnc_hit(db: sqlite3.Connection, number: str, campaign: str) -> str | None:
    row = db.execute(
        "SELECT kind FROM dnc WHERE scope IN (?, ?) AND ((prefix=0 AND number=?) OR "
        "(prefix=1 AND substr(?, 1, length(number))=number)) LIMIT 1",
        (GLOBAL, campaign, number, number)).fetchone()
    return row[0] if row else None


class StoreContacts:
    """The engine's :class:`~trunkline.dialer.pacing.contacts.ContactProvider` over a
    :class:`Store`, plus :meth:`persist`, which makes an engine's output durable before it
    is carried out.

    Engine time and store time may differ: ``to_epoch(now)`` converts engine time to
    epoch seconds (identity when the runner feeds the engine epoch time).

    The runner's loop, per batch of actions from ``engine.handle``::

        refused = contacts.persist(actions, now)       # commits first
        for action in actions:                          # then acts
            if isinstance(action, Dial) and action.call_id in refused:
                engine.handle(CallFailed(action.call_id, "rejected"), now)  # DNC at dial
                continue
            ... send to the gateway ...
    """

    def __init__(self, store: Store, *, to_epoch: Callable[[float], float] = float,
                 window_of: Callable[[str, float], int] | None = None,
                 stats_of: Callable[[str], HourOfWeekStats | None] | None = None) -> None:
        self.store = store
        self._to_epoch = to_epoch
        self._window_of = window_of
        self._stats_of = stats_of
        self._claims: dict[str, Claim] = {}     # contact id -> claim (held by the engine)
        self._calls: dict[int, Claim] = {}      # engine call id -> claim (dialled)
        self._refused: set[int] = set()

    def next_contact(self, campaign: str, now: float) -> Contact | None:
        claim = self.store.claim_next(campaign, self._to_epoch(now))
        if claim is None:
            return None
        key = str(claim.contact)
        self._claims[key] = claim
        return Contact(key, claim.number, campaign, preview=claim.preview)

    def defer(self, contact: Contact, until: float) -> None:
        claim = self._claims.pop(contact.id, None)
        if claim is None:
            raise StoreError(f"contact {contact.id!r} was not handed out by this store")
        self.store.release(claim.attempt, not_before=self._to_epoch(until))

    def claim(self, call_id: int) -> Claim | None:
        """The claim behind an engine call (fields for the agent's screen, attempt id)."""
        return self._calls.get(call_id)

    def persist(self, actions: Iterable[Any], now: float) -> set[int]:
        """Commit what ``actions`` change, before any of them is carried out.

        ``Dial``: :meth:`Store.mark_dialing` (the call ids it refuses, because the number
        went on a DNC list since it was claimed, are returned: do not dial them).
        ``RecordOutcome``: :meth:`Store.record_outcome` with the abandon window.
        """
        from trunkline.dialer.pacing.actions import Dial, RecordOutcome

        t = self._to_epoch(now)
        refused: set[int] = set()
        for action in actions:
            if isinstance(action, Dial):
                claim = self._claims.pop(action.contact.id)
                self._calls[action.call_id] = claim
                if not self.store.mark_dialing(claim.attempt, t, agent=action.agent):
                    refused.add(action.call_id)
                    self._refused.add(action.call_id)
            elif isinstance(action, RecordOutcome):
                claim = self._calls.pop(action.call_id, None)
                if claim is None or action.call_id in self._refused:
                    self._refused.discard(action.call_id)
                    continue
                window = (self._window_of(action.campaign, now)
                          if self._window_of is not None else None)
                stats = self._stats_of(action.campaign) if self._stats_of else None
                redial = (self._to_epoch(action.redial_not_before)
                          if action.redial_not_before is not None else None)
                self.store.record_outcome(claim.attempt, str(action.outcome), t,
                                          window=window, redial_not_before=redial,
                                          stats=stats)
        return refused
