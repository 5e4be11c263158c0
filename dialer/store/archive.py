"""Archiving a campaign and removing a contact list (schema 13, issue 18 item 5).

Neither deletes what happened. A campaign's calls (``attempt``), recordings, QA scores,
dispositions and report rows all name it, and a regulator's abandon-rate audit or a
customer's complaint may ask for them years later; so an *archived* campaign is only
hidden from what runs (the service's campaign list, the floor, the desk, starting it)
and keeps its name, which a new campaign cannot take until it is restored.

A *removed* list stops being dialled: its contacts that were never called (no attempt)
and belong to no other list still in use are deleted, since nothing refers to them; its
contacts already called keep their attempts (the call history reports count) and are
closed (``state='done'``) so no retry is dialled. The list's row stays, marked, with its
counts and refused rows. Both refuse while calls of the campaign are in flight (claimed
or dialling attempts): the caller (the service) also refuses while its host runs the
campaign, which the database alone cannot know.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from trunkline.dialer.errors import StoreError
from trunkline.dialer.store.database import Database


class InUse(StoreError):
    """The campaign is dialling: archiving or removing now would lose or orphan calls."""


@dataclass(frozen=True, slots=True)
class ListRemoval:
    """What removing a list did to its contacts."""

    list_id: int
    campaign: str
    deleted: int          # never called, in no other list: deleted
    closed: int           # called before: kept with their history, no more retries
    kept: int             # in another list still in use: untouched


class Archive(Database):
    """Archived campaigns and removed lists (see :class:`~trunkline.dialer.store.Store`)."""

    def campaign_archived(self, name: str) -> bool:
        """True when campaign ``name`` is archived (:class:`StoreError` if unknown)."""
        cid = self.campaign_id(name)
        return self.query("SELECT archived_at FROM campaign WHERE id=?",
                          (cid,))[0][0] is not None

    def active_campaigns(self) -> list[str]:
        """The campaigns not archived, by name: those a service shows and may run."""
        return [r[0] for r in self.query(
            "SELECT name FROM campaign WHERE archived_at IS NULL ORDER BY name")]

    def archived_campaigns(self) -> list[dict[str, object]]:
        """The archived campaigns, newest first: name, archived_at, archived_by."""
        return [dict(r) for r in self.query(
            "SELECT name, archived_at, archived_by FROM campaign "
            "WHERE archived_at IS NOT NULL ORDER BY archived_at DESC, name")]

    def calls_in_flight(self, name: str) -> int:
        """Attempts of campaign ``name`` claimed or dialling now."""
        return int(self.query(
            "SELECT COUNT(*) FROM attempt WHERE campaign_id=? AND state IN "
            "('claimed', 'dialing')", (self.campaign_id(name),))[0][0])

    def _idle(self, name: str, what: str) -> None:
        n = self.calls_in_flight(name)
        if n:
            raise InUse(f"campaign {name!r} has {n} call(s) in flight: stop it and let "
                        f"them end before {what}")

    def archive_campaign(self, name: str, *, now: float, by: str | None = None) -> None:
        """Archive campaign ``name``: hidden and never started, everything kept.
        :class:`InUse` with calls in flight; :class:`StoreError` if already archived."""
        with self.transaction() as db:
            if self.campaign_archived(name):
                raise StoreError(f"campaign {name!r} is archived already")
            self._idle(name, "archiving it")
            db.execute("UPDATE campaign SET archived_at=?, archived_by=? WHERE name=?",
                       (now, by, name))

    def restore_campaign(self, name: str) -> None:
        """Bring an archived campaign back (:class:`StoreError` if it is not archived)."""
        with self.transaction() as db:
            if not self.campaign_archived(name):
                raise StoreError(f"campaign {name!r} is not archived")
            db.execute("UPDATE campaign SET archived_at=NULL, archived_by=NULL WHERE name=?",
                       (name,))

    def list_campaign(self, list_id: int) -> str:
        """The name of the campaign list ``list_id`` was imported into."""
        row = self.query("SELECT k.name FROM list l JOIN campaign k ON k.id=l.campaign_id "
                         "WHERE l.id=?", (list_id,))
        if not row:
            raise StoreError(f"no list {list_id}")
        return str(row[0][0])

    def remove_list(self, list_id: int, *, now: float, by: str | None = None
                    ) -> ListRemoval:
        """Remove list ``list_id`` from dialling (see the module docstring), in one
        transaction. :class:`InUse` with calls of its campaign in flight;
        :class:`StoreError` if unknown or removed already."""
        with self.transaction() as db:
            campaign = self.list_campaign(list_id)
            if db.execute("SELECT removed_at FROM list WHERE id=?",
                          (list_id,)).fetchone()[0] is not None:
                raise StoreError(f"list {list_id} is removed already")
            self._idle(campaign, "removing one of its lists")
            db.execute("UPDATE list SET removed_at=?, removed_by=? WHERE id=?",
                       (now, by, list_id))
            # Its contacts in no other list still in use.
            own = [r[0] for r in db.execute(
                "SELECT cl.contact_id FROM contact_list cl WHERE cl.list_id=? AND NOT EXISTS "
                "(SELECT 1 FROM contact_list o JOIN list l ON l.id=o.list_id WHERE "
                "o.contact_id=cl.contact_id AND o.list_id<>? AND l.removed_at IS NULL)",
                (list_id, list_id))]
            total = db.execute("SELECT COUNT(*) FROM contact_list WHERE list_id=?",
                               (list_id,)).fetchone()[0]
            deleted = closed = 0
            for contact in own:
                if _referenced(db, contact):
                    closed += db.execute("UPDATE contact SET state='done' WHERE id=? AND "
                                         "state='ready'", (contact,)).rowcount
                else:
                    db.execute("DELETE FROM contact_list WHERE contact_id=?", (contact,))
                    db.execute("DELETE FROM contact WHERE id=?", (contact,))
                    deleted += 1
        return ListRemoval(list_id, campaign, deleted, closed, total - len(own))


#: Every table whose rows name a contact, besides its lists: a contact in any of them has
#: a history (a call, a callback, a disposition, an SMS, a recording) and is kept.
_HISTORY = ("attempt", "callback", "disposition", "contact_sms", "call_recording")


def _referenced(db: sqlite3.Connection, contact: int) -> bool:
    return any(db.execute(f"SELECT 1 FROM {table} WHERE contact_id=? LIMIT 1",
                       (contact,)).fetchone() for table in _HISTORY)
