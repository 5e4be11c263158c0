"""Operator-announcement recognition by audio fingerprint ("the number you dialled...").

Before answer a carrier may play a recorded announcement instead of ringback
(powered off, unreachable, invalid number...). Speech recognition is not needed:
each carrier plays the *same recording* every time, so an audio fingerprint matches
it robustly through G.711, level changes and line noise.

Fingerprint (after Haitsma & Kalker's sign-of-energy-differences scheme): every 20 ms,
a 64 ms Hann frame is split into 17 log-spaced bands between 300 and 3400 Hz; bit
``m`` of the frame's 16-bit word is the sign of the band-energy difference
``(E[n,m] - E[n,m+1]) - (E[n-1,m] - E[n-1,m+1])``. Level and fixed-frequency-response
changes cancel in these double differences. Two recordings match when, over a 2 s
window aligned at the best offset, at most 30 % of the bits differ (unrelated audio
differs in about 50 %), and every template of another kind differs by 8 points more.

Templates live in ``firmware-profiles/announcements/*.toml``, one per recording, with
the kind (``invalid_number``, ``powered_off``, ``unreachable``, ``busy``,
``call_barred``, ...), a zone and the fingerprint as hex (2 bytes per 20 ms, so a 6 s
recording takes 600 bytes). ``trunkline announcements add --kind K --zone Z FILE.wav``
adds one from a carrier's recording.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np

from trunkline.errors import ConfigError

RATE = 8000
HOP = 160
FRAME = 512
BANDS = 17
WINDOW_FRAMES = 100         # 2 s compared at a time
MAX_BER = 0.30              # Haitsma & Kalker use 0.35; we keep a margin
KIND_MARGIN = 0.08          # best kind must beat every other kind by this much
MAX_TEMPLATE_FRAMES = 400   # 8 s of fingerprint kept per template
SPEC = "1.0"
KINDS = ("invalid_number", "powered_off", "unreachable", "busy", "call_barred",
         "not_in_service", "no_answer", "congestion", "other")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")


@cache
def _band_matrix() -> np.ndarray:
    freqs = np.fft.rfftfreq(FRAME, 1 / RATE)
    edges = np.geomspace(300.0, 3400.0, BANDS + 1)
    m = np.zeros((freqs.size, BANDS), np.float32)
    for b in range(BANDS):
        m[(freqs >= edges[b]) & (freqs < edges[b + 1]), b] = 1.0
    return m


@cache
def _window() -> np.ndarray:
    return np.hanning(FRAME).astype(np.float32)


_POPCOUNT = np.array([bin(i).count("1") for i in range(1 << 16)], np.uint8)


def band_energies(frames: np.ndarray) -> np.ndarray:
    """Log band energies of (..., 512) frames -> (..., 17)."""
    spec = np.abs(np.fft.rfft(frames * _window(), axis=-1)) ** 2
    return np.log(spec.astype(np.float32) @ _band_matrix() + 1e-3)


def bits_from_energies(e: np.ndarray, prev: np.ndarray) -> np.ndarray:
    """16-bit words from this frame's and the previous frame's band energies."""
    d = (e[..., :-1] - e[..., 1:]) - (prev[..., :-1] - prev[..., 1:])
    weights = (1 << np.arange(BANDS - 1)).astype(np.uint32)
    return ((d > 0).astype(np.uint32) @ weights).astype(np.uint16)


def fingerprint(samples: np.ndarray) -> np.ndarray:
    """The fingerprint (uint16 per 20 ms) of a whole recording (int16 at 8 kHz)."""
    x = np.asarray(samples, dtype=np.float32)
    if x.ndim != 1:
        raise ValueError(f"samples must be one channel, got shape {x.shape}")
    x = np.concatenate([np.zeros(FRAME - HOP, np.float32), x])
    n = (x.size - FRAME) // HOP + 1
    if n < 2:
        return np.zeros(0, np.uint16)
    idx = np.arange(FRAME)[None, :] + HOP * np.arange(n)[:, None]
    e = band_energies(x[idx])
    return bits_from_energies(e[1:], e[:-1])


def bit_error_rate(live: np.ndarray, template: np.ndarray) -> tuple[float, int]:
    """Lowest bit error rate of ``live`` against every alignment in ``template``."""
    w = live.size
    if template.size < w or w == 0:
        return 1.0, -1
    view = np.lib.stride_tricks.sliding_window_view(template, w)
    errors = _POPCOUNT[view ^ live[None, :]].sum(axis=1, dtype=np.int64)
    best = int(np.argmin(errors))
    return float(errors[best]) / (16 * w), best


@dataclass(frozen=True)
class Template:
    name: str
    kind: str
    zone: str
    language: str
    text: str
    bits: np.ndarray


def bundled_library_dir() -> Path:
    return Path(str(resources.files("trunkline.profiles") / "announcements"))


def default_library_dir() -> Path:
    """Where ``add`` writes: ``$TRUNKLINE_ANNOUNCEMENTS`` if set, else the bundled folder."""
    env = os.environ.get("TRUNKLINE_ANNOUNCEMENTS")
    return Path(env) if env else bundled_library_dir()


def load_library(directory: str | Path | None = None) -> list[Template]:
    """Every template in ``directory``; by default the bundled library plus the site's
    own (``$TRUNKLINE_ANNOUNCEMENTS``), so a carrier's recordings survive upgrades."""
    if directory is not None:
        dirs = [Path(directory)]
    else:
        dirs = [bundled_library_dir()]
        if os.environ.get("TRUNKLINE_ANNOUNCEMENTS"):
            dirs.append(default_library_dir())
    paths = sorted(p for d in dirs if d.is_dir() for p in d.glob("*.toml"))
    out = []
    for path in paths:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
            if data.get("spec") != SPEC:
                raise ConfigError(f"this file is spec {data.get('spec')!r}; this trunkline "
                                  f"reads spec {SPEC!r}", source=str(path), key="spec")
            bits = np.frombuffer(bytes.fromhex(data["fingerprint"]), dtype="<u2").copy()
            out.append(Template(path.stem, data["kind"], data.get("zone", ""),
                                data.get("language", ""), data.get("text", ""), bits))
        except (KeyError, ValueError, tomllib.TOMLDecodeError) as err:
            if isinstance(err, ConfigError):
                raise
            raise ConfigError(f"bad announcement template: {err}", source=str(path)) from err
    return out


