"""What a cleaning found: each call's verdict committed, the numbers by class, and the
bad ones removed from the campaign to be dialled (:func:`apply_cleaning`)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from trunkline.dialer.cleaning.settings import CleaningSettings, require_cleaning
from trunkline.dialer.cleaning.verdicts import (
    CLASSES,
    DEFAULT_REMOVE,
    LIVE,
    REMOVABLE,
    UNKNOWN,
    Verdict,
)
from trunkline.dialer.store import Store
from trunkline.errors import ConfigError


def record_verdict(store: Store, attempt: int, verdict: Verdict, now: float, *,
                   settings: CleaningSettings, answered_at: float | None = None) -> str:
    """Commit one call's verdict; returns the contact's class, or ``"retry"``.

    :meth:`Store.record_verdict <trunkline.dialer.store.cleaning.CleaningRecords.record_verdict>`
    in one transaction: the attempt's outcome, cause and note (JSON class and evidence),
    and the contact: ``done`` with ``last_outcome`` = the class, or, for an ``unknown``
    verdict with tries left, ``ready`` at ``retry_after`` (moved into the strategy's calling
    window). Idempotent for an attempt already recorded.
    """
    retry = (settings.retries, settings.retry_after) if verdict.cls == UNKNOWN else None
    return store.record_verdict(attempt, cls=verdict.cls, outcome=verdict.outcome,
                                evidence=verdict.evidence, now=now, cause=verdict.cause,
                                answered_at=answered_at, retry=retry)


@dataclass(frozen=True, slots=True)
class CleanedNumber:
    """One contact of a cleaning campaign and where it stands.

    ``status`` is a class (:data:`CLASSES`) once decided, else ``pending`` (not called
    yet), ``retrying`` (undetermined so far, due again), ``in_flight`` or ``blocked`` (on a
    DNC list: not called).
    """

    number: str
    status: str
    evidence: str | None
    tries: int
    cause: int | None
    last_at: float | None
    fields: Mapping[str, str]


#: Statuses of contacts not (yet) classified.
PENDING_STATUSES: tuple[str, ...] = ("pending", "retrying", "in_flight", "blocked")


def cleaned_numbers(store: Store, campaign: str, *,
                    statuses: Iterable[str] | None = None) -> list[CleanedNumber]:
    """Every contact of cleaning campaign ``campaign`` with its class and the evidence of
    its last call, optionally only those whose status is in ``statuses``."""
    require_cleaning(store, campaign)
    wanted = set(statuses) if statuses is not None else None
    out = []
    for r in store.cleaning_rows(campaign):
        status = _status(r["state"], r["last_outcome"], r["attempts"])
        if wanted is not None and status not in wanted:
            continue
        evidence = None
        if r["note"]:
            try:
                evidence = json.loads(r["note"]).get("evidence")
            except (ValueError, AttributeError):
                evidence = r["note"]
        if r["state"] == "dnc":
            evidence = f"on a {r['last_outcome'] or 'dnc'} list"
        out.append(CleanedNumber(r["number"], status, evidence, r["attempts"], r["cause"],
                                 r["last_at"], json.loads(r["fields"])))
    return out


def _status(state: str, last_outcome: str | None, attempts: int) -> str:
    if state == "done":
        return last_outcome if last_outcome in CLASSES else UNKNOWN
    if state == "dialing":
        return "in_flight"
    if state == "dnc":
        return "blocked"
    return "retrying" if attempts else "pending"


def class_counts(store: Store, campaign: str) -> dict[str, int]:
    """Contacts per class, then per pending status, of cleaning campaign ``campaign``."""
    counts = Counter(n.status for n in cleaned_numbers(store, campaign))
    return {s: counts.get(s, 0) for s in (*CLASSES, *PENDING_STATUSES)}


def parse_classes(text: str | Sequence[str]) -> tuple[str, ...]:
    """``"invalid,barred"`` -> the classes; unknown or non-removable names raise
    :class:`ConfigError` naming them."""
    names = [p.strip() for p in (text.split(",") if isinstance(text, str) else text)
             if p.strip()]
    if not names:
        raise ConfigError(f"give at least one class to remove: {', '.join(REMOVABLE)}")
    for name in names:
        if name == LIVE:
            raise ConfigError("'live' numbers cannot be removed: they are the ones to call "
                              f"(removable: {', '.join(REMOVABLE)})")
        if name not in REMOVABLE:
            raise ConfigError(f"unknown class {name!r}; removable classes: "
                              f"{', '.join(REMOVABLE)}")
    return tuple(dict.fromkeys(names))


@dataclass(frozen=True, slots=True)
class ApplyResult:
    """What :func:`apply_cleaning` did (or would do, ``dry_run``)."""

    cleaning: str
    target: str
    removed: dict[str, int]          # numbers per class put on the target's list
    dnc_added: int                   # new entries in the target's DNC list
    contacts_blocked: int            # target contacts set to 'dnc' now
    contacts_busy: int               # target contacts being dialled (barred at next claim)
    dry_run: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"cleaning": self.cleaning, "target": self.target, "removed": self.removed,
                "dnc_added": self.dnc_added, "contacts_blocked": self.contacts_blocked,
                "contacts_being_dialled": self.contacts_busy, "dry_run": self.dry_run}


def apply_cleaning(store: Store, cleaning: str, target: str, *, now: float,
                   remove: Iterable[str] = DEFAULT_REMOVE,
                   dry_run: bool = False) -> ApplyResult:
    """Remove the numbers of cleaning campaign ``cleaning`` classed in ``remove`` from
    campaign ``target``, in one transaction.

    Each number goes on ``target``'s own DNC list (``kind`` = its class, ``source`` = the
    cleaning campaign): every claim checks it, so the number is never dialled by
    ``target``, including if it is imported again later. ``target``'s contacts with that
    number that are waiting (``ready``) become ``dnc`` with ``last_outcome`` = the class;
    one being dialled right now finishes its call and is barred at its next claim.
    """
    classes = parse_classes(list(remove))
    require_cleaning(store, cleaning)
    store.campaign_id(target)
    if target == cleaning:
        raise ConfigError(f"--to must be the campaign to be dialled, not the cleaning "
                          f"campaign {cleaning!r} itself")
    by_class: dict[str, list[str]] = {c: [] for c in classes}
    for n in cleaned_numbers(store, cleaning, statuses=classes):
        by_class[n.status].append(n.number)
    added, blocked, busy = store.block_numbers(target, by_class, source=cleaning, now=now,
                                               dry_run=dry_run)
    return ApplyResult(cleaning, target, {c: len(v) for c, v in by_class.items()}, added,
                       blocked, busy, dry_run)


def format_time(t: float | None, zone: str) -> str:
    """An epoch instant as local ISO text in ``zone`` ('' for None)."""
    if t is None:
        return ""
    return datetime.fromtimestamp(t, ZoneInfo(zone)).isoformat(timespec="seconds")

