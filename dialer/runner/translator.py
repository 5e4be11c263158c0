"""Gateway wire events of customer calls -> engine events and runner decisions (sans-IO).

The campaign runner places customer calls through the gateway; what the gateway says
about each (``call.state``, ``amd``, ``announcement``, ``play.started``,
``play.finished``: the events a live gateway is subscribed to,
:data:`trunkline.dialer.runner.gateway.EVENTS`) is read here, in one place, into what
the engine must be told and what the runner must do. :class:`WireTranslator` takes those
events and ``now`` and returns both, in the order they must be carried out; it reads the
engine's call states through the function it is given and nothing else: no store, no
gateway, no clock.

Gateway events become engine events as follows::

    call.state ringing                    -> CallRinging
    call.state answered (by unknown)      -> (nothing yet: wait for AMD) + AwaitAmd
    amd human | notsure                   -> CallAnswered(human, answered_at, greeting end)
                                             (store.mark_answered first)
    amd machine | fax                     -> CallAnswered(machine | fax) -> HangUp
    AMD silent for amd_timeout            -> CallAnswered(human)   (a person, as AMD would;
                                             UK: for the 2 s abandon limit at most)
    announcement (before an answer)       -> HangUpCall; CallFailed(invalid_number | ...)
    call.state hungup, never classified   -> CallFailed(outcome) for failure outcomes,
                                             CallAnswered(machine|fax) for those,
                                             CallHungUp otherwise (recorded as error)
    call.state hungup after a live answer -> CallHungUp (waiting: abandoned by the caller;
                                             connected: the agent goes to wrap-up)

and machine messages and abandon messages end as::

    play.started (a message waiting for the beep)  -> (the message is playing)
    play.finished done (the message playing)       -> MessageLeft; HangUpCall
    play.finished done (an abandoned call)         -> HangUpCall
    call.state hungup (a message waiting/playing)  -> Note(why it was not left) first

Only a call the engine still holds as ``dialing`` can ring, be classified or fail; events
after that change nothing (the engine has moved on: connected, waiting, finished).
The decisions (:class:`HangUpCall`, :class:`AwaitAmd`, :class:`Note`,
:class:`MessageLeft`, :class:`Ended`) are small frozen records; the engine events are
:mod:`trunkline.dialer.pacing.events`'.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from trunkline.dialer.pacing import events as ev
from trunkline.dialer.vocab import FAILURE_OUTCOMES, AnswerKind, CallOutcome, CallState
from trunkline.vocab import ANNOUNCEMENT_OUTCOME, outcome_for_announcement

# -- when the greeting ended -----------------------------------------------------------------

#: The silence after a greeting the detector waits before it says "human", by the
#: ``amd`` event's ``reason`` (the leg's ``amd_<result>``): drivers/dsp/amd.py waits
#: AFTER_GREETING_SILENCE_MS (700 ms) after a hello and PHRASE_WAIT_MS (1 s) after a
#: longer first utterance; the event does not say which, so the longer stands in (the
#: greeting's end is then put up to 0.3 s early: the 2 s counts from the earlier, the
#: stricter, moment). ``amd_notsure`` is left out: it may follow initial silence, a
#: medium greeting (after 1 or 2 s of quiet) or the analysis time running out while the
#: person still speaks, so the greeting's end is not known and the answer stands in.
GREETING_SILENCE = {"amd_human": 1.0}


def greeting_end(answered_at: float, now: float, reason: str,
                 after_answer: object) -> float | None:
    """When the called person's greeting ended, from an ``amd`` event (16 CFR
    310.4(b)(4)(iii) counts the 2 s from the completed greeting); None when the verdict
    does not tell, and the stricter moment, the answer, then stands in."""
    wait = GREETING_SILENCE.get(reason)
    if wait is None:
        return None
    decided = now
    if isinstance(after_answer, int | float) and not isinstance(after_answer, bool) \
            and math.isfinite(after_answer) and after_answer >= 0:
        decided = min(answered_at + after_answer, now)
    return min(max(decided - wait, answered_at), now)


# -- what the runner is asked to do ----------------------------------------------------------

@dataclass(frozen=True, slots=True)
class HangUpCall:
    """Hang gateway call ``gw`` up now."""

    gw: int


@dataclass(frozen=True, slots=True)
class AwaitAmd:
    """The call was answered: if AMD has not classified it by ``until``, call
    :meth:`WireTranslator.on_amd_timeout` (it is then taken as a person)."""

    gw: int
    until: float


@dataclass(frozen=True, slots=True)
class Note:
    """Note ``text`` on engine call ``call_id``'s attempt (what happened beside the
    outcome)."""

    call_id: int
    text: str


@dataclass(frozen=True, slots=True)
class MessageLeft:
    """A machine message was played whole on engine call ``call_id``."""

    call_id: int


@dataclass(frozen=True, slots=True)
class Ended:
    """Gateway call ``gw`` (engine call ``call_id``) is over; the translator forgot it."""

    gw: int
    call_id: int


Decision = HangUpCall | AwaitAmd | Note | MessageLeft | Ended
Output = ev.Event | Decision


class Message(StrEnum):
    """Where a machine message stands on one call."""

    WAITING = "waiting"    # asked for: the gateway waits for the quiet after the beep
    PLAYING = "playing"
    LEFT = "left"


# -- one call --------------------------------------------------------------------------------

@dataclass(slots=True)
class WireCall:
    """What the gateway has said so far about one customer call in progress."""

    call_id: int                              # the engine's call
    ringing: bool = False
    answered_at: float | None = None          # the line answered (AMD still listening)
    classified: AnswerKind | None = None      # AMD's result, as given to the engine
    live_at: float | None = None              # when the engine learnt of the live answer
    greeting_ended_at: float | None = None    # the greeting's end, as AMD heard it
    amd_limit: float | None = None            # the longest AMD may take (None: amd_timeout)
    released: CallOutcome | None = None       # released on an announcement, with this
    abandoned: bool = False                   # the engine abandoned it: message playing
    message: Message | None = None            # a machine message


class WireTranslator:
    """Gateway events of the customer calls in progress -> engine events and decisions.

    ``engine_state(call_id)`` is the engine's state of a call (None once the engine has
    finished it): the translator reads it, never keeps a copy. ``amd_timeout``: a call
    answered that AMD has not classified after this long is taken as a person.
    """

    def __init__(self, engine_state: Callable[[int], CallState | None], *,
                 amd_timeout: float) -> None:
        self._engine_state = engine_state
        self.amd_timeout = amd_timeout
        #: gateway call id -> the call, from :meth:`placed` until it hung up
        self.calls: dict[int, WireCall] = {}

    # -- the runner tells ------------------------------------------------------------------

    def placed(self, gw: int, call_id: int, *, amd_limit: float | None = None) -> None:
        """Gateway call ``gw`` was originated for engine call ``call_id``.

        ``amd_limit``: answer detection gets at most this long after the answer (less
        than ``amd_timeout``), after which the call is taken as a person. A UK campaign
        passes its abandon limit: Ofcom counts the 2 s from the answer, so a person
        must hear an agent or the information message by then, whatever AMD still
        thinks (a machine not recognised by then is treated as a person: connected,
        or given the message and counted as an abandon)."""
        self.calls[gw] = WireCall(call_id, amd_limit=amd_limit)

    def abandoning(self, gw: int) -> float | None:
        """The engine abandoned the call: the abandon message plays, and its end hangs the
        call up. Returns when the live answer was (None if unknown)."""
        call = self.calls.get(gw)
        if call is None:
            return None
        call.abandoned = True
        return call.live_at

    def may_leave_message(self, gw: int) -> bool:
        """Whether a machine message may be left on the call: AMD said machine, and no
        message was asked for yet."""
        call = self.calls.get(gw)
        return call is not None and call.classified is AnswerKind.MACHINE \
            and call.message is None

    def message_asked(self, gw: int) -> None:
        """The machine message was asked for (it waits for the quiet after the beep)."""
        self.calls[gw].message = Message.WAITING

    # -- the gateway tells -----------------------------------------------------------------

    def on_event(self, event: Mapping[str, Any], now: float) -> list[Output]:
        """One gateway event; what follows from it, in order. Events of calls that are
        not customer calls in progress give nothing."""
        gw = event.get("call")
        call = self.calls.get(gw)  # type: ignore[arg-type]
        if call is None:
            return []
        assert isinstance(gw, int)
        kind = event.get("event")
        if kind == "call.state":
            state = event.get("state")
            if state == "ringing":
                if self._dialing(call) and not call.ringing and call.released is None:
                    call.ringing = True
                    return [ev.CallRinging(call.call_id)]
            elif state == "answered":
                if call.answered_at is None:
                    call.answered_at = now
                    wait = self.amd_timeout if call.amd_limit is None \
                        else min(self.amd_timeout, call.amd_limit)
                    return [AwaitAmd(gw, now + wait)]
            elif state == "hungup":
                return self._ended(gw, call, event, now)
            return []
        if kind == "amd":
            result = str(event.get("result"))
            if call.answered_at is not None:
                call.greeting_ended_at = greeting_end(
                    call.answered_at, now, str(event.get("reason", "")),
                    event.get("after_answer"))
            return self._classified(call, result, now)
        if kind == "announcement":
            if self._dialing(call) and call.answered_at is None and call.released is None:
                outcome = CallOutcome(
                    outcome_for_announcement(str(event.get("kind"))))
                call.released = outcome
                return [HangUpCall(gw), ev.CallFailed(call.call_id, outcome)]
            return []
        done = event.get("reason") == "done"
        if kind == "play.started" and call.message is Message.WAITING:
            call.message = Message.PLAYING
        elif kind == "play.finished" and call.message is Message.PLAYING and done:
            call.message = Message.LEFT
            return [MessageLeft(call.call_id), Note(call.call_id, "machine message left"),
                    HangUpCall(gw)]
        elif kind == "play.finished" and call.abandoned and done:
            return [HangUpCall(gw)]
        return []

    def on_amd_timeout(self, gw: int, now: float) -> list[Output]:
        """:class:`AwaitAmd`'s time came: a call answered and still unclassified is a
        person (AMD never decided)."""
        call = self.calls.get(gw)
        if call is None or call.classified is not None:
            return []
        return self._classified(call, "human", now)

    # -- rules -----------------------------------------------------------------------------

    def _dialing(self, call: WireCall) -> bool:
        return self._engine_state(call.call_id) is CallState.DIALING

    def _classified(self, call: WireCall, result: str, now: float) -> list[Output]:
        if call.classified is not None or call.released is not None \
                or not self._dialing(call):
            return []
        kind = AnswerKind.HUMAN if result in ("human", "notsure") else AnswerKind(result)
        call.classified = kind
        if kind is AnswerKind.HUMAN:
            call.live_at = now
        return [ev.CallAnswered(call.call_id, kind, answered_at=call.answered_at,
                                greeting_ended_at=call.greeting_ended_at)]

    def _ended(self, gw: int, call: WireCall, event: Mapping[str, Any],
               now: float) -> list[Output]:
        del self.calls[gw]
        out: list[Output] = []
        if call.message is Message.WAITING:        # the machine hung up first
            out.append(Note(call.call_id, "machine hung up before the message"))
        elif call.message is Message.PLAYING:
            out.append(Note(call.call_id, "machine message cut off"))
        out.append(Ended(gw, call.call_id))
        state = self._engine_state(call.call_id)
        if state is None:  # the engine finished it (released, abandoned, machine...)
            return out
        if state is CallState.DIALING:
            outcome = str(event.get("outcome") or "error")
            if outcome in FAILURE_OUTCOMES:
                out.append(ev.CallFailed(call.call_id, CallOutcome(outcome)))
            elif outcome in ("machine", "fax"):
                out += self._classified(call, outcome, now)
            else:  # answered and gone before AMD decided: recorded as error
                out.append(ev.CallHungUp(call.call_id))
            return out
        out.append(ev.CallHungUp(call.call_id))
        return out


__all__ = [
    "ANNOUNCEMENT_OUTCOME", "AwaitAmd", "Decision", "Ended", "HangUpCall",
    "Message", "MessageLeft", "Note", "Output", "WireCall", "WireTranslator",
]
