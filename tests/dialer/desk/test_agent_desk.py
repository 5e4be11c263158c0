"""The desk, step by step, with the real engine: a collections call from login to the
disposition, wrap-up running out, pause codes, preview, callbacks and call controls."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from desk_kit import Rig

from trunkline.dialer.campaigns.strategies import Strategy, Windows
from trunkline.dialer.desk import commands as cmd
from trunkline.dialer.desk.config import FieldError
from trunkline.dialer.desk.desk import callback_time
from trunkline.dialer.desk.outputs import (
    CallOp,
    DispositionSaved,
    DropPosition,
    LogState,
    PauseOverrun,
    PreviewOffered,
    RecordDisposition,
    RingPosition,
    SaveCallback,
    ScreenPop,
    StateChanged,
)
from trunkline.dialer.pacing import events as ev
from trunkline.dialer.vocab import AgentState, AnswerKind

SH = ZoneInfo("Asia/Shanghai")


def logged_in(rig: Rig, agent: str = "a1", port: str = "71") -> None:
    out = rig.command(cmd.Login(agent, "fxs", port, (("loans", "standard"),)))
    assert RingPosition(agent, "fxs", port) in out
    assert rig.desk.seats[agent].state == "connecting"
    rig.feed(rig.desk.position_answered(agent, rig.now))
    assert rig.engine.agents[agent].state is AgentState.PAUSED
    assert rig.desk.seats[agent].reason == "login"


def talking(rig: Rig, agent: str = "a1") -> int:
    rig.command(cmd.Ready(agent))
    rig.advance(0.1)
    call = next(iter(rig.dials))
    rig.engine_event(ev.CallAnswered(call, AnswerKind.HUMAN))
    assert rig.desk.seats[agent].state == "talking"
    return call


def test_a_collections_call_from_login_to_the_promise() -> None:
    rig = Rig()
    logged_in(rig)
    call = talking(rig)
    pop = next(e for e in rig.events if isinstance(e, ScreenPop))
    assert pop.call == call and pop.contact.fields["name"] == pop.contact.contact_id.join(
        ["n", ""])
    assert pop.script == f"您好，n{pop.contact.contact_id}，您的欠款 2000 元。"
    assert [d["code"] for d in pop.dispositions] == ["promise", "refused", "callback"]
    assert pop.to_dict()["contact"]["fields"]["debt"] == "2000"

    rig.engine_event(ev.CallHungUp(call))
    assert rig.desk.seats["a1"].state == "wrap_up"
    # the wrong amount is refused naming the field, and nothing changes
    rig.command(cmd.SaveDisposition("a1", "promise", {"amount": "2千", "date": "2025-07-15"}))
    assert rig.refused[-1].field == "amount" and "not an amount" in rig.refused[-1].error
    rig.command(cmd.SaveDisposition("a1", "promise", {"amount": "2000"}))
    assert rig.refused[-1].field == "date" and rig.refused[-1].error == "date: required"
    assert rig.desk.seats["a1"].state == "wrap_up"
    rig.advance(12.0)
    rig.command(cmd.SaveDisposition(
        "a1", "promise", {"amount": "2,000", "date": "2025-07-15", "follow_up": True},
        notes="pays on payday", then="pause", reason="lunch"))
    record = next(op for op in rig.ops if isinstance(op, RecordDisposition))
    assert record.fields == {"amount": {"amount": "2000.00", "currency": "CNY"},
                             "date": "2025-07-15", "follow_up": True}
    assert (record.code, record.notes, record.automatic) == ("promise", "pays on payday",
                                                             False)
    assert rig.engine.agents["a1"].state is AgentState.PAUSED
    assert rig.desk.seats["a1"].reason == "lunch"
    wrap = [op for op in rig.ops if isinstance(op, LogState) and op.state == "wrap_up"]
    assert wrap[-1].until - wrap[-1].since == pytest.approx(12.0)


def test_wrap_up_that_runs_out_saves_the_automatic_disposition() -> None:
    rig = Rig()
    logged_in(rig)
    call = talking(rig)
    rig.command(cmd.Pause("a1", "break"))        # chosen for after the call
    assert rig.desk.seats["a1"].then == "pause:break"
    rig.engine_event(ev.CallHungUp(call))
    rig.advance(59.0)
    assert rig.desk.seats["a1"].state == "wrap_up"
    rig.advance(1.0)
    saved = [e for e in rig.events if isinstance(e, DispositionSaved)]
    assert [(s.code, s.automatic) for s in saved] == [("wrap_timeout", True)]
    assert rig.desk.seats["a1"].state == "paused" and rig.desk.seats["a1"].reason == "break"


def test_a_disposition_saved_during_the_call_ends_wrap_up_at_hang_up() -> None:
    rig = Rig()
    logged_in(rig)
    call = talking(rig)
    rig.command(cmd.SaveDisposition("a1", "refused", {"reason": "no money"}))
    rig.engine_event(ev.CallHungUp(call))
    assert rig.engine.agents["a1"].state in (AgentState.READY, AgentState.RESERVED)


def test_pause_codes_are_the_sites_and_long_pauses_are_flagged() -> None:
    rig = Rig()
    logged_in(rig)
    rig.command(cmd.Pause("a1", "nap"))
    assert rig.refused[-1].field == "reason" and "not a pause code" in rig.refused[-1].error
    rig.advance(5.0)
    rig.command(cmd.Pause("a1", "break"))
    assert rig.desk.seats["a1"].reason == "break"
    rig.advance(899.0)
    assert not any(isinstance(e, PauseOverrun) for e in rig.events)
    rig.advance(2.0)
    assert [e.reason for e in rig.events if isinstance(e, PauseOverrun)] == ["break"]
    logs = [op for op in rig.ops if isinstance(op, LogState)]
    assert [(op.state, op.reason, op.until - op.since) for op in logs] == [
        ("paused", "login", 5.0)]


def test_preview_shows_the_record_then_dials_or_skips() -> None:
    rig = Rig(mode="preview")
    logged_in(rig)
    rig.command(cmd.Ready("a1"))
    offer = next(e for e in rig.events if isinstance(e, PreviewOffered))
    assert offer.deadline == rig.now + 20.0 and "n" + offer.contact.contact_id in offer.script
    rig.command(cmd.PreviewDial("a1", "someone-else"))
    assert rig.refused[-1].field == "contact_id"
    rig.command(cmd.PreviewSkip("a1", offer.contact.contact_id))
    second = [e for e in rig.events if isinstance(e, PreviewOffered)][-1]
    assert second.contact.contact_id != offer.contact.contact_id
    rig.command(cmd.PreviewDial("a1", second.contact.contact_id))
    assert rig.engine.agents["a1"].state is AgentState.RESERVED
    assert rig.desk.seats["a1"].card.contact_id == second.contact.contact_id


def test_callbacks_are_local_time_inside_the_calling_windows() -> None:
    rig = Rig()
    logged_in(rig)
    talking(rig)
    now = datetime(2025, 6, 4, 10, 0, tzinfo=SH).timestamp()
    office = Strategy(windows=Windows.from_dict({"default": ["09:00-12:00", "14:00-20:00"]}))
    due = callback_time("2025-06-05 15:30", office, "Asia/Shanghai", now)
    assert due == datetime(2025, 6, 5, 15, 30, tzinfo=SH).timestamp()
    with pytest.raises(FieldError, match="outside the campaign's calling windows; the "
                                         "next calling time is 2025-06-05 14:00"):
        callback_time("2025-06-05 12:30", office, None, now)
    with pytest.raises(FieldError, match="in the past"):
        callback_time("2025-06-04 09:30", office, None, now)
    with pytest.raises(FieldError, match="not a local time"):
        callback_time("tomorrow", office, None, now)
    # through the desk: a callback disposition needs a time, and keeps its owner
    rig.command(cmd.SaveDisposition("a1", "callback", {}))
    assert rig.refused[-1].field == "callback.at"
    at = datetime.fromtimestamp(rig.now + 86_400, SH).strftime("%Y-%m-%d %H:%M")
    rig.command(cmd.SaveDisposition("a1", "callback", {}, callback={"at": at}))
    callback = next(op for op in rig.ops if isinstance(op, SaveCallback))
    assert callback.owner == "a1" and callback.due == pytest.approx(rig.now + 86_400, abs=60)


def test_call_controls_become_runner_operations() -> None:
    rig = Rig()
    logged_in(rig)
    rig.command(cmd.Hold("a1"))
    assert "no call in progress" in rig.refused[-1].error
    call = talking(rig)
    rig.command(cmd.Hold("a1"))
    rig.command(cmd.Hold("a1"))
    assert rig.refused[-1].error == "the call is on hold already"
    rig.command(cmd.Resume("a1"))
    rig.command(cmd.SendDtmf("a1", "1#"))
    rig.command(cmd.Transfer("a1", "blind", "number", "13900000000"))
    rig.command(cmd.Transfer("a1", "blind", "agent", "a1"))
    assert rig.refused[-1].field == "target"
    ops = [(op.op, op.arg) for op in rig.ops if isinstance(op, CallOp) and op.call == call]
    assert ops == [("hold", ""), ("resume", ""), ("send_dtmf", "1#"),
                   ("transfer", "blind:number:13900000000")]


def test_logout_waits_for_the_disposition_and_a_lost_phone_saves_it() -> None:
    rig = Rig()
    logged_in(rig)
    call = talking(rig)
    rig.command(cmd.Logout("a1"))
    assert rig.refused[-1].error == "hang up first: the agent is on a call"
    rig.engine_event(ev.CallHungUp(call))
    rig.command(cmd.Logout("a1"))
    assert rig.refused[-1].error == "save the disposition of the last call first"
    rig.feed(rig.desk.position_lost("a1", rig.now))
    assert "a1" not in rig.engine.agents and "a1" not in rig.desk.seats
    assert [op.code for op in rig.ops if isinstance(op, RecordDisposition)] == ["wrap_timeout"]
    assert isinstance(rig.events[-1], StateChanged) and rig.events[-1].state == "logged_out"


@pytest.mark.parametrize("wrap", ["disposed", "timed_out"])
def test_a_supervisor_s_logout_waits_for_the_call_and_its_disposition(wrap: str) -> None:
    rig = Rig()
    logged_in(rig)
    call = talking(rig)
    rig.command(cmd.Logout("a1", after_call=True))
    seat = rig.desk.seats["a1"]
    assert seat.state == "talking" and seat.then == "logout"   # the call goes on
    assert isinstance(rig.events[-1], StateChanged) and rig.events[-1].then == "logout"
    rig.engine_event(ev.CallHungUp(call))
    assert rig.desk.seats["a1"].state == "wrap_up"              # its disposition first
    if wrap == "disposed":
        rig.command(cmd.SaveDisposition("a1", "refused", {"reason": "no money"},
                                        then="ready"))
    else:
        rig.advance(60.0)
    assert "a1" not in rig.engine.agents and "a1" not in rig.desk.seats
    codes = [op.code for op in rig.ops if isinstance(op, RecordDisposition)]
    assert codes == (["refused"] if wrap == "disposed" else ["wrap_timeout"])
    assert DropPosition("a1") in rig.ops + rig.events
    assert rig.events[-1].state == "logged_out"


def test_a_supervisor_s_logout_of_an_idle_agent_is_at_once() -> None:
    rig = Rig()
    logged_in(rig)
    rig.command(cmd.Logout("a1", after_call=True))
    assert "a1" not in rig.desk.seats and not rig.refused


def test_a_browser_position_is_rung_as_the_agent_s_own_page() -> None:
    """The softphone (issue 19): a browser position needs no address; it is the agent's,
    so two agents' browsers never clash; the agent logs in when the page connects."""
    rig = Rig()
    rig.command(cmd.Login("a1", "browser", "", (("loans", "standard"),)))
    rig.command(cmd.Login("a2", "browser", "", (("loans", "standard"),)))
    assert not rig.refused
    rings = [op for op in rig.ops if isinstance(op, RingPosition)]
    assert [(r.position, r.address) for r in rings] == [("browser", "a1"), ("browser", "a2")]
    rig.feed(rig.desk.position_answered("a1", rig.now))
    assert rig.desk.seats["a1"].state == "paused"


