"""A Python WebRTC "browser" (aiortc) for the softphone's tests and benchmark: it sends
audio from a buffer (looping silence after it) and keeps what it receives."""

from __future__ import annotations

import asyncio
import fractions
import threading
import time
from typing import Any

import numpy as np
from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCPeerConnection,
    RTCRtpSender,
    RTCSessionDescription,
)
from av import AudioFrame
from av.packet import Packet

from trunkline.drivers.dsp import g711

_TB = fractions.Fraction(1, 8000)


class BufferTrack(MediaStreamTrack):  # type: ignore[misc]
    """20 ms frames of ``samples`` (int16, 8 kHz), then silence; ``play`` queues more."""

    kind = "audio"

    def __init__(self, raw: bool = False) -> None:
        super().__init__()
        self.raw = raw
        self.queue = np.zeros(0, np.int16)
        self.lock = threading.Lock()
        self._start: float | None = None
        self._n = 0
        #: monotonic time each queued chunk's first sample went out
        self.sent_at: list[float] = []
        self._marks: list[int] = []

    def play(self, samples: np.ndarray) -> None:
        with self.lock:
            self._marks.append(len(self.queue))
            self.queue = np.concatenate([self.queue, samples.astype(np.int16)])

    async def recv(self) -> AudioFrame | Packet:
        if self._start is None:
            self._start = time.monotonic()
        wait = self._start + self._n * 0.02 - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        with self.lock:
            chunk = self.queue[:160]
            self.queue = self.queue[160:]
            if self._marks and self._marks[0] < 160:
                self.sent_at.append(time.monotonic())
                self._marks.pop(0)
            self._marks = [m - 160 for m in self._marks]
        data = np.zeros(160, np.int16)
        data[:len(chunk)] = chunk
        pts, self._n = self._n * 160, self._n + 1
        out: AudioFrame | Packet
        if self.raw:   # G.711 bytes as they go on the wire: no encoder work per frame
            out = Packet(g711.encode(data, "ulaw").tobytes())
        else:
            out = AudioFrame.from_ndarray(data.reshape(1, -1), format="s16", layout="mono")
            out.sample_rate = 8000
        out.pts = pts
        out.time_base = _TB
        return out


class ClientLoop:
    """An asyncio loop in a thread, shared by many PyBrowsers (the benchmark's 50)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)


class PyBrowser:
    """One peer connection to a gateway position, on its own asyncio loop thread (or on
    ``shared``'s)."""

    def __init__(self, codec: str = "PCMU", shared: ClientLoop | None = None, *,
                 raw: bool = False) -> None:
        self.own = shared is None
        self.looper = shared or ClientLoop()
        self.loop = self.looper.loop
        self.raw = raw   # PCMU packets sent and read as they are (the benchmark's load)
        self.track = BufferTrack(raw)
        self.codec = codec
        self.received: list[np.ndarray] = []
        self.received_at: list[float] = []
        self.pc: Any = None
        self._reader: Any = None

    def _run(self, coro: Any, timeout: float = 30.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def offer(self) -> str:
        async def make() -> str:
            self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
            transceiver = self.pc.addTransceiver(self.track, direction="sendrecv")
            transceiver.setCodecPreferences(
                [c for c in RTCRtpSender.getCapabilities("audio").codecs
                 if c.mimeType == f"audio/{self.codec}"])

            if self.raw:
                transceiver.receiver._handle_rtp_packet = self._on_rtp
            else:
                @self.pc.on("track")
                def on_track(track: Any) -> None:
                    self._reader = asyncio.ensure_future(self._read(track))

            await self.pc.setLocalDescription(await self.pc.createOffer())
            return str(self.pc.localDescription.sdp)
        return str(self._run(make()))

    def accept(self, answer: str) -> None:
        self._run(self.pc.setRemoteDescription(RTCSessionDescription(answer, "answer")))

    async def _read(self, track: Any) -> None:
        while True:
            try:
                frame = await track.recv()
            except Exception:
                return
            self.received.append(frame.to_ndarray().reshape(-1).astype(np.int16))
            self.received_at.append(time.monotonic())

    async def _on_rtp(self, packet: Any, arrival_time_ms: int = 0) -> None:
        if packet.payload_type == 0:
            self.received.append(g711.decode(np.frombuffer(packet.payload, np.uint8),
                                             "ulaw"))
            self.received_at.append(time.monotonic())

    def heard(self) -> np.ndarray:
        return np.concatenate(self.received) if self.received else np.zeros(0, np.int16)

    @property
    def state(self) -> str:
        return str(self.pc.connectionState) if self.pc is not None else "new"

    def close(self) -> None:
        if self.pc is not None:
            self._run(self.pc.close())
        if self.own:
            self.looper.stop()


def connect(client: Any, call: int, codec: str = "PCMU",
            shared: ClientLoop | None = None, *, raw: bool = False) -> PyBrowser:
    """A PyBrowser connected to position ``call`` through ``client``'s webrtc.offer."""
    browser = PyBrowser(codec, shared, raw=raw)
    reply = client.call("webrtc.offer", call=call, sdp=browser.offer())
    browser.accept(reply["sdp"])
    return browser
