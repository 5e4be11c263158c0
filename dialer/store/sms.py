"""SMS the dialer sent to contacts (a collections reminder saved with a disposition).

One row per message in ``contact_sms`` (schema 6), written when the gateway took the
message (``queued``, with the gateway's id) or refused it (``failed``, with the
gateway's reason), then moved on by the gateway's ``sms.sent`` / ``sms.delivered`` /
``sms.failed`` events. A state only moves forward (queued, sent, then delivered or
failed), so an event that arrives late or twice never undoes a later one.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

from trunkline.dialer.errors import StoreError
from trunkline.dialer.store.database import Database

#: The states a row may be in before it moves to each state.
_BEFORE = {"sent": ("queued",), "delivered": ("queued", "sent"),
           "failed": ("queued", "sent")}
STATES = ("queued", "sent", "delivered", "failed")


class SmsRecords(Database):
    """The contact SMS part of the database (see :class:`~trunkline.dialer.store.Store`)."""

    def sms_context(self, contact: int, attempt: int | None) -> tuple[dict[str, Any], str]:
        """The contact's list columns and the number that was called on ``attempt`` (the
        contact's number when there is no attempt): what an SMS template is filled with."""
        rows = self.query("SELECT number, fields FROM contact WHERE id=?", (contact,))
        if not rows:
            raise StoreError(f"no contact {contact}")
        number = rows[0]["number"]
        if attempt is not None:
            called = self.query("SELECT number FROM attempt WHERE id=?", (attempt,))
            if called and called[0]["number"]:
                number = called[0]["number"]
        return json.loads(rows[0]["fields"]), number

    def add_contact_sms(self, *, campaign: str, contact: int, attempt: int | None,
                        disposition: int | None, number: str, text: str,
                        sms_id: int | None, state: str, reason: str, at: float,
                        gateway: str = "") -> int:
        """A message sent (or refused) for a contact; ``gateway`` names the gateway whose
        id ``sms_id`` is (ids are per gateway)."""
        if state not in STATES:
            raise StoreError(f"an SMS state is one of {', '.join(STATES)}, not {state!r}")
        cid = self.campaign_id(campaign)
        with self.transaction() as db:
            cursor = db.execute(
                "INSERT INTO contact_sms (contact_id, campaign_id, attempt_id, disposition_id,"
                " number, text, sms_id, state, reason, created_at, updated_at, gateway) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (contact, cid, attempt, disposition, number, text, sms_id, state, reason,
                 at, at, gateway))
            assert cursor.lastrowid is not None  # an INSERT into a rowid table
            return cursor.lastrowid

    def update_contact_sms(self, sms_id: int, state: str, *, reason: str = "",
                           at: float, gateway: str = "") -> int:
        """Move the rows of ``gateway``'s message ``sms_id`` to ``state`` (only forward);
        returns how many moved (0 for a message the dialer did not send there)."""
        before = _BEFORE.get(state)
        if before is None:
            raise StoreError(f"an SMS moves to sent, delivered or failed, not {state!r}")
        marks = ",".join("?" * len(before))
        with self.transaction() as db:
            return db.execute(
                f"UPDATE contact_sms SET state=?, reason=?, updated_at=? WHERE gateway=? "
                f"AND sms_id=? AND state IN ({marks})",
                (state, reason, at, gateway, sms_id, *before)).rowcount

    def open_contact_sms(self, campaigns: Collection[str], gateway: str = "") -> list[int]:
        """``gateway``'s ids of the campaigns' messages not yet delivered or failed (what
        a runner asks its gateway about at start: their events may have come while it
        was down)."""
        names = list(campaigns)
        if not names:
            return []
        marks = ",".join("?" * len(names))
        return [r[0] for r in self.query(
            f"SELECT DISTINCT s.sms_id FROM contact_sms s JOIN campaign k ON "
            f"k.id=s.campaign_id WHERE k.name IN ({marks}) AND s.state IN ('queued', 'sent')"
            " AND s.sms_id IS NOT NULL AND s.gateway=? ORDER BY s.sms_id", (*names, gateway))]

    def contact_sms(self, contact: int) -> list[dict[str, Any]]:
        """The contact's messages, oldest first."""
        return [dict(r) for r in self.query(
            "SELECT s.*, k.name AS campaign FROM contact_sms s JOIN campaign k "
            "ON k.id=s.campaign_id WHERE s.contact_id=? ORDER BY s.created_at, s.id",
            (contact,))]

    def sms_counts(self, campaign: str) -> dict[str, int]:
        """How many of the campaign's messages are in each state (every state listed)."""
        cid = self.campaign_id(campaign)
        counts = dict.fromkeys(STATES, 0)
        for state, n in self.query("SELECT state, count(*) FROM contact_sms WHERE "
                                   "campaign_id=? GROUP BY state", (cid,)):
            counts[state] = n
        return counts
