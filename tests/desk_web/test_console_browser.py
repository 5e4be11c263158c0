"""The supervisor console (/console) in a real browser (headless Chromium) against
``trunkline dialer serve --virtual``: the live floor fills in and updates every second
(campaign gauge, agents, spans), a refused and an accepted change of the running
campaign's abandon target, an agent paused from the console, the supervisor's FXS phone
logged in and whispering to an agent on a call, and the page in Chinese."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
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
    page.click(f"{row} [data-testid=campaign-settings]")
    page.fill("[data-testid=settings-target-abandon]", "5")
    page.click("[data-testid=settings-apply]")
    page.wait_for_selector("[data-testid=settings-error]:has-text('above the us cap')")
    page.fill("[data-testid=settings-target-abandon]", "2")
    page.click("[data-testid=settings-apply]")
    page.wait_for_selector("[data-testid=toast]:has-text('target_abandon 0.03 → 0.02')")
    page.wait_for_selector(  # the floor shows the target the pacing engine now holds
        f"{row} [data-testid=target-abandon]:has-text('target 2.0%')", timeout=5_000)
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


def test_a_supervisor_whispers_to_an_agent_from_the_page(service: tuple[str, Any]) -> None:
    url, chromium = service
    page = _console(chromium, url)
    li = _agent(url, "li")
    assert li.post("/api/desk/login", json={"position": "fxs", "address": "71",
                                             "campaigns": [{"name": "loans"}]}
                   ).status_code == 202
    agent_row = "[data-testid=agents] tr[data-agent=li]"
    page.wait_for_selector(f"{agent_row}[data-state=paused]", timeout=60_000)
    page.fill("[data-testid=force-pause-reason]", "coaching")
    page.click(f"{agent_row} [data-testid=force-pause]")
    page.wait_for_selector(f"{agent_row}:has-text('coaching')", timeout=30_000)
    page.select_option("[data-testid=position-kind]", "fxs")
    page.fill("[data-testid=position-address]", "72")
    page.click("[data-testid=position-login]")
    page.wait_for_selector("[data-testid=position-status]:has-text('At fxs 72')")
    assert li.post("/api/desk/ready").status_code == 202
    page.wait_for_selector(f"{agent_row}[data-state=talking]", timeout=90_000)
    deadline = time.monotonic() + 20
    while True:  # the supervisor's phone answers within seconds of ringing
        page.click(f"{agent_row} [data-testid=monitor-whisper]")
        try:
            page.wait_for_selector("[data-testid=position-status][data-mode=whisper]",
                                   timeout=1_500)
            break
        except Exception:
            if time.monotonic() > deadline:
                raise
    assert "Whispering" in page.text_content("[data-testid=position-status]")
    assert "active" in (page.get_attribute(f"{agent_row} [data-testid=monitor-whisper]",
                                           "class") or "")
    page.click("[data-testid=monitor-stop]")
    page.wait_for_selector("[data-testid=position-status][data-mode='']")
    boss = _agent(url, "boss")
    modes = [e["details"].get("mode") for e in boss.get(
        "/api/audit", params={"action": "supervisor.monitor"}).json()
        if e["details"].get("result") == "ok"]
    assert "whisper" in modes and "stop" in modes


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
