"""What the outbound legs of answer-signalling lines share: how they hear the line.

On PRI, SS7 ISUP, MFC/R2 and mobile lines the far end's exchange says when the call is
answered, so the detector never decides an answer there. It still matters on both sides
of it: before the answer, the sounds on the line (ring-back, tones, SIT, announcements)
are reported once per kind as early media; after it, a fax or modem tone or the AMD
verdict decides who answered. Each signalling module says which of its states are which
(``CALLING_STATES``, ``ANSWERED_STATE``) and how a decision is carried out
(:meth:`TrunkLeg._decide`); the hearing is written once, here.
"""

from __future__ import annotations

from typing import Any, ClassVar

from trunkline.drivers.dsp.events import DetectionEvent, SilenceEvent
from trunkline.drivers.signalling import events as ev
from trunkline.drivers.signalling.detection import FAX_TONES, heard
from trunkline.drivers.signalling.leg import Leg, Output

__all__ = ["TrunkLeg"]


class TrunkLeg(Leg):
    """An outbound leg on a line that signals the answer (see the module docstring).

    Subclasses keep ``self.state`` and ``self._early`` (the kinds of early media
    reported), name their states in :attr:`CALLING_STATES` and :attr:`ANSWERED_STATE`,
    and give :meth:`_decide`.
    """

    #: The states in which the call is being set up (what is heard is early media).
    CALLING_STATES: ClassVar[tuple[Any, ...]] = ()
    #: The state of a call answered and not yet decided (a person, machine or fax).
    ANSWERED_STATE: ClassVar[Any] = None
    state: Any
    _early: set[str]

    def _calling(self) -> bool:
        return self.state in self.CALLING_STATES

    def _answered(self) -> bool:
        return self.state is self.ANSWERED_STATE

    def _decide(self, outcome: str, reason: str) -> None:
        raise NotImplementedError

    def on_detection(self, now: float, event: DetectionEvent) -> list[Output]:
        self.now = now
        if isinstance(event, SilenceEvent):
            return []
        observed = heard(event, now)
        if isinstance(observed, ev.DigitReceived):
            self._report(observed)
        elif self._calling():
            self._early_media(observed)
        elif self._answered():
            if isinstance(observed, ev.ToneHeard) and observed.tone in FAX_TONES:
                self._decide("fax", observed.tone)
            elif isinstance(observed, ev.AmdVerdict):
                self._report(observed)
                result = observed.result
                self._decide("human" if result == "notsure" else result, f"amd_{result}")
        return self._take()

    def _early_media(self, observed: ev.CallEvent) -> None:
        """Report what is heard before the answer, once per kind of sound."""
        kind = None
        if isinstance(observed, ev.ToneHeard):
            heard_as = observed.tone
        elif isinstance(observed, ev.AnnouncementHeard):
            heard_as = kind = observed.kind
        elif isinstance(observed, ev.DetectorEvent):
            heard_as = observed.kind
        else:
            heard_as = observed.NAME
        if heard_as not in self._early:
            self._early.add(heard_as)
            self._report(ev.EarlyMedia(self.now, heard_as, kind))
