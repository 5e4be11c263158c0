"""What a call controller asks of the shared detector, and how events map to meaning.

Call controllers (FXO, PRI) do not analyse audio themselves: the runner or the gateway
engine feeds one multi-channel :class:`~trunkline.drivers.dsp.detector.Detector` with
every call's frames (one vectorised pass per tick) and hands each controller the events
of its channel. A controller answers with :class:`DetectorOp` actions: restart detection
(after dialing, so dial-tone fragments do not colour early media), mark the answer
(answering-machine detection starts there), or stop (a classified PRI call needs none).
"""

from __future__ import annotations

from dataclasses import dataclass

from trunkline.drivers.dsp.events import (
    AmdEvent,
    AnnouncementEvent,
    DetectionEvent,
    SitEvent,
    ToneEvent,
    VoiceEvent,
)

#: What an outbound call enables on its channel (DTMF only once a person is there).
CALL_PROGRESS = {"dtmf": False, "progress": True, "fax": True, "vad": True, "amd": True,
                 "announcements": True}

#: Answer tones of fax machines and modems (detector tone names).
FAX_TONES = frozenset({"fax_ced", "fax_cng", "modem_ans", "ansam"})

#: Dialer outcome for each announcement kind (DESIGN.md outcomes).
ANNOUNCEMENT_OUTCOME = {
    "invalid_number": "invalid_number", "powered_off": "unreachable",
    "unreachable": "unreachable", "busy": "busy", "call_barred": "rejected",
    "congestion": "congestion", "not_in_service": "invalid_number", "no_answer": "no_answer",
}


@dataclass(frozen=True, slots=True)
class DetectorOp:
    """``reset`` (restart timers and decisions), ``answered`` or ``stop``."""

    op: str
    exact: bool = True
    """For ``answered``: a signal gave the moment (False: inferred from speech)."""

    def __post_init__(self) -> None:
        if self.op not in ("reset", "answered", "stop"):
            raise ValueError(f"unknown detector op {self.op!r}")


def observation(event: DetectionEvent) -> tuple[str, str]:
    """(kind, name) of an event: ("tone", "busy"), ("sit", "IC"), ("amd", "human")..."""
    if isinstance(event, ToneEvent):
        return "tone", event.tone
    if isinstance(event, SitEvent):
        return "sit", event.code
    if isinstance(event, AnnouncementEvent):
        return "announcement", event.announcement
    if isinstance(event, AmdEvent):
        return "amd", event.result
    if isinstance(event, VoiceEvent):
        return "voice", ""
    return event.kind, ""


def apply_detector_ops(detector, channel: int, ops: list[DetectorOp]) -> None:
    """Carry out ``ops`` on ``detector`` for ``channel``."""
    for op in ops:
        if op.op == "reset":
            detector.reset(channel)
        elif op.op == "answered":
            detector.mark_answered(channel, exact=op.exact)
        elif op.op == "stop":
            detector.disable(channel)
