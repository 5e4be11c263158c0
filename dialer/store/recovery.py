"""After a crash: the attempts left open, released or settled so none is dialled twice.

- an attempt still ``claimed`` was never sent to the gateway: :meth:`Recovery.recover`
  releases it, and the contact is due again as it was;
- an attempt still ``dialing`` may or may not have reached the network:
  :meth:`Recovery.reconcile` asks the caller (who asks the gateway) and otherwise settles
  it with :meth:`~trunkline.dialer.store.outcomes.Outcomes.record_lost`: what was known
  (answered, bridged) is kept; a call never known to be answered is retried after the
  strategy's error delay without counting as an attempt, so the contact is never dialled
  twice in a row, never early, and never finished by a crash.

Runners that share a database with other campaigns settle only their own campaigns'
attempts (:func:`trunkline.dialer.runner.settling.settle_open_attempts`) from
:meth:`Recovery.in_flight`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from trunkline.dialer.store.claims import Claims
from trunkline.dialer.store.outcomes import Outcomes


@dataclass(frozen=True, slots=True)
class InFlight:
    """An attempt found open after a restart."""

    attempt: int
    contact: int
    campaign: str
    number: str
    state: str
    claimed_at: float
    dialed_at: float | None
    call_ref: str | None


@dataclass(frozen=True, slots=True)
class Resolution:
    """What the gateway says about an attempt that was in flight when we stopped.

    ``outcome`` None means the gateway does not know the call (it never went out, or the
    gateway restarted too): it is settled by what the store knew (``record_lost``).
    """

    outcome: str | None = None
    cause: int | None = None
    still_up: bool = False  # the call is still up on the gateway: leave it dialing



class Recovery(Claims, Outcomes):
    """Settling what a crash left open (see :class:`~trunkline.dialer.store.Store`)."""

    def in_flight(self) -> list[InFlight]:
        rows = self.query(
            "SELECT a.id, a.contact_id, k.name, a.number, a.state, a.claimed_at, a.dialed_at,"
            " a.call_ref FROM attempt a JOIN campaign k ON k.id=a.campaign_id "
            "WHERE a.state IN ('claimed', 'dialing') ORDER BY a.id")
        return [InFlight(*r) for r in rows]

    def recover(self, now: float) -> int:
        """Release every attempt that was claimed but never marked dialing (safe: the
        originate is sent only after :meth:`mark_dialing` commits). Returns how many."""
        released = 0
        for item in self.in_flight():
            if item.state == "claimed":
                self.release(item.attempt, not_before=now)
                released += 1
        return released

    def reconcile(self, resolve: Callable[[InFlight], Resolution], now: float, *,
                  window_of: Callable[[str, float], int] | None = None) -> dict[str, int]:
        """After a restart: settle every attempt that may have reached the network.

        ``resolve`` asks the gateway about one attempt (``calls.list``, the call record).
        Unknown calls are settled by ``record_lost`` (what was known kept, the rest
        retried after the strategy's error delay: never dialled twice in a row).
        """
        counts = {"released": self.recover(now), "resolved": 0, "unknown": 0, "still_up": 0}
        for item in self.in_flight():
            answer = resolve(item)
            if answer.still_up:
                counts["still_up"] += 1
                continue
            window = window_of(item.campaign, now) if window_of is not None else None
            if answer.outcome is None:
                self.record_lost(item.attempt, now, window_of=window_of)
                counts["unknown"] += 1
            else:
                self.record_outcome(item.attempt, answer.outcome, now, cause=answer.cause,
                                    window=window)
                counts["resolved"] += 1
        return counts

