"""``trunkline demo``: the main job, a predictive campaign on the emulated card.

It starts what an installation runs, with nothing simulated above the card: the gateway
service on the emulated card (2 E1 PRI spans, 8 FXO lines, 12 FXS ports, an MFC/R2 and
an SS7 E1 span, the calls going round all of them) and its sample telephone network;
10 agent positions on FXS ports, rung and held for the shift by the campaign runner; a
campaign database (SQLite) with a 2,000-contact sample list imported through the CSV
importer; and the predictive engine held to a 3 % abandon target. The
agents' phones are the emulated card's FXS phones (they answer, and hear the customers).

A live display shows the list, the calls, connects and the abandon rate, every agent's
state and the lines in use; at the end (the list is finished, ``--hours`` passed, or
Ctrl-C) the campaign and agent reports are printed from the database.

In real time the gateway runs on its own thread behind its Unix socket and the runner
talks to it as a client, as in production; a 2,000-contact list then takes about 45
minutes. ``--virtual`` runs the same gateway in process on a virtual clock, as fast as
the CPU allows (a few minutes).

The sample list is drawn (seeded) from the sample network's number ranges, so what
happens to each number is what ``firmware-profiles/networks/sample.toml`` says.
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
    """The campaign database: the demo campaign (predictive, 3 % target, open all day)
    and its imported list. Returns the open store and the list's make-up."""
    from trunkline.dialer.campaigns.lists import import_file
    from trunkline.dialer.campaigns.strategies import Strategy, Windows
    from trunkline.dialer.store import Store

    store = Store(folder / "demo.sqlite")
    strategy = Strategy(windows=Windows.from_dict({"default": ["00:00-24:00"]}),
                        max_attempts=1)
    store.create_campaign(CAMPAIGN, strategy, config={
        "mode": "predictive", "target_abandon": 0.03, "regime": "us",
        "ring_timeout": 26.0}, now=start)
    expected = sample_list(folder / "demo-list.csv", contacts)
    report = import_file(store, CAMPAIGN, folder / "demo-list.csv", now=start)
    if report.added != contacts:
        raise ConfigError(f"the sample list imported {report.added} of {contacts} contacts")
    return store, expected


class Display:
    """The live view: list, calls, abandon rate, agents, lines (rich, on a terminal)."""

    def __init__(self, runner: Any, contacts: int, *, virtual: bool) -> None:
        self.runner = runner
        self.contacts = contacts
        self.virtual = virtual
        self.wall_started = time.monotonic()

    def render(self, now: float) -> Any:
        from rich.console import Group
        from rich.table import Table

        runner = self.runner
        totals = runner.totals()
        started = runner._started if runner._started is not None else now
        elapsed = now - started
        connects = len(runner.connections)
        live, abandoned = totals["live"], totals["abandoned"]
        rate = abandoned / live if live else 0.0
        target = runner.config.target_abandon
        head = Table.grid(padding=(0, 2))
        head.add_row(
            f"[b]trunkline demo[/b]  campaign {runner.campaign} ({runner.config.mode}, "
            f"abandon target {100 * target:.0f} %)",
            f"{'virtual' if self.virtual else 'real'} time {_hms(elapsed)}"
            + (f"  (wall {_hms(time.monotonic() - self.wall_started)})"
               if self.virtual else ""))
        numbers = Table(show_header=False, box=None, padding=(0, 2))
        dialled = totals["dials"]
        numbers.add_row("list", f"{dialled}/{self.contacts} dialled "
                        f"({100 * dialled / self.contacts:.1f} %)",
                        "in flight", str(len(runner.customers)))
        numbers.add_row("live answers", str(live), "connects", str(connects))
        numbers.add_row("connect rate", f"{100 * connects / dialled:.1f} %" if dialled else "-",
                        "abandoned", f"{abandoned} ({100 * rate:.2f} %)")
        outcomes = ", ".join(f"{k} {v}" for k, v in sorted(runner.outcomes.items()))
        numbers.add_row("outcomes", outcomes or "-", "", "")
        agents = Table(title="agents", title_justify="left", box=None, padding=(0, 2))
        for column in ("agent", "phone", "state", "for", "calls", "talk"):
            agents.add_column(column, justify="left" if column in ("agent", "state")
                              else "right")
        calls = Counter(c.agent for c in runner.connections)
        talk: Counter[str] = Counter()
        for c in runner.connections:
            if c.call_id not in runner._connected:
                continue
            talk[c.agent] += now - c.bridged_at
        for agent_id, leg in sorted(runner.agent_legs.items(), key=lambda kv: kv[1].channel):
            agent = runner.engine.agents.get(agent_id)
            state = str(agent.state) if agent is not None else (
                "gone" if leg.gone else "ringing")
            since = f"{now - agent.since:.0f}s" if agent is not None else ""
            agents.add_row(agent_id, str(leg.channel), _coloured(state), since,
                           str(calls.get(agent_id, 0)),
                           f"{talk[agent_id]:.0f}s" if talk.get(agent_id) else "")
        return Group(head, numbers, agents)


def _coloured(state: str) -> str:
    colour = {"talking": "green", "ready": "cyan", "wrap_up": "yellow",
              "paused": "magenta"}.get(state)
    return f"[{colour}]{state}[/{colour}]" if colour else state


