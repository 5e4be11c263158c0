"""The admin area's API (issue 18 item 5): a campaign's definition read and replaced,
checked as the CLI checks a file; contact lists uploaded as CSV (GB18030 too) and XLSX
with every refused row in the answer; DNC; pause codes; roles and the audit log."""

from __future__ import annotations

import io
from pathlib import Path

from openpyxl import Workbook
from qa_data_kit import seeded_db
from web_kit import client, login

from trunkline.dialer.store import Store

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DEFINITION = {
    "strategy": {"max_attempts": 4, "time_zone": "Asia/Shanghai",
                 "windows": {"default": ["09:00-12:00", "13:30-20:00"]}},
    "campaign": {"mode": "predictive", "target_abandon": 0.02, "record_calls": False},
    "desk": {"script": "您好 {{name}}", "max_wrap_up": 90, "disposition": [
        {"code": "promise", "field": [{"name": "amount", "kind": "money",
                                       "required": True}]},
        {"code": "no_deal"}]},
    "qa": {"item": [{"id": "greeting", "max": 5}]},
}


def test_a_campaign_defined_read_back_and_refused_like_the_cli(tmp_path: Path) -> None:
    seeded_db(tmp_path)
    with client(tmp_path) as c:
        head = {"X-CSRF-Token": login(c, "root")}
        made = c.put("/api/admin/campaigns/loans", headers=head, json=DEFINITION)
        assert made.status_code == 200, made.text
        got = c.get("/api/admin/campaigns/loans").json()
        assert got["strategy"]["max_attempts"] == 4
        assert got["campaign"] == DEFINITION["campaign"]
        assert [d["code"] for d in got["desk"]["disposition"]][:2] == ["promise", "no_deal"]
        assert got["qa"]["item"][0]["id"] == "greeting"
        again = c.put("/api/admin/campaigns/loans", headers=head, json=got)
        assert again.status_code == 200 and again.json() == got  # what GET gives, PUT takes
        for body, words in (
                ({"strategy": {"max_attempts": "5"}}, "[strategy] max_attempts: expected a "
                                                       "whole number"),
                ({"campaign": {"target_abandn": 0.02}}, "unknown settings target_abandn"),
                ({"campaign": {"record_calls": "yes"}}, "record_calls"),
                ({"desk": {"disposition": [{"code": "x", "colour": 1}]}}, "colour"),
                ({"qa": {"item": []}}, "at least one"),
                ({"strategies": {}}, "unknown tables strategies")):
            r = c.put("/api/admin/campaigns/loans", headers=head, json=body)
            assert r.status_code == 422 and words in r.json()["message"], (body, r.text)
        assert c.get("/api/admin/campaigns/loans").json() == got  # nothing saved
        assert c.get("/api/admin/campaigns/nope").status_code == 404
        login(c, "boss")
        assert c.get("/api/admin/campaigns/loans").status_code == 200
        assert c.put("/api/admin/campaigns/loans", json=DEFINITION, headers={
            "X-CSRF-Token": login(c, "boss")}).status_code == 403
        login(c, "root")
        assert [a["target"] for a in c.get("/api/audit", params={
            "action": "campaign.define"}).json()] == ["loans", "loans"]


