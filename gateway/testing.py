"""Run a gateway service on a thread of its own: for tests, benchmarks and tools.

The service's asyncio loop runs on the new thread, the media tick on the engine's own;
the caller keeps its thread to act as a client. Used by the test suites and
``benchmarks/bench_gateway.py``.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

from trunkline.clock import Clock
from trunkline.gateway.config import GatewayConfig
from trunkline.gateway.service import GatewayService


class ServiceThread:
    """A :class:`GatewayService` serving on a background thread; a context manager."""

    def __init__(self, config: GatewayConfig, *, clock: Clock | None = None,
                 service: GatewayService | None = None) -> None:
        self.config = config
        self.service = service or GatewayService(config, clock=clock)
        self.error: BaseException | None = None
        self._loop = asyncio.new_event_loop()
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="trunkline-gateway",
                                        daemon=True)

    @property
    def socket(self) -> str:
        return str(self.config.socket)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)

        async def main() -> None:
            self._stop = asyncio.Event()
            ready = asyncio.Event()
            serving = asyncio.get_running_loop().create_task(
                self.service.serve(ready=ready, stop=self._stop))
            await ready.wait()
            self._ready.set()
            await serving

        try:
            self._loop.run_until_complete(main())
        except BaseException as err:  # handed to the caller by start()
            self.error = err
            self._ready.set()

    def start(self, timeout: float = 60.0) -> ServiceThread:
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError("the gateway did not start")
        if self.error is not None:
            raise self.error
        return self

    def on_engine(self, fn: Callable[[], Any], timeout: float = 10.0) -> Any:
        """Run ``fn`` on the media thread (where the card may be touched) and wait."""
        return self.service.engine.submit(fn).result(timeout=timeout)

    def stop(self, timeout: float = 30.0) -> None:
        """Graceful stop, as SIGTERM would do."""
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=timeout)

    def __enter__(self) -> ServiceThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
