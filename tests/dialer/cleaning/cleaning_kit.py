"""Helpers for the list-cleaning tests (a unique module name: never import from conftest).

A target campaign whose list spreads over the sample network's number ranges (imported
from CSV), a cleaning campaign copied from it, and an in-process gateway on the emulated
card that checks the cleaning runner's promises as it goes: every originate has a
committed ``dialing`` attempt (read through a *separate* connection, so only committed
rows count), and every call that was answered was hung up in the same instant.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from trunkline.dialer.campaigns.lists import import_file
from trunkline.dialer.campaigns.strategies import Strategy, Windows
from trunkline.dialer.cleaning.results import cleaned_numbers
from trunkline.dialer.cleaning.runner import CleaningRunner
from trunkline.dialer.cleaning.settings import CleaningSettings, create_cleaning_campaign
from trunkline.dialer.runner.gateway import InProcessGateway
from trunkline.dialer.store import Store
from trunkline.drivers.backends.emulated.lines import ExchangeLine, LineState

#: Wednesday 2025-06-04 10:00 in Shanghai.
T0 = datetime(2025, 6, 4, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp()

#: (prefix, how many, the class the sample plan (firmware-profiles/networks/sample.toml)
#: gives each number).
RANGES: tuple[tuple[str, int, str], ...] = (
    ("1381", 3, "live"),          # human, music ring-back
    ("1382", 2, "live"),          # human, ring-back tone
    ("139", 2, "live"),           # machine
    ("0105", 2, "live"),          # fax
    ("0106", 1, "live"),          # modem
    ("137", 2, "live"),           # busy: the number exists
    ("136", 2, "live"),           # no_answer: it rings
    ("135", 2, "unknown"),        # congestion, every time
    ("134", 3, "powered_off"),
    ("133", 3, "unreachable"),
    ("130", 4, "invalid"),
)

#: Fast settings for tests: the congested numbers are tried three times, 20 s apart.
FAST = CleaningSettings(rate=5.0, retries=2, retry_after=20.0, listen=30.0)


def numbers(ranges: tuple[tuple[str, int, str], ...] = RANGES) -> list[tuple[str, str]]:
    """``(national number, expected class)`` for the list."""
    out = []
    for prefix, count, cls in ranges:
        for i in range(count):
            digits = 11 - len(prefix)
            out.append((f"{prefix}{(i * 7919 + 1234) % 10 ** digits:0{digits}d}", cls))
    return out


def e164(national: str) -> str:
    return "+86" + national.lstrip("0")


def write_list(folder: Path, ranges: tuple[tuple[str, int, str], ...] = RANGES) -> Path:
    rows = ["name,phone,expected"]
    rows += [f"c{i},{number},{cls}" for i, (number, cls) in enumerate(numbers(ranges))]
    path = folder / "list.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def make_store(folder: Path, *, target: str = "sales", cleaning: str | None = "clean",
               settings: CleaningSettings = FAST,
               ranges: tuple[tuple[str, int, str], ...] = RANGES) -> Store:
    """A file store with ``target`` (imported from CSV) and ``cleaning`` copied from it;
    calling windows all day, so the tests need not care about the hour."""
    store = Store(folder / "dialer.sqlite")
    strategy = Strategy(windows=Windows.from_dict({"default": ["00:00-24:00"]}),
                        max_attempts=1)
    store.create_campaign(target, strategy, now=T0)
    report = import_file(store, target, write_list(folder, ranges), now=T0)
    assert report.added == len(numbers(ranges)) and not report.errors
    if cleaning is not None:
        counts = create_cleaning_campaign(store, cleaning, now=T0, source=target,
                                          settings=settings)
        assert counts == {"added": len(numbers(ranges)), "merged": 0}
    return store


@dataclass
class Watch:
    """What the test gateway saw."""

    dial_violations: list[str] = field(default_factory=list)
    originated: Counter = field(default_factory=Counter)
    numbers: dict[int, str] = field(default_factory=dict)      # gw call -> number dialled
    answered: dict[int, float] = field(default_factory=dict)   # gw call -> answered at
    hangups: dict[int, float] = field(default_factory=dict)    # gw call -> we asked at
    ended: dict[int, dict[str, Any]] = field(default_factory=dict)
    after_answer: list[dict[str, Any]] = field(default_factory=list)  # amd, bridges...


class WatchedGateway(InProcessGateway):
    """The in-process gateway, checking the cleaning runner's promises as it goes."""

    def __init__(self, db: Path, **kwargs: Any) -> None:
        super().__init__(start=T0, **kwargs)
        self.watch = Watch()
        self._db = sqlite3.connect(f"file:{db}?mode=ro", uri=True)

    def originate(self, number: str, *, group: str | None = None,
                  channel: int | None = None, ring_timeout: float = 45.0,
                  tag: str | None = None) -> int:
        if channel is None:  # a customer (an agent position is rung on its channel)
            rows = self._db.execute(
                "SELECT COUNT(*) FROM attempt WHERE state='dialing' AND number=?",
                (e164(number),)).fetchone()[0]
            if rows != 1:
                self.watch.dial_violations.append(f"{number}: {rows} dialing attempts")
            if number in {self.watch.numbers[c] for c in self.watch.numbers
                          if c not in self.watch.ended}:
                self.watch.dial_violations.append(f"{number}: already on a call")
        call = super().originate(number, group=group, channel=channel,
                                 ring_timeout=ring_timeout, tag=tag)
        if channel is None:
            self.watch.numbers[call] = number
            self.watch.originated[number] += 1
        return call

    def hangup(self, call: int) -> None:
        self.watch.hangups.setdefault(call, self.now())
        super().hangup(call)

    def wait(self, until: float) -> list[dict]:
        events = super().wait(until)
        now = self.now()
        for event in events:
            call = event.get("call")
            if event.get("event") == "call.state" and event.get("state") == "answered":
                self.watch.answered.setdefault(call, now)
            elif event.get("event") == "call.state" and event.get("state") == "hungup":
                self.watch.ended[call] = {**event, "at": now}
            elif event.get("event") in ("amd", "play.finished") or (
                    event.get("event") == "call.state" and event.get("state") == "bridged"):
                self.watch.after_answer.append(event)
        return events

    def close(self) -> None:
        self._db.close()
        super().close()


