"""The JSON API's routes: thin. Each validates (pydantic), checks the role (a
dependency), calls the store or the service host, and writes the audit log."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from fastapi import APIRouter, Path, Query, Request, Response

from trunkline.dialer.desk.commands import Logout
from trunkline.dialer.errors import StoreError
from trunkline.dialer.runner.abandon_message import AbandonMessageRequired
from trunkline.dialer.service.host import HostConflict, HostUnsupported
from trunkline.dialer.service.passwords import (
    WeakPassword,
    check_password,
    hash_password,
    needs_rehash,
    verify_password,
)
from trunkline.dialer.service.web_auth import (
    COOKIE,
    AdminSession,
    AnySession,
    ApiError,
    SupervisorSession,
    context,
    remote,
    viewer,
)
from trunkline.dialer.service.web_models import (
    AuditBody,
    CallBody,
    CampaignStatusBody,
    ContactBody,
    Done,
    ErrorBody,
    LoginRequest,
    Me,
    NewPassword,
    NewRole,
    NewUser,
    Snapshot,
    StartCampaign,
    UserBody,
)
from trunkline.dialer.service.websessions import WebSession
from trunkline.errors import ConfigError

#: A hash no password matches, checked for unknown users so that a login takes as long
#: for a name that does not exist as for one that does (no user enumeration by timing).
_DUMMY_HASH = hash_password("trunkline-no-such-user")


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI description of a route's error responses."""
    what = {
        400: "the request body is not valid JSON",
        401: "not logged in, or the session ended",
        403: "CSRF token missing or wrong, Origin not allowed, or the role is too low",
        404: "no such thing (or not one this user may see)",
        409: "the request does not fit the current state",
        413: "the request body is too large",
        415: "the request body is not application/json",
        422: "a field is missing or has the wrong type or value (named in `fields`)",
        429: "too many failed logins; see Retry-After",
        501: "the running campaign's runner cannot do this at run time",
    }
    return {code: {"model": ErrorBody, "description": what[code]} for code in codes}


AUTH = (401, 403)
UNSAFE = (400, 401, 403, 413, 415, 422)

auth = APIRouter(prefix="/api", tags=["session"])
api = APIRouter(prefix="/api")


def leave_desk(ctx: Any, user: str, address: str | None) -> None:
    """A user leaving the service leaves its desk too, so no call is sent to an agent
    without a screen; the desk refuses while the agent is on a call or owes a
    disposition (the agent stays at the position; a supervisor sees it)."""
    if not ctx.host.agent_at_desk(user):
        return
    try:
        ctx.host.desk_command(Logout(user))
    except (HostConflict, HostUnsupported) as err:
        ctx.audit("desk.logout", user=user, remote=address, target=user,
                  details={"why": "left the service", "result": "refused",
                           "reason": str(err)})
        return
    ctx.audit("desk.logout", user=user, remote=address, target=user,
              details={"why": "left the service", "result": "queued"})


def _me(ctx: Any, session: WebSession) -> Me:
    return Me(name=session.user, role=session.role, csrf_token=session.csrf,  # type: ignore[arg-type]
              idle_timeout=ctx.sessions.idle)


@auth.post("/login", response_model=Me, summary="Log in",
           description="Check the name and password and open a session: the response sets "
                       "the session cookie (HttpOnly, SameSite=Strict, signed; Secure over "
                       "TLS) and returns the CSRF token. Failed logins are limited per user "
                       "name and per address (429 with Retry-After). Security: no session "
                       "needed; only application/json is taken and the Origin, when sent, "
                       "must be this service's. Audited (`login`, `login.failed`).",
           responses=errors(400, 403, 413, 415, 422, 429))
