"""Answering-machine detection: who answered, from the audio after the answer.

Results: ``human``, ``machine``, ``notsure``, and from the tone detectors ``fax`` (a fax
or modem answer tone: CED, ANS, ANS/, ANSam or CNG; the reason names it) and ``sit`` (a
special information tone: the number cannot be reached; the reason names the code, so
the leg gives the call the SIT's outcome). A tone is never speech: a beep is a machine,
a SIT or a fax tone is what it is, and none of them can make a "human".

Asterisk's app_amd (detection-anchors.md section 3) counts words and greeting length
and calls MACHINE on 2.5 s of initial silence. That rule turns every person who
answers and waits into a machine, and Ofcom counts each such error as an abandoned
call (<= 3 % per campaign; a 99 %-accurate AMD already uses 4 of the 6 allowed per
1000 dials). So this AMD is biased the other way: *machine* needs positive evidence
(a beep, or a long greeting spoken without the pause a person leaves for the caller),
and everything unclear is *notsure*, which a regulated dialer routes to an agent.

Why one module of about 720 lines: the rules below, run per tick on every channel's
arrays, and the same rules on plain numbers for up to 48 channels (numpy's per-call cost
on arrays of a few entries was half a small tick); the two paths sit together so a rule
changed in one is changed beside the other, and tests/detector/test_amd_paths.py checks
them equal.

Rules, in order, each decision carrying its time after answer (typical 2-4 s; the
industry's 3-5 s, detection-anchors.md):

* a **fax/modem tone** or a **SIT** reported by the tone detectors -> ``fax`` / ``sit``;
* a **beep** (one steady tone 500-2500 Hz, 160 ms to 2 s, purity >= 80 %, ending
  in something that is not another tone, unlike a SIT) -> machine;
* **silence** for 4 s from answer -> notsure (people who wait for the caller);
* a first utterance (pauses < 700 ms bridged, Asterisk's afterGreetingSilence is
  800 ms) of <= 1.2 s followed by 700 ms of silence -> human (a "hello");
* one of 1.2-2 s followed by 1 s of silence -> human (a sentence, then waiting);
* an utterance of 2-2.6 s then 1 s of silence -> notsure;
* an utterance still going at 2.6 s with >= 60 % voiced blocks and >= 2 words -> machine
  (greetings run 3-6 s; Asterisk's greeting limit is 1.5 s, which we find too eager);
* voice again within that 1 s (after >= 700 ms of silence) is a **next phrase**, judged
  on its own, never added to the first: still going after 1.6 s, >= 60 % voiced and
  >= 2 words -> machine (a greeting's next sentence: "Hi, this is Anna. ... I can't take
  your call"); ending shorter after a first utterance of <= 2 s -> human (a person
  saying "hello?" again); ending otherwise -> notsure;
* 5 s after answer, and at least 3.4 s after the utterance began (2.4 s after a next
  phrase began), without a decision -> notsure (Asterisk's totalAnalysisTime is 5 s
  from the answer; a greeting that starts late, after up to 4 s of silence, still gets
  the time its judgement needs); 7.4 s after the answer at the latest;
* audio lost (:meth:`Amd.audio_lost`: the card overran while AMD listened or up to 1 s
  before the answer) turns a *machine* from these length rules into ``notsure``
  ("audio lost"): the lost frames may have held the "hello" (docs/detector.md).

**Tones are not speech.** A block whose spectrum is one pure tone (>= 80 % of its
power within 150 Hz, 200-3400 Hz, >= -40 dBm0) is not voice here, whatever the energy
VAD says: the VAD knows only the zone's, SIT and fax tones, not a machine's beep. While
a beep-like tone is sounding (and 60 ms after it) no silence-based rule fires, so a
beep longer than the 700 ms after-greeting silence cannot lose the race to "human".

**Words by the envelope.** An utterance is voice over the VAD's noise floor (learnt by
minimum statistics, vad.py); a *word* is a voice run >= 100 ms ended by >= 40 ms that
are either unvoiced or 12 dB under the word's peak (Asterisk counts words on a fixed
threshold only; over background noise the gaps between words never fall under it, so
the envelope's dips must separate them). An utterance starts with 60 ms of voice (as
the VAD's ``voice`` event), so a click or a tone's edge is never a "hello".

**Late answers.** When the answer is detected while the callee is already talking (a
line without an answer signal, answered on the first voice after music ring-back), the
utterance running at the answer is the greeting's continuation: its length counts from
its real onset, and it is judged leaning to *human*/*notsure*: *machine* needs an
utterance of >= 5 s in all (and >= 2.6 s after the answer), or a beep, for which a
medium utterance waits 2 s of silence (not 700 ms) before its *notsure*.
"""

from __future__ import annotations

import functools

import numpy as np

