"""Argparse types for the numbers options take: seconds, days, hours, rates, speeds.

``type=float`` reads ``nan``, ``inf`` and ``-5``, and no option of ours means any of
them: ``dialer tokens add --days nan`` made a token that never expires (SQLite stores
NaN as NULL), ``dialer watch --interval nan`` or ``-1`` ended in a traceback from
``time.sleep``; ``recordings search --call 99999999999999999999`` an OverflowError from
SQLite. An option takes :func:`non_negative` or :func:`positive` instead, and an id or
a limit :func:`whole` (a test walks every subcommand for a bare ``float``; the options
range-checked by their command against ``dialer/campaigns/bounds.py`` are the
exceptions it lists).
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

#: SQLite's largest integer: a bigger id or limit raised OverflowError deep in a query
SQLITE_MAX = 2**63 - 1


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def non_negative(text: str) -> float:
    """A finite number >= 0 (a hold of 0 s, no wrap-up)."""
    value = _number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}")
    return value


def positive(text: str) -> float:
    """A finite number > 0 (an interval, a timeout, a speed: 0 means nothing useful)."""
    value = _number(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}")
    return value


def whole(low: int = 0, high: int = SQLITE_MAX) -> Callable[[str], int]:
    """A whole number in ``[low, high]`` (an id, a limit, a count)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}"
                                             ) from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"expected a whole number in [{low}, {high}], "
                                             f"got {text}")
        return value

    parse.__name__ = "whole"
    return parse
