"""TLS over TCP with a self-signed certificate, the blocking client, and /metrics."""

from __future__ import annotations

import asyncio
import ssl
import urllib.request

import pytest
from gw_helpers import ServerThread, run, self_signed_cert, serving, short_dir, tcp_url

from trunkline.gateway.metrics import GatewayMetrics
from trunkline.gateway.rpc.client import AsyncGatewayClient, GatewayClient, parse_address
from trunkline.gateway.rpc.errors import CallTimeout, ConnectionClosed, ErrorCode, RpcError


@pytest.fixture(scope="module")
def certificate():
    with short_dir() as folder:
        pair = self_signed_cert(folder)
        if pair is None:
            pytest.skip("neither the cryptography package nor the openssl command is here")
        yield pair


def test_tls_with_a_self_signed_certificate(certificate):
    cert, key = certificate

    async def main():
        async with serving(tls=(str(cert), str(key))) as server:
            url = tcp_url(server, "tls")
            gw = await AsyncGatewayClient.connect(url, tls=str(cert), token="control-token")
            who = await gw.call("whoami")
            assert who["kind"] == "tls" and who["role"] == "control"
            await gw.subscribe(["x"])
            server.publish({"event": "x", "secret": True})
            assert await gw.next_event(5) == {"event": "x", "secret": True}
            await gw.close()
            # Without our CA the certificate is refused.
            with pytest.raises(ssl.SSLCertVerificationError):
                await AsyncGatewayClient.connect(url, token="control-token")
            # A plain TCP client gets nothing useful from a TLS port.
            with pytest.raises((ConnectionClosed, CallTimeout, RpcError)):
                await AsyncGatewayClient.connect(tcp_url(server), token="control-token",
                                                 timeout=2)
            # Auth is still required under TLS.
            bare = await AsyncGatewayClient.connect(url, tls=str(cert))
            with pytest.raises(RpcError, match="not authenticated"):
                await bare.call("whoami")
            await bare.close()

    run(main())


def test_blocking_client_calls_subscribes_and_reads_events():
    with ServerThread() as live:
        with GatewayClient(live.path) as gw:
            assert gw.call("echo", value={"a": [1, 2]}) == {"a": [1, 2]}
            assert gw.request("slow", {"seconds": 0.01}) == 0.01
            sid = gw.subscribe(["call.*"], span=1)
            live.do(live.server.publish, {"event": "call.state", "span": 1, "call": 4})
            live.do(live.server.publish, {"event": "call.state", "span": 2, "call": 5})
            assert gw.next_event(timeout=5)["call"] == 4
            with pytest.raises(TimeoutError):
                gw.next_event(timeout=0.05)
            gw.unsubscribe(sid)
            with pytest.raises(RpcError) as info:
                gw.call("missing", call=17)
            assert info.value.code is ErrorCode.NOT_FOUND and info.value.message == "no call 17"
            with pytest.raises(CallTimeout, match="no reply to 'hang'"):
                gw.request("hang", timeout=0.1)
            assert gw.call("ping") == "pong"  # a timed-out call leaves the connection usable
        with GatewayClient(f"tcp://127.0.0.1:{live.server.tcp_address[1]}",
                           token="monitor-token") as tcp:
            assert tcp.role == "monitor"
            assert tcp.call("whoami")["kind"] == "tcp"
        gw2 = GatewayClient(live.path).connect()
        assert gw2.call("ping") == "pong"  # accepted by the server, not just the kernel
        live.call(live.server.stop(grace=1))
        assert list(gw2.events(timeout=5))[-1]["reason"] == "server_shutdown"
        assert gw2.disconnect_reason == "server_shutdown"
        with pytest.raises(ConnectionClosed):
            gw2.call("ping")
        gw2.close()
        gw2.close()


def test_client_address_parsing_and_connect_failures():
    assert parse_address("/run/trunkline/gateway.sock") == ("unix", "/run/trunkline/gateway.sock",
                                                           None)
    assert parse_address("tls://gw1:7411") == ("tls", "gw1", 7411)
    assert parse_address(("::1", 7411)) == ("tcp", "::1", 7411)
    assert parse_address("tcp://[::1]:7411") == ("tcp", "::1", 7411)
    with pytest.raises(ValueError, match="must be tcp://HOST:PORT"):
        parse_address("tcp://nohost")
    with pytest.raises(ValueError, match="unknown scheme"):
        parse_address("http://x:1")
    with short_dir() as folder, pytest.raises(OSError):
        GatewayClient(str(folder / "absent.sock")).connect()


def test_metrics_endpoint_serves_gateway_and_engine_metrics():
    async def main():
        metrics = GatewayMetrics()
        async with serving(metrics=metrics, metrics_port=0) as server:
            gw = await AsyncGatewayClient.connect(str(server.unix_path))
            await gw.ping()
            with pytest.raises(RpcError):
                await gw.call("nope")
            metrics.set_channel_states({"idle": 28, "ringing": 2})
            metrics.set_channel_states({"idle": 30})
            metrics.call_finished("human")
            metrics.observe_tick(0.004)
            metrics.observe_tick(0.031, overrun=True)
            metrics.observe_tick(0.004, card_overruns=3)  # quick, but frames were lost
            metrics.observe_tick(0.045, overrun=True, overworked=True)  # its own work
            url = server.metrics_endpoint.url
            assert url.startswith("http://127.0.0.1:")
            loop = asyncio.get_running_loop()
            text = await loop.run_in_executor(
                None, lambda: urllib.request.urlopen(url, timeout=5).read().decode())
            expected = [
                'trunkline_gateway_channels{state="idle"} 30.0',
                'trunkline_gateway_channels{state="ringing"} 0.0',
                'trunkline_gateway_calls_total{outcome="human"} 1.0',
                "trunkline_gateway_tick_overruns_total 3.0",
                "trunkline_gateway_tick_overruns_worked_total 1.0",
                "trunkline_gateway_card_overruns_total 3.0",
                "trunkline_gateway_tick_seconds_count 4.0",
                # frames counted (issue 15, red-team 13: they stayed 0): 2 requests in,
                # 2 replies out
                "trunkline_gateway_frames_in_total 2.0",
                "trunkline_gateway_frames_out_total 2.0",
                'trunkline_gateway_requests_total{method="ping",outcome="ok"} 1.0',
                'trunkline_gateway_requests_total{method="<unknown>",outcome="unknown_method"}'
                " 1.0",
                'trunkline_gateway_clients{transport="unix"} 1.0',
                "trunkline_gateway_client_queue_depth_max 0.0",
            ]
            for line in expected:
                assert line in text, line
            await gw.close()
        assert server.metrics_endpoint is None  # closed with the server

    run(main())
