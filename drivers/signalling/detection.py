"""What legs ask of the shared detector, and what its events mean to a call.

Legs do not analyse audio: the line loop runs one multi-channel
:class:`~trunkline.drivers.dsp.detector.Detector` over every call's frames each tick and
hands each leg the events of its channel. :func:`heard` turns a detector event into
the call event a leg reports.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from trunkline.drivers.dsp.amd import LATEST_DECISION_MS
from trunkline.drivers.dsp.events import (
    AmdEvent,
    AnnouncementEvent,
    DetectionEvent,
    DtmfEvent,
    SitEvent,
    ToneEvent,
    VoiceEvent,
)
from trunkline.drivers.signalling import events as ev
from trunkline.drivers.signalling.actions import (
    ConfigureDetection,
    StartDetection,
    features,
)

__all__ = [
    "AMD_WINDOW", "CALL_PROGRESS", "DETECT_OPTIONS", "DIGITS", "DIGITS_ALSO", "DIGITS_ONLY",
    "FAX_TONES", "detection_flags", "heard", "start_progress",
]

#: What an outbound call enables on its channel (DTMF only once a person is there).
CALL_PROGRESS: Final[Mapping[str, bool]] = MappingProxyType({
    "dtmf": False, "progress": True, "fax": True, "vad": True, "amd": True,
    "announcements": True})

#: call.originate's ``detect`` options and the detector features they switch.
DETECT_OPTIONS: Final[Mapping[str, str]] = MappingProxyType({
    "call_progress": "progress", "amd": "amd", "fax": "fax",
    "announcements": "announcements"})

#: How long after the answer the detector's AMD may take before the call is taken for a
#: person, "notsure" (its decisions average 2-3 s; shared/reference/detection-anchors.md:
#: 3-5 s typical). The same on every line: it is the detector's budget, not the line's:
#: its latest verdict (a greeting starting after 4 s of silence still gets the 3.4 s
#: it needs, drivers/dsp/amd.py) and at least half a second for the event to arrive,
#: rounded up to a value binary floating point holds exactly (timers add it to times).
AMD_WINDOW: Final = math.ceil((LATEST_DECISION_MS + 500) / 500) / 2

#: AMD verdicts that come from the tone detectors (drivers/dsp/amd.py).
TONE_VERDICTS: Final[frozenset[str]] = frozenset({"fax", "sit"})

#: Answer tones of fax machines and modems (detector tone names).
FAX_TONES: Final[frozenset[str]] = frozenset({"fax_ced", "fax_cng", "modem_ans", "ansam"})

#: A call that needs only in-call digits (an agent's phone, an answered inbound call).
DIGITS: Final = StartDetection(features(dtmf=True, progress=False, fax=False, vad=False))
#: A classified call: digits from now on, nothing else.
DIGITS_ONLY: Final = ConfigureDetection(features(
    dtmf=True, progress=False, fax=False, vad=False, amd=False, announcements=False))
#: An answered analog call: digits as well as the tones that end it.
DIGITS_ALSO: Final = ConfigureDetection(features(dtmf=True))


def detection_flags(detect: Mapping[str, object]) -> dict[str, bool]:
    """Detector flags for call.originate's ``detect`` (all on by default).

    Raises ValueError naming an unknown option or a value that is not a boolean.
    """
    unknown = sorted(set(detect) - set(DETECT_OPTIONS))
    if unknown:
        raise ValueError(f"call.originate: unknown detect option(s) "
                         f"{', '.join(map(repr, unknown))}; known: {', '.join(DETECT_OPTIONS)}")
    for key, value in detect.items():
        if not isinstance(value, bool):
            raise ValueError(f"call.originate: detect.{key} must be true or false, not "
                             f"{value!r}")
    return {DETECT_OPTIONS[k]: bool(v) for k, v in detect.items()}


def start_progress(flags: Mapping[str, bool]) -> StartDetection:
    """Call-progress detection with ``flags`` (from :func:`detection_flags`) applied."""
    return StartDetection(features(**{**CALL_PROGRESS, **flags}))


def heard(event: DetectionEvent, at: float) -> ev.CallEvent:
    """The call event for a detector event handed to a leg at card time ``at``."""
    if isinstance(event, ToneEvent):
        return ev.ToneHeard(at, event.tone)
    if isinstance(event, SitEvent):
        return ev.SitHeard(at, event.code)
    if isinstance(event, AnnouncementEvent):
        return ev.AnnouncementHeard(at, event.announcement)
    if isinstance(event, AmdEvent):
        # AMD's tone verdicts (fax, sit) repeat what the leg was handed a moment before,
        # in the same tick: the fax tone or the SIT itself, on which it acts. A note of
        # the detector's, not a second verdict (which would be reported twice).
        if event.result in TONE_VERDICTS:
            return ev.DetectorEvent(at, event.kind)
        return ev.AmdVerdict(at, event.result)
    if isinstance(event, VoiceEvent):
        return ev.VoiceHeard(at)
    if isinstance(event, DtmfEvent):
        return ev.DigitReceived(at, event.digit)
    return ev.DetectorEvent(at, event.kind)
