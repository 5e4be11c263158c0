"""`trunkline gateway serve` says "serving" only once its socket is bound and answering.

A second gateway started on a running one's socket printed "trunkline gateway: serving
... on SOCKET" and then failed with "another server is listening on this socket": an
operator (or a script waiting for that line) was told it served when it never did.
"""

from __future__ import annotations

import select
import signal
import subprocess
import sys
import time

from gw_service_kit import RunningGateway

from trunkline.gateway.config import GatewayConfig
from trunkline.gateway.rpc.client import GatewayClient

#: A card of two FXS ports: the processes under test build it in a fraction of the
#: default card's time (what is tested is the socket, not the card).
TINY_CARD = 'spec = "1.0"\nzone = "cn"\n[[span]]\nkind = "fxs"\nports = 2\n'


def _tiny_card(folder) -> str:
    card = folder / "tiny-card.toml"
    card.write_text(TINY_CARD, encoding="utf-8")
    return f"emulated:{card}"


def test_a_second_gateway_on_a_live_socket_never_says_serving(tmp_path) -> None:
    with RunningGateway(GatewayConfig(card_url=_tiny_card(tmp_path))) as first:
        second = subprocess.run(
            [sys.executable, "-m", "trunkline", "gateway", "serve", "--socket",
             str(first.socket), "--card", _tiny_card(tmp_path)],
            capture_output=True, text=True, timeout=120)
    assert second.returncode == 1
    assert "another server is listening" in second.stderr, second.stderr
    assert "serving" not in second.stdout, second.stdout


def test_serving_is_said_when_the_socket_answers(tmp_path) -> None:
    sock = tmp_path / "gw.sock"
    server = subprocess.Popen(
        [sys.executable, "-m", "trunkline", "gateway", "serve", "--socket", str(sock),
         "--card", _tiny_card(tmp_path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 90
        line = ""
        while not line and time.monotonic() < deadline and server.poll() is None:
            if select.select([server.stdout], [], [], 0.5)[0]:
                line = server.stdout.readline()
        assert line.startswith("trunkline gateway: serving "), (line, server.poll())
        assert line.rstrip().endswith(f" on {sock}")
        with GatewayClient(str(sock)) as client:  # at once: no wait after the line
            assert client.call("system.info")["channels"] == 2
    finally:
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=60) == 0
