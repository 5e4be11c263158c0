"""Outcomes: answers counted as they happen, a call's outcome and its contact's next time.

:meth:`Outcomes.record_outcome` commits, in one transaction, the attempt's end, the
contact's state and next due time (by the campaign's strategy, lockouts and callbacks)
and the abandon counters; the facts the runner learns after the outcome (who talked and
for how long, the wrap-up, a note) are added to the attempt by the small setters below.
"""

from __future__ import annotations

from trunkline.dialer.campaigns.strategies import HourOfWeekStats
from trunkline.dialer.errors import StoreError
from trunkline.dialer.store.counters import bump
from trunkline.dialer.store.database import Database
from trunkline.dialer.vocab import CallOutcome

#: Outcomes after which a pending callback is dropped: the number cannot be called.
_FINAL_NO_CALLBACK = frozenset({"invalid_number"})


#: The note of an attempt settled after a restart without knowing how its call ended.
LOST_NOTE = "unknown after restart"


class Outcomes(Database):
    """Recording how calls ended (see :class:`~trunkline.dialer.store.Store`)."""

    def mark_answered(self, attempt: int, kind: str, now: float, *, window: int = 0) -> None:
        """Count a live answer (or machine) in the abandon window at the moment it happens.

        ``window`` is :func:`trunkline.dialer.pacing.compliance.window_index` of ``now``
        under the campaign's regime; the runner knows the regime, the store does not need
        to.
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
                bump(db, row["campaign_id"], window, column)

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
                    bump(db, row["campaign_id"], window, "live")
                if outcome == "abandoned":
                    if row["answered_at"] is None:
                        bump(db, row["campaign_id"], window, "live")
                    bump(db, row["campaign_id"], window, "abandoned")
                if outcome == "machine" and row["answered_at"] is None:
                    bump(db, row["campaign_id"], window, "machines")
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


    def record_lost(self, attempt: int, now: float) -> None:
        """An attempt found ``dialing`` after a restart, its call's fate unknown: recorded
        as ``error`` (so the contact waits for the strategy's error delay, never dialled
        twice in a row) with the note :data:`LOST_NOTE`."""
        self.record_outcome(attempt, "error", now, window=None)
        self.set_note(attempt, LOST_NOTE)

    def set_note(self, attempt: int, note: str) -> None:
        """Replace the attempt's note (what happened beside the outcome), committed."""
        with self.transaction() as db:
            db.execute("UPDATE attempt SET note=? WHERE id=?", (note, attempt))

    def set_talk(self, attempt: int, agent: str, talk: float) -> None:
        """Who talked on the attempt's call and for how long (seconds), for the reports."""
        with self.transaction() as db:
            db.execute("UPDATE attempt SET agent=?, talk=? WHERE id=?",
                       (agent, talk, attempt))

    def set_wrap(self, attempt: int, wrap: float) -> None:
        """The agent's wrap-up after the attempt's call (seconds), for the reports."""
        with self.transaction() as db:
            db.execute("UPDATE attempt SET wrap=? WHERE id=?", (wrap, attempt))
