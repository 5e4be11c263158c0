"""Numbers written as installers write them: ``1-15,17-31`` (DAHDI's system.conf
channel lists, timeslots, SS7 circuit codes)."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["format_ranges"]


def format_ranges(channels: Iterable[int]) -> str:
    """Channel numbers as ``"1-15,17-31"``."""
    numbers = sorted(set(channels))
    parts: list[str] = []
    i = 0
    while i < len(numbers):
        j = i
        while j + 1 < len(numbers) and numbers[j + 1] == numbers[j] + 1:
            j += 1
        parts.append(str(numbers[i]) if i == j else f"{numbers[i]}-{numbers[j]}")
        i = j + 1
    return ",".join(parts)
