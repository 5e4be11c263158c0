"""The sans-IO framing core: frames out of any byte stream, errors for every bad one."""

from __future__ import annotations

import contextlib

import msgpack
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trunkline.gateway.rpc import errors as gw_errors
from trunkline.gateway.rpc.errors import ErrorCode, ProtocolError, RpcError
from trunkline.gateway.rpc.protocol import (
    HEADER,
    FrameDecoder,
    decode_body,
    encode_frame,
    parse_request,
)


def frame(body: bytes) -> bytes:
    return HEADER.pack(len(body)) + body


def test_frames_come_out_whole_whatever_the_chunking():
    messages = [{"id": i, "method": "ping", "params": {"data": "x" * i}} for i in range(50)]
    stream = b"".join(encode_frame(m) for m in messages)
    for step in (1, 3, 7, 64, len(stream)):
        decoder = FrameDecoder()
        out = []
        for i in range(0, len(stream), step):
            out += decoder.feed(stream[i:i + step])
        assert out == messages
        assert decoder.buffered == 0
        decoder.close()


def test_length_above_the_limit_is_fatal_and_stays_fatal():
    decoder = FrameDecoder(max_frame=100)
    with pytest.raises(ProtocolError, match="frame length 101 exceeds the limit of 100") as info:
        decoder.feed(HEADER.pack(101))
    assert info.value.code is ErrorCode.FRAME_TOO_LARGE and info.value.fatal
    with pytest.raises(ProtocolError, match="exceeds"):
        decoder.feed(encode_frame({"id": 1}))


def test_invalid_msgpack_is_fatal_but_earlier_frames_survive():
    good = encode_frame({"id": 1, "method": "ping"})
    decoder = FrameDecoder()
    with pytest.raises(ProtocolError, match="not valid msgpack") as info:
        decoder.feed(good + frame(b"\xc1"))  # 0xc1 is never used in msgpack
    assert info.value.fatal and info.value.code is ErrorCode.PARSE_ERROR
    assert info.value.frames == [{"id": 1, "method": "ping"}]


@pytest.mark.parametrize(("body", "match"), [
    (msgpack.packb({"a": 1})[:-1], "not valid msgpack"),          # value cut short
    (msgpack.packb({"a": 1}) + b"\x01", "extra data"),            # two values
    (b"\x81\x01\x02", "not valid msgpack"),                        # integer map key
    (b"\xa2\xff\xfe", "not valid msgpack"),                        # bad UTF-8
    (msgpack.packb(msgpack.ExtType(5, b"x")), "unsupported msgpack type"),
    (b"", "frame length is 0"),
])
def test_malformed_bodies_are_parse_errors(body, match):
    with pytest.raises(ProtocolError, match=match) as info:
        FrameDecoder().feed(frame(body))
    assert info.value.fatal


def test_nesting_deeper_than_the_limit_is_refused():
    value: object = {"leaf": 1}
    for _ in range(10):
        value = {"x": [value]}
    FrameDecoder(max_depth=30).feed(encode_frame(value))  # 21 levels: fine
    with pytest.raises(ProtocolError, match="nests deeper than the limit of 8"):
        FrameDecoder(max_depth=8).feed(encode_frame(value))
    very_deep = b"\x91" * 5000 + b"\x01"  # 5000 nested arrays: msgpack's own stack limit
    with pytest.raises(ProtocolError):
        FrameDecoder().feed(frame(b"\x81\xa1a" + very_deep))


@pytest.mark.parametrize(("value", "match"), [
    ({"p": [{}] * 100_000}, "longer|exceeds"),                 # one array too long
    ({"p": [[{}] * 500 for _ in range(20)]}, "more than 4096 maps and arrays"),
])
def test_frames_with_too_many_elements_are_refused_before_they_are_built(value, match):
    """Bytes and depth do not bound the work a frame costs: a million empty maps fit in
    1 MiB (issue 15, red-team 3). Long containers are refused from their header, and
    decoding stops at the 4097th map or array."""
    with pytest.raises(ProtocolError, match=match) as info:
        decode_body(msgpack.packb(value))
    assert info.value.code is ErrorCode.PARSE_ERROR


def test_a_frame_that_is_not_a_map_is_not_fatal_and_decoding_resumes():
    decoder = FrameDecoder()
    stream = encode_frame({"id": 1}) + frame(msgpack.packb([1, 2])) + encode_frame({"id": 2})
    with pytest.raises(ProtocolError, match="msgpack list, not a map") as info:
        decoder.feed(stream)
    assert not info.value.fatal and info.value.code is ErrorCode.INVALID_REQUEST
    assert info.value.frames == [{"id": 1}]
    assert decoder.feed(b"") == [{"id": 2}]


