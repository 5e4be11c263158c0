"""The agent's desk over HTTP: one route per desk command (log in to a position, ready,
pause, disposition, callback, call controls, preview, manual dial), each acting for the
logged-in user only.

A route checks the body (pydantic, then the desk command's own checks, both naming the
field), writes the audit log and queues the command with the runner that has the agent
(:meth:`~trunkline.dialer.service.host.ServiceHost.desk_command`); it answers 202. What
the desk makes of it arrives on the WebSocket as ``desk.*`` events: the new state, the
screen pop, the saved disposition, or ``desk.refused`` naming the command, the reason
and the field (a disposition's missing amount, a pause code that does not exist).
"""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from trunkline.dialer.desk import commands as cmd
from trunkline.dialer.service.assigned import NotAssigned, assigned_campaigns
from trunkline.dialer.service.host import HostConflict, HostUnsupported
from trunkline.dialer.service.web_auth import AnySession, ApiError, context, remote
from trunkline.dialer.service.web_models import Strict
from trunkline.dialer.service.web_routes import errors
from trunkline.dialer.service.websessions import WebSession

desk = APIRouter(prefix="/api/desk", tags=["desk"])

_SECURITY = (" Acts for the logged-in user only. Security: session cookie and "
             "X-CSRF-Token; any role. Audited (`desk.{kind}`). The outcome arrives on the "
             "WebSocket (`desk.*` events; `desk.refused` names the reason and the field).")
_ERRORS = errors(400, 401, 403, 409, 413, 415, 422, 501)


class Queued(BaseModel):
    queued: bool = True
    command: dict[str, Any] = Field(description="the command as the desk received it")


class CampaignLevel(Strict):
    name: str = Field(min_length=1, max_length=200)
    level: Literal["high", "standard", "overflow"] | None = Field(
        default=None, description="default: the level the agent is assigned at (an "
                                  "agent may not ask for another)")


class LoginBody(Strict):
    position: Literal["fxs", "number", "browser"] = Field(
        description="fxs: an FXS port (address = its channel); number: an extension or "
                    "number reached over the trunks; browser: the softphone (not yet)")
    address: str = Field(default="", max_length=64)
    campaigns: list[CampaignLevel] = Field(min_length=1, max_length=50)


class PauseBody(Strict):
    reason: str = Field(min_length=1, max_length=64, description="a pause code of the site")


class CallbackBody(Strict):
    at: str = Field(min_length=1, max_length=32,
                    description="local time in the contact's zone, YYYY-MM-DD HH:MM")
    owner: Literal["agent", "campaign"] = "agent"
    note: str = Field(default="", max_length=2000)


class DispositionBody(Strict):
    code: str = Field(min_length=1, max_length=64)
    fields: dict[str, Any] = Field(default_factory=dict,
                                   description="the disposition's own fields, by name")
    notes: str = Field(default="", max_length=10_000)
    callback: CallbackBody | None = None
    then: Literal["ready", "pause"] = "ready"
    reason: str = Field(default="", max_length=64, description="the pause code with "
                                                               "then = pause")


class ContactBody(Strict):
    contact_id: str = Field(min_length=1, max_length=64)


class DialBody(Strict):
    campaign: str = Field(min_length=1, max_length=200)
    number: str = Field(min_length=1, max_length=40)


class TransferBody(Strict):
    mode: Literal["blind", "attended"] = "blind"
    target_kind: Literal["agent", "campaign", "number"] = "number"
    target: str = Field(min_length=1, max_length=64)


class DtmfBody(Strict):
    digits: str = Field(min_length=1, max_length=32)