def service_thread(folder: Path) -> Any:
    """A real gateway service (emulated card, sample network, 2x scaled clock) on a Unix
    socket, for the runs over ``CleaningRunner.live_gateway``."""
    from trunkline.clock import ScaledClock
    from trunkline.gateway.config import GatewayConfig
    from trunkline.gateway.testing import ServiceThread

    config = GatewayConfig(socket=folder / "gw.sock", recordings_root=folder / "recordings",
                           fax_spool=folder / "fax")
    config.shutdown_grace = 0.5
    # Real time, not scaled: in full runs the SIT went unheard at 4x (load ~15) and at 2x
    # (load ~3; the number was still invalid, by its cause 1, but no tone event came): a
    # scaled tick that falls behind drops frames, and the SIT's segments with them. The
    # run takes about as long in real time (the numbers are dialled concurrently).
    return ServiceThread(config, clock=ScaledClock(1.0))


@dataclass
class FarEnds:
    """What the exchanges behind the FXO ports saw: per number dialled, when it was
    routed (its ring-back began), answered by the far end, and released by us."""

    routed: dict[str, float] = field(default_factory=dict)
    answered: dict[str, float] = field(default_factory=dict)
    released: dict[str, float] = field(default_factory=dict)
    _last: dict[int, tuple[LineState, str]] = field(default_factory=dict)

    def look(self, lines: list[ExchangeLine], now: float) -> None:
        for line in lines:
            before, digits = self._last.get(id(line), (LineState.IDLE, ""))
            if line.state is not before:
                if line.state is LineState.ROUTED:
                    self.routed[line.digits] = now
                elif line.state is LineState.CONNECTED:
                    self.answered[line.digits] = now
                elif line.state is LineState.IDLE and digits:
                    self.released.setdefault(digits, now)
            self._last[id(line)] = (line.state, line.digits)


def clean_watching_far_ends(tmp_path: Path, network: str, ranges: tuple, settings:
                            CleaningSettings) -> tuple[FarEnds, dict[str, tuple[str, str | None]],
                                                       CleaningRunner]:
    """Clean ``ranges`` on the emulated card's FXO lines in virtual time, the network
    plan ``network`` behind them and its exchanges watched (:class:`FarEnds`): what the
    far ends saw, each number's (status, evidence), and the runner."""
    plan = tmp_path / "network.toml"
    plan.write_text(network, encoding="utf-8")
    store = make_store(tmp_path, settings=settings, ranges=ranges)
    gateway = WatchedGateway(tmp_path / "dialer.sqlite", network=plan)
    lines = [p for p in gateway.card.network.ports if isinstance(p, ExchangeLine)]
    far = FarEnds()
    gateway.on_tick.append(lambda: far.look(lines, gateway.now()))
    try:
        runner = CleaningRunner(store, "clean", gateway, group="fxo", settings=settings)
        runner.run(seconds=600)
    finally:
        gateway.close()
    got = {n.number: (n.status, n.evidence) for n in cleaned_numbers(store, "clean")}
    return far, got, runner
