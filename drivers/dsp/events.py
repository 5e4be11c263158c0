"""Detection events: small frozen, slotted dataclasses, and their JSON form (DESIGN.md).

Time is a sample count at 8 kHz from the moment detection started on the channel
(``sample``, the onset of what was detected); ``decided`` is the sample at which the
detector made up its mind (events are emitted then, so a digit's event comes when it
ends). ``t`` in the JSON form is ``sample / 8000`` in seconds, as DESIGN.md specifies.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

RATE = 8000

#: Tone names a ``tone`` event may carry (DESIGN.md), plus ``music`` for colour ring-back
#: and the zone's ``record`` and ``info`` tones.
TONE_NAMES = frozenset({
    "dial", "ringback", "busy", "congestion", "callwaiting", "record", "info", "sit",
    "fax_cng", "fax_ced", "modem_ans", "ansam", "music",
})
#: SIT codes: the eight NANP codes (drivers/dsp/sit.py), ITU (E.180, no reason), unknown.
SIT_CODES = frozenset({"IC", "NC", "NC'", "VC", "RO", "RO'", "IO", "future", "ITU",
                       "unknown"})
#: AMD verdicts: ``fax`` and ``sit`` come from the tone detectors (amd.py).
AMD_RESULTS = frozenset({"human", "machine", "notsure", "fax", "sit"})
DTMF_DIGITS = frozenset("0123456789*#ABCD")


def _check(value: Any, allowed: frozenset[str], name: str) -> None:
    if value not in allowed:
        raise ValueError(f"{name}={value!r} is not one of {sorted(allowed)}")


@dataclass(frozen=True, slots=True)
class DetectionEvent:
    """Base of every event: which channel, and when (in samples)."""

    kind: ClassVar[str] = ""
    channel: int
    sample: int
    decided: int

    def __post_init__(self) -> None:
        if self.sample < 0 or self.decided < self.sample:
            raise ValueError(f"event times sample={self.sample} decided={self.decided} "
                             "must satisfy 0 <= sample <= decided")

    @property
    def t(self) -> float:
        """Onset in seconds since detection started on the channel."""
        return self.sample / RATE


@dataclass(frozen=True, slots=True)
class DtmfEvent(DetectionEvent):
    kind: ClassVar[str] = "dtmf"
    digit: str
    duration: int  # samples

    def __post_init__(self) -> None:
        DetectionEvent.__post_init__(self)
        _check(self.digit, DTMF_DIGITS, "digit")


@dataclass(frozen=True, slots=True)
class MfEvent(DetectionEvent):
    """A Bell MF or MFC/R2 signal (``system`` is ``bell``, ``r2_forward``, ``r2_backward``).

    MFC/R2 is compelled: each side answers the other's tone as soon as it is recognised
    and stops when it ends. So a signal gives two events: ``state="on"`` once recognised
    (30 ms, duration so far) and ``state="off"`` when it ends (its full duration).
    """

    kind: ClassVar[str] = "mf"
    digit: str
    duration: int
    system: str
    state: str = "off"

    def __post_init__(self) -> None:
        DetectionEvent.__post_init__(self)
        if self.state not in ("on", "off"):
            raise ValueError(f"state={self.state!r} is not 'on' or 'off'")


@dataclass(frozen=True, slots=True)
class ToneEvent(DetectionEvent):
    kind: ClassVar[str] = "tone"
    tone: str
    confidence: float = 1.0

    def __post_init__(self) -> None:
        DetectionEvent.__post_init__(self)
        _check(self.tone, TONE_NAMES, "tone")


@dataclass(frozen=True, slots=True)
class SitEvent(DetectionEvent):
    kind: ClassVar[str] = "sit"
    code: str
    frequencies: tuple[float, ...] = ()
    durations_ms: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        DetectionEvent.__post_init__(self)
        _check(self.code, SIT_CODES, "code")


@dataclass(frozen=True, slots=True)
class VoiceEvent(DetectionEvent):
    kind: ClassVar[str] = "voice"


@dataclass(frozen=True, slots=True)
class SilenceEvent(DetectionEvent):
    kind: ClassVar[str] = "silence"


@dataclass(frozen=True, slots=True)
class AmdEvent(DetectionEvent):
    """Answering-machine detection; ``after_answer`` is the decision time after answer."""

    kind: ClassVar[str] = "amd"
    result: str
    after_answer: int  # samples
    reason: str = ""

    def __post_init__(self) -> None:
        DetectionEvent.__post_init__(self)
        _check(self.result, AMD_RESULTS, "result")


@dataclass(frozen=True, slots=True)
class AnnouncementEvent(DetectionEvent):
    kind: ClassVar[str] = "announcement"
    announcement: str  # the kind: invalid_number, powered_off, ...
    template: str = ""
    confidence: float = 0.0


def to_json(event: DetectionEvent, *, channel: bool = False) -> dict[str, Any]:
    """The DESIGN.md JSON object of ``event`` (``{"t":1.02,"event":"dtmf",...}``).

    Extra fields beyond DESIGN.md are documented in docs/detector.md; ``channel=True``
    adds the channel number (the CLI analyses one channel and leaves it out).
    """
    out: dict[str, Any] = {"t": round(event.t, 3), "event": event.kind}
    if channel:
        out["channel"] = event.channel
    match event:
        case DtmfEvent():
            out["digit"] = event.digit
            out["duration"] = round(event.duration / RATE, 3)
        case MfEvent():
            out["digit"] = event.digit
            out["duration"] = round(event.duration / RATE, 3)
            out["system"] = event.system
            out["state"] = event.state
        case ToneEvent():
            out["tone"] = event.tone
        case SitEvent():
            out["code"] = event.code
        case AmdEvent():
            out["result"] = event.result
            out["after_answer"] = round(event.after_answer / RATE, 3)
            if event.reason:
                out["reason"] = event.reason
        case AnnouncementEvent():
            out["kind"] = event.announcement
            out["confidence"] = round(event.confidence, 2)
            if event.template:
                out["template"] = event.template
    return out
