"""The WebRTC positions of a gateway: channels numbered after the card's, each carrying
one browser's audio to and from the 20 ms tick.

Two threads meet here, and neither waits for the other:

- the **WebRTC thread** (an asyncio loop: aiortc, ``peer.py``) puts each RTP packet it
  receives on the position's inbound queue and takes G.711 frames to send from its
  outbound queue (both thread-safe, never blocking);
- the **engine thread** (the tick) drains the inbound queues into the jitter buffers
  (:mod:`~trunkline.gateway.webrtc.jitter`), decodes G.711 and telephone-events, pops
  one frame per position (:meth:`Positions.read_frames`) and queues what the mixer sent
  back, encoded (:meth:`Positions.write_frames`). The line loop adds these rows to the
  card's (:meth:`~trunkline.drivers.lineloop.LineLoop.add_virtual_span`).

Only the payload types the answer offered are decoded: PCMU (0) and PCMA (8) and the
negotiated telephone-event; G.711 stays G.711 end to end (no transcoding), decoded to
linear as a card's channels are.
"""

from __future__ import annotations

import queue
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from trunkline.drivers.dsp import g711
from trunkline.drivers.dsp.g711 import Law
from trunkline.drivers.model import FRAME_SAMPLES
from trunkline.gateway.webrtc.jitter import JitterBuffer
from trunkline.gateway.webrtc.leg import PeerSignal, WebRtcSignalling
from trunkline.gateway.webrtc.rfc4733 import TelephoneEvents

__all__ = ["MediaLink", "Position", "Positions", "RtpIn"]

#: RTP payload types of G.711 (RFC 3551 table 4).
PCMU, PCMA = 0, 8
#: Frames waiting to be sent at most (80 ms): beyond, the oldest go (the browser's clock
#: is slower than the card's, or the WebRTC thread fell behind).
MAX_OUTBOUND = 4

#: (payload type, sequence number, RTP timestamp, SSRC, payload)
RtpIn = tuple[int, int, int, int, bytes]
#: Ticks (20 ms) without a packet from a page that had been sending before its audio is
#: called lost (reason ``no_media``). A browser sends G.711 every 20 ms, silence and a
#: muted microphone included (no DTX for G.711), so 2 s of nothing is the network gone;
#: ICE's own verdict (consent freshness, RFC 7675: aioice waits 6 x 5 s) comes ~30 s
#: later, and the customer would hear silence until then.
MEDIA_TIMEOUT_TICKS = 100
#: Why a position's audio is lost when its packets stop.
NO_MEDIA = "no_media"


@dataclass(eq=False)
class Position:
    """One position's audio state; ``call`` is the gateway call holding it."""

    channel: int
    call: int
    law: Law = "ulaw"
    dtmf_pt: int | None = None
    inbound: queue.SimpleQueue[RtpIn] = field(default_factory=queue.SimpleQueue)
    outbound: deque[bytes] = field(default_factory=lambda: deque(maxlen=MAX_OUTBOUND))
    jitter: JitterBuffer = field(default_factory=JitterBuffer)
    keys: TelephoneEvents = field(default_factory=TelephoneEvents)
    peer: object | None = None           # the WebRtcPeer now serving it (WebRTC thread)
    peers: int = 0                       # peer connections it has had (reloads)
    dropped_out: int = 0                 # frames to send dropped (queue full)
    ignored_in: int = 0                  # packets of other payload types
    test: Any = None                     # the last test call (looptest.LoopTest)
    had_media: bool = False              # a packet came since the last media loss
    quiet_ticks: int = 0                 # ticks since the last packet
    media_lost: bool = False             # reported lost for lack of packets
    route: int = 0                       # its peer's number in the media worker (0: none)
    #: Tells its peer's track that frames wait in :attr:`outbound` (the peers' loop
    #: thread only: the track sends each frame as the tick delivers it).
    wake: Callable[[], None] | None = None

    def stats(self) -> dict[str, object]:
        return {**self.jitter.stats.as_dict(), "law": self.law, "peers": self.peers,
                "dropped_out": self.dropped_out, "ignored_in": self.ignored_in,
                "delay_ms": self.jitter.delay_ms,
                "test": None if self.test is None else self.test.result()}


class MediaLink(Protocol):
    """Where the peers run when not on this process's WebRTC thread: the media worker
    (``worker_link.MediaWorker``). Both calls are the tick's and never wait."""

    def receive(self) -> int:
        """Put the packets that came since the last tick on their positions' queues."""
        ...

    def send_frames(self, frames: list[tuple[int, bytes]]) -> None:
        """This tick's G.711 frames, by peer number (:attr:`Position.route`)."""
        ...


