"""A disposition's texts written as numbers (``hotkey = 1``, ``choices = [1, 2]``,
``label = 5``) are taken as their text, so the agent's page can match them (second
red-team pass, issue 15).

Before: ``choices = [1, 2]`` was stored as numbers; the page sends ``"1"``, never equal
to ``1``, so the disposition could never be saved, and the refusal's own message failed
(``", ".join`` of numbers: a TypeError where a FieldError was due). A campaign stored
that way by the old code still loads."""

from __future__ import annotations

import json

import pytest
from campaign_testkit import open_store

from trunkline.dialer.desk.config import DeskConfig, Disposition, FieldError, FieldSpec


def test_numeric_choices_match_what_the_page_sends() -> None:
    field = FieldSpec("tier", kind="choice", choices=[1, 2, 2.5])
    assert field.choices == ("1", "2", "2.5")
    assert field.check("1") == "1"
    with pytest.raises(FieldError, match=r"'3' is not one of 1, 2, 2\.5"):
        field.check("3")


def test_a_hotkey_and_a_label_written_as_numbers() -> None:
    disposition = Disposition("promise", label=5, hotkey=1)
    assert (disposition.label, disposition.hotkey) == ("5", "1")
    for bad in ({"label": [1]}, {"hotkey": True}):
        with pytest.raises(ValueError, match="must be text"):
            Disposition("x", **bad)
    with pytest.raises(ValueError, match="a choice must be text, not True"):
        FieldSpec("a", kind="choice", choices=[True])


def test_a_campaign_stored_with_numeric_choices_loads() -> None:
    store = open_store()
    stored = {"disposition": [{"code": "promise", "label": 5, "hotkey": 1, "field": [
        {"name": "tier", "kind": "choice", "choices": [1, 2]}]}]}
    with store.transaction() as db:
        db.execute("INSERT INTO desk_config (campaign_id, config) VALUES (?, ?)",
                   (store.campaign_id("sales"), json.dumps(stored)))
    config = store.desk_config("sales")
    assert isinstance(config, DeskConfig)
    promise = config.disposition("promise")
    assert promise.fields[0].check("2") == "2" and promise.hotkey == "1"
