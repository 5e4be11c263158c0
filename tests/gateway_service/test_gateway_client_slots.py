"""Client slots cannot be exhausted by one peer (issue 15, item 4; red-team 1's class).

Before, any client that connected and sent nothing kept one of ``max_clients`` slots for
ever, so 256 idle connections from one process locked every other client out. The
policy now (docs/gateway.md, "Client slots"): one peer (a Unix user id, a TCP address)
holds at most ``max_clients_per_peer``; the last ``admin_reserved_slots`` are for
admin-role connections only; an unauthenticated TCP connection is cut after
``auth_timeout``; an idle authenticated client keeps its slot (monitoring clients are
quiet by nature). All of it set in ``[server]`` and checked like every other key."""

from __future__ import annotations

import socket
import time

import pytest
from gw_service_kit import RunningGateway, next_frame

from trunkline.errors import ConfigError
from trunkline.gateway.config import GatewayConfig, config_from_string
from trunkline.gateway.rpc.client import GatewayClient
from trunkline.gateway.rpc.protocol import encode_frame

MONITOR, ADMIN = "m" * 20, "a" * 20


def connect(port: int, source: str = "127.0.0.1") -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5,
                                    source_address=(source, 0))
    return sock


def authenticate(sock: socket.socket, token: str) -> dict:
    sock.sendall(encode_frame({"id": 1, "method": "auth", "params": {"token": token}}))
    reply = next_frame(sock)
    assert reply is not None and "result" in reply, reply
    return reply["result"]


def gateway(**server: object) -> RunningGateway:
    config = GatewayConfig()
    config.tcp = ("127.0.0.1", 0)
    config.tokens = {MONITOR: "monitor", ADMIN: "admin"}
    for key, value in server.items():
        setattr(config, key, value)
    return RunningGateway(config).start()


def test_one_peer_cannot_take_every_slot_and_silent_strangers_are_cut() -> None:
    gw = gateway(max_clients=8, max_clients_per_peer=2, admin_reserved_slots=1,
                 auth_timeout=0.5)
    try:
        port = gw.service.server.tcp_address[1]
        first, second = connect(port), connect(port)   # 127.0.0.1: its two slots
        third = connect(port)
        notice = next_frame(third)
        assert notice is not None and notice["reason"] == "overloaded"
        assert "too many connections from 127.0.0.1 (limit 2 per peer" in notice["message"]
        # Another address is a different peer: it gets in and works.
        other = connect(port, "127.0.0.2")
        assert authenticate(other, MONITOR)["role"] == "monitor"
        other.close()
        # The two that never authenticated are cut with a reason, freeing the slots...
        for sock in (first, second):
            notice = next_frame(sock, timeout=3)
            assert notice is not None and notice["reason"] == "auth_timeout"
            sock.close()
        third.close()
        # ...while an authenticated client may stay quiet as long as it likes.
        quiet = connect(port)
        assert authenticate(quiet, MONITOR)["role"] == "monitor"
        time.sleep(1.0)   # twice the auth deadline
        quiet.sendall(encode_frame({"id": 2, "method": "ping", "params": {}}))
        assert next_frame(quiet) == {"id": 2, "result": "pong"}
        quiet.close()
    finally:
        gw.stop()


def test_the_last_slots_are_kept_for_admin_connections() -> None:
    gw = gateway(max_clients=4, admin_reserved_slots=2)
    try:
        port = gw.service.server.tcp_address[1]
        monitors = [connect(port, f"127.0.0.{n}") for n in (1, 2)]
        for sock in monitors:
            authenticate(sock, MONITOR)
        # A TCP client whose host vanishes gives its slot back: the kernel probes it.
        def keepalive() -> list[tuple[int, int]]:
            return [(s._transport.get_extra_info("socket").getsockopt(
                        socket.SOL_SOCKET, socket.SO_KEEPALIVE),
                     s._transport.get_extra_info("socket").getsockopt(
                        socket.IPPROTO_TCP, socket.TCP_KEEPIDLE))
                    for s in gw.service.server.sessions if s.transport_kind == "tcp"]
        assert gw.on_engine(keepalive) == [(1, 60), (1, 60)]
        refused = connect(port, "127.0.0.3")   # not (yet) admin: a general slot is needed
        notice = next_frame(refused)
        assert notice is not None and notice["reason"] == "overloaded"
        assert "the last 2 are kept for admin connections" in notice["message"]
        refused.close()
        # The Unix socket's clients are admin: the operator still gets in, twice.
        with GatewayClient(gw.socket) as admin, GatewayClient(gw.socket) as admin2:
            assert admin.call("ping") == "pong" and admin2.call("ping") == "pong"
            assert len(gw.service.server.sessions) == 4
        for sock in monitors:
            sock.close()
    finally:
        gw.stop()


@pytest.mark.parametrize(("text", "match"), [
    ('[server]\nmax_clients_per_peer = "5"\n',
     r":2: \[server\] max_clients_per_peer: expected a whole number >= 1, got the string"),
    ("[server]\nmax_clients = 0\n",
     r":2: \[server\] max_clients: expected a whole number 1..100000, got the number 0"),
    ("[server]\nauth_timeout = nan\n",
     r":2: \[server\] auth_timeout: expected seconds, a finite number 0.1..300, got"),
    ("[server]\ndecode_share = 2\n",
     r":2: \[server\] decode_share: expected a share of the loop, a number 0.01..1, got "
     "the number 2"),
    ("[server]\nadmin_reserved_slots = true\n",
     r":2: \[server\] admin_reserved_slots: expected a whole number >= 0, got the boolean"),
    ("[server]\nmax_clients = 10\nadmin_reserved_slots = 10\n",
     r":3: \[server\] admin_reserved_slots: expected admin_reserved_slots below "
     r"max_clients \(10\), got 10 reserved"),
])
def test_bad_slot_settings_name_file_line_key_expected_and_got(text: str, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        config_from_string(text)


def test_slot_settings_are_read() -> None:
    config = config_from_string("[server]\nmax_clients = 32\nmax_clients_per_peer = 8\n"
                                "admin_reserved_slots = 2\nauth_timeout = 3\n"
                                "decode_share = 0.2\n")
    assert (config.max_clients, config.max_clients_per_peer, config.admin_reserved_slots,
            config.auth_timeout, config.decode_share) == (32, 8, 2, 3.0, 0.2)
    assert GatewayConfig().max_clients_per_peer == 64
