"""When a contact may be called: retries by outcome, windows, holidays, limits, best time.

Pure functions of epoch seconds (UTC) and the contact's own time zone: no clock, no I/O,
so the store can apply them inside its claim transaction and tests can walk across a DST
change with explicit instants.

What the operators configure (field notes: 时间策略 time strategy, 客保 customer protection;
dialer-anchors.md section 1, VICIdial lead recycling and call times; section 3 for the
regulations):

- **retries by outcome**: a delay per outcome (busy again after 10 min, no answer after
  2 h, machine the next day) and a maximum number of attempts; outcomes without a delay
  are final (a person was reached, the number is invalid);
- **calling windows** per weekday in the contact's local time, and **holidays** (local
  dates on which nobody is called). US 16 CFR 310.4(c) allows 08:00-21:00 local; China
  sets no hours in numbers (工信部联信管〔2018〕138号 says "regulated hours"); the default
  window here is 09:00-21:00 every day, which fits both;
- **limits per contact**: calls per local calendar day and per local calendar week
  (Monday-Sunday), and a lockout after an abandoned call (Ofcom 2016: no repeat within
  72 h; ``abandon_lockout = 259200`` s);
- **best time to call**: retries are moved to the next hour of the week (in the contact's
  time) whose learned live-answer rate is close to the best open hour's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from trunkline.dialer.campaigns.bounds import RETRY_DELAY, STRATEGY, check_bounds
from trunkline.dialer.vocab import CallOutcome

HOUR = 3_600.0
DAY = 86_400.0
HOURS_PER_WEEK = 168
#: Ofcom persistent-misuse statement (2016): no repeat call within 72 h of an abandon.
UK_ABANDON_LOCKOUT = 72 * HOUR
#: "Next day": the first window opening on a later local day.
NEXT_DAY = "next_day"

#: Default delays (seconds, or NEXT_DAY); outcomes absent here are final.
DEFAULT_RETRIES: dict[str, float | str] = {
    CallOutcome.BUSY: 600.0,
    CallOutcome.NO_ANSWER: 2 * HOUR,
    CallOutcome.MACHINE: NEXT_DAY,
    CallOutcome.CONGESTION: 300.0,
    CallOutcome.UNREACHABLE: 4 * HOUR,
    CallOutcome.ABANDONED: HOUR,
    CallOutcome.ERROR: 1_800.0,
}

_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _parse_hhmm(text: str, where: str) -> int:
    try:
        hh, mm = text.split(":")
        minutes = int(hh) * 60 + int(mm)
    except ValueError:
        raise ValueError(f"{where}: {text!r} is not a time HH:MM") from None
    if not 0 <= minutes <= 24 * 60 or int(mm) >= 60:
        raise ValueError(f"{where}: {text!r} is not a time of day")
    return minutes


@dataclass(frozen=True, slots=True)
class Windows:
    """Calling windows per weekday (0 = Monday), as minute ranges of the local day.

    ``holidays`` are local dates (ISO strings) with no calling at all.
    """

    days: tuple[tuple[tuple[int, int], ...], ...] = (((9 * 60, 21 * 60),),) * 7
    holidays: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if len(self.days) != 7:
            raise ValueError(f"windows need 7 weekdays, got {len(self.days)}")
        for day, ranges in zip(_WEEKDAYS, self.days, strict=True):
            for start, end in ranges:
                if not 0 <= start < end <= 24 * 60:
                    raise ValueError(f"window {day} {start}-{end}: start must be before end")
        for text in self.holidays:
            date.fromisoformat(text)

    @classmethod
    def from_dict(cls, spec: Mapping[str, Any]) -> Windows:
        """``{"mon": ["09:00-12:00", "14:00-21:00"], ..., "holidays": ["2025-10-01"]}``.

        Weekdays left out have no window; ``"default"`` applies to every weekday not given.
        """
        default = spec.get("default")
        days = []
        for name in _WEEKDAYS:
            ranges = spec.get(name, default) or []
            parsed = []
            for item in ranges:
                start, _, end = str(item).partition("-")
                parsed.append((_parse_hhmm(start, f"window {name}"),
                               _parse_hhmm(end, f"window {name}")))
            days.append(tuple(sorted(parsed)))
        return cls(tuple(days), frozenset(spec.get("holidays", ())))

    def to_dict(self) -> dict[str, Any]:
        def fmt(m: int) -> str:
            return f"{m // 60:02d}:{m % 60:02d}"
        out: dict[str, Any] = {name: [f"{fmt(a)}-{fmt(b)}" for a, b in ranges]
                               for name, ranges in zip(_WEEKDAYS, self.days, strict=True)}
        out["holidays"] = sorted(self.holidays)
        return out

    def is_open(self, t: float, tz: ZoneInfo) -> bool:
        """True when epoch instant ``t`` falls in a window in zone ``tz`` (DST-exact)."""
        local = datetime.fromtimestamp(t, tz)
        if local.date().isoformat() in self.holidays:
            return False
        minute = local.hour * 60 + local.minute + local.second / 60.0
        return any(a <= minute < b for a, b in self.days[local.weekday()])

    def next_open(self, t: float, tz: ZoneInfo, *, horizon_days: int = 400) -> float | None:
        """The first instant at or after ``t`` inside a window, or None within the horizon.

        Window starts are local wall-clock times: on the day clocks go forward a start in
        the skipped hour opens at the first instant after the gap, and :meth:`is_open`
        re-checks each candidate in local time.
        """
        if self.is_open(t, tz):
            return t
        day = datetime.fromtimestamp(t, tz).date()
        for offset in range(horizon_days + 1):
            d = day + timedelta(days=offset)
            if d.isoformat() in self.holidays:
                continue
            for start, _end in self.days[d.weekday()]:
                local = datetime.combine(d, time(start // 60, start % 60), tzinfo=tz)
                candidate = local.timestamp()
                if datetime.fromtimestamp(candidate, tz).replace(tzinfo=None) \
                        != local.replace(tzinfo=None):
                    candidate = _after_gap(local, tz, self)
                if candidate >= t and self.is_open(candidate, tz):
                    return candidate
        return None


def _after_gap(local: datetime, tz: ZoneInfo, windows: Windows) -> float:
    """A window start that does not exist (clocks went forward): the first open minute
    after it, found between the two readings of the wall time (PEP 495 fold=1, fold=0)."""
    early = local.replace(fold=1).timestamp()
    late = local.replace(fold=0).timestamp()
    t = min(early, late)
    while t < max(early, late) and not windows.is_open(t, tz):
        t += 60.0
    return t


def local_midnight_after(t: float, tz: ZoneInfo, days: int = 1) -> float:
    """The local midnight ``days`` days after the local date of ``t`` (DST-exact)."""
    d = datetime.fromtimestamp(t, tz).date() + timedelta(days=days)
    return datetime.combine(d, time(0), tzinfo=tz).timestamp()


def local_day_start(t: float, tz: ZoneInfo) -> float:
    return local_midnight_after(t, tz, 0)


def local_week_start(t: float, tz: ZoneInfo) -> float:
    """Local Monday 00:00 of the week holding ``t``."""
    d = datetime.fromtimestamp(t, tz).date()
    return datetime.combine(d - timedelta(days=d.weekday()), time(0), tzinfo=tz).timestamp()


def hour_of_week(t: float, tz: ZoneInfo) -> int:
    """0 = Monday 00:00-01:00 local, 167 = Sunday 23:00-24:00 local."""
    local = datetime.fromtimestamp(t, tz)
    return local.weekday() * 24 + local.hour


@dataclass(slots=True)
class HourOfWeekStats:
    """Dials and live answers by local hour of week, for one campaign.

    ``rate(h)`` is smoothed towards the campaign's overall rate with ``prior`` pseudo-dials
    (a Beta prior), so one lucky call does not make an hour "best".
    """

    dials: list[float] = field(default_factory=lambda: [0.0] * HOURS_PER_WEEK)
    live: list[float] = field(default_factory=lambda: [0.0] * HOURS_PER_WEEK)
    prior: float = 20.0

    def add(self, how: int, *, live: bool, weight: float = 1.0) -> None:
        self.dials[how] += weight
        if live:
            self.live[how] += weight

    def overall(self) -> float:
        total = sum(self.dials)
        return sum(self.live) / total if total else 0.0

    def rate(self, how: int) -> float:
        p0 = self.overall()
        return (self.live[how] + self.prior * p0) / (self.dials[how] + self.prior)

    @property
    def samples(self) -> float:
        return sum(self.dials)


def best_time_after(t: float, tz: ZoneInfo, windows: Windows, stats: HourOfWeekStats, *,
                    ratio: float = 0.8, min_samples: float = 200.0) -> float | None:
    """The first open instant at or after ``t`` in an hour whose rate is within ``ratio``
    of the best open hour of the coming week; plain :meth:`Windows.next_open` until the
    campaign has ``min_samples`` dials to learn from.
    """
    first = windows.next_open(t, tz)
    if first is None or stats.samples < min_samples:
        return first
    # candidate hour starts over the next 7 days, each at its first open instant
    candidates: list[tuple[float, int]] = []
    cursor = first
    end = first + 7 * DAY
    while cursor is not None and cursor < end:
        how = hour_of_week(cursor, tz)
        candidates.append((cursor, how))
        local = datetime.fromtimestamp(cursor, tz).replace(minute=0, second=0, microsecond=0)
        nxt = (local + timedelta(hours=1)).timestamp()
        nxt = max(nxt, cursor + 60.0)
        cursor = windows.next_open(nxt, tz, horizon_days=8)
    if not candidates:
        return first
    best = max(stats.rate(h) for _, h in candidates)
    for instant, how in candidates:
        if stats.rate(how) >= ratio * best:
            return instant
    return first


@dataclass(frozen=True, slots=True)
class Strategy:
    """Everything that decides *when* a contact of a campaign is called (JSON-serialisable)."""

    retries: Mapping[str, float | str] = field(default_factory=lambda: dict(DEFAULT_RETRIES))
    max_attempts: int = 5
    windows: Windows = field(default_factory=Windows)
    time_zone: str = "Asia/Shanghai"          # contacts whose number does not say
    max_per_day: int = 3
    max_per_week: int = 10
    abandon_lockout: float = 0.0              # seconds; UK_ABANDON_LOCKOUT under Ofcom
    best_time: bool = False
    best_time_ratio: float = 0.8

    def __post_init__(self) -> None:
        for outcome, delay in self.retries.items():
            CallOutcome(outcome)
            if delay != NEXT_DAY and not RETRY_DELAY.admits(delay):
                raise ValueError(f"retry delay for {outcome!r} must be seconds in "
                                 f"{RETRY_DELAY.interval} or {NEXT_DAY!r}, got {delay!r}")
        # Every count and duration within its bound (bounds.py says why each).
        check_bounds(STRATEGY, {f: getattr(self, f) for f in STRATEGY})
        if self.max_per_week < self.max_per_day:
            raise ValueError(f"limits need 1 <= max_per_day ({self.max_per_day}) <= "
                             f"max_per_week ({self.max_per_week})")
        ZoneInfo(self.time_zone)

    @classmethod
    def from_dict(cls, spec: Mapping[str, Any]) -> Strategy:
        known = {"retries", "max_attempts", "windows", "time_zone", "max_per_day",
                 "max_per_week", "abandon_lockout", "best_time", "best_time_ratio"}
        unknown = set(spec) - known
        if unknown:
            raise ValueError(f"unknown strategy keys: {', '.join(sorted(unknown))}; "
                             f"expected some of {', '.join(sorted(known))}")
        kwargs = dict(spec)
        if "windows" in kwargs:
            kwargs["windows"] = Windows.from_dict(kwargs["windows"])
        if "retries" in kwargs:
            kwargs["retries"] = dict(kwargs["retries"])
        return cls(**kwargs)

    def to_dict(self) -> dict[str, Any]:
        return {
            "retries": {str(k): v for k, v in self.retries.items()},
            "max_attempts": self.max_attempts, "windows": self.windows.to_dict(),
            "time_zone": self.time_zone, "max_per_day": self.max_per_day,
            "max_per_week": self.max_per_week, "abandon_lockout": self.abandon_lockout,
            "best_time": self.best_time, "best_time_ratio": self.best_time_ratio,
        }

    def zone(self, contact_zone: str | None) -> ZoneInfo:
        return ZoneInfo(contact_zone or self.time_zone)

    def next_attempt(self, outcome: str, attempts: int, now: float, tz: ZoneInfo,
                     stats: HourOfWeekStats | None = None) -> float | None:
        """When to call again after ``outcome`` (the ``attempts``-th call), or None: done."""
        delay = self.retries.get(CallOutcome(outcome))
        if delay is None or attempts >= self.max_attempts:
            return None
        after = local_midnight_after(now, tz) if delay == NEXT_DAY else now + float(delay)
        if self.best_time and stats is not None:
            when = best_time_after(after, tz, self.windows, stats, ratio=self.best_time_ratio)
        else:
            when = self.windows.next_open(after, tz)
        return when


def limit_block(strategy: Strategy, now: float, tz: ZoneInfo, calls_at: Iterable[float]
                ) -> float | None:
    """If the per-day or per-week limit forbids a call at ``now``, the time it lifts.

    ``calls_at`` are the instants of this contact's calls (any campaign may be counted by
    the caller), newest or oldest first.
    """
    day0, week0 = local_day_start(now, tz), local_week_start(now, tz)
    today = week = 0
    for t in calls_at:
        if t >= week0:
            week += 1
            if t >= day0:
                today += 1
    if week >= strategy.max_per_week:
        return _next_week(now, tz)
    if today >= strategy.max_per_day:
        return local_midnight_after(now, tz)
    return None


def _next_week(now: float, tz: ZoneInfo) -> float:
    d = datetime.fromtimestamp(now, tz).date()
    monday = d - timedelta(days=d.weekday()) + timedelta(days=7)
    return datetime.combine(monday, time(0), tzinfo=tz).timestamp()
