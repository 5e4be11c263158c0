"""The PRI signalling module over a fake PriSpan: D-channel events to the right legs,
inbound offers as legs, the legs' Q.931 actions to the span."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from trunkline.clock import VirtualClock
from trunkline.drivers.dsp.zones import load_zone
from trunkline.drivers.model import SpanInfo, SpanKind, SpanSignalling
from trunkline.drivers.signalling import actions as act
from trunkline.drivers.signalling import events as ce
from trunkline.drivers.signalling.base import InboundPolicy, SignallingContext
from trunkline.drivers.signalling.leg import CallOptions
from trunkline.drivers.signalling.pri import events as ev
from trunkline.drivers.signalling.pri import span as span_module
from trunkline.drivers.signalling.pri.leg import PriInboundLeg, PriLeg, State
from trunkline.drivers.signalling.pri.signalling import PriSignalling

SPAN = 2
FIRST = 32  # the card channel of timeslot 1 on span 2


class FakeSpan:
    """What PriSignalling uses of a PriSpan; events are queued by the test."""

    def __init__(self, link: object, **options: object) -> None:
        self.link = link
        self.options = options
        self.queued: list[ev.PriEvent] = []
        self.free = [1, 2, 3]
        self.requests: list[tuple] = []
        self.calls: dict[int, SimpleNamespace] = {}
        self.closed = False
        self._next = 40

    def poll(self, now: float) -> list[ev.PriEvent]:
        out, self.queued = self.queued, []
        return out

    def free_channels(self) -> list[int]:
        return list(self.free)

    def setup(self, called: str, *, calling: str | None = None) -> int:
        call, self._next = self._next, self._next + 1
        self.calls[call] = SimpleNamespace(channel=self.free.pop(0) if self.free else None)
        self.requests.append(("setup", called, calling))
        return call

    def call(self, call: int) -> SimpleNamespace:
        return self.calls[call]

    def hangup(self, call: int, cause: int = 16) -> None:
        self.requests.append(("hangup", call, cause))

    def answer(self, call: int) -> None:
        self.requests.append(("answer", call))

    def proceeding(self, call: int) -> None:
        self.requests.append(("proceeding", call))

    def close(self) -> None:
        self.closed = True


class FakeCard:
    def dchannel(self, span: int) -> str:
        return f"D-channel of span {span}"


@pytest.fixture
def module(monkeypatch: pytest.MonkeyPatch) -> PriSignalling:
    monkeypatch.setattr(span_module, "PriSpan", FakeSpan)
    span = SpanInfo(SPAN, SpanKind.E1, SpanSignalling.PRI,
                    tuple(range(FIRST, FIRST + 15)) + tuple(range(FIRST + 16, FIRST + 31)),
                    dchannel=FIRST + 15, law="ulaw")
    ids = iter(range(500, 600))
    context = SignallingContext(VirtualClock(), load_zone("cn"), lambda: next(ids),
                                InboundPolicy(timeout=4.0, reject_cause=34),
                                {"pri_switchtype": "ni2", "pri_trace": 1})
    return PriSignalling(FakeCard(), span, context)


def fake(module: PriSignalling) -> FakeSpan:
    assert isinstance(module.pri, FakeSpan)
    return module.pri


def polled(module: PriSignalling, *events: ev.PriEvent, now: float = 1.0) -> list:
    fake(module).queued += events
    return list(module.poll(now))


def test_the_span_is_opened_as_the_cpe_with_the_module_options(module: PriSignalling) -> None:
    span = fake(module)
    assert span.link == f"D-channel of span {SPAN}"
    assert span.options["role"] == "cpe" and span.options["span_id"] == SPAN
    assert span.options["switchtype"] == "ni2" and span.options["trace"] is True
    assert span.options["law"] == "ulaw"
    module.close()
    assert span.closed


def test_timeslots_map_to_card_channels(module: PriSignalling) -> None:
    assert module.bearer(1) == FIRST and module.bearer(31) == FIRST + 30
    assert module.hunts() and module.kind == "pri" and not module.always_open


def test_calls_are_placed_only_with_the_link_up_and_a_free_channel(module: PriSignalling) -> None:
    assert module.link_up is False and not module.can_place(None)
    assert polled(module, ev.DChannelUp(SPAN)) == [(None, ce.LinkState(SPAN, True, None))]
    assert module.link_up is True and module.can_place(None)
    fake(module).free = []
    assert not module.can_place(None)


def test_the_link_state_goes_to_every_leg_of_the_span(module: PriSignalling) -> None:
    waiting = module.outbound(1, None, CallOptions("123"))
    assert isinstance(waiting, PriLeg) and not waiting.link_up
    out = polled(module, ev.DChannelDown(SPAN, "layer1"))
    assert out == [(None, ce.LinkState(SPAN, False, "layer1")),
                   (waiting, ev.DChannelDown(SPAN, "layer1"))]
    out = polled(module, ev.DChannelUp(SPAN))
    assert out == [(None, ce.LinkState(SPAN, True, None)), (waiting, ev.DChannelUp(SPAN))]
    assert module.outbound(2, None, CallOptions("456")).link_up


def test_a_setup_sends_the_call_and_the_leg_follows_its_channel(
        module: PriSignalling) -> None:
    polled(module, ev.DChannelUp(SPAN))
    leg = module.outbound(1, None, CallOptions("13812345678", calling="80001"))
    out = leg.start(1.0)
    assert out[-1] == act.SendSetup("13812345678", "80001")
    out = module.perform(leg, out[-1], 1.0)
    assert fake(module).requests == [("setup", "13812345678", "80001")]
    assert isinstance(leg, PriLeg) and leg.pri_call == 40
    assert ce.SetupSent(1.0, "13812345678", 1) in out and act.TakeChannel(FIRST) in out
    # Its events come to it, by libpri call id; other calls' do not.
    answered = ev.CallAnswered(SPAN, 40, 1)
    assert polled(module, answered, ev.CallAnswered(SPAN, 41, 2)) == [(leg, answered)]


def test_the_legs_q931_actions_go_to_the_span(module: PriSignalling) -> None:
    polled(module, ev.DChannelUp(SPAN))
    leg = module.outbound(1, None, CallOptions("123"))
    module.perform(leg, leg.start(1.0)[-1], 1.0)
    assert module.perform(leg, act.SendClear(17), 2.0) == []
    assert fake(module).requests[-1] == ("hangup", 40, 17)
    with pytest.raises(TypeError, match="a PRI span cannot Hook"):
        module.perform(leg, act.Hook("onhook"), 2.0)


def test_nothing_is_cleared_for_a_call_that_never_sent_its_setup(
        module: PriSignalling) -> None:
    leg = module.outbound(1, None, CallOptions("123"))
    leg.start(1.0)
    assert module.perform(leg, act.SendClear(16), 2.0) == []
    assert fake(module).requests == []


def test_an_offered_call_becomes_an_inbound_leg(module: PriSignalling) -> None:
    offer = ev.IncomingCall(SPAN, 77, 5, called="80001", calling="139")
    ((leg, item),) = polled(module, offer)
    assert item is None and isinstance(leg, PriInboundLeg)
    assert (leg.id, leg.span, leg.channel, leg.pri_call) == (500, SPAN, FIRST + 4, 77)
    assert (leg.offer_for, leg.reject_cause) == (4.0, 34)
    for action in leg.start(1.0):
        if isinstance(action, (act.SendProceeding, act.SendAnswer)):
            module.perform(leg, action, 1.0)
    module.perform(leg, act.SendAnswer(), 2.0)
    assert fake(module).requests == [("proceeding", 77), ("answer", 77)]
    ended = ev.CallEnded(SPAN, 77, 5, cause=16, answered=True)
    assert polled(module, ended) == [(leg, ended)]


def test_an_offer_without_a_channel_has_none(module: PriSignalling) -> None:
    ((leg, _),) = polled(module, ev.IncomingCall(SPAN, 78, None, called="1", calling="2"))
    assert leg.channel is None


def test_forgotten_legs_hear_nothing_more(module: PriSignalling) -> None:
    polled(module, ev.DChannelUp(SPAN))
    leg = module.outbound(1, None, CallOptions("123"))
    module.perform(leg, leg.start(1.0)[-1], 1.0)
    waiting = module.outbound(2, None, CallOptions("456"))
    module.forget(leg)
    module.forget(waiting)
    assert polled(module, ev.CallAnswered(SPAN, 40, 1), ev.DChannelDown(SPAN)) == [
        (None, ce.LinkState(SPAN, False, "q921"))]


def test_span_events_no_leg_needs_are_not_passed_on(module: PriSignalling) -> None:
    assert polled(module, ev.RestartReceived(SPAN, None), ev.LinkAlarm(SPAN, True),
                  ev.ServiceChanged(SPAN, 3, "maintenance", True),
                  ev.ProtocolError(SPAN, "bad IE")) == []


def test_a_waiting_leg_sends_its_setup_when_the_link_comes_up(module: PriSignalling) -> None:
    leg = module.outbound(1, None, CallOptions("123"))
    leg.start(0.0)
    ((_, span_event), (target, event)) = polled(module, ev.DChannelUp(SPAN), now=0.5)
    assert target is leg and isinstance(span_event, ce.LinkState)
    out = leg.on_signal(0.5, event)
    assert act.SendSetup("123", None) in out and leg.state is State.SETUP
    module.perform(leg, act.SendSetup("123", None), 0.5)
    # Sent: no longer waiting, so a later link change reaches it once.
    assert [t for t, _ in polled(module, ev.DChannelDown(SPAN))] == [None, leg]


def test_a_t1_span_has_its_own_channel_map(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(span_module, "PriSpan", FakeSpan)
    first = 100  # T1: B-channels on timeslots 1..23, the D-channel on 24
    span = SpanInfo(1, SpanKind.T1, SpanSignalling.PRI, tuple(range(first, first + 23)),
                    dchannel=first + 23, law="ulaw")
    context = SignallingContext(VirtualClock(), load_zone("us"), lambda: 1,
                                InboundPolicy(timeout=4.0, reject_cause=34), {})
    module = PriSignalling(FakeCard(), span, context)
    assert fake(module).options["channels"] == tuple(range(1, 24))
    assert fake(module).options["switchtype"] == "ni2"  # chan_dahdi's default on T1
    assert module.bearer(16) == first + 15 and module.bearer(23) == first + 22


def test_the_e1_span_gives_its_timeslots(module: PriSignalling) -> None:
    channels = fake(module).options["channels"]
    assert channels == tuple(c for c in range(1, 32) if c != 16)
