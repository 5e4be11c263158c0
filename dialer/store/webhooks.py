"""Webhooks: dispositions and call results sent to a collection system or CRM, through
a durable outbox.

The outbox (issue 18 item 6: nothing lost across restarts):

1. Triggers of the schema (version 9) add a ``webhook_event`` row in the very
   transaction that saves a disposition or marks an attempt ``done``, while any webhook
   is enabled. No code path that saves a result can forget to queue it, and a crash
   right after the commit loses nothing.
2. :meth:`Webhooks.fan_out` turns new events into one ``webhook_delivery`` per webhook
   that wants the event's kind, with the JSON body built then (a retry sends the same
   bytes, so the receiver's signature check and its de-duplication by delivery id both
   hold), and marks the events done, in one transaction.
3. The dispatcher (:mod:`trunkline.dialer.webhooks.dispatcher`) posts due deliveries and
   records each attempt (``webhook_attempt``: the delivery log) with the next try's time,
   until one is answered 2xx or the attempts run out (``failed``; an admin may send it
   again).

Delivery is at least once: a crash between the receiver's 2xx and the commit sends it
again; receivers de-duplicate by ``X-Trunkline-Delivery``.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from trunkline.dialer.errors import StoreError
from trunkline.dialer.store.database import Database

#: The kinds of event a webhook may want.
EVENT_KINDS = ("disposition", "call.result")
#: Events fanned out per transaction (a backlog is worked through in steps).
FAN_OUT_BATCH = 500


@dataclass(frozen=True, slots=True)
class Webhook:
    """A webhook as listed (the secret only where it is created)."""

    id: int
    name: str
    url: str
    events: tuple[str, ...]
    enabled: bool
    created_by: str | None
    created_at: float
    changed_at: float

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "url": self.url,
                "events": list(self.events), "enabled": self.enabled,
                "created_by": self.created_by, "created_at": self.created_at,
                "changed_at": self.changed_at}


@dataclass(frozen=True, slots=True)
class Due:
    """A delivery to try now."""

    id: int
    webhook: str
    url: str
    secret: str
    kind: str
    body: str
    attempts: int


def check_url(url: str) -> str:
    """An http(s) URL with a host, or StoreError naming what is wrong.

    Checked whole before it is stored: ``http://[::1/x`` was a ValueError traceback from
    urlsplit, and a port over 65535 or a host with a space or a control character was
    stored, every delivery then failing for a day of retries (second red-team pass,
    issue 15)."""
    bad = f"a webhook URL must be http:// or https:// with a host, not {url!r}"
    if not isinstance(url, str) or any(c.isspace() or ord(c) < 32 or ord(c) == 127
                                       for c in url):
        raise StoreError(bad + " (no spaces or control characters)")
    try:
        parts = urlsplit(url)
        port = parts.port                     # ValueError when out of 0-65535 or not digits
    except ValueError as err:
        raise StoreError(f"{bad} ({err})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise StoreError(bad)
    if port == 0:
        raise StoreError(f"{bad} (port 0)")
    if parts.username or parts.password:
        raise StoreError("put no credentials in a webhook URL: the receiver checks the "
                         "signature (X-Trunkline-Signature) instead")
    if len(url) > 2000:
        raise StoreError("the webhook URL is longer than 2000 characters")
    return url


def check_events(events: Sequence[str]) -> tuple[str, ...]:
    bad = sorted(set(events) - set(EVENT_KINDS))
    if bad or not events:
        raise StoreError(f"webhook events are {', '.join(EVENT_KINDS)}; got "
                         f"{', '.join(bad) if bad else 'none'}")
    return tuple(sorted(set(events)))


class Webhooks(Database):
    """Webhooks and their outbox (see :class:`~trunkline.dialer.store.Store`)."""

    def add_webhook(self, name: str, url: str, events: Sequence[str], *, now: float,
                    secret: str | None = None, created_by: str | None = None
                    ) -> tuple[Webhook, str]:
        """A new webhook; returns it and its signing secret (made here unless given).
        It receives what is saved from now on (and events still waiting to be fanned
        out)."""
        if not name or len(name) > 64:
            raise StoreError("a webhook needs a name of 1 to 64 characters")
        check_url(url)
        kinds = check_events(events)
        if secret is None:
            secret = secrets.token_urlsafe(32)
        elif len(secret) < 16:
            raise StoreError("a webhook secret must be at least 16 characters")
        with self.transaction() as db:
            if db.execute("SELECT 1 FROM webhook WHERE name=?", (name,)).fetchone():
                raise StoreError(f"a webhook named {name!r} exists")
            row = db.execute(
                "INSERT INTO webhook (name, url, secret, events, enabled, created_by, "
                "created_at, changed_at) VALUES (?,?,?,?,1,?,?,?)",
                (name, url, secret, json.dumps(kinds), created_by, now, now)).lastrowid
        assert row is not None
        return self.webhook(name), secret

    def webhook(self, name: str) -> Webhook:
        rows = self.query("SELECT * FROM webhook WHERE name=?", (name,))
        if not rows:
            known = ", ".join(r[0] for r in self.query("SELECT name FROM webhook")) or "none"
            raise StoreError(f"no webhook {name!r} (known: {known})")
        return _webhook(rows[0])

    def webhooks(self) -> list[Webhook]:
        return [_webhook(r) for r in self.query("SELECT * FROM webhook ORDER BY id")]

    def set_webhook_enabled(self, name: str, enabled: bool, *, now: float) -> Webhook:
        """Enable or disable a webhook; a disabled one gets no new deliveries and its
        pending ones wait (they go once it is enabled again)."""
        self.webhook(name)
        with self.transaction() as db:
            db.execute("UPDATE webhook SET enabled=?, changed_at=? WHERE name=?",
                       (int(enabled), now, name))
        return self.webhook(name)

    def fan_out(self, *, now: float) -> int:
        """Turn new events into deliveries (see the module docstring); returns how many
        deliveries were made."""
        made = 0
        # a plain read first: no write lock taken once a second when nothing is new
        if not self.query("SELECT 1 FROM webhook_event WHERE fanned=0 LIMIT 1"):
            return 0
        with self.transaction() as db:
            events = db.execute("SELECT id, kind, ref_id, at FROM webhook_event WHERE "
                                "fanned=0 ORDER BY id LIMIT ?", (FAN_OUT_BATCH,)).fetchall()
            if not events:
                return 0
            hooks = [(r["id"], set(json.loads(r["events"]))) for r in db.execute(
                "SELECT id, events FROM webhook WHERE enabled=1")]
            for event in events:
                wanted = [hook for hook, kinds in hooks if event["kind"] in kinds]
                if wanted:
                    body = _body(db, event)
                    text = json.dumps(body, ensure_ascii=False, sort_keys=True,
                                      separators=(",", ":")) if body is not None else None
                    for hook in wanted if text is not None else ():
                        db.execute(
                            "INSERT OR IGNORE INTO webhook_delivery (webhook_id, event_id, "
                            "kind, body, next_at, created_at) VALUES (?,?,?,?,?,?)",
                            (hook, event["id"], event["kind"], text, now, now))
                        made += 1
                db.execute("UPDATE webhook_event SET fanned=1 WHERE id=?", (event["id"],))
        return made

    def due_deliveries(self, *, now: float, limit: int = 50) -> list[Due]:
        """Pending deliveries of enabled webhooks whose time has come, oldest first."""
        rows = self.query(
            "SELECT d.id, w.name, w.url, w.secret, d.kind, d.body, d.attempts FROM "
            "webhook_delivery d JOIN webhook w ON w.id=d.webhook_id WHERE "
            "d.state='pending' AND d.next_at<=? AND w.enabled=1 ORDER BY d.next_at, d.id "
            "LIMIT ?", (now, limit))
        return [Due(*tuple(r)) for r in rows]

    def next_delivery_at(self) -> float | None:
        """When the next pending delivery of an enabled webhook is due, if any."""
        value = self.query(
            "SELECT MIN(d.next_at) FROM webhook_delivery d JOIN webhook w ON "
            "w.id=d.webhook_id WHERE d.state='pending' AND w.enabled=1")[0][0]
        return None if value is None else float(value)

    def record_delivery(self, delivery: int, *, now: float, status: int | None,
                        error: str, seconds: float, delivered: bool,
                        next_at: float | None) -> None:
        """One attempt's result: delivered, to be tried again at ``next_at``, or (no
        ``next_at``) failed for good."""
        state = "delivered" if delivered else "pending" if next_at is not None else "failed"
        with self.transaction() as db:
            db.execute("INSERT INTO webhook_attempt (delivery_id, at, status, error, "
                       "seconds) VALUES (?,?,?,?,?)",
                       (delivery, now, status, error[:1000], seconds))
            db.execute("UPDATE webhook_delivery SET attempts=attempts+1, state=?, "
                       "next_at=COALESCE(?, next_at), last_status=?, last_error=?, "
                       "delivered_at=? WHERE id=?",
                       (state, next_at, status, error[:1000], now if delivered else None,
                        delivery))

    def redeliver(self, delivery: int, *, now: float) -> None:
        """Send a failed (or delivered) delivery again, from its first attempt."""
        with self.transaction() as db:
            if not db.execute("UPDATE webhook_delivery SET state='pending', attempts=0, "
                              "next_at=? WHERE id=?", (now, delivery)).rowcount:
                raise StoreError(f"no webhook delivery {delivery}")

    def deliveries(self, *, webhook: str | None = None, state: str | None = None,
                   limit: int = 100) -> list[dict[str, Any]]:
        """The delivery log, newest first, each with its attempts."""
        where: list[str] = ["1=1"]
        params: list[Any] = []
        if webhook is not None:
            where.append("w.id=?")
            params.append(self.webhook(webhook).id)
        if state is not None:
            where.append("d.state=?")
            params.append(state)
        rows = self.query(
            "SELECT d.id, w.name AS webhook, d.event_id, d.kind, d.state, d.attempts, "
            "d.next_at, d.created_at, d.delivered_at, d.last_status, d.last_error, d.body "
            f"FROM webhook_delivery d JOIN webhook w ON w.id=d.webhook_id WHERE "
            f"{' AND '.join(where)} ORDER BY d.id DESC LIMIT ?", (*params, int(limit)))
        out = []
        for r in rows:
            row = dict(r)
            row["body"] = json.loads(row["body"])
            row["log"] = [dict(a) for a in self.query(
                "SELECT at, status, error, seconds FROM webhook_attempt WHERE "
                "delivery_id=? ORDER BY id", (r["id"],))]
            out.append(row)
        return out


def _webhook(r: Any) -> Webhook:
    return Webhook(r["id"], r["name"], r["url"], tuple(json.loads(r["events"])),
                   bool(r["enabled"]), r["created_by"], r["created_at"], r["changed_at"])


def _body(db: Any, event: Any) -> dict[str, Any] | None:
    """The JSON a receiver gets for one event (None: its row is gone)."""
    if event["kind"] == "disposition":
        row = db.execute(
            "SELECT d.id, d.attempt_id, k.name AS campaign, d.contact_id, c.number, "
            "c.fields AS contact_fields, d.agent, d.code, d.fields, d.notes, d.automatic, "
            "d.at FROM disposition d JOIN campaign k ON k.id=d.campaign_id JOIN contact c "
            "ON c.id=d.contact_id WHERE d.id=?", (event["ref_id"],)).fetchone()
        if row is None:
            return None
        data = dict(row)
        data["fields"] = json.loads(data["fields"])
        data["automatic"] = bool(data["automatic"])
    else:
        row = db.execute(
            "SELECT a.id AS attempt_id, k.name AS campaign, a.contact_id, a.number, "
            "c.fields AS contact_fields, a.outcome, a.cause, a.agent, a.dialed_at, "
            "a.answered_at, a.ended_at, a.talk, a.note FROM attempt a JOIN campaign k ON "
            "k.id=a.campaign_id JOIN contact c ON c.id=a.contact_id WHERE a.id=?",
            (event["ref_id"],)).fetchone()
        if row is None:
            return None
        data = dict(row)
    data["contact_fields"] = json.loads(data["contact_fields"])
    return {"event": event["kind"], "event_id": event["id"], "at": event["at"],
            "data": data}
