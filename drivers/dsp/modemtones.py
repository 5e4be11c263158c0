"""Fax and modem answer/calling tones (T.30, V.25, V.8), vectorised across channels.

Windows are spandsp's (modem_connect_tones.c and its tests; detection-anchors.md
section 2): CNG 1100 Hz detected within +-46 Hz and rejected beyond +-80 Hz, CED/ANS
2100 Hz detected within +-23 Hz and rejected beyond +-80 Hz; levels down to -43 dBm0
detected, -44 dBm0 rejected. The frequency decision uses the phase-advance estimate
(limits midway: +-63 Hz and +-50 Hz), the level the bin power corrected for that
offset, so both windows are met exactly rather than through a filter's skirt.

Timing, also spandsp's: CNG is reported after 415 ms of tone, 2100 Hz after 550 ms.
At that moment the 2100 Hz tone is classified:

* ``ansam`` (V.8): 15 Hz amplitude modulation (envelope 0.8-1.2), measured as the
  15 Hz component of the frame magnitudes;
* ``modem_ans`` (V.25 ANS with phase reversals, "ANS/"): a reversal 450 +- 25 ms
  after the tone began (the reversal cancels the frame's bin, which shows as a short
  bridged gap in the tone);
* ``fax_ced`` otherwise (T.30 CED, also a V.25 ANS without reversals).
"""

from __future__ import annotations

import numpy as np

CNG_HZ = 1100.0
CED_HZ = 2100.0
CNG_TOL_HZ = 63.0     # spandsp: detect within +-46 Hz, reject beyond +-80 Hz
CED_TOL_HZ = 50.0     # spandsp: detect within +-23 Hz, reject beyond +-80 Hz
FAX_MIN_LEVEL = 10 ** (-43.5 / 10)  # spandsp: detect at -43 dBm0, reject at -44 dBm0
CNG_FRAMES = 83       # 415 ms of 5 ms frames (spandsp)
CED_FRAMES = 110      # 550 ms (spandsp)
GAP_FRAMES = 3        # a reversal or a 15 ms drop-out is bridged
AM_HZ = 15.0          # V.8 ANSam modulation
AM_MIN_DEPTH = 0.10   # V.8: envelope 0.8..1.2, i.e. depth 0.2
REV_MIN_MS, REV_MAX_MS = 380.0, 520.0  # V.25: 450 +- 25 ms, +- frame timing

#: The names this module reports: each means a fax machine or a modem is on the line
#: (AMD's ``fax`` verdict; signalling's FAX_TONES holds the same names).
ANSWER_TONES = frozenset({"fax_cng", "fax_ced", "modem_ans", "ansam"})

CNG_LABEL = 3
CED_LABEL = 4


