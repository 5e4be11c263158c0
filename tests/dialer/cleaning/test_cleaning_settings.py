"""Cleaning campaigns: their settings checked, told apart from dialling campaigns, and
created from the contacts of the campaign to be cleaned."""

from __future__ import annotations

import pytest
from campaign_testkit import ALWAYS, T0, mobile, open_store

from trunkline.dialer.campaigns.strategies import Strategy, Windows
from trunkline.dialer.cleaning.settings import (
    CleaningSettings,
    cleaning_settings,
    create_cleaning_campaign,
    is_cleaning,
    refuse_cleaning_campaign,
    require_cleaning,
)
from trunkline.errors import ConfigError, TrunklineError


@pytest.mark.parametrize(("changes", "message"), [
    ({"concurrency": 0}, r"concurrency must be a whole number in \[1, 2048\], got 0"),
    ({"concurrency": 10**9}, r"concurrency must be a whole number in \[1, 2048\]"),
    ({"concurrency": True}, "concurrency must be a whole number"),
    ({"retries": 11}, r"retries must be a whole number in \[0, 10\], got 11"),
    ({"rate": 0.0}, r"rate must be in \[0.01, 100\], got 0.0"),
    ({"listen": 4}, r"listen must be in \[5, 300\] s"),
    ({"sit_wait": float("nan")}, r"sit_wait must be in \[0, 30\] s, got nan"),
    ({"retry_after": "soon"}, "retry_after must be in"),
])
def test_settings_are_checked(changes: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        CleaningSettings(**changes)


def test_settings_round_trip_without_the_unset_concurrency() -> None:
    settings = CleaningSettings(rate=2.5, retries=0)
    assert settings.to_dict() == {"rate": 2.5, "retries": 0, "retry_after": 600.0,
                                  "listen": 30.0, "sit_wait": 8.0, "trunk_per_minute": 60,
                                  "trunk_min_gap": 0.0}
    assert CleaningSettings(**settings.to_dict()) == settings


def test_a_cleaning_campaign_is_told_apart_from_one_to_dial() -> None:
    store = open_store(contacts=2)
    create_cleaning_campaign(store, "sc", now=T0, source="sales",
                             settings=CleaningSettings(concurrency=4))
    assert is_cleaning(store, "sc") and not is_cleaning(store, "sales")
    require_cleaning(store, "sc")
    refuse_cleaning_campaign(store, "sales")
    with pytest.raises(ConfigError, match="'sales' is not a list-cleaning campaign; create "
                                          "one with `trunkline dialer clean create NAME "
                                          "--from-campaign sales`"):
        require_cleaning(store, "sales")
    with pytest.raises(ConfigError, match="'sc' is a list-cleaning campaign: run it with "
                                          "`trunkline dialer clean run --campaign sc`"):
        refuse_cleaning_campaign(store, "sc")
    assert cleaning_settings(store, "sc") == CleaningSettings(concurrency=4)
    assert cleaning_settings(store, "sc", rate=3.0, concurrency=None) == \
        CleaningSettings(concurrency=4, rate=3.0)
    with pytest.raises(ConfigError, match="unknown cleaning settings speed; known: "):
        cleaning_settings(store, "sc", speed=2)
    with pytest.raises(ConfigError, match="campaign 'sc': rate must be"):
        cleaning_settings(store, "sc", rate=1000.0)


def test_create_copies_the_callable_contacts_and_merges_when_run_again() -> None:
    night = Strategy(windows=Windows.from_dict({"default": ["09:00-12:00"]}))
    store = open_store(contacts=3, strategy=night)
    store.add_dnc([mobile(1)], now=T0)
    store.claim_next("sales", T0)                     # mobile(0) handed out...
    store.claim_next("sales", T0)                     # ... mobile(1) found barred
    assert create_cleaning_campaign(store, "sc", now=T0, source="sales") == \
        {"added": 2, "merged": 0}
    assert store.strategy("sc") == night             # the source's calling windows
    rows = store.query("SELECT c.number, c.fields FROM contact c JOIN campaign k ON "
                       "k.id=c.campaign_id WHERE k.name='sc' ORDER BY c.id")
    assert [r["number"] for r in rows] == [mobile(0), mobile(2)]
    # again, with new settings: the contacts merge, the stored settings and strategy stay
    store.create_campaign("sales", Strategy(windows=ALWAYS), now=T0)
    assert create_cleaning_campaign(store, "sc", now=T0 + 60, source="sales") == \
        {"added": 0, "merged": 2}
    assert store.strategy("sc") == night
    assert create_cleaning_campaign(store, "empty", now=T0) == {"added": 0, "merged": 0}
    assert cleaning_settings(store, "empty") == CleaningSettings()


@pytest.mark.parametrize(("name", "source", "message"), [
    ("sc", "sc", "a cleaning campaign cannot copy itself"),
    ("sales", None, "'sales' already exists and is not a list-cleaning campaign"),
    ("sc", "nope", "no campaign 'nope'"),
])
def test_create_refuses(name: str, source: str | None, message: str) -> None:
    store = open_store(contacts=1)
    create_cleaning_campaign(store, "sc", now=T0)
    with pytest.raises(TrunklineError, match=message):
        create_cleaning_campaign(store, name, now=T0, source=source)
