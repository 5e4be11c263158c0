"""Attended transfers and three-way conferences with another desk agent or a campaign's
next free agent (issue 17 item 3), on the emulated card in virtual time: who is bridged
to whom on the gateway at each step, the hold music while the agents talk, the screen
pop of the same contact on the consulted agent's desk, complete, cancel and refusals."""

from __future__ import annotations

from pathlib import Path

from desk_runner_kit import DESK, login, pops, state, step_until
from runner_kit import T0, make_store, numbers, write_wav

from trunkline.dialer.desk import commands as cmd
from trunkline.dialer.desk.config import DeskConfig
from trunkline.dialer.pacing.engine import quiet_logger
from trunkline.dialer.runner.desk_runner import DeskRunner
from trunkline.dialer.runner.gateway import InProcessGateway

LISTED = (("1381", 3, "human"),)


def start(tmp_path: Path) -> tuple[DeskRunner, InProcessGateway]:
    """Two manual campaigns (no call comes unasked), a1 talking to a customer of
    ``hand``, a2 ready in ``hand``."""
    store = make_store(tmp_path, campaign="loans", ranges=LISTED,
                       config={"mode": "manual", "regime": "none"})
    store.create_campaign("hand", store.strategy("loans"),
                          config={"mode": "manual", "regime": "none"}, now=T0)
    for name in ("loans", "hand"):
        store.save_desk_config(name, DeskConfig.from_dict(name, DESK))
    gateway = InProcessGateway(start=T0)
    music = write_wav(tmp_path / "hold.wav", seconds=30.0)
    runner = DeskRunner(store, ["loans", "hand"], gateway, group="pri",
                        engine_log=quiet_logger(), hold_file=str(music))
    runner.start()
    runner.submit(cmd.Login("a2", "fxs", "72", (("hand", "standard"),)))
    login(runner, (("hand", "standard"),))
    step_until(runner, lambda: state(runner) == "ready" and state(runner, "a2") == "paused",
               10)
    runner.submit(cmd.Ready("a2"))
    runner.submit(cmd.ManualDial("a1", "hand", numbers(LISTED)[0][0]))
    step_until(runner, lambda: state(runner) == "talking", 60)
    assert state(runner, "a2") == "ready"
    return runner, gateway


def peer(gateway: InProcessGateway, call: int) -> int | None:
    return next((c["bridged_to"] for c in gateway.calls() if c["call"] == call), None)


def conference_of(gateway: InProcessGateway, call: int) -> int | None:
    return next((c.get("conference") for c in gateway.calls() if c["call"] == call), None)


def notes(runner: DeskRunner, agent: str) -> list[str]:
    return [e.what for e in runner.desk_events if e.TYPE == "call" and e.agent == agent]


def refused(runner: DeskRunner) -> list[tuple[str, str, str]]:
    return [(e.agent, e.command, e.error) for e in runner.desk_events
            if e.TYPE == "refused"]


