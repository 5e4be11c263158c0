"""Agent desk floor benchmark (issue 17 item 7): 200 agents logged in on one dialer
service on the emulated card, the screen pop's latency and the service's CPU.

Everything is real and in real time: ``trunkline gateway serve`` on an emulated card
with 210 FXS agent positions and 4 E1 PRI spans (120 lines for customers) in its own
process; ``trunkline dialer serve --gateway`` (the service: web API, WebSocket, desk
runner) in another, over a campaign database with a predictive campaign of people who
answer; and, in this process, the agents:

* ``--agents`` minus ``--browsers`` agents are WebSocket clients (httpx for the API,
  ``websockets`` for the events): log in with a password, log in to an FXS position, go
  ready; on each screen pop they note when it arrived, hang up after 20-40 s, save the
  disposition 2 s into wrap-up, and are ready again;
* ``--browsers`` agents are pages of the real desktop (``/desk``) in headless Chromium
  (Debian's ``/usr/bin/chromium`` driven by Playwright; never ``playwright install``):
  a MutationObserver notes when ``[data-testid=screen-pop]`` gets the call's
  ``data-contact-id`` in the DOM; the same desk requests go through the page's own
  session (``page.request`` shares its cookies).

One more WebSocket client is a supervisor (issue 18 item 1, end to end): it notes each
``floor`` as it arrives (the interval between them) and applies each ``floor.agents``
update (the agents that changed, pushed between two floors) as the console does; for
each agent state change (the ``desk.state`` event, dated by the host's ``ts``), the lag
until the first floor or update dated after it shows the agent in that state.
``--pri-spans 27`` makes the card the issue's floor of about 1,000 channels.

Latency is measured from the live answer (``attempt.answered_at``: the runner's clock
when it handled the gateway's answer event with AMD's "human"; gateway and service run
on this machine, so the clocks are one) to the pop arriving in the client (WebSocket
message received; DOM attribute set). The baseline, measured in the same run, is the
service's own part: from ``answered_at`` to the ``ts`` the host stamped on the
``desk.screen_pop`` event when it published it. The service's CPU is read from
``/proc/<pid>/stat`` (user + system) over the measured stretch, per second of wall time,
beside the baseline of the same service with the campaign running and no agent yet.

    .venv/bin/python benchmarks/bench_desk_floor.py                    # 200 agents, 5 browsers
    .venv/bin/python benchmarks/bench_desk_floor.py --agents 40 --browsers 2 --seconds 60
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from trunkline.dialer.campaigns.strategies import Strategy, Windows
from trunkline.dialer.desk.config import DeskConfig
from trunkline.dialer.service.passwords import hash_password
from trunkline.dialer.store import NewContact, Store

CHROMIUM = "/usr/bin/chromium"
PASSWORD = "bench-password-1"
CAMPAIGN = "bench"
FXS_SPANS = 3
FXS_PER_SPAN = 70
PRI_SPANS = 4


def card_text(pri_spans: int = PRI_SPANS) -> str:
    """The emulated card: ``pri_spans`` E1 PRI spans (30 bearer channels each, for the
    customers) and :data:`FXS_SPANS` FXS spans of agent positions. 27 PRI spans make
    the issue's floor of about 1,000 channels (810 + 210)."""
    return "\n".join(['spec = "1.0"', 'name = "bench"', 'zone = "cn"', "seed = 1"]
                     + ['[[span]]\nkind = "e1"\nsignalling = "pri"'] * pri_spans
                     + [f'[[span]]\nkind = "fxs"\nports = {FXS_PER_SPAN}\n'
                        'answer_after = [0.2, 0.5]'] * FXS_SPANS) + "\n"


