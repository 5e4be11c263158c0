"""The SMS a disposition sends (a collections reminder): its text and its number.

Sans-IO: given the disposition's definition, the contact's list columns, the number that
was called and the fields the agent saved, :func:`compose` returns what to send, or why
nothing can be sent. A message with a gap in it (``[name?]``, as the script shows a
missing column to the agent) must never reach a customer, so a placeholder without a
value refuses the message instead, naming it; the refusal is recorded against the
contact like a gateway's refusal, and never blocks the disposition.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from trunkline.dialer.campaigns.numbers import InvalidNumber, normalise
from trunkline.dialer.desk.config import Disposition
from trunkline.dialer.desk.script import placeholders, render


@dataclass(frozen=True, slots=True)
class Sms:
    """What to send (``to`` in E.164), or ``error`` saying why it cannot be sent (then
    ``to`` is the best number known, for the record)."""

    to: str
    text: str
    error: str = ""


def template_values(columns: Mapping[str, Any], number: str,
                    fields: Mapping[str, Any]) -> dict[str, str]:
    """The placeholders' values: the contact's columns, ``number`` (the one called),
    then the disposition's fields (a field wins over a column of the same name). Money
    is its amount (``2000.00``), dates ISO, booleans ``true`` or ``false``."""
    out: dict[str, str] = {}
    for name, value in columns.items():
        if value is not None and value != "":
            out[str(name)] = str(value)
    out["number"] = number
    for name, value in fields.items():
        if isinstance(value, Mapping) and "amount" in value:
            out[name] = str(value["amount"])
        elif isinstance(value, bool):
            out[name] = "true" if value else "false"
        elif value is not None and value != "":
            out[name] = str(value)
    return out


def compose(disposition: Disposition, columns: Mapping[str, Any], called: str,
            fields: Mapping[str, Any], *, home_country: str = "86") -> Sms | None:
    """The disposition's SMS (None when it sends none)."""
    if not disposition.sms:
        return None
    to = called
    error = ""
    if disposition.sms_to:
        raw = columns.get(disposition.sms_to)
        if raw is None or str(raw).strip() == "":
            error = f"the contact has no {disposition.sms_to!r} column to send the SMS to"
        else:
            try:
                to = normalise(str(raw), default_country=home_country).e164
            except InvalidNumber as err:
                error = f"column {disposition.sms_to!r}: {raw!r} is not a number ({err})"
    values = template_values(columns, called, fields)
    missing = [name for name in placeholders(disposition.sms) if name not in values]
    text = render(disposition.sms, values)
    if missing and not error:
        error = ("the SMS template needs " + ", ".join(f"{{{{{m}}}}}" for m in missing)
                 + ", which neither the contact nor the disposition has")
    return Sms(to, text, error)