BLOCK_MS = 20
BEEP_BLOCKS = 8
BEEP_MAX_BLOCKS = 100
BEEP_AFTER_BLOCKS = 3  # 60 ms without another tone confirm the beep ended
BEEP_LO_HZ, BEEP_HI_HZ = 500.0, 2500.0
#: Any pure tone in the speech band is not voice (a SIT segment, a fax tone, a beep).
TONE_LO_HZ, TONE_HI_HZ = 200.0, 3400.0
BEEP_PURITY = 0.80
#: A tone ended this recently still holds the silence rules: a SIT is reported a few
#: blocks after its last segment ends.
TONE_HOLD_BLOCKS = 6
#: Blocks of one steady pure tone after which it is a tone, not voice.
TONE_MASK_BLOCKS = 3
#: An utterance that began at most this many blocks before a tone was established
#: (TONE_MASK_BLOCKS pure blocks) was the tone's onset: its pure blocks and the one
#: impure block where it starts, inside a block.
TONE_ONSET_BLOCKS = TONE_MASK_BLOCKS
BEEP_MIN_DBM0 = -40.0
INITIAL_SILENCE_MS = 4000
AFTER_GREETING_SILENCE_MS = 700
HUMAN_MAX_MS = 2000
MACHINE_MIN_MS = 2600
MACHINE_MIN_VOICED = 0.6
MACHINE_MIN_WORDS = 2
WORD_MIN_BLOCKS = 5
WORD_GAP_BLOCKS = 2
#: A dip this far under the word's peak ends the word (the envelope, not the floor).
WORD_DIP_DB = 12.0
#: Voice more than this under the loudest since the answer is background, not the callee.
UTTERANCE_RANGE_DB = 20.0
#: A pause this long inside an utterance is a breath between phrases: it does not count
#: against the utterance's share of voiced blocks.
PAUSE_BLOCKS = 15
#: An utterance shorter than this is a click or a burst, not a "hello". Its length is
#: the longer of its extent within 20 dB of its peak and its blocks over the noise: a
#: short word's tail decays out of the 20 dB range first (a "one" peaking at -14 dBm0
#: measured 180 ms by extent, 240 ms over the noise). At 200 ms by extent 9-13 % of
#: 3,000 real one-word answers (benchmarks/amd_live_answers.py, FSDD) were "initial
#: silence"; at 120 ms by either, 0.8 %, with no verdict changed on amd_eval's corpus
#: and 0 "human" in 400 random pure-tone sequences (onsets already need 60 ms of voice).
UTTERANCE_MIN_MS = 120
#: Voice starting this soon after the answer is a greeting's tail, never a blip.
ANSWER_TAIL_BLOCKS = 5
#: Voice blocks in a row that start an utterance (the VAD's 60 ms).
UTTERANCE_ON_BLOCKS = 3
#: A first utterance longer than this is more than a "hello" (a hello, a name or "Hi,
#: who's this?" take up to about 1.1 s): it may be a greeting's first sentence (1.4-2 s
#: on the corpus), and a greeting's sentences are parted by pauses of 0.7-0.9 s, as
#: long as the silence a person leaves for the caller. Such an utterance waits
#: PHRASE_WAIT_MS of silence before "human"; what comes within it is a phrase of its own.
HELLO_MAX_MS = 1200
#: Silence after a longer first utterance before "human" (a person who said a sentence
#: and waits for the caller; people speak again after about a second of silence,
#: which the next-phrase rules judge on what they hear, never by the total length).
PHRASE_WAIT_MS = 1000
#: A phrase after such a pause is a greeting going on (machine) once it runs this long
#: without the after-greeting silence, >= 60 % voiced and >= 2 words: a person who
#: hears nothing says "hello?" (0.4-1 s) and waits again; the greeting's second
#: sentence on the corpus runs 1.6-2.8 s.
NEXT_PHRASE_MACHINE_MS = 1600
#: A medium utterance (2-2.6 s) waits this much silence before "notsure", as any first
#: utterance longer than a hello: a greeting that goes on after a breath is then judged
#: by its next phrase, and a person who goes on after a second is never judged by the
#: two phrases' total length (which took people for machines when the pause was bridged).
MEDIUM_WAIT_MS = PHRASE_WAIT_MS
TOTAL_MS = 5000
#: Time an utterance is given from its start before "analysis time": long enough for
#: the machine rule (2.6 s) and the after-greeting silence (2.6 + 0.7 s); a medium
#: utterance of more than 2.3 s whose silence outlasts it is "notsure" all the same.
GREETING_BUDGET_MS = MACHINE_MIN_MS + AFTER_GREETING_SILENCE_MS + 100
#: Time a next phrase is given from its start: the machine rule's length and the
#: after-greeting silence that ends it.
NEXT_PHRASE_BUDGET_MS = NEXT_PHRASE_MACHINE_MS + AFTER_GREETING_SILENCE_MS + 100
#: The latest decision after the answer (what a leg's AMD window must allow).
LATEST_DECISION_MS = INITIAL_SILENCE_MS + GREETING_BUDGET_MS
#: Late answer (speech already running): a machine's monologue must be this long in all,
#: and a medium utterance waits this much silence for a beep before "notsure".
LATE_MACHINE_MIN_MS = 5000
LATE_BEEP_WAIT_MS = 2000
#: Voice this soon after the answer continues the utterance running at the answer.
LATE_BRIDGE_BLOCKS = AFTER_GREETING_SILENCE_MS // BLOCK_MS
#: The rules' verdicts, in the order they are tried (a tone detector's verdict first).
_RULES = (("machine", "beep"), ("notsure", "initial silence"), ("human", "short greeting"),
          ("notsure", "medium greeting"), ("machine", "long greeting"),
          ("machine", "long greeting"), ("notsure", "analysis time"),
          ("notsure", "analysis time"), ("machine", "greeting goes on"),
          ("human", "short greeting, said again"), ("notsure", "two phrases"))
