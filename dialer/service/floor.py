"""The live floor (issue 18): what a supervisor's wallboard shows, computed from plain
facts, with no clock and no I/O (sans-IO: ``now`` is given).

:class:`FloorWatch` takes a :class:`FloorFacts` (every agent's desk, every campaign's
counters, every span and channel, left as snapshots on the runners' threads by
``floor_snapshots.py``) and returns the floor: a JSON-ready map sent to supervisors
over the WebSocket every second, and the **alarms** raised since the last one (each
only when it starts, not every second while it lasts):

- ``span_red``: a span's alarms include red (loss of signal or frame: ITU-T G.775/G.732
  "red alarm" in the DS1/E1 sense), and ``span_cleared`` when it recovers;
- ``abandon_near`` / ``abandon_over``: a campaign's abandon rate in its regulated window
  reached :data:`NEAR_SHARE` of its cap, or the cap;
- ``out_of_records``: a running campaign has no contact left to call.

**The gauge.** A campaign's abandon rate is the one its regime measures: abandoned over
live answers in the current window (US: 30 days per campaign, 16 CFR 310.4(b)(4)(i); UK:
one day, Ofcom 2016 statement; ``AbandonLedger``). The cap is the regime's (3 %) where it
has one, else the operator's ``target_abandon`` (China's 2018 rules set none). The level
is ``ok`` below :data:`NEAR_SHARE` of the cap, ``near`` from there, ``over`` at the cap:
it turns before the cap, while the pacing can still bring it down.

**Predicted agent wait**: ready agents divided by the campaign's connect rate over the
last :data:`RATE_WINDOW` seconds (Little's law: the ready agents are the queue, the
connects its service rate); ``None`` before there is a rate.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["NEAR_SHARE", "RATE_WINDOW", "AgentFact", "CampaignFact", "ChannelFact",
           "FloorFacts", "FloorWatch", "SpanFact", "abandon_level", "agent_row",
           "agent_states"]

#: The share of the cap at which the gauge turns ``near`` (an early warning).
NEAR_SHARE = 0.8
#: Seconds of history the connect rate (and so the predicted wait) is measured over.
RATE_WINDOW = 120.0


@dataclass(frozen=True, slots=True)
class AgentFact:
    agent: str
    state: str
    since: float
    reason: str = ""
    campaigns: tuple[str, ...] = ()
    campaign: str | None = None      # the campaign of the contact on the screen
    contact: str | None = None       # its id
    number: str | None = None
    gateway: str | None = None


@dataclass(frozen=True, slots=True)
class CampaignFact:
    name: str
    state: str                       # the host's: running, paused, stopping, idle
    mode: str = ""
    regime: str = "none"
    cap: float | None = None         # the regime's numeric cap
    target_abandon: float = 0.03
    dials: int = 0
    live: int = 0                    # live answers (people)
    abandoned: int = 0
    window_live: float = 0.0         # in the regulated window
    window_abandoned: float = 0.0
    contacts: int | None = None      # the list's size
    attempted: int | None = None     # contacts dialled at least once
    open: int | None = None          # contacts still to call or being called
    gateway: str | None = None
    pace_kind: str = ""              # what the pacer holds to (engine.pacing): risk,
    pace: float | None = None        # ratio or level, and its value now
    #: why a running campaign dials nothing (runner idle_states: idle_reason.idle_state's
    #: items, kept hashable), or None while it has something to dial
    idle: tuple[tuple[str, str | None], ...] | None = None


@dataclass(frozen=True, slots=True)
class ChannelFact:
    channel: int
    state: str
    call: int | None = None


@dataclass(frozen=True, slots=True)
class SpanFact:
    gateway: str
    span: int
    kind: str
    alarms: str = "OK"
    channels: tuple[ChannelFact, ...] = ()


@dataclass(frozen=True, slots=True)
class FloorFacts:
    agents: tuple[AgentFact, ...] = ()
    campaigns: tuple[CampaignFact, ...] = ()
    spans: tuple[SpanFact, ...] = ()


def abandon_level(rate: float, limit: float, near: float = NEAR_SHARE) -> str:
    """``ok``, ``near`` (from ``near`` of the limit) or ``over`` (at the limit)."""
    if rate >= limit:
        return "over"
    if rate >= near * limit:
        return "near"
    return "ok"


def agent_row(a: AgentFact, now: float) -> dict[str, Any]:
    """An agent's row on the floor at ``now`` (in a full floor and in the
    ``floor.agents`` update pushed when agents change)."""
    return {"agent": a.agent, "state": a.state, "reason": a.reason,
            "seconds": round(max(0.0, now - a.since), 1),
            "campaign": a.campaign or (a.campaigns[0] if a.campaigns else None),
            "contact": a.contact, "number": a.number, "gateway": a.gateway}


def agent_states(agents: Iterable[AgentFact]) -> dict[str, int]:
    """How many agents are in each state, by state."""
    return dict(sorted(Counter(a.state for a in agents).items()))


def _red(alarms: str) -> bool:
    return "RED" in alarms.upper()


@dataclass(slots=True)
class _History:
    """A campaign's connects seen over time, for its rate."""

    points: deque[tuple[float, int]] = field(default_factory=deque)

    def rate(self, now: float, connects: int) -> float | None:
        """Connects per second over the window; None with less than 5 s of history."""
        self.points.append((now, connects))
        while self.points and self.points[0][0] < now - RATE_WINDOW:
            self.points.popleft()
        first_t, first_n = self.points[0]
        if now - first_t < 5.0:
            return None
        return max(0, connects - first_n) / (now - first_t)