def login(body: LoginRequest, request: Request, response: Response) -> Me:
    ctx = context(request)
    address = remote(request) or "?"
    now = ctx.clock()
    with ctx.lock:
        wait = ctx.limiter.retry_after(body.name, address, now)
    if wait > 0:
        ctx.audit("login.refused", user=None, remote=address, target=body.name,
                  details={"reason": "rate limited"})
        raise ApiError(429, "rate_limited", f"too many failed logins for {body.name!r} or "
                                            f"from this address; try again in {wait:.0f} s",
                       headers={"Retry-After": str(max(1, round(wait)))})
    user = ctx.store.find_user(body.name)
    good = verify_password(user.password_hash if user else _DUMMY_HASH, body.password)
    if user is None or not good or user.disabled:
        with ctx.lock:
            ctx.limiter.failed(body.name, address, now)
        ctx.audit("login.failed", user=None, remote=address, target=body.name,
                  details={"reason": "disabled" if user and good else "bad name or password"})
        raise ApiError(401, "unauthenticated", "wrong user name or password, or the user "
                                               "is disabled")
    if needs_rehash(user.password_hash):
        ctx.store.set_password_hash(user.name, hash_password(body.password), now=now)
    old = ctx.unsign(request.cookies.get(COOKIE))
    with ctx.lock:
        ctx.limiter.succeeded(user.name)
        if old is not None:
            ctx.sessions.close(old)
        ctx.sessions.expire(now)  # housekeeping: stored sessions that timed out
        session = ctx.sessions.open(user.name, user.role, now)
    if old is not None:
        ctx.end_sessions([old])
    ctx.audit("login", user=user.name, remote=address)
    response.set_cookie(COOKIE, ctx.sign(session.id), httponly=True, samesite="strict",
                        secure=request.url.scheme == "https", path="/")
    return _me(ctx, session)


@auth.post("/logout", response_model=Done, summary="Log out",
           description="End this session (the cookie is cleared and no longer accepted). "
                       "Security: session cookie and X-CSRF-Token. Audited (`logout`).",
           responses=errors(*UNSAFE))
def logout(request: Request, session: AnySession, response: Response) -> Done:
    ctx = context(request)
    with ctx.lock:
        ctx.sessions.close(session.id)
    ctx.end_sessions([session.id])
    ctx.audit("logout", user=session.user, remote=remote(request))
    leave_desk(ctx, session.user, remote(request))
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
    return Done()


@auth.get("/me", response_model=Me, summary="Who am I",
          description="The logged-in user, its role and the session's CSRF token. "
                      "Security: session cookie.", responses=errors(401))
def me(request: Request, session: AnySession) -> Me:
    return _me(context(request), session)


# -- campaigns ----------------------------------------------------------------------------

CampaignName = Path(min_length=1, max_length=200, description="the campaign's name")


def _campaign_or_404(ctx: Any, name: str) -> None:
    try:
        ctx.store.campaign_id(name)
    except StoreError as err:
        raise ApiError(404, "not_found", str(err)) from None


@api.get("/campaigns", response_model=list[CampaignStatusBody], tags=["campaigns"],
         summary="List campaigns",
         description="Every campaign of the database with what the service is doing with "
                     "it. Security: session cookie; supervisor or admin.",
         responses=errors(*AUTH))
def list_campaigns(request: Request, session: SupervisorSession
                   ) -> list[dict[str, Any]]:
    return context(request).host.campaigns()


@api.get("/campaigns/{name}", response_model=CampaignStatusBody, tags=["campaigns"],
         summary="A campaign's status",
         description="State (idle, starting, running, stopping, paused), gateway, the "
                     "latest progress line and the last run's summary. Security: session "
                     "cookie; supervisor or admin.", responses=errors(*AUTH, 404, 422))
def get_campaign(request: Request, session: SupervisorSession,
                 name: str = CampaignName) -> dict[str, Any]:
    ctx = context(request)
    _campaign_or_404(ctx, name)
    return ctx.host.campaign(name)


