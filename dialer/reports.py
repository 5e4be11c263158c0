"""Campaign reports (报表) from the store: per campaign, per agent, per hour.

Definitions (the field notes' vocabulary; DESIGN.md's call outcomes):

- *dials*: attempts that reached the network (``mark_dialing`` committed);
- *answers*: live answers, i.e. outcomes ``human`` and ``abandoned``;
- *connects*: live answers put through to an agent (outcome ``human``);
- *connect rate* (接通率): connects / dials; *answer rate*: answers / dials;
- *abandon rate*: abandoned / live answers in the regulated window the caller names
  (the store keeps per-window counters, including UK machine counts);
- *average talk* and *wrap-up*: over connects that recorded them;
- *list penetration*: contacts dialled at least once / contacts in the campaign, and
  contacts finished / contacts.

*Occupancy* needs agents' logged-in time, which the store does not record yet (the engine
keeps agent states in memory): it is reported as ``None`` until a runner persists agent
sessions.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from trunkline.dialer.store import Store
from trunkline.dialer.vocab import CallOutcome

OUTCOMES = [str(o) for o in CallOutcome]


def _row(key: dict[str, Any], outcomes: dict[str, int], talk: list[float],
         wrap: list[float]) -> dict[str, Any]:
    dials = sum(outcomes.values())
    connects = outcomes.get("human", 0)
    answers = connects + outcomes.get("abandoned", 0)
    return {
        **key, "dials": dials, "answers": answers, "connects": connects,
        "connect_rate": round(connects / dials, 4) if dials else None,
        "answer_rate": round(answers / dials, 4) if dials else None,
        "abandoned": outcomes.get("abandoned", 0),
        "avg_talk": round(sum(talk) / len(talk), 1) if talk else None,
        "avg_wrap": round(sum(wrap) / len(wrap), 1) if wrap else None,
        **{f"n_{o}": outcomes.get(o, 0) for o in OUTCOMES},
    }


def report(store: Store, *, by: str = "campaign", campaign: str | None = None,
           since: float = 0.0, until: float = float("inf"), time_zone: str = "Asia/Shanghai",
           windows: dict[str, int] | None = None) -> list[dict[str, Any]]:
    """Rows grouped ``by`` ``campaign``, ``agent`` or ``hour`` (local hour of day in
    ``time_zone``) over finished attempts ended in ``[since, until)``.

    ``windows`` maps a campaign to its current regulated window index; campaign rows then
    carry that window's abandon rate.
    """
    if by not in ("campaign", "agent", "hour"):
        raise ValueError(f"report by campaign, agent or hour, not {by!r}")
    sql = ("SELECT k.name, a.agent, a.ended_at, a.outcome, a.talk, a.wrap FROM attempt a "
           "JOIN campaign k ON k.id=a.campaign_id WHERE a.state='done' AND a.ended_at>=? "
           "AND a.ended_at<?")
    params: list[Any] = [since, until if until != float("inf") else 1e300]
    if campaign is not None:
        store.campaign_id(campaign)
        sql += " AND k.name=?"
        params.append(campaign)
    tz = ZoneInfo(time_zone)
    groups: dict[tuple, tuple[dict[str, int], list[float], list[float]]] = {}
    for name, agent, ended, outcome, talk, wrap in store.query(sql, params):
        if by == "campaign":
            key: tuple = (name,)
        elif by == "agent":
            key = (name, agent or "-")
        else:
            key = (name, datetime.fromtimestamp(ended, tz).hour)
        outcomes, talks, wraps = groups.setdefault(key, ({}, [], []))
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
        if talk is not None:
            talks.append(talk)
        if wrap is not None:
            wraps.append(wrap)
    rows = []
    for key in sorted(groups, key=lambda k: tuple(str(x) for x in k)):
        names = {"campaign": key[0]}
        if by == "agent":
            names["agent"] = key[1]
        elif by == "hour":
            names["hour"] = key[1]
        row = _row(names, *groups[key])
        if by == "campaign":
            row.update(_campaign_extras(store, key[0], (windows or {}).get(key[0])))
        rows.append(row)
    return rows


def _campaign_extras(store: Store, name: str, window: int | None) -> dict[str, Any]:
    cid = store.campaign_id(name)
    total, touched, finished = store.query(
        "SELECT COUNT(*), SUM(attempts>0), SUM(state IN ('done','dnc')) FROM contact "
        "WHERE campaign_id=?", (cid,))[0]
    extras: dict[str, Any] = {
        "contacts": total,
        "penetration": round((touched or 0) / total, 4) if total else None,
        "finished": round((finished or 0) / total, 4) if total else None,
        "occupancy": None,
    }
    if window is not None:
        live, abandoned, _machines = store.abandon_counts(name, window)
        extras["window"] = window
        extras["window_abandon_rate"] = round(abandoned / live, 4) if live else 0.0
    return extras


def to_csv(rows: Sequence[dict[str, Any]]) -> str:
    if not rows:
        return ""
    columns = list(dict.fromkeys(k for row in rows for k in row))
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def to_json(rows: Sequence[dict[str, Any]]) -> str:
    return json.dumps(list(rows), ensure_ascii=False, indent=1)


def to_table(rows: Sequence[dict[str, Any]]) -> str:
    """A compact terminal table of the main columns (CSV/JSON carry all of them)."""
    if not rows:
        return "(no finished calls)"
    main = [c for c in ("campaign", "agent", "hour", "dials", "answers", "connects",
                        "connect_rate", "abandoned", "window_abandon_rate", "avg_talk",
                        "avg_wrap", "penetration") if any(c in r for r in rows)]
    cells = [[("-" if r.get(c) is None else str(r.get(c))) for c in main] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(main)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(main, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(lines)
