"""Calls dialled for one agent: its manual dials and its personal callbacks that came due.

Why a module of its own: these contacts are claimed outside the engine (the store checks
a manual number against DNC and the calling windows; a due callback is claimed for the
agent who owns it) and then handed to the engine for that agent alone; a refusal goes
to that agent's screen, and the contact is put back.
"""

from __future__ import annotations

from typing import Any

from trunkline.dialer.desk.outputs import DialRequest
from trunkline.dialer.errors import DialerError, StoreError
from trunkline.dialer.pacing import events as ev
from trunkline.dialer.runner.desk_feed import DeskFeed
from trunkline.dialer.store import Claim

#: How often due personal callbacks are looked for (seconds).
CALLBACK_POLL = 5.0


class DeskDials(DeskFeed):
    """An agent's manual dials and due personal callbacks (see the module docstring)."""

    def _manual_dial(self, op: DialRequest, now: float) -> list[Any]:
        try:
            claim = self.store.claim_manual(op.campaign, op.number, op.agent, now,
                                            home_country=self.home_country)
        except StoreError as err:
            return [self.desk.refuse(op.agent, "manual_dial", str(err), "number")]
        return self._dial_for(op.agent, claim, now, "manual_dial")

    def _dial_for(self, agent: str, claim: Claim, now: float, command: str) -> list[Any]:
        """Dial ``claim`` for ``agent`` (manual dial, personal callback)."""
        contact = self.contacts.adopt(claim)
        try:
            actions = self.engine.handle(ev.ManualDial(agent, claim.campaign, contact), now)
        except DialerError as err:
            self.contacts.defer(contact, now)
            return [self.desk.refuse(agent, command, str(err))]
        return self._apply(actions, now, {agent})

    def _dial_due_callbacks(self, now: float) -> None:
        ready = [a for a, seat in self.desk.seats.items()
                 if seat.state in ("ready", "preview")]
        for agent in self.store.agents_with_due_callbacks(ready, now):
            claim = self.store.claim_callback(agent, now)
            if claim is not None and claim.campaign in self.campaigns:
                self._feed(self._dial_for(agent, claim, now, "callback"), now)
            elif claim is not None:
                self.store.release(claim.attempt, not_before=now + 60.0)