async def _control(request: Request, session: WebSession, name: str, verb: str,
                   details: dict[str, Any] | None = None) -> dict[str, Any]:
    ctx = context(request)
    await asyncio.to_thread(_campaign_or_404, ctx, name)
    how = {"start": lambda: ctx.host.start_campaign(name, (details or {}).get("gateway")),
           "stop": lambda: ctx.host.stop_campaign(name),
           "pause": lambda: ctx.host.pause_campaign(name),
           "resume": lambda: ctx.host.resume_campaign(name)}[verb]
    result: dict[str, Any] = {"result": "error", **(details or {})}
    try:
        status = await how()
        result["result"] = "ok"
    except HostConflict as err:
        result = {"result": "refused", "reason": str(err)}
        raise ApiError(409, "conflict", str(err)) from None
    except HostUnsupported as err:
        result = {"result": "refused", "reason": str(err)}
        raise ApiError(501, "unsupported", str(err)) from None
    except AbandonMessageRequired as err:  # uk/us without --abandon-file: its own code,
        result = {"result": "refused", "reason": str(err)}  # said in the console's words
        raise ApiError(422, "abandon_message_required", str(err)) from None
    except ConfigError as err:  # its settings, or a sound file its gateway cannot play
        result = {"result": "refused", "reason": str(err)}
        raise ApiError(422, "invalid", str(err)) from None
    finally:
        await asyncio.to_thread(ctx.audit, f"campaign.{verb}", user=session.user,
                                remote=remote(request), target=name, details=result)
    return status


_CONTROL = ("Security: session cookie and X-CSRF-Token; supervisor or admin. Audited "
            "(`campaign.{verb}`, with the result).")


@api.post("/campaigns/{name}/start", response_model=CampaignStatusBody, tags=["campaigns"],
          summary="Start a campaign",
          description="Run the campaign on a gateway: what a previous run left open is "
                      "settled first, the agent positions are rung and dialling begins. "
                      "Settings the runner refuses, or a machine_message the gateway "
                      "could not play (prompts.check), are 422 and nothing starts; a "
                      "campaign under regime uk or us while the service has no "
                      "--abandon-file is 422 `abandon_message_required` (Ofcom and the "
                      "US TSR require a recorded abandon message naming the caller). "
                      + _CONTROL.format(verb="start"),
          responses=errors(*UNSAFE, 404, 409))
async def start_campaign(request: Request, session: SupervisorSession,
                         body: StartCampaign | None = None,
                         name: str = CampaignName
                         ) -> dict[str, Any]:
    gateway = body.gateway if body else None
    return await _control(request, session, name, "start",
                          {"gateway": gateway} if gateway else None)


@api.post("/campaigns/{name}/stop", response_model=CampaignStatusBody, tags=["campaigns"],
          summary="Stop a campaign",
          description="No new calls; the calls in flight finish, then the run's summary is "
                      "published (`campaign.stopped` on the WebSocket). "
                      + _CONTROL.format(verb="stop"),
          responses=errors(*UNSAFE, 404, 409))
async def stop_campaign(request: Request, session: SupervisorSession, name: str = CampaignName
                        ) -> dict[str, Any]:
    return await _control(request, session, name, "stop")


@api.post("/campaigns/{name}/pause", response_model=CampaignStatusBody, tags=["campaigns"],
          summary="Pause a campaign",
          description="No new calls while paused; agents stay logged in. 501 when the "
                      "runner cannot pause at run time. " + _CONTROL.format(verb="pause"),
          responses=errors(*UNSAFE, 404, 409, 501))
async def pause_campaign(request: Request, session: SupervisorSession, name: str = CampaignName
                         ) -> dict[str, Any]:
    return await _control(request, session, name, "pause")


@api.post("/campaigns/{name}/resume", response_model=CampaignStatusBody, tags=["campaigns"],
          summary="Resume a paused campaign",
          description="Dialling starts again. " + _CONTROL.format(verb="resume"),
          responses=errors(*UNSAFE, 404, 409, 501))