def test_lists_uploaded_as_csv_and_xlsx_with_their_refused_rows(tmp_path: Path) -> None:
    csv = "姓名,电话\n张三,13812345678\n李四,12345\n王五,+86 139 1234 5678\n".encode("gb18030")
    book = Workbook()
    sheet = book.active
    sheet.append(["name", "phone", "due"])
    sheet.append(["Li", 13900001111, 1200.5])
    sheet.append(["bad", "no number", 1])
    out = io.BytesIO()
    book.save(out)
    seeded_db(tmp_path)
    with client(tmp_path) as c:
        head = {"X-CSRF-Token": login(c, "root")}
        url = "/api/admin/campaigns/sales/lists"
        r = c.post(url, params={"list": "june", "filename": "june.csv"}, content=csv,
                   headers={**head, "Content-Type": "text/csv"})
        assert r.status_code == 201, r.text
        report = r.json()
        assert (report["rows"], report["added"], report["rejected"]) == (3, 2, 1)
        assert report["encoding"].lower().replace("-", "") == "gb18030"
        assert report["errors"][0]["line"] == 3 and report["errors"][0]["raw"] == ["李四",
                                                                                   "12345"]
        again = c.post(url, params={"filename": "june.csv"}, content=csv,
                       headers={**head, "Content-Type": "text/csv"})
        assert again.status_code == 409
        x = c.post(url, params={"filename": "july.xlsx"}, content=out.getvalue(),
                   headers={**head, "Content-Type": XLSX})
        assert x.status_code == 201, x.text
        assert (x.json()["encoding"], x.json()["added"], x.json()["rejected"]) == \
            ("xlsx", 1, 1)
        assert c.post(url, content=b"{}", headers={**head, "Content-Type": "text/plain"}
                      ).status_code == 415
        assert c.post(url, content=b"x" * (70 * 1024), headers={
            **head, "Content-Type": "text/csv"}).status_code == 422  # bigger than JSON's cap
        assert c.post("/api/admin/campaigns/nope/lists", content=csv, headers={
            **head, "Content-Type": "text/csv"}).status_code == 404
        lists = c.get(url).json()
        assert [(li["name"], li["rows_ok"], li["rows_bad"]) for li in lists] == [
            ("july.xlsx", 1, 1), ("june", 2, 1), ("seed", 3, 0)]
        refused = c.get(f"/api/admin/lists/{lists[1]['id']}/errors").json()
        assert [(e["line"], e["raw"]) for e in refused] == [(3, "李四,12345")]
        assert c.get("/api/admin/lists/999/errors").status_code == 404
        assert c.post("/api/users", content=b"x" * (70 * 1024), headers={
            **head, "Content-Type": "text/csv"}).status_code == 413  # only lists take files
    with Store(tmp_path / "dialer.sqlite") as store:
        numbers = {r[0] for r in store.query("SELECT number FROM contact")}
        assert {"+8613812345678", "+8613912345678", "+8613900001111"} <= numbers
        fields = store.query("SELECT fields FROM contact WHERE number='+8613900001111'")[0][0]
        assert "1200.5" in fields


def test_dnc_and_pause_codes(tmp_path: Path) -> None:
    seeded_db(tmp_path)
    with client(tmp_path) as c:
        head = {"X-CSRF-Token": login(c, "root")}
        assert c.post("/api/admin/dnc", headers=head, json={
            "numbers": ["13812345678", "+86137*"]}).json() == {"added": 2}
        assert c.post("/api/admin/dnc", headers=head, json={
            "numbers": ["13900000000"], "campaign": "sales", "kind": "refused"}
        ).json() == {"added": 1}
        hits = c.get("/api/admin/dnc", params={"number": ["13812345678", "13712345678",
                                                          "13900000000"],
                                               "campaign": "sales"}).json()
        assert hits["+8613812345678"] and hits["+8613712345678"] and hits["+8613900000000"]
        assert c.get("/api/admin/dnc", params={"number": "13900000000"}).json() == \
            {"+8613900000000": None}  # the campaign's own list only bars its calls
        assert c.post("/api/admin/dnc", headers=head,
                      json={"numbers": ["abc"]}).status_code == 422
        assert c.post("/api/admin/dnc/remove", headers=head, json={
            "numbers": ["13812345678"]}).json() == {"removed": 1}
        assert c.get("/api/admin/dnc", params={"number": "13812345678"}).json() == \
            {"+8613812345678": None}
        codes = {"pause_code": [{"code": "lunch", "label": "午饭", "limit": 1800},
                                {"code": "training"}]}
        assert [p["code"] for p in c.put("/api/admin/pause-codes", headers=head,
                                         json=codes).json()] == ["lunch", "training"]
        assert c.get("/api/admin/pause-codes").json()[0]["limit"] == 1800
        dup = {"pause_code": [{"code": "lunch"}, {"code": "lunch"}]}
        assert c.put("/api/admin/pause-codes", headers=head, json=dup).status_code == 422
        login(c, "li")
        assert c.get("/api/admin/pause-codes").status_code == 403