def test_close_inside_a_frame_reports_truncation():
    decoder = FrameDecoder()
    data = encode_frame({"id": 1, "method": "ping"})
    assert decoder.feed(data[:-2]) == []
    with pytest.raises(ProtocolError, match="stream ended inside a frame") as info:
        decoder.close()
    assert info.value.code is ErrorCode.TRUNCATED
    FrameDecoder().close()  # a clean end is silent


def test_encode_refuses_oversized_messages():
    with pytest.raises(ProtocolError, match="exceeds the frame limit of 64"):
        encode_frame({"blob": b"x" * 100}, max_frame=64)


def test_parse_request_accepts_the_documented_shape():
    request = parse_request({"id": "a1", "method": "call.originate", "params": {"n": 1}})
    assert (request.id, request.method, request.params) == ("a1", "call.originate", {"n": 1})
    assert parse_request({"id": 7, "method": "ping"}).params == {}


@pytest.mark.parametrize(("frame_", "match"), [
    ({"method": "ping"}, "no 'id'"),
    ({"id": True, "method": "ping"}, "'id' must be an integer or a string"),
    ({"id": 1.5, "method": "ping"}, "'id' must be an integer or a string"),
    ({"id": 1}, "'method' must be a non-empty string"),
    ({"id": 1, "method": ""}, "'method' must be a non-empty string"),
    ({"id": 1, "method": "ping", "params": [1]}, "'params' must be a map, got list"),
    ({"id": 1, "method": "ping", "extra": 0}, "unknown key.*'extra'"),
    ({"event": "x"}, "clients may not send events"),
])
def test_parse_request_names_the_bad_key(frame_, match):
    with pytest.raises(ProtocolError, match=match) as info:
        parse_request(frame_)
    assert info.value.code is ErrorCode.INVALID_REQUEST and not info.value.fatal


def test_error_codes_are_stable_and_round_trip():
    expected = {"parse_error": 100, "frame_too_large": 101, "truncated": 102,
                "invalid_request": 103, "unknown_method": 104, "invalid_params": 105,
                "unauthorized": 201, "forbidden": 202, "not_found": 301, "conflict": 302,
                "unavailable": 303, "timeout": 304, "internal": 500, "overloaded": 503,
                "shutting_down": 504}
    assert {c.wire_name: int(c) for c in ErrorCode} == expected
    err = RpcError("not_found", "no call 17", data={"call": 17})
    back = RpcError.from_wire(err.to_wire())
    assert (back.code, back.message, back.data) == (ErrorCode.NOT_FOUND, "no call 17",
                                                    {"call": 17})
    assert RpcError.from_wire({"code": 999, "message": "new"}).code is ErrorCode.INTERNAL
    with pytest.raises(ValueError, match="unknown error code 'nope'"):
        RpcError("nope", "x")
    for code in ErrorCode:  # every code is documented in the module docstring
        assert f"{int(code)}    {code.wire_name}" in gw_errors.__doc__


# -- fuzzing -------------------------------------------------------------------------------

plain = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.floats(allow_nan=False)
    | st.text(max_size=20) | st.binary(max_size=20),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2048), st.lists(st.integers(1, 64), min_size=1, max_size=10))
def test_random_bytes_only_ever_yield_maps_or_protocol_errors(data, cuts):
    decoder = FrameDecoder(max_frame=1024, max_depth=8)
    pos = 0
    for cut in [*cuts, len(data)]:
        chunk, pos = data[pos:pos + cut], pos + cut
        try:
            frames = decoder.feed(chunk)
        except ProtocolError as err:
            assert all(isinstance(f, dict) for f in err.frames)
            if err.fatal:
                return
            frames = []
        assert all(isinstance(f, dict) for f in frames)
    with pytest.raises(ProtocolError) if decoder.buffered else contextlib.nullcontext():
        decoder.close()


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(st.lists(st.dictionaries(st.text(max_size=8), plain, max_size=5), max_size=8),
       st.integers(1, 50))
def test_any_sequence_of_maps_round_trips(messages, step):
    stream = b"".join(encode_frame(m) for m in messages)
    decoder = FrameDecoder(max_depth=64)
    out = []
    for i in range(0, len(stream), step):
        out += decoder.feed(stream[i:i + step])
    assert out == messages

