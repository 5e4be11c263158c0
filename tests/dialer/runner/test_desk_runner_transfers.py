"""Transfers and campaigns at run time through the desk runner, on the emulated card in
virtual time: a call handed to another agent (its screen pops, it saves the
disposition), an attended transfer to an outside number (the agent talks to it first,
then the customer is bridged to it), and a campaign started and stopped while agents
work."""

from __future__ import annotations

from pathlib import Path

import pytest
from desk_runner_kit import DESK, login, pops, state, step_until
from runner_kit import T0, make_store, numbers, write_wav

from trunkline.dialer.desk import commands as cmd
from trunkline.dialer.desk.config import DeskConfig
from trunkline.dialer.pacing.engine import quiet_logger
from trunkline.dialer.runner.desk_runner import DeskRunner
from trunkline.dialer.runner.gateway import InProcessGateway
from trunkline.gateway.rpc.errors import CallTimeout

HUMANS = (("1381", 8, "human"),)


def make(tmp_path: Path, mode: str = "manual"):
    listed = (("1381", 3, "human"),)
    store = make_store(tmp_path, campaign="loans", ranges=listed,
                       config={"mode": mode, "regime": "none"})
    store.create_campaign("hand", store.strategy("loans"),
                          config={"mode": "manual", "regime": "none"}, now=T0)
    for name in ("loans", "hand"):
        store.save_desk_config(name, DeskConfig.from_dict(name, DESK))
    return store


def bridged_to(gateway: InProcessGateway, call: int) -> int | None:
    return next((c["bridged_to"] for c in gateway.calls() if c["call"] == call), None)


def agent_login(runner: DeskRunner, agent: str, port: str,
                campaigns: tuple[tuple[str, str], ...]) -> None:
    runner.submit(cmd.Login(agent, "fxs", port, campaigns))
    step_until(runner, lambda: state(runner, agent) == "paused", 120)
    runner.submit(cmd.Ready(agent))
    step_until(runner, lambda: state(runner, agent) != "paused", 5)


@pytest.mark.slow
def test_a_call_handed_to_another_agent(tmp_path: Path) -> None:
    store = make(tmp_path, mode="progressive")
    gateway = InProcessGateway(start=T0)
    runner = DeskRunner(store, ["loans", "hand"], gateway, group="pri",
                        engine_log=quiet_logger())
    try:
        runner.start()
        agent_login(runner, "a2", "72", (("hand", "standard"),))
        login(runner, (("loans", "standard"),))
        step_until(runner, lambda: state(runner) == "talking", 120)
        first = pops(runner)[0]
        runner.submit(cmd.Transfer("a1", "blind", "agent", "a2"))
        step_until(runner, lambda: state(runner, "a2") == "talking", 5)
        second = pops(runner)[-1]
        assert (second.agent, second.call) == ("a2", first.call)
        assert second.contact.contact_id == first.contact.contact_id
        customer = runner.customers[first.call].gw
        assert bridged_to(gateway, customer) == runner.agent_legs["a2"].gw
        # a1 owes no disposition for a call it handed on: it is free again
        assert state(runner) in ("ready", "reserved", "talking")
        step_until(runner, lambda: state(runner, "a2") == "wrap_up", 60)
        runner.submit(cmd.SaveDisposition("a2", "promise", {"amount": "10",
                                                             "date": "2025-06-30"}))
        step_until(runner, lambda: state(runner, "a2") != "wrap_up", 5)
        rows = store.query("SELECT agent, attempt_id FROM disposition")
        assert [tuple(r) for r in rows] == [("a2", first.contact.attempt)]
    finally:
        gateway.close()


@pytest.mark.slow
def test_an_attended_transfer_to_a_number(tmp_path: Path) -> None:
    store = make(tmp_path)
    gateway = InProcessGateway(start=T0)
    runner = DeskRunner(store, ["loans", "hand"], gateway, group="pri",
                        engine_log=quiet_logger())
    try:
        runner.start()
        login(runner, (("hand", "standard"),))
        step_until(runner, lambda: state(runner) == "ready", 5)
        runner.submit(cmd.ManualDial("a1", "hand", numbers(HUMANS)[0][0]))
        step_until(runner, lambda: state(runner) == "talking", 60)
        call = pops(runner)[0].call
        customer = runner.customers[call].gw
        target = numbers(HUMANS)[7][0]
        runner.submit(cmd.CompleteTransfer("a1"))        # nothing to complete yet
        runner.submit(cmd.Transfer("a1", "attended", "number", target))
        step_until(runner, lambda: "a1" in runner._consults, 2)
        consult = runner._consults["a1"]
        assert bridged_to(gateway, customer) is None      # the customer waits
        step_until(runner, lambda: consult.answered, 60)
        step_until(runner, lambda: bridged_to(gateway, consult.out) is not None, 2)
        assert bridged_to(gateway, consult.out) == runner.agent_legs["a1"].gw
        runner.submit(cmd.CompleteTransfer("a1"))
        step_until(runner, lambda: state(runner) == "wrap_up", 5)
        step_until(runner, lambda: bridged_to(gateway, customer) is not None, 2)
        assert bridged_to(gateway, customer) == consult.out
        refused = [e for e in runner.desk_events if e.TYPE == "refused"]
        assert [r.command for r in refused] == ["complete_transfer"]
    finally:
        gateway.close()


