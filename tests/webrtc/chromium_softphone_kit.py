"""What the Chromium softphone tests share: the dialer service started on a gateway's
socket (``trunkline dialer serve --gateway``, a real process) and headless Chromium with
its fake microphone fed from a WAV (../shared/reference/webrtc-browser.md, the flags)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "desk_web"))

from desk_browser_kit import CHROMIUM_ARGS, chromium_missing, free_port

__all__ = ["OPTIONS", "fake_microphone_args", "needs_chromium", "serve", "stop"]

#: The page's audio without processing: the keys and the tone as they are.
OPTIONS = ("window.trunklineSoftphoneOptions = {processing: {echoCancellation: false, "
           "noiseSuppression: false, autoGainControl: false}};")


def needs_chromium() -> None:
    """Skip where Chromium or Playwright is missing (fail under CI=true)."""
    why = chromium_missing()
    if why:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI: the browser tests must run: {why}")
        pytest.skip(why)


def fake_microphone_args(wav: Path) -> list[str]:
    """Chromium's arguments: headless, the microphone allowed and fed from ``wav``."""
    return [*CHROMIUM_ARGS, "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream", f"--use-file-for-fake-audio-capture={wav}",
            "--autoplay-policy=no-user-gesture-required"]


def serve(db: Path, socket: str) -> tuple[subprocess.Popen, str]:
    """``trunkline dialer serve --gateway socket`` on ``db``; the process and its URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "trunkline.cli", "dialer", "serve", "--gateway", socket,
         "--db", str(db), "--listen", f"127.0.0.1:{port}", "--drain", "5"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})
    end = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            raise AssertionError(f"the service exited: {proc.stderr.read()}")
        try:
            httpx.get(f"{url}/openapi.json", timeout=2.0)
            return proc, url
        except httpx.TransportError:
            if time.monotonic() > end:
                proc.kill()
                raise AssertionError("the service did not come up") from None
            time.sleep(0.2)


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
