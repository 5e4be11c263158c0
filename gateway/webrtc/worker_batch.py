"""The media worker's received packets on their way to the gateway (sans-IO).

Two things the worker's media socket needs that a send per loop turn did not give:

- **fewer, fuller datagrams**: packets gathered for :data:`FLUSH_INTERVAL` go as one
  datagram. A send per loop turn carried the packets of one turn, a few at most (the
  peers' packets arrive spread over the 20 ms), and each datagram costs a send here and
  a receive in the gateway's tick;
- **nothing lost to a short stall of the gateway**: an ``AF_UNIX`` datagram socket takes
  about 200 datagrams (its send buffer, 212992 bytes by default on Linux, counts each
  datagram's kernel overhead too). A gateway whose tick stalled for a few hundred ms (a
  loaded machine) found the socket full: every batch sent meanwhile was dropped, the
  tick then caught up on ticks with no packets, and after 100 of them
  (``positions.MEDIA_TIMEOUT_TICKS``) every position was reported lost (``no_media``)
  and, after ``[webrtc] reconnect``, ended: measured with ``benchmarks/bench_webrtc.py``
  at load 12 (20 of 20 positions lost). Now what the socket cannot take waits here and
  goes first at the next flush; only beyond :data:`KEEP_BYTES` (about half a second of
  50 peers, too late for any jitter buffer) is the oldest dropped (counted).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from trunkline.gateway.webrtc.worker_wire import Rtp, encode_packets

__all__ = ["FLUSH_INTERVAL", "KEEP_BYTES", "InboundBatcher"]

#: Seconds packets are gathered before they are sent (1 ms on average added to a packet's
#: way; at 50 peers about five packets a datagram instead of one or two).
FLUSH_INTERVAL = 0.002
#: Bytes of datagrams kept while the gateway's socket is full: 50 peers x 25 packets
#: (0.5 s) x about 190 bytes each.
KEEP_BYTES = 256 * 1024


class InboundBatcher:
    """Packets gathered (:meth:`add`), then sent in datagrams (:meth:`flush`)."""

    def __init__(self, *, keep_bytes: int = KEEP_BYTES) -> None:
        self.keep_bytes = keep_bytes
        self._packets: list[tuple[int, Rtp]] = []
        self._unsent: deque[bytes] = deque()
        self._unsent_bytes = 0
        self.dropped = 0        # datagrams dropped: kept longer than keep_bytes allows
        self.sent = 0           # datagrams sent

    def add(self, peer: int, rtp: Rtp) -> bool:
        """Gather ``rtp`` of ``peer``; True when nothing was waiting before it (the
        caller schedules a :meth:`flush`)."""
        first = not self._packets and not self._unsent
        self._packets.append((peer, rtp))
        return first

    @property
    def waiting(self) -> bool:
        return bool(self._packets or self._unsent)

    def flush(self, send: Callable[[bytes], object]) -> bool:
        """Send what waits, oldest first, with ``send`` (a non-blocking socket's: it
        raises ``BlockingIOError`` when the socket is full); True when some is left for
        the next flush. Other ``OSError`` (the gateway gone) drops it all."""
        if self._packets:
            for datagram in encode_packets(self._packets):
                self._unsent.append(datagram)
                self._unsent_bytes += len(datagram)
            self._packets = []
        unsent = self._unsent
        while unsent:
            try:
                send(unsent[0])
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                self.dropped += len(unsent)
                unsent.clear()
                self._unsent_bytes = 0
                return False
            self._unsent_bytes -= len(unsent.popleft())
            self.sent += 1
        while self._unsent_bytes > self.keep_bytes:
            self._unsent_bytes -= len(unsent.popleft())
            self.dropped += 1
        return bool(unsent)