@pytest.mark.slow
def test_campaigns_start_and_stop_while_agents_work(tmp_path: Path) -> None:
    store = make(tmp_path)
    gateway = InProcessGateway(start=T0)
    runner = DeskRunner(store, ["loans"], gateway, group="pri", engine_log=quiet_logger())
    try:
        runner.start()
        runner.submit(cmd.Login("a1", "fxs", "71", (("hand", "standard"),)))
        runner.step()
        assert [e.error for e in runner.desk_events if e.TYPE == "refused"] == [
            "campaign 'hand' is not running"]
        runner.start_campaign("hand")
        assert runner.engine.campaigns == ["loans", "hand"]
        login(runner, (("hand", "standard"),))
        step_until(runner, lambda: state(runner) == "ready", 5)
        runner.stop_campaign("hand")
        step_until(runner, lambda: bool(runner.campaign_events), 10)
        assert [e.to_dict() for e in runner.campaign_events] == [
            {"type": "campaign", "campaign": "hand", "state": "stopped"}]
        assert "a1" not in runner.desk.seats and runner.engine.campaigns == ["loans"]
        assert runner.campaigns == ["loans"]
    finally:
        gateway.close()


def conference_of(gateway: InProcessGateway, call: int) -> int | None:
    return next((c.get("conference") for c in gateway.calls() if c["call"] == call), None)


@pytest.mark.slow
def test_a_three_way_conference_then_the_agent_leaves(tmp_path: Path) -> None:
    store = make(tmp_path)
    gateway = InProcessGateway(start=T0)
    runner = DeskRunner(store, ["loans", "hand"], gateway, group="pri",
                        engine_log=quiet_logger())
    try:
        runner.start()
        login(runner, (("hand", "standard"),))
        step_until(runner, lambda: state(runner) == "ready", 5)
        runner.submit(cmd.Conference("a1"))                     # nobody to join yet
        runner.submit(cmd.ManualDial("a1", "hand", numbers(HUMANS)[1][0]))
        step_until(runner, lambda: state(runner) == "talking", 60)
        call = pops(runner)[0].call
        customer = runner.customers[call].gw
        runner.submit(cmd.Transfer("a1", "attended", "number", numbers(HUMANS)[6][0]))
        step_until(runner, lambda: "a1" in runner._consults, 2)
        consult = runner._consults["a1"]
        step_until(runner, lambda: consult.answered, 60)
        runner.submit(cmd.Conference("a1"))
        position = runner.agent_legs["a1"].gw
        step_until(runner, lambda: conference_of(gateway, customer) is not None, 2)
        number = conference_of(gateway, customer)
        assert conference_of(gateway, position) == number == conference_of(gateway,
                                                                            consult.out)
        notes = [e.what for e in runner.desk_events if e.TYPE == "call"]
        assert notes[-3:] == ["consulting", "consult_answered", "conference"]
        runner.submit(cmd.CompleteTransfer("a1"))               # the agent leaves
        step_until(runner, lambda: state(runner) == "wrap_up", 5)
        step_until(runner, lambda: conference_of(gateway, position) is None, 2)
        assert conference_of(gateway, customer) == conference_of(gateway, consult.out) \
            == number
        refused = [e for e in runner.desk_events if e.TYPE == "refused"]
        assert [r.command for r in refused] == ["conference"]
    finally:
        gateway.close()


@pytest.mark.slow
@pytest.mark.parametrize("sound", ["hold_file", "tone", "no_reply"])
def test_hold_plays_the_music_and_resume_brings_the_agent_back(
        tmp_path: Path, sound: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The hold file, looped; without one the zone's call-waiting tone: never silence.
    A gateway too busy to answer the play or its stop (no_reply) fails those requests
    only: the hold and the resume still happen."""
    store = make(tmp_path)
    gateway = InProcessGateway(start=T0)
    hold = write_wav(tmp_path / "hold.wav", seconds=30.0)
    runner = DeskRunner(store, ["loans", "hand"], gateway, group="pri",
                        engine_log=quiet_logger(),
                        hold_file=str(hold) if sound == "hold_file" else None)
    try:
        runner.start()
        login(runner, (("hand", "standard"),))
        step_until(runner, lambda: state(runner) == "ready", 5)
        runner.submit(cmd.ManualDial("a1", "hand", numbers(HUMANS)[2][0]))
        step_until(runner, lambda: state(runner) == "talking", 60)
        customer = runner.customers[pops(runner)[0].call].gw
        if sound == "no_reply":
            def too_late(*args: object, **kwargs: object) -> None:
                raise CallTimeout("no reply to 'call.play' within 10.0 s")
            monkeypatch.setattr(gateway, "play", too_late)
            monkeypatch.setattr(gateway, "stop_play", too_late)
        runner.submit(cmd.Hold("a1"))
        step_until(runner, lambda: bridged_to(gateway, customer) is None, 2)
        playing = gateway.engine.calls[customer].play
        if sound == "hold_file":
            assert playing.name.endswith("hold.wav") and playing.loop is not None
        elif sound == "tone":
            assert playing.name == "tone:callwaiting"
        else:
            assert playing is None and state(runner) == "talking"
        runner.submit(cmd.Resume("a1"))
        step_until(runner, lambda: bridged_to(gateway, customer) is not None, 2)
        assert gateway.engine.calls[customer].play is None
        assert bridged_to(gateway, customer) == runner.agent_legs["a1"].gw
    finally:
        gateway.close()
