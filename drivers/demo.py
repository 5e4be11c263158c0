"""``trunkline demo``: a batch of calls over the emulated card's FXO ports, shown live.

Numbers are drawn from every range of the card's number plan, so each subscriber
behaviour is called; the summary compares each outcome with what the plan says the
number does.
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from typing import Any

import numpy as np

from trunkline.drivers.backends.emulated.plan import Behaviour, NumberPlan
from trunkline.drivers.calls import LineCall, run_calls
from trunkline.drivers.card import CardABC
from trunkline.drivers.dsp.zones import load_zone
from trunkline.drivers.fxo_call import FxoCall
from trunkline.drivers.model import SpanKind
from trunkline.errors import ConfigError

#: The outcome a dialer should record for each subscriber behaviour (DESIGN.md).
EXPECTED_OUTCOME = {
    Behaviour.HUMAN: "human", Behaviour.MACHINE: "machine", Behaviour.FAX: "fax",
    Behaviour.MODEM: "fax", Behaviour.BUSY: "busy", Behaviour.NO_ANSWER: "no_answer",
    Behaviour.CONGESTION: "congestion", Behaviour.INVALID_NUMBER: "invalid_number",
    Behaviour.POWERED_OFF: "unreachable", Behaviour.UNREACHABLE: "unreachable",
}


def sample_numbers(plan: NumberPlan, count: int, seed: int = 7) -> list[str]:
    """``count`` numbers cycling through the plan's ranges (11 digits, or exact ones)."""
    rng = np.random.default_rng(seed)
    patterns = [s for s in plan.subscribers]
    if not patterns:
        raise ConfigError("the number plan has no subscribers to call")
    numbers = []
    for i in range(count):
        sub = patterns[i % len(patterns)]
        if sub.is_prefix:
            length = max(len(sub.digits) + 4, 11)
            tail = "".join(str(d) for d in rng.integers(0, 10, length - len(sub.digits)))
            number = sub.digits + tail
            # Make sure a longer prefix does not capture it (e.g. 1381* inside 138*).
            while plan.lookup(number) is not sub:
                tail = "".join(str(d) for d in rng.integers(0, 10, length - len(sub.digits)))
                number = sub.digits + tail
        else:
            number = sub.pattern
        numbers.append(number)
    return numbers


def run_demo(card: CardABC, *, calls: int, hold: float, as_json: bool, live: bool) -> int:
    plan: NumberPlan | None = getattr(card, "plan", None)
    if plan is None:
        raise ConfigError("the demo needs the emulated card (it calls its sample network)")
    lines = [c for s in card.spans if s.kind is SpanKind.FXO for c in s.channels]
    if not lines:
        raise ConfigError(f"card {card.name} has no FXO ports to call on")
    zone = load_zone(plan.zone)
    numbers = sample_numbers(plan, calls)
    expected = {n: EXPECTED_OUTCOME[plan.lookup(n).behaviour] for n in numbers}
    jobs = [LineCall(lines[i % len(lines)], FxoCall(n, zone, ring_timeout=30.0, hold=hold))
            for i, n in enumerate(numbers)]
    first, rest = jobs[: len(lines)], jobs[len(lines):]
    started = time.monotonic()
    finished: list[LineCall] = []
    reported: set[int] = set()

    def report_finished() -> None:
        for lc in jobs:
            if lc.call.done and id(lc) not in reported:
                reported.add(id(lc))
                finished.append(lc)
                r = lc.call.result()
                if as_json:
                    print(json.dumps({"channel": lc.channel, **r,
                                      "expected": expected[lc.call.number]},
                                     ensure_ascii=False), flush=True)
                elif not live:
                    mark = "ok" if r["outcome"] == expected[lc.call.number] else "MISMATCH"
                    print(f"line {lc.channel:3d}  {lc.call.number:<14} {r['outcome']:<15} "
                          f"{r['duration']:6.1f}s  {mark}", flush=True)

    display = _LiveDisplay(card, jobs, expected) if live else None
    last_draw = 0.0

    def on_tick(t: float) -> None:
        nonlocal last_draw
        report_finished()
        if display is not None and time.monotonic() - last_draw > 0.25:
            last_draw = time.monotonic()
            display.update(t)

    if display is not None:
        display.start()
    try:
        run_calls(card, first, pending=rest, on_tick=on_tick)
    finally:
        if display is not None:
            display.stop()
    report_finished()
    if not as_json:
        _summary(finished, expected, time.monotonic() - started)
    return 0


def _summary(finished: list[LineCall], expected: dict[str, str], wall: float) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="trunkline demo: outcomes")
    for col in ("line", "number", "expected", "outcome", "answered by", "call s"):
        table.add_column(col)
    right = 0
    for lc in finished:
        r = lc.call.result()
        ok = r["outcome"] == expected[lc.call.number]
        right += ok
        table.add_row(str(lc.channel), lc.call.number, expected[lc.call.number],
                      f"[{'green' if ok else 'red'}]{r['outcome']}[/]",
                      str(r["answered_by"] or ""), f"{r['duration']:.1f}")
    console = Console(file=sys.stdout)
    console.print(table)
    counts = Counter(lc.call.result()["outcome"] for lc in finished)
    console.print(f"{right}/{len(finished)} outcomes as the number plan says; "
                  + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
                  + f"; {wall:.1f} s wall time")


class _LiveDisplay:
    """A live table: one row per line, what is happening on it now."""

    def __init__(self, card: CardABC, jobs: list[LineCall], expected: dict[str, str]) -> None:
        from rich.live import Live

        self.card = card
        self.jobs = jobs
        self.expected = expected
        self.live = Live(refresh_per_second=8, transient=False)

    def start(self) -> None:
        self.live.start()

    def stop(self) -> None:
        self.live.stop()

    def update(self, t: float) -> None:
        from rich.table import Table

        table = Table(title=f"trunkline demo  t={t:6.1f}s  (emulated card, sample network)")
        for col in ("line", "number", "state", "last event", "outcome"):
            table.add_column(col)
        current: dict[int, LineCall] = {}
        for lc in self.jobs:
            if lc.call.events and (not lc.call.done or lc.channel not in current):
                current[lc.channel] = lc
        for channel in sorted(current):
            lc = current[channel]
            ev: dict[str, Any] = lc.call.events[-1]
            detail = " ".join(f"{v}" for k, v in ev.items() if k not in ("t", "event"))
            outcome = lc.call.outcome or ""
            table.add_row(str(channel), lc.call.number, lc.call.state.value,
                          f"{ev['event']} {detail}".strip(), outcome)
        done = sum(lc.call.done for lc in self.jobs)
        table.caption = f"{done}/{len(self.jobs)} calls finished"
        self.live.update(table)
