"""The cleaning runner on a scripted gateway (no card): lines and rate, release on the
first sign of life, the listen limit, a hang-up the gateway never confirms, originates
refused; the end-to-end runs on the emulated card are in test_cleaning_run.py."""

from __future__ import annotations

import json

from campaign_testkit import T0, mobile, open_store
from scripted_gateway_kit import ScriptedGateway

from trunkline.dialer.cleaning.runner import CleaningRunner
from trunkline.dialer.cleaning.settings import CleaningSettings, create_cleaning_campaign
from trunkline.gateway.rpc.errors import RpcError

SETTINGS = CleaningSettings(concurrency=2, rate=2.0, listen=5.0, retries=0)


def hungup(call: int, outcome: str, **extra) -> dict:
    return {"event": "call.state", "call": call, "state": "hungup", "outcome": outcome,
            **extra}


def setup(contacts: int, events=()) -> CleaningRunner:
    store = open_store(contacts=contacts)
    create_cleaning_campaign(store, "sc", now=T0, source="sales", settings=SETTINGS)
    return CleaningRunner(store, "sc", ScriptedGateway(T0, list(events)))


def test_lines_rate_release_and_the_listen_limit() -> None:
    runner = setup(3, [
        (T0 + 1.0, {"event": "call.state", "call": 101, "state": "ringing"}),
        (T0 + 1.25, hungup(101, "no_answer", cause=16)),
    ])
    summary = runner.run(seconds=60)
    gw = runner.gateway
    originates = [(arg[0], at) for name, arg, at in gw.requests if name == "originate"]
    # two lines, two calls a second: the third waits for a free line
    assert originates == [("13800000000", T0), ("13800000001", T0 + 0.5),
                          ("13800000002", T0 + 1.25)]
    hangups = [(arg, at) for name, arg, at in gw.requests if name == "hangup"]
    assert hangups == [(101, T0 + 1.0),            # it rang: released at once
                       (102, T0 + 5.5),            # nothing within listen
                       (103, T0 + 6.25)]
    # the gateway never confirmed those two hang-ups: settled after the grace
    assert runner.gateway_errors == [
        "call 102 to 13800000001: no hang-up reported 10 s after we asked",
        "call 103 to 13800000002: no hang-up reported 10 s after we asked"]
    assert summary.finished and summary.ended == T0 + 16.25
    assert (summary.dials, summary.max_release_s) == (3, 0.0)
    assert {k: v for k, v in summary.classes.items() if v} == {"live": 1, "unknown": 2}
    notes = [json.loads(r[0]) for r in runner.store.query(
        "SELECT note FROM attempt a JOIN campaign k ON k.id=a.campaign_id "
        "WHERE k.name='sc' ORDER BY a.id")]
    assert notes == [{"class": "live", "evidence": "ringing"},
                     {"class": "unknown", "evidence": "nothing decisive within 5 s"},
                     {"class": "unknown", "evidence": "nothing decisive within 5 s"}]


def test_a_sit_waits_for_the_announcement_that_says_more() -> None:
    runner = setup(1, [
        (T0 + 2.0, {"event": "tone", "call": 101, "tone": "sit"}),
        (T0 + 4.0, {"event": "announcement", "call": 101, "kind": "powered_off"}),
        (T0 + 4.5, hungup(101, "unreachable")),
    ])
    summary = runner.run(seconds=60)
    assert [(a, t) for n, a, t in runner.gateway.requests if n == "hangup"] == \
        [(101, T0 + 4.0)]
    assert {k: v for k, v in summary.classes.items() if v} == {"powered_off": 1}
    assert summary.max_release_s is None            # no sign of life to time from


def test_a_refused_originate_is_not_a_try_unless_the_number_is_refused() -> None:
    runner = setup(2)
    runner.gateway.fail["originate"] = RpcError("conflict", "no free channel")
    runner.start()
    runner.step(T0 + 1.0)
    assert runner.not_dialled == 1 and runner.dials == 0
    state = runner.store.query("SELECT state, note FROM attempt")[0]
    assert state["state"] == "released"
    assert json.loads(state["note"])["evidence"] == "gateway refused: no free channel"
    assert runner._next_deadline(T0 + 1.0) == T0 + 2.5     # looks again in 2.5 s
    assert runner.store.contact(3)["next_at"] == T0 + 5.0       # due again in 5 s
    runner.gateway.fail["originate"] = RpcError("invalid_params", "bad number")
    while runner.gateway.now() < T0 + 3.0:
        runner.step(T0 + 3.0)
    # the other number, at 2.5 s: refused for itself, a verdict (unknown, not retried)
    assert runner.gateway_errors == [
        f"cannot dial 13800000001: {RpcError('invalid_params', 'bad number')}"]
    contact = runner.store.contact(4)                           # sc's copy of mobile(1)
    assert (contact["number"], contact["state"], contact["last_outcome"]) == \
        (mobile(1), "done", "unknown")
    assert runner.store.contact(3)["state"] == "ready"
