"""The multi-channel tone, cadence and answer detector.

Fed one (channels x 160) int16 block per 20 ms media tick (DESIGN.md), it returns
:mod:`~trunkline.drivers.dsp.events` for the channels that asked for detection.

How a tick is processed (precompute, then apply; scipy.signal style):

1. The last 56 samples of each channel's previous block are prepended (the only
   sample history kept), giving (k x 216) float32.
2. **One matrix product** computes every DFT bin the detector needs:
   four 12 ms Hann frames 5 ms apart at the DTMF, SIT, fax and the zone's
   low (dial-tone) frequencies, and one 20 ms rectangular frame at the zone's
   call-progress frequencies; a second, thin product gives the frame energies.
3. Vectorised decisions per frame (:mod:`dtmf`, the single-tone classifier below)
   and per block (:mod:`progress`), then run tracking (:mod:`runs`), fax and modem
   tones (:mod:`modemtones`), voice activity (:mod:`vad`) -- all numpy over the k
   channels. AMD, MF, announcement matching and music ring-back (:mod:`music`) run on
   the subsets that enabled them.
4. Python touches a channel only when something changes: a digit ends, a cadence
   segment ends, a decision is made.

Time is sample counts since the channel's detection started (``enable``/``reset``);
no clock is read (sans-IO). All per-channel state lives in arrays indexed by channel
number, carried from block to block (like ``zi`` in ``scipy.signal.sosfilt``).

Why one module of about 830 lines: the stages above are already their own modules
(dtmf, progress, runs, modemtones, vad, amd, announcements, music); what stays here is
the one pass that shares the per-channel state arrays and the DFT between them, and
cutting it would spread one block's order of operations over several files.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace

import numpy as np

from trunkline.drivers.dsp import amd as _amd
from trunkline.drivers.dsp import dtmf as _dtmf
from trunkline.drivers.dsp import modemtones as _mt
from trunkline.drivers.dsp import sit as _sit
from trunkline.drivers.dsp.announcements import AnnouncementMatcher, Template, load_library
from trunkline.drivers.dsp.events import (
    AmdEvent,
    AnnouncementEvent,
    DetectionEvent,
    DtmfEvent,
    MfEvent,
    SilenceEvent,
    SitEvent,
    ToneEvent,
    VoiceEvent,
)
from trunkline.drivers.dsp.goertzel import DftBank, FrameLayout, MultiBank
from trunkline.drivers.dsp.music import MusicRingback
from trunkline.drivers.dsp.progress import (
    OTHER,
    CadenceMatcher,
    ProgressChannel,
    Segment,
    ZoneToneModel,
)
from trunkline.drivers.dsp.runs import NO_RUNS, PrevPower, RunTracker
from trunkline.drivers.dsp.vad import Vad
from trunkline.drivers.dsp.zones import Zone, load_zone

RATE = 8000
BLOCK = 160
LAYOUT = FrameLayout(length=96, hop=40, frames=4, span=216)
HISTORY = LAYOUT.span - BLOCK
#: Centre of each frame relative to the block's first sample.
FRAME_CENTRES = (LAYOUT.offsets - HISTORY + LAYOUT.length // 2).astype(np.int64)

#: Single-tone bins: the SIT bands, then CNG and CED (labels 0..4).
SINGLE_BINS = (*_sit.SIT_BINS, _mt.CNG_HZ, _mt.CED_HZ)
_SINGLE_TOL = np.array([_sit.SIT_TOL_HZ] * 3 + [_mt.CNG_TOL_HZ, _mt.CED_TOL_HZ], np.float32)
_SINGLE_MIN = np.array([_sit.SIT_MIN_LEVEL] * 3 + [_mt.FAX_MIN_LEVEL] * 2, np.float32)
SINGLE_PURITY = 0.75
PURE_MIN_LEVEL = 10 ** (-55 / 10)  # Q.24 "must reject" level: quieter is line noise
#: The first frame of a tone has no valid phase advance (its predecessor was not the
#: tone), so measured on-times come out 5 ms short; calibrated on clean tones.
DURATION_BIAS = 40
#: The same for durations measured in the tone's own bins (runs.py), calibrated on clean
#: DTMF digits and SIT segments of 20-400 ms.
DTMF_DURATION_BIAS = 16
#: Share of a frame's energy a run's bins must hold for the frame to add to the run's
#: measured duration (the labelled frames hold >= 75-80 %, their edges less).
EDGE_PURITY = 0.5
MF_SYSTEMS = ("bell", "r2_forward", "r2_backward")
#: Audio lost this soon before AMD starts (samples) may have held the greeting: a
#: stalled tick holds up the answer signal with the audio, and the signal is read at
#: most a tick or two after the gap; 1 s also covers a CONNECT that Q.921 sent again
#: after its T200 (1 s, Q.921 5.9) because the stall kept us from acknowledging it.
AUDIO_LOST_BEFORE_ANSWER = RATE
_INT32_MAX = int(np.iinfo(np.int32).max)
#: No channel of the tick (a mask's stand-in when a flag says none can be set).
_NOTHING = np.zeros(0, bool)
OFF_BELOW_TONE = 10 ** (-15 / 10)

#: Channels in a tick up to which a few calls on wider gathers beat more calls on narrow
#: slices (the per-call cost dominates below, the per-element cost above).
SMALL_TICK = 64
#: Where the DTMF high group and the single tones start among the phase-tracked bins.
_PICK_OFFSET = np.array([0, 4, 8], np.intp)
#: Per group (DTMF rows, DTMF columns, single tones; 5 slots each, the short groups'
#: fifth is the padding, never picked): the lowest level and the widest frequency offset
#: a picked bin may have (dtmf.classify_dtmf's and the single tones' windows).
_GROUP_AT = np.array([0, 5, 10], np.intp)
_GROUP_MIN32 = np.concatenate([np.full(5, _dtmf.DTMF_MIN_LEVEL, np.float32),
                               np.full(5, _dtmf.DTMF_MIN_LEVEL, np.float32), _SINGLE_MIN])
_GROUP_TOL32 = np.concatenate([_dtmf.DTMF_FREQ_TOL * _dtmf._DTMF_LOW32, np.zeros(1, np.float32),
                               _dtmf.DTMF_FREQ_TOL * _dtmf._DTMF_HIGH32,
                               np.zeros(1, np.float32), _SINGLE_TOL])


@functools.lru_cache(maxsize=64)
def _pick_bases(k_n: int, n_frames: int, z_width: int, p_width: int) -> tuple[np.ndarray, ...]:
    """Flat offsets of each frame's DTMF row, column and single-tone groups in the phase
    products (``z_width`` bins a frame) and the powers (``p_width``): the same few
    channel counts come back every tick."""
    rows = np.arange(k_n * n_frames).reshape(k_n, n_frames, 1)
    out = (rows * z_width + _PICK_OFFSET, rows * p_width + _PICK_OFFSET)
    for a in out:
        a.flags.writeable = False
    return out


def _centres(pos: np.ndarray) -> np.ndarray:
    """Each frame's centre (samples since the channel's start) for blocks at ``pos``."""
    return np.maximum(pos[:, None] + FRAME_CENTRES[None, :], 0)


@functools.lru_cache(maxsize=64)
def _no_labels(k_n: int, n_frames: int) -> np.ndarray:
    """(k_n, n_frames) frame labels of a tick where no frame is labelled: shared,
    read-only (the run trackers and the fax/modem counters only read them)."""
    out = np.full((k_n, n_frames), -1, np.int16)
    out.flags.writeable = False
    return out


def _dtmf_pair_power(power: np.ndarray, energy: np.ndarray,
                     interference: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    """Each frame's power in each digit's two bins (k, frames, 16), and the same where
    the pair holds at least EDGE_PURITY of the frame's energy less the dial-tone
    interference (else 0): what the digit runs measure durations from."""
    pair = (power[..., :4, None] + power[..., None, 4:8]).reshape(*power.shape[:2], 16)
    rest = np.maximum(energy - interference, 1e-12)[..., None]
    return pair, np.where(pair >= EDGE_PURITY * rest, pair, 0.0)


@dataclass(frozen=True, slots=True)
class ChannelConfig:
    """What a channel asked to detect."""

    dtmf: bool = True
    progress: bool = True
    fax: bool = True
    vad: bool = True
    amd: bool = False
    announcements: bool = False
    mf: str | None = None

    def __post_init__(self) -> None:
        if self.mf is not None and self.mf not in MF_SYSTEMS:
            raise ValueError(f"mf={self.mf!r} is not None or one of {MF_SYSTEMS}")


class Detector:
    """Tone, cadence and answer detection on up to ``max_channels`` channels.

    Must be driven from the media tick: :meth:`process` once per 20 ms with the
    blocks of the enabled channels that have audio this tick.
    """

    def __init__(self, zone: str | Zone = "cn", max_channels: int = 1, *,
                 announcements: list[Template] | None = None,
                 announcements_dir: str | None = None) -> None:
        if not isinstance(max_channels, int) or max_channels < 1:
            raise ValueError(f"{max_channels=} must be an integer >= 1")
        self.zone = load_zone(zone) if isinstance(zone, str) else zone
        self.max_channels = n = max_channels
        self.model = ZoneToneModel(self.zone)
        self.matcher = CadenceMatcher(self.model)
        # The zone's cadences as arrays, for the vectorised "still the same tone" path.
        pats = self.model.patterns
        width = max([len(p.elements) for p in pats] or [1])
        self._pat_index = {p.name: i for i, p in enumerate(pats)}
        self._el_n = np.array([len(p.elements) for p in pats] or [1], np.int32)
        self._el_label = np.full((max(len(pats), 1), width), -9, np.int16)
        self._el_lo = np.zeros((max(len(pats), 1), width), np.float32)
        self._el_hi = np.zeros((max(len(pats), 1), width), np.float32)
        for i, p in enumerate(pats):
            for j, e in enumerate(p.elements):
                self._el_label[i, j] = e.label
                self._el_lo[i, j] = e.lo
                self._el_hi[i, j] = min(e.hi, 1e9)
        low = [f for f in self.model.freqs if f < 660][:6]
        self._n_low = len(low)
        self.bank = DftBank(_dtmf.DTMF_BINS + SINGLE_BINS + tuple(low), LAYOUT)
        banks = [self.bank]
        self.pbank = None
        if self.model.freqs:
            self.pbank = DftBank(self.model.freqs, FrameLayout(BLOCK, BLOCK, 1, LAYOUT.span),
                                 window="rect")
            banks.append(self.pbank)
        else:  # a zone without progress tones: still need the block energy
            self.pbank = DftBank((1000.0,), FrameLayout(BLOCK, BLOCK, 1, LAYOUT.span),
                                 window="rect")
            banks.append(self.pbank)
        self.multibank = MultiBank(banks)
        pad = self.bank.freqs.size  # the padding column of the bank's powers
        self._groups = np.array([[0, 1, 2, 3, pad], [4, 5, 6, 7, pad], [8, 9, 10, 11, 12]],
                                np.intp)
        self.mf_banks = {s: DftBank(_dtmf.MF_FREQS[s], LAYOUT) for s in MF_SYSTEMS}
        # Per-channel state.
        self.configs: list[ChannelConfig | None] = [None] * n
        self.enabled = np.zeros(n, bool)
        self.pos = np.zeros(n, np.int64)
        self.hist = np.zeros((n, HISTORY), np.float32)
        self.last_bins = np.zeros((n, 13), np.complex64)
        #: The last frame's powers, padding, energy and dial-tone interference (the
        #: columns of ``padded`` in :meth:`process`), kept every tick in one store: the
        #: digit and single-tone runs' edge powers of the frame before a block are
        #: computed from it only on the ticks that need them (:meth:`_prev_edges`).
        self._n_bins = self.bank.freqs.size
        self.last_frame = np.zeros((n, self._n_bins + 3), np.float32)
        self.en_dtmf = np.zeros(n, bool)
        self.en_progress = np.zeros(n, bool)
        self.en_fax = np.zeros(n, bool)
        self.en_vad = np.zeros(n, bool)
        self.en_amd = np.zeros(n, bool)
        self.en_ann = np.zeros(n, bool)
        self.answered_at = np.full(n, -1, np.int64)
        #: Where the channel's audio last had a gap (audio_lost), in samples.
        self.lost_at = np.full(n, np.iinfo(np.int64).min // 2, np.int64)
        self.amd_wait = np.zeros(n, bool)
        #: Some channel may wait for its answer to start AMD (set wherever amd_wait is,
        #: cleared by the tick that starts the last): until then a tick skips the test.
        self._amd_waiting = False
        self.dtmf_runs = RunTracker(n, hop=LAYOUT.hop, bridge=_dtmf.DTMF_BRIDGE_FRAMES)
        self.single_runs = RunTracker(n, hop=LAYOUT.hop, bridge=3, switch_ends=True)
        self.modem = _mt.ModemToneState(n)
        self.vad = Vad(n)
        self.amd = _amd.Amd(n)
        # MF runs report once recognised (6 frames: 30 ms) and again when they end.
        self.mf_runs = {s: RunTracker(n, hop=LAYOUT.hop, bridge=2, report_after=6)
                        for s in MF_SYSTEMS}
        self.mf_last = {s: np.zeros((n, 6), np.complex64) for s in MF_SYSTEMS}
        self.mf_system = np.full(n, -1, np.int8)
        #: Some channel was ever given an MF system: until then a tick skips the MF test.
        self._mf_any = False
        self.seg_label = np.full(n, -3, np.int16)
        self.seg_len = np.zeros(n, np.int32)
        self.seg_start = np.zeros(n, np.int64)
        self.pend_label = np.full(n, -9, np.int16)
        self.pend_n = np.zeros(n, np.int32)
        self.next_check = np.full(n, np.iinfo(np.int32).max, np.int32)
        #: After a tick whose segments all went on (the fast path of :meth:`_cadence`):
        #: its channel ids (bytes) and the nearest deadline, ms past their segments'
        #: lengths (> 0). Nothing is pending on those channels then; void after any
        #: other tick or a channel's restart.
        self._steady: tuple[bytes, int] | None = None
        self.broken = np.zeros(n, bool)
        self.rep_pat = np.full(n, -1, np.int16)    # reported tone still being followed
        self.rep_phase = np.zeros(n, np.int16)
        self.stale = np.zeros(n, bool)             # history skipped by the fast path
        self.tone_ref = np.zeros(n, np.float32)
        self.long_other = np.zeros(n, bool)
        self.progress: list[ProgressChannel] = [ProgressChannel() for _ in range(n)]
        self.sit_state: list[_sit.SitChannel] = [_sit.SitChannel() for _ in range(n)]
        self.music = MusicRingback(n)
        self.answer_exact = np.ones(n, bool)
        templates = announcements if announcements is not None else load_library(
            announcements_dir)
        self.announcer = AnnouncementMatcher(templates)
        self._win = np.hanning(BLOCK).astype(np.float32)
        #: The channel ids (bytes) the last tick checked: valid while none is disabled.
        self._checked_ids = b""
        #: The early-media channels of the last tick (:meth:`_early_of`): its channel
        #: ids (bytes), how many were early and their rows (None: all or none); void
        #: (None) after any control call that sets an answer or what a channel detects.
        self._early: tuple[bytes, int, np.ndarray | None] | None = None

    # -- channel control ------------------------------------------------------------
    def enable(self, ch: int, *, dtmf: bool = True, progress: bool = True, fax: bool = True,
               vad: bool = True, amd: bool = False, announcements: bool = False,
               mf: str | None = None, answered_at: int | None = None) -> None:
        """Start detection on ``ch`` (time 0 is now); ``answered_at`` in samples from now.

        ``answered_at=None`` means not answered yet: early media (music ring-back,
        announcements) is analysed until :meth:`mark_answered`.
        """
        self._check_channel(ch)
        if answered_at is not None and answered_at < 0:
            raise ValueError(f"{answered_at=} must be >= 0 samples or None")
        cfg = ChannelConfig(dtmf, progress, fax, vad, amd, announcements, mf)
        self.configs[ch] = cfg
        self.enabled[ch] = True
        self.en_dtmf[ch], self.en_progress[ch], self.en_fax[ch] = dtmf, progress, fax
        self.en_vad[ch], self.en_amd[ch], self.en_ann[ch] = vad, amd, announcements
        self.mf_system[ch] = MF_SYSTEMS.index(mf) if mf else -1
        self._mf_any = True if mf else self._mf_any
        self._clear(ch)
        if answered_at is not None:
            self.answered_at[ch] = answered_at
            self.amd_wait[ch] = amd
            self._amd_waiting |= amd
        self._early = None

    def disable(self, ch: int) -> None:
        self._check_channel(ch)
        self.enabled[ch] = False
        self.configs[ch] = None
        self._checked_ids = b""  # the channels last checked may include this one

    def reset(self, ch: int) -> None:
        """Restart detection on ``ch`` with the same configuration (time 0 is now)."""
        cfg = self._config(ch)
        self._clear(ch)
        self.configs[ch] = cfg

    def mark_answered(self, ch: int, *, exact: bool = True) -> None:
        """The call was answered now: AMD starts here.

        ``exact`` when a signal gave the moment (CONNECT, polarity reversal): speech
        already running then is not the callee's (music, an announcement), so AMD
        starts from nothing. ``exact=False`` when the answer was inferred from speech
        (lines without an answer signal): the speech running is the greeting's start.
        """
        cfg = self._config(ch)
        if self.answered_at[ch] >= 0:
            return
        self.answer_exact[ch] = exact
        self.answered_at[ch] = self.pos[ch]
        self._early = None
        self.amd_wait[ch] = cfg.amd
        self._amd_waiting |= cfg.amd
        self.announcer.reset(ch)

    def audio_lost(self, ch: int) -> None:
        """The card lost some of ``ch``'s audio before the block processed next (a late
        read overran its buffers): AMD must not take what it heard for the whole
        greeting (:meth:`.amd.Amd.audio_lost`), whether the gap comes while it listens
        or just before the answer that starts it."""
        self._check_channel(ch)
        self.lost_at[ch] = self.pos[ch]
        self.amd.audio_lost(ch)

    def configure(self, ch: int, **changes) -> None:
        """Change what ``ch`` detects without restarting its timers."""
        cfg = replace(self._config(ch), **changes)
        self.configs[ch] = cfg
        self.en_dtmf[ch], self.en_progress[ch], self.en_fax[ch] = cfg.dtmf, cfg.progress, cfg.fax
        self.en_vad[ch], self.en_amd[ch], self.en_ann[ch] = cfg.vad, cfg.amd, cfg.announcements
        self.mf_system[ch] = MF_SYSTEMS.index(cfg.mf) if cfg.mf else -1
        self._mf_any = True if cfg.mf else self._mf_any
        self._early = None

    def _config(self, ch: int) -> ChannelConfig:
        self._check_channel(ch)
        cfg = self.configs[ch]
        if cfg is None:
            raise ValueError(f"channel {ch} is not enabled for detection")
        return cfg

    def _check_channel(self, ch: int) -> None:
        if not (isinstance(ch, int | np.integer) and 0 <= ch < self.max_channels):
            raise ValueError(f"channel {ch=} is not in 0..{self.max_channels - 1}")

    def _clear(self, ch: int) -> None:
        self.pos[ch] = 0
        self.hist[ch] = 0
        self.last_bins[ch] = 0
        self.answered_at[ch] = -1
        self.lost_at[ch] = np.iinfo(np.int64).min // 2
        self._early = None
        self.answer_exact[ch] = True
        self.amd_wait[ch] = False
        self.amd.stop(ch)
        self.dtmf_runs.reset(ch)
        self.single_runs.reset(ch)
        for s in MF_SYSTEMS:
            self.mf_runs[s].reset(ch)
            self.mf_last[s][ch] = 0
        self.modem.reset(ch)
        self.vad.reset(ch)
        self.seg_label[ch] = -3
        self.seg_len[ch] = 0
        self.pend_label[ch] = -9
        self.pend_n[ch] = 0
        self.next_check[ch] = np.iinfo(np.int32).max
        self._steady = None
        self.broken[ch] = False
        self.rep_pat[ch] = -1
        self.stale[ch] = False
        self.tone_ref[ch] = 0.0
        self.long_other[ch] = False
        self.progress[ch] = ProgressChannel()
        self.sit_state[ch] = _sit.SitChannel()
        self.music.reset(ch)
        self.announcer.reset(ch)

    def _check_ids(self, ids: np.ndarray) -> None:
        if ids.min() < 0 or ids.max() >= self.max_channels:
            raise ValueError(f"channel_ids must lie in 0..{self.max_channels - 1}")
        if ids.size > 1:
            ordered = np.sort(ids)
            if not (ordered[1:] > ordered[:-1]).all():
                raise ValueError("channel_ids must not repeat a channel")
        if not self.enabled[ids].all():
            bad = ids[~self.enabled[ids]]
            raise ValueError(f"channels {bad.tolist()} are not enabled for detection")

    # -- the media tick -------------------------------------------------------------
    def process(self, block: np.ndarray, channel_ids) -> list[DetectionEvent]:
        """Analyse one (k x 160) int16 block for channels ``channel_ids``; return events."""
        block = np.asarray(block)
        ids = np.asarray(channel_ids, dtype=np.intp).reshape(-1)
        if block.ndim != 2 or block.shape != (ids.size, BLOCK):
            raise ValueError(f"block shape {block.shape} must be ({ids.size}, {BLOCK}) "
                             "for the channel_ids given")
        if ids.size == 0:
            return []
        key = ids.tobytes()
        if key != self._checked_ids:  # a tick usually has the last tick's channels
            self._check_ids(ids)
            self._checked_ids = key
        events: list[DetectionEvent] = []
        pos = self.pos[ids]
        x = np.empty((ids.size, LAYOUT.span), np.float32)
        x[:, :HISTORY] = self.hist[ids]
        x[:, HISTORY:] = block
        self.hist[ids] = x[:, BLOCK:]
        (bins, pbins), (energy, penergy) = self.multibank(x)
        # Phase advance from the previous frame, only for the bins that need a
        # frequency estimate (DTMF and single tones, not the dial-tone bins).
        nz = 13
        prev = np.empty((ids.size, LAYOUT.frames, nz), np.complex64)
        prev[:, 0] = self.last_bins[ids]
        prev[:, 1:] = bins[:, :-1, :nz]
        self.last_bins[ids] = bins[:, -1, :nz]
        z = bins[..., :nz] * np.conj(prev)
        z *= self.bank.rotation[:nz]
        # |X|^2 with one column more, held at -1 (under any power): the padding of the
        # argmax groups below; then the frame's energy and dial-tone interference, so
        # the last frame's row is all the next tick's edge powers need (last_frame).
        k_n, n_frames, n_bins = bins.shape
        padded = np.empty((k_n, n_frames, n_bins + 3), np.float32)
        power = padded[..., :n_bins]
        np.abs(bins, out=power)
        power *= power
        padded[..., n_bins] = -1.0
        padded[..., n_bins + 1] = energy

        # DTMF (Q.24).
        nd = 8
        if self._n_low:
            interference = np.add.reduce(power[..., nd + 5:], axis=-1,
                                         out=padded[..., n_bins + 2])
        else:
            interference = 0.0
            padded[..., n_bins + 2] = 0.0
        # The strongest DTMF row, column and single-tone bin of each frame, their phase
        # offsets and offset-corrected powers, gathered in one pass for both stages
        # (the same values classify_dtmf and the single-tone code compute one by one).
        # One argmax over the three groups side by side (rows 4, columns 4, single 5;
        # the short ones padded with the -1 column, which never wins) on a small tick;
        # on a large one the gather costs more than two calls saved.
        if k_n <= SMALL_TICK:
            pick = padded.take(self._groups, axis=-1).argmax(axis=-1)  # take: no index grid
        else:
            pick = np.empty((k_n, n_frames, 3), np.intp)
            power[..., :4].argmax(axis=-1, out=pick[..., 0])
            power[..., 4:nd].argmax(axis=-1, out=pick[..., 1])
            power[..., nd:nd + 5].argmax(axis=-1, out=pick[..., 2])
        r, c, sb = pick[..., 0], pick[..., 1], pick[..., 2]
        z_at, p_at = _pick_bases(k_n, n_frames, nz, n_bins + 3)
        delta = self.bank.offset_hz(z.reshape(-1)[z_at + pick])
        corrected = padded.reshape(-1)[p_at + pick]
        corrected /= self.bank.response(delta)
        # Level and frequency windows of all three picks at once (classify_dtmf's and
        # the single tones' tests, the same comparisons, from tables of the picked bins).
        at = pick + _GROUP_AT
        fits = (corrected >= _GROUP_MIN32[at]) & (np.abs(delta) <= _GROUP_TOL32[at])
        # The twist and purity tests and the labels only where a row and a column both
        # fit somewhere in the tick (else no frame is a digit: the shared -1 labels).
        dok = fits[..., 0] & fits[..., 1]
        if np.count_nonzero(dok):
            pr, pc = corrected[..., 0], corrected[..., 1]
            dok &= (pc <= pr * _dtmf.DTMF_TWIST_HIGH) & (pc >= pr * _dtmf.DTMF_TWIST_LOW)
            dok &= (pr + pc) >= _dtmf.DTMF_PURITY * np.maximum(energy - interference, 1e-12)
            dlabels = np.where(dok, r * 4 + c, -1).astype(np.int16)
            digits = bool(np.count_nonzero(dok))
        else:
            dlabels, digits = _no_labels(k_n, n_frames), False
        spure = corrected[..., 2] >= SINGLE_PURITY * energy
        sok = spure & fits[..., 2]
        if np.count_nonzero(sok):
            slabels, singles = np.where(sok, sb, -1).astype(np.int16), True
        else:
            slabels, singles = _no_labels(k_n, n_frames), False
        # Durations from the digits' own bins (runs.py): a 40 ms digit in 10 dB of noise
        # still measures 40 ms, as spandsp's block count would have it.
        # A frame's share counts only where the pair is most of what it holds (an edge
        # frame half in the digit, in noise), so speech around a digit-like sound adds
        # nothing (talk-off).
        # On an idle tick (no digit going on or starting) nothing is computed: the last
        # frame's row (last_frame) holds what the next busy tick's edge power needs.
        dtmf_idle = not (digits or self.dtmf_runs.running(ids))
        single_idle = not (singles or self.single_runs.running(ids))
        prev_frame = None if dtmf_idle and single_idle else self.last_frame[ids]
        # The frames' centres (samples) only for a tick that tracks runs or counts tones.
        centres = None if prev_frame is None else _centres(pos)
        self.last_frame[ids] = padded[:, -1]
        if dtmf_idle:
            ended = NO_RUNS
        else:
            pair, edge = _dtmf_pair_power(power, energy, interference)
            ended, _ = self.dtmf_runs.update(ids, dlabels, energy, np.zeros_like(energy),
                                             centres, pair, edge,
                                             self._prev_edges(prev_frame, digits=True))
        if len(ended):
            dur = ended.duration + DTMF_DURATION_BIAS
            keep = (dur >= _dtmf.DTMF_MIN_DURATION_MS * 8) & self.en_dtmf[ended.channel]
            keep &= ended.hits >= _dtmf.DTMF_MIN_FRAMES
            for i in keep.nonzero()[0]:
                events.append(DtmfEvent(int(ended.channel[i]), int(ended.start[i]),
                                        int(max(ended.end[i], ended.start[i])),
                                        _dtmf.DTMF_DIGIT_OF_LABEL[int(ended.label[i])],
                                        int(dur[i])))

        # Single tones: SIT segments, CNG, CED/ANS.
        if single_idle:
            ended = NO_RUNS
        else:
            sp = power[..., nd:nd + 5]
            ended, _ = self.single_runs.update(
                ids, slabels, energy, delta[..., 2], centres, sp,
                np.where(sp >= EDGE_PURITY * energy[..., None], sp, 0.0),
                self._prev_edges(prev_frame, digits=False))
        for i in (ended.label <= 2).nonzero()[0] if len(ended) else ():
            ch = int(ended.channel[i])
            if not self.en_progress[ch]:
                continue
            lab = int(ended.label[i])
            seg = _sit.SitSegment(lab, _sit.SIT_BINS[lab] + float(ended.extra[i]),
                                  int(ended.start[i]), float(ended.duration[i]) / 8)
            found = _sit.on_segment(self.sit_state[ch], seg)
            if found:
                code, s1, s2, s3 = found
                dec = int(max(ended.end[i], s1.start))
                events.append(ToneEvent(ch, s1.start, dec, "sit"))
                events.append(SitEvent(ch, s1.start, dec, code,
                                       (round(s1.freq, 1), round(s2.freq, 1), round(s3.freq, 1)),
                                       (round(s1.duration_ms), round(s2.duration_ms),
                                        round(s3.duration_ms))))
        if not self.modem.idle(ids, slabels, singles):
            fax_labels = np.where(self.en_fax[ids][:, None], slabels, -1)
            mag = np.sqrt(power[..., nd + 4])
            if centres is None:
                centres = _centres(pos)
            for ch, name, onset in self.modem.update(ids, fax_labels, mag, centres):
                events.append(ToneEvent(ch, onset, int(self.pos[ch] + BLOCK), name))

        # MF (subsets).
        if self._mf_any and np.count_nonzero(self.mf_system[ids] >= 0):
            events += self._mf(ids, x, pos, _centres(pos) if centres is None else centres)

        # Call-progress cadence.
        p2 = pbins[:, 0]
        block_energy = penergy[:, 0]
        # The off part of a cadence is "quiet" relative to the tone: line noise 15 dB
        # under the tone's level still counts as the silent half of a busy tone.
        plabels, self.tone_ref[ids] = self.model.label_blocks_after_tone(
            p2.real ** 2 + p2.imag ** 2, block_energy, self.tone_ref[ids], OFF_BELOW_TONE)
        events += self._cadence(ids, plabels, pos, key)

        # Voice activity.
        level_db = 10 * np.log10(np.maximum(block_energy, 1e-12))
        # A block is a tone, not voice, if any frame is a digit or a pure single tone
        # (also out of the fax/SIT windows: a steady 2180 Hz whistle is not speech).
        # (ufunc reductions: any() and all() are these behind a Python wrapper)
        tonal = plabels >= 0
        if digits:
            tonal |= np.logical_or.reduce(dlabels >= 0, axis=1)
        pure = spure & (energy >= PURE_MIN_LEVEL)
        if np.count_nonzero(pure):
            tonal |= np.logical_and.reduce(pure, axis=1)
        voiced, changes = self.vad.update(ids, level_db, tonal, pos)
        for ch, what, onset in changes:
            if self.en_vad[ch]:
                cls = VoiceEvent if what == "voice" else SilenceEvent
                events.append(cls(ch, onset, int(self.pos[ch] + BLOCK)))

        # Answer side: AMD; early media: music and announcements.
        answered_at = self.answered_at[ids]
        start = self.amd_wait[ids] if self._amd_waiting else _NOTHING
        if np.count_nonzero(start) and np.count_nonzero(
                start := start & (pos + BLOCK > answered_at)):
            for ch in ids[start]:
                # Speech already running at the answer (answer detected late, on voice):
                # AMD counts it as the greeting's beginning.
                # Music ring-back is never the greeting: after music, AMD starts at the
                # answer (the music-to-speech voice event marks it within half a second).
                since = (None if self.answer_exact[ch] or self.music.heard(ch)
                         else self.vad.running_since(ch))
                ans = int(self.answered_at[ch])
                pre = (ans - since) // BLOCK if since is not None and since < ans else 0
                self.amd.start(ch, pre)
                if ans - self.lost_at[ch] <= AUDIO_LOST_BEFORE_ANSWER:
                    self.amd.audio_lost(ch)
                self.amd_wait[ch] = False
            self._amd_waiting = bool(np.count_nonzero(self.amd_wait))
        live = ~self.amd.done[ids] if self.amd.some_live else _NOTHING
        if np.count_nonzero(live):
            # What the tone detectors know is the verdict: a fax or modem answer is a
            # fax, a SIT says the number cannot be reached (its code in the reason).
            for e in events:
                if isinstance(e, SitEvent):
                    self.amd.tone_heard(e.channel, "sit", f"sit {e.code}")
                elif isinstance(e, ToneEvent) and e.tone in _mt.ANSWER_TONES:
                    self.amd.tone_heard(e.channel, "fax", e.tone)
            events += self._amd(ids[live], x[live, HISTORY:], voiced[live],
                                block_energy[live], level_db[live])
        n_early, sel = self._early_of(ids, key, answered_at)
        if n_early:
            for e in events:
                if isinstance(e, ToneEvent) and e.tone in _mt.ANSWER_TONES:
                    self.music.answer_tone_heard(e.channel)
            # Every channel early (a tick before any answer): the arrays as they are.
            if sel is not None:
                e_ids, e_block, e_level, e_voiced = ids[sel], x[sel, HISTORY:], \
                    level_db[sel], voiced[sel]
                e_tonal, e_pos = tonal[sel], pos[sel]
            else:
                e_ids, e_block, e_level, e_voiced, e_tonal, e_pos = ids, x[:, HISTORY:], \
                    level_db, voiced, tonal, pos
            heard = self.music.update(e_ids, e_block, e_level, e_voiced, e_tonal, e_pos)
            for e in heard:
                if isinstance(e, VoiceEvent):  # speech replaced the music: its onset
                    self.vad.onset[e.channel] = e.sample
                    if not self.en_vad[e.channel]:
                        continue
                events.append(e)
        if self.announcer.templates and np.count_nonzero(
                listen := (answered_at < 0) & self.en_ann[ids]):
            for ch, tpl, conf, onset in self.announcer.update(
                    ids[listen], block[listen], voiced[listen], pos[listen] + BLOCK):
                events.append(AnnouncementEvent(ch, onset, int(self.pos[ch] + BLOCK),
                                                tpl.kind, tpl.name, conf))
        self.pos[ids] = pos + BLOCK
        return events

    # -- parts ------------------------------------------------------------------------
    def _early_of(self, ids: np.ndarray, key: bytes,
                  answered_at: np.ndarray) -> tuple[int, np.ndarray | None]:
        """How many of the tick's channels are before their answer with call progress
        on (early media: music ring-back), and their rows (None: all or none). The same
        as the last tick's for the same channels unless a control call came between
        (most ticks): then no mask is built."""
        if self._early is not None and self._early[0] == key:
            return self._early[1], self._early[2]
        early = (answered_at < 0) & self.en_progress[ids]
        n_early = int(np.count_nonzero(early))
        sel = early.nonzero()[0] if 0 < n_early < early.size else None
        if sel is not None:
            sel.flags.writeable = False  # kept for the next ticks
        self._early = (key, n_early, sel)
        return n_early, sel

    def _mf(self, ids, x, pos, centres) -> list[DetectionEvent]:
        out: list[DetectionEvent] = []
        systems = self.mf_system[ids]
        for s_index, system in enumerate(MF_SYSTEMS):
            sel = systems == s_index
            if not np.count_nonzero(sel):
                continue
            sub = ids[sel]
            bank = self.mf_banks[system]
            bins = bank(x[sel])
            prev = np.concatenate([self.mf_last[system][sub][:, None], bins[:, :-1]], axis=1)
            self.mf_last[system][sub] = bins[:, -1]
            z = bins * np.conj(prev) * bank.rotation
            power = bins.real ** 2 + bins.imag ** 2
            xs = x[sel]
            energy = (xs * xs) @ bank.energy_columns
            labels = _dtmf.classify_mf(system, power, z, energy, bank.offset_hz, bank.response)
            ended, started = self.mf_runs[system].update(sub, labels, energy,
                                                         np.zeros_like(energy), centres[sel])
            chars = _dtmf.MF_CHARS[system]
            for i in range(len(started)):
                start = int(started.start[i])
                out.append(MfEvent(int(started.channel[i]), start, max(int(started.end[i]), start),
                                   chars[int(started.label[i])],
                                   max(int(started.end[i]) - start, 0), system, "on"))
            for i in range(len(ended)):
                dur = int(ended.duration[i]) + DURATION_BIAS
                if dur >= _dtmf.MF_MIN_DURATION_MS * 8:
                    out.append(MfEvent(int(ended.channel[i]), int(ended.start[i]),
                                       int(max(ended.end[i], ended.start[i])),
                                       chars[int(ended.label[i])], dur,
                                       system))
        return out

    def _cadence(self, ids, labels, pos, key: bytes) -> list[DetectionEvent]:
        """Segment the block labels (2-block debounce) and match cadences on changes."""
        cur = self.seg_label[ids]
        if not np.count_nonzero(labels != cur):
            # Every channel's segment goes on (the most common tick): what the general
            # path below does then, unless a deadline falls due.
            steady = self._steady
            if steady is not None and steady[0] == key and steady[1] > 20:
                # The last tick was this one for the same channels (nothing pending) and
                # the nearest deadline is more than this block away.
                self.seg_len[ids] += 1
                self._steady = (key, steady[1] - 20)
                return []
            seglen = self.seg_len[ids] + 1 + self.pend_n[ids]
            slack = int((self.next_check[ids] - seglen * 20).min())
            if slack > 0:  # no deadline due (seglen * 20 >= next_check nowhere)
                self.seg_len[ids] = seglen
                self.pend_n[ids] = 0
                self.pend_label[ids] = -9
                self._steady = (key, slack)
                return []
        self._steady = None
        seglen = self.seg_len[ids]
        pl = self.pend_label[ids]
        pn = self.pend_n[ids]
        fresh = cur == -3
        same = labels == cur
        is_pend = ~same & (labels == pl)
        seglen = np.where(same, seglen + 1 + pn, seglen)
        pn = np.where(same, 0, np.where(is_pend, pn + 1, 1))
        pl = np.where(same, -9, labels)
        switch = (~same & (pn >= 2)) | fresh
        # Changes between "quiet" and "other sound" never start or continue a cadence
        # match: they are handled here, vectorised, and only leave a mark ("broken")
        # for the next time Python looks at the channel.
        silent_switch = switch & ~fresh & (cur < 0) & (labels < 0)
        if np.count_nonzero(silent_switch):
            sel = ids[silent_switch]
            self.broken[sel] |= (cur[silent_switch] == OTHER) | (labels[silent_switch] == OTHER)
            self.long_other[sel] |= (cur[silent_switch] == OTHER) & (seglen[silent_switch] >= 25)
            self.seg_label[sel] = labels[silent_switch]
            self.seg_start[sel] = np.maximum(pos[silent_switch] + BLOCK - pn[silent_switch] * BLOCK,
                                             0)
            self.rep_pat[sel] = -1
            seglen = np.where(silent_switch, pn, seglen)
            pl = np.where(silent_switch, -9, pl)
            pn = np.where(silent_switch, 0, pn)
            switch &= ~silent_switch
        # A reported tone going on as expected (the segment that ended fits its element
        # and the new one is the next element) needs no Python: advance its phase here.
        rp = self.rep_pat[ids]
        fast = switch & ~fresh & (rp >= 0)
        if np.count_nonzero(fast):
            rpi = np.maximum(rp, 0)
            ph = self.rep_phase[ids]
            nxt = (ph + 1) % self._el_n[rpi]
            ms = seglen * 20
            ok = fast & (cur == self._el_label[rpi, ph]) & (ms >= self._el_lo[rpi, ph]) & \
                (ms <= self._el_hi[rpi, ph]) & (labels == self._el_label[rpi, nxt])
            if np.count_nonzero(ok):
                sel = ids[ok]
                self.seg_label[sel] = labels[ok]
                self.seg_start[sel] = np.maximum(pos[ok] + BLOCK - pn[ok] * BLOCK, 0)
                self.rep_phase[sel] = nxt[ok]
                self.next_check[sel] = (self._el_hi[rpi[ok], nxt[ok]] + 1).astype(np.int64)
                self.stale[sel] = True
                seglen = np.where(ok, pn, seglen)
                pl = np.where(ok, -9, pl)
                pn = np.where(ok, 0, pn)
                switch &= ~ok
        self.pend_label[ids] = pl
        self.pend_n[ids] = pn
        self.seg_len[ids] = seglen
        due = ~switch & (seglen * 20 >= self.next_check[ids])
        out: list[DetectionEvent] = []
        if not (np.count_nonzero(switch) or np.count_nonzero(due)):
            return out
        for i in ((switch | due) & self.en_progress[ids]).nonzero()[0]:
            ch = int(ids[i])
            st = self.progress[ch]
            self.rep_pat[ch] = -1
            if self.stale[ch]:
                st.history.clear()  # the fast path skipped segments: start afresh
                st.support = max(st.support, 2)  # it followed the tone's elements
                self.stale[ch] = False
            if switch[i]:
                if not fresh[i]:
                    if self.broken[ch]:
                        st.history.append(Segment(OTHER, int(self.seg_start[ch]), 0.0))
                        self.broken[ch] = False
                    if self.long_other[ch] or (cur[i] == OTHER and seglen[i] >= 25):
                        st.reported = None
                        self.long_other[ch] = False
                    st.history.append(Segment(int(cur[i]), int(self.seg_start[ch]),
                                              float(seglen[i] * 20),
                                              truncated=bool(self.seg_start[ch] == 0)))
                n_new = 1 if fresh[i] else int(pn[i])
                self.seg_label[ch] = labels[i]
                self.seg_len[ch] = n_new
                self.seg_start[ch] = max(int(pos[i]) + BLOCK - n_new * BLOCK, 0)
                self.pend_label[ch] = -9
                self.pend_n[ch] = 0
            open_seg = Segment(int(self.seg_label[ch]), int(self.seg_start[ch]),
                               float(self.seg_len[ch] * 20),
                               truncated=bool(self.seg_start[ch] == 0))
            found = self.matcher.decide(st, open_seg)
            nxt = self.matcher.next_deadline_ms(open_seg)
            self.next_check[ch] = int(min(nxt, _INT32_MAX))
            if found and found[0] != st.reported:
                st.reported = found[0]
                st.support = self.matcher.support_of(found[0], st.history, open_seg)
                out.append(ToneEvent(ch, found[1], int(pos[i]) + BLOCK, found[0]))
            if found and found[0] == st.reported:
                phase = self.matcher.phase_of(found[0], st.history, open_seg)
                if phase >= 0:
                    rp = self._pat_index[found[0]]
                    self.rep_pat[ch] = rp
                    self.rep_phase[ch] = phase
                    # Following a known tone, only its own element's end matters.
                    self.next_check[ch] = int(min(self._el_hi[rp, phase] + 1, _INT32_MAX))
        return out

    def _prev_edges(self, prev_frame: np.ndarray | None, *, digits: bool) -> PrevPower:
        """The edge powers (float64, as the run trackers keep them) of the frame before
        the block, from its row of ``last_frame``: the digit pairs' (as
        :func:`_dtmf_pair_power`) or the single tones'; computed by the tracker's call
        for the rows it works on (those with a run going on or a labelled frame)."""
        assert prev_frame is not None
        nb, n_low = self._n_bins, self._n_low

        def edges(rows: np.ndarray | None) -> np.ndarray:
            frame = prev_frame if rows is None else prev_frame[rows]
            energy = frame[:, None, nb + 1]
            if digits:
                inter = frame[:, None, nb + 2] if n_low else 0.0
                _, edge = _dtmf_pair_power(frame[:, None, :nb], energy, inter)
            else:
                sp = frame[:, None, 8:13]
                edge = np.where(sp >= EDGE_PURITY * energy[..., None], sp, 0.0)
            return edge[:, 0].astype(np.float64)

        return edges

    def _amd(self, ids, block, voiced, block_energy, level_db) -> list[DetectionEvent]:
        spec = np.abs(np.fft.rfft(block * self._win, axis=1)) ** 2
        spec *= (block_energy / np.maximum(np.add.reduce(spec, axis=1), 1e-30))[:, None]
        out: list[DetectionEvent] = []
        for ch, result, _blocks, reason in self.amd.update(ids, voiced, spec, level_db):
            now = int(self.pos[ch]) + BLOCK
            after = max(now - int(self.answered_at[ch]), 0)
            if self.en_amd[ch]:
                out.append(AmdEvent(ch, now, now, result, after, reason))
        return out


def detect_file(samples: np.ndarray, zone: str | Zone = "cn", answered_at: float | None = None,
                *, dtmf: bool = True, progress: bool = True, fax: bool = True,
                vad: bool = True, amd: bool | None = None, announcements: bool = True,
                mf: str | None = None, templates: list[Template] | None = None,
                ) -> list[DetectionEvent]:
    """Run the detector over one recording (int16 at 8 kHz); events sorted by onset.

    ``answered_at`` is the answer time in seconds (None: never answered, so the whole
    file is early media). AMD runs when answered unless ``amd=False``. One second of
    silence is appended so that what is still going on at the end is decided; events
    whose onset falls in that padding are dropped.
    """
    x = np.asarray(samples)
    if x.ndim != 1:
        raise ValueError(f"samples must be one channel, got shape {x.shape}")
    if answered_at is not None and answered_at < 0:
        raise ValueError(f"{answered_at=} must be >= 0 seconds")
    n = x.size
    det = Detector(zone, 1, announcements=templates)
    det.enable(0, dtmf=dtmf, progress=progress, fax=fax, vad=vad,
               amd=(answered_at is not None) if amd is None else amd,
               announcements=announcements, mf=mf,
               answered_at=None if answered_at is None else round(answered_at * RATE))
    pad = (-n) % BLOCK + RATE
    y = np.concatenate([np.clip(x, -32768, 32767).astype(np.int16), np.zeros(pad, np.int16)])
    events: list[DetectionEvent] = []
    ch = np.zeros(1, np.intp)
    for b in y.reshape(-1, BLOCK):
        events += det.process(b[None, :], ch)
    events = [e for e in events if e.sample < n or isinstance(e, AmdEvent)]
    events.sort(key=lambda e: (e.sample, e.decided))
    return events
