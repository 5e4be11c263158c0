"""Helpers for the gateway tests: a sample registry, servers on short socket paths, raw
frame connections, a server running in a thread, and a self-signed certificate."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import ipaddress
import shutil
import socket
import subprocess
import tempfile
import threading
from collections.abc import AsyncIterator, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

from trunkline.errors import ChannelStateError
from trunkline.gateway.rpc.protocol import HEADER, FrameDecoder, encode_frame
from trunkline.gateway.rpc.registry import MethodRegistry, Param, RpcError
from trunkline.gateway.rpc.server import GatewayServer, Session

T = TypeVar("T")

TOKENS = {"admin-token": "admin", "control-token": "control", "monitor-token": "monitor"}


def run(coro: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
    """Run one test coroutine with an overall limit, so a bug hangs no worker."""

    async def limited() -> T:
        return await asyncio.wait_for(coro, timeout)

    return asyncio.run(limited())


@contextlib.contextmanager
def short_dir() -> Iterator[Path]:
    """A fresh directory under /tmp: pytest's tmp_path can pass AF_UNIX's ~100 bytes."""
    path = Path(tempfile.mkdtemp(prefix="gw", dir="/tmp"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def make_registry() -> MethodRegistry:
    """Methods covering every kind of handler the telephony side will write.

    ``registry.started`` counts, per method name ("slow", "hang"), the calls that have
    begun running (a semaphore released once per call): a test awaits it to know a
    request is in flight, rather than sleeping and hoping."""
    registry = MethodRegistry()
    started = {"slow": asyncio.Semaphore(0), "hang": asyncio.Semaphore(0)}
    registry.started = started  # type: ignore[attr-defined]
    originated: list[str] = []

    @registry.method("echo", params={"value": Param((str, int, float, bool, list, dict,
                                                      bytes), required=True)})
    def echo(session: Session, value: Any) -> Any:
        return value

    @registry.method("whoami")
    def whoami(session: Session) -> dict[str, Any]:
        return {"role": str(session.role), "peer": session.peer, "kind": session.transport_kind,
                "session": session.id}

    @registry.method("call.originate", role="control", params={
        "number": Param(str, required=True, doc="digits to dial"),
        "group": Param(str), "span": Param(int), "channel": Param(int),
        "ring_timeout": Param(float, default=45.0, minimum=1, maximum=600),
        "detect": Param(dict, default={}),
    })
    async def originate(session: Session, number: str, group: str | None, span: int | None,
                        channel: int | None, ring_timeout: float,
                        detect: dict[str, Any]) -> dict[str, Any]:
        keys = sorted(detect)
        detect["touched"] = True  # must not leak into the next call's default
        originated.append(number)
        return {"call": len(originated), "number": number, "ring_timeout": ring_timeout,
                "span": span, "detect_keys": keys}

    @registry.method("admin.reset", role="admin")
    def reset(session: Session) -> str:
        return "reset"

    @registry.method("slow", params={"seconds": Param(float, default=0.05)})
    async def slow(session: Session, seconds: float) -> float:
        started["slow"].release()
        await asyncio.sleep(seconds)
        return seconds

    @registry.method("hang")
    async def hang(session: Session) -> None:
        started["hang"].release()
        await asyncio.Event().wait()

    @registry.method("boom")
    def boom(session: Session) -> None:
        raise ZeroDivisionError("deliberate")

    @registry.method("aboom")
    async def aboom(session: Session) -> None:
        raise KeyError("deliberate")

    @registry.method("missing", params={"call": Param(int, required=True)})
    def missing(session: Session, call: int) -> None:
        raise RpcError("not_found", f"no call {call}")

    @registry.method("busy")
    def busy(session: Session) -> None:
        raise ChannelStateError("cannot answer call 17 on span 1 channel 5: state is RINGING_OUT")

    @registry.method("unencodable")
    def unencodable(session: Session) -> object:
        return object()

    @registry.method("blob", params={"size": Param(int, required=True, minimum=0)})
    def blob(session: Session, size: int) -> bytes:
        return b"x" * size

    return registry


@contextlib.asynccontextmanager
async def serving(registry: MethodRegistry | None = None, **options: Any
                  ) -> AsyncIterator[GatewayServer]:
    """A started server on a fresh Unix socket and TCP 127.0.0.1:0, stopped afterwards."""
    with short_dir() as folder:
        options.setdefault("unix_path", folder / "gw.sock")
        options.setdefault("tcp", ("127.0.0.1", 0))
        if options["tcp"] is not None:
            options.setdefault("tokens", TOKENS)
        server = GatewayServer(registry if registry is not None else make_registry(),
                               **options)
        await server.start()
        try:
            yield server
        finally:
            await server.stop(grace=1.0)


def tcp_url(server: GatewayServer, scheme: str = "tcp") -> str:
    assert server.tcp_address is not None
    return f"{scheme}://{server.tcp_address[0]}:{server.tcp_address[1]}"


class RawConnection:
    """Frames (or arbitrary bytes) over a socket, with no client library in between."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.decoder = FrameDecoder(max_frame=16 << 20)
        self.frames: list[dict[str, Any]] = []

    @classmethod
    async def unix(cls, path: str | Path) -> RawConnection:
        return cls(*await asyncio.open_unix_connection(str(path)))

    @classmethod
    async def tcp(cls, server: GatewayServer) -> RawConnection:
        assert server.tcp_address is not None
        return cls(*await asyncio.open_connection(*server.tcp_address))

    async def send(self, message: dict[str, Any] | bytes) -> None:
        data = message if isinstance(message, bytes) else encode_frame(message)
        self.writer.write(data)
        await self.writer.drain()

    async def request(self, rid: Any, method: str, **params: Any) -> dict[str, Any]:
        await self.send({"id": rid, "method": method, "params": params})
        reply = await self.recv()
        assert reply is not None, f"connection closed while waiting for the reply to {method}"
        return reply

    async def recv(self, timeout: float = 5.0) -> dict[str, Any] | None:
        """The next frame, or None when the server closed the connection."""
        while not self.frames:
            data = await asyncio.wait_for(self.reader.read(65536), timeout)
            if not data:
                return None
            self.frames.extend(self.decoder.feed(data))
        return self.frames.pop(0)

    async def recv_until_closed(self, timeout: float = 5.0) -> list[dict[str, Any]]:
        out = []
        while (frame := await self.recv(timeout)) is not None:
            out.append(frame)
        return out

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(Exception):
            await self.writer.wait_closed()


