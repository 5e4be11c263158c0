"""The agent desk's records: dispositions, the agent state log, desk settings, pause
codes, the contact card of the screen pop, callbacks and manual dials.

Each write is one committed transaction before the runner tells anyone it happened
(the package rule): a disposition the agent saw confirmed is on disk. The state log
holds one row per finished stretch of an agent state (with its pause reason), so pause
codes and pause time reach the reports (:mod:`trunkline.dialer.campaigns.reports`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from trunkline.dialer.campaigns.numbers import InvalidNumber, normalise
from trunkline.dialer.campaigns.strategies import hour_of_week
from trunkline.dialer.desk.config import DEFAULT_PAUSE_CODES, DeskConfig, PauseCode
from trunkline.dialer.desk.outputs import ContactCard
from trunkline.dialer.errors import StoreError
from trunkline.dialer.store.claims import Claim
from trunkline.dialer.store.database import Database
from trunkline.dialer.store.dnc import dnc_hit

#: Earlier attempts shown on the screen pop, newest first.
HISTORY = 20


class DeskRecords(Database):
    """The desk's part of the database (see :class:`~trunkline.dialer.store.Store`)."""

    # -- settings ---------------------------------------------------------------------------

    def save_desk_config(self, campaign: str, config: DeskConfig) -> None:
        cid = self.campaign_id(campaign)
        with self.transaction() as db:
            db.execute("INSERT INTO desk_config (campaign_id, config) VALUES (?,?) "
                       "ON CONFLICT(campaign_id) DO UPDATE SET config=excluded.config",
                       (cid, json.dumps(config.to_dict(), ensure_ascii=False)))

    def desk_config(self, campaign: str) -> DeskConfig:
        """The campaign's desk settings (defaults when it has none)."""
        cid = self.campaign_id(campaign)
        row = self.query("SELECT config FROM desk_config WHERE campaign_id=?", (cid,))
        if not row:
            return DeskConfig(campaign)
        try:
            return DeskConfig.from_dict(campaign, json.loads(row[0][0]))
        except ValueError as err:
            raise StoreError(f"campaign {campaign!r}: stored desk settings: {err}") from err

    def save_pause_codes(self, codes: Sequence[PauseCode]) -> None:
        """Replace the site's pause codes (the state log keeps the old reasons)."""
        with self.transaction() as db:
            db.execute("DELETE FROM pause_code")
            db.executemany("INSERT INTO pause_code (code, label, limit_seconds) "
                           "VALUES (?,?,?)", [(p.code, p.label, p.limit) for p in codes])

    def pause_codes(self) -> tuple[PauseCode, ...]:
        """The site's pause codes; :data:`DEFAULT_PAUSE_CODES` when none are saved."""
        rows = self.query("SELECT code, label, limit_seconds FROM pause_code ORDER BY rowid")
        return tuple(PauseCode(*r) for r in rows) if rows else DEFAULT_PAUSE_CODES

    # -- what the desk writes -----------------------------------------------------------------

    def record_disposition(self, *, campaign: str, contact: int, agent: str, code: str,
                           fields: Mapping[str, Any], notes: str, at: float,
                           attempt: int | None = None, automatic: bool = False) -> int:
        """Commit a disposition; a second one for the same attempt is refused."""
        cid = self.campaign_id(campaign)
        with self.transaction() as db:
            if attempt is not None and db.execute(
                    "SELECT 1 FROM disposition WHERE attempt_id=?", (attempt,)).fetchone():
                raise StoreError(f"attempt {attempt} has a disposition already")
            cursor = db.execute(
                "INSERT INTO disposition (attempt_id, contact_id, campaign_id, agent, code, "
                "fields, notes, automatic, at) VALUES (?,?,?,?,?,?,?,?,?)",
                (attempt, contact, cid, agent, code,
                 json.dumps(dict(fields), ensure_ascii=False), notes, int(automatic), at))
            assert cursor.lastrowid is not None  # an INSERT into a rowid table
            return cursor.lastrowid

    def log_agent_state(self, agent: str, state: str, reason: str, since: float,
                        until: float) -> None:
        if until < since:
            raise StoreError(f"agent {agent!r}: a {state} stretch cannot end ({until}) "
                             f"before it starts ({since})")
        with self.transaction() as db:
            db.execute("INSERT INTO agent_state (agent, state, reason, since, until) "
                       "VALUES (?,?,?,?,?)", (agent, state, reason, since, until))

    def set_callback_campaign(self, callback: int, campaign: str) -> None:
        with self.transaction() as db:
            db.execute("UPDATE callback SET campaign_id=? WHERE id=?",
                       (self.campaign_id(campaign), callback))

    # -- what the desk reads -----------------------------------------------------------------

    def contact_card(self, contact: int, *, attempt: int | None = None) -> ContactCard:
        """Every column of the contact, its numbers, its earlier attempts with their
        dispositions, and its open callback's owner: the screen pop."""
        rows = self.query("SELECT c.*, k.name AS campaign_name FROM contact c JOIN campaign "
                          "k ON k.id=c.campaign_id WHERE c.id=?", (contact,))
        if not rows:
            raise StoreError(f"no contact {contact}")
        row = rows[0]
        fields = json.loads(row["fields"])
        numbers = [row["number"]]
        for value in fields.values():
            if isinstance(value, str) and sum(ch.isdigit() for ch in value) >= 7:
                try:
                    e164 = normalise(value).e164
                except InvalidNumber:
                    continue
                if e164 not in numbers:
                    numbers.append(e164)
        history = []
        for a in self.query(
                "SELECT a.id, a.claimed_at, a.dialed_at, a.ended_at, a.outcome, a.agent, "
                "a.talk, a.note, d.code, d.fields, d.notes FROM attempt a LEFT JOIN "
                "disposition d ON d.attempt_id=a.id WHERE a.contact_id=? AND a.state='done' "
                "ORDER BY a.claimed_at DESC LIMIT ?", (contact, HISTORY)):
            history.append({
                "attempt": a["id"], "at": a["dialed_at"] or a["claimed_at"],
                "outcome": a["outcome"], "agent": a["agent"], "talk": a["talk"],
                "note": a["note"], "disposition": a["code"],
                "fields": json.loads(a["fields"]) if a["fields"] else {},
                "notes": a["notes"] or ""})
        return ContactCard(str(contact), row["campaign_name"], row["number"],
                           row["time_zone"], fields, tuple(numbers), tuple(history),
                           attempt, row["callback_agent"])

    def agents_with_due_callbacks(self, agents: Iterable[str], now: float) -> set[str]:
        """Which of ``agents`` have a personal callback due (one query for all)."""
        names = list(agents)
        if not names:
            return set()
        marks = ",".join("?" * len(names))
        return {r[0] for r in self.query(
            f"SELECT DISTINCT callback_agent FROM contact WHERE callback_agent IN ({marks}) "
            "AND state='ready' AND next_at<=?", (*names, now))}

    def claim_manual(self, campaign: str, number: str, agent: str, now: float, *,
                     home_country: str = "86") -> Claim:
        """Claim ``number`` for an agent's manual dial in ``campaign``: the contact with
        that number (added, with no columns, when the campaign has none), committed as
        ``dialing``. Refused, saying why, when the number is not valid, is on a DNC list,
        is on a call, or it is outside the calling windows in the contact's zone."""
        try:
            parsed = normalise(number, default_country=home_country)
        except InvalidNumber as err:
            raise StoreError(f"{number}: {err}") from None
        e164 = parsed.e164
        cid = self.campaign_id(campaign)
        strategy = self.strategy(campaign)
        with self.transaction() as db:
            hit = dnc_hit(db, e164, campaign)
            if hit is not None:
                raise StoreError(f"{e164} is on the {hit} list")
            row = db.execute("SELECT * FROM contact WHERE campaign_id=? AND number=?",
                             (cid, e164)).fetchone()
            if row is None:
                contact = db.execute(
                    "INSERT INTO contact (campaign_id, number, time_zone, fields, created_at)"
                    " VALUES (?,?,?,?,?)", (cid, e164, parsed.time_zone, "{}", now)).lastrowid
                row = db.execute("SELECT * FROM contact WHERE id=?", (contact,)).fetchone()
            if row["state"] == "dialing":
                raise StoreError(f"{e164} is on a call already")
            if row["state"] == "dnc":
                raise StoreError(f"{e164} is barred ({row['last_outcome']})")
            tz = strategy.zone(row["time_zone"])
            if not strategy.windows.is_open(now, tz):
                nxt = strategy.windows.next_open(now, tz)
                when = "" if nxt is None else \
                    f"; the next calling time is {datetime.fromtimestamp(nxt, tz):%Y-%m-%d %H:%M}"
                raise StoreError(f"{e164}: it is outside the calling windows in {tz.key}"
                                 f"{when}")
            if row["lockout_until"] > now:
                until = datetime.fromtimestamp(row["lockout_until"], tz)
                raise StoreError(f"{e164} may not be called before {until:%Y-%m-%d %H:%M} "
                                 "(a regulation's lockout)")
            attempt = db.execute(
                "INSERT INTO attempt (contact_id, campaign_id, number, state, claimed_at, "
                "agent, local_how) VALUES (?,?,?,'claimed',?,?,?)",
                (row["id"], cid, e164, now, agent, hour_of_week(now, tz))).lastrowid
            assert attempt is not None  # an INSERT into a rowid table
            db.execute("UPDATE contact SET state='dialing' WHERE id=?", (row["id"],))
        return Claim(attempt, row["id"], campaign, e164, row["time_zone"],
                     json.loads(row["fields"]))
