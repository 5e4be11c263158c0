"""Two MFC/R2 spans joined back to back, sans-IO: a harness for the legs (tests, demos).

As h11's ``ConnectionPair`` and :class:`~trunkline.drivers.signalling.pri.link.LinkPair`
join two ends of a protocol, :class:`R2Pair` joins two :class:`~.span.R2Span` ends
circuit for circuit: the ABCD bits one end sends reach the other as ``BITS_CHANGED``
after ``delay``, and the MF signals it plays reach the other end's MF receiver, which
reports them as the detector does (``MfEvent`` ``on`` once a signal has lasted
``recognition``, ``off`` once it has been gone as long). There is no audio: tones are
signals. Time advances in 20 ms steps, as the media tick does.

Each end does what the line loop and a signalling module do for its legs: it carries
out their actions, gives them their channel's bits and MF signals, runs their timers,
turns the far end's seizure into an inbound leg, and lets go of a leg that hung up
(its tone and detection stop then, as :class:`~trunkline.drivers.lineloop.LineLoop`
stops them). What the application on each end does with inbound calls is a
:class:`Behaviour`; faults (a far end whose MF falls silent, bits that never arrive)
are switches. Honest about what it is not: no audio, no call progress or AMD verdicts
(legs time AMD out: a person), no alarms.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from trunkline.drivers.dsp.dtmf import MF_CHARS
from trunkline.drivers.dsp.events import MfEvent
from trunkline.drivers.model import FRAME_SAMPLES, SAMPLE_RATE, CardEvent, EventKind
from trunkline.drivers.signalling import events as ev
from trunkline.drivers.signalling.actions import (
    DetectMf,
    PlayTone,
    SetBits,
    StartDetection,
    StopDetection,
    StopTone,
)
from trunkline.drivers.signalling.leg import CallOptions, Leg, Output
from trunkline.drivers.signalling.r2.inbound import R2InboundLeg
from trunkline.drivers.signalling.r2.leg import R2Leg
from trunkline.drivers.signalling.r2.register import decode_tone
from trunkline.drivers.signalling.r2.span import R2Span
from trunkline.drivers.signalling.r2.variants import R2Variant

__all__ = ["Behaviour", "End", "R2Pair"]

STEP = FRAME_SAMPLES / SAMPLE_RATE
_SYSTEM_HEARS = {"r2_forward": "forward", "r2_backward": "backward"}


@dataclass
class Behaviour:
    """What an end's application does with calls offered to it: answer after
    ``answer_after`` seconds (None: never, the offer times out after ``offer_for``), or
    refuse at once with Q.850 ``refuse_cause``; hang up ``hangup_after`` seconds after
    answering (None: the caller clears). ``accept_on_offer``: the called line rings
    (group B "free") as soon as the call is offered."""

    answer_after: float | None = 0.5
    refuse_cause: int | None = None
    hangup_after: float | None = None
    offer_for: float = 10.0
    reject_cause: int = 21
    accept_on_offer: bool = False


@dataclass
class _Receiver:
    """One channel's MF receiver: what it hears, what it has reported."""

    system: str | None = None
    reported: int | None = None
    candidate: int | None = None
    since: float = 0.0


@dataclass
class End:
    """One side of the pair: its span, the legs on it, what they sent and reported."""

    name: str
    span: R2Span
    behaviour: Behaviour
    legs: dict[int, Leg] = field(default_factory=dict)
    #: Every leg that ran on this end, in order of creation.
    calls: list[Leg] = field(default_factory=list)
    #: (time, signal or None) changes of the MF signal sent, per channel.
    tones: dict[int, list[tuple[float, tuple[str, int] | None]]] = field(default_factory=dict)
    playing: dict[int, bool] = field(default_factory=dict)
    receivers: dict[int, _Receiver] = field(default_factory=dict)
    mf_sent: int = 0
    #: Everything the legs on this end returned: (time, call id, output).
    log: list[tuple[float, int, Output]] = field(default_factory=list)
    #: Problems seen as they happened (a tone left playing when a leg hung up...).
    violations: list[str] = field(default_factory=list)

    def sent_tone(self, channel: int, at: float) -> tuple[str, int] | None:
        heard: tuple[str, int] | None = None
        for t, value in self.tones.get(channel, []):
            if t > at:
                break
            heard = value
        return heard


