"""The live floor never waits for a runner (issue 18 item 1): the desk runner on the
in-process emulated card, with the gateway's ``wait`` held mid-step (a gateway that
stops answering), and the floor feed reading the runners' snapshots on its own cadence.

On the code before the snapshots, the feed gathered its facts on the runner's thread
between two steps: with the runner stuck, no floor came at all."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any

from campaign_testkit import ALWAYS, T0

from trunkline.dialer.campaigns.strategies import Strategy
from trunkline.dialer.desk.commands import Login, Ready
from trunkline.dialer.pacing.engine import quiet_logger
from trunkline.dialer.runner.desk_runner import DeskRunner
from trunkline.dialer.runner.gateway import InProcessGateway
from trunkline.dialer.service.floor_feed import FloorFeed
from trunkline.dialer.service.host import GatewaySpec, ServiceHost
from trunkline.dialer.store import NewContact, Store

HUMANS = [f"+861381{i:07d}" for i in range(1234, 1237)]


class HeldGateway(InProcessGateway):
    """The in-process gateway whose ``wait`` can be held: the runner's step is then
    stuck in a gateway call until :attr:`release` is set."""

    def __init__(self) -> None:
        super().__init__(start=T0)
        self.hold, self.held, self.release = (threading.Event(), threading.Event(),
                                              threading.Event())

    def wait(self, until: float) -> list[dict[str, Any]]:
        if self.hold.is_set():
            self.held.set()
            self.release.wait(60.0)
        return super().wait(until)


def _db(folder: Path) -> Path:
    path = folder / "dialer.sqlite"
    with Store(path) as store:
        store.create_campaign("sales", Strategy(windows=ALWAYS, max_attempts=1), now=T0)
        store.add_list("sales", "seed", [NewContact(n, {"name": f"c{i}"}, line=i + 2)
                                         for i, n in enumerate(HUMANS)], now=T0)
    return path


def _host(db: Path, ports: list[HeldGateway]) -> ServiceHost:
    def open_port() -> tuple[Any, Any]:
        ports.append(HeldGateway())
        return ports[-1], ports[-1].close

    def factory(store: Store, names: list[str], gateway: Any, progress: Any,
                sink: Any) -> DeskRunner:
        return DeskRunner(store, names, gateway, sink=sink, progress=progress,
                          group="pri", engine_log=quiet_logger())
    return ServiceHost(str(db), [GatewaySpec("virtual", open_port)], factory, drain=5.0)


async def _floor(sub: Any, timeout: float, kind: str = "floor", **agent: str
                 ) -> tuple[float, dict[str, Any]]:
    """The first ``kind`` event (with when it came) showing an agent like ``agent``."""
    async with asyncio.timeout(timeout):
        while True:
            event = await sub.get()
            if event["type"] == kind and any(
                    all(a.get(k) == v for k, v in agent.items()) for a in event["agents"]):
                return time.monotonic(), event


def test_the_floor_goes_on_every_cadence_while_the_runner_is_stuck(tmp_path: Path) -> None:
    db = _db(tmp_path)
    seen: dict[str, Any] = {}

    async def main() -> None:
        ports: list[HeldGateway] = []
        host = _host(db, ports)
        host.start()
        store = Store(db)
        feed = FloorFeed(host, store, every=0.2, gap=0.05)
        task = asyncio.ensure_future(feed.run())
        boss = host.subscribe("boss", "supervisor")
        try:
            await host.start_campaign("sales")
            host.desk_command(Login("li", "fxs", "71", (("sales", "standard"),)))
            await _floor(boss, 30.0, agent="li", state="paused")
            port = ports[0]
            port.hold.set()   # the runner's next step is stuck in the gateway's wait
            assert await asyncio.to_thread(port.held.wait, 30.0)
            # five floors (a second at the cadence of 0.2 s) with the runner stuck; the
            # old feed published none until the runner's step ended
            floors = [await _floor(boss, 10.0, agent="li") for _ in range(5)]
            # and a floor asked for now is composed at once, from the last snapshot
            floor, _ = await asyncio.wait_for(feed.once(), 1.0)
            seen.update(floors=floors, once=floor, held=port.release.is_set())
        finally:
            task.cancel()
            for port in ports:
                port.release.set()
            await asyncio.to_thread(host.stop, 30.0)
            store.close()

    asyncio.run(main())
    floors = seen["floors"]
    assert not seen["held"]                # the runner was stuck the whole time
    last = floors[-1][1]
    li = next(a for a in last["agents"] if a["agent"] == "li")
    assert li["state"] == "paused" and li["gateway"] == "virtual"
    assert last["channels"]["total"] > 0   # the spans of the last snapshot still shown
    ages = [f[1]["gateways"][0]["age"] for f in floors]
    assert ages == sorted(ages) and ages[-1] > ages[0]   # no runner step: it ages
    assert seen["once"]["agents"] == last["agents"]


def test_an_agents_change_is_pushed_between_two_floors(
        tmp_path: Path) -> None:
    db = _db(tmp_path)
    seen: dict[str, Any] = {}

    async def main() -> None:
        host = _host(db, [])
        host.start()
        store = Store(db)
        feed = FloorFeed(host, store, every=60.0, gap=0.05)   # the cadence: a minute
        task = asyncio.ensure_future(feed.run())
        boss = host.subscribe("boss", "supervisor")
        try:
            await host.start_campaign("sales")
            host.desk_command(Login("li", "fxs", "71", (("sales", "standard"),)))
            await _floor(boss, 30.0, "floor.agents", agent="li", state="paused")
            host.desk_command(Ready("li"))
            # pushed on the change: the wait (30 s) ends before the next whole floor is
            # due (a minute), so what comes is the change's own floor.agents event
            _, update = await _floor(boss, 30.0, "floor.agents", agent="li", state="ready")
            seen["update"] = update
        finally:
            task.cancel()
            await asyncio.to_thread(host.stop, 30.0)
            store.close()

    asyncio.run(main())
    update = seen["update"]      # only what changed, with the new counts
    assert [a["agent"] for a in update["agents"]] == ["li"] and update["gone"] == []
    assert update["agent_states"] == {"ready": 1}