_TONE_RULE = 99
#: Results and what each says (events.AMD_RESULTS holds the same names).
RESULTS = ("human", "machine", "notsure", "fax", "sit")


#: The rows of Amd's state arrays (the order of its attribute views).
_INT_FIELDS = ("since", "first", "last", "voiced", "run", "vrun", "srun", "words", "paused",
               "beep", "beep_bin", "post", "since_tone", "last_len", "pre", "phrase",
               "p1_len", "p_words", "p_voiced", "p_paused", "last_pre")
_FLAG_FIELDS = ("beep_band", "chain", "done")
_PEAK_FIELDS = ("wpeak", "upeak")


class Amd:
    """Per-channel AMD counters (arrays); decisions are made vectorised, once each."""

    #: At most this many live channels a tick take the per-channel path
    #: (:meth:`_update_channels`); more take the array path (:meth:`_update_arrays`).
    #: Both give the same decisions and state (tests/detector/test_amd_paths.py). On
    #: arrays of 8-32 entries each numpy operation costs 1-4 us whatever the length,
    #: and a tick is about 250 of them; plain Python on each channel's numbers costs
    #: about 10 us a channel. Measured crossover on this machine: see docs/detector.md.
    channels_path_max = 48

    def __init__(self, n: int) -> None:
        # The counters are rows of one int32 array (and the flags of one bool array,
        # the peaks of one float32 array), so a tick gathers and scatters each once.
        self._ints = np.zeros((len(_INT_FIELDS), n), np.int32)
        self._flags = np.zeros((len(_FLAG_FIELDS), n), bool)
        self._peaks = np.full((len(_PEAK_FIELDS), n), -200.0, np.float32)
        self.since = self._ints[0]        # blocks since answer
        self.first = self._ints[1]        # block of the first voice
        self.last = self._ints[2]         # block of the latest voice
        self.voiced = self._ints[3]       # voiced blocks in the utterance
        self.run = self._ints[4]          # voiced blocks in a row (utterance onset)
        self.vrun = self._ints[5]
        self.srun = self._ints[6]
        self.words = self._ints[7]
        self.paused = self._ints[8]       # blocks of long pauses in the utterance
        self.beep = self._ints[9]
        self.beep_bin = self._ints[10]
        self.post = self._ints[11]        # blocks since a beep-like tone ended
        self.since_tone = self._ints[12]
        self.last_len = self._ints[13]
        self.pre = self._ints[14]         # blocks of speech before the answer
        # The phrase after a pause of >= AFTER_GREETING_SILENCE_MS (-1: none yet), and
        # the first utterance's length and the counters as they stood when it began.
        self.phrase = self._ints[15]
        self.p1_len = self._ints[16]
        self.p_words = self._ints[17]
        self.p_voiced = self._ints[18]
        self.p_paused = self._ints[19]
        # The utterance's latest voice before the current run of voice began: where its
        # end goes back to when that run turns out to be a tone's onset.
        self.last_pre = self._ints[20]
        self.first[:] = -1
        self.last[:] = -1
        self.since_tone[:] = 1000
        self.phrase[:] = -1
        self.beep_band = self._flags[0]   # the tone run is in the beep band
        self.chain = self._flags[1]       # in a sequence of tones (a SIT)
        self.done = self._flags[2]
        self.done[:] = True
        self.wpeak = self._peaks[0]       # level peak of the current word
        self.upeak = self._peaks[1]       # level peak since the answer
        #: Verdicts the tone detectors gave (fax, sit), applied at the next update.
        self.heard: dict[int, tuple[str, str]] = {}
        #: Some channel may be live (not done): set by start, recomputed when channels
        #: are decided or stopped; while False a caller's tick need not ask ``done``.
        self.some_live = False
        #: Live channels whose audio had a gap (frames the card lost) since the answer,
        #: or just before it: their length rules cannot give "machine" (audio_lost).
        self.lost: set[int] = set()

    def start(self, ch, pre: int = 0) -> None:
        """Start at the answer; ``pre`` blocks of speech were already running then."""
        self.since[ch] = 0
        self.pre[ch] = max(int(pre), 0)
        # An utterance running at the answer is voice at block 0 (the answer itself).
        self.first[ch] = self.last[ch] = 0 if pre > 0 else -1
        self.voiced[ch] = 0
        self.run[ch] = 0
        self.vrun[ch] = 0
        self.srun[ch] = 0
        self.wpeak[ch] = -200.0
        self.upeak[ch] = -200.0
        self.words[ch] = 0
        self.paused[ch] = 0
        self.beep[ch] = 0
        self.chain[ch] = False
        self.post[ch] = 0
        self.since_tone[ch] = 1000
        self.last_len[ch] = 0
        self.phrase[ch] = -1
        self.p1_len[ch] = 0
        self.p_words[ch] = 0
        self.p_voiced[ch] = 0
        self.p_paused[ch] = 0
        self.last_pre[ch] = self.last[ch]
        self.done[ch] = False
        self.some_live = True
        self.heard.pop(int(ch), None)
        self.lost.discard(int(ch))

    def stop(self, ch) -> None:
        self.done[ch] = True
        self.some_live = not np.logical_and.reduce(self.done)
        self.heard.pop(int(ch), None)
        self.lost.discard(int(ch))

    def audio_lost(self, ch: int) -> None:
        """The card lost some of ``ch``'s audio (read too late: a stalled tick) since
        the answer or just before it. What was lost may have been the greeting's "hello"
        (and the person's next turn of talk then looks like a machine's long greeting) or
        the pause that parts two phrases, so a verdict from utterance lengths could take
        a person for a machine: such a "machine" becomes ``notsure`` ("audio lost"). A
        beep and the tone verdicts are what they are, and "human" stays: it needs a
        short utterance ending in silence, which no gap can make of a person."""
        if not self.done[ch]:
            self.lost.add(int(ch))

    def tone_heard(self, ch: int, result: str, reason: str) -> None:
        """A tone detector named what answered (``fax`` or ``sit``): that is the verdict."""
        if result not in ("fax", "sit"):
            raise ValueError(f"tone verdict {result!r} is not 'fax' or 'sit'")
        if not self.done[ch]:
            self.heard.setdefault(int(ch), (result, reason))

    def update(self, ids: np.ndarray, voiced: np.ndarray,
               spectrum: np.ndarray | None,
               level_db: np.ndarray | None = None) -> list[tuple[int, str, int, str]]:
        """Advance answered channels ``ids`` by one block.

        ``spectrum`` is the power spectrum (k, 81) of the block (tones and beeps),
        ``level_db`` the block level in dBm0 (the word envelope).
        Returns (channel, result, blocks after answer, reason) decisions.
        """
        k_n = ids.size
        done = self.done[ids]
        if np.count_nonzero(done):  # the detector passes live channels only: rarely
            live = ~done
            k_n = int(np.count_nonzero(live))
            if not k_n:
                return []
            ids, voiced = ids[live], voiced[live]
            level_db = None if level_db is None else level_db[live]
            spectrum = None if spectrum is None else spectrum[live]
        level = (np.asarray(level_db, np.float32) if level_db is not None
                 else np.where(voiced, 0.0, -200.0).astype(np.float32))
        k = pure = None
        if spectrum is not None:
            # The block's strongest bin and whether it is one pure tone (its bin and
            # both neighbours hold >= 80 % of the power, at >= -40 dBm0).
            spec = spectrum
            k = np.minimum(np.maximum(spec.argmax(axis=1), 1), spec.shape[1] - 2)
            # Every bin's power with both neighbours', added as (left + bin) + right,
            # then each row's at k by flat index: three gathers cost more per tick.
            three = spec[:, :-2] + spec[:, 1:-1]
            three += spec[:, 2:]
            peak = three.reshape(-1)[_left_of(k_n, three.shape[1]) + k]
            total = np.add.reduce(spec, axis=1)
            blevel = 10 * np.log10(np.maximum(total, 1e-30))
            pure = (peak >= BEEP_PURITY * total) & (blevel >= BEEP_MIN_DBM0)
        if k_n <= self.channels_path_max:
            out = self._update_channels(ids, voiced, level, k, pure)
        else:
            out = self._update_arrays(ids, voiced, level, k, pure)
        if out:  # channels were decided: done
            self.some_live = not np.logical_and.reduce(self.done)
            if self.lost:
                out = [_after_gap(d, self.lost) for d in out]
        return out

    def _update_arrays(self, ids: np.ndarray, voiced: np.ndarray, level: np.ndarray,
                       k: np.ndarray | None,
                       pure: np.ndarray | None) -> list[tuple[int, str, int, str]]:
        """:meth:`update` on arrays of all live channels at once (many channels)."""
        k_n = len(ids)
        since = self.since[ids] + 1
        beep = self.beep[ids]
        beep_end = np.zeros(k_n, bool)
        tone_on = np.zeros(k_n, bool)
        if k is not None and pure is not None:
            tone = pure & (k >= int(TONE_LO_HZ / 50)) & (k <= int(TONE_HI_HZ / 50))
            in_beep_band = (k >= int(BEEP_LO_HZ / 50)) & (k <= int(BEEP_HI_HZ / 50))
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
            qualifying = ended & ~tone & (prev >= BEEP_BLOCKS) & (prev <= BEEP_MAX_BLOCKS) & \
                ~chain & self.beep_band[ids]
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
            self.beep_band[ids] = np.where(new_run, in_beep_band, self.beep_band[ids])
            # A steady tone is not speech, whatever its frequency in the band (a single
            # pure block is: a sustained vowel can put 80 % of a block in one harmonic).
            voiced = voiced & ~(tone & (beep >= TONE_MASK_BLOCKS))
            # A tone's edges are not pure (it starts or stops inside a block): the block
            # after a tone is not voice, and an utterance that began with a tone now
            # established as one (or in the block before it) was the tone's onset, not
            # a word. Voice before that is speech a vowel followed ("Pleeease": a vowel
            # can look like a tone for half a second): dropping it restarted the
            # greeting after the vowel, its verdict 0.5 s late.
            voiced &= ~((self.since_tone[ids] == 1) & (self.last_len[ids] >= TONE_MASK_BLOCKS))
            established = tone & (beep == TONE_MASK_BLOCKS)
            if established.any():
                self._tone_established(ids[established], since[established])
            # A beep-like tone sounding (or just ended, awaiting its confirmation) holds
            # the silence-based rules: the silence after a greeting is not over yet.
            tone_on = ((beep >= TONE_MASK_BLOCKS) & (beep <= BEEP_MAX_BLOCKS)) | (post > 0) | \
                ((self.since_tone[ids] <= TONE_HOLD_BLOCKS) & (self.last_len[ids] >= BEEP_BLOCKS))
        # Voice far under the utterance's loudest is background (a clatter in the room,
        # another voice), not the callee going on: it neither starts nor extends it.
        upeak = np.where(voiced, np.maximum(self.upeak[ids], level), self.upeak[ids])
        self.upeak[ids] = upeak
        sounded = voiced
        voiced = voiced & (level >= upeak - UTTERANCE_RANGE_DB)
        # Utterance: starts after UTTERANCE_ON_BLOCKS of voice (dated from its first).
        run = np.where(voiced, self.run[ids] + 1, 0)
        first0 = self.first[ids]
        onset = (first0 < 0) & (run >= UTTERANCE_ON_BLOCKS)
        first = np.where(onset, since - run + 1, first0)
        has_voice = first >= 0
        last0 = self.last[ids]
        # Pauses of >= 300 ms inside the utterance (a breath between sentences) do not
        # count against its share of voice.
        gap_len = since - 1 - last0
        resumed = voiced & has_voice & (last0 >= 0) & (gap_len >= PAUSE_BLOCKS)
        paused = self.paused[ids] + np.where(resumed, gap_len, 0)
        self.paused[ids] = paused
        last = np.where(voiced & has_voice, since, last0)
        self.last_pre[ids] = np.where(voiced & (run == 1), last0, self.last_pre[ids])
        voiced_before = self.voiced[ids]
        nvoiced = voiced_before + (sounded & has_voice) + np.where(onset, run - 1, 0)
        # Voice after the after-greeting silence begins a phrase of its own, judged on
        # its own (a greeting's next sentence, or a person's "hello?" again); not at a
        # late answer, whose utterance keeps its rules.
        new_phrase = resumed & (self.phrase[ids] < 0) & (self.pre[ids] == 0) & \
            (gap_len * BLOCK_MS >= AFTER_GREETING_SILENCE_MS)
        if new_phrase.any():
            self.phrase[ids] = np.where(new_phrase, since, self.phrase[ids])
            self.p1_len[ids] = np.where(new_phrase, last0 - first + 1, self.p1_len[ids])
            self.p_voiced[ids] = np.where(new_phrase, voiced_before, self.p_voiced[ids])
            self.p_paused[ids] = np.where(new_phrase, paused, self.p_paused[ids])
        # Words (Asterisk's definitions, and the envelope): a voice run >= 100 ms ended
        # by >= 40 ms of silence or of a dip 12 dB under the word's peak.
        wpeak = np.where(voiced, np.maximum(self.wpeak[ids], level), self.wpeak[ids])
        wordy = voiced & (level >= wpeak - WORD_DIP_DB)
        vrun = np.where(wordy, self.vrun[ids] + 1, self.vrun[ids])
        srun = np.where(wordy, 0, self.srun[ids] + 1)
        word_end = (srun == WORD_GAP_BLOCKS) & (vrun >= WORD_MIN_BLOCKS)
        words = self.words[ids] + word_end
        gap = srun >= WORD_GAP_BLOCKS
        vrun = np.where(gap, 0, vrun)
        wpeak = np.where(gap, np.where(voiced, level, -200.0), wpeak)
        self.vrun[ids], self.srun[ids], self.words[ids] = vrun, srun, words
        if new_phrase.any():
            self.p_words[ids] = np.where(new_phrase, words, self.p_words[ids])
        self.wpeak[ids] = wpeak
        self.run[ids] = run
        # A word still being spoken counts too.
        words_now = words + (vrun >= WORD_MIN_BLOCKS)
        # A sound under 120 ms that the after-greeting silence follows is no "hello" (a
        # click, a tone's burst too short to be named a tone): forgotten, as if the
        # line had stayed silent. Sound at the answer itself is kept: it is the tail of
        # a greeting the answer signal came late for (a person, already waiting), and
        # so is speech running at a late answer.
        blip = has_voice & (self.pre[ids] == 0) & (first > ANSWER_TAIL_BLOCKS) & \
            ((since - last) * BLOCK_MS >= AFTER_GREETING_SILENCE_MS) & \
            ((last - first + 1) * BLOCK_MS < UTTERANCE_MIN_MS) & \
            (nvoiced * BLOCK_MS < UTTERANCE_MIN_MS)
        if blip.any():
            first = np.where(blip, -1, first)
            last = np.where(blip, -1, last)
            nvoiced = np.where(blip, 0, nvoiced)
            has_voice = first >= 0
            self.phrase[ids] = np.where(blip, -1, self.phrase[ids])
        self.since[ids], self.first[ids], self.last[ids] = since, first, last
        self.voiced[ids], self.beep[ids] = nvoiced, beep
        ms = BLOCK_MS
        silent_for = (since - last) * ms
        pre = self.pre[ids]
        late = (pre > 0) & has_voice & (first <= LATE_BRIDGE_BLOCKS)
        lead = np.where(late, pre, 0)
        span = (last - first + 1 + lead) * ms
        talking = (since - first + 1 + lead) * ms
        machine_min = np.where(late, LATE_MACHINE_MIN_MS, MACHINE_MIN_MS)
        # Each rule decides the channels no earlier rule has: rule numbers, not strings,
        # so a tick costs a few boolean operations per rule.
        decided = np.full(k_n, -1, np.int8)

        def rule(n: int, mask: np.ndarray) -> None:
            decided[mask & (decided < 0)] = n

        tone_verdicts: dict[int, tuple[str, str]] = {}
        if self.heard:
            for i, ch in enumerate(ids):
                verdict = self.heard.pop(int(ch), None)
                if verdict is not None:
                    tone_verdicts[i] = verdict
                    decided[i] = _TONE_RULE
        rule(0, beep_end)
        rule(1, ~has_voice & ~tone_on & (since * ms >= INITIAL_SILENCE_MS))
        ended = has_voice & ~tone_on & (silent_for >= AFTER_GREETING_SILENCE_MS)
        phrase = self.phrase[ids]
        two = has_voice & (phrase >= 0)
        one = has_voice & ~two
        # The first utterance: a hello is a person after the after-greeting silence, a
        # longer one after PHRASE_WAIT_MS (voice within it starts the next phrase).
        wait1 = np.where(late | (span <= HELLO_MAX_MS), AFTER_GREETING_SILENCE_MS,
                         PHRASE_WAIT_MS)
        rule(2, ended & one & (silent_for >= wait1) & (span <= HUMAN_MAX_MS))
        waited = silent_for >= np.where(late, LATE_BEEP_WAIT_MS, MEDIUM_WAIT_MS)
        rule(3, ended & one & waited & (span < machine_min))
        going = one & (silent_for < AFTER_GREETING_SILENCE_MS) & \
            (talking >= machine_min) & ((since - first + 1) * ms >= MACHINE_MIN_MS)
        rule(4, going & (nvoiced >= MACHINE_MIN_VOICED * (since - first + 1 - paused))
             & (words_now >= MACHINE_MIN_WORDS))
        rule(5, ended & one & (span >= machine_min))
        # The next phrase: a greeting going on is a long, dense phrase with words; one
        # that ends short after a first utterance of a hello's or a sentence's length is
        # a person speaking again; anything else is not clear.
        plen = since - phrase + 1
        rule(8, two & (silent_for < AFTER_GREETING_SILENCE_MS)
             & (plen * ms >= NEXT_PHRASE_MACHINE_MS)
             & (nvoiced - self.p_voiced[ids] >=
                MACHINE_MIN_VOICED * (plen - (paused - self.p_paused[ids])))
             & (words_now - self.p_words[ids] >= MACHINE_MIN_WORDS))
        rule(9, ended & two & (self.p1_len[ids] * ms <= HUMAN_MAX_MS)
             & ((last - phrase + 1) * ms < NEXT_PHRASE_MACHINE_MS))
        rule(10, ended & two)
        budget = np.where(has_voice, (first - 1) * ms + GREETING_BUDGET_MS, 0)
        budget = np.where(two, np.maximum(budget, (phrase - 1) * ms + NEXT_PHRASE_BUDGET_MS),
                          budget)
        rule(6, (since * ms >= TOTAL_MS) & (since * ms >= budget) & ~tone_on)
        rule(7, since * ms >= LATEST_DECISION_MS)
        out = []
        for i in np.flatnonzero(decided >= 0):
            self.done[ids[i]] = True
            result, reason = tone_verdicts[i] if decided[i] == _TONE_RULE else \
                _RULES[decided[i]]
            out.append((int(ids[i]), result, int(since[i]), reason))
        return out

    def _tone_established(self, ids: np.ndarray, since: np.ndarray) -> None:
        """A tone was established at channels ``ids`` (its TONE_MASK_BLOCKS pure blocks):
        the voice its onset made is not speech (array path; the plain path does the same
        inline)."""
        first = self.first[ids]
        # An utterance that began with the tone (or in the block before it) was its onset.
        gone = ids[first >= since - TONE_ONSET_BLOCKS]
        self.first[gone] = self.last[gone] = -1
        self.voiced[gone] = 0
        # An utterance older than the tone, still too short to be one (a burst too short
        # to be a tone), does not get the tone's onset blocks: its end goes back to before
        # them, or the onset would make the burst, the pause and itself one utterance
        # long enough to be a "hello". Speech before a tone-like vowel keeps it (a
        # greeting's "... Pleeease"). What the run's start counted goes too: its pause,
        # a phrase it began.
        run0 = self.run[ids]
        back = self.last_pre[ids]
        cut = (first >= 0) & (first < since - TONE_ONSET_BLOCKS) & (run0 > 0) & \
            (run0 <= TONE_ONSET_BLOCKS) & ((back - first + 1) * BLOCK_MS < UTTERANCE_MIN_MS)
        if not cut.any():
            return
        pause0 = (since - run0 - 1 - back)[cut]
        back, run0, ids = back[cut], run0[cut], ids[cut]
        self.paused[ids] -= np.where(pause0 >= PAUSE_BLOCKS, pause0, 0)
        self.phrase[ids] = np.where(self.phrase[ids] > back, -1, self.phrase[ids])
        self.last[ids] = back
        self.voiced[ids] = np.maximum(self.voiced[ids] - run0, 0)

    def _update_channels(self, ids: np.ndarray, voiced: np.ndarray, level: np.ndarray,
                         k: np.ndarray | None,
                         pure: np.ndarray | None) -> list[tuple[int, str, int, str]]:
        """:meth:`update` one channel at a time on plain numbers (few channels).

        The same rules as :meth:`_update_arrays`, statement for statement; the float32
        peaks are compared as numpy compares them (``_f32`` rounds each threshold).
        """
        ints = self._ints[:, ids].T.tolist()
        flags = self._flags[:, ids].T.tolist()
        peaks = self._peaks[:, ids].T.tolist()
        voiced_l = voiced.tolist()
        level_l = level.tolist()
        has_spec = k is not None and pure is not None
        k_l = k.tolist() if k is not None else None
        pure_l = pure.tolist() if pure is not None else None
        heard = self.heard
        ms = BLOCK_MS
        out: list[tuple[int, str, int, str]] = []
        decided_at: list[int] = []
        for i, ch in enumerate(ids.tolist()):
            (since, first0, last0, voiced_before, run, vrun, srun, words, paused, beep,
             beep_bin, post, since_tone, last_len, pre, phrase, p1_len, p_words, p_voiced,
             p_paused, last_pre) = ints[i]
            beep_band, chain, _ = flags[i]
            wpeak, upeak = peaks[i]
            v: bool = voiced_l[i]
            lv: float = level_l[i]
            since += 1
            beep_end = tone_on = False
            if has_spec:
                kk: int = k_l[i]  # type: ignore[index]
                tone = pure_l[i] and int(TONE_LO_HZ / 50) <= kk <= int(TONE_HI_HZ / 50)  # type: ignore[index]
                in_beep_band = int(BEEP_LO_HZ / 50) <= kk <= int(BEEP_HI_HZ / 50)
                prev = beep
                cont = tone and abs(kk - beep_bin) <= 1 and prev > 0
                new_run = tone and not cont
                ended = prev > 0 and not cont
                qualifying = ended and not tone and BEEP_BLOCKS <= prev <= BEEP_MAX_BLOCKS \
                    and not chain and beep_band
                if new_run:
                    chain = prev >= 5 or (since_tone <= 3 and last_len >= 5)
                post = 1 if qualifying else (post + 1 if post > 0 and not tone else 0)
                beep_end = post >= BEEP_AFTER_BLOCKS
                if beep_end:
                    post = 0
                if ended:
                    last_len = prev
                since_tone = 0 if tone else since_tone + 1
                beep = prev + 1 if cont else (1 if tone else 0)
                beep_bin = kk
                if new_run:
                    beep_band = in_beep_band
                v = v and not (tone and beep >= TONE_MASK_BLOCKS)
                v = v and not (since_tone == 1 and last_len >= TONE_MASK_BLOCKS)
                if tone and beep == TONE_MASK_BLOCKS:  # as _tone_established
                    if first0 >= since - TONE_ONSET_BLOCKS:
                        first0 = last0 = -1
                        voiced_before = 0
                    elif first0 >= 0 and 0 < run <= TONE_ONSET_BLOCKS and \
                            (last_pre - first0 + 1) * ms < UTTERANCE_MIN_MS:
                        pause0 = since - run - 1 - last_pre
                        if pause0 >= PAUSE_BLOCKS:
                            paused -= pause0
                        if phrase > last_pre:
                            phrase = -1
                        last0 = last_pre
                        voiced_before = max(voiced_before - run, 0)
                tone_on = TONE_MASK_BLOCKS <= beep <= BEEP_MAX_BLOCKS or post > 0 or \
                    (since_tone <= TONE_HOLD_BLOCKS and last_len >= BEEP_BLOCKS)
            if v and lv > upeak:
                upeak = lv
            sounded = v
            v = v and lv >= _f32(upeak - UTTERANCE_RANGE_DB)
            run = run + 1 if v else 0
            onset = first0 < 0 and run >= UTTERANCE_ON_BLOCKS
            first = since - run + 1 if onset else first0
            has_voice = first >= 0
            gap_len = since - 1 - last0
            resumed = v and has_voice and last0 >= 0 and gap_len >= PAUSE_BLOCKS
            if resumed:
                paused += gap_len
            last = since if v and has_voice else last0
            if v and run == 1:
                last_pre = last0
            nvoiced = voiced_before + (sounded and has_voice) + (run - 1 if onset else 0)
            new_phrase = resumed and phrase < 0 and pre == 0 and \
                gap_len * BLOCK_MS >= AFTER_GREETING_SILENCE_MS
            if new_phrase:
                phrase = since
                p1_len = last0 - first + 1
                p_voiced = voiced_before
                p_paused = paused
            if v and lv > wpeak:
                wpeak = lv
            wordy = v and lv >= _f32(wpeak - WORD_DIP_DB)
            if wordy:
                vrun += 1
                srun = 0
            else:
                srun += 1
            words += srun == WORD_GAP_BLOCKS and vrun >= WORD_MIN_BLOCKS
            if srun >= WORD_GAP_BLOCKS:
                vrun = 0
                wpeak = lv if v else -200.0
            if new_phrase:
                p_words = words
            words_now = words + (vrun >= WORD_MIN_BLOCKS)
            if has_voice and pre == 0 and first > ANSWER_TAIL_BLOCKS and \
                    (since - last) * ms >= AFTER_GREETING_SILENCE_MS and \
                    (last - first + 1) * ms < UTTERANCE_MIN_MS and \
                    nvoiced * ms < UTTERANCE_MIN_MS:
                first = last = -1
                nvoiced = 0
                has_voice = False
                phrase = -1
            ints[i] = [since, first, last, nvoiced, run, vrun, srun, words, paused, beep,
                       beep_bin, post, since_tone, last_len, pre, phrase, p1_len, p_words,
                       p_voiced, p_paused, last_pre]
            flags[i] = [beep_band, chain, False]
            peaks[i] = [wpeak, upeak]
            # The rules in the array path's order; the first that holds decides.
            rule = -1
            verdict = heard.pop(ch, None) if heard else None
            if verdict is not None:
                rule = _TONE_RULE
            elif beep_end:
                rule = 0
            elif not has_voice and not tone_on and since * ms >= INITIAL_SILENCE_MS:
                rule = 1
            elif has_voice:
                silent_for = (since - last) * ms
                late = pre > 0 and first <= LATE_BRIDGE_BLOCKS
                lead = pre if late else 0
                span = (last - first + 1 + lead) * ms
                talking = (since - first + 1 + lead) * ms
                machine_min = LATE_MACHINE_MIN_MS if late else MACHINE_MIN_MS
                ended = not tone_on and silent_for >= AFTER_GREETING_SILENCE_MS
                two = phrase >= 0
                one = not two
                wait1 = AFTER_GREETING_SILENCE_MS if late or span <= HELLO_MAX_MS \
                    else PHRASE_WAIT_MS
                waited = silent_for >= (LATE_BEEP_WAIT_MS if late else MEDIUM_WAIT_MS)
                plen = since - phrase + 1
                if ended and one and silent_for >= wait1 and span <= HUMAN_MAX_MS:
                    rule = 2
                elif ended and one and waited and span < machine_min:
                    rule = 3
                elif one and silent_for < AFTER_GREETING_SILENCE_MS and \
                        talking >= machine_min and (since - first + 1) * ms >= MACHINE_MIN_MS \
                        and nvoiced >= MACHINE_MIN_VOICED * (since - first + 1 - paused) \
                        and words_now >= MACHINE_MIN_WORDS:
                    rule = 4
                elif ended and one and span >= machine_min:
                    rule = 5
                elif two and silent_for < AFTER_GREETING_SILENCE_MS \
                        and plen * ms >= NEXT_PHRASE_MACHINE_MS \
                        and nvoiced - p_voiced >= \
                        MACHINE_MIN_VOICED * (plen - (paused - p_paused)) \
                        and words_now - p_words >= MACHINE_MIN_WORDS:
                    rule = 8
                elif ended and two and p1_len * ms <= HUMAN_MAX_MS \
                        and (last - phrase + 1) * ms < NEXT_PHRASE_MACHINE_MS:
                    rule = 9
                elif ended and two:
                    rule = 10
            if rule < 0:
                budget = (first - 1) * ms + GREETING_BUDGET_MS if has_voice else 0
                if has_voice and phrase >= 0:
                    budget = max(budget, (phrase - 1) * ms + NEXT_PHRASE_BUDGET_MS)
                if since * ms >= TOTAL_MS and since * ms >= budget and not tone_on:
                    rule = 6
                elif since * ms >= LATEST_DECISION_MS:
                    rule = 7
            if rule >= 0:
                flags[i][2] = True
                decided_at.append(i)
                result, reason = verdict if verdict is not None else _RULES[rule]
                out.append((ch, result, since, reason))
        self._ints[:, ids] = np.array(ints, np.int32).T
        self._flags[:, ids] = np.array(flags, bool).T
        self._peaks[:, ids] = np.array(peaks, np.float32).T
        return out


@functools.lru_cache(maxsize=64)
def _left_of(k_n: int, width: int) -> np.ndarray:
    """Flat index, in a (k_n, width) array, of each row's element left of column 0 (so
    ``+ k`` is column k - 1): the same few channel counts come back every tick."""
    out = np.arange(k_n) * width - 1
    out.flags.writeable = False
    return out


def _f32(x: float) -> float:
    """``x`` rounded to float32, as numpy's float32 arithmetic rounds it: a float32
    minus a constant is exact in float64, so rounding once gives the same number."""
    return float(np.float32(x))


def _after_gap(decision: tuple[int, str, int, str],
               lost: set[int]) -> tuple[int, str, int, str]:
    """A decision on a channel whose audio had a gap (:meth:`Amd.audio_lost`): a
    "machine" from lengths is "notsure"; the channel leaves ``lost`` (decided)."""
    ch, result, blocks, reason = decision
    if ch not in lost:
        return decision
    lost.discard(ch)
    if result == "machine" and reason != "beep":
        return ch, "notsure", blocks, "audio lost"
    return decision
