"""What the engine is told: agent, call and time events.

Events are small frozen, slotted dataclasses, validated when built, so a malformed event
fails where it is made rather than deep inside the engine. Time is never inside an event:
the engine receives it beside the event (``engine.handle(event, now)``), which keeps the
core free of clocks (DESIGN.md, principle 3).

Call events come from the gateway in the order a call lives them::

    Dial (action) -> CallRinging? -> CallAnswered(kind) | CallFailed(outcome)
                  -> CallHungUp (far end hung up, or the line cleared after our hang-up)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from trunkline.dialer.pacing.contacts import Contact
from trunkline.dialer.vocab import FAILURE_OUTCOMES, AgentLevel, AnswerKind, CallOutcome


def _check_name(kind: str, value: str) -> None:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{kind} must be a non-empty string, got {value!r}")


def _check_call(call_id: int) -> None:
    if not isinstance(call_id, int) or call_id < 0:
        raise ValueError(f"call_id must be an int >= 0, got {call_id!r}")


@dataclass(frozen=True, slots=True)
class AgentLoggedIn:
    """The agent logs in to one or more campaigns, each at a level; starts paused."""

    agent: str
    campaigns: tuple[tuple[str, AgentLevel], ...]

    def __post_init__(self) -> None:
        _check_name("agent", self.agent)
        if not self.campaigns:
            raise ValueError(f"agent {self.agent!r} must log in to at least one campaign")
        names = [name for name, _ in self.campaigns]
        if len(set(names)) != len(names):
            raise ValueError(f"agent {self.agent!r} lists a campaign twice: {names}")
        for name, _ in self.campaigns:
            _check_name("campaign", name)
        # members, not look-alike strings: the engine compares levels by identity
        object.__setattr__(self, "campaigns",
                           tuple((name, AgentLevel(level)) for name, level in self.campaigns))


@dataclass(frozen=True, slots=True)
class AgentLoggedOut:
    agent: str

    def __post_init__(self) -> None:
        _check_name("agent", self.agent)


@dataclass(frozen=True, slots=True)
class AgentReady:
    """The agent is available for calls (from paused)."""

    agent: str

    def __post_init__(self) -> None:
        _check_name("agent", self.agent)


@dataclass(frozen=True, slots=True)
class AgentPaused:
    """The agent steps away; if on a call, the pause takes effect after wrap-up."""

    agent: str
    reason: str = ""

    def __post_init__(self) -> None:
        _check_name("agent", self.agent)


@dataclass(frozen=True, slots=True)
class WrapUpDone:
    agent: str

    def __post_init__(self) -> None:
        _check_name("agent", self.agent)


@dataclass(frozen=True, slots=True)
class ManualDial:
    """A manual-mode agent dials: a given contact, or the campaign's next one."""

    agent: str
    campaign: str
    contact: Contact | None = None

    def __post_init__(self) -> None:
        _check_name("agent", self.agent)
        _check_name("campaign", self.campaign)


@dataclass(frozen=True, slots=True)
class PreviewDecision:
    """The agent looked at ``contact_id`` and chose to dial it (True) or skip it."""

    agent: str
    contact_id: str
    dial: bool

    def __post_init__(self) -> None:
        _check_name("agent", self.agent)
        _check_name("contact_id", self.contact_id)


@dataclass(frozen=True, slots=True)
class CallRinging:
    call_id: int

    def __post_init__(self) -> None:
        _check_call(self.call_id)


@dataclass(frozen=True, slots=True)
class CallAnswered:
    """Answer detection has classified the answer (human, machine or fax).

    ``answered_at`` (the line's answer) and ``greeting_ended_at`` (the end of the called
    person's greeting, as answer detection heard it) are on the engine's clock, or None
    when unknown: the abandon limit runs from one of them, the one the campaign's regime
    names (:mod:`trunkline.dialer.pacing.abandon_clock`).
    """

    call_id: int
    kind: AnswerKind
    answered_at: float | None = None
    greeting_ended_at: float | None = None

    def __post_init__(self) -> None:
        _check_call(self.call_id)
        # Store the member, not the string it was given: the engine and the simulator
        # test ``kind is AnswerKind.HUMAN``, and a plain "human" (a caller passing the
        # wire's word) failed that identity test and was hung up as a machine.
        object.__setattr__(self, "kind", AnswerKind(self.kind))
        for name in ("answered_at", "greeting_ended_at"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int | float)
                                      or isinstance(value, bool) or not math.isfinite(value)):
                raise ValueError(f"call {self.call_id}: {name} must be a finite time or "
                                 f"None, got {value!r}")
        if self.answered_at is not None and self.greeting_ended_at is not None \
                and self.greeting_ended_at < self.answered_at:
            raise ValueError(f"call {self.call_id}: the greeting cannot end "
                             f"({self.greeting_ended_at}) before the answer "
                             f"({self.answered_at})")


