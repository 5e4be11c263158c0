"""Outcomes: answers counted as they happen, a call's outcome and its contact's next time.

:meth:`Outcomes.record_outcome` commits, in one transaction, the attempt's end, the
contact's state and next due time (by the campaign's strategy, lockouts and callbacks)
and the abandon counters; the facts the runner learns after the outcome (who talked and
for how long, the wrap-up, a note) are added to the attempt by the small setters below.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from trunkline.dialer.campaigns.strategies import (
    DEFAULT_RETRIES,
    NEXT_DAY,
    HourOfWeekStats,
    local_midnight_after,
)
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

    def mark_answered(self, attempt: int, kind: str, now: float, *, window: int = 0,
                      line_answered_at: float | None = None,
                      greeting_ended_at: float | None = None) -> None:
        """Count a live answer (or machine) in the abandon window at the moment it happens.

        ``window`` is :func:`trunkline.dialer.pacing.compliance.window_index` of ``now``
        under the campaign's regime; the runner knows the regime, the store does not need
        to. ``line_answered_at`` and ``greeting_ended_at`` are the moments the 2 s abandon
        limit is counted from (Ofcom and the TSR), kept so each call's delays can be shown
        (:meth:`agent_delays`).
        """
        with self.transaction() as db:
            row = db.execute("SELECT campaign_id, answered_at FROM attempt WHERE id=?",
                             (attempt,)).fetchone()
            if row is None:
                raise StoreError(f"no attempt {attempt}")
            if row["answered_at"] is not None:
                return  # idempotent
            db.execute("UPDATE attempt SET answered_at=?, answered_kind=?, "
                       "line_answered_at=?, greeting_ended_at=? WHERE id=?",
                       (now, kind, line_answered_at, greeting_ended_at, attempt))
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


    def mark_bridged(self, attempt: int, agent: str, now: float) -> None:
        """An agent was bridged to the attempt's call: a conversation, whatever happens to
        the runner next (:meth:`record_lost` keeps it as ``human``)."""
        with self.transaction() as db:
            db.execute("UPDATE attempt SET agent=?, bridged_at=COALESCE(bridged_at, ?) "
                       "WHERE id=? AND state='dialing'", (agent, now, attempt))

    def agent_delays(self, campaign: str | None = None, *, since: float = 0.0,
                     until: float = math.inf) -> list[dict[str, Any]]:
        """Each live answer's delays to its agent: from the line's answer (what Ofcom
        counts) and from the end of the greeting (what 16 CFR 310.4(b)(4)(iii) counts);
        None where a moment is unknown or no agent was bridged (an abandon). Calls
        answered in ``[since, until)``."""
        where = "a.answered_kind='human' AND a.answered_at >= ? AND a.answered_at < ?" \
            + (" AND k.name=?" if campaign else "")
        params: tuple[Any, ...] = (since, min(until, 1e300)) + ((campaign,) if campaign else ())
        rows = self.query(
            "SELECT a.id, k.name AS campaign, a.number, a.outcome, a.line_answered_at, "
            "a.greeting_ended_at, a.answered_at, a.bridged_at FROM attempt a "
            "JOIN campaign k ON k.id=a.campaign_id "
            f"WHERE {where} ORDER BY a.id", params)
        out = []
        for r in rows:
            bridged = r["bridged_at"]
            line = r["line_answered_at"]
            greeting = r["greeting_ended_at"]
            out.append({
                "attempt": r["id"], "campaign": r["campaign"], "number": r["number"],
                "outcome": r["outcome"],
                "answer_to_agent_s": None if bridged is None or line is None
                else round(bridged - line, 3),
                "greeting_to_agent_s": None if bridged is None or greeting is None
                else round(bridged - greeting, 3),
                "verdict_to_agent_s": None if bridged is None or r["answered_at"] is None
                else round(bridged - r["answered_at"], 3)})
        return out

    def record_lost(self, attempt: int, now: float, *,
                    window_of: Callable[[str, float], int] | None = None) -> str | None:
        """An attempt found ``dialing`` after a restart (a crash): what was known is
        kept, what was not is retried (issue 15, red-team 6). Returns the outcome.

        - bridged to an agent: ``human`` (a conversation took place);
        - answered by a person, no agent yet: ``abandoned`` (the person heard silence;
          counted in the abandon window of the answer, ``window_of(campaign, t)``);
        - answered by a machine or a fax: ``machine`` / ``fax``;
        - never known to be answered: the attempt is closed as ``error`` with the note
          :data:`LOST_NOTE`, but it is *not* counted against the contact's attempts and
          the contact is due again after the strategy's error delay (never dialled twice
          in a row, never finished by a crash).

        Answers were counted in the abandon window when they happened
        (:meth:`mark_answered`), so nothing is counted twice.
        """
        row = self.query("SELECT a.state, a.answered_at, a.answered_kind, a.bridged_at, "
                         "k.name FROM attempt a JOIN campaign k ON k.id=a.campaign_id "
                         "WHERE a.id=?", (attempt,))
        if not row:
            raise StoreError(f"no attempt {attempt}")
        state, answered_at, kind, bridged_at, campaign = row[0]
        if state != "dialing":
            return None
        note = f"{LOST_NOTE}: kept as known"
        if bridged_at is not None:
            outcome = "human"
        elif answered_at is not None and kind in ("machine", "fax"):
            outcome = kind
        elif answered_at is not None:
            outcome = "abandoned"
        else:
            self._retry_lost(attempt, now)
            return "error"
        window = window_of(campaign, answered_at) if window_of is not None else None
        self.record_outcome(attempt, outcome, now, window=window)
        self.set_note(attempt, note)
        return outcome

    def _retry_lost(self, attempt: int, now: float) -> None:
        """Close a crash-unknown attempt without counting it; its contact due again."""
        with self.transaction() as db:
            row = db.execute(
                "SELECT a.contact_id, c.time_zone, k.name AS campaign_name FROM attempt a "
                "JOIN contact c ON c.id=a.contact_id JOIN campaign k ON k.id=a.campaign_id "
                "WHERE a.id=?", (attempt,)).fetchone()
            strategy = self.strategy(row["campaign_name"])
            delay = strategy.retries.get(CallOutcome.ERROR, DEFAULT_RETRIES[CallOutcome.ERROR])
            tz = strategy.zone(row["time_zone"])
            after = local_midnight_after(now, tz) if delay == NEXT_DAY else now + float(delay)
            due = strategy.windows.next_open(after, tz)
            callback = db.execute(
                "SELECT due_at FROM callback WHERE contact_id=? AND state='pending' "
                "ORDER BY id DESC LIMIT 1", (row["contact_id"],)).fetchone()
            if callback is not None:
                due = callback["due_at"]
            db.execute("UPDATE attempt SET state='done', ended_at=?, outcome='error', note=? "
                       "WHERE id=?", (now, LOST_NOTE, attempt))
            db.execute("UPDATE contact SET state=CASE state WHEN 'dnc' THEN 'dnc' "
                       "ELSE 'ready' END, next_at=?, last_outcome='error', last_at=? "
                       "WHERE id=?", (due if due is not None else now, now,
                                      row["contact_id"]))

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
