"""Audio of answers without an answer signal: from the emulated network and synthesized.

The emulated card (``hil-tests/network.toml``'s number plan) records what an FXO port
receives after dialing, in virtual time; on a port whose line reverses polarity the
reversal marks the true answer, so the detector's ``voice`` can be measured against it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from trunkline.clock import VirtualClock
from trunkline.drivers.dsp.detector import BLOCK, Detector
from trunkline.drivers.dsp.events import DetectionEvent
from trunkline.drivers.dsp.tones import to_int16
from trunkline.drivers.dsp.wavfile import read_audio
from trunkline.drivers.model import EventKind, SpanKind
from trunkline.drivers.registry import open_card

ROOT = Path(__file__).resolve().parents[2]
PLAN = ROOT / "hil-tests" / "network.toml"
CLIPS = ROOT / "firmware-profiles" / "audio"
RATE = 8000
#: What the call legs enable (drivers/signalling/detection.py CALL_PROGRESS).
CALL_FLAGS = {"dtmf": False, "progress": True, "fax": True, "vad": True, "amd": True,
              "announcements": True}


def greetings() -> dict[str, np.ndarray]:
    """The emulated network's greetings (espeak-ng, "喂，你好" and the like)."""
    return {p.stem: read_audio(p).astype(np.float64)
            for p in sorted(CLIPS.glob("*greeting*.wav"))}


def dial_and_record(number: str, seconds: float, *, port: int = 0
                    ) -> tuple[np.ndarray, float | None]:
    """(audio received from the digits on, answer time in s or None) for ``number``.

    The answer time is the first polarity reversal (ports 0-5 of the plan's card
    reverse polarity on answer), to the 20 ms frame.
    """
    with open_card("emulated", clock=VirtualClock(), network=PLAN) as card:
        ch = [c for s in card.spans if s.kind is SpanKind.FXO for c in s.channels][port]
        card.open(ch)
        card.hook(ch, "offhook")
        _frames(card, ch, 0.5)
        card.dial(ch, number)
        audio, answer = _frames(card, ch, seconds)
        card.close_channel(ch)
    return audio, answer


def _frames(card, ch: int, seconds: float) -> tuple[np.ndarray, float | None]:
    out, answer = [], None
    for i in range(round(seconds / 0.02)):
        frames = card.read_frames()
        out.append(frames[card.row(ch)].copy())
        card.write_frames(np.zeros_like(frames))
        for e in card.poll_events():
            if e.kind is EventKind.POLARITY and e.channel == ch and answer is None:
                answer = i * 0.02
    return np.concatenate(out), answer


def early_media(signal: np.ndarray, *, mark_answered_at: float | None = None,
                exact: bool = True, **flags) -> list[DetectionEvent]:
    """Events of one channel fed as the call controllers do (not answered at first).

    ``mark_answered_at`` (seconds) calls :meth:`Detector.mark_answered` then, ``exact``
    or (False) inferred from speech, as on a line without an answer signal. One second
    of silence is appended.
    """
    x = to_int16(np.concatenate([np.asarray(signal, np.float64), np.zeros(RATE)]))
    x = x[: x.size // BLOCK * BLOCK]
    det = Detector("cn", 1, announcements=[])
    det.enable(0, **{**CALL_FLAGS, **flags})
    mark = None if mark_answered_at is None else round(mark_answered_at * RATE / BLOCK)
    events: list[DetectionEvent] = []
    for b in range(x.size // BLOCK):
        if b == mark:
            det.mark_answered(0, exact=exact)
        events += det.process(x[None, b * BLOCK:(b + 1) * BLOCK], [0])
    return events
