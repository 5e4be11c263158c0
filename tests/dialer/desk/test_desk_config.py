"""Desk settings from TOML, typed disposition fields, the safe script, and commands
round-tripped through their dict form (what the web service sends)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trunkline.dialer.desk import commands as cmd
from trunkline.dialer.desk.config import DeskConfig, FieldError, FieldSpec, pause_codes_from
from trunkline.dialer.desk.script import placeholders, render


def test_fields_refuse_bad_values_naming_the_field() -> None:
    money = FieldSpec("amount", "money", min=0.01)
    assert money.check("1,234.5") == {"amount": "1234.50", "currency": "CNY"}
    for bad in ("1.234", "abc", "nan", True, {"amount": "5", "currency": "USD"}):
        with pytest.raises(FieldError) as err:
            money.check(bad)
        assert err.value.field == "amount"
    with pytest.raises(FieldError, match="below the minimum"):
        money.check("0")
    assert FieldSpec("d", "date").check("2025-07-15") == "2025-07-15"
    with pytest.raises(FieldError, match="not a date"):
        FieldSpec("d", "date").check("15/07/2025")
    assert FieldSpec("n", "number").check("3") == 3
    with pytest.raises(FieldError):
        FieldSpec("n", "number").check("inf")
    with pytest.raises(FieldError, match="not one of"):
        FieldSpec("c", "choice", choices=("a", "b")).check("z")
    assert FieldSpec("b", "bool").check("true") is True


def test_a_desk_table_from_toml_and_its_errors() -> None:
    spec = {"script": "{{name}}", "max_wrap_up": 90,
            "disposition": [{"code": "promise", "field": [
                {"name": "amount", "kind": "money", "required": True}]}]}
    config = DeskConfig.from_dict("loans", spec)
    assert [d.code for d in config.dispositions] == ["promise", "wrap_timeout"]
    assert DeskConfig.from_dict("loans", config.to_dict()) == config
    with pytest.raises(ValueError, match="unknown keys colour"):
        DeskConfig.from_dict("loans", {"colour": "red"})
    with pytest.raises(ValueError, match=r"disposition 1 \('p'\) field 1: .*currency"):
        DeskConfig.from_dict("loans", {"disposition": [
            {"code": "p", "field": [{"name": "a", "kind": "money", "currency": "yuan"}]}]})
    with pytest.raises(ValueError, match="listed twice"):
        pause_codes_from([{"code": "x"}, {"code": "x"}])
    with pytest.raises(FieldError, match="no such field"):
        config.disposition("promise").check({"amount": "1", "extra": 2})


def test_the_script_fills_fields_and_never_runs_anything() -> None:
    template = "{{ name }} owes {{debt}}; {{missing}} {{__class__}} {{0.__class__}} {x}"
    out = render(template, {"name": "张三", "debt": "{{name}}"})
    assert out == "张三 owes {{name}}; [missing?] [__class__?] [0.__class__?] {x}"
    assert placeholders(template) == ["name", "debt", "missing", "__class__", "0.__class__"]


@given(st.text(max_size=60), st.dictionaries(st.text(max_size=8), st.text(max_size=8)))
def test_rendering_any_text_is_total(template: str, values: dict[str, str]) -> None:
    render(template, values)


COMMANDS = [
    cmd.Login("a1", "fxs", "71", (("loans", "standard"), ("sales", "overflow"))),
    cmd.Pause("a1", "lunch"),
    cmd.SaveDisposition("a1", "promise", {"amount": "5"}, "n",
                        cmd.CallbackRequest("2025-07-01 10:00"), "pause", "lunch"),
    cmd.Transfer("a1", "attended", "agent", "a2"),
    cmd.ManualDial("a1", "loans", "+86 138 0013 8000"),
    cmd.SendDtmf("a1", "12*#"),
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c.TYPE)
def test_commands_round_trip_through_dicts(command: cmd.Command) -> None:
    assert cmd.command_from_dict(command.to_dict()) == command


def test_bad_commands_are_refused_by_name() -> None:
    with pytest.raises(ValueError, match="unknown command type 'dance'"):
        cmd.command_from_dict({"type": "dance", "agent": "a1"})
    with pytest.raises(ValueError, match="has no field volume"):
        cmd.command_from_dict({"type": "ready", "agent": "a1", "volume": 3})
    with pytest.raises(ValueError, match="digits"):
        cmd.SendDtmf("a1", "12;rm")
    with pytest.raises(ValueError, match="not a phone number"):
        cmd.ManualDial("a1", "loans", "call me")
