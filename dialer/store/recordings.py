"""The dialer's record of each call's recording, and QA forms and scores (质检).

The gateway keeps the audio and its own index (docs/recording.md); the dialer keeps,
beside its dispositions, which attempt, campaign, contact and agent each recording
belongs to, so quality review searches by agent (工号), number, time, duration,
campaign and disposition in one query here, scoped like calls: an agent finds only its
own recordings (the scope is in the SQL, as :mod:`.views` does it). A row is written
when the runner starts the recording (``recording``) and finished when the gateway
says the file is closed (``complete`` or ``failed``), so a recording whose end was
never heard is still found.

QA scores keep a copy of the form they were given against: a form changed later does
not change what an old score meant.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from trunkline.dialer.errors import StoreError
from trunkline.dialer.store.database import Database
from trunkline.dialer.store.views import Viewer

#: How search results may be ordered.
ORDERS = {"newest": "r.started_at DESC, r.id DESC", "oldest": "r.started_at, r.id",
          "longest": "r.duration DESC, r.id DESC", "shortest": "r.duration, r.id"}

_COLUMNS = ("r.id, r.attempt_id, k.name AS campaign, r.contact_id, r.agent, r.number, "
            "r.gateway, r.call_ref, r.path, r.started_at, r.duration, r.state, r.error, "
            "(SELECT d.code FROM disposition d WHERE d.attempt_id=r.attempt_id "
            " AND r.attempt_id IS NOT NULL ORDER BY d.at DESC LIMIT 1) AS disposition, "
            "(SELECT COUNT(*) FROM qa_score q WHERE q.recording_id=r.id) AS qa_count, "
            "(SELECT q.score FROM qa_score q WHERE q.recording_id=r.id "
            " ORDER BY q.at DESC, q.id DESC LIMIT 1) AS qa_score")


class Recordings(Database):
    """Call recordings and QA (see :class:`~trunkline.dialer.store.Store`)."""

    def add_call_recording(self, *, campaign: str, call_ref: str, path: str,
                           started_at: float, attempt: int | None = None,
                           contact: int | None = None, agent: str = "", number: str = "",
                           gateway: str = "") -> int:
        """Record that the gateway started recording a call into ``path``; returns the
        row id. Committed before it returns."""
        if not path:
            raise StoreError("a call recording needs the path the gateway gave")
        cid = self.campaign_id(campaign)
        with self.transaction() as db:
            if contact is None and attempt is not None:
                found = db.execute("SELECT contact_id FROM attempt WHERE id=?",
                                   (attempt,)).fetchone()
                contact = found[0] if found else None
            row = db.execute(
                "INSERT INTO call_recording (attempt_id, campaign_id, contact_id, agent, "
                "number, gateway, call_ref, path, started_at) VALUES (?,?,?,?,?,?,?,?,?)",
                (attempt, cid, contact, agent, number, gateway, call_ref, path,
                 started_at)).lastrowid
        assert row is not None
        return row

    def finish_call_recording(self, *, gateway: str, call_ref: str, path: str,
                              duration: float | None, error: str | None = None) -> bool:
        """The gateway finished the recording of ``call_ref`` into ``path`` (its final
        name); False if the dialer has no such recording open (not one of its calls)."""
        with self.transaction() as db:
            row = db.execute(
                "SELECT id FROM call_recording WHERE gateway=? AND call_ref=? AND "
                "state='recording' ORDER BY id DESC LIMIT 1", (gateway, call_ref)).fetchone()
            if row is None:
                return False
            db.execute("UPDATE call_recording SET path=?, duration=?, state=?, error=? "
                       "WHERE id=?", (path, duration, "failed" if error else "complete",
                                      error or "", row[0]))
        return True

    def open_recordings(self, gateway: str) -> list[tuple[int, str]]:
        """``(id, path)`` of ``gateway``'s recordings still marked ``recording``."""
        return [(r[0], r[1]) for r in self.query(
            "SELECT id, path FROM call_recording WHERE gateway=? AND state='recording'",
            (gateway,))]

    def settle_recording(self, recording: int, *, duration: float | None,
                         error: str | None) -> None:
        """Close a recording whose end the runner never heard (it was stopped)."""
        with self.transaction() as db:
            db.execute("UPDATE call_recording SET duration=?, state=?, error=? WHERE id=? "
                       "AND state='recording'", (duration, "failed" if error else "complete",
                                                 error or "", recording))

    def search_recordings(self, viewer: Viewer, *, agent: str | None = None,
                          number: str | None = None, campaign: str | None = None,
                          disposition: str | None = None, since: float | None = None,
                          until: float | None = None, min_duration: float | None = None,
                          max_duration: float | None = None, state: str | None = None,
                          attempt: int | None = None, contact: int | None = None,
                          order: str = "newest", offset: int = 0, limit: int = 50
                          ) -> tuple[int, list[dict[str, Any]]]:
        """``(total, page)``: recordings ``viewer`` may hear matching every filter.

        ``number`` matches a part of the number (the last digits a customer gives);
        ``since``/``until`` bound the start time (``until`` exclusive); durations are
        seconds; ``attempt`` and ``contact`` find the recordings of one call or one
        contact. An agent gets only its own (``agent`` is then ignored)."""
        if order not in ORDERS:
            raise StoreError(f"order by {', '.join(ORDERS)}, not {order!r}")
        where = ["1=1"]
        params: dict[str, Any] = {}
        if not viewer.sees_all:
            where.append("r.agent=:me")
            params["me"] = viewer.name
        elif agent:
            where.append("r.agent=:agent")
            params["agent"] = agent
        if number:
            where.append("instr(r.number, :number) > 0")
            params["number"] = number
        if campaign:
            where.append("k.name=:campaign")
            params["campaign"] = campaign
        if disposition:
            where.append("EXISTS (SELECT 1 FROM disposition d WHERE "
                         "d.attempt_id=r.attempt_id AND d.code=:disposition)")
            params["disposition"] = disposition
        for key, value, sql in (("since", since, "r.started_at>=:since"),
                                ("until", until, "r.started_at<:until"),
                                ("min_d", min_duration, "r.duration>=:min_d"),
                                ("max_d", max_duration, "r.duration<=:max_d"),
                                ("state", state, "r.state=:state"),
                                ("attempt", attempt, "r.attempt_id=:attempt"),
                                ("contact", contact, "r.contact_id=:contact")):
            if value is not None:
                where.append(sql)
                params[key] = value
        clause = " AND ".join(where)
        base = f"FROM call_recording r JOIN campaign k ON k.id=r.campaign_id WHERE {clause}"
        total = int(self.query(f"SELECT COUNT(*) {base}", params)[0][0])
        rows = self.query(f"SELECT {_COLUMNS} {base} ORDER BY {ORDERS[order]} "
                          "LIMIT :limit OFFSET :offset",
                          {**params, "limit": int(limit), "offset": int(offset)})
        return total, [dict(r) for r in rows]

    def call_recording(self, viewer: Viewer, recording: int) -> dict[str, Any] | None:
        """One recording ``viewer`` may hear, or None (absent, or another agent's)."""
        params: dict[str, Any] = {"id": recording}
        scope = ""
        if not viewer.sees_all:
            scope = " AND r.agent=:me"
            params["me"] = viewer.name
        rows = self.query(f"SELECT {_COLUMNS} FROM call_recording r JOIN campaign k "
                          f"ON k.id=r.campaign_id WHERE r.id=:id{scope}", params)
        return dict(rows[0]) if rows else None

    # -- QA forms and scores ---------------------------------------------------------------

    def save_qa_form(self, campaign: str, form: Mapping[str, Any], *, now: float,
                     by: str | None = None) -> None:
        """Set ``campaign``'s QA form (already validated by the caller:
        :meth:`trunkline.dialer.review.qaform.QaForm.to_dict`)."""
        cid = self.campaign_id(campaign)
        with self.transaction() as db:
            db.execute("INSERT INTO qa_form (campaign_id, form, updated_at, updated_by) "
                       "VALUES (?,?,?,?) ON CONFLICT(campaign_id) DO UPDATE SET "
                       "form=excluded.form, updated_at=excluded.updated_at, "
                       "updated_by=excluded.updated_by",
                       (cid, json.dumps(dict(form), ensure_ascii=False), now, by))

    def qa_form(self, campaign: str) -> dict[str, Any] | None:
        """``campaign``'s QA form as saved, or None."""
        rows = self.query("SELECT form FROM qa_form WHERE campaign_id=?",
                          (self.campaign_id(campaign),))
        return json.loads(rows[0][0]) if rows else None

    def add_qa_score(self, recording: int, *, reviewer: str, form: Mapping[str, Any],
                     items: Mapping[str, float], score: float, comments: str,
                     now: float) -> int:
        """Store a reviewer's score of a recording (computed by the caller from
        ``form``, which is kept with it); returns the row id."""
        with self.transaction() as db:
            row = db.execute("SELECT campaign_id, agent FROM call_recording WHERE id=?",
                             (recording,)).fetchone()
            if row is None:
                raise StoreError(f"no recording {recording}")
            new = db.execute(
                "INSERT INTO qa_score (recording_id, campaign_id, agent, reviewer, form, "
                "items, score, comments, at) VALUES (?,?,?,?,?,?,?,?,?)",
                (recording, row["campaign_id"], row["agent"], reviewer,
                 json.dumps(dict(form), ensure_ascii=False),
                 json.dumps(dict(items), ensure_ascii=False), score, comments,
                 now)).lastrowid
        assert new is not None
        return new

    def qa_scores(self, recording: int) -> list[dict[str, Any]]:
        """Every score of a recording, newest first."""
        rows = self.query("SELECT id, reviewer, items, score, comments, at, form FROM "
                          "qa_score WHERE recording_id=? ORDER BY at DESC, id DESC",
                          (recording,))
        return [{"id": r["id"], "reviewer": r["reviewer"], "items": json.loads(r["items"]),
                 "score": r["score"], "comments": r["comments"], "at": r["at"],
                 "form": json.loads(r["form"])} for r in rows]

    def qa_summary(self, *, by: str = "agent", campaign: str | None = None,
                   since: float = 0.0, until: float = float("inf"),
                   agent: str | None = None) -> list[dict[str, Any]]:
        """Scores given in ``[since, until)`` per campaign and agent (``by="agent"``) or
        per campaign: ``reviews``, ``calls`` reviewed, ``avg_score``, ``min_score``,
        ``max_score`` and ``pass_rate`` (against each score's own form)."""
        if by not in ("agent", "campaign"):
            raise StoreError(f"QA summary by agent or campaign, not {by!r}")
        where = ["q.at>=?", "q.at<?"]
        params: list[Any] = [since, min(until, 1e300)]
        if campaign is not None:
            where.append("k.name=?")
            params.append(campaign)
        if agent is not None:
            where.append("q.agent=?")
            params.append(agent)
        group = "k.name, q.agent" if by == "agent" else "k.name"
        rows = self.query(
            f"SELECT k.name AS campaign, {'q.agent AS agent, ' if by == 'agent' else ''}"
            "COUNT(*) AS reviews, COUNT(DISTINCT q.recording_id) AS calls, "
            "AVG(q.score) AS avg_score, MIN(q.score) AS min_score, "
            "MAX(q.score) AS max_score, "
            "AVG(q.score >= COALESCE(json_extract(q.form, '$.pass_score'), 80)) AS pass_rate "
            f"FROM qa_score q JOIN campaign k ON k.id=q.campaign_id WHERE "
            f"{' AND '.join(where)} GROUP BY {group} ORDER BY {group}", params)
        out = []
        for r in rows:
            row = dict(r)
            for key in ("avg_score", "min_score", "max_score"):
                row[key] = round(row[key], 2)
            row["pass_rate"] = round(row["pass_rate"], 4)
            out.append(row)
        return out
