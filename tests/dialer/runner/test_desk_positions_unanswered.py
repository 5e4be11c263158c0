"""An agent's position that does not answer, or cannot be rung, affects only that agent
(issue 17 item 3): its login fails with the reason on its screen, the other agents and
the campaign go on; so does a gateway too slow to reply to the ring. On the emulated
card in virtual time."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from desk_runner_kit import DESK, state, step_until
from runner_kit import T0, make_store

from trunkline.dialer.desk import commands as cmd
from trunkline.dialer.desk.config import DeskConfig
from trunkline.dialer.pacing.engine import quiet_logger
from trunkline.dialer.runner.desk_runner import DeskRunner
from trunkline.dialer.runner.gateway import InProcessGateway
from trunkline.gateway.rpc.errors import CallTimeout


def make_runner(tmp_path: Path) -> tuple[DeskRunner, InProcessGateway]:
    store = make_store(tmp_path, campaign="hand", ranges=(("1381", 2, "human"),),
                       config={"mode": "manual", "regime": "none"})
    store.save_desk_config("hand", DeskConfig.from_dict("hand", DESK))
    gateway = InProcessGateway(start=T0)
    runner = DeskRunner(store, "hand", gateway, group="pri", engine_log=quiet_logger())
    runner.position_ring_timeout = 10.0     # a short shift: the default is 60 s
    return runner, gateway


def refusals(runner: DeskRunner, agent: str) -> list[str]:
    return [e.error for e in runner.desk_events
            if e.TYPE == "refused" and e.agent == agent]


def test_a_position_nobody_lifts_fails_only_that_agents_login(tmp_path: Path) -> None:
    runner, gateway = make_runner(tmp_path)
    phone = gateway.card.phone(72)
    phone.settings = dataclasses.replace(phone.settings, auto_answer=False)
    try:
        runner.start()
        runner.submit(cmd.Login("a1", "fxs", "71", (("hand", "standard"),)))
        runner.submit(cmd.Login("a2", "fxs", "72", (("hand", "standard"),)))
        step_until(runner, lambda: state(runner, "a1") == "paused", 30)
        runner.submit(cmd.Ready("a1"))
        # a2's phone rings out: its login fails, with the reason on its screen
        step_until(runner, lambda: "a2" not in runner.desk.seats, 40)
        assert refusals(runner, "a2") == ["the position did not answer within 10 s"]
        assert runner.gateway_errors == []
        states = [(e.state, e.reason) for e in runner.desk_events
                  if e.TYPE == "state" and e.agent == "a2"]
        assert states[0][0] == "connecting" and states[-1][0] == "logged_out", states
        assert states[-1][1] == "the position did not answer within 10 s"
        assert [c for c in gateway.calls() if c["channel"] == 72] == []   # not ringing
        # a1 and the campaign go on: a1 dials by hand and talks
        runner.step()
        assert runner.engine.campaigns == ["hand"] and state(runner, "a1") == "ready"
        runner.submit(cmd.ManualDial("a1", "hand", "13810001234"))
        step_until(runner, lambda: state(runner, "a1") == "talking", 60)
        # a2 can try again once someone lifts the phone
        phone.settings = dataclasses.replace(phone.settings, auto_answer=True)
        runner.submit(cmd.Login("a2", "fxs", "72", (("hand", "standard"),)))
        step_until(runner, lambda: state(runner, "a2") == "paused", 30)
    finally:
        gateway.close()


def test_a_position_that_cannot_be_rung_fails_only_that_agents_login(
        tmp_path: Path) -> None:
    runner, gateway = make_runner(tmp_path)
    try:
        runner.start()
        runner.submit(cmd.Login("a1", "fxs", "71", (("hand", "standard"),)))
        step_until(runner, lambda: state(runner, "a1") == "paused", 30)
        # a channel that is not an FXS port (refused by the gateway), then a number
        # that is busy on the network
        runner.submit(cmd.Login("a2", "fxs", "999", (("hand", "standard"),)))
        step_until(runner, lambda: "a2" not in runner.desk.seats and bool(
            refusals(runner, "a2")), 10)
        runner.submit(cmd.Login("a3", "number", "13700001234", (("hand", "standard"),)))
        step_until(runner, lambda: "a3" not in runner.desk.seats and bool(
            refusals(runner, "a3")), 120)
        assert refusals(runner, "a2")[0].startswith("cannot ring the position: ")
        assert "no channel 999" in refusals(runner, "a2")[0]
        assert refusals(runner, "a3") == ["the position is busy"]
        assert "a3" not in runner.agent_legs and runner.engine.campaigns == ["hand"]
        runner.submit(cmd.Ready("a1"))
        runner.submit(cmd.ManualDial("a1", "hand", "13810001234"))
        step_until(runner, lambda: state(runner, "a1") == "talking", 60)
    finally:
        gateway.close()


def test_a_gateway_too_slow_to_reply_to_a_ring_fails_only_that_login(
        tmp_path: Path) -> None:
    runner, gateway = make_runner(tmp_path)
    placed = gateway.originate

    def reply_lost(number: str, **options: object) -> int:
        """The gateway places the call, but its reply comes too late (overloaded)."""
        call = placed(number, **options)  # type: ignore[arg-type]
        if options.get("channel") == 72:
            raise CallTimeout("no reply to 'call.originate' within 10.0 s")
        return call

    gateway.originate = reply_lost  # type: ignore[method-assign]
    try:
        runner.start()
        runner.submit(cmd.Login("a1", "fxs", "71", (("hand", "standard"),)))
        runner.submit(cmd.Login("a2", "fxs", "72", (("hand", "standard"),)))
        step_until(runner, lambda: state(runner, "a1") == "paused", 30)
        assert refusals(runner, "a2") == [
            "the gateway did not reply in time (no reply to 'call.originate' within "
            "10.0 s); log in again"]
        # the call placed all the same is hung up: channel 72 is free for the next login
        step_until(runner, lambda: not any(c["channel"] == 72 for c in gateway.calls()), 10)
        assert runner._late_rings == {}
        runner.submit(cmd.Ready("a1"))
        runner.submit(cmd.ManualDial("a1", "hand", "13810001234"))
        step_until(runner, lambda: state(runner, "a1") == "talking", 60)
    finally:
        gateway.close()
