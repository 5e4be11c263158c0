"""What the real dahdi-tools print, read into trunkline's model.

Why: an installer trusts ``dahdi_scan``, ``dahdi_test`` and ``dahdi_cfg``; trunkline's
own scan, timing test and system.conf reader must say the same things, and tests check
that they do (tests/dahdi/test_dahdi_tools.py, with the tools run against the simulated
kernel by ``trunkline dahdi-sim``). The formats are dahdi-tools 3.1.0's (Debian
bookworm's ``dahdi`` package): ``dahdi_scan.c`` prints one ``[N]`` block of ``key=value``
lines per span; ``dahdi_test.c`` prints each pass's accuracy as ``%.3f%%`` (and with
``-v`` a line ``N samples in X system clock sample intervals (P%)``); ``dahdi_cfg.c``'s
``error()`` prefixes a configuration error with ``line N: ``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from trunkline.drivers.commissioning.checks import TimingResult

__all__ = ["ScanSpan", "cfg_errors", "parse_dahdi_scan", "parse_dahdi_test"]


@dataclass
class ScanSpan:
    """One ``[N]`` block of ``dahdi_scan``; ``ports`` are an analog span's
    ``port=CHANNEL,KIND`` lines (KIND as dahdi_scan names the module: FXO or FXS)."""

    number: int
    values: dict[str, str] = field(default_factory=dict)
    ports: list[tuple[int, str]] = field(default_factory=list)

    @property
    def alarms(self) -> str:
        return self.values.get("alarms", "")

    @property
    def digital(self) -> bool:
        return self.values.get("type", "").startswith("digital-")


_SPAN = re.compile(r"^\[(\d+)\]$")


def parse_dahdi_scan(text: str) -> list[ScanSpan]:
    """``dahdi_scan``'s output, span by span (a line outside a block is an error)."""
    spans: list[ScanSpan] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        head = _SPAN.match(line)
        if head:
            spans.append(ScanSpan(int(head.group(1))))
            continue
        key, sep, value = line.partition("=")
        if not spans or not sep:
            raise ValueError(f"dahdi_scan output line {number} is not key=value in a "
                             f"[span] block: {raw!r}")
        if key == "port":
            channel, _, kind = value.partition(",")
            spans[-1].ports.append((int(channel), kind))
        else:
            spans[-1].values[key] = value
    return spans


_PASS = re.compile(r"(?<![\d.])(\d+\.\d{3})%(?=\s|$)")
_VERBOSE = re.compile(r"^\d+ samples in [\d.]+ system clock sample intervals "
                      r"\((\d+\.\d+)%\)$", re.M)


def parse_dahdi_test(text: str) -> TimingResult:
    """The passes ``dahdi_test`` printed, as trunkline's timing result (the summary after
    ``--- Results`` is left out: it restates the passes)."""
    body = text.split("--- Results", 1)[0]
    verbose = _VERBOSE.findall(body)
    found = verbose if verbose else _PASS.findall(body)
    return TimingResult(passes=[float(p) for p in found])


_CFG_ERROR = re.compile(r"^line (\d+): (.*)$", re.M)


def cfg_errors(stderr: str) -> list[tuple[int, str]]:
    """The ``line N: message`` errors of ``dahdi_cfg`` (its parser's, by line)."""
    return [(int(n), message.strip()) for n, message in _CFG_ERROR.findall(stderr)]
