"""Vectorised playback of prerendered audio on many channels at once.

Every sound the emulated network can make (tones, speech, music, fax signals) is
rendered once into one :class:`AudioBank`. A channel playing a sound is then only a few
integers (where its clip starts, how long it is, where it has got to), and producing a
20 ms frame for every channel is one gather from the bank (DESIGN.md, principle 2). Per
channel Python work happens only when a clip ends and the next one starts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from trunkline.drivers.model import FRAME_SAMPLES


@dataclass(frozen=True, slots=True)
class Clip:
    """A span of the bank: ``length`` samples from ``start``."""

    start: int
    length: int
    name: str = ""

    def head(self, samples: int) -> Clip:
        """The first ``samples`` of this clip (all of it when shorter)."""
        return Clip(self.start, max(1, min(self.length, samples)), self.name)


class AudioBank:
    """One int16 array holding every clip; index 0..FRAME_SAMPLES is silence."""

    def __init__(self) -> None:
        self._parts: list[np.ndarray] = [np.zeros(FRAME_SAMPLES, dtype=np.int16)]
        self._size = FRAME_SAMPLES
        self._array: np.ndarray | None = None
        self._named: dict[str, Clip] = {}

    def add(self, samples: np.ndarray, name: str = "") -> Clip:
        samples = np.asarray(samples, dtype=np.int16).ravel()
        if samples.size == 0:
            raise ValueError(f"cannot add an empty clip {name!r} to the audio bank")
        if name and name in self._named:
            return self._named[name]
        clip = Clip(self._size, int(samples.size), name)
        self._parts.append(samples)
        self._size += samples.size
        self._array = None
        if name:
            self._named[name] = clip
        return clip

    def get(self, name: str) -> Clip:
        try:
            return self._named[name]
        except KeyError:
            raise KeyError(f"no clip named {name!r} in the audio bank") from None

    def __contains__(self, name: str) -> bool:
        return name in self._named

    @property
    def array(self) -> np.ndarray:
        if self._array is None:
            self._array = np.concatenate(self._parts)
            self._parts = [self._array]
        return self._array

    def samples(self, clip: Clip) -> np.ndarray:
        return self.array[clip.start: clip.start + clip.length]


class Player:
    """Playback state for ``rows`` channels over one :class:`AudioBank`.

    Each row plays one clip at a time, once or looped, for a set number of samples
    (``None``: until told otherwise). :meth:`frame` returns the next frame for all rows
    and the rows whose step ended during it.
    """

    def __init__(self, bank: AudioBank, rows: int) -> None:
        self.bank = bank
        self.rows = rows
        self.start = np.zeros(rows, dtype=np.int64)
        self.length = np.ones(rows, dtype=np.int64)
        self.pos = np.zeros(rows, dtype=np.int64)
        self.until = np.full(rows, np.iinfo(np.int64).max, dtype=np.int64)
        self.loop = np.zeros(rows, dtype=bool)
        self.active = np.zeros(rows, dtype=bool)
        self.gain = np.ones(rows, dtype=np.float32)
        self._offsets = np.arange(FRAME_SAMPLES, dtype=np.int64)

    def play(self, row: int, clip: Clip | None, *, loop: bool = False,
             samples: int | None = None, gain: float = 1.0) -> None:
        """Start ``clip`` on ``row`` (``None`` plays silence) for ``samples`` samples.

        Without ``samples`` a looped clip plays until replaced and a single clip for its
        length.
        """
        if clip is None:
            clip = Clip(0, FRAME_SAMPLES, "silence")
            loop = True
        self.start[row] = clip.start
        self.length[row] = clip.length
        self.pos[row] = 0
        self.loop[row] = loop
        if samples is None:
            samples = np.iinfo(np.int64).max if loop else clip.length
        self.until[row] = max(1, samples)
        self.gain[row] = gain
        self.active[row] = True

    def stop(self, row: int) -> None:
        self.active[row] = False

    def frame(self) -> tuple[np.ndarray, np.ndarray]:
        """(rows x 160) float32 audio, and the indices of rows whose step just ended."""
        # Most rows read 160 consecutive samples of their clip this frame (no wrap, no
        # end of clip or step inside it): their indices are a start plus 0..159, found
        # per row. Only the other rows take the general per-sample rule below; the
        # result is the same, without a dozen (rows x 160) passes every frame (an
        # emulated card's 140 idle rows looping silence cost ~0.2 ms a frame).
        pos = self.pos
        last = pos + (FRAME_SAMPLES - 1)
        in_clip = np.where(self.loop, pos % self.length, pos)
        plain = self.active & (last < self.until) & (in_clip + (FRAME_SAMPLES - 1) < self.length)
        index = (self.start + in_clip)[:, None] + self._offsets
        other = np.flatnonzero(~plain)
        if other.size:
            index[other] = self._general_index(other)
        out = self.bank.array[index].astype(np.float32)
        out *= self.gain[:, None]
        self.pos += FRAME_SAMPLES
        ended = np.flatnonzero(self.active & (self.pos >= self.until))
        return out, ended

    def _general_index(self, rows: np.ndarray) -> np.ndarray:
        """Bank indices of this frame for ``rows``, sample by sample (wraps, clip ends,
        step ends, stopped rows)."""
        off = self.pos[rows, None] + self._offsets
        start = self.start[rows, None]
        length = self.length[rows, None]
        wrapped = start + off % length
        single = np.where(off < length, start + off, 0)
        index = np.where(self.loop[rows, None], wrapped, single)
        # Past the end of a step the row is silent until the next step starts.
        return np.where((off < self.until[rows, None]) & self.active[rows, None], index, 0)
