"""Scenario files and ``trunkline dialer simulate``."""

from __future__ import annotations

import json

import pytest

from trunkline.cli import main
from trunkline.dialer.pacing.scenario import parse_scenario
from trunkline.dialer.vocab import Mode, Regime
from trunkline.errors import ConfigError

ISSUE_EXAMPLE = """\
agents = 20
hours = 80
seed = 1
answer_probability = 0.30      # a live person answers
machine_probability = 0.10
busy_probability = 0.10
ring_time = [4.0, 16.0]        # seconds until a live answer: a value or a [low, high] range
no_answer_timeout = 26.0
wrap_up = 10.0                 # seconds: a value or a range
[talk]
distribution = "exponential"   # or "lognormal" (with sigma) or "uniform" (with low, high)
mean = 120.0
[mode]
name = "predictive"            # manual | preview | progressive | power | precise | predictive
target_abandon = 0.03
ratio = 1.0                    # progressive / power
[compliance]
regime = "us"                  # us | uk | cn | none
"""


def test_the_issue_example_is_accepted_as_written():
    s = parse_scenario(ISSUE_EXAMPLE)
    assert (s.agents, s.hours, s.seed) == (20, 80.0, 1)
    assert s.campaign.mode is Mode.PREDICTIVE and s.campaign.regime is Regime.US
    assert s.world.ring_time.kind == "uniform" and s.world.talk.mean == 120.0


@pytest.mark.parametrize(("old", "new", "key", "line"), [
    ("seed = 1", "sede = 1", None, 3),
    ("mean = 120.0", "mean = 120.0\nmedian = 3", None, 13),
    ("regime = \"us\"", "regime = \"eu\"", "compliance.regime", 18),
    ("target_abandon = 0.03", "target_abandon = 0.05", "mode.target_abandon", 15),
    ("ratio = 1.0 ", "ratio = 0.5 ", "mode.ratio", 16),
    ("agents = 20", "agents = 2.5", "agents", 1),
    ("busy_probability = 0.10", "busy_probability = 0.70", "busy_probability", 6),
    ("ring_time = [4.0, 16.0]", "ring_time = [16.0, 4.0]", "ring_time", 7),
    ("no_answer_timeout = 26.0", "no_answer_timeout = 10.0", "no_answer_timeout", 8),
    ('distribution = "exponential"', 'distribution = "gamma"', "talk.distribution", 11),
    ('name = "predictive"', 'name = "turbo"', "mode.name", 14),
])
def test_bad_keys_and_values_are_named_with_their_line(old, new, key, line):
    text = ISSUE_EXAMPLE.replace(old, new)
    with pytest.raises(ConfigError) as info:
        parse_scenario(text, "s.toml")
    err = info.value
    assert err.source == "s.toml" and err.line == line
    if key is not None:
        assert err.key == key and key in str(err)
    else:
        assert "unknown key" in str(err)


def test_progressive_ratio_must_be_whole_and_talk_keys_must_fit():
    text = ISSUE_EXAMPLE.replace('name = "predictive"', 'name = "progressive"')
    with pytest.raises(ConfigError, match="use name = \"power\""):
        parse_scenario(text.replace("ratio = 1.0 ", "ratio = 1.5 "))
    assert parse_scenario(text.replace('"progressive"', '"power"')
                          .replace("ratio = 1.0 ", "ratio = 1.5 ")).campaign.ratio == 1.5
    uniform = ISSUE_EXAMPLE.replace('distribution = "exponential"', 'distribution = "uniform"')
    with pytest.raises(ConfigError, match="does not apply to a uniform"):
        parse_scenario(uniform)
    s = parse_scenario(uniform.replace("mean = 120.0", "low = 60.0\nhigh = 180.0"))
    assert s.world.talk.mean == 120.0
    lognormal = ISSUE_EXAMPLE.replace('"exponential"', '"lognormal"')
    with pytest.raises(ConfigError, match="sigma: is required"):
        parse_scenario(lognormal)
    assert parse_scenario(lognormal.replace("mean = 120.0", "mean = 120.0\nsigma = 0.8")
                          ).world.talk.kind == "lognormal"


def test_simulate_prints_one_json_object(tmp_path, capsys):
    path = tmp_path / "s.toml"
    path.write_text(ISSUE_EXAMPLE.replace("hours = 80", "hours = 0.5")
                    .replace("agents = 20", "agents = 5"))
    assert main(["dialer", "simulate", "--scenario", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    for key in ("occupancy", "talk_minutes_per_agent_hour", "abandon_rate",
                "max_window_abandon_rate", "dials", "live_answers", "abandoned",
                "answered_without_agent", "mean_idle_between_calls_s"):
        assert key in out
    assert 0 < out["occupancy"] < 1 and out["dials"] > 0
    again = main(["dialer", "simulate", "--scenario", str(path), "--json"])
    assert again == 0 and json.loads(capsys.readouterr().out) == out  # seeded


def test_simulate_reports_a_bad_file_and_exits_1(tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text(ISSUE_EXAMPLE.replace("seed = 1", "seed = -1"))
    assert main(["dialer", "simulate", "--scenario", str(path)]) == 1
    err = capsys.readouterr().err
    assert "bad.toml:3" in err and "seed" in err
    assert main(["dialer", "simulate", "--scenario", str(tmp_path / "none.toml")]) == 1


def test_dialer_subparsers_are_shared_for_later_subcommands():
    import argparse

    from trunkline.dialer.cli import dialer_subparsers, register

    parser = argparse.ArgumentParser()
    subparsers = parser.add_subparsers()
    register(subparsers)
    sub = dialer_subparsers(subparsers)
    sub.add_parser("example-extension").set_defaults(handler=lambda args: 0)
    assert parser.parse_args(["dialer", "example-extension"]).handler(None) == 0
    assert dialer_subparsers(subparsers) is sub
