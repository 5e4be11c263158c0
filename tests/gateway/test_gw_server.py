"""The server over real sockets: roles, bad input, many clients, subscriptions, overflow,
graceful stop. Each test asserts what clients see and what the server counts."""

from __future__ import annotations

import asyncio
import os
import socket
import stat

import msgpack
import pytest
from gw_helpers import (
    RawConnection,
    frame_bytes,
    make_registry,
    run,
    serving,
    short_dir,
    tcp_url,
)

from trunkline.errors import ConfigError
from trunkline.gateway.rpc.client import AsyncGatewayClient
from trunkline.gateway.rpc.errors import ConnectionClosed, ErrorCode, GatewayError, RpcError
from trunkline.gateway.rpc.protocol import HEADER
from trunkline.gateway.rpc.server import GatewayServer


async def expect_error(coro, code: ErrorCode, match: str = "") -> RpcError:
    with pytest.raises(RpcError, match=match) as info:
        await coro
    assert info.value.code is code, info.value
    return info.value


# -- sockets, roles and auth ----------------------------------------------------------------

def test_unix_socket_has_mode_0660_and_clients_get_unix_role():
    async def main():
        async with serving() as server:
            mode = os.stat(server.unix_path).st_mode
            assert stat.S_ISSOCK(mode) and stat.S_IMODE(mode) == 0o660
            async with await AsyncGatewayClient.connect(str(server.unix_path)) as gw:
                who = await gw.call("whoami")
                assert who["role"] == "admin" and who["kind"] == "unix"
                assert who["peer"].startswith("unix")
                assert await gw.call("admin.reset") == "reset"
                assert await gw.ping() == "pong"
                assert await gw.ping({"n": [1, 2]}) == {"n": [1, 2]}
        assert not server.unix_path.exists()  # removed on stop

    run(main())


def test_unix_role_option_and_auth_on_unix_changes_role():
    async def main():
        async with serving(unix_role="monitor") as server:
            gw = await AsyncGatewayClient.connect(str(server.unix_path))
            await expect_error(gw.call("call.originate", number="1"), ErrorCode.FORBIDDEN,
                               "needs role control; this connection has role monitor")
            assert await gw.auth("control-token") == "control"
            result = await gw.call("call.originate", number="5551234")
            assert result["number"] == "5551234"
            await gw.close()

    run(main())


def test_tcp_requires_auth_first_and_tokens_carry_roles():
    async def main():
        async with serving() as server:
            url = tcp_url(server)
            gw = await AsyncGatewayClient.connect(url)
            await expect_error(gw.call("ping"), ErrorCode.UNAUTHORIZED,
                               "not authenticated; send .*'auth'")
            await expect_error(gw.call("auth", token="wrong"), ErrorCode.UNAUTHORIZED,
                               "unknown token")
            assert await gw.auth("monitor-token") == "monitor"
            assert (await gw.call("whoami"))["kind"] == "tcp"
            await gw.subscribe()  # monitors read and subscribe
            await expect_error(gw.call("call.originate", number="1"), ErrorCode.FORBIDDEN,
                               "'call.originate' needs role control")
            await gw.close()

            control = await AsyncGatewayClient.connect(url, token="control-token")
            assert (await control.call("call.originate", number="1"))["call"] == 1
            await expect_error(control.call("admin.reset"), ErrorCode.FORBIDDEN,
                               "needs role admin; this connection has role control")
            await control.close()

            admin = await AsyncGatewayClient.connect(url, token="admin-token")
            assert await admin.call("admin.reset") == "reset"
            names = {m["name"] for m in await admin.call("methods")}
            assert {"auth", "ping", "subscribe", "admin.reset", "call.originate"} <= names
            await admin.close()
            with pytest.raises(RpcError, match="unknown token"):
                await AsyncGatewayClient.connect(url, token="nope")

    run(main())


