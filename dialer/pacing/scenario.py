"""Simulation scenarios: a TOML file describing the team, the list, and the campaign.

The keys of issue 6 are accepted exactly as written there; the optional keys this module
adds are marked "added" below and documented in docs/pacing.md. Unknown keys and invalid
values raise :class:`~trunkline.errors.ConfigError` naming the file, the key and its line.

::

    agents = 20                    # agents logged in for the whole run
    hours = 80                     # simulated hours
    seed = 1
    answer_probability = 0.30      # a live person answers
    machine_probability = 0.10
    busy_probability = 0.10
    ring_time = [4.0, 16.0]        # seconds until a live answer: a value or [low, high]
    no_answer_timeout = 26.0
    wrap_up = 10.0                 # seconds: a value or a range
    busy_time = [2.0, 6.0]         # added: seconds until busy is detected
    machine_time = [7.0, 19.0]     # added: seconds until AMD reports a machine
                                   #        (default: the ring time plus 3 s)
    preview_time = [3.0, 10.0]     # added: seconds an agent reads a preview record
    manual_dial_time = [5.0, 15.0] # added: seconds a manual agent takes to dial
    preview_every = 0              # added: every n-th contact is a preview record (0: none)
    [talk]
    distribution = "exponential"   # or "lognormal" (mean, sigma) or "uniform" (low, high)
    mean = 120.0
    [mode]
    name = "predictive"            # manual|preview|progressive|power|precise|predictive
                                   # (added: "vicidial", the baseline)
    target_abandon = 0.03
    ratio = 1.0                    # progressive (whole) / power (may be fractional)
    precise_target = 0.004         # added: precise mode's share answered with no agent
    max_lines_per_agent = 3.0      # added: unresolved dials per logged-in agent, at most
    pace_interval = 1.0            # added: seconds between pacing decisions
    abandon_route = "message"      # added: message | ivr | voicemail
    [compliance]
    regime = "us"                  # us | uk | cn | none
    amd_false_positive_rate = 0.02 # added: UK estimate of humans taken for machines
    abandon_after = 2.0            # added: seconds a live answer may wait (max 2 in us/uk)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trunkline.dialer.pacing.campaign import REGIME_CAPS, REGULATED_MIN_RING, CampaignConfig
from trunkline.dialer.pacing.contacts import SyntheticContacts
from trunkline.dialer.pacing.sampling import Dist
from trunkline.dialer.pacing.simulator import (
    BUSY_TIME,
    MANUAL_DIAL_TIME,
    PREVIEW_TIME,
    RING_TIME,
    WRAP_UP,
    AgentSpec,
    Result,
    Simulator,
    World,
    team,
)
from trunkline.dialer.vocab import AbandonRoute, Mode, Regime
from trunkline.tomlconf import TomlDocument, load_toml, parse_toml, reject_unknown_keys

TOP_KEYS = {
    "agents", "hours", "seed", "answer_probability", "machine_probability",
    "busy_probability", "ring_time", "no_answer_timeout", "wrap_up", "talk", "mode",
    "compliance", "busy_time", "machine_time", "preview_time", "manual_dial_time",
    "preview_every",
}
TALK_KEYS = {"distribution", "mean", "sigma", "low", "high"}
MODE_KEYS = {
    "name", "target_abandon", "ratio", "precise_target", "max_lines_per_agent",
    "pace_interval", "abandon_route", "agent_wait_target",
}
COMPLIANCE_KEYS = {"regime", "amd_false_positive_rate", "abandon_after"}
CAMPAIGN = "sim"


@dataclass(frozen=True, slots=True)
class Scenario:
    agents: int
    hours: float
    seed: int
    world: World
    campaign: CampaignConfig
    preview_every: int = 0

    def simulator(self, *, log=None) -> Simulator:
        specs: list[AgentSpec] = team(self.agents, self.campaign.name)
        return Simulator([self.campaign], specs, self.world, hours=self.hours,
                         seed=self.seed, log=log,
                         provider=SyntheticContacts(preview_every=self.preview_every))

    def run(self, *, log=None) -> Result:
        return self.simulator(log=log).run()


class _Reader:
    """Typed access to a TOML table with errors that name the key and its line."""

    def __init__(self, doc: TomlDocument, table: dict[str, Any], path: tuple[str, ...]):
        self.doc, self.table, self.path = doc, table, path

    def _error(self, key: str, message: str):
        name = ".".join((*self.path, key))
        return self.doc.error(f"{name}: {message}", (*self.path, key))

    def has(self, key: str) -> bool:
        return key in self.table

    def number(self, key: str, default: float | None = None, *, low: float = -math.inf,
               high: float = math.inf, low_open: bool = False) -> float:
        if key not in self.table:
            if default is None:
                raise self._error(key, "is required")
            return default
        value = self.table[key]
        if isinstance(value, bool) or not isinstance(value, int | float) \
                or not math.isfinite(value):
            raise self._error(key, f"must be a number, got {value!r}")
        if value < low or value > high or (low_open and value == low):
            lo = f"({low}" if low_open else f"[{low}"
            raise self._error(key, f"must be in {lo}, {high}], got {value!r}")
        return float(value)

    def integer(self, key: str, default: int | None = None, *, low: int = 0,
                high: int = 10**9) -> int:
        if key not in self.table:
            if default is None:
                raise self._error(key, "is required")
            return default
        value = self.table[key]
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._error(key, f"must be a whole number, got {value!r}")
        if not low <= value <= high:
            raise self._error(key, f"must be in [{low}, {high}], got {value!r}")
        return value

    def choice(self, key: str, choices: list[str], default: str | None = None) -> str:
        if key not in self.table:
            if default is None:
                raise self._error(key, "is required")
            return default
        value = self.table[key]
        if value not in choices:
            raise self._error(key, f"must be one of {', '.join(choices)}; got {value!r}")
        return value

    def duration(self, key: str, default: Dist | None) -> Dist | None:
        """A value, or a [low, high] uniform range, of seconds >= 0."""
        if key not in self.table:
            return default
        value = self.table[key]
        if isinstance(value, list):
            if len(value) != 2 or any(isinstance(v, bool) or not isinstance(v, int | float)
                                      for v in value):
                raise self._error(key, f"must be a number or [low, high], got {value!r}")
            low, high = float(value[0]), float(value[1])
            if not (math.isfinite(low) and math.isfinite(high)) or low < 0 or high < low:
                raise self._error(key, f"needs 0 <= low <= high, got {value!r}")
            return Dist("uniform", low, high)
        return Dist("fixed", self.number(key, low=0.0, high=1e6))

    def table_of(self, key: str, allowed: set[str]) -> _Reader:
        value = self.table.get(key, {})
        if not isinstance(value, dict):
            raise self._error(key, f"must be a table ([{key}]), got {value!r}")
        reject_unknown_keys(self.doc, value, allowed, (*self.path, key))
        return _Reader(self.doc, value, (*self.path, key))


def _talk(r: _Reader) -> Dist:
    kind = r.choice("distribution", ["exponential", "lognormal", "uniform"], "exponential")
    if kind == "uniform":
        for key in ("mean", "sigma"):
            if r.has(key):
                raise r._error(key, "does not apply to a uniform talk time (use low, high)")
        low = r.number("low", low=0.0, high=1e5)
        high = r.number("high", low=low, high=1e5)
        return Dist("uniform", low, high)
    for key in ("low", "high"):
        if r.has(key):
            raise r._error(key, f"does not apply to a {kind} talk time")
    mean = r.number("mean", 120.0, low=0.0, high=1e5, low_open=True)
    if kind == "exponential":
        if r.has("sigma"):
            raise r._error("sigma", "does not apply to an exponential talk time")
        return Dist("exponential", mean)
    return Dist("lognormal", mean, r.number("sigma", low=0.0, high=5.0, low_open=True))


def scenario_from(doc: TomlDocument) -> Scenario:
    """Validate a parsed scenario document and build it."""
    data = doc.data
    reject_unknown_keys(doc, data, TOP_KEYS)
    top = _Reader(doc, data, ())
    agents = top.integer("agents", low=1, high=5_000)
    hours = top.number("hours", low=0.0, high=24 * 366, low_open=True)
    seed = top.integer("seed", 0, low=0, high=2**63 - 1)
    answer = top.number("answer_probability", low=0.0, high=1.0)
    machine = top.number("machine_probability", 0.0, low=0.0, high=1.0)
    busy = top.number("busy_probability", 0.0, low=0.0, high=1.0)
    if answer + machine + busy > 1.0 + 1e-12:
        raise top._error("busy_probability", "answer, machine and busy probabilities add up "
                         f"to {answer + machine + busy:g}, more than 1")
    ring = top.duration("ring_time", RING_TIME)
    timeout = top.number("no_answer_timeout", 26.0, low=0.0, high=600.0, low_open=True)
    wrap = top.duration("wrap_up", WRAP_UP)
    talk = _talk(top.table_of("talk", TALK_KEYS))
    mode_r = top.table_of("mode", MODE_KEYS)
    mode = Mode(mode_r.choice("name", [m.value for m in Mode]))
    comp_r = top.table_of("compliance", COMPLIANCE_KEYS)
    regime = Regime(comp_r.choice("regime", [r.value for r in Regime], "us"))
    cap = REGIME_CAPS.get(regime)
    target = mode_r.number("target_abandon", 0.03, low=0.0, high=cap or 0.5, low_open=True)
    ratio = mode_r.number("ratio", 1.0 if mode is not Mode.POWER else 1.5, low=1.0,
                          high=10.0)
    if mode is Mode.PROGRESSIVE and ratio != int(ratio):
        raise mode_r._error("ratio", f"progressive dials whole lines per agent, got {ratio}; "
                            "use name = \"power\" for a fractional ratio")
    if cap is not None and timeout < REGULATED_MIN_RING:
        raise top._error("no_answer_timeout", f"must be at least {REGULATED_MIN_RING} s "
                         f"under regime {regime!s} (ring 15 s or four rings)")
    abandon_after = comp_r.number("abandon_after", 2.0, low=0.0,
                                  high=2.0 if cap is not None else 60.0)
    try:
        campaign = CampaignConfig(
            name=CAMPAIGN, mode=mode, ratio=ratio, target_abandon=target, regime=regime,
            ring_timeout=timeout, abandon_after=abandon_after,
            abandon_route=AbandonRoute(mode_r.choice(
                "abandon_route", ["message", "ivr", "voicemail"], "message")),
            max_lines_per_agent=mode_r.number("max_lines_per_agent", 3.0, low=1.0,
                                              high=20.0),
            pace_interval=mode_r.number("pace_interval", 1.0, low=0.05, high=10.0),
            precise_target=mode_r.number("precise_target", 0.004, low=0.0, high=0.5,
                                         low_open=True),
            agent_wait_target=mode_r.number("agent_wait_target", 0.0, low=0.0,
                                            high=600.0),
            amd_false_positive_rate=comp_r.number("amd_false_positive_rate", 0.02,
                                                  low=0.0, high=0.99),
        )
        world = World(
            answer_probability=answer, machine_probability=machine, busy_probability=busy,
            ring_time=ring, no_answer_timeout=timeout, talk=talk, wrap_up=wrap,
            machine_time=top.duration("machine_time", None),
            busy_time=top.duration("busy_time", BUSY_TIME),
            preview_time=top.duration("preview_time", PREVIEW_TIME),
            manual_dial_time=top.duration("manual_dial_time", MANUAL_DIAL_TIME),
        )
    except ValueError as err:  # a cross-field rule the checks above did not name
        raise doc.error(str(err)) from err
    return Scenario(agents=agents, hours=hours, seed=seed, world=world, campaign=campaign,
                    preview_every=top.integer("preview_every", 0, low=0, high=10**6))


def load_scenario(path: str | Path) -> Scenario:
    return scenario_from(load_toml(path))


def parse_scenario(text: str, source: str = "<string>") -> Scenario:
    return scenario_from(parse_toml(text, source))
