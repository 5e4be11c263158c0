"""Why a running campaign dials nothing, in words for its progress output.

A live ``dialer run`` started outside its calling windows printed ``dials 0`` line after
line with no reason (issue 15): the claim moves each contact that fails a time check to
when it passes (store/claims.py), so the campaign just waits. :func:`idle_reason` says
what it waits for from the strategy and the earliest due contact; :class:`IdleNotices`
says it once, and again only when the reason changes. Sans-IO: the caller gives the
times and prints.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from trunkline.dialer.campaigns.strategies import Strategy, Windows

__all__ = ["IdleNotices", "idle_reason", "windows_of_day"]

_DAY_NAMES = ("Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays",
              "Sundays")


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def windows_of_day(windows: Windows, local: datetime) -> str:
    """The calling windows of ``local``'s day, in words: ``the calling window 09:00-21:00``,
    ``the calling windows 09:00-12:00, 14:00-21:00``, ``a holiday (2026-10-01)`` or
    ``no calling window on Sundays``."""
    day = local.date().isoformat()
    if day in windows.holidays:
        return f"a holiday ({day}): no calling window"
    ranges = windows.days[local.weekday()]
    if not ranges:
        return f"no calling window on {_DAY_NAMES[local.weekday()]}"
    words = ", ".join(f"{_hhmm(a)}-{_hhmm(b)}" for a, b in ranges)
    return f"outside the calling window{'s' if len(ranges) > 1 else ''} {words}"


def idle_reason(campaign: str, strategy: Strategy, next_due: float | None,
                now: float) -> str | None:
    """Why ``campaign`` has nothing to dial at ``now``, or None when a contact is due (or
    none waits: the list is finished, which the run says itself).

    ``next_due`` is the earliest ``next_at`` of its waiting contacts (Store.next_due).
    The window is judged in the strategy's zone, the one of contacts whose number does
    not say theirs; the due time is given in the same zone.
    """
    if next_due is None or next_due <= now:
        return None
    tz = ZoneInfo(strategy.time_zone)
    due = datetime.fromtimestamp(next_due, tz).strftime("%Y-%m-%d %H:%M")
    local = datetime.fromtimestamp(now, tz)
    if not strategy.windows.is_open(now, tz):
        opens = strategy.windows.next_open(now, tz)
        when = ("no window opens within 400 days" if opens is None else
                "next opens " + datetime.fromtimestamp(opens, tz).strftime("%Y-%m-%d %H:%M"))
        return (f"campaign {campaign!r} dials nothing: "
                f"{windows_of_day(strategy.windows, local)} ({strategy.time_zone}); "
                f"{when}; the first contact is due {due}")
    return (f"campaign {campaign!r} dials nothing: no contact is due before {due} "
            f"({strategy.time_zone}; retry delays, daily limits, lockouts or the "
            f"contacts' own time zones)")


class IdleNotices:
    """Says each campaign's idle reason once, and again when it changes; forgets it when
    the campaign has something to dial again, so a later idle spell is said too."""

    def __init__(self, say: Callable[[str], None]) -> None:
        self.say = say
        self._said: dict[str, str | None] = {}

    def update(self, campaign: str, reason: str | None) -> None:
        if reason is not None and reason != self._said.get(campaign):
            self.say(reason)
        self._said[campaign] = reason
