"""A second `trunkline gateway serve` on a live gateway's socket leaves that socket alone.

It used to exit with "another server is listening" and then, in its cleanup, unlink the
socket path: the first gateway kept the card and nobody could reach it any more."""

from __future__ import annotations

import subprocess
import sys

from gw_service_kit import PLAN, RunningGateway

from trunkline.gateway.rpc.client import GatewayClient


def test_second_gateway_on_the_same_socket_fails_and_the_first_still_answers():
    with RunningGateway() as first:
        before = first.config.socket.lstat().st_ino
        second = subprocess.run(
            [sys.executable, "-m", "trunkline", "gateway", "serve", "--socket",
             str(first.socket), "--network", str(PLAN)],
            capture_output=True, text=True, timeout=120)
        assert second.returncode != 0
        assert "another server is listening" in second.stderr, second.stderr
        assert first.config.socket.lstat().st_ino == before
        with GatewayClient(first.socket) as client:
            assert client.call("system.info")["channels"] == 140
