"""Reports with data for pictures (issue 18 item 4): the rows of each kind as JSON, the
same as CSV and XLSX with formula-like cells made safe, and the printable daily report
(inline SVG, a CSP that allows no script, every name escaped)."""

from __future__ import annotations

import base64
import hashlib
import io
import re
from pathlib import Path

from campaign_testkit import ALWAYS, T0
from openpyxl import load_workbook
from qa_data_kit import finished_call, seeded_db
from web_kit import Clock, client, login

from trunkline.dialer.campaigns.reports import regulated_window
from trunkline.dialer.campaigns.strategies import Strategy
from trunkline.dialer.reporting import charts
from trunkline.dialer.store import NewContact, Store

# no '/' in it: a campaign's name is a path segment of the API (dialer/store/names.py)
EVIL = '=HYPERLINK("evil.example","y")'
TAG = "<i>x<b>"


def _data(tmp_path: Path) -> None:
    """T0 is 10:00 in Shanghai: li works 10:00-12:00 (paused 5 min), takes two calls;
    wang one; a machine; the UK campaign abandons one of two live answers."""
    db = seeded_db(tmp_path)
    with Store(db) as store:
        store.add_list("sales", "more", [NewContact(f"+8613900000{i:02d}", {}, line=i + 2)
                                         for i in range(6)], now=T0)
        session = store.open_agent_session("li", ["sales"], T0)
        store.log_agent_state("li", "paused", "break", T0 + 100, T0 + 400)
        finished_call(store, "sales", agent="li", at=T0 + 600, talk=60)
        finished_call(store, "sales", agent="li", at=T0 + 4000, talk=60, code="no_deal")
        finished_call(store, "sales", agent="wang", at=T0 + 700, talk=30)
        finished_call(store, "sales", agent=None, at=T0 + 800, outcome="machine")
        store.close_agent_session(session, T0 + 7200)
        for name in ("uk", EVIL, TAG):
            store.create_campaign(name, Strategy(windows=ALWAYS, max_attempts=1),
                                  config={"regime": "uk", "target_abandon": 0.02}, now=T0)
            store.add_list(name, "l", [NewContact(f"+4420794600{i:02d}", {}, line=i + 2)
                                       for i in range(4)], now=T0)
        window = regulated_window(store, "uk", T0 + 900)
        finished_call(store, "uk", agent="wang", at=T0 + 900, window=window)
        finished_call(store, "uk", agent=None, at=T0 + 950, outcome="abandoned",
                      window=window)
        finished_call(store, EVIL, agent="wang", at=T0 + 960)


def test_report_rows_for_charts(tmp_path: Path) -> None:
    _data(tmp_path)
    with client(tmp_path, Clock(T0 + 8000)) as c:
        login(c, "boss")
        day = {"since": "2025-06-04", "until": "2025-06-05"}
        rows = c.get("/api/reports/campaign", params={**day, "campaign": "sales"}).json()
        assert rows["since"] == T0 - 10 * 3600 and rows["columns"][:2] == ["campaign", "dials"]
        sales = rows["rows"][0]
        assert (sales["dials"], sales["connects"], sales["n_machine"]) == (4, 3, 1)
        hours = c.get("/api/reports/hour", params={"campaign": "sales"}).json()["rows"]
        assert [(r["hour"], r["dials"]) for r in hours if r["dials"]] == [(10, 3), (11, 1)]
        assert [r["hour"] for r in hours] == list(range(24))  # windows 00:00-24:00, zeros
        gauge = {r["campaign"]: r for r in c.get("/api/reports/abandon").json()["rows"]}
        assert gauge["uk"]["window_abandon_rate"] == 0.5 and gauge["uk"]["cap"] == 0.03
        assert gauge["uk"]["level"] == "over" and gauge["sales"]["level"] == "ok"
        parts = {r["agent"]: r for r in c.get("/api/reports/breakdown",
                                              params={"campaign": "sales"}).json()["rows"]}
        li = parts["li"]
        assert (li["talk_s"], li["wrap_s"], li["pause_s"], li["logged_in_s"]) == \
            (120.0, 10.0, 300.0, 7200.0)
        assert li["waiting_s"] == 7200.0 - 430.0 and li["talk_share"] == round(120 / 7200, 4)
        pen = c.get("/api/reports/penetration", params={"campaign": "sales"}).json()["rows"]
        assert [(r["hour"], r["dialled"]) for r in pen] == [("2025-06-04 10:00", 3),
                                                             ("2025-06-04 11:00", 4)]
        assert pen[-1]["penetration"] == round(4 / 9, 4)
        best = c.get("/api/reports/best_hours", params={"campaign": "sales"}).json()["rows"]
        assert [(r["rank"], r["hour"]) for r in best] == [(1, 11), (2, 10)]
        outcomes = c.get("/api/reports/outcomes", params={"campaign": "uk"}).json()["rows"]
        assert {r["outcome"]: r["share"] for r in outcomes} == {"human": 0.5,
                                                                 "abandoned": 0.5}
        assert c.get("/api/reports/nope").status_code == 422
        assert c.get("/api/reports/hour", params={"time_zone": "Mars/Base"}
                     ).status_code == 422
        assert c.get("/api/reports/hour", params={"since": "yesterday"}).status_code == 422
        assert c.get("/api/reports/hour", params={"campaign": "nope"}).status_code == 404
    assert set(charts.KINDS) >= {"campaign", "agent", "hour", "abandon", "qa"}


