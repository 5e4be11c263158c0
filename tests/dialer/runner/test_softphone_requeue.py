"""A browser agent's page lost for good mid-call (issue 19 item 3) on the in-process
gateway: with the campaign's ``agent_lost = "requeue"`` the customer waits on hold and
is handed to the next agent of the campaign who is free (screen pop, bridged, the hold
sound stopped); nobody free within ``agent_lost_wait``: the apology, then the end."""

from __future__ import annotations

from pathlib import Path

from desk_runner_kit import DESK, HUMANS, pops, state, step_until
from runner_kit import T0, make_store, write_wav

from trunkline.dialer.desk import commands as cmd
from trunkline.dialer.desk.config import DeskConfig
from trunkline.dialer.desk.outputs import CallNote
from trunkline.dialer.pacing.engine import quiet_logger
from trunkline.dialer.runner.desk_runner import CampaignControl, DeskRunner
from trunkline.dialer.runner.gateway import InProcessGateway
from trunkline.gateway.config import GatewayConfig
from trunkline.gateway.webrtc.leg import PeerSignal
from trunkline.gateway.webrtc.settings import SoftphoneSettings

LOANS = (("loans", "standard"),)


def _browser_agent_talking(tmp_path: Path, wait: float, *, agent_holds: bool = False
                           ) -> tuple[DeskRunner, InProcessGateway, int, int]:
    """a1 at a browser position talking to a customer, a2 logged in at an FXS phone and
    paused, the campaign paused (no new dials): (runner, gateway, position, customer)."""
    store = make_store(tmp_path, campaign="loans", ranges=HUMANS,
                       config={"mode": "predictive", "ring_timeout": 20.0,
                               "agent_lost": "requeue", "agent_lost_wait": wait})
    store.save_desk_config("loans", DeskConfig.from_dict("loans", DESK))
    gateway = InProcessGateway(start=T0, config=GatewayConfig(
        webrtc=SoftphoneSettings(reconnect=2.0), prompts=tmp_path))
    # A short hold file: it ends, and is played again, while the customer waits.
    music = str(write_wav(tmp_path / "hold.wav", seconds=1.5)) if agent_holds else None
    runner = DeskRunner(store, "loans", gateway, group="pri", engine_log=quiet_logger(),
                        hold_file=music)
    softphone = gateway.virtual.service.softphone
    runner.start()
    runner.submit(cmd.Login("a2", "fxs", "72", LOANS))
    step_until(runner, lambda: state(runner, "a2") == "paused", 60)
    runner.submit(cmd.Login("a1", "browser", "", LOANS))
    step_until(runner, lambda: "a1" in runner.agent_legs, 10)
    position = runner.agent_legs["a1"].gw
    channel = next(c for c in gateway.calls() if c["call"] == position)["channel"]
    softphone.module.signal(channel, PeerSignal("connected"))
    step_until(runner, lambda: state(runner) == "paused", 10)
    runner.submit(cmd.Ready("a1"))
    step_until(runner, lambda: bool(pops(runner)))
    runner.submit(CampaignControl("loans", "pause"))
    customer = runner.customers[pops(runner)[0].call].gw
    step_until(runner, lambda: gateway.engine.calls[customer].bridged_to == position, 30)
    assert state(runner) == "talking"
    if agent_holds:   # the agent had put the customer on hold (the hold music)
        runner.submit(cmd.Hold("a1"))
        step_until(runner, lambda: gateway.engine.calls[customer].play is not None, 5)
    sound = gateway.engine.calls[customer].play.name if agent_holds else "tone:callwaiting"
    # The page is lost for good (ICE failed, never back).
    softphone.report(softphone.positions.by_call(position), "lost", "ice_failed")
    step_until(runner, lambda: gateway.engine.calls[customer].play is not None
               and runner.softphone.lost == 1, 5)
    assert gateway.engine.calls[customer].play.name == sound
    notes = [e for e in runner.desk_events if isinstance(e, CallNote) and e.agent == "a1"]
    assert ("audio_lost", "ice_failed") in [(n.what, n.detail) for n in notes]
    return runner, gateway, position, customer


