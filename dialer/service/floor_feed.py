"""The live floor's I/O: gather the facts every second and publish the floor.

On each gateway's worker thread (between two runner steps, :meth:`ServiceHost.on_worker`;
a gateway no campaign has opened yet is not opened for it) it reads the desks, the
engine's counters and abandon ledgers, and the gateway's spans and channels
(``spans.list``, ``channels.list``); from the campaign database, every few
seconds, each list's size, how much of it was dialled and how much is left. The sans-IO
:class:`~trunkline.dialer.service.floor.FloorWatch` turns that into the floor, published
as a ``floor`` event (supervisors and admins only: it names every agent) and one
``floor.alarm`` event per alarm that started.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable
from typing import Any

import structlog

from trunkline.dialer.service.floor import (
    AgentFact,
    CampaignFact,
    ChannelFact,
    FloorFacts,
    FloorWatch,
    SpanFact,
)
from trunkline.dialer.service.host import ServiceHost
from trunkline.dialer.store import Store

log = structlog.get_logger("trunkline.dialer.floor")

__all__ = ["FloorFeed", "gather_gateway"]

#: How often the floor is published (seconds): the issue asks at least once a second.
EVERY = 1.0
#: How often the lists' counts are read from the database (seconds).
COUNTS_EVERY = 5.0


def gather_gateway(name: str, runner: Any, port: Any
                   ) -> tuple[float | None, list[AgentFact], list[dict[str, Any]],
                              list[SpanFact]]:
    """One gateway's facts, on its worker thread: its time, its agents, its running
    campaigns' counters (dicts, completed with the host's status later), its spans.
    A gateway the service has not opened yet (no campaign ran on it) is not opened for
    the floor: it has no facts (its time None)."""
    agents: list[AgentFact] = []
    if port is None:  # not opened yet: no campaign ran there
        return None, agents, [], []
    now = float(port.now())
    counters: list[dict[str, Any]] = []
    desk = getattr(runner, "desk", None)
    if desk is not None:
        for seat in list(desk.seats.values()):
            card = seat.card
            agents.append(AgentFact(
                agent=seat.agent, state=seat.state, since=seat.since, reason=seat.reason,
                campaigns=tuple(c for c, _ in seat.campaigns),
                campaign=card.campaign if card else None,
                contact=card.contact_id if card else None,
                number=card.number if card else None, gateway=name))
    engine = getattr(runner, "engine", None)
    if engine is not None:
        for campaign in list(getattr(runner, "campaigns", ())):
            stats = engine.stats(campaign)
            ledger = engine.ledger(campaign)
            ledger.rate(now)  # rolls the window over if a new one began
            config = runner.configs[campaign]
            pace_kind, pace = engine.pacing(campaign)
            counters.append({
                "name": campaign, "mode": str(config.mode), "regime": str(config.regime),
                "cap": config.cap, "target_abandon": config.target_abandon,
                "dials": stats.dials, "live": stats.live, "abandoned": stats.abandoned,
                "window_live": ledger.live, "window_abandoned": ledger.abandoned,
                "pace_kind": pace_kind, "pace": pace, "gateway": name})
    spans = port._call("spans.list")  # both ports send requests through _call
    rows = port._call("channels.list")
    by_span: dict[int, list[ChannelFact]] = {}
    for row in rows:
        by_span.setdefault(int(row["span"]), []).append(
            ChannelFact(int(row["channel"]), str(row["state"]), row.get("call")))
    span_facts = [SpanFact(name, int(s["span"]), str(s["kind"]), str(s["alarms"]),
                           tuple(by_span.get(int(s["span"]), ())))
                  for s in spans]
    return now, agents, counters, span_facts


def _gather_on(name: str, runner: Any, port: Any, store: Store
               ) -> tuple[float | None, list[AgentFact], list[dict[str, Any]],
                          list[SpanFact]]:
    return gather_gateway(name, runner, port)


def list_counts(store: Store) -> dict[str, tuple[int, int, int]]:
    """Per campaign: contacts, contacts dialled at least once, contacts still open."""
    rows = store.query(
        "SELECT k.name, COUNT(c.id), COALESCE(SUM(c.attempts > 0), 0), "
        "COALESCE(SUM(c.state IN ('ready', 'dialing')), 0) "
        "FROM campaign k LEFT JOIN contact c ON c.campaign_id = k.id GROUP BY k.name")
    return {r[0]: (int(r[1]), int(r[2]), int(r[3])) for r in rows}


class FloorFeed:
    """Publishes the floor on ``host`` every :data:`EVERY` seconds (see the module
    docstring). ``clock`` dates the floor when no gateway answers."""

    def __init__(self, host: ServiceHost, store: Store, *,
                 clock: Callable[[], float] = time.time, every: float = EVERY) -> None:
        self.host, self.store, self.clock, self.every = host, store, clock, every
        self.watch = FloorWatch()
        self.latest: dict[str, Any] | None = None
        self._counts: dict[str, tuple[int, int, int]] = {}
        self._counts_at = -float("inf")

    async def once(self) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Gather, compute and publish the floor once; returns it and its alarms."""
        names = [n for n, w in list(self.host.workers.items()) if w.thread.is_alive()]
        results = await asyncio.gather(
            *(self.host.on_worker(n, functools.partial(_gather_on, n), open_port=False)
              for n in names),
            return_exceptions=True)
        nows: list[float] = []
        agents: list[AgentFact] = []
        counters: dict[str, dict[str, Any]] = {}
        spans: list[SpanFact] = []
        for name, result in zip(names, results, strict=True):
            if isinstance(result, BaseException):  # one gateway down: the others show
                log.warning("floor_gateway_unreadable", gateway=name, error=str(result))
                continue
            now, a, c, s = result
            if now is not None:
                nows.append(now)
            agents += a
            counters.update({row["name"]: row for row in c})
            spans += s
        now = max(nows) if nows else self.clock()
        if time.monotonic() - self._counts_at >= COUNTS_EVERY:
            self._counts = await asyncio.to_thread(list_counts, self.store)
            self._counts_at = time.monotonic()
        campaigns = []
        for status in await asyncio.to_thread(self.host.campaigns):
            name = status["name"]
            row = counters.get(name, {})
            contacts, attempted, open_ = self._counts.get(name, (None, None, None))
            campaigns.append(CampaignFact(
                name=name, state=status["state"], open=open_, contacts=contacts,
                attempted=attempted, gateway=status.get("gateway"),
                **{k: v for k, v in row.items() if k not in ("name", "gateway")}))
        floor, alarms = self.watch.update(
            FloorFacts(tuple(agents), tuple(campaigns), tuple(spans)), now)
        self.latest = floor
        self.host.publish({"type": "floor", **floor})
        for alarm in alarms:
            self.host.publish({"type": "floor.alarm", **alarm})
        return floor, alarms

    async def run(self) -> None:
        """Publish the floor every :attr:`every` seconds until cancelled."""
        while True:
            started = time.monotonic()
            try:
                await self.once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("floor_failed")
            await asyncio.sleep(max(0.05, self.every - (time.monotonic() - started)))