@dataclass(frozen=True, slots=True)
class CallFailed:
    """The call ended without an answer: busy, no_answer, congestion, invalid_number..."""

    call_id: int
    outcome: CallOutcome

    def __post_init__(self) -> None:
        _check_call(self.call_id)
        object.__setattr__(self, "outcome", CallOutcome(self.outcome))  # a member, see above
        if self.outcome not in FAILURE_OUTCOMES:
            allowed = ", ".join(sorted(FAILURE_OUTCOMES))
            raise ValueError(f"call {self.call_id}: {self.outcome!r} is not a failure "
                             f"outcome; expected one of {allowed}")


@dataclass(frozen=True, slots=True)
class CallHungUp:
    """The far end hung up, or the line cleared after our hang-up; idempotent."""

    call_id: int

    def __post_init__(self) -> None:
        _check_call(self.call_id)


@dataclass(frozen=True, slots=True)
class CustomerAbandoned:
    """The person hung up while waiting for an agent."""

    call_id: int

    def __post_init__(self) -> None:
        _check_call(self.call_id)


@dataclass(frozen=True, slots=True)
class CallTransferred:
    """The agent on connected call ``call_id`` hands it to ``agent`` (ready), or to the
    ready agent of ``campaign`` the routing picks; the first agent goes to wrap-up."""

    call_id: int
    agent: str | None = None
    campaign: str | None = None

    def __post_init__(self) -> None:
        _check_call(self.call_id)
        if (self.agent is None) == (self.campaign is None):
            raise ValueError(f"call {self.call_id}: transfer to an agent or a campaign, "
                             "one of them")
        _check_name("agent" if self.agent is not None else "campaign",
                    self.agent if self.agent is not None else self.campaign or "")


@dataclass(frozen=True, slots=True)
class CallRequeued:
    """The agent of connected call ``call_id`` is gone for good (its browser's audio
    lost): the customer, held, waits for the next agent of the call's campaign who is
    free, ahead of new answers (first requeued, first served). Not an abandon: the call
    was connected to an agent. The agent stays on it until another takes it (or it
    ends), then goes to wrap-up as after a transfer."""

    call_id: int

    def __post_init__(self) -> None:
        _check_call(self.call_id)


@dataclass(frozen=True, slots=True)
class RequeueGivenUp:
    """Nobody took requeued call ``call_id`` in time: it leaves the queue (the customer
    hears the apology; its hang-up ends the call as any connected call's)."""

    call_id: int

    def __post_init__(self) -> None:
        _check_call(self.call_id)


@dataclass(frozen=True, slots=True)
class Tick:
    """Time passed: run due timers and, when due, pacing. Call it at ``next_deadline()``."""


@dataclass(frozen=True, slots=True)
class DialNotPlaced:
    """The gateway refused a ``Dial`` before any call existed (no free channel, or it is
    shutting down): not an attempt, not congestion, and not a dial the pacing model
    learns from. The contact is due again at ``retry_at`` (issue 15, item 3)."""

    call_id: int
    retry_at: float
    reason: str = "not placed"

    def __post_init__(self) -> None:
        _check_call(self.call_id)


Event = (
    AgentLoggedIn | AgentLoggedOut | AgentReady | AgentPaused | WrapUpDone | ManualDial
    | PreviewDecision | CallRinging | CallAnswered | CallFailed | CallHungUp
    | CustomerAbandoned | CallTransferred | CallRequeued | RequeueGivenUp | DialNotPlaced
    | Tick
)
