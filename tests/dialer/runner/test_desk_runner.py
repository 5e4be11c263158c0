"""The desk runner end to end on the emulated card, in virtual time (issue 17 item 4):
an agent logs in at an FXS port, goes ready, gets a predictive call with the right
contact on its screen, saves a promise to pay, and its callback is dialled to it later;
preview records are shown, skipped and dialled; a number is dialled by hand; a call is
transferred blind to an outside number."""

from __future__ import annotations

import itertools
from datetime import datetime
from pathlib import Path

import pytest
from desk_runner_kit import DESK, HUMANS, SH, login, pops, state, step_until
from runner_kit import T0, make_store, numbers

from trunkline.dialer.desk import commands as cmd
from trunkline.dialer.desk.config import DeskConfig
from trunkline.dialer.desk.outputs import PreviewOffered
from trunkline.dialer.pacing.engine import quiet_logger
from trunkline.dialer.runner.desk_runner import CampaignControl, DeskRunner
from trunkline.dialer.runner.gateway import InProcessGateway


@pytest.mark.slow
def test_predictive_call_promise_and_callback_to_the_same_agent(tmp_path: Path) -> None:
    # two people on the list, and a short wrap-up limit: the agent is free again (the
    # list done) well before the callback's minute, so the virtual shift stays short
    store = make_store(tmp_path, campaign="loans", ranges=(("1381", 2, "human"),),
                       config={"mode": "predictive", "ring_timeout": 20.0})
    store.save_desk_config("loans", DeskConfig.from_dict("loans",
                                                         {**DESK, "max_wrap_up": 30}))
    gateway = InProcessGateway(start=T0)
    runner = DeskRunner(store, "loans", gateway, group="pri", engine_log=quiet_logger())
    try:
        runner.start()
        login(runner, (("loans", "standard"),))
        step_until(runner, lambda: bool(pops(runner)))
        pop = pops(runner)[0]
        call = runner.engine.calls[pop.call]
        assert pop.contact.number == call.contact.number
        assert pop.contact.contact_id == call.contact.id
        assert pop.script == f"您好 {pop.contact.fields['name']}"
        step_until(runner, lambda: state(runner) == "wrap_up")
        at = datetime.fromtimestamp(gateway.now() + 150, SH).strftime("%Y-%m-%d %H:%M")
        runner.submit(cmd.SaveDisposition(
            "a1", "promise", {"amount": "2000", "date": "2025-06-15"},
            callback={"at": at, "owner": "agent"}))
        step_until(runner, lambda: state(runner) != "wrap_up", 5)
        row = store.query("SELECT code, fields, agent, attempt_id FROM disposition")[0]
        assert (row["code"], row["agent"]) == ("promise", "a1")
        assert '"2000.00"' in row["fields"] and row["attempt_id"] == pop.contact.attempt
        # the callback comes back to a1 (the list runs out meanwhile)
        step_until(runner, lambda: any(p.contact.contact_id == pop.contact.contact_id
                                       for p in pops(runner)[1:]), 1800)
        again = [p for p in pops(runner)[1:] if p.contact.contact_id == pop.contact.contact_id]
        assert again[0].agent == "a1" and again[0].contact.history[0]["disposition"] == \
            "promise"
        assert gateway.now() >= datetime.strptime(at, "%Y-%m-%d %H:%M").replace(
            tzinfo=SH).timestamp()
        logged = [tuple(r) for r in store.query(
            "SELECT state, since, until FROM agent_state WHERE agent='a1' ORDER BY since")]
        assert {"ready", "talking", "wrap_up"} <= {r[0] for r in logged}
        assert all(a[2] <= b[1] for a, b in itertools.pairwise(logged)), logged
    finally:
        gateway.close()


