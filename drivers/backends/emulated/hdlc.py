"""A D-channel between the card and the emulated network: two ends, whole frames.

Frames cross at once, in order; while the link is down (a span alarm or an injected
D-channel fault) both ends report ``up == False`` and frames sent are lost, as they are
on a line in alarm.

An SS7 signalling link runs in DAHDI's MTP2 mode (``mtp2=True``): dahdi-base.c repeats
the last frame sent until another is written, and its receiver drops a frame identical
to the one before it, so a frame equal to the last one that crossed in its direction
does not cross again. MTP2 above it writes a fill-in or status unit only when it changes.
"""

from __future__ import annotations

from collections import deque


class HdlcEnd:
    """One end of a :class:`HdlcPipe`; satisfies :class:`trunkline.drivers.card.HdlcLink`."""

    def __init__(self, pipe: HdlcPipe, inbox: deque[bytes], outbox: deque[bytes]) -> None:
        self._pipe = pipe
        self._inbox = inbox
        self._outbox = outbox
        self.last_sent: bytes | None = None

    @property
    def up(self) -> bool:
        return self._pipe.up

    def send(self, frame: bytes) -> None:
        if not isinstance(frame, bytes | bytearray | memoryview):
            raise TypeError(f"an HDLC frame is bytes, not {type(frame).__name__}")
        if self._pipe.up and len(frame) > 0:
            frame = bytes(frame)
            if self._pipe.mtp2:
                if frame == self.last_sent:
                    return  # repeated by the kernel, dropped by the far receiver
                self.last_sent = frame
            self._outbox.append(frame)
            self._pipe.frames_sent += 1
        else:
            self._pipe.frames_dropped += 1

    def receive(self) -> bytes | None:
        return self._inbox.popleft() if self._inbox else None

    def pending(self) -> int:
        return len(self._inbox)


class HdlcPipe:
    """Two connected ends: ``card`` (our side) and ``network`` (the far end)."""

    def __init__(self, *, mtp2: bool = False) -> None:
        self.mtp2 = mtp2
        to_network: deque[bytes] = deque()
        to_card: deque[bytes] = deque()
        self.up = True
        self.frames_sent = 0
        self.frames_dropped = 0
        self.card = HdlcEnd(self, to_card, to_network)
        self.network = HdlcEnd(self, to_network, to_card)

    def set_up(self, up: bool) -> None:
        """Bring the link down (frames in flight are lost) or back up."""
        self.up = up
        if not up:
            self.card._inbox.clear()
            self.network._inbox.clear()
            self.card.last_sent = self.network.last_sent = None
