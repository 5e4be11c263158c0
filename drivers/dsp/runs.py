"""Run-length tracking of per-frame labels, vectorised across channels.

Every frame-level detector (DTMF, MF, single tones) turns each analysis frame into a
label (a digit index, a tone index, or -1). What Q.24 asks about is *runs* of labels:
how long a digit lasted, whether a gap was a 10 ms interruption to bridge or a 40 ms
pause. :class:`RunTracker` keeps that state in per-channel arrays and advances all
channels together, one numpy step per frame (4 per 20 ms block); Python only touches
the runs that end, which is a few per second at most.

Duration is measured from energy, not by counting frames: the squared Hann windows of
the frames overlap-add to a constant, so ``sum(frame energy) / peak frame energy * hop``
is the tone's on-time whatever its level, instead of growing with level as a count of
"frames above threshold" would. This is what keeps the Q.24 accept (>= 40 ms) and
reject (<= 23 ms) limits level-independent.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class Runs:
    """Runs that ended (or passed ``report_after`` frames) in one update; parallel arrays."""

    channel: np.ndarray
    label: np.ndarray
    start: np.ndarray      # estimated onset, samples
    duration: np.ndarray   # estimated on-time, samples
    hits: np.ndarray
    extra: np.ndarray      # mean of the per-frame extra value over the hits
    end: np.ndarray        # sample of the frame that closed the run

    def __len__(self) -> int:
        return int(self.channel.size)


class RunTracker:
    """Tracks one run of labels per channel.

    ``bridge`` frames without the run's label are tolerated (Q.24: interruptions of
    up to 10 ms are bridged); ``switch_ends`` makes a different label end the run at
    once (SIT segments follow each other without a gap) instead of counting as a miss.
    """

    def __init__(self, max_channels: int, *, hop: int, bridge: int,
                 switch_ends: bool = False, report_after: int = 0) -> None:
        if bridge < 0:
            raise ValueError(f"{bridge=} must be >= 0")
        self.hop = hop
        self.bridge = bridge
        self.switch_ends = switch_ends
        self.report_after = report_after
        n = max_channels
        self.label = np.full(n, -1, np.int16)
        self.hits = np.zeros(n, np.int32)
        self.misses = np.zeros(n, np.int32)
        self.esum = np.zeros(n, np.float64)
        self.emax = np.zeros(n, np.float64)
        self.ecentre = np.zeros(n, np.float64)  # sum of energy * frame centre
        self.xsum = np.zeros(n, np.float64)
        self.last = np.zeros(n, np.int64)

    def reset(self, ch: int | np.ndarray) -> None:
        self.label[ch] = -1
        self.hits[ch] = 0
        self.misses[ch] = 0

    def update(self, ids: np.ndarray, labels: np.ndarray, energy: np.ndarray,
               extra: np.ndarray, centres: np.ndarray) -> tuple[Runs, Runs]:
        """Advance channels ``ids`` by the frames given as (k, frames) arrays.

        Returns ``(ended, reported)``: runs that ended, and runs whose hit count just
        reached ``report_after`` (still going on). Only channels with a run going on or
        a labelled frame are touched (most channels, most of the time, have neither).
        """
        busy = (self.label[ids] >= 0) | (labels >= 0).any(axis=1)
        if not busy.all():
            sel = np.flatnonzero(busy)
            if sel.size == 0:
                return _concat([]), _concat([])
            ids, labels, energy = ids[sel], labels[sel], energy[sel]
            extra, centres = extra[sel], centres[sel]
        lab = self.label[ids]
        hits = self.hits[ids]
        misses = self.misses[ids]
        esum = self.esum[ids]
        emax = self.emax[ids]
        ecen = self.ecentre[ids]
        xsum = self.xsum[ids]
        last = self.last[ids]
        ended: list[tuple[np.ndarray, ...]] = []
        reported: list[tuple[np.ndarray, ...]] = []
        for j in range(labels.shape[1]):
            new = labels[:, j]
            e = energy[:, j]
            c = centres[:, j]
            active = lab >= 0
            same = active & (new == lab)
            other = new >= 0
            misses = np.where(same, 0, misses + active)
            end = active & (misses > self.bridge)
            if self.switch_ends:
                end |= active & other & ~same
            if end.any():
                ended.append(self._pack(ids, end, lab, hits, esum, emax, ecen, xsum, last, c))
            start = other & (~active | end)
            lab = np.where(start, new, np.where(end, -1, lab))
            hits = np.where(start, 1, hits + same)
            misses = np.where(start, 0, misses)
            esum = np.where(start, e, esum + np.where(same, e, 0.0))
            emax = np.where(start, e, np.where(same, np.maximum(emax, e), emax))
            ecen = np.where(start, e * c, ecen + np.where(same, e * c, 0.0))
            x = extra[:, j]
            xsum = np.where(start, x, xsum + np.where(same, x, 0.0))
            last = np.where(start | same, c, last)
            if self.report_after:
                rep = (same | start) & (hits == self.report_after)
                if rep.any():
                    reported.append(self._pack(ids, rep, lab, hits, esum, emax, ecen, xsum,
                                               last, c))
        self.label[ids] = lab
        self.hits[ids] = hits
        self.misses[ids] = misses
        self.esum[ids] = esum
        self.emax[ids] = emax
        self.ecentre[ids] = ecen
        self.xsum[ids] = xsum
        self.last[ids] = last
        return _concat(ended), _concat(reported)

    def _pack(self, ids, mask, lab, hits, esum, emax, ecen, xsum, last, now) -> tuple:
        em = np.maximum(emax[mask], 1e-30)
        duration = esum[mask] / em * self.hop
        centre = ecen[mask] / np.maximum(esum[mask], 1e-30)
        start = np.maximum(centre - duration / 2, 0)
        return (ids[mask], lab[mask].copy(), np.rint(start).astype(np.int64),
                np.rint(duration).astype(np.int64), hits[mask].copy(),
                xsum[mask] / np.maximum(hits[mask], 1), now[mask].astype(np.int64))


def _concat(parts: list[tuple[np.ndarray, ...]]) -> Runs:
    if not parts:
        e = np.zeros(0, np.int64)
        return Runs(e, e, e, e, e, np.zeros(0), e)
    cols = [np.concatenate(p) for p in zip(*parts, strict=True)]
    return Runs(*cols)
