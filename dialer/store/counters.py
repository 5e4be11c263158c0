"""Abandon-rate counters per regulated window, and dials by local hour for learning.

The counters are bumped inside the transactions that record answers and outcomes
(:mod:`~trunkline.dialer.store.outcomes`), so a restart restores exactly what was
committed: :meth:`Counters.restore_ledger` seeds the engine's ledger with it.
"""

from __future__ import annotations

import sqlite3

from trunkline.dialer.campaigns.strategies import HourOfWeekStats
from trunkline.dialer.pacing.compliance import AbandonLedger
from trunkline.dialer.store.database import Database


def bump(db: sqlite3.Connection, campaign_id: int, window: int, column: str) -> None:
    """Inside a transaction on ``db``: one more ``column`` (``live``, ``abandoned`` or
    ``machines``) in ``window`` of the campaign."""
    db.execute(f"INSERT INTO abandon_window (campaign_id, window, {column}) VALUES (?,?,1) "
               f"ON CONFLICT(campaign_id, window) DO UPDATE SET {column}={column}+1",
               (campaign_id, window))



class Counters(Database):
    """Reading the counters (see :class:`~trunkline.dialer.store.Store`)."""

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

