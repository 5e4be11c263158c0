"""A list upload's refused rows carry a stable ``code`` beside the English ``reason``
(the console's zh page shows its own words for it), and the recordings API gives each
recording's disposition label from the campaign's desk settings (the page shows it
instead of the code)."""

from __future__ import annotations

import csv
from pathlib import Path

from qa_data_kit import recorded_call, seeded_db
from web_kit import T0, client, login

from trunkline.dialer.campaigns.lists import ROW_REFUSAL_CODES
from trunkline.dialer.desk.config import DeskConfig
from trunkline.dialer.store import Store

#: One refused row per code (line 2 is the first row under the header).
ROWS: dict[str, str] = {
    "number_empty": "a,,,",
    "number_characters": "b,138abc00138,,",
    "number_spreadsheet": "c,1.38001E+10,,",
    "number_extension": "d,021-6123 4567 转 8001,,",
    "number_length": "e,1381234,,",
    "number_prefix": "f,12012345678,,",
    "number_area": "g,02612345678,,",
    "number_service": "h,4008001234,,",
    "row_fields": "i,13800138000,,,extra",
    "time_zone": "j,13800138001,Mars/Olympus,",
    "priority": "k,13800138002,,high",
    # a cell longer than the csv module's field limit: the record itself is refused
    "row_malformed": "l,13800138003,," + "x" * (csv.field_size_limit() + 1),
}


def test_every_refused_row_has_its_code_beside_the_english_reason(tmp_path: Path
                                                                  ) -> None:
    assert set(ROWS) == set(ROW_REFUSAL_CODES)   # a new code needs a row here
    body = "\n".join(["name,phone,time_zone,priority", "ok,13900139000,,",
                      *ROWS.values()]) + "\n"
    seeded_db(tmp_path)
    with client(tmp_path) as c:
        head = {"X-CSRF-Token": login(c, "root"), "Content-Type": "text/csv"}
        r = c.post("/api/admin/campaigns/sales/lists", params={"filename": "codes.csv"},
                   content=body.encode(), headers=head)
        assert r.status_code == 201, r.text
        report = r.json()
        assert (report["added"], report["rejected"]) == (1, len(ROWS))
        got = {e["line"]: (e["code"], e["reason"]) for e in report["errors"]}
        for line, code in enumerate(ROWS, start=3):
            assert got[line][0] == code, (line, got[line])
            assert got[line][1] and got[line][1].isascii(), got[line]  # the English kept
        assert "11 digits" in got[3 + list(ROWS).index("number_length")][1]
        # kept with the list, code and all, for the page to show again
        list_id = next(li["id"] for li in c.get("/api/admin/campaigns/sales/lists").json()
                       if li["name"] == "codes.csv")
        stored = c.get(f"/api/admin/lists/{list_id}/errors").json()
        assert {e["line"]: (e["code"], e["reason"]) for e in stored} == got
        # the codes are documented where the refusal is described
        schema = c.get("/openapi.json").json()["components"]["schemas"]["RowProblem"]
        assert "code" in schema["required"]
        assert all(f"`{code}`" in schema["properties"]["code"]["description"]
                   for code in ROW_REFUSAL_CODES)


def test_recordings_carry_the_campaigns_disposition_label(tmp_path: Path) -> None:
    db = seeded_db(tmp_path)
    with Store(db) as store:
        store.save_desk_config("sales", DeskConfig.from_dict("sales", {"disposition": [
            {"code": "wrong_party", "label": "非本人"}, {"code": "sale"}]}))
        labelled = recorded_call(store, tmp_path, "sales", agent="li", at=T0 + 3600,
                                 code="wrong_party")
        unlabelled = recorded_call(store, tmp_path, "sales", agent="li", at=T0 + 7200,
                                   code="sale")
        gone = recorded_call(store, tmp_path, "sales", agent="li", at=T0 + 9000,
                             code="old_code")   # no longer one of the campaign's
    with client(tmp_path) as c:
        login(c, "boss")
        items = {i["id"]: i for i in c.get("/api/recordings").json()["items"]}
        assert (items[labelled]["disposition"], items[labelled]["disposition_label"]) == \
            ("wrong_party", "非本人")
        assert items[unlabelled]["disposition_label"] is None
        assert items[gone]["disposition_label"] is None
        detail = c.get(f"/api/recordings/{labelled}").json()
        assert detail["disposition_label"] == "非本人"


def test_the_built_in_wrap_up_timeout_has_no_english_label(tmp_path: Path) -> None:
    """Its built-in label is English: the API gives none, and the page shows its own
    words for ``wrap_timeout`` (话后处理超时 on the zh console); a label the campaign
    gave it is kept."""
    db = seeded_db(tmp_path)
    with Store(db) as store:
        store.save_desk_config("sales", DeskConfig.from_dict("sales", {"disposition": [
            {"code": "sale"}]}))
        built_in = recorded_call(store, tmp_path, "sales", agent="li", at=T0 + 3600,
                                 code="wrap_timeout")
    with client(tmp_path) as c:
        login(c, "boss")
        item = c.get(f"/api/recordings/{built_in}").json()
        assert (item["disposition"], item["disposition_label"]) == ("wrap_timeout", None)
    with Store(db) as store:
        store.save_desk_config("sales", DeskConfig.from_dict("sales", {"disposition": [
            {"code": "sale"}, {"code": "wrap_timeout", "label": "超时未选"}]}))
    with client(tmp_path) as c:
        login(c, "boss")
        assert c.get(f"/api/recordings/{built_in}").json()["disposition_label"] == "超时未选"
