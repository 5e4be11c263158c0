"""Inputs for FXO legs: card events and detector events as the line loop hands them over."""

from __future__ import annotations

from trunkline.drivers.dsp.events import (
    AmdEvent,
    AnnouncementEvent,
    DtmfEvent,
    MfEvent,
    SilenceEvent,
    SitEvent,
    ToneEvent,
    VoiceEvent,
)
from trunkline.drivers.model import CardEvent, EventKind
from trunkline.drivers.signalling.fxo import TRANSITIONS, FxoLeg, Signal, State
from trunkline.drivers.signalling.leg import CallOptions

SPAN, CHANNEL = 3, 67
NUMBER = "13800000001"


def card(kind: str, t: float = 0.0, value: int | None = None) -> CardEvent:
    return CardEvent(t, EventKind(kind), CHANNEL, SPAN, value)


def tone(name: str) -> ToneEvent:
    return ToneEvent(CHANNEL, 0, 0, tone=name)


def sit(code: str = "IC") -> SitEvent:
    return SitEvent(CHANNEL, 0, 0, code=code)


def announcement(kind: str) -> AnnouncementEvent:
    return AnnouncementEvent(CHANNEL, 0, 0, announcement=kind)


def voice() -> VoiceEvent:
    return VoiceEvent(CHANNEL, 0, 0)


def silence() -> SilenceEvent:
    return SilenceEvent(CHANNEL, 0, 0)


def amd(result: str) -> AmdEvent:
    return AmdEvent(CHANNEL, 0, 0, result=result, after_answer=0)


def dtmf(digit: str) -> DtmfEvent:
    return DtmfEvent(CHANNEL, 0, 0, digit=digit, duration=800)


def mf(digit: str = "1") -> MfEvent:
    return MfEvent(CHANNEL, 0, 0, digit=digit, duration=400, system="r2_forward")


class SpyLeg(FxoLeg):
    """An FxoLeg that notes the rows of its TRANSITIONS table it took."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.rows: list[tuple[State, Signal]] = []

    def _fire(self, signal: Signal, event=None) -> None:
        if (self.state, signal) in TRANSITIONS:
            self.rows.append((self.state, signal))
        super()._fire(signal, event)


def fxo_leg(*, polarity: bool = False, **options) -> SpyLeg:
    return SpyLeg(1, SPAN, CHANNEL, CallOptions(NUMBER, **options), answer_on_polarity=polarity)


# -- bringing a leg to a state, at known times --------------------------------------------
# started 0.0, dial tone 0.5, digits out 2.0, answered 10.0, classified 12.0

def seizing(leg: FxoLeg) -> FxoLeg:
    leg.start(0.0)
    return leg


def dialing(leg: FxoLeg) -> FxoLeg:
    seizing(leg)
    leg.on_detection(0.5, tone("dial"))
    return leg


def progress(leg: FxoLeg) -> FxoLeg:
    dialing(leg)
    leg.on_signal(2.0, card("dial_complete", 2.0))
    return leg


def answered(leg: FxoLeg) -> FxoLeg:
    progress(leg)
    leg.on_signal(10.0, card("polarity", 10.0, 1))
    return leg


def connected(leg: FxoLeg, result: str = "machine") -> FxoLeg:
    answered(leg)
    leg.on_detection(12.0, amd(result))
    return leg
