"""``trunkline demo``: the main job, a collections floor on the dialer service.

It starts what an installation runs, on the emulated card: the dialer service (``trunkline
dialer serve --virtual``: the gateway on the emulated card in process, its sample
telephone network, the web API and the agent's desktop at ``/``) over a campaign database
(SQLite) with a collections campaign in the ``cn`` regime (predictive, the team's own 3 %
abandon target per calendar day), its dispositions (promise to pay with amount and date,
refusal, callback, wrong party) and script, and a 2,000-contact Chinese sample list
imported through the CSV importer. It prints the desktop's URL, the supervisor console's
(``/console``, where the supervisor login lands) and the logins (an admin,
a supervisor, ten simulated agents and one for a person), starts the campaign as the
supervisor, and ten simulated agents work it **through the same HTTP API and WebSocket
as the desktop** (:mod:`trunkline.dialer.floor.web_agents`): they log in with their
password, log in to an FXS position, go ready, get screen pops, talk for a collections
call's time, hang up, save dispositions with their fields after a wrap-up, and take a
break now and then. A person logs in beside them at the URL as one more agent. It runs
until Ctrl-C (or ``--for SECONDS``), then prints the campaign and agent reports, the
occupancy, the regulated abandon rate and the pacing simulator's occupancy for the same
inputs (:mod:`trunkline.dialer.floor.prediction`).

``--virtual`` is the fast scripted shift for tests and CI: the same campaign, list, desk
and agents' habits on the desk runner and the emulated card on a virtual clock (no web
service: a web client cannot share a virtual clock; the agents hand the same desk
commands to the runner, :mod:`trunkline.dialer.floor.shift`). It ends by itself when
every contact has been dialled and prints the same report.

The sample list is drawn (seeded) from the sample network's number ranges, so what
happens to each number is what ``firmware-profiles/networks/sample.toml`` says (its
people stay on the line 30-600 s, so the agent ends the call:
:func:`trunkline.dialer.floor.setup.network_plan`).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from trunkline.cli_numbers import positive
from trunkline.errors import ConfigError

#: The sample list's make-up: (number prefix, share, what the sample network does).
#: Roughly a consumer list in China: under half reach a person; the rest are machines,
#: busy, unanswered, switched off, out of service or never allocated.
LIST_MIX: tuple[tuple[str, float, str], ...] = (
    ("1381", 0.40, "human"),          # 8-20 s of talk
    ("1382", 0.04, "human"),          # 20-120 s of talk
    ("139", 0.12, "machine"),
    ("0105", 0.02, "fax"),
    ("137", 0.10, "busy"),
    ("136", 0.10, "no_answer"),
    ("135", 0.03, "congestion"),
    ("134", 0.07, "powered_off"),
    ("133", 0.04, "unreachable"),
    ("130", 0.08, "invalid_number"),
)
CAMPAIGN = "demo"
AGENTS = 10
CITIES = ("北京", "上海", "广州", "深圳", "杭州", "成都")


def sample_list(path: Path, contacts: int, *, seed: int = 2026) -> dict[str, int]:
    """Write the sample CSV (name, phone and two custom columns that travel with the
    contact to the agent); returns how many numbers of each behaviour it holds."""
    rng = random.Random(seed)
    counts = [max(1, round(share * contacts)) for _, share, _ in LIST_MIX]
    counts[0] += contacts - sum(counts)
    rows: list[str] = []
    expected: Counter[str] = Counter()
    seen: set[str] = set()
    for (prefix, _, behaviour), n in zip(LIST_MIX, counts, strict=True):
        made = 0
        while made < n:
            digits = 11 - len(prefix)
            number = f"{prefix}{rng.randrange(10 ** digits):0{digits}d}"
            if number in seen:
                continue
            seen.add(number)
            made += 1
            expected[behaviour] += 1
            rows.append(f"客户{len(seen):04d},{number},{rng.choice(CITIES)},"
                        f"{rng.randrange(100, 50_000)}")
    rng.shuffle(rows)  # as a real list comes: reachable and dead numbers mixed
    path.write_text("\n".join(["name,phone,city,balance", *rows]) + "\n", encoding="utf-8")
    return dict(expected)


def prepare(folder: Path, contacts: int, *, start: float) -> tuple[Any, dict[str, int]]:
    """The campaign database: the collections campaign (``cn`` regime, predictive, 3 %
    target, open all day, its desk) and its imported list. Returns the open store and
    the list's make-up."""
    from trunkline.dialer.campaigns.lists import import_file
    from trunkline.dialer.floor.setup import create_campaign
    from trunkline.dialer.store import Store

    store = Store(folder / "demo.sqlite")
    create_campaign(store, start=start)
    expected = sample_list(folder / "demo-list.csv", contacts)
    report = import_file(store, CAMPAIGN, folder / "demo-list.csv", now=start)
    if report.added != contacts:
        raise ConfigError(f"the sample list imported {report.added} of {contacts} contacts")
    return store, expected


