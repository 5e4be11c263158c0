"""Run a real gateway service (emulated card, scaled clock) in a thread for tests."""

from __future__ import annotations

import socket
import tempfile
import time
from pathlib import Path

from trunkline.clock import ScaledClock
from trunkline.gateway.config import GatewayConfig
from trunkline.gateway.rpc.protocol import FrameDecoder
from trunkline.gateway.testing import ServiceThread

PLAN = Path(__file__).resolve().parents[2] / "hil-tests" / "network.toml"
SPEED = 4.0


class RunningGateway(ServiceThread):
    """The hil-tests' number plan behind the default card, in a scratch folder."""

    def __init__(self, config: GatewayConfig | None = None) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="tl-gw-", dir="/tmp"))
        config = config or GatewayConfig()
        config.socket = self.dir / "gw.sock"
        config.network = PLAN
        config.shutdown_grace = 1.0
        config.inbound_timeout = 2.0
        super().__init__(config, clock=ScaledClock(SPEED))


def wait_until(condition, what: str, timeout: float = 30.0, *, interval: float = 0.02):
    """``condition()``'s first true value, asked every ``interval`` seconds; fails naming
    ``what`` after ``timeout`` seconds. For states no event announces (a file another
    process creates, a service's state); where an event exists, use :func:`wait_for`."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what}: not within {timeout} s")
        time.sleep(interval)


def wait_for(client, predicate, timeout: float = 30.0) -> list[dict]:
    """Events until one satisfies ``predicate``; fails after ``timeout`` seconds."""
    seen: list[dict] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            event = client.next_event(timeout=0.5)
        except TimeoutError:
            continue
        seen.append(event)
        if predicate(event):
            return seen
    raise AssertionError(f"no matching event within {timeout} s; saw {seen[-20:]}")


def next_frame(sock: socket.socket, timeout: float = 5.0) -> dict | None:
    """The next frame the gateway sends on a raw socket, or None when it closes the
    connection (tests that speak the wire themselves: refusals, cuts)."""
    decoder = FrameDecoder()
    sock.settimeout(timeout)
    while True:
        data = sock.recv(65536)
        if not data:
            return None
        frames = decoder.feed(data)
        if frames:
            return frames[0]
