"""What a cleaning found, without a gateway: verdicts recorded (retries only for the
undecided), numbers by class and status, the classes to remove, and apply."""

from __future__ import annotations

import pytest
from campaign_testkit import T0, mobile, open_store

from trunkline.dialer.cleaning.results import (
    PENDING_STATUSES,
    apply_cleaning,
    class_counts,
    cleaned_numbers,
    format_time,
    parse_classes,
    record_verdict,
)
from trunkline.dialer.cleaning.settings import CleaningSettings, create_cleaning_campaign
from trunkline.dialer.cleaning.verdicts import CLASSES, Verdict
from trunkline.errors import ConfigError

SETTINGS = CleaningSettings(retries=1, retry_after=0.0)


def cleaning_store(contacts: int = 5):
    store = open_store(contacts=contacts)
    create_cleaning_campaign(store, "sc", now=T0, source="sales", settings=SETTINGS)
    return store


def call(store, verdict: Verdict, now: float = T0, **kwargs) -> str:
    claim = store.claim_next("sc", now)
    assert claim is not None and store.mark_dialing(claim.attempt, now)
    return record_verdict(store, claim.attempt, verdict, now + 1, settings=SETTINGS, **kwargs)


def test_only_an_undecided_number_is_tried_again() -> None:
    store = cleaning_store(contacts=2)
    assert call(store, Verdict("invalid", "invalid_number", "cause 1", 1)) == "invalid"
    assert call(store, Verdict("unknown", "congestion", "cause 34", 34)) == "retry"
    assert call(store, Verdict("unknown", "congestion", "cause 34", 34), T0 + 5) == "unknown"
    assert class_counts(store, "sc")["unknown"] == 1


def test_numbers_by_status_with_their_evidence() -> None:
    store = cleaning_store(contacts=5)
    call(store, Verdict("invalid", "invalid_number", "SIT (ITU)"))
    call(store, Verdict("unknown", "congestion", "cause 34 (switching equipment "
                                                   "congestion)", 34))         # retrying
    in_flight = store.claim_next("sc", T0 + 1)
    store.mark_dialing(in_flight.attempt, T0 + 1)
    store.add_dnc([mobile(3)], now=T0)
    store.claim_next("sc", T0 + 2)          # finds mobile(3) barred, hands out mobile(4)
    numbers = {n.number: n for n in cleaned_numbers(store, "sc")}
    got = {k: (n.status, n.evidence, n.tries, n.cause) for k, n in numbers.items()}
    assert got == {
        mobile(0): ("invalid", "SIT (ITU)", 1, None),
        mobile(1): ("retrying", "cause 34 (switching equipment congestion)", 1, 34),
        mobile(2): ("in_flight", None, 0, None),
        mobile(3): ("blocked", "on a dnc list", 0, None),
        mobile(4): ("in_flight", None, 0, None),
    }
    assert numbers[mobile(0)].fields == {"name": "c0"}
    only = cleaned_numbers(store, "sc", statuses=["invalid", "blocked"])
    assert [n.number for n in only] == [mobile(0), mobile(3)]
    counts = class_counts(store, "sc")
    assert list(counts) == [*CLASSES, *PENDING_STATUSES]
    assert {k: v for k, v in counts.items() if v} == {"invalid": 1, "retrying": 1,
                                                      "in_flight": 2, "blocked": 1}
    with pytest.raises(ConfigError, match="'sales' is not a list-cleaning campaign"):
        cleaned_numbers(store, "sales")


@pytest.mark.parametrize(("text", "expected"), [
    ("invalid,barred", ("invalid", "barred")),
    (" unknown , invalid,invalid", ("unknown", "invalid")),
    (["powered_off"], ("powered_off",)),
])
def test_classes_to_remove(text, expected) -> None:
    assert parse_classes(text) == expected


@pytest.mark.parametrize(("text", "message"), [
    ("", "give at least one class to remove"),
    ("live", "'live' numbers cannot be removed"),
    ("invalid,bogus", "unknown class 'bogus'; removable classes: invalid, barred"),
])
def test_classes_that_cannot_be_removed(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_classes(text)


def test_apply_bars_the_bad_numbers_from_the_target() -> None:
    store = cleaning_store(contacts=3)
    call(store, Verdict("invalid", "invalid_number", "cause 1", 1))
    call(store, Verdict("live", "no_answer", "ringing"))
    call(store, Verdict("barred", "rejected", "cause 54", 54))
    dry = apply_cleaning(store, "sc", "sales", now=T0 + 9, dry_run=True)
    assert (dry.removed, dry.dnc_added, dry.contacts_blocked, dry.dry_run) == \
        ({"invalid": 1, "barred": 1}, 2, 2, True)
    assert store.query("SELECT COUNT(*) FROM dnc")[0][0] == 0
    done = apply_cleaning(store, "sc", "sales", now=T0 + 10, remove=["barred"])
    assert done.as_dict() == {"cleaning": "sc", "target": "sales", "removed": {"barred": 1},
                              "dnc_added": 1, "contacts_blocked": 1,
                              "contacts_being_dialled": 0, "dry_run": False}
    assert store.dnc_hit(mobile(2), "sales") == "barred"
    assert store.dnc_hit(mobile(2), "sc") is None            # the target's list only
    with pytest.raises(ConfigError, match="--to must be the campaign to be dialled"):
        apply_cleaning(store, "sc", "sc", now=T0)


def test_times_are_shown_in_the_campaigns_zone() -> None:
    assert format_time(None, "Asia/Shanghai") == ""
    assert format_time(T0, "Asia/Shanghai") == "2025-06-04T10:00:00+08:00"
    assert format_time(T0, "Europe/London") == "2025-06-04T03:00:00+01:00"
