"""The web application: the JSON API (:mod:`.web_routes`), the WebSocket of live events,
and what every request goes through before a route sees it.

Before a route: the body is at most :data:`MAX_BODY` bytes (413, counted as it arrives,
not only from Content-Length); a state-changing request's body must be JSON (415); its
Origin, when the browser sends one, must be this service's (403). Every error is JSON,
``{"error": code, "message": ..., "fields": [...]}``, naming the field a client got wrong
(:class:`~trunkline.dialer.service.web_models.ErrorBody`); nothing is stored for a
request refused there.

The WebSocket ``/api/ws`` is authenticated by the session cookie and its Origin is
checked (browsers do not apply the same-origin policy to WebSockets, so without the check
any site could open one with the user's cookie). It sends ``hello``, a ``snapshot`` for
supervisors, ``desk.snapshot`` (the user's own desk; every desk for supervisors), then
the host's events the user may see
(:func:`~trunkline.dialer.service.host.visible_to`), and ``ping`` every
:data:`PING_EVERY` seconds. When the session ends it sends ``session.ended`` and closes
with code 4401: at once on logout, a new login in the same browser, or the user
disabled or changed; at the next ping for an idle timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

from fastapi import FastAPI, Request, WebSocket, WebSocketDisconnect
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from trunkline import __version__
from trunkline.dialer.service.host import ServiceHost, Subscription
from trunkline.dialer.service.ratelimit import LoginLimiter
from trunkline.dialer.service.web_admin import admin
from trunkline.dialer.service.web_admin_archive import archive
from trunkline.dialer.service.web_assign import assign
from trunkline.dialer.service.web_auth import (
    COOKIE,
    UNSAFE_METHODS,
    ApiError,
    WebContext,
)
from trunkline.dialer.service.web_desk import desk
from trunkline.dialer.service.web_desk_info import desk_info
from trunkline.dialer.service.web_machine import machine
from trunkline.dialer.service.web_pages import pages, static_files
from trunkline.dialer.service.web_recordings import recordings
from trunkline.dialer.service.web_reports import reports
from trunkline.dialer.service.web_routes import api, auth
from trunkline.dialer.service.web_softphone import read_messages, relay_for
from trunkline.dialer.service.web_supervisor import console_api
from trunkline.dialer.service.websessions import SessionTable, WebSession
from trunkline.dialer.store import Store
from trunkline.dialer.webhooks.dispatcher import WebhookDispatcher

#: The largest request body taken (the API's requests are small JSON objects).
MAX_BODY = 64 * 1024
#: A contact list uploaded as a file (``POST /api/admin/campaigns/{name}/lists``): the
#: only requests whose body is not JSON, and the largest they may be.
MAX_UPLOAD = 20 * 1024 * 1024
UPLOAD_TYPES = frozenset({
    "text/csv", "application/octet-stream",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"})


def is_upload(scope: Scope) -> bool:
    path = scope.get("path", "")
    return scope["method"] == "POST" and path.startswith("/api/admin/campaigns/") and \
        path.endswith("/lists")
#: Seconds between pings on an idle WebSocket (and checks that the session is open).
PING_EVERY = 15.0
#: WebSocket close code for "the session ended" (4000-4999: for applications, RFC 6455
#: section 7.4.2); 4401 echoes HTTP 401.
CLOSE_SESSION_ENDED = 4401


def _error(status: int, code: str, message: str, *, fields: list[dict[str, Any]] | None = None,
           headers: Mapping[str, str] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"error": code, "message": message}
    if fields is not None:
        body["fields"] = fields
    return JSONResponse(body, status_code=status, headers=headers)


class Guard:
    """ASGI middleware: body size, JSON bodies, Origin (see the module docstring)."""

    def __init__(self, app: ASGIApp, ctx: WebContext, max_body: int = MAX_BODY) -> None:
        self.app, self.ctx, self.max_body = app, ctx, max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope["headers"]}
        refusal = self._refuse(scope, headers)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        # The API's bodies are small: read the whole body first (refusing it as soon as
        # it passes the limit, however it is sent), then hand it to the app in one piece.
        body = bytearray()
        limit = MAX_UPLOAD if is_upload(scope) else self.max_body
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            body += message.get("body", b"")
            if len(body) > limit:
                await self._too_big()(scope, receive, send)
                return
            if not message.get("more_body", False):
                break
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    def _refuse(self, scope: Scope, headers: dict[str, str]) -> JSONResponse | None:
        length = headers.get("content-length")
        if length is not None:
            if not length.isdigit():
                return _error(400, "invalid", "Content-Length is not a number")
            if int(length) > (MAX_UPLOAD if is_upload(scope) else self.max_body):
                return self._too_big()
        if scope["method"] in UNSAFE_METHODS:
            origin = headers.get("origin")
            if origin is not None and not self.ctx.origin_allowed(
                    origin, headers.get("host"), scope.get("scheme", "http")):
                return _error(403, "origin", f"requests from origin {origin!r} are not "
                                             "allowed (cross-site request)")
            has_body = (length is not None and int(length) > 0) or (
                "transfer-encoding" in headers)
            kind = headers.get("content-type", "").split(";")[0].strip().lower()
            if has_body and is_upload(scope) and kind in UPLOAD_TYPES:
                return None  # a list file (a cross-site form cannot send these types)
            if has_body and kind != "application/json":
                return _error(415, "unsupported_media_type",
                              f"the body must be application/json, not {kind or 'untyped'}")
        return None

    def _too_big(self) -> JSONResponse:
        return _error(413, "too_large", f"the request body is larger than {self.max_body} "
                                        "bytes")


def _field(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = exc.errors()
    if any(p.get("type") == "json_invalid" for p in problems):
        return _error(400, "invalid_json", "the request body is not valid JSON: "
                      + "; ".join(str(p.get("ctx", {}).get("error", p["msg"]))
                                  for p in problems))
    fields = [{"field": _field(p["loc"]), "message": p["msg"]} for p in problems]
    names = ", ".join(f["field"] for f in fields)
    return _error(422, "invalid", f"invalid request: {names}", fields=fields)


async def _api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return _error(exc.status_code, exc.code, str(exc.detail), fields=exc.fields,
                  headers=exc.headers)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    status = getattr(exc, "status_code", 500)
    codes = {404: "not_found", 405: "method_not_allowed"}
    return _error(status, codes.get(status, "error"), str(getattr(exc, "detail", exc)))


def create_app(store_path: str, host: ServiceHost, *, key: bytes,
               clock: Callable[[], float] = time.time, sessions: SessionTable | None = None,
               limiter: LoginLimiter | None = None,
               allowed_origins: frozenset[str] = frozenset(),
               manage_host: bool = True) -> FastAPI:
    """The application over the database at ``store_path`` and ``host``.

    With ``manage_host`` the app starts the host on its event loop at startup and stops it
    at shutdown (``trunkline dialer serve``, the tests' TestClient).
    """
    store = Store(store_path)
    # (not `sessions or ...`: an empty table is falsy, and --idle-timeout was lost)
    sessions = SessionTable() if sessions is None else sessions
    if sessions.keeper is None:  # kept in the database: a restart logs nobody out
        sessions.keeper = store
    ctx = WebContext(store, host, key, clock, sessions,
                     limiter or LoginLimiter(), allowed_origins)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if manage_host:
            host.start(asyncio.get_running_loop())
        webhooks.start()
        try:
            yield
        finally:
            await asyncio.to_thread(webhooks.stop)
            if manage_host:
                await asyncio.to_thread(host.stop)
            store.close()

    app = FastAPI(
        title="trunkline dialer service", version=__version__, lifespan=lifespan,
        description=(
            "The dialer's HTTP API (issue 17): log in with POST /api/login (a session "
            "cookie), send the CSRF token from the login or GET /api/me in the "
            "X-CSRF-Token header of every POST, PUT, PATCH and DELETE. Roles: agent, "
            "supervisor, admin. Every state-changing request is written to the audit log. "
            "Errors are JSON: {error, message, fields}. Live events: the WebSocket "
            "/api/ws (same cookie; same origin)."),
        docs_url=None, redoc_url=None)
    app.state.ctx = ctx
    # the webhook outbox is posted by a thread of its own (issue 18 item 6)
    app.state.webhooks = webhooks = WebhookDispatcher(store, clock=clock)
    app.add_middleware(Guard, ctx=ctx)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(ApiError, _api_error)
    from starlette.exceptions import HTTPException as StarletteHTTPException

    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.include_router(auth)
    app.include_router(api)
    app.include_router(desk)
    app.include_router(desk_info)
    app.include_router(pages)
    app.mount("/static", static_files(), name="static")
    app.include_router(console_api)
    app.include_router(machine)
    app.include_router(admin)
    app.include_router(archive)
    app.include_router(recordings)
    app.include_router(reports)
    app.include_router(assign)

    @app.websocket("/api/ws")
    async def events(ws: WebSocket) -> None:
        await _serve_events(ws, ctx)

    return app


async def _serve_events(ws: WebSocket, ctx: WebContext) -> None:
    origin = ws.headers.get("origin")
    if origin is None or not ctx.origin_allowed(origin, ws.headers.get("host"),
                                                ws.url.scheme):
        await ws.close(code=1008, reason="origin not allowed")
        return
    cookie = ws.cookies.get(COOKIE)
    session = await asyncio.to_thread(ctx.session_of, cookie)
    if session is None:
        await ws.close(code=CLOSE_SESSION_ENDED, reason="not logged in")
        return
    # Subscribed before the socket is accepted and the snapshots are taken: an event
    # published while they are read (or just after the client saw the socket open) is
    # queued, not lost. An event may then repeat what the snapshot says; the page applies
    # them in order, and every change after the snapshot comes as an event too, so the
    # last word is the latest.
    with ctx.host.subscribe(session.user, session.role) as feed:
        await ws.accept()
        await ws.send_json({"type": "hello", "user": session.user, "role": session.role})
        if session.role in ("supervisor", "admin"):
            snap = await asyncio.to_thread(ctx.host.snapshot)
            await ws.send_json({"type": "snapshot", **snap})
        seats = [seat for seat in await ctx.host.desk_seats()
                 if session.role in ("supervisor", "admin")
                 or seat.get("agent") == session.user]
        await ws.send_json({"type": "desk.snapshot", "seats": seats})
        await _stream_events(ws, ctx, session, cookie, feed)


async def _stream_events(ws: WebSocket, ctx: WebContext, session: WebSession,
                         cookie: str | None, feed: Subscription) -> None:
    watcher = ctx.watch(session.id)
    # The softphone's signalling comes back on this socket (web_softphone.py).
    relay = relay_for(ctx.host)

    async def send(event: dict[str, Any]) -> None:
        await ws.send_text(json.dumps(event, default=str))

    reader = asyncio.ensure_future(read_messages(ws.receive, session.user, relay, send))
    ended = asyncio.ensure_future(watcher[1].wait())
    try:
        while not reader.done():
            getter = asyncio.ensure_future(feed.get())
            done, _ = await asyncio.wait({getter, reader, ended}, timeout=PING_EVERY,
                                         return_when=asyncio.FIRST_COMPLETED)
            if getter in done:
                await ws.send_text(json.dumps(getter.result(), default=str))
                continue
            getter.cancel()
            if reader in done:
                break
            # logout, user disabled or changed (at once); idle timeout (at a ping).
            # An open page is activity: an agent waiting for calls is not idle.
            if ended.done() or await asyncio.to_thread(ctx.session_of, cookie) is None:
                await relay.session_ended(session.user)  # the phone goes with it
                await ws.send_json({"type": "session.ended"})
                await ws.close(code=CLOSE_SESSION_ENDED, reason="session ended")
                break
            await ws.send_json({"type": "ping", "ts": ctx.clock()})
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        reader.cancel()
        ended.cancel()
        ctx.unwatch(session.id, watcher)
        await relay.page_gone(session.user, send)
