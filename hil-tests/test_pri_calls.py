"""Every subscriber behaviour, called over an trunks E1 PRI span: outcome and cause.

The far end is libpri in network mode routing each SETUP into the number plan, so this
is real Q.931 on both sides of the span.
"""

from __future__ import annotations

import numpy as np
import pytest
from signal_checks import dominant_frequency, tone_cadence
from trunk_calls import OUTCOMES

from trunkline.drivers.dsp.zones import load_zone
from trunkline.drivers.lineloop import LineLoop
from trunkline.drivers.model import SpanSignalling
from trunkline.drivers.signalling.leg import CallOptions, Leg


def pri_span(card) -> int:
    """The first PRI span with the network behind it (every PRI span of the trunks
    card; on dahdi:sim the span cabled to the simulated exchange)."""
    behind = getattr(card, "network_behind", lambda span: True)
    spans = [s.number for s in card.spans
             if s.signalling is SpanSignalling.PRI and behind(s.number)]
    if not spans:
        pytest.skip("the card has no PRI span")
    return spans[0]


def place(card, number: str, on_frame=None, **options) -> Leg:
    """Place a call on the first PRI span and run it to its end; ``on_frame`` sees every
    frame its B-channel received."""
    span = pri_span(card)
    with LineLoop(card, zone=load_zone("cn"), spans=[span]) as loop:
        leg = loop.originate(CallOptions(number, **{"hold": 1.0, **options}), span=span)

        def tick(frames: np.ndarray) -> None:
            if on_frame is not None and leg.channel in loop.rows:
                on_frame(frames[loop.rows[leg.channel]])

        loop.run(lambda: leg.ended, on_tick=tick)
    return leg


@pytest.mark.parametrize(("number", "outcome", "cause"), OUTCOMES)
def test_outcome_and_cause(trunks, number, outcome, cause):
    call = place(trunks, number)
    result = call.result()
    assert (result["outcome"], result["cause"]) == (outcome, cause), result["events"]
    assert result["cause_name"]


def test_no_answer_alerts_until_we_give_up(trunks):
    call = place(trunks, "13600000001", ring_timeout=10.0)
    assert call.result()["outcome"] == "no_answer"
    kinds = [e["event"] for e in call.observations()]
    assert "alerting" in kinds and "answered" not in kinds


def test_invalid_number_has_early_media_before_the_disconnect(trunks):
    call = place(trunks, "13000000002")
    events = call.observations()
    kinds = [(e["event"], e.get("heard")) for e in events]
    assert ("progress", None) in kinds and ("early_media", "sit") in kinds
    disconnect = next(e for e in events if e["event"] == "disconnect")
    assert disconnect["cause"] == 1 and disconnect["t"] > 10  # after the announcement


def test_ringback_in_band_on_the_bchannel_then_connect(trunks):
    captured: list[np.ndarray] = []
    call = place(trunks, "13800000002", on_frame=lambda frame: captured.append(frame.copy()))
    audio = np.concatenate(captured)
    answered = next(e["t"] for e in call.observations() if e["event"] == "answered")
    early = audio[: int((answered - 0.1) * 8000)]
    runs = tone_cadence(early, 450.0)
    assert any(on and abs(ms - 1000) <= 40 for on, ms in runs)  # 1 s ringback bursts
    assert abs(dominant_frequency(early[:8000]) - 450) < 3


def test_simultaneous_setups_each_reach_their_own_far_end(trunks):
    """Ten SETUPs in one tick: each call is routed to its own subscriber's far end."""
    from trunkline.drivers.signalling.pri import PriSpan
    from trunkline.drivers.signalling.pri import events as pev

    span = pri_span(trunks)
    info = trunks.span(span)
    pri = PriSpan(trunks.dchannel(span), role="cpe", clock=trunks.clock, span_id=span)
    numbers = [f"1380000{i:04d}" for i in range(5)] + [f"1370000{i:04d}" for i in range(5)]

    def tick() -> list:
        frames = trunks.read_frames()
        out = list(pri.poll(trunks.clock.now()))
        trunks.write_frames(np.zeros_like(frames))
        return out

    for _ in range(round(10 / 0.02)):  # Q.921 comes up within seconds of card time
        if any(isinstance(e, pev.DChannelUp) for e in tick()):
            break
    else:
        raise AssertionError("the D-channel did not come up in 10 s of card time")
    calls = {pri.setup(n): n for n in numbers}
    ended: dict[int, int] = {}
    answered: set[int] = set()
    for _ in range(round(15 / 0.02)):
        for e in tick():
            if isinstance(e, pev.CallAnswered):
                answered.add(e.call)
            elif isinstance(e, pev.CallEnded):
                ended[e.call] = e.cause
    busy = {c for c, n in calls.items() if n.startswith("137")}
    assert {ended.get(c) for c in busy} == {17}  # every busy number got its own cause
    assert answered == set(calls) - busy  # and every person answered
    channels = [info.channels[0] + pri.call(c).channel - 1 for c in answered]
    trunks.open(channels)
    frames = [trunks.read_frames() for _ in range(100)]
    trunks.write_frames(np.zeros((len(channels), 160), np.int16))
    audio = np.concatenate(frames, axis=1).astype(float)
    assert (np.sqrt(np.mean(audio**2, axis=1)) > 300).all()  # each hears its person talk
    trunks.close_channel(channels)
    for c in answered:
        pri.hangup(c, 16)
    for _ in range(50):
        tick()
    pri.close()


def test_a_call_from_the_network_is_offered_answered_and_cleared(trunks):
    """A SETUP toward us (libpri's network side originating): offered with its numbers,
    answered (CONNECT), then cleared by the network (DISCONNECT 16)."""
    from trunk_calls import Offers

    from trunkline.drivers.signalling.base import InboundPolicy

    span = pri_span(trunks)
    offers = Offers()
    with LineLoop(trunks, zone=load_zone("cn"), spans=[span], listener=offers,
                  inbound=InboundPolicy(timeout=20.0)) as loop:
        loop.run(lambda: bool(loop.module(span).link_up), max_seconds=10)
        side = trunks.network_side(span)
        loop.run(lambda: side.exchange.span.up, max_seconds=10)  # both ends up
        call = side.exchange.originate("80001234", "13912345678")
        loop.run(lambda: bool(offers.offered), max_seconds=10)
        leg, event = offers.offered[0]
        assert (event.calling, event.called) == ("13912345678", "80001234")
        loop.answer(leg)
        loop.run(lambda: leg.result()["answered_by"] is not None, max_seconds=5)
        side.exchange.hangup(call)
        loop.run(lambda: leg.ended, max_seconds=10)
    result = leg.result()
    hangup = result["events"][-1]
    assert (result["outcome"], hangup["by"], result["cause"]) == ("human", "far_end", 16), \
        result