def frame_bytes(body: bytes) -> bytes:
    return HEADER.pack(len(body)) + body


class ServerThread:
    """A GatewayServer on its own event loop in a thread, for blocking clients."""

    def __init__(self, registry: MethodRegistry | None = None, **options: Any) -> None:
        self.registry = registry if registry is not None else make_registry()
        self.options = options
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.server: GatewayServer | None = None
        self._dir = short_dir()

    def __enter__(self) -> ServerThread:
        folder = self._dir.__enter__()
        self.options.setdefault("unix_path", folder / "gw.sock")
        self.options.setdefault("tcp", ("127.0.0.1", 0))
        if self.options["tcp"] is not None:
            self.options.setdefault("tokens", TOKENS)
        self.thread.start()
        self.server = GatewayServer(self.registry, **self.options)
        self.call(self.server.start())
        return self

    def call(self, coro: Coroutine[Any, Any, T], timeout: float = 20.0) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def do(self, func: Any, *args: Any) -> Any:
        """Run a plain function on the server's loop and return its result."""

        async def wrapper() -> Any:
            return func(*args)

        return self.call(wrapper())

    @property
    def path(self) -> str:
        return str(self.options["unix_path"])

    def __exit__(self, *exc_info: object) -> None:
        try:
            if self.server is not None:
                self.call(self.server.stop(grace=1.0))
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=10)
            self.loop.close()
            self._dir.__exit__(None, None, None)


def self_signed_cert(folder: Path) -> tuple[Path, Path] | None:
    """A certificate and key for 127.0.0.1: via `cryptography` if installed, else the
    openssl command; None when neither exists (the TLS tests then skip)."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID
    except ImportError:
        pass
    else:
        private = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
        now = datetime.datetime.now(datetime.UTC)
        certificate = (
            x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(private.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(private, hashes.SHA256()))
        cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        key.write_bytes(private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))
        return cert, key
    openssl = shutil.which("openssl")
    if openssl is None:
        return None
    result = subprocess.run(
        [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        capture_output=True, text=True, check=False)
    if result.returncode != 0:
        return None
    return cert, key


def blocking_raw_exchange(path: str, data: bytes, timeout: float = 3.0) -> bytes:
    """Send ``data`` on a fresh Unix connection, half-close, read until the server closes."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(path)
        with contextlib.suppress(OSError):
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)
        chunks = []
        with contextlib.suppress(OSError):
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks)
