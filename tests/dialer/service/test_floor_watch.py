"""The live floor's computation (sans-IO, time given): time in state, the abandon gauge
turning before the cap, penetration, predicted agent wait, span and channel counts, and
each alarm raised once when it starts."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trunkline.dialer.service.floor import (
    NEAR_SHARE,
    AgentFact,
    CampaignFact,
    ChannelFact,
    FloorFacts,
    FloorWatch,
    SpanFact,
    abandon_level,
)


def campaign(**kw: object) -> CampaignFact:
    base = {"name": "loans", "state": "running", "mode": "predictive", "regime": "us",
            "cap": 0.03, "target_abandon": 0.03}
    return CampaignFact(**{**base, **kw})  # type: ignore[arg-type]


def test_agents_with_time_in_state_contact_and_campaign() -> None:
    facts = FloorFacts(agents=(
        AgentFact("li", "talking", since=100.0, campaigns=("loans",), campaign="loans",
                  contact="7", number="13800000001"),
        AgentFact("wang", "paused", since=130.0, reason="lunch", campaigns=("loans",)),
        AgentFact("zhao", "ready", since=139.5, campaigns=("loans", "sales"))))
    floor, alarms = FloorWatch().update(facts, 140.0)
    rows = {a["agent"]: a for a in floor["agents"]}
    assert rows["li"]["seconds"] == 40.0 and rows["li"]["number"] == "13800000001"
    assert rows["wang"]["reason"] == "lunch" and rows["wang"]["campaign"] == "loans"
    assert rows["zhao"]["seconds"] == 0.5
    assert floor["agent_states"] == {"paused": 1, "ready": 1, "talking": 1}
    assert alarms == []


def test_the_gauge_turns_near_before_the_cap_and_alarms_once() -> None:
    watch = FloorWatch()
    floor, alarms = watch.update(FloorFacts(campaigns=(campaign(window_live=100,
                                                                window_abandoned=2),)), 0)
    assert floor["campaigns"][0]["level"] == "ok" and alarms == []
    floor, alarms = watch.update(FloorFacts(campaigns=(campaign(window_live=100,
                                                                window_abandoned=2.5),)), 1)
    assert floor["campaigns"][0]["level"] == "near"
    assert [a["kind"] for a in alarms] == ["abandon_near"]
    assert "near its cap of 3.0%" in alarms[0]["message"]
    _, alarms = watch.update(FloorFacts(campaigns=(campaign(window_live=100,
                                                            window_abandoned=2.6),)), 2)
    assert alarms == []                                   # once, not every second
    _, alarms = watch.update(FloorFacts(campaigns=(campaign(window_live=100,
                                                            window_abandoned=3),)), 3)
    assert [a["kind"] for a in alarms] == ["abandon_over"]
    # a regime without a numeric cap is measured against the operator's target
    floor, _ = watch.update(FloorFacts(campaigns=(campaign(name="cn", regime="cn", cap=None,
                                                           target_abandon=0.05,
                                                           window_live=100,
                                                           window_abandoned=4.2),)), 4)
    row = floor["campaigns"][0]
    assert (row["cap"], row["cap_from"], row["level"]) == (0.05, "target", "near")


@given(st.floats(0, 1), st.floats(0.001, 0.5))
def test_abandon_level_is_ordered_by_rate(rate: float, limit: float) -> None:
    level = abandon_level(rate, limit)
    assert level == ("over" if rate >= limit else "near" if rate >= NEAR_SHARE * limit
                     else "ok")


def test_penetration_connects_and_predicted_wait() -> None:
    watch = FloorWatch()
    agents = tuple(AgentFact(f"a{i}", "ready", 0.0, campaigns=("loans",)) for i in range(3))
    first = campaign(dials=50, live=20, abandoned=0, contacts=200, attempted=50, open=150)
    floor, _ = watch.update(FloorFacts(agents, (first,)), 0.0)
    row = floor["campaigns"][0]
    assert row["penetration"] == 0.25 and row["connects"] == 20
    assert row["predicted_wait"] is None                  # no rate yet
    later = campaign(dials=80, live=32, abandoned=2, contacts=200, attempted=80, open=120)
    floor, _ = watch.update(FloorFacts(agents, (later,)), 60.0)
    row = floor["campaigns"][0]
    assert row["connects"] == 30
    assert row["connects_per_minute"] == 10.0             # 10 connects in 60 s
    assert row["predicted_wait"] == 18.0                  # 3 ready / (1/6 per second)
    assert row["pacing"] is None                          # no pacer said anything
    paced = campaign(pace_kind="risk", pace=0.0212345)
    floor, _ = watch.update(FloorFacts(agents, (paced,)), 61.0)
    assert floor["campaigns"][0]["pacing"] == {"kind": "risk", "value": 0.02123}


def test_running_out_of_records_alarms_once() -> None:
    watch = FloorWatch()
    _, alarms = watch.update(FloorFacts(campaigns=(campaign(open=3),)), 0)
    assert alarms == []
    _, alarms = watch.update(FloorFacts(campaigns=(campaign(open=0),)), 1)
    assert [a["kind"] for a in alarms] == ["out_of_records"]
    _, alarms = watch.update(FloorFacts(campaigns=(campaign(open=0),)), 2)
    assert alarms == []
    _, alarms = watch.update(FloorFacts(campaigns=(campaign(open=0, state="idle"),)), 3)
    assert alarms == []                                   # a stopped campaign is no alarm


def test_spans_channels_and_the_red_alarm() -> None:
    channels = (ChannelFact(1, "up", call=5), ChannelFact(2, "blocked"),
                ChannelFact(3, "idle"), ChannelFact(4, "up", call=9))
    watch = FloorWatch()
    ok = FloorFacts(spans=(SpanFact("gw", 1, "e1", "OK", channels),))
    floor, alarms = watch.update(ok, 0)
    span = floor["spans"][0]
    assert (span["in_use"], span["blocked"], span["idle"]) == (2, 1, 1)
    assert floor["channels"] == {"total": 4, "in_use": 2, "blocked": 1, "alarmed": 0}
    assert alarms == []
    red = FloorFacts(spans=(SpanFact("gw", 1, "e1", "RED", channels),))
    floor, alarms = watch.update(red, 1)
    assert [a["kind"] for a in alarms] == ["span_red"] and floor["spans"][0]["red"]
    assert floor["channels"]["alarmed"] == 4
    assert watch.update(red, 2)[1] == []
    assert [a["kind"] for a in watch.update(ok, 3)[1]] == ["span_cleared"]


def test_bad_near_share_is_refused() -> None:
    with pytest.raises(ValueError, match="near_share"):
        FloorWatch(near_share=1.5)


def test_a_running_campaign_that_dials_nothing_says_why() -> None:
    """The runner's idle state reaches the campaign's row while it runs (the console says
    it in its language); a paused campaign is paused, and one with a contact due has
    none (issue 15: 'Running' with no dials and no reason)."""
    idle = (("why", "window"), ("time_zone", "Asia/Shanghai"), ("day", "outside"),
            ("ranges", "09:00-21:00"), ("opens", "2026-12-05 09:00"),
            ("due", "2026-12-05 09:00"))
    watch = FloorWatch()
    floor, _ = watch.update(FloorFacts(campaigns=(campaign(idle=idle),)), 0)
    assert floor["campaigns"][0]["idle"] == dict(idle)
    floor, _ = watch.update(FloorFacts(campaigns=(campaign(idle=idle, state="paused"),)), 1)
    assert floor["campaigns"][0]["idle"] is None
    floor, _ = watch.update(FloorFacts(campaigns=(campaign(),)), 2)
    assert floor["campaigns"][0]["idle"] is None
