"""Run-length tracking of per-frame labels, vectorised across channels.

Every frame-level detector (DTMF, MF, single tones) turns each analysis frame into a
label (a digit index, a tone index, or -1). What Q.24 asks about is *runs* of labels:
how long a digit lasted, whether a gap was a 10 ms interruption to bridge or a 40 ms
pause. :class:`RunTracker` keeps that state in per-channel arrays and advances all
channels together, one numpy step per frame (4 per 20 ms block); Python only touches
the runs that end, which is a few per second at most.

Duration is measured from energy, not by counting frames: the squared Hann windows of
the frames overlap-add to a constant, so ``sum(frame energy) / plateau * hop`` is the
tone's on-time whatever its level, instead of growing with level as a count of "frames
above threshold" would. This is what keeps the Q.24 accept (>= 40 ms) and reject
(<= 23 ms) limits level-independent.

Two ways to take that sum (``label_power``): without it, the frames' whole energy over
the labelled frames, divided by the peak frame; that breaks in noise (issue 15: at 10 dB
SNR the peak of a noisy energy is biased up and the edge frames, no longer labelled,
drop out, so a 40 ms digit measured 29-39 ms). With it, the power *in the run's own
bins* (the two DTMF tones, the SIT band), which line noise hardly reaches, summed over
every frame from the one before the run to its end (edge frames count by how much of
the tone they hold, labelled or not), divided by the *mean* over the labelled frames,
which noise does not bias as it biases a maximum.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

#: Lowest plateau, as a share of the run's top frame (bins' own power): a steady tone in
#: 10 dB of noise varies by about +-15 % from frame to frame, speech by far more.
PLATEAU_OF_PEAK = 0.8


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

    #: At most this many busy channels an update take the per-channel path
    #: (:meth:`_update_channels`); both give the same runs
    #: (tests/detector/test_runs_paths.py).
    channels_path_max = 16

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
        self.csum = np.zeros(n, np.float64)  # label power over the labelled frames
        self._prev_power: np.ndarray | None = None  # (n, labels): the last frame's
        #: Some channel has a run going on (set by :meth:`update` from ``label``, which
        #: only it starts runs in): while none has, :meth:`running` needs no gather.
        self._some_running = False

    def reset(self, ch: int | np.ndarray) -> None:
        self.label[ch] = -1
        self.hits[ch] = 0
        self.misses[ch] = 0

    def idle(self, ids: np.ndarray, labels: np.ndarray) -> bool:
        """No run going on at ``ids`` and no labelled frame in (k, frames) ``labels``:
        :meth:`update` would only keep the last frame's edge power (:meth:`carry`).

        Most ticks of a small card are idle for DTMF and single tones; the caller then
        skips building the label and edge powers of every frame (per-tick cost at a few
        channels is the number of numpy calls, issue 15 item 6).
        """
        return not (np.count_nonzero(labels >= 0) or self.running(ids))

    def running(self, ids: np.ndarray) -> bool:
        """A run going on at any of ``ids`` (:meth:`idle` without the labels, for a
        caller that knows none of the tick's frames is labelled)."""
        return self._some_running and bool(np.count_nonzero(self.label[ids] >= 0))

    def carry(self, ids: np.ndarray, last_edge_power: np.ndarray | None = None) -> None:
        """What :meth:`update` does on an idle tick: ``last_edge_power`` (k, labels) is
        the edge power of the block's last frame (None when durations are not measured
        from label powers)."""
        if last_edge_power is None:
            return
        if self._prev_power is None:
            self._prev_power = np.zeros((self.label.size, last_edge_power.shape[1]),
                                        np.float64)
        self._prev_power[ids] = last_edge_power

    def update(self, ids: np.ndarray, labels: np.ndarray, energy: np.ndarray,
               extra: np.ndarray, centres: np.ndarray,
               label_power: np.ndarray | None = None,
               edge_power: np.ndarray | None = None,
               prev_power: PrevPower | None = None) -> tuple[Runs, Runs]:
        """Advance channels ``ids`` by the frames given as (k, frames) arrays.

        ``label_power`` (k, frames, labels), if given, is each frame's power in each
        label's own bins: durations are then measured from it (module docstring);
        ``edge_power`` (default ``label_power``) is what frames outside the labelled
        ones add (the caller zeroes frames that are not mostly the tone).
        ``prev_power``, if given, gives the edge power (float64, (rows, labels)) of the
        frame before the block, kept by the caller (who then need not call :meth:`carry`
        on idle ticks), for the rows of ``ids`` given (None: all); called once, for the
        channels with a run going on or a labelled frame only. When None, the tracker's
        own, from the last update or carry.
        Returns ``(ended, reported)``: runs that ended, and runs whose hit count just
        reached ``report_after`` (still going on). Only channels with a run going on or
        a labelled frame are touched (most channels, most of the time, have neither).
        """
        kept: np.ndarray | None = None
        if label_power is not None:
            if edge_power is None:
                edge_power = label_power
            if prev_power is None:
                if self._prev_power is None:
                    self._prev_power = np.zeros((self.label.size, label_power.shape[2]),
                                                np.float64)
                kept = self._prev_power[ids]
                self._prev_power[ids] = edge_power[:, -1]
        busy = (self.label[ids] >= 0) | (labels >= 0).any(axis=1)
        sel = None
        if np.count_nonzero(busy) < busy.size:
            sel = busy.nonzero()[0]
            if sel.size == 0:
                return _concat([]), _concat([])
            ids, labels, energy = ids[sel], labels[sel], energy[sel]
            extra, centres = extra[sel], centres[sel]
            if label_power is not None:
                assert edge_power is not None
                label_power, edge_power = label_power[sel], edge_power[sel]
                if kept is not None:
                    kept = kept[sel]
        if label_power is not None and kept is None:
            assert prev_power is not None
            kept = prev_power(sel)
        if label_power is not None and not self.report_after and \
                ids.size <= self.channels_path_max:
            assert kept is not None and edge_power is not None
            return self._update_channels(ids, labels, extra, centres, label_power,
                                         kept, edge_power)
        lab = self.label[ids]
        hits = self.hits[ids]
        misses = self.misses[ids]
        esum = self.esum[ids]
        emax = self.emax[ids]
        ecen = self.ecentre[ids]
        xsum = self.xsum[ids]
        last = self.last[ids]
        csum = self.csum[ids]
        rows = np.arange(ids.size)
        ended: list[tuple[np.ndarray, ...]] = []
        reported: list[tuple[np.ndarray, ...]] = []
        for j in range(labels.shape[1]):
            new = labels[:, j]
            c = centres[:, j]
            active = lab >= 0
            same = active & (new == lab)
            other = new >= 0
            misses = np.where(same, 0, misses + active)
            end = active & (misses > self.bridge)
            if self.switch_ends:
                end |= active & other & ~same
            if label_power is not None:
                assert kept is not None and edge_power is not None
                # The run's own bins, every frame while it lasts (edges count by how much
                # tone they hold); a new run also takes the frame before it.
                frame = label_power[:, j]
                edge = edge_power[:, j]
                before = edge_power[:, j - 1] if j else kept
                # An edge holds part of the tone: never more than the run's top so far
                # (speech next to a digit-like frame is often louder than it).
                e = np.minimum(edge[rows, np.maximum(lab, 0)], emax)
                counted = active & ~end & ~(self.switch_ends & other & ~same)
                esum = esum + np.where(counted & ~same, e, 0.0)
                ecen = ecen + np.where(counted & ~same, e * c, 0.0)
            if np.count_nonzero(end):
                ended.append(self._pack(ids, end, lab, hits, esum, emax, ecen, xsum, last, c,
                                        csum if label_power is not None else None))
            start = other & (~active | end)
            lab = np.where(start, new, np.where(end, -1, lab))
            hits = np.where(start, 1, hits + same)
            misses = np.where(start, 0, misses)
            if label_power is not None:
                e = frame[rows, np.maximum(lab, 0)]
                lead = np.minimum(before[rows, np.maximum(lab, 0)], e)
                csum = np.where(start, e, csum + np.where(same, e, 0.0))
                esum = np.where(start, e + lead, esum + np.where(same, e, 0.0))
                ecen = np.where(start, e * c + lead * (c - self.hop),
                                ecen + np.where(same, e * c, 0.0))
            else:
                e = energy[:, j]
                esum = np.where(start, e, esum + np.where(same, e, 0.0))
                ecen = np.where(start, e * c, ecen + np.where(same, e * c, 0.0))
            emax = np.where(start, e, np.where(same, np.maximum(emax, e), emax))
            x = extra[:, j]
            xsum = np.where(start, x, xsum + np.where(same, x, 0.0))
            last = np.where(start | same, c, last)
            if self.report_after:
                rep = (same | start) & (hits == self.report_after)
                if np.count_nonzero(rep):
                    reported.append(self._pack(ids, rep, lab, hits, esum, emax, ecen, xsum,
                                               last, c, csum if label_power is not None
                                               else None))
        self.label[ids] = lab
        self.hits[ids] = hits
        self.misses[ids] = misses
        self.esum[ids] = esum
        self.emax[ids] = emax
        self.ecentre[ids] = ecen
        self.xsum[ids] = xsum
        self.last[ids] = last
        self.csum[ids] = csum
        self._some_running = bool(np.count_nonzero(self.label >= 0))
        return _concat(ended), _concat(reported)

    def _update_channels(self, ids: np.ndarray, labels: np.ndarray, extra: np.ndarray,
                         centres: np.ndarray, label_power: np.ndarray,
                         prev_power: np.ndarray, edge_power: np.ndarray) -> tuple[Runs, Runs]:
        """:meth:`update` (durations from label powers) one channel at a time on plain
        numbers: the channels with a run going on are one or two on most ticks, where
        the array path's ~35 numpy calls a frame cost 1-4 us each whatever the length.

        Statement for statement the array path; a sum of two float32 powers is rounded
        to float32 as numpy's float32 addition rounds it (``_f32``); the runs that end
        are packed in the array path's order (frame, then channel).
        """
        bridge, switch_ends, hop = self.bridge, self.switch_ends, self.hop
        both_f32 = label_power.dtype == np.float32 and edge_power.dtype == np.float32
        ended: list[tuple[int, int, tuple[np.ndarray, ...]]] = []
        for i, ch in enumerate(ids.tolist()):
            lab = self.label.item(ch)
            hits = self.hits.item(ch)
            misses = self.misses.item(ch)
            esum = self.esum.item(ch)
            emax = self.emax.item(ch)
            ecen = self.ecentre.item(ch)
            xsum = self.xsum.item(ch)
            last = self.last.item(ch)
            csum = self.csum.item(ch)
            frames = label_power[i].tolist()
            edges = edge_power[i].tolist()
            before_row = prev_power[i].tolist()
            xs = extra[i].tolist()
            cs = centres[i].tolist()
            for j, new in enumerate(labels[i].tolist()):
                c = cs[j]
                active = lab >= 0
                same = active and new == lab
                other = new >= 0
                misses = 0 if same else misses + active
                end = active and misses > bridge
                if switch_ends:
                    end = end or (active and other and not same)
                # The run's own bins, every frame while it lasts (the array path's notes).
                e = min(edges[j][max(lab, 0)], emax)
                if active and not end and not (switch_ends and other and not same) \
                        and not same:
                    esum += e
                    ecen += e * c
                if end:
                    ended.append((j, i, self._pack(
                        np.array([ch], ids.dtype), _ONE_TRUE, np.array([lab], np.int16),
                        np.array([hits], np.int32), np.array([esum]), np.array([emax]),
                        np.array([ecen]), np.array([xsum]), np.array([last], np.int64),
                        np.array([c], centres.dtype), np.array([csum]))))
                start = other and (not active or end)
                lab = new if start else (-1 if end else lab)
                hits = 1 if start else hits + same
                if start:
                    misses = 0
                k = max(lab, 0)
                e = frames[j][k]
                before = edges[j - 1] if j else before_row
                lead = min(before[k], e)
                if start:
                    csum = e
                    # float32 + float32 in the array path when the frame before is in
                    # this block (the previous block's is kept as float64).
                    esum = _f32(e + lead) if j and both_f32 else e + lead
                    ecen = e * c + lead * (c - hop)
                    emax = e
                    xsum = xs[j]
                elif same:
                    csum += e
                    esum += e
                    ecen += e * c
                    emax = max(emax, e)
                    xsum += xs[j]
                if start or same:
                    last = c
            self.label[ch] = lab
            self.hits[ch] = hits
            self.misses[ch] = misses
            self.esum[ch] = esum
            self.emax[ch] = emax
            self.ecentre[ch] = ecen
            self.xsum[ch] = xsum
            self.last[ch] = last
            self.csum[ch] = csum
        ended.sort(key=lambda r: (r[0], r[1]))
        self._some_running = bool(np.count_nonzero(self.label >= 0))
        return _concat([p for _, _, p in ended]), _concat([])

    def _pack(self, ids, mask, lab, hits, esum, emax, ecen, xsum, last, now,
              csum=None) -> tuple:
        if csum is None:  # energy over the peak frame
            plateau = np.maximum(emax[mask], 1e-30)
        else:  # the run's bins over their mean on the labelled frames; a tone is steady
            # (the mean is near the top), speech is not: a run whose top is far above its
            # mean is measured against the top, as short as the old way had it (talk-off).
            plateau = np.maximum(np.maximum(csum[mask] / np.maximum(hits[mask], 1),
                                            PLATEAU_OF_PEAK * emax[mask]), 1e-30)
        duration = esum[mask] / plateau * self.hop
        centre = ecen[mask] / np.maximum(esum[mask], 1e-30)
        start = np.maximum(centre - duration / 2, 0)
        return (ids[mask], lab[mask].copy(), np.rint(start).astype(np.int64),
                np.rint(duration).astype(np.int64), hits[mask].copy(),
                xsum[mask] / np.maximum(hits[mask], 1), now[mask].astype(np.int64))


#: The caller's edge powers of the frame before the block, for the given rows of the
#: update's channels (None: all of them).
PrevPower = Callable[[np.ndarray | None], np.ndarray]


def _concat(parts: list[tuple[np.ndarray, ...]]) -> Runs:
    if not parts:
        e = np.zeros(0, np.int64)
        return Runs(e, e, e, e, e, np.zeros(0), e)
    cols = [np.concatenate(p) for p in zip(*parts, strict=True)]
    return Runs(*cols)


#: No runs: what an idle tick ends (shared; its arrays are empty).
NO_RUNS = _concat([])
_ONE_TRUE = np.ones(1, bool)


def _f32(x: float) -> float:
    """``x`` rounded to float32: a float32 sum done in float64 and rounded once is
    numpy's float32 sum (float64 has more than 2 x 24 + 2 bits: no double rounding)."""
    return float(np.float32(x))
