"""A run that dials nothing says why, once, and again when the reason changes (issue 15:
a live ``dialer run`` outside its calling windows printed ``dials 0`` with no reason)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st
from runner_kit import T0, write_list

from trunkline.dialer.campaigns.lists import import_file
from trunkline.dialer.campaigns.strategies import Strategy, Windows
from trunkline.dialer.pacing.engine import quiet_logger
from trunkline.dialer.runner.campaign_runner import CampaignRunner
from trunkline.dialer.runner.gateway import InProcessGateway
from trunkline.dialer.runner.idle_reason import (
    IdleNotices,
    idle_reason,
    idle_sentence,
    idle_state,
)
from trunkline.dialer.store import Store

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(hour: int, minute: int = 0, day: int = 4) -> float:
    return datetime(2025, 6, day, hour, minute, tzinfo=SHANGHAI).timestamp()


AFTERNOON = Strategy(windows=Windows.from_dict({"default": ["14:00-21:00"]}))


def test_a_run_outside_its_window_says_why_once(tmp_path: Path) -> None:
    """10:00 Shanghai, the window 14:00-21:00: no dial, one line saying so."""
    store = Store(tmp_path / "dialer.sqlite")
    store.create_campaign("sales", AFTERNOON, config={"mode": "progressive"}, now=T0)
    import_file(store, "sales", write_list(tmp_path, (("1381", 3, "human"),)), now=T0)
    lines: list[str] = []
    gateway = InProcessGateway(start=T0)
    runner = CampaignRunner(store, "sales", gateway, agents=[71], group="pri",
                            engine_log=quiet_logger(), progress=lines.append,
                            progress_every=30.0)
    try:
        summary = runner.run(seconds=65, drain=5)
    finally:
        gateway.close()
    assert summary.dials == 0
    said = [line for line in lines if "dials nothing" in line]
    assert said == ["campaign 'sales' dials nothing: outside the calling window "
                    "14:00-21:00 (Asia/Shanghai); next opens 2025-06-04 14:00; the first "
                    "contact is due 2025-06-04 14:00"]
    assert sum(" dials 0 " in line for line in lines) >= 2   # the progress lines go on
    # the same reason as data, for the supervisor's floor
    assert runner.idle_states == {"sales": {
        "why": "window", "time_zone": "Asia/Shanghai", "due": "2025-06-04 14:00",
        "day": "outside", "ranges": "14:00-21:00", "date": "2025-06-04", "weekday": "wed",
        "opens": "2025-06-04 14:00"}}


def test_the_reasons_as_data() -> None:
    """What the floor carries: each kind of reason, and nothing while a contact is due."""
    strategy = Strategy(windows=Windows.from_dict(
        {"default": ["09:00-21:00"], "sun": [], "holidays": ["2025-06-05"]}))
    assert idle_state(strategy, at(9, day=6), at(10, day=5)) == {
        "why": "window", "time_zone": "Asia/Shanghai", "due": "2025-06-06 09:00",
        "day": "holiday", "ranges": "09:00-21:00", "date": "2025-06-05", "weekday": "thu",
        "opens": "2025-06-06 09:00"}
    sunday = idle_state(strategy, at(9, day=9), at(10, day=8))
    assert sunday is not None and (sunday["day"], sunday["weekday"], sunday["ranges"]) == (
        "no_window", "sun", "")
    assert idle_state(strategy, at(11), at(10)) == {
        "why": "not_due", "time_zone": "Asia/Shanghai", "due": "2025-06-04 11:00"}
    assert idle_state(strategy, at(10), at(10)) is None
    assert idle_state(strategy, None, at(10)) is None
    never = Strategy(windows=Windows.from_dict({"default": []}))
    state = idle_state(never, at(11), at(10))
    assert state is not None and state["opens"] is None
    assert idle_sentence("s", state).endswith(
        "no window opens within 400 days; the first contact is due 2025-06-04 11:00")


def test_the_reasons_in_words() -> None:
    strategy = Strategy(windows=Windows.from_dict(
        {"default": ["09:00-12:00", "14:00-21:00"], "sun": [], "holidays": ["2025-06-05"]}))
    assert idle_reason("s", strategy, at(14), at(13)) == (
        "campaign 's' dials nothing: outside the calling windows 09:00-12:00, 14:00-21:00 "
        "(Asia/Shanghai); next opens 2025-06-04 14:00; the first contact is due "
        "2025-06-04 14:00")
    assert "a holiday (2025-06-05): no calling window (Asia/Shanghai); next opens " \
           "2025-06-06 09:00" in str(idle_reason("s", strategy, at(9, day=6), at(10, day=5)))
    assert "no calling window on Sundays" in str(
        idle_reason("s", strategy, at(9, day=9), at(10, day=8)))
    assert idle_reason("s", strategy, at(11), at(10)) == (
        "campaign 's' dials nothing: no contact is due before 2025-06-04 11:00 "
        "(Asia/Shanghai; retry delays, daily limits, lockouts or the contacts' own time "
        "zones)")


@given(now=st.floats(T0, T0 + 30 * 86_400), ahead=st.floats(-86_400, 86_400),
       none=st.booleans())
def test_a_reason_only_when_nothing_is_due(now: float, ahead: float, none: bool) -> None:
    due = None if none else now + ahead
    reason = idle_reason("s", AFTERNOON, due, now)
    assert (reason is None) == (due is None or due <= now)
    if reason is not None:
        assert reason.startswith("campaign 's' dials nothing: ")


def test_said_once_again_when_it_changes_and_after_a_busy_spell() -> None:
    said: list[str] = []
    notices = IdleNotices(said.append)
    for reason in ["a", "a", "b", "b", None, "b", "b"]:
        notices.update("s", reason)
    assert said == ["a", "b", "b"]
