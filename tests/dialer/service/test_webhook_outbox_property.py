"""The webhook outbox under any interleaving (hypothesis): results saved, a receiver
that fails, dispatcher runs, time passing and restarts of the process, in any order;
at the end every disposition and call result saved while the webhook was enabled has
reached the real HTTP receiver, with a valid signature, at least once."""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from campaign_testkit import T0
from hypothesis import given, settings
from hypothesis import strategies as st
from qa_data_kit import finished_call, seeded_db
from webhook_receiver_kit import receiver

from trunkline.dialer.store import NewContact, Store
from trunkline.dialer.webhooks.dispatcher import WebhookDispatcher
from trunkline.dialer.webhooks.signing import verify

STEPS = st.lists(st.sampled_from(["save", "down", "run", "later", "restart"]), max_size=20)


@settings(deadline=None, max_examples=6)  # each example is a real database and server
@given(STEPS)
def test_every_saved_result_is_delivered_whatever_happens(steps: list[str]) -> None:
    with tempfile.TemporaryDirectory() as folder, receiver() as hook:
        db = seeded_db(Path(folder))
        now = [T0 + 10_000.0]
        store = Store(db)
        store.add_list("sales", "more", [NewContact(f"+8613900000{i:02d}", {}, line=i + 2)
                                         for i in range(25)], now=T0)
        _, secret = store.add_webhook("crm", hook.url, ["disposition", "call.result"],
                                      now=T0)
        sender = WebhookDispatcher(store, clock=lambda: now[0])
        saved = 0
        try:
            for step in steps:
                if step == "save":
                    finished_call(store, "sales", agent="li", at=now[0], code="sale")
                    saved += 1
                elif step == "down":
                    hook.statuses.append(503)
                elif step == "run":
                    sender.run_once()
                elif step == "later":
                    now[0] += 4000.0  # every retry so far is due
                else:  # the process ends (nothing in memory survives) and starts again
                    sender.stop()
                    store.close()
                    store = Store(db)
                    sender = WebhookDispatcher(store, clock=lambda: now[0])
            hook.statuses.clear()
            for _ in range(3):
                now[0] += 4000.0
                sender.run_once()
            states = [r[0] for r in store.query("SELECT state FROM webhook_delivery")]
        finally:
            sender.stop()
            store.close()
        assert states == ["delivered"] * (2 * saved)
        got: dict[str, set[int]] = {"disposition": set(), "call.result": set()}
        for request in hook.requests:
            assert verify(secret, request.headers["x-trunkline-signature"],
                          request.headers["x-trunkline-timestamp"], request.body,
                          now=time.time())
            body = json.loads(request.body)
            got[body["event"]].add(body["data"]["attempt_id"])
        assert len(got["disposition"]) == len(got["call.result"]) == saved
        assert got["disposition"] == got["call.result"]
