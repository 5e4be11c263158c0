"""Claims: a due contact handed out for one call, and the attempt's way to the network.

Attempt states (the outcome is :mod:`~trunkline.dialer.store.outcomes`'s)::

    claimed --mark_dialing--> dialing --record_outcome--> done
       |
       +--release (deferred, or the number went on a DNC list)--> released

Each step is one committed transaction, before the caller acts on it: a contact is
handed out only marked ``dialing`` with its attempt row written, and an originate is sent
only after :meth:`Claims.mark_dialing` committed (re-checking the DNC lists).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass

from trunkline.dialer.campaigns.strategies import (
    Strategy,
    hour_of_week,
    limit_block,
    local_week_start,
)
from trunkline.dialer.errors import StoreError
from trunkline.dialer.store.database import Database
from trunkline.dialer.store.dnc import dnc_hit


@dataclass(frozen=True, slots=True)
class Claim:
    """A contact handed out for one call; ``attempt`` is the call record's id."""

    attempt: int
    contact: int
    campaign: str
    number: str
    time_zone: str | None
    fields: Mapping[str, str]
    preview: bool = False
    callback_agent: str | None = None



#: The next contacts of a campaign to try, in calling order. It runs for every dial, so
#: it must read the ``contact_due`` index in this order and stop after the first rows,
#: never sort the campaign's due contacts (schema migration 12; tests check the plan).
DUE_CONTACTS = (
    "SELECT * FROM contact WHERE campaign_id=? AND state='ready' AND next_at<=? "
    "AND callback_agent IS NULL ORDER BY priority DESC, next_at, id LIMIT ?")
#: An agent's own due callbacks (personal callbacks), by the ``contact_callback_agent``
#: index.
DUE_CALLBACKS = (
    "SELECT c.*, k.name AS campaign_name FROM contact c "
    "JOIN campaign k ON k.id = c.campaign_id WHERE c.callback_agent=? "
    "AND c.state='ready' AND c.next_at<=? ORDER BY c.next_at LIMIT 16")


