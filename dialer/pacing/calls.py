"""Calls as the engine sees them, and every allowed transition in one table."""

from __future__ import annotations

from dataclasses import dataclass

from trunkline.dialer.errors import DialerStateError
from trunkline.dialer.pacing.contacts import Contact
from trunkline.dialer.vocab import CallState

C = CallState

#: (state, trigger) -> new state. Anything missing is refused with a DialerStateError.
TRANSITIONS: dict[tuple[CallState, str], CallState] = {
    (C.DIALING, "ringing"): C.DIALING,
    (C.DIALING, "answer_to_agent"): C.CONNECTED,  # an agent was free (or reserved)
    (C.DIALING, "answer_waiting"): C.WAITING,     # live, no agent yet: the 2 s start
    (C.DIALING, "answer_device"): C.DONE,         # machine or fax: we hang up
    (C.DIALING, "fail"): C.DONE,
    (C.DIALING, "hangup"): C.DONE,                # line cleared before any answer
    (C.WAITING, "agent_found"): C.CONNECTED,
    (C.WAITING, "abandon"): C.DONE,               # engine: no agent within the limit
    (C.WAITING, "reroute"): C.WAITING,            # handed to another campaign's queue
    (C.WAITING, "customer_abandon"): C.DONE,
    (C.WAITING, "hangup"): C.DONE,
    (C.CONNECTED, "hangup"): C.DONE,
}


@dataclass(slots=True)
class Call:
    id: int
    campaign: str           # the campaign whose agents serve it (changes on reroute)
    origin: str             # the campaign that dialed it; its abandon counts there
    contact: Contact
    placed: float
    agent: str | None = None
    reserved: bool = False  # an agent was reserved for it when it was dialed
    state: CallState = CallState.DIALING
    answered_at: float | None = None
    greeting_ended_at: float | None = None  # the called person's greeting ended (if known)
    deadline: float | None = None
    rerouted: bool = False

    def fire(self, trigger: str) -> CallState:
        new = TRANSITIONS.get((self.state, trigger))
        if new is None:
            raise DialerStateError(f"cannot {trigger.replace('_', ' ')} call {self.id} "
                                   f"({self.contact.number}): state is {self.state}")
        self.state = new
        return new
