"""Gateways for tests, tools and the in-process dialer.

- :class:`ServiceThread` runs a real :class:`GatewayService` on a thread of its own (its
  asyncio loop there, the media tick on the engine's thread): the caller keeps its
  thread to act as a client over the socket. Used by the test suites and
  ``benchmarks/bench_gateway.py``.
- :class:`VirtualGateway` is the same service in this process, without a socket, in
  virtual time: the caller ticks it. Requests dispatch through the service's method
  registry (the same parameters, defaults, roles and errors as over the socket) and run
  on the engine at the end of the next tick, as they would; events come from the
  engine's bus, through msgpack as on the wire. ``trunkline dialer run --virtual``, the
  demo and the tests use it.
"""

from __future__ import annotations

import asyncio
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import msgpack

from trunkline.clock import Clock, VirtualClock
from trunkline.gateway.background import drain
from trunkline.gateway.config import GatewayConfig
from trunkline.gateway.rpc.errors import ErrorCode, RpcError
from trunkline.gateway.rpc.registry import Role
from trunkline.gateway.service import GatewayService

__all__ = ["LocalSession", "ServiceThread", "VirtualGateway"]

P = ParamSpec("P")
T = TypeVar("T")


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


class LocalSession:
    """The in-process client, as method handlers see it (a socket's Session in kind)."""

    transport_kind = "local"
    peer = "in-process"

    def __init__(self, role: Role = Role.ADMIN) -> None:
        self.id = 0
        self.role: Role | None = role
        self.state: dict[str, Any] = {}
        self.closed = False

    def add_close_callback(self, callback: Callable[[Any], Any]) -> None:
        """In-process clients never disconnect."""


class _Threads(ThreadPoolExecutor):
    """The private loop's executor, counting work in flight (``asyncio.to_thread``)."""

    def __init__(self) -> None:
        super().__init__(max_workers=2, thread_name_prefix="trunkline-virtual")
        self.pending: set[Future[Any]] = set()

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        future = super().submit(fn, *args, **kwargs)
        self.pending.add(future)
        future.add_done_callback(self.pending.discard)
        return future


def _as_wire(value: Any) -> Any:
    """``value`` as a client would decode it (tuples become lists...)."""
    return msgpack.unpackb(msgpack.packb(value, use_bin_type=True), raw=False,
                           strict_map_key=False)


class Pending:
    """A request sent to a :class:`VirtualGateway`: its reply once the engine ran it."""

    def __init__(self, method: str, task: asyncio.Task[Any]) -> None:
        self.method = method
        self.task = task

    def done(self) -> bool:
        return self.task.done()

    def result(self) -> Any:
        """The reply (as decoded from the wire), or the RpcError it failed with."""
        error = self.task.exception()
        if error is not None:
            raise error
        try:
            return _as_wire(self.task.result())
        except (TypeError, ValueError, OverflowError) as exc:
            raise RpcError(ErrorCode.INTERNAL, f"{self.method} returned a value msgpack "
                                               f"cannot carry: {exc}") from exc


class VirtualGateway:
    """A gateway service on the emulated card, in this process, in virtual time.

    Time moves only in :meth:`tick` (20 ms of card time, as fast as the CPU allows);
    :meth:`request` queues a request as a client's would be queued (it runs on the
    engine at the end of the next tick) and :meth:`call` ticks until it is answered.
    ``start`` is the epoch instant the virtual clock starts at. ``on_tick`` callables
    run after every tick. Without a ``config``, recordings and the fax spool go to a
    scratch folder removed by :meth:`close`, and ``call.play`` may play any file (the
    prompts folder is ``/``: this process is the only client).
    """

    def __init__(self, config: GatewayConfig | None = None, *, start: float | None = None,
                 network: str | Path | None = None, warmup: float = 0.3) -> None:
        self.clock = VirtualClock(time.time() if start is None else start)
        self._scratch: tempfile.TemporaryDirectory[str] | None = None
        if config is None:
            self._scratch = tempfile.TemporaryDirectory(prefix="trunkline-virtual-gw-")
            scratch = Path(self._scratch.name)
            # No remote client reaches an in-process gateway: its one client is this
            # process, which may play any file it can name (campaign messages).
            config = GatewayConfig(recordings_root=scratch / "recordings",
                                   fax_spool=scratch / "fax", prompts=Path("/"))
        if network is not None:
            config.network = Path(network)
        self.config = config
        self.service = GatewayService(config, clock=self.clock)
        self.engine = self.service.engine
        self.card = self.service.card
        self.session = LocalSession()
        self.events: list[dict[str, Any]] = []
        self.on_tick: list[Callable[[], None]] = []
        self.ticks = 0
        self._loop = asyncio.new_event_loop()
        self._threads = _Threads()
        self._loop.set_default_executor(self._threads)
        self._pending: list[Pending] = []
        self._token = self.engine.subscribe(lambda event: self.events.append(_as_wire(event)))
        end = self.clock.now() + warmup  # the PRI D-channels come up
        while self.clock.now() < end:
            self.tick()
        self.events.clear()

    # -- time -----------------------------------------------------------------------------
    def now(self) -> float:
        return self.clock.now()

    def tick(self) -> None:
        """One 20 ms tick; requests queued before it run at its end and are answered.

        Background work the tick started (documents, recordings) is waited for: in
        virtual time it takes no time, whatever the machine's speed."""
        self.engine.tick()
        self.ticks += 1
        drain()
        self._settle()
        for fn in self.on_tick:
            fn()

    def run(self, seconds: float) -> None:
        end = self.clock.now() + seconds
        while self.clock.now() < end:
            self.tick()

    def run_until(self, predicate: Callable[[], Any], seconds: float = 300.0) -> Any:
        """Tick until ``predicate()`` is true (its value), at most ``seconds`` of card
        time; AssertionError after that."""
        end = self.clock.now() + seconds
        while self.clock.now() < end:
            value = predicate()
            if value:
                return value
            self.tick()
        raise AssertionError(f"condition not met within {seconds} s of card time; last "
                             f"events: {[e.get('event') for e in self.events[-15:]]}")

    # -- requests -------------------------------------------------------------------------
    def request(self, method: str, /, **params: Any) -> Pending:
        """Send a request; it runs as the socket service would run it."""
        params = _as_wire(params)
        task = self._loop.create_task(self.service.registry.dispatch(self.session, method,
                                                                       params))
        pending = Pending(method, task)
        self._pending.append(pending)
        self._settle()
        return pending

    def call(self, method: str, /, **params: Any) -> Any:
        """Send a request and tick until it is answered; its result, or RpcError."""
        pending = self.request(method, **params)
        while not pending.done():
            self.tick()
        return pending.result()

    def take_events(self) -> list[dict[str, Any]]:
        """The events published since the last take, oldest first."""
        events, self.events[:] = list(self.events), []
        return events

    def _settle(self) -> None:
        """Run the requests' coroutines until each waits for the engine (or is done)."""
        if not self._pending:
            return
        while True:
            for _ in range(4):
                self._loop.run_until_complete(asyncio.sleep(0))
            if not self._threads.pending:
                break
            wait_futures(list(self._threads.pending), timeout=30)
        self._pending = [p for p in self._pending if not p.done()]

    # -- the end --------------------------------------------------------------------------
    def close(self) -> None:
        self.engine.unsubscribe(self._token)
        for pending in self._pending:
            pending.task.cancel()
        self._settle()
        self._loop.close()
        self._threads.shutdown(wait=True)
        self.engine.close()
        self.card.close()
        if self._scratch is not None:
            self._scratch.cleanup()

    def __enter__(self) -> VirtualGateway:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