def _folder(args: argparse.Namespace) -> tuple[Path, bool]:
    keep = Path(args.dir) if args.dir else None
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        if (keep / "demo.sqlite").exists():
            raise ConfigError(f"{keep}: already holds a demo database (demo.sqlite); "
                              "give an empty folder")
        return keep, True
    return Path(tempfile.mkdtemp(prefix="trunkline-demo-")), False


def run_demo(args: argparse.Namespace) -> int:
    if not 10 <= args.contacts <= 100_000:
        raise ConfigError("--contacts must be in 10..100000")
    if args.hours is not None and args.hours <= 0:
        raise ConfigError("--hours must be > 0")
    if args.for_seconds is not None and args.for_seconds <= 0:
        raise ConfigError("--for must be > 0")
    seconds = args.for_seconds if args.for_seconds is not None else (
        None if args.hours is None else args.hours * 3600)
    folder, kept = _folder(args)
    start = time.time()
    try:
        store, expected = prepare(folder, args.contacts, start=start)
        with store:
            if args.virtual:
                report = _virtual_shift(store, folder, args, seconds, start)
            else:
                report = _service(store, folder, args, seconds, start)
            _final_report(store, report, expected, args, folder if kept else None)
    finally:
        if not kept:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


def _gateway_config(folder: Path) -> Any:
    from trunkline.dialer.floor.setup import network_plan
    from trunkline.gateway.config import GatewayConfig

    # The calls go round every line and trunk of the card in turn (FXO lines, the PRI,
    # MFC/R2 and SS7 spans), so the demo exercises each signalling.
    config = GatewayConfig(socket=folder / "gateway.sock",
                           recordings_root=folder / "recordings", fax_spool=folder / "fax",
                           group_order={"outbound": "round_robin"})
    config.network = network_plan(folder)
    return config


def _virtual_shift(store: Any, folder: Path, args: argparse.Namespace,
                   seconds: float | None, start: float) -> dict[str, Any]:
    from trunkline.dialer.floor.shift import run_shift
    from trunkline.dialer.runner.gateway import InProcessGateway

    out = sys.stderr if args.json else sys.stdout
    gateway = InProcessGateway(start=start, config=_gateway_config(folder))
    try:
        summary, shift = run_shift(
            store, gateway, contacts=args.contacts, agents=AGENTS, seed=args.seed,
            seconds=seconds, progress=lambda line: print(line, file=out, flush=True),
            progress_every=300.0)
        now = gateway.now()
    finally:
        gateway.close()
    return {"summary": summary, "agents": list(shift.agents.values()), "now": now}


def _service(store: Any, folder: Path, args: argparse.Namespace, seconds: float | None,
             start: float) -> dict[str, Any]:
    """The dialer service on the emulated card with the simulated agents on its API,
    until Ctrl-C, SIGTERM or ``seconds``."""
    import asyncio

    from trunkline.dialer.floor.setup import create_users

    logins = create_users(store, now=time.time(), agents=AGENTS)
    return asyncio.run(_serve_floor(folder, args, seconds, logins))