def test_attended_to_an_agent_then_complete(tmp_path: Path) -> None:
    runner, gateway = start(tmp_path)
    try:
        first = pops(runner)[0]
        customer = runner.customers[first.call].gw
        a1, a2 = runner.agent_legs["a1"].gw, runner.agent_legs["a2"].gw
        runner.submit(cmd.Transfer("a1", "attended", "agent", "a2"))
        step_until(runner, lambda: peer(gateway, a1) == a2, 2)
        # the customer waits on hold, with the music; a2 is out of the routing
        assert peer(gateway, customer) is None
        assert gateway.engine.calls[customer].play.name.endswith("hold.wav")
        seat = runner.desk.seats["a2"]
        assert (seat.state, seat.reason) == ("paused", "consult")
        shown = pops(runner)[-1]
        assert (shown.agent, shown.call) == ("a2", first.call)
        assert shown.contact.contact_id == first.contact.contact_id
        assert notes(runner, "a1")[-2:] == ["consulting", "consult_answered"]
        assert notes(runner, "a2") == ["consulted"]
        runner.submit(cmd.Ready("a2"))        # refused: it is being consulted
        runner.submit(cmd.CompleteTransfer("a1"))
        step_until(runner, lambda: peer(gateway, customer) == a2, 2)
        assert gateway.engine.calls[customer].play is None
        assert peer(gateway, a1) is None
        assert state(runner, "a2") == "talking" and state(runner) != "talking"
        assert runner.engine.calls[first.call].agent == "a2"
        assert [r[:2] for r in refused(runner)] == [("a2", "ready")]
        # a2 owns the call now: its disposition is a2's
        runner.submit(cmd.HangUp("a2"))
        step_until(runner, lambda: state(runner, "a2") == "wrap_up", 5)
        runner.submit(cmd.SaveDisposition("a2", "no_deal", {}))
        step_until(runner, lambda: state(runner, "a2") == "ready", 5)
        rows = runner.store.query("SELECT agent, attempt_id FROM disposition")
        assert [tuple(r) for r in rows] == [("a2", first.contact.attempt)]
        reasons = {r["reason"] for r in runner.store.query(
            "SELECT reason FROM agent_state WHERE agent='a2'")}
        assert "consult" in reasons
    finally:
        gateway.close()


def test_attended_to_a_campaign_cancel_then_conference(tmp_path: Path) -> None:
    runner, gateway = start(tmp_path)
    try:
        customer = runner.customers[pops(runner)[0].call].gw
        a1, a2 = runner.agent_legs["a1"].gw, runner.agent_legs["a2"].gw
        runner.submit(cmd.Transfer("a1", "attended", "campaign", "hand"))   # a2 is free
        step_until(runner, lambda: peer(gateway, a1) == a2, 2)
        runner.submit(cmd.CancelTransfer("a1"))                 # back to the customer
        step_until(runner, lambda: peer(gateway, customer) == a1, 2)
        assert gateway.engine.calls[customer].play is None
        step_until(runner, lambda: state(runner, "a2") == "ready", 2)
        assert notes(runner, "a2") == ["consulted", "consult_ended"]
        # again, and the three talk together; then a1 leaves the two of them
        runner.submit(cmd.Transfer("a1", "attended", "campaign", "hand"))
        step_until(runner, lambda: peer(gateway, a1) == a2, 2)
        runner.submit(cmd.Conference("a1"))
        step_until(runner, lambda: conference_of(gateway, customer) is not None, 2)
        number = conference_of(gateway, customer)
        assert conference_of(gateway, a1) == conference_of(gateway, a2) == number
        assert gateway.engine.calls[customer].play is None     # no music in the call
        runner.submit(cmd.CompleteTransfer("a1"))
        step_until(runner, lambda: peer(gateway, customer) == a2, 2)
        assert conference_of(gateway, a1) is None and conference_of(gateway, a2) is None
        assert state(runner, "a2") == "talking"
        assert refused(runner) == []
    finally:
        gateway.close()


def test_no_free_agent_is_refused_with_the_reason(tmp_path: Path) -> None:
    runner, gateway = start(tmp_path)
    try:
        call = pops(runner)[0].call
        customer = runner.customers[call].gw
        a1 = runner.agent_legs["a1"].gw
        runner.submit(cmd.Transfer("a1", "attended", "campaign", "loans"))
        runner.submit(cmd.Transfer("a1", "blind", "campaign", "loans"))
        runner.submit(cmd.Transfer("a1", "attended", "agent", "a9"))
        runner.submit(cmd.Pause("a2", "break"))
        step_until(runner, lambda: len(refused(runner)) == 3, 2)
        runner.submit(cmd.Transfer("a1", "attended", "agent", "a2"))    # paused
        step_until(runner, lambda: len(refused(runner)) == 4, 2)
        assert refused(runner) == [
            ("a1", "transfer", "no agent of campaign 'loans' is free to take the call"),
            ("a1", "transfer", f"cannot transfer call {call} to campaign 'loans': no "
                               "agent of it is ready"),
            ("a1", "transfer", "agent 'a9' is not logged in"),
            ("a1", "transfer", "agent 'a2' is not free (paused)")]
        # the customer is still with a1, who can work on
        step_until(runner, lambda: peer(gateway, customer) == a1, 2)
        assert state(runner) == "talking" and runner.desk.seats["a1"].transfer is None
    finally:
        gateway.close()