async def _queue(request: Request, session: WebSession, kind: type[cmd.Command],
                 **fields: Any) -> Queued:
    ctx = context(request)
    try:
        command = kind(session.user, **fields)
    except ValueError as err:
        raise ApiError(422, "invalid", f"{kind.TYPE}: {err}") from None
    data = command.to_dict()
    details = {k: v for k, v in data.items() if k not in ("type", "agent")}
    try:
        ctx.host.desk_command(command)
    except HostConflict as err:
        await asyncio.to_thread(ctx.audit, f"desk.{kind.TYPE}", user=session.user,
                                remote=remote(request), target=session.user,
                                details={**details, "result": "refused", "reason": str(err)})
        raise ApiError(409, "conflict", str(err)) from None
    except HostUnsupported as err:
        raise ApiError(501, "unsupported", str(err)) from None
    await asyncio.to_thread(ctx.audit, f"desk.{kind.TYPE}", user=session.user,
                            remote=remote(request), target=session.user,
                            details={**details, "result": "queued"})
    return Queued(command=data)


def _route(path: str, summary: str, description: str, kind: str) -> Any:
    return desk.post(path, response_model=Queued, status_code=202, summary=summary,
                     description=description + _SECURITY.format(kind=kind),
                     responses=_ERRORS)


@_route("/login", "Log in to a position", "Log in at a position for campaigns: an FXS "
        "port is rung and held as the agent's audio; the agent starts paused "
        "(reason `login`). An agent may log in only to the campaigns an admin assigned "
        "it, at the assigned level (403 naming the campaign otherwise; supervisors and "
        "admins may log in to any).", "login")
async def login(request: Request, session: AnySession, body: LoginBody) -> Queued:
    ctx = context(request)
    wanted = [(c.name, c.level) for c in body.campaigns]
    try:
        campaigns = await asyncio.to_thread(assigned_campaigns, ctx.store, session, wanted)
    except NotAssigned as err:
        await asyncio.to_thread(ctx.audit, "desk.login", user=session.user,
                                remote=remote(request), target=session.user,
                                details={"campaigns": [list(w) for w in wanted],
                                         "result": "refused", "reason": str(err)})
        raise ApiError(403, "forbidden", str(err)) from None
    return await _queue(request, session, cmd.Login, position=body.position,
                        address=body.address, campaigns=campaigns)


@_route("/logout", "Log out of the position", "Leave the desk (after the call, if on "
        "one); the position is released.", "logout")
async def logout(request: Request, session: AnySession) -> Queued:
    return await _queue(request, session, cmd.Logout)


@_route("/ready", "Ready", "Take calls.", "ready")
async def ready(request: Request, session: AnySession) -> Queued:
    return await _queue(request, session, cmd.Ready)


@_route("/pause", "Pause (not ready)", "Not ready for a pause code of the site, timed; on "
        "a call it takes effect after it.", "pause")
async def pause(request: Request, session: AnySession, body: PauseBody) -> Queued:
    return await _queue(request, session, cmd.Pause, reason=body.reason)


@_route("/disposition", "Save the disposition", "The call's result with its fields (a "
        "promise to pay: amount and date), notes and an optional callback; required "
        "before the agent is ready again.", "save_disposition")
async def disposition(request: Request, session: AnySession,
                      body: DispositionBody) -> Queued:
    callback = body.callback.model_dump() if body.callback else None
    return await _queue(request, session, cmd.SaveDisposition, code=body.code,
                        fields=body.fields, notes=body.notes, callback=callback,
                        then=body.then, reason=body.reason)


@_route("/callback", "Schedule a callback", "A callback for the contact on the line (or "
        "in wrap-up), for this agent or the campaign, in the contact's time zone and "
        "within the campaign's calling windows.", "schedule_callback")
async def callback(request: Request, session: AnySession, body: CallbackBody) -> Queued:
    return await _queue(request, session, cmd.ScheduleCallback, at=body.at,
                        owner=body.owner, note=body.note)


@_route("/hangup", "Hang up", "End the customer's call. An agent consulted in an "
        "attended transfer (not its call yet) ends the consultation instead, as "
        "`/consult/end` does.", "hang_up")
async def hang_up(request: Request, session: AnySession) -> Queued:
    return await _queue(request, session, cmd.HangUp)


@_route("/hold", "Hold", "Put the customer on hold.", "hold")
async def hold(request: Request, session: AnySession) -> Queued:
    return await _queue(request, session, cmd.Hold)


