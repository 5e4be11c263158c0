"""Music ring-back (colour ring-back, 彩铃) before the answer, and speech replacing it.

One job: from each 20 ms block's level, its VAD and tone flags and its samples, tell a
song played instead of ring-back from speech (``tone`` ``music``), and once it was
named, tell the callee's greeting replacing it (``voice``). List cleaning releases on
``music`` before a person answers (docs/list-cleaning.md); a line with no answer signal
takes the ``voice`` after it as the answer.

Sans-IO: no clock, no audio path; the :class:`~trunkline.drivers.dsp.detector.Detector`
calls :meth:`MusicRingback.update` in its tick for the channels still before the answer,
and applies what the ``voice`` it returns means for the VAD. Time is sample counts since
the channel's detection started, as everywhere in the detector.

The rules are here twice, on arrays (:meth:`MusicRingback._update_arrays`, many
channels) and on plain numbers one channel at a time
(:meth:`MusicRingback._update_channels`, a few channels: numpy's per-call cost
dominates small ticks); the two stay side by side so a change to one is seen beside the
other, and tests/detector/test_music_paths.py checks them equal.
"""

from __future__ import annotations

import numpy as np

from trunkline.drivers.dsp.events import DetectionEvent, ToneEvent, VoiceEvent
from trunkline.drivers.dsp.vad import VOICE_MIN_DBM0

BLOCK = 160

#: Music ring-back (colour ring-back, 彩铃): >= 3 s of sound that is neither a tone nor
#: speech-like -- speech dips >= 15 dB between syllables and pauses between words,
#: music rarely does. The sound runs until MUSIC_GAP_BLOCKS (160 ms) in a row that are
#: neither voiced nor, inside the run, within 15 dB of its running peak (and over
#: VOICE_MIN_DBM0), or are a tone or hiss: the VAD's floor alone would cut music at ring-back
#: levels, as its floor is the quietest block of the last second -- in music the
#: music's own soft notes, held at -40 dBm0 at most -- so at -30 dBm0 half of a real
#: song's blocks were not "voiced" and its run kept restarting (5 Opsound tracks,
#: benchmarks/music_ringback_real.py). A lone tonal block (a pure note) no longer
#: restarts the run; a tone of 160 ms does.
MUSIC_MIN_BLOCKS = 150
MUSIC_MAX_DIP_SHARE = 0.06
MUSIC_GAP_BLOCKS = 8
MUSIC_DIP_DB = 15.0
#: Real music moves in level more often than the 1 s rule below allows (beats,
#: strums), but its dips stay rare: after 1.5 s, at most 2 % of the run's blocks 15 dB
#: under the running peak (one dip) is music. benchmarks/music_ringback_real.py (five
#: real songs, a start every 10 s, -15 to -30 dBm0, A-law/mu-law, line noise): 80 % of
#: 440 starts named within 2 s, 46 % before this rule and the run change above; 0 of
#: 5,684 starts of real speech (the shared real-audio set, Asterisk's Allison prompts,
#: the emulated network's Mandarin and English clips). At 1.2 s with no dip allowed,
#: 66 of 12,662 starts of the Allison prompts were named.
MUSIC_SOON_BLOCKS = 75
MUSIC_SOON_DIP_SHARE = 0.02
#: Steady music is told from speech after 1 s already, so a person who answers 2 s into
#: a music ring-back is not answered by a call meant only to ring (list cleaning) nor
#: left unheard (a line with no answer signal takes voice after ring-back as the answer):
#: over the last 50 blocks (1 s) of the run, no 15 dB dip and at most 3 blocks whose level
#: moved more than 3 dB from the block before: a tune's notes start with a jump every
#: 250-500 ms and hold; speech's syllables move it far more often. Not after a fax or
#: modem answer tone (CED, ANS, ANSam) on the channel: the V.21 flags that follow are as
#: steady. None of 566
#: starts of the real speech in shared/testdata/real-audio (announcements, greetings, read
#: English and Mandarin, speech over noise; a start every 0.25 s) passes; with 4 moves
#: allowed, one synthetic (TTS) announcement did. Music that is not this steady
#: (percussive, with breaks) still waits for the 3 s rule above.
MUSIC_EARLY_BLOCKS = 50
MUSIC_MOVE_DB = 3.0
MUSIC_MAX_MOVES = 3
#: A block whose zero-crossing rate is above this is hiss, not a tune, and counts as a
#: move: steady broadband noise is as level as a held note (white noise crosses zero at
#: about half the samples; a tune's partials in the 300-3400 Hz telephone band far less
#: often), and loud line hiss must not be taken for music ring-back.
MUSIC_HISS_ZCR = 0.4
_EARLY_MASK = np.uint64((1 << MUSIC_EARLY_BLOCKS) - 1)
_LEAVING = np.uint64(1 << (MUSIC_EARLY_BLOCKS - 1))  # the oldest block's bit
_ONE = np.uint64(1)
_NO_HIT = np.zeros(0, bool)
_EARLY_MASK_INT, _LEAVING_INT = int(_EARLY_MASK), int(_LEAVING)
#: Music ring-back giving way to speech (answered on a line without an answer signal;
#: the greeting starts as the music stops). Speech pauses between syllables and words:
#: >= 3 of 4 blocks 15 dB under the running peak, which steady music never shows. The
#: speech before that pause began where the level first jumped (>= 6 dB from one block
#: to the next) after >= 100 ms of steady music, at most 0.5 s before the pause; music
#: that merely stops has no such jump and is left to the silence that follows.
PAUSE_BLOCKS = 3
LEVEL_RING = 40
ONSET_LOOKBACK = 25
STEADY_BLOCKS = 5
CHANGE_DB = 6.0
MUSIC_NONE, MUSIC_HEARD, MUSIC_ANSWERED = 0, 1, 2
_POPCOUNT = np.array([bin(i).count("1") for i in range(16)], np.int8)