async def resume_campaign(request: Request, session: SupervisorSession, name: str = CampaignName
                          ) -> dict[str, Any]:
    return await _control(request, session, name, "resume")


@api.get("/snapshot", response_model=Snapshot, tags=["campaigns"],
         summary="Gateways and campaigns now",
         description="What the service runs on which gateway. Security: session cookie; "
                     "supervisor or admin.", responses=errors(*AUTH))
def snapshot(request: Request, session: SupervisorSession
             ) -> dict[str, Any]:
    return context(request).host.snapshot()


# -- calls and contacts -------------------------------------------------------------------

@api.get("/calls", response_model=list[CallBody], tags=["calls"], summary="Recent calls",
         description="The newest call attempts, newest first. An agent gets only its own "
                     "calls (the query itself is scoped; `agent` is ignored for agents). "
                     "Security: session cookie; any role.", responses=errors(*AUTH, 422))
def calls(request: Request, session: AnySession, campaign: str | None = Query(None, max_length=200),
          agent: str | None = Query(None, max_length=64),
          limit: int = Query(100, ge=1, le=1000)) -> list[dict[str, Any]]:
    return context(request).store.calls_for(viewer(session), campaign=campaign, agent=agent,
                                            limit=limit)


@api.get("/contacts/{contact_id}", response_model=ContactBody, tags=["calls"],
         summary="A contact and its calls",
         description="The contact's fields and its calls. An agent sees only contacts it "
                     "talked to or holds a callback for (others are 404, as if absent), "
                     "and of their calls only its own. Security: session cookie; any role.",
         responses=errors(*AUTH, 404, 422))
def contact(request: Request, session: AnySession,
            contact_id: int = Path(ge=1, le=2**62)) -> dict[str, Any]:
    found = context(request).store.contact_for(viewer(session), contact_id)
    if found is None:
        raise ApiError(404, "not_found", f"no contact {contact_id}")
    return found


# -- administration -----------------------------------------------------------------------

@api.get("/audit", response_model=list[AuditBody], tags=["admin"], summary="The audit log",
         description="Newest first; filter by user and action. Security: session cookie; "
                     "supervisor or admin.", responses=errors(*AUTH, 422))
def audit(request: Request, session: SupervisorSession,
          user: str | None = Query(None, max_length=64),
          action: str | None = Query(None, max_length=64),
          limit: int = Query(200, ge=1, le=5000)) -> list[Any]:
    entries = context(request).store.audit_entries(user=user, action=action, limit=limit)
    return [dataclasses.asdict(e) for e in entries]


@api.get("/users", response_model=list[UserBody], tags=["admin"], summary="The users",
         description="Names, roles and states (never password hashes). Security: session "
                     "cookie; admin.", responses=errors(*AUTH))
def users(request: Request, session: AdminSession) -> list[Any]:
    return [_user_body(u) for u in context(request).store.users()]


def _user_body(user: Any) -> dict[str, Any]:
    return {"name": user.name, "role": user.role, "disabled": user.disabled,
            "created_at": user.created_at, "changed_at": user.changed_at}


UserName = Path(min_length=1, max_length=64, description="the user's name")


def _user_change(request: Request, session: WebSession, action: str, name: str,
                 change: Any, details: dict[str, Any] | None = None) -> dict[str, Any]:
    """Carry out ``change()`` on user ``name`` and audit it (refusals too)."""
    ctx = context(request)
    try:
        change()
    except WeakPassword as err:
        raise ApiError(422, "invalid", f"password: {err}") from None
    except StoreError as err:
        ctx.audit(action, user=session.user, remote=remote(request), target=name,
                  details={**(details or {}), "result": "refused", "reason": str(err)})
        text = str(err)
        status, code = ((404, "not_found") if text.startswith("no user") else
                        (409, "conflict") if "already exists" in text else
                        (422, "invalid"))
        raise ApiError(status, code, text) from None
    ctx.audit(action, user=session.user, remote=remote(request), target=name,
              details={**(details or {}), "result": "ok"})
    return _user_body(ctx.store.get_user(name))


