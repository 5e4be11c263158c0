"""A request's elements are counted as it is decoded (issue 15, red-team 3: "limit element
counts, not only bytes and depth; decoding never on the tick's critical path"). The
per-container limits let an authenticated client's 1 MiB frame hold a million nils in
16 arrays, decoded in full on the loop the media tick shares (~0.1 s a frame); now a
server's decoder stops once the containers built hold more than DEFAULT_MAX_ELEMENTS
entries, and the connection is cut as for any unparseable frame. A client's decoder
keeps no such limit (a reply may be long)."""

from __future__ import annotations

import msgpack
import pytest
from gw_helpers import RawConnection, frame_bytes, run, serving

from trunkline.gateway.rpc.client import AsyncGatewayClient
from trunkline.gateway.rpc.errors import ProtocolError
from trunkline.gateway.rpc.protocol import (
    DEFAULT_MAX_ELEMENTS,
    DEFAULT_MAX_LEN,
    FrameDecoder,
    decode_body,
)

NILS = {"id": 1, "method": "echo", "params": {"value": [[None] * 65000] * 16}}


def test_a_million_nils_are_refused_by_count_before_they_are_all_built() -> None:
    body = msgpack.packb(NILS)
    with pytest.raises(ProtocolError, match=f"holds more than {DEFAULT_MAX_ELEMENTS} "
                                            "elements"):
        decode_body(body, max_elements=DEFAULT_MAX_ELEMENTS)
    assert len(decode_body(body)["params"]["value"]) == 16   # a client's: no such limit
    assert len(FrameDecoder().feed(frame_bytes(body))) == 1


def test_the_longest_list_a_request_may_carry_still_passes() -> None:
    body = msgpack.packb({"id": 1, "method": "fax.broadcast",
                          "params": {"numbers": ["13800138000"] * DEFAULT_MAX_LEN,
                                     "files": ["a.tif"]}})
    assert len(decode_body(body, max_elements=DEFAULT_MAX_ELEMENTS)["params"]["numbers"]) \
        == DEFAULT_MAX_LEN


def test_the_server_cuts_a_client_that_sends_one_and_serves_the_others() -> None:
    async def main():
        async with serving() as server:
            raw = await RawConnection.unix(server.unix_path)
            await raw.send(frame_bytes(msgpack.packb(NILS)))
            notice = await raw.recv()
            assert notice["event"] == "disconnect" and notice["reason"] == "parse_error"
            assert "elements" in notice["message"]
            await raw.close()
            other = await AsyncGatewayClient.connect(str(server.unix_path))
            assert await other.call("echo", value=list(range(1000))) == list(range(1000))
            await other.close()

    run(main())