DESK = {"max_wrap_up": 600, "disposition": [{"code": "done"}]}
#: Records the moment the contact card shows a new call (Date.now(), epoch ms).
OBSERVER = """
window.__pops = [];
new MutationObserver((records) => {
  for (const r of records) {
    const id = r.target.getAttribute && r.target.getAttribute('data-contact-id');
    if (r.target.dataset && r.target.dataset.testid === 'screen-pop' && id)
      window.__pops.push([id, Date.now()]);
  }
}).observe(document, {subtree: true, attributes: true,
                      attributeFilter: ['data-contact-id']});
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def make_world(folder: Path, agents: int, contacts: int, pri_spans: int = PRI_SPANS
               ) -> tuple[Path, Path, Path]:
    """The card, the number plan (people who stay on the line: the agent hangs up) and
    the campaign database with ``agents`` users assigned to the campaign."""
    card = folder / "card.toml"
    card.write_text(card_text(pri_spans), encoding="utf-8")
    plan = (resources.files("trunkline.profiles") / "networks" / "sample.toml").read_text(
        encoding="utf-8").replace("talk = [8, 20]", "talk = [300, 600]")
    (folder / "plan.toml").write_text(plan, encoding="utf-8")
    db = folder / "bench.sqlite"
    rng = random.Random(1)
    numbers = sorted({f"1381{rng.randrange(10 ** 7):07d}" for _ in range(contacts * 2)})
    with Store(db) as store:
        store.create_campaign(CAMPAIGN, Strategy(windows=Windows.from_dict(
            {"default": ["00:00-24:00"]}), max_attempts=1), now=time.time(),
            config={"mode": "predictive", "regime": "none", "target_abandon": 0.03})
        store.save_desk_config(CAMPAIGN, DeskConfig.from_dict(CAMPAIGN, DESK))
        store.add_list(CAMPAIGN, "bench", [NewContact(n, {"name": f"c{i}"}, line=i + 2)
                                           for i, n in enumerate(numbers[:contacts])],
                       now=time.time())
        shared = hash_password(PASSWORD)  # one hash: 200 argon2 runs would take a minute
        with store.transaction():
            store.add_user("boss", "supervisor", shared, now=time.time())
            for i in range(agents):
                name = f"a{i:03d}"
                store.add_user(name, "agent", shared, now=time.time())
                store.assign(name, CAMPAIGN, now=time.time())
    return card, folder / "plan.toml", db


class Agent:
    """One WebSocket agent (see the module docstring)."""

    def __init__(self, url: str, name: str, channel: int, pops: dict[str, float],
                 published: dict[str, float], rng: random.Random,
                 logins: asyncio.Semaphore) -> None:
        self.url, self.name, self.channel, self.logins = url, name, channel, logins
        self.pops, self.published, self.rng = pops, published, rng
        self.http = httpx.AsyncClient(base_url=url, timeout=600.0)

    async def post(self, path: str, body: dict[str, Any] | None = None) -> None:
        await self.http.post(path, json=body or {}, headers=self.headers)

    async def run(self, stop: asyncio.Event) -> None:
        async with self.logins:  # as a shift arrives: a few at a time, not 200 at once
            r = await self.http.post("/api/login", json={"name": self.name,
                                                         "password": PASSWORD})
        r.raise_for_status()
        self.headers = {"X-CSRF-Token": r.json()["csrf_token"]}
        cookie = f"trunkline_session={self.http.cookies['trunkline_session']}"
        ws_url = "ws" + self.url.removeprefix("http") + "/api/ws"
        async with connect(ws_url, additional_headers={"Cookie": cookie, "Origin": self.url},
                           max_size=2**22) as ws:
            async with self.logins:  # positions rung a few at a time, as agents arrive
                await self.post("/api/desk/login", {"position": "fxs",
                                                    "address": str(self.channel),
                                                    "campaigns": [{"name": CAMPAIGN}]})
                await asyncio.sleep(0.5)
            hang_at: float | None = None
            wrap_at: float | None = None
            while not stop.is_set():
                now = time.time()
                due = min((t for t in (hang_at, wrap_at) if t is not None), default=now + 0.5)
                try:
                    raw = await asyncio.wait_for(ws.recv(), timeout=max(0.01, due - now))
                except TimeoutError:
                    raw = None
                if raw is not None:
                    got = time.time()
                    event = json.loads(raw)
                    kind = event.get("type")
                    if kind == "desk.state" and event.get("agent") == self.name:
                        state = event.get("state")
                        if state == "paused" and event.get("reason") == "login":
                            await self.post("/api/desk/ready")
                        elif state == "wrap_up":
                            hang_at, wrap_at = None, time.time() + 2.0
                    elif kind == "desk.screen_pop" and event.get("agent") == self.name:
                        contact = str(event["contact"]["contact_id"])
                        self.pops[contact] = got
                        self.published[contact] = float(event["ts"])
                        hang_at = got + self.rng.uniform(20.0, 40.0)
                if hang_at is not None and time.time() >= hang_at:
                    hang_at = None
                    await self.post("/api/desk/hangup")
                if wrap_at is not None and time.time() >= wrap_at:
                    wrap_at = None
                    await self.post("/api/desk/disposition", {"code": "done", "then": "ready"})
        await self.http.aclose()


async def browser_agents(url: str, names: list[str], channels: list[int],
                         pops: dict[str, float], stop: asyncio.Event) -> None:
    """Desktop pages in headless Chromium, one per agent (see the module docstring)."""
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"])
        pages = []
        for name, channel in zip(names, channels, strict=True):
            context = await browser.new_context(base_url=url)
            r = await context.request.post("/api/login", data={"name": name,
                                                               "password": PASSWORD})
            csrf = (await r.json())["csrf_token"]
            page = await context.new_page()
            await page.add_init_script(OBSERVER)
            await page.goto("/desk")
            await context.request.post("/api/desk/login", headers={"X-CSRF-Token": csrf},
                                       data={"position": "fxs", "address": str(channel),
                                             "campaigns": [{"name": CAMPAIGN}]})
            pages.append((page, context, csrf, {"seen": 0, "hang": None, "wrap": None}))
        await asyncio.sleep(3.0)
        for _, context, csrf, _ in pages:
            await context.request.post("/api/desk/ready", headers={"X-CSRF-Token": csrf})
        rng = random.Random(2)
        while not stop.is_set():
            await asyncio.sleep(0.2)
            for page, context, csrf, st in pages:
                found = await page.evaluate("window.__pops")
                for contact, at_ms in found[st["seen"]:]:
                    pops.setdefault(str(contact), at_ms / 1000.0)
                    st["hang"] = time.time() + rng.uniform(20.0, 40.0)
                st["seen"] = len(found)
                h = {"X-CSRF-Token": csrf}
                if st["hang"] is not None and time.time() >= st["hang"]:
                    st["hang"], st["wrap"] = None, time.time() + 3.0
                    await context.request.post("/api/desk/hangup", headers=h)
                if st["wrap"] is not None and time.time() >= st["wrap"]:
                    st["wrap"] = None
                    await context.request.post("/api/desk/disposition", headers=h,
                                               data={"code": "done", "then": "ready"})
        await browser.close()


async def supervisor_floor(url: str, cookie: str, floors: list[tuple[float, float,
                                                                    dict[str, str]]],
                           views: list[tuple[float, float, dict[str, str]]],
                           changes: list[tuple[float, str, str]], lagged: list[int],
                           sizes: list[tuple[int, int]], stop: asyncio.Event) -> None:
    """One supervisor's WebSocket (issue 18 item 1): each ``floor`` event as it arrives
    (received at, the host's ``ts``, agent -> state) and each agent state change
    (``desk.state``: the host's ``ts`` when the runner published it, agent, state);
    ``views``: what the supervisor's floor shows after each ``floor`` and each
    ``floor.agents`` update applied to it (received at, ``ts``, agent -> state);
    ``lagged``: the events the service dropped for this socket falling behind;
    ``sizes``: each floor's agents and channels (what the floor was the size of). A
    socket that closes (a keepalive ping unanswered on a loaded machine) is opened
    again, and counted in ``lagged`` as -1."""
    while not stop.is_set():
        try:
            await _watch_floor(url, cookie, floors, views, changes, lagged, sizes, stop)
        except (OSError, ConnectionClosed):
            lagged.append(-1)


async def _watch_floor(url: str, cookie: str,
                       floors: list[tuple[float, float, dict[str, str]]],
                       views: list[tuple[float, float, dict[str, str]]],
                       changes: list[tuple[float, str, str]], lagged: list[int],
                       sizes: list[tuple[int, int]], stop: asyncio.Event) -> None:
    ws_url = "ws" + url.removeprefix("http") + "/api/ws"
    opened = time.time()   # updates apply to a floor received on this socket only
    async with connect(ws_url, additional_headers={"Cookie": cookie, "Origin": url},
                       max_size=2**24) as ws:
        while not stop.is_set():
            try:
                raw = await asyncio.wait_for(ws.recv(), timeout=0.5)
            except TimeoutError:
                continue
            got = time.time()
            event = json.loads(raw)
            kind = event.get("type")
            if kind == "floor":
                shown = {a["agent"]: a["state"] for a in event.get("agents", ())}
                floors.append((got, float(event["ts"]), shown))
                views.append((got, float(event["ts"]), shown))
                sizes.append((len(event.get("agents", ())),
                              int(event.get("channels", {}).get("total", 0))))
            elif kind == "floor.agents" and views and views[-1][0] >= opened:
                shown = {k: v for k, v in views[-1][2].items() if k not in event["gone"]}
                shown.update({a["agent"]: a["state"] for a in event["agents"]})
                views.append((got, float(event["ts"]), shown))
            elif kind == "desk.state" and "ts" in event:
                changes.append((float(event["ts"]), str(event["agent"]), str(event["state"])))
            elif kind == "lagged":
                lagged.append(int(event.get("dropped", 0)))


def floor_figures(floors: list[tuple[float, float, dict[str, str]]],
                  views: list[tuple[float, float, dict[str, str]]],
                  changes: list[tuple[float, str, str]], start: float, end: float
                  ) -> tuple[np.ndarray, np.ndarray, int]:
    """The intervals between floors received in [start, end] (ms), and the lag (ms)
    from each agent state change in that stretch to the first view of the floor (a
    floor or an update), dated after it, that shows the agent in that state; a state
    the agent left before any view showed it is not counted (returned: how many)."""
    got = [f for f in floors if start <= f[0] <= end]
    intervals = np.diff([f[0] for f in got]) * 1000.0
    by_agent: dict[str, list[tuple[float, str]]] = {}
    for ts, agent, state in sorted(changes):
        by_agent.setdefault(agent, []).append((ts, state))
    lags: list[float] = []
    missed = 0
    for agent, seq in by_agent.items():
        for i, (ts, state) in enumerate(seq):
            if not start <= ts <= end:
                continue
            left = seq[i + 1][0] if i + 1 < len(seq) else float("inf")
            shown = next((f[0] for f in views if f[1] >= ts and f[2].get(agent) == state),
                         None)
            if shown is None or shown > left:
                missed += 1
                continue
            lags.append(1000.0 * (shown - ts))
    return intervals, np.array(lags), missed


def _answered(db: Path) -> dict[str, float]:
    with Store(db) as store:
        rows = store.query("SELECT contact_id, answered_at FROM attempt "
                           "WHERE answered_at IS NOT NULL AND answered_kind='human'")
    return {str(r["contact_id"]): float(r["answered_at"]) for r in rows}


def _lat(pops: dict[str, float], answered: dict[str, float]) -> np.ndarray:
    return np.array([1000.0 * (t - answered[c]) for c, t in pops.items() if c in answered])


async def measure(url: str, pid: int, db: Path, channels: list[int], agents: int,
                  browsers: int, seconds: float) -> dict[str, Any]:
    pops: dict[str, float] = {}
    published: dict[str, float] = {}
    page_pops: dict[str, float] = {}
    stop = asyncio.Event()
    names = [f"a{i:03d}" for i in range(agents)]
    rng = random.Random(1)
    async with httpx.AsyncClient(base_url=url, timeout=120.0) as boss:
        r = await boss.post("/api/login", json={"name": "boss", "password": PASSWORD})
        boss.headers["X-CSRF-Token"] = r.json()["csrf_token"]
        r = await boss.post(f"/api/campaigns/{CAMPAIGN}/start")  # agents log in to it
        r.raise_for_status()
        floors: list[tuple[float, float, dict[str, str]]] = []
        views: list[tuple[float, float, dict[str, str]]] = []
        changes: list[tuple[float, str, str]] = []
        lagged: list[int] = []
        sizes: list[tuple[int, int]] = []
        watcher = asyncio.ensure_future(supervisor_floor(
            url, f"trunkline_session={boss.cookies['trunkline_session']}", floors, views,
            changes, lagged, sizes, stop))
        idle_cpu, idle_t = _cpu_seconds(pid), time.monotonic()
        await asyncio.sleep(10.0)  # the baseline: the campaign running, no agent yet
        idle = (_cpu_seconds(pid) - idle_cpu) / (time.monotonic() - idle_t)
        logins = asyncio.Semaphore(4)  # the service hashes 4 passwords at a time
        ws_agents = [Agent(url, n, c, pops, published, random.Random(rng.random()), logins)
                     for n, c in zip(names[browsers:], channels[browsers:], strict=True)]
        tasks = [asyncio.ensure_future(a.run(stop)) for a in ws_agents]
        if browsers:
            tasks.append(asyncio.ensure_future(browser_agents(
                url, names[:browsers], channels[:browsers], page_pops, stop)))
        for _ in range(600):  # every agent at its desk (logins are argon2, 4 at a time)
            seats = (await boss.get("/api/desk")).json()
            if len(seats) >= agents:
                break
            await asyncio.sleep(1.0)
        await asyncio.sleep(20.0)  # the engine's first answers
        cpu0, t0, wall0 = _cpu_seconds(pid), time.monotonic(), time.time()
        start_pops = len(pops) + len(page_pops)
        await asyncio.sleep(seconds)
        busy = (_cpu_seconds(pid) - cpu0) / (time.monotonic() - t0)
        wall1 = time.time()
        await asyncio.sleep(3.0)   # the floor updates that show the last changes
        measured_pops = len(pops) + len(page_pops) - start_pops
        try:
            seats = (await boss.get("/api/desk")).json()
        except httpx.HTTPError:  # a loaded service: the figures stand without it
            seats = []
        stop.set()
        await asyncio.gather(*tasks, watcher, return_exceptions=True)
    answered = _answered(db)
    intervals, lags, missed = floor_figures(floors, views, changes, wall0, wall1)
    return {"seated": len(seats), "idle_cpu": idle, "busy_cpu": busy,
            "pops_in_window": measured_pops, "ws": _lat(pops, answered),
            "page": _lat(page_pops, answered), "published": _lat(published, answered),
            "ws_window": _lat({c: t for c, t in pops.items() if wall0 <= t <= wall1},
                              answered),
            "page_window": _lat({c: t for c, t in page_pops.items() if wall0 <= t <= wall1},
                                answered),
            "floor_intervals": intervals, "floor_lags": lags, "floor_missed": missed,
            "floor_dropped": sum(n for n in lagged if n > 0),
            "floor_reopened": lagged.count(-1),
            "floor_size": max(sizes, default=(0, 0)),
            "load": os.getloadavg()}


def _row(name: str, lat: np.ndarray, base: float | None) -> str:
    if not len(lat):
        return f"| {name} | 0 | - | - | - | - |"
    p50, p99 = np.percentile(lat, 50), np.percentile(lat, 99)
    ratio = f"{p99 / base:.1f}" if base else "1.0"
    return f"| {name} | {len(lat)} | {p50:.1f} | {p99:.1f} | {lat.max():.1f} | {ratio} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--browsers", type=int, default=5,
                        help="how many of them are desktop pages in Chromium (0: none)")
    parser.add_argument("--seconds", type=float, default=120.0,
                        help="the measured stretch (after the first answers)")
    parser.add_argument("--pri-spans", type=int, default=PRI_SPANS,
                        help="E1 PRI spans on the emulated card, 30 channels each besides "
                             f"the {FXS_SPANS * FXS_PER_SPAN} FXS positions (27: the "
                             "issue's ~1,000 channels)")
    args = parser.parse_args()
    if not 1 <= args.agents <= FXS_SPANS * FXS_PER_SPAN or args.browsers > args.agents:
        parser.error(f"--agents in 1..{FXS_SPANS * FXS_PER_SPAN}, --browsers <= --agents")
    if not 1 <= args.pri_spans <= 64:
        parser.error("--pri-spans in 1..64")
    if args.browsers and not Path(CHROMIUM).exists():
        parser.error(f"{CHROMIUM} is missing (scripts/setup installs it); or --browsers 0")
    folder = Path(tempfile.mkdtemp(prefix="bench-desk-floor-"))
    procs: list[subprocess.Popen[bytes]] = []
    logs = contextlib.ExitStack()
    try:
        card, plan, db = make_world(folder, args.agents, contacts=20_000,
                                    pri_spans=args.pri_spans)
        sock = folder / "gw.sock"
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "trunkline.cli", "gateway", "serve", "--card",
             f"emulated:{card}", "--network", str(plan), "--socket", str(sock)],
            stdout=subprocess.DEVNULL,
            stderr=logs.enter_context((folder / "gateway.log").open("w"))))
        for _ in range(300):
            if sock.exists():
                break
            time.sleep(0.1)
        from trunkline.dialer.runner.campaign_runner import CampaignRunner

        probe = CampaignRunner.live_gateway(str(sock))
        channels = list(probe.group("agents"))[:args.agents]
        probe.close()
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        service = subprocess.Popen(
            [sys.executable, "-m", "trunkline.cli", "dialer", "serve", "--gateway",
             str(sock), "--db", str(db), "--listen", f"127.0.0.1:{port}", "--group", "pri",
             "--drain", "5"], stdout=subprocess.DEVNULL,
            stderr=logs.enter_context((folder / "service.log").open("w")))
        procs.append(service)
        for _ in range(300):
            try:
                if httpx.get(f"{url}/openapi.json", timeout=1.0).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        r = asyncio.run(measure(url, service.pid, db, channels, args.agents, args.browsers,
                                args.seconds))
    finally:
        for proc in reversed(procs):
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        logs.close()
        if os.environ.get("BENCH_KEEP"):
            print(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    base = float(np.percentile(r["published"], 99)) if len(r["published"]) else None
    print(f"{args.agents} agents at their desks ({r['seated']} seated at the end), "
          f"{args.agents - args.browsers} on WebSockets, {args.browsers} desktop pages in "
          f"Chromium; {r['pops_in_window']} screen pops in {args.seconds:.0f} s measured\n")
    print("| live answer -> screen pop | pops | p50 ms | p99 ms | max ms | p99 ratio |")
    print("|---|---:|---:|---:|---:|---:|")
    print(_row("service publishes it (baseline)", r["published"], None))
    print(_row("WebSocket client receives it", r["ws"], base))
    print(_row("desktop page's DOM shows it (Chromium)", r["page"], base))
    print(_row("WebSocket, pops in the measured stretch only", r["ws_window"], base))
    print(_row("DOM, pops in the measured stretch only", r["page_window"], base))
    print("\n| supervisor's floor (one WebSocket) | n | p50 ms | p99 ms | max ms | "
          "p99 ratio |\n|---|---:|---:|---:|---:|---:|")
    every = float(np.percentile(r["floor_intervals"], 99)) \
        if len(r["floor_intervals"]) else None
    print(_row("interval between floors (baseline)", r["floor_intervals"], None))
    print(_row("agent state change -> floor shows it", r["floor_lags"], every))
    print(f"(the floor showed up to {r['floor_size'][0]} agents and "
          f"{r['floor_size'][1]} channels; {r['floor_missed']} state changes left "
          "before any floor showed them; "
          f"{r['floor_dropped']} events dropped for the supervisor's socket, which "
          f"closed and was opened again {r['floor_reopened']} times; "
          f"load average at the end {r['load'][0]:.1f} {r['load'][1]:.1f} "
          f"{r['load'][2]:.1f})")
    ratio = r["busy_cpu"] / r["idle_cpu"] if r["idle_cpu"] else float("nan")
    print(f"\n| service CPU | CPU s per s |\n|---|---:|\n"
          f"| campaign running, no agent yet (baseline) | {r['idle_cpu']:.3f} |\n"
          f"| working the campaign | {r['busy_cpu']:.3f} (x{ratio:.1f}) |")


if __name__ == "__main__":
    main()
