"""Answering-machine detection: human / machine / notsure from the audio after answer.

Asterisk's app_amd (detection-anchors.md section 3) counts words and greeting length
and calls MACHINE on 2.5 s of initial silence. That rule turns every person who
answers and waits into a machine, and Ofcom counts each such error as an abandoned
call (<= 3 % per campaign; a 99 %-accurate AMD already uses 4 of the 6 allowed per
1000 dials). So this AMD is biased the other way: *machine* needs positive evidence
(a beep, or a long greeting spoken without the pause a person leaves for the caller),
and everything unclear is *notsure*, which a regulated dialer routes to an agent.

Rules, in order, each decision carrying its time after answer (typical 2-4 s; the
industry's 3-5 s, detection-anchors.md):

* a **beep** (one steady tone 500-2500 Hz, 160 ms to 1.5 s, purity >= 80 %, ending
  in something that is not another tone, unlike a SIT) -> machine;
* **silence** for 4 s from answer -> notsure (people who wait for the caller);
* a first utterance (pauses < 700 ms bridged, Asterisk's afterGreetingSilence is
  800 ms) of <= 2 s followed by 700 ms of silence -> human (a "hello");
* an utterance of 2-2.6 s then silence -> notsure;
* an utterance still going at 2.6 s with >= 60 % voiced blocks and >= 2 words -> machine
  (greetings run 3-6 s; Asterisk's greeting limit is 1.5 s, which we find too eager;
  a word is a voice run >= 100 ms ended by >= 40 ms of silence, as Asterisk counts);
* 5 s after answer without a decision -> notsure (Asterisk's totalAnalysisTime).

**Late answers.** When the answer is detected while the callee is already talking (a
line without an answer signal, answered on the first voice after music ring-back), the
utterance running at the answer is the greeting's continuation: its length counts from
its real onset, and it is judged leaning to *human*/*notsure*: *machine* needs an
utterance of >= 5 s in all (and >= 2.6 s after the answer), or a beep, for which a
medium utterance waits 2 s of silence (not 700 ms) before its *notsure*.
"""

from __future__ import annotations

import numpy as np

BLOCK_MS = 20
BEEP_BLOCKS = 8
BEEP_MAX_BLOCKS = 75
BEEP_AFTER_BLOCKS = 3  # 60 ms without another tone confirm the beep ended
BEEP_LO_HZ, BEEP_HI_HZ = 500.0, 2500.0
BEEP_PURITY = 0.80
BEEP_MIN_DBM0 = -40.0
INITIAL_SILENCE_MS = 4000
AFTER_GREETING_SILENCE_MS = 700
HUMAN_MAX_MS = 2000
MACHINE_MIN_MS = 2600
MACHINE_MIN_VOICED = 0.6
MACHINE_MIN_WORDS = 2
WORD_MIN_BLOCKS = 5
WORD_GAP_BLOCKS = 2
TOTAL_MS = 5000
#: Late answer (speech already running): a machine's monologue must be this long in all,
#: and a medium utterance waits this much silence for a beep before "notsure".
LATE_MACHINE_MIN_MS = 5000
LATE_BEEP_WAIT_MS = 2000
#: Voice this soon after the answer continues the utterance running at the answer.
LATE_BRIDGE_BLOCKS = AFTER_GREETING_SILENCE_MS // BLOCK_MS


