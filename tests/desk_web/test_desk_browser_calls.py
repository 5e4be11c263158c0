"""The agent desktop in a real browser (headless Debian Chromium driven by Playwright)
against ``trunkline dialer serve --virtual`` in real time on the emulated card: an agent
logs in and takes FXS position 71, pauses for a site pause code, goes ready, gets a call
of a predictive campaign with the right contact on the screen, transfers it blind to an
outside number, saves a promise to pay (a wrong amount refused at its field first),
previews and skips a record, holds, sends a DTMF key, reloads the page mid-call, hangs up
with F4, sets a callback, dials by hand (a refused number shows why), transfers that
call attended with a three-way conference, and gets its callback dialled back to it."""

from __future__ import annotations

import json
import os
import re
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from desk_browser_kit import (
    DEBTORS,
    ZONE,
    browser,
    chromium_missing,
    log_in,
    make_db,
    served,
    start_campaign,
    take_position,
)

from trunkline.dialer.store import Store

pytestmark = pytest.mark.slow

POP = "[data-testid=screen-pop]"
STATE = "[data-testid=agent-state]"


@pytest.fixture(scope="module")
def needs_chromium() -> None:
    why = chromium_missing()
    if why:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI: the browser tests must run: {why}")
        pytest.skip(why)


def _contact_id(db: Path, number: str) -> str:
    with Store(db) as store:
        return str(store.query("SELECT id FROM contact WHERE number=?", (number,))[0][0])


def _callback_agent(db: Path, number: str) -> str | None:
    with Store(db) as store:
        return store.query("SELECT callback_agent FROM contact WHERE number=?",
                           (number,))[0][0]


def _until(condition, timeout: float = 30.0) -> None:
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.2)


def _wait_pop(page, contact_id: str | None = None, timeout: float = 90_000) -> str:
    want = f'[data-contact-id="{contact_id}"]' if contact_id else ":not([data-contact-id=''])"
    page.wait_for_selector(f"{POP}{want}", timeout=timeout)
    return page.get_attribute(POP, "data-contact-id")


def _wait_state(page, state: str, timeout: float = 60_000) -> None:
    page.wait_for_selector(f"{STATE}[data-state={state}]", timeout=timeout)


