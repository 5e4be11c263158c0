"""A campaign's QA form (质检表) and the score of one call against it.

A form is a list of items, each with a maximum score and a weight; a reviewer gives each
item a whole or half number of points from 0 to its maximum. The call's score is the
weighted share of the points, 0 to 100::

    score = 100 * sum(weight_i * given_i / max_i) / sum(weight_i)

An item marked ``critical`` (the agent read no compliance statement, was abusive) fails
the whole call: given 0, the call scores 0 whatever the rest. ``pass_score`` is where a
call passes (reported as the pass rate). Forms come from the campaign's TOML (a ``[qa]``
table beside ``[desk]``) or the API, both through :meth:`QaForm.from_dict`, so both are
checked the same way, and every error names the item and the key.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,39}$")
_ITEM_KEYS = {"id", "label", "max", "weight", "critical", "help"}
_FORM_KEYS = {"item", "pass_score", "title"}
#: Most items a form may have (a form longer than this is a questionnaire, not QA).
MAX_ITEMS = 60


@dataclass(frozen=True, slots=True)
class QaItem:
    """One line of the form."""

    id: str
    label: str
    max: float
    weight: float = 1.0
    critical: bool = False
    help: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "label": self.label, "max": self.max, "weight": self.weight,
                "critical": self.critical, "help": self.help}


@dataclass(frozen=True, slots=True)
class QaForm:
    """A campaign's QA form; build it with :meth:`from_dict` (validated)."""

    items: tuple[QaItem, ...]
    pass_score: float = 80.0
    title: str = ""

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> QaForm:
        """The form of a ``[qa]`` table (``[[qa.item]]`` entries) or an API body.

        Raises ValueError naming the item and key that are wrong."""
        if not isinstance(data, Mapping):
            raise ValueError("[qa] must be a table")
        unknown = sorted(set(data) - _FORM_KEYS)
        if unknown:
            raise ValueError(f"[qa]: unknown keys {', '.join(unknown)}; known: "
                             f"{', '.join(sorted(_FORM_KEYS))}")
        raw_items = data.get("item", [])
        if not isinstance(raw_items, list) or not raw_items:
            raise ValueError("[qa]: give at least one [[qa.item]]")
        if len(raw_items) > MAX_ITEMS:
            raise ValueError(f"[qa]: {len(raw_items)} items; at most {MAX_ITEMS}")
        items: list[QaItem] = []
        seen: set[str] = set()
        for n, raw in enumerate(raw_items, 1):
            item = _item(n, raw)
            if item.id in seen:
                raise ValueError(f"[[qa.item]] {n}: id {item.id!r} is used twice")
            seen.add(item.id)
            items.append(item)
        pass_score = _number(data.get("pass_score", 80.0), "[qa] pass_score")
        if not 0 <= pass_score <= 100:
            raise ValueError(f"[qa] pass_score must be 0 to 100, not {pass_score!r}")
        title = data.get("title", "")
        if not isinstance(title, str) or len(title) > 200:
            raise ValueError("[qa] title must be text of at most 200 characters")
        return cls(tuple(items), float(pass_score), title)

    def to_dict(self) -> dict[str, Any]:
        return {"title": self.title, "pass_score": self.pass_score,
                "item": [i.to_dict() for i in self.items]}

    def score(self, given: Mapping[str, Any]) -> float:
        """The call's score (0-100, two decimals) for points ``given`` per item id.

        Every item must be given, none unknown; points are 0 to the item's maximum in
        steps of 0.5. Raises ValueError naming the item."""
        if not isinstance(given, Mapping):
            raise ValueError("items must be an object of item id to points")
        known = {i.id for i in self.items}
        unknown = sorted(set(given) - known)
        if unknown:
            raise ValueError(f"unknown QA items {', '.join(unknown)}; the form has "
                             f"{', '.join(sorted(known))}")
        missing = [i.id for i in self.items if i.id not in given]
        if missing:
            raise ValueError(f"score every item: missing {', '.join(missing)}")
        total = weights = 0.0
        failed = False
        for item in self.items:
            points = _number(given[item.id], f"item {item.id!r}")
            if not 0 <= points <= item.max:
                raise ValueError(f"item {item.id!r}: {points!r} points; give 0 to "
                                 f"{item.max:g}")
            if points * 2 != math.floor(points * 2):
                raise ValueError(f"item {item.id!r}: points go in steps of 0.5, not "
                                 f"{points!r}")
            if item.critical and points == 0:
                failed = True
            total += item.weight * points / item.max
            weights += item.weight
        return 0.0 if failed else round(100.0 * total / weights, 2)


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) \
            or not math.isfinite(value):
        raise ValueError(f"{what} must be a number, not {value!r}")
    return float(value)


def _item(n: int, raw: Any) -> QaItem:
    where = f"[[qa.item]] {n}"
    if not isinstance(raw, Mapping):
        raise ValueError(f"{where} must be a table")
    unknown = sorted(set(raw) - _ITEM_KEYS)
    if unknown:
        raise ValueError(f"{where}: unknown keys {', '.join(unknown)}; known: "
                         f"{', '.join(sorted(_ITEM_KEYS))}")
    ident = raw.get("id")
    if not isinstance(ident, str) or not _ID.match(ident):
        raise ValueError(f"{where}: id must be 1-40 of a-z, 0-9, _ . - (starting with a "
                         f"letter or digit), not {ident!r}")
    where = f"[[qa.item]] {ident!r}"
    label = raw.get("label", ident)
    if not isinstance(label, str) or not label.strip() or len(label) > 200:
        raise ValueError(f"{where}: label must be text of 1 to 200 characters")
    top = _number(raw.get("max"), f"{where} max")
    if not 0 < top <= 100:
        raise ValueError(f"{where}: max must be above 0 and at most 100, not {top!r}")
    weight = _number(raw.get("weight", 1.0), f"{where} weight")
    if not 0 < weight <= 100:
        raise ValueError(f"{where}: weight must be above 0 and at most 100, not {weight!r}")
    critical = raw.get("critical", False)
    if not isinstance(critical, bool):
        raise ValueError(f"{where}: critical must be true or false")
    text = raw.get("help", "")
    if not isinstance(text, str) or len(text) > 1000:
        raise ValueError(f"{where}: help must be text of at most 1000 characters")
    return QaItem(ident, label.strip(), top, weight, critical, text)
