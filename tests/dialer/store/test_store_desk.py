"""The desk's records in a real SQLite file: dispositions once per attempt, the state
log, desk settings and pause codes read back, the screen-pop card with history, and
manual dials refused for DNC and outside the calling windows."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from trunkline.dialer.campaigns.strategies import Strategy, Windows
from trunkline.dialer.desk.config import DeskConfig, Disposition, FieldSpec, PauseCode
from trunkline.dialer.store import NewContact, Store, StoreError

T0 = datetime(2025, 6, 4, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp()


def make(tmp_path: Path) -> Store:
    store = Store(tmp_path / "desk.sqlite")
    store.create_campaign("loans", Strategy(windows=Windows.from_dict(
        {"default": ["09:00-21:00"]})), now=T0)
    store.add_list("loans", "l", [NewContact("+8613800138000", {
        "name": "张三", "debt": "2000", "mobile2": "139 0013 9000"})], now=T0)
    return store


def test_settings_dispositions_and_the_card(tmp_path: Path) -> None:
    store = make(tmp_path)
    config = DeskConfig("loans", (Disposition("promise", fields=(
        FieldSpec("amount", "money", required=True),)),), script="{{name}}")
    store.save_desk_config("loans", config)
    store.save_pause_codes([PauseCode("lunch", "午饭", 3600.0)])
    reopened = Store(tmp_path / "desk.sqlite")
    assert reopened.desk_config("loans") == config
    assert reopened.pause_codes() == (PauseCode("lunch", "午饭", 3600.0),)

    claim = store.claim_next("loans", T0)
    assert claim is not None and store.mark_dialing(claim.attempt, T0, agent="a1")
    store.record_outcome(claim.attempt, "human", T0 + 30)
    store.record_disposition(campaign="loans", contact=claim.contact, agent="a1",
                             code="promise", fields={"amount": {"amount": "2000.00",
                                                                "currency": "CNY"}},
                             notes="月底", at=T0 + 40, attempt=claim.attempt)
    with pytest.raises(StoreError, match="has a disposition already"):
        store.record_disposition(campaign="loans", contact=claim.contact, agent="a1",
                                 code="promise", fields={}, notes="", at=T0 + 41,
                                 attempt=claim.attempt)
    card = reopened.contact_card(claim.contact)
    assert card.fields["name"] == "张三" and card.numbers == ("+8613800138000",
                                                             "+8613900139000")
    assert card.history[0]["disposition"] == "promise" and card.history[0]["notes"] == "月底"
    assert card.history[0]["outcome"] == "human"

    store.log_agent_state("a1", "paused", "lunch", T0, T0 + 600)
    with pytest.raises(StoreError, match="cannot end"):
        store.log_agent_state("a1", "paused", "lunch", T0, T0 - 1)
    assert store.query("SELECT reason, until - since FROM agent_state")[0][:] == (
        "lunch", 600.0)


def test_manual_dials_are_checked(tmp_path: Path) -> None:
    store = make(tmp_path)
    store.add_dnc(["+8613700137000"], now=T0, campaign="loans")
    with pytest.raises(StoreError, match=r"\+8613700137000 is on the dnc list"):
        store.claim_manual("loans", "137-0013-7000", "a1", T0)
    claim = store.claim_manual("loans", "139 0013 9001", "a1", T0)
    assert claim.number == "+8613900139001"
    assert store.query("SELECT state, agent FROM attempt WHERE id=?", (claim.attempt,))[0][:] \
        == ("claimed", "a1")
    with pytest.raises(StoreError, match="on a call already"):
        store.claim_manual("loans", "13900139001", "a2", T0)
    with pytest.raises(StoreError, match="outside the calling windows in Asia/Shanghai; "
                                         "the next calling time is 2025-06-05 09:00"):
        store.claim_manual("loans", "13800138000", "a1", T0 + 12 * 3600)
    with pytest.raises(StoreError, match="has 11 digits"):
        store.claim_manual("loans", "12345", "a1", T0)
