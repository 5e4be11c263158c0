"""Machine clients (issue 18 item 6): API tokens (made by admins, role-bound, hashed,
shown once, revocable; Bearer without CSRF but never past the role) and webhooks from a
durable outbox, posted to a real HTTP server on this host: signed, retried with backoff,
logged, kept across a restart; configured through the API and the CLI."""

from __future__ import annotations

import hashlib
import json
import random
import time
from pathlib import Path

import pytest
from campaign_testkit import T0
from hypothesis import given, settings
from hypothesis import strategies as st
from qa_data_kit import finished_call, seeded_db
from web_kit import Clock, client, login
from webhook_receiver_kit import receiver

from trunkline.cli import main
from trunkline.dialer.store import Store, StoreError
from trunkline.dialer.webhooks import dispatcher as dispatch
from trunkline.dialer.webhooks.dispatcher import WebhookDispatcher, next_try
from trunkline.dialer.webhooks.signing import signature, verify


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_tokens_act_with_their_role_without_csrf_and_end_when_revoked(tmp_path: Path
                                                                       ) -> None:
    seeded_db(tmp_path)
    with client(tmp_path) as c:
        csrf = {"X-CSRF-Token": login(c, "root")}
        made = {}
        for name, user, role in (("crm", "boss", "supervisor"), ("bot", "li", "agent")):
            r = c.post("/api/tokens", headers=csrf, json={"name": name, "user": user,
                                                          "role": role})
            assert r.status_code == 201, r.text
            made[name] = r.json()["token"]
        too_high = c.post("/api/tokens", headers=csrf,
                          json={"name": "x", "user": "li", "role": "admin"})
        assert too_high.status_code == 422 and "cannot have the admin role" in \
            too_high.json()["message"]
        assert c.post("/api/tokens", headers=csrf, json={
            "name": "crm", "user": "boss", "role": "agent"}).status_code == 409
        listed = c.get("/api/tokens").json()
        assert [t["name"] for t in listed] == ["crm", "bot"]
        assert all("token" not in t for t in listed)
        c.cookies.clear()  # from here on, machine clients without a session
        with Store(tmp_path / "dialer.sqlite") as store:
            hashes = [r[0] for r in store.query("SELECT token_hash FROM api_token")]
        assert hashlib.sha256(made["crm"].encode()).hexdigest() in hashes
        assert made["crm"] not in json.dumps(hashes)
        # the supervisor token: supervisor reads, and a POST with no CSRF token is taken
        assert c.get("/api/reports/campaign", headers=_bearer(made["crm"])).status_code == 200
        paused = c.post("/api/campaigns/sales/pause", headers=_bearer(made["crm"]))
        assert paused.status_code != 403, paused.text
        assert c.get("/api/tokens", headers=_bearer(made["crm"])).status_code == 403
        # the agent token cannot reach supervisor operations, but its own things
        for method, url in (("get", "/api/reports/campaign"), ("get", "/api/campaigns"),
                            ("post", "/api/campaigns/sales/pause"), ("get", "/api/audit"),
                            ("put", "/api/campaigns/sales/qa-form"),
                            ("get", "/api/reports/daily")):
            r = c.request(method, url, headers=_bearer(made["bot"]),
                          json={} if method != "get" else None)
            assert r.status_code == 403 and r.json()["error"] == "forbidden", (url, r.text)
        assert c.get("/api/recordings", headers=_bearer(made["bot"])).status_code == 200
        for wrong in ("tlk_nope", "nope", made["bot"] + "x"):
            r = c.get("/api/recordings", headers=_bearer(wrong))
            assert r.status_code == 401 and "WWW-Authenticate" in r.headers
        csrf = {"X-CSRF-Token": login(c, "root")}
        assert c.post("/api/tokens/bot/revoke", headers=csrf).json()["revoked_at"]
        assert c.post("/api/tokens/bot/revoke", headers=csrf).status_code == 409
        assert c.post("/api/users/boss/disable", headers=csrf).status_code == 200
        c.cookies.clear()
        assert c.get("/api/recordings", headers=_bearer(made["bot"])).status_code == 401
        assert c.get("/api/recordings", headers=_bearer(made["crm"])).status_code == 401
        login(c, "root")
        actions = [a["action"] for a in c.get("/api/audit").json()]
        assert actions.count("token.add") == 2 and "token.revoke" in actions


