"""The engine's contact provider over the store, which persists the engine's output.

The bridge between the sans-IO engine (:mod:`trunkline.dialer.pacing`) and the database:
contacts are claimed for the engine, and a batch of the engine's actions is made durable
(:meth:`StoreContacts.persist`) before the runner carries out any of it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from trunkline.dialer.campaigns.strategies import HourOfWeekStats
from trunkline.dialer.errors import StoreError
from trunkline.dialer.pacing.contacts import Contact
from trunkline.dialer.store.claims import Claim

if TYPE_CHECKING:
    from trunkline.dialer.store import Store


class StoreContacts:
    """The engine's :class:`~trunkline.dialer.pacing.contacts.ContactProvider` over a
    :class:`Store`, plus :meth:`persist`, which makes an engine's output durable before it
    is carried out.

    Engine time and store time may differ: ``to_epoch(now)`` converts engine time to
    epoch seconds (identity when the runner feeds the engine epoch time).

    The runner's loop, per batch of actions from ``engine.handle``::

        refused = contacts.persist(actions, now)       # commits first
        for action in actions:                          # then acts
            if isinstance(action, Dial) and action.call_id in refused:
                engine.handle(CallFailed(action.call_id, "rejected"), now)  # DNC at dial
                continue
            ... send to the gateway ...
    """

    def __init__(self, store: Store, *, to_epoch: Callable[[float], float] = float,
                 window_of: Callable[[str, float], int] | None = None,
                 stats_of: Callable[[str], HourOfWeekStats | None] | None = None) -> None:
        self.store = store
        self._to_epoch = to_epoch
        self._window_of = window_of
        self._stats_of = stats_of
        self._claims: dict[str, Claim] = {}     # contact id -> claim (held by the engine)
        self._calls: dict[int, Claim] = {}      # engine call id -> claim (dialled)
        self._refused: set[int] = set()

    def next_contact(self, campaign: str, now: float) -> Contact | None:
        claim = self.store.claim_next(campaign, self._to_epoch(now))
        if claim is None:
            return None
        key = str(claim.contact)
        self._claims[key] = claim
        return Contact(key, claim.number, campaign, preview=claim.preview)

    def defer(self, contact: Contact, until: float) -> None:
        claim = self._claims.pop(contact.id, None)
        if claim is None:
            raise StoreError(f"contact {contact.id!r} was not handed out by this store")
        self.store.release(claim.attempt, not_before=self._to_epoch(until))

    def claim(self, call_id: int) -> Claim | None:
        """The claim behind an engine call (fields for the agent's screen, attempt id)."""
        return self._calls.get(call_id)

    def persist(self, actions: Iterable[Any], now: float) -> set[int]:
        """Commit what ``actions`` change, before any of them is carried out.

        ``Dial``: :meth:`Store.mark_dialing` (the call ids it refuses, because the number
        went on a DNC list since it was claimed, are returned: do not dial them).
        ``RecordOutcome``: :meth:`Store.record_outcome` with the abandon window.
        """
        from trunkline.dialer.pacing.actions import Dial, RecordOutcome, ReturnContact

        t = self._to_epoch(now)
        refused: set[int] = set()
        for action in actions:
            if isinstance(action, Dial):
                claim = self._claims.pop(action.contact.id)
                self._calls[action.call_id] = claim
                if not self.store.mark_dialing(claim.attempt, t, agent=action.agent):
                    refused.add(action.call_id)
                    self._refused.add(action.call_id)
            elif isinstance(action, ReturnContact):
                claim = self._calls.pop(action.call_id, None)
                self._refused.discard(action.call_id)
                if claim is not None:   # never placed: released, not an attempt
                    self.store.release_undialled(
                        claim.attempt, t, not_before=self._to_epoch(action.not_before),
                        reason=action.reason)
            elif isinstance(action, RecordOutcome):
                claim = self._calls.pop(action.call_id, None)
                if claim is None or action.call_id in self._refused:
                    self._refused.discard(action.call_id)
                    continue
                window = (self._window_of(action.campaign, now)
                          if self._window_of is not None else None)
                stats = self._stats_of(action.campaign) if self._stats_of else None
                redial = (self._to_epoch(action.redial_not_before)
                          if action.redial_not_before is not None else None)
                self.store.record_outcome(claim.attempt, str(action.outcome), t,
                                          window=window, redial_not_before=redial,
                                          stats=stats)
        return refused
