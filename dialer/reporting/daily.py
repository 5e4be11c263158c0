"""The printable daily report: one HTML page per local day (and campaign, or all),
drawn on the server with inline SVG charts (:mod:`.svg`), so it prints, saves as PDF
and opens offline with nothing fetched from the internet and no script at all.

Security: the page is served with a Content-Security-Policy of ``default-src 'none'``
and its one ``<style>`` allowed by its SHA-256 (CSP Level 3, "hash-source"), so even a
campaign or agent name that slipped past escaping could run nothing; every text is
escaped with :func:`html.escape`.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import date, datetime, timedelta
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

from trunkline.dialer.reporting import charts, svg
from trunkline.dialer.store import Store

STYLE = """
body{font-family:"Noto Sans","Noto Sans CJK SC","Helvetica Neue",Arial,sans-serif;
margin:24px;color:#222;max-width:1000px}
h1{font-size:20px;margin:0 0 4px}h2{font-size:15px;margin:22px 0 6px;
border-bottom:1px solid #bbb}p.meta{color:#555;font-size:12px;margin:0 0 12px}
.tiles{display:flex;flex-wrap:wrap;gap:8px}.tile{border:1px solid #ccc;border-radius:4px;
padding:6px 10px;min-width:110px}.tile b{display:block;font-size:18px}
.tile span{font-size:11px;color:#555}.ok{border-color:#27ae60}.near{border-color:#e67e22;
background:#fdf2e6}.over{border-color:#c0392b;background:#fbeaea}
svg.chart{width:100%;height:auto;max-height:260px}
table{border-collapse:collapse;font-size:12px;width:100%}th,td{border:1px solid #ccc;
padding:3px 6px;text-align:right}th{background:#f2f2f2}td:first-child,th:first-child{
text-align:left}td.t{text-align:left}.section{break-inside:avoid;page-break-inside:avoid}
@media print{body{margin:0;max-width:none}a{color:inherit;text-decoration:none}
h2{break-after:avoid}@page{size:A4;margin:14mm}}
"""
#: The Content-Security-Policy the page is served with.
CSP = ("default-src 'none'; style-src 'sha256-"
       + base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
       + "'; img-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


def day_bounds(day: date, time_zone: str) -> tuple[float, float]:
    """The epoch seconds of local midnight starting ``day`` and the next (a day of 23
    or 25 hours at a clock change is what it is)."""
    tz = ZoneInfo(time_zone)
    start = datetime(day.year, day.month, day.day, tzinfo=tz)
    nxt = day + timedelta(days=1)
    end = datetime(nxt.year, nxt.month, nxt.day, tzinfo=tz)
    return start.timestamp(), end.timestamp()


def _pct(v: float | None) -> str:
    return "–" if v is None else f"{v * 100:.1f}%"


def _num(v: Any) -> str:
    return "–" if v is None else escape(str(v))


def _table(rows: list[dict[str, Any]], cols: list[tuple[str, str, str]]) -> str:
    """An HTML table of ``rows``; ``cols`` are (key, heading, kind: text/pct/num)."""
    if not rows:
        return "<p class=meta>No data.</p>"
    head = "".join(f"<th>{escape(h)}</th>" for _, h, _ in cols)
    body = []
    for r in rows:
        cells = []
        for key, _, kind in cols:
            v = r.get(key)
            text = _pct(v) if kind == "pct" else _num(v)
            cells.append(f"<td class=t>{text}</td>" if kind == "text" else f"<td>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def render(store: Store, day: date, *, campaign: str | None = None,
           time_zone: str = "Asia/Shanghai", now: float) -> str:
    """The daily report's HTML for local ``day`` in ``time_zone``."""
    since, until = day_bounds(day, time_zone)
    as_of = min(now, until)
    common: dict[str, Any] = {"campaign": campaign, "since": since, "until": until,
                              "time_zone": time_zone}
    totals = charts.rows(store, "campaign", **common, now=as_of)
    hours = charts.rows(store, "hour", **common, now=as_of)
    agents = [r for r in charts.rows(store, "agent", **common, now=as_of)
              if r["agent"] != "-"]
    abandon = charts.rows(store, "abandon", campaign=campaign, now=as_of)
    outcomes = charts.rows(store, "outcomes", **common)
    breakdown = charts.rows(store, "breakdown", **common, now=as_of)
    penetration = charts.rows(store, "penetration", **common)
    best = charts.rows(store, "best_hours", **common)
    qa = charts.rows(store, "qa", **common)
    dispositions = charts.rows(store, "disposition", **common)

    made = datetime.fromtimestamp(now, ZoneInfo(time_zone)).strftime("%Y-%m-%d %H:%M")
    parts = [f"<h1>Daily report {escape(day.isoformat())}"
             f"{' – ' + escape(campaign) if campaign else ''}</h1>",
             f"<p class=meta>Local day in {escape(time_zone)}; made "
             f"{escape(made)}"
             f". Campaigns: {escape(', '.join(r['campaign'] for r in totals) or 'none')}.</p>"]
    # tiles
    dials = sum(r["dials"] for r in totals)
    connects = sum(r["connects"] for r in totals)
    answers = sum(r["answers"] for r in totals)
    abandoned = sum(r["abandoned"] for r in totals)
    tiles = [("dials", str(dials), ""), ("connects", str(connects), ""),
             ("connect rate", _pct(connects / dials if dials else None), ""),
             ("abandoned", str(abandoned), ""),
             ("abandon rate (day)", _pct(abandoned / answers if answers else None), "")]
    for a in abandon:
        tiles.append((f"{a['campaign']}: window rate (cap {_pct(a['cap'])}, target "
                      f"{_pct(a['target'])})", _pct(a["window_abandon_rate"]), a["level"]))
    parts.append("<div class=\"section tiles\">" + "".join(
        f"<div class=\"tile {escape(level)}\"><b>{escape(value)}</b><span>{escape(name)}"
        f"</span></div>" for name, value, level in tiles) + "</div>")
    # hours: connects and abandons, and the abandon rate against the cap
    by_hour: dict[int, dict[str, float]] = {}
    for r in hours:
        h = by_hour.setdefault(r["hour"], {"connects": 0, "abandoned": 0, "answers": 0,
                                           "dials": 0})
        for key in h:
            h[key] += r[key]
    labels = [f"{h:02d}" for h in sorted(by_hour)]
    parts.append("<div class=section><h2>Calls by hour</h2>" + svg.bars(
        "Connects and abandons by hour", labels,
        [("connects", [by_hour[h]["connects"] for h in sorted(by_hour)]),
         ("abandoned", [by_hour[h]["abandoned"] for h in sorted(by_hour)])]) + "</div>")
    caps = [c for c in (a["cap"] for a in abandon) if c is not None]
    targets = [a["target"] for a in abandon]
    refs: list[tuple[str, float]] = []
    if caps:
        refs.append(("cap", min(caps)))
    if targets:
        refs.append(("target", min(targets)))
    parts.append("<div class=section><h2>Abandon rate by hour</h2>" + svg.lines(
        "Abandon rate by hour against the cap", labels,
        [("abandon rate", [by_hour[h]["abandoned"] / by_hour[h]["answers"]
                           if by_hour[h]["answers"] else None for h in sorted(by_hour)])],
        percent=True, references=refs) + "</div>")
    # outcomes
    out_by: dict[str, int] = {}
    for r in outcomes:
        out_by[r["outcome"]] = out_by.get(r["outcome"], 0) + r["count"]
    names = sorted(out_by, key=lambda k: -out_by[k])
    parts.append("<div class=section><h2>Outcomes</h2>" + svg.bars(
        "Dials by outcome", names, [("dials", [out_by[k] for k in names])]) + "</div>")
    # penetration
    if penetration:
        pen_labels = sorted({r["hour"] for r in penetration})
        series = []
        for name in sorted({r["campaign"] for r in penetration}):
            mine = {r["hour"]: r["penetration"] for r in penetration if r["campaign"] == name}
            last: float | None = None
            values: list[float | None] = []
            for label in pen_labels:
                last = mine.get(label, last)
                values.append(last)
            series.append((name, values))
        parts.append("<div class=section><h2>List penetration</h2>" + svg.lines(
            "List penetration over the day", [label[11:13] for label in pen_labels], series,
            percent=True) + "</div>")
    # agents
    if breakdown:
        parts.append("<div class=section><h2>Where agents' time went</h2>" + svg.stacked(
            "Talk, wrap-up, pause and waiting per agent", [r["agent"] for r in breakdown],
            [(k, [r[f"{k}_share"] or 0.0 for r in breakdown])
             for k in ("talk", "wrap", "pause", "waiting")]) + "</div>")
    parts.append("<div class=section><h2>Agents</h2>" + _table(agents, [
        ("agent", "agent", "text"), ("campaign", "campaign", "text"),
        ("connects", "connects", "num"), ("avg_talk", "avg talk s", "num"),
        ("avg_wrap", "avg wrap s", "num"), ("logged_in_h", "logged in h", "num"),
        ("paused_h", "paused h", "num"), ("occupancy", "occupancy", "pct")]) + "</div>")
    parts.append("<div class=section><h2>Campaigns</h2>" + _table(totals, [
        ("campaign", "campaign", "text"), ("dials", "dials", "num"),
        ("connects", "connects", "num"), ("connect_rate", "connect rate", "pct"),
        ("abandoned", "abandoned", "num"), ("abandon_rate", "abandon rate", "pct"),
        ("window_abandon_rate", "window rate", "pct"), ("penetration", "penetration", "pct"),
        ("occupancy", "occupancy", "pct")]) + "</div>")
    parts.append("<div class=section><h2>Best hours to call</h2>" + _table(
        [r for r in best if r["rank"] <= 5], [
            ("campaign", "campaign", "text"), ("rank", "rank", "num"),
            ("hour", "hour", "num"), ("dials", "dials", "num"),
            ("connects", "connects", "num"), ("connect_rate", "connect rate", "pct")])
        + "</div>")
    parts.append("<div class=section><h2>Dispositions</h2>" + _table(dispositions, [
        ("campaign", "campaign", "text"), ("code", "code", "text"),
        ("count", "count", "num"), ("automatic", "automatic", "num"),
        ("agents", "agents", "num")]) + "</div>")
    parts.append("<div class=section><h2>Quality review (质检)</h2>" + _table(qa, [
        ("campaign", "campaign", "text"), ("agent", "agent", "text"),
        ("reviews", "reviews", "num"), ("avg_score", "average", "num"),
        ("min_score", "lowest", "num"), ("pass_rate", "pass rate", "pct")]) + "</div>")
    title = f"Daily report {day.isoformat()}"
    return ("<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
            f"<meta name=viewport content=\"width=device-width\"><title>{escape(title)}"
            f"</title><style>{STYLE}</style></head><body>{''.join(parts)}</body></html>")
