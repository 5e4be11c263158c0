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
from dataclasses import dataclass
from typing import Any

import numpy as np

from trunkline.drivers.backends.emulated.plan import Behaviour, NumberPlan
from trunkline.drivers.card import CardABC
from trunkline.drivers.dsp.zones import load_zone
from trunkline.drivers.lineloop import LineLoop
from trunkline.drivers.model import SpanKind
from trunkline.drivers.signalling.leg import CallOptions, Leg
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


@dataclass
class Job:
    """One call of the batch: its number, then the line and the leg placing it."""

    number: str
    expected: str
    channel: int | None = None
    leg: Leg | None = None

    @property
    def done(self) -> bool:
        return self.leg is not None and self.leg.ended


def run_demo(card: CardABC, *, calls: int, hold: float, as_json: bool, live: bool) -> int:
    plan = card.number_plan
    if plan is None:
        raise ConfigError("the demo needs the emulated card (it calls its sample network)")
    spans = [s for s in card.spans if s.kind is SpanKind.FXO]
    lines = [c for s in spans for c in s.channels]
    if not lines:
        raise ConfigError(f"card {card.name} has no FXO ports to call on")
    zone = load_zone(plan.zone)
    jobs = [Job(n, EXPECTED_OUTCOME[plan.lookup(n).behaviour])
            for n in sample_numbers(plan, calls)]
    waiting = list(jobs)
    started = time.monotonic()
    finished: list[Job] = []

    def report(job: Job) -> None:
        assert job.leg is not None
        finished.append(job)
        r = job.leg.result()
        if as_json:
            print(json.dumps({"channel": job.channel, **r, "expected": job.expected},
                             ensure_ascii=False), flush=True)
        elif not live:
            mark = "ok" if r["outcome"] == job.expected else "MISMATCH"
            print(f"line {job.channel:3d}  {job.number:<14} {r['outcome']:<15} "
                  f"{r['duration']:6.1f}s  {mark}", flush=True)

    display = _LiveDisplay(jobs) if live else None
    last_draw = 0.0
    with LineLoop(card, zone=zone, spans=[s.number for s in spans]) as loop:
        on_line: dict[int, Job] = {}

        def dial_free_lines() -> None:
            for channel in lines:
                job = on_line.get(channel)
                if job is not None and job.done:
                    report(job)
                    del on_line[channel]
                if channel not in on_line and waiting and not loop.busy(channel):
                    job = on_line[channel] = waiting.pop(0)
                    job.channel = channel
                    job.leg = loop.originate(
                        CallOptions(job.number, ring_timeout=30.0, hold=hold),
                        span=card.channel(channel).span, channel=channel)

        if display is not None:
            display.start()
        try:
            while waiting or on_line:
                dial_free_lines()
                loop.tick()
                if display is not None and time.monotonic() - last_draw > 0.25:
                    last_draw = time.monotonic()
                    display.update(loop.clock.now())
        finally:
            if display is not None:
                display.stop()
    if not as_json:
        _summary(finished, time.monotonic() - started)
    return 0


def _summary(finished: list[Job], wall: float) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="trunkline demo: outcomes")
    for col in ("line", "number", "expected", "outcome", "answered by", "call s"):
        table.add_column(col)
    right = 0
    for job in finished:
        assert job.leg is not None
        r = job.leg.result()
        ok = r["outcome"] == job.expected
        right += ok
        table.add_row(str(job.channel), job.number, job.expected,
                      f"[{'green' if ok else 'red'}]{r['outcome']}[/]",
                      str(r["answered_by"] or ""), f"{r['duration']:.1f}")
    console = Console(file=sys.stdout)
    console.print(table)
    counts = Counter(job.leg.result()["outcome"] for job in finished if job.leg is not None)
    console.print(f"{right}/{len(finished)} outcomes as the number plan says; "
                  + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
                  + f"; {wall:.1f} s wall time")


class _LiveDisplay:
    """A live table: one row per line, what is happening on it now."""

    def __init__(self, jobs: list[Job]) -> None:
        from rich.live import Live

        self.jobs = jobs
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
        current: dict[int, Job] = {}
        for job in self.jobs:
            if job.leg is not None and job.channel is not None and (
                    not job.done or job.channel not in current):
                current[job.channel] = job
        for channel in sorted(current):
            job = current[channel]
            assert job.leg is not None
            observed = job.leg.observations()
            last: dict[str, Any] = observed[-1] if observed else {"event": ""}
            detail = " ".join(f"{v}" for k, v in last.items() if k not in ("t", "event"))
            state = getattr(job.leg, "state", "")
            table.add_row(str(channel), job.number, str(state),
                          f"{last['event']} {detail}".strip(), job.leg.outcome or "")
        done = sum(job.done for job in self.jobs)
        table.caption = f"{done}/{len(self.jobs)} calls finished"
        self.live.update(table)
