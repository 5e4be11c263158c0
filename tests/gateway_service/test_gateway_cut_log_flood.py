"""A flood of refused connections does not flood the log (docs/gateway.md, "Client slots").

Each refused connection used to log its own ``gateway.client_refused`` warning and a
``gateway.client_disconnected`` line, so a reconnect loop wrote thousands of lines a
second. Now a peer's first few refusals are logged, the rest summed up in
``gateway.warnings_suppressed`` (here at shutdown, the window being 10 s), and the
metrics still count every one. A real gateway service, over real TCP."""

from __future__ import annotations

import logging
import socket

import structlog
from gw_service_kit import RunningGateway, next_frame
from structlog.testing import capture_logs

from trunkline.gateway.config import GatewayConfig
from trunkline.gateway.rpc.protocol import encode_frame
from trunkline.gateway.rpc.server import CUT_LOG_BURST

MONITOR = "m" * 20
FLOOD = 300


def connect(port: int, source: str = "127.0.0.1") -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=5,
                                    source_address=(source, 0))


def authenticate(sock: socket.socket) -> None:
    sock.sendall(encode_frame({"id": 1, "method": "auth", "params": {"token": MONITOR}}))
    reply = next_frame(sock)
    assert reply is not None and reply["result"]["role"] == "monitor", reply


def test_a_burst_of_refused_connections_logs_a_few_lines_and_counts_all() -> None:
    config = GatewayConfig()
    config.tcp = ("127.0.0.1", 0)
    config.tokens = {MONITOR: "monitor"}
    config.max_clients, config.max_clients_per_peer = 16, 2
    gw = RunningGateway(config).start()
    server = gw.service.server
    port = server.tcp_address[1]
    held = [connect(port), connect(port)]  # 127.0.0.1's two slots
    for sock in held:
        authenticate(sock)
    # Info lines too (the service logs from warning up by default): a refused
    # connection no longer logs its disconnect either.
    config_before = structlog.get_config()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.INFO))
    with capture_logs() as logs:
        try:
            for _ in range(FLOOD):
                sock = connect(port)
                notice = next_frame(sock)
                assert notice is not None and notice["reason"] == "overloaded"
                assert next_frame(sock) is None  # then closed
                sock.close()
            # Another peer is still served, and its connection logged as ever.
            other = connect(port, "127.0.0.2")
            authenticate(other)
            other.close()
            refused = server.metrics.value("trunkline_gateway_clients_disconnected_total",
                                           {"reason": "overloaded"})
            during = list(logs)
        finally:
            for sock in held:
                sock.close()
            gw.stop()
            structlog.configure(**config_before)
    assert refused == FLOOD and server.stats["disconnected_by_reason"]["overloaded"] == FLOOD
    # (The emulated card's own lines, such as libpri_error, are not the gateway's.)
    ours = [entry for entry in during if entry["event"].startswith("gateway.")]
    events = [entry["event"] for entry in ours]
    assert events.count("gateway.client_refused") == CUT_LOG_BURST
    # The rest is the other peer's connection: connected, authenticated (disconnected
    # perhaps not yet when the lines were taken).
    others = [entry for entry in ours if entry["event"] != "gateway.client_refused"]
    assert 2 <= len(others) <= 3, events
    assert all(entry["peer"].startswith("127.0.0.2:") for entry in others), others
    # At shutdown the rest are summed up in one line: the log still accounts for all.
    summaries = [e for e in logs if e["event"] == "gateway.warnings_suppressed"]
    assert [(s["peer"], s["reason"], s["count"]) for s in summaries] == [
        ("127.0.0.1", "overloaded", FLOOD - CUT_LOG_BURST)]
    assert summaries[0]["summary"].startswith(f"{FLOOD - CUT_LOG_BURST} more overloaded "
                                              "connections from 127.0.0.1 in the last")
