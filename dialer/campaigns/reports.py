"""Campaign reports (报表) from the store: per campaign, per agent, per hour.

Definitions (the field notes' vocabulary; DESIGN.md's call outcomes):

- *dials*: attempts that reached the network (``mark_dialing`` committed);
- *answers*: live answers, i.e. outcomes ``human`` and ``abandoned``;
- *connects*: live answers put through to an agent (outcome ``human``);
- *connect rate* (接通率): connects / dials; *answer rate*: answers / dials;
- *abandon rate*: abandoned / live answers among the row's calls; campaign rows also carry
  the rate of the *regulated window* (US: the campaign's 30-day period; UK and others:
  the calendar day) holding ``now``, from the store's per-window counters (UK: with the
  AMD false-positive estimate, as the engine's ledger counts it);
- *average talk* and *wrap-up*: over connects that recorded them;
- *list penetration*: contacts dialled at least once / contacts in the campaign, and
  contacts finished / contacts (campaign rows); hour rows carry ``new_contacts`` (contacts
  first dialled in that hour) and ``penetration_added`` (their share of the list), which
  add up to the penetration gained in the period. Agent rows carry neither: agents do
  not choose whom is dialled, nor when a call is abandoned;
- *occupancy*: (talk + wrap-up) / logged-in time, with ``logged_in_h`` (hours). See
  :func:`occupancy_pieces` for how logged-in time is attributed to campaigns and hours.

Logged-in time comes from the store's agent sessions (login to logout, committed by the
runner; a crashed runner's sessions are closed at restart at the agent's last known
activity). A paused agent counts as logged in for occupancy; how long each agent spent
in each state, and paused for which reason (the site's pause codes), comes from the desk's
agent state log: ``by="state"`` (:func:`state_rows`), and ``paused_h`` on agent rows.
Dispositions saved at the desk are counted by ``by="disposition"``
(:func:`disposition_rows`); the SMS they sent by ``by="sms"`` (:func:`sms_rows`). A
row with no session time (an agent who took calls before sessions were stored, or the
``-`` row of calls no agent took) reports ``occupancy`` and ``logged_in_h`` as None,
not 0.
"""

from __future__ import annotations

import bisect
import dataclasses
import io
import json
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from trunkline import csvsafe
from trunkline.dialer.pacing.campaign import CampaignConfig
from trunkline.dialer.pacing.compliance import window_index
from trunkline.dialer.store import Store, StoreError
from trunkline.dialer.vocab import CallOutcome, Regime

OUTCOMES = [str(o) for o in CallOutcome]
#: What a report can be grouped by.
BY = ("campaign", "agent", "hour", "state", "disposition", "sms")
#: Talk or wrap-up longer than this is not looked for outside the report's period.
BUSY_MARGIN = 86_400.0
_NO_END = 1e300
_CONFIG_DEFAULTS = {f.name: f.default for f in dataclasses.fields(CampaignConfig)}


@dataclass(frozen=True, slots=True)
class Piece:
    """A stretch of one agent session inside one local hour, attributed to one campaign.

    ``logged_in`` is the session time given to ``campaign`` (seconds), ``busy`` the
    agent's talk + wrap-up for ``campaign`` inside it (seconds, never more than
    ``logged_in``).
    """

    agent: str
    campaign: str
    hour: int
    logged_in: float
    busy: float


def _row(key: dict[str, Any], outcomes: dict[str, int], talk: list[float],
         wrap: list[float], occupied: tuple[float, float] | None) -> dict[str, Any]:
    """The columns every row has; ``occupied`` is (logged-in s, busy s), None: no session."""
    logged, busy = occupied if occupied is not None else (None, 0.0)
    dials = sum(outcomes.values())
    connects = outcomes.get("human", 0)
    abandoned = outcomes.get("abandoned", 0)
    answers = connects + abandoned
    return {
        **key, "dials": dials, "answers": answers, "connects": connects,
        "connect_rate": round(connects / dials, 4) if dials else None,
        "answer_rate": round(answers / dials, 4) if dials else None,
        "abandoned": abandoned,
        "abandon_rate": round(abandoned / answers, 4) if answers else None,
        "avg_talk": round(sum(talk) / len(talk), 1) if talk else None,
        "avg_wrap": round(sum(wrap) / len(wrap), 1) if wrap else None,
        "logged_in_h": None if logged is None else round(logged / 3600.0, 3),
        "occupancy": round(busy / logged, 4) if logged else None,
        **{f"n_{o}": outcomes.get(o, 0) for o in OUTCOMES},
    }


