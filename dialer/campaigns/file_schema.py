"""The campaign file's ``[strategy]`` and ``[campaign]`` tables checked by type, with the
file, line, table and key in every message (issue 15, red-team 12); see
:mod:`trunkline.schema`. Numbers of the right type are then checked against their
bounds (:mod:`trunkline.dialer.campaigns.bounds`, the one table every entry point
uses) in the same shape; rules between settings stay in :class:`Strategy`,
:class:`CampaignConfig` and :class:`RunnerSettings`."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from trunkline.dialer.campaigns.bounds import CAMPAIGN, DESK, RETRY_DELAY, STRATEGY, Bound
from trunkline.dialer.campaigns.strategies import NEXT_DAY, Strategy
from trunkline.dialer.pacing.campaign import CampaignConfig
from trunkline.dialer.runner.settings import RunnerSettings
from trunkline.schema import ZONE, Expect, check_table, describe
from trunkline.tomlconf import TomlDocument


def _delay(value: Any) -> bool:
    return value == NEXT_DAY or (isinstance(value, int | float) and not isinstance(value, bool)
                                 and math.isfinite(value) and value >= 0)


def check_ranges(doc: TomlDocument, table: Any, path: list[str],
                 bounds: Mapping[str, Bound]) -> None:
    """Refuse a number of the right type outside its bound (:mod:`.bounds`), in the
    same shape as a wrong type: ``FILE:LINE: [strategy] max_attempts: expected a whole
    number in [1, 100], got the number 1000000000``. Run after the type check, so a
    string or ``inf`` is still "expected a finite number"."""
    if not isinstance(table, Mapping):
        return
    label = "[" + ".".join(path) + "]"
    for key, value in table.items():
        bound = bounds.get(key)
        if bound is not None and bound.is_number(value) and not bound.admits(value):
            raise doc.error(f"{label} {key}: expected {bound.expected}, got "
                            f"{describe(value)}", [*path, key])


STRATEGY_KEYS = {
    "time_zone": ZONE,
    "retries": Expect(f"a table of outcome = seconds >= 0 or {NEXT_DAY!r}",
                      lambda v: isinstance(v, dict) and all(_delay(d) for d in v.values())),
}


def check_campaign_file(doc: TomlDocument) -> None:
    """Refuse a wrong type anywhere in the file's ``[strategy]`` and ``[campaign]``
    tables: ``FILE:LINE: [strategy] max_attempts: expected a whole number, got the
    string '5'``."""
    for table in ("strategy", "campaign"):
        if table in doc.data and not isinstance(doc.data[table], dict):
            raise doc.error(f"[{table}]: expected a table, got {describe(doc.data[table])}",
                            [table])
    if "strategy" in doc.data:
        retries = doc.data["strategy"].get("retries")
        if isinstance(retries, dict):
            # Entry by entry, so the message names the outcome and its line rather than
            # "retries: ... got a table" for one bad delay among seven.
            for outcome, delay in retries.items():
                if not _delay(delay):
                    raise doc.error(f"[strategy] retries.{outcome}: expected seconds >= 0 "
                                    f"or {NEXT_DAY!r}, got {describe(delay)}",
                                    ["strategy", "retries", outcome])
                if delay != NEXT_DAY and not RETRY_DELAY.admits(delay):
                    raise doc.error(f"[strategy] retries.{outcome}: expected seconds in "
                                    f"{RETRY_DELAY.interval} or {NEXT_DAY!r}, got "
                                    f"{describe(delay)}", ["strategy", "retries", outcome])
        check_table(doc, doc.data["strategy"], ["strategy"], Strategy, extra=STRATEGY_KEYS)
        check_ranges(doc, doc.data["strategy"], ["strategy"], STRATEGY)
    if "campaign" in doc.data:
        check_table(doc, doc.data["campaign"], ["campaign"], CampaignConfig, skip=["name"])
        check_table(doc, doc.data["campaign"], ["campaign"], RunnerSettings)
        check_ranges(doc, doc.data["campaign"], ["campaign"], CAMPAIGN)
    desk = doc.data.get("desk")
    if isinstance(desk, Mapping):
        check_ranges(doc, desk, ["desk"], DESK)
