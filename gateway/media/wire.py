"""From what legs report to what the wire says: the one table.

:data:`CALL_EVENTS` maps each kind of call event
(:mod:`trunkline.drivers.signalling.events`) to a rule that updates the call's wire
state and returns the wire events to publish (docs/protocol.md). Events with no row
(dial tone, digits sent, Q.931 details...) are the leg's own business: ``trunkline call``
prints them, the wire does not carry them. :data:`SPAN_EVENTS` does the same for span
events. How a call ends (recordings closed, bridges undone) is the engine's work; this
module only says how the end reads on the wire (:func:`hungup`).

``call.state`` moves only forward through the states a caller can see: a ringback tone
after early media says ``ringing``, but a ringback tone heard after the answer does not
take the call back.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, Final

from trunkline.drivers.model import Alarm
from trunkline.drivers.signalling import events as ev
from trunkline.gateway.media.calls import Call

__all__ = ["CALL_EVENTS", "SPAN_EVENTS", "hungup", "state_event", "translate"]

Wire = list[dict[str, Any]]

#: States from which a call may be said to ring (``new``: an FXS phone rung at once).
_RINGS_FROM: Final = frozenset({"new", "dialing", "proceeding", "early_media"})
#: States from which in-band progress makes a call ``early_media``.
_EARLY_FROM: Final = frozenset({"dialing", "proceeding"})
#: States from which the network accepting the number makes a call ``proceeding``.
_PROCEEDS_FROM: Final = frozenset({"new", "dialing"})
#: States from which a call may be answered (outbound before the answer; offered).
_ANSWERS_FROM: Final = frozenset({*_RINGS_FROM, "ringing", "offered"})


def state_event(call: Call, state: str, **extra: Any) -> Wire:
    """Set the call's wire state; the ``call.state`` event when that is news (a
    change, or a repeat with something to say, such as who answered)."""
    if call.state == state and not extra:
        return []
    call.state = state
    return [{"event": "call.state", **call.where(), "state": state, **extra}]


def _said(call: Call, event_name: str, /, **fields: Any) -> Wire:
    return [{"event": event_name, **call.where(), **fields}]


def _ringing(call: Call) -> Wire:
    return state_event(call, "ringing") if call.state in _RINGS_FROM else []


def _dialing(call: Call) -> Wire:
    return state_event(call, "dialing") if call.state == "new" else []


def _proceeding(call: Call) -> Wire:
    return state_event(call, "proceeding") if call.state in _PROCEEDS_FROM else []


def _tone(call: Call, e: ev.ToneHeard) -> Wire:
    out = _ringing(call) if e.tone in ("ringback", "music") and call.state != "new" else []
    if e.tone != "dial":
        out += _said(call, "tone", tone=e.tone)
    return out


def _progress(call: Call, e: ev.Progress) -> Wire:
    if e.inband and call.state in _EARLY_FROM:
        return state_event(call, "early_media")
    return []


def _answered(call: Call, e: ev.Answered) -> Wire:
    if call.state not in _ANSWERS_FROM:
        return []
    call.answered_at = e.at
    if e.person:
        call.answered_by = "human"
    return state_event(call, "answered", by="human" if e.person else "unknown")


def _classified(call: Call, e: ev.Classified) -> Wire:
    call.answered_by = e.answered_by
    return _said(call, "amd", result=e.result, reason=e.reason, after_answer=e.after_answer)


def _early_media(call: Call, e: ev.EarlyMedia) -> Wire:
    if e.kind:
        return _said(call, "announcement", kind=e.kind)
    if e.heard not in ("voice", "silence"):
        return _said(call, "tone", tone=e.heard)
    return []


def _offered(call: Call, e: ev.Offered) -> Wire:
    if call.state != "new":
        return []
    call.state = "offered"
    return _said(call, "call.offered", calling=e.calling, called=e.called)


def _rejecting(call: Call, e: ev.Rejecting) -> Wire:
    if call.state == "offered":
        call.state = "rejecting"  # not news to anyone: the end follows
    return []


Rule = Callable[[Call, Any], Wire]

#: Call event -> (call, event) -> wire events.
CALL_EVENTS: Final[Mapping[type, Rule]] = MappingProxyType({
    ev.Seized: lambda c, e: _dialing(c),
    ev.SetupSent: lambda c, e: _dialing(c),
    ev.Proceeding: lambda c, e: _proceeding(c),
    ev.Alerting: lambda c, e: _ringing(c),
    ev.ToneHeard: _tone,
    ev.Progress: _progress,
    ev.Answered: _answered,
    ev.Classified: _classified,
    ev.EarlyMedia: _early_media,
    ev.SitHeard: lambda c, e: _said(c, "sit", code=e.code),
    ev.AnnouncementHeard: lambda c, e: _said(c, "announcement", kind=e.kind),
    ev.DigitReceived: lambda c, e: _said(c, "dtmf", digit=e.digit),
    ev.Offered: _offered,
    ev.Rejecting: _rejecting,
})


def translate(call: Call, event: ev.CallEvent) -> Wire:
    """The wire events for ``event`` on ``call`` (updating its wire state)."""
    rule = CALL_EVENTS.get(type(event))
    return rule(call, event) if rule is not None else []


def hungup(call: Call, by: str | None) -> dict[str, Any]:
    """The last word on a call (its ``outcome`` and ``cause`` already set)."""
    call.state = "hungup"
    return {"event": "call.state", **call.where(), "state": "hungup",
            "outcome": call.outcome, "cause": call.cause, "by": by}


#: Span event -> wire event.
SPAN_EVENTS: Final[Mapping[type, Callable[[Any], dict[str, Any]]]] = MappingProxyType({
    ev.SpanAlarm: lambda e: {"event": "alarm", "span": e.span,
                             "alarms": Alarm(e.alarms).name if e.alarms else "OK"},
    ev.LinkState: lambda e: {"event": "alarm", "span": e.span, "dchannel": "up"} if e.up
    else {"event": "alarm", "span": e.span, "dchannel": "down", "reason": e.reason},
    ev.IdleHook: lambda e: {"event": "channel.state", "channel": e.channel, "span": e.span,
                            "state": e.state},
})
