"""The campaign database's connection, its transactions, and the campaigns in it.

:class:`Database` is the base every part of :class:`~trunkline.dialer.store.Store` builds
on (contacts, claims, outcomes...): one SQLite connection in WAL mode with
``synchronous=FULL``, ``BEGIN IMMEDIATE`` transactions that nest, and the campaigns
(names, ids, strategies, settings) every other table refers to.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Self

from trunkline.dialer.campaigns.strategies import Strategy
from trunkline.dialer.errors import StoreError
from trunkline.dialer.store.schema import migrate

#: What SQLite's messages mean to an operator.
_REASONS = {
    "file is not a database": "it is not a database (a corrupt file, or not "
                              "trunkline's)",
    "database disk image is malformed": "the database file is corrupt (restore a backup)",
    "database is locked": "another process holds the database locked; try again, or "
                          "stop the other dialer",
    "unable to open database file": "cannot open or create the file (permissions?)",
    "database or disk is full": "the disk is full",
    "attempt to write a readonly database": "the database file is read-only",
}


def _reason(err: sqlite3.Error) -> str:
    text = str(err)
    return next((why for key, why in _REASONS.items() if key in text), text)


class Database:
    """The campaign database. One connection, used from one thread at a time.

    ``path`` may be ``":memory:"`` for tests. Several processes may share a file: every
    write is a ``BEGIN IMMEDIATE`` transaction, so two dialers never claim one contact.
    """

    def __init__(self, path: str | Path, *, timeout: float = 10.0) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            where = Path(self.path)
            if where.is_dir():
                raise StoreError(f"{self.path}: is a folder, not a campaign database file")
            if not where.parent.is_dir():
                raise StoreError(f"{self.path}: the folder {where.parent} does not exist")
        try:
            self._conn = sqlite3.connect(self.path, timeout=timeout, isolation_level=None,
                                         check_same_thread=False)
            self._conn.row_factory = sqlite3.Row
            self._lock = threading.RLock()
            self._depth = 0
            if self.path != ":memory:":
                mode = self._conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
                if mode.lower() != "wal":
                    raise StoreError(f"{self.path}: cannot switch to WAL journal (got "
                                     f"{mode})")
            # FULL: a commit is on disk before COMMIT returns, so "durable before acted
            # on" holds across power loss too, not only across a process crash.
            self._conn.execute("PRAGMA synchronous=FULL")
            self._conn.execute("PRAGMA foreign_keys=ON")
            self.schema_found = migrate(self._conn)
        except sqlite3.Error as err:
            raise StoreError(f"{self.path}: cannot open the campaign database: "
                             f"{_reason(err)}") from err
        self._campaign_ids: dict[str, int] = {}
        self._strategies: dict[str, Strategy] = {}

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Self:
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
            try:
                self._conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as err:
                raise StoreError(f"{self.path}: {_reason(err)}") from err
            self._depth = 1
            try:
                yield self._conn
                self._conn.execute("COMMIT")
            except BaseException as exc:
                # SQLite may have rolled back itself (a full disk at COMMIT): a second
                # ROLLBACK would hide the cause behind "no transaction is active".
                if self._conn.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        self._conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error) and not isinstance(
                        exc, sqlite3.IntegrityError):
                    raise StoreError(f"{self.path}: {_reason(exc)}; nothing of this "
                                     "transaction was stored") from exc
                raise
            finally:
                self._depth = 0

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

    def campaign_created_at(self, name: str) -> float:
        """When campaign ``name`` was first created (epoch seconds)."""
        self.campaign_id(name)
        return float(self.query("SELECT created_at FROM campaign WHERE name=?",
                                (name,))[0][0])
