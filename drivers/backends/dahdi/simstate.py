"""The simulated kernel's objects: a span, a channel, an open file descriptor.

Why apart: every part of the simulated kernel (simkernel.py and the modules it is built
from, simcross.py, simexchange.py) reads and changes these, so they live where none of
those parts has to import another. They stand for dahdi-base.c's ``struct dahdi_span``,
``struct dahdi_chan`` and the per-open state ``dahdi_chan_read``/``write`` use (block
size, buffers), reduced to what the simulation needs.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np

RATE = 8000


@dataclass
class _Line:
    framing: str
    coding: str
    crc4: bool
    signal: bool = True


@dataclass
class _Span:
    number: int
    kind: str                      # E1 T1 J1 analog
    name: str
    description: str
    manufacturer: str
    devicetype: str
    location: str
    irq: int
    base: int                      # first channel number
    total: int
    line: _Line
    far_end: str                   # "loop", "idle", or "span N" (a crossover cable)
    lbo: int = 0
    lineconfig: int = 0
    sync: int = 0
    running: bool = False
    alarms: int = 0
    maint: int = 0
    counters: dict[str, int] = field(default_factory=lambda: dict.fromkeys(
        ("bpv", "crc4", "ebit", "fas", "errsec", "irqmisses"), 0))
    removed: bool = False


@dataclass
class _Chan:
    number: int
    span: int
    pos: int
    sigcap: int
    sigtype: int = 0
    law: int = 0
    module: str = ""               # analog: "fxo" or "fxs" (the module fitted)
    offhook: bool = False          # our side's hook (FXO port) / the phone's (FXS port)
    ringing: bool = False
    polarity: int = 0
    txbits: int = 0
    rxbits: int = 0
    idlebits: int = 0              # CAS: sent when the channel is hung up (CHANCONFIG)
    dial_until: float | None = None
    curzone: int | None = None     # the tone zone's number (dahdi-base.c chan->curzone)
    audio: bool = False            # DAHDI_FLAG_AUDIO (echo canceller, gains, linear...)
    linear: bool = False           # DAHDI_FLAG_LINEAR (DAHDI_SETLINEAR): 16-bit samples
    ring_trailer_at: float | None = None  # FXO: when RINGOFFHOOK follows a ring burst
    bufevents: bool = False        # DAHDI_FLAGBIT_BUFEVENTS (DAHDI_BUFFER_EVENTS)
    rx_overrun: bool = False       # DAHDI_FLAGBIT_RXOVERRUN: an overrun episode
    tx_underrun: bool = False      # DAHDI_FLAGBIT_TXUNDERRUN: an underrun episode
    echocan: int = 0
    echocan_name: str = ""
    # dahdi-base.c chan->rxgain/txgain: byte-to-byte tables applied to what is received
    # and sent on a channel with DAHDI_FLAG_AUDIO; None is defgain (identity).
    rxgain: bytes | None = None
    txgain: bytes | None = None
    # FXO: what the exchange sends on the line (e.g. caller ID between rings), as
    # (first sample, linear samples); heard on or off hook (the line loop's tests).
    line_audio: list[tuple[int, np.ndarray]] = field(default_factory=list)
    battery: bool = True           # FXO: the exchange feeds the line (wctdm battery_state)
    # FXS ringing (dahdi-base.c chan->ringcadence/firstcadencepos/cadencepos, the ringer's
    # txstate RINGON/RINGOFF and when its otimer expires).
    ringcadence: tuple[int, ...] = ()
    firstcadencepos: int = 0
    cadencepos: int = 0
    ringer_on: bool = False
    ringer_until: float | None = None
    chan_alarms: int = 0           # dahdi_alarm_channel's own (the FXO battery alarm)
    tx: bytearray = field(default_factory=bytearray)
    events: deque[int] = field(default_factory=deque)
    hdlc_in: deque[bytes] = field(default_factory=deque)   # towards the backend
    hdlc_out: deque[bytes] = field(default_factory=deque)  # from the backend
    hdlc_fcs: bool = False
    mtp2_last: bytes | None = None    # MTP2: the frame last received (a repeat is dropped)
    mtp2_repeat: bytes | None = None  # MTP2: the frame last written (the kernel repeats it)


@dataclass
class _Fd:
    path: str
    chan: int = 0
    blocksize: int = 1024          # user.h: DAHDI_DEFAULT_BLOCKSIZE
    numbufs: int = 2               # user.h: DAHDI_DEFAULT_NUM_BUFS
    t0: float = 0.0
    blocks_read: int = 0
    law_override: int | None = None
    timer_period: int = 0
    timer_start: float = 0.0
    timer_acked: int = 0
    nonblock: bool = True          # O_NONBLOCK (the backend opens every node so)
    #: After an overrun: when the reader reaches block ``skip_at`` (the last one the
    #: full buffers held), the next it gets is ``skip_to`` (the blocks between were
    #: dropped as they came).
    skip_at: int | None = None
    skip_to: int = 0


def _samples(seconds: float) -> int:
    """Whole samples in ``seconds`` (rounded at 1 us: 0.02 s is 160 samples, not 159.99)."""
    return int(round(seconds * RATE * 1e6) // 1_000_000)

