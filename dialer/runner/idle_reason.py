"""Why a running campaign dials nothing: in words for ``dialer run``'s progress output,
and as data for the supervisor's floor.

A live ``dialer run`` started outside its calling windows printed ``dials 0`` line after
line with no reason, and the service's console showed the campaign ``Running`` with no
dials and no word either (issue 15): the claim moves each contact that fails a time
check to when it passes (store/claims.py), so the campaign just waits. :func:`idle_state`
says what it waits for from the strategy and the earliest due contact (the floor's
``idle``, said by the console in its language), :func:`idle_sentence` in English;
:class:`IdleNotices` says it once, and again only when the reason changes. Sans-IO: the
caller gives the times and prints.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from trunkline.dialer.campaigns.strategies import Strategy

__all__ = ["IdleNotices", "idle_reason", "idle_sentence", "idle_state"]

_DAY_NAMES = ("Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays",
              "Sundays")


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


_DAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def idle_state(strategy: Strategy, next_due: float | None, now: float
               ) -> dict[str, str | None] | None:
    """Why a campaign has nothing to dial at ``now``, as plain data for the supervisor's
    floor (which says it in the page's language), or None when a contact is due (or none
    waits: the list is finished, which the floor says itself).

    ``why`` is ``window`` (outside the calling windows: ``day`` says how, ``outside``
    with the day's ``ranges``, ``holiday`` with its ``date``, ``no_window`` with its
    ``weekday`` key ``mon``..``sun``; ``opens`` when the next window opens, None if none
    within 400 days) or ``not_due`` (retry delays, limits, lockouts, the contacts' own
    zones). ``due`` is the first contact's due time; times are local minutes
    (``YYYY-MM-DD HH:MM``) in ``time_zone``, the strategy's.

    ``next_due`` is the earliest ``next_at`` of its waiting contacts (Store.next_due).
    """
    if next_due is None or next_due <= now:
        return None
    tz = ZoneInfo(strategy.time_zone)
    state: dict[str, str | None] = {
        "why": "not_due", "time_zone": strategy.time_zone,
        "due": datetime.fromtimestamp(next_due, tz).strftime("%Y-%m-%d %H:%M")}
    if strategy.windows.is_open(now, tz):
        return state
    local = datetime.fromtimestamp(now, tz)
    opens = strategy.windows.next_open(now, tz)
    day = local.date().isoformat()
    ranges = strategy.windows.days[local.weekday()]
    state.update(
        why="window",
        day="holiday" if day in strategy.windows.holidays else
        "outside" if ranges else "no_window",
        ranges=", ".join(f"{_hhmm(a)}-{_hhmm(b)}" for a, b in ranges), date=day,
        weekday=_DAY_KEYS[local.weekday()],
        opens=None if opens is None else
        datetime.fromtimestamp(opens, tz).strftime("%Y-%m-%d %H:%M"))
    return state


def idle_sentence(campaign: str, state: dict[str, str | None]) -> str:
    """:func:`idle_state` in the words of ``dialer run``'s progress output."""
    if state["why"] == "not_due":
        return (f"campaign {campaign!r} dials nothing: no contact is due before "
                f"{state['due']} ({state['time_zone']}; retry delays, daily limits, "
                f"lockouts or the contacts' own time zones)")
    if state["day"] == "holiday":
        day = f"a holiday ({state['date']}): no calling window"
    elif state["day"] == "no_window":
        day = f"no calling window on {_DAY_NAMES[_DAY_KEYS.index(str(state['weekday']))]}"
    else:
        plural = "s" if "," in str(state["ranges"]) else ""
        day = f"outside the calling window{plural} {state['ranges']}"
    when = ("no window opens within 400 days" if state["opens"] is None else
            f"next opens {state['opens']}")
    return (f"campaign {campaign!r} dials nothing: {day} ({state['time_zone']}); "
            f"{when}; the first contact is due {state['due']}")


def idle_reason(campaign: str, strategy: Strategy, next_due: float | None,
                now: float) -> str | None:
    """Why ``campaign`` has nothing to dial at ``now``, in words, or None when a contact
    is due (or none waits): :func:`idle_state` said by :func:`idle_sentence`."""
    state = idle_state(strategy, next_due, now)
    return None if state is None else idle_sentence(campaign, state)


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
