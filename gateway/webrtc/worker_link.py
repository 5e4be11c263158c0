"""The gateway's side of the WebRTC media worker: the process, its two channels, its death.

Why a process: aiortc is Python (RTP, SRTP, ICE, DTLS on asyncio); run in the gateway's
process it holds the GIL in stretches and the 20 ms tick waits for it. At 50 peers the
tick's mean rose from 0.2 to 7 ms and ticks overran (``benchmarks/bench_webrtc.py``, the
in-process baseline it still measures). In a process of its own, aiortc costs the tick
only what crosses the channels.

- :class:`MediaExchange` (sans-IO) routes the worker's packets to positions by peer
  number and batches the tick's frames (``worker_wire.py`` says why one datagram a tick);
- :class:`RestartPolicy` (sans-IO, a clock given) says how long to wait before starting
  a worker again: at once, unless the last one died young (then 0.5 s, doubling to 30 s:
  a worker that cannot start is not started 50 times a second);
- :class:`MediaWorker` owns the process (``python -m trunkline.gateway.webrtc.worker``,
  its sockets passed as file descriptors: no fork of a threaded gateway), sends control
  requests (each a :class:`~concurrent.futures.Future`), and a thread of its own reads
  replies and events. The tick calls only :meth:`MediaWorker.receive` and
  :meth:`MediaWorker.send_frames`, which never wait: reads stop at the first empty read,
  a send the kernel cannot take at once is dropped (counted).

The worker's death is seen as the control socket's end of file (the kernel closes it
whatever killed the process): every peer it ran is reported ``lost`` (reason
``worker_lost``, the softphone's ``webrtc.state``, then the dialer's lost-agent policy),
pending requests fail, and a new worker is started. The pages connect again by
themselves (their peer connections fail) with new offers, served by the new worker.
"""

from __future__ import annotations

import contextlib
import itertools
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from typing import Any, Protocol

import structlog

from trunkline.gateway.webrtc.worker_wire import (
    WireError,
    decode_packets,
    encode_frames,
    pack_control,
    unpack_control,
)

log = structlog.get_logger("trunkline.gateway.webrtc")

__all__ = ["WORKER_LOST", "MediaExchange", "MediaWorker", "RestartPolicy", "WorkerLost"]

#: The reason a peer is lost when its worker dies.
WORKER_LOST = "worker_lost"
_RECV = 1 << 18


class WorkerLost(ConnectionError):
    """The media worker died before it answered (the request may be sent again)."""


class _Inbound(Protocol):
    def put(self, item: Any, block: bool = ..., timeout: float | None = ...) -> None: ...


class _Routed(Protocol):
    """What a packet is delivered to: a position (``positions.Position``)."""

    @property
    def inbound(self) -> _Inbound: ...


class MediaExchange:
    """Packets to positions by peer number, frames to datagrams (sans-IO)."""

    def __init__(self) -> None:
        self.routes: dict[int, _Routed] = {}
        self.unrouted = 0          # packets of peers no longer routed (replaced, closed)
        self.malformed = 0         # datagrams that did not decode

    def deliver(self, datagram: bytes) -> int:
        """Put the packets of ``datagram`` on their positions' queues; how many."""
        routes = self.routes
        count = 0
        try:
            for peer, rtp in decode_packets(datagram):
                target = routes.get(peer)
                if target is None:
                    self.unrouted += 1
                else:
                    target.inbound.put(rtp)
                    count += 1
        except WireError:
            self.malformed += 1
        return count

    @staticmethod
    def frames(frames: Iterable[tuple[int, bytes]]) -> list[bytes]:
        return encode_frames(frames)


class RestartPolicy:
    """How long to wait before the next worker (see the module docstring)."""

    def __init__(self, clock: Callable[[], float], *, young: float = 10.0,
                 first: float = 0.5, longest: float = 30.0) -> None:
        self.clock = clock
        self.young, self.first, self.longest = young, first, longest
        self._wait = 0.0
        self.started_at: float | None = None

    def started(self) -> None:
        self.started_at = self.clock()

    def died(self) -> float:
        """Seconds to wait before starting the next worker."""
        lived = self.clock() - self.started_at if self.started_at is not None else 0.0
        if lived >= self.young:
            self._wait = 0.0
            return 0.0
        self._wait = min(self.longest, max(self.first, 2 * self._wait))
        return self._wait


StateHandler = Callable[[str, str], None]


