"""Helpers for the web API tests: a real campaign database with users, the application
over it with a service host on the in-process emulated card, and a clock to move."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from campaign_testkit import ALWAYS, T0
from fastapi.testclient import TestClient

from trunkline.dialer.campaigns.strategies import Strategy
from trunkline.dialer.pacing.engine import quiet_logger
from trunkline.dialer.runner.campaign_runner import CampaignRunner
from trunkline.dialer.runner.desk_runner import DeskRunner
from trunkline.dialer.runner.gateway import InProcessGateway
from trunkline.dialer.service.host import GatewaySpec, ServiceHost
from trunkline.dialer.service.passwords import hash_password
from trunkline.dialer.service.web import create_app
from trunkline.dialer.service.web_auth import secret_key
from trunkline.dialer.store import NewContact, Store

PASSWORDS = {"li": "li-password", "wang": "wang-password", "boss": "boss-password",
             "root": "root-password"}
ROLES = {"li": "agent", "wang": "agent", "boss": "supervisor", "root": "admin"}
BASE = "http://testserver"
HUMANS = [f"+861381{i:07d}" for i in range(1234, 1237)]


class Clock:
    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def make_db(folder: Path) -> Path:
    path = folder / "dialer.sqlite"
    with Store(path) as store:
        store.create_campaign("sales", Strategy(windows=ALWAYS, max_attempts=1), now=T0)
        store.add_list("sales", "seed", [NewContact(n, {"name": f"c{i}"}, line=i + 2)
                                         for i, n in enumerate(HUMANS)], now=T0)
        for name, role in ROLES.items():
            store.add_user(name, role, hash_password(PASSWORDS[name]), now=T0)
            if role == "agent":  # agents log in only to the campaigns assigned to them
                store.assign(name, "sales", now=T0)
    return path


def _virtual() -> tuple[Any, Any]:
    gateway = InProcessGateway(start=T0)
    return gateway, gateway.close


def _runner(store: Store, names: list[str], gateway: Any, progress: Any,
            sink: Any) -> CampaignRunner:
    return CampaignRunner(store, names, gateway, progress=progress, progress_every=30.0,
                          wrap_up=1.0)


def _desk_runner(store: Store, names: list[str], gateway: Any, progress: Any,
                 sink: Any) -> DeskRunner:
    return DeskRunner(store, names, gateway, sink=sink, progress=progress,
                      progress_every=30.0, group="pri", engine_log=quiet_logger())


@contextmanager
def client(folder: Path, clock: Clock | None = None, *, desk: bool = False,
           base_url: str = BASE, **kwargs: Any) -> Iterator[TestClient]:
    """The app over ``folder``'s database; ``desk``: campaigns run on the desk runner
    (agents log in through the API), else on the plain runner (positions rung at start)."""
    db = make_db(folder) if not (folder / "dialer.sqlite").exists() else folder / "dialer.sqlite"
    host = ServiceHost(str(db), [GatewaySpec("virtual", _virtual)],
                       _desk_runner if desk else _runner, drain=600.0)
    app = create_app(str(db), host, key=secret_key(str(db)), clock=clock or Clock(),
                     **kwargs)
    with TestClient(app, base_url=base_url) as test_client:
        yield test_client


def login(c: TestClient, name: str) -> str:
    """Log ``name`` in; returns the CSRF token."""
    r = c.post("/api/login", json={"name": name, "password": PASSWORDS[name]})
    assert r.status_code == 200, r.text
    return r.json()["csrf_token"]
