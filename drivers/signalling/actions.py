"""What call legs ask for: small frozen actions, carried out by whoever drives the leg.

A leg never touches a card, a D-channel or the detector. The line loop
(:mod:`trunkline.drivers.lineloop`) carries out the actions on the channel and the
shared detector itself, and hands the signalling ones to the leg's signalling module
(:class:`~trunkline.drivers.signalling.base.Signalling`): a hook change on an analog
port, a SETUP on a PRI D-channel, ABCD bits on a CAS channel.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, TypedDict, cast

import numpy as np

from trunkline.drivers.model import HookOp

if TYPE_CHECKING:
    from trunkline.drivers.card import DialMode

__all__ = [
    "Action", "ConfigureDetection", "DetectCallerId", "DetectMf", "DetectorFlags", "Dial",
    "Hook", "MarkAnswered", "OpenAudio", "PlayTone", "ReleaseChannel", "RestartDetection",
    "SendAnswer", "SendAudio", "SendClear", "SendDigits", "SendProceeding", "SendSetup",
    "SetBits", "StartDetection", "StopAudio", "StopDetection", "StopTone", "TakeChannel",
    "ToneSpec", "features",
]


@dataclass(frozen=True, slots=True)
class Action:
    """Base of every action."""


# -- the channel and the detector (carried out by the line loop) ---------------------------

@dataclass(frozen=True, slots=True)
class TakeChannel(Action):
    """The call now holds card channel ``channel``; ``open_audio`` starts its frames
    (digital channels; analog ports are always open)."""

    channel: int
    open_audio: bool = True


@dataclass(frozen=True, slots=True)
class OpenAudio(Action):
    """Start the frames of the channel the call already holds (an answered PRI call)."""


@dataclass(frozen=True, slots=True)
class ReleaseChannel(Action):
    """The call lets go of ``channel`` (detection stops, digital audio closes)."""

    channel: int


def features(**flags: bool) -> tuple[tuple[str, bool], ...]:
    """Detector feature flags as a hashable value for the actions below."""
    return tuple(sorted(flags.items()))


class DetectorFlags(TypedDict, total=False):
    """The detector features a leg switches (:meth:`Detector.enable`'s keywords)."""

    dtmf: bool
    progress: bool
    fax: bool
    vad: bool
    amd: bool
    announcements: bool


@dataclass(frozen=True, slots=True)
class _Detection(Action):
    """Detector feature flags (dtmf, progress, fax, vad, amd, announcements:
    :meth:`Detector.enable`'s keywords), kept hashable."""

    flags: tuple[tuple[str, bool], ...]

    @property
    def options(self) -> DetectorFlags:
        return cast(DetectorFlags, dict(self.flags))


@dataclass(frozen=True, slots=True)
class StartDetection(_Detection):
    """Start the detector afresh on the call's channel with these flags."""


@dataclass(frozen=True, slots=True)
class ConfigureDetection(_Detection):
    """Change what is detected without restarting the detector's timers."""


@dataclass(frozen=True, slots=True)
class RestartDetection(Action):
    """Restart the detector's timers and decisions (the line fell silent after dialing)."""


@dataclass(frozen=True, slots=True)
class MarkAnswered(Action):
    """Answering-machine detection starts now; ``exact`` when a signal gave the moment
    (CONNECT, polarity reversal), False when the answer was inferred from speech."""

    exact: bool = True


@dataclass(frozen=True, slots=True)
class StopDetection(Action):
    """Nothing more to detect on the call's channel."""


@dataclass(frozen=True, slots=True)
class DetectMf(Action):
    """Listen for multifrequency signals of ``system`` on the call's channel
    (``r2_forward``, ``r2_backward``, ``bell``; None: stop), beside whatever else is
    detected there. MF events arrive through ``on_detection`` (``MfEvent``, with
    ``state`` ``on`` when a signal is recognised and ``off`` when it ends)."""

    system: str | None


@dataclass(frozen=True, slots=True)
class SendDigits(Action):
    """Send DTMF ``digits`` to the far end out of band, as the line's signalling
    carries them (a mobile module's AT+VTS): for legs whose audio path would not carry
    tones reliably (a GSM voice codec)."""

    digits: str


@dataclass(frozen=True, slots=True)
class DetectCallerId(Action):
    """Listen for an FSK caller ID message of ``standard`` (``bell202``, ``v23``; None:
    stop) on the call's channel, beside whatever else is detected there. A message
    arrives through ``on_detection`` as a
    :class:`~trunkline.drivers.dsp.callerid.CallerIdEvent`."""

    standard: str | None


# -- in-band signalling tones (sent by the line loop) ---------------------------------------

@dataclass(frozen=True, slots=True)
class ToneSpec:
    """A steady tone of one or more frequencies (Hz), each at ``level`` dBm0."""

    frequencies: tuple[float, ...]
    level: float = -8.0

    def __post_init__(self) -> None:
        if not self.frequencies or any(not 0 < f < 4000 for f in self.frequencies):
            raise ValueError(f"tone frequencies must be in (0, 4000) Hz, got {self.frequencies}")
        if not -60.0 <= self.level <= 3.0:
            raise ValueError(f"tone level must be -60..3 dBm0, got {self.level}")


@dataclass(frozen=True, slots=True)
class PlayTone(Action):
    """Send ``tone`` on the call's channel from the next frame on, until StopTone or
    another PlayTone (an MFC/R2 register signal): added to what the channel sends."""

    tone: ToneSpec


@dataclass(frozen=True, slots=True)
class StopTone(Action):
    """Stop the signalling tone the call's channel is sending."""


@dataclass(frozen=True, slots=True, eq=False)
class SendAudio(Action):
    """Send ``samples`` (linear, 8 kHz) once on the call's channel from the next frame
    on, added to what the channel sends: a caller ID spill to a phone between rings."""

    samples: np.ndarray


@dataclass(frozen=True, slots=True)
class StopAudio(Action):
    """Stop what :class:`SendAudio` is sending (the phone was lifted mid-spill)."""


# -- channel-associated signalling (carried out by the CAS modules on the card) ------------

@dataclass(frozen=True, slots=True)
class SetBits(Action):
    """Send ABCD bits ``bits`` (0..15, A the most significant) on the call's CAS channel
    (DAHDI_SETTXBITS)."""

    bits: int

    def __post_init__(self) -> None:
        if isinstance(self.bits, bool) or not 0 <= self.bits <= 15:
            raise ValueError(f"ABCD bits are 0..15, not {self.bits!r}")


# -- analog signalling (carried out by the analog modules on the card) ---------------------

@dataclass(frozen=True, slots=True)
class Hook(Action):
    op: HookOp


@dataclass(frozen=True, slots=True)
class Dial(Action):
    digits: str
    mode: DialMode = "dtmf"


# -- Q.931 signalling (carried out by the PRI module on its D-channel) ---------------------

@dataclass(frozen=True, slots=True)
class SendSetup(Action):
    called: str
    calling: str | None = None


@dataclass(frozen=True, slots=True)
class SendClear(Action):
    """Clear (or refuse) the call with Q.850 ``cause``."""

    cause: int = 16


@dataclass(frozen=True, slots=True)
class SendAnswer(Action):
    """CONNECT an offered call."""


@dataclass(frozen=True, slots=True)
class SendProceeding(Action):
    """CALL PROCEEDING for an offered call: the number is complete, we are deciding."""
