"""The browser's peer connection (aiortc), on a thread of its own.

aiortc runs on asyncio; the gateway's tick must never wait for it. :class:`WebRtcThread`
owns an event loop in a daemon thread; every peer lives there. A peer hands the RTP
packets it receives straight to its position's inbound queue (before aiortc's own jitter
buffer and decoder, which are not used: the tick's jitter buffer and G.711 tables do that
work, and no decoder thread runs per call) and sends pre-encoded G.711 frames from the
position's outbound queue as the tick delivers them (aiortc packs them as they are).

Facts this follows (../shared/reference/webrtc-browser.md, measured with aiortc 1.16 and
Chromium 156): ``RTCConfiguration(iceServers=[])`` (aiortc's default asks a public STUN
server; a site's LAN needs none); the transceiver and its codec preferences are set
**before** ``setRemoteDescription`` (aiortc applies them there); the answer carries host
candidates only once gathering is complete (aiortc gathers in ``setLocalDescription``).

DTMF as RTP telephone-events (RFC 4733): aiortc does not know the payload format, so the
answer is given an ``a=rtpmap`` line for the offer's ``telephone-event/8000`` payload type
(the browser then may send keys that way; RFC 3264 section 6: the answer lists what it
accepts of the offer's formats), and those packets are taken off before aiortc's codec
lookup, as the audio is.
"""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import re
import sys
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import Future
from typing import Any, TypeVar

import structlog
from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCRtpSender,
    RTCSessionDescription,
)
from aiortc.exceptions import InvalidAccessError, InvalidStateError, OperationError
from aiortc.sdp import candidate_from_sdp
from av.packet import Packet

from trunkline.gateway.webrtc.positions import PCMU, Position

log = structlog.get_logger("trunkline.gateway.webrtc")

__all__ = ["WebRtcPeer", "WebRtcThread", "add_telephone_event", "wake_all"]

T = TypeVar("T")
_TIME_BASE = fractions.Fraction(1, 8000)
#: How often (s) a thread holding the GIL is asked to let another run, once peers run.
SWITCH_INTERVAL = 0.001
#: Frames left waiting to be sent at most (the rest is dropped): a tick that caught up
#: after a stall delivers several at once; two are sent back to back, older ones go.
KEEP_OUTBOUND = 2