def report(store: Store, *, by: str = "campaign", campaign: str | None = None,
           since: float = 0.0, until: float = float("inf"), time_zone: str = "Asia/Shanghai",
           windows: dict[str, int] | None = None, now: float | None = None
           ) -> list[dict[str, Any]]:
    """Rows grouped ``by`` ``campaign``, ``agent`` or ``hour`` (local hour of day in
    ``time_zone``, over all the days of the period) over finished attempts ended in
    ``[since, until)`` and agent sessions inside it.

    ``now`` is when the report is made: sessions still open count as logged in up to it,
    and campaign rows carry the abandon rate of the regulated window holding it
    (``windows`` may name the window index per campaign instead). Without ``now``, the
    latest time the store has a record of is used, so a report of old data does not
    count an open session up to today. Groups with session time but no calls (an idle
    agent, a quiet hour) have rows too.
    """
    if by not in BY:
        raise ValueError(f"report by {', '.join(BY)}, not {by!r}")
    if campaign is not None:
        store.campaign_id(campaign)
    if by == "state":
        return state_rows(store, since=since, until=until)
    if by == "disposition":
        return disposition_rows(store, campaign=campaign, since=since, until=until)
    if by == "sms":
        return sms_rows(store, campaign=campaign, since=since, until=until)
    tz = ZoneInfo(time_zone)
    as_of = _as_of(store) if now is None else now
    groups: dict[tuple, tuple[dict[str, int], list[float], list[float]]] = {}
    for name, agent, ended, outcome, talk, wrap in _attempts(store, campaign, since, until):
        outcomes, talks, wraps = groups.setdefault(_key(by, name, agent, ended, tz),
                                                   ({}, [], []))
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
        if talk is not None:
            talks.append(talk)
        if wrap is not None:
            wraps.append(wrap)
    occupied: dict[tuple, tuple[float, float]] = {}
    for piece in occupancy_pieces(store, since=since, until=until, now=as_of, tz=tz,
                                  campaign=campaign):
        if campaign is not None and piece.campaign != campaign:
            continue
        key = {"campaign": (piece.campaign,), "agent": (piece.campaign, piece.agent),
               "hour": (piece.campaign, piece.hour)}[by]
        logged, busy = occupied.get(key, (0.0, 0.0))
        occupied[key] = (logged + piece.logged_in, busy + piece.busy)
    new_contacts = _first_dials(store, campaign, since, until, tz) if by == "hour" else {}
    paused: dict[str, float] = {}
    if by == "agent":
        for row in state_rows(store, since=since, until=until):
            if row["state"] == "paused":
                paused[row["agent"]] = paused.get(row["agent"], 0.0) + row["seconds"]
    contacts: dict[str, tuple[int, int, int]] = {}
    rows = []
    for key in sorted(groups.keys() | occupied.keys()):  # hours as numbers: 9 before 10
        name = key[0]
        names: dict[str, Any] = {"campaign": name}
        if by == "agent":
            names["agent"] = key[1]
        elif by == "hour":
            names["hour"] = key[1]
        row = _row(names, *groups.get(key, ({}, [], [])), occupied.get(key))
        if name not in contacts:
            contacts[name] = _contact_counts(store, name)
        total, touched, finished = contacts[name]
        if by == "agent":
            row["paused_h"] = round(paused.get(key[1], 0.0) / 3600.0, 3) \
                if key[1] in paused else None
        if by == "campaign":
            row["contacts"] = total
            row["penetration"] = round(touched / total, 4) if total else None
            row["finished"] = round(finished / total, 4) if total else None
            window = (windows or {}).get(name)
            row.update(_window_extras(store, name, as_of, window))
            row.update(_delay_extras(store, name, since, until))
        elif by == "hour":
            fresh = new_contacts.get(key, 0)
            row["new_contacts"] = fresh
            row["penetration_added"] = round(fresh / total, 4) if total else None
        rows.append(row)
    return rows