class Positions:
    """The positions on ``channels`` (see the module docstring); the line loop's
    :class:`~trunkline.drivers.lineloop.VirtualAudio`. With a :attr:`link`, the peers
    run in the media worker: packets come from it and frames go to it, and the rest
    (jitter buffers, keys, the loss watch) is the same."""

    def __init__(self, channels: tuple[int, ...], module: WebRtcSignalling) -> None:
        self.channels = channels
        self.module = module
        self.active: dict[int, Position] = {}    # channel -> position (engine thread)
        #: Told (engine thread) when a position's packets stop (``lost``, ``no_media``)
        #: and come back (``connected``); the softphone reports it as a peer's state.
        self.on_media: Callable[[Position, str, str], None] | None = None
        self.link: MediaLink | None = None
        #: Told (engine thread) each tick, with the wakes of the positions given a frame,
        #: when the peers run on this process's WebRTC thread: the softphone calls them
        #: on that thread's loop (one hand-over a tick for every peer).
        self.on_frames: Callable[[list[Callable[[], None]]], object] | None = None

    def free_channel(self) -> int | None:
        for ch in self.channels:
            if ch not in self.active and ch not in self.module.legs:
                return ch
        return None

    def open(self, channel: int, call: int) -> Position:
        """Engine thread: the call on ``channel`` starts moving audio (silence until a
        peer connects)."""
        position = self.active[channel] = Position(channel, call)
        return position

    def close(self, channel: int) -> Position | None:
        return self.active.pop(channel, None)

    def by_call(self, call: int) -> Position | None:
        return next((p for p in self.active.values() if p.call == call), None)

    # -- VirtualAudio (engine thread) ------------------------------------------------------
    def read_frames(self) -> tuple[tuple[int, ...], np.ndarray]:
        if self.link is not None:
            self.link.receive()
        ids = tuple(self.active)
        if not ids:
            return (), np.zeros((0, FRAME_SAMPLES), np.int16)
        out = np.empty((len(ids), FRAME_SAMPLES), np.float32)
        for row, ch in enumerate(ids):
            out[row] = self._drain(self.active[ch])
        return ids, np.clip(np.rint(out), -32768, 32767).astype(np.int16)

    def _drain(self, p: Position) -> np.ndarray:
        packets = 0
        while True:
            try:
                pt, seq, ts, ssrc, payload = p.inbound.get_nowait()
            except queue.Empty:
                break
            packets += 1
            if pt in (PCMU, PCMA):
                law: Law = "ulaw" if pt == PCMU else "alaw"
                codes = np.frombuffer(payload, np.uint8)
                p.jitter.push(seq, ts, g711.decode(codes, law), ssrc)
            elif pt == p.dtmf_pt:
                key = p.keys.feed(ts, payload)
                if key is not None:
                    self.module.signal(p.channel, PeerSignal("digit", digit=key))
            else:
                p.ignored_in += 1
        self._watch_media(p, packets)
        return p.jitter.pop()

    def _watch_media(self, p: Position, packets: int) -> None:
        """The page's packets stopping (see :data:`MEDIA_TIMEOUT_TICKS`) and coming back."""
        if packets:
            p.quiet_ticks = 0
            p.had_media = True
            if p.media_lost:
                p.media_lost = False
                if self.on_media is not None:
                    self.on_media(p, "connected", "")
            return
        p.quiet_ticks += 1
        if p.had_media and not p.media_lost and p.quiet_ticks >= MEDIA_TIMEOUT_TICKS:
            p.media_lost = True
            if self.on_media is not None:
                self.on_media(p, "lost", NO_MEDIA)

    def write_frames(self, channels: tuple[int, ...], frames: np.ndarray) -> None:
        samples = np.clip(np.rint(frames), -32768, 32767).astype(np.int16)
        if self.link is not None:
            out = []
            for row, ch in enumerate(channels):
                p = self.active.get(ch)
                if p is not None and p.route:
                    out.append((p.route, g711.encode(samples[row], p.law).tobytes()))
            self.link.send_frames(out)
            return
        woken: list[Callable[[], None]] = []
        for row, ch in enumerate(channels):
            p = self.active.get(ch)
            if p is None or p.peer is None:
                continue
            if len(p.outbound) == MAX_OUTBOUND:
                p.dropped_out += 1
            p.outbound.append(g711.encode(samples[row], p.law).tobytes())
            if p.wake is not None:
                woken.append(p.wake)
        if woken and self.on_frames is not None:
            self.on_frames(woken)
