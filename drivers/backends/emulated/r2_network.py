"""The exchange behind the emulated card's MFC/R2 spans: our own R2 engine in the
backward (incoming) role.

Each CAS span with ``far_end = "exchange"`` gets one :class:`R2NetworkSide`. It runs the
same sans-IO engine our signalling module runs (:class:`~trunkline.drivers.signalling.
r2.span.R2Span` and its legs), from the other end of the wire: the ABCD bits our side
sends (``card.set_cas_bits``) reach its lines, the bits it sends reach ours as
``BITS_CHANGED``; the forward MF tones our side plays are heard by its own detector (the
R2 receiver of :class:`~trunkline.drivers.dsp.detector.Detector`) on the audio our side
wrote, and the backward tones it plays go into the timeslot's audio toward us.

Each call our side places is routed into the number plan as on PRI and SS7
(:func:`~.trunk.trunk_script`), and said in R2 the way a Chinese exchange says it:

* congestion, a busy line and an unallocated number are refused in group B (KB4, KB2,
  KB5 in China No.1; the variant's signals elsewhere);
* every other call is accepted with group B "subscriber free" (KB1): the timeslot
  carries ring-back, or the recording a carrier connects for a switched-off or
  unreachable phone (R2 has no cause for those: our side must hear the announcement);
* the answer is the answer line signal, the far party's clearing a clear-back.

:meth:`R2NetworkSide.originate` places calls toward us (the exchange as the outgoing
register), on circuits hunted from the low end while our side hunts from the high end.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from trunkline.drivers.backends.emulated.farend import build_plan
from trunkline.drivers.backends.emulated.lines import BearerChannel
from trunkline.drivers.backends.emulated.trunk import TrunkCall, trunk_script
from trunkline.drivers.dsp.detector import Detector
from trunkline.drivers.dsp.player import Clip
from trunkline.drivers.dsp.tones import sine
from trunkline.drivers.model import SAMPLE_RATE, CardEvent, EventKind, SpanInfo
from trunkline.drivers.signalling import events as ev
from trunkline.drivers.signalling.actions import (
    DetectMf,
    PlayTone,
    ReleaseChannel,
    SetBits,
    StopDetection,
    StopTone,
    ToneSpec,
)
from trunkline.drivers.signalling.leg import CallOptions, Leg, Output

if TYPE_CHECKING:
    from trunkline.drivers.backends.emulated.card import EmulatedCard

__all__ = ["R2NetworkSide"]

#: Causes a Chinese exchange refuses in group B (the rest are accepted with "free" and
#: an announcement on the line): 1 unallocated (KB5), 17 busy (KB2), 34 congestion
#: (KB4); Q.850 numbering.
REFUSED_IN_GROUP_B = frozenset({1, 17, 34})
#: How long the exchange lets an offered call wait before it decides (it decides at
#: once; this only bounds a leg the plan forgot).
OFFER_FOR = 3600.0


@dataclass
class _Call:
    """One call on a circuit, either direction."""

    leg: Leg
    trunk: TrunkCall | None = None     # our side's call routed into the plan
    phase: str = "silent"              # what the timeslot carries between MF tones
    tone: bool = False                 # a backward MF tone is playing
    steps: list[str] = field(default_factory=list)


class R2NetworkSide:
    """The R2 register and line equipment of the exchange behind one CAS span."""

    def __init__(self, card: EmulatedCard, span: SpanInfo) -> None:
        from trunkline.drivers.signalling.r2.span import R2Span

        self.card = card
        self.span = span
        variant = (span.protocol or "mfcr2:cn").partition(":")[2] or "cn"
        self.r2 = R2Span(span.number, span.channels, variant, hunt_descending=False)
        self.detector = Detector(card.sounds.zone, max_channels=max(card.channels) + 1)
        self.calls: dict[int, _Call] = {}          # channel -> call
        self.seen: dict[int, int] = {}             # channel -> our side's bits last seen
        self.errors: list[str] = []
        self._ids = 0
        self._clips: dict[tuple[float, ...], Clip] = {}
        self._started = False
        self._span_ports: list[tuple[int, BearerChannel]] | None = None

    def port(self, channel: int) -> BearerChannel:
        port = self.card.port(channel)
        assert isinstance(port, BearerChannel)
        return port

    # -- calls toward us ----------------------------------------------------------------
    def originate(self, called: str, calling: str = "", *, channel: int | None = None
                  ) -> int:
        """Seize a circuit and send ``called`` (and ``calling``) toward our side;
        returns the circuit's channel."""
        now = self.card.network.now
        self._start(now)
        self._ids += 1
        leg = self.r2.outbound(self._ids, channel,
                               CallOptions(called, calling=calling or None, amd=False,
                                           ring_timeout=120.0, max_duration=3600.0))
        call = _Call(leg)
        self.calls[leg.channel] = call
        self._run(now, call, leg.start(now))
        return leg.channel

    def hangup(self, channel: int, cause: int = 16) -> None:
        """The exchange's party on ``channel`` clears."""
        call = self.calls.get(channel)
        if call is not None:
            now = self.card.network.now
            self._run(now, call, call.leg.hangup(now, cause))

    def block(self, channel: int) -> None:
        """Block the circuit from the exchange's side (Q.421 blocking)."""
        self._bits(self.r2.block(self.card.network.now, channel))

    def unblock(self, channel: int) -> None:
        self._bits(self.r2.unblock(self.card.network.now, channel))

    # -- the network's step -------------------------------------------------------------
    def step(self, now: float, tx: np.ndarray) -> None:
        """Before the network moves on: our side's bits and MF tones (``tx``, the audio
        every port receives this frame, rows by port) reach the register; its timers
        run; what it sends goes out."""
        self._start(now)
        if self._span_ports is None:
            # The card's ports are made once, with the card; looked up once here instead
            # of 30 checked lookups every frame.
            self._span_ports = [(channel, self.port(channel)) for channel in self.span.channels]
        for channel, port in self._span_ports:
            bits = port.tx_bits
            if self.seen.get(channel) == bits:
                continue
            self.seen[channel] = bits
            call = self.calls.get(channel)
            if call is not None and not call.leg.ended:
                event = CardEvent(now, EventKind.BITS_CHANGED, channel, self.span.number, bits)
                self._run(now, call, call.leg.on_signal(now, event))
                continue
            self._bits(self.r2.receive(now, channel, bits))
            if self.r2.seized(channel):
                self._ids += 1
                leg = self.r2.inbound(self._ids, channel, offer_for=OFFER_FOR)
                call = _Call(leg)
                self.calls[channel] = call
                self._run(now, call, leg.start(now))
        self._detect(now, tx)
        for call in list(self.calls.values()):
            leg = call.leg
            due = leg.next_deadline()
            if not leg.ended and due is not None and now >= due:
                self._run(now, call, leg.on_time(now))
            if call.trunk is not None and not leg.ended:
                for step in call.trunk.due(now):
                    self._trunk_step(now, call, step)
        due = self.r2.next_deadline()
        if due is not None and now >= due:
            self._bits(self.r2.on_time(now))

    def _start(self, now: float) -> None:
        if not self._started:
            self._started = True
            # Idle out; what our side already sends is read by step() as news.
            self._bits(self.r2.start(now))

    def _detect(self, now: float, tx: np.ndarray) -> None:
        enabled = self.detector.enabled
        ids = [ch for ch in self.calls if enabled[ch]]
        if not ids:
            return
        rows = [self.port(ch).row for ch in ids]
        block = np.clip(np.rint(tx[rows]), -32768, 32767).astype(np.int16)
        for event in self.detector.process(block, np.array(ids)):
            call = self.calls.get(int(event.channel))
            if call is not None and not call.leg.ended:
                self._run(now, call, call.leg.on_detection(now, event))

    # -- carrying out what the legs say -------------------------------------------------
    def _bits(self, bits: list[tuple[int, SetBits]]) -> None:
        for channel, action in bits:
            self.port(channel).far_end_bits(action.bits)

    def _run(self, now: float, call: _Call, outputs: list[Output]) -> None:
        leg = call.leg
        channel = leg.channel
        assert channel is not None
        port = self.port(channel)
        for item in outputs:
            if isinstance(item, SetBits):
                port.far_end_bits(item.bits)
            elif isinstance(item, PlayTone):
                call.tone = True
                port.attach_live(None)
                self.card.network.player.play(port.row, self._clip(item.tone), loop=True)
            elif isinstance(item, StopTone):
                call.tone = False
                self._audio(call, call.phase)
            elif isinstance(item, DetectMf):
                if item.system is None:
                    self.detector.disable(channel)
                elif self.detector.enabled[channel]:
                    self.detector.configure(channel, mf=item.system)
                else:
                    self.detector.enable(channel, dtmf=False, progress=False, fax=False,
                                         vad=False, mf=item.system)
            elif isinstance(item, StopDetection | ReleaseChannel):
                if self.detector.enabled[channel]:
                    self.detector.disable(channel)
            elif isinstance(item, ev.Offered):
                self._route(now, call, item)
            elif isinstance(item, ev.Answered) and call.trunk is None:
                port.in_use = True
                self._audio(call, "silent")
            # Other actions (detection for a person's voice, audio) are our side's
            # business: the exchange only switches the timeslot through.
        if leg.ended:
            self._over(call)

    def _over(self, call: _Call) -> None:
        channel = call.leg.channel
        assert channel is not None
        if self.calls.get(channel) is call:
            del self.calls[channel]
        if self.detector.enabled[channel]:
            self.detector.disable(channel)
        if call.trunk is not None:
            call.trunk.cancel()
            call.trunk.audio("ended")
        else:
            port = self.port(channel)
            port.in_use = False
            port.attach_live(None)
            port.silence()

    def _clip(self, tone: ToneSpec) -> Clip:
        """One second of the tone, looped: R2's frequencies are whole multiples of
        60 Hz (Q.441: 1380 + 120 n forward, 1140 - 120 n backward), so a second holds
        whole cycles of each and the loop joins without a click."""
        key = (*tone.frequencies, tone.level)
        clip = self._clips.get(key)
        if clip is None:
            samples = sine(tone.frequencies, SAMPLE_RATE, tone.level)
            clip = self.card.sounds.bank.add(samples.astype(np.float32),
                                             f"r2:{'+'.join(map(str, key))}")
            self._clips[key] = clip
        return clip

    def _audio(self, call: _Call, phase: str) -> None:
        """What the timeslot carries now (``phase``), unless an MF tone is playing: the
        tone ends first, then the line's audio starts."""
        call.phase = phase
        if call.tone:
            return
        if call.trunk is not None:
            call.trunk.audio(phase)
        else:
            port = self.port(call.leg.channel or 0)
            port.attach_live(None)
            port.silence()

    # -- routing our side's calls into the plan -----------------------------------------
    def _route(self, now: float, call: _Call, offered: ev.Offered) -> None:
        network = self.card.network
        leg = call.leg
        try:
            plan = build_plan(network.plan.lookup(offered.called), network.sounds,
                              network.call_rng())
        except Exception as err:  # a plan bug must not stop the exchange
            self.errors.append(f"routing {offered.called!r} failed: {err!r}")
            self._run(now, call, leg.hangup(now, 34))
            return
        script = trunk_script(plan)
        call.trunk = TrunkCall(plan, script, now, self.port(leg.channel or 0))
        call.trunk.port.in_use = True  # type: ignore[union-attr]
        refusal = script.reject_cause if script.reject_cause is not None else script.cause
        if script.answer_after is None and script.alerting_after is None \
                and refusal in REFUSED_IN_GROUP_B:
            call.trunk.cancel()
            self._run(now, call, leg.hangup(now, refusal))
            return
        for step in call.trunk.due(now):
            self._trunk_step(now, call, step)

    def _trunk_step(self, now: float, call: _Call, step: str) -> None:
        leg = call.leg
        if step in ("progress", "alerting"):
            if "ring" not in call.steps:
                call.steps.append("ring")
                self._run(now, call, leg.ring(now))  # type: ignore[attr-defined]
            self._audio(call, "early")
        elif step == "answer":
            self._run(now, call, leg.answer(now))
            self._audio(call, "connected")
        elif step == "clear":
            assert call.trunk is not None
            self._run(now, call, leg.hangup(now, call.trunk.script.cause))

    def close(self) -> None:
        """Nothing native to release."""
