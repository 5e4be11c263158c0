"""Real browsers for ``bench_webrtc.py``: pages of headless Debian Chromium (Playwright,
``/usr/bin/chromium``; never ``playwright install``), each a peer connection to a gateway
position, their fake microphone playing a 1 kHz tone from a WAV.

Why real browsers beside the aiortc clients: Chromium's RTP (its own pacing, RTCP, its
SRTP, its consent checks every few seconds) is what sites run; aiortc clients are the
bulk load only. The page is this module's own (not the desk: the benchmark measures the
gateway, not the dialer service): ``getUserMedia`` without processing, PCMU preferred, the
offer posted once ICE gathering is complete, the remote stream on a muted ``<audio>``
element and an AnalyserNode (the facts of ../shared/reference/webrtc-browser.md). The
benchmark relays the offer to ``webrtc.offer`` and the answer back.

Each page reports its connection state and the strongest frequency it hears: bridged in
pairs, each page hears the other's tone through the gateway (about 1 kHz when the audio
crosses).
"""

from __future__ import annotations

import http.server
import socketserver
import threading
import time
import wave
from pathlib import Path
from typing import Any

import numpy as np

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
        "--autoplay-policy=no-user-gesture-required", "--allow-loopback-in-peer-connection"]

PAGE = """<!doctype html><meta charset="utf-8"><title>bench peer</title>
<audio id="far" muted autoplay></audio>
<script>
let pc, analyser;
async function makeOffer() {
  const mic = await navigator.mediaDevices.getUserMedia({audio: {
    echoCancellation: false, noiseSuppression: false, autoGainControl: false}});
  pc = new RTCPeerConnection({iceServers: []});
  const t = pc.addTransceiver(mic.getAudioTracks()[0], {direction: "sendrecv"});
  const g711 = RTCRtpReceiver.getCapabilities("audio").codecs
    .filter(c => c.mimeType === "audio/PCMU" || c.mimeType === "audio/PCMA");
  t.setCodecPreferences(g711);
  pc.ontrack = (ev) => {
    const stream = ev.streams[0] || new MediaStream([ev.track]);
    document.getElementById("far").srcObject = stream;
    const ctx = new AudioContext();
    analyser = ctx.createAnalyser();
    analyser.fftSize = 2048;
    ctx.createMediaStreamSource(stream).connect(analyser);
  };
  await pc.setLocalDescription(await pc.createOffer());
  if (pc.iceGatheringState !== "complete") {
    await new Promise(ok => pc.addEventListener("icegatheringstatechange",
      () => { if (pc.iceGatheringState === "complete") ok(); }));
  }
  return pc.localDescription.sdp;
}
async function accept(sdp) { await pc.setRemoteDescription({type: "answer", sdp}); }
function state() { return pc ? pc.connectionState : "new"; }
function peak() {
  if (!analyser) return [0, -200];
  const bins = new Float32Array(analyser.frequencyBinCount);
  analyser.getFloatFrequencyData(bins);
  let best = 1;
  for (let i = 2; i < bins.length; i++) if (bins[i] > bins[best]) best = i;
  return [best * analyser.context.sampleRate / analyser.fftSize, bins[best]];
}
</script>"""


def tone_wav(path: Path, seconds: float = 4.0) -> Path:
    """A 1 kHz tone at about -9 dBFS, 8 kHz 16-bit mono: what the pages' microphones say."""
    t = np.arange(int(8000 * seconds)) / 8000.0
    samples = (11600 * np.sin(2 * np.pi * 1000 * t)).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(samples.tobytes())
    return path


class _Page(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = PAGE.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


class BrowserPeers:
    """``count`` Chromium pages (one browser) ready to offer; ``close`` ends them all."""

    def __init__(self, count: int, folder: Path) -> None:
        from playwright.sync_api import sync_playwright

        self.http = socketserver.TCPServer(("127.0.0.1", 0), _Page)
        threading.Thread(target=self.http.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{self.http.server_address[1]}/"
        wav = tone_wav(folder / "tone.wav")
        self._pw = sync_playwright().start()
        self.browser = self._pw.chromium.launch(
            executable_path=CHROMIUM, args=[*ARGS, f"--use-file-for-fake-audio-capture={wav}"])
        context = self.browser.new_context(permissions=["microphone"])
        self.pages = [context.new_page() for _ in range(count)]
        for page in self.pages:
            page.goto(url)

    def connect(self, index: int, client: Any, call: int) -> None:
        """Page ``index`` connected to position ``call`` (``client``: the gateway's)."""
        page = self.pages[index]
        offer = page.evaluate("makeOffer()")
        answer = client.call("webrtc.offer", call=call, sdp=offer)["sdp"]
        page.evaluate("(sdp) => accept(sdp)", answer)

    def states(self) -> list[str]:
        return [str(page.evaluate("state()")) for page in self.pages]

    def peaks(self, reads: int = 10) -> list[tuple[float, float]]:
        """Each page's strongest frequency (Hz) in what it hears, and its level (dB): the
        loudest of ``reads`` readings 0.1 s apart (an analyser reads the last 43 ms, which
        a late tick may have left silent)."""
        best: list[tuple[float, float]] = [(0.0, float("-inf"))] * len(self.pages)
        for _ in range(reads):
            for i, page in enumerate(self.pages):
                hz, db = page.evaluate("peak()")
                if db is not None and float(db) > best[i][1]:
                    best[i] = (float(hz), float(db))
            time.sleep(0.1)
        return best

    def close(self) -> None:
        try:
            self.browser.close()
        finally:
            self._pw.stop()
            self.http.shutdown()
            self.http.server_close()