class R2Pair:
    """Two R2 spans ``a`` and ``b`` joined circuit for circuit (see the module docstring).

    ``mute_after``: ``(end, n)``: the MF signals ``end`` plays after its ``n``-th never
    reach the other end (a far end that stops answering the compelled sequence);
    ``deaf``: the bits that end sends from ``deaf_after`` seconds on never arrive.
    """

    def __init__(self, r2: R2Variant | str = "cn", *, channels: tuple[int, ...] = (1,),
                 delay: float = 0.0, recognition: float = 0.04, start: float = 0.0,
                 a: Behaviour | None = None, b: Behaviour | None = None,
                 mute_after: tuple[str, int] | None = None, deaf: str | None = None,
                 deaf_after: float = 0.0, span_options: dict[str, Any] | None = None) -> None:
        if delay < 0 or recognition < 0:
            raise ValueError(f"delay={delay!r} and recognition={recognition!r} must be >= 0")
        self.now = start
        self.delay = delay
        self.recognition = recognition
        self.mute_after = mute_after
        self.deaf = deaf
        self.deaf_after = start + deaf_after
        opts = span_options or {}
        self.a = End("a", R2Span(1, channels, r2, **opts), a or Behaviour())
        self.b = End("b", R2Span(2, channels, r2, hunt_descending=True, **opts),
                     b or Behaviour())
        self._ids = itertools.count(1)
        self._queue: list[tuple[float, int, str, int, int]] = []
        self._seq = itertools.count()
        self._todo: list[tuple[float, int, Callable[[], None]]] = []

    # -- calls --------------------------------------------------------------------------
    def end(self, name: str) -> End:
        return {"a": self.a, "b": self.b}[name]

    def other(self, end: End) -> End:
        return self.b if end is self.a else self.a

    def originate(self, side: str, options: CallOptions, channel: int | None = None,
                  **kw: Any) -> R2Leg:
        """Place a call from ``side`` (``a`` or ``b``) now."""
        end = self.end(side)
        leg = end.span.outbound(next(self._ids), channel, options, **kw)
        self._start(end, leg)
        return leg

    def hangup(self, leg: Leg, cause: int = 16) -> None:
        end = self._end_of(leg)
        self._perform(end, leg, leg.hangup(self.now, cause))

    def answer(self, leg: Leg) -> None:
        self._perform(self._end_of(leg), leg, leg.answer(self.now))

    def at(self, delay: float, action: Callable[[], None]) -> None:
        """Do ``action`` ``delay`` seconds from now (between steps)."""
        heapq.heappush(self._todo, (self.now + delay, next(self._seq), action))

    # -- time ---------------------------------------------------------------------------
    def step(self) -> None:
        """Advance one 20 ms tick: bits arrive, timers run, receivers listen."""
        self.now = round(self.now + STEP, 9)
        while self._queue and self._queue[0][0] <= self.now + 1e-9:
            _, _, side, channel, bits = heapq.heappop(self._queue)
            self._bits_arrive(self.end(side), channel, bits)
        while self._todo and self._todo[0][0] <= self.now + 1e-9:
            heapq.heappop(self._todo)[2]()
        for end in (self.a, self.b):
            for leg in list(end.legs.values()):
                due = leg.next_deadline()
                if not leg.ended and (due is None or self.now >= due):
                    self._perform(end, leg, leg.on_time(self.now))
            for circuit, sent in end.span.on_time(self.now):
                self._send_bits(end, circuit, sent.bits)
        for end in (self.a, self.b):
            self._listen(end)

    def run(self, seconds: float, until: Callable[[], bool] | None = None) -> None:
        """Step for ``seconds`` (or until ``until()`` is true)."""
        stop = self.now + seconds
        while self.now < stop - 1e-9 and not (until is not None and until()):
            self.step()

    def settle(self, seconds: float = 300.0) -> None:
        """Step until no leg is left and every circuit is idle both ways (or
        ``seconds`` have passed)."""
        self.run(seconds, until=self.quiet)

    def quiet(self) -> bool:
        return not self.a.legs and not self.b.legs and not self._queue and all(
            line.free for end in (self.a, self.b) for line in end.span.lines.values())

    # -- carrying out -------------------------------------------------------------------
    def _start(self, end: End, leg: Leg) -> None:
        assert leg.channel is not None
        end.legs[leg.channel] = leg
        end.calls.append(leg)
        self._perform(end, leg, leg.start(self.now))

    def _end_of(self, leg: Leg) -> End:
        for end in (self.a, self.b):
            if leg in end.calls:
                return end
        raise ValueError(f"{leg!r} is not a call of this pair")

    def perform(self, leg: Leg, outputs: list[Output]) -> None:
        """Carry out what ``leg`` returned (for outputs got by calling a leg directly)."""
        self._perform(self._end_of(leg), leg, outputs)

    def _perform(self, end: End, leg: Leg, outputs: list[Output]) -> None:
        channel = leg.channel
        assert channel is not None
        receiver = end.receivers.setdefault(channel, _Receiver())
        for item in outputs:
            end.log.append((self.now, leg.id, item))
            if isinstance(item, SetBits):
                self._send_bits(end, channel, item.bits)
            elif isinstance(item, PlayTone):
                end.playing[channel] = True
                end.mf_sent += 1
                muted = self.mute_after is not None and self.mute_after[0] == end.name \
                    and end.mf_sent > self.mute_after[1]
                self._tone(end, channel, None if muted else decode_tone(item.tone))
            elif isinstance(item, StopTone):
                end.playing[channel] = False
                self._tone(end, channel, None)
            elif isinstance(item, DetectMf):
                self._receive_mf(receiver, item.system)
            elif isinstance(item, StartDetection | StopDetection):
                # Detector.enable starts afresh (no MF); disable stops everything.
                self._receive_mf(receiver, None)
            elif isinstance(item, ev.Offered):
                self._offered(end, leg)
            elif isinstance(item, ev.Answered) and isinstance(leg, R2InboundLeg):
                after = end.behaviour.hangup_after
                if after is not None:
                    self.at(after, lambda: self._app_hangup(leg))
            elif isinstance(item, ev.HungUp):
                self._let_go(end, leg)

    def _let_go(self, end: End, leg: Leg) -> None:
        """What the line loop does with a leg that hung up (LineLoop._let_go)."""
        assert leg.channel is not None
        if end.playing.get(leg.channel):
            end.violations.append(f"{leg!r} hung up with a tone playing")
            end.playing[leg.channel] = False
            self._tone(end, leg.channel, None)
        self._receive_mf(end.receivers.setdefault(leg.channel, _Receiver()), None)
        if end.legs.get(leg.channel) is leg:
            del end.legs[leg.channel]

    def _offered(self, end: End, leg: Leg) -> None:
        b = end.behaviour
        if b.refuse_cause is not None:
            cause: int = b.refuse_cause
            self.at(0.0, lambda: self._app_hangup(leg, cause))
        elif b.answer_after is not None:
            self.at(b.answer_after, lambda: self._app_answer(leg))

    def _app_answer(self, leg: Leg) -> None:
        if not leg.ended and isinstance(leg, R2InboundLeg) \
                and leg.state.value in ("offered", "ringing"):
            self.answer(leg)

    def _app_hangup(self, leg: Leg, cause: int = 16) -> None:
        if not leg.ended:
            self.hangup(leg, cause)

    def _send_bits(self, end: End, channel: int, bits: int) -> None:
        if self.deaf == end.name and self.now >= self.deaf_after:
            return
        heapq.heappush(self._queue, (self.now + self.delay, next(self._seq),
                                     self.other(end).name, channel, bits))

    def _bits_arrive(self, end: End, channel: int, bits: int) -> None:
        leg = end.legs.get(channel)
        if leg is not None:
            event = CardEvent(self.now, EventKind.BITS_CHANGED, channel, end.span.span, bits)
            self._perform(end, leg, leg.on_signal(self.now, event))
            return
        for ch, sent in end.span.receive(self.now, channel, bits):
            self._send_bits(end, ch, sent.bits)
        if end.span.seized(channel):
            new = end.span.inbound(next(self._ids), channel,
                                   offer_for=end.behaviour.offer_for,
                                   reject_cause=end.behaviour.reject_cause,
                                   accept_on_offer=end.behaviour.accept_on_offer)
            self._start(end, new)

    def _tone(self, end: End, channel: int, value: tuple[str, int] | None) -> None:
        end.tones.setdefault(channel, []).append((self.now + self.delay, value))

    @staticmethod
    def _receive_mf(receiver: _Receiver, system: str | None) -> None:
        if system != receiver.system:
            receiver.system = system
            receiver.reported = receiver.candidate = None

    def _listen(self, end: End) -> None:
        """Each channel's MF receiver: report what the far end's signals do."""
        far = self.other(end)
        for channel, receiver in end.receivers.items():
            if receiver.system is None:
                continue
            sent = far.sent_tone(channel, self.now)
            hears = sent[1] if sent and sent[0] == _SYSTEM_HEARS[receiver.system] else None
            if hears != receiver.candidate:
                receiver.candidate, receiver.since = hears, self.now
            if receiver.candidate != receiver.reported \
                    and self.now - receiver.since >= self.recognition - 1e-9:
                if receiver.reported is not None:
                    self._mf(end, channel, receiver.system, receiver.reported, "off")
                if receiver.candidate is not None:
                    self._mf(end, channel, receiver.system, receiver.candidate, "on")
                receiver.reported = receiver.candidate

    def _mf(self, end: End, channel: int, system: str, signal: int, state: str) -> None:
        leg = end.legs.get(channel)
        if leg is None:
            return
        sample = int(self.now * SAMPLE_RATE)
        event = MfEvent(channel, sample, sample, digit=MF_CHARS[system][signal - 1],
                        duration=int(self.recognition * SAMPLE_RATE), system=system,
                        state=state)
        self._perform(end, leg, leg.on_detection(self.now, event))

    # -- what happened ------------------------------------------------------------------
    def events(self, leg: Leg, kind: type[ev.CallEvent] | None = None) -> list[ev.CallEvent]:
        return [e for e in leg.events if kind is None or isinstance(e, kind)]
