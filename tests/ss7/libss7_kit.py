"""Our signalling point joined to a libss7 instance over a SOCK_SEQPACKET socketpair."""

from __future__ import annotations

import select
import socket
from collections.abc import Callable
from typing import Any

from trunkline.drivers.native.libss7 import Libss7
from trunkline.drivers.signalling.ss7 import events as s7
from trunkline.drivers.signalling.ss7.config import Ss7Config
from trunkline.drivers.signalling.ss7.point import Ss7Point

OURS, THEIRS = 4897, 4898   # ITU 2-100-1 and 2-100-2, as reference/ss7-libss7.md


class Interop:
    """``role`` names our side (``cpe`` or ``exchange``); frames carry 2 dummy FCS octets
    as libss7 writes and expects them."""

    def __init__(self, role: str = "cpe", *, tick: float = 0.01) -> None:
        self.ours, self.theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.ours.setblocking(False)
        self.theirs.setblocking(False)
        self.point = Ss7Point(Ss7Config(OURS, THEIRS, role=role, links={0: 1}))
        self.peer = Libss7(self.theirs.fileno(), pc=THEIRS, adjacent=OURS)
        self.now = 0.0
        self.tick = tick
        self.events: list[tuple[float, Any]] = []
        self.peer_events: list[tuple[float, dict[str, Any]]] = []
        self.on_peer: Callable[[dict[str, Any]], None] | None = None
        self.frames_out = self.frames_in = 0

    def close(self) -> None:
        self.peer.close()
        self.ours.close()
        self.theirs.close()

    def route(self, outputs: list[s7.PointOutput]) -> None:
        for out in outputs:
            if isinstance(out, s7.Transmit):
                self.ours.send(out.frame + b"\x00\x00")
                self.frames_out += 1
            else:
                self.events.append((self.now, out))

    def start(self) -> None:
        self.route(self.point.start(self.now))
        self._peer(self.peer.start(self.now))

    def _peer(self, events: list[dict[str, Any]]) -> None:
        for event in events:
            self.peer_events.append((self.now, event))
            if self.on_peer is not None:
                self.on_peer(event)

    def step(self) -> None:
        self.now = round(self.now + self.tick, 6)
        self._peer(self.peer.pump(self.now))
        while select.select([self.ours], [], [], 0)[0]:
            data = self.ours.recv(1024)
            if len(data) < 3:
                break
            self.frames_in += 1
            self.route(self.point.receive(self.now, 0, data[:-2]))
        self.route(self.point.on_time(self.now))
        self._peer(self.peer.pump(self.now))

    def run_until(self, done: Callable[[], bool], limit: float = 30.0) -> bool:
        end = self.now + limit
        while not done():
            if self.now >= end:
                return False
            self.step()
        return True

    def run(self, seconds: float) -> None:
        end = self.now + seconds
        while self.now < end - 1e-9:
            self.step()

    def of(self, kind: type) -> list[Any]:
        return [e for _, e in self.events if isinstance(e, kind)]

    def peer_of(self, name: str) -> list[dict[str, Any]]:
        return [e for _, e in self.peer_events if e["event"] == name]
