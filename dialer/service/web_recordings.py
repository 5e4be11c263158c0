"""Recordings for quality review (issue 18 item 3): search, playback, download, a
waveform summary, QA forms and scores (质检).

The dialer's store knows each recording's call, campaign, contact, agent and
disposition (:mod:`trunkline.dialer.store.recordings`); the audio is the gateway's
stereo WAV (customer left, agent right), read from the path the gateway gave, so the
service must see the gateway's recordings folder (the same host, or the same mount).
An agent finds, hears and sees the scores of its own recordings only (others are 404,
so their existence does not leak); supervisors see all and score them.

Playback answers HTTP Range requests (RFC 9110 section 14: ``206 Partial Content``
with ``Content-Range``; ``416`` outside the file), so a browser's ``<audio>`` seeks
without fetching the whole file. Downloads are audited (``recording.download``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path as FilePath
from typing import Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, Field

from trunkline.dialer.desk.config import AUTO_DISPOSITION, AUTO_DISPOSITION_LABEL
from trunkline.dialer.errors import StoreError
from trunkline.dialer.review import wavfile
from trunkline.dialer.review.qaform import QaForm
from trunkline.dialer.service.web_auth import (
    AnySession,
    ApiError,
    SupervisorSession,
    context,
    remote,
    viewer,
)
from trunkline.dialer.service.web_models import Strict
from trunkline.dialer.service.web_routes import UNSAFE, errors
from trunkline.dialer.store import Store
from trunkline.dialer.store.recordings import ORDERS

recordings = APIRouter(prefix="/api", tags=["recordings"])

_ANY = "Security: session cookie or an API token; any role (an agent: its own only)."
_SUP = "Security: session cookie (with X-CSRF-Token on POST and PUT) or an API token; " \
       "supervisor or admin."
#: Bytes read from a recording at a time while streaming it.
CHUNK = 64 * 1024


class RecordingBody(BaseModel):
    id: int
    attempt_id: int | None
    campaign: str
    contact_id: int | None
    agent: str = Field(description="the agent's user name (工号)")
    number: str = Field(description="the customer's number")
    gateway: str
    call_ref: str = Field(description="the gateway's call id")
    started_at: float
    duration: float | None = Field(description="seconds (None while recording)")
    state: Literal["recording", "complete", "failed"]
    error: str
    disposition: str | None = Field(description="the disposition code the agent saved")
    disposition_label: str | None = Field(
        default=None, description="that disposition's label in the campaign's desk "
                                  "settings now (what the agent clicked), or null when "
                                  "it has none or the code is no longer one of them")
    qa_count: int = Field(description="how many QA scores it has")
    qa_score: float | None = Field(description="the latest QA score, 0-100")


class RecordingPage(BaseModel):
    total: int
    page: int
    per_page: int
    items: list[RecordingBody]


class QaItemBody(BaseModel):
    id: str
    label: str
    max: float
    weight: float = 1.0
    critical: bool = False
    help: str = ""


class QaFormBody(BaseModel):
    title: str = ""
    pass_score: float = 80.0
    item: list[QaItemBody]


class QaScoreRequest(Strict):
    items: dict[str, float] = Field(description="points per item id (0 to its max, in "
                                                "steps of 0.5); every item")
    comments: str = Field(default="", max_length=5000)


class QaScoreBody(BaseModel):
    id: int
    reviewer: str
    items: dict[str, float]
    score: float
    comments: str
    at: float
    form: dict[str, Any]


class RecordingDetail(RecordingBody):
    scores: list[QaScoreBody]
    qa_form: QaFormBody | None = Field(description="the campaign's QA form now")


def _row(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k != "path"}


def _labelled(store: Store, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows with ``disposition_label``: the page shows the words the campaign gave
    the code (an operator's Chinese label, not ``wrong_party``), read once a campaign."""
    labels: dict[str, dict[str, str]] = {}
    out = []
    for row in rows:
        campaign, code = row["campaign"], row.get("disposition")
        if code and campaign not in labels:
            try:
                config = store.desk_config(campaign)
            except StoreError:    # unreadable stored settings: the code alone, no 500
                labels[campaign] = {}
            else:
                labels[campaign] = {d.code: d.label for d in config.dispositions}
        label = labels.get(campaign, {}).get(code) if code else None
        if code == AUTO_DISPOSITION and label == AUTO_DISPOSITION_LABEL:
            label = None  # the built-in words: the page has them in its own language
        out.append({**_row(row), "disposition_label": label or None})
    return out


def _recording(request: Request, session: Any, recording: int) -> dict[str, Any]:
    row = context(request).store.call_recording(viewer(session), recording)
    if row is None:
        raise ApiError(404, "not_found", f"no recording {recording}")
    return row


def _audio_file(row: dict[str, Any]) -> FilePath:
    """The file of a recording: the final WAV, or the ``.part`` still being written."""
    path = FilePath(row["path"])
    for candidate in (path, path.with_name(path.name + ".part")):
        if candidate.is_file():
            return candidate
    raise ApiError(410, "gone", f"recording {row['id']}: the file {path.name} is not on "
                                "this host (purged by retention, or the gateway's folder "
                                "is not mounted here)")


