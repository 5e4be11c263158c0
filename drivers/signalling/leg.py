"""The call-leg protocol: one call on one line, as a sans-IO state machine.

A leg is fed what happens on its line and returns what to do about it, plus what to
tell the world::

    outputs = leg.on_signal(now, card_or_d_channel_event)   # hook, ring, polarity, Q.931
    outputs = leg.on_detection(now, detector_event)          # tones, voice, AMD, digits
    outputs = leg.on_time(now)                               # timers
    outputs = leg.hangup(now, cause) / leg.answer(now)       # what the application asks

Each ``outputs`` is a list of :mod:`~trunkline.drivers.signalling.actions` (carried out by
the line loop and the leg's signalling module) and frozen
:mod:`~trunkline.drivers.signalling.events` (published), in the order they arose. A leg
reads no clock and touches no card: time comes in as ``now``. One implementation per
signalling (FXO loop start, FXS, PRI; MFC/R2 and SS7 add their own modules): each keeps
its transitions in a table beside the standard it follows.

A leg is over once it has reported :class:`~trunkline.drivers.signalling.events.HungUp`
(``ended``); the line loop then lets go of its channel.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from trunkline.drivers.signalling import events as ev
from trunkline.drivers.signalling.actions import Action
from trunkline.errors import CallStateError

if TYPE_CHECKING:
    from trunkline.drivers.card import DialMode

__all__ = ["CallOptions", "Leg", "Output"]

Output = Action | ev.CallEvent


@dataclass(frozen=True, slots=True)
class CallOptions:
    """What the application asks of one outbound call.

    ``hold`` is how long to stay after the answer is classified (None: until the far
    end clears, at most ``max_duration``); ``detect`` the detector flags (from
    :func:`~trunkline.drivers.signalling.detection.detection_flags`); ``amd`` False
    takes every answer for a person; ``calling`` the calling number (digital lines;
    on an FXS port with caller ID, the number its phone shows, with ``calling_name``).
    """

    number: str
    ring_timeout: float = 45.0
    max_duration: float = 600.0
    hold: float | None = None
    amd: bool = True
    detect: tuple[tuple[str, bool], ...] = ()
    calling: str | None = None
    calling_name: str | None = None
    dial_mode: DialMode = "dtmf"
    dial_tone_timeout: float = 3.0
    blind_dial: bool = False

    def __post_init__(self) -> None:
        if not self.ring_timeout > 0 or not self.max_duration > 0:
            raise ValueError(f"ring_timeout and max_duration must be > 0 s, got "
                             f"{self.ring_timeout} and {self.max_duration}")
        if self.hold is not None and self.hold < 0:
            raise ValueError(f"hold must be >= 0 s or None, got {self.hold}")
        if self.dial_mode not in ("dtmf", "pulse"):
            raise ValueError(f"dial_mode must be 'dtmf' or 'pulse', not {self.dial_mode!r}")


class Leg(ABC):
    """Base of every call leg: identity, the log of what it reported, the output list.

    Subclasses implement the inputs they take; the base answers the others with
    nothing (``on_*``) or a clear refusal (``answer``).
    """

    #: What the wire calls this kind of call (``call.originate``'s ``kind``).
    kind: ClassVar[str] = ""
    #: ``outbound`` or ``inbound``.
    direction: ClassVar[str] = ""

    def __init__(self, call_id: int, span: int, channel: int | None, number: str) -> None:
        self.id = call_id
        self.span = span
        self.channel = channel
        self.number = number
        self.outcome: str | None = None
        self.answered_by: str | None = None
        self.ended = False
        self.started = 0.0
        self.now = 0.0
        #: Everything the leg reported, oldest first (``trunkline call`` prints them).
        self.events: list[ev.CallEvent] = []
        self._out: list[Output] = []

    # -- inputs -------------------------------------------------------------------------
    @abstractmethod
    def start(self, now: float) -> list[Output]:
        """The call begins (placed, or offered)."""

    def on_signal(self, now: float, event: Any) -> list[Output]:
        """A line signal for this call (a card event; a D-channel event)."""
        return []

    def on_detection(self, now: float, event: Any) -> list[Output]:
        """A detector event on this call's channel. A leg without call progress of its
        own (a phone, an answered inbound call) reports the far end's digits only."""
        from trunkline.drivers.signalling.detection import heard

        observed = heard(event, now)
        if isinstance(observed, ev.DigitReceived):
            self._begin(now)
            self._report(observed)
        return self._take()

    def on_time(self, now: float) -> list[Output]:
        return []

    def next_deadline(self) -> float | None:
        """When :meth:`on_time` next matters; None: every tick."""
        return None

    def answer(self, now: float) -> list[Output]:
        raise CallStateError(f"cannot answer call {self.id}: it is {self.direction}")

    #: True when the line's signalling carries DTMF itself (:meth:`send_digits`); the
    #: gateway then sends digits that way instead of as tones in the audio.
    digits_out_of_band: ClassVar[bool] = False

    def send_digits(self, now: float, digits: str) -> list[Output]:
        """Send ``digits`` out of band (only where :attr:`digits_out_of_band`)."""
        raise CallStateError(f"call {self.id} sends digits as tones in its audio")

    @abstractmethod
    def hangup(self, now: float, cause: int = 16) -> list[Output]:
        """The application ends the call (``cause``: Q.850, where the line carries one)."""

    # -- results ------------------------------------------------------------------------
    def observations(self) -> list[dict[str, Any]]:
        """The reported events as ``{"t", "event", ...}`` dicts (``trunkline call``)."""
        return [event.observation(self.started) for event in self.events]

    def result(self) -> dict[str, Any]:
        return {"number": self.number, "outcome": self.outcome or "error",
                "answered_by": self.answered_by, "events": self.observations(),
                "duration": round(self.now - self.started, 3)}

    # -- for subclasses -----------------------------------------------------------------
    def _begin(self, now: float) -> None:
        self.now = max(self.now, now)

    def _report(self, event: ev.CallEvent) -> None:
        self.events.append(event)
        self._out.append(event)
        if isinstance(event, ev.HungUp):
            self.ended = True

    def _do(self, *actions: Action) -> None:
        self._out.extend(actions)

    def _take(self) -> list[Output]:
        out, self._out = self._out, []
        return out

    def __repr__(self) -> str:
        return (f"<{type(self).__name__} {self.id} {self.direction} {self.number!r} "
                f"span {self.span} channel {self.channel}>")