class WebRtcThread:
    """An asyncio loop in a daemon thread, for every peer of the gateway."""

    def __init__(self) -> None:
        # The peers' Python work (RTP, SRTP, ICE) holds the GIL in stretches; a thread
        # waiting for it waits up to the switch interval (5 ms by default), and the
        # media tick is such a thread: ask for the GIL to change hands every 1 ms.
        sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL))
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._main, name="trunkline-webrtc",
                                        daemon=True)
        self._thread.start()

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def submit(self, coro: Coroutine[Any, Any, T]) -> Future[T]:
        """Run ``coro`` on the WebRTC loop (any thread); its result in a Future."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def stop(self) -> None:
        if self.loop.is_running():
            self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)


def add_telephone_event(offer: str, answer: str) -> tuple[str, int | None]:
    """``answer`` accepting the offer's ``telephone-event/8000`` (its payload type added
    to the audio m-line with its rtpmap and fmtp), and that payload type (None: the offer
    had none)."""
    match = re.search(r"a=rtpmap:(\d+) telephone-event/8000", offer, re.IGNORECASE)
    if match is None:
        return answer, None
    pt = int(match.group(1))
    lines = answer.split("\r\n")
    out = []
    in_audio = False
    for line in lines:
        if line.startswith("m="):
            in_audio = line.startswith("m=audio")
            if in_audio:
                line = f"{line} {pt}"
        out.append(line)
        if in_audio and line.startswith("a=rtpmap:") and f"a=rtpmap:{pt} " not in answer:
            out.append(f"a=rtpmap:{pt} telephone-event/8000")
            out.append(f"a=fmtp:{pt} 0-15")
            in_audio = False  # once
    return "\r\n".join(out), pt


class WebRtcPeer:
    """One browser's peer connection for ``position`` (WebRTC thread only).

    ``on_state(kind, reason)`` hears ``connected``, ``lost`` and ``closed`` (any thread
    may be the caller's; it must not block).
    """

    def __init__(self, position: Position, *, ice_servers: list[dict[str, Any]],
                 on_state: Callable[[str, str], None]) -> None:
        self.position = position
        self.ice_servers = ice_servers
        self.on_state = on_state
        self.pc: Any = None
        self.closed = False

    async def answer(self, offer: str) -> str:
        """The answer to the page's ``offer`` (SDP), host candidates included."""
        if not re.search(r"a=rtpmap:\d+ (PCMU|PCMA)/8000", offer, re.IGNORECASE):
            raise ValueError("the offer has neither PCMU nor PCMA: the softphone sends "
                             "G.711 only")
        config = RTCConfiguration(iceServers=[RTCIceServer(**s) for s in self.ice_servers])
        pc = self.pc = RTCPeerConnection(config)
        track = _OutboundTrack(self.position)
        transceiver = pc.addTransceiver(track, direction="sendrecv")
        g711 = [c for c in RTCRtpSender.getCapabilities("audio").codecs
                if c.mimeType.lower() in ("audio/pcmu", "audio/pcma")]
        transceiver.setCodecPreferences(g711)
        receiver = transceiver.receiver
        receiver._handle_rtp_packet = self._on_rtp  # type: ignore[method-assign] # first
        pc.on("connectionstatechange", self._state_changed)
        try:
            await pc.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
            await pc.setLocalDescription(await pc.createAnswer())
        except (ValueError, InvalidAccessError, InvalidStateError, OperationError) as err:
            await self.close()   # aiortc's errors for offers it cannot take
            raise ValueError(f"cannot answer the offer: {type(err).__name__}: {err}"
                             ) from None
        codecs = transceiver._codecs
        if not codecs:
            await self.close()
            raise ValueError("the offer has neither PCMU nor PCMA: the softphone sends "
                             "G.711 only")
        self.position.law = "ulaw" if codecs[0].payloadType == PCMU else "alaw"
        track.law = self.position.law
        answer, self.position.dtmf_pt = add_telephone_event(offer, pc.localDescription.sdp)
        if self.position.dtmf_pt is not None:
            # aiortc's router drops packets of payload types its codecs do not name: the
            # telephone-events are this receiver's too.
            router = receiver.transport._rtp_router
            router.payload_type_table.setdefault(self.position.dtmf_pt, set()).add(receiver)
        return answer

    async def add_candidate(self, candidate: str, mid: str | None,
                            index: int | None) -> None:
        """A trickled ICE candidate of the page (empty: the end of its candidates)."""
        if self.pc is None:
            raise ValueError("no offer yet: send the offer first")
        if not candidate:
            await self.pc.addIceCandidate(None)
            return
        parsed = candidate_from_sdp(candidate.removeprefix("candidate:"))
        parsed.sdpMid, parsed.sdpMLineIndex = mid, index
        await self.pc.addIceCandidate(parsed)

    async def _on_rtp(self, packet: Any, arrival_time_ms: int = 0) -> None:
        self.position.inbound.put((packet.payload_type, packet.sequence_number,
                                   packet.timestamp, packet.ssrc, bytes(packet.payload)))

    async def _state_changed(self) -> None:
        state = self.pc.connectionState if self.pc is not None else "closed"
        log.info("webrtc_state", call=self.position.call, channel=self.position.channel,
                 state=state)
        if self.closed:
            return
        if state == "connected":
            self.on_state("connected", "")
        elif state in ("failed", "disconnected", "closed"):
            self.on_state("lost", f"ice_{state}")
            if state == "failed":
                await self.close()

    async def stats(self) -> dict[str, Any]:
        return {"state": self.pc.connectionState if self.pc is not None else "new"}

    async def close(self) -> None:
        self.closed = True
        if self.pc is not None:
            with contextlib.suppress(Exception):
                await self.pc.close()


class _OutboundTrack(MediaStreamTrack):  # type: ignore[misc]
    """G.711 frames from the tick, each sent as soon as the tick delivers it (its
    position's :attr:`~Position.wake`), frames piling up dropped (the outbound queue's
    bound, :data:`KEEP_OUTBOUND`).

    Why the tick's clock and not one of this loop's own: a 20 ms clock per track made a
    frame wait 0-20 ms for its track's turn (10 ms on average, up to 40 ms with the two
    frames kept for the two clocks' drift), and woke this loop once per peer and frame:
    50 wakes every 20 ms at 50 peers, each a hand-over of the GIL where the tick shares
    it. Now the tick's frames go out together in one loop turn, as the tick made them.
    A tick that stalls sends nothing meanwhile (the browser conceals the gap); RTP
    timestamps count the frames sent."""

    kind = "audio"

    def __init__(self, position: Position) -> None:
        super().__init__()
        self.position = position
        self.law = position.law
        self._n = 0
        self._waiter: asyncio.Future[None] | None = None
        position.wake = self.wake

    def wake(self) -> None:
        """Frames wait in the outbound queue (this loop's thread)."""
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def recv(self) -> Packet:
        queue = self.position.outbound
        while not queue:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        while len(queue) > KEEP_OUTBOUND:    # the tick ran ahead: keep the delay short
            queue.popleft()
            self.position.dropped_out += 1
        packet = Packet(queue.popleft())
        packet.pts = self._n * 160
        packet.time_base = _TIME_BASE
        self._n += 1
        return packet


def wake_all(wakes: list[Callable[[], None]]) -> None:
    """Call every track's wake (on the WebRTC loop, once a tick: ``Positions.on_frames``
    of the in-process peers)."""
    for wake in wakes:
        wake()
