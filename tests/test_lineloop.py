"""The line loop on the emulated card, in virtual time: what it does with what legs
return, and how it keeps channels, detection and the card's rows in step."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from trunkline.clock import VirtualClock
from trunkline.drivers.card import CardABC
from trunkline.drivers.dsp.zones import load_zone
from trunkline.drivers.lineloop import LineLoop
from trunkline.drivers.model import FRAME_SAMPLES, Alarm, CardEvent, EventKind, HookOp
from trunkline.drivers.registry import open_card
from trunkline.drivers.signalling import actions as act
from trunkline.drivers.signalling import events as ev
from trunkline.drivers.signalling.base import InboundPolicy
from trunkline.drivers.signalling.fxo import FxoInboundLeg, FxoSignalling
from trunkline.drivers.signalling.fxs import FxsSignalling
from trunkline.drivers.signalling.leg import CallOptions, Leg, Output
from trunkline.drivers.signalling.pri.leg import PriInboundLeg, PriLeg
from trunkline.drivers.signalling.pri.signalling import PriSignalling
from trunkline.drivers.signalling.r2.signalling import R2Signalling
from trunkline.drivers.signalling.ss7.signalling import Ss7Signalling
from trunkline.errors import ChannelError

CN = load_zone("cn")
#: The default emulated card: spans 1 and 2 are E1 PRI (D-channels 16 and 47), span 3
#: eight FXO ports, span 4 twelve FXS ports.
PRI1, PRI2, FXO, FXS, R2, SS7 = 1, 2, 3, 4, 5, 6
FXO_PORTS = tuple(range(63, 71))
FXS_PORTS = tuple(range(71, 83))
R2_TIMESLOTS = tuple(ch for ch in range(83, 114) if ch != 83 + 15)  # no timeslot 16


@pytest.fixture
def card() -> Iterator[CardABC]:
    """The emulated card; the test fails if a channel is left open."""
    card = open_card("emulated", clock=VirtualClock())
    try:
        yield card
        assert card.open_channels == (), f"channels left open: {card.open_channels}"
    finally:
        card.close()


class Heard:
    """The loop's listener: everything reported, in order."""

    def __init__(self) -> None:
        self.items: list[tuple[Leg | None, Any]] = []

    def __call__(self, leg: Leg | None, event: Any) -> None:
        self.items.append((leg, event))

    def of(self, leg: Leg) -> list[ev.CallEvent]:
        return [e for who, e in self.items if who is leg]

    def spans(self) -> list[Any]:
        return [e for who, e in self.items if who is None]


class Scripted(Leg):
    """A leg that returns what the test scripts, in that order."""

    kind = "scripted"
    direction = "outbound"

    def __init__(self, call_id: int, span: int, channel: int | None, *,
                 on_start: list[Output] = (), on_hangup: list[Output] = (),
                 end_on_signal: bool = False) -> None:
        super().__init__(call_id, span, channel, "0")
        self.on_start, self.on_hangup = list(on_start), list(on_hangup)
        self.end_on_signal = end_on_signal
        self.signals: list[Any] = []
        self.timer_calls: list[float] = []
        self.deadline: float | None = None

    def _play(self, script: list[Output]) -> list[Output]:
        for item in script:
            if isinstance(item, ev.CallEvent):
                self._report(item)
            else:
                self._do(item)
        return self._take()

    def start(self, now: float) -> list[Output]:
        self.started = self.now = now
        return self._play(self.on_start)

    def on_signal(self, now: float, event: Any) -> list[Output]:
        self.signals.append(event)
        if self.end_on_signal and not self.ended:
            return self._play([ev.HungUp(now, "far_end", "human")])
        return []

    def on_time(self, now: float) -> list[Output]:
        self.timer_calls.append(now)
        return []

    def next_deadline(self) -> float | None:
        return self.deadline

    def hangup(self, now: float, cause: int = 16) -> list[Output]:
        return self._play([*self.on_hangup, ev.HungUp(now, "near_end", "human")])