def test_before_auth_a_tcp_client_may_send_an_auth_request_and_no_more():
    """Nothing before auth but auth (issue 15, red-team 3: a 1 MiB frame of empty maps
    was decoded before the token was checked): an unauthenticated TCP connection's
    frames are limited to an auth request's size, refused by their length, undecoded."""
    async def main():
        async with serving() as server:
            raw = await RawConnection.tcp(server)
            big = msgpack.packb({"id": 1, "method": "auth",
                                 "params": {"token": "x", "pad": [{}] * 200_000}})
            await raw.send(frame_bytes(big))
            notice = await raw.recv()
            assert notice["event"] == "disconnect" and notice["reason"] == "frame_too_large"
            assert "4096" in notice["message"]
            await raw.close()
            ok = await AsyncGatewayClient.connect(tcp_url(server), token="monitor-token")
            assert await ok.ping("y" * 100_000) == "y" * 100_000  # authenticated: full size
            await ok.close()

    run(main())


def test_repeated_bad_tokens_disconnect_and_silent_tcp_clients_time_out():
    async def main():
        async with serving(auth_timeout=0.3) as server:
            raw = await RawConnection.tcp(server)
            for i in range(3):
                reply = await raw.request(i, "auth", token="guess")
                assert reply["error"]["code"] == ErrorCode.UNAUTHORIZED
            assert (await raw.recv())["reason"] == "auth_failed"
            assert await raw.recv() is None
            await raw.close()

            idle = await RawConnection.tcp(server)
            notice = await idle.recv()
            assert notice == {"event": "disconnect", "reason": "auth_timeout",
                              "message": "no successful 'auth' within 0.3 s"}
            assert await idle.recv() is None
            await idle.close()
            reasons = server.stats["disconnected_by_reason"]
            assert reasons["auth_failed"] == 1 and reasons["auth_timeout"] == 1

    run(main())


def test_configuration_errors_are_caught_at_construction():
    with pytest.raises(ConfigError, match="TCP needs at least one token"):
        GatewayServer(make_registry(), unix_path=None, tcp=("127.0.0.1", 0))
    with pytest.raises(ConfigError, match="TLS is only for TCP"):
        GatewayServer(make_registry(), unix_path="/tmp/x", tls=("a", "b"))
    with pytest.raises(ConfigError, match="unknown role 'root'"):
        GatewayServer(unix_path="/tmp/x", tokens={"t": "root"})
    registry = make_registry()
    registry.register("ping", lambda s: None)
    with pytest.raises(ConfigError, match="built-in method"):
        GatewayServer(registry, unix_path="/tmp/x")


def test_unix_path_handling_stale_live_and_foreign_files():
    async def main():
        with short_dir() as folder:
            path = folder / "sub" / "gw.sock"
            stale = socket.socket(socket.AF_UNIX)
            path.parent.mkdir()
            stale.bind(str(path))
            stale.close()  # a socket file left by a crashed gateway
            first = GatewayServer(make_registry(), unix_path=path)
            await first.start()
            second = GatewayServer(make_registry(), unix_path=path)
            with pytest.raises(GatewayError, match="another server is listening"):
                await second.start()
            await first.stop()
            other = folder / "file"
            other.write_text("not a socket")
            with pytest.raises(GatewayError, match="is not a socket"):
                await GatewayServer(unix_path=other).start()
            assert other.read_text() == "not a socket"

    run(main())


# -- bad input ---------------------------------------------------------------------------------

