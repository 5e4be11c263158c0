"""A campaign's settings for the runner: the engine's config from the store (overrides,
unknown keys, the start of the US periods, the time zone's offset) and the runner's own."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from campaign_testkit import ALWAYS, T0, open_store

from trunkline.dialer.campaigns.strategies import Strategy
from trunkline.dialer.runner.settings import (
    RUNNER_SETTINGS,
    RunnerSettings,
    campaign_config,
    runner_settings,
)
from trunkline.dialer.vocab import Mode
from trunkline.errors import ConfigError


def test_runner_settings_are_checked() -> None:
    assert RunnerSettings() == RunnerSettings("dialing", None, 1.0)
    with pytest.raises(ValueError, match="type must be 'dialing' or 'cleaning'"):
        RunnerSettings(type="survey")
    with pytest.raises(ValueError, match="machine_message is the path of a WAV file"):
        RunnerSettings(machine_message=3)  # type: ignore[arg-type]
    for wait in (0.1, 11, True, "1"):
        with pytest.raises(ValueError, match="machine_message_wait must be in"):
            RunnerSettings(machine_message_wait=wait)  # type: ignore[arg-type]


def test_runner_settings_come_from_the_stored_config() -> None:
    store = open_store()
    store.create_campaign("sales", Strategy(windows=ALWAYS), config={
        "mode": "power", "machine_message": "/srv/msg.wav", "machine_message_wait": 2.0},
        now=T0)
    assert runner_settings(store, "sales") == RunnerSettings("dialing", "/srv/msg.wav", 2.0)
    store.create_campaign("bad", config={"machine_message_wait": 60}, now=T0)
    with pytest.raises(ConfigError, match="campaign 'bad': machine_message_wait"):
        runner_settings(store, "bad")


def test_the_engine_config_is_the_stored_one_then_the_overrides() -> None:
    store = open_store(strategy=Strategy(windows=ALWAYS, time_zone="Europe/London"))
    store.create_campaign("sales", store.strategy("sales"), config={
        "mode": "power", "ratio": 2.0, "machine_message": "/srv/msg.wav"}, now=T0)
    config = campaign_config(store, "sales", ratio=3.0, mode=None)
    assert (config.name, config.mode, config.ratio) == ("sales", Mode.POWER, 3.0)
    assert config.start == T0                     # the US periods start at creation
    offset = datetime.now(ZoneInfo("Europe/London")).utcoffset()
    assert config.day_offset == offset.total_seconds()
    store.create_campaign("fixed", config={"mode": "progressive", "start": 5.0,
                                           "day_offset": 28_800.0}, now=T0)
    fixed = campaign_config(store, "fixed")
    assert (fixed.start, fixed.day_offset) == (5.0, 28_800.0)


@pytest.mark.parametrize(("config", "message"), [
    ({"smile": 1}, "unknown settings smile; known: "),
    ({"mode": "manual"}, "mode manual needs agents at a screen"),
    ({"mode": "predictive", "target_abandon": 2.0}, "campaign 'c': "),
    ({"type": "cleaning"}, "is a list-cleaning campaign: run it with "
                           "`trunkline dialer clean run --campaign c`"),
])
def test_what_the_runner_cannot_run_is_refused(config: dict, message: str) -> None:
    store = open_store()
    store.create_campaign("c", config=config, now=T0)
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        campaign_config(store, "c")


def test_the_runner_settings_are_left_out_of_the_engines() -> None:
    store = open_store()
    store.create_campaign("c", config={"type": "dialing", "machine_message": "/m.wav",
                                       "machine_message_wait": 1.5}, now=T0)
    assert set(RUNNER_SETTINGS) == {"type", "machine_message", "machine_message_wait",
                                    "record_calls", "agent_lost", "agent_lost_wait"}
    assert campaign_config(store, "c").mode is Mode.PREDICTIVE   # no unknown settings


def test_calls_are_recorded_unless_the_campaign_says_not() -> None:
    store = open_store()
    store.create_campaign("on", now=T0)
    store.create_campaign("off", config={"record_calls": False}, now=T0)
    store.create_campaign("bad", config={"record_calls": "yes"}, now=T0)
    assert runner_settings(store, "on").record_calls is True
    assert runner_settings(store, "off").record_calls is False
    assert campaign_config(store, "off").mode is Mode.PREDICTIVE
    with pytest.raises(ConfigError, match="record_calls must be true or false"):
        runner_settings(store, "bad")


def test_a_lost_browser_agents_customer_policy_is_checked_by_name() -> None:
    store = open_store()
    store.create_campaign("c", config={"agent_lost": "end", "agent_lost_wait": 5}, now=T0)
    assert runner_settings(store, "c").agent_lost == "end"
    assert runner_settings(store, "c").agent_lost_wait == 5
    store.create_campaign("d", now=T0)
    assert (runner_settings(store, "d").agent_lost,
            runner_settings(store, "d").agent_lost_wait) == ("requeue", 30.0)
    cases = (({"agent_lost": "drop"}, "agent_lost must be one of requeue, end"),
             ({"agent_lost_wait": -1}, r"agent_lost_wait must be in \[0, 600\]"),
             ({"agent_lost_wait": True}, "agent_lost_wait"))
    for n, (bad, message) in enumerate(cases):
        store.create_campaign(f"bad{n}", config=bad, now=T0)
        with pytest.raises(ConfigError, match=message):
            runner_settings(store, f"bad{n}")