def test_an_expired_token_is_refused(tmp_path: Path) -> None:
    clock = Clock()
    seeded_db(tmp_path)
    with client(tmp_path, clock) as c:
        csrf = {"X-CSRF-Token": login(c, "root")}
        token = c.post("/api/tokens", headers=csrf, json={
            "name": "day", "user": "boss", "role": "supervisor", "expires_in_days": 1}
        ).json()["token"]
        c.cookies.clear()
        assert c.get("/api/campaigns", headers=_bearer(token)).status_code == 200
        clock.now += 86_401
        assert c.get("/api/campaigns", headers=_bearer(token)).status_code == 401


def _queue(db: Path, n: int = 1) -> None:
    with Store(db) as store:
        for i in range(n):
            finished_call(store, "sales", agent="li", at=T0 + 100 * (i + 1), code="sale")


def test_webhooks_are_signed_retried_with_backoff_and_logged(tmp_path: Path) -> None:
    db = seeded_db(tmp_path)
    now = [T0]
    with receiver(statuses=[500, 503]) as hook, Store(db) as store:
        hook_row, secret = store.add_webhook("crm", hook.url, ["disposition"], now=T0)
        _queue(db)
        sender = WebhookDispatcher(store, clock=lambda: now[0], rng=random.Random(1))
        assert sender.run_once() == {"queued": 1, "delivered": 0, "retry": 1, "failed": 0}
        row = store.deliveries()[0]
        assert (row["state"], row["attempts"], row["last_status"]) == ("pending", 1, 500)
        assert T0 + 10 <= row["next_at"] <= T0 + 11  # 10 s and up to 10 % jitter
        assert sender.run_once()["retry"] == 0  # not due yet
        now[0] = row["next_at"]
        assert sender.run_once()["retry"] == 1
        now[0] = store.deliveries()[0]["next_at"]
        assert T0 + 40 <= now[0] <= T0 + 45
        assert sender.run_once()["delivered"] == 1
        row = store.deliveries()[0]
        assert row["state"] == "delivered" and [a["status"] for a in row["log"]] == \
            [500, 503, 200]
        sender.stop()
    first, last = hook.requests[0], hook.requests[-1]
    assert first.body == last.body  # a retry sends the same bytes
    assert first.headers["x-trunkline-delivery"] == last.headers["x-trunkline-delivery"]
    assert last.headers["x-trunkline-event"] == "disposition"
    assert verify(secret, last.headers["x-trunkline-signature"],
                  last.headers["x-trunkline-timestamp"], last.body, now=time.time())
    assert not verify("another secret of 16+", last.headers["x-trunkline-signature"],
                      last.headers["x-trunkline-timestamp"], last.body, now=time.time())
    assert not verify(secret, last.headers["x-trunkline-signature"],
                      last.headers["x-trunkline-timestamp"], last.body + b" ",
                      now=time.time())
    body = json.loads(last.body)
    assert body["data"]["code"] == "sale" and body["data"]["agent"] == "li"
    assert hook_row.events == ("disposition",)


def test_nothing_is_lost_across_a_restart_and_a_receiver_that_is_down(tmp_path: Path
                                                                      ) -> None:
    db = seeded_db(tmp_path)
    with Store(db) as store:
        store.add_webhook("crm", "http://127.0.0.1:9/down", ["disposition", "call.result"],
                          now=T0)
    _queue(db, 2)  # saved while no dispatcher runs: queued by the store's triggers
    with Store(db) as store:  # "after a restart"
        sender = WebhookDispatcher(store, clock=lambda: T0 + 1000)
        counts = sender.run_once()
        assert counts == {"queued": 4, "delivered": 0, "retry": 4, "failed": 0}
        assert "Connect" in store.deliveries()[0]["last_error"]
        sender.stop()
    with receiver() as hook, Store(db) as store:
        store.query("SELECT 1")
        with store.transaction() as tx:
            tx.execute("UPDATE webhook SET url=?", (hook.url,))
        sender = WebhookDispatcher(store, clock=lambda: T0 + 5000)
        assert sender.run_once()["delivered"] == 4
        sender.stop()
        kinds = sorted(json.loads(r.body)["event"] for r in hook.requests)
        assert kinds == ["call.result", "call.result", "disposition", "disposition"]


