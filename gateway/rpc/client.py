"""Client library for the gateway: asyncio first, with a small blocking wrapper.

Every other part of trunkline (the dialer, the CLI, the web console, the HIL suite) talks
to gateways through this module, so it hides the framing and request ids and turns error
replies back into :class:`RpcError` with the server's code::

    async with await AsyncGatewayClient.connect("/run/trunkline/gateway.sock") as gw:
        info = await gw.call("system.info")
        await gw.subscribe(events=["call.*"], span=1)
        async for event in gw.events():
            ...

    with GatewayClient("tls://gw1.example:7411", token="...", tls="ca.pem") as gw:
        gw.call("call.originate", number="5551234", group="g1")
        event = gw.next_event(timeout=5)

Addresses: a filesystem path is a Unix socket; ``tcp://host:port`` and ``tls://host:port``
are TCP without and with TLS; a ``(host, port)`` tuple is TCP. With ``token`` the client
sends ``auth`` right after connecting.

There is no automatic reconnection: a closed connection fails every pending call with
:class:`ConnectionClosed` (carrying the server's reason when it sent one), and the caller
decides whether to connect again and re-subscribe.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import ssl
import threading
from collections import deque
from collections.abc import AsyncIterator, Coroutine, Iterator
from typing import Any, TypeVar

import structlog

from trunkline.gateway.rpc.errors import (
    CallTimeout,
    ConnectionClosed,
    ErrorCode,
    ProtocolError,
    RpcError,
)
from trunkline.gateway.rpc.protocol import DEFAULT_MAX_FRAME, FrameDecoder, encode_frame

__all__ = ["AsyncGatewayClient", "GatewayClient", "parse_address"]

log = structlog.get_logger("trunkline.gateway.rpc.client")

T = TypeVar("T")
Address = str | tuple[str, int]
TlsArg = bool | str | ssl.SSLContext | None

_READ_SIZE = 256 * 1024


def parse_address(address: Address) -> tuple[str, str | None, int | None]:
    """Return ``(kind, host_or_path, port)`` with kind ``"unix"``, ``"tcp"`` or ``"tls"``.

    Raises ValueError naming the address when it cannot be understood.
    """
    if isinstance(address, tuple):
        host, port = address
        return "tcp", host, int(port)
    text = str(address)
    for scheme in ("tcp", "tls"):
        prefix = f"{scheme}://"
        if text.startswith(prefix):
            host, sep, port = text[len(prefix):].rpartition(":")
            if not sep or not port.isdigit() or not host:
                raise ValueError(f"gateway address {text!r} must be {scheme}://HOST:PORT")
            return scheme, host.strip("[]"), int(port)
    if "://" in text:
        raise ValueError(f"gateway address {text!r}: unknown scheme (use a path, tcp:// "
                         "or tls://)")
    return "unix", text, None


def _client_ssl_context(tls: TlsArg) -> ssl.SSLContext | None:
    if tls is None or tls is False:
        return None
    if isinstance(tls, ssl.SSLContext):
        return tls
    if tls is True:
        return ssl.create_default_context()
    return ssl.create_default_context(cafile=tls)


class AsyncGatewayClient:
    """One connection to a gateway, on the running event loop.

    Create with :meth:`connect`. :meth:`call` sends a request and waits (``timeout``
    seconds, default from the constructor) for its reply; many calls may be in flight at
    once. Events from subscriptions are queued (up to ``event_queue``, beyond which the
    oldest is dropped, counted in ``events_dropped`` and logged) and read with
    :meth:`events` or :meth:`next_event`.
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *,
                 timeout: float = 10.0, max_frame: int = DEFAULT_MAX_FRAME,
                 event_queue: int = 10000) -> None:
        self._reader = reader
        self._writer = writer
        self.timeout = timeout
        self.max_frame = max_frame
        self.event_queue = event_queue
        self._decoder = FrameDecoder(max_frame=max_frame)
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._events: deque[dict[str, Any]] = deque()
        self._event_ready = asyncio.Event()
        self.events_dropped = 0
        #: the role the server granted (after auth, or None when not known)
        self.role: str | None = None
        #: the reason the server gave in its disconnect frame, when it sent one
        self.disconnect_reason: str | None = None
        self._closed_error: ConnectionClosed | None = None
        self._reader_task = asyncio.get_running_loop().create_task(self._read_loop())

    @classmethod
    async def connect(
        cls, address: Address, *, token: str | None = None, tls: TlsArg = None,
        server_hostname: str | None = None, timeout: float = 10.0,
        max_frame: int = DEFAULT_MAX_FRAME, event_queue: int = 10000,
    ) -> AsyncGatewayClient:
        """Open a connection (and authenticate when ``token`` is given).

        ``tls`` is True (system CAs), a CA file path, or an SSLContext; an address
        ``tls://...`` implies True. Raises OSError when the socket cannot be reached,
        RpcError(unauthorized) when the token is refused, CallTimeout on timeouts.
        """
        kind, where, port = parse_address(address)
        if kind == "tls" and tls is None:
            tls = True
        context = _client_ssl_context(tls)
        try:
            if kind == "unix":
                if context is not None:
                    raise ValueError("TLS applies to TCP addresses only")
                opening = asyncio.open_unix_connection(where, limit=_READ_SIZE)
            else:
                opening = asyncio.open_connection(
                    where, port, ssl=context, limit=_READ_SIZE,
                    server_hostname=server_hostname if context is not None else None)
            reader, writer = await asyncio.wait_for(opening, timeout)
        except TimeoutError as err:
            raise CallTimeout(f"could not connect to gateway {address!r} within "
                              f"{timeout} s") from err
        client = cls(reader, writer, timeout=timeout, max_frame=max_frame,
                     event_queue=event_queue)
        if token is not None:
            try:
                await client.auth(token)
            except BaseException:
                await client.close()
                raise
        return client

    # -- requests ------------------------------------------------------------------------

    async def call(self, method: str, /, **params: Any) -> Any:
        """Call ``method`` with keyword parameters; return its result.

        Raises RpcError (with ``.code``) for an error reply, CallTimeout when no reply
        comes within the client's timeout, ConnectionClosed when the connection is gone.
        """
        return await self.request(method, params)

    async def request(self, method: str, params: dict[str, Any] | None = None, *,
                      timeout: float | None = None) -> Any:
        """Like :meth:`call`, with parameters as a map and a per-call ``timeout``."""
        if self._closed_error is not None:
            raise self._closed_error
        rid = next(self._ids)
        frame = encode_frame({"id": rid, "method": method, "params": params or {}},
                             max_frame=self.max_frame)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._pending[rid] = future
        wait = self.timeout if timeout is None else timeout
        # A timer rather than wait_for: no extra task per request.
        timer = loop.call_later(wait, self._expire, future, method, rid, wait)
        try:
            self._writer.write(frame)
            await self._writer.drain()
            return await future
        except (ConnectionError, RuntimeError) as err:
            if isinstance(err, ConnectionClosed):
                raise
            raise self._closed_error or ConnectionClosed(
                f"connection to the gateway failed while sending {method!r}: {err}") from err
        finally:
            timer.cancel()
            self._pending.pop(rid, None)

    @staticmethod
    def _expire(future: asyncio.Future[Any], method: str, rid: int, wait: float) -> None:
        if not future.done():
            future.set_exception(CallTimeout(f"no reply to {method!r} (request {rid}) "
                                             f"within {wait} s"))

    async def auth(self, token: str) -> str:
        """Authenticate; returns the role granted."""
        result = await self.call("auth", token=token)
        self.role = result.get("role") if isinstance(result, dict) else None
        return self.role or ""

    async def ping(self, data: Any = None) -> Any:
        return await self.call("ping") if data is None else await self.call("ping", data=data)

    async def subscribe(self, events: list[str] | None = None, *, span: int | None = None,
                        channel: int | None = None, call: int | None = None) -> int:
        """Subscribe to events (kinds, ``"prefix*"`` allowed; None: all), optionally only
        those of one span, channel or call. Returns the subscription id."""
        params: dict[str, Any] = {"events": events, "span": span, "channel": channel,
                                  "call": call}
        return await self.request("subscribe", {k: v for k, v in params.items()
                                                if v is not None})

    async def unsubscribe(self, subscription: int) -> None:
        await self.call("unsubscribe", id=subscription)

    # -- events --------------------------------------------------------------------------

    async def next_event(self, timeout: float | None = None) -> dict[str, Any]:
        """The next event; raises TimeoutError after ``timeout`` seconds (None: wait) and
        ConnectionClosed once the connection is gone and every event was read."""
        while not self._events:
            if self._closed_error is not None:
                raise self._closed_error
            self._event_ready.clear()
            if timeout is None:
                await self._event_ready.wait()
            else:
                try:
                    await asyncio.wait_for(self._event_ready.wait(), timeout)
                except TimeoutError:
                    raise TimeoutError(f"no event within {timeout} s") from None
        return self._events.popleft()

    async def events(self) -> AsyncIterator[dict[str, Any]]:
        """Yield events until the connection closes (the server's ``disconnect`` frame,
        when it sent one, is the last event)."""
        while True:
            try:
                yield await self.next_event()
            except ConnectionClosed:
                return

    # -- lifecycle -----------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._closed_error is not None

    async def close(self) -> None:
        """Close the connection (idempotent); pending calls fail with ConnectionClosed."""
        self._writer.close()
        with contextlib.suppress(Exception):
            await self._writer.wait_closed()
        if not self._reader_task.done():
            self._reader_task.cancel()
        with contextlib.suppress(BaseException):
            await self._reader_task
        self._finish(ConnectionClosed("the client closed the connection", reason="closed"))

    async def __aenter__(self) -> AsyncGatewayClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # -- internals -----------------------------------------------------------------------

    async def _read_loop(self) -> None:
        error: ConnectionClosed | None = None
        try:
            while True:
                data = await self._reader.read(_READ_SIZE)
                if not data:
                    self._decoder.close()
                    break
                for frame in self._decoder.feed(data):
                    self._dispatch(frame)
        except ProtocolError as err:
            for frame in err.frames:
                self._dispatch(frame)
            error = ConnectionClosed(f"the gateway sent a bad frame: {err}",
                                     reason="protocol_error")
            log.warning("gateway_client.protocol_error", error=str(err))
        except (ConnectionError, OSError, ssl.SSLError) as err:
            error = ConnectionClosed(f"connection to the gateway lost: {err}",
                                     reason=self.disconnect_reason or "connection_error")
        except asyncio.CancelledError:
            pass
        finally:
            if error is None:
                reason = self.disconnect_reason
                text = f"the gateway closed the connection ({reason or 'no reason given'})"
                error = ConnectionClosed(text, reason=reason)
            self._finish(error)
            self._writer.close()

    def _finish(self, error: ConnectionClosed) -> None:
        if self._closed_error is None:
            self._closed_error = error
        for future in self._pending.values():
            if not future.done():
                future.set_exception(self._closed_error)
        self._pending.clear()
        self._event_ready.set()

    def _dispatch(self, frame: dict[str, Any]) -> None:
        if "event" in frame:
            if frame["event"] == "disconnect":
                self.disconnect_reason = str(frame.get("reason"))
            if len(self._events) >= self.event_queue:
                self._events.popleft()
                self.events_dropped += 1
                if self.events_dropped == 1 or self.events_dropped % 1000 == 0:
                    log.warning("gateway_client.events_dropped", dropped=self.events_dropped,
                                hint="read events faster or raise event_queue")
            self._events.append(frame)
            self._event_ready.set()
            return
        future = self._pending.get(frame.get("id"))  # type: ignore[arg-type]
        if future is None or future.done():
            if frame.get("id") is None and "error" in frame:
                log.warning("gateway_client.error_without_id", error=frame["error"])
            return
        if "error" in frame:
            future.set_exception(RpcError.from_wire(frame["error"]))
        elif "result" in frame:
            future.set_result(frame["result"])
        else:
            future.set_exception(RpcError(ErrorCode.INTERNAL,
                                          f"reply without result or error: {frame!r:.80}"))


