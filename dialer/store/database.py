"""The campaign database's connection, its transactions, and the campaigns in it.

:class:`Database` is the base every part of :class:`~trunkline.dialer.store.Store` builds
on (contacts, claims, outcomes...): one SQLite connection in WAL mode with
``synchronous=FULL``, ``BEGIN IMMEDIATE`` transactions that nest, and the campaigns
(names, ids, strategies, settings) every other table refers to.

**Deferred commits** (:meth:`Database.deferred_commits`): a runner's step makes many
small transactions (a claim, a dial marked, an answer, a bridge...), and each COMMIT
waits for the disk (``synchronous=FULL``). The rule is that a change is durable before
it is *acted on*, not the instant it is made: inside ``deferred_commits()`` each
:meth:`Database.transaction` is a SAVEPOINT of one open transaction (it succeeds or
rolls back alone, exactly as before), and that transaction commits at
:meth:`Database.flush`, which the runner calls before every gateway request and every
event it publishes, and at the end of the step. A crash before the flush loses writes
nothing outside had seen yet: the store is as if the crash came before them (the state
the crash guarantees already cover); one after it keeps them all.
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
from trunkline.dialer.store.names import check_campaign_name
from trunkline.dialer.store.schema import migrate
from trunkline.errors import ConfigError

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


def _file_trouble(err: BaseException) -> bool:
    """True for an SQLite error that says the file cannot be used (corrupt, locked, full,
    read-only...), as opposed to a programming error (bad SQL, a constraint): the first
    kind is the operator's to fix and is told as such; the second stays a traceback."""
    return (isinstance(err, sqlite3.DatabaseError)
            and not isinstance(err, sqlite3.IntegrityError | sqlite3.ProgrammingError)
            and any(key in str(err) for key in _REASONS))


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
            self._deferring: int | None = None   # the thread whose commits are deferred
            self._lost = False   # SQLite rolled the deferred transaction back itself
            if self.path != ":memory:":
                mode = self._conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
                if mode.lower() != "wal":
                    raise StoreError(f"{self.path}: cannot switch to WAL journal (got "
                                     f"{mode})")
            # FULL: a commit is on disk before COMMIT returns, so "durable before acted
            # on" holds across power loss too, not only across a process crash.
            self._conn.execute("PRAGMA synchronous=FULL")
            self._conn.execute("PRAGMA foreign_keys=ON")
            try:
                self.schema_found = migrate(self._conn)
            except StoreError as err:
                # "newer than this trunkline understands": say which file, as every other
                # refusal here does (a site may keep several databases)
                raise StoreError(f"{self.path}: {err}") from err
        except sqlite3.Error as err:
            raise StoreError(f"{self.path}: cannot open the campaign database: "
                             f"{_reason(err)}") from err
        self._campaign_ids: dict[str, int] = {}
        self._strategies: dict[str, Strategy] = {}
        self._identity: str | None = None

    @property
    def identity(self) -> str:
        """This database's random name (16 hex digits, made with the schema): the calls
        its runners place are tagged with it (dialer/runner/tags.py), so two dialers with
        databases of their own on one gateway never take each other's calls for theirs."""
        if self._identity is None:
            self._identity = str(self.query("SELECT id FROM store_identity")[0][0])
        return self._identity

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        self.close()
        # A page found corrupt (or the disk gone) only when a read reaches it, after the
        # open's checks passed: said with the file's name, not as a raw sqlite3 error
        # (issue 15, red-team 12).
        if exc is not None and _file_trouble(exc):
            assert isinstance(exc, sqlite3.Error)
            raise StoreError(f"{self.path}: {_reason(exc)}") from exc

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One ``BEGIN IMMEDIATE ... COMMIT``; nested uses join the outer transaction.
        Within :meth:`deferred_commits` (on its thread) a SAVEPOINT of the open
        transaction instead, committed at the next :meth:`flush`."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self._conn
                finally:
                    self._depth -= 1
                return
            if self._deferring == threading.get_ident():
                with self._savepoint() as conn:
                    yield conn
                return
            self.flush()   # another thread's deferred writes, if any, go first
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

    @contextlib.contextmanager
    def _savepoint(self) -> Iterator[sqlite3.Connection]:
        """A transaction inside the deferred one (lock held, depth 0): all of it or
        nothing of it, as a transaction of its own would be."""
        try:
            if not self._conn.in_transaction:
                self._conn.execute("BEGIN IMMEDIATE")
            self._conn.execute("SAVEPOINT trunkline_tx")
        except sqlite3.Error as err:
            raise StoreError(f"{self.path}: {_reason(err)}") from err
        self._depth = 1
        try:
            yield self._conn
            self._conn.execute("RELEASE trunkline_tx")
        except BaseException as exc:
            if self._conn.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    self._conn.execute("ROLLBACK TO trunkline_tx")
                    self._conn.execute("RELEASE trunkline_tx")
            else:
                # SQLite rolled the whole transaction back (a full disk, an I/O error):
                # the earlier savepoints' writes are gone too, so the next flush must
                # fail rather than let the caller act on them.
                self._lost = True
            if isinstance(exc, sqlite3.Error) and not isinstance(exc, sqlite3.IntegrityError):
                raise StoreError(f"{self.path}: {_reason(exc)}; nothing of this "
                                 "transaction was stored") from exc
            raise
        finally:
            self._depth = 0

    @contextlib.contextmanager
    def deferred_commits(self) -> Iterator[None]:
        """Within, this thread's transactions commit together at :meth:`flush` (and at
        the end) rather than each on its own: see the module docstring. The caller
        flushes before anything outside the store acts on what was written. Nested
        uses join the outer one."""
        me = threading.get_ident()
        with self._lock:
            if self._deferring is not None:
                if self._deferring != me:
                    raise StoreError("deferred commits of another thread are open on "
                                     "this connection")
                outer = False
            else:
                self._deferring, outer = me, True
        if not outer:
            yield
            return
        try:
            yield
        finally:
            try:
                self.flush()
            finally:
                with self._lock:
                    self._deferring = None

    def flush(self) -> None:
        """Commit the deferred writes (nothing to do outside :meth:`deferred_commits`,
        or with nothing written since the last flush). On failure nothing of them is
        stored and :class:`StoreError` says so: the caller must not act on them."""
        with self._lock:
            if self._lost:
                self._lost = False
                raise StoreError(f"{self.path}: the database rolled back the writes since "
                                 "the last commit (see the error before this one); none "
                                 "of them was stored")
            if self._depth or not self._conn.in_transaction:
                return
            try:
                self._conn.execute("COMMIT")
            except sqlite3.Error as err:
                if self._conn.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        self._conn.execute("ROLLBACK")
                raise StoreError(f"{self.path}: {_reason(err)}; nothing written since "
                                 "the last commit was stored") from err

    def query(self, sql: str, params: Iterable[Any] | Mapping[str, Any] = ()
              ) -> list[sqlite3.Row]:
        """Read-only SQL for reports and tests."""
        with self._lock:
            try:
                return self._conn.execute(sql, params).fetchall()
            except sqlite3.DatabaseError as err:
                if _file_trouble(err):
                    raise StoreError(f"{self.path}: {_reason(err)}") from err
                raise

    # -- campaigns -----------------------------------------------------------------------

    def create_campaign(self, name: str, strategy: Strategy | None = None, *,
                        config: Mapping[str, Any] | None = None, now: float = 0.0) -> int:
        """Define a campaign (or update its strategy and config); returns its id.

        A new campaign's name is checked (:func:`~trunkline.dialer.store.names.
        check_campaign_name`); one already stored is updated whatever its name."""
        if not name:
            raise StoreError("a campaign needs a name")
        if not self.query("SELECT 1 FROM campaign WHERE name=?", (name,)):
            check_campaign_name(name)
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
            try:
                strategy = Strategy.from_dict(json.loads(raw))
            except (ValueError, TypeError) as err:
                # Saved before a bound it breaks existed (bounds.py): said, not a
                # traceback, and left as stored until a corrected one is saved.
                raise ConfigError(
                    f"campaign {name!r}: its stored strategy is refused: {err}; save a "
                    f"corrected one (trunkline dialer campaign create {name} --strategy "
                    f"FILE, or PUT /api/admin/campaigns/{name})") from err
            self._strategies[name] = strategy
        return strategy

    def campaign_config(self, name: str) -> dict[str, Any]:
        self.campaign_id(name)
        return json.loads(self.query("SELECT config FROM campaign WHERE name=?", (name,))[0][0])

    def campaign_created_at(self, name: str) -> float:
        """When campaign ``name`` was first created (epoch seconds)."""
        self.campaign_id(name)
        return float(self.query("SELECT created_at FROM campaign WHERE name=?",
                                (name,))[0][0])
