"""Every sound the simulated network makes, rendered once into an audio bank.

Sources of the facts used here:
- zone tones: firmware-profiles/zones (libtonezone, ITU-T E.180 Suppl. 2);
- SIT: ITU-T E.180/Q.35, 950/1400/1800 Hz, 330 ms each; NANP segment frequencies and
  lengths as in shared/reference/detection-anchors.md (Telcordia GR-1162 SIT codes);
- fax: T.30 CED, 2100 Hz for 2.6-4.0 s, 75 ms before V.21 (channel 2, answering side:
  mark 1650 Hz, space 1850 Hz, 300 bit/s) HDLC flags 0x7E;
- modem answer tones: V.25 ANS 2100 Hz with 180 degree phase reversals every 450 ms,
  V.8 ANSam 2100 Hz amplitude-modulated at 15 Hz to 0.8..1.2 of its level;
- speech: espeak-ng clips in firmware-profiles/audio (see render.py there).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources

import numpy as np

from trunkline.drivers.dsp.player import AudioBank, Clip
from trunkline.drivers.dsp.tones import RATE, render_tone, sine, to_int16
from trunkline.drivers.dsp.wavfile import read_audio
from trunkline.drivers.dsp.zones import Zone

#: SIT frequencies (Hz) and segment lengths (ms) per NANP code (GR-1162).
NANP_SIT: dict[str, tuple[tuple[float, int], ...]] = {
    "IC": ((913.8, 274), (1370.6, 274), (1776.7, 380)),
    "NC": ((985.2, 380), (1428.5, 380), (1776.7, 380)),
    "VC": ((985.2, 380), (1370.6, 274), (1776.7, 380)),
    "RO": ((913.8, 274), (1428.5, 380), (1776.7, 380)),
}
ITU_SIT = ((950.0, 330), (1400.0, 330), (1800.0, 330))
SIT_DBM0 = -24.0  # E.180: -24 dBm0 per segment

FAX_LEVEL_DBM0 = -12.0
V21_CH2_MARK, V21_CH2_SPACE = 1650.0, 1850.0
V21_BAUD = 300


@dataclass(frozen=True, slots=True)
class SpeechClip:
    name: str
    language: str
    kind: str
    text: str
    clip: Clip


def _fsk(bits: np.ndarray, mark: float, space: float, dbm0: float) -> np.ndarray:
    """Continuous-phase FSK of ``bits`` at 300 bit/s."""
    samples_per_bit = RATE / V21_BAUD
    n = int(len(bits) * samples_per_bit)
    bit_of_sample = np.minimum((np.arange(n) / samples_per_bit).astype(int), len(bits) - 1)
    freq = np.where(bits[bit_of_sample] == 1, mark, space)
    phase = 2 * np.pi * np.cumsum(freq) / RATE
    from trunkline.drivers.dsp.levels import amplitude

    return amplitude(dbm0) * np.sin(phase)


def _hdlc_bits(octets: bytes) -> np.ndarray:
    """Bits of ``octets``, least significant first (as HDLC sends; no bit stuffing)."""
    return np.array([(b >> i) & 1 for b in octets for i in range(8)], dtype=np.int8)


def render_sit(segments: tuple[tuple[float, int], ...], dbm0: float = SIT_DBM0) -> np.ndarray:
    parts = [sine([f], RATE * ms // 1000, dbm0) for f, ms in segments]
    return to_int16(np.concatenate(parts))


def render_answer_tone(kind: str, seconds: float = 4.0, dbm0: float = FAX_LEVEL_DBM0) -> np.ndarray:
    """ANS, ANS with phase reversals, ANSam, or ANSam with phase reversals."""
    from trunkline.drivers.dsp.levels import amplitude

    n = int(seconds * RATE)
    t = np.arange(n) / RATE
    phase = 2 * np.pi * 2100.0 * t
    if kind.endswith("_pr"):
        phase = phase + np.pi * np.floor(t / 0.450)
    x = np.sin(phase)
    if kind.startswith("ansam"):
        x = x * (1.0 + 0.2 * np.sin(2 * np.pi * 15.0 * t)) / 1.2
    return to_int16(amplitude(dbm0) * x)


def render_fax_answer(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A called fax machine: (CED plus the gap, then a repeating V.21 DIS cycle)."""
    ced = to_int16(sine([2100.0], int(3.0 * RATE), FAX_LEVEL_DBM0))
    gap = np.zeros(int(0.075 * RATE), dtype=np.int16)
    # ~1 s of flags, then a DIS-like frame (address 0xFF, control 0x13, FCF 0x80 + data),
    # then silence until T.30's T4 (3 s) repeats the command.
    frame = bytes([0xFF, 0x13, 0x80]) + bytes(rng.integers(0, 256, 8, dtype=np.uint8))
    bits = np.concatenate([_hdlc_bits(b"\x7e" * 38), _hdlc_bits(frame), _hdlc_bits(b"\x7e" * 2)])
    v21 = to_int16(_fsk(bits, V21_CH2_MARK, V21_CH2_SPACE, FAX_LEVEL_DBM0))
    cycle = np.concatenate([v21, np.zeros(3 * RATE - len(v21) % (3 * RATE), dtype=np.int16)])
    return np.concatenate([ced, gap]), cycle


