"""Crash recovery for the runners: the attempts a previous run left open, settled.

Shared by the campaign runner and the cleaning runner (each records the calls whose fate
is unknown its own way). The store's own :meth:`~trunkline.dialer.store.Store.reconcile`
takes every campaign's open attempts; a runner settles only its own campaigns', because
other campaigns may be running from the same database.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Container

from trunkline.dialer.runner.gateway import GatewayPort
from trunkline.dialer.runner.tags import parse_tag
from trunkline.dialer.store import Store
from trunkline.gateway.rpc.errors import RpcError


def settle_open_attempts(store: Store, gateway: GatewayPort, campaigns: Container[str],
                         dial_string: Callable[[str], str],
                         record_unknown: Callable[[int], None], now: float) -> dict[str, int]:
    """Attempts of ``campaigns`` left open by a previous run (a crash), settled.

    What :meth:`Store.reconcile` does, for these campaigns only (other campaigns may be
    running from the same database): ``claimed`` attempts were never sent and are
    released; ``dialing`` ones cannot be adopted: a call of ours still up on the gateway
    (tagged with the attempt of this database,
    :func:`~trunkline.dialer.runner.tags.attempt_tag`, or with the stored call id and the
    same number) is cleared, and each is given to
    ``record_unknown`` (the campaign runner keeps what was known and retries the rest,
    the cleaning runner records ``unknown``). Returns counts.
    """
    calls = gateway.calls()
    up = {int(c["call"]): str(c.get("number")) for c in calls}
    tagged: dict[int, int] = {}     # attempt id -> the gateway call tagged with it
    for row in calls:
        tag = parse_tag(row.get("tag"))
        if tag is not None and tag.is_attempt_of(store.identity):
            tagged[tag.key] = int(row["call"])
    counts = {"released": 0, "unknown": 0, "cleared": 0}
    for item in store.in_flight():
        if item.campaign not in campaigns:
            continue
        if item.state == "claimed":
            store.release(item.attempt, not_before=now)
            counts["released"] += 1
            continue
        ref = int(item.call_ref) if item.call_ref and item.call_ref.isdigit() else None
        if item.attempt in tagged:
            ref = tagged[item.attempt]
        elif ref is not None and up.get(ref) != dial_string(item.number):
            ref = None  # the id is another call's now
        if ref is not None:
            with contextlib.suppress(RpcError):
                gateway.hangup(ref)
            counts["cleared"] += 1
        record_unknown(item.attempt)
        counts["unknown"] += 1
    return counts


def clear_positions(gateway: GatewayPort, owner: str) -> list[int]:
    """Hang up the agent positions a previous run of the same campaigns left up.

    A runner killed with ``kill -9`` leaves its agent calls up on the gateway; the next
    run would find every position's channel busy (issue 15, red-team 5). Only calls
    tagged as positions of ``owner`` (:func:`~trunkline.dialer.runner.tags.owner_of`)
    are cleared: another runner's calls are never touched. Returns the calls hung up
    (one that ended meanwhile is no error).
    """
    cleared = []
    for row in gateway.calls():
        tag = parse_tag(row.get("tag"))
        if tag is not None and tag.kind == "position" and tag.owner == owner:
            with contextlib.suppress(RpcError):
                gateway.hangup(int(row["call"]))
            cleared.append(int(row["call"]))
    return cleared
