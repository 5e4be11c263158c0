"""A small call-progress classifier used until the full detector is wired in.

It measures, per 20 ms frame and per channel, the level and the energy share of a few
frequency bands (the zone's progress-tone frequencies, 1100 and 2100 Hz, the SIT
frequencies, and the speech band), and turns runs of frames into observations:
steady or cadenced zone tones matched against the zone's cadences, SIT, fax/modem tones,
and voice. It is deliberately simple; the multi-channel detector of the [detector] issue
supersedes it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from trunkline.drivers.dsp.zones import Zone
from trunkline.drivers.model import FRAME_SAMPLES, SAMPLE_RATE, TICK_SECONDS

#: Frames quieter than this (mean square, about -54 dBm0) count as silence: well above
#: an idle line's noise after A-law coding, well below speech at -20 dBm0 or so.
SILENCE_POWER = 1000.0
_SIT_FREQS = (913.8, 985.2, 950.0, 1370.6, 1400.0, 1428.5, 1776.7, 1800.0)
_window = np.hanning(FRAME_SAMPLES)
_norm = float(np.sum(_window**2)) * FRAME_SAMPLES / 2


def _basis(freqs: list[float]) -> np.ndarray:
    t = np.arange(FRAME_SAMPLES) / SAMPLE_RATE
    return _window[:, None] * np.exp(-2j * np.pi * t[:, None] * np.array(freqs)[None, :])


@dataclass(frozen=True, slots=True)
class Observation:
    t: float
    kind: str  # "tone", "sit", "voice", "silence"
    name: str = ""


class SimpleProgress:
    """Frame-by-frame progress classification of one channel."""

    def __init__(self, zone: Zone) -> None:
        self.zone = zone
        tone_freqs = sorted({f for name in ("dial", "busy", "ringback", "congestion")
                             if name in zone.tones for f in zone.tones[name].frequencies})
        self._zone_freqs = tone_freqs
        self._freqs = [*tone_freqs, 1100.0, 2100.0, *_SIT_FREQS]
        self._basis = _basis(self._freqs)
        self._cadences = {
            name: zone.tones[name].cadence_ms for name in ("busy", "ringback", "congestion")
            if name in zone.tones and not zone.tones[name].continuous
        }
        #: How long a zone tone must stay on to be called dial tone.
        self.dial_tone_after = 1.5
        self._t = 0.0
        self._label = "silence"
        self._run_start = 0.0
        self._runs: list[tuple[str, float]] = []
        self._reported: set[str] = set()
        self._voice_frames = 0
        self._run_db: list[float] = []
        self._music_top: float | None = None
        self._fax_frames: dict[str, int] = {"1100": 0, "2100": 0}
        self._sit_seen: list[tuple[float, int]] = []

    def _frame_label(self, x: np.ndarray) -> tuple[str, float]:
        power = float(np.mean(x * x))
        if power < SILENCE_POWER:
            return "silence", power
        spec = np.abs(x @ self._basis) ** 2 / _norm
        n_zone = len(self._zone_freqs)
        share = spec / (power + 1e-9)
        zone_share = float(np.sum(share[:n_zone])) if n_zone else 0.0
        if share[n_zone + 1] > 0.6:
            return "2100", power
        if share[n_zone] > 0.6:
            return "1100", power
        sit = share[n_zone + 2:]
        if float(np.max(sit)) > 0.6:
            return f"sit{int(np.argmax(sit))}", power
        if zone_share > 0.6:
            return "zone", power
        return "voice", power

    def feed(self, frame: np.ndarray) -> list[Observation]:
        """Classify one 20 ms frame; returns new observations."""
        x = frame.astype(np.float64)
        label, _ = self._frame_label(x)
        self._t += TICK_SECONDS
        out: list[Observation] = []
        if label.startswith("sit"):
            # SIT is a rising sequence of segments in three bands (~950, ~1400, ~1800
            # Hz); two bands in rising order within 1.2 s are enough to call it.
            band = 0 if int(label[3:]) < 3 else (1 if int(label[3:]) < 6 else 2)
            self._sit_seen = [(t, b) for t, b in self._sit_seen if self._t - t < 1.2]
            if not self._sit_seen or self._sit_seen[-1][1] != band:
                self._sit_seen.append((self._t, band))
            bands = [b for _, b in self._sit_seen]
            if len(bands) >= 2 and bands[-1] > bands[-2] and "sit" not in self._reported:
                self._reported.add("sit")
                out.append(Observation(self._t, "sit"))
        if label in ("1100", "2100"):
            self._fax_frames[label] += 1
            # CNG needs 0.5 s, CED 0.5 s before we call it (T.30 tone lengths).
            if self._fax_frames[label] == 25:
                out.append(Observation(self._t, "tone", "fax_cng" if label == "1100"
                                       else "answer_tone"))
        if label == "voice":
            out += self._sound(10 * np.log10(np.mean(x * x)))
        else:
            self._voice_frames = 0
            self._run_db = []
        tone_on = label == "zone"
        state = "on" if tone_on else "off"
        if state != self._label:
            self._runs.append((self._label, self._t - TICK_SECONDS - self._run_start))
            self._runs = self._runs[-8:]
            self._run_start = self._t - TICK_SECONDS
            self._label = state
            out += self._match_cadence()
        elif (tone_on and self._t - self._run_start >= self.dial_tone_after
              and "dial" not in self._reported):
            # A tone on longer than any cadence's on-time is steady: dial tone.
            self._reported.add("dial")
            out.append(Observation(self._t, "tone", "dial"))
        return out

    def _sound(self, db: float) -> list[Observation]:
        """Speech or music. Speech dips 20 dB between syllables within any 1.5 s; the
        music of a colour ring-back plays on without such dips."""
        out: list[Observation] = []
        if self._music_top is not None and db < self._music_top - 20:
            # The music stopped (the called party answered): start a new sound run.
            self._music_top = None
            self._voice_frames = 0
            self._run_db = []
        self._voice_frames += 1
        self._run_db.append(db)
        if self._voice_frames == 10:  # 200 ms of speech-like sound
            out.append(Observation(self._t - 0.2, "voice"))
        if self._music_top is None and len(self._run_db) >= 75:
            recent = np.array(self._run_db[-75:])
            top = float(np.percentile(recent, 90))
            if float(recent.min()) > top - 20:
                self._music_top = top
                if "music" not in self._reported:
                    self._reported.add("music")
                    out.append(Observation(self._t, "tone", "music"))
        return out

    def _match_cadence(self) -> list[Observation]:
        """Match the last full on/off pair against the zone's cadences (20 % tolerance)."""
        runs = [r for r in self._runs if r[0] in ("on", "off")]
        if runs and runs[-1][0] == "on" and "ringback" in self._cadences:
            # Ringback is recognised by its first burst when its on-time is unlike any
            # other tone's (China: 1000 ms against 350 and 700), long before its 4 s
            # pause ends: the called party may answer within that pause.
            on_ms = runs[-1][1] * 1000
            matches = [n for n, c in self._cadences.items()
                       if abs(on_ms - c[0][1]) <= 0.2 * c[0][1] + 40]
            if matches == ["ringback"] and "cadence:ringback:1" not in self._reported:
                self._reported.add("cadence:ringback:1")
                return [Observation(self._t, "tone", "ringback")]
        if len(runs) < 2 or runs[-1][0] != "off" or runs[-2][0] != "on":
            return []
        on_ms, off_ms = runs[-2][1] * 1000, runs[-1][1] * 1000
        for name, cadence in self._cadences.items():
            c_on, c_off = cadence[0][1], sum(ms for on, ms in cadence[1:] if not on) or 1
            if abs(on_ms - c_on) <= 0.2 * c_on + 40 and abs(off_ms - c_off) <= 0.2 * c_off + 40:
                key = f"cadence:{name}"
                count = sum(1 for k in self._reported if k.startswith(key)) + 1
                self._reported.add(f"{key}:{count}")
                # Ringback is reported on its first full cycle; busy and congestion on
                # their second, which tells China's 350/350 from 700/700 reliably.
                need = 1 if name == "ringback" else 2
                if count == need:
                    return [Observation(self._t, "tone", name)]
        return []
