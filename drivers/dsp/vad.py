"""Voice activity: an energy detector with an adaptive noise floor, vectorised.

Per 20 ms block a channel is *voiced* when its level is >= 10 dB above its noise
floor and above -48 dBm0, and the block is not a recognised tone (ringback, SIT, fax,
DTMF are never voice: ringback must never pass for an answer, DESIGN.md). The noise
floor is the quietest block of the last 0.8-1 s (minimum statistics, R. Martin, "Noise
power spectral density estimation based on optimal smoothing and minimum statistics",
IEEE Trans. Speech Audio Proc. 9(5), 2001: speech pauses between syllables and words
reach the noise within that time), kept in four sub-windows of 200 ms so it costs a
few array operations per block; it never exceeds -40 dBm0 and never goes under -70 dBm0.
The bounds matter: louder "noise" without a pause is sound (music, a greeting starting
at the answer), not a line's idle noise; and digital silence (an idle codec, the
seconds before the far end's audio path is through) is no floor at all -- a floor
learnt on it made room noise that followed count as one long utterance (a person over
background noise taken for a machine, issue 15). Asterisk's AMD uses a fixed threshold
(mean |x| of 256, about -41 dBm0; detection-anchors.md section 3), which fails on noisy
lines; an adaptive floor does not.

Events: ``voice`` once 60 ms of voice are seen (3 of the last blocks), ``silence``
after 500 ms without voice (and at the start, if the channel opens silent). A tone of
200 ms or more ends a stretch of voice: speech that follows a tone at once (a greeting
right after a ringback burst or a busy tone's on-part) is a new ``voice``, even when the
tone was too short for a ``silence``.
"""

from __future__ import annotations

import numpy as np

VOICE_ABOVE_FLOOR_DB = 10.0
VOICE_MIN_DBM0 = -48.0
#: The floor never exceeds -40 dBm0: louder "noise" without a pause is sound (music,
#: a greeting starting at the moment of answer), not a line's idle noise.
FLOOR_MAX_DB = -40.0
#: Nor goes under -70 dBm0: digital silence is not a line's noise.
FLOOR_MIN_DB = -70.0
#: Minimum statistics: the floor is the minimum over FLOOR_SUBWINDOWS completed
#: sub-windows of FLOOR_SUB_BLOCKS blocks and the current one (0.8-1 s).
FLOOR_SUB_BLOCKS = 10
FLOOR_SUBWINDOWS = 4
_UNSEEN = 200.0
VOICE_ON_BLOCKS = 3
SILENCE_BLOCKS = 25
#: Tone blocks in a row that end a stretch of voice (shorter than 500 ms of silence).
TONE_BREAK_BLOCKS = 10
UNKNOWN, VOICE, SILENCE = 0, 1, 2
#: The voiced, silent and tonal counts (counters' columns 1-3) at which the state may
#: change; column 0 (blocks in the sub-window, >= 0) never matches its -1.
_MARKS = np.array([-1, VOICE_ON_BLOCKS, SILENCE_BLOCKS, TONE_BREAK_BLOCKS], np.int32)
#: Up to this many channels a tick asks whether any count is at its mark: on more, one
#: almost always is, and the question would only add to the tick.
MARKS_CHANNELS_MAX = 64


