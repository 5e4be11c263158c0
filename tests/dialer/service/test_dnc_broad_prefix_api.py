"""``POST /api/admin/dnc`` refuses a prefix broader than a country code and three digits
unless ``allow_broad_prefix`` confirms it (which the audit log records); removing one
never needs it (issue 15, first-week operator findings)."""

from __future__ import annotations

from pathlib import Path

from qa_data_kit import seeded_db
from web_kit import client, login

from trunkline.dialer.store import Store


def test_a_broad_prefix_needs_confirming(tmp_path: Path) -> None:
    seeded_db(tmp_path)
    with client(tmp_path) as c:
        head = {"X-CSRF-Token": login(c, "root")}
        refused = c.post("/api/admin/dnc", headers=head,
                         json={"numbers": ["13812345678", "+8*"]})
        assert refused.status_code == 422
        text = refused.text
        assert "number 2 ('+8*'): prefix '+8*' would bar every number of every country code " \
               "beginning 8" in text and "allow_broad_prefix: true" in text
        assert [(f["number"], f["code"]) for f in refused.json()["fields"]] == [
            (2, "prefix_broad")]
        assert c.post("/api/admin/dnc", headers=head, json={
            "numbers": ["+86*"], "allow_broad_prefix": True}).json() == {"added": 1}
        assert c.post("/api/admin/dnc/remove", headers=head, json={
            "numbers": ["+86*"]}).json() == {"removed": 1}
    with Store(tmp_path / "dialer.sqlite") as store:
        assert store.query("SELECT COUNT(*) FROM dnc")[0][0] == 0  # the 422 added nothing
        added = store.audit_entries(action="dnc.add")
        assert added[0].details["broad_prefixes"] == ["+86*"]


def test_a_check_takes_whole_numbers_of_a_known_campaign(tmp_path: Path) -> None:
    seeded_db(tmp_path)
    with client(tmp_path) as c:
        login(c, "root")
        unknown = c.get("/api/admin/dnc", params={"number": "13812345678",
                                                  "campaign": "slaes"})
        assert unknown.status_code == 404 and "no campaign 'slaes'" in unknown.text
        prefix = c.get("/api/admin/dnc", params={"number": ["13812345678", "+86*"]})
        assert prefix.status_code == 422
        short = c.get("/api/admin/dnc", params={"number": ["13812345678", "12345"]})
        assert "number 2 ('12345'): a Chinese mobile number has 11 digits" in short.text
        assert "number 2 ('+86*'): '+86*' is a prefix, not a number" in prefix.text
        # each refusal also as a field: its place, text and code (the page's words)
        assert [(f["field"], f["number"], f["entry"], f["code"])
                for f in prefix.json()["fields"]] == [("number", 2, "+86*", "prefix_in_check")]
        assert short.json()["fields"][0]["code"] == "number_length"
        assert c.get("/api/admin/dnc", params={"number": "13812345678",
                                               "campaign": "sales"}).json() == \
            {"+8613812345678": None}


def test_validate_names_each_refusal_by_its_place_and_adds_nothing(tmp_path: Path) -> None:
    seeded_db(tmp_path)
    with client(tmp_path) as c:
        head = {"X-CSRF-Token": login(c, "root")}
        r = c.post("/api/admin/dnc/validate", headers=head, json={
            "numbers": ["13812345678", "+86*", "abc", "# 138", "12345", "+86400*"]})
        assert r.status_code == 200
        body = r.json()
        assert body["entries"] == 2
        assert [(x["number"], x["entry"]) for x in body["refused"]] == [
            (2, "+86*"), (3, "abc"), (4, "# 138"), (5, "12345")]
        assert "would bar every number of country code +86" in body["refused"][0]["reason"]
        assert body["refused"][1]["reason"] == "not a number"
        # each with a stable code, for the page to say in its language
        assert [x["code"] for x in body["refused"]] == [
            "prefix_broad", "number_characters", "number_empty", "number_length"]
        assert c.post("/api/admin/dnc/validate", headers=head, json={
            "numbers": ["+86*"], "allow_broad_prefix": True}).json() == \
            {"entries": 1, "refused": []}
        assert c.post("/api/admin/dnc/validate", headers=head, json={
            "numbers": ["13812345678"], "campaign": "slaes"}).status_code == 404
    with Store(tmp_path / "dialer.sqlite") as store:
        assert store.query("SELECT COUNT(*) FROM dnc")[0][0] == 0
