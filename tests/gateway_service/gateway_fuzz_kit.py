"""Generated hostile traffic against a live gateway's socket (issue 15, item 4).

A unique module name: never import from conftest. :func:`fuzz` sends ``cases`` generated
cases, seeded, at a real gateway service (the emulated card behind it) over its Unix
socket, and checks, case by case:

- every request that reaches the gateway gets a well-formed reply (an ``id`` with a
  ``result`` or an ``error`` with a code, name and message) and never ``internal``;
- the gateway never hangs: each batch is answered (or its connection closed by the
  gateway) within :data:`BATCH_TIMEOUT`;
- a second client (the bystander) is answered within :data:`BYSTANDER_LIMIT` after every
  batch, throughout.

Cases are drawn from the gateway's own method registry, so every method and parameter is
reached: well-typed values, wrong types, NaN and infinities, integers past 64 bits,
strings that climb out of folders, deep and wide containers, unknown keys and methods;
and now and then raw bytes on a fresh connection (bad lengths, truncated frames, and
rarely a frame at the size limits: 131,000 nils, 4,088 distinct map keys, or 65,000
keys, which must be refused). Calls
the cases place are hung up every few batches so the card does not stay full.
"""

from __future__ import annotations

import contextlib
import math
import random
import socket
import time
from dataclasses import dataclass, field
from typing import Any

import msgpack

from trunkline.gateway.rpc.client import GatewayClient
from trunkline.gateway.rpc.protocol import FrameDecoder, encode_frame

BATCH = 25                 # requests sent before their replies are read
BATCH_TIMEOUT = 15.0       # seconds: a batch not answered by then is a hang
BYSTANDER_LIMIT = 1.0      # seconds: what the second client may wait, at most
RAW_SHARE = 0.25           # the share of rounds that are one raw-bytes case (a fresh connection)

_NASTY_STRINGS = ["", "../../../../etc/passwd", "/etc/shadow", "a" * 5000, "\x00", "é",
                  "%s%n", "recordings/../../x", "-1", "NaN", "1e309", "\ud7ff", "*"]
_NASTY_NUMBERS: list[Any] = [math.nan, math.inf, -math.inf, 2**64 - 1, -(2**63), 2**63,
                             0, -1, 1e308, 5e-324, 10**6, True, False]


@dataclass
class FuzzReport:
    cases: int = 0
    requests: int = 0
    replies: int = 0
    raw: int = 0
    heavy: int = 0
    closed_by_gateway: int = 0
    errors_by_name: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    bystander_max: float = 0.0
    seconds: float = 0.0

    def line(self) -> str:
        top = sorted(self.errors_by_name.items(), key=lambda kv: -kv[1])[:6]
        return (f"{self.cases} cases ({self.requests} requests, {self.raw} raw, "
                f"{self.heavy} at the decoding limits) in "
                f"{self.seconds:.0f} s: {self.replies} replies, {self.closed_by_gateway} "
                f"connections closed by the gateway, bystander max "
                f"{self.bystander_max * 1000:.0f} ms, problems {len(self.problems)}; "
                f"errors {dict(top)}")


def _value(rng: random.Random, depth: int = 0) -> Any:
    pick = rng.random()
    if pick < 0.25:
        return rng.choice(_NASTY_NUMBERS)
    if pick < 0.45:
        return rng.choice(_NASTY_STRINGS)
    if pick < 0.6:
        return rng.randint(-5, 200)
    if pick < 0.7:
        return rng.uniform(-10, 1000)
    if pick < 0.78:
        return None
    if pick < 0.84:
        return bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 40)))
    if depth >= 3:
        return "x"
    if pick < 0.92:
        return [_value(rng, depth + 1) for _ in range(rng.randint(0, 5))]
    return {str(_value(rng, depth + 1))[:8]: _value(rng, depth + 1)
            for _ in range(rng.randint(0, 4))}