class GatewayClient:
    """A blocking client for scripts and tests: an :class:`AsyncGatewayClient` on its
    own event loop in a daemon thread.

    ``with GatewayClient("/run/trunkline/gateway.sock") as gw: gw.call("system.info")``.
    Methods block the calling thread (never the gateway) and raise what the async client
    raises. Not meant to be shared between threads without a lock.
    """

    def __init__(self, address: Address, *, token: str | None = None, tls: TlsArg = None,
                 server_hostname: str | None = None, timeout: float = 10.0,
                 event_queue: int = 10000) -> None:
        self.address = address
        self._options = {"token": token, "tls": tls, "server_hostname": server_hostname,
                         "timeout": timeout, "event_queue": event_queue}
        self.timeout = timeout
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._client: AsyncGatewayClient | None = None

    def connect(self) -> GatewayClient:
        if self._client is not None:
            return self
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name="gateway-client",
                                  daemon=True)
        thread.start()
        self._loop, self._thread = loop, thread
        try:
            self._client = self._run(AsyncGatewayClient.connect(self.address,
                                                                **self._options))
        except BaseException:
            self._stop_loop()
            raise
        return self

    def __enter__(self) -> GatewayClient:
        return self.connect()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def client(self) -> AsyncGatewayClient:
        if self._client is None:
            raise ConnectionClosed("GatewayClient is not connected; use connect() or with")
        return self._client

    @property
    def disconnect_reason(self) -> str | None:
        return self.client.disconnect_reason

    @property
    def role(self) -> str | None:
        return self.client.role

    def call(self, method: str, /, **params: Any) -> Any:
        return self._run(self.client.request(method, params))

    def request(self, method: str, params: dict[str, Any] | None = None, *,
                timeout: float | None = None) -> Any:
        return self._run(self.client.request(method, params, timeout=timeout))

    def auth(self, token: str) -> str:
        return self._run(self.client.auth(token))

    def subscribe(self, events: list[str] | None = None, *, span: int | None = None,
                  channel: int | None = None, call: int | None = None) -> int:
        return self._run(self.client.subscribe(events, span=span, channel=channel,
                                               call=call))

    def unsubscribe(self, subscription: int) -> None:
        self._run(self.client.unsubscribe(subscription))

    def next_event(self, timeout: float | None = None) -> dict[str, Any]:
        """The next event; TimeoutError after ``timeout`` s; ConnectionClosed at the end."""
        return self._run(self.client.next_event(timeout))

    def events(self, timeout: float | None = None) -> Iterator[dict[str, Any]]:
        """Yield events until the connection closes or none comes within ``timeout``."""
        while True:
            try:
                yield self.next_event(timeout)
            except (ConnectionClosed, TimeoutError):
                return

    def close(self) -> None:
        """Close the connection and stop the thread (idempotent)."""
        if self._client is not None:
            with contextlib.suppress(Exception):
                self._run(self._client.close())
            self._client = None
        self._stop_loop()

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        if self._loop is None:
            coro.close()
            raise ConnectionClosed("GatewayClient is not connected; use connect() or with")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def _stop_loop(self) -> None:
        loop, thread = self._loop, self._thread
        self._loop = self._thread = None
        if loop is None or thread is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        if not thread.is_alive():
            loop.close()
