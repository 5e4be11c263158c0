"""List cleaning's records: a verdict per call, retries of undecided numbers, results.

A cleaning call (:mod:`trunkline.dialer.cleaning`) ends in a *verdict*: the number's
class, the attempt outcome and the evidence. It is stored on the existing tables, no
schema of its own: the attempt's ``outcome`` and ``cause``, its ``note`` (JSON
``{"class": ..., "evidence": ...}``, :func:`verdict_note`), and the contact's state:
``done`` with ``last_outcome`` = the class, or ``ready`` again for a retry. The classes
themselves are the cleaning package's words; the store only files them.
"""

from __future__ import annotations

import json
import sqlite3

from trunkline.dialer.errors import StoreError
from trunkline.dialer.store.outcomes import Outcomes


def verdict_note(cls: str | None, evidence: str) -> str:
    """The attempt note of a cleaning call: its class (None: not a try) and evidence."""
    return json.dumps({"class": cls, "evidence": evidence}, ensure_ascii=False)


class CleaningRecords(Outcomes):
    """Cleaning verdicts (see :class:`~trunkline.dialer.store.Store`)."""

    def record_verdict(self, attempt: int, *, cls: str, outcome: str, evidence: str,
                       now: float, cause: int | None = None,
                       answered_at: float | None = None,
                       retry: tuple[int, float] | None = None) -> str:
        """Commit one cleaning call's verdict; returns the contact's class, ``"retry"``,
        or ``"done"`` for an attempt already recorded (idempotent).

        One transaction: :meth:`record_outcome` (attempt ``outcome`` and ``cause``), the
        note (:func:`verdict_note`), ``answered_at`` if the call was answered, and the
        contact: ``done`` with ``last_outcome`` = ``cls``; or, when ``retry`` is
        ``(retries, retry_after)`` and the contact has had at most ``retries`` calls of
        this class so far (this one included, less one), ``ready`` at ``retry_after``
        seconds from ``now``, moved into the strategy's calling window.
        """
        with self.transaction() as db:
            row = db.execute(
                "SELECT a.state, a.contact_id, c.time_zone, k.name FROM attempt a "
                "JOIN contact c ON c.id=a.contact_id JOIN campaign k ON k.id=a.campaign_id "
                "WHERE a.id=?", (attempt,)).fetchone()
            if row is None:
                raise StoreError(f"no attempt {attempt}")
            if row["state"] == "done":
                return "done"
            self.record_outcome(attempt, outcome, now, cause=cause)
            db.execute("UPDATE attempt SET note=?, answered_at=COALESCE(answered_at, ?) "
                       "WHERE id=?", (verdict_note(cls, evidence), answered_at, attempt))
            contact = row["contact_id"]
            if retry is not None:
                retries, retry_after = retry
                tries = db.execute(
                    "SELECT COUNT(*) FROM attempt WHERE contact_id=? AND state='done' AND "
                    "CASE WHEN json_valid(note) THEN json_extract(note, '$.class') END=?",
                    (contact, cls)).fetchone()[0]
                if tries <= retries:
                    strategy = self.strategy(row["name"])
                    due = strategy.windows.next_open(now + retry_after,
                                                     strategy.zone(row["time_zone"]))
                    if due is not None:
                        db.execute("UPDATE contact SET state='ready', next_at=? WHERE id=?",
                                   (due, contact))
                        return "retry"
            db.execute("UPDATE contact SET state='done', next_at=?, last_outcome=? WHERE id=?",
                       (now, cls, contact))
            return cls

    def release_undialled(self, attempt: int, now: float, *, not_before: float,
                          reason: str) -> None:
        """The gateway refused the originate (no free channel): the call never left, so the
        attempt is ``released`` (it does not count against the contact's daily limit) and
        the contact is due again at ``not_before``. Commits before anything else is tried.
        """
        with self.transaction() as db:
            row = db.execute("SELECT contact_id FROM attempt WHERE id=? AND state='dialing'",
                             (attempt,)).fetchone()
            if row is None:
                return
            db.execute("UPDATE attempt SET state='released', ended_at=?, note=? WHERE id=?",
                       (now, json.dumps({"class": None, "evidence": reason}), attempt))
            db.execute("UPDATE contact SET state='ready', next_at=MAX(next_at, ?) "
                       "WHERE id=? AND state='dialing'", (not_before, row["contact_id"]))

    def cleaning_rows(self, campaign: str) -> list[sqlite3.Row]:
        """Every contact of ``campaign`` with the note and cause of its last finished call:
        columns ``number, state, last_outcome, attempts, last_at, fields, note, cause``."""
        return self.query(
            "SELECT c.number, c.state, c.last_outcome, c.attempts, c.last_at, c.fields, "
            "(SELECT a.note FROM attempt a WHERE a.contact_id=c.id AND a.state='done' "
            " ORDER BY a.id DESC LIMIT 1) AS note, "
            "(SELECT a.cause FROM attempt a WHERE a.contact_id=c.id AND a.state='done' "
            " ORDER BY a.id DESC LIMIT 1) AS cause "
            "FROM contact c WHERE c.campaign_id=? ORDER BY c.id",
            (self.campaign_id(campaign),))