def test_request_errors_get_replies_and_the_connection_carries_on():
    async def main():
        async with serving() as server:
            raw = await RawConnection.unix(server.unix_path)
            reply = await raw.request(1, "no.such")
            assert reply["id"] == 1 and reply["error"]["code"] == ErrorCode.UNKNOWN_METHOD
            assert reply["error"]["name"] == "unknown_method"
            assert "no.such" in reply["error"]["message"]

            reply = await raw.request(2, "call.originate", number=5)
            assert reply["error"]["code"] == ErrorCode.INVALID_PARAMS
            assert "'number' must be string, got integer 5" in reply["error"]["message"]

            await raw.send(frame_bytes(msgpack.packb([1, 2, 3])))  # not a map
            reply = await raw.recv()
            assert reply["id"] is None and reply["error"]["code"] == ErrorCode.INVALID_REQUEST

            await raw.send({"id": 3, "method": "ping", "bogus": 1})
            reply = await raw.recv()
            assert reply["id"] == 3 and "unknown key" in reply["error"]["message"]

            await raw.send({"method": "ping"})
            assert "no 'id'" in (await raw.recv())["error"]["message"]

            reply = await raw.request(4, "boom")
            assert reply["error"]["code"] == ErrorCode.INTERNAL
            assert "internal error in boom: ZeroDivisionError: deliberate" in \
                reply["error"]["message"]
            assert (await raw.request(5, "aboom"))["error"]["code"] == ErrorCode.INTERNAL
            reply = await raw.request(6, "missing", call=17)
            assert reply["error"] == {"code": 301, "name": "not_found", "message": "no call 17"}
            reply = await raw.request(7, "busy")
            assert reply["error"]["code"] == ErrorCode.CONFLICT
            assert "state is RINGING_OUT" in reply["error"]["message"]
            reply = await raw.request(8, "unencodable")
            assert "msgpack cannot carry" in reply["error"]["message"]
            reply = await raw.request(9, "blob", size=2 << 20)
            assert reply["error"]["code"] == ErrorCode.FRAME_TOO_LARGE

            assert await raw.request("last", "ping") == {"id": "last", "result": "pong"}
            errors = server.stats["errors_by_code"]
            assert errors["unknown_method"] == 1 and errors["internal"] == 3
            await raw.close()

    run(main())


@pytest.mark.parametrize(("data", "reason"), [
    (frame_bytes(b"\xc1"), "parse_error"),
    (HEADER.pack(50 << 20), "frame_too_large"),
    (frame_bytes(b"\x82\xa1a"), "parse_error"),  # a map cut short inside its frame
])
def test_unparseable_frames_close_only_that_connection_with_a_reason(data, reason):
    async def main():
        async with serving() as server:
            bystander = await AsyncGatewayClient.connect(str(server.unix_path))
            await bystander.subscribe()
            raw = await RawConnection.unix(server.unix_path)
            await raw.send(data)
            frames = await raw.recv_until_closed()
            assert frames[-1]["event"] == "disconnect" and frames[-1]["reason"] == reason
            assert frames[-1]["message"]
            await raw.close()
            assert await bystander.ping() == "pong"
            server.publish({"event": "still.here"})
            assert (await bystander.next_event(5))["event"] == "still.here"
            assert server.stats["disconnected_by_reason"][reason] == 1
            await bystander.close()

    run(main())


def test_truncated_stream_is_counted_and_replies_before_it_are_delivered():
    async def main():
        async with serving() as server:
            raw = await RawConnection.unix(server.unix_path)
            await raw.send(b"".join([
                frame_bytes(msgpack.packb({"id": 1, "method": "ping"})),
                frame_bytes(msgpack.packb({"id": 2, "method": "ping"}))[:-3],
            ]))
            raw.writer.write_eof()
            frames = await raw.recv_until_closed()
            assert frames == [{"id": 1, "result": "pong"}]
            await raw.close()
            # Counted when the stream ended, before the server closed it on us.
            assert server.stats["errors_by_code"]["truncated"] == 1

    run(main())


def test_too_many_clients_and_too_many_requests_in_flight_are_overloaded():
    async def main():
        async with serving(max_clients=2, max_inflight=2) as server:
            path = str(server.unix_path)
            a = await AsyncGatewayClient.connect(path)
            b = await AsyncGatewayClient.connect(path)
            c = await RawConnection.unix(path)
            assert (await c.recv())["reason"] == "overloaded"
            assert await c.recv() is None
            await c.close()
            hanging = [asyncio.ensure_future(a.call("hang")) for _ in range(2)]
            for _ in hanging:  # both are in flight on the server
                await server.registry.started["hang"].acquire()
            await expect_error(a.call("slow"), ErrorCode.OVERLOADED, "2 requests already")
            assert await a.ping() == "pong"  # inline methods are not limited
            for task in hanging:
                task.cancel()
            await a.close()
            await b.close()

    run(main())


