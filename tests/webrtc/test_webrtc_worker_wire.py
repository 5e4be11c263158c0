"""The media worker's channels, sans-IO: the datagram layouts (hypothesis), the routing of
packets to positions by peer number, and the restart policy on a clock of the test's."""

from __future__ import annotations

import itertools
import queue

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trunkline.gateway.webrtc.positions import Position
from trunkline.gateway.webrtc.worker_link import MediaExchange, RestartPolicy
from trunkline.gateway.webrtc.worker_wire import (
    MAX_DATAGRAM,
    WireError,
    decode_frames,
    decode_packets,
    encode_frames,
    encode_packets,
    pack_control,
    unpack_control,
)

peers = st.integers(0, 2**32 - 1)
payloads = st.binary(max_size=400)
rtp = st.tuples(st.integers(0, 127), st.integers(0, 0xFFFF), st.integers(0, 2**32 - 1),
                st.integers(0, 2**32 - 1), payloads)


@given(st.lists(st.tuples(peers, payloads), max_size=60))
def test_frames_come_back_as_sent_in_datagrams_that_fit(frames):
    datagrams = encode_frames(frames)
    assert all(0 < len(d) <= MAX_DATAGRAM for d in datagrams)
    assert [f for d in datagrams for f in decode_frames(d)] == frames


@given(st.lists(st.tuples(peers, rtp), max_size=60))
def test_packets_come_back_as_sent(packets):
    datagrams = encode_packets(packets)
    assert [p for d in datagrams for p in decode_packets(d)] == packets


def test_a_large_batch_is_split_at_the_datagram_limit():
    frames = [(n, bytes(160)) for n in range(1000)]      # [webrtc] positions at most
    datagrams = encode_frames(frames)
    assert len(datagrams) > 1 and all(len(d) <= MAX_DATAGRAM for d in datagrams)
    assert [f for d in datagrams for f in decode_frames(d)] == frames


@given(st.lists(st.tuples(peers, rtp), min_size=1, max_size=5), st.data())
def test_a_datagram_cut_short_is_refused_by_name(packets, data):
    datagram = encode_packets(packets)[0]
    ends = list(itertools.accumulate(17 + len(rtp[4]) for _, rtp in packets))
    cut = data.draw(st.integers(1, len(datagram) - 1))
    if cut in ends:     # a cut between two packets is a shorter, valid datagram
        assert list(decode_packets(datagram[:cut])) == packets[:ends.index(cut) + 1]
        return
    with pytest.raises(WireError, match="cut in"):
        list(decode_packets(datagram[:cut]))


def test_control_messages_round_trip_and_bad_ones_say_what_is_wrong():
    message = {"op": "answer", "id": 3, "peer": 7, "sdp": "v=0\r\n", "ice_servers": []}
    assert unpack_control(pack_control(message)) == message
    with pytest.raises(WireError, match="unknown control op 'dance'"):
        pack_control({"op": "dance"})
    with pytest.raises(WireError, match="must be a map"):
        unpack_control(b"\x93\x01\x02\x03")            # msgpack [1, 2, 3]
    with pytest.raises(WireError, match="not msgpack"):
        unpack_control(b"\xc1")


def test_packets_go_to_the_position_their_peer_serves_and_nowhere_else():
    exchange = MediaExchange()
    a, b = Position(200, 1), Position(201, 2)
    exchange.routes.update({11: a, 12: b})
    packet = (0, 5, 800, 99, b"\xff" * 160)
    datagram = encode_packets([(11, packet), (12, packet), (13, packet), (11, packet)])[0]
    assert exchange.deliver(datagram) == 3
    assert exchange.unrouted == 1               # peer 13: replaced, closed, unknown
    assert [a.inbound.get_nowait(), a.inbound.get_nowait()] == [packet, packet]
    assert b.inbound.get_nowait() == packet
    with pytest.raises(queue.Empty):
        b.inbound.get_nowait()
    # The last one cut short: the packets before it are delivered, the datagram counted.
    assert exchange.deliver(datagram[:-3]) == 2
    assert exchange.malformed == 1


def test_a_worker_that_dies_young_is_restarted_later_each_time_one_that_lived_at_once():
    now = [0.0]
    policy = RestartPolicy(lambda: now[0])
    policy.started()
    now[0] = 100.0
    assert policy.died() == 0.0                  # lived 100 s: started again at once
    waits = []
    for _ in range(8):
        policy.started()
        now[0] += 1.0                            # dies 1 s after each start
        waits.append(policy.died())
    assert waits == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
    policy.started()
    now[0] += 60.0
    assert policy.died() == 0.0                  # a long life resets the wait
    policy.started()
    now[0] += 1.0
    assert policy.died() == 0.5
