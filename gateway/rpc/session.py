"""One client connection of the gateway server: an ``asyncio.Protocol`` per socket.

A :class:`Session` decodes the client's frames, checks and dispatches its requests
through its :class:`~trunkline.gateway.rpc.server.GatewayServer`, and writes replies and
events straight to its transport. Why it is shaped this way (see also the server's
module docstring):

* Nothing blocks and nothing waits for the client: once the transport says
  ``pause_writing`` (the peer is not reading), frames wait in a queue bounded in frames
  (``queue_limit``) and in bytes (``queue_bytes``); a client past either is disconnected
  with a reason frame. While its replies wait, its requests are not read either (the
  kernel's socket buffer then holds the sender back): a client that sends and never
  reads cannot make the gateway hold more than its queue.
* Decoding costs only the sender: each connection may spend a share of the loop on
  decoding its frames (:class:`~trunkline.gateway.rpc.decode_budget.DecodeBudget`); one
  past it is not read from until its debt is paid, so a client flooding large frames
  delays its own requests, not other clients' or the media tick.
* Requests are metered too: a peer's connections may send ``request_rate`` a second and
  ``request_burst`` at once together (:mod:`~trunkline.gateway.rpc.request_rate`); past
  that a request is answered ``overloaded`` without being run, and a connection that
  goes on regardless is cut (``rate_limited``).
* Bad input costs only the sender: a request that is wrong in any way gets an error reply
  naming the problem; a frame that cannot be parsed (the byte stream is lost) closes this
  one connection with a reason frame.
* Synchronous handlers run inline (cheap, ordered); coroutine handlers run as one task per
  request, bounded by the server's ``max_inflight``.

The session and its server work as one: the session counts into the server's statistics
and asks it to admit, resolve and forget; the server reaches the session's queue and
tasks when it publishes and when it stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import socket
import struct
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import structlog

from trunkline.gateway.rpc.decode_budget import DecodeBudget
from trunkline.gateway.rpc.errors import ErrorCode, ProtocolError, RpcError
from trunkline.gateway.rpc.protocol import (
    DEFAULT_MAX_ELEMENTS,
    DEFAULT_MAX_MAP_ENTRIES,
    PRE_AUTH_MAX_FRAME,
    FrameDecoder,
    encode_frame,
    error_reply,
    parse_request,
    result_reply,
)
from trunkline.gateway.rpc.registry import MethodSpec, Role
from trunkline.gateway.rpc.request_rate import ConnectionRate, Verdict
from trunkline.gateway.rpc.subscriptions import Subscription

if TYPE_CHECKING:
    from trunkline.gateway.rpc.server import GatewayServer

__all__ = ["Session"]

# The server's logger name: session records read as they did when this class lived in
# server.py.
log = structlog.get_logger("trunkline.gateway.rpc.server")

_TRANSPORT_HIGH_WATER = 64 * 1024
#: Most frame bytes decoded for one client in one turn of the loop: a read brings up to
#: 256 KiB, which could hold several frames at the size limits; the rest wait for the
#: next turn, so every other client (and the tick) has its turn in between.
_TURN_BYTES = 64 * 1024
#: ...and while the client's request bucket is empty (request_rate.py), about 1 KiB: its
#: frames would only be refused, and a flooder that connects again would otherwise have
#: a whole turn decoded each time before it is cut.
_REFUSED_TURN_BYTES = 1024
#: TCP keepalive (RFC 1122 4.2.3.6): probe an idle connection after 60 s, every 10 s, and
#: drop it after 6 unanswered probes, so a TCP client whose host vanished (power cut,
#: cable, NAT state lost) gives its slot back within about 2 minutes. An idle client that
#: is still there answers the probes in its kernel and keeps its slot.
KEEPALIVE_IDLE, KEEPALIVE_INTERVAL, KEEPALIVE_PROBES = 60, 10, 6


class Session(asyncio.Protocol):
    """One client connection: what handlers receive as their first argument.

    Public: ``id`` (unique per server), ``transport_kind`` (``"unix"``, ``"tcp"`` or
    ``"tls"``), ``peer`` (``"127.0.0.1:50312"``, or ``"unix:pid=..,uid=.."``), ``role``
    (a :class:`Role`, None until a TCP client authenticates), ``subscriptions``,
    ``state`` (a dict free for handlers, e.g. the calls this client placed), ``closed``,
    ``close_reason``, :meth:`send_event`, :meth:`close`, :meth:`add_close_callback`.
    The ``asyncio.Protocol`` methods are the server's business.
    """

    def __init__(self, server: GatewayServer, kind: str) -> None:
        self.server = server
        self.id = server._next_session_id()
        self.transport_kind = kind
        self.peer = kind
        #: Who is connecting, for the per-peer connection limit: ``uid N`` on Unix (from
        #: SO_PEERCRED), the address on TCP; None when unknown (never limited).
        self.peer_key: str | None = None
        self._peer_counted = False
        #: Given a slot: only such a session logs its connect and disconnect (a refused
        #: one logs its refusal, rate-limited: see GatewayServer._warn_cut).
        self._admitted = False
        self.role: Role | None = server.unix_role if kind == "unix" else None
        self.subscriptions: dict[int, Subscription] = {}
        self.state: dict[str, Any] = {}
        self.connected_at = time.time()
        self.closed = False
        self.close_reason: str | None = None
        self._transport: asyncio.Transport | None = None
        # Nothing before auth but auth: until this connection authenticates, a frame
        # larger than an auth request is refused by its length alone, undecoded.
        self._decoder = FrameDecoder(
            max_frame=server.max_frame if self.role is not None
            else min(server.max_frame, PRE_AUTH_MAX_FRAME), max_depth=server.max_depth,
            max_elements=DEFAULT_MAX_ELEMENTS, max_map_entries=DEFAULT_MAX_MAP_ENTRIES)
        self._budget = DecodeBudget(server.decode_share, server.decode_burst,
                                    time.monotonic()) if server.decode_share else None
        #: This connection's request meter (its peer's bucket, its own strikes), set
        #: once admitted (the peer is known then); None: requests not limited.
        self._rate: ConnectionRate | None = None
        self._rate_logged = False
        #: Set while this client is in decoding debt: fires when it is paid.
        self._decode_wait: asyncio.TimerHandle | None = None
        #: Set while whole frames wait in the decoder for the next turn (_TURN_BYTES).
        self._backlog: asyncio.Handle | None = None
        self._decode_logged = False
        self._out: deque[bytes] = deque()
        self._out_bytes = 0
        self._reading_paused = False
        self._paused = False
        #: The peer shut down its sending side (a half-close): close once every reply
        #: it is owed has gone out.
        self._peer_eof = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._failed_auths = 0
        self._timers: list[asyncio.TimerHandle] = []
        #: Set while the transport is paused (the peer takes no bytes): fires after the
        #: server's ``stall_timeout`` unless the peer reads meanwhile.
        self._stall: asyncio.TimerHandle | None = None
        self._close_callbacks: list[Callable[[Session], Any]] = []
        self._log = log

    # -- public --------------------------------------------------------------------------

    @property
    def authenticated(self) -> bool:
        return self.role is not None

    @property
    def queue_depth(self) -> int:
        """Frames waiting because the peer is not reading fast enough."""
        return len(self._out)

    def send_event(self, event: Mapping[str, Any]) -> bool:
        """Push one event to this client alone, subscribed or not; False if it is gone."""
        return self._send(encode_frame(dict(event), max_frame=self.server.max_frame))

    def close(self, reason: str = "closed_by_server", message: str = "") -> None:
        """Disconnect with a reason frame (idempotent)."""
        self._disconnect(reason, message)

    def add_close_callback(self, callback: Callable[[Session], Any]) -> None:
        """Call ``callback(session)`` once the connection is gone (for cleanup of calls)."""
        self._close_callbacks.append(callback)

    def __repr__(self) -> str:
        return (f"<Session {self.id} {self.peer} role={self.role} "
                f"{'closed' if self.closed else 'open'}>")

    # -- asyncio.Protocol ----------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        transport.set_write_buffer_limits(high=_TRANSPORT_HIGH_WATER)
        self.peer, self.peer_key = _peer_identity(transport, self.transport_kind)
        self._log = log.bind(session=self.id, peer=self.peer)
        server = self.server
        if not server._admit(self):
            return
        self._admitted = True
        self._rate = server._connection_rate(self)
        if self.transport_kind != "unix":
            _keep_alive(transport)
        if self.role is None and server.auth_timeout:
            self._timers.append(server._loop.call_later(
                server.auth_timeout, self._auth_deadline))
        self._log.info("gateway.client_connected", transport=self.transport_kind,
                       role=str(self.role) if self.role else None)

    def data_received(self, data: bytes) -> None:
        chunk = data
        decoding = 0.0
        # The loop thread's CPU time, not the wall clock: on a busy machine the wall clock
        # counts the time other processes had the core, and would throttle a client that
        # sends many small requests for the machine's load, not its own (a pipelining
        # client's decoding is 5-7 % of the CPU; by the wall clock, 10-12 % at load 11).
        clock = time.thread_time
        if self.closed:
            return
        rate = self._rate
        turn = _REFUSED_TURN_BYTES if rate is not None and \
            rate.bucket.empty(time.monotonic()) else _TURN_BYTES
        started = clock()
        try:
            frames = self._decoder.feed(chunk, turn)
        except ProtocolError as err:
            decoding += clock() - started
            for frame in err.frames:
                self._handle_frame(frame)
            self.server._count_error(err.code)
            if err.fatal or self.closed:
                self.server._warn_cut(self, err.name, "gateway.protocol_error",
                                      code=err.name, message=err.message)
                self._disconnect(err.name, err.message)
                return
            self._reply_error(None, err)
            frames = []  # the frames after it: on the next turn (see below)
        else:
            decoding += clock() - started
        for frame in frames:
            if self.closed:
                return
            self._handle_frame(frame)
        self._charge_decoding(decoding)
        if not self.closed and self._decoder.has_frame():
            # More whole frames than one turn's share: the rest on the next turn (or
            # once the decoding debt is paid), reading nothing new meanwhile.
            self._pause_reading()
            if self._decode_wait is None and self._backlog is None:
                self._backlog = self.server._loop.call_soon(self._decode_backlog)

    def _decode_backlog(self) -> None:
        self._backlog = None
        if self.closed or self._decode_wait is not None:
            return
        self.data_received(b"")
        self._resume_reading()

    def eof_received(self) -> bool:
        while self._decoder.has_frame() and not self.closed:
            self.data_received(b"")  # whole frames left for a later turn: theirs first
        try:
            self._decoder.close()
        except ProtocolError as err:
            self.server._count_error(err.code)
            self._log.info("gateway.truncated_stream", message=err.message)
            self._set_reason(err.name)
        self._set_reason("closed_by_peer")
        self._peer_eof = True
        # Let queued replies drain before the transport closes: a half-closing client
        # (shutdown(SHUT_WR)) still gets its answers; then it is closed (see
        # _eof_pending), so that it stops counting against max_clients.
        return bool(self._out or self._tasks)

    def connection_lost(self, exc: Exception | None) -> None:
        self._set_reason("closed_by_peer" if exc is None else "connection_error")
        self.closed = True
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        if self._stall is not None:
            self._stall.cancel()
            self._stall = None
        self._cancel_decode_wait()
        for task in list(self._tasks):
            task.cancel()
        self._out.clear()
        self._out_bytes = 0
        self.server._forget(self)
        self.server._lingering.discard(self)
        for callback in self._close_callbacks:
            try:
                result = callback(self)
                if inspect.isawaitable(result):
                    self.server._spawn(result)
            except Exception:
                self._log.exception("gateway.close_callback_failed")
        self._close_callbacks.clear()
        if self._admitted:
            self._log.info("gateway.client_disconnected", reason=self.close_reason)

    def pause_writing(self) -> None:
        self._paused = True
        timeout = self.server.stall_timeout
        if timeout is not None and self._stall is None and not self.closed:
            # A peer that takes no byte for this long is cut with a reason, whether or
            # not its queue ever overflows: one that sent a few requests and never reads
            # would otherwise hold its slot and its buffers for ever (issue 15, item 4).
            self._stall = self.server._loop.call_later(timeout, self._stalled)

    def resume_writing(self) -> None:
        self._paused = False
        if self._stall is not None:
            self._stall.cancel()
            self._stall = None
        out = self._out
        transport = self._transport
        if transport is None:
            return
        while out and not self._paused:
            frame = out.popleft()
            self._out_bytes -= len(frame)
            transport.write(frame)
            self.server._frame_out()
        if not out:
            self._resume_reading()
        if not out and self._eof_pending():
            transport.close()

    # -- internals -----------------------------------------------------------------------

    def _eof_pending(self, running: int = 0) -> bool:
        """True when the peer half-closed and nothing it is owed is still being worked
        on (``running``: tasks that are finishing now and still counted in ``_tasks``:
        a task's done callback runs after its last line, so a finishing request must not
        count itself, or a half-closed session would wait for ever)."""
        return self._peer_eof and len(self._tasks) <= running and not self.closed

    def _set_reason(self, reason: str) -> None:
        if self.close_reason is None:
            self.close_reason = reason

    def _send(self, data: bytes) -> bool:
        """Queue one encoded frame; False when the connection is closing or overflows."""
        if self.closed or self._transport is None or self._transport.is_closing():
            return False
        if not self._paused and not self._out:
            self._transport.write(data)
            self.server._frame_out()
            return True
        self._out.append(data)
        self._out_bytes += len(data)
        server = self.server
        if len(self._out) > server.queue_limit or self._out_bytes > server.queue_bytes:
            server._warn_cut(self, "queue_overflow", "gateway.queue_overflow",
                             limit=server.queue_limit, bytes=self._out_bytes,
                             byte_limit=server.queue_bytes)
            what = f"{server.queue_limit} frames" if len(self._out) > server.queue_limit \
                else f"{server.queue_bytes} bytes"
            self._disconnect("queue_overflow",
                             f"more than {what} waiting: the client reads too slowly")
            return False
        # Its replies wait: read no more of its requests until they have gone.
        self._pause_reading()
        return True

    def _pause_reading(self) -> None:
        if not self._reading_paused and self._transport is not None:
            self._reading_paused = True
            self._transport.pause_reading()

    def _resume_reading(self) -> None:
        """Read again, unless replies still wait or decoding is still in debt."""
        transport = self._transport
        if (self._reading_paused and not self._out and self._decode_wait is None
                and self._backlog is None and not self._decoder.has_frame()
                and transport is not None and not transport.is_closing()):
            self._reading_paused = False
            transport.resume_reading()

    def _charge_decoding(self, seconds: float) -> None:
        """Charge ``seconds`` of decoding to this client; in debt, stop reading it until
        the debt is paid (see :mod:`.decode_budget`)."""
        budget = self._budget
        if budget is None or self.closed:
            return
        server = self.server
        debtors = server._decode_debtors
        wait = budget.charge(seconds, time.monotonic(),
                             rivals=len(debtors) - (self in debtors))
        if wait <= 0:
            return
        if self._decode_wait is not None:
            self._decode_wait.cancel()
        else:
            server._decode_throttled_one()
        if not self._decode_logged:
            self._decode_logged = True
            self._log.warning("gateway.decode_throttled", share=budget.share,
                              spent=round(budget.spent, 4), wait=round(wait, 4))
        debtors.add(self)
        self._decode_wait = server._loop.call_later(wait, self._decode_paid)
        self._pause_reading()

    def _decode_paid(self) -> None:
        self._decode_wait = None
        self.server._decode_debtors.discard(self)
        if self._decoder.has_frame():
            self._decode_backlog()
        else:
            self._resume_reading()

    def _cancel_decode_wait(self) -> None:
        if self._decode_wait is not None:
            self._decode_wait.cancel()
            self._decode_wait = None
        if self._backlog is not None:
            self._backlog.cancel()
            self._backlog = None
        self.server._decode_debtors.discard(self)

    def _disconnect(self, reason: str, message: str = "") -> None:
        """Close with a ``{"event": "disconnect"}`` frame, best effort, then abort later."""
        if self.closed:
            return
        self._set_reason(reason)
        self.closed = True
        transport = self._transport
        for task in list(self._tasks):
            task.cancel()
        self._cancel_decode_wait()
        self._out.clear()
        self._out_bytes = 0
        # Counted now, not when the socket finally closes: the server has decided.
        self.server._forget(self)
        if transport is None or transport.is_closing():
            return
        self.server._lingering.add(self)
        notice: dict[str, Any] = {"event": "disconnect", "reason": reason}
        if message:
            notice["message"] = message
        with contextlib.suppress(Exception):
            transport.write(encode_frame(notice))
            self.server._frame_out()
        transport.close()
        # close() waits for the buffer to drain, forever if the peer never reads.
        self._timers.append(self.server._loop.call_later(self.server.linger, transport.abort))

    def _stalled(self) -> None:
        self._stall = None
        if self._paused and not self.closed:
            self.server._warn_cut(self, "write_stalled", "gateway.write_stalled",
                                  seconds=self.server.stall_timeout, queued=len(self._out))
            self._disconnect("write_stalled", f"nothing read for "
                                              f"{self.server.stall_timeout} s while replies "
                                              "or events waited: the client does not read")

    def _auth_deadline(self) -> None:
        if self.role is None and not self.closed:
            self._disconnect("auth_timeout", f"no successful 'auth' within "
                                             f"{self.server.auth_timeout} s")

    def _reply_error(self, rid: int | str | None, err: RpcError, method: str = "") -> None:
        if method:
            self.server._count_request(method, err.name)
        self._send(encode_frame(error_reply(rid, err)))

    def _handle_frame(self, frame: dict[str, Any]) -> None:
        server = self.server
        server._frame_in()
        # Every frame counts, well-formed or not, before anything else is done with it:
        # a refused one costs only its refusal.
        if self._rate is not None:
            verdict = self._rate.take(time.monotonic())
            if verdict is not Verdict.ADMIT:
                self._rate_limited(frame, verdict)
                return
        try:
            request = parse_request(frame)
        except ProtocolError as err:
            server._count_error(err.code)
            rid = err.data.get("id") if isinstance(err.data, dict) else None
            err.data = None
            self._reply_error(rid, err)
            return
        rid, name = request.id, request.method
        try:
            if server._stopping:
                raise RpcError(ErrorCode.SHUTTING_DOWN, "the gateway is stopping")
            spec = server._resolve(self, name)
            kwargs = spec.validate(request.params)
        except RpcError as err:
            server._count_error(err.code)
            self._reply_error(rid, err, name if server._known(name) else "<unknown>")
            return
        if spec.is_async:
            if len(self._tasks) >= server.max_inflight:
                err = RpcError(ErrorCode.OVERLOADED,
                               f"{len(self._tasks)} requests already in flight on this "
                               f"connection (limit {server.max_inflight})")
                server._count_error(err.code)
                self._reply_error(rid, err, name)
                return
            task = server._loop.create_task(self._run_async(spec, rid, kwargs))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            return
        started = time.perf_counter()
        try:
            result = spec.handler(self, **kwargs)
        except Exception as exc:
            self._handler_failed(spec, rid, exc)
            return
        self._reply_result(spec, rid, result, started)

    def _rate_limited(self, frame: dict[str, Any], verdict: Verdict) -> None:
        """Refuse a request past this connection's rate (``overloaded``, naming the limit
        and when to retry), or cut the connection that kept sending after refusals."""
        server = self.server
        rate = self._rate
        assert rate is not None
        limit = rate.limit
        if verdict is Verdict.CUT:
            server._rate_limited_one("cut")
            server._warn_cut(self, "rate_limited", "gateway.rate_limited",
                             rate=limit.rate, burst=limit.burst, refused=rate.refused)
            self._disconnect("rate_limited", f"kept sending after {rate.refused} requests "
                                             f"were refused for the request rate limit "
                                             f"({limit.describe()}{self._rate_whose()})")
            return
        server._rate_limited_one("refused")
        retry = rate.retry_after
        if not self._rate_logged:  # once per connection, and limited per peer
            self._rate_logged = True
            server._warn_cut(self, "rate_refused", "gateway.rate_refused",
                             rate=limit.rate, burst=limit.burst)
        rid = frame.get("id")
        if isinstance(rid, bool) or not isinstance(rid, int | str) or \
                (isinstance(rid, str) and not 1 <= len(rid) <= 128):
            rid = None  # as the protocol's ids: an int or a string of 1-128 characters
        method = frame.get("method")
        known = isinstance(method, str) and server._known(method)
        err = RpcError(ErrorCode.OVERLOADED,
                       f"request rate limit: more than {limit.describe()}"
                       f"{self._rate_whose()}; retry in {retry:.3f} s (this request was "
                       "not run)",
                       data={"limit": "request_rate", "rate": limit.rate,
                             "burst": limit.burst, "retry_after": round(retry, 4)})
        server._count_error(err.code)
        self._reply_error(rid, err, method if known and isinstance(method, str)
                          else "<unknown>")

    def _rate_whose(self) -> str:
        """Whose requests the limit counts, for messages."""
        if self.peer_key is None:
            return ", on this connection"
        return f", from {self.peer_key}'s connections together"

    async def _run_async(self, spec: MethodSpec, rid: int | str, kwargs: dict[str, Any]) -> None:
        started = time.perf_counter()
        try:
            result = await spec.handler(self, **kwargs)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._handler_failed(spec, rid, exc)
        else:
            self._reply_result(spec, rid, result, started)
        if self._eof_pending(running=1) and not self._out and self._transport is not None:
            self._transport.close()

    def _reply_result(self, spec: MethodSpec, rid: int | str, result: Any,
                      started: float) -> None:
        server = self.server
        try:
            data = encode_frame(result_reply(rid, result), max_frame=server.max_frame)
        except ProtocolError as err:
            err = RpcError(err.code, f"{spec.name}: result too large: {err.message}")
            server._count_error(err.code)
            self._reply_error(rid, err, spec.name)
            return
        except (TypeError, ValueError, OverflowError) as exc:
            err = RpcError(ErrorCode.INTERNAL,
                           f"{spec.name} returned a value msgpack cannot carry: {exc}")
            self._log.error("gateway.unencodable_result", method=spec.name, error=str(exc))
            server._count_error(err.code)
            self._reply_error(rid, err, spec.name)
            return
        server._count_request(spec.name, "ok", time.perf_counter() - started)
        self._send(data)

    def _handler_failed(self, spec: MethodSpec, rid: int | str, exc: Exception) -> None:
        server = self.server
        err = server.registry.failure(spec.name, exc)
        server._count_error(err.code)
        self._reply_error(rid, err, spec.name)


def _keep_alive(transport: asyncio.BaseTransport) -> None:
    sock = transport.get_extra_info("socket")
    if sock is None:
        return
    with contextlib.suppress(OSError, AttributeError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        # Linux names; elsewhere the system's defaults (about 2 hours) apply.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, KEEPALIVE_IDLE)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, KEEPALIVE_INTERVAL)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, KEEPALIVE_PROBES)


def _peer_identity(transport: asyncio.BaseTransport, kind: str) -> tuple[str, str | None]:
    """The peer's name for logs, and who it is for the per-peer limit: the user id on a
    Unix socket (the kernel's SO_PEERCRED, which the client cannot forge), the address
    (without the port) on TCP; None when neither can be read."""
    if kind == "unix":
        sock = transport.get_extra_info("socket")
        if sock is not None and hasattr(socket, "SO_PEERCRED"):
            with contextlib.suppress(OSError):
                creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED,
                                        struct.calcsize("3i"))
                pid, uid, _gid = struct.unpack("3i", creds)
                return f"unix:pid={pid},uid={uid}", f"uid {uid}"
        return "unix", None
    peer = transport.get_extra_info("peername")
    if isinstance(peer, tuple) and len(peer) >= 2:
        host = f"[{peer[0]}]" if ":" in str(peer[0]) else str(peer[0])
        return f"{host}:{peer[1]}", host
    return str(peer), None
