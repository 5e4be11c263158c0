"""Call records: ids, snapshots and T310, without libpri."""

from __future__ import annotations

import dataclasses

import pytest

from trunkline.drivers.signalling.pri.callstate import CallState
from trunkline.drivers.signalling.pri.records import CallInfo, CallRecord, new_call_id


def record(**kw) -> CallRecord:
    call = CallRecord(7, None, 0x1000, "outgoing", 5, "123", "456", 100.0)
    for name, value in kw.items():
        setattr(call, name, value)
    return call


def test_call_ids_are_unique_and_increasing() -> None:
    ids = [new_call_id() for _ in range(5)]
    assert ids == sorted(set(ids))


def test_a_new_record_is_null_alive_and_unanswered() -> None:
    call = record()
    assert call.state is CallState.NULL
    assert call.alive and not call.answered and not call.confirmed and not call.glare
    assert call.cause is None and call.cleared_by is None


def test_the_snapshot_is_frozen_and_names_the_span() -> None:
    info = record(state=CallState.ACTIVE, answered=True).info(2)
    assert info == CallInfo(7, 2, "outgoing", 5, "ACTIVE", "123", "456", True, 100.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        info.state = "NULL"  # type: ignore[misc]


def test_t310_runs_only_after_call_proceeding() -> None:
    assert record(state=CallState.CALL_INITIATED).t310_expiry(10.0) is None
    assert record(state=CallState.OUTGOING_PROCEEDING).t310_expiry(10.0) is None  # no time
    proceeding = record(state=CallState.OUTGOING_PROCEEDING, proceeded_at=200.0)
    assert proceeding.t310_expiry(10.0) == 210.0
    assert not proceeding.t310_expired(209.99, 10.0)
    assert proceeding.t310_expired(210.0, 10.0)
    alerted = record(state=CallState.CALL_DELIVERED, proceeded_at=200.0)
    assert alerted.t310_expiry(10.0) is None and not alerted.t310_expired(500.0, 10.0)