def test_half_closed_clients_are_answered_then_closed_and_free_their_slot():
    """A client that sends a request, shuts down its sending side, reads the reply and
    closes must not leave a session counting against max_clients (issue 15, red-team 1:
    after 256 of them nobody could connect): the server closes once the reply is out."""
    async def main():
        async with serving(max_clients=2) as server:
            path = str(server.unix_path)
            body = msgpack.packb({"id": 1, "method": "slow", "params": {"seconds": 0.01}})
            for _ in range(6):  # three times the slots
                reader, writer = await asyncio.open_unix_connection(path)
                writer.write(frame_bytes(body))
                writer.write_eof()
                data = await asyncio.wait_for(reader.read(), timeout=5)  # until EOF
                reply = msgpack.unpackb(data[HEADER.size:])
                assert reply["id"] == 1 and "result" in reply, reply
                writer.close()
            client = await AsyncGatewayClient.connect(path)
            assert await client.ping() == "pong"
            await client.close()

    run(main())


def test_a_client_that_sends_and_never_reads_cannot_grow_the_gateway():
    """Large pings sent without reading the replies (issue 15, red-team 2: 1 MB pings
    drove the gateway to 1 GB): the gateway stops reading the client while its replies
    wait, so what the client gets in is bounded by the queue and the socket buffers; a
    queue past its bytes is cut with a reason."""
    import threading

    async def main():
        async with serving(queue_bytes=2 << 20) as server:
            path = str(server.unix_path)
            ping = frame_bytes(msgpack.packb({"id": 1, "method": "ping",
                                              "params": {"data": "x" * (256 << 10)}}))
            sent = [0]

            def greedy() -> None:
                with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                    sock.settimeout(2.0)
                    sock.connect(path)
                    try:
                        for _ in range(200):  # 50 MB, never reading a reply
                            sock.sendall(ping)
                            sent[0] += len(ping)
                    except OSError:
                        pass  # blocked (timeout) or cut by the gateway

            thread = threading.Thread(target=greedy)
            thread.start()
            while thread.is_alive():
                await asyncio.sleep(0.05)
                for session in server._sessions:
                    assert session._out_bytes <= server.queue_bytes
            assert sent[0] < 12 << 20, f"the gateway took in {sent[0] >> 20} MB"
            other = await AsyncGatewayClient.connect(path)
            assert await other.ping() == "pong"  # the others carry on
            await other.close()

    run(main())


# -- several clients ---------------------------------------------------------------------------

def test_many_clients_at_once_over_unix_and_tcp():
    async def main():
        async with serving() as server:
            clients = [await AsyncGatewayClient.connect(str(server.unix_path))
                       for _ in range(10)]
            clients += [await AsyncGatewayClient.connect(tcp_url(server),
                                                         token="control-token")
                        for _ in range(10)]

            async def work(index: int, gw: AsyncGatewayClient) -> list:
                return await asyncio.gather(*(gw.call("echo", value=[index, n])
                                              for n in range(30)),
                                            gw.call("slow", seconds=0.01))

            results = await asyncio.gather(*(work(i, gw) for i, gw in enumerate(clients)))
            for index, result in enumerate(results):
                assert result[:30] == [[index, n] for n in range(30)]
                assert result[30] == 0.01
            assert server.stats["clients"] == 20
            ids = {(await gw.call("whoami"))["session"] for gw in clients}
            assert len(ids) == 20
            for gw in clients:
                await gw.close()

    run(main())


