"""The WebRTC media worker killed mid-call (a real process, SIGKILL): every position it
served is reported lost (``worker_lost``, what the dialer's lost-agent policy acts on), the
positions' calls stay up for ``[webrtc] reconnect`` s, a new worker is started, and the
pages' new offers are answered by it with audio flowing again. A hung worker costs the
tick dropped frames, never a wait."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "gateway_service"))

from gw_service_kit import PLAN, wait_for, wait_until
from webrtc_client_kit import connect

from trunkline.clock import RealClock
from trunkline.gateway.config import GatewayConfig
from trunkline.gateway.rpc.client import GatewayClient
from trunkline.gateway.testing import ServiceThread
from trunkline.gateway.webrtc.settings import SoftphoneSettings
from trunkline.gateway.webrtc.worker_link import MediaWorker, WorkerLost


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    folder = tmp_path_factory.mktemp("webrtc-worker")
    config = GatewayConfig()
    config.socket = folder / "gw.sock"
    config.network = PLAN
    config.shutdown_grace = 1.0
    config.webrtc = SoftphoneSettings(positions=3, reconnect=20.0, media_worker=True)
    gw = ServiceThread(config, clock=RealClock()).start()
    yield gw
    gw.stop()


def state_of(call: int, state: str):
    return lambda e: e.get("event") == "webrtc.state" and e.get("call") == call \
        and e.get("state") == state


def test_a_killed_worker_loses_every_position_then_a_new_one_serves_the_pages(gateway):
    softphone = gateway.service.softphone
    with GatewayClient(gateway.socket) as client:
        client.subscribe()
        calls = [client.call("webrtc.open", label=f"agent-{n}")["call"] for n in range(2)]
        pages = [connect(client, call) for call in calls]
        try:
            for call in calls:
                wait_for(client, state_of(call, "connected"), timeout=20)
            wait_until(lambda: all(client.call("webrtc.status", call=c)["received"] > 10
                                   for c in calls), "packets through the worker", timeout=10)
            worker = softphone._worker
            old_pid = worker.process.pid
            os.kill(old_pid, signal.SIGKILL)

            for call in calls:
                lost = wait_for(client, state_of(call, "lost"), timeout=10)[-1]
                assert lost["reason"] == "worker_lost"
            listed = {c["call"] for c in client.call("calls.list")}
            assert set(calls) <= listed                      # kept for reconnect s
            assert all(client.call("webrtc.status", call=c)["peer"] == "closed"
                       for c in calls)
            wait_until(lambda: worker.process.pid != old_pid, "a new worker", timeout=10)
            assert worker.restarts == 1

            # The pages offer again (softphone.js does on its peer's failure).
            for page in pages:
                page.close()
            pages = [connect(client, call) for call in calls]
            for call in calls:
                wait_for(client, state_of(call, "connected"), timeout=20)
            before = client.call("webrtc.status", call=calls[0])["received"]
            time.sleep(0.5)
            assert client.call("webrtc.status", call=calls[0])["received"] > before
            assert client.call("webrtc.status", call=calls[1])["peer"] == "connected"
        finally:
            for call in calls:
                client.call("call.hangup", call=call)
            for page in pages:
                page.close()


def test_a_worker_that_stops_reading_costs_the_tick_dropped_frames_not_a_wait():
    """A worker process that never reads its sockets (hung): the tick's sends and the
    control requests return at once, the frames dropped and counted, the requests failed
    once the control socket is full."""
    hung = [sys.executable, "-c", "import time; time.sleep(60)"]
    worker = MediaWorker(command=hung).start()
    try:
        frames = [(peer, bytes(160)) for peer in range(1, 51)]
        for _ in range(200):                 # 4 s of ticks at 50 positions
            worker.send_frames(frames)
        assert worker.dropped_batches > 0
        assert worker.receive() == 0
        sent = 0
        future = worker.request("stats", peer=1, padding="x" * 1000)
        while not future.done() and sent < 100_000:
            sent += 1
            future = worker.request("stats", peer=1, padding="x" * 1000)
        assert isinstance(future.exception(), WorkerLost) and sent > 10
    finally:
        worker.stop(grace=0)                # it would never exit by itself
        assert worker.restarts == 0