def spy(monkeypatch: pytest.MonkeyPatch, log: list, obj: object, *names: str) -> None:
    """Note each call of ``obj.name(...)`` in ``log`` as ``(name, *args, **kwargs)``."""
    for name in names:
        real = getattr(obj, name)

        def wrapper(*args: Any, _name: str = name, _real: Any = real, **kwargs: Any) -> Any:
            log.append((_name, *args, *sorted(kwargs.items())))
            return _real(*args, **kwargs)

        monkeypatch.setattr(obj, name, wrapper)


def inject(monkeypatch: pytest.MonkeyPatch, card: CardABC, *events: CardEvent) -> None:
    """``events`` come with the card's own at its next poll."""
    real = card.poll_events
    pending = list(events)

    def poll() -> list[CardEvent]:
        out = real() + pending
        pending.clear()
        return out

    monkeypatch.setattr(card, "poll_events", poll)


def until_link_up(loop: LineLoop, span: int = PRI1) -> None:
    loop.run(lambda: bool(loop.module(span).link_up), max_seconds=5)
    assert loop.module(span).link_up


# -- building the loop --------------------------------------------------------------------------

def test_each_span_gets_the_module_its_signalling_needs(card: CardABC) -> None:
    with LineLoop(card, zone=CN) as loop:
        assert {n: type(m) for n, m in loop.modules.items()} == {
            PRI1: PriSignalling, PRI2: PriSignalling, FXO: FxoSignalling, FXS: FxsSignalling,
            R2: R2Signalling, SS7: Ss7Signalling}
        # Analog ports and CAS circuits move frames all the time (a ring, a seizure can
        # come at any moment); bearer channels only when a call has audio.
        assert card.open_channels == FXO_PORTS + FXS_PORTS + R2_TIMESLOTS
        assert loop.module_of(63) is loop.modules[FXO] and loop.module_of(16) is None


def test_spans_and_named_modules_choose_what_is_driven(card: CardABC) -> None:
    with LineLoop(card, zone=CN, spans=[FXO, FXS], signalling={FXS: "fxo"}) as loop:
        assert set(loop.modules) == {FXO, FXS}
        assert type(loop.modules[FXS]) is FxoSignalling
        with pytest.raises(ChannelError, match="span 1 has no signalling module driving it"):
            loop.originate(CallOptions("123"), span=PRI1)
    with pytest.raises(ValueError, match="no signalling module 'r2'"):
        LineLoop(card, zone=CN, signalling={PRI1: "r2"})


def test_call_ids_are_never_reused(card: CardABC) -> None:
    with LineLoop(card, zone=CN, inbound=InboundPolicy(timeout=0.1)) as loop:
        first = loop.originate(CallOptions("13700000001"), span=FXO, channel=63)
        loop.hangup(first)
        second = loop.originate(CallOptions("13700000001"), span=FXO, channel=63)
        assert (first.id, second.id) == (1, 2) and loop.next_id() == 3
        loop.hangup(second)


# -- carrying out what legs return ----------------------------------------------------------------

def test_actions_are_carried_out_in_order_and_events_reported_after_them(
        card: CardABC, monkeypatch: pytest.MonkeyPatch) -> None:
    log: list = []
    with LineLoop(card, zone=CN, listener=lambda leg, e: log.append(("event", e))) as loop:
        spy(monkeypatch, log, card, "open", "close_channel", "hook")
        spy(monkeypatch, log, loop.detector, "enable", "configure", "mark_answered", "reset",
            "disable")
        start = [act.TakeChannel(5), act.StartDetection(act.features(dtmf=True, amd=True)),
                 ev.Seized(0.0), act.ConfigureDetection(act.features(progress=False)),
                 act.MarkAnswered(exact=False), act.RestartDetection()]
        leg = Scripted(1, PRI1, 5, on_start=start,
                       on_hangup=[act.StopDetection(), act.ReleaseChannel(5)])
        loop.place(leg)
        assert log == [("open", 5), ("enable", 5, ("amd", True), ("dtmf", True)),
                       ("configure", 5, ("progress", False)),
                       ("mark_answered", 5, ("exact", False)), ("reset", 5),
                       ("event", ev.Seized(0.0))]
        assert loop.busy(5) and 5 in card.open_channels and loop.detector.enabled[5]
        assert loop.detector.configs[5].progress is False
        log.clear()
        loop.hangup(leg)
        now = card.clock.now()
        assert log == [("disable", 5), ("close_channel", 5),
                       ("event", ev.HungUp(now, "near_end", "human"))]
        assert not loop.busy(5) and 5 not in card.open_channels and loop.legs == {}


