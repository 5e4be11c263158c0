"""The supervisor console (/console) in a real browser (headless Chromium) against
``trunkline dialer serve --virtual``: the live floor fills in and updates every second
(campaign gauge, agents, spans), a refused and an accepted change of the running
campaign's abandon target, an agent paused from the console, the supervisor's phone
logged in and whispering to an agent on a call, then barging in, and the page in Chinese.

Whisper is checked by audio on the customer's side: the supervisor's phone is the
emulated network's modem subscriber, which sends a steady 2100 Hz answer tone, and the
call's recording (its right channel is what the customer was sent, after the
supervisor's mix) has it while barging and none of it while whispering. The page barges
in, whispers for 3 s, then barges in again: the whisper is the gap between the tone's two
runs, read in the recording's own time. Cutting the recording at wall-clock times was
the race that made this test flaky under load (at load 14, tone frames in the "whispered"
stretch): the emulated card drops frames when the engine is late, so the recording falls
behind the wall clock. The tone is measured by its own level in each 20 ms frame, not by
its share of the frame's energy, which the agent's voice mixed over it lowered now and
then (0.72 against a bound of 0.8 at load 12).
That the agent hears the whisper is checked by audio elsewhere: the agent's FXS phone
here lives inside the service process, where this test cannot listen; the agent's page
in tests/webrtc/test_webrtc_chromium.py hears a whisper (and its customer does not),
and tests/gateway_media/test_supervise_audio.py checks every mode on the card."""

from __future__ import annotations

