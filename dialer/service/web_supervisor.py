"""The supervisor's live control over HTTP (issue 18): a running campaign's settings,
an agent logged out or paused, the supervisor's own position and what it does on an
agent's call. Every route is for supervisors and admins, and audited with its result
(refusals too), committed before the answer. The rules are :mod:`supervisor`'s.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any, Literal

from fastapi import APIRouter, FastAPI, Path, Request
from pydantic import BaseModel, Field

from trunkline.dialer.campaigns.bounds import CAMPAIGN
from trunkline.dialer.desk import commands as cmd
from trunkline.dialer.errors import StoreError
from trunkline.dialer.service.floor_feed import FloorFeed
from trunkline.dialer.service.host import HostConflict, HostUnsupported
from trunkline.dialer.service.supervisor import SupervisorConsole
from trunkline.dialer.service.web_auth import ApiError, SupervisorSession, context, remote
from trunkline.dialer.service.web_models import Strict
from trunkline.dialer.service.web_routes import AUTH, UNSAFE, errors
from trunkline.dialer.service.websessions import WebSession
from trunkline.errors import ConfigError


@contextlib.asynccontextmanager
async def _floor_lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Publish the live floor every second, and on agents' changes, while the app runs
    (after the host started: FastAPI nests a router's lifespan inside the app's)."""
    ctx = app.state.ctx
    feed = app.state.floor = FloorFeed(ctx.host, ctx.store, clock=ctx.clock)
    task = asyncio.ensure_future(feed.run())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


console_api = APIRouter(prefix="/api", tags=["supervisor"], lifespan=_floor_lifespan)

_AUDITED = (" Security: session cookie and X-CSRF-Token; supervisor or admin. Audited "
            "(`{action}`, with the result).")
AgentName = Path(min_length=1, max_length=200, description="the agent's user name")
CampaignName = Path(min_length=1, max_length=200, description="the campaign's name")


def console(request: Request) -> SupervisorConsole:
    """The app's one console (made at its first use)."""
    state = request.app.state
    made = getattr(state, "console", None)
    if made is None:
        made = state.console = SupervisorConsole(context(request).host)
    return made


def _bounded(key: str, *, description: str) -> Any:
    """An optional number bounded as the campaign file bounds ``key`` (bounds.py), so
    the request is refused with the API's 422 before anything is checked further."""
    b = CAMPAIGN[key]
    return Field(default=None, description=description,
                 gt=b.low if b.low_open else None, ge=None if b.low_open else b.low,
                 lt=b.high if b.high_open else None, le=None if b.high_open else b.high)


class SettingsBody(Strict):
    mode: Literal["manual", "preview", "progressive", "power", "precise", "predictive",
                  "vicidial"] | None = None
    target_abandon: float | None = _bounded(
        "target_abandon", description="the operator's abandon target (predictive); never "
                                      "above the regime's cap")
    ratio: float | None = _bounded(
        "ratio", description="lines per free agent (power, progressive)")
    precise_target: float | None = _bounded(
        "precise_target", description="precise mode's connect-rate target: the share of "
                                      "live answers that may find no agent at once")
    agent_wait_target: float | None = _bounded(
        "agent_wait_target",
        description="predictive mode's agent-wait objective: the mean seconds an agent "
                    "waits between calls that pacing aims at, under the abandon target "
                    "(which stays the ceiling); 0 turns it off")
    windows: dict[str, list[str]] | None = Field(
        default=None, description='calling windows, as in a strategy file: {"default": '
                                  '["09:00-12:00", "13:30-20:00"], "sat": [], '
                                  '"holidays": ["2025-10-01"]}')


class SettingsResult(BaseModel):
    campaign: str
    changed: dict[str, list[Any]] = Field(description="{setting: [old, new]}")
    applied: Literal["running", "stored"] = Field(
        description="running: the engine paces with it from its next decision; stored: "
                    "the campaign is not running, its next start reads it")


class PauseAgentBody(Strict):
    reason: str = Field(min_length=1, max_length=64, description="a pause code of the site")


class Queued(BaseModel):
    queued: bool = True
    agent: str
    command: str


class PositionBody(Strict):
    position: Literal["fxs", "number"] = Field(
        description="fxs: an FXS port (address = its channel); number: rung over the "
                    "trunks")
    address: str = Field(min_length=1, max_length=64)
    gateway: str | None = Field(default=None, max_length=200,
                                description="default: the gateway running campaigns")


