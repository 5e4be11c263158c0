"""What every runner shares (``GatewayRunner``): the turn, the timers, the shift, the
start after a crash, gateway errors, live gateways; with a runner that only records what
it is asked, on a scripted gateway."""

from __future__ import annotations

import math
from typing import Any

import pytest
from campaign_testkit import T0, open_store
from scripted_gateway_kit import ScriptedGateway
from structlog.testing import capture_logs

from trunkline.dialer.runner import base
from trunkline.dialer.runner.base import GatewayRunner
from trunkline.gateway.rpc.errors import RpcError


class Recorder(GatewayRunner[dict]):
    """A runner that records what the base asks of it."""

    log_prefix = "recorder"

    def __init__(self, *args: Any, deadline: float = math.inf, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.deadline = deadline
        self.seen: list[tuple[Any, ...]] = []
        self.unknown: list[int] = []
        self.finished = False
        self.flying = 0

    def _own_campaigns(self) -> set[str]:
        return {"sales"}

    def _log_context(self) -> dict[str, Any]:
        return {"campaign": "sales"}

    def _record_unknown(self, attempt: int, now: float) -> None:
        self.unknown.append(attempt)

    def _begin(self, now: float) -> None:
        self.seen.append(("begin", now))

    def _before_wait(self, now: float) -> None:
        self.seen.append(("before", now))

    def _next_deadline(self, now: float) -> float:
        return self.deadline

    def _on_event(self, event: dict, now: float) -> None:
        self.seen.append(("event", event["n"], now))
        if event.get("lands"):
            self.flying -= 1

    def _on_timer(self, kind: str, key: Any, now: float) -> None:
        self.seen.append(("timer", kind, key, now))

    def _after_events(self, now: float) -> None:
        self.seen.append(("after", now))

    def _list_finished(self) -> bool:
        return self.finished

    def _in_flight(self) -> bool:
        return self.flying > 0

    def _close(self) -> None:
        self.seen.append(("close", self.gateway.now()))

    def _end(self) -> None:
        self.seen.append(("end", self.gateway.now()))

    def progress_line(self, now: float) -> str:
        return f"at {now - T0:g}"

    def summary(self, *, finished: bool = False) -> dict:
        return {"finished": finished, "ended": self.gateway.now()}


def runner(events=(), **kwargs: Any) -> Recorder:
    return Recorder(open_store(), ScriptedGateway(T0, list(events)), **kwargs)


def test_a_step_waits_for_the_first_thing_to_do_and_runs_timers_after_events() -> None:
    r = runner([(T0 + 0.25, {"n": 1}), (T0 + 0.25, {"n": 2}), (T0 + 5.0, {"n": 3})],
               deadline=T0 + 0.75)
    r._schedule(T0 + 0.5, "b", "second")
    r._schedule(T0 + 0.25, "a", "first")
    assert r.step() == T0 + 0.25
    assert r.gateway.waits == [T0 + 0.25]               # the first timer
    assert r.seen == [("before", T0), ("event", 1, T0 + 0.25), ("event", 2, T0 + 0.25),
                      ("timer", "a", "first", T0 + 0.25), ("after", T0 + 0.25)]
    r.seen.clear()
    assert r.step() == T0 + 0.5
    assert r.seen[1:] == [("timer", "b", "second", T0 + 0.5), ("after", T0 + 0.5)]
    assert r.step() == T0 + 0.75                         # the runner's own deadline
    r.deadline = math.inf
    assert r.step() == T0 + 1.75                         # at most a second
    assert r.step(until=T0 + 2.0) == T0 + 2.0            # or the caller's limit
    assert r.gateway.waits[1:] == [T0 + 0.5, T0 + 0.75, T0 + 1.75, T0 + 2.0]


def test_progress_lines_come_every_so_often_from_the_start() -> None:
    lines: list[str] = []
    r = runner(progress=lines.append, progress_every=2.5)
    r.start()
    for _ in range(6):
        r.step()
    assert lines == ["at 3", "at 6"]


def test_the_shift_ends_when_the_list_is_finished_and_the_calls_landed() -> None:
    r = runner([(T0 + 3.5, {"n": 1}), (T0 + 30.0, {"n": 2, "lands": True})])
    r.flying = 1
    steps: list[float] = []

    def on_step(now: float) -> None:
        steps.append(now)
        r.finished = now >= T0 + 3.5

    assert r.run(on_step=on_step) == {"finished": True, "ended": T0 + 30.0}
    assert steps == [T0 + 1, T0 + 2, T0 + 3, T0 + 3.5, *(T0 + 3.5 + i for i in range(1, 27)),
                     T0 + 30.0]
    assert [s for s in r.seen if s[0] in ("begin", "close", "end")] == [
        ("begin", T0), ("close", T0 + 3.5), ("end", T0 + 30.0)]


def test_the_shift_ends_at_its_time_or_on_request_and_drains_for_so_long() -> None:
    r = runner()
    r.flying = 1                                          # never lands
    assert r.run(seconds=10.0, drain=4.0) == {"finished": False, "ended": T0 + 14.0}
    r = runner()
    r.drain = 2.0

    def stop(now: float) -> None:
        if now >= T0 + 3:
            r.request_stop()

    r.flying = 1
    assert r.run(on_step=stop) == {"finished": False, "ended": T0 + 5.0}


def test_start_settles_what_a_crashed_run_left_open() -> None:
    r = Recorder(open_store(contacts=2), ScriptedGateway(T0))
    claimed = r.store.claim_next("sales", T0)                  # never sent
    dialing = r.store.claim_next("sales", T0)                  # fate unknown
    r.store.mark_dialing(dialing.attempt, T0)
    r.start()
    assert r.unknown == [dialing.attempt]                       # the runner records it
    assert r.store.query("SELECT state FROM attempt WHERE id=?", (claimed.attempt,)
                         )[0][0] == "released"
    assert r.seen == [("begin", T0)]                            # then it begins


def test_a_hang_up_of_a_call_that_ended_is_no_error() -> None:
    r = runner()
    r.gateway.fail["hangup"] = RpcError("not_found", "no call 3")
    r._hang_up(3)
    assert r.gateway_errors == []
    r.gateway.fail["hangup"] = RpcError("conflict", "draining")
    with capture_logs() as logs:
        r._hang_up(4)
    assert r.gateway_errors == [f"cannot hang up call 4: {RpcError('conflict', 'draining')}"]
    assert logs[0]["event"] == "recorder_gateway_error" and logs[0]["campaign"] == "sales"


def test_dial_strings() -> None:
    r = runner()
    assert r.dial_string("+8613800138000") == "13800138000"
    assert r.dial_string("+861065529988") == "01065529988"
    assert r.dial_string("+442079460000") == "00442079460000"
    assert r.dial_string("+999") == "999"                 # not a number we can read


def test_a_live_gateway_is_subscribed_to_the_events_the_runner_reads(monkeypatch) -> None:
    subscribed: list[list[str]] = []

    class Client:
        def subscribe(self, events: list[str]) -> None:
            subscribed.append(list(events))

    class FakeLive:
        def __init__(self, address: str, *, token: str | None = None) -> None:
            self.address, self.token, self.client = address, token, Client()
            self.client.subscribe(list(base.GATEWAY_EVENTS))

    monkeypatch.setattr(base, "LiveGateway", FakeLive)

    class Listener(Recorder):
        EVENTS = (*GatewayRunner.EVENTS, "tone", "sit")

    gateway = Listener.live_gateway("/run/gw.sock", token="t")
    assert (gateway.address, gateway.token) == ("/run/gw.sock", "t")
    assert subscribed == [list(base.GATEWAY_EVENTS), ["tone", "sit"]]
    subscribed.clear()
    Recorder.live_gateway("/run/gw.sock")
    assert subscribed == [list(base.GATEWAY_EVENTS)]      # nothing more to ask for


@pytest.mark.parametrize("hook", ["_own_campaigns", "_on_event", "_in_flight"])
def test_a_runner_must_say_what_it_does(hook: str) -> None:
    with pytest.raises(NotImplementedError):
        getattr(GatewayRunner(open_store(), ScriptedGateway(T0)), hook)(
            *({"_on_event": ({}, T0)}.get(hook, ())))