class Claims(Database):
    """Handing out contacts (see :class:`~trunkline.dialer.store.Store`)."""

    def claim_next(self, campaign: str, now: float, *, scan: int = 64) -> Claim | None:
        """Hand out the next due contact of ``campaign``, committed as ``dialing``.

        Checks, inside the one transaction: the DNC lists (a hit ends the contact as
        ``dnc``), the lockout after an abandon, the per-day and per-week limits and the
        calling window in the contact's time zone (a contact that fails a time check is
        moved to when it passes, so it is not scanned again before then). Due callbacks
        for anyone come first, as preview records; personal callbacks are left for
        :meth:`claim_callback`.
        """
        cid = self.campaign_id(campaign)
        strategy = self.strategy(campaign)
        with self.transaction() as db:
            rows = db.execute(DUE_CONTACTS, (cid, now, scan)).fetchall()
            for row in rows:
                claim = self._try_claim(db, row, campaign, cid, strategy, now)
                if claim is not None:
                    return claim
        return None

    def claim_callback(self, agent: str, now: float) -> Claim | None:
        """The agent's own due callback (personal callbacks), claimed like any contact."""
        with self.transaction() as db:
            rows = db.execute(DUE_CALLBACKS, (agent, now)).fetchall()
            for row in rows:
                name = row["campaign_name"]
                claim = self._try_claim(db, row, name, row["campaign_id"],
                                        self.strategy(name), now, callback=True)
                if claim is not None:
                    return claim
        return None

    def _try_claim(self, db: sqlite3.Connection, row: sqlite3.Row, campaign: str, cid: int,
                   strategy: Strategy, now: float, *, callback: bool = False) -> Claim | None:
        contact_id, number = row["id"], row["number"]
        hit = dnc_hit(db, number, campaign)
        if hit is not None:
            db.execute("UPDATE contact SET state='dnc', last_outcome=?, last_at=? WHERE id=?",
                       (hit, now, contact_id))
            return None
        tz = strategy.zone(row["time_zone"])
        wait_until = row["lockout_until"] if row["lockout_until"] > now else None
        if wait_until is None:
            calls = [r[0] for r in db.execute(
                "SELECT claimed_at FROM attempt WHERE contact_id=? AND claimed_at>=? "
                "AND state!='released'",
                (contact_id, local_week_start(now, tz) - 1.0))]
            wait_until = limit_block(strategy, now, tz, calls)
        opens = strategy.windows.next_open(wait_until or now, tz)
        if opens is None:  # no window left in the horizon: park it far away, visibly
            db.execute("UPDATE contact SET next_at=?, last_outcome='no_window' WHERE id=?",
                       (now + 365 * 86_400.0, contact_id))
            return None
        if opens > now:
            db.execute("UPDATE contact SET next_at=? WHERE id=?", (opens, contact_id))
            return None
        pending_cb = db.execute("SELECT id FROM callback WHERE contact_id=? AND "
                                "state='pending' AND due_at<=?", (contact_id, now)).fetchone()
        attempt = db.execute(
            "INSERT INTO attempt (contact_id, campaign_id, number, state, claimed_at, "
            "local_how) VALUES (?,?,?,'claimed',?,?)",
            (contact_id, cid, number, now, hour_of_week(now, tz))).lastrowid
        db.execute("UPDATE contact SET state='dialing' WHERE id=? AND state='ready'",
                   (contact_id,))
        if db.execute("SELECT changes()").fetchone()[0] != 1:  # pragma: no cover - guarded
            raise StoreError(f"contact {contact_id} was claimed twice")
        if pending_cb is not None:
            db.execute("UPDATE callback SET state='taken' WHERE id=?", (pending_cb[0],))
        return Claim(attempt, contact_id, campaign, number, row["time_zone"],
                     json.loads(row["fields"]),
                     preview=bool(row["preview"]) or pending_cb is not None,
                     callback_agent=row["callback_agent"] if callback else None)

    def release(self, attempt: int, *, not_before: float) -> None:
        """Give a claimed contact back undialled (the engine deferred it)."""
        with self.transaction() as db:
            row = db.execute("SELECT contact_id, state FROM attempt WHERE id=?",
                             (attempt,)).fetchone()
            if row is None:
                raise StoreError(f"no attempt {attempt}")
            if row["state"] != "claimed":
                raise StoreError(f"cannot release attempt {attempt}: state is {row['state']}")
            db.execute("UPDATE attempt SET state='released', ended_at=? WHERE id=?",
                       (not_before, attempt))
            db.execute("UPDATE contact SET state='ready', next_at=MAX(next_at, ?) "
                       "WHERE id=? AND state='dialing'", (not_before, row["contact_id"]))

    def mark_dialing(self, attempt: int, now: float, *, call_ref: str | None = None,
                     agent: str | None = None) -> bool:
        """Commit that the originate is about to be sent; False if it must not be.

        Re-checks the DNC lists, because a preview record may have been held for a while
        since it was claimed: on a hit the attempt is released, the contact ends as
        ``dnc``, and the caller must not dial (and tells the engine the call failed).
        """
        with self.transaction() as db:
            row = db.execute("SELECT a.state, a.number, a.contact_id, k.name FROM attempt a "
                             "JOIN campaign k ON k.id=a.campaign_id WHERE a.id=?",
                             (attempt,)).fetchone()
            if row is None:
                raise StoreError(f"no attempt {attempt}")
            if row["state"] != "claimed":
                raise StoreError(f"cannot dial attempt {attempt}: state is {row['state']}")
            hit = dnc_hit(db, row["number"], row["name"])
            if hit is not None:
                db.execute("UPDATE attempt SET state='released', ended_at=?, note=? "
                           "WHERE id=?", (now, f"on {hit} list at dial time", attempt))
                db.execute("UPDATE contact SET state='dnc', last_outcome=?, last_at=? "
                           "WHERE id=?", (hit, now, row["contact_id"]))
                return False
            db.execute("UPDATE attempt SET state='dialing', dialed_at=?, call_ref=?, agent=? "
                       "WHERE id=?", (now, call_ref, agent, attempt))
            return True

    def set_call_ref(self, attempt: int, call_ref: str) -> None:
        """Remember the gateway's call id once the originate returned it."""
        with self.transaction() as db:
            db.execute("UPDATE attempt SET call_ref=? WHERE id=?", (call_ref, attempt))

