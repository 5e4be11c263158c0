"""The media engine on the emulated card, in virtual time: its operations raise domain
errors (trunkline/errors.py), `every` timers, digit collection."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from trunkline.clock import VirtualClock
from trunkline.drivers.dsp.zones import load_zone
from trunkline.drivers.registry import open_card
from trunkline.drivers.signalling import events as ev
from trunkline.errors import (
    CallStateError,
    ChannelError,
    ConfigError,
    InvalidRequest,
    NotFound,
    NumberFormatError,
    StateConflict,
    TrunklineError,
)
from trunkline.gateway.media.channels import resolve_groups
from trunkline.gateway.media.engine import MediaEngine


@pytest.fixture
def engine() -> Iterator[MediaEngine]:
    card = open_card("emulated", clock=VirtualClock())
    groups = resolve_groups(card, {"outbound": ["fxo"], "pri": ["pri"], "agents": ["fxs"]})
    engine = MediaEngine(card, card.clock, zone=load_zone("cn"), groups=groups)
    try:
        yield engine
    finally:
        engine.close()
        card.close()


def ticks(engine: MediaEngine, seconds: float) -> None:
    end = engine.clock.now() + seconds
    while engine.clock.now() < end - 1e-9:
        engine.tick()


def events(engine: MediaEngine) -> list[dict[str, Any]]:
    heard: list[dict[str, Any]] = []
    engine.subscribe(heard.append)
    return heard


def agent_call(engine: MediaEngine) -> int:
    """A call ringing an agent's phone (FXS): the quickest call to have."""
    return engine.originate("position 1", group="agents")["call"]


# -- errors -------------------------------------------------------------------------------

def refused(error: type[TrunklineError], match: str, operation: Any) -> None:
    with pytest.raises(error, match=match) as info:
        operation()
    assert isinstance(info.value, TrunklineError)


def test_unknown_calls_are_not_found(engine: MediaEngine) -> None:
    for operation in (lambda: engine.call(99), lambda: engine.hangup(99),
                      lambda: engine.play(99, {"tone": "dial"}), lambda: engine.stop_play(99),
                      lambda: engine.record(99, "start", "/tmp/x.wav", "pcm16"),
                      lambda: engine.bridge(99, 98), lambda: engine.unbridge(99),
                      lambda: engine.listen(99, None), lambda: engine.answer(99),
                      lambda: engine.collect_dtmf(99, 1, 1.0, "#"),
                      lambda: engine.attach_processor(99, object())):
        refused(NotFound, "no call 99 \\(it may have ended\\)", operation)


def test_originate_refusals(engine: MediaEngine) -> None:
    refused(InvalidRequest, "unknown detect option\\(s\\) 'vad'",
            lambda: engine.originate("13800000001", detect={"vad": True}))
    refused(InvalidRequest, "detect.amd must be true or false",
            lambda: engine.originate("13800000001", detect={"amd": "no"}))
    refused(NotFound, "no group 'sales'", lambda: engine.originate("1", group="sales"))
    refused(StateConflict, "no free channel in span 1",
            lambda: engine.originate("13800000001", span=1))  # D-channel not up yet
    refused(NumberFormatError, "cannot dial '12a'", lambda: engine.originate("12a"))
    refused(ChannelError, "has no channel 999", lambda: engine.originate("1", channel=999))
    assert engine.calls == {} and engine.loop.legs == {}
    engine.draining = True
    refused(StateConflict, "shutting down", lambda: engine.originate("13800000001"))


def test_a_number_the_pri_span_cannot_send_leaves_no_call_behind(engine: MediaEngine) -> None:
    engine.loop.run(lambda: bool(engine.link_up(1)), max_seconds=5)
    for number, caller_id in (("1+2", None), ("1" * 40, None), ("123", "12a")):
        refused(NumberFormatError, "cannot call",
                lambda n=number, c=caller_id: engine.originate(n, span=1, caller_id=c))
    assert engine.calls == {} and engine.loop.legs == {}