def test_the_customer_of_a_lost_browser_goes_to_the_next_free_agent(tmp_path: Path
                                                                    ) -> None:
    runner, gateway, position, customer = _browser_agent_talking(tmp_path, wait=30.0)
    try:
        # After [webrtc] reconnect (2 s) the position ends; the customer stays on hold.
        step_until(runner, lambda: position not in gateway.engine.calls, 10)
        assert customer in runner.softphone.requeued
        later = gateway.now() + 1.0
        step_until(runner, lambda: gateway.now() >= later, 2)   # nobody free: it waits
        assert gateway.engine.calls[customer].play.name == "tone:callwaiting"
        assert customer in runner.softphone.requeued
        # a2 becomes free: the customer is handed over, a2's screen pops with the contact.
        before = len([p for p in pops(runner) if p.agent == "a2"])
        runner.submit(cmd.Ready("a2"))
        step_until(runner, lambda: len([p for p in pops(runner) if p.agent == "a2"])
                   > before, 5)
        first = pops(runner)[0]
        assert [p for p in pops(runner) if p.agent == "a2"][-1].call == first.call
        a2 = runner.agent_legs["a2"].gw
        step_until(runner, lambda: gateway.engine.calls[customer].bridged_to == a2, 5)
        assert gateway.engine.calls[customer].play is None
        assert state(runner, "a2") == "talking"
        assert runner.softphone.handed_on == 1 and runner.softphone.apologies == 0
        # a1 (its disposition a2's to save) leaves the floor.
        step_until(runner, lambda: "a1" not in runner.desk.seats, 10)
    finally:
        runner.gateway.close()


def test_nobody_free_within_the_wait_the_customer_hears_the_apology(tmp_path: Path
                                                                    ) -> None:
    runner, gateway, position, customer = _browser_agent_talking(tmp_path, wait=3.0)
    try:
        step_until(runner, lambda: position not in gateway.engine.calls, 10)
        ended = gateway.now()
        step_until(runner, lambda: gateway.engine.calls[customer].play.name == "tone:info",
                   6)
        assert gateway.now() - ended >= 2.9      # the wait, on hold
        step_until(runner, lambda: customer not in gateway.engine.calls, 10)
        assert runner.softphone.apologies == 1 and runner.softphone.handed_on == 0
        assert state(runner, "a2") == "paused"
    finally:
        runner.gateway.close()


def test_a_page_lost_while_the_agent_holds_keeps_the_hold_music_and_hands_the_call_on(
        tmp_path: Path) -> None:
    runner, gateway, position, customer = _browser_agent_talking(tmp_path, wait=30.0,
                                                                 agent_holds=True)
    try:
        music = gateway.engine.calls[customer].play.name
        page = gateway.virtual.service.softphone.positions.by_call(position)
        # Back in time: the agent's hold goes on (the music is not stopped).
        gateway.virtual.service.softphone.report(page, "connected")
        step_until(runner, lambda: runner.softphone.resumed == 1, 5)
        assert gateway.engine.calls[customer].play is not None
        assert gateway.engine.calls[customer].play.name == music
        # Lost for good: a2 takes the customer off hold.
        gateway.virtual.service.softphone.report(page, "lost", "no_media")
        step_until(runner, lambda: position not in gateway.engine.calls, 10)
        # The 1.5 s file would end twice while the customer waits: it is looped, the
        # same play going on (no silence between two plays).
        first = gateway.engine.calls[customer].play.play_id
        later = gateway.now() + 3.5
        step_until(runner, lambda: gateway.now() >= later, 5)
        assert gateway.engine.calls[customer].play is not None
        assert gateway.engine.calls[customer].play.play_id == first
        assert gateway.engine.calls[customer].play.name == music
        runner.submit(cmd.Ready("a2"))
        a2 = runner.agent_legs["a2"].gw
        step_until(runner, lambda: gateway.engine.calls[customer].bridged_to == a2, 5)
        assert gateway.engine.calls[customer].play is None
        assert runner.softphone.handed_on == 1
    finally:
        runner.gateway.close()


def test_the_requeued_customer_goes_before_a_new_answer(tmp_path: Path) -> None:
    """a2 comes free and the campaign dials for it while a1's page is lost: when the
    position ends a2 takes the requeued customer at once, and the answer dialled for a2
    waits as any answer with no agent (an abandon once nobody came in time)."""
    runner, gateway, position, customer = _browser_agent_talking(tmp_path, wait=60.0)
    try:
        runner.submit(CampaignControl("loans", "resume"))
        runner.submit(cmd.Ready("a2"))
        step_until(runner, lambda: any(c.agent is None for c in runner.engine.calls.values()),
                   2)   # a dial out for a2
        assert position in gateway.engine.calls        # the page may still come back
        a2 = runner.agent_legs["a2"].gw
        step_until(runner, lambda: gateway.engine.calls[customer].bridged_to == a2, 5)
        assert runner.softphone.handed_on == 1 and gateway.engine.calls[customer].play is None
        stats = runner.engine.stats("loans")
        assert stats.abandoned == 0
        step_until(runner, lambda: stats.abandoned >= 1, 60)   # the new answer, not ours
        assert stats.answered_without_agent >= 1
        assert state(runner, "a2") == "talking"
        assert runner.engine.calls[pops(runner)[0].call].agent == "a2"
    finally:
        runner.gateway.close()