class FloorWatch:
    """Computes the floor from facts and remembers what it last saw, to raise each
    alarm once when it starts (see the module docstring)."""

    def __init__(self, near_share: float = NEAR_SHARE) -> None:
        if not 0.0 < near_share < 1.0:
            raise ValueError(f"{near_share=} must be in (0, 1)")
        self.near_share = near_share
        self._levels: dict[str, str] = {}
        self._red: dict[tuple[str, int], bool] = {}
        self._exhausted: dict[str, bool] = {}
        self._history: dict[str, _History] = {}

    def update(self, facts: FloorFacts, now: float) -> tuple[dict[str, Any],
                                                              list[dict[str, Any]]]:
        """The floor at ``now`` and the alarms raised since the last update."""
        alarms: list[dict[str, Any]] = []
        ready: Counter[str] = Counter()
        talking: Counter[str] = Counter()
        agents = []
        for a in facts.agents:
            for name in a.campaigns:
                if a.state == "ready":
                    ready[name] += 1
                elif a.state == "talking":
                    talking[name] += 1
            agents.append(agent_row(a, now))
        campaigns = [self._campaign(c, now, ready[c.name], talking[c.name], alarms)
                     for c in facts.campaigns]
        spans = [self._span(s, alarms) for s in facts.spans]
        floor = {
            "ts": now,
            "agents": agents,
            "agent_states": agent_states(facts.agents),
            "campaigns": campaigns,
            "spans": spans,
            "channels": {"total": sum(s["channels"] for s in spans),
                         "in_use": sum(s["in_use"] for s in spans),
                         "blocked": sum(s["blocked"] for s in spans),
                         "alarmed": sum(s["channels"] for s in spans if s["alarms"] != "OK")},
        }
        for alarm in alarms:
            alarm["ts"] = now
        return floor, alarms

    def _campaign(self, c: CampaignFact, now: float, ready: int, talking: int,
                  alarms: list[dict[str, Any]]) -> dict[str, Any]:
        limit = c.cap if c.cap is not None else c.target_abandon
        rate = c.window_abandoned / c.window_live if c.window_live else 0.0
        level = abandon_level(rate, limit, self.near_share)
        connects = max(0, c.live - c.abandoned)
        history = self._history.setdefault(c.name, _History())
        per_second = history.rate(now, connects)
        wait = None
        if per_second is not None and ready:
            wait = round(ready / per_second, 1) if per_second > 0 else None
        before = self._levels.get(c.name, "ok")
        rank = {"ok": 0, "near": 1, "over": 2}
        if rank[level] > rank[before]:
            alarms.append({
                "kind": f"abandon_{level}", "severity": "critical" if level == "over"
                else "warning", "campaign": c.name, "rate": round(rate, 4),
                "cap": limit, "message": f"campaign {c.name}: abandon rate "
                f"{rate:.1%} in the regulated window is "
                f"{'at or over' if level == 'over' else 'near'} its cap of {limit:.1%}"})
        self._levels[c.name] = level
        exhausted = c.state in ("running", "paused") and c.open == 0
        if exhausted and not self._exhausted.get(c.name, False):
            alarms.append({"kind": "out_of_records", "severity": "warning",
                           "campaign": c.name,
                           "message": f"campaign {c.name} has no record left to call"})
        self._exhausted[c.name] = exhausted
        penetration = (round(c.attempted / c.contacts, 4)
                       if c.contacts and c.attempted is not None else None)
        return {
            "name": c.name, "state": c.state, "mode": c.mode, "regime": c.regime,
            "gateway": c.gateway, "dials": c.dials, "live": c.live, "connects": connects,
            "abandoned": c.abandoned,
            "window": {"live": c.window_live, "abandoned": c.window_abandoned,
                       "rate": round(rate, 4)},
            "cap": limit, "cap_from": "regime" if c.cap is not None else "target",
            "target_abandon": c.target_abandon,
            "level": level, "near_at": round(self.near_share * limit, 4),
            "penetration": penetration, "contacts": c.contacts, "open": c.open,
            "ready": ready, "talking": talking,
            "connects_per_minute": None if per_second is None
            else round(per_second * 60, 2),
            "predicted_wait": wait,
            "pacing": {"kind": c.pace_kind, "value": None if c.pace is None
                       else round(c.pace, 5)} if c.pace_kind else None,
            # a running campaign that dials nothing says why (outside its calling window,
            # no contact due yet); a paused one is paused
            "idle": dict(c.idle) if c.idle is not None and c.state == "running" else None,
        }

    def _span(self, s: SpanFact, alarms: list[dict[str, Any]]) -> dict[str, Any]:
        key = (s.gateway, s.span)
        red = _red(s.alarms)
        was = self._red.get(key, False)
        if red and not was:
            alarms.append({"kind": "span_red", "severity": "critical", "gateway": s.gateway,
                           "span": s.span, "alarms": s.alarms,
                           "message": f"span {s.span} on {s.gateway}: red alarm "
                                      f"({s.alarms}); its channels take no calls"})
        elif was and not red:
            alarms.append({"kind": "span_cleared", "severity": "info", "gateway": s.gateway,
                           "span": s.span, "alarms": s.alarms,
                           "message": f"span {s.span} on {s.gateway}: alarm cleared"})
        self._red[key] = red
        blocked = sum(1 for ch in s.channels if ch.state == "blocked")
        in_use = sum(1 for ch in s.channels if ch.call is not None)
        return {"gateway": s.gateway, "span": s.span, "kind": s.kind, "alarms": s.alarms,
                "red": red, "channels": len(s.channels), "in_use": in_use,
                "blocked": blocked, "idle": len(s.channels) - in_use - blocked,
                "states": [[ch.channel, ch.state, ch.call] for ch in s.channels]}
