"""The gateway as an operator runs it: `trunkline gateway serve` and `trunkline gw ...`."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from gw_service_kit import wait_until

PLAN = Path(__file__).resolve().parents[2] / "hil-tests" / "network.toml"


def serving(server: subprocess.Popen, sock: Path) -> bool:
    """Whether the gateway process accepts connections on ``sock`` (fails at once if the
    process died)."""
    assert server.poll() is None, server.stderr.read()
    with socket.socket(socket.AF_UNIX) as probe:
        try:
            probe.connect(str(sock))
        except OSError:
            return False
    return True


@pytest.mark.slow
def test_serve_then_client_commands_then_graceful_stop():
    sock = Path(tempfile.mkdtemp(prefix="tl-cli-", dir="/tmp")) / "gw.sock"
    server = subprocess.Popen(
        [sys.executable, "-m", "trunkline", "gateway", "serve", "--socket", str(sock),
         "--network", str(PLAN), "--speed", "4"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_until(lambda: serving(server, sock), "the gateway coming up", timeout=60)

        def gw(*args: str) -> subprocess.CompletedProcess:
            return subprocess.run([sys.executable, "-m", "trunkline", "gw", "--socket",
                                   str(sock), *args], capture_output=True, text=True,
                                  timeout=120)

        channels = gw("channels", "--json")
        assert channels.returncode == 0, channels.stderr
        assert len(json.loads(channels.stdout)) == 140
        # PRI: the outcome comes from Q.931 (cause 17), not from audio timing, so a
        # loaded machine running this 4x-speed gateway late cannot change it.
        call = gw("call", "13700000001", "--group", "pri")
        assert call.returncode == 0, call.stderr
        events = [json.loads(line) for line in call.stdout.splitlines()]
        assert events[0]["event"] == "originated"
        assert events[-1]["state"] == "hungup" and events[-1]["outcome"] == "busy"
    finally:
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=60) == 0


def test_client_without_a_gateway_gets_a_clear_error(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "trunkline", "gw", "--socket",
                           str(tmp_path / "none.sock"), "channels"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert "no gateway socket" in proc.stderr and "trunkline gateway serve" in proc.stderr


def test_sighup_reloads_groups_without_touching_calls(tmp_path):
    sock = Path(tempfile.mkdtemp(prefix="tl-hup-", dir="/tmp")) / "gw.sock"
    config = tmp_path / "gw.toml"
    config.write_text(f'[card]\nnetwork = "{PLAN}"\n[server]\nsocket = "{sock}"\n'
                      '[[group]]\nname = "outbound"\nchannels = ["fxo"]\n')
    server = subprocess.Popen(
        [sys.executable, "-m", "trunkline", "gateway", "serve", "--config", str(config),
         "--speed", "4"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_until(lambda: serving(server, sock), "the gateway coming up", timeout=60)
        from trunkline.gateway.rpc.client import GatewayClient

        with GatewayClient(str(sock)) as gw:
            assert set(gw.call("groups.list")) == {"outbound"}
            config.write_text(config.read_text() + '[[group]]\nname = "agents"\n'
                              'channels = ["fxs"]\n')
            server.send_signal(signal.SIGHUP)
            wait_until(lambda: set(gw.call("groups.list")) == {"outbound", "agents"},
                       "SIGHUP reloading the groups", timeout=20)
            assert gw.call("system.info")["backend"] == "emulated"  # same service
    finally:
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=60) == 0