_ADMIN_CHANGE = ("Security: session cookie and X-CSRF-Token; admin. Audited "
                 "(`{action}`, with the result).")


@api.post("/users", response_model=UserBody, tags=["admin"], summary="Add a user",
          description="A new user with a role and a password (the rules of `trunkline "
                      "users add`). " + _ADMIN_CHANGE.format(action="user.add"),
          responses=errors(*UNSAFE, 409))
def add_user(request: Request, session: AdminSession, body: NewUser) -> dict[str, Any]:
    ctx = context(request)
    return _user_change(request, session, "user.add", body.name, lambda: ctx.store.add_user(
        body.name, body.role, hash_password(check_password(body.password, user=body.name)),
        now=ctx.clock()), {"role": body.role})


@api.post("/users/{name}/password", response_model=UserBody, tags=["admin"],
          summary="Set a user's password",
          description="Its open sessions end. " + _ADMIN_CHANGE.format(action="user.passwd"),
          responses=errors(*UNSAFE, 404))
def set_password(request: Request, session: AdminSession, body: NewPassword,
                 name: str = UserName) -> dict[str, Any]:
    ctx = context(request)
    out = _user_change(request, session, "user.passwd", name,
                       lambda: ctx.store.set_password_hash(
                           name, hash_password(check_password(body.password, user=name)),
                           now=ctx.clock()))
    with ctx.lock:
        ended = ctx.sessions.close_user(name)
    ctx.end_sessions(ended)
    return out


@api.post("/users/{name}/disable", response_model=UserBody, tags=["admin"],
          summary="Disable a user",
          description="It cannot log in; its open sessions end at once. An admin cannot "
                      "disable itself. " + _ADMIN_CHANGE.format(action="user.disable"),
          responses=errors(*UNSAFE, 404, 409))
def disable_user(request: Request, session: AdminSession,
                 name: str = UserName) -> dict[str, Any]:
    ctx = context(request)
    if name == session.user:
        raise ApiError(409, "conflict", "an admin cannot disable itself (another admin "
                                        "can, or 'trunkline users disable')")
    body = _user_change(request, session, "user.disable", name,
                        lambda: ctx.store.set_disabled(name, True, now=ctx.clock()))
    with ctx.lock:
        ended = ctx.sessions.close_user(name)
    ctx.end_sessions(ended)
    leave_desk(ctx, name, remote(request))
    return body


@api.post("/users/{name}/enable", response_model=UserBody, tags=["admin"],
          summary="Enable a user again", description=_ADMIN_CHANGE.format(
              action="user.enable"), responses=errors(*UNSAFE, 404))
def enable_user(request: Request, session: AdminSession,
                name: str = UserName) -> dict[str, Any]:
    ctx = context(request)
    return _user_change(request, session, "user.enable", name,
                        lambda: ctx.store.set_disabled(name, False, now=ctx.clock()))


@api.post("/users/{name}/role", response_model=UserBody, tags=["admin"],
          summary="Change a user's role",
          description="agent, supervisor or admin; its open sessions end (a session "
                      "carries the role it logged in with). An admin cannot change its own role. "
                      + _ADMIN_CHANGE.format(action="user.role"),
          responses=errors(*UNSAFE, 404, 409))
def change_role(request: Request, session: AdminSession, body: NewRole,
                name: str = UserName) -> dict[str, Any]:
    ctx = context(request)
    if name == session.user:
        raise ApiError(409, "conflict", "an admin cannot change its own role (another "
                                        "admin can)")
    out = _user_change(request, session, "user.role", name,
                       lambda: ctx.store.set_role(name, body.role, now=ctx.clock()),
                       {"role": body.role})
    with ctx.lock:
        ended = ctx.sessions.close_user(name)
    ctx.end_sessions(ended)
    return out
