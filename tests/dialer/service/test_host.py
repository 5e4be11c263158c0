"""The service host: real campaign runners on the in-process emulated card, driven from
asyncio through the workers' inboxes, with the store checked after each shift."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from campaign_testkit import ALWAYS, T0

from trunkline.dialer.campaigns.strategies import Strategy
from trunkline.dialer.desk.commands import Login, Ready
from trunkline.dialer.runner.campaign_runner import CampaignRunner
from trunkline.dialer.runner.gateway import InProcessGateway
from trunkline.dialer.service.host import (
    GatewaySpec,
    HostConflict,
    HostUnsupported,
    ServiceHost,
    visible_to,
)
from trunkline.dialer.store import NewContact, Store, StoreError

#: Numbers of the sample network: 1381* answer as people, 137* are busy.
HUMANS = [f"+861381{i:07d}" for i in range(1234, 1237)]
BUSY = [f"+86137{i:08d}" for i in range(1234, 1236)]


def _store(folder: Path, numbers: list[str], campaign: str = "sales", *,
           error_retry: float | None = None) -> Path:
    path = folder / "dialer.sqlite"
    strategy = Strategy(windows=ALWAYS, max_attempts=1)
    if error_retry is not None:
        strategy = Strategy(windows=ALWAYS, max_attempts=1,
                            retries={**strategy.retries, "error": error_retry})
    with Store(path) as store:
        store.create_campaign(campaign, strategy, now=T0)
        store.add_list(campaign, "seed", [NewContact(n, {"name": f"c{i}"}, line=i + 2)
                                          for i, n in enumerate(numbers)], now=T0)
    return path


def _virtual() -> tuple[Any, Any]:
    gateway = InProcessGateway(start=T0)
    return gateway, gateway.close


def _runner(store: Store, names: list[str], gateway: Any, progress: Any,
            sink: Any) -> CampaignRunner:
    return CampaignRunner(store, names, gateway, progress=progress, progress_every=30.0,
                          wrap_up=1.0)


async def _until(sub: Any, kind: str, timeout: float = 240.0) -> list[dict[str, Any]]:
    seen = []
    async with asyncio.timeout(timeout):
        while True:
            event = await sub.get()
            seen.append(event)
            if event["type"] == kind:
                return seen


def _host(db: Path, *names: str) -> ServiceHost:
    specs = [GatewaySpec(n, _virtual) for n in names or ("virtual",)]
    return ServiceHost(str(db), specs, _runner, drain=600.0)


@pytest.mark.slow
def test_a_campaign_started_from_the_api_runs_to_its_end_and_is_recorded(
        tmp_path: Path) -> None:
    db = _store(tmp_path, HUMANS + BUSY)

    async def main() -> list[dict[str, Any]]:
        host = _host(db)
        host.start()
        try:
            boss = host.subscribe("boss", "supervisor")
            agent = host.subscribe("li", "agent")
            status = await host.start_campaign("sales")
            assert status["state"] == "running" and status["gateway"] == "virtual"
            with pytest.raises(HostConflict, match="campaign 'sales' is running"):
                await host.start_campaign("sales")
            events = await _until(boss, "campaign.finished")
            assert agent._queue.empty()  # campaign events are not an agent's to see
            assert host.campaign("sales")["state"] == "idle"
            assert host.campaign("sales")["ended_how"] == "finished"
            return events
        finally:
            await asyncio.to_thread(host.stop)

    events = asyncio.run(main())
    assert events[0]["type"] == "campaign.started"
    summary = events[-1]["summary"]
    assert summary["dials"] == len(HUMANS) + len(BUSY) and summary["list_finished"]
    with Store(db) as store:
        outcomes = sorted(r[0] for r in store.query("SELECT outcome FROM attempt"))
        assert outcomes == sorted(["human"] * len(HUMANS) + ["busy"] * len(BUSY))
        assert not store.query("SELECT 1 FROM attempt WHERE state IN ('claimed','dialing')")


@pytest.mark.slow
def test_two_gateways_run_two_campaigns_at_once(tmp_path: Path) -> None:
    """``dialer serve --gateway A --gateway B``: each campaign runs on a gateway of its
    own, side by side, each with its own runner and store connection."""
    db = _store(tmp_path, HUMANS)
    with Store(db) as store:
        store.create_campaign("other", Strategy(windows=ALWAYS, max_attempts=1), now=T0)
        store.add_list("other", "seed", [NewContact(n, {"name": f"o{i}"}, line=i + 2)
                                         for i, n in enumerate(BUSY)], now=T0)

    async def main() -> list[dict[str, Any]]:
        host = _host(db, "gw1", "gw2")
        host.start()
        try:
            boss = host.subscribe("boss", "supervisor")
            first = await host.start_campaign("sales")
            second = await host.start_campaign("other")
            assert (first["gateway"], second["gateway"]) == ("gw1", "gw2")
            assert {g["name"]: g["campaign"] for g in host.snapshot()["gateways"]} == {
                "gw1": "sales", "gw2": "other"}
            finished: list[dict[str, Any]] = []
            while len(finished) < 2:
                finished.append((await _until(boss, "campaign.finished"))[-1])
            return finished
        finally:
            await asyncio.to_thread(host.stop)

    finished = asyncio.run(main())
    assert sorted(e["campaign"] for e in finished) == ["other", "sales"]
    with Store(db) as store:
        rows = store.query("SELECT c.name, a.outcome FROM attempt a "
                           "JOIN contact t ON t.id = a.contact_id "
                           "JOIN campaign c ON c.id = t.campaign_id")
    assert sorted(tuple(r) for r in rows) == sorted(
        [("sales", "human")] * len(HUMANS) + [("other", "busy")] * len(BUSY))


@pytest.mark.slow
def test_stop_ends_the_shift_with_nothing_left_open(tmp_path: Path) -> None:
    many = [f"+861381{i:07d}" for i in range(2000, 2060)]
    db = _store(tmp_path, many)

    async def main() -> dict[str, Any]:
        host = _host(db)
        host.start()
        try:
            sub = host.subscribe("boss", "admin")
            await host.start_campaign("sales")
            await _until(sub, "campaign.started")
            stopping = await host.stop_campaign("sales")
            assert stopping["state"] == "stopping"
            events = await _until(sub, "campaign.stopped")
            return events[-1]
        finally:
            await asyncio.to_thread(host.stop)

    stopped = asyncio.run(main())
    assert not stopped["summary"]["list_finished"]
    with Store(db) as store:
        assert not store.query("SELECT 1 FROM attempt WHERE state IN ('claimed','dialing')")
        left = store.query("SELECT COUNT(*) FROM contact WHERE state='ready'")[0][0]
        assert left > 0  # stopped before the list was done


def test_requests_that_do_not_fit_are_refused_by_name(tmp_path: Path) -> None:
    db = _store(tmp_path, HUMANS)
    with Store(db) as store:
        store.create_campaign("other", Strategy(windows=ALWAYS), now=T0)

    async def main() -> None:
        host = _host(db, "gw1")
        host.start()
        try:
            with pytest.raises(StoreError, match="no campaign 'nope'"):
                await host.start_campaign("nope")
            with pytest.raises(HostConflict, match="campaign 'sales' is idle"):
                await host.stop_campaign("sales")
            with pytest.raises(HostConflict, match="no gateway 'gw9'"):
                await host.start_campaign("sales", gateway="gw9")
            await host.start_campaign("sales")
            with pytest.raises(HostConflict, match="every gateway runs a campaign"):
                await host.start_campaign("other")
            # the plain runner (trunkline dialer run's) has no desk: no run-time control
            with pytest.raises(HostUnsupported, match="cannot pause a campaign"):
                await host.pause_campaign("sales")
            with pytest.raises(HostUnsupported, match="has no agent desk"):
                host.desk_command(Login("li", "fxs", "71", (("sales", "standard"),)))
            with pytest.raises(HostConflict, match="'li' is not logged in"):
                host.desk_command(Ready("li"))
            with pytest.raises(HostConflict, match="campaign 'other' is idle"):
                host.desk_command(Login("li", "fxs", "71", (("other", "standard"),)))
            snapshot = host.snapshot()
            assert snapshot["gateways"][0]["campaign"] == "sales"
            assert {c["name"] for c in snapshot["campaigns"]} == {"sales", "other"}
        finally:
            await asyncio.to_thread(host.stop)
        assert host.campaign("sales")["state"] == "idle"

    asyncio.run(main())


@pytest.mark.parametrize(("event", "name", "role", "seen"), [
    ({"type": "campaign.started"}, "li", "agent", False),
    ({"type": "desk.state", "agent": "li"}, "li", "agent", True),
    ({"type": "desk.state", "agent": "wang"}, "li", "agent", False),
    ({"type": "desk.state", "agent": "wang"}, "boss", "supervisor", True),
    ({"type": "campaign.started"}, "root", "admin", True),
])
def test_an_agent_sees_only_its_own_events(event: dict, name: str, role: str,
                                          seen: bool) -> None:
    assert visible_to(event, name, role) is seen


@pytest.mark.slow
def test_what_a_crashed_service_left_open_is_settled_when_the_campaign_starts_again(
        tmp_path: Path) -> None:
    # the lost call is retried after the error delay: 30 s here (30 min by default, which
    # the virtual shift would spend ticking the card for two minutes of the test's time)
    db = _store(tmp_path, HUMANS + BUSY, error_retry=30.0)
    with Store(db) as store:  # as a kill -9 leaves it: one claimed, one dialing
        claimed = store.claim_next("sales", T0)
        dialing = store.claim_next("sales", T0)
        assert claimed is not None and dialing is not None
        assert store.mark_dialing(dialing.attempt, T0 + 1)

    async def main() -> None:
        host = _host(db)
        host.start()
        try:
            sub = host.subscribe("boss", "admin")
            await host.start_campaign("sales")
            await _until(sub, "campaign.finished")
        finally:
            await asyncio.to_thread(host.stop)

    asyncio.run(main())
    with Store(db) as store:
        states = dict(store.query("SELECT id, state FROM attempt WHERE id IN (?, ?)",
                                  (claimed.attempt, dialing.attempt)))
        assert states == {claimed.attempt: "released", dialing.attempt: "done"}
        assert not store.query("SELECT 1 FROM attempt WHERE state IN ('claimed','dialing')")
        # every contact ends with a settled attempt (the lost call counts as one)
        assert store.query("SELECT COUNT(DISTINCT contact_id) FROM attempt "
                           "WHERE state='done'")[0][0] == len(HUMANS) + len(BUSY)


def test_a_gateway_whose_thread_could_not_start_is_refused_by_name(tmp_path: Path) -> None:
    async def main() -> None:
        # a folder where the database should be: the worker cannot open it
        host = ServiceHost(str(tmp_path), [GatewaySpec("virtual", _virtual)], _runner)
        host.start()
        try:
            worker = host.workers["virtual"]
            await asyncio.to_thread(worker.thread.join, 10)
            with pytest.raises(HostConflict, match=r"gateway virtual: its thread ended: .*"
                                                   r"is a folder"):
                await asyncio.wrap_future(worker.submit(lambda w: None))
        finally:
            await asyncio.to_thread(host.stop)

    asyncio.run(main())