def _hms(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 3600:d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


@contextlib.contextmanager
def _gateway(virtual: bool, folder: Path, start: float) -> Iterator[Any]:
    """The gateway on the emulated card: in process (virtual time) or a real service
    on its own thread behind a Unix socket (real time)."""
    from trunkline.dialer.runner.gateway import InProcessGateway, LiveGateway
    from trunkline.gateway.config import GatewayConfig

    # The calls go round every line and trunk of the card in turn (FXO lines, the PRI,
    # MFC/R2 and SS7 spans), so the demo exercises each signalling.
    config = GatewayConfig(socket=folder / "gateway.sock",
                           recordings_root=folder / "recordings", fax_spool=folder / "fax",
                           group_order={"outbound": "round_robin"})
    if virtual:
        gateway = InProcessGateway(start=start, config=config)
        try:
            yield gateway
        finally:
            gateway.close()
        return
    from trunkline.gateway.testing import ServiceThread

    with ServiceThread(config) as service:
        gateway = LiveGateway(service.socket)
        try:
            yield gateway
        finally:
            gateway.close()


def run_demo(args: argparse.Namespace) -> int:
    from trunkline.dialer.pacing.engine import quiet_logger
    from trunkline.dialer.runner.campaign_runner import CampaignRunner
    from trunkline.dialer.runner.cli import stop_on_signals

    if not 10 <= args.contacts <= 100_000:
        raise ConfigError("--contacts must be in 10..100000")
    if args.hours is not None and args.hours <= 0:
        raise ConfigError("--hours must be > 0")
    keep = Path(args.dir) if args.dir else None
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        if (keep / "demo.sqlite").exists():
            raise ConfigError(f"{keep}: already holds a demo database (demo.sqlite); "
                              "give an empty folder")
    folder = keep or Path(tempfile.mkdtemp(prefix="trunkline-demo-"))
    start = time.time()
    interactive = sys.stdout.isatty() and not args.json and not args.plain
    try:
        store, expected = prepare(folder, args.contacts, start=start)
        with store, _gateway(args.virtual, folder, start) as gateway:
            agents = gateway.group("agents")[:AGENTS]
            if len(agents) < AGENTS:
                raise ConfigError(f"the card has {len(agents)} FXS ports; the demo seats "
                                  f"{AGENTS} agents")
            progress = None if interactive else (
                lambda line: print(line, file=sys.stderr if args.json else sys.stdout,
                                   flush=True))
            runner = CampaignRunner(store, CAMPAIGN, gateway, agents=agents, group="outbound",
                                    wrap_up=args.wrap_up, engine_log=quiet_logger(),
                                    progress=progress,
                                    progress_every=300.0 if args.virtual else 30.0)
            seconds = None if args.hours is None else args.hours * 3600
            with stop_on_signals(runner):
                if interactive:
                    summary = _run_live(runner, args, seconds)
                else:
                    summary = runner.run(seconds=seconds)
            _final_report(store, summary, runner, expected, args, folder if keep else None)
    finally:
        if keep is None:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


def _run_live(runner: Any, args: argparse.Namespace, seconds: float | None) -> Any:
    from rich.live import Live

    display = Display(runner, args.contacts, virtual=args.virtual)
    last = [0.0]
    with Live(display.render(0.0), refresh_per_second=4, transient=False) as live:
        def on_step(now: float) -> None:
            wall = time.monotonic()
            if wall - last[0] >= 0.25:
                last[0] = wall
                live.update(display.render(now))

        summary = runner.run(seconds=seconds, on_step=on_step)
        live.update(display.render(runner.gateway.now()))
    return summary


def _final_report(store: Any, summary: Any, runner: Any, expected: dict[str, int],
                  args: argparse.Namespace, kept: Path | None) -> None:
    from trunkline.dialer.campaigns import reports

    now = runner.gateway.now()
    by_campaign = reports.report(store, by="campaign", now=now)
    by_agent = reports.report(store, by="agent", now=now)
    if args.json:
        print(json.dumps({"summary": summary.as_dict(), "list": expected,
                          "campaign": by_campaign, "agents": by_agent},
                         ensure_ascii=False, default=_plain))
        return
    print()
    for line in summary.lines():
        print(line)
    print(f"the list: {', '.join(f'{k} {v}' for k, v in sorted(expected.items()))}")
    print()
    print(reports.to_table(by_campaign))
    print()
    print(reports.to_table(by_agent))
    if kept is not None:
        print(f"\nthe campaign database is {kept / 'demo.sqlite'}: "
              f"trunkline dialer report --db {kept / 'demo.sqlite'} --by hour")


def _plain(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return str(value)


def register(subparsers: argparse._SubParsersAction) -> None:
    demo = subparsers.add_parser(
        "demo", help="the main job: gateway on the emulated card, 10 agents, a predictive "
                     "campaign of 2,000 contacts, live",
        description=(
            "Start the gateway on the emulated card and its sample network, seat 10 "
            "simulated agents on FXS ports, import a 2,000-contact sample list and run "
            "it in predictive mode held to a 3 %% abandon target, with a live display "
            "(calls, connects, abandon rate, agent states) and a final report from the "
            "campaign database. Real time takes about 45 minutes (Ctrl-C ends the shift "
            "early, with the report); --virtual runs it on a virtual clock in minutes."),
        epilog="Example: trunkline demo --virtual")
    demo.add_argument("--virtual", action="store_true",
                      help="run in virtual time, as fast as the CPU allows")
    demo.add_argument("--contacts", type=int, default=2000,
                      help="how many contacts in the sample list (default 2000)")
    demo.add_argument("--hours", type=float, metavar="H",
                      help="end the shift after this long (default: when the list is done)")
    demo.add_argument("--wrap-up", type=float, default=3.0, metavar="S",
                      help="seconds of wrap-up after each call (default 3)")
    demo.add_argument("--dir", metavar="FOLDER",
                      help="keep the campaign database and the list here (default: a "
                           "temporary folder, removed at the end)")
    demo.add_argument("--plain", action="store_true",
                      help="progress lines instead of the live display")
    demo.add_argument("--json", action="store_true",
                      help="print the final summary and reports as one JSON object")
    demo.set_defaults(handler=run_demo)
