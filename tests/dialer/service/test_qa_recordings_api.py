"""Recordings for quality review through the API (issue 18 item 3), fast, over recordings
written the way the runner writes them: search filters and pages, the agent's scope,
playback and download (audited), the waveform, QA forms from the API and the campaign
TOML, scores and their summary."""

from __future__ import annotations

from pathlib import Path

from campaign_testkit import T0
from qa_data_kit import recorded_call, seeded_db
from web_kit import HUMANS, client, login

from trunkline.dialer.store import NewContact, Store

FORM = {"pass_score": 60, "item": [
    {"id": "greeting", "label": "Greeting", "max": 5},
    {"id": "compliance", "label": "Disclosure read", "max": 1, "weight": 3,
     "critical": True}]}


def _data(tmp_path: Path) -> list[int]:
    db = seeded_db(tmp_path)
    with Store(db) as store:
        store.add_list("sales", "more", [NewContact(f"+8613900000{i:02d}", {}, line=i + 2)
                                         for i in range(6)], now=T0)
        ids = [recorded_call(store, tmp_path, "sales", agent="li", at=T0 + 3600, seconds=2),
               recorded_call(store, tmp_path, "sales", agent="li", at=T0 + 7200, seconds=4,
                             code="no_deal"),
               recorded_call(store, tmp_path, "sales", agent="wang", at=T0 + 9000,
                             seconds=3)]
    return ids


def test_search_filters_pages_and_the_agents_scope(tmp_path: Path) -> None:
    ids = _data(tmp_path)
    with client(tmp_path) as c:
        login(c, "boss")
        everything = c.get("/api/recordings").json()
        assert everything["total"] == 3
        assert [r["id"] for r in everything["items"]] == ids[::-1]  # newest first
        assert c.get("/api/recordings", params={"agent": "wang"}).json()["total"] == 1
        dispo = c.get("/api/recordings", params={"disposition": "no_deal"}).json()
        assert [r["id"] for r in dispo["items"]] == [ids[1]]
        longest = c.get("/api/recordings", params={"min_duration": 2.5, "order": "longest"})
        assert [r["duration"] for r in longest.json()["items"]] == [4.0, 3.0]
        timed = c.get("/api/recordings", params={"since": T0 + 5000, "until": T0 + 8000})
        assert [r["id"] for r in timed.json()["items"]] == [ids[1]]
        number = everything["items"][0]["number"]
        assert c.get("/api/recordings", params={"number": number[-6:]}).json()["total"] == 1
        one = everything["items"][1]
        by_call = c.get("/api/recordings", params={"attempt": one["attempt_id"]}).json()
        assert [r["id"] for r in by_call["items"]] == [one["id"]]
        assert c.get("/api/recordings", params={"contact": one["contact_id"]}
                     ).json()["total"] == 1
        page2 = c.get("/api/recordings", params={"per_page": 2, "page": 2}).json()
        assert page2["total"] == 3 and [r["id"] for r in page2["items"]] == [ids[0]]
        assert c.get("/api/recordings", params={"per_page": 0}).status_code == 422
        assert c.get("/api/recordings", params={"campaign": "nope"}).json()["total"] == 0
        login(c, "li")
        mine = c.get("/api/recordings", params={"agent": "wang"}).json()
        assert {r["agent"] for r in mine["items"]} == {"li"} and mine["total"] == 2
        assert c.get(f"/api/recordings/{ids[2]}").status_code == 404
        assert c.get(f"/api/recordings/{ids[2]}/waveform").status_code == 404
        assert c.get(f"/api/recordings/{ids[0]}").json()["disposition"] == "sale"


