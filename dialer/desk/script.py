"""The campaign's script (话术) with the contact's fields filled in, safely.

A script is text with ``{{column}}`` placeholders, where ``column`` is one of the
contact's list columns (``{{name}}``, ``{{欠款金额}}``) or ``number``. Filling is plain
text substitution: no expressions, attribute access, filters or format specs, so a
script (or a list column) can never run code or read anything but the contact's own
fields. A placeholder whose column the contact lacks stays visible as ``[column?]`` so
the agent sees the gap instead of a silent blank. The result is text: the desktop must
escape it as text (never as HTML), which also keeps a hostile list column inert.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

#: ``{{ column }}``: any characters but braces, trimmed (columns may hold spaces or CJK).
PLACEHOLDER = re.compile(r"\{\{\s*([^{}]{1,64}?)\s*\}\}")


def missing_mark(name: str) -> str:
    """How a placeholder without a value is shown."""
    return f"[{name}?]"


def render(template: str, values: Mapping[str, object]) -> str:
    """``template`` with each ``{{column}}`` replaced by ``values[column]`` as text."""

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        value = values.get(name)
        if value is None or value == "":
            return missing_mark(name)
        return str(value)

    return PLACEHOLDER.sub(fill, template)


def placeholders(template: str) -> list[str]:
    """The columns a script uses, in order of first use (the admin checks them against a
    list's columns)."""
    return list(dict.fromkeys(m.group(1) for m in PLACEHOLDER.finditer(template)))
