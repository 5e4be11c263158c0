"""A campaign's pacing and compliance settings, validated once when built."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

from trunkline.dialer.campaigns.bounds import CAMPAIGN, check_bounds
from trunkline.dialer.vocab import AbandonRoute, Mode, Regime

#: The numeric abandon caps of the regimes that have one (dialer-anchors.md section 3).
REGIME_CAPS: dict[Regime, float] = {Regime.US: 0.03, Regime.UK: 0.03}

#: The shortest ring before a call may be given up as unanswered: 15 s (or four rings)
#: under the TSR safe harbour (16 CFR 310.4(b)(4)(ii)) and 47 CFR 64.1200(a)(6); Ofcom
#: asks 15 s too.
REGULATED_MIN_RING = 15.0

#: The longest a live answer may wait for an agent before it is abandoned:
#: 2 s after the greeting under 16 CFR 310.4(b)(4)(iii), 47 CFR 64.1200(a)(7)(i) and Ofcom.
REGULATED_ABANDON_AFTER = 2.0


@dataclass(frozen=True, slots=True)
class CampaignConfig:
    """Everything the engine needs to pace one campaign.

    ``target_abandon`` is the operator's target (predictive); the regime's own cap, where
    there is one, is enforced on top of it as a hard limit. ``precise_target`` is the
    share of live answers precise mode lets find no agent at once.
    """

    name: str
    mode: Mode = Mode.PREDICTIVE
    ratio: float = 1.0
    target_abandon: float = 0.03
    regime: Regime = Regime.US
    ring_timeout: float = 26.0
    abandon_after: float = REGULATED_ABANDON_AFTER
    abandon_route: AbandonRoute = AbandonRoute.MESSAGE
    abandon_target: str | None = None
    max_lines_per_agent: float = 3.0
    pace_interval: float = 1.0
    precise_target: float = 0.004
    preview_timeout: float = 30.0
    preview_dial_on_timeout: bool = True
    amd_false_positive_rate: float = 0.02
    day_offset: float = 0.0        # seconds from engine time 0 to the previous local midnight
    start: float = 0.0             # engine time the campaign's first 30-day period starts
    vicidial_max_level: float = 3.0
    vicidial_drop_action: str = "average"  # "average" halves, "hard_limit" sets 1.0
    #: live answers a precise or predictive campaign sees before it dials beyond its free
    #: agents (the engine's conservative start, issue 15 item 3); 0 turns it off
    warmup_live: int = 20
    #: predictive mode's agent-wait objective (seconds; 0: none; other modes ignore it,
    #: so a supervisor may switch modes without clearing it): the mean time an agent
    #: waits between calls that the pacer aims at, under the abandon target (which stays
    #: the ceiling: a shorter wait is never bought with abandons over it)
    agent_wait_target: float = 0.0

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("a campaign needs a name")
        object.__setattr__(self, "mode", Mode(self.mode))
        object.__setattr__(self, "regime", Regime(self.regime))
        object.__setattr__(self, "abandon_route", AbandonRoute(self.abandon_route))
        where = f"campaign {self.name!r}"
        # Every number first: NaN passes every range check below (it compares false),
        # and an infinite ring_timeout would be saved and only fail when dialling.
        for f in fields(self):
            value = getattr(self, f.name)
            if f.type in ("float", float) and (isinstance(value, bool) or not isinstance(
                    value, int | float) or not math.isfinite(value)):
                raise ValueError(f"{where}: {f.name} must be a finite number, got {value!r}")
        # Every number within its bound (the one table every entry point uses;
        # bounds.py says where each comes from), then the rules between settings.
        check_bounds(CAMPAIGN, {f.name: getattr(self, f.name) for f in fields(self)},
                     where=where)
        if self.mode is Mode.PROGRESSIVE and self.ratio != int(self.ratio):
            raise ValueError(f"{where}: a progressive ratio is a whole number of lines per "
                             f"agent, got {self.ratio}; use mode 'power' for a fraction")
        cap = REGIME_CAPS.get(self.regime)
        if cap is not None and self.target_abandon > cap:
            raise ValueError(f"{where}: target_abandon {self.target_abandon} is above the "
                             f"{self.regime} cap of {cap}")
        if cap is not None and self.ring_timeout < REGULATED_MIN_RING:
            raise ValueError(f"{where}: ring_timeout must be at least {REGULATED_MIN_RING} s "
                             f"under regime {self.regime}, got {self.ring_timeout}")
        limit = REGULATED_ABANDON_AFTER if cap is not None else CAMPAIGN["abandon_after"].high
        if not 0.0 <= self.abandon_after <= limit:
            raise ValueError(f"{where}: abandon_after must be in [0, {limit}] s under "
                             f"regime {self.regime}, got {self.abandon_after}")
        if (self.abandon_route is AbandonRoute.CAMPAIGN) != (self.abandon_target is not None):
            raise ValueError(f"{where}: abandon_target goes with abandon_route 'campaign'")
        if self.abandon_target == self.name:
            raise ValueError(f"{where}: cannot route abandoned calls to itself")
        if self.vicidial_drop_action not in ("average", "hard_limit"):
            raise ValueError(f"{where}: vicidial_drop_action is 'average' or 'hard_limit'")

    @property
    def cap(self) -> float | None:
        """The regime's hard abandon cap, or None where the regime sets no number."""
        return REGIME_CAPS.get(self.regime)
