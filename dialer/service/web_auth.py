"""Who is asking, and may they: the session cookie, CSRF, roles, the signing key, the
audit, as FastAPI dependencies over one :class:`WebContext`.

- The cookie (``trunkline_session``) holds a random session id signed with the service's
  key (itsdangerous, HMAC-SHA1 over the value and a salt), ``HttpOnly`` (page scripts
  cannot read it), ``SameSite=Strict`` (a browser never sends it with a request another
  site starts), ``Secure`` when the request came over TLS. What the session means lives
  in :class:`~trunkline.dialer.service.websessions.SessionTable`.
- CSRF: every POST/PUT/PATCH/DELETE of a logged-in user must carry the session's token
  in ``X-CSRF-Token`` (returned by login and ``GET /api/me``), the synchroniser-token
  pattern of the OWASP CSRF Prevention Cheat Sheet; the login itself, which has no
  session yet, is protected by the Origin check and by taking only
  ``application/json`` (a cross-site form cannot send that without a CORS preflight,
  which this service never grants).
- Roles are ordered: an admin may do what a supervisor may, a supervisor what an agent
  may. The user's row is read at every request: a user disabled, given a new password
  or another role since its session opened must log in again.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import os
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.security import APIKeyCookie, APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from itsdangerous import BadSignature, URLSafeSerializer

from trunkline.dialer.service.host import ServiceHost
from trunkline.dialer.service.ratelimit import LoginLimiter
from trunkline.dialer.service.websessions import SessionTable, WebSession
from trunkline.dialer.store import Store, Viewer

COOKIE = "trunkline_session"
CSRF_HEADER = "X-CSRF-Token"
ROLE_RANK = {"agent": 0, "supervisor": 1, "admin": 2}
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

#: Declared so the OpenAPI description shows how each route is authenticated.
cookie_scheme = APIKeyCookie(name=COOKIE, auto_error=False,
                             description="the session cookie set by POST /api/login")
csrf_scheme = APIKeyHeader(name=CSRF_HEADER, auto_error=False,
                           description="the session's CSRF token (GET /api/me); required "
                                       "on every POST, PUT, PATCH and DELETE")

bearer_scheme = HTTPBearer(auto_error=False,
                           description="an API token (trunkline dialer tokens add, or POST "
                                       "/api/tokens): acts as its user with its role; no "
                                       "CSRF token needed")


def secret_key(store_path: str) -> bytes:
    """The key that signs session cookies: made once and kept beside the campaign
    database in ``<database>.web-key`` (mode 0600), so sessions stay valid across
    restarts of the same service and a second service on the same database agrees. An
    in-memory database gets a key for this process only."""
    if store_path == ":memory:":
        return secrets.token_bytes(32)
    path = Path(f"{store_path}.web-key")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_bytes()
        if len(key) < 32:
            raise ValueError(f"{path}: the web signing key is shorter than 32 bytes; "
                             "delete the file to make a new one (everyone logs in again)"
                             ) from None
        return key
    key = secrets.token_bytes(32)
    with os.fdopen(fd, "wb") as out:
        out.write(key)
    return key


class ApiError(HTTPException):
    """An error the API returns as ``{"error": code, "message": ...}``, with ``fields``
    (``[{field, message, ...}]``) when it names what in the request was refused."""

    def __init__(self, status: int, code: str, message: str,
                 headers: dict[str, str] | None = None, *,
                 fields: list[dict[str, Any]] | None = None) -> None:
        super().__init__(status, detail=message, headers=headers)
        self.code = code
        self.fields = fields


@dataclass
class WebContext:
    """What the routes share: the store, the host, sessions, the limiter, the clock."""

    store: Store
    host: ServiceHost
    key: bytes
    clock: Callable[[], float]
    sessions: SessionTable = field(default_factory=SessionTable)
    limiter: LoginLimiter = field(default_factory=LoginLimiter)
    allowed_origins: frozenset[str] = frozenset()
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.signer = URLSafeSerializer(self.key, salt="trunkline-session")
        #: session id -> the WebSockets open on it (their loop and "ended" event)
        self._watchers: dict[str, set[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = {}

    def watch(self, session_id: str) -> tuple[asyncio.AbstractEventLoop, asyncio.Event]:
        """An event set when session ``session_id`` is ended (call it on the loop)."""
        watcher = (asyncio.get_running_loop(), asyncio.Event())
        with self.lock:
            self._watchers.setdefault(session_id, set()).add(watcher)
        return watcher

    def unwatch(self, session_id: str,
                watcher: tuple[asyncio.AbstractEventLoop, asyncio.Event]) -> None:
        with self.lock:
            self._watchers.get(session_id, set()).discard(watcher)
            if not self._watchers.get(session_id, True):
                del self._watchers[session_id]

    def end_sessions(self, ids: list[str]) -> None:
        """Tell the WebSockets of sessions ``ids`` that they ended (any thread)."""
        with self.lock:
            watchers = [w for i in ids for w in self._watchers.pop(i, ())]
        for loop, event in watchers:
            with contextlib.suppress(RuntimeError):  # that loop has closed
                loop.call_soon_threadsafe(event.set)

    def sign(self, session_id: str) -> str:
        return self.signer.dumps(session_id)

    def unsign(self, cookie: str | None) -> str | None:
        if not cookie:
            return None
        try:
            value = self.signer.loads(cookie)
        except BadSignature:
            return None
        return value if isinstance(value, str) else None

    def session_of(self, cookie: str | None, *, touch: bool = True) -> WebSession | None:
        """The open session a cookie names, with its user still enabled and its role
        current; else None (and the session is ended)."""
        session_id = self.unsign(cookie)
        if session_id is None:
            return None
        now = self.clock()
        with self.lock:
            session = (self.sessions.use if touch else self.sessions.peek)(session_id, now)
        if session is None:
            return None
        user = self.store.find_user(session.user)
        # a user changed since the session opened (a new password, disabled, another
        # role) logs in again: a stolen session does not outlive a password change
        if user is None or user.disabled or user.changed_at > session.created_at:
            with self.lock:
                ended = self.sessions.close_user(session.user)
            self.end_sessions(ended)
            return None
        session.role = user.role
        return session

    def audit(self, action: str, *, user: str | None, remote: str | None,
              target: str | None = None, details: dict[str, Any] | None = None) -> None:
        self.store.audit(action, now=self.clock(), user=user, target=target,
                         details=details, remote=remote)

    def origin_allowed(self, origin: str, host: str | None, scheme: str) -> bool:
        """Same origin as the URL the client used, or one configured with
        ``--allow-origin`` (a reverse proxy's public name)."""
        if origin in self.allowed_origins:
            return True
        web = {"ws": "http", "wss": "https"}.get(scheme, scheme)  # a WebSocket's page
        return host is not None and origin == f"{web}://{host}"


def context(request: Request) -> WebContext:
    return request.app.state.ctx


def remote(request: Request) -> str | None:
    return request.client.host if request.client else None


def current_session(request: Request,
                    cookie: Annotated[str | None, Depends(cookie_scheme)],
                    csrf: Annotated[str | None, Depends(csrf_scheme)],
                    bearer: Annotated[HTTPAuthorizationCredentials | None,
                                      Depends(bearer_scheme)] = None) -> WebSession:
    """The caller's session (401 without one); on POST/PUT/PATCH/DELETE also the CSRF
    token (403 naming what is wrong). A machine client's ``Authorization: Bearer``
    token stands for a session of its user with the token's role, without CSRF: a
    browser never adds that header to a request another site makes."""
    ctx = context(request)
    if bearer is not None:
        return token_session(ctx, bearer.credentials)
    session = ctx.session_of(cookie)
    if session is None:
        raise ApiError(401, "unauthenticated",
                       "not logged in, or the session ended (idle timeout, logout, user "
                       "disabled): POST /api/login")
    if request.method in UNSAFE_METHODS:
        if not csrf:
            raise ApiError(403, "csrf", f"missing {CSRF_HEADER} header: send the token "
                                        "from GET /api/me")
        if not hmac.compare_digest(csrf.encode(), session.csrf.encode()):
            raise ApiError(403, "csrf", f"{CSRF_HEADER} does not match this session's "
                                        "token (it changes at each login)")
    return session


def token_session(ctx: WebContext, token: str) -> WebSession:
    """The session an API token stands for (401 if it is unknown, revoked, expired or
    its user disabled); never stored in the session table."""
    found = ctx.store.token_user(token, now=ctx.clock())
    if found is None:
        raise ApiError(401, "unauthenticated", "the API token is unknown, revoked or "
                                               "expired, or its user is disabled",
                       headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
    record, role = found
    now = ctx.clock()
    return WebSession(f"token:{record.id}", record.user, role, "", record.created_at, now)


def require(role: str) -> Callable[..., WebSession]:
    """A dependency: the caller's session if its role is ``role`` or above; else 403."""
    rank = ROLE_RANK[role]

    def check(session: Annotated[WebSession, Depends(current_session)]) -> WebSession:
        if ROLE_RANK.get(session.role, -1) < rank:
            raise ApiError(403, "forbidden", f"this needs the {role} role; "
                                             f"{session.user} is {session.role}")
        return session

    return check


#: The caller's session, any role (route parameter types).
AnySession = Annotated[WebSession, Depends(current_session)]
SupervisorSession = Annotated[WebSession, Depends(require("supervisor"))]
AdminSession = Annotated[WebSession, Depends(require("admin"))]


def viewer(session: WebSession) -> Viewer:
    return Viewer(session.user, session.role)
