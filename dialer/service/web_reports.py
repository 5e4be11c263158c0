"""Reports for the supervisor console (issue 18 item 4): rows for charts as JSON, the
same rows as CSV or XLSX, and the printable daily report (HTML with inline SVG charts).

The rows are :mod:`trunkline.dialer.reporting.charts` (built on the CLI's ``trunkline
dialer report``); times are epoch seconds or ISO 8601 (a date or a time without an
offset is local time in ``time_zone``). Reports are for supervisors and admins.
"""

from __future__ import annotations

import asyncio
import math
from datetime import date, datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field

from trunkline.dialer.errors import StoreError
from trunkline.dialer.reporting import charts, daily, export
from trunkline.dialer.reporting.daily_words import pick_language
from trunkline.dialer.service.web_auth import ApiError, SupervisorSession, context
from trunkline.dialer.service.web_routes import errors

reports = APIRouter(prefix="/api/reports", tags=["reports"])

_SUP = "Security: session cookie or an API token; supervisor or admin."
Kind = Literal["campaign", "agent", "hour", "state", "disposition", "sms", "abandon",
               "outcomes", "breakdown", "penetration", "best_hours", "qa"]
assert set(Kind.__args__) == set(charts.KINDS)  # type: ignore[attr-defined]
_FILES = {"csv": "text/csv; charset=utf-8",
          "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


class ReportBody(BaseModel):
    kind: str
    campaign: str | None
    since: float | None
    until: float | None
    time_zone: str
    columns: list[str] = Field(description="the rows' keys, in order")
    rows: list[dict[str, Any]]


#: The days a daily report can be asked for: the epoch's (the store's times are epoch
#: seconds) to the last whose next midnight a date can hold
FIRST_DAY = date(1970, 1, 2)
LAST_DAY = date(9999, 12, 30)


def when(text: str | None, time_zone: str, what: str) -> float | None:
    """Epoch seconds from ``text``: a number, or ISO 8601 (local in ``time_zone``
    without an offset). 422 naming ``what`` when it is neither."""
    if text is None or text == "":
        return None
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        # NaN compared false with every call's time: an empty report, as if no calls
        if not math.isfinite(seconds):
            raise ApiError(422, "invalid", f"{what}: {text!r} is not a time")
        return seconds
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ApiError(422, "invalid", f"{what}: {text!r} is neither epoch seconds nor "
                                       "ISO 8601 (2026-12-01 or 2026-12-01T09:00)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(time_zone))
    return moment.timestamp()


def _zone(time_zone: str) -> str:
    try:
        ZoneInfo(time_zone)
    except (KeyError, ValueError):
        raise ApiError(422, "invalid", f"time_zone: unknown time zone {time_zone!r}") from None
    return time_zone


def _file(body: bytes | str, fmt: str, name: str) -> Response:
    return Response(body, media_type=_FILES[fmt], headers={
        "Content-Disposition": f'attachment; filename="{name}.{fmt}"',
        "Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"})


def _rows(ctx: Any, kind: str, **kw: Any) -> list[dict[str, Any]]:
    try:
        return charts.rows(ctx.store, kind, now=ctx.clock(), **kw)
    except StoreError as err:
        raise ApiError(404, "not_found", str(err)) from None
    except ValueError as err:
        raise ApiError(422, "invalid", str(err)) from None


@reports.get("/daily", summary="The printable daily report",
             description="One local day (`date`, default today in `time_zone`) of one "
                         "campaign or all: tiles (dials, connects, abandons, each "
                         "campaign's regulated-window abandon rate against its cap), "
                         "charts by hour (connects and abandons, the abandon rate against "
                         "the cap), outcomes, list penetration, where agents' time went, "
                         "tables of agents, campaigns, best hours, dispositions and QA. "
                         "`format=html` (default): a page with inline SVG and print CSS, "
                         "nothing loaded from elsewhere, served with a CSP that allows no "
                         "script; `format=xlsx`: every table of the day as a sheet. "
                         "`lang` (`en` or `zh-CN`; the console passes its page's): the "
                         "page's (and the workbook's sheet and column titles') language, "
                         "else the browser's Accept-Language (any `zh` "
                         "reads zh-CN), else English. " + _SUP,
             responses={200: {"content": {"text/html": {}, _FILES["xlsx"]: {}},
                              "description": "the page or the workbook"},
                        **errors(401, 403, 404, 422)})
async def daily_report(request: Request, session: SupervisorSession,
                       day: Annotated[date | None, Query(
                           alias="date", description="YYYY-MM-DD, local")] = None,
                       campaign: str | None = Query(None, max_length=200),
                       time_zone: str = Query("Asia/Shanghai", max_length=64),
                       format: Literal["html", "xlsx"] = Query("html"),
                       lang: Literal["en", "zh-CN"] | None = Query(
                           None, description="the page's language (default: the "
                                             "browser's Accept-Language)")) -> Response:
    ctx = context(request)
    tz = _zone(time_zone)
    now = ctx.clock()
    day = day or datetime.fromtimestamp(now, ZoneInfo(tz)).date()
    if not FIRST_DAY <= day <= LAST_DAY:
        # 9999-12-31 has no next midnight: an OverflowError and a 500
        raise ApiError(422, "invalid", f"date: expected a day from {FIRST_DAY} to "
                                       f"{LAST_DAY}, got {day}")
    if campaign is not None:
        try:
            ctx.store.campaign_id(campaign)
        except StoreError as err:
            raise ApiError(404, "not_found", str(err)) from None
    name = f"daily-{day.isoformat()}{'-' + campaign if campaign else ''}"
    language = pick_language(lang, request.headers.get("accept-language"))
    if format == "xlsx":
        since, until = daily.day_bounds(day, tz)

        def book() -> bytes:
            return export.to_xlsx({kind: charts.rows(
                ctx.store, kind, campaign=campaign, since=since, until=until,
                time_zone=tz, now=min(now, until)) for kind in charts.KINDS}, lang=language)

        return _file(await asyncio.to_thread(book), "xlsx", name)
    page = await asyncio.to_thread(daily.render, ctx.store, day, campaign=campaign,
                                   time_zone=tz, now=now, lang=language)
    return HTMLResponse(page, headers={
        "Content-Security-Policy": daily.CSP, "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer", "Cache-Control": "private, no-store"})


@reports.get("/{kind}", response_model=ReportBody, summary="A report's rows",
             description="Rows for charts and tables, per `kind`: `campaign`, `agent`, "
                         "`hour` (connects, abandons, rates, occupancy, penetration: the "
                         "rows of `trunkline dialer report --by`; `hour` has a row for "
                         "every hour of each campaign's calling windows, zeros included, "
                         "so a chart shows the gaps), `state` (time per agent, "
                         "state and pause reason), `disposition`, `sms`, `abandon` (the "
                         "regulated window's rate against the regime's cap and the target, "
                         "with a gauge level ok/near/over), `outcomes`, `breakdown` (talk, "
                         "wrap-up, pause, waiting per agent), `penetration` (over time, per "
                         "local hour), `best_hours` (ranked by connect rate), `qa`. "
                         "`since`/`until`: epoch seconds or ISO 8601 (local in "
                         "`time_zone` without an offset). `format=csv` or `xlsx` sends the "
                         "same rows as a file (text cells starting with = + - @ are "
                         "escaped); the workbook's sheet and column titles are in `lang` "
                         "(`en`: the row keys; `zh-CN`: Chinese; default: the browser's "
                         "Accept-Language; the console passes its page's), the CSV keeps "
                         "the keys. " + _SUP,
             responses={200: {"content": {"application/json": {}, "text/csv": {},
                                          _FILES["xlsx"]: {}}},
                        **errors(401, 403, 404, 422)})
async def report(request: Request, session: SupervisorSession,
                 kind: Annotated[Kind, Path(description="which report")],
                 campaign: str | None = Query(None, max_length=200),
                 since: str | None = Query(None, max_length=40),
                 until: str | None = Query(None, max_length=40),
                 time_zone: str = Query("Asia/Shanghai", max_length=64),
                 format: Literal["json", "csv", "xlsx"] = Query("json"),
                 lang: Literal["en", "zh-CN"] | None = Query(
                     None, description="the workbook's language (default: the browser's "
                                       "Accept-Language)")) -> Any:
    ctx = context(request)
    tz = _zone(time_zone)
    start = when(since, tz, "since")
    end = when(until, tz, "until")
    if start is not None and end is not None and start >= end:
        # since and until swapped gave an empty report, read as "no calls"
        raise ApiError(422, "invalid", f"since ({since}) must be before until ({until})")
    rows = await asyncio.to_thread(
        _rows, ctx, kind, campaign=campaign, since=start or 0.0,
        until=end if end is not None else float("inf"), time_zone=tz)
    if format == "csv":
        return _file(export.to_csv(rows), "csv", f"report-{kind}")
    if format == "xlsx":
        language = pick_language(lang, request.headers.get("accept-language"))
        return _file(await asyncio.to_thread(export.to_xlsx, {kind: rows}, language),
                     "xlsx", f"report-{kind}")
    return {"kind": kind, "campaign": campaign, "since": start, "until": end,
            "time_zone": tz, "columns": export.columns(rows), "rows": rows}
