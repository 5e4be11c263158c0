"""The campaign file's ``[strategy]`` and ``[campaign]`` tables checked by type, with the
file, line, table and key in every message (issue 15, red-team 12); see
:mod:`trunkline.schema`. The range checks stay in :class:`Strategy`,
:class:`CampaignConfig` and :class:`RunnerSettings`."""

from __future__ import annotations

import math
from typing import Any

from trunkline.dialer.campaigns.strategies import NEXT_DAY, Strategy
from trunkline.dialer.pacing.campaign import CampaignConfig
from trunkline.dialer.runner.settings import RunnerSettings
from trunkline.schema import ZONE, Expect, check_table, describe
from trunkline.tomlconf import TomlDocument


def _delay(value: Any) -> bool:
    return value == NEXT_DAY or (isinstance(value, int | float) and not isinstance(value, bool)
                                 and math.isfinite(value) and value >= 0)


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
        check_table(doc, doc.data["strategy"], ["strategy"], Strategy, extra=STRATEGY_KEYS)
    if "campaign" in doc.data:
        check_table(doc, doc.data["campaign"], ["campaign"], CampaignConfig, skip=["name"])
        check_table(doc, doc.data["campaign"], ["campaign"], RunnerSettings)