class PositionResult(BaseModel):
    user: str
    gateway: str
    position: str
    address: str
    call: int
    monitoring: str | None = Field(description="the agent the supervisor is on")
    mode: str | None = Field(description="listen, whisper, barge or takeover")


class MonitorBody(Strict):
    agent: str = Field(min_length=1, max_length=200)
    mode: Literal["listen", "whisper", "barge"] = "listen"


class TakeoverBody(Strict):
    agent: str = Field(min_length=1, max_length=200)


async def _audited(request: Request, session: WebSession, action: str, target: str | None,
                   details: dict[str, Any], work: Any) -> Any:
    """Run ``work()`` (awaitable); audit it with its result; map refusals to errors."""
    ctx = context(request)
    result: dict[str, Any] = {**details, "result": "error"}
    try:
        value = await work()
        result["result"] = "ok"
        return value
    except ConfigError as err:
        result.update(result="refused", reason=str(err))
        raise ApiError(422, "invalid", str(err)) from None
    except StoreError as err:
        result.update(result="refused", reason=str(err))
        raise ApiError(404, "not_found", str(err)) from None
    except HostUnsupported as err:
        result.update(result="refused", reason=str(err))
        raise ApiError(501, "unsupported", str(err)) from None
    except (HostConflict, ValueError) as err:
        result.update(result="refused", reason=str(err))
        raise ApiError(409, "conflict", str(err)) from None
    finally:
        await asyncio.to_thread(ctx.audit, action, user=session.user,
                                remote=remote(request), target=target, details=result)


@console_api.patch(
    "/campaigns/{name}/settings", response_model=SettingsResult, tags=["campaigns"],
    summary="Change a campaign's pacing and windows",
    description="Change mode, target_abandon, ratio, precise_target, agent_wait_target and "
                "calling windows, "
                "checked as a campaign file is (422 naming the setting; nothing changes). "
                "A running campaign's engine applies them at its next decision; the "
                "campaign's stored settings change too (a restart keeps them). "
                "`campaign.settings` follows on the WebSocket."
                + _AUDITED.format(action="campaign.settings"),
    responses=errors(*UNSAFE, 404, 409))
async def change_settings(request: Request, session: SupervisorSession, body: SettingsBody,
                          name: str = CampaignName) -> Any:
    changes = body.model_dump(exclude_none=True)
    ctx = context(request)

    async def work() -> Any:
        await asyncio.to_thread(ctx.store.campaign_id, name)
        return await console(request).change_settings(ctx.store, name, changes)
    return await _audited(request, session, "campaign.settings", name,
                          {"changes": changes}, work)


@console_api.post(
    "/agents/{agent}/logout", response_model=Queued, status_code=202, tags=["agents"],
    summary="Log an agent out",
    description="The agent leaves its desk and its position is released. An agent on a "
                "call, or owing the disposition of the last one, finishes it first: "
                "the desk shows `then: logout` and the agent leaves once the "
                "disposition is saved (or wrap-up runs out with the automatic one), as "
                "a forced pause waits for the call."
                + _AUDITED.format(action="agent.logout"),
    responses=errors(*UNSAFE, 409))
async def logout_agent(request: Request, session: SupervisorSession,
                       agent: str = AgentName) -> Any:
    async def work() -> Queued:
        console(request).agent_command(agent, cmd.Logout(agent, after_call=True))
        return Queued(agent=agent, command="logout")
    return await _audited(request, session, "agent.logout", agent, {}, work)


@console_api.post(
    "/agents/{agent}/pause", response_model=Queued, status_code=202, tags=["agents"],
    summary="Force an agent's pause",
    description="The agent is paused for a pause code (on a call: after it)."
                + _AUDITED.format(action="agent.pause"),
    responses=errors(*UNSAFE, 409))
async def pause_agent(request: Request, session: SupervisorSession, body: PauseAgentBody,
                      agent: str = AgentName) -> Any:
    async def work() -> Queued:
        console(request).agent_command(agent, cmd.Pause(agent, reason=body.reason))
        return Queued(agent=agent, command="pause")
    return await _audited(request, session, "agent.pause", agent, {"reason": body.reason},
                          work)


