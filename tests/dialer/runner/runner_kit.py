"""Helpers for the campaign-runner tests (a unique module name: never import from conftest).

A list spread over the sample network's number ranges, imported through the CSV importer
into a file store, and an in-process gateway on the emulated card that watches what the
runner does: every originate is checked against a *separate* connection to the database
(so only committed rows count), and every bridged agent phone is sampled for the energy
of what it hears.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
from wav_kit import tone_wav

from trunkline.dialer.campaigns.lists import import_file
from trunkline.dialer.campaigns.strategies import Strategy, Windows
from trunkline.dialer.runner.gateway import InProcessGateway
from trunkline.dialer.store import Store
from trunkline.gateway.testing import ServiceThread as _ServiceThread

#: Wednesday 2025-06-04 10:00 in Shanghai.
T0 = datetime(2025, 6, 4, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp()

#: (prefix, how many, the outcome the sample plan gives each number). Humans are mostly
#: 1381* (8-20 s of talk) to keep the run short; two 138* talk longer.
RANGES: tuple[tuple[str, int, str], ...] = (
    ("1381", 12, "human"),
    ("1382", 2, "human"),
    ("139", 5, "machine"),
    ("0105", 3, "fax"),
    ("137", 4, "busy"),
    ("136", 3, "no_answer"),
    ("135", 3, "congestion"),
    ("134", 3, "unreachable"),     # powered_off: its announcement
    ("133", 2, "unreachable"),
    ("130", 3, "invalid_number"),
)


def numbers(ranges: tuple[tuple[str, int, str], ...] = RANGES) -> list[tuple[str, str]]:
    """``(national number, expected outcome)`` for the list."""
    out = []
    for prefix, count, outcome in ranges:
        for i in range(count):
            digits = 11 - len(prefix)
            out.append((f"{prefix}{(i * 7919 + 1234) % 10 ** digits:0{digits}d}", outcome))
    return out


def write_list(folder: Path, ranges: tuple[tuple[str, int, str], ...] = RANGES) -> Path:
    """The CSV: every number once, plus a duplicate row and a bad row (both handled by
    the importer: merged, and rejected with its line)."""
    rows = ["name,phone,note"]
    listed = numbers(ranges)
    for i, (number, outcome) in enumerate(listed):
        rows.append(f"c{i},{number},{outcome}")
    rows.append(f"dup,{listed[0][0]},again")
    rows.append("bad,12345,not a number")
    path = folder / "list.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def make_store(folder: Path, *, campaign: str = "sales", config: dict | None = None,
               ranges: tuple[tuple[str, int, str], ...] = RANGES) -> Store:
    store = Store(folder / "dialer.sqlite")
    strategy = Strategy(windows=Windows.from_dict({"default": ["00:00-24:00"]}),
                        max_attempts=1)
    store.create_campaign(campaign, strategy, config=config or {}, now=T0)
    report = import_file(store, campaign, write_list(folder, ranges), now=T0)
    assert report.added == len(numbers(ranges)) and report.merged == 1
    assert len(report.errors) == 1
    return store


@dataclass
class Watch:
    """What the test gateway saw."""

    dial_violations: list[str] = field(default_factory=list)
    originated: Counter = field(default_factory=Counter)
    heard: dict[int, float] = field(default_factory=dict)   # customer gw call -> max rms
    idle: float = 0.0        # the loudest an agent phone heard before its first bridge
    plays: list[dict] = field(default_factory=list)


class WatchedGateway(InProcessGateway):
    """The in-process gateway, checking the runner's promises as it goes."""

    def __init__(self, db: Path, **kwargs) -> None:
        super().__init__(start=T0, **kwargs)
        self.watch = Watch()
        self._db = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        self._customer_numbers: dict[int, str] = {}
        self._bridged: set[int] = set()
        self.on_tick.append(self._listen)

    def originate(self, number: str, *, group=None, channel=None, ring_timeout=45.0,
                  tag=None) -> int:
        if channel is None:  # a customer: a committed 'dialing' attempt must exist
            rows = self._db.execute(
                "SELECT COUNT(*) FROM attempt WHERE state='dialing' AND number LIKE ?",
                (f"%{number.lstrip('0')}",)).fetchone()[0]
            if rows != 1:
                self.watch.dial_violations.append(f"{number}: {rows} dialing attempts")
            if number in self._customer_numbers.values():
                self.watch.dial_violations.append(f"{number}: already on a call")
        call = super().originate(number, group=group, channel=channel,
                                 ring_timeout=ring_timeout, tag=tag)
        if channel is None:
            self._customer_numbers[call] = number
            self.watch.originated[number] += 1
        return call

    def wait(self, until: float) -> list[dict]:
        events = super().wait(until)
        for event in events:
            if event.get("event") == "call.state" and event.get("state") == "hungup":
                self._customer_numbers.pop(event.get("call"), None)
        return events

    def play(self, call: int, *, file=None, tone=None, wait_silence=0.0,
             loop=False) -> None:
        self.watch.plays.append({"call": call, "file": file, "tone": tone,
                                 "wait_silence": wait_silence, "at": self.now()})
        super().play(call, file=file, tone=tone, wait_silence=wait_silence, loop=loop)

    def _listen(self) -> None:
        """Every 0.5 s: the energy of the last 0.5 s each bridged agent phone heard."""
        if self.ticks % 25:
            return
        for call in self.engine.calls.values():
            if call.kind != "fxs" or call.answered_at is None:
                continue
            heard = self.card.phone(call.channel).heard[-4000:].astype(np.float64)
            rms = float(np.sqrt(np.mean(heard ** 2))) if heard.size else 0.0
            if call.bridged_to is not None:
                self._bridged.add(call.id)
                peer = call.bridged_to
                self.watch.heard[peer] = max(self.watch.heard.get(peer, 0.0), rms)
            elif call.id not in self._bridged:
                self.watch.idle = max(self.watch.idle, rms)

    def close(self) -> None:
        self._db.close()
        super().close()


class RecordingGateway(WatchedGateway):
    """Also remembers when each call was hung up by the runner."""

    def __init__(self, db: Path, **kwargs) -> None:
        super().__init__(db, **kwargs)
        self.hangups: dict[int, float] = {}

    def hangup(self, call: int) -> None:
        self.hangups.setdefault(call, self.now())
        super().hangup(call)


def write_wav(path: Path, seconds: float = 1.0) -> Path:
    """A 440 Hz message, 8 kHz 16-bit mono."""
    return tone_wav(path, seconds)


class ServiceThread(_ServiceThread):
    """A real gateway service (emulated card, 2x scaled clock) on a Unix socket."""

    def __init__(self, folder: Path, network: Path) -> None:
        from trunkline.clock import ScaledClock
        from trunkline.gateway.config import GatewayConfig

        config = GatewayConfig(network=network, socket=folder / "gw.sock",
                               recordings_root=folder / "recordings", fax_spool=folder / "fax")
        config.shutdown_grace = 0.5
        # Twice real time: fast, yet a loaded machine has a second of wall time before a
        # late runner costs the 2 s rule (measured in card time).
        super().__init__(config, clock=ScaledClock(2.0))


