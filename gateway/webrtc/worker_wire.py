"""What the gateway and its WebRTC media worker say to each other (sans-IO).

Two channels join them (``worker_link.py`` owns the sockets, ``worker.py`` the other end):

- **media**, one datagram per batch on an ``AF_UNIX`` ``SOCK_DGRAM`` socket pair, never
  waited for: the tick sends **one** datagram with every position's G.711 frame
  (:func:`encode_frames`), the worker sends the RTP packets it received in the last
  2 ms in one datagram (:func:`encode_packets`, ``worker_batch.py``). Batching is what
  makes the channel cheap: measured here, 50 frames out and 50 packets in cost the tick
  147 us a tick as one datagram each and 67 us as one datagram a side, decoding and
  routing included
  (``benchmarks/bench_webrtc_channel.py``; the bare sends and receives: 206 against
  6 us);
- **control**, one msgpack map per ``SOCK_SEQPACKET`` message (:func:`pack_control`,
  :func:`unpack_control`): requests (``answer``, ``candidate``, ``close``, ``stats``)
  carry an ``id`` their reply repeats; the worker's events (``state``) carry none.

Every peer connection the worker runs has a number of its own (``peer``), never reused
while the gateway runs, so a packet of a peer already replaced (a reloaded page) finds no
position to go to and is dropped, whatever channel number the position had.

Layouts (network byte order)::

    frames:  { peer u32 | length u16 | payload }*
    packets: { peer u32 | payload type u8 | sequence u16 | timestamp u32 | ssrc u32 |
               length u16 | payload }*
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator
from typing import Any

import msgpack

__all__ = ["CONTROL_OPS", "MAX_DATAGRAM", "WireError", "decode_frames", "decode_packets",
           "encode_frames", "encode_packets", "pack_control", "unpack_control"]

#: The largest media datagram either side sends (a batch is split beyond it): well under
#: the socket's default send buffer (212992 bytes on Linux), so one batch always fits.
MAX_DATAGRAM = 65536
#: What the gateway asks (replies repeat the id) and what the worker tells unasked.
CONTROL_OPS = frozenset({"answer", "candidate", "close", "stats", "state", "reply"})

_FRAME = struct.Struct("!IH")
_PACKET = struct.Struct("!IBHIIH")
#: (payload type, sequence number, RTP timestamp, SSRC, payload): positions.RtpIn.
Rtp = tuple[int, int, int, int, bytes]


class WireError(ValueError):
    """A datagram or control message that does not follow the layout (says where)."""


def encode_frames(frames: Iterable[tuple[int, bytes]]) -> list[bytes]:
    """Datagrams carrying ``(peer, payload)`` frames, each at most :data:`MAX_DATAGRAM`."""
    return _batches(_FRAME.pack(peer, len(payload)) + payload for peer, payload in frames)


def decode_frames(datagram: bytes) -> Iterator[tuple[int, bytes]]:
    """The ``(peer, payload)`` frames of one datagram; :class:`WireError` if cut short."""
    at, size, unpack, head = 0, len(datagram), _FRAME.unpack_from, _FRAME.size
    while at < size:
        if at + head > size:
            raise WireError(f"frames datagram cut in a header at byte {at}")
        peer, length = unpack(datagram, at)
        at += head
        if at + length > size:
            raise WireError(f"frames datagram cut in peer {peer}'s payload at byte {at}")
        yield peer, datagram[at:at + length]
        at += length


def encode_packets(packets: Iterable[tuple[int, Rtp]]) -> list[bytes]:
    """Datagrams carrying ``(peer, rtp)`` packets, each at most :data:`MAX_DATAGRAM`."""
    return _batches(_PACKET.pack(peer, pt & 0x7F, seq & 0xFFFF, ts & 0xFFFFFFFF,
                                 ssrc & 0xFFFFFFFF, len(payload)) + payload
                    for peer, (pt, seq, ts, ssrc, payload) in packets)


def decode_packets(datagram: bytes) -> Iterator[tuple[int, Rtp]]:
    """The ``(peer, rtp)`` packets of one datagram; :class:`WireError` if cut short."""
    at, size, unpack, head = 0, len(datagram), _PACKET.unpack_from, _PACKET.size
    while at < size:
        if at + head > size:
            raise WireError(f"packets datagram cut in a header at byte {at}")
        peer, pt, seq, ts, ssrc, length = unpack(datagram, at)
        at += head
        if at + length > size:
            raise WireError(f"packets datagram cut in peer {peer}'s payload at byte {at}")
        yield peer, (pt, seq, ts, ssrc, datagram[at:at + length])
        at += length


def _batches(records: Iterable[bytes]) -> list[bytes]:
    out: list[bytes] = []
    batch = bytearray()
    for record in records:
        if len(record) > MAX_DATAGRAM:
            raise WireError(f"a record of {len(record)} bytes is larger than a datagram")
        if len(batch) + len(record) > MAX_DATAGRAM:
            out.append(bytes(batch))
            batch.clear()
        batch += record
    if batch:
        out.append(bytes(batch))
    return out


def pack_control(message: dict[str, Any]) -> bytes:
    """One control message (a map whose ``op`` is one of :data:`CONTROL_OPS`)."""
    if message.get("op") not in CONTROL_OPS:
        raise WireError(f"unknown control op {message.get('op')!r}")
    return bytes(msgpack.packb(message, use_bin_type=True))


def unpack_control(data: bytes) -> dict[str, Any]:
    """A control message back; :class:`WireError` naming what is wrong with it."""
    try:
        message = msgpack.unpackb(data, raw=False)
    except (ValueError, msgpack.UnpackException) as err:
        raise WireError(f"a control message that is not msgpack: {err}") from None
    if not isinstance(message, dict):
        raise WireError(f"a control message must be a map, not {type(message).__name__}")
    if message.get("op") not in CONTROL_OPS:
        raise WireError(f"unknown control op {message.get('op')!r}")
    return message
