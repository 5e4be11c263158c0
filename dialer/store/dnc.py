"""Do-not-call lists: global or per campaign, numbers or prefixes, checked at every claim."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from trunkline.dialer.campaigns.dnc_prefixes import broad_prefix_reason, check_prefixes
from trunkline.dialer.store.database import Database

GLOBAL = ""  # the DNC scope that applies to every campaign


def dnc_hit(db: sqlite3.Connection, number: str, campaign: str) -> str | None:
    """Inside a transaction on ``db``: the kind of list entry that bars ``number`` in
    ``campaign`` (its own list or the global one), or None."""
    row = db.execute(
        "SELECT kind FROM dnc WHERE scope IN (?, ?) AND ((prefix=0 AND number=?) OR "
        "(prefix=1 AND substr(?, 1, length(number))=number)) LIMIT 1",
        (GLOBAL, campaign, number, number)).fetchone()
    return row[0] if row else None



class DncLists(Database):
    """The DNC lists (see :class:`~trunkline.dialer.store.Store`)."""

    def add_dnc(self, numbers: Iterable[str], *, now: float, campaign: str | None = None,
                kind: str = "dnc", source: str | None = None,
                allow_broad: bool = False) -> int:
        """Add E.164 numbers (or prefixes ending in ``*``) to the global or a campaign list.

        Effective at once: every claim checks the lists inside its transaction. A prefix
        broader than a country code and three digits raises
        :class:`~trunkline.dialer.campaigns.dnc_prefixes.BroadPrefixError` (nothing added)
        unless ``allow_broad``: one typo would bar a whole country.
        """
        numbers = list(numbers)
        check_prefixes(numbers, allow_broad=allow_broad)
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
        """Remove entries as typed (``+86400*`` the prefix, not the numbers it bars).
        An unknown ``campaign`` raises (it once removed nothing and said ``0 removed``)."""
        if campaign is not None:
            self.campaign_id(campaign)  # raises for an unknown campaign
        scope = GLOBAL if campaign is None else campaign
        with self.transaction() as db:
            before = db.total_changes
            for number in numbers:
                db.execute("DELETE FROM dnc WHERE scope=? AND number=? AND prefix=?",
                           (scope, number.rstrip("*"), int(number.endswith("*"))))
            return db.total_changes - before

    def dnc_entries(self, *, campaign: str | None = None, prefixes_only: bool = False,
                    limit: int = 1_000_000) -> list[dict[str, Any]]:
        """Entries of every list (or of ``campaign``'s own and the global one), prefixes
        first, each with ``entry`` as typed (``+86400*``), ``prefix`` and ``broad`` (a
        prefix broader than a country code and three digits, perhaps stored before such
        prefixes needed confirming: shown so a typo can be found and removed)."""
        where, args = ("WHERE scope IN (?, ?)", [GLOBAL, campaign]) if campaign else ("", [])
        if prefixes_only:
            where += (" AND" if where else "WHERE") + " prefix=1"
        rows = self.query(f"SELECT scope, number, prefix, kind, source, added_at FROM dnc "
                          f"{where} ORDER BY prefix DESC, scope, number LIMIT ?",
                          (*args, limit))
        out = []
        for row in rows:
            entry = row["number"] + ("*" if row["prefix"] else "")
            out.append({"entry": entry, "scope": row["scope"] or "global",
                        "prefix": bool(row["prefix"]), "kind": row["kind"],
                        "broad": broad_prefix_reason(entry) is not None,
                        "source": row["source"], "added_at": row["added_at"]})
        return out

    def dnc_hit(self, number: str, campaign: str) -> str | None:
        """The kind of list entry (``dnc``, ``blacklist``...) that bars ``number`` in
        ``campaign`` (``""``: the global list only), or None.

        An unknown ``campaign`` raises :class:`StoreError` and a prefix or an empty
        text raises ValueError: each was answered None ("allowed") after checking the
        global list only, or a text no entry can match (issue 15, first-week findings).
        """
        if not number or number.endswith("*"):
            raise ValueError(f"a DNC check takes a whole number, got {number!r}")
        if campaign:
            self.campaign_id(campaign)  # raises for an unknown campaign
        with self._lock:
            return dnc_hit(self._conn, number, campaign)


    def block_numbers(self, campaign: str, numbers: Mapping[str, Sequence[str]], *,
                      source: str, now: float, dry_run: bool = False
                      ) -> tuple[int, int, int]:
        """Bar ``numbers`` (by list kind) from ``campaign``, in one transaction.

        Each goes on ``campaign``'s own DNC list with its kind and ``source``; the
        campaign's contacts with that number that are waiting (``ready``) become ``dnc``
        with ``last_outcome`` = the kind; one being dialled finishes its call and is
        barred at its next claim. ``dry_run`` changes nothing. Returns ``(entries added
        to the list, contacts blocked, contacts being dialled)``, or what they would be.
        """
        target_id = self.campaign_id(campaign)
        blocked = busy = added = 0
        with self.transaction() as db:
            for kind, listed in numbers.items():
                if not listed:
                    continue
                if not dry_run:
                    added += self.add_dnc(listed, now=now, campaign=campaign, kind=kind,
                                          source=source)
                for number in listed:
                    row = db.execute("SELECT state FROM contact WHERE campaign_id=? AND "
                                     "number=?", (target_id, number)).fetchone()
                    if row is None:
                        continue
                    if row["state"] == "ready":
                        blocked += 1
                        if not dry_run:
                            db.execute("UPDATE contact SET state='dnc', last_outcome=?, "
                                       "last_at=? WHERE campaign_id=? AND number=? AND "
                                       "state='ready'", (kind, now, target_id, number))
                    elif row["state"] == "dialing":
                        busy += 1
            if dry_run:
                added = sum(
                    1 for listed in numbers.values() for number in listed
                    if db.execute("SELECT 1 FROM dnc WHERE scope=? AND number=? AND "
                                  "prefix=0", (campaign, number)).fetchone() is None)
        return added, blocked, busy