async def _serve_floor(folder: Path, args: argparse.Namespace, seconds: float | None,
                       logins: Any) -> dict[str, Any]:
    import asyncio
    import random
    import signal

    import uvicorn

    from trunkline.dialer.floor.agents import FloorAgent
    from trunkline.dialer.floor.setup import AGENT_NAMES, PERSON, SUPERVISOR
    from trunkline.dialer.floor.web_agents import WebAgent, supervise, work_floor
    from trunkline.dialer.service import serve_cli

    parser = argparse.ArgumentParser(add_help=False)
    serve_cli.register_serve_command(parser.add_subparsers())
    host, port = args.listen
    serve_args = parser.parse_args([
        "serve", "--virtual", "--db", str(folder / "demo.sqlite"),
        "--listen", f"{host}:{port}", "--network", str(_gateway_config(folder).network),
        "--drain", "10"])
    app, url = serve_cli.build(serve_args)

    class Server(uvicorn.Server):
        # the demo handles Ctrl-C and SIGTERM itself (uvicorn's handlers would raise the
        # signal again after the shutdown, before the report is printed)
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            yield

    server = Server(uvicorn.Config(app, host=host, port=port, lifespan="on",
                                   log_level="warning", ws="websockets-sansio",
                                   timeout_graceful_shutdown=10))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    from trunkline.dialer.service.listen_socket import bind_listening

    # bound here: a busy port is one error line naming it (uvicorn would log and exit)
    sockets = bind_listening(host, port)
    serving = asyncio.ensure_future(server.serve(sockets=sockets))
    while not server.started:
        if serving.done():
            serving.result()
            raise ConfigError(f"the service could not listen on {url}")
        await asyncio.sleep(0.05)
    floor: list[WebAgent] = []
    try:
        lead = await supervise(url, SUPERVISOR, logins.passwords[SUPERVISOR])
        r = await lead.post(f"/api/campaigns/{CAMPAIGN}/start")
        if r.status_code != 200:
            raise ConfigError(f"the campaign did not start: {r.text}")
        _banner(url, logins)
        rng = random.Random(args.seed)
        floor = [WebAgent(url, FloorAgent(name, random.Random(rng.random())),
                          logins.passwords[name], 71 + i)
                 for i, name in enumerate(AGENT_NAMES[:AGENTS])]
        working = asyncio.ensure_future(work_floor(floor, stop))
        began = time.monotonic()
        last = began
        while not stop.is_set():
            if seconds is not None and time.monotonic() - began >= seconds:
                break
            await asyncio.sleep(0.5)
            if time.monotonic() - last >= 30.0:
                last = time.monotonic()
                status = (await lead.get(f"/api/campaigns/{CAMPAIGN}")).json()
                if status.get("progress"):
                    print(status["progress"], flush=True)
        stop.set()
        await working
        await lead.aclose()
        print(f"stopping: calls in flight finish (at most 10 s); {PERSON} and the "
              "simulated agents are logged out", flush=True)
    finally:
        stop.set()
        server.should_exit = True
        await serving
    return {"summary": None, "agents": [a.agent for a in floor], "now": time.time()}


def _banner(url: str, logins: Any) -> None:
    from trunkline.dialer.floor.setup import ADMIN, PERSON, SUPERVISOR

    print(f"\ntrunkline demo: the dialer service on the emulated card at {url}/", flush=True)
    print(f"  the agent's desktop: {url}/  (API description: {url}/openapi.json)")
    print(f"  log in as {PERSON!r} with password {logins.passwords[PERSON]!r} and take FXS "
          f"position 81 for campaign {CAMPAIGN!r}, beside the simulated agents")
    print(f"  the supervisor console: {url}/console  log in as supervisor {SUPERVISOR!r} "
          f"with password {logins.passwords[SUPERVISOR]!r} (admin {ADMIN!r}: "
          f"{logins.passwords[ADMIN]!r}); the login page sends supervisors and admins there, "
          "agents to the desktop")
    agents = [n for n, r in logins.roles.items() if r == "agent" and n != PERSON]
    print(f"  simulated agents {agents[0]}..{agents[-1]} (FXS 71-{70 + len(agents)}): "
          + ", ".join(f"{n} {logins.passwords[n]}" for n in agents))
    print("  Ctrl-C ends the shift and prints the report\n", flush=True)


