"""What the commissioning commands share: opening the card, printing verdicts.

Every command prints findings (PASS / WARN / FAIL with the likely cause) and exits 1 when
any verdict is FAIL, so scripts can use it; :func:`report` is that contract.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

__all__ = ["alarm_text", "make_finding", "open_card", "report", "zone_of"]


def open_card(args: argparse.Namespace):
    """The card the ``--card`` options name; virtual time unless ``--realtime``."""
    from trunkline.drivers.cli import open_card_from_args

    return open_card_from_args(args, virtual=not getattr(args, "realtime", False))


def report(findings: list, as_json: bool = False, extra: dict[str, Any] | None = None) -> int:
    """Print the findings and the overall verdict (or one JSON object with ``extra``);
    return the exit status: 1 when any finding is FAIL."""
    from .checks import worst

    verdict = worst(findings)
    if as_json:
        print(json.dumps({**(extra or {}), "verdict": verdict,
                          "findings": [f.as_dict() for f in findings]}, ensure_ascii=False))
    else:
        for f in findings:
            print(f.line())
        print(f"verdict: {verdict}")
    return 1 if verdict == "FAIL" else 0


def zone_of(card: Any, requested: str | None) -> str:
    """The tone zone asked for, else the card's, else ``cn``."""
    if requested:
        return requested
    return card.tone_zone or "cn"


def make_finding(level: str, subject: str, message: str, cause: str = ""):
    """A :class:`~.checks.Finding`, without importing the checks (and the DSP behind them)
    when ``trunkline`` starts."""
    from .checks import Finding

    return Finding(level, subject, message, cause)


def alarm_text(alarms) -> str:
    """``RED,LOOPBACK``: the names of the alarm flags set, or ``OK``."""
    names = [a.name for a in type(alarms) if a.value and alarms & a]
    return ",".join(n for n in names if n) or "OK"