def test_an_agent_works_a_shift_in_the_browser(tmp_path: Path, needs_chromium: None) -> None:
    db = make_db(tmp_path)
    first, previewed, third = DEBTORS
    with Store(db) as store, store.transaction() as sql:   # the second is a preview record
        sql.execute("UPDATE contact SET preview=1 WHERE number=?", (previewed.number,))
    with served(db) as url, browser() as chromium:
        start_campaign(url)
        page = chromium.new_page(viewport={"width": 1366, "height": 768},
                                 locale="en-US")
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        log_in(page, url, "li")
        take_position(page, "71")
        assert page.text_content("[data-testid=state-reason]") == "Just logged in"

        # not ready for a site pause code, then ready
        page.select_option("[data-testid=pause-reason]", "coaching")
        page.click("[data-testid=not-ready]")
        page.wait_for_selector("[data-testid=state-reason]:has-text('辅导 Coaching')")
        page.keyboard.press("F2")   # ready, from the keyboard
        _wait_state(page, "ready")

        # a predictive call: the right contact, every column, the script filled
        shown = _wait_pop(page)
        assert shown == _contact_id(db, first.number)
        popped = int(page.get_attribute(POP, "data-popped-at"))
        assert abs(popped / 1000 - time.time()) < 120
        assert page.text_content("[data-testid=contact-number]") == first.number
        columns = {row.get_attribute("data-column"): row.text_content()
                   for row in page.query_selector_all("[data-testid=contact-fields] tr")}
        assert columns == {"name": f"name{first.name}", "debt": f"debt{first.debt}",
                           "overdue_days": f"overdue_days{first.overdue_days}",
                           "branch": "branch上海"}
        script = page.text_content("[data-testid=script]")
        assert f"请问是{first.name}吗" in script and "{{" not in script
        # 1366x768: nothing scrolls sideways
        assert page.evaluate("document.documentElement.scrollWidth "
                             "<= document.documentElement.clientWidth")
        assert page.evaluate("document.documentElement.scrollHeight "
                             "<= document.documentElement.clientHeight")

        # blind transfer to an outside number: the agent goes to wrap-up at once
        page.select_option("[data-testid=transfer-kind]", "number")
        page.fill("[data-testid=transfer-target]", "+8613800009999")
        page.click("[data-testid=transfer]")
        _wait_state(page, "wrap_up")
        assert page.is_disabled("[data-testid=ready]")   # the disposition comes first

        # promise to pay: the hotkey opens the form; a wrong amount is refused at its field
        page.click("body")
        page.keyboard.press("p")
        page.wait_for_selector("[data-testid=field-amount]")
        page.fill("[data-testid=field-amount]", "2千")
        page.fill("[data-testid=field-date]", "2026-12-15")
        page.click("[data-testid=disposition-save]")
        error = page.wait_for_selector("[data-testid=error-amount]:not(:empty)")
        assert "not an amount" in error.text_content()
        page.fill("[data-testid=field-amount]", "2,000.50")
        page.select_option("[data-testid=field-reason]", "资金周转")
        page.check("[data-testid=field-follow_up]")
        page.fill("[data-testid=disposition-notes]", "will pay from salary")
        page.click("[data-testid=disposition-save]")
        page.wait_for_selector("[data-testid=toast]:has-text('Result saved: promise')")

        # Next, in the order the engine gives them (the predictive engine may have
        # dialled the third debtor already, and a waiting call goes before a preview):
        # the preview record, shown with a countdown, then skipped; and the third
        # debtor's call: F4 hangs up, then a callback for this agent at the next minute.
        third_id = _contact_id(db, third.number)
        # The card keeps the last call's contact (and call id) after its disposition is
        # saved, so the call counts once: a card still showing the call handled is no
        # new call.
        done: set[str] = set()
        handled_call = ""
        while len(done) < 2:
            what = page.wait_for_function(
                """([pop, third, handled]) => {
                  if (!document.querySelector("[data-testid=preview]").classList.contains("hidden"))
                    return "preview";
                  const card = document.querySelector(pop);
                  if (card.dataset.contactId === third && card.dataset.call
                      && card.dataset.call !== handled) return "call";
                  return false;
                }""", arg=[POP, third_id, handled_call], timeout=90_000).json_value()
            assert what not in done, what
            done.add(what)
            if what == "preview":
                assert page.get_attribute(POP, "data-contact-id") == _contact_id(
                    db, previewed.number)
                assert re.match(r"00:[0-5]\d",
                                page.text_content("[data-testid=preview-countdown]"))
                page.click("[data-testid=preview-skip]")
                page.wait_for_selector("[data-testid=preview]", state="hidden")
                continue
            handled_call = page.get_attribute(POP, "data-call") or ""
            _wait_state(page, "talking")
            # hold and back, a DTMF key, and a reload in the middle of the call: the
            # screen comes back with the same contact and the script
            page.click("[data-testid=hold]")
            page.wait_for_selector("[data-testid=call-status]:has-text('On hold')")
            page.click("[data-testid=hold]")
            page.wait_for_selector("[data-testid=call-status]:has-text('Off hold')")
            page.click("[data-testid=keypad] [data-digit='5']")
            page.wait_for_selector("[data-testid=call-status]:has-text('Sent')")
            page.reload()
            _wait_pop(page, third_id)
            _wait_state(page, "talking")
            assert f"请问是{third.name}吗" in page.text_content("[data-testid=script]")
            page.click("body")
            page.keyboard.press("F4")
            _wait_state(page, "wrap_up")
            page.reload()   # in wrap-up too: the time left is still counted
            _wait_state(page, "wrap_up")
            page.wait_for_selector("[data-testid=wrap-timer]:has-text('left')")
            page.click("body")
            page.keyboard.press("c")
            page.click("[data-testid=disposition-save]")   # no time yet: said at the field
            page.wait_for_selector("[data-field='callback.at'].invalid")
            # in 30 s, in the contact's zone (the time box takes seconds too, HH:MM:SS;
            # an agent gives minutes): the callback comes due while the manual dial
            # below goes on. A day that is not one is refused at the field first.
            now = datetime.now(ZoneInfo(ZONE))
            due = now.replace(microsecond=0) + timedelta(seconds=30)
            page.fill("[data-testid=callback-date]", due.strftime("%m/%d/%Y"))
            page.fill("[data-testid=callback-time]", due.strftime("%H:%M:%S"))
            page.click("[data-testid=disposition-save]")
            refused = page.wait_for_selector("[data-field='callback.at'] .error:not(:empty)")
            assert "is not a date" in refused.text_content()
            page.fill("[data-testid=callback-date]", due.strftime("%Y/%m/%d"))
            page.select_option("[data-testid=callback-owner]", "agent")
            page.click("[data-testid=disposition-save]")
            _until(lambda: _callback_agent(db, third.number) == "li")
        _wait_state(page, "ready")

        # manual dial: a number that may not be called is refused with the reason
        page.fill("[data-testid=dial-number]", "12")
        page.click("[data-testid=dial]")
        refusal = page.wait_for_selector("[data-testid=dial-error]:not(:empty)")
        assert refusal.text_content()
        manual = "+8613800005678"
        page.fill("[data-testid=dial-number]", manual)
        page.click("[data-testid=dial]")
        _wait_pop(page, None)
        page.wait_for_selector(f"[data-testid=contact-number]:has-text('{manual}')",
                               timeout=60_000)
        _wait_state(page, "talking")
        # an attended transfer to a number, joined in a three-way conference, then left
        page.select_option("[data-testid=transfer-mode]", "attended")
        page.select_option("[data-testid=transfer-kind]", "number")
        page.fill("[data-testid=transfer-target]", "+8613800009998")
        page.click("[data-testid=transfer]")
        page.wait_for_selector("[data-testid=consult]:visible", timeout=60_000)
        assert page.is_disabled("[data-testid=conference]")   # until the number answers
        page.wait_for_selector("[data-testid=call-status]:has-text('answered')",
                               timeout=60_000)
        page.click("[data-testid=conference]")
        page.wait_for_selector("[data-testid=call-status]:has-text('Three-way')")
        page.click("[data-testid=transfer-complete]")
        _wait_state(page, "wrap_up")
        page.click("[data-testid=disposition-wrong_party]")
        page.click("[data-testid=disposition-save]")
        _wait_state(page, "ready")

        # the callback comes due and is dialled to this agent
        _wait_pop(page, _contact_id(db, third.number), timeout=200_000)
        assert "li" in page.text_content("[data-testid=contact-history]")
        _wait_state(page, "talking")
        page.click("[data-testid=hangup]")
        _wait_state(page, "wrap_up")
        page.click("[data-testid=disposition-wrong_party]")
        page.check("[data-testid=then-pause]")
        page.click("[data-testid=disposition-save]")
        _wait_state(page, "paused")
        assert errors == []

    with Store(db) as store:
        rows = store.query(
            "SELECT c.number, d.code, d.agent, d.fields, d.notes FROM disposition d "
            "JOIN contact c ON c.id=d.contact_id ORDER BY d.id")
    got = [(r["number"], r["code"], r["agent"]) for r in rows]
    assert got == [(first.number, "promise", "li"), (third.number, "callback", "li"),
                   (manual, "wrong_party", "li"), (third.number, "wrong_party", "li")]
    fields = json.loads(rows[0]["fields"])
    assert fields == {"amount": {"amount": "2000.50", "currency": "CNY"},
                      "date": "2026-12-15", "reason": "资金周转", "follow_up": True}
    assert rows[0]["notes"] == "will pay from salary"
