"""The web API's request and response bodies (pydantic), as the OpenAPI description
shows them. Requests forbid unknown fields and take no coercion (``"5"`` is not a
number), so a mistyped client is told which field is wrong instead of half-working."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class FieldProblem(BaseModel):
    field: str = Field(description="where the problem is, e.g. `body.name`")
    message: str


class ErrorBody(BaseModel):
    """Every error the API returns."""

    error: str = Field(description="a short code: `unauthenticated`, `csrf`, `forbidden`, "
                                   "`not_found`, `conflict`, `invalid`, `rate_limited`...")
    message: str = Field(description="what is wrong, for a person")
    fields: list[FieldProblem] | None = Field(
        default=None, description="the fields of the request that are wrong")


class LoginRequest(Strict):
    name: str = Field(min_length=1, max_length=64, description="the user name")
    password: str = Field(min_length=1, max_length=256)


class Me(BaseModel):
    """The logged-in user, and the token every state-changing request must carry."""

    name: str
    role: Literal["agent", "supervisor", "admin"]
    csrf_token: str = Field(description="send it in the `X-CSRF-Token` header of every "
                                        "POST, PUT, PATCH and DELETE")
    idle_timeout: float = Field(description="seconds without a request that end the "
                                            "session")


class Done(BaseModel):
    ok: bool = True


class StartCampaign(Strict):
    gateway: str | None = Field(default=None, max_length=200,
                                description="the gateway to run on (default: the first "
                                            "free one)")


class CampaignStatusBody(BaseModel):
    name: str
    state: Literal["idle", "starting", "running", "stopping", "paused"]
    gateway: str | None
    started_at: float | None
    ended_at: float | None
    ended_how: Literal["finished", "stopped", "error"] | None
    progress: str | None = Field(description="the runner's latest progress line")
    totals: dict[str, int]
    summary: dict[str, Any] | None = Field(description="the last run's summary")
    error: str | None


class GatewayBody(BaseModel):
    name: str
    alive: bool
    error: str | None
    campaign: str | None


class Snapshot(BaseModel):
    gateways: list[GatewayBody]
    campaigns: list[CampaignStatusBody]


class CallBody(BaseModel):
    """One call attempt (a row of the campaign database's call records)."""

    id: int
    campaign: str
    contact_id: int
    number: str
    state: str
    claimed_at: float
    dialed_at: float | None
    answered_at: float | None
    ended_at: float | None
    outcome: str | None
    cause: int | None
    agent: str | None
    talk: float | None
    wrap: float | None
    note: str | None


class ContactBody(BaseModel):
    id: int
    campaign: str
    number: str
    time_zone: str | None
    fields: dict[str, Any]
    state: str
    attempts: int
    next_at: float
    callback_agent: str | None
    last_outcome: str | None
    last_at: float | None
    calls: list[CallBody]


class AuditBody(BaseModel):
    id: int
    ts: float
    user: str | None
    action: str
    target: str | None
    details: dict[str, Any]
    remote: str | None


class NewUser(Strict):
    name: str = Field(min_length=1, max_length=64,
                      description="letters, digits, . _ - @ (as `trunkline users add`)")
    role: Literal["agent", "supervisor", "admin"]
    password: str = Field(min_length=1, max_length=256)


class NewPassword(Strict):
    password: str = Field(min_length=1, max_length=256)


class NewRole(Strict):
    role: Literal["agent", "supervisor", "admin"]


class UserBody(BaseModel):
    name: str
    role: Literal["agent", "supervisor", "admin"]
    disabled: bool
    created_at: float
    changed_at: float