@recordings.get("/recordings", response_model=RecordingPage,
                summary="Search recordings",
                description="Recordings matching every filter given, a page at a time: "
                            "`agent` (user name, 工号), `number` (any part of it), "
                            "`campaign`, `disposition` (code), `since`/`until` (start "
                            "time, epoch seconds; until exclusive), `min_duration`/"
                            "`max_duration` (seconds), `state`, `attempt` (one call, as "
                            "GET /api/calls lists it), `contact`. " + _ANY,
                responses=errors(401, 403, 422))
def search(request: Request, session: AnySession,
           agent: str | None = Query(None, max_length=64),
           number: str | None = Query(None, max_length=40),
           campaign: str | None = Query(None, max_length=200),
           disposition: str | None = Query(None, max_length=64),
           since: float | None = Query(None), until: float | None = Query(None),
           min_duration: float | None = Query(None, ge=0),
           max_duration: float | None = Query(None, ge=0),
           state: Literal["recording", "complete", "failed"] | None = Query(None),
           attempt: int | None = Query(None, ge=1, description="one call (its attempt id)"),
           contact: int | None = Query(None, ge=1, description="one contact's calls"),
           order: Literal["newest", "oldest", "longest", "shortest"] = Query("newest"),
           page: int = Query(1, ge=1, le=100_000),
           per_page: int = Query(50, ge=1, le=500)) -> dict[str, Any]:
    assert order in ORDERS
    total, rows = context(request).store.search_recordings(
        viewer(session), agent=agent, number=number, campaign=campaign,
        disposition=disposition, since=since, until=until, min_duration=min_duration,
        max_duration=max_duration, state=state, attempt=attempt, contact=contact,
        order=order,
        offset=(page - 1) * per_page, limit=per_page)
    return {"total": total, "page": page, "per_page": per_page,
            "items": _labelled(context(request).store, rows)}


@recordings.get("/recordings/{recording}", response_model=RecordingDetail,
                summary="A recording, its QA scores and form",
                description="The recording's tags, every QA score given to it (newest "
                            "first, each with the form it was given against) and the "
                            "campaign's QA form now. " + _ANY,
                responses=errors(401, 403, 404, 422))
def detail(request: Request, session: AnySession, recording: int = Path(ge=1)
           ) -> dict[str, Any]:
    row = _recording(request, session, recording)
    store = context(request).store
    return {**_labelled(store, [row])[0], "scores": store.qa_scores(recording),
            "qa_form": store.qa_form(row["campaign"])}


@recordings.get("/recordings/{recording}/audio", summary="Play or download a recording",
                description="The stereo WAV as the gateway stored it (customer left, agent "
                            "right; PCM16, A-law or mu-law). Answers `Range: bytes=...` "
                            "with 206 Partial Content and `Content-Range` (one range; 416 "
                            "outside the file), so a player seeks without the whole file. "
                            "`download=true` sends it as an attachment and is audited "
                            "(`recording.download`). 410 when the file is not on this "
                            "host. " + _ANY,
                responses={200: {"content": {"audio/wav": {}},
                                 "description": "the WAV (or 206 with a part of it)"},
                           **errors(401, 403, 404, 422)},
                response_class=Response)
def audio(request: Request, session: AnySession, recording: int = Path(ge=1),
          download: bool = Query(False)) -> Response:
    row = _recording(request, session, recording)
    path = _audio_file(row)
    size = path.stat().st_size
    head = {"Accept-Ranges": "bytes", "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff"}
    name = f"recording-{row['id']}-{row['call_ref']}.wav"
    if download:
        head["Content-Disposition"] = f'attachment; filename="{name}"'
        context(request).audit("recording.download", user=session.user,
                               remote=remote(request), target=str(row["id"]),
                               details={"campaign": row["campaign"], "agent": row["agent"]})
    try:
        wanted = wavfile.parse_range(request.headers.get("range"), size)
    except wavfile.RangeNotSatisfiable as err:
        return Response(status_code=416, headers={**head, "Content-Range": f"bytes */{size}"},
                        content=str(err))
    except ValueError:
        wanted = None  # malformed: RFC 9110 lets the server ignore it
    start, length = (wanted.start, wanted.length) if wanted else (0, size)
    if wanted is not None:
        head["Content-Range"] = f"bytes {wanted.start}-{wanted.end}/{size}"
    head["Content-Length"] = str(length)
    return StreamingResponse(_read(path, start, length), status_code=206 if wanted else 200,
                             media_type="audio/wav", headers=head)


def _read(path: FilePath, start: int, length: int) -> Iterator[bytes]:
    with path.open("rb") as f:
        f.seek(start)
        left = length
        while left > 0:
            chunk = f.read(min(CHUNK, left))
            if not chunk:
                break  # cut short under us (a .part renamed): the client sees a short body
            left -= len(chunk)
            yield chunk


@recordings.get("/recordings/{recording}/waveform", summary="A recording's waveform",
                description="For each channel (customer, agent) the lowest and highest "
                            "sample (-1..1) of each of `buckets` equal stretches of time, to "
                            "draw the waveform without decoding the file in the page. "
                            + _ANY, responses=errors(401, 403, 404, 422))