def state_rows(store: Store, *, since: float = 0.0, until: float = float("inf")
               ) -> list[dict[str, Any]]:
    """Time per agent, state and pause reason from the desk's state log, clipped to
    ``[since, until)``: ``stretches`` (how many), ``seconds``, ``minutes``, and
    ``share`` of the agent's logged time in the period."""
    totals: dict[tuple[str, str, str], list[float]] = {}
    for agent, state, reason, start, end in store.query(
            "SELECT agent, state, reason, since, until FROM agent_state "
            "WHERE until > ? AND since < ?", (since, min(until, _NO_END))):
        seconds = min(end, until) - max(start, since)
        if seconds <= 0:
            continue
        entry = totals.setdefault((agent, state, reason), [0, 0.0])
        entry[0] += 1
        entry[1] += seconds
    logged: dict[str, float] = {}
    for (agent, _, _), (_, seconds) in totals.items():
        logged[agent] = logged.get(agent, 0.0) + seconds
    return [{"agent": agent, "state": state, "reason": reason, "stretches": int(n),
             "seconds": round(seconds, 3), "minutes": round(seconds / 60.0, 2),
             "share": round(seconds / logged[agent], 4) if logged[agent] else None}
            for (agent, state, reason), (n, seconds) in sorted(totals.items())]


def disposition_rows(store: Store, *, campaign: str | None = None, since: float = 0.0,
                     until: float = float("inf")) -> list[dict[str, Any]]:
    """Dispositions saved in ``[since, until)`` per campaign and code: ``count``, how
    many the desk saved itself when wrap-up ran out (``automatic``), and ``agents``."""
    sql = ("SELECT k.name, d.code, COUNT(*), SUM(d.automatic), COUNT(DISTINCT d.agent) "
           "FROM disposition d JOIN campaign k ON k.id=d.campaign_id "
           "WHERE d.at >= ? AND d.at < ?")
    params: list[Any] = [since, min(until, _NO_END)]
    if campaign is not None:
        sql += " AND k.name = ?"
        params.append(campaign)
    sql += " GROUP BY k.name, d.code ORDER BY k.name, COUNT(*) DESC, d.code"
    return [{"campaign": name, "code": code, "count": count, "automatic": automatic,
             "agents": agents} for name, code, count, automatic, agents in
            store.query(sql, params)]


def sms_rows(store: Store, *, campaign: str | None = None, since: float = 0.0,
             until: float = float("inf")) -> list[dict[str, Any]]:
    """SMS that dispositions sent in ``[since, until)`` (when they were sent), per
    campaign: ``total`` and how many are in each state now (``queued`` at the gateway,
    ``sent`` to the network, ``delivered`` by its report, ``failed``)."""
    sql = ("SELECT k.name, s.state, COUNT(*) FROM contact_sms s JOIN campaign k "
           "ON k.id=s.campaign_id WHERE s.created_at >= ? AND s.created_at < ?")
    params: list[Any] = [since, min(until, _NO_END)]
    if campaign is not None:
        sql += " AND k.name = ?"
        params.append(campaign)
    rows: dict[str, dict[str, Any]] = {}
    for name, state, count in store.query(sql + " GROUP BY k.name, s.state ORDER BY k.name",
                                          params):
        row = rows.setdefault(name, {"campaign": name, "total": 0, "queued": 0, "sent": 0,
                                     "delivered": 0, "failed": 0})
        row[state] = count
        row["total"] += count
    return list(rows.values())


