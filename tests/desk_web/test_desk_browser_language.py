"""The desktop's languages (its softphone panel's too), layout, keyboard and session in a
real browser: Chinese for a
zh-CN browser and English for others, switched and remembered; no sideways scroll at
1366x768 or 1920x1080; shortcuts not fired while typing; a consulted agent's hang-up
button (and F4) ending the consultation; the WebSocket reconnecting by
itself; logging out (and a session
ended elsewhere) leads back to the login page. No campaign call here: see
test_desk_browser_calls.py."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from desk_browser_kit import (
    PASSWORDS,
    browser,
    chromium_missing,
    log_in,
    make_db,
    served,
    start_campaign,
    take_position,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, object]]:
    why = chromium_missing()
    if why:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI: the browser tests must run: {why}")
        pytest.skip(why)
    db = make_db(Path(tmp_path_factory.mktemp("desk-language")))
    with served(db) as url, browser() as chromium:
        start_campaign(url)
        yield url, chromium


def _no_sideways_scroll(page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth "
                              "<= document.documentElement.clientWidth"))


def test_language_follows_the_browser_and_the_choice_is_kept(service) -> None:
    url, chromium = service
    context = chromium.new_context(locale="zh-CN", viewport={"width": 1366, "height": 768})
    page = context.new_page()
    page.goto(f"{url}/")
    assert page.text_content("#login-submit") == "登录"
    assert page.get_attribute("html", "lang") == "zh-CN"
    log_in(page, url, "li")
    assert page.text_content("[data-testid=position-login]") == "签入"
    assert page.title() == "trunkline - 坐席工作台"
    # the softphone's panel (hidden until a browser position) speaks the page's language
    mute = "[data-testid=softphone] [data-role=mute]"
    assert page.text_content(mute) == "静音"
    assert page.text_content("[data-testid=softphone] [data-role=test]") == "测试通话"
    assert _no_sideways_scroll(page)
    page.select_option("[data-testid=language]", "en")
    assert page.text_content("[data-testid=position-login]") == "Log in to position"
    assert page.text_content(mute) == "Mute"
    page.reload()
    page.wait_for_selector("body[data-ready='1']")
    assert page.text_content("[data-testid=position-login]") == "Log in to position"
    context.close()
    english = chromium.new_context(locale="en-GB")
    page = english.new_page()
    page.goto(f"{url}/")
    assert page.text_content("#login-submit") == "Log in"
    english.close()


def test_layout_keys_positions_and_session_end(service) -> None:
    url, chromium = service
    for width, height in ((1366, 768), (1920, 1080)):
        context = chromium.new_context(locale="en-US",
                                       viewport={"width": width, "height": height})
        page = context.new_page()
        log_in(page, url, "wang")
        if width == 1366:
            # a browser position is the softphone's: no address to type
            page.select_option("[data-testid=position-kind]", "browser")
            assert page.is_disabled("[data-testid=position-address]")
            assert "softphone" in page.text_content("#position-hint")
            if not page.evaluate("Boolean(window.trunklineSoftphone)"):
                page.click("[data-testid=position-login]")
                assert "no softphone" in page.text_content("[data-testid=position-error]")
            take_position(page, "72")
            assert _no_sideways_scroll(page)
            # the WebSocket drops: the page says so, comes back by itself, and events
            # reach it again
            page.evaluate("window.trunklineDesk.socket.socket.close()")
            page.wait_for_selector("[data-testid=connection]:has-text('reconnecting')")
            page.wait_for_selector("[data-testid=connection].open", timeout=15_000)
            page.select_option("[data-testid=pause-reason]", "lunch")
            page.click("[data-testid=not-ready]")
            page.wait_for_selector("[data-testid=state-reason]:has-text('午饭 Lunch')")
            # F2 typed in a field is not a shortcut; outside a field it is
            page.focus("[data-testid=dial-number]")
            page.keyboard.press("F2")
            page.wait_for_timeout(1500)
            assert page.get_attribute("[data-testid=agent-state]", "data-state") == "paused"
            assert page.text_content("[data-testid=ready] .kbd") == "F2"
            # consulted in another agent's attended transfer (the desk's event as the
            # service sends it; the consultation itself: test_desk_consult_agents.py):
            # the hang-up button, and F4, end the consultation through its own route
            hangup = "[data-testid=hangup]"
            assert page.is_disabled(hangup)
            page.evaluate("window.trunklineDesk.socket.onEvent({type: 'desk.call', "
                          "agent: 'wang', what: 'consulted', detail: 'li'})")
            assert page.is_enabled(hangup)
            assert "End consultation" in page.text_content(hangup)
            page.click("body")
            page.keyboard.press("F4")   # nobody consults wang really: the desk says so
            page.wait_for_selector("[data-testid=call-error]:has-text('nobody is "
                                   "consulting you')")
            page.evaluate("window.trunklineDesk.socket.onEvent({type: 'desk.call', "
                          "agent: 'wang', what: 'consult_ended', detail: ''})")
            assert page.is_disabled(hangup) and "Hang up" in page.text_content(hangup)
            page.click("[data-testid=leave-position]")
            page.wait_for_selector("[data-testid=position-panel]:visible", timeout=60_000)
        assert _no_sideways_scroll(page)
        assert page.evaluate("document.documentElement.scrollHeight "
                             "<= document.documentElement.clientHeight")
        page.click("[data-testid=logout]")
        page.wait_for_url(f"{url}/")
        context.close()

    # a session ended elsewhere (the same user logs out through the API): the page goes
    # back to the login page with a note
    context = chromium.new_context(locale="en-US")
    page = context.new_page()
    log_in(page, url, "wang")
    cookie = next(c for c in context.cookies() if c["name"] == "trunkline_session")
    with httpx.Client(base_url=url, cookies={cookie["name"]: cookie["value"]}) as same:
        token = same.get("/api/me").json()["csrf_token"]
        assert same.post("/api/logout", headers={"X-CSRF-Token": token}).status_code == 200
    page.wait_for_url(f"{url}/?ended=1", timeout=30_000)
    assert "session ended" in page.text_content("[data-testid=login-error]")
    context.close()
    assert PASSWORDS


def test_each_role_lands_on_its_page_and_a_supervisor_links_both(service) -> None:
    url, chromium = service
    context = chromium.new_context(locale="zh-CN")
    page = context.new_page()
    page.goto(f"{url}/")
    page.fill("#name", "boss")
    page.fill("#password", PASSWORDS["boss"])
    page.click("#login-submit")
    page.wait_for_url(f"{url}/console")   # a supervisor lands on the console
    page.wait_for_selector("body[data-ready='1']", timeout=30_000)
    assert page.text_content("[data-testid=to-desk]") == "坐席工作台"
    page.click("[data-testid=to-desk]")   # and may take a position at a desk too
    page.wait_for_url(f"{url}/desk")
    # shown by role-links.js once /api/me answers; named by desk.js once its words are
    # in (the two race: the desk's ready mark says the words are applied)
    page.wait_for_selector("body[data-ready='1']", timeout=30_000)
    page.wait_for_selector("[data-testid=to-console]:visible")
    assert page.text_content("[data-testid=to-console]") == "班长监控台"
    context.close()
    context = chromium.new_context(locale="en-US")
    page = context.new_page()
    log_in(page, url, "li")               # an agent lands on the desk, with no console link
    page.wait_for_timeout(500)            # role-links.js has asked /api/me by then
    assert page.is_hidden("[data-testid=to-console]")
    context.close()
