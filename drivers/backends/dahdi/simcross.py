"""Crossover cables between spans of the simulated DAHDI kernel (``far_end = "span N"``).

An E1 crossover cable joins the transmit pair of one port to the receive pair of the
other, both ways, so two spans of one machine talk to each other as two exchanges would:
the hil-tests run our MFC/R2 module outbound on one span against our inbound side on
the other, and one SS7 linkset against another, on the DAHDI backend's own code.

:class:`Crossover` holds the cables of one :class:`~.simkernel.SimulatedKernel` and
moves what crosses them, each the way the kernel and a framer move it:

* **Audio**: timeslot *t* of one span is timeslot *t* of the other. What a channel writes
  is transmitted at 8,000 bytes a second from its write buffers whether or not anybody
  reads the far side (dahdi-base.c ``__dahdi_getbuf_chunk`` takes ``DAHDI_CHUNKSIZE``
  bytes from the write buffer each millisecond, and sends silence when it is empty), so
  each channel keeps a :class:`TxStream`: its transmitted bytes by absolute sample time.
  A read of the far side takes the window of that stream its block covers.
* **ABCD bits** (E1 CAS, timeslot 16's multiframe): a channel's transmitted bits
  (``DAHDI_SETTXBITS``, dahdi-base.c ``dahdi_cas_setbits``) are the received bits of the
  same timeslot on the far span, handed to the kernel's ``dahdi_rbsbits`` (which queues
  ``DAHDI_EVENT_BITSCHANGED`` on a CAS channel when they change). A framer reads bits
  for channels that are not clear channels only (wct4xxp ``t4_check_sigbits``).
* **HDLC frames** on a D-channel or an SS7 link cross whole, in order, to the same
  timeslot, and are received only by an open HDLC channel (the kernel has receive
  buffers only while a channel is open: ``close_channel`` frees them). A channel in MTP2
  mode (``DAHDI_SIG_MTP2``) differs from plain HDLC in two ways (dahdi-base.c): its
  transmitter repeats the last frame written until another is written (at the end of a
  buffer ``outwritebuf`` goes back to it instead of going idle), and its receiver drops
  a frame identical to the one before it (``memcmp`` against the previous buffer).
  Transmission is taken as instant, so each frame written crosses once when written; the
  repeats matter when the receiver was not listening: a receiver that opens, or whose
  line comes back, receives the frame the far end is repeating unless it is the last one
  it took. (A plain HDLC receiver facing an MTP2 transmitter would take a repeat every
  few milliseconds; that flood is not modelled: it gets each frame written once.)

A direction of a cable carries when the transmitting span is running and the receiving
span is running without RED or BLUE alarm. Alarms follow from the cable: a span whose
peer is not running (never configured, or shut down) receives no signal (RED, LOS), a
framing or CRC4 mismatch between the two is RED as it is against a carrier's line, and a
running span in RED or BLUE alarm sends the remote alarm indication, so its peer shows
YELLOW (wct4xxp ``t4_check_alarms``: "If receiving alarms, go into Yellow alarm state";
the drivers' debounce times are not modelled).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from trunkline.drivers.backends.dahdi.simkernel import SimulatedKernel, _Chan, _Span

#: Samples of its transmit a channel keeps for a late reader of the far side (4 s: far
#: more than the backend's 4 buffers of 160 samples, or DAHDI's default 2 of 1,024, hold;
#: an older window reads as silence).
RETAIN = 4 * 8000


@dataclass
class TxStream:
    """What one channel has put on its cable: bytes ``[base, pos)`` by absolute sample."""

    pos: int
    base: int = 0
    line: bytearray = field(default_factory=bytearray)

    def __post_init__(self) -> None:
        self.base = self.pos

    def advance(self, tx: bytearray, now: int, idle: int, gain: bytes | None = None) -> None:
        """Transmit up to sample ``now``: from the write buffer ``tx``, silence after it
        runs dry (as the kernel does when the application wrote too little), through
        the channel's transmit gain table when it has one."""
        n = now - self.pos
        if n <= 0:
            return
        sent = bytes(tx[:n])
        del tx[:n]
        if len(sent) < n:
            sent += bytes([idle]) * (n - len(sent))
        self.line += sent.translate(gain) if gain is not None else sent
        self.pos = now
        if len(self.line) > 2 * RETAIN:
            cut = len(self.line) - RETAIN
            del self.line[:cut]
            self.base += cut

    def window(self, start: int, n: int, idle: int) -> np.ndarray:
        """Samples ``[start, start + n)`` as transmitted (silence before what is kept)."""
        out = np.full(n, idle, dtype=np.uint8)
        lo, hi = max(start, self.base), min(start + n, self.pos)
        if hi > lo:
            out[lo - start: hi - start] = np.frombuffer(
                bytes(self.line[lo - self.base: hi - self.base]), dtype=np.uint8)
        return out