def test_close_callbacks_run_when_a_client_goes():
    async def main():
        registry = make_registry()
        gone = asyncio.Event()

        @registry.method("watch")
        def watch(session):
            session.add_close_callback(lambda s: gone.set())
            return True

        async with serving(registry) as server:
            gw = await AsyncGatewayClient.connect(str(server.unix_path))
            assert await gw.call("watch")
            await gw.close()
            await asyncio.wait_for(gone.wait(), 5)
            assert server.stats["disconnected_by_reason"]["closed_by_peer"] == 1

    run(main())


# -- subscriptions -----------------------------------------------------------------------------

EVENTS = [
    {"event": "call.state", "call": 17, "span": 1, "channel": 5, "state": "answered"},
    {"event": "call.state", "call": 18, "span": 2, "channel": 1, "state": "ringing"},
    {"event": "channel.alarm", "span": 1, "channel": 3},
    {"event": "dtmf", "call": 17, "span": 1, "channel": 5, "digit": "5"},
    {"event": "span.up", "span": 2},
    {"event": "system.tick"},
]


@pytest.mark.parametrize(("filters", "expected"), [
    ({}, [0, 1, 2, 3, 4, 5]),
    ({"events": ["call.state"]}, [0, 1]),
    ({"events": ["call.*", "dtmf"]}, [0, 1, 3]),
    ({"span": 1}, [0, 2, 3]),
    ({"span": 1, "channel": 5}, [0, 3]),
    ({"call": 17}, [0, 3]),
    ({"events": ["call.state"], "span": 2}, [1]),
    ({"events": []}, []),
])
def test_subscription_filters(filters, expected):
    async def main():
        async with serving() as server:
            gw = await AsyncGatewayClient.connect(str(server.unix_path))
            sid = await gw.subscribe(**filters)
            assert isinstance(sid, int)
            for event in EVENTS:
                server.publish(event)
            server.publish({"event": "end"})
            end = await gw.subscribe(["end"])
            server.publish({"event": "end"})
            got = []
            while (event := await gw.next_event(5))["event"] != "end":
                got.append(event)
            assert got == [EVENTS[i] for i in expected]
            await gw.unsubscribe(end)
            await gw.close()

    run(main())


def test_unsubscribe_overlap_and_errors():
    async def main():
        async with serving() as server:
            gw = await AsyncGatewayClient.connect(str(server.unix_path))
            first = await gw.subscribe(["a"])
            second = await gw.subscribe(["a", "b"])
            assert first != second
            assert server.publish({"event": "a"}) == 1  # delivered once despite two matches
            assert (await gw.next_event(5))["event"] == "a"
            await gw.unsubscribe(second)
            await gw.unsubscribe(first)
            assert server.publish({"event": "a"}) == 0
            await expect_error(gw.unsubscribe(first), ErrorCode.NOT_FOUND,
                               f"no subscription {first} on this connection")
            await expect_error(gw.subscribe(["a", 1]), ErrorCode.INVALID_PARAMS,  # type: ignore[list-item]
                               "'events' item 1 must be string")
            with pytest.raises(ValueError, match="string 'event' key"):
                server.publish({"kind": "x"})
            await gw.close()

    run(main())


def test_events_are_isolated_per_client_and_publish_threadsafe_works():
    async def main():
        async with serving() as server:
            one = await AsyncGatewayClient.connect(str(server.unix_path))
            two = await AsyncGatewayClient.connect(tcp_url(server), token="monitor-token")
            await one.subscribe(span=1)
            await two.subscribe(span=2)
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(None, server.publish_threadsafe,
                                       {"event": "x", "span": 2})
            server.publish({"event": "x", "span": 1})
            assert (await one.next_event(5))["span"] == 1
            assert (await two.next_event(5))["span"] == 2
            with pytest.raises(TimeoutError):
                await one.next_event(0.05)
            await one.close()
            await two.close()

    run(main())


# -- slow clients ------------------------------------------------------------------------------

