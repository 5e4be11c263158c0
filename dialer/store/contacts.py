"""Contacts: lists added in one transaction, numbers merged, and what is left to call."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from trunkline.dialer.errors import StoreError
from trunkline.dialer.store.database import Database


@dataclass(frozen=True, slots=True)
class NewContact:
    """One row to add: the E.164 ``number`` and the columns that travel with it."""

    number: str
    fields: Mapping[str, str]
    time_zone: str | None = None
    line: int = 0
    priority: int = 0


class Contacts(Database):
    """Contacts and the lists they came from (see :class:`~trunkline.dialer.store.Store`)."""

    def add_list(self, campaign: str, name: str, rows: Iterable[NewContact], *,
                 now: float, source: str | None = None,
                 errors: Iterable[tuple[int, str, str] | tuple[int, str, str, str]] = ()
                 ) -> dict[str, int]:
        """Add one imported list in one transaction: all its good rows, or none.

        A number already in the campaign (from this list or an earlier one) is merged:
        the existing contact keeps its history and state, gains the new non-empty columns,
        and is linked to this list too. Returns counts: ``added``, ``merged``, ``errors``.
        ``rows`` is read once, lazily (a generator keeps an import in bounded memory);
        ``errors`` is read after it (the importer fills it as it reads the rows).
        """
        cid = self.campaign_id(campaign)
        added = merged = 0
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
            # read after the rows: a streaming importer fills it as it reads them
            errors = list(errors)
            # (line, reason, raw[, code]): the code is the reason for pages to translate
            db.executemany("INSERT INTO import_error (list_id, line, reason, raw, code) "
                           "VALUES (?,?,?,?,?)",
                           [(list_id, *e[:3], e[3] if len(e) > 3 else None) for e in errors])
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

    def copyable_contacts(self, campaign: str) -> list[NewContact]:
        """``campaign``'s contacts not barred by a DNC list, in the order they were added,
        as rows to add to another campaign (``line``: their rank, from 1)."""
        return [NewContact(r["number"], json.loads(r["fields"]), r["time_zone"], i + 1,
                           r["priority"])
                for i, r in enumerate(self.query(
                    "SELECT number, fields, time_zone, priority FROM contact "
                    "WHERE campaign_id=? AND state!='dnc' ORDER BY id",
                    (self.campaign_id(campaign),)))]

    def open_contacts(self, campaigns: Sequence[str]) -> int:
        """How many contacts of ``campaigns`` are still to call or being called
        (``ready`` or ``dialing``): 0 means their lists are finished."""
        marks = ", ".join("?" * len(campaigns))
        row = self.query(
            "SELECT COUNT(*) FROM contact c JOIN campaign k ON k.id=c.campaign_id "
            f"WHERE k.name IN ({marks}) AND c.state IN ('ready', 'dialing')",
            list(campaigns))
        return int(row[0][0])

    def next_due(self, campaign: str) -> float | None:
        """The earliest time a waiting (``ready``) contact of ``campaign`` is due, or None
        when none waits."""
        row = self.query("SELECT MIN(next_at) FROM contact WHERE campaign_id=? AND "
                         "state='ready'", (self.campaign_id(campaign),))
        return row[0][0]
