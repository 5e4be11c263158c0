"""Taking a campaign or a contact list out of use from the admin area (issue 18 item 5).

A campaign is **archived**, not deleted: its calls, recordings, QA scores, dispositions
and reports name it, and a regulator's audit or a complaint may ask for them long after
(:mod:`trunkline.dialer.store.archive`). Archived, it leaves the service's campaign list,
the floor and the desk, cannot be started, and keeps its name until restored; the
recordings and report routes still find it by name. A list is **removed**: never-called
contacts only in it are deleted, contacts already called keep their history and get no
more retries. Both are refused (409, with the reason) while the service runs the
campaign (starting, running, paused or stopping) or calls of it are in flight, admin
only, audited (``campaign.archive``, ``campaign.restore``, ``list.remove``).
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, Field

from trunkline.dialer.errors import StoreError
from trunkline.dialer.service.host import RUNNER_OWNS
from trunkline.dialer.service.web_auth import (
    AdminSession,
    ApiError,
    SupervisorSession,
    context,
    remote,
)
from trunkline.dialer.service.web_routes import UNSAFE, errors
from trunkline.dialer.store.archive import InUse

archive = APIRouter(prefix="/api/admin", tags=["admin"])

_WRITE = "Security: session cookie (with X-CSRF-Token) or an API token; admin."
CampaignName = Path(min_length=1, max_length=200, description="the campaign's name")


def _refuse_if_busy(ctx: Any, name: str, what: str) -> None:
    """409 while the host runs ``name``. Called on the event loop with no await before
    the change it guards, as :meth:`ServiceHost.start_campaign` checks the archive mark:
    the two cannot interleave."""
    state = ctx.host.campaign(name)["state"]
    if state in RUNNER_OWNS:
        raise ApiError(409, "conflict", f"campaign {name!r} is {state}: stop it before "
                                        f"{what}")


class ArchivedBody(BaseModel):
    name: str
    archived_at: float
    archived_by: str | None


@archive.delete("/campaigns/{name}", response_model=ArchivedBody,
                summary="Archive a campaign",
                description="Takes the campaign out of use without losing anything: it "
                            "leaves `GET /api/campaigns`, the floor and the desk and cannot "
                            "be started; its calls, recordings, QA scores, dispositions and "
                            "reports stay (found by its name), and the name stays taken "
                            "(`POST .../restore` brings it back). 409 while it is starting, "
                            "running, paused or stopping, or has calls in flight, and when "
                            "archived already. Audited (`campaign.archive`). " + _WRITE,
                responses=errors(*UNSAFE, 404, 409))
async def archive_campaign(request: Request, session: AdminSession,
                           name: str = CampaignName) -> dict[str, Any]:
    ctx = context(request)
    now = ctx.clock()
    try:
        ctx.store.campaign_id(name)
        _refuse_if_busy(ctx, name, "archiving it")
        ctx.store.archive_campaign(name, now=now, by=session.user)
    except InUse as err:
        raise ApiError(409, "conflict", str(err)) from None
    except StoreError as err:
        if "no campaign" in str(err):
            raise ApiError(404, "not_found", str(err)) from None
        raise ApiError(409, "conflict", str(err)) from None
    await asyncio.to_thread(ctx.audit, "campaign.archive", user=session.user,
                            remote=remote(request), target=name)
    return {"name": name, "archived_at": now, "archived_by": session.user}


@archive.get("/archived-campaigns", response_model=list[ArchivedBody],
             summary="The archived campaigns",
             description="Newest first, with when and by whom. Security: session cookie "
                         "or an API token; supervisor or admin.",
             responses=errors(401, 403))
def archived_campaigns(request: Request, session: SupervisorSession
                       ) -> list[dict[str, Any]]:
    return context(request).store.archived_campaigns()


@archive.post("/campaigns/{name}/restore", response_model=dict[str, str],
              summary="Restore an archived campaign",
              description="Back in `GET /api/campaigns`, startable again, as it was. 409 "
                          "when it is not archived. Audited (`campaign.restore`). "
                          + _WRITE, responses=errors(*UNSAFE, 404, 409))
def restore_campaign(request: Request, session: AdminSession, name: str = CampaignName
                     ) -> dict[str, str]:
    ctx = context(request)
    try:
        ctx.store.campaign_id(name)
    except StoreError as err:
        raise ApiError(404, "not_found", str(err)) from None
    try:
        ctx.store.restore_campaign(name)
    except StoreError as err:
        raise ApiError(409, "conflict", str(err)) from None
    ctx.audit("campaign.restore", user=session.user, remote=remote(request), target=name)
    return {"name": name}


class RemovedBody(BaseModel):
    list_id: int
    campaign: str
    deleted: int = Field(description="contacts never called and in no other list: deleted")
    closed: int = Field(description="contacts called before: kept with their call history, "
                                    "no more retries")
    kept: int = Field(description="contacts also in another list still in use: untouched")


@archive.delete("/lists/{list_id}", response_model=RemovedBody,
                summary="Remove a contact list",
                description="Stops dialling the list: its contacts never called (and in "
                            "no other list) are deleted; those called before keep their "
                            "calls, recordings and dispositions for the reports and get no "
                            "more retries; the list stays on record (its counts and refused "
                            "rows), out of `GET .../lists` unless `include_removed`. 409 "
                            "while its campaign is starting, running, paused or stopping or "
                            "has calls in flight, and when removed already. Audited "
                            "(`list.remove`). " + _WRITE,
                responses=errors(*UNSAFE, 404, 409))
async def remove_list(request: Request, session: AdminSession,
                      list_id: int = Path(ge=1)) -> dict[str, Any]:
    ctx = context(request)
    try:
        campaign = ctx.store.list_campaign(list_id)
    except StoreError as err:
        raise ApiError(404, "not_found", str(err)) from None
    try:
        _refuse_if_busy(ctx, campaign, "removing one of its lists")
        done = ctx.store.remove_list(list_id, now=ctx.clock(), by=session.user)
    except StoreError as err:  # InUse too
        raise ApiError(409, "conflict", str(err)) from None
    out = {"list_id": list_id, "campaign": campaign, "deleted": done.deleted,
           "closed": done.closed, "kept": done.kept}
    await asyncio.to_thread(ctx.audit, "list.remove", user=session.user,
                            remote=remote(request), target=campaign, details=out)
    return out
