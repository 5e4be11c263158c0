"""The media worker's inbound batcher on a real AF_UNIX datagram socket pair: packets go
in few datagrams, a full socket (the gateway's tick stalled) keeps them for the next
flush instead of dropping them, and only what is kept beyond the bound is lost."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager

from hypothesis import given, settings
from hypothesis import strategies as st

from trunkline.gateway.webrtc.worker_batch import InboundBatcher
from trunkline.gateway.webrtc.worker_wire import Rtp, decode_packets


@contextmanager
def pair(sndbuf: int | None = None) -> Iterator[tuple[socket.socket, socket.socket]]:
    worker, gateway = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    worker.setblocking(False)
    gateway.setblocking(False)
    if sndbuf is not None:
        worker.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, sndbuf)
    try:
        yield worker, gateway
    finally:
        worker.close()
        gateway.close()


def rtp(n: int) -> Rtp:
    return (0, n & 0xFFFF, 160 * n, 7, bytes([n & 0xFF]) * 160)


def read_all(gateway: socket.socket) -> tuple[list[int], int]:
    """The packets' numbers (their sequence numbers) and the datagrams read."""
    seqs, datagrams = [], 0
    while True:
        try:
            datagram = gateway.recv(1 << 18)
        except BlockingIOError:
            return seqs, datagrams
        datagrams += 1
        seqs += [packet[1] for _, packet in decode_packets(datagram)]


def test_packets_gathered_go_as_one_datagram() -> None:
    batcher = InboundBatcher()
    with pair() as (worker, gateway):
        assert batcher.add(1, rtp(0)) is True       # the first: schedule a flush
        assert all(batcher.add(1 + n % 3, rtp(n)) is False for n in range(1, 50))
        assert batcher.flush(worker.send) is False  # nothing left
        assert read_all(gateway) == (list(range(50)), 1)
        assert (batcher.sent, batcher.dropped, batcher.waiting) == (1, 0, False)


def test_a_full_socket_keeps_the_packets_for_the_next_flush() -> None:
    batcher = InboundBatcher()
    with pair(sndbuf=4096) as (worker, gateway):
        n = 0
        while True:   # the gateway does not read: its tick stalled
            batcher.add(1, rtp(n))
            n += 1
            if batcher.flush(worker.send):
                break
        assert n < 100                              # the small buffer filled
        for _ in range(5):                          # more arrive meanwhile
            batcher.add(1, rtp(n))
            n += 1
            assert batcher.flush(worker.send) is True
        got: list[int] = []
        while batcher.waiting:                      # the tick reads again
            got += read_all(gateway)[0]
            batcher.flush(worker.send)
        got += read_all(gateway)[0]
        assert got == list(range(n))                # none lost, in order
        assert batcher.dropped == 0


def test_beyond_the_bound_the_oldest_are_dropped() -> None:
    batcher = InboundBatcher(keep_bytes=2000)
    with pair(sndbuf=4096) as (worker, gateway):
        for n in range(200):
            batcher.add(1, rtp(n))
            batcher.flush(worker.send)
        assert batcher.dropped > 0
        got: list[int] = []
        while batcher.waiting:
            got += read_all(gateway)[0]
            batcher.flush(worker.send)
        got += read_all(gateway)[0]
        assert got == sorted(got) and got[-1] == 199   # the newest kept, in order
        assert len(got) < 200


def test_a_gateway_gone_drops_what_waits() -> None:
    batcher = InboundBatcher()
    worker, gateway = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    gateway.close()
    try:
        batcher.add(1, rtp(0))
        assert batcher.flush(worker.send) is False
        assert (batcher.dropped, batcher.waiting) == (1, False)
    finally:
        worker.close()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 30), st.booleans()), min_size=1, max_size=30))
def test_packets_arrive_in_order_and_all_when_none_dropped(
        steps: list[tuple[int, bool]]) -> None:
    """Any arrivals, flushes and reads of a stalling gateway: what arrives is in order,
    and everything arrives unless the batcher says it dropped some."""
    batcher = InboundBatcher(keep_bytes=16_000)
    with pair(sndbuf=8192) as (worker, gateway):
        n = 0
        got: list[int] = []
        for count, gateway_reads in steps:
            for _ in range(count):
                batcher.add(n % 5, rtp(n))
                n += 1
            batcher.flush(worker.send)
            if gateway_reads:
                got += read_all(gateway)[0]
        while batcher.waiting:
            got += read_all(gateway)[0]
            batcher.flush(worker.send)
        got += read_all(gateway)[0]
        assert got == sorted(got)
        if batcher.dropped == 0:
            assert got == list(range(n))