import io
import os
import time
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from desk_browser_kit import (
    PASSWORDS,
    browser,
    chromium_missing,
    console_page,
    make_db,
    served,
    start_campaign,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    why = chromium_missing()
    if why:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI: the browser tests must run: {why}")
        pytest.skip(why)
    db = make_db(Path(tmp_path_factory.mktemp("console")))
    with served(db) as url, browser() as chromium:
        start_campaign(url)
        yield url, chromium


def _agent(url: str, name: str) -> httpx.Client:
    client = httpx.Client(base_url=url, timeout=30.0)
    token = client.post("/api/login", json={"name": name, "password": PASSWORDS[name]}
                        ).json()["csrf_token"]
    client.headers["X-CSRF-Token"] = token
    client.headers["Origin"] = url
    return client


def _console(chromium: Any, url: str, locale: str = "en-US") -> Any:
    return console_page(chromium, url, locale)


def test_the_floor_fills_in_and_updates(service: tuple[str, Any]) -> None:
    url, chromium = service
    page = _console(chromium, url)
    row = "[data-testid=campaigns] tr[data-campaign=loans]"
    page.wait_for_selector(f"{row}[data-state=running]", timeout=30_000)
    assert page.get_attribute(f"{row} [data-testid=gauge]", "data-level") == "ok"
    assert "3.0%" in page.text_content(f"{row} [data-testid=gauge]")
    assert page.locator("[data-testid=spans] tbody tr").count() == 6
    assert "channels in use" in page.text_content("[data-testid=span-totals]")
    first = page.text_content("[data-testid=floor-updated]")
    page.wait_for_function(
        "t => document.querySelector('[data-testid=floor-updated]').textContent !== t",
        arg=first, timeout=5_000)                       # a new floor within seconds
    assert page.text_content("[data-testid=connection]") == "live"


def test_pacing_changed_from_the_page(service: tuple[str, Any]) -> None:
    url, chromium = service
    page = _console(chromium, url)
    row = "[data-testid=campaigns] tr[data-campaign=loans]"
    page.wait_for_selector(row)
    pace = f"{row} [data-testid=pace]"   # the engine's risk limit per dial (from 3 %)
    page.wait_for_selector(pace, timeout=30_000)
    page.click(f"{row} [data-testid=campaign-settings]")
    page.fill("[data-testid=settings-target-abandon]", "5")
    page.click("[data-testid=settings-apply]")
    page.wait_for_selector("[data-testid=settings-error]:has-text('above the us cap')")
    page.fill("[data-testid=settings-target-abandon]", "2")
    page.click("[data-testid=settings-apply]")
    page.wait_for_selector("[data-testid=toast]:has-text('target_abandon 0.03 → 0.02')")
    page.wait_for_selector(  # the floor shows the target the pacing engine now holds
        f"{row} [data-testid=target-abandon]:has-text('target 2.0%')", timeout=5_000)
    # ... and the pacing it does: the pacer, made anew, holds each dial to 2 % risk
    page.wait_for_function(
        "p => parseFloat(document.querySelector(p).dataset.pace) < 0.021", arg=pace,
        timeout=5_000)
    assert "risk ≤ 2.0% a dial" in page.text_content(pace)
    boss = _agent(url, "boss")
    entries = boss.get("/api/audit", params={"action": "campaign.settings"}).json()
    assert [e["details"]["result"] for e in entries][:2] == ["ok", "refused"]
    page.wait_for_function(  # the gauge's cap follows (us: the regime's 3 % stays)
        "() => document.querySelector('[data-campaign=loans] [data-testid=gauge]')"
        ".textContent.includes('3.0%')")
    # the agent-wait target, under that abandon target
    page.click(f"{row} [data-testid=campaign-settings]")
    page.fill("[data-testid=settings-agent-wait-target]", "20")
    page.click("[data-testid=settings-apply]")
    page.wait_for_selector("[data-testid=toast]:has-text('agent_wait_target 0 → 20')")


#: A frame carries the tone when the tone's own component is above this level. Measured
#: (20 ms frames of a whisper test's recording): -15 to -18 dBFS while barging, whatever
#: the agent says over it; at most -55 dBFS otherwise, the agent's voice included.
TONE_DBFS = -30.0


def _tone_frames(samples: np.ndarray, hz: tuple[float, ...]) -> np.ndarray:
    """Per 20 ms frame, whether one of ``hz`` is heard above ``TONE_DBFS``: the
    amplitude of its component (a single-bin DFT projection per frame) against full
    scale, whatever else is in the frame."""
    n = len(samples) // 160
    x = samples[:n * 160].reshape(n, 160).astype(np.float64)
    t = np.arange(160) / 8000.0
    level = np.zeros(n)
    for f in hz:
        c, s = x @ np.cos(2 * np.pi * f * t), x @ np.sin(2 * np.pi * f * t)
        level = np.maximum(level, 2 * np.sqrt(c * c + s * s) / 160)
    return np.asarray(level > 32768 * 10 ** (TONE_DBFS / 20))


def _runs(on: np.ndarray, bridge: int) -> list[tuple[int, int]]:
    """The runs of True in ``on`` as (first, end) indexes, gaps shorter than ``bridge``
    closed (a frame the card dropped is not the end of a run)."""
    runs: list[tuple[int, int]] = []
    for i in np.flatnonzero(on).tolist():
        if runs and i - runs[-1][1] < bridge:
            runs[-1] = (runs[-1][0], i + 1)
        else:
            runs.append((i, i + 1))
    return runs


#: What the sample network's modem subscriber (0106*) sends from its answer until it
#: hangs up 35 s later: ANSam, 2100 Hz (ITU-T V.8), the supervisor's "voice" here.
ANSWER_TONE = (2100.0,)


def test_a_supervisor_whispers_to_an_agent_from_the_page(service: tuple[str, Any]) -> None:
    url, chromium = service
    page = _console(chromium, url)
    li = _agent(url, "li")
    assert li.post("/api/desk/login", json={"position": "fxs", "address": "71",
                                             "campaigns": [{"name": "loans"}]}
                   ).status_code == 202
    agent_row = "[data-testid=agents] tr[data-agent=li]"
    page.wait_for_selector(f"{agent_row}[data-state=paused]", timeout=60_000)
    # the system's own reason in the page's words (a site's pause code is shown as is)
    page.wait_for_selector(f"{agent_row}:has-text('just logged in')", timeout=10_000)
    page.fill("[data-testid=force-pause-reason]", "coaching")
    page.click(f"{agent_row} [data-testid=force-pause]")
    page.wait_for_selector(f"{agent_row}:has-text('coaching')", timeout=30_000)
    assert li.post("/api/desk/ready").status_code == 202
    # the supervisor's phone is the network's modem subscriber: what it "says" is known.
    # Rung while li's call comes (it answers in 2-4 s and hangs up 35 s later)
    page.select_option("[data-testid=position-kind]", "number")
    page.fill("[data-testid=position-address]", "01060000001")
    page.click("[data-testid=position-login]")
    page.wait_for_selector("[data-testid=position-status]:has-text('At number')")
    page.wait_for_selector(f"{agent_row}[data-state=talking]", timeout=90_000)
    deadline = time.monotonic() + 20
    while True:  # the supervisor's phone answers within seconds of ringing
        page.click(f"{agent_row} [data-testid=monitor-barge]")
        try:
            page.wait_for_selector("[data-testid=position-status][data-mode=barge]",
                                   timeout=1_500)
            break
        except Exception:
            if time.monotonic() > deadline:
                raise
    time.sleep(1.0)              # the tone's first run: the customer hears the supervisor
    page.click(f"{agent_row} [data-testid=monitor-whisper]")
    page.wait_for_selector("[data-testid=position-status][data-mode=whisper]")
    whisper = time.time()        # the gateway whispers since before this
    assert "Whispering" in page.text_content("[data-testid=position-status]")
    assert "active" in (page.get_attribute(f"{agent_row} [data-testid=monitor-whisper]",
                                           "class") or "")
    time.sleep(3.0)
    barge_asked = time.time()    # ... and until after this
    page.click(f"{agent_row} [data-testid=monitor-barge]")
    page.wait_for_selector("[data-testid=position-status][data-mode=barge]")
    time.sleep(1.5)              # the tone's second run
    page.click("[data-testid=monitor-stop]")
    page.wait_for_selector("[data-testid=position-status][data-mode='']")
    boss = _agent(url, "boss")
    modes = [e["details"].get("mode") for e in boss.get(
        "/api/audit", params={"action": "supervisor.monitor"}).json()
        if e["details"].get("result") == "ok"]
    assert "whisper" in modes and "stop" in modes
    assert li.post("/api/desk/hangup").status_code == 202
    rec = None
    end = time.monotonic() + 20
    while rec is None and time.monotonic() < end:  # the call's recording, once complete
        items = boss.get("/api/recordings", params={"agent": "li", "state": "complete"}
                         ).json()["items"]
        rec = next((r for r in items if r["started_at"] < whisper), None)
        time.sleep(0.3)
    assert rec is not None, "the whispered call's recording"
    wav = boss.get(f"/api/recordings/{rec['id']}/audio").content
    with wave.open(io.BytesIO(wav)) as w:
        frames = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").reshape(-1, 2)
    sent = frames[:, 1]                     # right: what the customer was sent
    # Barging, then whispering, then barging: two runs of the tone, and between them
    # the whisper with no frame of it, at least half as long as the page whispered (the
    # recording is shorter than the wall clock by the frames dropped under load). A leak
    # would fill the gap: one run, or more than two.
    tone = _tone_frames(sent, ANSWER_TONE)
    runs = _runs(tone, bridge=10)
    assert len(runs) == 2, f"tone runs (20 ms frames) {runs}"
    (_, first_end), (second, second_end) = runs
    whispered = (second - first_end) * 0.02
    assert whispered >= 0.5 * (barge_asked - whisper), (whispered, barge_asked - whisper)
    # barging, nearly every frame carries the tone (a dropped frame or two bridged)
    assert (second_end - second) * 0.02 >= 0.5
    assert tone[second:second_end].mean() > 0.8


def test_the_console_in_chinese(service: tuple[str, Any]) -> None:
    url, chromium = service
    page = _console(chromium, url, locale="zh-CN")
    assert page.title() == "trunkline - 班长监控台"
    assert page.text_content("[data-testid=campaigns-panel] h2") == "外呼任务"
    page.select_option("[data-testid=language]", "en")
    assert page.text_content("[data-testid=campaigns-panel] h2") == "Campaigns"
    page.select_option("[data-testid=language]", "zh-CN")
    assert "状态时长" in page.text_content("[data-testid=agents] thead")
    assert page.text_content("[data-testid=position-login]") == "登录话机"
