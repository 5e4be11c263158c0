"""The admin API refuses a bad name for a new campaign with 422 (second red-team pass,
issue 15: ``PUT /api/admin/campaigns/%00`` made a campaign whose name showed as
nothing). The rule itself: tests/dialer/store/test_rt2_campaign_names.py."""

from __future__ import annotations

from pathlib import Path

from qa_data_kit import seeded_db
from web_kit import client, login


def test_the_admin_api_answers_422_for_a_bad_new_name(tmp_path: Path) -> None:
    seeded_db(tmp_path)
    with client(tmp_path) as c:
        head = {"X-CSRF-Token": login(c, "root")}
        for path in ("%00", "%20x", "a%0Ab", "..%20"):
            r = c.put(f"/api/admin/campaigns/{path}", headers=head, json={})
            assert r.status_code == 422, (path, r.text)
            assert r.json()["error"] == "invalid"
        assert c.put("/api/admin/campaigns/ok%20name", headers=head,
                     json={}).status_code == 200
