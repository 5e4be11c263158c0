"""The live floor's I/O: read every gateway's latest snapshot and publish the floor on
the feed's own cadence, and the agents that changed at once (coalesced).

The facts are taken on each gateway's worker thread and left there as immutable
snapshots (:mod:`~trunkline.dialer.service.floor_snapshots`: after every runner step, and
at once on a desk event); the feed never waits for a runner: it reads the latest
snapshots, completes the campaigns with the host's status and, from the campaign
database every few seconds (in the background), each list's size, how much of it was
dialled and how much is left. The sans-IO :class:`~trunkline.dialer.service.floor.FloorWatch`
turns that into the floor, published as a ``floor`` event (supervisors and admins only:
it names every agent) and one ``floor.alarm`` event per alarm that started.

**When.** The whole floor every :data:`EVERY` seconds. Between two, when an agent's
fact changed (a state, a call on the screen, a login or logout), a ``floor.agents``
event with those agents' rows only (and ``gone``: the agents who left, and the new
``agent_states`` counts), :data:`GAP` seconds after the last one at the earliest, so a
burst of changes (a hundred agents going ready at the start of a shift) makes one event
every :data:`GAP`, not a hundred. Why not the whole floor on each change: with 1,000
channels a floor is some 60 KiB of JSON; four a second saturated the service's loop and
the supervisor's socket at load 15-20 here (the event queue of the slow socket grew by
200 MB and the run stalled), where the changed rows are a few hundred bytes.

A gateway whose runner is stuck (a slow gateway call) keeps its last snapshot on the
floor; ``gateways`` says each one's age and whether it is ``stale`` (older than
:data:`STALE_AFTER`).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import Callable, Sequence
from typing import Any

import structlog

from trunkline.dialer.service.floor import (
    AgentFact,
    CampaignFact,
    FloorFacts,
    FloorWatch,
    SpanFact,
    agent_row,
    agent_states,
)
from trunkline.dialer.service.floor_snapshots import FloorSnapshots, GatewaySnapshot
from trunkline.dialer.service.host import ServiceHost
from trunkline.dialer.store import Store

log = structlog.get_logger("trunkline.dialer.floor")

__all__ = ["EVERY", "GAP", "STALE_AFTER", "FloorFeed", "list_counts"]

#: How often the whole floor is published (seconds). The promise is "at least once a
#: second" as the supervisor's page receives it; a period of exactly 1 s gave intervals
#: of p50 1,000 ms but p99 1,061 ms (max 1,128) at 200 agents and 1,020 channels on a
#: quiet machine (bench_desk_floor), the event loop's jitter. 0.9 s keeps the margin.
EVERY = 0.9
#: The shortest time between two ``floor.agents`` events (seconds): the coalescing.
GAP = 0.25
#: How often the lists' counts are read from the database (seconds).
COUNTS_EVERY = 5.0
#: How often the campaigns' names are read from the database (seconds).
NAMES_EVERY = 2.0
#: A gateway snapshot older than this (seconds) is shown ``stale``: its runner is stuck.
STALE_AFTER = 3.0


def list_counts(store: Store) -> dict[str, tuple[int, int, int]]:
    """Per campaign: contacts, contacts dialled at least once, contacts still open."""
    rows = store.query(
        "SELECT k.name, COUNT(c.id), COALESCE(SUM(c.attempts > 0), 0), "
        "COALESCE(SUM(c.state IN ('ready', 'dialing')), 0) "
        "FROM campaign k LEFT JOIN contact c ON c.campaign_id = k.id GROUP BY k.name")
    return {r[0]: (int(r[1]), int(r[2]), int(r[3])) for r in rows}


class FloorFeed:
    """Publishes the floor on ``host`` (see the module docstring). ``clock`` dates the
    floor when no gateway was ever opened; ``monotonic`` times the cadence and the
    snapshots' age. It registers its snapshots' hook in ``host.watchers``."""

    def __init__(self, host: ServiceHost, store: Store, *,
                 clock: Callable[[], float] = time.time, every: float = EVERY,
                 gap: float = GAP, monotonic: Callable[[], float] = time.monotonic) -> None:
        if not 0.0 < gap <= every:
            raise ValueError(f"{gap=} must be in (0, {every=}]")
        self.host, self.store, self.clock, self.every, self.gap = host, store, clock, every, gap
        self.monotonic = monotonic
        self.watch = FloorWatch()
        self.snapshots = FloorSnapshots(list(host.workers), spans_every=min(every, 1.0),
                                        agents_every=min(every, 1.0), monotonic=monotonic)
        host.watchers.append(self.snapshots.watch)
        self.latest: dict[str, Any] | None = None
        self._counts: dict[str, tuple[int, int, int]] = {}
        self._names: list[str] | None = None
        self._changed: asyncio.Event | None = None
        self._shown: dict[str, AgentFact] = {}   # the agents as last published

    def close(self) -> None:
        """Stop taking snapshots (the host's workers forget the hook)."""
        with contextlib.suppress(ValueError):
            self.host.watchers.remove(self.snapshots.watch)

    async def refresh(self) -> None:
        """Read the campaigns' names and the lists' counts from the database (off the
        loop); :meth:`once` uses the last ones read."""
        await self._read_names()
        self._counts = await asyncio.to_thread(list_counts, self.store)

    async def _read_names(self) -> None:
        self._names = [c["name"] for c in await asyncio.to_thread(self.host.campaigns)]

    def _now(self, snaps: Sequence[GatewaySnapshot]) -> float:
        """The floor's time: the latest gateway's clock, else ``clock`` (none opened)."""
        nows = [s.now for s in snaps if s.now is not None]
        return max(nows) if nows else self.clock()

    def compose(self) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The floor from the latest snapshots, and the alarms that started; waits for
        nothing (no runner, no database)."""
        snaps = self.snapshots.latest()
        mono = self.monotonic()
        agents: list[AgentFact] = []
        counters: dict[str, CampaignFact] = {}
        self._shown = {}
        spans: list[SpanFact] = []
        for snap in snaps:
            agents += snap.agents
            self._shown.update({a.agent: a for a in snap.agents})
            counters.update({c.name: c for c in snap.campaigns})
            spans += snap.spans
        now = self._now(snaps)
        statuses = self.host.statuses()
        names = list(self._names or ())
        names += [n for n in statuses if n not in names] + [
            n for n in counters if n not in names and n not in statuses]
        campaigns = []
        for name in names:
            status = statuses.get(name, {})
            contacts, attempted, open_ = self._counts.get(name, (None, None, None))
            fact = counters.get(name) or CampaignFact(name=name, state="")
            campaigns.append(dataclasses.replace(
                fact, state=status.get("state", "idle"), open=open_, contacts=contacts,
                attempted=attempted, gateway=status.get("gateway", fact.gateway)))
        floor, alarms = self.watch.update(
            FloorFacts(tuple(agents), tuple(campaigns), tuple(spans)), now)
        floor["gateways"] = [_gateway_row(s, mono) for s in snaps]
        return floor, alarms

    async def once(self) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Compose and publish the floor once; returns it and its alarms."""
        if self._names is None:
            await self.refresh()
        return self._publish()

    def agents_changed(self) -> dict[str, Any] | None:
        """The ``floor.agents`` event (without its type) for the agents whose facts
        changed since the last floor or update, from the latest snapshots; None if
        none did. Waits for nothing."""
        snaps = self.snapshots.latest()
        agents = {a.agent: a for s in snaps for a in s.agents}
        changed = [a for name, a in agents.items() if self._shown.get(name) != a]
        gone = sorted(set(self._shown) - set(agents))
        if not changed and not gone:
            return None
        self._shown = agents
        now = self._now(snaps)
        return {"ts": now, "agents": [agent_row(a, now) for a in changed], "gone": gone,
                "agent_states": agent_states(agents.values())}

    def _publish_changes(self) -> None:
        update = self.agents_changed()
        if update is not None:
            self.host.publish({"type": "floor.agents", **update})

    def _publish(self) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        floor, alarms = self.compose()
        self.latest = floor
        self.host.publish({"type": "floor", **floor})
        for alarm in alarms:
            self.host.publish({"type": "floor.alarm", **alarm})
        return floor, alarms

    async def run(self) -> None:
        """Publish the floor every :attr:`every` seconds and, between two, the agents
        that changed (at most every :attr:`gap` seconds), until cancelled."""
        loop = asyncio.get_running_loop()
        changed = self._changed = asyncio.Event()

        def on_change() -> None:  # a worker thread: to the loop
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(changed.set)
        self.snapshots.on_change = on_change
        refresher = asyncio.ensure_future(self._refresh_loop())
        try:
            with contextlib.suppress(Exception):  # logged by the loop below if it fails
                await self.refresh()
            due = self.monotonic()
            while True:
                started = self.monotonic()
                changed.clear()   # what changes while composing comes in the next update
                try:
                    self._publish()
                except Exception:
                    log.exception("floor_failed")
                # The next floor is due one period after this one was DUE, not after it
                # went out: a floor the loop sent late is followed by one sooner, so
                # the lateness of a busy loop is not added to every interval (measured:
                # p99 1.27 s from "started + every" at load 5-13). Never in the past: a
                # loop more than a period behind does not send a burst to catch up.
                due = max(due + self.every, started + self.gap)
                pushed = started
                while True:
                    try:
                        await asyncio.sleep(max(0.0, min(pushed + self.gap, due)
                                                - self.monotonic()))
                        await asyncio.wait_for(changed.wait(),
                                               max(0.0, due - self.monotonic()))
                    except TimeoutError:
                        break    # the cadence: the whole floor
                    if self.monotonic() >= due:
                        break
                    changed.clear()
                    pushed = self.monotonic()
                    try:
                        self._publish_changes()
                    except Exception:
                        log.exception("floor_failed")
        finally:
            self.snapshots.on_change = None
            refresher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await refresher
            self.close()

    async def _refresh_loop(self) -> None:
        counts_at = self.monotonic()
        while True:
            await asyncio.sleep(NAMES_EVERY)
            try:
                await self._read_names()
                if self.monotonic() - counts_at >= COUNTS_EVERY:
                    self._counts = await asyncio.to_thread(list_counts, self.store)
                    counts_at = self.monotonic()
            except Exception:
                log.exception("floor_counts_failed")


def _gateway_row(snap: GatewaySnapshot, mono: float) -> dict[str, Any]:
    age = max(0.0, mono - snap.taken)
    return {"gateway": snap.gateway, "ts": snap.now, "age": round(age, 2),
            "stale": age > STALE_AFTER}
