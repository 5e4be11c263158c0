"""A browser agent's audio lost while it has no customer (issue 19 item 3) on the
in-process gateway, in virtual time: no customer is put through to a silent position.

- Ready when the page's audio goes (ICE failed, the network dropped): the agent is paused
  (reason ``audio_lost``, told why), no call comes while the campaign runs, and it is
  ready again, and gets calls, once the audio is back.
- A customer put through all the same (the agent pressed ready while its audio was down)
  hears the hold sound at once, not silence, as for a loss mid-call.

Before the fix the agent stayed ready: the engine put a customer through to the silent
position, who heard nothing until the page came back, or was hung up ``reconnect`` s
later."""

from __future__ import annotations

from pathlib import Path

from desk_runner_kit import DESK, HUMANS, pops, state, step_until
from runner_kit import T0, make_store

from trunkline.dialer.desk import commands as cmd
from trunkline.dialer.desk.config import DeskConfig
from trunkline.dialer.desk.outputs import CallNote
from trunkline.dialer.pacing.engine import quiet_logger
from trunkline.dialer.runner.desk_runner import CampaignControl, DeskRunner
from trunkline.dialer.runner.gateway import InProcessGateway
from trunkline.dialer.runner.softphone_faults import AUDIO_LOST_REASON
from trunkline.gateway.config import GatewayConfig
from trunkline.gateway.webrtc.leg import PeerSignal
from trunkline.gateway.webrtc.settings import SoftphoneSettings

LOANS = (("loans", "standard"),)


def _browser_agent(tmp_path: Path) -> tuple[DeskRunner, InProcessGateway, int]:
    """a1 logged in at a browser position whose audio is up, paused; the campaign runs."""
    store = make_store(tmp_path, campaign="loans", ranges=HUMANS,
                       config={"mode": "predictive", "ring_timeout": 20.0})
    store.save_desk_config("loans", DeskConfig.from_dict("loans", DESK))
    gateway = InProcessGateway(start=T0, config=GatewayConfig(
        webrtc=SoftphoneSettings(reconnect=30.0), prompts=tmp_path))
    runner = DeskRunner(store, "loans", gateway, group="pri", engine_log=quiet_logger())
    runner.start()
    runner.submit(cmd.Login("a1", "browser", "", LOANS))
    step_until(runner, lambda: "a1" in runner.agent_legs, 10)
    position = runner.agent_legs["a1"].gw
    channel = next(c for c in gateway.calls() if c["call"] == position)["channel"]
    gateway.virtual.service.softphone.module.signal(channel, PeerSignal("connected"))
    step_until(runner, lambda: state(runner) == "paused", 10)
    return runner, gateway, position


def _report(gateway: InProcessGateway, position: int, kind: str, reason: str = "") -> None:
    softphone = gateway.virtual.service.softphone
    softphone.report(softphone.positions.by_call(position), kind, reason)


def _notes(runner: DeskRunner) -> list[tuple[str, str]]:
    return [(e.what, e.detail) for e in runner.desk_events
            if isinstance(e, CallNote) and e.agent == "a1"]


def test_a_ready_agent_whose_audio_goes_is_paused_and_ready_again_when_it_is_back(
        tmp_path: Path) -> None:
    runner, gateway, position = _browser_agent(tmp_path)
    try:
        # (no dial in flight for a1 when its audio goes: the pause is not held back)
        runner.submit(CampaignControl("loans", "pause"))
        runner.submit(cmd.Ready("a1"))
        step_until(runner, lambda: state(runner) == "ready", 5)
        # Ready, then the network drops: paused for it, told why, no call comes.
        _report(gateway, position, "lost", "no_media")
        step_until(runner, lambda: state(runner) == "paused", 5)
        assert runner.desk.seats["a1"].reason == AUDIO_LOST_REASON
        assert ("audio_down", "no_media") in _notes(runner)
        runner.submit(CampaignControl("loans", "resume"))
        later = gateway.now() + 10.0                 # the campaign runs, customers wait
        step_until(runner, lambda: gateway.now() >= later, 12)
        assert not pops(runner)
        assert [c["kind"] for c in gateway.calls()] == ["webrtc"], gateway.calls()
        # The audio is back: ready again, and the next customer comes.
        _report(gateway, position, "connected")
        step_until(runner, lambda: state(runner) == "ready", 5)
        step_until(runner, lambda: bool(pops(runner)), 60)
        customer = runner.customers[pops(runner)[0].call].gw
        step_until(runner, lambda: gateway.engine.calls[customer].bridged_to == position,
                   30)
        assert gateway.engine.calls[customer].play is None     # the agent, no hold sound
    finally:
        runner.gateway.close()


def test_a_customer_put_through_to_an_agent_whose_audio_is_down_hears_the_hold_sound(
        tmp_path: Path) -> None:
    runner, gateway, position = _browser_agent(tmp_path)
    try:
        _report(gateway, position, "lost", "no_media")    # paused: nothing to take out
        later = gateway.now() + 0.5
        step_until(runner, lambda: gateway.now() >= later, 2)
        assert state(runner) == "paused" and runner.desk.seats["a1"].reason != \
            AUDIO_LOST_REASON
        runner.submit(cmd.Ready("a1"))                    # the agent's own choice
        step_until(runner, lambda: bool(pops(runner)), 60)
        customer = runner.customers[pops(runner)[0].call].gw
        step_until(runner, lambda: gateway.engine.calls[customer].bridged_to == position,
                   30)
        step_until(runner, lambda: gateway.engine.calls[customer].play is not None, 2)
        assert gateway.engine.calls[customer].play.name == "tone:callwaiting"
        assert ("audio_lost", "no_media") in _notes(runner)
        # The page comes back: the hold sound stops, the agent and customer talk.
        _report(gateway, position, "connected")
        step_until(runner, lambda: gateway.engine.calls[customer].play is None, 5)
        assert runner.softphone.resumed == 1 and state(runner) == "talking"
    finally:
        runner.gateway.close()


def test_a_later_login_at_a_phone_is_not_taken_for_a_lost_browser(tmp_path: Path) -> None:
    """The audio went, then the agent logged out (its position ended): logged in again at
    an FXS phone, its customers talk to it (no hold sound left over from the browser)."""
    runner, gateway, position = _browser_agent(tmp_path)
    try:
        _report(gateway, position, "lost", "no_media")
        later = gateway.now() + 0.5
        step_until(runner, lambda: gateway.now() >= later, 2)
        runner.submit(cmd.Logout("a1"))
        step_until(runner, lambda: "a1" not in runner.desk.seats
                   and position not in gateway.engine.calls, 10)
        runner.submit(cmd.Login("a1", "fxs", "71", LOANS))
        step_until(runner, lambda: state(runner) == "paused", 60)
        runner.submit(cmd.Ready("a1"))
        step_until(runner, lambda: bool(pops(runner)), 60)
        customer = runner.customers[pops(runner)[0].call].gw
        phone = runner.agent_legs["a1"].gw
        step_until(runner, lambda: gateway.engine.calls[customer].bridged_to == phone, 30)
        later = gateway.now() + 1.0
        step_until(runner, lambda: gateway.now() >= later, 2)
        assert gateway.engine.calls[customer].play is None
    finally:
        runner.gateway.close()
