"""The report workbooks in Chinese (zh-CN) as well as English: sheet names and column
titles from export_words.py, the data as is; the language from ``?lang=`` (the
console passes its page's), else the browser's Accept-Language, else English (the keys,
which scripts read). The CSV keeps the keys in every language."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from campaign_testkit import T0
from openpyxl import load_workbook  # type: ignore[import-untyped]
from qa_data_kit import finished_call, seeded_db
from web_kit import Clock, client, login

from trunkline.dialer.reporting import charts, export
from trunkline.dialer.reporting.export_words import COLUMNS, SHEETS
from trunkline.dialer.store import Store

#: Columns of the kinds this data leaves empty (the SMS and QA rows need messages and
#: scored recordings): their producers' keys (reports.sms_rows, Store.qa_summary).
_EMPTY_KINDS_COLUMNS = {"campaign", "total", "queued", "sent", "delivered", "failed",
                        "agent", "reviews", "calls", "avg_score", "min_score",
                        "max_score", "pass_rate"}


def _seed(tmp_path: Path) -> Path:
    db = seeded_db(tmp_path)
    with Store(db) as store:
        session = store.open_agent_session("li", ["sales"], T0)
        store.log_agent_state("li", "paused", "break", T0 + 100, T0 + 400)
        finished_call(store, "sales", agent="li", at=T0 + 600, talk=60)
        finished_call(store, "sales", agent=None, at=T0 + 800, outcome="machine")
        store.close_agent_session(session, T0 + 7200)
    return db


def _book(data: bytes) -> dict[str, list[tuple]]:
    book = load_workbook(io.BytesIO(data))
    return {ws.title: list(ws.iter_rows(values_only=True)) for ws in book.worksheets}


def test_every_report_column_and_sheet_has_a_chinese_title(tmp_path: Path) -> None:
    db = _seed(tmp_path)
    keys = set(_EMPTY_KINDS_COLUMNS)
    with Store(db) as store:
        for kind in charts.KINDS:
            keys.update(export.columns(charts.rows(store, kind, now=T0 + 8000)))
    assert "state" in keys and "talk_s" in keys  # the data reached several kinds
    zh_columns, zh_sheets = COLUMNS["zh-CN"], SHEETS["zh-CN"]
    assert sorted(keys - set(zh_columns)) == []
    assert set(zh_sheets) == set(charts.KINDS)
    for title in (*zh_columns.values(), *zh_sheets.values()):
        assert re.search(r"[\u4e00-\u9fff]", title), title
    assert len(set(zh_sheets.values())) == len(zh_sheets)  # one sheet each
    assert all(len(t) <= 31 for t in zh_sheets.values())  # Excel's limit


def test_a_workbook_in_chinese_keeps_the_data_as_is() -> None:
    rows = [{"campaign": "=sales", "dials": 3, "connect_rate": 0.5, "custom": "x"}]
    zh = _book(export.to_xlsx({"campaign": rows}, lang="zh-CN"))
    assert zh == {"外呼活动": [("活动", "外呼量", "接通率", "custom"),
                              ("'=sales", 3, 0.5, "x")]}
    en = _book(export.to_xlsx({"campaign": rows}))
    assert en == {"campaign": [("campaign", "dials", "connect_rate", "custom"),
                               ("'=sales", 3, 0.5, "x")]}
    with pytest.raises(ValueError, match="lang must be one of en, zh-CN, not 'fr'"):
        export.to_xlsx({"campaign": rows}, lang="fr")


def test_the_routes_take_the_pages_language_or_the_browsers(tmp_path: Path) -> None:
    _seed(tmp_path)
    with client(tmp_path, Clock(T0 + 8000)) as c:
        login(c, "boss")
        url = "/api/reports/agent"
        zh = _book(c.get(url, params={"format": "xlsx", "lang": "zh-CN"}).content)
        assert list(zh) == ["坐席"] and zh["坐席"][0][:2] == ("活动", "坐席")
        assert ("sales", "li") in [row[:2] for row in zh["坐席"][1:]]
        by_browser = _book(c.get(url, params={"format": "xlsx"},
                                 headers={"Accept-Language": "zh-CN,zh;q=0.9"}).content)
        assert by_browser == zh
        en = _book(c.get(url, params={"format": "xlsx"},
                         headers={"Accept-Language": "zh;q=0.5, en"}).content)
        assert list(en) == ["agent"] and en["agent"][0][:2] == ("campaign", "agent")
        csv = c.get(url, params={"format": "csv", "lang": "zh-CN"}).text
        assert csv.startswith("campaign,agent,")  # the CSV keeps the keys
        assert c.get(url, params={"format": "xlsx", "lang": "fr"}).status_code == 422
        daily = c.get("/api/reports/daily",
                      params={"date": "2025-06-04", "format": "xlsx", "lang": "zh-CN"})
        assert set(_book(daily.content)) == set(SHEETS["zh-CN"].values())
        daily = c.get("/api/reports/daily", params={"date": "2025-06-04", "format": "xlsx"})
        assert set(_book(daily.content)) == set(charts.KINDS)
