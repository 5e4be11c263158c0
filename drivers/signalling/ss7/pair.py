"""Two signalling points joined over their links, in virtual time (h11's ConnectionPair,
as :class:`~trunkline.drivers.signalling.pri.link.LinkPair` for PRI).

Each direction of each link behaves as DAHDI's MTP2 mode does (dahdi-base.c): the sender's
last frame is repeated until it writes another, and the receiver drops a frame identical
to the one before it. Frames may be lost (``loss``, seeded), and a link may be cut
(:meth:`PointPair.cut`): frames are lost and the receivers see errors (the kernel's
aborts), as on a real line in alarm.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from . import events as ev
from .point import Ss7Point

__all__ = ["DahdiLine", "PointPair"]


@dataclass
class DahdiLine:
    """One direction of one link: what the kernel's transmit and receive sides do."""

    rng: random.Random
    loss: float = 0.0
    cut: bool = False
    queue: list[bytes] = field(default_factory=list)
    last: bytes | None = None
    seen: bytes | None = None
    frames: int = 0
    lost: int = 0

    def tick(self) -> list[bytes]:
        """Frames delivered in one tick (new ones, or the last one repeated)."""
        if self.cut:
            self.queue.clear()
            self.last = self.seen = None
            return []
        frames = self.queue or ([self.last] if self.last is not None else [])
        if self.queue:
            self.last = self.queue[-1]
        self.queue = []
        delivered = []
        for frame in frames:
            if self.loss and self.rng.random() < self.loss:
                self.lost += 1
                continue
            if frame == self.seen:
                continue
            self.seen = frame
            self.frames += 1
            delivered.append(frame)
        return delivered


class PointPair:
    """Points ``a`` and ``b`` joined link by link (same SLCs on both), ticked every
    ``tick`` seconds of virtual time. Every output of either point is kept in
    ``events[name]`` as ``(t, output)`` (frames excepted); ``watch`` is called with
    ``(name, t, output)`` for each, and may return follow-up outputs to route."""

    def __init__(self, a: Ss7Point, b: Ss7Point, *, loss: float = 0.0, seed: int = 0,
                 tick: float = 0.01,
                 watch: Callable[[str, float, ev.PointOutput], None] | None = None) -> None:
        if set(a.config.links) != set(b.config.links):
            raise ValueError(f"the points' links differ: {sorted(a.config.links)} and "
                             f"{sorted(b.config.links)}")
        self.ends = {"a": a, "b": b}
        self.a, self.b = a, b
        rng = random.Random(seed)
        #: (receiver, slc) -> the line carrying frames to it.
        self.lines = {(name, slc): DahdiLine(rng, loss)
                      for name in ("a", "b") for slc in a.config.links}
        self.now = 0.0
        self.tick = tick
        self.watch = watch
        self.events: dict[str, list[tuple[float, ev.PointOutput]]] = {"a": [], "b": []}

    def start(self) -> None:
        for name, point in self.ends.items():
            self.route(name, point.start(self.now))

    def route(self, name: str, outputs: list[ev.PointOutput]) -> None:
        """Carry out ``outputs`` of end ``name``: frames onto the lines, the rest kept."""
        other = "b" if name == "a" else "a"
        for out in outputs:
            if isinstance(out, ev.Transmit):
                self.lines[(other, out.slc)].queue.append(out.frame)
            else:
                self.events[name].append((self.now, out))
                if self.watch is not None:
                    self.watch(name, self.now, out)

    def step(self) -> None:
        self.now = round(self.now + self.tick, 9)
        for (name, slc), line in self.lines.items():
            point = self.ends[name]
            if line.cut:
                self.route(name, point.link_error(self.now, slc))
            for frame in line.tick():
                self.route(name, point.receive(self.now, slc, frame))
        for name, point in self.ends.items():
            self.route(name, point.on_time(self.now))

    def run(self, seconds: float) -> None:
        end = self.now + seconds
        while self.now < end - 1e-9:
            self.step()

    def run_until(self, done: Callable[[], bool], limit: float = 120.0) -> bool:
        """Step until ``done()`` (True) or ``limit`` seconds pass (False)."""
        end = self.now + limit
        while not done():
            if self.now >= end:
                return False
            self.step()
        return True

    def cut(self, slc: int, cut: bool = True) -> None:
        """Cut (or restore) link ``slc`` in both directions."""
        for name in ("a", "b"):
            self.lines[(name, slc)].cut = cut

    def of(self, name: str, kind: type) -> list[object]:
        """The events of ``kind`` end ``name`` reported, in order."""
        return [e for _, e in self.events[name] if isinstance(e, kind)]