class ModemToneState:
    """Per-channel counters for CNG and the 2100 Hz family (arrays, one row a channel)."""

    #: At most this many active channels an update take the per-channel path
    #: (:meth:`_update_channels`); both decide alike (tests/detector/test_modem_paths.py).
    channels_path_max = 16

    def __init__(self, n: int) -> None:
        self.cng_hits = np.zeros(n, np.int32)
        self.cng_gap = np.zeros(n, np.int32)
        self.cng_start = np.zeros(n, np.int64)
        self.ced_hits = np.zeros(n, np.int32)
        self.ced_gap = np.zeros(n, np.int32)
        self.ced_start = np.zeros(n, np.int64)
        self.first_rev = np.full(n, -1, np.int64)
        self.am_s = np.zeros(n, np.complex128)
        self.am_m = np.zeros(n, np.float64)
        self.am_w = np.zeros(n, np.complex128)
        self.am_n = np.zeros(n, np.int32)
        self.done_cng = np.zeros(n, bool)
        self.done_ced = np.zeros(n, bool)
        #: Some channel's CNG or 2100 Hz counter is going (set by :meth:`update`, the
        #: only place they count up): while none is, :meth:`idle` needs no gather.
        self._some_counting = False

    def reset(self, ch) -> None:
        for a in (self.cng_hits, self.cng_gap, self.ced_hits, self.ced_gap):
            a[ch] = 0
        self.first_rev[ch] = -1
        self.am_s[ch] = 0
        self.am_m[ch] = 0
        self.am_w[ch] = 0
        self.am_n[ch] = 0
        self.done_cng[ch] = False
        self.done_ced[ch] = False

    def idle(self, ids: np.ndarray, labels: np.ndarray, labelled: bool = True) -> bool:
        """No CNG or 2100 Hz frame in ``labels`` and none counting at ``ids``:
        :meth:`update` would do nothing (the caller skips building its inputs).
        ``labelled=False``: the caller knows no frame of ``labels`` is labelled."""
        return not ((labelled and np.count_nonzero(labels >= CNG_LABEL)) or (
            self._some_counting and (np.count_nonzero(self.cng_hits[ids])
                                     or np.count_nonzero(self.ced_hits[ids]))))

    def _note_counting(self) -> None:
        self._some_counting = bool(np.count_nonzero(self.cng_hits)
                                   or np.count_nonzero(self.ced_hits))

    def update(self, ids: np.ndarray, labels: np.ndarray, mag2100: np.ndarray,
               centres: np.ndarray) -> list[tuple[int, str, int]]:
        """Advance by (k, frames) labels; returns (channel, tone name, onset) decisions."""
        active = ((labels == CNG_LABEL) | (labels == CED_LABEL)).any(axis=1)
        active |= (self.cng_hits[ids] > 0) | (self.ced_hits[ids] > 0)
        if np.count_nonzero(active) < active.size:
            sel = active.nonzero()[0]
            if sel.size == 0:
                return []
            ids, labels, mag2100, centres = ids[sel], labels[sel], mag2100[sel], centres[sel]
        if ids.size <= self.channels_path_max:
            return self._update_channels(ids, labels, mag2100, centres)
        ch_hits, ch_gap, ch_start = self.cng_hits[ids], self.cng_gap[ids], self.cng_start[ids]
        a_hits, a_gap, a_start = self.ced_hits[ids], self.ced_gap[ids], self.ced_start[ids]
        first_rev, am_s, am_m = self.first_rev[ids], self.am_s[ids], self.am_m[ids]
        am_w, am_n = self.am_w[ids], self.am_n[ids]
        for j in range(labels.shape[1]):
            lab = labels[:, j]
            c = centres[:, j]
            is_c = lab == CNG_LABEL
            ch_start = np.where(is_c & (ch_hits == 0), c, ch_start)
            ch_gap = np.where(is_c, 0, ch_gap + (ch_hits > 0))
            ch_hits = np.where(is_c, ch_hits + 1, np.where(ch_gap > GAP_FRAMES, 0, ch_hits))
            is_a = lab == CED_LABEL
            fresh = is_a & (a_hits == 0)
            a_start = np.where(fresh, c, a_start)
            first_rev = np.where(fresh, -1, first_rev)
            am_s = np.where(fresh, 0, am_s)
            am_m = np.where(fresh, 0, am_m)
            am_w = np.where(fresh, 0, am_w)
            am_n = np.where(fresh, 0, am_n)
            bridged = is_a & (a_gap > 0) & (a_hits > 0) & (first_rev < 0)
            first_rev = np.where(bridged, c, first_rev)
            a_gap = np.where(is_a, 0, a_gap + (a_hits > 0))
            a_hits = np.where(is_a, a_hits + 1, np.where(a_gap > GAP_FRAMES, 0, a_hits))
            m = np.where(is_a, mag2100[:, j], 0.0)
            rot = np.exp(-2j * np.pi * AM_HZ * c / 8000)
            am_s = am_s + m * rot
            am_m = am_m + m
            am_w = am_w + np.where(is_a, rot, 0)
            am_n = am_n + is_a
        self.cng_hits[ids], self.cng_gap[ids], self.cng_start[ids] = ch_hits, ch_gap, ch_start
        self.ced_hits[ids], self.ced_gap[ids], self.ced_start[ids] = a_hits, a_gap, a_start
        self.first_rev[ids], self.am_s[ids], self.am_m[ids] = first_rev, am_s, am_m
        self.am_w[ids], self.am_n[ids] = am_w, am_n
        self._note_counting()
        return self._decide(ids, ch_hits, ch_start, a_hits, a_start, first_rev, am_s, am_m,
                            am_w, am_n)

    def _update_channels(self, ids: np.ndarray, labels: np.ndarray, mag2100: np.ndarray,
                         centres: np.ndarray) -> list[tuple[int, str, int]]:
        """:meth:`update` one channel at a time on plain numbers (a few channels with
        CNG or 2100 Hz going on: the array path's ~30 numpy calls a frame cost 1-4 us
        each whatever the length). Statement for statement the array path; the 15 Hz
        rotations are numpy's, computed as the array path computes them, and the
        decisions are the array path's own (:meth:`_decide`)."""
        rots = [np.exp(-2j * np.pi * AM_HZ * centres[:, j] / 8000).tolist()
                for j in range(labels.shape[1])]
        decide = False
        for i, ch in enumerate(ids.tolist()):
            ch_hits, ch_gap = self.cng_hits.item(ch), self.cng_gap.item(ch)
            ch_start = self.cng_start.item(ch)
            a_hits, a_gap, a_start = self.ced_hits.item(ch), self.ced_gap.item(ch), \
                self.ced_start.item(ch)
            first_rev, am_s, am_m = self.first_rev.item(ch), self.am_s.item(ch), \
                self.am_m.item(ch)
            am_w, am_n = self.am_w.item(ch), self.am_n.item(ch)
            ms = mag2100[i].tolist()
            cs = centres[i].tolist()
            for j, lab in enumerate(labels[i].tolist()):
                c = cs[j]
                is_c = lab == CNG_LABEL
                if is_c and ch_hits == 0:
                    ch_start = c
                ch_gap = 0 if is_c else ch_gap + (ch_hits > 0)
                ch_hits = ch_hits + 1 if is_c else (0 if ch_gap > GAP_FRAMES else ch_hits)
                is_a = lab == CED_LABEL
                if is_a and a_hits == 0:
                    a_start, first_rev, am_s, am_m, am_w, am_n = c, -1, 0j, 0.0, 0j, 0
                if is_a and a_gap > 0 and a_hits > 0 and first_rev < 0:
                    first_rev = c
                a_gap = 0 if is_a else a_gap + (a_hits > 0)
                a_hits = a_hits + 1 if is_a else (0 if a_gap > GAP_FRAMES else a_hits)
                m = ms[j] if is_a else 0.0
                rot = rots[j][i]
                am_s = am_s + m * rot
                am_m = am_m + m
                am_w = am_w + (rot if is_a else 0j)
                am_n += is_a
            self.cng_hits[ch], self.cng_gap[ch], self.cng_start[ch] = ch_hits, ch_gap, ch_start
            self.ced_hits[ch], self.ced_gap[ch], self.ced_start[ch] = a_hits, a_gap, a_start
            self.first_rev[ch], self.am_s[ch], self.am_m[ch] = first_rev, am_s, am_m
            self.am_w[ch], self.am_n[ch] = am_w, am_n
            decide |= (ch_hits >= CNG_FRAMES and not self.done_cng[ch]) or \
                (a_hits >= CED_FRAMES and not self.done_ced[ch])
        self._note_counting()
        if not decide:
            return []
        return self._decide(ids, self.cng_hits[ids], self.cng_start[ids], self.ced_hits[ids],
                            self.ced_start[ids], self.first_rev[ids], self.am_s[ids],
                            self.am_m[ids], self.am_w[ids], self.am_n[ids])

    def _decide(self, ids: np.ndarray, ch_hits: np.ndarray, ch_start: np.ndarray,
                a_hits: np.ndarray, a_start: np.ndarray, first_rev: np.ndarray,
                am_s: np.ndarray, am_m: np.ndarray, am_w: np.ndarray,
                am_n: np.ndarray) -> list[tuple[int, str, int]]:
        """The tones the counters now name (CNG, then the 2100 Hz family)."""
        out: list[tuple[int, str, int]] = []
        new_cng = (ch_hits >= CNG_FRAMES) & ~self.done_cng[ids]
        for i in new_cng.nonzero()[0]:
            ch = int(ids[i])
            self.done_cng[ch] = True
            out.append((ch, "fax_cng", int(max(ch_start[i] - 24, 0))))
        new_ced = (a_hits >= CED_FRAMES) & ~self.done_ced[ids]
        for i in new_ced.nonzero()[0]:
            ch = int(ids[i])
            self.done_ced[ch] = True
            # 15 Hz component of the magnitudes, less the leakage of their mean.
            mean = am_m[i] / max(am_n[i], 1)
            depth = 2 * abs(am_s[i] - mean * am_w[i]) / max(am_m[i], 1e-30)
            rev_ms = (first_rev[i] - a_start[i]) / 8 if first_rev[i] >= 0 else -1
            if depth >= AM_MIN_DEPTH:
                name = "ansam"
            elif REV_MIN_MS <= rev_ms <= REV_MAX_MS:
                name = "modem_ans"
            else:
                name = "fax_ced"
            out.append((ch, name, int(max(a_start[i] - 24, 0))))
        return out
