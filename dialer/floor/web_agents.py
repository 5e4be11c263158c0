"""Simulated agents working through the service's HTTP API and WebSocket, as the
desktop page does (``trunkline demo``): log in with a password, open the WebSocket of
live events, ``POST /api/desk/login`` at an FXS position, then send what their
:class:`~trunkline.dialer.floor.agents.FloorAgent` says when it says (ready, hang up,
the disposition with its fields, a break now and then).

Each agent is one asyncio task with its own HTTP client and cookie jar, so the service
sees ten separate browsers. A WebSocket that closes (the service restarted) is opened
again; a request the API refuses is kept in the agent's ``refusals`` and shown in the
demo's report.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from typing import Any

import httpx
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from trunkline.dialer.floor.agents import FloorAgent
from trunkline.dialer.floor.setup import CAMPAIGN

COOKIE = "trunkline_session"


class WebAgent:
    """One simulated agent's browser: an HTTP session and a WebSocket."""

    def __init__(self, url: str, agent: FloorAgent, password: str, channel: int, *,
                 clock: Callable[[], float] = time.time) -> None:
        self.url, self.agent, self.password, self.channel = url, agent, password, channel
        self.clock = clock
        self.csrf = ""
        self.http = httpx.AsyncClient(base_url=url, timeout=30.0)

    async def _post(self, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        r = await self.http.post(path, json=body or {}, headers={"X-CSRF-Token": self.csrf})
        if r.status_code >= 400:
            self.agent.refusals.append(f"POST {path}: {r.status_code} {r.text[:200]}")
        return r

    async def log_in(self) -> None:
        r = await self.http.post("/api/login", json={"name": self.agent.name,
                                                     "password": self.password})
        r.raise_for_status()
        self.csrf = r.json()["csrf_token"]

    async def run(self, stop: asyncio.Event) -> None:
        """Work until ``stop`` is set: the WebSocket first (so no event is missed), then
        the desk login, then the agent's requests as they fall due."""
        try:
            await self.log_in()
            seated = False
            while not stop.is_set():
                try:
                    async with connect(self._ws_url(), additional_headers=self._headers(),
                                       open_timeout=10) as ws:
                        if not seated:
                            await self._post("/api/desk/login", {
                                "position": "fxs", "address": str(self.channel),
                                "campaigns": [{"name": CAMPAIGN}]})
                            seated = True
                        await self._work(ws, stop)
                except (ConnectionClosed, InvalidStatus, OSError, TimeoutError):
                    if not stop.is_set():
                        await asyncio.sleep(1.0)  # the service restarting: try again
        finally:
            await self.http.aclose()

    async def _work(self, ws: Any, stop: asyncio.Event) -> None:
        while not stop.is_set():
            now = self.clock()
            at = self.agent.next_at()
            wait = 0.5 if at is None else min(0.5, max(0.0, at - now))
            try:
                raw = await asyncio.wait_for(ws.recv(), timeout=wait) if wait > 0 else None
            except TimeoutError:
                raw = None
            if raw is not None:
                event = json.loads(raw)
                if event.get("agent") == self.agent.name:
                    self.agent.on_event(event, self.clock())
            for route, body in self.agent.due(self.clock()):
                await self._post(f"/api/desk/{route}", body)

    def _ws_url(self) -> str:
        return "ws" + self.url.removeprefix("http") + "/api/ws"

    def _headers(self) -> dict[str, str]:
        return {"Cookie": f"{COOKIE}={self.http.cookies.get(COOKIE, '')}",
                "Origin": self.url}


async def supervise(url: str, name: str, password: str) -> httpx.AsyncClient:
    """A supervisor's HTTP session (logged in; the CSRF token in its headers)."""
    http = httpx.AsyncClient(base_url=url, timeout=60.0)
    r = await http.post("/api/login", json={"name": name, "password": password})
    r.raise_for_status()
    http.headers["X-CSRF-Token"] = r.json()["csrf_token"]
    return http


async def work_floor(agents: list[WebAgent], stop: asyncio.Event) -> None:
    """Run every agent until ``stop``; an agent's failure is kept, not fatal to the rest."""
    tasks = [asyncio.ensure_future(a.run(stop)) for a in agents]
    try:
        await stop.wait()
    finally:
        _, pending = await asyncio.wait(tasks, timeout=5.0)
        for task in pending:
            task.cancel()
        for task in pending:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for agent, task in zip(agents, tasks, strict=True):
            if task.done() and not task.cancelled() and task.exception() is not None:
                agent.agent.refusals.append(f"stopped: {task.exception()!r}")
