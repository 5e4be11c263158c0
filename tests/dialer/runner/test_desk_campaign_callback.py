"""A callback owned by the campaign, scheduled from the desk (issue 17): the agent who
asks for it leaves (a pause); the callback is dialled to another agent of the campaign
at its time, read in the contact's zone (Tokyo, an hour ahead of the campaign's
Shanghai), and a time outside the campaign's windows in that zone is refused naming the
field. The desk runner on the in-process gateway, in virtual time."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from desk_runner_kit import DESK, login, pops, state, step_until
from runner_kit import T0, write_list

from trunkline.dialer.campaigns.lists import import_file
from trunkline.dialer.campaigns.strategies import Strategy, Windows
from trunkline.dialer.desk import commands as cmd
from trunkline.dialer.desk.config import DeskConfig
from trunkline.dialer.desk.outputs import PreviewOffered, Refused
from trunkline.dialer.pacing.engine import quiet_logger
from trunkline.dialer.runner.desk_runner import DeskRunner
from trunkline.dialer.runner.gateway import InProcessGateway
from trunkline.dialer.store import Store

TOKYO = ZoneInfo("Asia/Tokyo")


@pytest.mark.slow
def test_a_campaign_callback_goes_to_any_agent_in_the_contacts_zone_and_windows(
        tmp_path: Path) -> None:
    # T0 is 10:00 in Shanghai, 11:00 in Tokyo; the windows are 09:00-18:00 local
    store = Store(tmp_path / "dialer.sqlite")
    store.create_campaign("loans", Strategy(
        windows=Windows.from_dict({"default": ["09:00-18:00"]}), max_attempts=1),
        config={"mode": "predictive", "ring_timeout": 20.0}, now=T0)
    # one person on the list: the second agent has nothing to do but the callback
    ranges = (("1381", 1, "human"),)
    assert import_file(store, "loans", write_list(tmp_path, ranges), now=T0).added == 1
    with store.transaction() as db:   # the contacts live in Tokyo
        db.execute("UPDATE contact SET time_zone='Asia/Tokyo'")
    store.save_desk_config("loans", DeskConfig.from_dict("loans",
                                                         {**DESK, "max_wrap_up": 600}))
    gateway = InProcessGateway(start=T0)
    runner = DeskRunner(store, "loans", gateway, group="pri", engine_log=quiet_logger())
    try:
        runner.start()
        login(runner, (("loans", "standard"),))
        step_until(runner, lambda: bool(pops(runner)))
        pop = pops(runner)[0]
        assert pop.agent == "a1"
        step_until(runner, lambda: state(runner) == "wrap_up")
        promise = {"amount": "300", "date": "2025-06-20"}
        # 18:30 in Tokyo is 17:30 in Shanghai: inside the windows only if read in the
        # campaign's zone; refused, with the next calling time, and the agent stays
        runner.submit(cmd.SaveDisposition("a1", "promise", promise, callback={
            "at": "2025-06-04 18:30", "owner": "campaign"}))
        step_until(runner, lambda: any(isinstance(e, Refused) for e in runner.desk_events), 5)
        refused = next(e for e in runner.desk_events if isinstance(e, Refused))
        assert refused.field == "callback.at"
        assert "(Asia/Tokyo) is outside the campaign's calling windows" in refused.error
        assert "2025-06-05 09:00" in refused.error
        assert state(runner) == "wrap_up"
        assert store.query("SELECT COUNT(*) AS n FROM callback")[0]["n"] == 0
        # a1 asks for a callback for the campaign, then pauses
        # the next whole minute (at least 5 s ahead), Tokyo time, for the campaign
        at = datetime.fromtimestamp((gateway.now() + 5) // 60 * 60 + 60,
                                    TOKYO).strftime("%Y-%m-%d %H:%M")
        due = datetime.strptime(at, "%Y-%m-%d %H:%M").replace(tzinfo=TOKYO).timestamp()
        runner.submit(cmd.SaveDisposition("a1", "promise", promise, then="pause",
                                          reason="meeting",
                                          callback={"at": at, "owner": "campaign"}))
        step_until(runner, lambda: state(runner) == "paused", 5)
        row = store.query("SELECT due_at, agent, created_by FROM callback")[0]
        assert (row["due_at"], row["agent"], row["created_by"]) == (due, None, "a1")
        # another agent of the campaign logs in; the callback is dialled to it at its time
        runner.submit(cmd.Login("a2", "fxs", "72", (("loans", "standard"),)))
        step_until(runner, lambda: state(runner, "a2") == "paused", 120)
        runner.submit(cmd.Ready("a2"))
        again = lambda: [p for p in pops(runner)[1:]  # noqa: E731
                         if p.contact.contact_id == pop.contact.contact_id]
        offers = lambda: [e for e in runner.desk_events  # noqa: E731
                          if isinstance(e, PreviewOffered)
                          and e.contact.contact_id == pop.contact.contact_id]
        step_until(runner, lambda: bool(offers()), 300)
        # the engine offers a due callback for anyone as a preview record, to the
        # agent who is ready (before the fix it waited for an agent to free up)
        assert offers()[0].agent == "a2" and due <= gateway.now() < due + 30
        runner.submit(cmd.PreviewDial("a2", pop.contact.contact_id))
        step_until(runner, lambda: bool(again()), 120)
        assert again()[0].agent == "a2" and state(runner) == "paused"
        assert again()[0].contact.history[0]["disposition"] == "promise"
    finally:
        gateway.close()
