"""Report data shaped for charts and tables (issue 18 item 4), on top of the CLI's
reports (:func:`trunkline.dialer.campaigns.reports.report`, ``trunkline dialer report
--by ...``): the same rows, plus what a picture needs that a table does not.

Each kind returns a list of flat rows (one JSON object each, also one CSV or XLSX row):

- ``campaign``, ``agent``, ``hour``, ``state``, ``disposition``, ``sms``: the CLI's rows;
  ``hour`` with a zero row for every hour of the campaign's calling windows that had
  nothing (:mod:`~trunkline.dialer.reporting.hours`: a chart must show the gaps);
- ``abandon``: per campaign, the abandon rate of the regulated window holding ``now``
  against the regime's cap (US, UK: 3 %, :data:`~trunkline.dialer.pacing.campaign.
  REGIME_CAPS`) and the operator's target, with ``level`` ``ok`` / ``near`` (at 80 % of
  the cap or target) / ``over`` for a gauge;
- ``outcomes``: per campaign and outcome, the count and share of dials;
- ``breakdown``: per agent, seconds of talk, wrap-up, pause and the rest of the logged-in
  time (waiting), and their shares (a stacked bar);
- ``penetration``: per campaign and local day-hour, the contacts first dialled and the
  cumulative list penetration (a line over time);
- ``best_hours``: per campaign and local hour of day, dials, connects and connect rate,
  ranked best first (when to call);
- ``qa``: QA scores per campaign and agent.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from trunkline.dialer.campaigns import reports
from trunkline.dialer.pacing.campaign import REGIME_CAPS, CampaignConfig
from trunkline.dialer.reporting import hours
from trunkline.dialer.store import Store

#: Every kind of report the API offers.
KINDS = (*reports.BY, "abandon", "outcomes", "breakdown", "penetration", "best_hours",
         "qa")
#: Share of the cap (or target) at which a gauge turns amber.
NEAR = 0.8
_TARGET_DEFAULT = CampaignConfig.__dataclass_fields__["target_abandon"].default


def rows(store: Store, kind: str, *, campaign: str | None = None, since: float = 0.0,
         until: float = float("inf"), time_zone: str = "Asia/Shanghai",
         now: float | None = None) -> list[dict[str, Any]]:
    """The rows of report ``kind`` (see the module docstring). Raises ValueError for an
    unknown kind or time zone, StoreError for an unknown campaign."""
    if kind not in KINDS:
        raise ValueError(f"report kinds are {', '.join(KINDS)}, not {kind!r}")
    try:
        ZoneInfo(time_zone)
    except (KeyError, ValueError) as err:
        raise ValueError(f"unknown time zone {time_zone!r}") from err
    if campaign is not None:
        store.campaign_id(campaign)
    common: dict[str, Any] = {"campaign": campaign, "since": since, "until": until}
    if kind == "hour":  # every hour of the calling windows, zeros included (hours.py)
        found = reports.report(store, by=kind, time_zone=time_zone, now=now, **common)
        at = since if since > 0 else reports._as_of(store) if now is None else now
        return hours.fill(store, found, campaign=campaign, time_zone=time_zone, at=at)
    if kind in reports.BY:
        return reports.report(store, by=kind, time_zone=time_zone, now=now, **common)
    if kind == "abandon":
        return abandon_rows(store, campaign=campaign, now=now)
    if kind == "outcomes":
        return outcome_rows(store, **common)
    if kind == "breakdown":
        return breakdown_rows(store, **common, now=now)
    if kind == "penetration":
        return penetration_rows(store, **common, time_zone=time_zone)
    if kind == "best_hours":
        return best_hour_rows(store, **common, time_zone=time_zone)
    return store.qa_summary(by="agent", campaign=campaign, since=since, until=until)


def abandon_rows(store: Store, *, campaign: str | None = None, now: float | None = None
                 ) -> list[dict[str, Any]]:
    """The regulated window's abandon rate of each campaign against its cap."""
    as_of = reports._as_of(store) if now is None else now
    out = []
    for name in [campaign] if campaign else store.campaigns():
        config = store.campaign_config(name)
        if config.get("type") == "cleaning":
            continue
        regime = reports._regime(name, config)
        cap = REGIME_CAPS.get(regime)
        target = float(config.get("target_abandon", _TARGET_DEFAULT))
        extras = reports._window_extras(store, name, as_of, None)
        live, abandoned, _ = store.abandon_counts(name, extras["window"])
        rate = extras["window_abandon_rate"]
        limit = min(x for x in (cap, target) if x is not None)
        level = "over" if rate > limit else "near" if rate >= NEAR * limit else "ok"
        out.append({"campaign": name, "regime": str(regime), "window": extras["window"],
                    "live": live, "abandoned": abandoned, "window_abandon_rate": rate,
                    "cap": cap, "target": target, "level": level})
    return out


def outcome_rows(store: Store, *, campaign: str | None, since: float, until: float
                 ) -> list[dict[str, Any]]:
    """Dials per campaign and outcome, with each outcome's share."""
    out = []
    for row in reports.report(store, by="campaign", campaign=campaign, since=since,
                              until=until):
        dials = row["dials"]
        for outcome in reports.OUTCOMES:
            n = row.get(f"n_{outcome}", 0)
            if n:
                out.append({"campaign": row["campaign"], "outcome": outcome, "count": n,
                            "share": round(n / dials, 4) if dials else None})
    return out


