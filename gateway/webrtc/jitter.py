"""A browser's audio, evened out for the 20 ms tick: jitter buffer and loss concealment.

Sans-IO: the media tick pushes the RTP packets that arrived since the last tick
(:meth:`JitterBuffer.push`, G.711 already decoded to linear samples) and pops one 160-sample
frame (:meth:`JitterBuffer.pop`). Time is the tick count, nothing else: a packet "arrived"
at the tick that pushed it. No clock is read.

How the playout point is kept. Each packet's *transit* is ``arrival_tick * 160 - rtp_ts``
(samples, up to a constant nobody knows). A packet can be played when the playout
position has not passed it, so the position must trail the arrival of the packets by
the spread of their transits. The buffer keeps the transits of the last
:attr:`window` packets and aims at a delay ``D = min + (p95 - min)`` over them: the
fastest packets are played at once, and 95 % of the slower ones in time. The delay
moves one frame at a time, at most once every :data:`ADJUST_EVERY` ticks: up by
playing one concealed frame without advancing (the network got worse, or the sender's
clock is slower than the card's), down by skipping one frame (the network calmed down,
or the sender's clock is faster). That is also what absorbs clock drift: a sender at
+0.1 % makes the lowest transit fall by one frame every 20 s, and the buffer skips one.

Loss concealment follows the scheme of ITU-T G.711 Appendix I (1999) in its simplest
form: the last good audio is repeated, full level for the first 10 ms, then attenuated
by 20 % per 10 ms, silent after 60 ms; when real audio comes back, the first 4 ms are
cross-faded from the concealment into it so no click is heard. (Appendix I also repeats
pitch periods rather than whole frames; a frame's repetition is what is done here, a
simplification that costs some buzz on long losses and nothing on the 1-2 frame losses
a LAN has.)

Reordered packets are put in their place by RTP timestamp; duplicates are dropped; a
packet that arrives after its samples were due is *late* and dropped (counted). A jump
of more than :data:`RESYNC_SAMPLES` in timestamp, or a new SSRC (a reloaded page's new
stream), starts the buffer afresh.
"""

from __future__ import annotations

import bisect
from collections import deque
from dataclasses import dataclass, field

import numpy as np

__all__ = ["ADJUST_EVERY", "FRAME", "RESYNC_SAMPLES", "JitterBuffer", "JitterStats"]

#: Samples per tick (20 ms at 8 kHz).
FRAME = 160
#: Ticks between two changes of the playout delay (so a burst does not swing it).
ADJUST_EVERY = 10
#: A timestamp jump this large (1 s) is a new stream, not jitter.
RESYNC_SAMPLES = 8000
#: G.711 Appendix I: 10 ms at full level, then -20 % per 10 ms, silent after 60 ms.
_BLOCK = 80
_GAINS = (1.0, 0.8, 0.6, 0.4, 0.2)
_GAIN_TABLE = np.array(_GAINS, np.float32)
#: Cross-fade back into real audio after concealment (4 ms).
_FADE = 32
_WRAP = 1 << 32


