"""FXS ports: we ring a telephone (an agent's position) and it answers by lifting.

The port feeds a phone, so the roles of loop start are reversed: we apply ringing
(DAHDI_HOOK ``RING``), the phone's off-hook is the answer (DAHDI_EVENT_RINGOFFHOOK),
and its on-hook the end. A lifted phone is a person: no detection decides it.

    RINGING    phone off hook        -> ANSWERED   (ringing stops)
    any        phone on hook         -> ENDED      (human if it was answered, else no_answer)
    any        application hangs up  -> ENDED      (battery removed: the port goes on hook)

On a port with caller ID (LineOptions ``caller_id``: the FSK standard its phones read)
and a call that names a calling number, the message goes out in the first silent step
of the ringer's cadence, as sig_analog.c does it (ANALOG_EVENT_RINGEROFF with the ring
count equal to ``cidrings``, chan_dahdi's ``sendcalleridafter``, default 1): written to
the port as audio while it rings, which the SLIC passes to the on-hook phone. Lifting
the phone mid-message stops it.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from trunkline.drivers.dsp.callerid import CallerId, encode_message, modulate
from trunkline.drivers.model import CardEvent, EventKind, HookOp
from trunkline.drivers.signalling import events as ev
from trunkline.drivers.signalling.actions import Hook, SendAudio, StopAudio
from trunkline.drivers.signalling.analog import AnalogSignalling
from trunkline.drivers.signalling.detection import DIGITS
from trunkline.drivers.signalling.leg import CallOptions, Leg, Output
from trunkline.errors import CallStateError

__all__ = ["FxsLeg", "FxsSignalling"]


class FxsLeg(Leg):
    """A phone on an FXS port, rung until it is lifted (see the module docstring).

    ``number`` is only a label (the agent position, say): an FXS port dials nothing.
    ``spill`` is the caller ID signal to send in ring pause ``cid_rings`` (None: none).
    """

    kind: ClassVar[str] = "fxs"
    direction: ClassVar[str] = "outbound"

    def __init__(self, call_id: int, span: int, channel: int, label: str, *,
                 spill: np.ndarray | None = None, cid_rings: int = 1) -> None:
        super().__init__(call_id, span, channel, label)
        self.answered = False
        self.spill = spill
        self.cid_rings = cid_rings
        self.rings = 0
        self._spilling = False

    def start(self, now: float) -> list[Output]:
        self.started = self.now = now
        self._do(Hook(HookOp.RING))
        self._report(ev.Alerting(now))
        return self._take()

    def on_signal(self, now: float, event: CardEvent) -> list[Output]:
        self._begin(now)
        if self.ended:
            return []  # the call is over: the port is the line loop's again
        if event.kind is EventKind.RINGER_OFF and not self.answered:
            self.rings += 1
            if self.rings == self.cid_rings and self.spill is not None:
                self._spilling = True
                self._do(SendAudio(self.spill))
        elif event.kind is EventKind.OFFHOOK and not self.answered:
            self.answered = True
            self.answered_by = "human"
            if self._spilling:
                self._do(StopAudio())
            self._do(Hook(HookOp.RINGOFF))
            self._report(ev.Answered(self.now, "offhook", person=True))
            self._do(DIGITS)
        elif event.kind is EventKind.ONHOOK:
            self._end("far_end")
        return self._take()

    def next_deadline(self) -> float | None:
        return float("inf")  # the phone rings until it is lifted or we give up

    def hangup(self, now: float, cause: int = 16) -> list[Output]:
        self._begin(now)
        if not self.ended:
            self._do(Hook(HookOp.ONHOOK))
            self._end("near_end")
        return self._take()

    def _end(self, by: str) -> None:
        self.outcome = "human" if self.answered else "no_answer"
        self._report(ev.HungUp(self.now, by, self.outcome))


class FxsSignalling(AnalogSignalling):
    """Ringing the phones on a span of FXS ports."""

    kind: ClassVar[str] = "fxs"

    def outbound(self, call_id: int, channel: int | None, options: CallOptions) -> Leg:
        if channel is None:
            raise CallStateError(f"an FXS call needs a port of span {self.span.number}")
        return FxsLeg(call_id, self.span.number, channel, options.number,
                      spill=self._spill(channel, options))

    def _spill(self, channel: int, options: CallOptions) -> np.ndarray | None:
        """The caller ID signal for the port's standard, when the port has caller ID
        and the call names who calls (an MDMF message: number and name; no date, which
        GR-30-CORE makes optional and a phone without it shows none)."""
        if not (options.calling or options.calling_name):
            return None
        standard = self.card.line_options(channel).caller_id
        if not standard:
            return None
        caller = CallerId(number=options.calling or "", name=options.calling_name or "",
                          number_absent="" if options.calling else "O")
        return modulate(encode_message(caller), standard)