def breakdown_rows(store: Store, *, campaign: str | None, since: float, until: float,
                   now: float | None = None) -> list[dict[str, Any]]:
    """Per agent: talk, wrap-up, pause and waiting seconds in the period.

    Talk and wrap-up are the calls' own (ended in the period); pause is from the desk's
    state log; logged-in time from the agent sessions (:func:`reports.report`'s
    ``logged_in_h``); waiting is what is left (never below 0)."""
    busy: dict[str, list[float]] = {}
    sql = ("SELECT a.agent, SUM(COALESCE(a.talk, 0)), SUM(COALESCE(a.wrap, 0)) FROM attempt "
           "a JOIN campaign k ON k.id=a.campaign_id WHERE a.state='done' AND a.agent IS NOT "
           "NULL AND a.ended_at>=? AND a.ended_at<?")
    params: list[Any] = [since, min(until, 1e300)]
    if campaign is not None:
        sql += " AND k.name=?"
        params.append(campaign)
    for agent, talk, wrap in store.query(sql + " GROUP BY a.agent", params):
        busy[agent] = [float(talk or 0), float(wrap or 0)]
    paused: dict[str, float] = {}
    for state in reports.state_rows(store, since=since, until=until):
        if state["state"] == "paused":
            paused[state["agent"]] = paused.get(state["agent"], 0.0) + state["seconds"]
    logged: dict[str, float] = {}
    for line in reports.report(store, by="agent", campaign=campaign, since=since,
                               until=until, now=now):
        if line["agent"] != "-" and line["logged_in_h"] is not None:
            logged[line["agent"]] = logged.get(line["agent"], 0.0) + \
                line["logged_in_h"] * 3600
    out = []
    for agent in sorted(busy.keys() | paused.keys() | logged.keys()):
        talk, wrap = busy.get(agent, [0.0, 0.0])
        pause = paused.get(agent, 0.0)
        total = logged.get(agent)
        waiting = max(0.0, total - talk - wrap - pause) if total is not None else None
        whole = total if total else talk + wrap + pause
        row: dict[str, Any] = {"agent": agent, "talk_s": round(talk, 1),
                               "wrap_s": round(wrap, 1), "pause_s": round(pause, 1),
                               "waiting_s": None if waiting is None else round(waiting, 1),
                               "logged_in_s": None if total is None else round(total, 1)}
        for key in ("talk", "wrap", "pause", "waiting"):
            value = row[f"{key}_s"]
            row[f"{key}_share"] = round(value / whole, 4) if whole and value is not None \
                else None
        out.append(row)
    return out


def penetration_rows(store: Store, *, campaign: str | None, since: float, until: float,
                     time_zone: str) -> list[dict[str, Any]]:
    """Per campaign and local hour (``YYYY-MM-DD HH:00``): contacts first dialled in it,
    and the list penetration at its end (contacts dialled at least once so far / the
    contacts of the list)."""
    tz = ZoneInfo(time_zone)
    sql = ("SELECT k.name, MIN(a.ended_at) FROM attempt a JOIN campaign k ON "
           "k.id=a.campaign_id WHERE a.state='done'")
    params: list[Any] = []
    if campaign is not None:
        sql += " AND k.name=?"
        params.append(campaign)
    firsts: dict[str, list[float]] = {}
    for name, first in store.query(sql + " GROUP BY a.contact_id", params):
        firsts.setdefault(name, []).append(float(first))
    out = []
    for name in sorted(firsts):
        total = reports._contact_counts(store, name)[0]
        times = sorted(firsts[name])
        before = sum(1 for t in times if t < since)
        buckets: dict[str, int] = {}
        for t in times:
            if since <= t < until:
                label = datetime.fromtimestamp(t, tz).strftime("%Y-%m-%d %H:00")
                buckets[label] = buckets.get(label, 0) + 1
        reached = before
        for label in sorted(buckets):
            reached += buckets[label]
            out.append({"campaign": name, "hour": label, "new_contacts": buckets[label],
                        "contacts": total, "dialled": reached,
                        "penetration": round(reached / total, 4) if total else None})
    return out


def best_hour_rows(store: Store, *, campaign: str | None, since: float, until: float,
                   time_zone: str) -> list[dict[str, Any]]:
    """Local hours of day ranked by connect rate (then connects), per campaign, from the
    ``hour`` report; ``rank`` 1 is the best hour to call. Hours with no dials are left
    out (nothing to learn from them)."""
    hours = [r for r in reports.report(store, by="hour", campaign=campaign, since=since,
                                       until=until, time_zone=time_zone) if r["dials"]]
    out = []
    for name in sorted({r["campaign"] for r in hours}):
        mine = sorted((r for r in hours if r["campaign"] == name),
                      key=lambda r: (-(r["connect_rate"] or 0.0), -r["connects"], r["hour"]))
        for rank, r in enumerate(mine, 1):
            out.append({"campaign": name, "hour": r["hour"], "rank": rank,
                        "dials": r["dials"], "answers": r["answers"],
                        "connects": r["connects"], "connect_rate": r["connect_rate"],
                        "answer_rate": r["answer_rate"]})
    return out