@pytest.mark.slow
def test_preview_skip_dial_manual_dial_and_blind_transfer(tmp_path: Path) -> None:
    store = make_store(tmp_path, campaign="pv", ranges=HUMANS,
                       config={"mode": "preview", "regime": "none"})
    store.create_campaign("hand", store.strategy("pv"), config={"mode": "manual",
                                                                 "regime": "none"}, now=T0)
    store.save_desk_config("pv", DeskConfig.from_dict("pv", DESK))
    gateway = InProcessGateway(start=T0)
    runner = DeskRunner(store, ["pv", "hand"], gateway, group="pri",
                        engine_log=quiet_logger())
    try:
        runner.start()
        login(runner, (("pv", "standard"), ("hand", "standard")))
        offers = lambda: [e for e in runner.desk_events if isinstance(e, PreviewOffered)]  # noqa: E731
        step_until(runner, lambda: bool(offers()), 30)
        first = offers()[0]
        assert first.deadline > gateway.now()
        runner.submit(cmd.PreviewSkip("a1", first.contact.contact_id))
        step_until(runner, lambda: len(offers()) == 2, 10)
        second = offers()[1]
        assert second.contact.contact_id != first.contact.contact_id
        runner.submit(cmd.PreviewDial("a1", second.contact.contact_id))
        step_until(runner, lambda: bool(pops(runner)), 60)
        assert pops(runner)[0].contact.contact_id == second.contact.contact_id
        # a blind transfer to an outside number: the agent leaves, the customer is handed on
        target = numbers(HUMANS)[-1][0]
        runner.submit(cmd.Transfer("a1", "blind", "number", target))
        step_until(runner, lambda: state(runner) == "wrap_up", 5)
        step_until(runner, lambda: any(
            c.get("number", "").endswith(target[-8:]) for c in gateway.calls()), 5)
        runner.submit(cmd.SaveDisposition("a1", "wrap_timeout", {}))   # refused
        runner.submit(cmd.SaveDisposition("a1", "no_deal", {}, then="ready"))
        step_until(runner, lambda: state(runner) != "wrap_up", 5)
        # stop previews, then dial by hand for the manual campaign
        runner.submit(CampaignControl("pv", "pause"))
        step_until(runner, lambda: state(runner) in ("ready", "preview"), 10)
        if state(runner) == "preview":
            shown = runner.desk.seats["a1"].preview
            runner.submit(cmd.PreviewSkip("a1", shown.contact_id))
            step_until(runner, lambda: state(runner) == "ready", 10)
        manual = numbers(HUMANS)[0][0]
        runner.submit(cmd.ManualDial("a1", "hand", manual))
        step_until(runner, lambda: len(pops(runner)) == 2, 60)
        assert pops(runner)[1].contact.number.endswith(manual[-8:])
        assert pops(runner)[1].campaign == "hand"
    finally:
        gateway.close()


@pytest.mark.slow
def test_a_callback_comes_due_while_its_agent_looks_at_a_preview(tmp_path: Path) -> None:
    store = make_store(tmp_path, campaign="pv", ranges=HUMANS,
                       config={"mode": "preview", "regime": "none", "preview_timeout": 900.0})
    store.save_desk_config("pv", DeskConfig.from_dict("pv", DESK))
    gateway = InProcessGateway(start=T0)
    runner = DeskRunner(store, "pv", gateway, group="pri", engine_log=quiet_logger())
    offers = lambda: [e for e in runner.desk_events if isinstance(e, PreviewOffered)]  # noqa: E731
    try:
        runner.start()
        login(runner, (("pv", "standard"),))
        step_until(runner, lambda: bool(offers()), 30)
        runner.submit(cmd.PreviewDial("a1", offers()[0].contact.contact_id))
        step_until(runner, lambda: state(runner) == "wrap_up", 120)
        first = pops(runner)[0].contact
        at = datetime.fromtimestamp(gateway.now() + 90, SH).strftime("%Y-%m-%d %H:%M")
        runner.submit(cmd.SaveDisposition("a1", "promise", {"amount": "5", "date": "2025-06-09"},
                                          callback={"at": at}))
        step_until(runner, lambda: len(offers()) == 2, 10)
        assert offers()[1].contact.contact_id != first.contact_id
        # the agent looks at the next record; the callback's time comes
        step_until(runner, lambda: len(pops(runner)) == 2, 900)
        assert pops(runner)[1].contact.contact_id == first.contact_id
        closed = [e for e in runner.desk_events if e.TYPE == "preview_closed"]
        assert [(e.contact_id, e.how) for e in closed][-1] == (
            offers()[1].contact.contact_id, "returned")
        # the record it was shown is back on the list, due now
        row = store.query("SELECT state, next_at FROM contact WHERE id=?",
                          (int(offers()[1].contact.contact_id),))[0]
        assert row["state"] == "ready" and row["next_at"] <= gateway.now()
    finally:
        gateway.close()
