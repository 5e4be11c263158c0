"""What a PRI span knows about each of its calls: the record it keeps and the snapshot it
gives out.

:class:`CallRecord` is the span's mutable bookkeeping for one call (state, channel, who
cleared it, libpri's call pointer); :class:`CallInfo` is the frozen snapshot callers
get from :attr:`PriSpan.calls` and :meth:`PriSpan.call`. Call ids come from one
process-wide counter (:func:`new_call_id`), shared by every span and
:class:`~.group.SpanGroup`, so an id stays unique when a group moves a call to another
span after glare.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any, Literal

from .callstate import CallState

__all__ = ["CallInfo", "CallRecord", "new_call_id"]

_CALL_IDS = itertools.count(1)


def new_call_id() -> int:
    """A call id unique in this process (shared by all spans and groups)."""
    return next(_CALL_IDS)


@dataclass(frozen=True, slots=True)
class CallInfo:
    """A snapshot of one call on a span."""

    id: int
    span: int
    direction: Literal["incoming", "outgoing"]
    channel: int | None
    state: str
    called: str
    calling: str
    answered: bool
    since: float


class CallRecord:
    """One call as the span tracks it, alongside libpri's own call record.

    ``ptr`` is libpri's ``q931_call *`` and ``key`` its address, by which the span finds
    the record again when libpri reports an event. ``alive`` stays True while libpri
    still expects a ``pri_hangup`` from us; ``confirmed`` once the far end has answered
    our SETUP in some way; ``glare`` when an incoming call took our channel (Q.931 5.7).
    """

    __slots__ = (
        "alive",
        "answered",
        "called",
        "calling",
        "cause",
        "channel",
        "cleared_by",
        "confirmed",
        "direction",
        "glare",
        "id",
        "inband",
        "key",
        "proceeded_at",
        "ptr",
        "since",
        "state",
    )

    def __init__(self, call_id: int, ptr: Any, key: int, direction: str,
                 channel: int | None, called: str, calling: str, since: float) -> None:
        self.id = call_id
        self.ptr = ptr
        self.key = key
        self.direction = direction
        self.channel = channel
        self.called = called
        self.calling = calling
        self.since = since
        self.state = CallState.NULL
        self.alive = True
        self.answered = False
        self.confirmed = False
        self.glare = False
        self.inband = False
        self.cause: int | None = None
        self.cleared_by: str | None = None
        self.proceeded_at: float | None = None

    def info(self, span_id: int) -> CallInfo:
        """The frozen snapshot of this call on span ``span_id``."""
        return CallInfo(self.id, span_id, self.direction,  # type: ignore[arg-type]
                        self.channel, self.state.name, self.called, self.calling,
                        self.answered, self.since)

    # T310 runs from CALL PROCEEDING received until ALERTING, CONNECT, DISCONNECT or
    # PROGRESS (Q.931 Table 9-1); libpri 1.6 does not run it, so the span does.
    def t310_expiry(self, t310: float) -> float | None:
        """When T310 expires for this call, None when it does not run."""
        if self.state == CallState.OUTGOING_PROCEEDING and self.proceeded_at is not None:
            return self.proceeded_at + t310
        return None

    def t310_expired(self, now: float, t310: float) -> bool:
        """True once T310 has run out for this call at ``now``."""
        return (self.state == CallState.OUTGOING_PROCEEDING and self.proceeded_at is not None
                and now - self.proceeded_at >= t310)