@_route("/unhold", "Take off hold", "Take the customer off hold.", "resume")
async def unhold(request: Request, session: AnySession) -> Queued:
    return await _queue(request, session, cmd.Resume)


@_route("/preview/dial", "Dial the previewed record", "Dial the record shown in "
        "preview.", "preview_dial")
async def preview_dial(request: Request, session: AnySession, body: ContactBody) -> Queued:
    return await _queue(request, session, cmd.PreviewDial, contact_id=body.contact_id)


@_route("/preview/skip", "Skip the previewed record", "Skip the record shown in preview "
        "(the next one is offered).", "preview_skip")
async def preview_skip(request: Request, session: AnySession, body: ContactBody) -> Queued:
    return await _queue(request, session, cmd.PreviewSkip, contact_id=body.contact_id)


@_route("/dial", "Dial by hand", "Dial a number for a campaign; checked against DNC and "
        "the calling windows before it is dialled.", "manual_dial")
async def manual_dial(request: Request, session: AnySession, body: DialBody) -> Queued:
    return await _queue(request, session, cmd.ManualDial, campaign=body.campaign,
                        number=body.number)


@_route("/transfer", "Transfer", "Transfer the customer, blind or attended, to an agent, "
        "a campaign (its next free agent) or a number. Attended: the customer waits on "
        "hold while the agent talks to the target (a consulted agent's screen pops the "
        "contact), then complete, cancel or conference. A target that is not free is "
        "refused with the reason.", "transfer")
async def transfer(request: Request, session: AnySession, body: TransferBody) -> Queued:
    return await _queue(request, session, cmd.Transfer, mode=body.mode,
                        target_kind=body.target_kind, target=body.target)


@_route("/transfer/complete", "Complete the attended transfer", "Bridge the customer to "
        "the number or agent consulted (or, in a conference, leave the two together); the "
        "agent goes to wrap-up.", "complete_transfer")
async def complete_transfer(request: Request, session: AnySession) -> Queued:
    return await _queue(request, session, cmd.CompleteTransfer)


@_route("/transfer/cancel", "Cancel the attended transfer", "Drop the number consulted "
        "(or free the agent consulted) and take the customer back.", "cancel_transfer")
async def cancel_transfer(request: Request, session: AnySession) -> Queued:
    return await _queue(request, session, cmd.CancelTransfer)


@_route("/conference", "Three-way conference", "During an attended transfer whose target "
        "answered: join the customer, the agent and the number or agent consulted (each "
        "hears the two others).", "conference")
async def conference(request: Request, session: AnySession) -> Queued:
    return await _queue(request, session, cmd.Conference)


@_route("/consult/end", "End the consultation (consulted agent)", "For the agent "
        "consulted in another agent's attended transfer: end its part. Consult ringing or "
        "talking: the consulting agent gets its customer back off hold, as a cancel does; "
        "three-way conference: this agent leaves, the agent and the customer stay "
        "bridged. This agent is ready again. Refused once the transfer is completed (the "
        "call is then this agent's own: hang up) or when nobody consults it.",
        "end_consult")
async def end_consult(request: Request, session: AnySession) -> Queued:
    return await _queue(request, session, cmd.EndConsult)


@_route("/dtmf", "Send DTMF", "Send keypad digits on the customer's call.", "send_dtmf")
async def dtmf(request: Request, session: AnySession, body: DtmfBody) -> Queued:
    return await _queue(request, session, cmd.SendDtmf, digits=body.digits)


@desk.get("", summary="Desks now", response_model=list[dict[str, Any]],
          description="Each logged-in agent's desk (state, reason, since, position, call, "
                      "contact, preview, wrap_deadline, preview_deadline, consulted_by: the "
                      "agent consulting it in an attended transfer, or null): an agent gets "
                      "its own, supervisors and admins "
                      "all. Security: session cookie; any role.",
          responses=errors(401, 403))
async def seats(request: Request, session: AnySession) -> list[dict[str, Any]]:
    found = await context(request).host.desk_seats()
    if session.role in ("supervisor", "admin"):
        return found
    return [seat for seat in found if seat.get("agent") == session.user]