def _typed(rng: random.Random, types: tuple[type, ...]) -> Any:
    """A value of one of ``types`` (mostly small and plausible)."""
    t = rng.choice(types)
    if t is bool:
        return rng.random() < 0.5
    if t is int:
        return rng.choice([rng.randint(0, 80), rng.randint(-3, 3), 2**63 - 1])
    if t is float:
        return rng.choice([rng.uniform(0, 30), 0.5, 1.0, math.nan, math.inf])
    if t is str:
        return rng.choice(["13812345678", "13712345678", "pri", "outbound", "agents",
                           "busy", "ringback", "#", "123", *_NASTY_STRINGS[:4]])
    if t is list:
        return [rng.randint(0, 80) for _ in range(rng.randint(0, 3))]
    if t is dict:
        return rng.choice([{}, {"amd": True}, {"call_progress": False}, {"x": 1}])
    if t is bytes:
        return b"\x00" * rng.randint(0, 10)
    return None


def _request(rng: random.Random, specs: dict[str, Any], rid: int) -> dict[Any, Any]:
    names = list(specs)
    roll = rng.random()
    method: Any = rng.choice(names) if roll < 0.9 else rng.choice(
        ["", "nope", "call.", "ping\x00", 5, None, "x" * 300])
    params: Any = {}
    spec = specs.get(method) if isinstance(method, str) else None
    if spec is not None:
        for name, param in spec.params.items():
            r = rng.random()
            if r < 0.55:
                params[name] = _typed(rng, param.types)
            elif r < 0.8:
                params[name] = _value(rng)
        if rng.random() < 0.1:
            params[str(_value(rng))[:10]] = _value(rng)
    if rng.random() < 0.05:
        params = _value(rng)                     # params that are not a map
    request: dict[Any, Any] = {"id": rid, "method": method, "params": params}
    if rng.random() < 0.03:
        request["id"] = rng.choice([None, "x", -1, 2**64 - 1, 1.5, [1]])
    if rng.random() < 0.02:
        del request["method"]
    return request


#: The share of raw cases that are one frame at the decoding limits (each costs the
#: gateway milliseconds: rare, so that the default run stays short).
HEAVY_SHARE = 0.2


def _heavy(rng: random.Random) -> bytes:
    """A frame at (or just past) the decoding limits, as a greedy client sends them."""
    kind = rng.randrange(3)
    tag = rng.getrandbits(32)   # distinct keys each time: msgpack interns map keys
    if kind == 0:
        pad: Any = [[None] * 65_500, [None] * 65_500]
    elif kind == 1:
        pad = {f"{tag}.{i}": i for i in range(4088)}
    else:                  # past the 4096 map entries: refused, the connection cut
        pad = {f"{tag}.{i}": i for i in range(65_000)}
    return encode_frame({"id": 1, "method": "ping", "params": {"pad": pad}},
                        max_frame=1 << 24)


def _raw(rng: random.Random) -> bytes:
    if rng.random() < HEAVY_SHARE:
        return _heavy(rng)
    kind = rng.randrange(4)
    if kind == 0:
        return bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 200)))
    if kind == 1:          # a length prefix that lies
        return rng.getrandbits(32).to_bytes(4, "big") + b"\x80" * rng.randint(0, 50)
    if kind == 2:          # a frame that is not a map
        return encode_frame(rng.choice([[1, 2], 5, "ping", None]))  # type: ignore[arg-type]
    body = msgpack.packb({"id": 1, "method": "ping"})
    return len(body).to_bytes(4, "big") + body[: rng.randint(0, len(body) - 1)]