def test_csv_and_xlsx_exports_are_spreadsheet_safe(tmp_path: Path) -> None:
    _data(tmp_path)
    with client(tmp_path, Clock(T0 + 8000)) as c:
        login(c, "boss")
        csv = c.get("/api/reports/campaign", params={"format": "csv"})
        assert csv.headers["content-type"].startswith("text/csv")
        assert csv.headers["content-disposition"] == \
            'attachment; filename="report-campaign.csv"'
        assert "\n\"'=HYPERLINK(\"\"evil.example\"\",\"\"y\"\")\"," in csv.text
        xlsx = c.get("/api/reports/campaign", params={"format": "xlsx"})
        book = load_workbook(io.BytesIO(xlsx.content))
        sheet = book["campaign"]
        header = [cell.value for cell in sheet[1]]
        names = [row[header.index("campaign")] for row in sheet.iter_rows(min_row=2)]
        evil = next(cell for cell in names if "HYPERLINK" in str(cell.value))
        assert evil.data_type == "s" and evil.value == "'" + EVIL
        dials = [row[header.index("dials")].value for row in sheet.iter_rows(min_row=2)]
        assert all(isinstance(d, int) for d in dials)  # numbers stay numbers
        daily = c.get("/api/reports/daily", params={"date": "2025-06-04", "format": "xlsx"})
        assert set(load_workbook(io.BytesIO(daily.content)).sheetnames) == set(charts.KINDS)


def test_the_printable_daily_report(tmp_path: Path) -> None:
    _data(tmp_path)
    with client(tmp_path, Clock(T0 + 8000)) as c:
        login(c, "boss")
        page = c.get("/api/reports/daily", params={"date": "2025-06-04"})
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        html = page.text
        csp = page.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "script" not in csp.replace(
            "default-src 'none'", "")
        assert "<script" not in html.lower() and " on" not in re.sub(r'"[^"]*"', "", html)
        assert "http://" not in html.replace("http://www.w3.org/2000/svg", "").replace(
            "http://x", "")  # nothing loaded from elsewhere (the SVG namespace is a name)
        style = re.search(r"<style>(.*?)</style>", html, re.S)
        assert style is not None
        digest = base64.b64encode(hashlib.sha256(style.group(1).encode()).digest()).decode()
        assert f"'sha256-{digest}'" in csp  # the one style the page has is allowed
        assert html.count("<svg") >= 4 and "@media print" in html
        assert "&lt;i&gt;x&lt;b&gt;" in html and TAG not in html
        assert "Daily report 2025-06-04" in html and "over" in html  # the UK gauge is red
        one = c.get("/api/reports/daily", params={"date": "2025-06-04", "campaign": "sales"})
        assert "sales" in one.text and "uk" not in re.sub(r"<[^>]+>", " ", one.text).split()
        assert c.get("/api/reports/daily", params={"campaign": "nope"}).status_code == 404
        login(c, "li")
        assert c.get("/api/reports/daily").status_code == 403
