"""What the Chromium softphone tests share: the dialer service started on a gateway's
socket (``trunkline dialer serve --gateway``, a real process) and headless Chromium with
its fake microphone fed from a WAV (../shared/reference/webrtc-browser.md, the flags)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "desk_web"))

from desk_browser_kit import CHROMIUM, CHROMIUM_ARGS, abandon_wav, chromium_missing, free_port

__all__ = ["OPTIONS", "BrowserNetwork", "browser_network", "customers_plan",
           "fake_microphone_args", "needs_chromium", "serve", "stop"]

#: The page's audio without processing: the keys and the tone as they are.
OPTIONS = ("window.trunklineSoftphoneOptions = {processing: {echoCancellation: false, "
           "noiseSuppression: false, autoGainControl: false}};")


def customers_plan(talk: int) -> str:
    """The emulated network's plan for these tests: the customers (138...) answer in 1-1.5 s
    and talk for ``talk`` seconds, long enough for each test's checks."""
    return f"""spec = "1.0"
zone = "cn"
seed = 1
max_digits = 11
[[subscriber]]
number = "138*"
behaviour = "human"
answer_after = [1.0, 1.5]
talk = [{talk}, {talk}]
"""


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


def serve(db: Path, socket: str, *, host: str = "127.0.0.1", extra: tuple[str, ...] = ()
          ) -> tuple[subprocess.Popen, str]:
    """``trunkline dialer serve --gateway socket`` on ``db`` (``extra``: more options),
    listening on ``host``; the process and its URL. Its abandon message is
    ``db``'s folder's ``prompts/sorry.wav`` (the campaign's regime, us, needs one): the
    gateway's prompts folder must hold it (``GatewayConfig(prompts=tmp_path)``)."""
    port = free_port()
    url = f"http://{host}:{port}"
    sorry = abandon_wav(db.parent)
    proc = subprocess.Popen(
        [sys.executable, "-m", "trunkline.cli", "dialer", "serve", "--gateway", socket,
         "--db", str(db), "--listen", f"{host}:{port}", "--drain", "5",
         "--abandon-file", str(sorry), *extra],
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


@dataclass(frozen=True)
class BrowserNetwork:
    """A network namespace of its own for Chromium, joined to this host by one veth
    pair: the agent's PC and its cable. ``down()`` pulls the cable (the host's end of
    the pair goes down: nothing passes either way), ``up()`` plugs it back."""

    namespace: str
    host_end: str
    host_ip: str          # this host's address on the cable (the service, the gateway)
    chromium: Path        # runs /usr/bin/chromium inside the namespace

    def down(self) -> None:
        _ip("link", "set", self.host_end, "down")

    def up(self) -> None:
        _ip("link", "set", self.host_end, "up")


def _ip(*args: str) -> None:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=10)
    if done.returncode != 0:
        raise OSError(f"ip {' '.join(args)}: {done.stderr.strip()}")


@contextmanager
def browser_network(folder: Path) -> Iterator[BrowserNetwork]:
    """A :class:`BrowserNetwork` (removed afterwards). Needs root (CAP_NET_ADMIN) and
    iproute2: skipped without them, since no test can pull a real cable otherwise."""
    if shutil.which("ip") is None or os.geteuid() != 0:
        pytest.skip("a network namespace for the browser needs root and iproute2 (ip)")
    tag = f"{os.getpid() % 100000}"
    namespace, host_end, pc_end = f"trunkline-sp{tag}", f"tlsp{tag}h", f"tlsp{tag}p"
    net = f"10.{200 + os.getpid() % 50}.{os.getpid() % 250}"
    try:
        _ip("netns", "add", namespace)
    except OSError as err:
        pytest.skip(f"no network namespace here: {err}")
    try:
        _ip("link", "add", host_end, "type", "veth", "peer", "name", pc_end)
        _ip("link", "set", pc_end, "netns", namespace)
        _ip("addr", "add", f"{net}.1/24", "dev", host_end)
        _ip("link", "set", host_end, "up")
        _ip("-n", namespace, "addr", "add", f"{net}.2/24", "dev", pc_end)
        _ip("-n", namespace, "link", "set", pc_end, "up")
        _ip("-n", namespace, "link", "set", "lo", "up")
        wrapper = folder / "chromium-in-namespace"
        wrapper.write_text(f'#!/bin/sh\nexec ip netns exec {namespace} {CHROMIUM} "$@"\n')
        wrapper.chmod(0o755)
        yield BrowserNetwork(namespace, host_end, f"{net}.1", wrapper)
    finally:
        subprocess.run(["ip", "link", "del", host_end], capture_output=True, timeout=10)
        subprocess.run(["ip", "netns", "del", namespace], capture_output=True, timeout=10)