def test_the_consulted_agent_hangs_up_and_the_customer_comes_back(tmp_path: Path) -> None:
    runner, gateway = start(tmp_path)
    try:
        customer = runner.customers[pops(runner)[0].call].gw
        a1, a2 = runner.agent_legs["a1"].gw, runner.agent_legs["a2"].gw
        runner.submit(cmd.Transfer("a1", "attended", "agent", "a2"))
        step_until(runner, lambda: peer(gateway, a1) == a2, 2)
        gateway.card.phone(72).hangup()          # a2 puts the phone down
        step_until(runner, lambda: peer(gateway, customer) == a1, 5)
        assert gateway.engine.calls[customer].play is None
        assert notes(runner, "a1")[-1] == "transfer_cancelled"
        assert [e.detail for e in runner.desk_events if e.TYPE == "call"
                and e.agent == "a1"][-1] == "agent a2 hung up"
        step_until(runner, lambda: "a2" not in runner.desk.seats, 5)
        assert state(runner) == "talking" and runner._consults == {}
    finally:
        gateway.close()


def test_transfers_of_a_customer_on_hold(tmp_path: Path) -> None:
    runner, gateway = start(tmp_path)
    try:
        customer = runner.customers[pops(runner)[0].call].gw
        a1, a2 = runner.agent_legs["a1"].gw, runner.agent_legs["a2"].gw
        runner.submit(cmd.Hold("a1"))
        step_until(runner, lambda: gateway.engine.calls[customer].play is not None, 2)
        runner.submit(cmd.Transfer("a1", "attended", "agent", "a2"))   # still on hold
        step_until(runner, lambda: peer(gateway, a1) == a2, 2)
        assert gateway.engine.calls[customer].play is not None
        runner.submit(cmd.CancelTransfer("a1"))
        step_until(runner, lambda: peer(gateway, customer) == a1, 2)
        step_until(runner, lambda: state(runner, "a2") == "ready", 2)
        runner.submit(cmd.Hold("a1"))
        step_until(runner, lambda: peer(gateway, customer) is None, 2)
        runner.submit(cmd.Transfer("a1", "blind", "agent", "a2"))      # from hold
        step_until(runner, lambda: peer(gateway, customer) == a2, 2)
        assert gateway.engine.calls[customer].play is None
        assert state(runner, "a2") == "talking" and refused(runner) == []
    finally:
        gateway.close()


def test_the_customer_hears_the_hold_music_while_a_number_is_consulted(
        tmp_path: Path) -> None:
    runner, gateway = start(tmp_path)
    try:
        customer = runner.customers[pops(runner)[0].call].gw
        target = numbers((("1381", 8, "human"),))[7][0]
        runner.submit(cmd.Transfer("a1", "attended", "number", target))
        step_until(runner, lambda: "a1" in runner._consults, 2)
        consult = runner._consults["a1"]
        step_until(runner, lambda: gateway.engine.calls[customer].play is not None, 2)
        assert peer(gateway, customer) is None
        step_until(runner, lambda: consult.answered, 60)
        runner.submit(cmd.CompleteTransfer("a1"))
        step_until(runner, lambda: peer(gateway, customer) == consult.out, 5)
        assert gateway.engine.calls[customer].play is None
    finally:
        gateway.close()


def _detail(runner: DeskRunner, agent: str) -> str:
    return [e.detail for e in runner.desk_events if e.TYPE == "call"
            and e.agent == agent][-1]


