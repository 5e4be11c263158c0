"""A client flooding small requests is refused, then cut, and nobody else notices
(issue 15, item 4: "a slow or greedy client is cut with a reason and never stalls the
tick"; docs/protocol.md, "Request rate").

A real gateway service (emulated card, its media tick running) over its real sockets,
with a small limit so the test is short: one client pipelines pings on the Unix socket
as fast as it takes them and reads what comes back; it gets ``overloaded`` refusals
naming the limit, then the ``disconnect`` event with reason ``rate_limited``. A second
client, another peer (TCP), pings every 20 ms throughout and is answered within 1 s each
time; the tick goes on.
A client that waits as its refusals tell it is never cut. ``[server] request_rate`` and
``request_burst`` are checked like the other keys, and a SIGHUP-style reload changes
the limit of connections already open.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import pytest
from gw_service_kit import RunningGateway, wait_until

from trunkline.errors import ConfigError
from trunkline.gateway.config import GatewayConfig, config_from_string, load_config
from trunkline.gateway.rpc.client import GatewayClient
from trunkline.gateway.rpc.errors import RpcError
from trunkline.gateway.rpc.protocol import FrameDecoder, encode_frame

RATE, BURST = 200.0, 50
FLOOD_SECONDS = 2.0


TOKEN = "t" * 24


def small_limit() -> GatewayConfig:
    """A small limit, and TCP beside the Unix socket: the bystander is another peer (a
    TCP address, not the flooder's user id), as the limit is per peer."""
    config = GatewayConfig()
    config.request_rate, config.request_burst = RATE, BURST
    config.tcp, config.tokens = ("127.0.0.1", 0), {TOKEN: "monitor"}
    return config


class Flooder:
    """Pipelines pings on a raw socket until the gateway closes it; a second thread
    reads every frame that comes back (a client that reads is not cut for its queue)."""

    def __init__(self, path: str) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.frames: list[dict] = []
        self.sent = 0
        self.closed_at: float | None = None
        self._writer = threading.Thread(target=self._write, daemon=True)
        self._reader = threading.Thread(target=self._read, daemon=True)

    def start(self) -> Flooder:
        self._reader.start()
        self._writer.start()
        return self

    def _write(self) -> None:
        batch = b"".join(encode_frame({"id": n, "method": "ping"}) for n in range(100))
        deadline = time.monotonic() + FLOOD_SECONDS + 5
        try:
            while self.closed_at is None and time.monotonic() < deadline:
                self.sock.sendall(batch)
                self.sent += 100
        except OSError:
            pass  # cut

    def _read(self) -> None:
        decoder = FrameDecoder(max_frame=1 << 24)
        self.sock.settimeout(FLOOD_SECONDS + 5)
        try:
            while data := self.sock.recv(1 << 16):
                self.frames.extend(decoder.feed(data))
        except OSError:
            pass
        self.closed_at = time.monotonic()

    def join(self) -> None:
        self._reader.join(FLOOD_SECONDS + 10)
        self._writer.join(5)
        self.sock.close()


def test_a_flooding_client_is_refused_then_cut_and_a_second_is_answered() -> None:
    with RunningGateway(small_limit()) as gw:
        server = gw.service.server
        host, port = server.tcp_address
        bystander = GatewayClient(f"tcp://{host}:{port}", token=TOKEN, timeout=5).connect()
        ticks_before = gw.on_engine(lambda: gw.service.engine.ticks)
        started = time.monotonic()
        flooder = Flooder(gw.socket).start()
        waits = []
        while time.monotonic() - started < FLOOD_SECONDS:
            t = time.monotonic()
            assert bystander.call("ping", data=len(waits)) == len(waits)
            waits.append(time.monotonic() - t)
            time.sleep(0.02)
        ticks_during = gw.on_engine(lambda: gw.service.engine.ticks)
        flooder.join()
        assert flooder.closed_at is not None, "the flooder was never cut"
        replies = [f for f in flooder.frames if "id" in f]
        refusals = [f for f in replies if "error" in f]
        assert replies[:BURST] == [{"id": n, "result": "pong"} for n in range(BURST)]
        assert refusals, "nothing was refused"
        error = refusals[0]["error"]
        assert (error["code"], error["name"]) == (503, "overloaded")
        uid = f"uid {os.getuid()}"  # the peer: its connections share the limit
        assert error["message"].startswith(
            f"request rate limit: more than 200 requests a second, 50 at once, from "
            f"{uid}'s connections together; retry in"), error["message"]
        assert error["data"]["limit"] == "request_rate"
        assert (error["data"]["rate"], error["data"]["burst"]) == (RATE, BURST)
        assert 0 < error["data"]["retry_after"] <= 1 / RATE
        notice = flooder.frames[-1]
        assert notice["event"] == "disconnect" and notice["reason"] == "rate_limited"
        assert ("requests were refused for the request rate limit (200 requests a "
                f"second, 50 at once, from {uid}'s connections together)"
                ) in notice["message"], notice["message"]
        # Cut soon: it pipelines far more than twice its burst at once.
        assert flooder.closed_at - started < FLOOD_SECONDS
        # Counted: refusals and the cut, and the cut among the disconnections.
        metric = "trunkline_gateway_rate_limited_total"
        assert server.metrics.value(metric, {"action": "cut"}) == 1
        assert server.metrics.value(metric, {"action": "refused"}) == len(refusals)
        assert server.stats["rate_limited"] == {"refused": len(refusals), "cut": 1}
        assert server.stats["disconnected_by_reason"]["rate_limited"] == 1
        # The bystander: answered within 1 s every time, and more than a few times.
        assert len(waits) >= 20 and max(waits) < 1.0, max(waits)
        # The tick went on during the flood (and goes on after it).
        assert ticks_during > ticks_before
        wait_until(lambda: gw.on_engine(lambda: gw.service.engine.ticks) > ticks_during,
                   "the media tick goes on after the flood", timeout=5.0)
        bystander.close()


def test_a_client_that_waits_as_told_is_answered_and_never_cut() -> None:
    config = GatewayConfig()
    config.request_rate, config.request_burst = 50.0, 5
    with RunningGateway(config) as gw, GatewayClient(gw.socket, timeout=5) as client:
        answered = refused = 0
        while answered < 40:
            try:
                assert client.call("ping", data=answered) == answered
                answered += 1
            except RpcError as err:
                assert err.name == "overloaded" and err.data["limit"] == "request_rate"
                refused += 1
                time.sleep(err.data["retry_after"])
        assert refused > 0  # 40 back to back at 50 a second with 5 at once: refused
        time.sleep(0.1)
        assert client.call("ping") == "pong"  # and still connected
        stats = gw.service.server.stats
        assert stats["rate_limited"]["cut"] == 0
        assert "rate_limited" not in stats["disconnected_by_reason"]


def test_the_limit_keys_are_checked_and_named(tmp_path: Path) -> None:
    config = config_from_string("[server]\nrequest_rate = 20\nrequest_burst = 40\n")
    assert (config.request_rate, config.request_burst) == (20.0, 40)
    assert isinstance(config.request_rate, float)
    defaults = GatewayConfig()
    assert (defaults.request_rate, defaults.request_burst) == (500.0, 1000)
    for text, expected in [
        ("request_rate = 0", "[server] request_rate: expected requests a second, a number "
                             "1..1000000, got the number 0"),
        ("request_rate = nan", "[server] request_rate: expected requests a second"),
        ("request_rate = \"500\"", "got the string '500'"),
        ("request_burst = 2.5", "[server] request_burst: expected a whole number of "
                                "requests 1..1000000, got the number 2.5"),
        ("request_burst = true", "[server] request_burst: expected a whole number"),
    ]:
        path = tmp_path / "gw.toml"
        path.write_text(f"[server]\n{text}\n", encoding="utf-8")
        with pytest.raises(ConfigError) as caught:
            load_config(path)
        message = str(caught.value)
        assert message.startswith(f"{path}:2: "), message
        assert expected in message, message


def test_a_reload_changes_the_limit_of_open_connections(tmp_path: Path) -> None:
    path = tmp_path / "gw.toml"
    path.write_text("[server]\nrequest_rate = 1000\nrequest_burst = 1000\n",
                    encoding="utf-8")
    config = load_config(path)
    with RunningGateway(config) as gw, GatewayClient(gw.socket, timeout=5) as client:
        assert client.call("ping") == "pong"
        path.write_text("[server]\nrequest_rate = 1\nrequest_burst = 2\n",
                        encoding="utf-8")
        gw.service.loop.call_soon_threadsafe(gw.service.reload)
        wait_until(lambda: gw.service.server.request_limit.burst == 2, "the reload")
        outcomes = []
        for _ in range(4):
            try:
                client.call("ping")
                outcomes.append("ok")
            except RpcError as err:
                outcomes.append(err.name)
        assert outcomes[-1] == "overloaded", outcomes  # 2 at once, then 1 a second
        # A bad value on reload changes nothing and says why.
        path.write_text("[server]\nrequest_rate = -5\n", encoding="utf-8")
        gw.service.loop.call_soon_threadsafe(gw.service.reload)
        time.sleep(0.2)
        assert gw.service.server.request_limit.rate == 1.0
