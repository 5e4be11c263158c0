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
from trunkline.dialer.reporting.daily_words import words
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


def _table(rows: list[dict[str, Any]], cols: list[tuple[str, str]], w: dict[str, str]
           ) -> str:
    """An HTML table of ``rows``; ``cols`` are (key, kind: text/pct/num), headed by the
    words ``c.<key>`` of ``w``."""
    if not rows:
        return f"<p class=meta>{escape(w['no_data'])}</p>"
    head = "".join(f"<th>{escape(w['c.' + key])}</th>" for key, _ in cols)
    body = []
    for r in rows:
        cells = []
        for key, kind in cols:
            v = r.get(key)
            text = _pct(v) if kind == "pct" else _num(v)
            cells.append(f"<td class=t>{text}</td>" if kind == "text" else f"<td>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def render(store: Store, day: date, *, campaign: str | None = None,
           time_zone: str = "Asia/Shanghai", now: float, lang: str = "en") -> str:
    """The daily report's HTML for local ``day`` in ``time_zone``, in ``lang`` (``en``
    or ``zh-CN``: :mod:`.daily_words`; names and codes from the data stay as they are)."""
    w = words(lang)
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
    title = w["title"].format(day=day.isoformat())
    parts = [f"<h1>{escape(title)}{' – ' + escape(campaign) if campaign else ''}</h1>",
             "<p class=meta>" + escape(w["meta"].format(
                 zone=time_zone, made=made,
                 campaigns=', '.join(r['campaign'] for r in totals) or w["none"])) + "</p>"]
    # tiles
    dials = sum(r["dials"] for r in totals)
    connects = sum(r["connects"] for r in totals)
    answers = sum(r["answers"] for r in totals)
    abandoned = sum(r["abandoned"] for r in totals)
    tiles = [(w["tile.dials"], str(dials), ""), (w["tile.connects"], str(connects), ""),
             (w["tile.connect_rate"], _pct(connects / dials if dials else None), ""),
             (w["tile.abandoned"], str(abandoned), ""),
             (w["tile.abandon_rate"], _pct(abandoned / answers if answers else None), "")]
    for a in abandon:
        tiles.append((w["tile.window"].format(campaign=a["campaign"], cap=_pct(a["cap"]),
                                              target=_pct(a["target"])),
                      _pct(a["window_abandon_rate"]), a["level"]))
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
    parts.append(f"<div class=section><h2>{escape(w['h.hours'])}</h2>" + svg.bars(
        w["chart.hours"], labels,
        [(w["s.connects"], [by_hour[h]["connects"] for h in sorted(by_hour)]),
         (w["s.abandoned"], [by_hour[h]["abandoned"] for h in sorted(by_hour)])]) + "</div>")
    caps = [c for c in (a["cap"] for a in abandon) if c is not None]
    targets = [a["target"] for a in abandon]
    refs: list[tuple[str, float]] = []
    if caps:
        refs.append((w["s.cap"], min(caps)))
    if targets:
        refs.append((w["s.target"], min(targets)))
    parts.append(f"<div class=section><h2>{escape(w['h.abandon'])}</h2>" + svg.lines(
        w["chart.abandon"], labels,
        [(w["s.abandon_rate"], [by_hour[h]["abandoned"] / by_hour[h]["answers"]
                           if by_hour[h]["answers"] else None for h in sorted(by_hour)])],
        percent=True, references=refs) + "</div>")
    # outcomes
    out_by: dict[str, int] = {}
    for r in outcomes:
        out_by[r["outcome"]] = out_by.get(r["outcome"], 0) + r["count"]
    names = sorted(out_by, key=lambda k: -out_by[k])
    parts.append(f"<div class=section><h2>{escape(w['h.outcomes'])}</h2>" + svg.bars(
        w["chart.outcomes"], names, [(w["s.dials"], [out_by[k] for k in names])]) + "</div>")
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
        parts.append(f"<div class=section><h2>{escape(w['h.penetration'])}</h2>" + svg.lines(
            w["chart.penetration"], [label[11:13] for label in pen_labels], series,
            percent=True) + "</div>")
    # agents
    if breakdown:
        parts.append(f"<div class=section><h2>{escape(w['h.breakdown'])}</h2>" + svg.stacked(
            w["chart.breakdown"], [r["agent"] for r in breakdown],
            [(w[f"s.{k}"], [r[f"{k}_share"] or 0.0 for r in breakdown])
             for k in ("talk", "wrap", "pause", "waiting")]) + "</div>")
    def table(heading: str, rows: list[dict[str, Any]], cols: list[tuple[str, str]]) -> None:
        parts.append(f"<div class=section><h2>{escape(w[heading])}</h2>"
                     + _table(rows, cols, w) + "</div>")

    table("h.agents", agents, [
        ("agent", "text"), ("campaign", "text"), ("connects", "num"), ("avg_talk", "num"),
        ("avg_wrap", "num"), ("logged_in_h", "num"), ("paused_h", "num"),
        ("occupancy", "pct")])
    table("h.campaigns", totals, [
        ("campaign", "text"), ("dials", "num"), ("connects", "num"),
        ("connect_rate", "pct"), ("abandoned", "num"), ("abandon_rate", "pct"),
        ("window_abandon_rate", "pct"), ("penetration", "pct"), ("occupancy", "pct")])
    table("h.best", [r for r in best if r["rank"] <= 5], [
        ("campaign", "text"), ("rank", "num"), ("hour", "num"), ("dials", "num"),
        ("connects", "num"), ("connect_rate", "pct")])
    table("h.dispositions", dispositions, [
        ("campaign", "text"), ("code", "text"), ("count", "num"), ("automatic", "num"),
        ("agents", "num")])
    table("h.qa", qa, [
        ("campaign", "text"), ("agent", "text"), ("reviews", "num"), ("avg_score", "num"),
        ("min_score", "num"), ("pass_rate", "pct")])
    return (f"<!DOCTYPE html><html lang={escape(lang)}><head><meta charset=utf-8>"
            f"<meta name=viewport content=\"width=device-width\"><title>{escape(title)}"
            f"</title><style>{STYLE}</style></head><body>{''.join(parts)}</body></html>")