def test_a_pause_held_back_by_the_engine_then_called_off_after_a_call() -> None:
    """Ready with a call in flight for it, the agent asks to pause (the engine holds the
    pause back), gets the call, then chooses ready again: it ends ready, not paused."""
    rig = Rig(mode="predictive")
    logged_in(rig)
    rig.command(cmd.Ready("a1"))
    rig.advance(1.0)
    assert rig.dials, "the predictive campaign dialled for the ready agent"
    rig.command(cmd.Pause("a1", "lunch"))
    engine_agent = rig.engine.agents["a1"]
    if engine_agent.state is not AgentState.READY or not engine_agent.pause_pending:
        pytest.skip("the engine paused at once (no call counted on the agent)")
    assert rig.desk.seats["a1"].then == "pause:lunch"
    call = next(iter(rig.dials))
    rig.engine_event(ev.CallAnswered(call, AnswerKind.HUMAN))
    assert rig.desk.seats["a1"].state == "talking"
    rig.command(cmd.Ready("a1"))                  # changed its mind
    rig.engine_event(ev.CallHungUp(call))
    rig.command(cmd.SaveDisposition("a1", "refused", {"reason": "x"}))
    assert rig.engine.agents["a1"].state in (AgentState.READY, AgentState.RESERVED,
                                             AgentState.TALKING)


def test_a_disposition_keeps_the_pause_chosen_during_the_call() -> None:
    rig = Rig()
    logged_in(rig)
    call = talking(rig)
    rig.command(cmd.Pause("a1", "break"))
    rig.engine_event(ev.CallHungUp(call))
    rig.command(cmd.SaveDisposition("a1", "refused", {"reason": "x"}))   # then: as chosen
    assert rig.desk.seats["a1"].state == "paused" and rig.desk.seats["a1"].reason == "break"
