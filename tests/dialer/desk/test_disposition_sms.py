"""A disposition's SMS: the ``sms``/``sms_to`` keys of the desk config, the text
filled from the contact and the disposition (never sent with a gap in it), and the
``contact_sms`` records in a real SQLite file, whose state only moves forward, and the
report of them."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trunkline.dialer.campaigns.reports import report, sms_rows, to_table
from trunkline.dialer.campaigns.strategies import Strategy
from trunkline.dialer.desk.config import DeskConfig, Disposition, FieldSpec
from trunkline.dialer.desk.sms import compose
from trunkline.dialer.store import NewContact, Store, StoreError

T0 = datetime(2025, 6, 4, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp()
PROMISE = Disposition("promise", sms="{{name}}：{{amount}}元，{{date}}前", fields=(
    FieldSpec("amount", "money"), FieldSpec("date", "date")))


def test_the_keys_round_trip_and_bad_ones_are_named() -> None:
    spec = {"sms_group": "gsm", "disposition": [
        {"code": "promise", "sms": "您好{{name}}", "sms_to": "mobile2"}]}
    config = DeskConfig.from_dict("loans", spec)
    assert config.sms_group == "gsm" and config.disposition("promise").sms_to == "mobile2"
    assert DeskConfig.from_dict("loans", config.to_dict()) == config
    assert DeskConfig("loans").sms_group == "mobile"
    with pytest.raises(ValueError, match="sms_to without an sms text"):
        DeskConfig.from_dict("loans", {"disposition": [{"code": "x", "sms_to": "m"}]})
    with pytest.raises(ValueError, match="sms_group must be a group name"):
        DeskConfig.from_dict("loans", {"sms_group": "a b"})
    with pytest.raises(ValueError, match="at most 39015 characters"):
        Disposition("x", sms="长" * 39_016)


def test_the_text_comes_from_the_contact_and_the_fields() -> None:
    fields = {"amount": {"amount": "1500.00", "currency": "CNY"}, "date": "2025-06-20"}
    sms = compose(PROMISE, {"name": "张三"}, "+8613800138000", fields)
    assert sms is not None and not sms.error
    assert (sms.to, sms.text) == ("+8613800138000", "张三：1500.00元，2025-06-20前")
    assert compose(Disposition("no_deal"), {}, "+8613800138000", {}) is None


def test_a_gap_refuses_the_message_naming_it() -> None:
    sms = compose(PROMISE, {}, "+8613800138000", {"amount": {"amount": "1.00"}})
    assert sms is not None
    assert sms.error == ("the SMS template needs {{name}}, {{date}}, which neither the "
                         "contact nor the disposition has")


def test_sms_to_names_a_column() -> None:
    other = Disposition("promise", sms="hi", sms_to="mobile2")
    sms = compose(other, {"mobile2": "139 0013 9000"}, "+8613800138000", {})
    assert sms is not None and (sms.to, sms.error) == ("+8613900139000", "")
    bad = compose(other, {"mobile2": "12"}, "+8613800138000", {})
    assert bad is not None and "column 'mobile2'" in bad.error
    none = compose(other, {}, "+8613800138000", {})
    assert none is not None and "no 'mobile2' column" in none.error


@given(st.dictionaries(st.sampled_from(["name", "amount", "date", "x"]),
                       st.text(max_size=5), max_size=4))
def test_a_message_without_an_error_has_no_gap(columns: dict[str, str]) -> None:
    sms = compose(PROMISE, columns, "+8613800138000", {})
    assert sms is not None
    assert bool(sms.error) == any(not columns.get(k) for k in ("name", "amount", "date"))
    if not sms.error:  # values are at most 5 characters: no mark comes from one
        assert not any(f"[{k}?]" in sms.text for k in ("name", "amount", "date"))


def test_records_move_only_forward(tmp_path: Path) -> None:
    store = Store(tmp_path / "d.sqlite")
    store.create_campaign("loans", Strategy(), now=T0)
    store.add_list("loans", "l", [NewContact("+8613800138000", {"name": "张三"})], now=T0)
    contact = store.query("SELECT id FROM contact")[0][0]
    assert store.sms_context(contact, None) == ({"name": "张三"}, "+8613800138000")
    store.add_contact_sms(campaign="loans", contact=contact, attempt=None, disposition=None,
                          number="+8613800138000", text="hi", sms_id=7, state="queued",
                          reason="", at=T0)
    assert store.update_contact_sms(7, "delivered", at=T0 + 5) == 1
    assert store.update_contact_sms(7, "sent", at=T0 + 6) == 0      # late: kept delivered
    assert store.update_contact_sms(7, "failed", reason="x", at=T0 + 7) == 0
    assert store.update_contact_sms(8, "sent", at=T0) == 0          # not the dialer's
    [row] = store.contact_sms(contact)
    assert (row["state"], row["updated_at"]) == ("delivered", T0 + 5)
    assert store.sms_counts("loans") == {"queued": 0, "sent": 0, "delivered": 1, "failed": 0}
    store.add_contact_sms(campaign="loans", contact=contact, attempt=None, disposition=None,
                          number="+8613800138000", text="hi", sms_id=None, state="failed",
                          reason="no SMS module", at=T0 + 10)
    assert sms_rows(store) == [{"campaign": "loans", "total": 2, "queued": 0, "sent": 0,
                                "delivered": 1, "failed": 1}]
    assert sms_rows(store, since=T0 + 1)[0]["total"] == 1
    assert report(store, by="sms", campaign="loans")[0]["failed"] == 1
    assert "delivered" in to_table(sms_rows(store))
    with pytest.raises(StoreError, match="not 'queued'"):
        store.update_contact_sms(7, "queued", at=T0)
    with pytest.raises(StoreError, match="no contact 999"):
        store.sms_context(999, None)


def test_each_gateways_ids_are_its_own(tmp_path: Path) -> None:
    """Two gateways of one dialer service both number their messages from 1: an event of
    one never moves the other's row (schema 7: contact_sms.gateway)."""
    store = Store(tmp_path / "d.sqlite")
    store.create_campaign("loans", Strategy(), now=T0)
    store.add_list("loans", "l", [NewContact("+8613800000001", {})], now=T0)
    contact = store.query("SELECT id FROM contact")[0][0]
    for gateway in ("/run/a.sock", "/run/b.sock"):
        store.add_contact_sms(campaign="loans", contact=contact, attempt=None, disposition=None,
                              number="+8613800000001", text="x", sms_id=1, state="queued",
                              reason="", at=T0, gateway=gateway)
    assert store.update_contact_sms(1, "delivered", at=T0 + 5, gateway="/run/a.sock") == 1
    rows = {r["gateway"]: r["state"] for r in store.contact_sms(contact)}
    assert rows == {"/run/a.sock": "delivered", "/run/b.sock": "queued"}
    assert store.open_contact_sms(["loans"], "/run/b.sock") == [1]
    assert store.open_contact_sms(["loans"], "/run/a.sock") == []