class Amd:
    """Per-channel AMD counters (arrays); decisions are made vectorised, once each."""

    def __init__(self, n: int) -> None:
        self.since = np.zeros(n, np.int32)        # blocks since answer
        self.first = np.full(n, -1, np.int32)     # block of the first voice
        self.last = np.full(n, -1, np.int32)      # block of the latest voice
        self.voiced = np.zeros(n, np.int32)       # voiced blocks in the utterance
        self.vrun = np.zeros(n, np.int32)
        self.srun = np.zeros(n, np.int32)
        self.words = np.zeros(n, np.int32)
        self.beep = np.zeros(n, np.int32)
        self.beep_bin = np.zeros(n, np.int32)
        self.chain = np.zeros(n, bool)            # in a sequence of tones (a SIT)
        self.post = np.zeros(n, np.int32)         # blocks since a beep-like tone ended
        self.since_tone = np.full(n, 1000, np.int32)
        self.last_len = np.zeros(n, np.int32)
        self.pre = np.zeros(n, np.int32)          # blocks of speech before the answer
        self.done = np.ones(n, bool)

    def start(self, ch, pre: int = 0) -> None:
        """Start at the answer; ``pre`` blocks of speech were already running then."""
        self.since[ch] = 0
        self.pre[ch] = max(int(pre), 0)
        # An utterance running at the answer is voice at block 0 (the answer itself).
        self.first[ch] = self.last[ch] = 0 if pre > 0 else -1
        self.voiced[ch] = 0
        self.vrun[ch] = 0
        self.srun[ch] = 0
        self.words[ch] = 0
        self.beep[ch] = 0
        self.chain[ch] = False
        self.post[ch] = 0
        self.since_tone[ch] = 1000
        self.last_len[ch] = 0
        self.done[ch] = False

    def stop(self, ch) -> None:
        self.done[ch] = True

    def update(self, ids: np.ndarray, voiced: np.ndarray,
               spectrum: np.ndarray | None) -> list[tuple[int, str, int, str]]:
        """Advance answered channels ``ids`` by one block.

        ``spectrum`` is the power spectrum (k, 81) of the block (for the beep).
        Returns (channel, result, blocks after answer, reason) decisions.
        """
        live = ~self.done[ids]
        if not live.any():
            return []
        ids = ids[live]
        voiced = voiced[live]
        since = self.since[ids] + 1
        first = np.where((self.first[ids] < 0) & voiced, since, self.first[ids])
        last = np.where(voiced, since, self.last[ids])
        nvoiced = self.voiced[ids] + voiced
        # Words (Asterisk's definitions): a voice run >= 100 ms ended by >= 40 ms of
        # silence (its betweenWordsSilence is 50 ms; our blocks are 20 ms).
        vrun = np.where(voiced, self.vrun[ids] + 1, self.vrun[ids])
        srun = np.where(voiced, 0, self.srun[ids] + 1)
        word_end = (srun == WORD_GAP_BLOCKS) & (vrun >= WORD_MIN_BLOCKS)
        words = self.words[ids] + word_end
        vrun = np.where(srun >= WORD_GAP_BLOCKS, 0, vrun)
        self.vrun[ids], self.srun[ids], self.words[ids] = vrun, srun, words
        # A word still being spoken counts too.
        words_now = words + (vrun >= WORD_MIN_BLOCKS)
        beep = self.beep[ids]
        beep_end = np.zeros(len(ids), bool)
        if spectrum is not None:
            spec = spectrum[live]
            lo = int(BEEP_LO_HZ / 50)
            hi = int(BEEP_HI_HZ / 50)
            k = np.clip(np.argmax(spec, axis=1), 1, spec.shape[1] - 2)
            rows = np.arange(len(k))
            peak = spec[rows, k - 1] + spec[rows, k] + spec[rows, k + 1]
            total = spec.sum(axis=1)
            level = 10 * np.log10(np.maximum(total, 1e-30))
            tone = (peak >= BEEP_PURITY * total) & (level >= BEEP_MIN_DBM0)
            tone &= (k >= lo) & (k <= hi)
            steady = np.abs(k - self.beep_bin[ids]) <= 1
            prev = beep
            cont = tone & steady & (prev > 0)
            new_run = tone & ~cont
            ended = (prev > 0) & ~cont
            since_t = self.since_tone[ids]
            last_len = self.last_len[ids]
            chain = self.chain[ids]
            # A tone that follows another within 60 ms is part of a sequence (a SIT's
            # three segments), never a beep; so is one followed by another tone.
            qualifying = ended & ~tone & (prev >= BEEP_BLOCKS) & (prev <= BEEP_MAX_BLOCKS) & ~chain
            chain = np.where(new_run, (prev >= 5) | ((since_t <= 3) & (last_len >= 5)), chain)
            post = self.post[ids]
            post = np.where(qualifying, 1, np.where((post > 0) & ~tone, post + 1, 0))
            beep_end = post >= BEEP_AFTER_BLOCKS
            post = np.where(beep_end, 0, post)
            self.post[ids] = post
            self.chain[ids] = chain
            self.last_len[ids] = np.where(ended, prev, last_len)
            self.since_tone[ids] = np.where(tone, 0, since_t + 1)
            beep = np.where(cont, prev + 1, np.where(tone, 1, 0))
            self.beep_bin[ids] = k
        self.since[ids], self.first[ids], self.last[ids] = since, first, last
        self.voiced[ids], self.beep[ids] = nvoiced, beep
        ms = BLOCK_MS
        silent_for = (since - last) * ms
        has_voice = first >= 0
        pre = self.pre[ids]
        late = (pre > 0) & has_voice & (first <= LATE_BRIDGE_BLOCKS)
        lead = np.where(late, pre, 0)
        span = (last - first + 1 + lead) * ms
        talking = (since - first + 1 + lead) * ms
        machine_min = np.where(late, LATE_MACHINE_MIN_MS, MACHINE_MIN_MS)
        result = np.full(len(ids), "", dtype=object)
        reason = np.full(len(ids), "", dtype=object)

        def rule(mask, res, why):
            new = mask & (result == "")
            result[new] = res
            reason[new] = why

        rule(beep_end, "machine", "beep")
        rule(~has_voice & (since * ms >= INITIAL_SILENCE_MS), "notsure", "initial silence")
        ended = has_voice & (silent_for >= AFTER_GREETING_SILENCE_MS)
        rule(ended & (span <= HUMAN_MAX_MS), "human", "short greeting")
        waited = silent_for >= np.where(late, LATE_BEEP_WAIT_MS, AFTER_GREETING_SILENCE_MS)
        rule(ended & waited & (span < machine_min), "notsure", "medium greeting")
        going = has_voice & ~ended & (talking >= machine_min) & \
            ((since - first + 1) * ms >= MACHINE_MIN_MS)
        rule(going & (nvoiced >= MACHINE_MIN_VOICED * (since - first + 1))
             & (words_now >= MACHINE_MIN_WORDS), "machine", "long greeting")
        rule(ended & (span >= machine_min), "machine", "long greeting")
        rule(since * ms >= TOTAL_MS, "notsure", "analysis time")
        out = []
        for i in np.flatnonzero(result != ""):
            self.done[ids[i]] = True
            out.append((int(ids[i]), str(result[i]), int(since[i]), str(reason[i])))
        return out
