"""The telephone network behind a simulated DAHDI kernel's analog ports and PRI spans.

An analog span of the simulated kernel with ``far_end = "exchange"`` has the emulated
network's central office behind its FXO ports and its telephones on its FXS ports (the
same :class:`~trunkline.drivers.backends.emulated.lines.ExchangeLine` and
:class:`~trunkline.drivers.backends.emulated.lines.Phone` the emulated card uses, and
its number plan with every subscriber behaviour). An E1 PRI span with ``far_end =
"exchange"`` has the emulated card's network side behind it: libpri in network mode on
the span's D-channel (the kernel's HDLC channel), routing each SETUP into the same plan,
with the far party's audio on the B-channels. So the DAHDI backend's own code places
and takes real calls on the simulated board: dial tone, the kernel's DTMF or pulse
dialling, ring-back, polarity answer, far-end clear by loop drop, caller ID between
rings, agents' phones ringing and lifting, and the hil suite runs its analog call flows
on ``--card dahdi:sim`` as it does on the emulated card.

What crosses between the kernel and the network, each as the kernel would see it:

- **audio**: what the application writes leaves in the block it drains in (plus the
  kernel's own DTMF while a DIAL string is out); what the line sends comes back in the
  block read, through the channel's law. The network moves in 20 ms frames on the
  kernel's clock; audio written after its frame was sent goes out in the next one (a
  frame of delay, as buffering on a board gives);
- **the line's signals**: ringing voltage (``ring``: RINGBEGIN and the ring trailer),
  battery reversal (``reverse_polarity``), loop current dropped by the far end (the
  FXSKS port's ``DAHDI_EVENT_ONHOOK`` while our loop is closed), a phone lifted or hung
  up (``phone_hook``), a hook flash (WINKFLASH);
- **our hook**: an FXO port going off or on hook (and the breaks of pulse dialling) is
  the exchange's loop closing or opening; ringing an FXS port rings its phone.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from trunkline.drivers.backends.emulated.config import LineSettings, PhoneSettings
from trunkline.drivers.backends.emulated.lines import BearerChannel, ExchangeLine, Phone
from trunkline.drivers.backends.emulated.network import Network, Port
from trunkline.drivers.backends.emulated.plan import NumberPlan, default_plan, load_plan
from trunkline.drivers.backends.emulated.pri_network import PriNetworkSide
from trunkline.drivers.backends.emulated.sounds import NetworkSounds
from trunkline.drivers.card import HdlcLink
from trunkline.drivers.dsp.zones import load_zone
from trunkline.drivers.model import (
    FRAME_SAMPLES,
    SAMPLE_RATE,
    EventKind,
    SpanInfo,
    SpanKind,
    SpanSignalling,
)

if TYPE_CHECKING:
    from trunkline.drivers.backends.dahdi.simkernel import SimulatedKernel, _Chan, _Span

__all__ = ["SimExchange"]

#: Samples of audio kept each way per port (two seconds: far more than a block).
HISTORY = 2 * SAMPLE_RATE


class SimExchange:
    """The network behind ``channels`` (analog ports of ``kernel``); see the module
    docstring. ``plan`` is a number plan (a file or a NumberPlan; default the sample)."""

    def __init__(self, kernel: SimulatedKernel, channels: list[_Chan], zone: str,
                 plan: NumberPlan | str | Path | None = None, seed: int = 0,
                 pri_spans: list[_Span] | None = None) -> None:
        self.kernel = kernel
        if plan is None:
            plan = default_plan()
            plan = NumberPlan(zone, plan.subscribers, plan.language, plan.interdigit_timeout,
                              plan.max_digits, plan.seed, plan.source)
        elif not isinstance(plan, NumberPlan):
            plan = load_plan(plan)
        self.plan = plan
        beeps = tuple({s.beep for s in plan.subscribers} | {1000.0})
        sounds = NetworkSounds(load_zone(plan.zone), seed=plan.seed + seed, beeps=beeps)
        clear = kernel.lib.DAHDI_SIG_CLEAR
        bearers = [ch for span in pri_spans or [] for ch in kernel.chans.values()
                   if ch.span == span.number and ch.sigtype == clear]
        everyone = [*channels, *bearers]
        self.network = Network(plan, sounds, len(everyone), seed)
        self.ports: dict[int, Port] = {}
        self.rows: dict[int, int] = {}
        for row, ch in enumerate(everyone):
            port: Port = ExchangeLine(self.network, ch.number, ch.span, row, LineSettings()) \
                if ch.module == "fxo" else Phone(self.network, ch.number, ch.span, row,
                                                 PhoneSettings()) if ch.module == "fxs" \
                else BearerChannel(self.network, ch.number, ch.span, row)
            self.network.add_port(port)
            port.silence()
            self.ports[ch.number] = port
            self.rows[ch.number] = row
        #: Our audio waiting for its frames: (row, first sample, samples).
        self._tx: list[tuple[int, int, np.ndarray]] = []
        self._rx = np.zeros((len(everyone), HISTORY), np.float32)
        self._frame = 0
        self._plans: list[tuple[float, int, Callable[[], None]]] = []
        #: libpri in network mode behind each PRI span, routing into the plan
        #: (the emulated card's own network side, pri_network.py).
        self.pri: dict[int, PriNetworkSide] = {}
        for span in pri_spans or []:
            info = SpanInfo(span.number, SpanKind.E1, SpanSignalling.PRI,
                            tuple(range(span.base, span.base + span.total)), None, "ccs",
                            "hdb3", True, "alaw", span.description)
            self.pri[span.number] = PriNetworkSide(self, info)

    # -- time ---------------------------------------------------------------------------
    def advance(self, sample: int) -> None:
        """Run the network through every 20 ms frame that ends by ``sample``."""
        while (self._frame + 1) * FRAME_SAMPLES <= sample:
            first = self._frame * FRAME_SAMPLES
            idx = (first + np.arange(FRAME_SAMPLES)) % HISTORY
            now = (self._frame + 1) * FRAME_SAMPLES / SAMPLE_RATE
            for due in [p for p in self._plans if p[0] <= now]:
                self._plans.remove(due)
                due[2]()
            self.network.now = now
            for side in self.pri.values():
                side.poll(now)
            self._rx[:, idx] = self.network.step(now, self._frame_tx(first))
            self._frame += 1
            for event in self.network.take_events():
                self._line_signal(event.channel, event.kind, event.value)

    def _frame_tx(self, first: int) -> np.ndarray:
        """Our audio in the frame from sample ``first``; what is used up is dropped."""
        tx = np.zeros((len(self.rows), FRAME_SAMPLES), np.float32)
        end = first + FRAME_SAMPLES
        keep = []
        for row, start, samples in self._tx:
            lo, hi = max(start, first), min(start + len(samples), end)
            if hi > lo:
                tx[row, lo - first: hi - first] += samples[lo - start: hi - start]
            if start + len(samples) > end:
                keep.append((row, start, samples))
        self._tx = keep
        return tx

    def next_due(self) -> float | None:
        """When the network next needs to move on its own (kernel seconds), for poll."""
        timer = self.network.next_timer()
        due = min([p[0] for p in self._plans] + ([timer] if timer is not None else []),
                  default=None)
        # The network moves in whole frames: what is due runs at the next frame's end.
        return None if due is None else max(due, (self._frame + 1) * FRAME_SAMPLES
                                            / SAMPLE_RATE)

    # -- audio --------------------------------------------------------------------------
    def send(self, channel: int, first: int, samples: np.ndarray) -> None:
        """Our audio from sample ``first`` on; what falls in frames already sent goes in
        the next frame."""
        first = max(first, self._frame * FRAME_SAMPLES)
        self._tx.append((self.rows[channel], first, np.asarray(samples, dtype=np.float32)))

    def receive(self, channel: int, first: int, n: int) -> np.ndarray:
        """The line's audio for samples ``[first, first + n)`` (linear)."""
        self.advance(first + n)
        idx = (first + np.arange(n)) % HISTORY
        return self._rx[self.rows[channel], idx]

    # -- signals ------------------------------------------------------------------------
    def port(self, channel: int) -> Port:
        return self.ports[channel]

    def network_dchannel(self, span: int) -> HdlcLink:
        """The network's end of a PRI span's D-channel (the kernel's HDLC channel)."""
        return self.kernel.dchannel_peer(span)

    def hook(self, channel: int, offhook: bool) -> None:
        """Our FXO port closed or opened its loop (seizure, answer, release, a pulse)."""
        self.advance(self._sample_now())
        port = self.ports[channel]
        if isinstance(port, ExchangeLine):
            port.hook(offhook)

    def cancel_plans(self, channel: int) -> None:
        """A dial string stopped: its pulses and DTMF not yet sent are dropped."""
        self._plans = [p for p in self._plans if p[1] != channel]
        row, now = self.rows[channel], self._frame * FRAME_SAMPLES
        self._tx = [(r, s, x) for r, s, x in self._tx if r != row or s < now]

    def pulse(self, channel: int, at: float, offhook: bool) -> None:
        """Our loop opens or closes at kernel time ``at``: a break or make of pulse
        dialling, which the kernel times itself (DAHDI_DIAL ``P``)."""
        self._plans.append((at, channel, lambda: self.hook(channel, offhook)))

    def ring_phone(self, channel: int, on: bool, *, disconnect: bool = False) -> None:
        """Our FXS port rings its phone (or stops; ``disconnect``: battery removed)."""
        self.advance(self._sample_now())
        port = self.ports[channel]
        if isinstance(port, Phone):
            port.ring(on)
            if disconnect:
                port.disconnect()

    def _line_signal(self, channel: int, kind: EventKind, value: Any) -> None:
        k = self.kernel
        ch = k.chans[channel]
        if kind is EventKind.RING_BEGIN:
            k.ring(channel, True)
        elif kind is EventKind.RING_END:
            k.ring(channel, False)
        elif kind is EventKind.POLARITY:
            k.reverse_polarity(channel)
        elif kind is EventKind.ONHOOK and ch.module == "fxo":
            # The far end cleared: loop current dropped. An FXSKS port sees it only while
            # its own loop is closed (__dahdi_hooksig_pvt).
            if ch.offhook:
                ch.events.append(k.lib.DAHDI_EVENT_ONHOOK)
        elif kind in (EventKind.OFFHOOK, EventKind.ONHOOK):
            k.phone_hook(channel, kind is EventKind.OFFHOOK)
        elif kind is EventKind.WINKFLASH:
            ch.events.append(k.lib.DAHDI_EVENT_WINKFLASH)

    def _sample_now(self) -> int:
        return round(self.kernel.now() * SAMPLE_RATE)