def test_playback_ranges_download_is_audited_and_a_missing_file_is_410(tmp_path: Path
                                                                      ) -> None:
    ids = _data(tmp_path)
    with client(tmp_path) as c:
        login(c, "li")
        url = f"/api/recordings/{ids[0]}/audio"
        whole = c.get(url)
        assert whole.status_code == 200 and whole.headers["accept-ranges"] == "bytes"
        assert whole.headers["content-type"] == "audio/wav"
        size = len(whole.content)
        tail = c.get(url, headers={"Range": "bytes=-10"})
        assert tail.status_code == 206 and tail.content == whole.content[-10:]
        assert tail.headers["content-range"] == f"bytes {size - 10}-{size - 1}/{size}"
        mid = c.get(url, headers={"Range": "bytes=44-1000000"})
        assert mid.content == whole.content[44:]
        assert c.get(url, headers={"Range": "bytes=5-2"}).status_code == 200  # ignored
        bad = c.get(url, headers={"Range": f"bytes={size + 5}-"})
        assert bad.status_code == 416 and bad.headers["content-range"] == f"bytes */{size}"
        down = c.get(url, params={"download": "true"})
        assert down.headers["content-disposition"].startswith("attachment;")
        wave_ = c.get(f"/api/recordings/{ids[0]}/waveform", params={"buckets": 10}).json()
        assert wave_["buckets"] == 10 and wave_["duration"] == 2.0
        assert 0.36 < max(wave_["peaks"][0]["max"]) < 0.37  # 12000 / 32768
        assert 0.18 < max(wave_["peaks"][1]["max"]) < 0.19  # 6000 / 32768
        assert c.get(f"/api/recordings/{ids[0]}/waveform",
                     params={"buckets": 0}).status_code == 422
        (tmp_path / f"rec-{ids[0]}.wav").unlink(missing_ok=True)
        for wav in tmp_path.glob("rec-*.wav"):
            wav.unlink()
        assert c.get(url).status_code == 410
        login(c, "boss")
        audit = c.get("/api/audit", params={"action": "recording.download"}).json()
        assert [(a["user"], a["target"]) for a in audit] == [("li", str(ids[0]))]


def test_qa_form_scores_and_summary(tmp_path: Path) -> None:
    ids = _data(tmp_path)
    with client(tmp_path) as c:
        csrf = login(c, "boss")
        head = {"X-CSRF-Token": csrf}
        no_form = c.post(f"/api/recordings/{ids[0]}/qa", headers=head,
                         json={"items": {"greeting": 1}})
        assert no_form.status_code == 409 and "qa-form" in no_form.json()["message"]
        wrong = c.put("/api/campaigns/sales/qa-form", headers=head,
                      json={"item": [{"id": "x", "max": 0}]})
        assert wrong.status_code == 422 and "max" in wrong.json()["message"]
        assert c.get("/api/campaigns/sales/qa-form").json() is None
        assert c.put("/api/campaigns/sales/qa-form", headers=head,
                     json=FORM).status_code == 200
        assert c.put("/api/campaigns/nope/qa-form", headers=head,
                     json=FORM).status_code == 404
        first = c.post(f"/api/recordings/{ids[0]}/qa", headers=head,
                       json={"items": {"greeting": 5, "compliance": 1}, "comments": "ok"})
        assert first.json()["score"] == 100.0
        failed = c.post(f"/api/recordings/{ids[1]}/qa", headers=head,
                        json={"items": {"greeting": 5, "compliance": 0}})
        assert failed.json()["score"] == 0.0  # a critical item missed
        half = c.post(f"/api/recordings/{ids[2]}/qa", headers=head,
                      json={"items": {"greeting": 2.5, "compliance": 1}})
        assert half.json()["score"] == 87.5
        for items in ({"greeting": 5}, {"greeting": 5, "compliance": 1, "x": 1},
                      {"greeting": 4.3, "compliance": 1}):
            r = c.post(f"/api/recordings/{ids[0]}/qa", headers=head, json={"items": items})
            assert r.status_code == 422, items
        detail = c.get(f"/api/recordings/{ids[0]}").json()
        assert detail["qa_score"] == 100.0 and detail["scores"][0]["reviewer"] == "boss"
        assert detail["scores"][0]["form"]["item"][1]["critical"] is True
        rows = c.get("/api/qa/summary").json()
        assert [(r["agent"], r["reviews"], r["avg_score"], r["pass_rate"]) for r in rows] == \
            [("li", 2, 50.0, 0.5), ("wang", 1, 87.5, 1.0)]
        by_campaign = c.get("/api/qa/summary", params={"by": "campaign"}).json()
        assert by_campaign[0]["reviews"] == 3
        csv = c.get("/api/reports/qa", params={"format": "csv"})
        assert csv.text.splitlines()[0].startswith("campaign,agent,reviews")
        login(c, "li")
        assert [r["agent"] for r in c.get("/api/qa/summary",
                                          params={"by": "campaign"}).json()] == ["li"]
        assert c.put("/api/campaigns/sales/qa-form", json=FORM,
                     headers={"X-CSRF-Token": login(c, "li")}).status_code == 403
    assert HUMANS  # the web kit's list is there too
