"""The printable daily report in Chinese (zh-CN) as well as English: the language from
the console's ``?lang=`` (its page language), else the browser's Accept-Language, else
English; every word of the page in both languages, and the data (names, codes) as is."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from campaign_testkit import T0
from qa_data_kit import finished_call, seeded_db
from web_kit import Clock, client, login

from trunkline.dialer.reporting import daily
from trunkline.dialer.reporting.daily_words import LANGUAGES, pick_language, words
from trunkline.dialer.store import Store


def _text(html: str) -> str:
    """The page's visible words (tags, the style and the SVG's markup dropped)."""
    html = re.sub(r"<style>.*?</style>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def test_every_word_is_in_both_languages_and_the_chinese_is_chinese() -> None:
    assert set(LANGUAGES["en"]) == set(LANGUAGES["zh-CN"])
    for key, text in LANGUAGES["zh-CN"].items():
        assert re.search(r"[\u4e00-\u9fff]", text), key
        # the same placeholders in both
        assert set(re.findall(r"\{(\w+)\}", text)) == set(
            re.findall(r"\{(\w+)\}", LANGUAGES["en"][key])), key
    with pytest.raises(ValueError, match="lang must be one of en, zh-CN, not 'fr'"):
        words("fr")


@pytest.mark.parametrize(("asked", "accept", "lang"), [
    ("zh-CN", "en-GB,en;q=0.9", "zh-CN"),        # the page's choice wins
    ("en", "zh-CN,zh;q=0.9", "en"),
    (None, "zh-TW,zh;q=0.9,en;q=0.8", "zh-CN"),  # any zh reads Chinese, as on the pages
    (None, "fr-FR, en;q=0.5, zh;q=0.7", "zh-CN"),  # by q, not by order
    (None, "zh;q=0, en", "en"),                  # q=0: not acceptable
    (None, "de-DE", "en"),
    (None, None, "en"),
])
def test_the_language_is_the_pages_then_the_browsers(asked: str | None, accept: str | None,
                                                      lang: str) -> None:
    assert pick_language(asked, accept) == lang


def test_the_report_renders_in_chinese(tmp_path: Path) -> None:
    db = seeded_db(tmp_path)
    with Store(db) as store:
        finished_call(store, "sales", agent="li", at=T0 + 600, talk=60)
        finished_call(store, "sales", agent=None, at=T0 + 800, outcome="machine")
        zh = daily.render(store, date(2025, 6, 4), now=T0 + 8000, lang="zh-CN")
        en = daily.render(store, date(2025, 6, 4), now=T0 + 8000, lang="en")
    assert zh.startswith("<!DOCTYPE html><html lang=zh-CN>")
    text = _text(zh)
    for word in ("日报 2025-06-04", "外呼量", "接通率", "分时呼叫", "坐席时间分布",
                 "平均通话（秒）", "最佳拨打时段", "质检"):
        assert word in text, word
    # no English heading left, the data as is (the agent's name, the campaign)
    for english in ("Daily report", "Calls by hour", "Agents", "connect rate", "No data"):
        assert english not in text, english
    assert "li" in text.split() and "sales" in text
    assert "Daily report 2025-06-04" in _text(en) and "外呼量" not in en
    # the same page otherwise: the same charts and tables
    assert zh.count("<svg") == en.count("<svg") and zh.count("<table") == en.count("<table")


def test_the_route_takes_the_pages_language_or_the_browsers(tmp_path: Path) -> None:
    db = seeded_db(tmp_path)
    with Store(db) as store:
        finished_call(store, "sales", agent="li", at=T0 + 600, talk=60)
    with client(tmp_path, Clock(T0 + 8000)) as c:
        login(c, "boss")
        day = {"date": "2025-06-04"}
        assert "日报 2025-06-04" in c.get("/api/reports/daily",
                                          params={**day, "lang": "zh-CN"}).text
        assert "Daily report" in c.get("/api/reports/daily", params=day,
                                       headers={"Accept-Language": "en-US"}).text
        assert "日报" in c.get("/api/reports/daily", params=day,
                             headers={"Accept-Language": "zh-CN,zh;q=0.9"}).text
        assert c.get("/api/reports/daily", params={**day, "lang": "fr"}).status_code == 422