def _key(by: str, name: str, agent: str | None, ended: float, tz: ZoneInfo) -> tuple:
    if by == "campaign":
        return (name,)
    if by == "agent":
        return (name, agent or "-")
    return (name, datetime.fromtimestamp(ended, tz).hour)


def _attempts(store: Store, campaign: str | None, since: float, until: float) -> list[Any]:
    sql = ("SELECT k.name, a.agent, a.ended_at, a.outcome, a.talk, a.wrap FROM attempt a "
           "JOIN campaign k ON k.id=a.campaign_id WHERE a.state='done' AND a.ended_at>=? "
           "AND a.ended_at<?")
    params: list[Any] = [since, min(until, _NO_END)]
    if campaign is not None:
        sql += " AND k.name=?"
        params.append(campaign)
    return store.query(sql, params)


def _as_of(store: Store) -> float:
    """The latest time the store has a record of (attempt ends and wrap-ups, sessions)."""
    return float(store.query(
        "SELECT MAX(COALESCE((SELECT MAX(ended_at + COALESCE(wrap, 0)) FROM attempt "
        "WHERE state='done'), 0), COALESCE((SELECT MAX(MAX(started_at, "
        "COALESCE(ended_at, 0))) FROM agent_session), 0))")[0][0])


def _contact_counts(store: Store, name: str) -> tuple[int, int, int]:
    total, touched, finished = store.query(
        "SELECT COUNT(*), SUM(attempts>0), SUM(state IN ('done','dnc')) FROM contact "
        "WHERE campaign_id=?", (store.campaign_id(name),))[0]
    return total, touched or 0, finished or 0


def _first_dials(store: Store, campaign: str | None, since: float, until: float,
                 tz: ZoneInfo) -> dict[tuple[str, int], int]:
    """Contacts whose first finished attempt ended in the period, by (campaign, hour)."""
    sql = ("SELECT k.name, MIN(a.ended_at) FROM attempt a JOIN campaign k "
           "ON k.id=a.campaign_id WHERE a.state='done'")
    params: list[Any] = []
    if campaign is not None:
        sql += " AND k.name=?"
        params.append(campaign)
    counts: dict[tuple[str, int], int] = {}
    for name, first in store.query(sql + " GROUP BY a.contact_id", params):
        if since <= first < until:
            key = (name, datetime.fromtimestamp(first, tz).hour)
            counts[key] = counts.get(key, 0) + 1
    return counts


def regulated_window(store: Store, name: str, now: float) -> int:
    """The index of ``name``'s regulated abandon window holding ``now``, as the runner
    counts it (:func:`trunkline.dialer.runner.settings.campaign_config`): the stored ``regime``,
    the 30-day periods from ``start`` (default: when the campaign was created) and the
    calendar days of the strategy's time zone (its offset at ``now``)."""
    config = store.campaign_config(name)
    regime = _regime(name, config)
    start = config.get("start")
    if start is None:
        start = store.campaign_created_at(name)
    offset = config.get("day_offset")
    if offset is None:
        utc = datetime.fromtimestamp(now, ZoneInfo(store.strategy(name).time_zone)).utcoffset()
        offset = utc.total_seconds() if utc is not None else 0.0
    return window_index(regime, now, start=float(start), day_offset=float(offset))


def _regime(name: str, config: dict[str, Any]) -> Regime:
    raw = config.get("regime", _CONFIG_DEFAULTS["regime"])
    try:
        return Regime(raw)
    except ValueError as err:
        raise StoreError(f"campaign {name!r}: unknown regime {raw!r} in its config") from err


def _window_extras(store: Store, name: str, now: float, window: int | None
                   ) -> dict[str, Any]:
    if window is None:
        window = regulated_window(store, name, now)
    config = store.campaign_config(name)
    live, abandoned, machines = store.abandon_counts(name, window)
    if _regime(name, config) is Regime.UK:  # Ofcom: estimated AMD false positives count
        f = float(config.get("amd_false_positive_rate",
                             _CONFIG_DEFAULTS["amd_false_positive_rate"]))
        live, abandoned = live + f * machines, abandoned + f * machines
    return {"window": window,
            "window_abandon_rate": round(abandoned / live, 4) if live else 0.0}


