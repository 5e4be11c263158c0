"""The admin area's API (issue 18 item 5): what needed a TOML file and the CLI.

- a campaign's definition: strategy, settings, desk (dispositions with their fields,
  script, wrap-up) and QA form, read and replaced as one object, checked exactly as
  ``trunkline dialer campaign create`` checks a file
  (:mod:`trunkline.dialer.campaigns.definition`);
- contact lists uploaded as CSV or XLSX (the request body is the file), imported as
  ``trunkline dialer import`` imports one, with every refused row in the answer;
- DNC: check, add, remove, global or per campaign, as ``trunkline dialer dnc``;
- the site's pause codes (示忙原因).

Users are :mod:`.web_routes` (``/api/users``). Reads need a supervisor, changes an
admin; every change is audited.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field

from trunkline.dialer.campaigns import definition
from trunkline.dialer.campaigns.lists import ROW_REFUSAL_CODES, ListImportError
from trunkline.dialer.errors import StoreError
from trunkline.dialer.service.web_auth import (
    AdminSession,
    ApiError,
    SupervisorSession,
    context,
    remote,
)
from trunkline.dialer.service.web_models import Strict
from trunkline.dialer.service.web_routes import UNSAFE, errors
from trunkline.dialer.store.names import check_campaign_name
from trunkline.errors import ConfigError

admin = APIRouter(prefix="/api/admin", tags=["admin"])

_READ = "Security: session cookie or an API token; supervisor or admin."
_WRITE = "Security: session cookie (with X-CSRF-Token) or an API token; admin."
#: The largest list file taken (the web layer lets this route take more than JSON's
#: 64 KiB: :data:`trunkline.dialer.service.web.MAX_UPLOAD`).
CampaignName = Path(min_length=1, max_length=200, description="the campaign's name")


def _not_found(ctx: Any, name: str) -> None:
    try:
        ctx.store.campaign_id(name)
    except StoreError as err:
        raise ApiError(404, "not_found", str(err)) from None


def _not_archived(ctx: Any, name: str) -> None:
    """409 for a change to an archived campaign (:mod:`.web_admin_archive`): it keeps its
    name and history until restored, and PUT would otherwise quietly overwrite it."""
    try:
        archived = ctx.store.campaign_archived(name)
    except StoreError:
        # not there yet: PUT creates it, under a name a new campaign may take
        try:
            check_campaign_name(name)
        except StoreError as err:
            raise ApiError(422, "invalid", str(err)) from None
        return
    if archived:
        raise ApiError(409, "conflict", f"campaign {name!r} is archived: restore it first "
                                        f"(POST /api/admin/campaigns/{name}/restore)")


@admin.get("/campaigns/{name}", response_model=dict[str, Any],
           summary="A campaign's definition",
           description="`strategy`, `campaign` (settings), `desk` (dispositions, script, "
                       "wrap-up) and `qa` (its QA form, when it has one): the tables of "
                       "its TOML file, as JSON; what PUT takes back. " + _READ,
           responses=errors(401, 403, 404, 422))
def get_campaign(request: Request, session: SupervisorSession, name: str = CampaignName
                 ) -> dict[str, Any]:
    ctx = context(request)
    _not_found(ctx, name)
    return definition.load(ctx.store, name)


@admin.put("/campaigns/{name}", response_model=dict[str, Any],
           summary="Create or replace a campaign",
           description="The campaign's tables (`strategy`, `campaign`, `desk`, `qa`; "
                       "those left out get defaults, `desk` and `qa` stay as they were), "
                       "checked as `trunkline dialer campaign create` checks a file: 422 "
                       "naming the table and key, and nothing is saved. A running "
                       "campaign takes its strategy and settings at its next start (live "
                       "pacing changes: PATCH /api/campaigns/{name}/settings). Audited "
                       "(`campaign.define`). " + _WRITE, responses=errors(*UNSAFE))
def put_campaign(request: Request, session: AdminSession, body: dict[str, Any],
                 name: str = CampaignName) -> dict[str, Any]:
    ctx = context(request)
    _not_archived(ctx, name)
    try:
        checked = definition.check(name, body)
    except ConfigError as err:
        raise ApiError(422, "invalid", str(err)) from None
    with ctx.store.transaction():
        definition.save(ctx.store, name, checked, now=ctx.clock(), by=session.user)
        ctx.audit("campaign.define", user=session.user, remote=remote(request), target=name,
                  details={"tables": sorted(body)})
    return definition.load(ctx.store, name)


class RowProblem(BaseModel):
    line: int = Field(description="the row's line in the file (1 is the header)")
    reason: str = Field(description="why, in English (as the store and 'dialer import "
                                    "--json' keep it; the rejected file says it in the "
                                    "operator's language)")
    code: str = Field(description="why, as a stable code a page translates: "
                                  + ", ".join(f"`{c}` ({why})"
                                              for c, why in ROW_REFUSAL_CODES.items()))
    raw: list[str] = Field(description="the row's cells as read")


class ImportBody(BaseModel):
    campaign: str
    list: str
    source: str
    encoding: str = Field(description="the text encoding detected, or `xlsx`")
    rows: int
    added: int
    merged: int = Field(description="numbers already in the campaign, merged")
    duplicates_in_file: int
    rejected: int
    errors: list[RowProblem] = Field(description="every row refused, in file order")


@admin.post("/campaigns/{name}/lists", response_model=ImportBody, status_code=201,
            summary="Upload a contact list (CSV or XLSX)",
            description="The request body is the file itself: `Content-Type: text/csv` "
                        "(any encoding `trunkline dialer import` detects: UTF-8, "
                        "GB18030...) or the XLSX type (its first sheet), up to 20 MiB. "
                        "Imported as the CLI imports a file, good rows in one transaction; "
                        "the answer lists every refused row with its line, reason (English) "
                        "and `code` (stable, for pages to translate). The "
                        "same bytes twice are refused (409). Audited (`list.import`). "
                        + _WRITE, responses=errors(*UNSAFE, 404, 409))
async def upload_list(request: Request, session: AdminSession, name: str = CampaignName,
                      list_name: str | None = Query(None, alias="list", max_length=200,
                                                    description="the list's name"),
                      number_column: str | None = Query(None, max_length=100),
                      default_country: str = Query("86", pattern=r"^[1-9][0-9]{0,2}$"),
                      filename: str = Query("upload.csv", max_length=200)
                      ) -> dict[str, Any]:
    from trunkline.dialer.campaigns.upload import import_upload

    ctx = context(request)
    _not_found(ctx, name)
    _not_archived(ctx, name)
    data = await request.body()
    if not data:
        raise ApiError(422, "invalid", "the body is empty: send the CSV or XLSX file")

    def run() -> Any:
        return import_upload(ctx.store, name, data, filename=filename, now=ctx.clock(),
                             list_name=list_name, number_column=number_column,
                             default_country=default_country)

    try:
        report = await asyncio.to_thread(run)
    except ListImportError as err:
        status = 409 if "already" in str(err) else 422
        raise ApiError(status, "conflict" if status == 409 else "invalid", str(err)) from None
    except (ConfigError, StoreError) as err:
        raise ApiError(422, "invalid", str(err)) from None
    await asyncio.to_thread(ctx.audit, "list.import", user=session.user,
                            remote=remote(request), target=name,
                            details={"list": list_name or filename, "added": report.added,
                                     "rejected": len(report.errors)})
    return {"campaign": name, "list": list_name or filename, "source": filename,
            "encoding": report.encoding, "rows": report.rows, "added": report.added,
            "merged": report.merged, "duplicates_in_file": report.duplicates_in_file,
            "rejected": len(report.errors),
            "errors": [{"line": e.line, "reason": e.reason, "code": e.code,
                        "raw": list(e.raw)}
                       for e in report.errors]}


class ListBody(BaseModel):
    id: int
    name: str
    source: str | None
    imported_at: float
    rows_total: int
    rows_ok: int
    rows_bad: int
    rows_merged: int
    removed_at: float | None = Field(description="when it was removed (DELETE "
                                                 "/api/admin/lists/{id}), or null")


@admin.get("/campaigns/{name}/lists", response_model=list[ListBody],
           summary="A campaign's lists",
           description="Every list imported into the campaign, newest first, with its row "
                       "counts (refused rows: GET /api/admin/lists/{id}/errors); the "
                       "removed ones only with `include_removed`. " + _READ,
           responses=errors(401, 403, 404, 422))
def campaign_lists(request: Request, session: SupervisorSession, name: str = CampaignName,
                   include_removed: bool = False) -> list[dict[str, Any]]:
    ctx = context(request)
    _not_found(ctx, name)
    return [dict(r) for r in ctx.store.query(
        "SELECT id, name, source, imported_at, rows_total, rows_ok, rows_bad, rows_merged, "
        "removed_at FROM list WHERE campaign_id=? AND (? OR removed_at IS NULL) "
        "ORDER BY imported_at DESC, id DESC",
        (ctx.store.campaign_id(name), include_removed))]


class StoredRowProblem(BaseModel):
    line: int
    reason: str
    code: str | None = Field(description="as the upload's `code`; null for rows refused "
                                         "before the codes were kept (schema 15)")
    raw: str = Field(description="the row as read, its cells joined by commas")


@admin.get("/lists/{list_id}/errors", response_model=list[StoredRowProblem],
           summary="A list's refused rows",
           description="The rows an import refused, in file order, with the reason (kept "
                       "with the list, so the page can show them again). " + _READ,
           responses=errors(401, 403, 404, 422))
def list_errors(request: Request, session: SupervisorSession,
                list_id: int = Path(ge=1)) -> list[dict[str, Any]]:
    store = context(request).store
    if not store.query("SELECT 1 FROM list WHERE id=?", (list_id,)):
        raise ApiError(404, "not_found", f"no list {list_id}")
    return [dict(r) for r in store.query(
        "SELECT line, reason, code, raw FROM import_error WHERE list_id=? ORDER BY line",
        (list_id,))]


class DncChange(Strict):
    numbers: list[str] = Field(min_length=1, max_length=10_000,
                               description="numbers, or prefixes as `+8613800*`")
    campaign: str | None = Field(default=None, max_length=200,
                                 description="the campaign's own list (default: global)")
    kind: Literal["dnc", "blacklist", "refused"] = "dnc"
    allow_broad_prefix: bool = Field(
        default=False, description="accept a prefix shorter than its country code and 3 "
        "digits (`+8*`, `+86*`, `+861*`: a whole country or more); without it such a "
        "prefix is refused (422) naming it. Removing one never needs it")


def _refused(name: str, texts: list[str], problems: list[Any]) -> ApiError:
    """A 422 naming each refused entry beside its place (the reason alone, "a Chinese
    mobile number has 11 digits, got 3", did not say which of 2,000 it was), with
    ``fields`` carrying each one's place, text and stable code, so a page says them in
    its own language."""
    return ApiError(422, "invalid", "; ".join(
        f"{name} {n} ({texts[n - 1]!r}): {why}" for n, why, _ in problems), fields=[
        {"field": name, "message": why, "code": code, "number": n, "entry": texts[n - 1]}
        for n, why, code in problems])


def _entries(numbers: list[str], *, allow_broad: bool = True) -> list[Any]:
    from trunkline.dialer.campaigns.dnc import parse_entries

    blank = [n for n in numbers if not any(ch.isdigit() for ch in n)]
    if blank:  # the file parser skips such lines as headers; here they are mistakes
        raise ApiError(422, "invalid", f"not numbers: {', '.join(map(repr, blank[:10]))}")
    entries, problems = parse_entries(numbers, allow_broad=allow_broad,
                                      confirm="allow_broad_prefix: true")
    if problems:
        raise _refused("number", numbers, problems)
    return entries


@admin.get("/dnc", response_model=dict[str, str | None], summary="Is a number barred?",
           description="For each `number`, the list that bars it (`dnc`, `blacklist`, "
                       "`refused`, global or the `campaign`'s), or null. Whole numbers "
                       "only: a prefix (`+86*`) or a text that is no number is refused "
                       "(422) naming it; an unknown `campaign` is 404. " + _READ,
           responses=errors(401, 403, 404, 422))
def dnc_check(request: Request, session: SupervisorSession,
              number: Annotated[list[str], Query(min_length=1, max_length=100)],
              campaign: str = Query("", max_length=200)) -> dict[str, str | None]:
    from trunkline.dialer.campaigns.dnc import parse_numbers

    ctx = context(request)
    if campaign:
        _not_found(ctx, campaign)   # not a check of the global list only
    numbers, problems = parse_numbers(number)
    if problems:
        raise _refused("number", number, problems)
    return {n: ctx.store.dnc_hit(n, campaign) for n in numbers}


@admin.post("/dnc", response_model=dict[str, int], summary="Add numbers to a DNC list",
            description="As `trunkline dialer dnc add`: numbers or `+prefix*`, to the "
                        "global list or a campaign's, of a kind. A prefix broader than a "
                        "country code and 3 digits needs `allow_broad_prefix`. Audited "
                        "(`dnc.add`). "
                        + _WRITE, responses=errors(*UNSAFE, 404))
def dnc_add(request: Request, session: AdminSession, body: DncChange) -> dict[str, int]:
    ctx = context(request)
    if body.campaign:
        _not_found(ctx, body.campaign)
    from trunkline.dialer.campaigns.dnc_prefixes import broad_prefixes

    entries = _entries(body.numbers, allow_broad=body.allow_broad_prefix)
    with ctx.store.transaction():
        added = ctx.store.add_dnc(entries, now=ctx.clock(), campaign=body.campaign,
                                  kind=body.kind, allow_broad=body.allow_broad_prefix)
        ctx.audit("dnc.add", user=session.user, remote=remote(request),
                  target=body.campaign or "global",
                  details={"numbers": len(entries), "added": added, "kind": body.kind,
                           "broad_prefixes": broad_prefixes(entries)})
    return {"added": added}


class DncRefusal(BaseModel):
    number: int = Field(description="its position in `numbers`, from 1")
    entry: str = Field(description="the text as sent")
    reason: str = Field(description="why, in English")
    code: str = Field(description="the reason as a stable code, for pages that say it in "
                                  "their language: a number's refusal codes as a list "
                                  "import's (`number_length`, ...), or `prefix_form`, "
                                  "`prefix_broad`")


class DncValidation(BaseModel):
    entries: int = Field(description="how many of `numbers` would be added or are listed")
    refused: list[DncRefusal]


@admin.post("/dnc/validate", response_model=DncValidation,
            summary="Check entries for a DNC list, adding nothing",
            description="The checks of `POST /api/admin/dnc` on every one of `numbers`, "
                        "each refusal with its position, the text and the reason, and "
                        "nothing added: the admin page checks a whole file this way "
                        "before adding any of it, so a file with a bad line adds nothing "
                        "and every bad line is named at once. " + _WRITE,
            responses=errors(*UNSAFE, 404))
def dnc_validate(request: Request, session: AdminSession, body: DncChange
                 ) -> dict[str, Any]:
    from trunkline.dialer.campaigns.dnc import Refusal, parse_entries

    ctx = context(request)
    if body.campaign:
        _not_found(ctx, body.campaign)
    refused: list[dict[str, Any]] = []
    for n, text in enumerate(body.numbers, start=1):
        if not any(ch.isdigit() for ch in text):   # as _entries: a mistake, not a header
            refused.append({"number": n, "entry": text, "reason": "not a number",
                            "code": "number_characters"})
            continue
        entries, problems = parse_entries([text], allow_broad=body.allow_broad_prefix,
                                          confirm="allow_broad_prefix: true")
        if not entries and not problems:
            problems = [Refusal(1, "holds no number (only a # comment)", "number_empty")]
        refused += [{"number": n, "entry": text, "reason": why, "code": code}
                    for _, why, code in problems]
    return {"entries": len(body.numbers) - len(refused), "refused": refused}


@admin.post("/dnc/remove", response_model=dict[str, int],
            summary="Remove numbers from a DNC list",
            description="As `trunkline dialer dnc remove`. Audited (`dnc.remove`). " + _WRITE,
            responses=errors(*UNSAFE, 404))
def dnc_remove(request: Request, session: AdminSession, body: DncChange) -> dict[str, int]:
    ctx = context(request)
    if body.campaign:
        _not_found(ctx, body.campaign)
    entries = _entries(body.numbers)
    with ctx.store.transaction():
        removed = ctx.store.remove_dnc(entries, campaign=body.campaign)
        ctx.audit("dnc.remove", user=session.user, remote=remote(request),
                  target=body.campaign or "global", details={"removed": removed})
    return {"removed": removed}


class PauseCodeBody(BaseModel):
    code: str
    label: str = ""
    limit: float | None = None


@admin.get("/pause-codes", response_model=list[PauseCodeBody], summary="The pause codes",
           description="The site's not-ready reasons (示忙原因) with their time limits. "
                       + _READ, responses=errors(401, 403))
def get_pause_codes(request: Request, session: SupervisorSession) -> list[dict[str, Any]]:
    return [p.to_dict() for p in context(request).store.pause_codes()]


@admin.put("/pause-codes", response_model=list[PauseCodeBody], summary="Set the pause codes",
           description="Replace the site's pause codes: `{\"pause_code\": [{code, label, "
                       "limit}]}` as the `[[pause_code]]` entries of `trunkline dialer "
                       "pause-codes --set`, checked the same way. Audited "
                       "(`pause_codes.set`). " + _WRITE, responses=errors(*UNSAFE))
def put_pause_codes(request: Request, session: AdminSession, body: dict[str, Any]
                    ) -> list[dict[str, Any]]:
    from trunkline.dialer.desk.config import pause_codes_from

    ctx = context(request)
    try:
        unknown = sorted(set(body) - {"pause_code"})
        if unknown:
            raise ValueError(f"unknown keys {', '.join(unknown)}; expected pause_code")
        codes = pause_codes_from(body.get("pause_code", []))
        if not codes:
            raise ValueError("no pause codes: agents need at least one")
    except (ValueError, TypeError) as err:
        raise ApiError(422, "invalid", str(err)) from None
    with ctx.store.transaction():
        ctx.store.save_pause_codes(codes)
        ctx.audit("pause_codes.set", user=session.user, remote=remote(request),
                  details={"codes": [c.code for c in codes]})
    return [p.to_dict() for p in codes]
