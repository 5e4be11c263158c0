"""Call-progress tones of a zone, told apart by frequency *and cadence*.

In China dial, ringback, busy, congestion, call waiting and the info tone are all
450 Hz (detection-anchors.md section 4): only the cadence separates them, so this
module matches the on/off pattern of every zone tone against what was heard.

Two stages:

1. :class:`ZoneToneModel` labels each 20 ms block (vectorised across channels): which
   of the zone's frequency *sets* (450; 350+440; 480+620; ...) holds >= 60 % of the
   block's energy (Asterisk asks for 10 dB above the rest, spandsp super_tone_rx for
   the top two bins >= -3 dB of the total), or "quiet", or "other sound".
2. :class:`CadenceMatcher` (pure Python, called only when a channel's label changes or
   a deadline passes) keeps the last segments and asks, for each zone tone, whether
   the latest segments fit its cadence at some phase, within +-12 % + 40 ms (the 20 ms
   block and the 2-block debounce; Asterisk's busy detector allows 10 %, Dialogic's
   SIT windows about 15 %). A tone is declared when it is supported by more complete
   segments than any rival; a continuous tone when its on-time exceeds every cadenced
   rival's longest on-segment. Busy and congestion, which end a call attempt, need two
   whole on/off cycles that fit (:data:`CONFIRM_CYCLES`): one quiet gap inside
   ringback, cut short by a fax's calling tone (CNG, 1100 Hz 0.5 s every 3 s), is one
   on/off pair of about the right lengths and must never make a busy. In ``cn`` busy
   (350/350) is thus declared after 1.4 s, congestion (700/700) after 2.8 s.

Ringback is reported as a tone and never treated as an answer (DESIGN.md).
"""

from __future__ import annotations

import functools
from bisect import bisect_left
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from trunkline.drivers.dsp.zones import Tone, Zone

#: Zone tones the detector recognises by cadence, in priority order for ties.
PROGRESS_TONES = ("dial", "ringback", "busy", "congestion", "callwaiting", "record", "info")
#: Duration tolerance of one cadence element: relative, plus absolute (block + debounce).
REL_TOL = 0.12
ABS_TOL_MS = 40.0
#: Set share of block energy for "tone on" (see module docstring) and the level gate.
SET_SHARE = 0.60
MIN_LEVEL = 10 ** (-42 / 10)    # spandsp super_tone_rx gates at -42 dBm0
QUIET_LEVEL = 10 ** (-45 / 10)  # below this a block counts as the silent part of a cadence
#: A continuous tone (dial) must last this long before it is declared.
CONTINUOUS_MIN_MS = 300.0
#: Two tones fitting the same segments are told apart by mean relative duration error.
ERR_MARGIN = 0.08
#: Whole cadence cycles (every element complete) a verdict needs, for the tones that
#: end a call attempt (issue 15, item 2); others need one complete segment.
CONFIRM_CYCLES = {"busy": 2, "congestion": 2}
QUIET = -1
OTHER = -2
_QUIET16, _OTHER16 = np.int16(QUIET), np.int16(OTHER)


@dataclass(frozen=True, slots=True)
class Element:
    label: int           # frequency-set index, or QUIET
    ms: float | None     # None: for ever

    @property
    def lo(self) -> float:
        return 0.0 if self.ms is None else self.ms * (1 - REL_TOL) - ABS_TOL_MS

    @property
    def hi(self) -> float:
        return float("inf") if self.ms is None else self.ms * (1 + REL_TOL) + ABS_TOL_MS


@dataclass(frozen=True)
class Pattern:
    name: str
    elements: tuple[Element, ...]

    @property
    def continuous(self) -> bool:
        return len(self.elements) == 1 and self.elements[0].ms is None


def _components(tone: Tone) -> list[tuple[tuple[float, ...], int | None]]:
    out = []
    for seg in tone.cycle:
        freqs: tuple[float, ...] = ()
        if seg.freqs:
            if seg.modulated and len(seg.freqs) == 2:
                # An AM tone ("400*25") is known by its carrier: its sidebands hold
                # < 30 % of the power at DAHDI's 90 % depth and lie inside the bin.
                freqs = (seg.freqs[0],)
            else:
                freqs = tuple(sorted(f for f in seg.freqs if f >= 100))
        out.append((freqs, seg.duration_ms))
    return out


