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
from trunkline.dialer.store import Store
from trunkline.gateway.rpc.errors import RpcError


def settle_open_attempts(store: Store, gateway: GatewayPort, campaigns: Container[str],
                         dial_string: Callable[[str], str],
                         record_unknown: Callable[[int], None], now: float) -> dict[str, int]:
    """Attempts of ``campaigns`` left open by a previous run (a crash), settled.

    What :meth:`Store.reconcile` does, for these campaigns only (other campaigns may be
    running from the same database): ``claimed`` attempts were never sent and are
    released; ``dialing`` ones cannot be adopted: a call of ours still up on the gateway
    (same id and number) is cleared, and each is given to ``record_unknown`` (the
    campaign runner records ``error``, the cleaning runner ``unknown``). Returns counts.
    """
    up = {int(c["call"]): str(c.get("number")) for c in gateway.calls()}
    counts = {"released": 0, "unknown": 0, "cleared": 0}
    for item in store.in_flight():
        if item.campaign not in campaigns:
            continue
        if item.state == "claimed":
            store.release(item.attempt, not_before=now)
            counts["released"] += 1
            continue
        ref = int(item.call_ref) if item.call_ref and item.call_ref.isdigit() else None
        if ref is not None and up.get(ref) == dial_string(item.number):
            with contextlib.suppress(RpcError):
                gateway.hangup(ref)
            counts["cleared"] += 1
        record_unknown(item.attempt)
        counts["unknown"] += 1
    return counts