def _exchange_raw(path: str, data: bytes) -> bool:
    """Raw bytes on a fresh connection, half-closed; True when the gateway closed it."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(BATCH_TIMEOUT)
        sock.connect(path)
        with contextlib.suppress(OSError):
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)
        try:
            while sock.recv(65536):
                pass
        except TimeoutError:
            return False
        except OSError:
            pass
        return True


class _Conn:
    def __init__(self, path: str) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(BATCH_TIMEOUT)
        self.sock.connect(path)
        self.decoder = FrameDecoder(max_frame=1 << 24)

    def close(self) -> None:
        self.sock.close()


def _check_reply(frame: Any, report: FuzzReport) -> None:
    if not isinstance(frame, dict) or "event" in frame:
        return
    report.replies += 1
    if "error" in frame:
        err = frame["error"]
        name = err.get("name") if isinstance(err, dict) else None
        report.errors_by_name[str(name)] = report.errors_by_name.get(str(name), 0) + 1
        if not isinstance(err, dict) or not err.get("message") or "code" not in err:
            report.problems.append(f"malformed error {frame!r:.200}")
        elif name == "internal":
            report.problems.append(f"internal error {frame!r:.300}")
    elif "result" not in frame:
        report.problems.append(f"reply without result or error {frame!r:.200}")


def fuzz(path: str, specs: dict[str, Any], cases: int, *, seed: int = 15,
         bystander_limit: float = BYSTANDER_LIMIT) -> FuzzReport:
    """Send ``cases`` generated cases at the gateway on ``path``; see the module doc."""
    rng = random.Random(seed)
    report = FuzzReport()
    started = time.monotonic()
    bystander = GatewayClient(path, timeout=BATCH_TIMEOUT).connect()
    conn = _Conn(path)
    rid = 0
    try:
        while report.cases < cases:
            if rng.random() < RAW_SHARE:
                report.cases += 1
                report.raw += 1
                data = _raw(rng)
                report.heavy += len(data) > 65536
                if not _exchange_raw(path, data):
                    report.problems.append("a raw connection was never closed (hang)")
            else:
                batch = []
                for _ in range(min(BATCH, cases - report.cases)):
                    rid += 1
                    batch.append(_request(rng, specs, rid))
                report.cases += len(batch)
                report.requests += len(batch)
                sentinel = f"sentinel-{rid}"
                data = b"".join(encode_frame(r) for r in
                                [*batch, {"id": sentinel, "method": "ping"}])
                conn = _send_batch(conn, path, data, sentinel, report)
            t = time.monotonic()
            try:
                bystander.call("ping", data=report.cases)
            except Exception as err:  # any failure is the finding
                report.problems.append(f"the bystander was not answered: {err!r}")
            waited = time.monotonic() - t
            report.bystander_max = max(report.bystander_max, waited)
            if waited > bystander_limit:
                report.problems.append(f"the bystander waited {waited:.2f} s")
            if report.cases % (BATCH * 8) < BATCH:
                _hang_up_all(bystander)
    finally:
        conn.close()
        _hang_up_all(bystander)
        bystander.close()
        report.seconds = time.monotonic() - started
    return report


def _send_batch(conn: _Conn, path: str, data: bytes, sentinel: str,
                report: FuzzReport) -> _Conn:
    """Send a batch ending in a ping with id ``sentinel`` on ``conn`` and read until the
    ping's reply (requests that wait, such as ``call.collect_dtmf``, answer in a later
    batch); a new connection when the gateway closed this one (its right, for a
    protocol error)."""
    try:
        conn.sock.sendall(data)
        done = False
        deadline = time.monotonic() + BATCH_TIMEOUT
        while not done:
            if time.monotonic() > deadline:
                report.problems.append("a batch was not answered in time (hang)")
                break
            chunk = conn.sock.recv(1 << 20)
            if not chunk:
                report.closed_by_gateway += 1
                break
            for frame in conn.decoder.feed(chunk):
                _check_reply(frame, report)
                done = done or (isinstance(frame, dict) and frame.get("id") == sentinel)
        else:
            return conn
    except TimeoutError:
        report.problems.append("a batch was not answered in time (hang)")
    except OSError:
        report.closed_by_gateway += 1
    conn.close()
    return _Conn(path)


def _hang_up_all(client: GatewayClient) -> None:
    with contextlib.suppress(Exception):
        for row in client.call("calls.list"):
            with contextlib.suppress(Exception):
                client.call("call.hangup", call=row["call"])