class MediaWorker:
    """The WebRTC media worker process, gateway side (see the module docstring).

    ``command`` starts the worker (its two file descriptors appended); the default is
    this interpreter running ``trunkline.gateway.webrtc.worker``.
    """

    def __init__(self, *, command: list[str] | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.command = command or [sys.executable, "-m", "trunkline.gateway.webrtc.worker"]
        self.exchange = MediaExchange()
        self.policy = RestartPolicy(clock)
        self._sleep = sleep
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._pending: dict[int, Future[dict[str, Any]]] = {}
        self._handlers: dict[int, StateHandler] = {}
        self._control: socket.socket | None = None
        self._media: socket.socket | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self._stopping = False
        self.restarts = 0
        self.dropped_batches = 0   # frame batches the worker's socket could not take
        self._peer_ids = itertools.count(1)

    # -- life ---------------------------------------------------------------------------
    def start(self) -> MediaWorker:
        control, control_child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        media, media_child = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
        media.setblocking(False)
        fds = (control_child.fileno(), media_child.fileno())
        try:
            self.process = subprocess.Popen([*self.command, *map(str, fds)], pass_fds=fds,
                                            stdin=subprocess.DEVNULL)
        finally:
            control_child.close()
            media_child.close()
        self._control, self._media = control, media
        self.policy.started()
        log.info("webrtc_worker_started", pid=self.process.pid)
        threading.Thread(target=self._read, args=(control, self.process),
                         name="trunkline-webrtc-worker", daemon=True).start()
        return self

    def stop(self, grace: float = 5.0) -> None:
        """End the worker (it exits when its control socket closes; killed if it has not
        after ``grace`` s)."""
        self._stopping = True
        control, process = self._control, self.process
        if control is not None:
            with contextlib.suppress(OSError):
                control.shutdown(socket.SHUT_RDWR)
        if process is not None:
            try:
                process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def new_peer(self) -> int:
        """A peer number never used before in this gateway's life."""
        return next(self._peer_ids)

    def route(self, peer: int, target: _Routed, on_state: StateHandler) -> None:
        """Any thread: ``peer``'s packets go to ``target``; its states to ``on_state``."""
        with self._lock:
            self.exchange.routes[peer] = target
            self._handlers[peer] = on_state

    def unroute(self, peer: int) -> None:
        with self._lock:
            self.exchange.routes.pop(peer, None)
            self._handlers.pop(peer, None)

    # -- control (any thread) -----------------------------------------------------------
    def request(self, op: str, **fields: Any) -> Future[dict[str, Any]]:
        """Send ``op`` to the worker without waiting; its reply (a map) in the Future, or
        :class:`ValueError` (the worker refused it, saying why) or :class:`WorkerLost`
        (dead, or not reading its requests)."""
        future: Future[dict[str, Any]] = Future()
        request_id = next(self._ids)
        with self._lock:
            control = self._control
            if control is None:
                future.set_exception(WorkerLost("the WebRTC media worker is not running"))
                return future
            self._pending[request_id] = future
        try:
            # Never waits (the tick's thread sends ``close`` when a call ends): a control
            # socket so full that this would wait is a worker that stopped reading.
            control.send(pack_control({"op": op, "id": request_id, **fields}),
                         socket.MSG_DONTWAIT)
        except OSError as err:
            with self._lock:
                self._pending.pop(request_id, None)
            future.set_exception(WorkerLost(f"the WebRTC media worker is gone: {err}"))
        return future

    def _read(self, control: socket.socket, process: subprocess.Popen[bytes]) -> None:
        """Reader thread: replies, state events, and the end of file that is its death."""
        while True:
            try:
                data = control.recv(_RECV)
            except OSError:
                data = b""
            if not data:
                break
            try:
                message = unpack_control(data)
            except WireError as err:
                log.warning("webrtc_worker_bad_message", error=str(err))
                continue
            if message["op"] == "reply":
                with self._lock:
                    future = self._pending.pop(message.get("id", -1), None)
                if future is None:
                    continue
                if "error" in message:
                    future.set_exception(ValueError(str(message["error"])))
                else:
                    future.set_result(message)
            elif message["op"] == "state":
                with self._lock:
                    handler = self._handlers.get(message.get("peer", -1))
                if handler is not None:
                    handler(str(message.get("kind", "")), str(message.get("reason", "")))
        self._died(control, process)

    def _died(self, control: socket.socket, process: subprocess.Popen[bytes]) -> None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5)
        with self._lock:
            if self._control is control:
                self._control = None
            pending, self._pending = self._pending, {}
            handlers, self._handlers = self._handlers, {}
            self.exchange.routes.clear()
        control.close()
        for future in pending.values():
            future.set_exception(WorkerLost("the WebRTC media worker died"))
        if self._stopping:
            return
        log.warning("webrtc_worker_died", pid=process.pid, code=process.returncode,
                    peers=len(handlers))
        for handler in handlers.values():
            handler("lost", WORKER_LOST)
        wait = self.policy.died()
        if wait:
            self._sleep(wait)
        if not self._stopping:
            self.restarts += 1
            self.start()

    # -- media (the tick: never waits) --------------------------------------------------
    def receive(self) -> int:
        """Deliver every packet the worker sent since the last call; how many."""
        media = self._media
        if media is None:
            return 0
        count = 0
        while True:
            try:
                datagram = media.recv(_RECV)
            except (BlockingIOError, InterruptedError):
                return count
            except OSError:
                return count
            count += self.exchange.deliver(datagram)

    def send_frames(self, frames: list[tuple[int, bytes]]) -> None:
        """The tick's frames to the worker, dropped if its socket is full (a stalled
        worker: the pages hear a gap, the tick goes on)."""
        media = self._media
        if media is None or not frames:
            return
        for datagram in self.exchange.frames(frames):
            try:
                media.send(datagram)
            except OSError:        # BlockingIOError (full), or the worker gone
                self.dropped_batches += 1
