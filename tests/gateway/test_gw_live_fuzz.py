"""Hypothesis against a live server: random bytes and random maps on real connections.
Whatever arrives, the server stays up, never answers ``internal``, and a bystander client
keeps working."""

from __future__ import annotations

import msgpack
import pytest
from gw_helpers import ServerThread, blocking_raw_exchange, frame_bytes
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trunkline.gateway.rpc.client import GatewayClient
from trunkline.gateway.rpc.protocol import FrameDecoder, encode_frame

ints = st.integers(-(2**63), 2**64 - 1)  # what msgpack can carry
FUZZ_SETTINGS = settings(max_examples=60, deadline=None,
                         suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                HealthCheck.too_slow])


@pytest.fixture(scope="module")
def live():
    with ServerThread(max_frame=4096, auth_timeout=5.0, linger=0.5) as live:
        with GatewayClient(live.path) as bystander:
            bystander.subscribe(["canary"])
            live.bystander = bystander  # type: ignore[attr-defined]
            yield live
        stats = live.server.stats  # type: ignore[union-attr]
        assert "internal" not in stats["errors_by_code"], stats


def assert_server_healthy(live: ServerThread, marker: int) -> None:
    bystander: GatewayClient = live.bystander  # type: ignore[attr-defined]
    assert bystander.call("ping", data=marker) == marker
    live.do(live.server.publish, {"event": "canary", "n": marker})  # type: ignore[union-attr]
    assert bystander.next_event(timeout=5) == {"event": "canary", "n": marker}


def replies_are_well_formed(data: bytes) -> list[dict]:
    frames = FrameDecoder(max_frame=1 << 20).feed(data)
    for frame in frames:
        assert ("id" in frame and ("result" in frame or "error" in frame)) or "event" in frame
        if "error" in frame:
            assert frame["error"]["message"]
            assert frame["error"]["name"] != "internal", frame
    return frames


@FUZZ_SETTINGS
@given(data=st.binary(max_size=3000))
def test_random_bytes(live, data):
    replies_are_well_formed(blocking_raw_exchange(live.path, data))
    assert_server_healthy(live, len(data))


requests = st.fixed_dictionaries(
    {"id": st.one_of(ints, st.text(max_size=5), st.none(), st.booleans())},
    optional={
        "method": st.sampled_from(["ping", "echo", "subscribe", "unsubscribe", "auth",
                                   "call.originate", "whoami", "slow", "methods", "nope", ""]),
        "params": st.one_of(
            st.dictionaries(st.sampled_from(["data", "value", "events", "span", "id",
                                             "token", "number", "seconds", "ring_timeout",
                                             "detect", "zzz"]),
                            st.one_of(st.none(), st.integers(-5, 5), st.floats(0, 0.01),
                                      st.text(max_size=4), st.lists(st.text(max_size=3),
                                                                    max_size=3),
                                      st.dictionaries(st.text(max_size=2), ints,
                                                      max_size=2)),
                            max_size=4),
            ints, st.none()),
        "extra": ints,
    },
)


@FUZZ_SETTINGS
@given(messages=st.lists(st.one_of(requests, ints, st.lists(ints)),
                         min_size=1, max_size=6),
       garbage=st.one_of(st.just(b""), st.binary(max_size=8)))
def test_random_requests(live, messages, garbage):
    stream = b"".join(encode_frame(m) if isinstance(m, dict) else
                      frame_bytes(msgpack.packb(m)) for m in messages) + garbage
    frames = replies_are_well_formed(blocking_raw_exchange(live.path, stream))
    answered = {f["id"] for f in frames if "id" in f}
    for message in messages:
        if isinstance(message, dict) and isinstance(message.get("id"), int | str) \
                and not isinstance(message.get("id"), bool) and message["id"] != "":
            # every request with a usable id is answered, unless the connection was cut
            assert message["id"] in answered or any("event" in f for f in frames)
    assert_server_healthy(live, len(stream))
