"""A client that takes no byte of what it is sent is cut after ``stall_timeout`` with the
reason ``write_stalled`` (issue 15, item 4: "a slow or greedy client is cut with a
reason"). Before, one that sent a few large requests and never read was only paused: it
held its slot, its queue and the socket buffers for ever, and was never counted, since
its queue never overflowed (the gateway stops reading it once replies wait)."""

from __future__ import annotations

import asyncio
import socket

import msgpack
import pytest
from gw_helpers import RawConnection, frame_bytes, run, serving

from trunkline.errors import ConfigError
from trunkline.gateway.rpc.client import AsyncGatewayClient
from trunkline.gateway.rpc.server import GatewayServer


def test_a_client_that_never_reads_is_cut_after_the_stall_timeout() -> None:
    async def main():
        async with serving(stall_timeout=0.5) as server:
            silent = await RawConnection.unix(server.unix_path)
            ping = frame_bytes(msgpack.packb({"id": 1, "method": "ping",
                                              "params": {"data": "x" * (512 << 10)}}))
            sock = silent.writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            try:
                for _ in range(8):      # 4 MiB of replies it will not read
                    silent.writer.write(ping)
                    await silent.writer.drain()
            except ConnectionError:
                pass                    # cut while still writing: the gateway stopped
                #                         reading it once its replies waited
            for _ in range(100):        # 5 s at most
                if server.stats["disconnected_by_reason"].get("write_stalled"):
                    break
                await asyncio.sleep(0.05)
            assert server.stats["disconnected_by_reason"] == {"write_stalled": 1}
            other = await AsyncGatewayClient.connect(str(server.unix_path))
            assert await other.ping() == "pong"        # the others carry on
            await other.close()
            value = server.metrics.value("trunkline_gateway_clients_disconnected_total",
                                         {"reason": "write_stalled"})
            assert value == 1
            silent.writer.transport.abort()

    run(main())


def test_a_client_that_reads_slowly_but_reads_is_not_cut() -> None:
    async def main():
        async with serving(stall_timeout=0.5) as server:
            gw = await AsyncGatewayClient.connect(str(server.unix_path))
            for _ in range(3):          # answered, with pauses longer than the timeout
                assert await gw.ping() == "pong"
                await asyncio.sleep(0.7)
            assert server.stats["disconnected_by_reason"] == {}
            await gw.close()

    run(main())


@pytest.mark.parametrize("bad", [0, -1.0, float("nan"), float("inf")])
def test_a_bad_stall_timeout_is_refused(bad: float) -> None:
    with pytest.raises(ConfigError, match="stall_timeout"):
        GatewayServer(unix_path="/tmp/x.sock", stall_timeout=bad)