def _delay_extras(store: Store, name: str, since: float, until: float) -> dict[str, Any]:
    """The longest wait for an agent by the regulators' two measures (issue 15, item 3):
    from the line's answer (Ofcom) and from the end of the greeting (16 CFR
    310.4(b)(4)(iii)); None when no live answer of the period was bridged."""
    delays = store.agent_delays(name, since=since, until=until)

    def worst(key: str) -> float | None:
        values = [d[key] for d in delays if d[key] is not None]
        return max(values) if values else None

    return {"max_answer_to_agent_s": worst("answer_to_agent_s"),
            "max_greeting_to_agent_s": worst("greeting_to_agent_s")}


# -- occupancy ------------------------------------------------------------------------------


def occupancy_pieces(store: Store, *, since: float = 0.0, until: float = float("inf"),
                     now: float, tz: ZoneInfo, campaign: str | None = None
                     ) -> Iterator[Piece]:
    """Agent sessions inside ``[since, until)``, cut at the local hours of ``tz`` and
    attributed to campaigns, with the talk + wrap-up done in each piece.

    - A session still open counts up to ``now``; ``campaign`` keeps the sessions logged
      in to it (their pieces may still go to the session's other campaigns).
    - A call's talk is the ``talk`` seconds before its end (``ended_at``: the customer
      hung up) and its wrap-up the ``wrap`` seconds after, so busy time falls in the
      hours it happened in, not in the hour the call ended.
    - An agent logged in to several campaigns: each hour of the session is shared
      between the campaigns in proportion to the agent's talk + wrap-up for each in that
      hour (an hour with none is shared evenly between the session's campaigns). So the
      logged-in hours of the campaigns add up to the agent's, none is counted twice, and
      each campaign sees the agent as busy as the agent was; shares are per hour, not
      per session, so an agent on campaign A all morning and on B all afternoon is not
      100 % busy for A half the day.
    - Only busy time inside a session counts, and an agent is never more than 100 %
      busy in a piece (overlapping call records, which a live runner does not write, are
      scaled down), so occupancy is always in [0, 1].
    """
    until = min(until, now)
    sql = ("SELECT agent, campaigns, started_at, COALESCE(ended_at, ?) FROM agent_session s "
           "WHERE started_at<? AND (ended_at IS NULL OR ended_at>?)")
    params: list[Any] = [now, until, since]
    if campaign is not None:
        sql += " AND EXISTS (SELECT 1 FROM json_each(s.campaigns) j WHERE j.value=?)"
        params.append(campaign)
    sessions = store.query(sql + " ORDER BY agent, started_at", params)
    if not sessions:
        return
    busy = _busy_intervals(store, {s[0] for s in sessions}, since, until)
    for agent, names, started, ended in sessions:
        campaigns = json.loads(names)
        intervals = busy.get(agent)
        for a, b, hour in hour_pieces(max(started, since), min(ended, until), tz):
            yield from _share(agent, campaigns, hour, a, b, intervals)


@dataclass(slots=True)
class _Intervals:
    """One agent's busy intervals ``[lo, hi)`` sorted by start, for range lookups."""

    los: list[float]
    his: list[float]
    campaigns: list[str]
    longest: float


def _busy_intervals(store: Store, agents: set[str], since: float,
                    until: float) -> dict[str, _Intervals]:
    marks = ",".join("?" * len(agents))
    rows = store.query(
        "SELECT a.agent, k.name, a.ended_at - COALESCE(a.talk, 0), "
        "a.ended_at + COALESCE(a.wrap, 0) FROM attempt a JOIN campaign k "
        "ON k.id=a.campaign_id WHERE a.state='done' AND (a.talk>0 OR a.wrap>0) "
        f"AND a.agent IN ({marks}) AND a.ended_at>=? AND a.ended_at<? ORDER BY 3",
        (*sorted(agents), since - BUSY_MARGIN, min(until + BUSY_MARGIN, _NO_END)))
    out: dict[str, _Intervals] = {}
    for agent, name, lo, hi in rows:
        if hi <= since or lo >= until:
            continue
        found = out.setdefault(agent, _Intervals([], [], [], 0.0))
        found.los.append(lo)
        found.his.append(hi)
        found.campaigns.append(name)
        found.longest = max(found.longest, hi - lo)
    return out