def test_signalling_actions_go_to_the_legs_module(card: CardABC,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    log: list = []
    with LineLoop(card, zone=CN) as loop:
        spy(monkeypatch, log, card, "hook", "dial")
        leg = Scripted(1, FXO, 64, on_start=[act.Hook(HookOp.OFFHOOK), act.Dial("123")],
                       on_hangup=[act.Hook(HookOp.ONHOOK)])
        loop.place(leg)
        loop.hangup(leg)
        assert log == [("hook", 64, HookOp.OFFHOOK), ("dial", 64, "123", "dtmf"),
                       ("hook", 64, HookOp.ONHOOK)]


def test_detection_actions_without_detection_running_do_nothing(
        card: CardABC, monkeypatch: pytest.MonkeyPatch) -> None:
    log: list = []
    with LineLoop(card, zone=CN) as loop:
        spy(monkeypatch, log, loop.detector, "configure", "mark_answered", "reset", "disable")
        leg = Scripted(1, FXO, 64, on_start=[
            act.ConfigureDetection(act.features(dtmf=True)), act.MarkAnswered(),
            act.RestartDetection(), act.StopDetection()])
        loop.place(leg)
        assert log == []
        loop.hangup(leg)


def test_a_real_call_reports_its_events_to_the_listener_and_is_let_go_of(
        card: CardABC) -> None:
    heard = Heard()
    with LineLoop(card, zone=CN, listener=heard) as loop:
        leg = loop.originate(CallOptions("13700000001"), span=FXO, channel=63)
        assert loop.legs == {leg.id: leg} and loop.busy(63) and loop.detector.enabled[63]
        loop.run(lambda: leg.ended, max_seconds=60)
        assert [type(e) for e in heard.of(leg)] == [
            ev.Seized, ev.ToneHeard, ev.DialTone, ev.DigitsSent, ev.ToneHeard, ev.HungUp]
        assert heard.of(leg) == leg.events and leg.outcome == "busy"
        assert loop.legs == {} and not loop.busy(63) and not loop.detector.enabled[63]
        assert card.channel_state(63).value == "idle"  # back on hook


def test_a_leg_keeps_its_channel_until_the_end_of_the_step_it_hung_up_in(
        card: CardABC, monkeypatch: pytest.MonkeyPatch) -> None:
    heard = Heard()
    with LineLoop(card, zone=CN, listener=heard) as loop:
        leg = Scripted(1, FXO, 64, end_on_signal=True)
        loop.place(leg)
        loop.tick()
        reversal = CardEvent(0, EventKind.POLARITY, 64, FXO, 0)
        drop = CardEvent(0, EventKind.ONHOOK, 64, FXO)
        inject(monkeypatch, card, reversal, drop)
        loop.tick()
        # The drop after the reversal that ended the call is still the call's...
        assert leg.signals == [reversal, drop] and leg.ended
        assert not any(isinstance(e, ev.IdleHook) for e in heard.spans())
        # ...and the step over, the port is idle: its next hook change is a span event.
        assert loop.legs == {} and not loop.busy(64)
        inject(monkeypatch, card, CardEvent(0, EventKind.OFFHOOK, 64, FXO))
        loop.tick()
        assert heard.spans()[-1] == ev.IdleHook(FXO, 64, "offhook")


def test_timers_run_when_the_leg_says_they_are_due(card: CardABC) -> None:
    with LineLoop(card, zone=CN) as loop:
        every_tick = Scripted(1, FXO, 64)
        later = Scripted(2, FXO, 65)
        loop.place(every_tick)
        loop.place(later)
        later.deadline = card.clock.now() + 0.1
        for _ in range(10):
            loop.tick()
        assert len(every_tick.timer_calls) == 10
        assert later.timer_calls and min(later.timer_calls) >= later.deadline
        assert len(later.timer_calls) == sum(t >= later.deadline for t in every_tick.timer_calls)
        loop.hangup(every_tick)
        loop.hangup(later)


# -- what the line offers -----------------------------------------------------------------------

def test_ringing_on_an_idle_fxo_port_becomes_an_inbound_leg(
        card: CardABC, monkeypatch: pytest.MonkeyPatch) -> None:
    heard = Heard()
    with LineLoop(card, zone=CN, listener=heard, inbound=InboundPolicy(timeout=0.5)) as loop:
        inject(monkeypatch, card, CardEvent(0, EventKind.RING_BEGIN, 66, FXO))
        loop.tick()
        (leg,) = loop.legs.values()
        assert isinstance(leg, FxoInboundLeg) and leg.channel == 66 and loop.busy(66)
        assert heard.of(leg) == [ev.Offered(card.clock.now(), "", "")]
        loop.run(lambda: leg.ended, max_seconds=2)  # nobody answers it
        assert leg.outcome == "rejected" and not loop.busy(66)


def test_a_call_from_the_network_on_a_pri_span_becomes_an_inbound_leg(card: CardABC) -> None:
    heard = Heard()
    with LineLoop(card, zone=CN, listener=heard) as loop:
        until_link_up(loop)
        exchange = card._pri_network[PRI1].exchange
        loop.run(lambda: exchange.span.up, max_seconds=2)  # the network's side too
        exchange.originate("80001", "13900000001")
        loop.run(lambda: bool(loop.legs), max_seconds=2)
        (leg,) = loop.legs.values()
        assert isinstance(leg, PriInboundLeg) and leg.channel in card.span(PRI1).channels
        offered = heard.of(leg)[0]
        assert isinstance(offered, ev.Offered)
        assert (offered.calling, offered.called) == ("13900000001", "80001")
        # Held for the call, but no audio until it is answered.
        assert loop.busy(leg.channel) and leg.channel not in card.open_channels
        loop.answer(leg)
        assert leg.channel in card.open_channels
        assert ev.Answered(card.clock.now(), "request") in heard.of(leg)
        loop.hangup(leg)
        channel = leg.channel
        loop.run(lambda: leg.ended, max_seconds=5)
        assert leg.outcome == "human" and not loop.busy(channel)
        assert channel not in card.open_channels


# -- span events ---------------------------------------------------------------------------

def test_span_events_come_without_a_leg(card: CardABC, monkeypatch: pytest.MonkeyPatch) -> None:
    heard = Heard()
    with LineLoop(card, zone=CN, listener=heard) as loop:
        until_link_up(loop, PRI2)
        assert ev.LinkState(PRI1, True, None) in heard.spans()
        assert ev.LinkState(PRI2, True, None) in heard.spans()
        card.simulate_alarm(PRI2, "red")
        inject(monkeypatch, card, CardEvent(0, EventKind.OFFHOOK, 71, FXS))
        loop.run(lambda: any(isinstance(e, ev.SpanAlarm) for e in heard.spans()),
                 max_seconds=1)
        assert ev.SpanAlarm(PRI2, int(Alarm.RED)) in heard.spans()
        assert ev.IdleHook(FXS, 71, "offhook") in heard.spans()
        card.simulate_alarm(PRI2, "red", on=False)
        loop.run(lambda: heard.spans()[-1] == ev.SpanAlarm(PRI2, 0), max_seconds=1)


def test_a_pri_call_hung_up_before_the_dchannel_came_up_is_let_go_of(card: CardABC) -> None:
    heard = Heard()
    with LineLoop(card, zone=CN, listener=heard) as loop:
        leg = loop.originate(CallOptions("13800000001"), span=PRI1)
        assert isinstance(leg, PriLeg) and heard.of(leg) == [ev.WaitingForLink(0.0)]
        loop.hangup(leg)
        assert leg.ended and loop.legs == {}
        until_link_up(loop)
        module = loop.module(PRI1)
        assert isinstance(module, PriSignalling) and module.pri.calls == {}  # no SETUP
        assert [type(e) for e in heard.of(leg)] == [ev.WaitingForLink, ev.HungUp]


# -- the rows of the frames ------------------------------------------------------------------------

def test_write_relays_rows_when_channels_open_and_close_during_the_tick(
        card: CardABC, monkeypatch: pytest.MonkeyPatch) -> None:
    with LineLoop(card, zone=CN, spans=[PRI1, PRI2, FXO, FXS]) as loop:
        closing = Scripted(1, PRI1, 6, on_start=[act.TakeChannel(6)],
                           on_hangup=[act.ReleaseChannel(6)])
        loop.place(closing)
        frames = loop.read()
        assert frames.shape == (len(FXO_PORTS + FXS_PORTS) + 1, FRAME_SAMPLES)
        assert loop.rows == {ch: i for i, ch in enumerate(card.open_channels)}
        out = np.zeros((len(loop.rows), FRAME_SAMPLES), np.float32)
        for channel, row in loop.rows.items():
            out[row] = channel * 10  # each row says whose it is
        # During the tick a call takes channel 5 and another lets channel 6 go.
        opening = Scripted(2, PRI1, 5, on_start=[act.TakeChannel(5)],
                           on_hangup=[act.ReleaseChannel(5)])
        loop.place(opening)
        loop.hangup(closing)
        written: list[np.ndarray] = []
        real_write = card.write_frames
        monkeypatch.setattr(card, "write_frames",
                            lambda frames: (written.append(frames), real_write(frames)))
        loop.write(out)
        order = card.open_channels
        assert 5 in order and 6 not in order and written[0].shape == (len(order), FRAME_SAMPLES)
        for row, channel in enumerate(order):
            assert (written[0][row] == (0 if channel == 5 else channel * 10)).all(), channel
        loop.hangup(opening)


def test_write_sends_silence_or_clipped_int16(card: CardABC,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    with LineLoop(card, zone=CN) as loop:
        written: list[np.ndarray] = []
        real_write = card.write_frames
        monkeypatch.setattr(card, "write_frames",
                            lambda frames: (written.append(frames), real_write(frames)))
        loop.read()
        loop.write()
        assert written[-1].dtype == np.int16 and not written[-1].any()
        loop.read()
        out = np.zeros((len(loop.rows), FRAME_SAMPLES), np.float32)
        out[0, :3] = (40000.0, -1e6, 1.6)
        loop.write(out)
        assert written[-1].dtype == np.int16
        assert written[-1][0, :3].tolist() == [32767, -32768, 2]


def test_tick_reads_signals_times_detects_and_writes(card: CardABC) -> None:
    with LineLoop(card, zone=CN) as loop:
        start = card.clock.now()
        frames = loop.tick()
        assert frames.shape == (len(loop.rows), FRAME_SAMPLES) and loop.ticks == 1
        loop.run(lambda: loop.ticks >= 5)
        assert loop.ticks == 5 and card.clock.now() == pytest.approx(start + 5 * 0.02)
        loop.run(lambda: False, max_seconds=0.1)
        assert loop.ticks == 10


# -- the end ----------------------------------------------------------------------------------

def test_close_leaves_no_channel_open_and_is_safe_twice(card: CardABC) -> None:
    loop = LineLoop(card, zone=CN)
    until_link_up(loop)
    leg = loop.originate(CallOptions("13800000001"), span=PRI1)
    fxo = loop.originate(CallOptions("13800000002"), span=FXO, channel=63)
    loop.run(lambda: leg.channel is not None and leg.channel in card.open_channels,
             max_seconds=2)
    assert leg.channel in card.open_channels and 63 in card.open_channels
    module = loop.module(PRI1)
    loop.close()
    assert card.open_channels == ()
    assert isinstance(module, PriSignalling) and not module.pri.up
    loop.close()
    assert not fxo.ended  # dropped where they were: the card went on hook


def test_a_signalling_tone_is_sent_until_stopped_and_mf_is_listened_for(card: CardABC) -> None:
    """PlayTone adds a steady tone to what the channel sends (an MFC/R2 register signal),
    whole frames joined without a phase jump, until StopTone; DetectMf switches the
    detector's MF receiver on the channel."""
    from trunkline.drivers.dsp.detector import MF_SYSTEMS

    sent: list[np.ndarray] = []
    real_write = card.write_frames

    def keep(frames: np.ndarray) -> None:
        sent.append(frames[card.row(FXO_PORTS[0])].copy())
        real_write(frames)

    card.write_frames = keep  # type: ignore[method-assign]
    tone = act.ToneSpec((1380.0, 1500.0), -8.0)  # R2 forward signal I-1 (ITU-T Q.441)
    with LineLoop(card, zone=CN, spans=[FXO]) as loop:
        leg = Scripted(loop.next_id(), FXO, FXO_PORTS[0],
                       on_start=[act.DetectMf("r2_backward"), act.PlayTone(tone)])
        loop.place(leg)
        assert loop.detector.enabled[FXO_PORTS[0]]
        assert loop.detector.mf_system[FXO_PORTS[0]] == MF_SYSTEMS.index("r2_backward")
        for _ in range(3):
            loop.tick()
        loop._run(leg, [act.StopTone()])
        loop.tick()
        loop.hangup(leg)
    playing = np.concatenate(sent[:3]).astype(float)
    spectrum = np.abs(np.fft.rfft(playing * np.hanning(playing.size)))
    peaks = sorted(np.argsort(spectrum)[-2:] * 8000 / playing.size)
    assert peaks == pytest.approx([1380.0, 1500.0], abs=10)
    jumps = np.abs(np.diff(playing))
    assert jumps.max() < 2 * jumps[:159].max() + 1  # frames joined: no phase jump
    assert np.abs(sent[3]).max() <= 8  # stopped: the idle line's code only


class SharedModule(FxsSignalling):
    """A module that drives several spans (as an SS7 linkset's module will)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.span_options: list[dict[str, Any]] = []

    def add_span(self, span: Any, options: Any = None) -> None:
        self.spans.append(span)
        self.span_options.append(dict(options or {}))


def test_spans_given_one_module_and_group_share_it_and_modules_get_their_options(
        card: CardABC, monkeypatch: pytest.MonkeyPatch) -> None:
    from trunkline.drivers.signalling import base
    from trunkline.drivers.signalling.base import ModuleSpec
    from trunkline.errors import ConfigError

    monkeypatch.setitem(base.MODULES, "shared", (__name__, "SharedModule"))
    shared = ModuleSpec("shared", {"colour": "blue"}, group="g")
    with LineLoop(card, zone=CN, spans=[FXO, FXS],
                  signalling={FXO: shared, FXS: shared}) as loop:
        module = loop.modules[FXO]
        assert loop.modules[FXS] is module and isinstance(module, SharedModule)
        assert [s.number for s in module.spans] == [FXO, FXS]
        assert module.options == {"colour": "blue"}
        assert module.span_options == [{"colour": "blue"}]
        assert loop.module_of(FXS_PORTS[0]) is module
        assert set(module.channels) == set(FXO_PORTS) | set(FXS_PORTS)
    with pytest.raises(ConfigError, match="drives one span only"):
        LineLoop(card, zone=CN, spans=[PRI1, PRI2],
                 signalling={PRI1: ModuleSpec("pri", group="g"),
                             PRI2: ModuleSpec("pri", group="g")})
    with pytest.raises(ValueError, match="no signalling module 'acme'"):
        ModuleSpec("acme")
