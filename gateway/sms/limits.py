"""Per-SIM limits on calls and SMS, and rotation across the modules of a group (sans-IO).

Carriers block SIMs that call or text like a machine (too many in an hour or a day,
calls back to back), so each module group carries a :class:`LimitPolicy` and every call
or message is admitted through :meth:`SimLimits.acquire`, which picks the module of the
group whose SIM was used least recently among those within every limit, or refuses
naming each SIM's binding limit.

Choices, and why:

* **Rolling windows** (the last 3600 s and the last 86400 s), not calendar hours or
  days: carriers' fraud detection looks at rates over sliding periods, and a calendar
  day would allow a full day's quota in the minutes either side of midnight. Rolling
  windows need no time zone either.
* **Counted per SIM** (its ICCID where the module knows it, else the module's name), so
  a SIM moved to another module keeps its history.
* **SMS are counted in parts**: the network bills and counts each part of a long
  message as one SMS.
* **Counted when admitted**: a call or message counts from the moment it is let through,
  whatever becomes of it (a failed attempt has touched the network too); the record is
  stored before the attempt starts, so a restart never forgets it (``store.py``).
* **Rest between calls** runs from the end of the SIM's last call (``call_ended``); a
  call still up is itself a reason to wait (a module carries one call at a time).

This module reads no clock: ``now`` is seconds since the epoch, given by the caller.
It lives in the gateway, not the mobile backend, because the gateway enforces it and may
not import backends (docs/architecture.md).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from trunkline.errors import TrunklineError
from trunkline.tomlconf import TomlDocument

__all__ = ["Grant", "LimitExceeded", "LimitPolicy", "SimLimits", "parse_limits"]

HOUR = 3600.0
DAY = 86400.0
KINDS = ("call", "sms")


@dataclass(frozen=True, slots=True)
class LimitPolicy:
    """What one SIM of a group may do. None means no limit."""

    calls_per_hour: int | None = None
    calls_per_day: int | None = None
    sms_per_hour: int | None = None
    sms_per_day: int | None = None
    call_rest: float = 0.0

    def __post_init__(self) -> None:
        for name in ("calls_per_hour", "calls_per_day", "sms_per_hour", "sms_per_day"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                      or value < 0):
                raise ValueError(f"{name} must be a whole number >= 0, got {value!r}")
        if isinstance(self.call_rest, bool) or not isinstance(self.call_rest, int | float) \
                or not 0 <= self.call_rest <= DAY:
            raise ValueError(f"call_rest must be 0..86400 seconds, got {self.call_rest!r}")

    def windows(self, kind: str) -> tuple[tuple[str, float, int | None], ...]:
        """(limit name, window seconds, limit) for ``kind``."""
        if kind == "call":
            return (("calls_per_hour", HOUR, self.calls_per_hour),
                    ("calls_per_day", DAY, self.calls_per_day))
        return (("sms_per_hour", HOUR, self.sms_per_hour),
                ("sms_per_day", DAY, self.sms_per_day))


_FIELDS = {"calls_per_hour", "calls_per_day", "sms_per_hour", "sms_per_day", "call_rest"}


def parse_limits(doc: TomlDocument, table: Any, path: tuple[str, ...] = ("sim_limits",)
                 ) -> dict[str, LimitPolicy]:
    """``[sim_limits.<group>]`` tables of the gateway configuration -> policies by group.

    Errors name the file, the line and the key (``sim_limits.gsm.sms_per_hour``)."""
    if not isinstance(table, dict):
        raise doc.error(f"[{path[-1]}] must be a table of groups", path)
    out: dict[str, LimitPolicy] = {}
    for group, values in table.items():
        where = (*path, group)
        if not isinstance(values, dict):
            raise doc.error(f"[{'.'.join(where)}] must be a table, not {values!r}", where)
        for key, value in values.items():
            if key not in _FIELDS:
                raise doc.error(f"unknown key {key!r} in [{'.'.join(where)}]; known: "
                                f"{', '.join(sorted(_FIELDS))}", (*where, key))
            if key == "call_rest":
                ok = isinstance(value, int | float) and not isinstance(value, bool) and \
                    0 <= value <= DAY
                if not ok:
                    raise doc.error(f"call_rest must be a number of seconds 0..86400, "
                                    f"not {value!r}", (*where, key))
            elif isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise doc.error(f"{key} must be a whole number >= 0, not {value!r}",
                                (*where, key))
        out[group] = LimitPolicy(**values)
    return out


class LimitExceeded(TrunklineError):
    """Every SIM of the group is over a limit. ``reasons`` maps each SIM to its reason
    and ``retry_at`` is the earliest time one of them is free again (None: never, a
    limit of 0)."""

    def __init__(self, group: str, kind: str, reasons: Mapping[str, str],
                 retry_at: float | None) -> None:
        self.group = group
        self.kind = kind
        self.reasons = dict(reasons)
        self.retry_at = retry_at
        what = "calls" if kind == "call" else "SMS"
        detail = "; ".join(f"{sim}: {why}" for sim, why in self.reasons.items())
        super().__init__(f"no SIM of group {group!r} may take more {what} now ({detail})")


@dataclass(frozen=True, slots=True)
class Grant:
    """One admitted call or message: which SIM (and module), what, how many, when."""

    sim: str
    module: str
    kind: str
    at: float
    count: int = 1


@dataclass
class _Usage:
    calls: deque[tuple[float, int]] = field(default_factory=deque)
    sms: deque[tuple[float, int]] = field(default_factory=deque)
    last_used: float = float("-inf")
    last_call_end: float = float("-inf")
    in_call: int = 0

    def log(self, kind: str) -> deque[tuple[float, int]]:
        return self.calls if kind == "call" else self.sms


class SimLimits:
    """The usage of every SIM and the policies of the groups (see the module docstring)."""

    def __init__(self, policies: Mapping[str, LimitPolicy]) -> None:
        self.policies = dict(policies)
        self._usage: dict[str, _Usage] = {}

    def usage(self, sim: str) -> _Usage:
        return self._usage.setdefault(sim, _Usage())

    # -- restoring --------------------------------------------------------------------
    def restore(self, grants: Iterable[Grant], call_ends: Iterable[tuple[str, float]],
                now: float) -> list[tuple[str, float]]:
        """Replay stored grants and call ends (a restart must not reset anything).

        A call whose end was never stored was cut by the restart: it ended at ``now`` at
        the latest, so its rest counts from ``now``. Those implied ends are returned: the
        caller stores them, or the next restart would move them later again."""
        last_call: dict[str, float] = {}
        for g in sorted(grants, key=lambda g: g.at):
            if now - g.at < DAY:
                self.usage(g.sim).log(g.kind).append((g.at, g.count))
            u = self.usage(g.sim)
            u.last_used = max(u.last_used, g.at)
            if g.kind == "call":
                last_call[g.sim] = max(last_call.get(g.sim, g.at), g.at)
        for sim, at in call_ends:
            u = self.usage(sim)
            u.last_call_end = max(u.last_call_end, at)
        implied = []
        for sim, started in last_call.items():
            u = self.usage(sim)
            if started > u.last_call_end:
                u.last_call_end = max(u.last_call_end, now)
                implied.append((sim, u.last_call_end))
        return implied

    # -- deciding -----------------------------------------------------------------------
    def check(self, group: str, sim: str, kind: str, now: float, count: int = 1
              ) -> tuple[str | None, float | None]:
        """(None, None) when ``sim`` may take ``count`` more of ``kind`` now; else the
        binding reason (the limit that frees last) and the time it may (None: never, or
        not known while a call is up)."""
        policy = self.policies.get(group, LimitPolicy())
        u = self.usage(sim)
        self._prune(u, now)
        blocked: list[tuple[float, str]] = []
        for name, window, limit in policy.windows(kind):
            if limit is None:
                continue
            if count > limit:
                what = "one" if limit == 0 else f"{count} parts"
                return f"{name} = {limit} allows no {what}", None
            log = u.log(kind)
            used = sum(n for at, n in log if now - at < window)
            if used + count > limit:
                span = "hour" if window == HOUR else "day"
                blocked.append((self._free_at(log, now, window, used + count - limit),
                                f"{name} = {limit} reached ({used} in the last {span})"))
        if kind == "call" and u.in_call:
            return "a call is up on this SIM", None
        if kind == "call" and policy.call_rest > 0:
            rest_until = u.last_call_end + policy.call_rest
            if now < rest_until:
                blocked.append((rest_until, f"call_rest = {policy.call_rest:g} s (last call "
                                            f"ended {now - u.last_call_end:.0f} s ago)"))
        if not blocked:
            return None, None
        free_at, reason = max(blocked)
        return reason, free_at

    @staticmethod
    def _free_at(log: deque[tuple[float, int]], now: float, window: float, excess: int
                 ) -> float:
        """When enough of the oldest entries in the window have left it to free
        ``excess``."""
        freed = 0
        for at, n in log:
            if now - at >= window:
                continue
            freed += n
            if freed >= excess:
                return at + window
        return now

    @staticmethod
    def _prune(u: _Usage, now: float) -> None:
        for log in (u.calls, u.sms):
            while log and now - log[0][0] >= DAY:
                log.popleft()

    def acquire(self, group: str, kind: str, candidates: Sequence[tuple[str, str]],
                now: float, count: int = 1) -> Grant:
        """Admit ``count`` of ``kind`` on one of ``candidates`` ((module, sim) pairs):
        the least recently used within every limit. Raises :class:`LimitExceeded`
        naming each SIM's reason when none is; the grant is already counted."""
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
        if count < 1:
            raise ValueError(f"count must be >= 1, got {count}")
        reasons: dict[str, str] = {}
        retry: list[float] = []
        best: tuple[float, int, str, str] | None = None
        for order, (module, sim) in enumerate(candidates):
            why, when = self.check(group, sim, kind, now, count)
            if why is not None:
                reasons[sim if sim == module else f"{sim} ({module})"] = why
                if when is not None:
                    retry.append(when)
                continue
            key = (self.usage(sim).last_used, order, module, sim)
            if best is None or key < best:
                best = key
        if best is None:
            if not candidates:
                reasons["(none)"] = "the group has no module that can take it"
            raise LimitExceeded(group, kind, reasons, min(retry) if retry else None)
        _, _, module, sim = best
        grant = Grant(sim, module, kind, now, count)
        self.record(grant)
        return grant

    def record(self, grant: Grant) -> None:
        """Count a grant (acquire does; restore and tests may)."""
        u = self.usage(grant.sim)
        u.log(grant.kind).append((grant.at, grant.count))
        u.last_used = max(u.last_used, grant.at)
        if grant.kind == "call":
            u.in_call += 1

    def call_ended(self, sim: str, now: float) -> None:
        u = self.usage(sim)
        u.in_call = max(0, u.in_call - 1)
        u.last_call_end = max(u.last_call_end, now)

    def snapshot(self, sim: str, now: float) -> dict[str, Any]:
        """Counts in the windows, for ``sms.limits`` and status pages."""
        u = self.usage(sim)
        self._prune(u, now)
        return {
            "calls_last_hour": sum(n for at, n in u.calls if now - at < HOUR),
            "calls_last_day": sum(n for _, n in u.calls),
            "sms_last_hour": sum(n for at, n in u.sms if now - at < HOUR),
            "sms_last_day": sum(n for _, n in u.sms),
            "in_call": bool(u.in_call),
            "last_call_end": None if u.last_call_end == float("-inf") else u.last_call_end,
        }