def _final_report(store: Any, run: dict[str, Any], expected: dict[str, int],
                  args: argparse.Namespace, kept: Path | None) -> None:
    from trunkline.dialer.campaigns import reports
    from trunkline.dialer.floor.prediction import comparison_lines, measure, predict

    now = run["now"]
    by_campaign = reports.report(store, by="campaign", now=now)
    by_agent = reports.report(store, by="agent", now=now)
    row = next((r for r in by_campaign if r.get("campaign") == CAMPAIGN), {})
    measured = measure(store, CAMPAIGN)
    predicted = predict(store, CAMPAIGN, measured) if measured is not None else None
    dispositions: Counter[str] = Counter()
    refusals: list[str] = []
    for agent in run["agents"]:
        dispositions.update(agent.dispositions)
        refusals += [f"{agent.name}: {r}" for r in agent.refusals]
    floor = {
        "regime": store.campaign_config(CAMPAIGN).get("regime"),
        "occupancy": row.get("occupancy"),
        "regulated_abandon_rate": row.get("window_abandon_rate"),
        "occupancy_while_dialling": None if measured is None else round(
            measured.occupancy, 4),
        "predicted_occupancy": None if predicted is None else round(
            predicted["occupancy"], 4),
        "predicted_abandon_rate": None if predicted is None else round(
            predicted["abandon_rate"], 4),
        "dispositions": dict(dispositions), "refusals": refusals}
    summary = run["summary"]
    if args.json:
        print(json.dumps({"summary": None if summary is None else summary.as_dict(),
                          "list": expected, "campaign": by_campaign, "agents": by_agent,
                          "floor": floor}, ensure_ascii=False, default=_plain))
        return
    print()
    if summary is not None:
        for line in summary.lines():
            print(line)
    print(f"the list: {', '.join(f'{k} {v}' for k, v in sorted(expected.items()))}")
    print()
    print(reports.to_table(by_campaign))
    print()
    print(reports.to_table(by_agent))
    print()
    occupancy, rate = floor["occupancy"], floor["regulated_abandon_rate"]
    print("occupancy (the whole shift, pauses and the list's end included): "
          + ("-" if occupancy is None else f"{100 * occupancy:.1f} %"))
    print("regulated abandon rate (regime cn: the calendar day in Asia/Shanghai; no "
          "numeric cap in China, the team's target is 3 %): "
          + ("-" if rate is None else f"{100 * rate:.2f} %"))
    if measured is not None and predicted is not None:
        for line in comparison_lines(measured, predicted):
            print(line)
    print("dispositions: " + (", ".join(f"{k} {v}" for k, v in sorted(dispositions.items()))
                              or "-"))
    if refusals:
        print(f"refused requests ({len(refusals)}): " + "; ".join(refusals[:5]))
    if kept is not None:
        print(f"\nthe campaign database is {kept / 'demo.sqlite'}: "
              f"trunkline dialer report --db {kept / 'demo.sqlite'} --by hour")


def _plain(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return str(value)


def register(subparsers: argparse._SubParsersAction) -> None:
    from trunkline.dialer.service.serve_cli import parse_listen

    demo = subparsers.add_parser(
        "demo", help="the main job: the dialer service on the emulated card, a collections "
                     "floor of 10 simulated agents on its API; log in beside them",
        description=(
            "Start the dialer service on the emulated card with a collections campaign "
            "(cn regime, predictive, 3 % abandon target, dispositions with fields) and a "
            "2,000-contact Chinese sample list; print the agent desktop's URL, the "
            "supervisor console's (/console, for the supervisor login) and the "
            "logins; 10 simulated agents work the campaign through the same HTTP API and "
            "WebSocket as the desktop (talk, hang up, dispositions, breaks), and a person "
            "logs in beside them as one more agent. Runs until Ctrl-C (or --for), then "
            "prints the reports, the occupancy, the regulated abandon rate and the pacing "
            "simulator's occupancy for the same inputs. --virtual runs the same floor "
            "as a scripted shift on a virtual clock, without the web service, and ends "
            "when the list is done (tests and CI)."),
        epilog="Examples: trunkline demo   |   trunkline demo --for 600   |   "
               "trunkline demo --virtual --plain")
    demo.add_argument("--virtual", action="store_true",
                      help="the fast scripted shift: desk runner and emulated card on a "
                           "virtual clock, no web service; ends when the list is done")
    demo.add_argument("--for", dest="for_seconds", type=positive, metavar="SECONDS",
                      help="end the shift after this many seconds (default: Ctrl-C; "
                           "with --virtual: when the list is done)")
    demo.add_argument("--listen", type=parse_listen, default=parse_listen("127.0.0.1:8080"),
                      metavar="HOST:PORT", help="where the service listens (default "
                                                "127.0.0.1:8080)")
    demo.add_argument("--contacts", type=int, default=2000,
                      help="how many contacts in the sample list (default 2000)")
    demo.add_argument("--hours", type=positive, metavar="H",
                      help="end the shift after this many hours (as --for)")
    demo.add_argument("--seed", type=int, default=1,
                      help="the simulated agents' seed (talk and wrap-up times, choices)")
    demo.add_argument("--dir", metavar="FOLDER",
                      help="keep the campaign database and the list here (default: a "
                           "temporary folder, removed at the end)")
    demo.add_argument("--plain", action="store_true",
                      help="progress lines (the only display now; kept for scripts)")
    demo.add_argument("--json", action="store_true",
                      help="print the final summary and reports as one JSON object")
    demo.set_defaults(handler=run_demo)