def test_a_client_that_never_reads_is_disconnected_and_others_carry_on():
    async def main():
        async with serving(queue_limit=20, linger=30.0) as server:
            good = await AsyncGatewayClient.connect(str(server.unix_path))
            await good.subscribe(["blob"])
            slow = await RawConnection.unix(server.unix_path)
            assert (await slow.request(1, "subscribe"))["result"] >= 1
            # From here on `slow` never reads while events pile up.
            payload = "x" * 4096
            sent = 0
            while "queue_overflow" not in server.stats["disconnected_by_reason"]:
                assert sent < 20_000, "the silent client was never disconnected"
                for _ in range(10):
                    server.publish({"event": "blob", "n": sent, "data": payload})
                    sent += 1
                for _ in range(10):  # the good client keeps up, and sees every event
                    event = await good.next_event(5)
                    assert event["event"] == "blob"
                await asyncio.sleep(0)  # let the slow session's disconnect complete
            server.publish({"event": "blob", "n": sent, "data": ""})
            assert (await good.next_event(5))["n"] == sent
            assert await good.ping() == "pong"
            assert server.stats["disconnected_by_reason"] == {"queue_overflow": 1}
            # The slow client, reading at last, finds the reason at the end of the stream.
            frames = await slow.recv_until_closed()
            assert frames[-1]["event"] == "disconnect"
            assert frames[-1]["reason"] == "queue_overflow"
            assert "more than 20 frames waiting" in frames[-1]["message"]
            assert all(f["event"] == "blob" for f in frames[:-1])
            value = server.metrics.value("trunkline_gateway_clients_disconnected_total",
                                         {"reason": "queue_overflow"})
            assert value == 1
            await slow.close()
            await good.close()

    run(main())


# -- graceful stop -----------------------------------------------------------------------------

def test_graceful_stop_finishes_requests_runs_hooks_and_says_why():
    async def main():
        release = asyncio.Event()
        hook_ran: list[str] = []
        with short_dir() as folder:
            server = GatewayServer(make_registry(), unix_path=folder / "gw.sock")

            hook_started = asyncio.Event()

            async def hook() -> None:
                hook_ran.append("started")
                hook_started.set()
                server.publish({"event": "gateway.stopping"})
                await release.wait()
                hook_ran.append("done")

            server.add_shutdown_hook(hook)
            await server.start()
            gw = await AsyncGatewayClient.connect(str(server.unix_path))
            late = await AsyncGatewayClient.connect(str(server.unix_path))
            await gw.subscribe()
            in_flight = asyncio.ensure_future(gw.call("slow", seconds=0.2))
            await server.registry.started["slow"].acquire()  # it runs on the server
            stopping = asyncio.ensure_future(server.stop(grace=10))
            await hook_started.wait()
            with pytest.raises(OSError):
                await asyncio.open_unix_connection(str(folder / "gw.sock"))
            await expect_error(late.call("ping"), ErrorCode.SHUTTING_DOWN, "stopping")
            release.set()
            assert await in_flight == 0.2
            await stopping
            assert hook_ran == ["started", "done"]
            events = [e async for e in gw.events()]
            assert events[0] == {"event": "gateway.stopping"}
            assert events[-1]["reason"] == "server_shutdown"
            assert gw.disconnect_reason == "server_shutdown"
            with pytest.raises(ConnectionClosed, match="server_shutdown"):
                await gw.ping()
            assert server.stats["clients"] == 0
            assert server.stats["disconnected_by_reason"] == {"server_shutdown": 2}
            await server.stop()  # twice is fine
            await gw.close()
            await late.close()

    run(main())


def test_stop_does_not_wait_for_clients_that_never_read():
    async def main():
        async with serving(queue_limit=10_000, linger=30.0) as server:
            slow = await RawConnection.unix(server.unix_path)
            assert "result" in await slow.request(1, "subscribe")
            for n in range(3000):
                server.publish({"event": "fill", "n": n, "data": "y" * 1024})
            await server.stop(grace=0.2)
            assert server.stats["clients"] == 0
            await slow.close()

    run(main())
