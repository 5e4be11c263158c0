"""What the agent's desktop reads besides the desk's live events: the site's pause codes,
the campaigns an agent may log in to with their dispositions (typed fields, hotkeys), script
and wrap-up limit, and the agent's own screen as it stands (for a page opened or reloaded
in the middle of a call, which missed the ``desk.screen_pop`` event).

These are reads only (GET, no audit): the same facts the desk puts in its events, so a
browser that starts late, or a CRM, can draw the same screen. Kept apart from
:mod:`.web_desk` (the commands) because they go to the store, not to a runner.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from trunkline.dialer.desk.script import render
from trunkline.dialer.errors import StoreError
from trunkline.dialer.service.web_auth import AnySession, context
from trunkline.dialer.service.web_routes import errors

desk_info = APIRouter(prefix="/api/desk", tags=["desk"])

_SECURITY = " Security: session cookie; any role."


class PauseCodeBody(BaseModel):
    code: str
    label: str = Field(description="what the agent reads (may be empty: show the code)")
    limit: float | None = Field(description="seconds after which the pause is flagged "
                                            "as overrun for supervisors, or none")


class DeskCampaignBody(BaseModel):
    name: str
    state: str = Field(description="what the service is doing with it: `idle`, "
                                   "`starting`, `running`, `stopping`, `paused`; an "
                                   "agent logs in to a running or paused campaign")
    mode: str = Field(description="`predictive`, `progressive`, `preview`, `manual`...")
    time_zone: str = Field(description="the zone of contacts whose number does not say "
                                       "(callback times are local to the contact)")
    max_wrap_up: float = Field(description="seconds the agent has to save a "
                                           "disposition after a call")
    script: str = Field(description="the script template, with `{{column}}` "
                                    "placeholders (the screen pop fills them)")
    dispositions: list[dict[str, Any]] = Field(
        description="code, label, hotkey, callback (`none`, `optional`, `required`) and "
                    "fields (name, kind, label, required, choices, currency, min, max, "
                    "max_length), as in the `desk.screen_pop` event")


class ScreenBody(BaseModel):
    seat: dict[str, Any] | None = Field(
        description="the agent's desk (as GET /api/desk gives it), or null when it is "
                    "not logged in to a position")
    campaign: str | None = Field(description="the campaign of the contact on the screen")
    script: str = Field(description="that campaign's script filled with the contact's "
                                    "columns (text, never HTML)")
    dispositions: list[dict[str, Any]]


def _desk_campaign(store: Any, name: str, state: str) -> dict[str, Any]:
    config = store.desk_config(name)
    mode = str(store.campaign_config(name).get("mode", "predictive"))
    return {"name": name, "state": state, "mode": mode,
            "time_zone": store.strategy(name).time_zone, "max_wrap_up": config.max_wrap_up,
            "script": config.script,
            "dispositions": [d.to_dict() for d in config.dispositions]}


@desk_info.get("/pause-codes", response_model=list[PauseCodeBody],
               summary="The site's pause codes",
               description="The not-ready reasons (示忙原因) an agent may pick, with their "
                           "limits; the defaults when the site loaded none." + _SECURITY,
               responses=errors(401))
def pause_codes(request: Request, session: AnySession) -> list[dict[str, Any]]:
    return [p.to_dict() for p in context(request).store.pause_codes()]


@desk_info.get("/campaigns", response_model=list[DeskCampaignBody],
               summary="Campaigns to work, with their desk settings",
               description="The campaigns the user may log in to (an agent: those "
                           "assigned to it) with their state, mode, dispositions (typed "
                           "fields, hotkeys), script template and wrap-up limit: what the "
                           "desktop offers at login and draws the disposition form from."
                           + _SECURITY, responses=errors(401))
def campaigns(request: Request, session: AnySession) -> list[dict[str, Any]]:
    ctx = context(request)
    # an agent is offered only the campaigns an admin assigned it, where the store keeps
    # assignments (supervisors and admins may log in to any)
    assigned = getattr(ctx.store, "assigned_level", None)
    return [_desk_campaign(ctx.store, c["name"], c["state"]) for c in ctx.host.campaigns()
            if session.role != "agent" or assigned is None
            or assigned(session.user, c["name"]) is not None]


@desk_info.get("/screen", response_model=ScreenBody, summary="My screen now",
               description="The logged-in agent's own desk with the contact on it (a call "
                           "or a preview), the campaign's script filled in for that contact "
                           "and its dispositions: what a page opened in the middle of a call "
                           "draws before the next event." + _SECURITY,
               responses=errors(401))
async def screen(request: Request, session: AnySession) -> dict[str, Any]:
    ctx = context(request)
    seat = next((s for s in await ctx.host.desk_seats() if s.get("agent") == session.user),
                None)
    card = None
    if seat is not None:
        card = seat.get("contact") or seat.get("preview")
    if not card:
        return {"seat": seat, "campaign": None, "script": "", "dispositions": []}
    name = str(card.get("campaign", ""))
    try:
        config = await asyncio.to_thread(ctx.store.desk_config, name)
    except StoreError:
        return {"seat": seat, "campaign": name, "script": "", "dispositions": []}
    values = {**(card.get("fields") or {}), "number": card.get("number", "")}
    return {"seat": seat, "campaign": name, "script": render(config.script, values),
            "dispositions": [d.to_dict() for d in config.dispositions]}
