"""Machine clients: API tokens and webhooks, configured by admins (issue 18 item 6).

A token (``Authorization: Bearer tlk_...``) acts as its user with its role, which is no
higher than the user's; it is shown once at creation, only its SHA-256 is kept, and it
works until revoked or expired, or its user is disabled. Role checks are the same as
for a logged-in user: an agent's token cannot reach a supervisor's route. Webhooks send
dispositions and call results from the store's durable outbox
(:mod:`trunkline.dialer.store.webhooks`), signed with HMAC-SHA256
(:mod:`trunkline.dialer.webhooks.signing`). Every change is audited.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field

from trunkline.dialer.errors import StoreError
from trunkline.dialer.service.web_auth import AdminSession, ApiError, context, remote
from trunkline.dialer.service.web_models import Strict
from trunkline.dialer.service.web_routes import UNSAFE, errors
from trunkline.dialer.store.webhooks import EVENT_KINDS

machine = APIRouter(prefix="/api", tags=["machine clients"])

_ADMIN = "Security: session cookie (with X-CSRF-Token on POST) or an API token; admin."


class NewToken(Strict):
    name: str = Field(min_length=1, max_length=64, description="a name to know it by")
    user: str = Field(min_length=1, max_length=64, description="the user it acts as")
    role: Literal["agent", "supervisor", "admin"] = Field(
        description="what it may do: no higher than the user's role")
    expires_in_days: float | None = Field(default=None, gt=0, le=3650,
                                          description="expiry (default: never)")


class TokenBody(BaseModel):
    id: int
    name: str
    user: str
    role: str
    created_by: str | None
    created_at: float
    expires_at: float | None
    last_used_at: float | None
    revoked_at: float | None


class CreatedToken(TokenBody):
    token: str = Field(description="the token itself: shown this once, never again")


class NewWebhook(Strict):
    name: str = Field(min_length=1, max_length=64)
    url: str = Field(min_length=8, max_length=2000, description="http(s) URL to POST to")
    events: list[Literal["disposition", "call.result"]] | None = Field(
        default=None, min_length=1,
        description="which events it receives (default: both)")
    secret: str | None = Field(default=None, min_length=16, max_length=200,
                               description="the signing secret (default: a new random one, "
                                           "returned once)")


class WebhookBody(BaseModel):
    id: int
    name: str
    url: str
    events: list[str]
    enabled: bool
    created_by: str | None
    created_at: float
    changed_at: float


class CreatedWebhook(WebhookBody):
    secret: str = Field(description="the HMAC-SHA256 signing secret (returned once)")


class DeliveryAttempt(BaseModel):
    at: float
    status: int | None
    error: str
    seconds: float


class DeliveryBody(BaseModel):
    id: int
    webhook: str
    event_id: int
    kind: str
    state: Literal["pending", "delivered", "failed"]
    attempts: int
    next_at: float
    created_at: float
    delivered_at: float | None
    last_status: int | None
    last_error: str
    body: dict[str, Any] = Field(description="the JSON sent (the same on every retry)")
    log: list[DeliveryAttempt]


def _wake(request: Request) -> None:
    dispatcher = getattr(request.app.state, "webhooks", None)
    if dispatcher is not None:
        dispatcher.wake()


def _refused(err: StoreError) -> ApiError:
    text = str(err)
    status = 404 if text.startswith("no ") else 409 if "exists" in text or \
        "already" in text else 422
    return ApiError(status, {404: "not_found", 409: "conflict"}.get(status, "invalid"), text)


@machine.get("/tokens", response_model=list[TokenBody], summary="List API tokens",
             description="Every token with its user, role and state (never the token "
                         "itself). " + _ADMIN, responses=errors(401, 403))
def list_tokens(request: Request, session: AdminSession) -> list[dict[str, Any]]:
    return [t.to_dict() for t in context(request).store.tokens()]


@machine.post("/tokens", response_model=CreatedToken, status_code=201,
              summary="Make an API token",
              description="A token for a machine client, acting as `user` with `role` "
                          "(no higher than the user's). The token is in this answer only. "
                          "Send it as `Authorization: Bearer TOKEN`; no CSRF token is "
                          "needed with it. Audited (`token.add`). " + _ADMIN,
              responses=errors(*UNSAFE, 404, 409))
def create_token(request: Request, session: AdminSession, body: NewToken) -> dict[str, Any]:
    ctx = context(request)
    now = ctx.clock()
    expires = now + body.expires_in_days * 86400.0 if body.expires_in_days else None
    try:
        with ctx.store.transaction():
            token, secret = ctx.store.create_token(body.name, user=body.user, role=body.role,
                                                   now=now, created_by=session.user,
                                                   expires_at=expires)
            ctx.audit("token.add", user=session.user, remote=remote(request),
                      target=token.name, details={"user": token.user, "role": token.role,
                                                  "expires_at": expires})
    except StoreError as err:
        raise _refused(err) from None
    return {**token.to_dict(), "token": secret}


@machine.post("/tokens/{name}/revoke", response_model=TokenBody, summary="Revoke a token",
              description="The token is refused from its next request. Audited "
                          "(`token.revoke`). " + _ADMIN, responses=errors(*UNSAFE, 404, 409))
def revoke_token(request: Request, session: AdminSession,
                 name: str = Path(min_length=1, max_length=64)) -> dict[str, Any]:
    ctx = context(request)
    try:
        with ctx.store.transaction():
            token = ctx.store.revoke_token(name, now=ctx.clock())
            ctx.audit("token.revoke", user=session.user, remote=remote(request), target=name)
    except StoreError as err:
        raise _refused(err) from None
    return token.to_dict()


@machine.get("/webhooks", response_model=list[WebhookBody], summary="List webhooks",
             description="Every webhook (never its secret). " + _ADMIN,
             responses=errors(401, 403))
def list_webhooks(request: Request, session: AdminSession) -> list[dict[str, Any]]:
    return [h.to_dict() for h in context(request).store.webhooks()]


@machine.post("/webhooks", response_model=CreatedWebhook, status_code=201,
              summary="Add a webhook",
              description="POST each `disposition` and/or `call.result` as JSON to `url`, "
                          "signed: `X-Trunkline-Signature: sha256=HMAC-SHA256(secret, "
                          "X-Trunkline-Timestamp + '.' + body)`; `X-Trunkline-Delivery` is "
                          "the same on every retry. Retried with backoff for about a day "
                          "until answered 2xx. The secret is in this answer only. Audited "
                          "(`webhook.add`). " + _ADMIN, responses=errors(*UNSAFE, 409))
def add_webhook(request: Request, session: AdminSession, body: NewWebhook) -> dict[str, Any]:
    ctx = context(request)
    try:
        with ctx.store.transaction():
            hook, secret = ctx.store.add_webhook(body.name, body.url,
                                                 body.events or list(EVENT_KINDS),
                                                 now=ctx.clock(), secret=body.secret,
                                                 created_by=session.user)
            ctx.audit("webhook.add", user=session.user, remote=remote(request),
                      target=hook.name, details={"url": hook.url,
                                                 "events": list(hook.events)})
    except StoreError as err:
        raise _refused(err) from None
    _wake(request)
    return {**hook.to_dict(), "secret": secret}


def _enable(request: Request, session: Any, name: str, enabled: bool) -> dict[str, Any]:
    ctx = context(request)
    try:
        with ctx.store.transaction():
            hook = ctx.store.set_webhook_enabled(name, enabled, now=ctx.clock())
            ctx.audit("webhook.enable" if enabled else "webhook.disable", user=session.user,
                      remote=remote(request), target=name)
    except StoreError as err:
        raise _refused(err) from None
    _wake(request)
    return hook.to_dict()


@machine.post("/webhooks/{name}/enable", response_model=WebhookBody,
              summary="Enable a webhook",
              description="Deliveries waiting are sent again. Audited. " + _ADMIN,
              responses=errors(*UNSAFE, 404))
def enable_webhook(request: Request, session: AdminSession,
                   name: str = Path(min_length=1, max_length=64)) -> dict[str, Any]:
    return _enable(request, session, name, True)


@machine.post("/webhooks/{name}/disable", response_model=WebhookBody,
              summary="Disable a webhook",
              description="No new deliveries are made for it; those pending wait until it "
                          "is enabled. Audited. " + _ADMIN, responses=errors(*UNSAFE, 404))
def disable_webhook(request: Request, session: AdminSession,
                    name: str = Path(min_length=1, max_length=64)) -> dict[str, Any]:
    return _enable(request, session, name, False)


@machine.get("/webhooks/deliveries", response_model=list[DeliveryBody],
             summary="The webhook delivery log",
             description="Deliveries newest first, with each attempt (time, HTTP status, "
                         "error, seconds). " + _ADMIN, responses=errors(401, 403, 404, 422))
def deliveries(request: Request, session: AdminSession,
               webhook: str | None = Query(None, max_length=64),
               state: Literal["pending", "delivered", "failed"] | None = Query(None),
               limit: int = Query(100, ge=1, le=1000)) -> list[dict[str, Any]]:
    try:
        return context(request).store.deliveries(webhook=webhook, state=state, limit=limit)
    except StoreError as err:
        raise _refused(err) from None


@machine.post("/webhooks/deliveries/{delivery}/redeliver", response_model=dict[str, bool],
              summary="Send a delivery again",
              description="A failed (or delivered) delivery is sent again, from a fresh "
                          "count of attempts. Audited (`webhook.redeliver`). " + _ADMIN,
              responses=errors(*UNSAFE, 404))
def redeliver(request: Request, session: AdminSession, delivery: int = Path(ge=1)
              ) -> dict[str, bool]:
    ctx = context(request)
    try:
        with ctx.store.transaction():
            ctx.store.redeliver(delivery, now=ctx.clock())
            ctx.audit("webhook.redeliver", user=session.user, remote=remote(request),
                      target=str(delivery))
    except StoreError as err:
        raise _refused(err) from None
    _wake(request)
    return {"ok": True}
