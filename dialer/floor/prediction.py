"""The demo's occupancy against the pacing simulator's prediction for the same inputs
(issue 15 item 5).

**Measured** (:func:`measure`): from the campaign database only (what the reports read).
Occupancy is (talk + wrap-up) / available time, over the part of the shift when there
was a list to dial: from the first agent ready to the last dial. Available time is the
agents' logged-in time minus their pauses (the simulator does not model pauses, so they
are left out of both sides; the full-shift occupancy with pauses and the list's tail is
printed beside it). The regulated abandon rate is the report's: the ``cn`` regime's
window (the calendar day in the campaign's zone), abandoned / live answers.

**Predicted** (:func:`predict`): :class:`~trunkline.dialer.pacing.simulator.Simulator`,
the real engine with the campaign's own engine settings (mode, regime, target, ring
timeout) and the same number of agents, against a
:class:`~trunkline.dialer.pacing.simulator.World` fitted to the same shift's call
records: the shares of live answers, machines (and faxes), numbers that fail fast, and
unanswered ones; the times from the dial to a live answer reaching the engine, to a
machine's verdict, to a fast failure (uniform over the 5th-95th percentiles); talk as a
lognormal with the measured mean and log-spread; wrap-up uniform over its measured
range. Run for the same length, averaged over :data:`SEEDS` seeds.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Any

#: Seeds the prediction is averaged over (one 10-agent shift is a noisy measure).
SEEDS = (1, 2, 3, 4, 5)
LIVE = ("human", "abandoned")
MACHINES = ("machine", "fax", "modem")


@dataclass(frozen=True, slots=True)
class Measured:
    """What the demo's shift reached (see the module docstring)."""

    agents: int
    start: float
    end: float
    available: float          # agent-seconds logged in and not paused, in [start, end]
    busy: float               # talk + wrap-up of the calls, the part in [start, end]
    occupancy: float          # busy / available
    calls: list[dict[str, Any]]

    @property
    def hours(self) -> float:
        return (self.end - self.start) / 3600.0


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def measure(store: Any, campaign: str) -> Measured | None:
    """The shift's occupancy while there was a list to dial; None before any call."""
    cid = store.campaign_id(campaign)
    calls = [dict(r) for r in store.query(
        "SELECT outcome, dialed_at, answered_at, bridged_at, ended_at, agent, talk, wrap "
        "FROM attempt WHERE campaign_id=? AND state='done' AND dialed_at IS NOT NULL",
        (cid,))]
    states = [dict(r) for r in store.query(
        "SELECT agent, state, since, until FROM agent_state")]
    ready = [s["since"] for s in states if s["state"] == "ready"]
    if not calls or not ready:
        return None
    start, end = min(ready), max(c["dialed_at"] for c in calls)
    if end <= start:
        return None
    agents = sorted({s["agent"] for s in states})
    logged = 0.0
    for s in states:
        if s["state"] in ("logged_out", "paused"):
            continue
        logged += max(0.0, min(s["until"], end) - max(s["since"], start))
    busy = 0.0
    for c in calls:  # each call's talk and wrap-up, the part inside [start, end]
        began = c["bridged_at"] or c["answered_at"]
        if c["agent"] and c["outcome"] == "human" and began is not None:
            done = began + (c["talk"] or 0.0) + (c["wrap"] or 0.0)
            busy += max(0.0, min(done, end) - max(began, start))
    return Measured(len(agents), start, end, logged, busy,
                    busy / logged if logged else 0.0, calls)


def fitted_world(measured: Measured, ring_timeout: float) -> Any:
    """The simulator's world with the shares and times of the measured calls."""
    from trunkline.dialer.pacing.sampling import Dist
    from trunkline.dialer.pacing.simulator import World

    calls = measured.calls
    n = len(calls)
    live = [c for c in calls if c["outcome"] in LIVE]
    machines = [c for c in calls if c["outcome"] in MACHINES]
    unanswered = [c for c in calls if c["outcome"] == "no_answer"]
    fast = [c for c in calls if c not in live and c not in machines and c not in unanswered]

    def uniform(values: list[float], default: float) -> Dist:
        if not values:
            return Dist("fixed", default)
        return Dist("uniform", _pct(values, 0.05), max(_pct(values, 0.05), _pct(values, 0.95)))

    # a live answer reaches the engine when AMD says "human": the bridge (the agent was
    # ready) or the end of the abandon wait, whichever the record has
    to_live = [c["bridged_at"] - c["dialed_at"] for c in live if c["bridged_at"]]
    talks = [c["talk"] for c in live if c["talk"] and c["outcome"] == "human"]
    wraps = [c["wrap"] for c in live if c["wrap"] is not None and c["outcome"] == "human"]
    if len(talks) >= 2:
        logs = [math.log(t) for t in talks]
        talk = Dist("lognormal", statistics.fmean(talks), max(1e-3, statistics.stdev(logs)))
    else:
        talk = Dist("fixed", talks[0] if talks else 90.0)
    return World(answer_probability=len(live) / n, machine_probability=len(machines) / n,
                 busy_probability=len(fast) / n, ring_time=uniform(to_live, 8.0),
                 no_answer_timeout=ring_timeout, talk=talk,
                 wrap_up=uniform(wraps, 30.0),
                 machine_time=uniform([c["ended_at"] - c["dialed_at"] for c in machines
                                       if c["ended_at"]], 10.0),
                 busy_time=uniform([c["ended_at"] - c["dialed_at"] for c in fast
                                    if c["ended_at"]], 3.0))


def predict(store: Any, campaign: str, measured: Measured) -> dict[str, Any]:
    """The simulator's occupancy and abandon rate for the measured inputs."""
    from trunkline.dialer.pacing.simulator import Simulator, team
    from trunkline.dialer.runner.settings import campaign_config

    config = campaign_config(store, campaign, desk=True)
    world = fitted_world(measured, config.ring_timeout)
    results = [Simulator([config], team(measured.agents, config.name), world,
                         hours=measured.hours, seed=seed).run() for seed in SEEDS]
    occupancies = [r.occupancy for r in results]
    return {"occupancy": statistics.fmean(occupancies),
            "occupancy_spread": (min(occupancies), max(occupancies)),
            "abandon_rate": statistics.fmean(r.abandon_rate for r in results),
            "world": world}


def comparison_lines(measured: Measured, predicted: dict[str, Any]) -> list[str]:
    """What the demo prints about occupancy against the simulator."""
    gap = 100 * (measured.occupancy - predicted["occupancy"])
    low, high = predicted["occupancy_spread"]
    w = predicted["world"]
    return [
        f"occupancy while the list lasted ({measured.hours * 60:.0f} min, "
        f"{measured.agents} agents, pauses excluded): {100 * measured.occupancy:.1f} %",
        f"the pacing simulator predicts {100 * predicted['occupancy']:.1f} % for the same "
        f"inputs ({len(SEEDS)} seeds: {100 * low:.1f}-{100 * high:.1f} %; abandon "
        f"{100 * predicted['abandon_rate']:.2f} %): difference {gap:+.1f} points"
        + ("" if abs(gap) <= 3.0 else " (more than 3: see docs/campaigns.md)"),
        f"  inputs measured from this shift: live {100 * w.answer_probability:.1f} %, "
        f"machines {100 * w.machine_probability:.1f} %, fast failures "
        f"{100 * w.busy_probability:.1f} %, talk mean {w.talk.a:.0f} s, wrap-up "
        f"{w.wrap_up.a:.0f}-{w.wrap_up.b:.0f} s",
    ]