def add_template(samples: np.ndarray, *, kind: str, zone: str, name: str,
                 language: str = "", text: str = "",
                 directory: str | Path | None = None) -> Path:
    """Fingerprint a recording and store it as ``<directory>/<name>.toml``."""
    if kind not in KINDS:
        raise ConfigError(f"announcement {kind=} is not one of {', '.join(KINDS)}", key="kind")
    if not _NAME.match(name):
        raise ConfigError(f"template {name=} must be lower-case letters, digits, '_.-'",
                          key="name")
    bits = fingerprint(samples)
    if bits.size < WINDOW_FRAMES:
        raise ConfigError(f"recording too short for a template: {bits.size * 20} ms, "
                          f"need >= {WINDOW_FRAMES * 20} ms", key="file")
    bits = bits[:MAX_TEMPLATE_FRAMES]
    d = Path(directory) if directory is not None else default_library_dir()
    d.mkdir(parents=True, exist_ok=True)
    path = d / f"{name}.toml"
    text_line = text.replace("\\", "\\\\").replace('"', '\\"')
    path.write_text(
        "# An announcement template: see docs/detector.md (trunkline announcements add).\n"
        f'spec = "{SPEC}"\nkind = "{kind}"\nzone = "{zone}"\nlanguage = "{language}"\n'
        f'text = "{text_line}"\nframes = {bits.size}\n'
        f'fingerprint = "{bits.astype("<u2").tobytes().hex()}"\n', encoding="utf-8")
    return path


class AnnouncementMatcher:
    """Streams fingerprints for the channels that ask and matches them to a library.

    Per-channel state is a short sample history and the recent fingerprint words;
    the FFT runs vectorised over the channels listening, the matching every 200 ms.
    """

    CHECK_EVERY = 10

    def __init__(self, templates: list[Template]) -> None:
        self.templates = templates
        self._hist: dict[int, np.ndarray] = {}
        self._prev: dict[int, np.ndarray] = {}
        self._bits: dict[int, list[int]] = {}
        self._voiced: dict[int, list[bool]] = {}
        self.done: set[int] = set()

    def reset(self, ch: int) -> None:
        for d in (self._hist, self._prev, self._bits, self._voiced):
            d.pop(ch, None)
        self.done.discard(ch)

    def best_match(self, live: np.ndarray) -> tuple[Template, float] | None:
        """The template matching ``live``, if one kind matches clearly better than the rest.

        Carriers' announcements share openings ("您好，您拨打的...", "The number you
        have dialed..."), so a match is only accepted with a margin over every template
        of another kind; until the distinguishing words arrive, no decision is made.
        """
        by_kind: dict[str, tuple[Template, float]] = {}
        for t in self.templates:
            ber, _ = bit_error_rate(live, t.bits)
            if t.kind not in by_kind or ber < by_kind[t.kind][1]:
                by_kind[t.kind] = (t, ber)
        ranked = sorted(by_kind.values(), key=lambda tb: tb[1])
        if not ranked or ranked[0][1] > MAX_BER:
            return None
        if len(ranked) > 1 and ranked[1][1] - ranked[0][1] < KIND_MARGIN:
            return None
        return ranked[0]

    def update(self, ids: np.ndarray, block: np.ndarray, voiced: np.ndarray,
               block_end: np.ndarray) -> list[tuple[int, Template, float, int]]:
        """Feed (k, 160) blocks; returns (channel, template, confidence, onset) matches."""
        ids = [int(c) for c in ids]
        if not ids or not self.templates:
            return []
        hist = np.stack([self._hist.get(c, np.zeros(FRAME - HOP, np.float32)) for c in ids])
        frames = np.concatenate([hist, block.astype(np.float32)], axis=1)
        e = band_energies(frames)
        out = []
        for i, c in enumerate(ids):
            self._hist[c] = frames[i, HOP:]
            prev = self._prev.get(c)
            self._prev[c] = e[i]
            if prev is None:
                continue
            bits = self._bits.setdefault(c, [])
            vo = self._voiced.setdefault(c, [])
            bits.append(int(bits_from_energies(e[i], prev)))
            vo.append(bool(voiced[i]))
            if len(bits) > 4 * WINDOW_FRAMES:
                del bits[:-WINDOW_FRAMES * 2]
                del vo[:-WINDOW_FRAMES * 2]
            if c in self.done or len(bits) < WINDOW_FRAMES or len(bits) % self.CHECK_EVERY:
                continue
            if sum(vo[-WINDOW_FRAMES:]) < WINDOW_FRAMES // 3:
                continue  # mostly silence: nothing to recognise
            live = np.asarray(bits[-WINDOW_FRAMES:], np.uint16)
            best = self.best_match(live)
            if best is not None:
                self.done.add(c)
                onset = int(max(block_end[i] - WINDOW_FRAMES * HOP, 0))
                out.append((c, best[0], 1.0 - best[1], onset))
        return out