def _set_index(sets: list[tuple[float, ...]], freqs: tuple[float, ...]) -> int:
    """Index of ``freqs`` in ``sets``, adding it; sets within 10 Hz count as one (au
    writes its dial tone 415+440 and its ringback 413+438)."""
    for i, s in enumerate(sets):
        if len(s) == len(freqs) and all(abs(a - b) <= 10 for a, b in zip(s, freqs, strict=True)):
            return i
    sets.append(freqs)
    return len(sets) - 1


def _minimal_period(elements: list[Element]) -> list[Element]:
    """``[a, b, a, b]`` -> ``[a, b]``: a cycle written twice is the same cadence."""
    n = len(elements)
    for p in range(1, n):
        if n % p == 0 and elements == elements[:p] * (n // p):
            return elements[:p]
    return elements


class ZoneToneModel:
    """The zone's progress tones as frequency sets and cadence patterns (precomputed)."""

    def __init__(self, zone: Zone) -> None:
        self.zone = zone.zone
        sets: list[tuple[float, ...]] = []
        patterns: list[Pattern] = []
        seen: set[str] = set()
        for name in PROGRESS_TONES:
            tone = zone.tones.get(name)
            if tone is None or tone.text in seen:
                continue
            comps = _components(tone)
            if all(not f for f, _ in comps):
                continue  # a once-only prefix then silence: an SIT, left to the SIT detector
            if len({f for f, _ in comps if f}) > 1 and name == "info":
                continue  # multi-frequency info tones are SITs (E.180): the SIT detector
            seen.add(tone.text)
            elements: list[Element] = []
            for freqs, ms in comps:
                label = _set_index(sets, freqs) if freqs else QUIET
                if elements and elements[-1].label == label and ms is not None \
                        and elements[-1].ms is not None:
                    elements[-1] = Element(label, elements[-1].ms + ms)
                else:
                    elements.append(Element(label, ms))
            if len(elements) > 1 and elements[0].label == elements[-1].label:
                first = elements.pop(0)  # merge a cycle that wraps on the same label
                if first.ms is not None and elements[-1].ms is not None:
                    elements[-1] = Element(first.label, first.ms + elements[-1].ms)
            elements = _minimal_period(elements)
            if any(p.elements == tuple(elements) for p in patterns):
                continue  # the same cadence as a tone already listed (au busy/congestion)
            patterns.append(Pattern(name, tuple(elements)))
        self.sets = sets
        self.patterns = patterns
        # Components below 100 Hz ("400+15" in jp: a 15 Hz ringing modulation written
        # as a sum) carry power but no pitch: measured, then left out of the energy.
        low = sorted({f for name in PROGRESS_TONES if name in zone.tones
                      for seg in zone.tones[name].cycle for f in seg.freqs
                      if 0 < f < 100 and not seg.modulated})
        self.ignored = tuple(low)
        self.freqs = tuple(sorted({f for s in sets for f in s})) + self.ignored
        self._n_ignored = len(self.ignored)
        inc = np.zeros((len(self.freqs) - len(self.ignored), max(len(sets), 1)), np.float32)
        for j, s in enumerate(sets):
            for f in s:
                inc[self.freqs.index(f), j] = 1.0
        self._incidence = inc
        #: Every set one tone of its own, in the order of the frequencies (cn, de, fr,
        #: jp): the product with the incidence matrix is the powers themselves.
        self._one_tone_sets = inc.shape[0] == inc.shape[1] and np.array_equal(
            inc, np.eye(inc.shape[0], dtype=inc.dtype))
        self._penalty = np.array([0.06 * len(s) for s in sets] or [0.0], np.float32)

    def label_blocks(self, power: np.ndarray, energy: np.ndarray) -> np.ndarray:
        """Label (k,) blocks from bin powers (k, bins) and block energies (k,)."""
        best, on, energy = self._tone_sets(power, energy)
        quiet = np.where(energy < QUIET_LEVEL, QUIET, OTHER)
        return (quiet if on is None else np.where(on, best, quiet)).astype(np.int16)

    def label_blocks_after_tone(self, power: np.ndarray, energy: np.ndarray,
                                tone_ref: np.ndarray,
                                off_share: float) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`label_blocks`, with other sound under ``off_share`` of the level of the
        channel's last tone block (``tone_ref``, (k,)) labelled quiet, and the tone
        levels updated: line noise under a tone's level is still the silent half of a
        cadence. Returns (labels, tone levels); the same labels as label_blocks then
        that rule, in fewer numpy calls (the detector's tick, issue 15 item 6)."""
        best, on, quiet_energy = self._tone_sets(power, energy)
        ref = tone_ref if on is None else np.where(on, energy, tone_ref)
        if quiet_energy is energy and ref.dtype == energy.dtype:
            # Under either level is under the larger (fmax: a NaN tone level leaves
            # QUIET_LEVEL, as the two comparisons would; one dtype, so QUIET_LEVEL is
            # rounded alike in both forms).
            is_quiet = energy < np.fmax(ref * off_share, QUIET_LEVEL)
        else:
            is_quiet = (quiet_energy < QUIET_LEVEL) | (energy < ref * off_share)
        labels = np.where(is_quiet, _QUIET16, _OTHER16)
        if on is not None:
            np.copyto(labels, best, casting="unsafe", where=on)
        return labels, ref

    def _tone_sets(self, power: np.ndarray,
                   energy: np.ndarray) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
        """Each block's best tone set, whether it is on (None: the zone has none), and the
        energy the quiet test reads (less the sub-100 Hz components)."""
        if not self.sets:
            return energy, None, energy
        if self._n_ignored:
            # Neighbouring sub-100 Hz bins see the same component: subtract the largest.
            energy = np.maximum(energy - np.maximum.reduce(power[:, -self._n_ignored:], axis=1),
                                0.0)
            power = power[:, : -self._n_ignored]
        tone_power = power if self._one_tone_sets else power @ self._incidence
        share = tone_power / np.maximum(energy, 1e-12)[:, None]
        score = np.minimum(share, 1.0) - self._penalty
        best = score.argmax(axis=1)
        # share[i, best[i]] by flat index: take_along_axis's index grids cost more
        # than the gather at the few channels of a small card's tick.
        best_share = share.reshape(-1)[_row_starts(share.shape) + best]
        on = (best_share >= SET_SHARE) & (energy >= MIN_LEVEL)
        return best, on, energy


@functools.lru_cache(maxsize=64)
def _row_starts(shape: tuple[int, int]) -> np.ndarray:
    """Flat index of each row's first element: the same few shapes come back every tick."""
    starts = np.arange(0, shape[0] * shape[1], shape[1])
    starts.flags.writeable = False
    return starts


@dataclass
class Segment:
    label: int
    start: int      # samples
    ms: float
    truncated: bool = False


@dataclass
class ProgressChannel:
    """Per-channel cadence history (Python; touched only on label changes)."""

    history: deque[Segment] = field(default_factory=lambda: deque(maxlen=12))
    reported: str | None = None
    #: Complete segments seen to support the reported tone (0 or 1: it was decided on a
    #: single, possibly truncated, segment, such as a dial-tone fragment).
    support: int = 0


class CadenceMatcher:
    """Decides which zone tone the recent segments are (pure, sans-IO).

    Called only when a channel's segment changes or a deadline passes; the work is a
    backward walk over at most ``2 * len(pattern) + 1`` segments per tone and phase.
    """

    def __init__(self, model: ZoneToneModel) -> None:
        self.model = model
        # Per pattern: (name, continuous, ((label, lo, hi), ...)).
        self._pats = [(p.name, p.continuous, tuple((e.label, e.lo, e.hi) for e in p.elements))
                      for p in model.patterns]
        self._by_name = {p[0]: p for p in self._pats}
        self._labels = {e.label for p in model.patterns for e in p.elements}
        # Upper bounds of every element, per label, sorted: the next deadline is a bisect.
        bounds: dict[int, set[float]] = {}
        for p in model.patterns:
            for e in p.elements:
                if e.hi != float("inf"):
                    bounds.setdefault(e.label, set()).add(e.hi)
        self._bounds = {k: sorted(v) for k, v in bounds.items()}

    @staticmethod
    def _support(els, segs, open_seg: Segment) -> tuple[int, float]:
        """(complete segments ending at the open one that fit ``els``, their mean error).

        Count -1 when even the open segment fits nowhere. Truncated segments (cut by the
        start of detection) may be shorter than the element but are not evidence. The
        error (relative duration mismatch) separates tones whose windows overlap, such as
        a 300/300 busy and a 200/300 congestion.
        """
        return CadenceMatcher._walk(els, segs, open_seg)[:2]

    @staticmethod
    def _walk(els, segs, open_seg: Segment) -> tuple[int, float, int]:
        """(count, mean error, phase of the open segment) of the best alignment."""
        n = len(els)
        best = (-1, 0.0, -1)
        for p in range(n):
            label, _lo, hi = els[p]
            if open_seg.label != label or open_seg.ms > hi:
                continue
            count = 0
            err = 0.0
            for k in range(1, len(segs) + 1):
                seg = segs[-k]
                label, lo, hi = els[(p - k) % n]
                if seg.label != label or seg.ms > hi:
                    break
                if not seg.truncated:
                    if seg.ms < lo:
                        break
                    count += 1
                    nominal = (lo + hi) / 2
                    err += abs(seg.ms - nominal) / nominal
            mean = err / count if count else 0.0
            if count > best[0] or (count == best[0] and mean < best[1]):
                best = (count, mean, p)
        return best

    def support_of(self, name: str, segs, open_seg: Segment) -> int:
        """Complete segments (ending at the open one) that fit tone ``name``."""
        return self._walk(self._by_name[name][2], segs, open_seg)[0]

    def phase_of(self, name: str, segs, open_seg: Segment) -> int:
        """Element of tone ``name`` the open segment is at (-1 if it does not fit)."""
        return self._walk(self._by_name[name][2], segs, open_seg)[2]

    def support(self, pattern: Pattern, segs: list[Segment], open_seg: Segment) -> int:
        return self._support(self._by_name[pattern.name][2], segs, open_seg)[0]

    def decide(self, ch: ProgressChannel, open_seg: Segment) -> tuple[str, int] | None:
        """The tone now recognised (name, onset sample), or None."""
        if open_seg.label not in self._labels:
            return None
        segs = ch.history
        if open_seg.label < 0 and (not segs or segs[-1].label < 0):
            return None
        if ch.reported is not None:
            name, continuous, els = self._by_name[ch.reported]
            s, _ = self._support(els, segs, open_seg)
            if s >= 1 or (continuous and s >= 0):
                ch.support = max(ch.support, s)
                return name, open_seg.start  # still the same tone: nothing new
        scores = []
        for name, continuous, els in self._pats:
            s, err = self._support(els, segs, open_seg)
            if s >= 0:
                scores.append((s, err, name, continuous, len(els)))
        if not scores:
            return None
        if len(scores) == 1 and scores[0][3]:
            if open_seg.label >= 0 and open_seg.ms >= CONTINUOUS_MIN_MS:
                return scores[0][2], open_seg.start
            return None
        scores.sort(key=lambda sc: (-sc[0], sc[1]))
        top, err, name, _, n = scores[0]
        if top < 1:
            return None
        if len(scores) > 1 and scores[1][0] == top and scores[1][1] - err < ERR_MARGIN:
            return None  # two tones fit equally well: wait for a segment that tells
        if top < CONFIRM_CYCLES.get(name, 0) * n:
            return None  # busy or congestion: two whole cycles first
        if ch.reported is not None and name != ch.reported and top < max(2, n + 1) \
                and ch.support >= 2:
            # Replacing a confirmed tone needs more than a cycle of the new one; a tone
            # decided on a single segment (a dial-tone fragment before the digits) gives
            # way as soon as the new tone is unambiguous.
            return None
        onset = segs[-top].start if top <= len(segs) else open_seg.start
        return name, onset

    def next_deadline_ms(self, open_seg: Segment) -> float:
        """When the open segment's candidates may next change (its elements' upper bounds)."""
        bounds = self._bounds.get(open_seg.label, ())
        i = bisect_left(bounds, open_seg.ms)
        best = bounds[i] if i < len(bounds) else float("inf")
        if open_seg.label >= 0 and open_seg.ms < CONTINUOUS_MIN_MS:
            best = min(best, CONTINUOUS_MIN_MS)
        return best + 1.0