class Crossover:
    """The crossover cables of one simulated kernel (see the module docstring)."""

    def __init__(self, kernel: SimulatedKernel) -> None:
        self.kernel = kernel
        self.peer: dict[int, int] = {}
        self.streams: dict[int, TxStream] = {}
        #: Frames a receiver had no buffer for (the kernel drops them: "Out of storage").
        self.frames_dropped = 0

    # -- the cables -----------------------------------------------------------------------
    def join(self, a: int, b: int) -> None:
        self.peer[a] = b
        self.peer[b] = a

    def crossed(self, span: _Span) -> bool:
        return span.number in self.peer

    def peer_span(self, span: _Span) -> _Span:
        return self.kernel.span_by_number(self.peer[span.number])

    def peer_chan(self, ch: _Chan) -> _Chan | None:
        """The channel on the same timeslot of the far span (None: not crossed)."""
        number = self.peer.get(ch.span)
        if number is None:
            return None
        far = self.kernel.span_by_number(number)
        return self.kernel.chans.get(far.base + ch.pos - 1)

    def carries(self, tx_span: _Span, rx_span: _Span) -> bool:
        """Whether what ``tx_span`` transmits reaches ``rx_span`` now."""
        lib = self.kernel.lib
        return tx_span.running and not tx_span.removed and rx_span.running and not (
            rx_span.alarms & (lib.DAHDI_ALARM_RED | lib.DAHDI_ALARM_BLUE))

    # -- audio ----------------------------------------------------------------------------
    def stream(self, ch: _Chan) -> TxStream:
        stream = self.streams.get(ch.number)
        if stream is None:
            stream = self.streams[ch.number] = TxStream(self.kernel.sample_now())
        return stream

    def transmit(self, ch: _Chan) -> None:
        """Bring ``ch``'s transmit up to now (before its buffer is read or added to)."""
        self.stream(ch).advance(ch.tx, self.kernel.sample_now(), self.kernel.idle_code(ch),
                                self.kernel.tx_gain(ch))

    def receive_block(self, ch: _Chan, start: int, n: int, idle: int) -> np.ndarray:
        """The block of ``n`` samples from ``start`` that ``ch`` receives off the cable."""
        lib = self.kernel.lib
        span = self.kernel.spans[ch.span - 1]
        far_span = self.peer_span(span)
        source: _Chan | None
        if span.maint == lib.DAHDI_MAINT_LOCALLOOP:
            source = ch  # our transmit straight back, whatever the cable does
        elif far_span.maint in (lib.DAHDI_MAINT_NETWORKLINELOOP,
                                lib.DAHDI_MAINT_NETWORKPAYLOADLOOP):
            source = ch if self.carries(span, far_span) else None  # looped at the far port
        elif self.carries(far_span, span):
            source = self.peer_chan(ch)
        else:
            source = None
        if source is None:
            return np.full(n, idle, dtype=np.uint8)
        self.transmit(source)
        return self.stream(source).window(start, n, self.kernel.idle_code(source))

    # -- ABCD bits ------------------------------------------------------------------------
    def send_bits(self, ch: _Chan) -> None:
        """``ch`` transmits new bits: the far timeslot receives them if the cable carries."""
        far = self.peer_chan(ch)
        if far is None:
            return
        span = self.kernel.spans[ch.span - 1]
        if self.carries(span, self.kernel.spans[far.span - 1]):
            self._receive_bits(far, ch.txbits)

    def sync_bits(self, span: _Span, *, quiet: bool = False) -> None:
        """After a change of the cable's state: each side receives the other's bits
        (``quiet``: at power-up, without events, as the channels' initial state)."""
        far_span = self.peer_span(span)
        for a, b in ((span, far_span), (far_span, span)):
            if not self.carries(a, b):
                continue
            for ch in self.kernel.span_chans(a):
                far = self.peer_chan(ch)
                if far is None:
                    continue
                if quiet:
                    far.rxbits = ch.txbits
                else:
                    self._receive_bits(far, ch.txbits)

    def _receive_bits(self, far: _Chan, bits: int) -> None:
        if not far.sigtype & self.kernel.lib.DAHDI_SIG_CLEAR:
            self.kernel.rbsbits(far, bits)

    # -- HDLC frames ----------------------------------------------------------------------
    def send_frame(self, ch: _Chan, frame: bytes) -> None:
        """``ch`` writes ``frame`` (without FCS) on its HDLC channel."""
        if ch.sigtype == self.kernel.lib.DAHDI_SIG_MTP2:
            ch.mtp2_repeat = frame
        far = self.peer_chan(ch)
        if far is not None and self.carries(self.kernel.spans[ch.span - 1],
                                            self.kernel.spans[far.span - 1]):
            self._deliver(far, frame)

    def sync_repeat(self, ch: _Chan) -> None:
        """An MTP2 receiver takes the frame the far end repeats, unless it took it last."""
        if ch.sigtype != self.kernel.lib.DAHDI_SIG_MTP2:
            return
        far = self.peer_chan(ch)
        if far is None or far.mtp2_repeat is None:
            return
        if self.carries(self.kernel.spans[far.span - 1], self.kernel.spans[ch.span - 1]):
            self._deliver(ch, far.mtp2_repeat)

    def _deliver(self, rx: _Chan, frame: bytes) -> None:
        kernel = self.kernel
        if not kernel.is_hdlc(rx) or not kernel.is_open(rx.number):
            return
        if rx.sigtype == kernel.lib.DAHDI_SIG_MTP2:
            if frame == rx.mtp2_last:
                return  # identical to the frame before it: dropped
            rx.mtp2_last = frame
        if len(rx.hdlc_in) >= kernel.read_buffers(rx.number):
            self.frames_dropped += 1
            return
        rx.hdlc_in.append(kernel.with_fcs(frame))


def far_end_span(value: str) -> int | None:
    """The span number of ``far_end = "span N"`` (None for another far end); raises
    ValueError for a malformed one."""
    words = value.split()
    if not words or words[0] != "span":
        return None
    if len(words) != 2 or not words[1].isdigit() or int(words[1]) < 1:
        raise ValueError(f"far_end {value!r}: write \"span N\" with N the number of the "
                         "span the cable joins")
    return int(words[1])

