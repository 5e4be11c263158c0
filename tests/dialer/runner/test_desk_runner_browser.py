"""The desk's browser position (issue 19) through the desk runner on the in-process
gateway: logging in with ``browser`` opens a WebRTC position (no port rung, no number
dialled); the agent is logged in when the page connects, and a predictive call is
bridged to the position with the usual screen pop."""

from __future__ import annotations

from pathlib import Path

from desk_runner_kit import DESK, HUMANS, pops, state, step_until
from runner_kit import T0, make_store

from trunkline.dialer.desk import commands as cmd
from trunkline.dialer.desk.config import DeskConfig
from trunkline.dialer.pacing.engine import quiet_logger
from trunkline.dialer.runner.desk_runner import DeskRunner
from trunkline.dialer.runner.gateway import InProcessGateway
from trunkline.gateway.config import GatewayConfig
from trunkline.gateway.webrtc.leg import PeerSignal
from trunkline.gateway.webrtc.settings import SoftphoneSettings


def test_a_browser_agent_takes_a_predictive_call_on_its_webrtc_position(tmp_path: Path
                                                                         ) -> None:
    store = make_store(tmp_path, campaign="loans", ranges=HUMANS,
                       config={"mode": "predictive", "ring_timeout": 20.0,
                               "agent_lost": "end"})
    store.save_desk_config("loans", DeskConfig.from_dict("loans", DESK))
    # The customers talk 8-20 s: the page may be gone 2 s before the position ends.
    gateway = InProcessGateway(start=T0, config=GatewayConfig(
        webrtc=SoftphoneSettings(reconnect=2.0)))
    runner = DeskRunner(store, "loans", gateway, group="pri", engine_log=quiet_logger())
    softphone = gateway.virtual.service.softphone
    try:
        runner.start()
        runner.submit(cmd.Login("a1", "browser", "", (("loans", "standard"),)))
        step_until(runner, lambda: "a1" in runner.agent_legs, 10)
        position = runner.agent_legs["a1"].gw
        row = next(c for c in gateway.calls() if c["call"] == position)
        assert row["kind"] == "webrtc" and row["number"] == "a1"
        assert state(runner) == "connecting"
        # The agent's page connects (the peer connection's own tests are in tests/webrtc).
        softphone.module.signal(row["channel"], PeerSignal("connected"))
        step_until(runner, lambda: state(runner) == "paused", 10)
        runner.submit(cmd.Ready("a1"))
        step_until(runner, lambda: bool(pops(runner)))
        customer = runner.customers[pops(runner)[0].call].gw
        step_until(runner, lambda: gateway.engine.calls[customer].bridged_to == position, 30)
        assert state(runner) == "talking"
        page = softphone.positions.by_call(position)
        # The page's network drops: the customer hears the hold tone over the silent
        # agent, not silence; the page comes back: the conversation goes on.
        softphone.report(page, "lost", "ice_disconnected")
        step_until(runner, lambda: gateway.engine.calls[customer].play is not None, 5)
        assert gateway.engine.calls[customer].play.name == "tone:callwaiting"
        softphone.report(page, "connected")
        step_until(runner, lambda: gateway.engine.calls[customer].play is None, 5)
        assert gateway.engine.calls[customer].bridged_to == position
        # Lost for good: after [webrtc] reconnect (2 s) the position ends; the campaign's
        # agent_lost = "end": the customer hears the apology (the abandon tone), then the
        # call ends; the agent leaves (requeue: test_softphone_requeue.py).
        softphone.report(page, "lost", "ice_failed")
        step_until(runner, lambda: position not in gateway.engine.calls, 30)
        assert gateway.engine.calls[customer].play.name == "tone:info"
        step_until(runner, lambda: customer not in gateway.engine.calls, 10)
        assert runner.softphone.lost == 2 and runner.softphone.resumed == 1
        step_until(runner, lambda: "a1" not in runner.desk.seats, 10)
    finally:
        gateway.close()
