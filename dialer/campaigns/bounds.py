"""The range of every number a campaign can be given, defined once.

A campaign's numbers reach the dialer through its TOML file (``trunkline dialer campaign
create``, ``dialer clean create``), the admin API (``PUT /api/admin/campaigns/{name}``),
a supervisor's live change (``PATCH /api/campaigns/{name}/settings``) and the run
options (``dialer run --ratio --wrap-up --hours``, ``dialer clean run``). Each entry
point checks them against the tables here, so ``max_attempts = 1000000000`` or a ring
timeout of a year is refused before it is stored instead of driving the retry and
pacing machinery into nonsense (issue 15, red-team 10: "every numeric parameter is
finite and range-checked at the boundary").

Every bound says where it comes from: a regulation, carrier or dialer practice
(``../shared/reference/dialer-anchors.md``: VICIdial, Cisco UCCX, the US TSR/TCPA and
Ofcom figures), the gateway's own limit, or, where nothing sets a number, a sanity
bound chosen well beyond what any operator would ask (the reason is given). Rules that
depend on other settings (the regime's 15 s minimum ring and 2 s abandon limit,
``max_per_week >= max_per_day``) stay with the dataclass that knows both values.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["CAMPAIGN", "CLEANING", "DESK", "RETRY_DELAY", "RUN_OPTIONS", "STRATEGY",
           "Bound", "check_bounds"]

DAY = 86_400.0


@dataclass(frozen=True, slots=True)
class Bound:
    """A closed (or half-open) interval a setting must lie in, and why."""

    low: float
    high: float
    why: str
    whole: bool = False
    low_open: bool = False
    high_open: bool = False
    unit: str = ""

    def is_number(self, value: Any) -> bool:
        """The right kind of number (finite; whole where :attr:`whole`), in range or not."""
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        if self.whole:
            return isinstance(value, int)
        return math.isfinite(value)

    def admits(self, value: Any) -> bool:
        if not self.is_number(value):
            return False
        above = value > self.low if self.low_open else value >= self.low
        below = value < self.high if self.high_open else value <= self.high
        return above and below

    @property
    def interval(self) -> str:
        """``[1, 100]``, ``(0, 600] s``, ``[0, 2592000] s`` (whole numbers in full)."""
        text = (f"{'(' if self.low_open else '['}{_number(self.low)}, "
                f"{_number(self.high)}{')' if self.high_open else ']'}")
        return f"{text} {self.unit}" if self.unit else text

    @property
    def expected(self) -> str:
        """What a message says is expected: ``a whole number in [1, 100]``."""
        kind = "a whole number" if self.whole else "a number"
        return f"{kind} in {self.interval}"

    def refusal(self, key: str, value: Any) -> str:
        """``max_attempts must be a whole number in [1, 100], got 1000000000``."""
        if not self.whole:
            return f"{key} must be in {self.interval}, got {value!r}"
        return f"{key} must be {self.expected}, got {value!r}"


def _number(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def check_bounds(table: Mapping[str, Bound], values: Mapping[str, Any], *,
                 where: str = "") -> None:
    """Raise ValueError (``where: key must be ..., got ...``) for the first value of
    ``values`` whose key has a bound in ``table`` and lies outside it; keys without a
    bound, and None (not given), pass."""
    for key, bound in table.items():
        value = values.get(key)
        if value is not None and not bound.admits(value):
            prefix = f"{where}: " if where else ""
            raise ValueError(prefix + bound.refusal(key, value))


_WEEK = 7 * DAY
_MONTH = 30 * DAY

#: A retry delay (each ``[strategy.retries]`` entry that is not ``next_day``).
RETRY_DELAY = Bound(0.0, _MONTH, "the TSR measures a campaign over 30-day periods "
                    "(16 CFR 310.4(b)(4)); a retry further away than that is a new list, "
                    "and VICIdial's attempt_delay default is 1,800 s", unit="s")

#: The ``[strategy]`` table (:class:`~trunkline.dialer.campaigns.strategies.Strategy`).
STRATEGY: dict[str, Bound] = {
    "max_attempts": Bound(1, 100, "sanity: 100 calls to one number is ten weeks at the "
                          "most the default max_per_week (10) allows; Ofcom's persistent "
                          "misuse rules and China's 'stop after refusal' make more "
                          "indefensible", whole=True),
    "max_per_day": Bound(1, 24, "sanity: one call an hour round the clock, far above "
                         "any calling window's worth (TSR 08:00-21:00 is 13 h)",
                         whole=True),
    "max_per_week": Bound(1, 168, "sanity: one call an hour for the whole week (168 h)",
                          whole=True),
    "abandon_lockout": Bound(0.0, _MONTH, "Ofcom asks 72 h after an abandon; 30 days "
                             "(the TSR's period) is the most any rule implies; longer is "
                             "a DNC entry", unit="s"),
    "best_time_ratio": Bound(0.0, 1.0, "a share of the best hour's answer rate",
                             low_open=True),
}

#: The ``[campaign]`` table: the engine's
#: :class:`~trunkline.dialer.pacing.campaign.CampaignConfig` and the runner's
#: :class:`~trunkline.dialer.runner.settings.RunnerSettings`.
CAMPAIGN: dict[str, Bound] = {
    "ratio": Bound(1.0, 10.0, "lines per agent: Cisco UCCX allows 1-3, VICIdial's "
                   "adaptive_maximum_level defaults to 3; 10 leaves room for very low "
                   "answer rates"),
    "target_abandon": Bound(0.0, 1.0, "a share of live answers (the regime's cap, 3 % "
                            "under US and UK, is checked on top)", low_open=True,
                            high_open=True),
    "ring_timeout": Bound(0.0, 600.0, "the gateway rings a call at most 600 s "
                          "(call.originate's ring_timeout); at least 15 s under US/UK "
                          "(16 CFR 310.4(b)(4)(ii), Ofcom) is checked on top; VICIdial "
                          "suggests 21-26 s", low_open=True, unit="s"),
    "abandon_after": Bound(0.0, 60.0, "2 s under US/UK (checked on top: 16 CFR "
                           "310.4(b)(4)(iii), Ofcom); sanity elsewhere: a minute of "
                           "silence is already far past what a person waits", unit="s"),
    "max_lines_per_agent": Bound(1.0, 20.0, "Cisco UCCX maxLinesPerAgent is 1-3; 20 is "
                                 "a sanity ceiling for very low answer rates"),
    "pace_interval": Bound(0.05, 10.0, "the engine decides at least every 10 s; below "
                           "50 ms is finer than the gateway's 20 ms tick can act on",
                           unit="s"),
    "precise_target": Bound(0.0, 0.5, "a share of live answers: at half, precise mode "
                            "is no longer precise", low_open=True, high_open=True),
    "preview_timeout": Bound(0.0, 3_600.0, "sanity: an agent reads a record for "
                             "seconds to minutes; an hour matches max_wrap_up's ceiling",
                             low_open=True, unit="s"),
    "amd_false_positive_rate": Bound(0.0, 1.0, "a share (Ofcom's reasoned estimate of "
                                     "AMD false positives)", high_open=True),
    "day_offset": Bound(-DAY, DAY, "seconds to the local midnight: UTC offsets lie in "
                        "-12 h..+14 h (IANA), a day either way is the sanity margin",
                        unit="s"),
    "start": Bound(-366 * DAY, 4_102_444_800.0, "an epoch instant (or engine time) "
                   "before 2100-01-01: sanity, a later start never begins its 30-day "
                   "period; in engine time a period may have begun before the run's "
                   "t=0 (a simulation or test placing a window boundary early), up to "
                   "a year", unit="s"),
    "vicidial_max_level": Bound(1.0, 20.0, "VICIdial's adaptive_maximum_level defaults "
                                "to 3.0; no higher than max_lines_per_agent's ceiling"),
    "warmup_live": Bound(0, 10_000, "live answers before dialling beyond free agents; "
                         "0 turns it off (Cisco UCCX's correction window is 10-1000)",
                         whole=True),
    "agent_wait_target": Bound(0.0, 600.0, "seconds an agent waits between calls; "
                               "0: none. Ten minutes is no longer a dialler's objective",
                               unit="s"),
    "machine_message_wait": Bound(0.2, 10.0, "seconds of quiet after a machine's beep "
                                  "(VICIdial's AMD() waits 1,000 ms after a greeting)",
                                  unit="s"),
    "agent_lost_wait": Bound(0.0, 600.0, "a customer waits on hold for another agent: "
                             "ten minutes is already long", unit="s"),
}

#: The ``[desk]`` table (:class:`~trunkline.dialer.desk.config.DeskConfig`).
DESK: dict[str, Bound] = {
    "max_wrap_up": Bound(1.0, 3_600.0, "seconds to save a disposition (default 120); "
                         "an hour is the sanity ceiling", unit="s"),
}

#: A cleaning campaign's ``cleaning`` table
#: (:class:`~trunkline.dialer.cleaning.settings.CleaningSettings`).
CLEANING: dict[str, Bound] = {
    "concurrency": Bound(1, 2_048, "lines at once: no card this project drives has more "
                         "(the largest bench: 27 PRI spans, 1,020 channels); twice that "
                         "is the sanity margin", whole=True),
    "rate": Bound(0.01, 100.0, "new calls per second; carriers flag ring-and-release "
                  "bursts (trunk_per_minute bounds each trunk on top)"),
    "retries": Bound(0, 10, "more tries for an undecided number", whole=True),
    "retry_after": Bound(0.0, _WEEK, "seconds before such a try: a week at most",
                         unit="s"),
    "listen": Bound(5.0, 300.0, "seconds a call may go on with nothing decisive",
                    unit="s"),
    "sit_wait": Bound(0.0, 30.0, "seconds after a SIT for its announcement", unit="s"),
    "trunk_per_minute": Bound(1, 6_000, "attempts per trunk per minute (100 a second)",
                              whole=True),
    "trunk_min_gap": Bound(0.0, 600.0, "seconds between two attempts on one trunk",
                           unit="s"),
}

#: ``dialer run`` / ``dialer clean run`` / ``dialer serve`` options that shape a
#: campaign's run, by option name.
RUN_OPTIONS: dict[str, Bound] = {
    "--hours": Bound(0.0, 31 * 24.0, "a shift: a month of hours at most (sanity: "
                     "virtual time would otherwise run a campaign for years)",
                     low_open=True, unit="h"),
    "--wrap-up": Bound(0.0, 3_600.0, "seconds in wrap-up after a call, as [desk] "
                       "max_wrap_up", unit="s"),
    "--ratio": CAMPAIGN["ratio"],
    "--progress-every": Bound(0.0, DAY, "seconds between progress lines", low_open=True,
                              unit="s"),
    "--drain": Bound(0.0, 3_600.0, "seconds calls in flight may take at stop",
                     unit="s"),
    "--idle-timeout": Bound(0.0, 7 * DAY, "seconds without a request that end a web "
                            "session: a week at most", low_open=True, unit="s"),
}
