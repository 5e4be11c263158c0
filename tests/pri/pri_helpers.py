"""Helpers for the PRI tests: a CPE and a network span joined by a LinkPair."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from trunkline.clock import VirtualClock
from trunkline.drivers.signalling.pri import events as ev
from trunkline.drivers.signalling.pri.link import LinkPair
from trunkline.drivers.signalling.pri.span import PriSpan

TICK = 0.02


class RecordingLogger:
    """A structlog-like logger that keeps records (and prints nothing)."""

    def __init__(self, records: list[tuple[str, str, dict[str, Any]]] | None = None,
                 context: dict[str, Any] | None = None) -> None:
        self.records = records if records is not None else []
        self.context = context or {}

    def bind(self, **kw: Any) -> RecordingLogger:
        return RecordingLogger(self.records, {**self.context, **kw})

    def _log(self, level: str, event: str, **kw: Any) -> None:
        self.records.append((level, event, {**self.context, **kw}))

    def debug(self, event: str, **kw: Any) -> None:
        pass

    def info(self, event: str, **kw: Any) -> None:
        self._log("info", event, **kw)

    def warning(self, event: str, **kw: Any) -> None:
        self._log("warning", event, **kw)

    def error(self, event: str, **kw: Any) -> None:
        self._log("error", event, **kw)


def run(clock: VirtualClock, nodes: Iterable[Any], seconds: float,
        until: Any = None) -> list[ev.PriEvent]:
    """Tick ``nodes`` (spans, exchanges, groups) for ``seconds`` of virtual time.

    Stops early when ``until(event)`` is true for an event; returns all events."""
    nodes = list(nodes)
    out: list[ev.PriEvent] = []
    steps = max(1, round(seconds / TICK))
    for _ in range(steps):
        clock.advance(TICK)
        for node in nodes:
            events = node.poll(clock.now())
            out.extend(events)
            if until is not None and any(until(e) for e in events):
                return out
    return out


def of(events: Iterable[ev.PriEvent], kind: type) -> list[Any]:
    return [e for e in events if isinstance(e, kind)]


def make_pair(clock: VirtualClock, logger: RecordingLogger, pair: LinkPair,
              switchtype: str = "euroisdn_e1", **kw: Any) -> tuple[PriSpan, PriSpan]:
    cpe = PriSpan(pair.a, role="cpe", switchtype=switchtype, clock=clock, span_id=1,
                  logger=logger, **kw)
    net = PriSpan(pair.b, role="network", switchtype=switchtype, clock=clock, span_id=2,
                  logger=logger, **kw)
    events = run(clock, (cpe, net), 1.0)
    assert cpe.up and net.up, events
    return cpe, net


def incoming_call(events: list[ev.PriEvent]) -> ev.IncomingCall:
    rings = of(events, ev.IncomingCall)
    assert len(rings) == 1, events
    return rings[0]
