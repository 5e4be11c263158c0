"""Special information tones (SIT): the ITU 950/1400/1800 Hz sequence and the NANP codes.

ITU-T E.180/Q.35: 950, 1400, 1800 Hz (+-50 Hz), 330 +- 70 ms each, gaps <= 30 ms.
NANP (Bellcore/Telcordia, GR-1162; detection-anchors.md section 4 for the first four)
encodes the reason in the first two segments: each is low or high in frequency
(913.8 or 985.2 Hz; 1370.6 or 1428.5 Hz, +-0.2 %) and short or long (274 or 380 ms,
+-5 %); the third is always 1776.7 Hz / 380 ms. Eight of the sixteen combinations are
assigned, two per frequency pair:

=======  =====================  ======================  ==================================
code     segment 1              segment 2               meaning
=======  =====================  ======================  ==================================
IC       913.8 Hz / 274 ms      1370.6 Hz / 274 ms      intercept: vacant number, changed
NC'      913.8 Hz / 380 ms      1370.6 Hz / 380 ms      no circuit (inter-LATA carrier)
NC       985.2 Hz / 380 ms      1428.5 Hz / 380 ms      no circuit, emergency, trunk blockage
future   985.2 Hz / 274 ms      1428.5 Hz / 274 ms      reserved for future use
RO       913.8 Hz / 274 ms      1428.5 Hz / 380 ms      reorder (equipment irregularity)
IO       913.8 Hz / 380 ms      1428.5 Hz / 274 ms      ineffective other (reserved)
VC       985.2 Hz / 380 ms      1370.6 Hz / 274 ms      vacant code
RO'      985.2 Hz / 274 ms      1370.6 Hz / 380 ms      reorder (inter-LATA carrier)
=======  =====================  ======================  ==================================

The first four are those of the anchors table; the primed codes, IO and the reserved
code are the rest of the scheme as a central-office recorder/announcer manual (1983,
reproduced in 2600's "Touch-Tone Frequencies" list) tabulates it: SSL/LLL intercept,
LLL/LLL no circuit (inter-LATA carrier), SLL/HLL reorder (inter-LATA carrier), LSS/LHL
and SSL/HHL additional reserved codes (period S/L, frequency L/H per segment). GR-1162
itself was not available to check against; the 1983 table gives IO's third segment as
short, which is accepted here (the third segment's length is not part of the code).

Each segment's frequency is its phase-advance frequency estimate (mean over its frames),
not a separate bin: 913.8 and 985.2 Hz are only 71 Hz apart, less than one bin of a 12 ms
frame. Its duration is measured in its own band's power (runs.py: summed over the
segment and its edges, over the segment's mean), which 10 dB of noise and G.711 leave
within a few ms -- a duration from frame energy over its peak broke at 10-12 dB SNR
(issue 15), and short (274) and long (380) are only 106 ms apart. Other combinations
give ``unknown``.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

#: Centre frequencies of the three SIT bins of the single-tone bank.
SIT_BINS = (950.0, 1400.0, 1800.0)
#: Accepted offset from each bin (ITU +-50 Hz, and zones' 900/1000/1450/1850 Hz variants).
SIT_TOL_HZ = 60.0
SIT_MIN_LEVEL = 10 ** (-40 / 10)   # E.180 sends -24 dBm0; allow 16 dB of loss
#: Segment durations: ITU 330 +- 70 ms; NANP 274/380 ms +- 5 %.
SIT_MIN_MS = 200.0
SIT_MAX_MS = 450.0
SIT_SHORT_LONG_MS = 327.0
#: Largest gap between segments (E.180: <= 30 ms; some zones 24-30 ms) plus a margin.
SIT_MAX_GAP_MS = 60.0

_NANP = {
    ("low", "short", "low", "short"): "IC",
    ("low", "long", "low", "long"): "NC'",
    ("high", "long", "high", "long"): "NC",
    ("high", "short", "high", "short"): "future",
    ("low", "short", "high", "long"): "RO",
    ("low", "long", "high", "short"): "IO",
    ("high", "long", "low", "short"): "VC",
    ("high", "short", "low", "long"): "RO'",
}
#: Every code :func:`classify` returns.
SIT_CODES = frozenset({*_NANP.values(), "ITU", "unknown"})


@dataclass(frozen=True, slots=True)
class SitSegment:
    band: int          # 0, 1, 2 for 950, 1400, 1800
    freq: float
    start: int         # samples
    duration_ms: float


@dataclass
class SitChannel:
    segments: deque[SitSegment] = field(default_factory=lambda: deque(maxlen=3))


def classify(s1: SitSegment, s2: SitSegment, s3: SitSegment) -> str:
    """The SIT code of three segments (assumed to be bands 0, 1, 2 in order)."""
    f1 = "low" if s1.freq < 931.5 else "high" if s1.freq > 967.6 else "itu"
    f2 = "low" if s2.freq < 1385.3 else "high" if s2.freq > 1414.3 else "itu"
    f3 = "nanp" if s3.freq < 1788.4 else "itu"
    if f1 == "itu" and f2 == "itu" and f3 == "itu":
        return "ITU"
    d1 = "short" if s1.duration_ms < SIT_SHORT_LONG_MS else "long"
    d2 = "short" if s2.duration_ms < SIT_SHORT_LONG_MS else "long"
    return _NANP.get((f1, d1, f2, d2), "unknown")


def on_segment(ch: SitChannel, seg: SitSegment) -> tuple[str, SitSegment, SitSegment,
                                                          SitSegment] | None:
    """Feed one finished single-tone segment; returns (code, s1, s2, s3) on a full SIT."""
    if not (SIT_MIN_MS <= seg.duration_ms <= SIT_MAX_MS):
        ch.segments.clear()
        return None
    ch.segments.append(seg)
    if len(ch.segments) < 3:
        return None
    s1, s2, s3 = ch.segments
    if (s1.band, s2.band, s3.band) != (0, 1, 2):
        return None
    for a, b in ((s1, s2), (s2, s3)):
        gap_ms = (b.start - a.start) / 8 - a.duration_ms
        if gap_ms > SIT_MAX_GAP_MS:
            return None
    ch.segments.clear()
    return classify(s1, s2, s3), s1, s2, s3
