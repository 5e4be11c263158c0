"""A browser as an agent's phone: the call leg of a WebRTC position, and its module.

The position is "rung" until the page's peer connection comes up, which is the agent
lifting the handset: answered by a person, as an FXS phone is (``drivers/signalling/
fxs.py``). What the peer connection does reaches the leg as :class:`PeerSignal`s,
polled by the line loop like a D-channel's messages::

    RINGING    peer connected           -> ANSWERED     (a person: the agent)
    RINGING    ring_timeout passes      -> ENDED        (no_answer)
    ANSWERED   peer lost (ICE failed,   -> RECONNECTING (the audio is silent; the page
               network gone, tab closed)                  may come back: a reload)
    RECONNECTING peer connected again   -> ANSWERED     (the same call: bridges stay)
    RECONNECTING ``reconnect`` s pass   -> ENDED        (far_end)
    any        page hangs up (``bye``)  -> ENDED        (far_end)
    any        application hangs up     -> ENDED        (near_end; the peer is closed)

DTMF keys sent as RTP telephone-events reach the leg as ``digit`` signals and are
reported as the tone detector's keys are (in-band keys go through the detector as on
any channel: the leg starts digit detection when answered).
"""

from __future__ import annotations

import queue
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

from trunkline.drivers.card import CardABC
from trunkline.drivers.model import SpanInfo, SpanKind, SpanSignalling
from trunkline.drivers.signalling import events as ev
from trunkline.drivers.signalling.actions import Action
from trunkline.drivers.signalling.base import Signalling, SignallingContext
from trunkline.drivers.signalling.detection import DIGITS
from trunkline.drivers.signalling.leg import CallOptions, Leg, Output
from trunkline.errors import CallStateError

__all__ = ["PeerSignal", "WebRtcLeg", "WebRtcSignalling", "virtual_span"]

#: Peer signals: the page's audio is up, gone (may come back), ended by the page; a key.
SIGNALS = ("connected", "lost", "bye", "digit")


@dataclass(frozen=True, slots=True)
class PeerSignal:
    """What a position's peer connection did (see the module docstring)."""

    kind: str
    digit: str = ""
    reason: str = ""


class WebRtcLeg(Leg):
    """An agent's browser position (see the module docstring). ``number`` is a label."""

    kind: ClassVar[str] = "webrtc"
    direction: ClassVar[str] = "outbound"

    def __init__(self, call_id: int, span: int, channel: int, label: str, *,
                 ring_timeout: float, reconnect: float,
                 on_end: Callable[[WebRtcLeg], None] | None = None) -> None:
        super().__init__(call_id, span, channel, label)
        self.ring_timeout = ring_timeout
        self.reconnect = reconnect
        self.answered = False
        self.lost_at: float | None = None
        self.lost_reason = ""
        self._on_end = on_end

    def start(self, now: float) -> list[Output]:
        self.started = self.now = now
        self._report(ev.Alerting(now))
        return self._take()

    def on_signal(self, now: float, event: Any) -> list[Output]:
        self._begin(now)
        if self.ended or not isinstance(event, PeerSignal):
            return []
        if event.kind == "connected":
            self.lost_at = None
            if not self.answered:
                self.answered = True
                self.answered_by = "human"
                self._report(ev.Answered(self.now, "webrtc", person=True))
                self._do(DIGITS)
        elif event.kind == "lost":
            if self.answered and self.lost_at is None:
                self.lost_at, self.lost_reason = self.now, event.reason
        elif event.kind == "bye":
            self._end("far_end", event.reason or "bye")
        elif event.kind == "digit" and self.answered and event.digit:
            self._report(ev.DigitReceived(self.now, event.digit))
        return self._take()

    def on_time(self, now: float) -> list[Output]:
        self._begin(now)
        if self.ended:
            return []
        if not self.answered and now - self.started >= self.ring_timeout:
            self._end("far_end", "ring_timeout")
        elif self.lost_at is not None and now - self.lost_at >= self.reconnect:
            self._end("far_end", self.lost_reason or "peer_lost")
        return self._take()

    def next_deadline(self) -> float | None:
        if self.ended:
            return float("inf")
        if not self.answered:
            return self.started + self.ring_timeout
        if self.lost_at is not None:
            return self.lost_at + self.reconnect
        return float("inf")

    def hangup(self, now: float, cause: int = 16) -> list[Output]:
        self._begin(now)
        if not self.ended:
            self._end("near_end", "hangup")
        return self._take()

    def _end(self, by: str, reason: str) -> None:
        self.outcome = "human" if self.answered else "no_answer"
        self._report(ev.HungUp(self.now, by, self.outcome, notes=(("reason", reason),)))
        if self._on_end is not None:
            self._on_end(self)


def virtual_span(number: int, channels: tuple[int, ...]) -> SpanInfo:
    """The span the positions are numbered in (no card has it; ``spans.list`` does not
    show it)."""
    return SpanInfo(number, SpanKind.FXS, SpanSignalling.ANALOG, channels, law="ulaw",
                    description="WebRTC agent positions (browsers)")


class WebRtcSignalling(Signalling):
    """Builds the positions' legs and hands them their peers' signals (polled each
    tick, engine thread). Signals are queued from the WebRTC thread with :meth:`signal`.
    """

    kind: ClassVar[str] = "webrtc"

    def __init__(self, card: CardABC, span: SpanInfo, context: SignallingContext, *,
                 ring_timeout: float = 60.0, reconnect: float = 10.0,
                 on_end: Callable[[WebRtcLeg], None] | None = None) -> None:
        super().__init__(card, span, context)
        self.ring_timeout = ring_timeout
        self.reconnect = reconnect
        self.on_end = on_end
        self.legs: dict[int, WebRtcLeg] = {}           # channel -> leg
        self._signals: queue.SimpleQueue[tuple[int, PeerSignal]] = queue.SimpleQueue()

    def outbound(self, call_id: int, channel: int | None, options: CallOptions) -> Leg:
        if channel is None or channel not in self.span.channels:
            raise CallStateError(f"a WebRTC position needs one of channels "
                                 f"{self.span.channels[0]}..{self.span.channels[-1]}")
        if channel in self.legs:
            raise CallStateError(f"WebRTC position {channel} is in use")
        leg = WebRtcLeg(call_id, self.span.number, channel, options.number,
                        ring_timeout=options.ring_timeout, reconnect=self.reconnect,
                        on_end=self.on_end)
        self.legs[channel] = leg
        return leg

    def signal(self, channel: int, signal: PeerSignal) -> None:
        """Any thread: ``signal`` for the leg on ``channel`` (from the next tick)."""
        self._signals.put((channel, signal))

    def poll(self, now: float) -> Iterator[tuple[Leg | None, Any]]:
        while True:
            try:
                channel, signal = self._signals.get_nowait()
            except queue.Empty:
                return
            leg = self.legs.get(channel)
            if leg is not None:
                yield leg, signal

    def perform(self, leg: Leg, action: Action, now: float) -> list[Output]:
        return []   # a browser has no line signalling to carry out

    def forget(self, leg: Leg) -> None:
        if leg.channel is not None and self.legs.get(leg.channel) is leg:
            del self.legs[leg.channel]
