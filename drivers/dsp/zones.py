"""Tone zones: each country's call-progress tones, read from firmware-profiles/zones/.

The data files are generated from libtonezone (see ``zones/generate.py``); this module
parses them into :class:`Zone` objects whose tones are lists of :class:`ToneSegment`,
the form both the tone generator and the cadence detector use.

Tone string grammar (dahdi-tools zonedata.c, shared with Asterisk indications.conf)::

    tone     = segment ("," segment)*
    segment  = ["!"] freqs ["/" milliseconds]
    freqs    = freq | freq "+" freq | freq "*" freq

``!`` plays a segment once (the rest repeats from the first segment without ``!``),
``+`` sums two frequencies, ``f1*f2`` modulates ``f1`` by ``f2`` (90 % depth, as DAHDI
does), a frequency of 0 is silence and a segment without a duration lasts for ever.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

from trunkline.errors import ConfigError

_SEGMENT = re.compile(
    r"^(?P<once>!)?(?P<f1>\d+(?:\.\d+)?)@?"
    r"(?P<more>(?:[+*]\d+(?:\.\d+)?)*)(?:/(?P<ms>\d+))?$"
)
# Quirks of libtonezone's own table, accepted as written there: a missing comma before
# "!" (several zones), "+" with three frequencies (a stutter tone), and "425@" in
# Australia's congestion, a marker libtonezone's parser does not read either; we read it
# as the plain frequency, which keeps the 375/375 ms cadence; and zero-length steps.
_SPLIT = re.compile(r",|(?=!)")

#: The tone names a zone file may define (DAHDI_TONE_* in dahdi/user.h).
TONE_NAMES = (
    "dial", "busy", "ringback", "congestion", "callwaiting", "dialrecall",
    "record", "info", "custom1", "custom2", "stutter",
)


@dataclass(frozen=True, slots=True)
class ToneSegment:
    """One step of a tone: frequencies for a duration (``None``: for ever)."""

    freqs: tuple[float, ...]
    duration_ms: int | None
    modulated: bool = False
    once: bool = False

    def __post_init__(self) -> None:
        if any(f < 0 or f > 4000 for f in self.freqs):
            raise ValueError(f"tone frequency out of 0..4000 Hz: {self.freqs}")
        if self.duration_ms is not None and self.duration_ms <= 0:
            raise ValueError(f"tone segment duration must be > 0 ms: {self.duration_ms}")

    @property
    def silent(self) -> bool:
        return not self.freqs


@dataclass(frozen=True, slots=True)
class Tone:
    """A named tone: its segments, split into a once-only prefix and a repeating cycle."""

    name: str
    text: str
    prefix: tuple[ToneSegment, ...]
    cycle: tuple[ToneSegment, ...]

    @property
    def continuous(self) -> bool:
        """True for a steady tone (one segment with no duration)."""
        return len(self.cycle) == 1 and self.cycle[0].duration_ms is None

    @property
    def frequencies(self) -> tuple[float, ...]:
        """Every frequency the tone uses, sorted."""
        return tuple(sorted({f for s in (*self.prefix, *self.cycle) for f in s.freqs}))

    @property
    def cadence_ms(self) -> tuple[tuple[bool, int], ...]:
        """The repeating cycle as (tone on?, milliseconds) pairs, merging equal neighbours."""
        out: list[tuple[bool, int]] = []
        for seg in self.cycle:
            on = not seg.silent
            ms = seg.duration_ms or 0
            if out and out[-1][0] == on:
                out[-1] = (on, out[-1][1] + ms)
            else:
                out.append((on, ms))
        return tuple(out)


def parse_tone(name: str, text: str) -> Tone:
    """Parse a zonedata tone string; a malformed one raises :class:`ValueError`."""
    if not text.strip():
        raise ValueError(f"tone {name!r}: malformed segment: the tone string is empty")
    prefix: list[ToneSegment] = []
    cycle: list[ToneSegment] = []
    for raw in filter(None, _SPLIT.split(text)):
        m = _SEGMENT.match(raw.strip())
        if not m:
            raise ValueError(f"tone {name!r}: malformed segment {raw!r} in {text!r}")
        more = m["more"]
        values = [float(m["f1"]), *(float(f) for f in re.findall(r"[\d.]+", more))]
        if m["ms"] is not None and int(m["ms"]) == 0:
            continue  # a zero-length step ("950/0" in Estonia's info tone) plays nothing
        seg = ToneSegment(
            # A frequency above 4 kHz cannot cross an 8 kHz channel ("10000/400" in two
            # zones' call-waiting tones is a typo in zonedata.c): it plays as silence.
            freqs=tuple(f for f in values if 0 < f <= 4000),
            duration_ms=int(m["ms"]) if m["ms"] else None,
            modulated=more.startswith("*"),
            once=bool(m["once"]),
        )
        if seg.once and not cycle:
            prefix.append(seg)
        else:
            cycle.append(seg)
    if not cycle:
        # All segments play once: the tone then stays silent, as DAHDI does.
        cycle.append(ToneSegment((), None))
    return Tone(name, text, tuple(prefix), tuple(cycle))


@dataclass(frozen=True)
class Zone:
    """A country's tones and DTMF/MF levels."""

    zone: str
    description: str
    ring_cadence_ms: tuple[int, ...]
    tones: dict[str, Tone] = field(repr=False)
    dtmf_low_level: float = -10.0
    dtmf_high_level: float = -10.0

    def tone(self, name: str) -> Tone:
        try:
            return self.tones[name]
        except KeyError:
            raise KeyError(
                f"zone {self.zone!r} has no {name!r} tone; it has: {', '.join(self.tones)}"
            ) from None


def _zone_dir():
    return resources.files("trunkline.profiles") / "zones"


@cache
def zone_names() -> tuple[str, ...]:
    """Every zone shipped, ``cn`` first."""
    index = tomllib.loads((_zone_dir() / "index.toml").read_text(encoding="utf-8"))
    return tuple(index["zones"])


@cache
def load_zone(name: str) -> Zone:
    """The zone called ``name`` (e.g. ``"cn"``); an unknown name is a ConfigError."""
    if name not in zone_names():
        raise ConfigError(
            f"unknown tone zone {name!r}; known zones: {', '.join(zone_names())}", key="zone"
        )
    data = tomllib.loads((_zone_dir() / f"{name}.toml").read_text(encoding="utf-8"))
    tones = {key: parse_tone(key, text) for key, text in data["tones"].items()}
    return Zone(
        zone=data["zone"],
        description=data["description"],
        ring_cadence_ms=tuple(data["ring_cadence"]),
        tones=tones,
        dtmf_low_level=float(data["dtmf_low_level"]),
        dtmf_high_level=float(data["dtmf_high_level"]),
    )