class MusicRingback:
    """The music ring-back rules' state for ``n`` channels, one array element each
    (carried from block to block like the rest of the detector's state)."""

    #: At most this many channels in a tick take the rules' per-channel path
    #: (:meth:`_update_channels`); both give the same events and state
    #: (tests/detector/test_music_paths.py).
    channels_max = 16
    #: Over this many channels in a tick, the idle ones (no run, no voice, no music to
    #: watch) are aged apart first (:meth:`update`); under it the mask costs more than
    #: the plain path spends on them.
    idle_from = 8

    def __init__(self, n: int) -> None:
        self.run = np.zeros(n, np.int32)
        self.gap = np.zeros(n, np.int32)
        self.dips = np.zeros(n, np.int32)
        self.peak = np.full(n, -200.0)
        self.last = np.zeros(n, np.float32)  # the last block's level (dB)
        # the last MUSIC_EARLY_BLOCKS blocks of the run, one bit each: the level moved
        # more than MUSIC_MOVE_DB (column 0) / dipped MUSIC_DIP_DB (column 1); and how
        # many moved
        self.window = np.zeros((n, 2), np.uint64)
        self.moves = np.zeros(n, np.int32)
        self.modem = np.zeros(n, bool)  # a fax or modem answer tone was heard
        self.state = np.zeros(n, np.int8)   # MUSIC_NONE, MUSIC_HEARD, MUSIC_ANSWERED
        self.bits = np.zeros(n, np.int8)    # dips of the last 4 blocks (after the music)
        self.levels = np.zeros((n, LEVEL_RING), np.float32)

    def reset(self, ch: int) -> None:
        """Forget ``ch``'s sound (detection restarted on it)."""
        self.run[ch] = self.gap[ch] = self.dips[ch] = 0
        self.peak[ch] = -200.0
        self.window[ch] = 0
        self.moves[ch] = 0
        self.modem[ch] = False
        self.state[ch] = MUSIC_NONE
        self.bits[ch] = 0

    def answer_tone_heard(self, ch: int) -> None:
        """A fax or modem answer tone on ``ch``: the steady 1 s rule no longer holds
        (the V.21 flags that follow are as steady as a held note)."""
        self.modem[ch] = True

    def heard(self, ch: int) -> bool:
        """Whether ``music`` was named on ``ch`` since detection started."""
        return bool(self.state[ch] != MUSIC_NONE)

    def update(self, ids: np.ndarray, block: np.ndarray, level_db: np.ndarray,
               voiced: np.ndarray, tonal: np.ndarray, pos: np.ndarray,
               ) -> list[DetectionEvent]:
        """One block (k x 160 samples) of channels ``ids`` before their answer: each
        block's level (dB), VAD and tone flags, its first sample's position. Returns
        ``tone`` ``music`` as it is named and ``voice`` where speech replaced it (its
        onset is where the speech began: the caller's VAD takes it as the onset of the
        voice going on)."""
        if ids.size > self.idle_from:
            # Most channels most ticks before the answer hear ring-back tone or silence:
            # no run going on, its gap long past, no voice, no music to watch. For them
            # the rules below only age the gap and carry the level (their run, dips,
            # window and moves are already 0, as a run that ended left them), so they
            # are done here and the rules run on the rest, usually few enough for the
            # plain-number path (issue 15 item 6: most of a 32-channel tick's music cost
            # was the array path run for ring-back). tests/detector/test_music_paths.py
            # checks the same events and state as without it.
            idle = (self.run[ids] == 0) & (self.gap[ids] >= MUSIC_GAP_BLOCKS) & ~voiced
            idle &= self.state[ids] != MUSIC_HEARD
            n_idle = int(np.count_nonzero(idle))
            if n_idle:
                still = ids[idle]
                level = level_db[idle]
                self.gap[still] += 1
                self.peak[still] = np.maximum(level, self.peak[still] - 0.15)
                self.last[still] = level
                if n_idle == ids.size:
                    return []
                rest = (~idle).nonzero()[0]
                ids, block, level_db = ids[rest], block[rest], level_db[rest]
                voiced, tonal, pos = voiced[rest], tonal[rest], pos[rest]
        negative = np.signbit(block)
        crossings = np.add.reduce(negative[:, 1:] != negative[:, :-1], axis=1)
        hiss = crossings > MUSIC_HISS_ZCR * (BLOCK - 1)
        if ids.size <= self.channels_max:
            return self._update_channels(ids, level_db, voiced, tonal, pos, hiss)
        return self._update_arrays(ids, level_db, voiced, tonal, pos, hiss)

    def _update_arrays(self, ids, level_db, voiced, tonal, pos, hiss) -> list[DetectionEvent]:
        old_run = self.run[ids]
        sound = voiced | ((old_run > 0) & ~tonal & ~hiss & (level_db >= VOICE_MIN_DBM0)
                          & (level_db >= self.peak[ids] - MUSIC_DIP_DB))
        gap = np.where(sound, 0, self.gap[ids] + 1)
        run = np.where(gap >= MUSIC_GAP_BLOCKS, 0, old_run + 1)
        fresh = run <= 1
        peak = np.where(run == 1, level_db, np.maximum(level_db, self.peak[ids] - 0.15))
        dip = level_db < peak - MUSIC_DIP_DB
        dips = self.dips[ids] + dip
        dips[fresh] = 0
        moved = (np.abs(level_db - self.last[ids]) > MUSIC_MOVE_DB) | hiss
        moved[fresh] = False
        dip[fresh] = False
        # The last MUSIC_EARLY_BLOCKS blocks' "moved" and "dipped" bits, one row each.
        bits = self.window[ids]
        bits[fresh] = 0
        leaving = bits[:, 0] >= _LEAVING
        bits <<= _ONE
        bits[:, 0] |= moved
        bits[:, 1] |= dip
        bits &= _EARLY_MASK
        moves = self.moves[ids] + moved - leaving
        moves[fresh] = 0
        self.window[ids] = bits
        self.moves[ids], self.last[ids] = moves, level_db
        self.gap[ids], self.run[ids], self.peak[ids], self.dips[ids] = gap, run, peak, dips
        mstate = self.state[ids]
        out: list[DetectionEvent] = []
        # Neither rule holds before MUSIC_EARLY_BLOCKS of the run (MUSIC_MIN_BLOCKS is
        # longer): most ticks need no more than this test.
        candidate = (run >= MUSIC_EARLY_BLOCKS) & (mstate == MUSIC_NONE)
        if np.count_nonzero(candidate):
            steady = (bits[:, 1] == 0) & (moves <= MUSIC_MAX_MOVES) & ~self.modem[ids]
            hit = (steady | (run >= MUSIC_MIN_BLOCKS) & (dips <= MUSIC_MAX_DIP_SHARE * run)
                   | (run >= MUSIC_SOON_BLOCKS) & (dips <= MUSIC_SOON_DIP_SHARE * run)) & \
                candidate
        else:
            hit = _NO_HIT
        for i in hit.nonzero()[0]:
            ch = int(ids[i])
            self.state[ch] = MUSIC_HEARD
            onset = max(int(pos[i]) + BLOCK - int(run[i]) * BLOCK, 0)
            out.append(ToneEvent(ch, onset, int(pos[i]) + BLOCK, "music", confidence=0.8))
            self.levels[ch] = level_db[i]  # level history starts here, steady
            self.bits[ch] = 0
        # After the music: a speech pause following a jump in level is the callee talking.
        watch = mstate == MUSIC_HEARD
        if np.count_nonzero(watch):
            out += self._after_music(ids[watch], level_db[watch], peak[watch], pos[watch])
        return out

    def _update_channels(self, ids, level_db, voiced, tonal, pos,
                         hiss) -> list[DetectionEvent]:
        """:meth:`_update_arrays` one channel at a time on plain numbers (a few channels
        before the answer: the array path's ~40 numpy calls cost 1-4 us each whatever
        the length). Statement for statement the array path; events in its order."""
        lv_l, v_l, t_l, h_l = level_db.tolist(), voiced.tolist(), tonal.tolist(), hiss.tolist()
        peaks: list[float] = []
        hits: list[tuple[int, int]] = []
        watch: list[int] = []
        for i, ch in enumerate(ids.tolist()):
            lv = lv_l[i]
            old_run, old_peak = self.run.item(ch), self.peak.item(ch)
            sound = v_l[i] or (old_run > 0 and not t_l[i] and not h_l[i]
                               and lv >= VOICE_MIN_DBM0 and lv >= old_peak - MUSIC_DIP_DB)
            gap = 0 if sound else self.gap.item(ch) + 1
            run = 0 if gap >= MUSIC_GAP_BLOCKS else old_run + 1
            fresh = run <= 1
            peak = lv if run == 1 else max(lv, old_peak - 0.15)
            dip = lv < peak - MUSIC_DIP_DB
            moved = abs(lv - self.last.item(ch)) > MUSIC_MOVE_DB or h_l[i]
            if fresh:
                dips = moves = 0
                moved = dip = False
                bits0 = bits1 = 0
            else:
                dips = self.dips.item(ch) + dip
                bits0, bits1 = self.window[ch].tolist()
            leaving = bits0 >= _LEAVING_INT
            bits0 = ((bits0 << 1) | moved) & _EARLY_MASK_INT
            bits1 = ((bits1 << 1) | dip) & _EARLY_MASK_INT
            if not fresh:
                moves = self.moves.item(ch) + moved - leaving
            self.window[ch] = (bits0, bits1)
            self.moves[ch], self.last[ch] = moves, lv
            self.gap[ch], self.run[ch], self.peak[ch], self.dips[ch] = gap, run, peak, dips
            peaks.append(peak)
            state = self.state.item(ch)
            if run >= MUSIC_EARLY_BLOCKS and state == MUSIC_NONE:
                steady = bits1 == 0 and moves <= MUSIC_MAX_MOVES and not self.modem[ch]
                if steady or (run >= MUSIC_MIN_BLOCKS and dips <= MUSIC_MAX_DIP_SHARE * run) \
                        or (run >= MUSIC_SOON_BLOCKS and dips <= MUSIC_SOON_DIP_SHARE * run):
                    hits.append((i, run))
            elif state == MUSIC_HEARD:
                watch.append(i)
        out: list[DetectionEvent] = []
        for i, run in hits:
            ch = int(ids[i])
            self.state[ch] = MUSIC_HEARD
            onset = max(int(pos[i]) + BLOCK - run * BLOCK, 0)
            out.append(ToneEvent(ch, onset, int(pos[i]) + BLOCK, "music", confidence=0.8))
            self.levels[ch] = level_db[i]  # level history starts here, steady
            self.bits[ch] = 0
        if watch:
            w = np.array(watch)
            out += self._after_music(ids[w], level_db[w], np.array(peaks)[w], pos[w])
        return out

    def _after_music(self, ids, level_db, peak, pos) -> list[DetectionEvent]:
        """Channels whose music was reported: a ``voice`` when speech replaces it."""
        out: list[DetectionEvent] = []
        block_no = pos // BLOCK
        self.levels[ids, block_no % LEVEL_RING] = level_db
        old = self.bits[ids]
        bits = ((old << 1) | (level_db < peak - MUSIC_DIP_DB)) & 15
        self.bits[ids] = bits
        pause = (_POPCOUNT[bits] >= PAUSE_BLOCKS) & (_POPCOUNT[old] < PAUSE_BLOCKS)
        for i in pause.nonzero()[0]:
            ch = int(ids[i])
            onset_block = self._speech_onset(ch, int(block_no[i]), int(bits[i]))
            if onset_block is None:
                continue
            self.state[ch] = MUSIC_ANSWERED
            out.append(VoiceEvent(ch, onset_block * BLOCK, int(pos[i]) + BLOCK))
        return out

    def _speech_onset(self, ch: int, block_no: int, bits: int) -> int | None:
        """Block where speech replaced the music, given a pause ending at ``block_no``."""
        first_dip = block_no - (bits.bit_length() - 1)
        hi = first_dip - 1  # the last block before the pause
        lo = max(first_dip - ONSET_LOOKBACK, block_no - LEVEL_RING + STEADY_BLOCKS + 2,
                 STEADY_BLOCKS + 1)
        if hi - lo < 2:
            return None
        ring = self.levels[ch]
        lv = ring[np.arange(lo - STEADY_BLOCKS - 1, hi + 1) % LEVEL_RING].astype(np.float64)
        jump = np.abs(np.diff(lv)) >= CHANGE_DB  # jump[j]: block lo - STEADY_BLOCKS + j
        for j in range(STEADY_BLOCKS, len(jump) - 2):
            if jump[j] and not jump[j - STEADY_BLOCKS:j].any():
                return lo - STEADY_BLOCKS + j
        return None
