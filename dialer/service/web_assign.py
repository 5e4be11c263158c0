"""Which campaigns each user may log in to at the desk, set by an admin over the API
(the same as ``trunkline users assign|unassign``; :mod:`.assigned` applies them)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, Field

from trunkline.dialer.errors import StoreError
from trunkline.dialer.service.web_auth import (
    AdminSession,
    ApiError,
    SupervisorSession,
    context,
    remote,
)
from trunkline.dialer.service.web_models import Strict
from trunkline.dialer.service.web_routes import AUTH, UNSAFE, errors

assign = APIRouter(prefix="/api/users", tags=["admin"])

UserName = Path(min_length=1, max_length=64, description="the user's name")
CampaignName = Path(min_length=1, max_length=200, description="the campaign's name")


class AssignmentBody(BaseModel):
    user: str
    campaign: str
    level: Literal["high", "standard", "overflow"]
    assigned_at: float


class AssignBody(Strict):
    level: Literal["high", "standard", "overflow"] = Field(
        default="standard", description="the agent's level in the campaign (high agents "
                                        "get its calls first; overflow only when its own "
                                        "agents cannot)")


def _refused(err: StoreError) -> ApiError:
    text = str(err)
    return ApiError(404 if text.startswith(("no user", "no campaign")) else 422,
                    "not_found" if text.startswith(("no user", "no campaign")) else "invalid",
                    text)


@assign.get("/{name}/campaigns", response_model=list[AssignmentBody],
            summary="A user's campaigns",
            description="The campaigns the user may log in to at the desk, with the level. "
                        "Security: session cookie; supervisor or admin.",
            responses=errors(*AUTH, 404, 422))
def user_campaigns(request: Request, session: SupervisorSession,
                   name: str = UserName) -> list[dict[str, Any]]:
    store = context(request).store
    try:
        store.get_user(name)
    except StoreError as err:
        raise _refused(err) from None
    return [{"user": a.user, "campaign": a.campaign, "level": a.level,
             "assigned_at": a.assigned_at} for a in store.assignments(name)]


@assign.put("/{name}/campaigns/{campaign}", response_model=AssignmentBody,
            summary="Assign a campaign to a user",
            description="The user may log in to the campaign at the desk, at `level` (again: "
                        "the level changes). Security: session cookie and X-CSRF-Token; "
                        "admin. Audited (`user.assign`, with the result).",
            responses=errors(*UNSAFE, 404))
def assign_campaign(request: Request, session: AdminSession, body: AssignBody | None = None,
                    name: str = UserName, campaign: str = CampaignName) -> dict[str, Any]:
    ctx = context(request)
    level = body.level if body else "standard"
    details: dict[str, Any] = {"campaign": campaign, "level": level}
    try:
        done = ctx.store.assign(name, campaign, level, now=ctx.clock())
    except StoreError as err:
        ctx.audit("user.assign", user=session.user, remote=remote(request), target=name,
                  details={**details, "result": "refused", "reason": str(err)})
        raise _refused(err) from None
    ctx.audit("user.assign", user=session.user, remote=remote(request), target=name,
              details={**details, "result": "ok"})
    return {"user": done.user, "campaign": done.campaign, "level": done.level,
            "assigned_at": done.assigned_at}


@assign.delete("/{name}/campaigns/{campaign}", summary="Take a campaign from a user",
               description="The user may no longer log in to the campaign (a desk login "
                           "already made stands until the agent logs out). 404 if it was "
                           "not assigned. Security: session cookie and X-CSRF-Token; admin. "
                           "Audited (`user.unassign`, with the result).",
               responses=errors(*UNSAFE, 404))
def unassign_campaign(request: Request, session: AdminSession, name: str = UserName,
                      campaign: str = CampaignName) -> dict[str, bool]:
    ctx = context(request)
    try:
        removed = ctx.store.unassign(name, campaign)
    except StoreError as err:
        ctx.audit("user.unassign", user=session.user, remote=remote(request), target=name,
                  details={"campaign": campaign, "result": "refused", "reason": str(err)})
        raise _refused(err) from None
    ctx.audit("user.unassign", user=session.user, remote=remote(request), target=name,
              details={"campaign": campaign, "result": "ok" if removed else "not assigned"})
    if not removed:
        raise ApiError(404, "not_found", f"campaign {campaign!r} is not assigned to {name}")
    return {"ok": True}