@dataclass
class JitterStats:
    """What happened to the packets (``webrtc.status``, the benchmark)."""

    received: int = 0
    late: int = 0
    duplicate: int = 0
    concealed_frames: int = 0      # frames with any concealed or silent-for-loss samples
    skipped_frames: int = 0        # frames dropped to lower the delay
    stretched_frames: int = 0      # frames inserted to raise the delay
    resets: int = 0
    #: Ticks from each packet's arrival to the tick its first sample was played (the
    #: delay this buffer adds), the last 500.
    waits: deque[int] = field(default_factory=lambda: deque(maxlen=500))

    def as_dict(self) -> dict[str, object]:
        waits = sorted(self.waits)
        p50 = waits[len(waits) // 2] * 20 if waits else None
        return {"received": self.received, "late": self.late, "duplicate": self.duplicate,
                "concealed_frames": self.concealed_frames,
                "skipped_frames": self.skipped_frames,
                "stretched_frames": self.stretched_frames, "resets": self.resets,
                "added_ms_p50": p50}


class _Packet:
    __slots__ = ("arrived", "end", "samples", "start", "used")

    def __init__(self, start: int, samples: np.ndarray, arrived: int) -> None:
        self.start = start
        self.end = start + len(samples)
        self.samples = samples
        self.arrived = arrived
        self.used = False


class JitterBuffer:
    """One stream's jitter buffer (see the module docstring).

    ``max_delay_frames`` bounds the delay however bad the network (8 frames: 160 ms);
    ``window``: how many packets' transits set the delay (100: two seconds).
    """

    def __init__(self, *, max_delay_frames: int = 8, window: int = 100) -> None:
        if max_delay_frames < 1 or window < 2:
            raise ValueError("max_delay_frames must be >= 1 and window >= 2")
        self.max_delay = max_delay_frames * FRAME
        self.window = window
        self.stats = JitterStats()
        self._tick = 0
        self._reset()

    def _reset(self) -> None:
        self._packets: list[_Packet] = []
        self._starts: list[int] = []
        self._ref: int | None = None          # the last unwrapped timestamp
        self._ssrc: int | None = None
        self._play: int | None = None         # the next sample to play (unwrapped ts)
        self._delay = 0                       # tick * FRAME - play, in samples
        self._transits: deque[int] = deque(maxlen=self.window)
        self._last_adjust = self._tick
        self._history = np.zeros(FRAME, np.float32)  # the last good frame
        self._lost_samples = 0                # samples concealed in a row

    # -- input ------------------------------------------------------------------------
    def push(self, seq: int, timestamp: int, samples: np.ndarray, ssrc: int = 0) -> None:
        """A packet that arrived since the last tick: its RTP timestamp (32 bits) and its
        decoded samples (int16 or float). ``seq`` is not needed (the timestamp orders
        audio) and kept for the caller's logs."""
        del seq
        if len(samples) == 0:
            return
        if self._ssrc is not None and ssrc != self._ssrc:
            self.stats.resets += 1
            self._reset()
        self._ssrc = ssrc
        start = self._unwrap(timestamp & (_WRAP - 1))
        arrival = self._tick * FRAME
        if self._play is not None and abs(arrival - self._delay - start) > RESYNC_SAMPLES:
            self.stats.resets += 1
            self._reset()
            self._ssrc = ssrc
            start = self._unwrap(timestamp & (_WRAP - 1))
        self.stats.received += 1
        self._transits.append(arrival - start)
        if self._play is None:
            # The first packet: play it at once; the delay grows if the network needs it.
            self._delay = arrival - start
            self._play = start
        end = start + len(samples)
        if end <= self._play:
            self.stats.late += 1
            return
        i = bisect.bisect_left(self._starts, start)
        if i < len(self._starts) and self._starts[i] == start:
            self.stats.duplicate += 1
            return
        self._starts.insert(i, start)
        self._packets.insert(i, _Packet(start, np.asarray(samples, np.float32), self._tick))

    def _unwrap(self, ts: int) -> int:
        if self._ref is None:
            self._ref = ts
            return ts
        base = self._ref - (self._ref % _WRAP)
        candidates = (base - _WRAP + ts, base + ts, base + _WRAP + ts)
        value = min(candidates, key=lambda c: abs(c - self._ref))  # type: ignore[operator]
        self._ref = max(self._ref, value)
        return value

    # -- output -----------------------------------------------------------------------
    def pop(self) -> np.ndarray:
        """The next 20 ms to play (float32, 160 samples); always a full frame."""
        tick = self._tick
        self._tick += 1
        if self._play is None:
            return np.zeros(FRAME, np.float32)
        if self._adjust(tick):
            # A frame longer delay: concealment now, the playout point stays.
            return self._conceal(np.zeros(FRAME, np.float32), np.zeros(FRAME, bool))
        start = self._play
        out = np.zeros(FRAME, np.float32)
        have = np.zeros(FRAME, bool)
        keep_from = 0
        for i, packet in enumerate(self._packets):
            if packet.end <= start:
                keep_from = i + 1
                continue
            if packet.start >= start + FRAME:
                break
            lo, hi = max(packet.start, start), min(packet.end, start + FRAME)
            out[lo - start:hi - start] = packet.samples[lo - packet.start:hi - packet.start]
            have[lo - start:hi - start] = True
            if not packet.used:
                packet.used = True
                self.stats.waits.append(tick - packet.arrived)
        if keep_from:
            del self._packets[:keep_from]
            del self._starts[:keep_from]
        if not have.all():
            out = self._conceal(out, have)
        elif self._lost_samples:
            out = self._fade_in(out)
        if have.all():
            self._history = out.copy()
        self._play += FRAME
        return out

    def _adjust(self, tick: int) -> bool:
        """Move the delay one frame toward what the transits ask for (see the module
        docstring); True: this tick plays a frame of concealment without advancing."""
        if len(self._transits) < 2 or tick - self._last_adjust < ADJUST_EVERY:
            self._delay = tick * FRAME - self._play  # type: ignore[operator]
            return False
        ordered = sorted(self._transits)
        low = ordered[0]
        high = ordered[min(len(ordered) - 1, (len(ordered) * 95) // 100)]
        wanted = low + min(high - low, self.max_delay)
        assert self._play is not None
        current = tick * FRAME - self._play
        if wanted > current + FRAME // 2:
            self.stats.stretched_frames += 1
            self._last_adjust = tick
            self._delay = current + FRAME
            return True
        if wanted < current - FRAME:
            self._play += FRAME
            self.stats.skipped_frames += 1
            self._last_adjust = tick
        self._delay = tick * FRAME - self._play
        return False

    def _conceal(self, out: np.ndarray, have: np.ndarray) -> np.ndarray:
        """Fill what is missing from the last good audio, fading out (G.711 App. I)."""
        self.stats.concealed_frames += 1
        filled = out.copy()
        missing = np.flatnonzero(~have)
        blocks = (self._lost_samples + np.arange(len(missing))) // _BLOCK
        gains = np.where(blocks < len(_GAINS),
                         _GAIN_TABLE[np.minimum(blocks, len(_GAINS) - 1)], 0.0)
        filled[missing] = self._history[missing] * gains
        self._lost_samples += len(missing)
        return filled

    def _fade_in(self, out: np.ndarray) -> np.ndarray:
        """Real audio after concealment: cross-fade its first 4 ms from what concealment
        would have played, then forget the loss."""
        block = self._lost_samples // _BLOCK
        gain = _GAINS[block] if block < len(_GAINS) else 0.0
        ramp = np.linspace(0.0, 1.0, _FADE, endpoint=False, dtype=np.float32)
        out = out.copy()
        out[:_FADE] = out[:_FADE] * ramp + self._history[:_FADE] * gain * (1 - ramp)
        self._lost_samples = 0
        return out

    # -- state ------------------------------------------------------------------------
    @property
    def delay_ms(self) -> float:
        """The playout delay beyond the fastest packets' arrival, in ms."""
        if not self._transits or self._play is None:
            return 0.0
        return max(0, self._tick * FRAME - self._play - min(self._transits)) / 8.0
