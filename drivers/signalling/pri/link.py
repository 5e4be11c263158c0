"""The D-channel transport: one HDLC frame at a time, without the FCS.

:class:`HdlcLink` is the contract a span's D-channel (E1 timeslot 16) offers to the PRI
layer; the emulated card and the DAHDI backend implement it. :class:`LinkPair` joins two
ends in memory for tests and simulations (h11's ``ConnectionPair`` pattern), with a
switchable "down" state (layer 1 alarm / D-channel loss) and optional frame loss.

libpri's Q.921 writes ``len + 2`` bytes (room for the FCS) and drops the last two bytes
of what it reads; :class:`~trunkline.drivers.signalling.pri.span.PriSpan` strips and adds that
trailer, so frames on an :class:`HdlcLink` are always whole and FCS-free.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable, Iterator
from typing import Protocol, runtime_checkable

__all__ = ["MAX_FRAME", "HdlcLink", "LinkEnd", "LinkPair"]

#: Largest frame (address + control + N201=260 information octets) we accept.
MAX_FRAME = 1020


@runtime_checkable
class HdlcLink(Protocol):
    """One end of an HDLC link carrying whole frames without FCS."""

    def send(self, frame: bytes) -> None:
        """Queue one frame for transmission (silently lost while the link is down)."""
        ...

    def receive(self) -> bytes | None:
        """Return the next received frame, or None when there is none."""
        ...

    @property
    def up(self) -> bool:
        """False while the link is down (alarm, D-channel loss)."""
        ...


class LinkEnd:
    """One end of a :class:`LinkPair`; implements :class:`HdlcLink`."""

    def __init__(self, pair: LinkPair, name: str) -> None:
        self._pair = pair
        self.name = name
        self._inbox: deque[bytes] = deque()
        self.peer: LinkEnd | None = None
        #: Frames sent and received by this end (for tests and traces).
        self.sent = 0
        self.received = 0

    def send(self, frame: bytes) -> None:
        if not isinstance(frame, bytes | bytearray | memoryview):
            raise TypeError(f"link {self.name}: a frame must be bytes, got {type(frame)!r}")
        frame = bytes(frame)
        if not 3 <= len(frame) <= MAX_FRAME:
            raise ValueError(
                f"link {self.name}: frame length {len(frame)} outside 3..{MAX_FRAME}"
            )
        self.sent += 1
        if self._pair.down or self.peer is None:
            return
        if self._pair._should_drop(self, frame):
            return
        self.peer._inbox.append(frame)

    def receive(self) -> bytes | None:
        if self._pair.down or not self._inbox:
            return None
        self.received += 1
        return self._inbox.popleft()

    @property
    def up(self) -> bool:
        return not self._pair.down

    def pending(self) -> int:
        """Frames waiting to be received at this end."""
        return len(self._inbox)

    def __repr__(self) -> str:
        return f"<LinkEnd {self.name} up={self.up} pending={len(self._inbox)}>"


class LinkPair:
    """Two :class:`LinkEnd` objects (``a`` and ``b``) joined back to back, in memory.

    ``down`` simulates a layer-1 alarm: both ends report ``up=False``, frames sent are
    lost and frames in flight are discarded. ``drop`` is an optional predicate
    ``drop(sender, frame) -> bool`` deciding to lose a frame; ``loss`` a probability of
    losing each frame, drawn from a generator seeded with ``seed``. ``drop_next(n)``
    loses the next ``n`` frames in either direction.
    """

    def __init__(
        self, *, loss: float = 0.0, seed: int = 0,
        drop: Callable[[LinkEnd, bytes], bool] | None = None,
    ) -> None:
        if not 0.0 <= loss < 1.0:
            raise ValueError(f"frame loss probability must be in [0, 1), got {loss=}")
        self.a = LinkEnd(self, "a")
        self.b = LinkEnd(self, "b")
        self.a.peer, self.b.peer = self.b, self.a
        self.loss = loss
        self.drop = drop
        self._rng = random.Random(seed)
        self._drop_count = 0
        self._down = False
        #: Frames lost by ``loss``, ``drop`` or ``drop_next``.
        self.dropped = 0

    @property
    def down(self) -> bool:
        return self._down

    @down.setter
    def down(self, value: bool) -> None:
        self._down = bool(value)
        if self._down:
            self.a._inbox.clear()
            self.b._inbox.clear()

    def drop_next(self, count: int = 1) -> None:
        """Lose the next ``count`` frames, whichever end sends them."""
        if count < 0:
            raise ValueError(f"cannot drop a negative number of frames: {count=}")
        self._drop_count += count

    def _should_drop(self, sender: LinkEnd, frame: bytes) -> bool:
        if self._drop_count:
            self._drop_count -= 1
            lose = True
        else:
            lose = (self.drop is not None and self.drop(sender, frame)) or bool(
                self.loss and self._rng.random() < self.loss)
        if lose:
            self.dropped += 1
        return lose

    def __iter__(self) -> Iterator[LinkEnd]:  # allow ``cpe_end, net_end = LinkPair()``
        return iter((self.a, self.b))