async def waveform(request: Request, session: AnySession, recording: int = Path(ge=1),
                   buckets: int = Query(800, ge=1, le=wavfile.MAX_BUCKETS)
                   ) -> dict[str, Any]:
    row = await asyncio.to_thread(_recording, request, session, recording)
    path = _audio_file(row)
    try:
        result = await asyncio.to_thread(wavfile.peaks, path, buckets)
    except (wavfile.WavError, OSError) as err:
        raise ApiError(422, "invalid", f"recording {recording}: {err}") from None
    return {"recording": recording, **result}


CampaignName = Path(min_length=1, max_length=200, description="the campaign's name")


@recordings.get("/campaigns/{name}/qa-form", response_model=QaFormBody | None,
                summary="A campaign's QA form",
                description="The QA form (质检表) reviewers score this campaign's calls "
                            "against: items with their max points and weights, the pass "
                            "score; null if it has none. " + _ANY,
                responses=errors(401, 403, 404, 422))
def get_qa_form(request: Request, session: AnySession, name: str = CampaignName
                ) -> dict[str, Any] | None:
    try:
        return context(request).store.qa_form(name)
    except StoreError as err:
        raise ApiError(404, "not_found", str(err)) from None


@recordings.put("/campaigns/{name}/qa-form", response_model=QaFormBody,
                summary="Set a campaign's QA form",
                description="The same table as `[qa]` in the campaign's TOML (`title`, "
                            "`pass_score`, `item`: [{id, label, max, weight, critical, "
                            "help}]), checked the same way; scores already given keep the "
                            "form they were given against. Audited (`qa.form`). " + _SUP,
                responses=errors(*UNSAFE, 404))
def put_qa_form(request: Request, session: SupervisorSession, body: dict[str, Any],
                name: str = CampaignName) -> dict[str, Any]:
    ctx = context(request)
    try:
        ctx.store.campaign_id(name)
    except StoreError as err:
        raise ApiError(404, "not_found", str(err)) from None
    try:
        form = QaForm.from_dict(body)
    except ValueError as err:
        raise ApiError(422, "invalid", str(err)) from None
    with ctx.store.transaction():
        ctx.store.save_qa_form(name, form.to_dict(), now=ctx.clock(), by=session.user)
        ctx.audit("qa.form", user=session.user, remote=remote(request), target=name,
                  details={"items": [i.id for i in form.items]})
    return form.to_dict()


@recordings.post("/recordings/{recording}/qa", response_model=QaScoreBody, status_code=201,
                 summary="Score a recording (质检)",
                 description="Score the call against its campaign's QA form: points per "
                             "item (every item, 0 to its max in steps of 0.5) and "
                             "comments. The score is 100 x the weighted share of points; a "
                             "critical item given 0 makes it 0. Stored with the reviewer and "
                             "a copy of the form. Audited (`qa.score`). " + _SUP,
                 responses=errors(*UNSAFE, 404, 409))
def score(request: Request, session: SupervisorSession, body: QaScoreRequest,
          recording: int = Path(ge=1)) -> dict[str, Any]:
    ctx = context(request)
    row = _recording(request, session, recording)
    stored = ctx.store.qa_form(row["campaign"])
    if stored is None:
        raise ApiError(409, "conflict", f"campaign {row['campaign']!r} has no QA form: PUT "
                                        f"/api/campaigns/{row['campaign']}/qa-form first")
    form = QaForm.from_dict(stored)
    try:
        points = form.score(body.items)
    except ValueError as err:
        raise ApiError(422, "invalid", str(err)) from None
    now = ctx.clock()
    with ctx.store.transaction():
        new = ctx.store.add_qa_score(recording, reviewer=session.user, form=form.to_dict(),
                                     items=body.items, score=points,
                                     comments=body.comments, now=now)
        ctx.audit("qa.score", user=session.user, remote=remote(request),
                  target=str(recording), details={"score": points, "agent": row["agent"]})
    return next(s for s in ctx.store.qa_scores(recording) if s["id"] == new)


@recordings.get("/qa/summary", response_model=list[dict[str, Any]],
                summary="QA scores per agent or campaign",
                description="Scores given in [since, until) (epoch seconds) per campaign "
                            "and agent (`by=agent`) or per campaign: reviews, calls, "
                            "average, lowest and highest score, pass rate. An agent gets "
                            "its own rows only. " + _ANY, responses=errors(401, 403, 404, 422))
def qa_summary(request: Request, session: AnySession,
               by: Literal["agent", "campaign"] = Query("agent"),
               campaign: str | None = Query(None, max_length=200),
               since: float = Query(0.0), until: float = Query(1e300)
               ) -> list[dict[str, Any]]:
    me = viewer(session)
    try:
        return context(request).store.qa_summary(
            by="agent" if not me.sees_all else by, campaign=campaign, since=since,
            until=until, agent=None if me.sees_all else me.name)
    except StoreError as err:
        raise ApiError(404, "not_found", str(err)) from None