def test_the_consulted_agent_ends_the_consultation_from_its_screen(tmp_path: Path) -> None:
    """Talking to the consulting agent: the customer goes back to it off hold, as with a
    cancel; the consulted agent stays logged in and is ready again."""
    runner, gateway = start(tmp_path)
    try:
        customer = runner.customers[pops(runner)[0].call].gw
        a1, a2 = runner.agent_legs["a1"].gw, runner.agent_legs["a2"].gw
        runner.submit(cmd.EndConsult("a2"))             # nobody consults a2 yet
        runner.submit(cmd.Transfer("a1", "attended", "agent", "a2"))
        step_until(runner, lambda: peer(gateway, a1) == a2, 2)
        assert gateway.engine.calls[customer].play is not None
        runner.submit(cmd.EndConsult("a2"))
        step_until(runner, lambda: peer(gateway, customer) == a1, 2)
        assert gateway.engine.calls[customer].play is None and peer(gateway, a2) is None
        step_until(runner, lambda: state(runner, "a2") == "ready", 2)
        assert notes(runner, "a1")[-1] == "transfer_cancelled"
        assert _detail(runner, "a1") == "agent a2 ended the consultation"
        assert notes(runner, "a2") == ["consulted", "consult_ended"]
        assert state(runner) == "talking" and runner._consults == {}
        assert runner.desk.seats["a1"].transfer is None and not runner.desk.seats["a1"].held
        assert refused(runner) == [("a2", "end_consult", "nobody is consulting you")]
        # a1 can consult again at once, and hold and take off hold as usual
        runner.submit(cmd.Hold("a1"))
        step_until(runner, lambda: peer(gateway, customer) is None, 2)
        runner.submit(cmd.Resume("a1"))
        step_until(runner, lambda: peer(gateway, customer) == a1, 2)
        assert len(refused(runner)) == 1
    finally:
        gateway.close()


def test_the_consulted_agent_hangs_up_on_the_conference_and_the_two_stay(
        tmp_path: Path) -> None:
    """In the three-way conference, the consulted agent's hang-up (F4 on its screen)
    takes it out: the agent and the customer are bridged again; after a completed
    transfer the call is its own and its hang-up is the normal one."""
    runner, gateway = start(tmp_path)
    try:
        first = pops(runner)[0]
        customer = runner.customers[first.call].gw
        a1, a2 = runner.agent_legs["a1"].gw, runner.agent_legs["a2"].gw
        runner.submit(cmd.Transfer("a1", "attended", "agent", "a2"))
        step_until(runner, lambda: peer(gateway, a1) == a2, 2)
        runner.submit(cmd.Conference("a1"))
        step_until(runner, lambda: conference_of(gateway, customer) is not None, 2)
        runner.submit(cmd.HangUp("a2"))
        step_until(runner, lambda: peer(gateway, customer) == a1, 2)
        assert conference_of(gateway, customer) is None
        assert conference_of(gateway, a1) is None and conference_of(gateway, a2) is None
        step_until(runner, lambda: state(runner, "a2") == "ready", 2)
        assert _detail(runner, "a1") == "agent a2 left the conference"
        assert state(runner) == "talking" and runner._consults == {}
        assert runner.engine.calls[first.call].agent == "a1"
        # consulted again, and this time the call is handed over: a2's own now
        runner.submit(cmd.Transfer("a1", "attended", "agent", "a2"))
        step_until(runner, lambda: peer(gateway, a1) == a2, 2)
        runner.submit(cmd.CompleteTransfer("a1"))
        step_until(runner, lambda: peer(gateway, customer) == a2, 2)
        runner.submit(cmd.EndConsult("a2"))     # refused: not consulted, its call now
        runner.submit(cmd.HangUp("a2"))
        step_until(runner, lambda: state(runner, "a2") == "wrap_up", 5)
        step_until(runner, lambda: customer not in gateway.engine.calls, 5)
        assert refused(runner) == [("a2", "end_consult", "nobody is consulting you: the "
                                                         "call is yours now, hang up")]
    finally:
        gateway.close()
