"""The gateway's asyncio server: listeners, publishing, statistics, built-in methods.

One :class:`GatewayServer` listens on a Unix socket (mode 0660 by default: the file's
group is the access control, and its clients get the role ``unix_role``) and optionally
on TCP, where a client must first send ``auth`` with a token that carries its role, and
where TLS can be switched on. See ``docs/protocol.md`` for the wire protocol.

Why it is shaped this way:

* The media engine runs a 20 ms tick on the same event loop, so nothing here blocks and
  nothing waits for a client. :meth:`GatewayServer.publish` encodes an event once and
  appends the bytes to each matching client's queue; each connection is an
  ``asyncio.Protocol`` that writes straight to its transport and, once the transport says
  ``pause_writing`` (the peer is not reading), keeps frames in a bounded queue. A client
  whose queue passes ``queue_limit`` is disconnected with a reason frame and counted, and
  no one else notices.
* Bad input costs only the sender: a request that is wrong in any way gets an error
  reply naming the problem; a frame that cannot be parsed (the byte stream is lost) closes
  that one connection with a reason frame.
* Synchronous handlers run inline (cheap, ordered); coroutine handlers run as one task
  per request, bounded per connection by ``max_inflight``.

Why one module of about 720 lines: listening, admitting, publishing and the built-in
methods all work on the one set of sessions and its statistics; the policies the server
applies are modules of their own (client_slots.py, decode_budget.py, request_rate.py,
log_limit.py).

The connection itself is :class:`~trunkline.gateway.rpc.session.Session` (in
:mod:`.session`) and a client's event filter is
:class:`~trunkline.gateway.rpc.subscriptions.Subscription` (in :mod:`.subscriptions`);
both are re-exported here, where callers have always imported them from.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import inspect
import os
import socket
import ssl
import stat
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import structlog

from trunkline.errors import ConfigError
from trunkline.gateway.metrics import GatewayMetrics, MetricsEndpoint
from trunkline.gateway.rpc.client_slots import DEFAULT_MAX_CLIENTS_PER_PEER, ClientSlots
from trunkline.gateway.rpc.errors import ErrorCode, GatewayError, RpcError
from trunkline.gateway.rpc.log_limit import LogLimiter
from trunkline.gateway.rpc.protocol import DEFAULT_MAX_DEPTH, DEFAULT_MAX_FRAME, encode_frame
from trunkline.gateway.rpc.registry import MethodRegistry, MethodSpec, Param, Role
from trunkline.gateway.rpc.request_rate import (
    DEFAULT_REQUEST_BURST,
    DEFAULT_REQUEST_RATE,
    ConnectionRate,
    PeerRates,
    RateLimit,
)
from trunkline.gateway.rpc.session import Session as Session
from trunkline.gateway.rpc.subscriptions import Subscription as Subscription

__all__ = ["DEFAULT_UNIX_PATH", "GatewayServer", "Session", "Subscription"]

log = structlog.get_logger("trunkline.gateway.rpc.server")

#: Where the service listens unless configured otherwise.
DEFAULT_UNIX_PATH = "/run/trunkline/gateway.sock"
#: Method names the server answers itself; a registry may not define them.
BUILTIN_METHODS = ("auth", "ping", "subscribe", "unsubscribe", "methods")


TlsOption = tuple[str, str] | ssl.SSLContext | None


def _server_ssl_context(tls: TlsOption) -> ssl.SSLContext | None:
    if tls is None or isinstance(tls, ssl.SSLContext):
        return tls
    certfile, keyfile = tls
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(certfile, keyfile)
    except (OSError, ssl.SSLError) as err:
        raise ConfigError(f"cannot load TLS certificate {certfile} / key {keyfile}: {err}",
                          key="tls") from err
    return context
#: The most bytes waiting for one client (replies and events it has not read): frames
#: alone do not bound memory, since one reply may be a large frame.
DEFAULT_QUEUE_BYTES = 32 * 1024 * 1024
#: The share of the event loop one connection's decoding may take once its burst is
#: spent, and the burst (seconds): see decode_budget.py.
DEFAULT_DECODE_SHARE = 0.1
DEFAULT_DECODE_BURST = 0.05
#: Per peer and reason, the refused or cut connections logged at once in a window of
#: CUT_LOG_INTERVAL s; the rest are summed up in one line when the window ends (the
#: metrics count every one): see log_limit.py.
CUT_LOG_BURST = 5
CUT_LOG_INTERVAL = 10.0


class GatewayServer:
    """Serve a :class:`MethodRegistry` over a Unix socket and optionally TCP (+TLS).

    ``tokens`` maps secret token -> role name and is required for TCP. ``queue_limit`` is
    the most frames a client may have waiting before it is disconnected; ``max_frame`` and
    ``max_depth`` bound incoming (and outgoing) frames; ``max_inflight`` bounds concurrent
    coroutine requests per connection; ``auth_timeout`` closes TCP connections that do not
    authenticate in time; ``linger`` is how long a disconnected client may take to read
    its reason frame before the socket is aborted; ``stall_timeout`` (None: never) cuts a
    client that takes no byte for that long while frames wait for it (``write_stalled``);
    ``metrics_port`` (None: off) serves ``/metrics`` on ``metrics_host``.

    Slots: at most ``max_clients`` connections; at most ``max_clients_per_peer`` (None: no
    limit) from one peer; the last ``admin_reserved_slots`` only for admin-role
    connections (client_slots.py). Unauthenticated TCP clients are cut after
    ``auth_timeout``.
    ``decode_share`` (None: unmetered) and ``decode_burst``: how much of the loop one
    connection's decoding may take (see decode_budget.py). ``request_rate`` (None:
    unlimited) and ``request_burst``: how many requests a second, and at once, one peer's
    connections may send together; past them a request is refused, and a connection
    that goes on regardless is cut (see request_rate.py).

    Raises ConfigError at construction for inconsistent options (TCP without tokens, TLS
    without TCP, an unknown role).
    """

    def __init__(
        self, registry: MethodRegistry | None = None, *,
        unix_path: str | os.PathLike[str] | None = DEFAULT_UNIX_PATH,
        unix_mode: int = 0o660, unix_role: str | Role = Role.ADMIN,
        tcp: tuple[str, int] | None = None, tokens: Mapping[str, str | Role] | None = None,
        tls: TlsOption = None, queue_limit: int = 1000, queue_bytes: int = DEFAULT_QUEUE_BYTES,
        max_frame: int = DEFAULT_MAX_FRAME,
        max_depth: int = DEFAULT_MAX_DEPTH, max_clients: int = 256, max_inflight: int = 64,
        max_subscriptions: int = 64, auth_timeout: float | None = 10.0,
        max_auth_failures: int = 3, linger: float = 2.0,
        stall_timeout: float | None = 60.0,
        max_clients_per_peer: int | None = DEFAULT_MAX_CLIENTS_PER_PEER,
        admin_reserved_slots: int | None = None,
        decode_share: float | None = DEFAULT_DECODE_SHARE,
        decode_burst: float = DEFAULT_DECODE_BURST,
        request_rate: float | None = DEFAULT_REQUEST_RATE,
        request_burst: int = DEFAULT_REQUEST_BURST,
        metrics: GatewayMetrics | None = None, metrics_port: int | None = None,
        metrics_host: str = "127.0.0.1",
    ) -> None:
        self.registry = registry if registry is not None else MethodRegistry()
        clash = [name for name in BUILTIN_METHODS if name in self.registry]
        if clash:
            raise ConfigError(f"the registry defines built-in method(s) {', '.join(clash)}")
        if unix_path is None and tcp is None:
            raise ConfigError("the gateway needs a Unix socket path, a TCP address or both")
        try:
            self.unix_role = Role.parse(unix_role)
            self.tokens = {str(t): Role.parse(r) for t, r in (tokens or {}).items()}
        except ValueError as err:
            raise ConfigError(str(err), key="tokens") from err
        if any(not t for t in self.tokens):
            raise ConfigError("an empty token is not allowed", key="tokens")
        if tcp is not None and not self.tokens:
            raise ConfigError("TCP needs at least one token: clients must authenticate",
                              key="tokens")
        if tls is not None and tcp is None:
            raise ConfigError("TLS is only for TCP; give a tcp address too", key="tls")
        if queue_bytes < max_frame:
            raise ConfigError(f"queue_bytes ({queue_bytes}) must hold at least one frame of "
                              f"max_frame ({max_frame}) bytes")
        if stall_timeout is not None and not 0 < stall_timeout < float("inf"):
            raise ConfigError(f"stall_timeout must be seconds > 0, not {stall_timeout!r}")
        if queue_limit < 1 or max_frame < 64 or max_inflight < 1 or max_clients < 1:
            raise ConfigError("queue_limit, max_inflight, max_clients must be >= 1 and "
                              "max_frame >= 64")
        self.slots = ClientSlots(max_clients, max_clients_per_peer, admin_reserved_slots)
        if auth_timeout is not None and not 0 < auth_timeout < float("inf"):
            raise ConfigError(f"auth_timeout must be seconds > 0, not {auth_timeout!r}",
                              key="auth_timeout")
        if decode_share is not None and not 0 < decode_share <= 1:
            raise ConfigError(f"decode_share must be in (0, 1], not {decode_share!r}",
                              key="decode_share")
        if not 0 < decode_burst < float("inf"):
            raise ConfigError(f"decode_burst must be seconds > 0, not {decode_burst!r}",
                              key="decode_burst")
        #: The request rate limit and the peers' buckets (request_rate.py); see
        #: set_request_rate.
        self.request_rates = PeerRates(RateLimit(request_rate, request_burst)
                                       if request_rate is not None else None, max_clients)
        self.unix_path = Path(unix_path) if unix_path is not None else None
        self.unix_mode = unix_mode
        self.tcp = tcp
        self.tls = tls
        self._ssl = _server_ssl_context(tls)
        self.queue_limit = queue_limit
        self.queue_bytes = queue_bytes
        self.max_frame = max_frame
        self.max_depth = max_depth
        self.max_clients = max_clients
        self.decode_share = decode_share
        self.decode_burst = decode_burst
        self.max_inflight = max_inflight
        self.max_subscriptions = max_subscriptions
        self.auth_timeout = auth_timeout
        self.max_auth_failures = max_auth_failures
        self.linger = linger
        #: Seconds a client may take no byte of what it is sent before it is cut with
        #: reason ``write_stalled`` (None: never).
        self.stall_timeout = stall_timeout
        self.metrics = metrics if metrics is not None else GatewayMetrics()
        self.metrics.track_queues(lambda: [s.queue_depth for s in self._sessions])
        self.metrics_port = metrics_port
        self.metrics_host = metrics_host
        self.metrics_endpoint: MetricsEndpoint | None = None
        #: the bound TCP address (host, port) once started; useful with port 0
        self.tcp_address: tuple[str, int] | None = None
        self._builtins = self._make_builtins()
        self._sessions: set[Session] = set()
        self._subscribed: set[Session] = set()
        #: disconnected sessions whose transport still flushes their reason frame
        self._lingering: set[Session] = set()
        #: sessions not read from until their decoding debt is paid
        self._decode_debtors: set[Session] = set()
        self._decode_throttled = 0
        self._rate_limited: Counter[str] = Counter()
        #: which refusal/cut warnings are logged (a flood would fill the journal)
        self.cut_log = LogLimiter(CUT_LOG_BURST, CUT_LOG_INTERVAL)
        self._cut_log_timer: asyncio.TimerHandle | None = None
        self._listeners: list[asyncio.AbstractServer] = []
        #: (st_dev, st_ino) of the socket file this server bound; only that is unlinked
        self._unix_identity: tuple[int, int] | None = None
        self._loop: asyncio.AbstractEventLoop = None  # type: ignore[assignment]
        self._shutdown_hooks: list[Callable[[], Any]] = []
        self._stopping = False
        self._started = False
        self._session_counter = 0
        self._sub_counter = 0
        self._background: set[asyncio.Task[Any]] = set()
        # counters behind .stats
        self._clients_total = 0
        self._frames_in = 0
        self._frames_out = 0
        self._events_published = 0
        self._events_delivered = 0
        self._errors: Counter[str] = Counter()
        self._disconnected: Counter[str] = Counter()
        self._requests: Counter[str] = Counter()
        self._metric_children: dict[tuple[str, str], tuple[Any, Any]] = {}

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        """Bind and listen. Raises GatewayError if the Unix path is held by a live server."""
        if self._started:
            raise GatewayError("the gateway server is already started")
        self._loop = asyncio.get_running_loop()
        self._stopping = False
        try:
            if self.unix_path is not None:
                sock = self._bind_unix(self.unix_path)
                self._listeners.append(await self._loop.create_unix_server(
                    lambda: Session(self, "unix"), sock=sock))
            if self.tcp is not None:
                kind = "tls" if self._ssl is not None else "tcp"
                host, port = self.tcp
                listener = await self._loop.create_server(
                    lambda: Session(self, kind), host, port, ssl=self._ssl,
                    reuse_address=True)
                self._listeners.append(listener)
                address = listener.sockets[0].getsockname()
                self.tcp_address = (address[0], address[1])
                if self._ssl is None and host not in ("127.0.0.1", "::1", "localhost"):
                    log.warning("gateway.tcp_without_tls", host=host,
                                hint="tokens travel in clear text; configure TLS")
            if self.metrics_port is not None:
                self.metrics_endpoint = self.metrics.serve(self.metrics_port,
                                                           self.metrics_host)
        except BaseException:
            await self._close_listeners()
            raise
        self._started = True
        log.info("gateway.listening", unix=str(self.unix_path) if self.unix_path else None,
                 tcp=self.tcp_address, tls=self._ssl is not None,
                 metrics=self.metrics_endpoint.url if self.metrics_endpoint else None)

    def add_shutdown_hook(self, hook: Callable[[], Any]) -> None:
        """Run ``hook()`` (sync or async) when :meth:`stop` begins, after the listeners
        close and before clients are disconnected: the engine hangs up calls here and its
        last events still reach subscribers."""
        self._shutdown_hooks.append(hook)

    async def stop(self, grace: float = 5.0) -> None:
        """Stop accepting, run the shutdown hooks, let in-flight requests finish and
        queued frames flush for up to ``grace`` seconds, then disconnect every client
        with reason ``server_shutdown``. Safe to call twice."""
        if not self._started or self._stopping:
            return
        self._stopping = True
        deadline = self._loop.time() + grace
        await self._close_listeners()
        for hook in self._shutdown_hooks:
            try:
                result = hook()
                if inspect.isawaitable(result):
                    await asyncio.wait_for(result, max(0.0, deadline - self._loop.time()))
            except Exception:
                log.exception("gateway.shutdown_hook_failed")
        tasks = [t for s in self._sessions for t in s._tasks]
        if tasks:
            await asyncio.wait(tasks, timeout=max(0.0, deadline - self._loop.time()))
        while self._loop.time() < deadline and any(
            s._out or (s._transport and s._transport.get_write_buffer_size())
            for s in self._sessions if not s.closed
        ):
            await asyncio.sleep(0.01)
        for session in list(self._sessions):
            session._disconnect("server_shutdown", "the gateway is stopping")
        while self._lingering and self._loop.time() < deadline:
            await asyncio.sleep(0.01)
        for session in list(self._lingering):
            if session._transport is not None:
                session._transport.abort()
        for _ in range(3):
            await asyncio.sleep(0)
        for task in list(self._background):
            task.cancel()
        if self._cut_log_timer is not None:
            self._cut_log_timer.cancel()
            self._cut_log_timer = None
        self._log_suppressed(self.cut_log.flush())
        if self.metrics_endpoint is not None:
            self.metrics_endpoint.close()
            self.metrics_endpoint = None
        self._started = False
        log.info("gateway.stopped", stats=self.stats)

    async def __aenter__(self) -> GatewayServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def _close_listeners(self) -> None:
        for listener in self._listeners:
            listener.close()
        for listener in self._listeners:
            # On 3.12+ wait_closed() waits for every connection; do not block here.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(listener.wait_closed()), 0.05)
        self._listeners.clear()
        if self.unix_path is not None and self._unix_identity is not None:
            # Only the socket file this server bound: a server that failed to start
            # because another gateway listens there must not delete that gateway's socket
            # (it would keep the card and be unreachable), nor one that replaced ours.
            with contextlib.suppress(FileNotFoundError):
                info = self.unix_path.lstat()
                if (info.st_dev, info.st_ino) == self._unix_identity:
                    self.unix_path.unlink()
            self._unix_identity = None

    def _bind_unix(self, path: Path) -> socket.socket:
        """A listening socket at ``path`` with ``unix_mode``, never exposed wider.

        The socket is bound under a temporary name, chmod-ed, then renamed into place, so
        no client can connect in the moment between bind and chmod. A stale socket file
        is replaced; a live one (another gateway) or a non-socket file is an error.
        """
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists() or path.is_symlink():
            if not stat.S_ISSOCK(path.lstat().st_mode):
                raise GatewayError(f"{path} exists and is not a socket; refusing to replace it")
            probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                probe.connect(str(path))
            except OSError:
                path.unlink()
            else:
                raise GatewayError(f"{path}: another server is listening on this socket")
            finally:
                probe.close()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            temporary = path.parent / f".gw{os.getpid()}.{id(self) % 10000}"
            try:
                sock.bind(str(temporary))
            except OSError:  # path too long for AF_UNIX: bind in place, chmod at once
                sock.bind(str(path))
                os.chmod(path, self.unix_mode)
                info = path.lstat()
            else:
                os.chmod(temporary, self.unix_mode)
                info = temporary.lstat()  # a rename keeps the inode
                os.replace(temporary, path)
            self._unix_identity = (info.st_dev, info.st_ino)
            sock.listen(128)
            sock.setblocking(False)
        except BaseException:
            sock.close()
            raise
        return sock

    # -- publishing ----------------------------------------------------------------------

    def publish(self, event: Mapping[str, Any]) -> int:
        """Send ``event`` to every client with a matching subscription; never blocks.

        Must be called on the server's event loop thread (use :meth:`publish_threadsafe`
        from another thread). The event is encoded once. A client whose queue overflows
        is disconnected, the others are unaffected. Returns the number of clients the
        event was queued for. Raises ValueError if ``event["event"]`` is not a string and
        TypeError if the event holds a value msgpack cannot carry (a bug in the caller).
        """
        kind = event.get("event") if isinstance(event, Mapping) else None
        if not isinstance(kind, str):
            raise ValueError(
                f"an event must be a map with a string 'event' key, got {event!r:.80}")
        self._events_published += 1
        self.metrics.events_published.inc()
        data: bytes | None = None
        delivered = 0
        # A copy: an overflowing session leaves the set during the loop.
        for session in tuple(self._subscribed):
            for sub in session.subscriptions.values():
                if sub.matches(event):
                    break
            else:
                continue
            if data is None:
                data = encode_frame(dict(event), max_frame=self.max_frame)
            if session._send(data):
                delivered += 1
        self._events_delivered += delivered
        if delivered:
            self.metrics.events_delivered.inc(delivered)
        return delivered

    def publish_threadsafe(self, event: Mapping[str, Any]) -> None:
        """Schedule :meth:`publish` on the server's loop from any thread."""
        self._loop.call_soon_threadsafe(self.publish, dict(event))

    # -- introspection -------------------------------------------------------------------

    @property
    def sessions(self) -> list[Session]:
        """The connected sessions, oldest first."""
        return sorted(self._sessions, key=lambda s: s.id)

    @property
    def stats(self) -> dict[str, Any]:
        """A snapshot of the counters (a new dict each time)."""
        return {
            "clients": len(self._sessions),
            "clients_total": self._clients_total,
            "frames_in": self._frames_in,
            "frames_out": self._frames_out,
            "events_published": self._events_published,
            "events_delivered": self._events_delivered,
            "requests": dict(self._requests),
            "errors_by_code": dict(self._errors),
            "disconnected_by_reason": dict(self._disconnected),
            "decode_throttled": self._decode_throttled,
            "rate_limited": {"refused": self._rate_limited["refused"],
                             "cut": self._rate_limited["cut"]},
        }

    def set_request_rate(self, rate: float | None,
                         burst: int = DEFAULT_REQUEST_BURST) -> None:
        """Change the request rate limit (a configuration reload): the new one applies
        to new connections and, from now on, to the open ones (what each peer has
        earned is kept, within the new burst). None: unlimited. Raises ConfigError for a
        bad rate or burst, changing nothing."""
        limit = RateLimit(rate, burst) if rate is not None else None
        now = time.monotonic()
        self.request_rates.change(limit, now)
        for session in self._sessions:
            if limit is None:
                session._rate = None
            elif session._rate is None:
                session._rate = self._connection_rate(session)
            elif session.peer_key is None:
                session._rate.bucket.change(limit, now)  # its own bucket

    # -- session support -----------------------------------------------------------------

    def _next_session_id(self) -> int:
        self._session_counter += 1
        return self._session_counter

    def _admit(self, session: Session) -> bool:
        """Count the new session in; disconnect it at once when stopping, full, when its
        peer holds its share of slots already, or when only reserved slots are left and
        it is not admin (see the class docstring)."""
        refusal = self._refusal(session)
        self._sessions.add(session)
        self._clients_total += 1
        self.metrics.clients.labels(transport=session.transport_kind).inc()
        if self._stopping:
            session._disconnect("server_shutdown", "the gateway is stopping")
            return False
        if refusal:
            self._warn_cut(session, "overloaded", "gateway.client_refused", reason=refusal)
            session._disconnect("overloaded", refusal)
            return False
        if session.peer_key is not None:
            self.slots.take(session.peer_key)
            session._peer_counted = True
        return True

    def _refusal(self, session: Session) -> str:
        """Why ``session`` (not yet counted in) may not have a slot; "" when it may."""
        return self.slots.refusal(
            session.peer_key, session.role is Role.ADMIN, len(self._sessions),
            lambda: sum(1 for s in self._sessions if s.role is not Role.ADMIN))

    def _warn_cut(self, session: Session, reason: str, event: str, /,
                  **fields: Any) -> None:
        """Log the warning ``event`` for a connection refused or cut with ``reason``,
        unless its peer has had its share of such lines this window (see log_limit.py);
        the ones left out are summed up in ``gateway.warnings_suppressed``."""
        peer = session.peer_key if session.peer_key is not None else session.peer
        now = self._loop.time()
        self._log_suppressed(self.cut_log.due(now))
        if self.cut_log.hit((peer, reason), now):
            session._log.warning(event, **fields)
        elif self._cut_log_timer is None:
            self._schedule_cut_log(now)

    def _schedule_cut_log(self, now: float) -> None:
        when = self.cut_log.next_due()
        if when is not None and not self._stopping:
            self._cut_log_timer = self._loop.call_later(max(0.0, when - now),
                                                        self._cut_log_due)

    def _cut_log_due(self) -> None:
        self._cut_log_timer = None
        now = self._loop.time()
        self._log_suppressed(self.cut_log.due(now))
        self._schedule_cut_log(now)

    @staticmethod
    def _log_suppressed(summaries: Iterable[Any]) -> None:
        for summary in summaries:
            peer, reason = summary.key
            log.warning("gateway.warnings_suppressed", peer=peer, reason=reason,
                        count=summary.count, seconds=round(summary.seconds, 1),
                        summary=f"{summary.count} more {reason} connections from {peer} "
                                f"in the last {summary.seconds:.0f} s")

    def _decode_throttled_one(self) -> None:
        self._decode_throttled += 1
        self.metrics.decode_throttled.inc()

    @property
    def request_limit(self) -> RateLimit | None:
        """The request rate limit now (None: requests are not limited)."""
        return self.request_rates.limit

    def _connection_rate(self, session: Session) -> ConnectionRate | None:
        """The request meter of a newly admitted ``session``: its peer's bucket, its own
        when the peer is unknown; None when requests are not limited."""
        return self.request_rates.connection(session.peer_key, time.monotonic(),
                                             lambda: (s.peer_key for s in self._sessions))

    def _rate_limited_one(self, action: str) -> None:
        """Count a request refused (``refused``) or a connection cut (``cut``) for its
        request rate."""
        self._rate_limited[action] += 1
        self.metrics.rate_limited.labels(action=action).inc()

    def _forget(self, session: Session) -> None:
        if session not in self._sessions:
            return
        self._sessions.discard(session)
        self._subscribed.discard(session)
        if session._peer_counted and session.peer_key is not None:
            session._peer_counted = False
            self.slots.give(session.peer_key)
        reason = session.close_reason or "closed_by_peer"
        self._disconnected[reason] += 1
        self.metrics.clients_disconnected.labels(reason=reason).inc()
        self.metrics.clients.labels(transport=session.transport_kind).dec()

    def _spawn(self, awaitable: Awaitable[Any]) -> None:
        async def run() -> None:
            try:
                await awaitable
            except Exception:
                log.exception("gateway.background_task_failed")

        task = self._loop.create_task(run())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _frame_in(self) -> None:
        self._frames_in += 1
        self.metrics.frames_in.inc()

    def _frame_out(self) -> None:
        self._frames_out += 1
        self.metrics.frames_out.inc()

    def _count_error(self, code: ErrorCode) -> None:
        self._errors[code.wire_name] += 1

    def _count_request(self, method: str, outcome: str, seconds: float | None = None) -> None:
        self._requests[outcome] += 1
        # Labelled children are cached: .labels() costs more than the increment itself.
        key = (method, outcome)
        children = self._metric_children.get(key)
        if children is None:
            children = (self.metrics.requests.labels(method=method, outcome=outcome),
                        self.metrics.request_seconds.labels(method=method))
            self._metric_children[key] = children
        children[0].inc()
        if seconds is not None:
            children[1].observe(seconds)

    def _known(self, name: str) -> bool:
        return name in self._builtins or name in self.registry

    def _resolve(self, session: Session, name: str) -> MethodSpec:
        spec = self._builtins.get(name) or self.registry.get(name)
        if spec is None:
            raise RpcError(ErrorCode.UNKNOWN_METHOD, f"unknown method {name!r:.80}")
        if not spec.needs_auth:
            return spec
        if session.role is None:
            raise RpcError(
                ErrorCode.UNAUTHORIZED,
                f"cannot call {name!r}: this {session.transport_kind.upper()} connection has "
                "not authenticated; send {'method': 'auth', 'params': {'token': ...}} first")
        if session.role < spec.role:
            raise RpcError(
                ErrorCode.FORBIDDEN,
                f"method {name!r} needs role {spec.role}; this connection has role "
                f"{session.role}")
        return spec

    # -- built-in methods ----------------------------------------------------------------

    def _make_builtins(self) -> MethodRegistry:
        builtins = MethodRegistry()
        builtins.register("auth", self._m_auth, needs_auth=False, params={
            "token": Param(str, required=True, doc="a token from the gateway's configuration"),
        }, doc="Authenticate; the token decides the connection's role.")
        builtins.register("ping", self._m_ping, params={
            "data": Param((str, int, float, bool, bytes, list, dict),
                          doc="echoed back (default 'pong')"),
        }, doc="Liveness check; answers its data (or 'pong').")
        builtins.register("subscribe", self._m_subscribe, params={
            "events": Param(list, items=str, doc="event kinds, 'prefix*' allowed; nil: all"),
            "span": Param(int, doc="only events of this span"),
            "channel": Param(int, doc="only events of this channel"),
            "call": Param(int, doc="only events of this call"),
        }, doc="Receive matching events; returns the subscription id.")
        builtins.register("unsubscribe", self._m_unsubscribe, params={
            "id": Param(int, required=True, doc="a subscription id from subscribe"),
        }, doc="Stop a subscription.")
        builtins.register("methods", self._m_methods,
                          doc="The methods this connection may call, with their parameters.")
        return builtins

    def _m_auth(self, session: Session, token: str) -> dict[str, Any]:
        role = None
        given = token.encode()
        for known, known_role in self.tokens.items():
            if hmac.compare_digest(given, known.encode()):
                role = known_role
        if role is None:
            session._failed_auths += 1
            self._warn_cut(session, "auth_failed", "gateway.auth_failed",
                           attempts=session._failed_auths)
            if session._failed_auths >= self.max_auth_failures:
                self._loop.call_soon(session._disconnect, "auth_failed",
                                     f"{session._failed_auths} failed auth attempts")
            raise RpcError(ErrorCode.UNAUTHORIZED, "auth failed: unknown token")
        session.role = role
        session._decoder.max_frame = self.max_frame  # authenticated: full-size frames
        session._log.info("gateway.authenticated", role=str(role))
        return {"role": str(role), "session": session.id}

    def _m_ping(self, session: Session, data: Any = None) -> Any:
        return "pong" if data is None else data

    def _m_subscribe(self, session: Session, events: list[str] | None, span: int | None,
                     channel: int | None, call: int | None) -> int:
        if len(session.subscriptions) >= self.max_subscriptions:
            raise RpcError(ErrorCode.OVERLOADED, f"this connection already has "
                           f"{len(session.subscriptions)} subscriptions (limit "
                           f"{self.max_subscriptions})")
        self._sub_counter += 1
        sub = Subscription.build(self._sub_counter, events, span, channel, call)
        session.subscriptions[sub.id] = sub
        self._subscribed.add(session)
        return sub.id

    def _m_unsubscribe(self, session: Session, id: int) -> bool:
        if session.subscriptions.pop(id, None) is None:
            raise RpcError(ErrorCode.NOT_FOUND,
                           f"no subscription {id} on this connection (have: "
                           f"{sorted(session.subscriptions) or 'none'})")
        if not session.subscriptions:
            self._subscribed.discard(session)
        return True

    def _m_methods(self, session: Session) -> list[dict[str, Any]]:
        specs: Iterable[MethodSpec] = [*self._builtins, *self.registry]
        role = session.role
        return sorted((s.describe() for s in specs
                       if not s.needs_auth or (role is not None and role >= s.role)),
                      key=lambda d: d["name"])