class Vad:
    """Per-channel VAD state in arrays."""

    def __init__(self, n: int) -> None:
        self.floor = np.full(n, _UNSEEN)
        # The completed sub-windows' minima, a ring (only their minimum is read, so the
        # order does not matter): ``sub_at`` is the slot the next one replaces, and
        # ``sub_best`` their minimum, kept so a block needs no reduction over them.
        self.sub_min = np.full((n, FLOOR_SUBWINDOWS), _UNSEEN)
        self.sub_at = np.zeros(n, np.intp)
        self.sub_best = np.full(n, _UNSEEN)
        self.cur_min = np.full(n, _UNSEEN)
        # The four block counters in one array (blocks in the current sub-window, voiced,
        # silent and tonal blocks in a row), so a tick gathers, advances and stores them
        # with a few numpy calls instead of a dozen; the old names are its columns.
        self.counters = np.zeros((n, 4), np.int32)
        self.sub_n = self.counters[:, 0]
        self.vrun = self.counters[:, 1]
        self.srun = self.counters[:, 2]
        self.trun = self.counters[:, 3]
        self.state = np.zeros(n, np.int8)
        self.onset = np.zeros(n, np.int64)     # onset of the latest ``voice``

    def reset(self, ch) -> None:
        self.floor[ch] = _UNSEEN
        self.sub_min[ch] = _UNSEEN
        self.sub_at[ch] = 0
        self.sub_best[ch] = _UNSEEN
        self.cur_min[ch] = _UNSEEN
        self.sub_n[ch] = 0
        self.vrun[ch] = 0
        self.srun[ch] = 0
        self.trun[ch] = 0
        self.state[ch] = UNKNOWN
        self.onset[ch] = 0

    def running_since(self, ch: int) -> int | None:
        """Onset of the voice still going on at ``ch`` (None when it is not in voice)."""
        return int(self.onset[ch]) if self.state[ch] == VOICE else None

    def update(self, ids: np.ndarray, level_db: np.ndarray, tonal: np.ndarray,
               block_start: np.ndarray) -> tuple[np.ndarray, list[tuple[int, str, int]]]:
        """Returns the raw voiced flags (k,) and (channel, 'voice'|'silence', onset) changes.

        ``block_start`` is each channel's sample count at the start of this block.
        """
        cur = np.minimum(self.cur_min[ids], np.maximum(level_db, FLOOR_MIN_DB))
        floor = np.minimum(np.minimum(cur, self.sub_best[ids]), FLOOR_MAX_DB)
        self.floor[ids] = floor
        counters = self.counters[ids]
        counters += 1
        n_sub = counters[:, 0]
        full = n_sub >= FLOOR_SUB_BLOCKS
        if np.count_nonzero(full):
            done = ids[full]
            at = self.sub_at[done]
            self.sub_min[done, at] = cur[full]  # replaces the oldest sub-window
            self.sub_at[done] = (at + 1) % FLOOR_SUBWINDOWS
            self.sub_best[done] = np.minimum.reduce(self.sub_min[done], axis=1)
            cur[full] = _UNSEEN
            n_sub[full] = 0
        self.cur_min[ids] = cur
        # Over the threshold and not a tone (on booleans, a > b is a and not b).
        voiced = (level_db >= np.maximum(floor + VOICE_ABOVE_FLOOR_DB, VOICE_MIN_DBM0)) > tonal
        vrun, srun, trun = counters[:, 1], counters[:, 2], counters[:, 3]
        vrun *= voiced
        srun *= ~voiced
        trun *= tonal
        self.counters[ids] = counters
        # The state changes only where a count is at its mark (voice on, silence, a
        # tone's break) this tick: past its mark a count has already changed the state,
        # and every way out of that state restarts the count (voice restarts the
        # silence count, a tone or silence the voice count, and a tone's break needs
        # VOICE with tones counted from 0). Most ticks of a few channels none is: no
        # state is read (on many channels some count always is: not asked).
        if ids.size <= MARKS_CHANNELS_MAX and not np.count_nonzero(counters == _MARKS):
            return voiced, []
        state = self.state[ids]
        broken = trun == TONE_BREAK_BLOCKS
        if np.count_nonzero(broken):
            broken &= state == VOICE
            state = np.where(broken, UNKNOWN, state).astype(np.int8)
            self.state[ids[broken]] = UNKNOWN
        to_voice = (vrun >= VOICE_ON_BLOCKS) & (state != VOICE)
        to_silence = (srun >= SILENCE_BLOCKS) & (state != SILENCE)
        changes: list[tuple[int, str, int]] = []
        if np.count_nonzero(to_voice) or np.count_nonzero(to_silence):
            for i in to_voice.nonzero()[0]:
                self.state[ids[i]] = VOICE
                onset = int(max(block_start[i] - (vrun[i] - 1) * 160, 0))
                self.onset[ids[i]] = onset
                changes.append((int(ids[i]), "voice", onset))
            for i in to_silence.nonzero()[0]:
                self.state[ids[i]] = SILENCE
                changes.append((int(ids[i]), "silence",
                                int(max(block_start[i] - (srun[i] - 1) * 160, 0))))
        return voiced, changes