@console_api.get(
    "/supervisor/position", response_model=PositionResult | None, tags=["supervisor"],
    summary="The supervisor's position",
    description="Where the logged-in supervisor is, and the agent it is on (null: at no "
                "position). Security: session cookie; supervisor or admin.",
    responses=errors(*AUTH))
def get_position(request: Request, session: SupervisorSession) -> Any:
    return console(request).position(session.user)


@console_api.post(
    "/supervisor/position", response_model=PositionResult, tags=["supervisor"],
    summary="Log in to a position",
    description="Ring the supervisor's own phone (an FXS port, or a number over the "
                "trunks) on the gateway of the agents it will hear, and hold it."
                + _AUDITED.format(action="supervisor.login"),
    responses=errors(*UNSAFE, 409))
async def position_login(request: Request, session: SupervisorSession,
                         body: PositionBody) -> Any:
    return await _audited(
        request, session, "supervisor.login", session.user,
        {"position": body.position, "address": body.address, "gateway": body.gateway},
        lambda: console(request).login(session.user, body.position, body.address,
                                       body.gateway))


@console_api.post(
    "/supervisor/position/logout", response_model=PositionResult, tags=["supervisor"],
    summary="Leave the position", description="Hang up the supervisor's position."
    + _AUDITED.format(action="supervisor.logout"), responses=errors(*UNSAFE, 409))
async def position_logout(request: Request, session: SupervisorSession) -> Any:
    return await _audited(request, session, "supervisor.logout", session.user, {},
                          lambda: console(request).logout(session.user))


@console_api.post(
    "/supervisor/monitor", response_model=PositionResult, tags=["supervisor"],
    summary="Listen, whisper or barge in",
    description="Put the supervisor on an agent's call from its position: `listen` "
                "(silent), `whisper` (the agent hears the supervisor, the customer does "
                "not), `barge` (a three-way call). Called again with another mode, the "
                "mode changes at once." + _AUDITED.format(action="supervisor.monitor"),
    responses=errors(*UNSAFE, 409))
async def monitor(request: Request, session: SupervisorSession, body: MonitorBody) -> Any:
    return await _audited(request, session, "supervisor.monitor", body.agent,
                          {"mode": body.mode},
                          lambda: console(request).monitor(session.user, body.agent,
                                                           body.mode))


@console_api.post(
    "/supervisor/monitor/stop", response_model=PositionResult, tags=["supervisor"],
    summary="Stop listening", description="Take the supervisor off the call it is on."
    + _AUDITED.format(action="supervisor.monitor"), responses=errors(*UNSAFE, 409))
async def monitor_stop(request: Request, session: SupervisorSession) -> Any:
    return await _audited(request, session, "supervisor.monitor", None, {"mode": "stop"},
                          lambda: console(request).monitor(session.user, None, "listen"))


@console_api.post(
    "/supervisor/takeover", response_model=PositionResult, tags=["supervisor"],
    summary="Take a call over (强拆)",
    description="The customer is bridged to the supervisor's position; the agent's "
                "position stays up, out of the call."
                + _AUDITED.format(action="supervisor.takeover"),
    responses=errors(*UNSAFE, 409))
async def takeover(request: Request, session: SupervisorSession, body: TakeoverBody) -> Any:
    return await _audited(request, session, "supervisor.takeover", body.agent, {},
                          lambda: console(request).takeover(session.user, body.agent))


@console_api.get(
    "/floor", tags=["supervisor"], summary="The live floor now",
    description="What the `floor` WebSocket event carries (at least every second, and "
                "sooner when an agent's state changes): agents with "
                "state, time in state, contact and campaign; campaigns with dials, live "
                "answers, connects, abandons, the regulated window's rate against the cap "
                "and its level (ok, near, over), penetration and predicted agent wait; "
                "spans and channels with alarms, in-use and blocked counts; each "
                "gateway's facts' age (stale: its runner is stuck). Security: "
                "session cookie; supervisor or admin.", responses=errors(*AUTH))
async def floor(request: Request, session: SupervisorSession) -> dict[str, Any]:
    feed: FloorFeed | None = getattr(request.app.state, "floor", None)
    if feed is None:
        raise ApiError(409, "conflict", "the floor is not running")
    if feed.latest is None:
        await feed.once()
    assert feed.latest is not None
    return feed.latest
