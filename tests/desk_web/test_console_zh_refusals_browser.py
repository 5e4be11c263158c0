"""The console in Chinese says a refused list row's reason and a recording's disposition
in words, not the service's English or a code: the list page maps each refused row's
``code`` to its zh words (the service's English ``reason`` kept for English and for codes
it does not know), and the Recordings table shows the campaign's disposition label."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from desk_browser_kit import (
    CAMPAIGN,
    DESK,
    browser,
    chromium_missing,
    console_page,
    make_db,
    served,
)

from trunkline.dialer.service.passwords import hash_password
from trunkline.dialer.store import Store

pytestmark = pytest.mark.slow

ADMIN, ADMIN_PASSWORD = "root", "root-password-1"
#: One good row and one refused: 12345 is not 11 digits (code ``number_length``).
CSV = "姓名,电话\n张三,13812345678\n李四,12345\n".encode()


def _db_with_a_recording(folder: Path) -> Path:
    """The desk kit's database, an admin, and one recorded call of li's that ended with
    the disposition ``wrong_party`` (written as the runner writes them)."""
    db = make_db(folder)
    now = time.time()
    with Store(db) as store:
        store.add_user(ADMIN, "admin", hash_password(ADMIN_PASSWORD), now=now)
        claim = store.claim_next(CAMPAIGN, now - 60)
        assert claim is not None
        assert store.mark_dialing(claim.attempt, now - 60, call_ref="1", agent="li")
        store.record_outcome(claim.attempt, "human", now - 30, agent="li", talk=20.0,
                             wrap=5.0)
        store.record_disposition(campaign=CAMPAIGN, contact=claim.contact, agent="li",
                                 code="wrong_party", fields={}, notes="", at=now - 25,
                                 attempt=claim.attempt)
        wav = folder / "call.wav"
        wav.write_bytes(b"")
        store.add_call_recording(campaign=CAMPAIGN, call_ref="1", path=str(wav),
                                 started_at=now - 50, attempt=claim.attempt, agent="li",
                                 number=claim.number, gateway="virtual")
        assert store.finish_call_recording(gateway="virtual", call_ref="1", path=str(wav),
                                           duration=20.0)
    return db


def _zh_admin_page(chromium: Any, url: str) -> Any:
    return console_page(chromium, url, "zh-CN", user=ADMIN, password=ADMIN_PASSWORD)


def test_the_zh_console_says_refusals_and_dispositions_in_words(tmp_path: Path) -> None:
    why = chromium_missing()
    if why:
        pytest.skip(why)
    label = next(d["label"] for d in DESK["disposition"] if d["code"] == "wrong_party")
    db = _db_with_a_recording(tmp_path)
    with served(db) as url, browser() as chromium:
        page = _zh_admin_page(chromium, url)

        page.click("[data-testid=tab-admin]")
        page.click("[data-testid=adm-section-lists]")
        page.wait_for_selector("[data-testid=admin][data-section=lists] [data-testid=adm-lists]",
                               timeout=60_000)
        page.select_option("[data-testid=adm-list-campaign]", CAMPAIGN)
        page.set_input_files("[data-testid=adm-list-file]", files=[
            {"name": "june.csv", "mimeType": "text/csv", "buffer": CSV}])
        page.click("[data-testid=adm-list-upload]")
        page.wait_for_selector("[data-testid=adm-list-row-errors], "
                               "[data-testid=adm-list-error]:not(:empty)")
        assert page.inner_text("[data-testid=adm-list-error]") == ""
        cells = page.locator("[data-testid=adm-list-row-errors] tbody tr").first \
            .locator("td").all_inner_texts()
        assert cells[0] == "3" and "12345" in cells[2], cells
        assert cells[1].startswith("号码位数不对") and "digits" not in cells[1], cells
        # the list's refused rows shown again from the list table: the same words
        page.click("[data-list='june.csv'] [data-testid=adm-list-errors]")
        page.wait_for_selector("[data-testid=adm-list-stored-errors] tbody tr")
        again = page.locator("[data-testid=adm-list-stored-errors] tbody tr").first \
            .locator("td").all_inner_texts()
        assert again[0] == "3" and again[1] == cells[1], again

        page.click("[data-testid=tab-recordings]")
        page.fill("[data-testid=rec-agent]", "li")
        page.click("[data-testid=rec-search]")
        cell = page.locator("[data-testid=rec-table] tr[data-recording] "
                            "[data-testid=rec-disposition-label]")
        cell.first.wait_for()
        assert cell.first.inner_text() == label
        assert cell.first.get_attribute("title") == "wrong_party"
        assert page.errors == []