def _share(agent: str, campaigns: list[str], hour: int, a: float, b: float,
           intervals: _Intervals | None) -> Iterator[Piece]:
    length = b - a
    if length <= 0:
        return
    busy: dict[str, float] = {}
    if intervals is not None:
        i = bisect.bisect_left(intervals.los, a - intervals.longest)
        while i < len(intervals.los) and intervals.los[i] < b:
            overlap = min(b, intervals.his[i]) - max(a, intervals.los[i])
            if overlap > 0:
                name = intervals.campaigns[i]
                busy[name] = busy.get(name, 0.0) + overlap
            i += 1
    total = sum(busy.values())
    if total <= 0:
        for name in campaigns:
            yield Piece(agent, name, hour, length / len(campaigns), 0.0)
        return
    scale = min(1.0, length / total)
    for name, seconds in busy.items():
        yield Piece(agent, name, hour, length * seconds / total, seconds * scale)


def hour_pieces(start: float, end: float, tz: ZoneInfo) -> Iterator[tuple[float, float, int]]:
    """Cut ``[start, end)`` where the local hour of day in ``tz`` changes: yields
    ``(from, to, hour)``. Exact across UTC-offset changes (DST, half-hour zones): the
    pieces add up to ``end - start`` and each lies inside one local hour."""
    t = start
    while t < end:
        offset = _offset(t, tz)
        local = t + offset
        hour = math.floor(local / 3600.0)
        nxt = (hour + 1) * 3600.0 - offset  # the next local hour, if the offset holds
        if _offset(nxt, tz) != offset:  # it changes first: cut at the change (whole s)
            lo, hi = math.floor(t), math.ceil(nxt)
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if _offset(mid, tz) == offset:
                    lo = mid
                else:
                    hi = mid
            nxt = max(float(hi), t)
        to = min(nxt, end)
        if to <= t:  # pragma: no cover - float guard: never loop in place
            to = min(t + 1.0, end)
        yield t, to, hour % 24
        t = to


def _offset(t: float, tz: ZoneInfo) -> float:
    utc = datetime.fromtimestamp(t, tz).utcoffset()
    return utc.total_seconds() if utc is not None else 0.0


# -- output ---------------------------------------------------------------------------------


def to_csv(rows: Sequence[dict[str, Any]]) -> str:
    if not rows:
        return ""
    columns = list(dict.fromkeys(k for row in rows for k in row))
    out = io.StringIO()
    writer = csvsafe.dict_writer(out, columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def to_json(rows: Sequence[dict[str, Any]]) -> str:
    return json.dumps(list(rows), ensure_ascii=False, indent=1)


def to_table(rows: Sequence[dict[str, Any]]) -> str:
    """A compact terminal table of the main columns (CSV/JSON carry all of them)."""
    if not rows:
        return "(no finished calls or agent sessions)"
    main = [c for c in ("campaign", "agent", "hour", "state", "reason", "code", "dials",
                        "answers", "connects", "connect_rate", "abandoned", "abandon_rate",
                        "window_abandon_rate", "avg_talk", "avg_wrap", "logged_in_h",
                        "occupancy", "paused_h", "penetration", "penetration_added",
                        "stretches", "minutes", "share", "count", "automatic", "agents",
                        "total", "queued", "sent", "delivered", "failed", "attempt",
                        "number", "outcome", "answer_to_agent_s", "greeting_to_agent_s")
            if any(c in r for r in rows)]
    cells = [[("-" if r.get(c) is None else str(r.get(c))) for c in main] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(main)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(main, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(lines)
