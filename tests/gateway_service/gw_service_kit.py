"""Run a real gateway service (emulated card, scaled clock) in a thread for tests."""

from __future__ import annotations

import asyncio
import tempfile
import threading
import time
from pathlib import Path

from trunkline.clock import ScaledClock
from trunkline.gateway.config import GatewayConfig
from trunkline.gateway.service import GatewayService

PLAN = Path(__file__).resolve().parents[2] / "hil-tests" / "network.toml"
SPEED = 4.0


class RunningGateway:
    def __init__(self, config: GatewayConfig | None = None) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="tl-gw-", dir="/tmp"))
        config = config or GatewayConfig()
        config.socket = self.dir / "gw.sock"
        config.network = PLAN
        config.shutdown_grace = 1.0
        config.inbound_timeout = 2.0
        self.config = config
        self.service = GatewayService(config, clock=ScaledClock(SPEED))
        self._loop = asyncio.new_event_loop()
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.error: BaseException | None = None

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)

        async def main() -> None:
            self._stop = asyncio.Event()
            ready = asyncio.Event()

            async def flag() -> None:
                await ready.wait()
                self._ready.set()

            asyncio.get_running_loop().create_task(flag())
            await self.service.serve(ready=ready, stop=self._stop)

        try:
            self._loop.run_until_complete(main())
        except BaseException as err:  # surfaced by the test
            self.error = err
            self._ready.set()

    def start(self) -> RunningGateway:
        self._thread.start()
        if not self._ready.wait(60):
            raise TimeoutError("the gateway did not start")
        if self.error is not None:
            raise self.error
        return self

    def on_engine(self, fn):
        """Run ``fn`` on the media thread (where the card may be touched) and wait."""
        return self.service.engine.submit(fn).result(timeout=10)

    def stop(self) -> None:
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=30)

    @property
    def socket(self) -> str:
        return str(self.config.socket)


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