def test_no_event_is_queued_without_a_webhook_and_a_disabled_one_waits(tmp_path: Path
                                                                      ) -> None:
    db = seeded_db(tmp_path)
    _queue(db)
    with Store(db) as store:
        assert store.query("SELECT COUNT(*) FROM webhook_event")[0][0] == 0
        store.add_webhook("crm", "http://127.0.0.1:9/x", ["call.result"], now=T0)
        store.set_webhook_enabled("crm", False, now=T0)
    _queue(db)
    with Store(db) as store:
        assert store.query("SELECT COUNT(*) FROM webhook_event")[0][0] == 0
        store.set_webhook_enabled("crm", True, now=T0)
        with pytest.raises(StoreError, match="http:// or https://"):
            store.add_webhook("x", "ftp://host/", ["disposition"], now=T0)
        with pytest.raises(StoreError, match="events are"):
            store.add_webhook("x", "https://host/", ["sms"], now=T0)
        with pytest.raises(StoreError, match="no credentials"):
            store.add_webhook("x", "https://u:p@host/", ["disposition"], now=T0)


def test_webhooks_through_the_api(tmp_path: Path) -> None:
    seeded_db(tmp_path)
    with receiver() as hook, client(tmp_path) as c:
        csrf = {"X-CSRF-Token": login(c, "root")}
        made = c.post("/api/webhooks", headers=csrf, json={"name": "crm", "url": hook.url})
        assert made.status_code == 201 and len(made.json()["secret"]) >= 32
        assert made.json()["events"] == ["call.result", "disposition"]
        assert "secret" not in c.get("/api/webhooks").json()[0]
        assert c.post("/api/webhooks", headers=csrf, json={
            "name": "x", "url": "file:///etc/passwd"}).status_code == 422
        assert c.post("/api/webhooks/crm/disable", headers=csrf).json()["enabled"] is False
        assert c.post("/api/webhooks/nope/enable", headers=csrf).status_code == 404
        login(c, "boss")
        assert c.get("/api/webhooks").status_code == 403
        assert c.get("/api/webhooks/deliveries").status_code == 403


def test_the_cli_configures_webhooks_and_tokens(tmp_path: Path, capsys: pytest.CaptureFixture
                                                [str]) -> None:
    db = str(seeded_db(tmp_path))
    with receiver() as hook:
        assert main(["dialer", "webhooks", "add", "crm", hook.url, "--events", "disposition",
                     "--db", db]) == 0
        out = capsys.readouterr().out
        secret = out.split("secret (shown once): ")[1].strip()
        _queue(Path(db))
        assert main(["dialer", "webhooks", "send", "--db", db]) == 0
        assert "delivered 1" in capsys.readouterr().out
        got = hook.requests[0]
        assert got.headers["x-trunkline-signature"] == signature(
            secret, int(got.headers["x-trunkline-timestamp"]), got.body)
    assert main(["dialer", "webhooks", "deliveries", "--json", "--db", db]) == 0
    assert json.loads(capsys.readouterr().out)[0]["state"] == "delivered"
    assert main(["dialer", "webhooks", "disable", "crm", "--db", db]) == 0
    assert main(["dialer", "tokens", "add", "crm", "--user", "boss", "--role", "supervisor",
                 "--days", "30", "--db", db]) == 0
    assert "tlk_" in capsys.readouterr().out
    assert main(["dialer", "tokens", "revoke", "crm", "--db", db]) == 0
    assert main(["dialer", "tokens", "list", "--json", "--db", db]) == 0
    assert json.loads(capsys.readouterr().out.split("\n", 1)[1])[0]["revoked_at"]
    with Store(db) as store:
        actions = [e.action for e in store.audit_entries()]
    assert {"webhook.add", "webhook.disable", "token.add", "token.revoke"} <= set(actions)


@settings(deadline=None)
@given(st.integers(1, 60), st.floats(0, 0.999))
def test_the_retry_schedule_grows_is_bounded_and_ends(attempts: int, jitter: float) -> None:
    at = next_try(attempts, 1000.0, jitter=jitter)
    if attempts >= dispatch.MAX_ATTEMPTS:
        assert at is None
        return
    assert at is not None
    delay = at - 1000.0
    assert 10.0 <= delay <= 3600.0 * 1.1
    earlier = next_try(max(1, attempts - 1), 1000.0, jitter=0.0)
    assert earlier is not None and earlier - 1000.0 <= delay


@settings(deadline=None)
@given(st.binary(max_size=200), st.integers(0, 2**31))
def test_a_signature_verifies_only_its_own_body_and_time(body: bytes, ts: int) -> None:
    sig = signature("k" * 20, ts, body)
    assert verify("k" * 20, sig, str(ts), body, now=ts + 10)
    assert not verify("k" * 20, sig, str(ts), body, now=ts + 1000)
    assert not verify("k" * 20, sig, str(ts + 1), body, now=ts)