def render_music(rng: np.random.Generator, seconds: float = 16.0,
                 dbm0: float = -16.0) -> np.ndarray:
    """Colour ring-back (彩铃): a synthesized tune, chords under a pentatonic melody.

    It only needs to be music as a detector meets it: harmonic notes, changing pitch
    every few hundred milliseconds, no silences of a tone cadence, no speech.
    """
    from trunkline.drivers.dsp.levels import amplitude

    n = int(seconds * RATE)
    out = np.zeros(n)
    scale = np.array([0, 2, 4, 7, 9, 12, 14, 16])  # major pentatonic, semitones
    base = 261.63  # C4
    beat = 0.25
    t_note = np.arange(int(beat * RATE)) / RATE
    env = np.minimum(1.0, t_note / 0.02) * np.exp(-t_note * 3.0)
    pos = 0
    while pos < n:
        step = scale[rng.integers(len(scale))]
        f = base * 2 ** (step / 12)
        note = sum(np.sin(2 * np.pi * f * h * t_note) / h**1.5 for h in (1, 2, 3, 4))
        chunk = note * env
        end = min(n, pos + len(chunk))
        out[pos:end] += chunk[: end - pos]
        pos += len(chunk)
    chord_len = int(2.0 * RATE)
    for i, root in enumerate(range(0, n, chord_len)):
        f0 = base / 2 * 2 ** ([0, 5, 7, 9][i % 4] / 12)
        t = np.arange(min(chord_len, n - root)) / RATE
        out[root: root + len(t)] += 0.4 * sum(
            np.sin(2 * np.pi * f0 * r * t) for r in (1.0, 1.25, 1.5)
        )
    out *= amplitude(dbm0) / (np.sqrt(np.mean(out**2)) * np.sqrt(2))
    return to_int16(out)


def render_noise(rng: np.random.Generator, seconds: float = 1.37,
                 dbm0: float = -68.0) -> np.ndarray:
    """Line noise: white noise near the idle-channel noise a digital network has."""
    from trunkline.drivers.dsp.levels import DBM0_RMS

    rms = DBM0_RMS * 10 ** (dbm0 / 20)
    return to_int16(rng.normal(0, rms, int(seconds * RATE)))


class NetworkSounds:
    """The audio bank of one simulated network (one zone), with names for everything."""

    def __init__(self, zone: Zone, seed: int = 0, beeps: tuple[float, ...] = (1000.0,)) -> None:
        self.zone = zone
        self.bank = AudioBank()
        rng = np.random.default_rng(seed)
        self.tones: dict[str, tuple[Clip | None, Clip]] = {}
        for name, tone in zone.tones.items():
            prefix, cycle = render_tone(tone)
            self.tones[name] = (
                self.bank.add(prefix, f"tone:{name}:prefix") if prefix.size else None,
                self.bank.add(cycle, f"tone:{name}"),
            )
        self.sit_itu = self.bank.add(render_sit(ITU_SIT), "sit:itu")
        self.sit_nanp = {code: self.bank.add(render_sit(seg), f"sit:{code}")
                         for code, seg in NANP_SIT.items()}
        self.beeps = {
            f: self.bank.add(to_int16(sine([f], int(0.5 * RATE), -10.0)), f"beep:{f:g}")
            for f in sorted(set(beeps))
        }
        ced, v21 = render_fax_answer(rng)
        self.fax_ced = self.bank.add(ced, "fax:ced")
        self.fax_v21 = self.bank.add(v21, "fax:v21")
        self.answer_tones = {k: self.bank.add(render_answer_tone(k), f"modem:{k}")
                             for k in ("ans", "ans_pr", "ansam", "ansam_pr")}
        self.music = self.bank.add(render_music(rng), "music")
        self.noise = self.bank.add(render_noise(rng), "noise")
        self.speech: list[SpeechClip] = []
        self._recordings: dict[tuple[str, float], Clip] = {}
        audio = resources.files("trunkline.profiles") / "audio"
        index = tomllib.loads((audio / "index.toml").read_text(encoding="utf-8"))
        for entry in index["clip"]:
            with resources.as_file(audio / f"{entry['name']}.wav") as path:
                samples = read_audio(path)
            self.speech.append(SpeechClip(entry["name"], entry["language"], entry["kind"],
                                          entry["text"], self.bank.add(samples, entry["name"])))

    def recording(self, path: str, start: float = 0.0) -> Clip:
        """An audio file from ``start`` seconds as a clip (a number's own music
        ring-back), read once."""
        key = (path, start)
        if key not in self._recordings:
            samples = read_audio(path)[int(start * RATE):]  # plan.py checked the start
            self._recordings[key] = self.bank.add(samples, f"file:{path}@{start:g}")
        return self._recordings[key]

    def clips(self, language: str, kind: str) -> list[SpeechClip]:
        found = [c for c in self.speech if c.language == language and c.kind == kind]
        if not found:
            found = [c for c in self.speech if c.kind == kind]
        if not found:
            raise KeyError(f"no speech clip of kind {kind!r}")
        return found

    def tone(self, name: str) -> tuple[Clip | None, Clip]:
        """(once-only prefix or None, repeating cycle) of a zone tone."""
        if name not in self.tones:
            # Every zone has dial/busy/ringback/congestion; fall back sensibly otherwise.
            name = {"info": "congestion"}.get(name, "congestion")
        return self.tones[name]
