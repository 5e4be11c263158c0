"""What the outbound legs of answer-signalling lines share: how they hear the line.

On PRI, SS7 ISUP, MFC/R2 and mobile lines the far end's exchange says when the call is
answered, so the detector never decides an answer there. It still matters on both sides
of it: before the answer, the sounds on the line (ring-back, tones, SIT, announcements)
are reported once per kind as early media; after it, a fax or modem tone or the AMD
verdict decides who answered. Each signalling module says which of its states are which
(``CALLING_STATES``, ``ANSWERED_STATE``, ``CONNECTED_STATE``); the hearing and the
decision are written once, here.
"""

from __future__ import annotations

from typing import Any, ClassVar

from trunkline.drivers.dsp.events import DetectionEvent, SilenceEvent
from trunkline.drivers.signalling import events as ev
from trunkline.drivers.signalling.detection import DIGITS_ONLY, FAX_TONES, heard
from trunkline.drivers.signalling.leg import Leg, Output

__all__ = ["TrunkLeg"]


class TrunkLeg(Leg):
    """An outbound leg on a line that signals the answer (see the module docstring).

    Subclasses keep ``self.state``, ``self._early`` (the kinds of early media
    reported), ``self._answered_at`` and ``self._decided_at``, and name their states in
    :attr:`CALLING_STATES`, :attr:`ANSWERED_STATE` and :attr:`CONNECTED_STATE`.
    """

    #: The states in which the call is being set up (what is heard is early media).
    CALLING_STATES: ClassVar[tuple[Any, ...]] = ()
    #: The state of a call answered and not yet decided (a person, machine or fax).
    ANSWERED_STATE: ClassVar[Any] = None
    #: The state once decided: talking, listening for the far end's digits only.
    CONNECTED_STATE: ClassVar[Any] = None
    state: Any
    _early: set[str]
    _since: float
    _answered_at: float | None
    _decided_at: float | None

    def _calling(self) -> bool:
        return self.state in self.CALLING_STATES

    def _answered(self) -> bool:
        return self.state is self.ANSWERED_STATE

    def _enter(self, state: Any) -> None:
        self.state = state
        self._since = self.now

    def _decide(self, outcome: str, reason: str) -> None:
        """Who answered: reported once, while answered and undecided; then connected.
        The far end's clearing comes as signalling, so the audio needs no more call
        progress analysis, only the far end's digits."""
        if self.state is not self.ANSWERED_STATE:
            return
        self.outcome = self.answered_by = outcome
        self._decided_at = self.now
        result = "notsure" if reason in ("amd_notsure", "amd_timeout") else outcome
        answered_at = self.now if self._answered_at is None else self._answered_at
        self._report(ev.Classified(self.now, result, reason,
                                   round(self.now - answered_at, 2)))
        self._enter(self.CONNECTED_STATE)
        self._do(DIGITS_ONLY)

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
        """Report what is heard before the answer, once per kind of sound; the first SIT
        also as itself, with its code, as an FXO line reports it (issue 15, item 3:
        clients learn the code the same way whatever the line)."""
        if isinstance(observed, ev.SitHeard) and "sit code" not in self._early:
            self._early.add("sit code")
            self._report(observed)
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