def test_a_setup_the_span_refuses_as_it_starts_leaves_no_call_behind(
        engine: MediaEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    """The picker saw a free B-channel, but by the SETUP there was none (a race with an
    incoming call): the originate is refused and nothing of the call stays."""
    from trunkline.drivers.signalling.pri.errors import PriNoChannel

    ticks(engine, 0.3)  # the D-channels come up
    span = engine.loop.modules[1]

    def no_channel(*args: Any, **kwargs: Any) -> int:
        raise PriNoChannel("cannot place a call on span 1: no free B-channel")

    monkeypatch.setattr(span.pri, "setup", no_channel)  # type: ignore[attr-defined]
    heard = events(engine)
    refused(PriNoChannel, "no free B-channel", lambda: engine.originate("13800000001", span=1))
    assert engine.calls == {} and engine.loop.legs == {} and heard == []
    ticks(engine, 0.1)
    assert engine.loop.legs == {}


def test_call_operations_refused_in_the_calls_state(engine: MediaEngine) -> None:
    a = agent_call(engine)
    b = engine.originate("13800000001")["call"]
    refused(CallStateError, f"cannot answer call {a}: it is outbound",
            lambda: engine.answer(a))
    refused(InvalidRequest, "record start needs a 'path'",
            lambda: engine.record(a, "start", None, "pcm16"))
    refused(InvalidRequest, "record action must be 'start' or 'stop', not 'pause'",
            lambda: engine.record(a, "pause", None, "pcm16"))
    refused(CallStateError, f"call {a} is not recording",
            lambda: engine.record(a, "stop", None, "pcm16"))
    refused(InvalidRequest, "cannot bridge a call to itself", lambda: engine.bridge(a, a))
    refused(CallStateError, f"cannot bridge call {a}: it is ringing",
            lambda: engine.bridge(a, b))
    refused(CallStateError, f"call {a} is not bridged", lambda: engine.unbridge(a))
    refused(InvalidRequest, "a call cannot listen to itself", lambda: engine.listen(a, a))
    refused(NotFound, "no call 77", lambda: engine.listen(a, 77))
    refused(ConfigError, "exactly one of 'file', 'tone' or 'digits'",
            lambda: engine.play(a, {}))
    refused(ConfigError, "nosuchtone", lambda: engine.play(a, {"tone": "nosuchtone"}))
    engine.collect_dtmf(a, 1, 5.0, "#")
    refused(CallStateError, f"call {a} is already collecting digits",
            lambda: engine.collect_dtmf(a, 1, 5.0, "#"))
    engine.attach_processor(a, Silent())
    refused(CallStateError, f"call {a} already has a media processor",
            lambda: engine.attach_processor(a, Silent()))
    refused(ChannelError, "has no channel 999", lambda: engine.set_blocked(999, True))


class Silent:
    """A media processor that sends nothing and never finishes."""

    def __init__(self) -> None:
        self.closed = False

    def process(self, received: np.ndarray, now: float) -> tuple[None, list[dict]]:
        return None, []

    @property
    def done(self) -> bool:
        return False

    def close(self) -> None:
        self.closed = True


# -- every ------------------------------------------------------------------------------

def test_every_runs_from_the_next_tick_every_so_often_until_it_says_done(
        engine: MediaEngine) -> None:
    start = engine.clock.now()
    runs: list[float] = []
    engine.every(0.1, lambda: runs.append(engine.clock.now()) or len(runs) == 3)
    assert runs == []
    ticks(engine, 1.0)
    assert len(runs) == 3
    assert runs[0] == pytest.approx(start + 0.02)
    # Due every 0.1 s of card time, run at the first tick at or after that (20 ms ticks).
    assert all(0.1 - 1e-9 <= gap <= 0.12 + 1e-9 for gap in np.diff(runs))


def test_a_failing_timer_stops_and_the_others_go_on(engine: MediaEngine) -> None:
    runs: list[str] = []

    def broken() -> bool:
        runs.append("broken")
        raise RuntimeError("timer bug")

    engine.every(0.02, broken)
    engine.every(0.02, lambda: runs.append("fine") and False)
    ticks(engine, 0.1)
    assert runs.count("broken") == 1 and runs.count("fine") == 5


# -- digits ------------------------------------------------------------------------------

def test_collect_dtmf_times_out_with_what_it_has(engine: MediaEngine) -> None:
    call = agent_call(engine)
    future = engine.collect_dtmf(call, 4, 0.5, "#")
    leg = engine.call(call).leg
    engine.loop.listener(leg, ev.DigitReceived(engine.clock.now(), "7"))
    ticks(engine, 0.46)
    assert not future.done()
    ticks(engine, 0.06)
    assert future.result(timeout=0) == {"call": call, "digits": "7", "reason": "timeout"}
    assert engine.call(call).collect is None


@pytest.mark.parametrize(("digits", "result"), [
    ("12#", {"digits": "12", "reason": "terminator"}),
    ("1234", {"digits": "123", "reason": "max_digits"}),
])
def test_collect_dtmf_ends_on_the_terminator_or_enough_digits(
        engine: MediaEngine, digits: str, result: dict[str, Any]) -> None:
    call = agent_call(engine)
    future = engine.collect_dtmf(call, 3, 10.0, "#")
    leg = engine.call(call).leg
    for digit in digits:
        engine.loop.listener(leg, ev.DigitReceived(engine.clock.now(), digit))
    assert future.result(timeout=0) == {"call": call, **result}


def test_collect_dtmf_ends_with_the_call(engine: MediaEngine) -> None:
    heard = events(engine)
    call = agent_call(engine)
    future = engine.collect_dtmf(call, 3, 10.0, "#")
    engine.hangup(call)
    assert future.result(timeout=0)["reason"] == "hangup"
    assert heard[-1]["event"] == "call.state" and heard[-1]["state"] == "hungup"
    assert engine.calls == {}


def test_a_processor_is_closed_when_its_call_ends(engine: MediaEngine) -> None:
    call = agent_call(engine)
    processor = Silent()
    engine.attach_processor(call, processor)
    engine.hangup(call)
    assert processor.closed
