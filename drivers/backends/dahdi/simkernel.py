"""A simulated DAHDI kernel at the ioctl boundary, in the spirit of pyvisa-sim.

(About 1,900 lines, on purpose: it answers each ioctl as dahdi-base.c's ``dahdi_ioctl``
dispatch does, one handler beside the next, and is reviewed by reading it against that
file. What stands behind the spans is apart: crossover cables in ``simcross.py``, the
emulated network in ``simexchange.py``, the interposer's server in ``simserver.py``.
The next piece to move out, when it grows again, is the analog ports' own state
machines: the FXS ringer's cadence and the FXO battery.)

:class:`SimulatedKernel` takes the place of
:class:`~trunkline.drivers.backends.dahdi.device.OsDevice`:
the DAHDI backend runs its own code (the same ioctls on the same cffi structs, compiled
against ``dahdi/user.h``) and the simulation answers as the header documents. A system
(boards, spans, channels, the lines behind them, faults) is described by a versioned
TOML file, ``spec = "1.0"``::

    spec = "1.0"
    version = "3.1.0"                 # what DAHDI_GETVERSION reports
    echo_canceller = "OSLEC"
    timer = true                      # /dev/dahdi/timer exists
    zone = "cn"                       # dial tone the analog lines play
    loadzones = ["cn"]                # zones dahdi_cfg loaded (the first is the default);
                                      # [] is a fresh kernel: no DIAL or RING until loaded
    seed = 1

    [[span]]
    type = "E1"                       # E1 | T1 | J1 | analog
    name = "TE4/0/1"
    description = "T4XXP (PCI) Card 0 Span 1"
    manufacturer = "Digium"
    devicetype = "Wildcard TE420 (5th Gen)"
    location = "PCI Bus 03 Slot 01"
    configured = "pri"                # pri | cas | ss7 | clear | "" (not yet configured)
    framing = "ccs"                   # what system.conf set (when configured)
    coding = "hdb3"
    crc4 = true
    timing = 1                        # sync priority (0: never a timing source)
    far_end = "loop"                  # "loop" (the far end echoes) | "idle" | "span N"
    idlebits = "1001"                 # cas: the ABCD bits an idle channel sends
    [span.line]                       # what the carrier sends (not with far_end = "span N")
    framing = "ccs"
    coding = "hdb3"
    crc4 = true
    signal = true                     # false: no signal at all (cable unplugged)

    [[span]]
    type = "analog"
    ports = ["fxo", "fxo", "fxs", "fxs"]   # the modules fitted, in port order
    far_end = "exchange"              # the emulated network's central office behind the
                                      # FXO ports, its phones on the FXS ports
                                      # (simexchange.py); default: nothing behind them
    hybrid = [{ acim = 9, coefs = [2, 250, 253, 5, 253, 1, 0, 255] }, ...]
                                      # per FXO port: the DAA setting (WCTDM_SET_ECHOTUNE)
                                      # that balances its line; with it the port hears the
                                      # echo of what it sends (simwctdm.py); default: none

    [[span]]                          # a crossover cable from span 1's port to this one
    type = "E1"
    configured = "pri"
    far_end = "span 1"                # (saying it on one of the two spans is enough)

    [[fault]]                         # at a time (seconds after the kernel starts)
    at = 5.0
    kind = "alarm"                    # alarm | irqmiss | counters | removed | stall
    span = 1
    alarm = "red"

``configured`` stands for what ``dahdi_cfg`` applied from system.conf: ``pri`` is a
D-channel (``dchan``, HDLC-FCS) on timeslot 16 (E1) or 24 (T1) and clear B-channels,
``cas`` CAS channels with ``idlebits`` (timeslot 16 of an E1 carries their bits), ``ss7``
an SS7 signalling link in the kernel's MTP2 mode (``mtp2``) on timeslot 16 or 24 and
clear channels, ``clear`` clear channels only. ``config`` (top level) names the machine's
trunkline DAHDI configuration (``trunkline config import`` writes it; relative to this
file): the card reads the signalling settings that are not kernel state from it (the
MFC/R2 variant, SS7 point codes), as it does from ``dahdi:config=FILE`` on a machine.
``network`` (top level) names the emulated network's number plan behind
``far_end = "exchange"`` (relative to this file), as ``dahdi:sim`` takes ``network=``.
The analog board answers wctdm24xxp's own ioctls (``WCTDM_*``: simwctdm.py), and each
channel has its numbered node ``/dev/dahdi/N`` (opened as DAHDI_SPECIFY opens it).

``far_end = "span N"`` joins this span and span N as an E1 crossover cable joins two
ports (:mod:`~trunkline.drivers.backends.dahdi.simcross`): audio, ABCD bits and HDLC frames
cross timeslot to timeslot, and each span's alarms follow from the other's state.

What it models, from user.h: ``DAHDI_SPECIFY`` on /dev/dahdi/channel before any other
channel ioctl (ENXIO for a channel that does not exist); blocks of ``SET_BLOCKSIZE``
samples at 8 kHz, paced by the kernel's clock; ``read()`` failing with ``ELAST`` while an
event waits and ``POLLPRI`` flagging it; ``GETEVENT``; ``HOOK``; ``DIAL`` with
``DIALCOMPLETE``; ``SPANSTAT`` with alarms (plus LOS/LFA/LMFA detail) and counters;
``MAINT`` loopbacks; ``SPANCONFIG``/``CHANCONFIG``/``STARTUP`` (a span whose framing or
CRC4 differs from the line's goes RED, a coding mismatch counts bipolar violations);
HDLC-FCS D-channels (each frame read carries 2 FCS bytes, each frame written leaves 2
bytes for them) and MTP2 links (the last frame repeated, a repeated frame dropped);
CAS bits as dahdi-base.c moves them (``SETTXBITS`` on CAS channels only, ``GETRXBITS``,
``DAHDI_EVENT_BITSCHANGED`` from ``dahdi_rbsbits``, idle bits sent when a channel is
configured, started or closed); /dev/dahdi/timer with ``TIMERCONFIG``/``TIMERACK``.

Taken from dahdi-base.c function by function (docs/dahdi.md, "What the kernel does"):
SPECIFY's EINVAL/ENXIO/EBUSY, a write cancelling DIAL, tone zones (the default zone at
open, ENODATA for DIAL and RING without one, LOADZONE's header, DEFAULTZONE,
SETTONEZONE, GETTONEZONE), HOOK's EINPROGRESS/EBUSY/ENODATA, DAHDI_FLAG_AUDIO and the
echo canceller, FXO ring bursts (RINGBEGIN, RINGOFFHOOK after the ring trailer),
buffer events (overrun drops the newest blocks, underrun sends silence), ELAST, gains
(SETGAINS/GETGAINS, applied to audio channels). Tests make an FXO line's exchange
send audio (``line_audio``: caller ID between rings), heard on hook as well.

What it does not (said plainly, as pyvisa-sim does): line impedance and echo (except the
FXO hybrid's model on spans with ``hybrid``: simwctdm.py), real echo cancellation
(``ECHOCANCEL_PARAMS`` is accepted and recorded), the tones of a zone (only
its header is kept), conferencing, the pseudo channels, E&M, robbed-bit T1 signalling,
``IOMUX``. Behaviour the header leaves open (which errno a bad argument gives) follows
the choice written beside it.

Why one module of this size: it is one kernel's state (spans, channels, descriptors)
and the ioctls, reads, writes and polls that act on it, each beside the dahdi-base.c
rule it follows; the crossover cables (``simcross.py``) and the interposer's server
(``simserver.py``) are apart.
"""

from __future__ import annotations

import errno
import tomllib
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from trunkline.clock import Clock, VirtualClock
from trunkline.drivers.backends.dahdi.abi import Binding, load
from trunkline.drivers.backends.dahdi.device import (
    CHANNEL,
    CTL,
    POLLIN,
    POLLOUT,
    POLLPRI,
    PSEUDO,
    TIMER,
    DahdiOperationError,
)
from trunkline.drivers.backends.dahdi.simcross import Crossover, far_end_span
from trunkline.drivers.backends.dahdi.simexchange import SimExchange
from trunkline.drivers.dsp import g711
from trunkline.drivers.dsp.tones import dtmf
from trunkline.errors import ConfigError

SPEC = "1.0"
RATE = 8000
#: dahdi-base.c's defgain: "defgain[i] = i", the gain tables of a channel nobody set.
IDENTITY_GAIN = bytes(range(256))
FAULT_KINDS = ("alarm", "irqmiss", "counters", "removed", "stall")
#: kernel.h DAHDI_RINGTRAILER: 50 ms without ringing voltage end a ring burst.
RING_TRAILER = 0.05
#: wctdm24xxp's FXO battery timing (fxo_modes.h, every opermode: battdebounce 64 ms,
#: battalarm 1000 ms): a change of battery counts after the debounce, and the channel
#: alarm follows the alarm time after the change began.
BATT_DEBOUNCE, BATT_ALARM = 0.064, 1.0
#: dahdi-base.c initialize_channel without a zone: "ringcadence[0] = chan->starttime"
#: (DAHDI_DEFAULT_RINGTIME, 2000 ms) and "ringcadence[1] = DAHDI_RINGOFFTIME" (4000 ms).
STARTTIME_MS, RINGOFFTIME_MS = 2000, 4000
#: kernel.h: DAHDI_DEFAULT_PULSEBREAKTIME/MAKETIME 50 ms, PULSEAFTERTIME 750 ms; DTMF
#: digits of DAHDI_CONFIG_DEFAULT_DTMF_LENGTH (100 ms) with as long a gap.
PULSE_BREAK, PULSE_MAKE, PULSE_AFTER = 0.05, 0.05, 0.75
DTMF_MS = 100

DEFAULT_SYSTEM = """\
# The default simulated system: one 4-span E1 board and one 4-port analog board.
spec = "1.0"
version = "3.1.0"
echo_canceller = "OSLEC"
timer = true
zone = "cn"

[[span]]
type = "E1"
name = "TE4/0/1"
description = "T4XXP (PCI) Card 0 Span 1"
manufacturer = "Digium"
devicetype = "Wildcard TE420 (5th Gen)"
location = "PCI Bus 03 Slot 01"
configured = "pri"
timing = 1
far_end = "loop"

[[span]]
type = "E1"
name = "TE4/0/2"
description = "T4XXP (PCI) Card 0 Span 2"
manufacturer = "Digium"
devicetype = "Wildcard TE420 (5th Gen)"
location = "PCI Bus 03 Slot 01"
configured = "pri"
timing = 2
far_end = "exchange"              # a carrier's exchange: libpri, network side

[[span]]
type = "E1"
name = "TE4/0/3"
description = "T4XXP (PCI) Card 0 Span 3"
manufacturer = "Digium"
devicetype = "Wildcard TE420 (5th Gen)"
location = "PCI Bus 03 Slot 01"
configured = ""
[span.line]
signal = false

[[span]]
type = "E1"
name = "TE4/0/4"
description = "T4XXP (PCI) Card 0 Span 4"
manufacturer = "Digium"
devicetype = "Wildcard TE420 (5th Gen)"
location = "PCI Bus 03 Slot 01"
configured = ""
[span.line]
signal = false

[[span]]
type = "analog"
name = "WCTDM/0"
description = "Wildcard TDM410P"
manufacturer = "Digium"
devicetype = "Wildcard TDM410P"
location = "PCI Bus 04 Slot 02"
ports = ["fxo", "fxo", "fxs", "fxs"]
far_end = "exchange"              # the emulated network's lines and phones
"""


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


def fcs16(data: bytes) -> int:
    """The HDLC frame check sequence (ITU-T Q.921 / ISO 3309 CRC-16, reflected 0x8408)."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8408 if crc & 1 else crc >> 1
    return crc ^ 0xFFFF


class DChannelPeer:
    """The far end of a simulated D-channel or MTP2 link (for tests): whole frames,
    without FCS; on an MTP2 link both directions drop a frame identical to the one
    before it, as the kernel's MTP2 receivers do."""

    def __init__(self, kernel: SimulatedKernel, chan: _Chan, span: _Span) -> None:
        self._kernel = kernel
        self._chan = chan
        self._span = span
        self._last: bytes | None = None

    @property
    def up(self) -> bool:
        return self._kernel._span_up(self._span)

    def send(self, frame: bytes) -> None:
        if not self.up:
            return
        if self._mtp2:
            if frame == self._chan.mtp2_last:
                return  # the kernel's MTP2 receiver drops a repeated frame
            self._chan.mtp2_last = bytes(frame)
        self._chan.hdlc_in.append(self._kernel.with_fcs(frame))

    def receive(self) -> bytes | None:
        """The next frame the channel sent; on an MTP2 link, as an MTP2 receiver takes
        them (a frame identical to the one before it is dropped)."""
        while self._chan.hdlc_out:
            frame = self._chan.hdlc_out.popleft()
            if self._mtp2 and frame == self._last:
                continue
            self._last = frame
            return frame
        return None

    @property
    def _mtp2(self) -> bool:
        return self._chan.sigtype == self._kernel.lib.DAHDI_SIG_MTP2


class SimulatedKernel:
    """The DAHDI kernel, simulated: implements :class:`~.device.Device`."""

    def __init__(self, description: str | Path | None = None, *, clock: Clock | None = None,
                 binding: Binding | None = None, network: Any = None) -> None:
        self.binding = binding or load()
        self.lib = self.binding.lib
        self.ffi = self.binding.ffi
        self.clock = clock or VirtualClock()
        self._t0 = self.clock.now()
        if description is None:
            text, source = DEFAULT_SYSTEM, "<default simulated system>"
        elif isinstance(description, Path) or "\n" not in str(description):
            path = Path(description)
            try:
                text, source = path.read_text(encoding="utf-8"), str(path)
            except OSError as err:
                raise ConfigError(f"cannot read the simulated system {path}: "
                                  f"{err.strerror}") from err
        else:
            text, source = str(description), "<string>"
        self.source = source
        self.spans: list[_Span] = []
        self.chans: dict[int, _Chan] = {}
        self._fds: dict[int, _Fd] = {}
        self._next_fd = 3
        self._stalled = False
        self._stalled_spans: set[int] = set()
        self._faults: list[dict[str, Any]] = []
        self._ring_plan: list[tuple[float, int, bool]] = []  # (time, channel, voltage on)
        self._battery_plan: list[tuple[float, int, str]] = []  # (time, channel, step)
        self.maint_log: list[tuple[int, int]] = []
        self.cross = Crossover(self)
        self._far_given: set[int] = set()
        self._line_given: set[int] = set()
        #: The machine's trunkline DAHDI configuration (the top-level ``config`` key).
        self.config_path: Path | None = None
        #: FXO ports whose hybrid is modelled (an analog span's ``hybrid`` key): channel
        #: -> the DAA setting that balances the line (simwctdm.Balance).
        self.balances: dict[int, Any] = {}
        self._wctdm: Any = None
        self._parse(text)
        for span in self.spans:
            self._evaluate_line(span, initial=True)
        #: The emulated network behind analog spans with ``far_end = "exchange"``
        #: (``network``: its number plan, a file or NumberPlan; default the sample).
        self.exchange: SimExchange | None = None
        if network is None and self.network_path is not None:
            network = str(self.network_path)
        behind = [ch for ch in self.chans.values() if ch.module
                  and self.spans[ch.span - 1].far_end == "exchange"]
        pri = [s for s in self.spans if s.kind == "E1" and s.far_end == "exchange"]
        if behind or pri:
            self.exchange = SimExchange(self, behind, self.zone, network,
                                        seed=int(self.rng.integers(2**31)), pri_spans=pri)
        elif network is not None:
            raise self._error("a number plan needs an analog span with far_end = "
                              "\"exchange\"")

    # -- the description -----------------------------------------------------------
    def _error(self, message: str) -> ConfigError:
        return ConfigError(message, source=self.source)

    def _parse(self, text: str) -> None:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as err:
            raise self._error(f"not valid TOML: {err}") from err
        spec = str(data.get("spec", ""))
        if spec != SPEC:
            hint = ": please update trunkline" if spec > SPEC else ""
            raise self._error(f"this simulated system is spec {spec!r}; this trunkline reads "
                              f"spec {SPEC!r}{hint}")
        known = {"spec", "version", "echo_canceller", "timer", "zone", "seed", "span", "fault",
                 "config", "loadzones", "network"}
        unknown = set(data) - known
        if unknown:
            raise self._error(f"unknown key(s) {', '.join(sorted(unknown))}; known: "
                              f"{', '.join(sorted(known))}")
        self.version = str(data.get("version", "3.1.0"))
        self.echo_canceller = str(data.get("echo_canceller", ""))
        self.has_timer = bool(data.get("timer", True))
        self.zone = str(data.get("zone", "cn"))
        #: Tone zones loaded into the kernel (number -> (country, ring cadence)), the
        #: default first, as dahdi-base.c keeps its tone_zones list.
        self.zones: dict[int, tuple[str, tuple[int, ...]]] = {}
        for country in data.get("loadzones", [self.zone]):
            self._load_named_zone(str(country))
        self.rng = np.random.default_rng(int(data.get("seed", 0)))
        if "config" in data:
            config = Path(str(data["config"]))
            if not config.is_absolute() and self.source.startswith("<"):
                raise self._error("config: a relative path needs the system in a file")
            self.config_path = config if config.is_absolute() else \
                Path(self.source).parent / config
        #: The emulated network's number plan (the top-level ``network`` key, relative to
        #: this file), as ``dahdi:sim`` takes ``network=PLAN.toml``.
        self.network_path: Path | None = None
        if "network" in data:
            plan = Path(str(data["network"]))
            if not plan.is_absolute() and self.source.startswith("<"):
                raise self._error("network: a relative path needs the system in a file")
            self.network_path = plan if plan.is_absolute() else Path(self.source).parent / plan
        spans = data.get("span", [])
        if not isinstance(spans, list) or not spans:
            raise self._error("a simulated system needs at least one [[span]]")
        base = 1
        for i, raw in enumerate(spans, start=1):
            span = self._span(i, raw, base)
            base += span.total
        self._cables()
        for raw in data.get("fault", []):
            kind = raw.get("kind")
            if kind not in FAULT_KINDS:
                raise self._error(f"fault kind {kind!r} is not one of {', '.join(FAULT_KINDS)}")
            self._faults.append(dict(raw))

    def _span(self, number: int, raw: dict[str, Any], base: int) -> _Span:
        lib = self.lib
        known = {"type", "name", "description", "manufacturer", "devicetype", "location",
                 "irq", "configured", "framing", "coding", "crc4", "timing", "far_end",
                 "line", "ports", "counters", "idlebits", "hybrid"}
        unknown = set(raw) - known
        if unknown:
            raise self._error(f"span {number}: unknown key(s) {', '.join(sorted(unknown))}; "
                              f"known: {', '.join(sorted(known))}")
        kind = str(raw.get("type", "E1"))
        if kind not in ("E1", "T1", "J1", "analog"):
            raise self._error(f"span {number}: type must be E1, T1, J1 or analog, not {kind!r}")
        e1 = kind == "E1"
        configured = str(raw.get("configured", "pri" if kind != "analog" else "analog"))
        line_raw = raw.get("line", {})
        # An E1 CAS span's line is framed for CAS (timeslot 16 multiframe) unless it says.
        line = _Line(str(line_raw.get("framing", ("cas" if configured == "cas" else "ccs")
                                      if e1 else "esf")),
                     str(line_raw.get("coding", "hdb3" if e1 else "b8zs")),
                     bool(line_raw.get("crc4", e1)), bool(line_raw.get("signal", True)))
        ports = list(raw.get("ports", []))
        total = {"E1": 31, "T1": 24, "J1": 24}.get(kind, len(ports))
        if kind == "analog" and (not ports or set(ports) - {"fxo", "fxs"}):
            raise self._error(f"span {number}: an analog span needs ports = [\"fxo\"|\"fxs\"...]")
        if "hybrid" in raw:
            self._hybrid(number, raw["hybrid"], base, ports)
        if kind == "analog" and str(raw.get("far_end", "none")) not in ("none", "exchange",
                                                                         "loop"):
            raise self._error(f"span {number}: an analog span's far_end is \"exchange\" (the "
                              f"emulated network's lines and phones) or \"none\"")
        if kind != "analog" and raw.get("far_end") == "exchange" and (
                kind != "E1" or raw.get("configured", "pri") != "pri"):
            raise self._error(f"span {number}: far_end = \"exchange\" is for analog spans "
                              "and E1 PRI spans")
        span = _Span(
            number, kind, str(raw.get("name", f"SIM/{number}")),
            str(raw.get("description", f"Simulated {kind} span {number}")),
            str(raw.get("manufacturer", "trunkline")),
            str(raw.get("devicetype", "Simulated")), str(raw.get("location", "simulation")),
            int(raw.get("irq", 16)), base, total, line, str(raw.get("far_end", "loop")),
        )
        for key, value in raw.get("counters", {}).items():
            span.counters[key] = int(value)
        self.spans.append(span)
        if kind != "analog" and configured not in ("pri", "cas", "ss7", "clear", ""):
            raise self._error(f"span {number}: configured must be pri, cas, ss7, clear or "
                              f"\"\" (not configured), not {configured!r}")
        idlebits = str(raw.get("idlebits", "0000"))
        if len(idlebits) != 4 or set(idlebits) - {"0", "1"}:
            raise self._error(f"span {number}: idlebits are ABCD as four 0/1 digits (as "
                              f"system.conf's cas=1-15:1101), not {idlebits!r}")
        for pos in range(1, total + 1):
            ch = base + pos - 1
            if kind == "analog":
                module = ports[pos - 1]
                # An FXO module is driven with FXS signalling and the other way round
                # (user.h names DAHDI_SIG_* after the signalling, not the port).
                cap = lib.DAHDI_SIG_FXSKS | lib.DAHDI_SIG_FXSLS | lib.DAHDI_SIG_FXSGS \
                    if module == "fxo" else \
                    lib.DAHDI_SIG_FXOKS | lib.DAHDI_SIG_FXOLS | lib.DAHDI_SIG_FXOGS
                sig = (lib.DAHDI_SIG_FXSKS if module == "fxo" else lib.DAHDI_SIG_FXOKS) \
                    if configured else 0
                self.chans[ch] = _Chan(ch, number, pos, cap, sig,
                                       lib.DAHDI_LAW_ALAW if self.zone not in ("us", "jp")
                                       else lib.DAHDI_LAW_MULAW, module,
                                       audio=self.audio_flag(sig))
                continue
            # What the E1/T1 drivers offer (wct4xxp t4_chan_set_sigcap: CCS adds MTP2 and
            # HARDHDLC, CAS adds CAS; HDLCFCS is within MTP2's bits), for either framing.
            cap = lib.DAHDI_SIG_CLEAR | lib.DAHDI_SIG_HDLCFCS | lib.DAHDI_SIG_HARDHDLC \
                | lib.DAHDI_SIG_CAS | lib.DAHDI_SIG_MTP2
            law = lib.DAHDI_LAW_ALAW if e1 else lib.DAHDI_LAW_MULAW
            sig = 0
            dpos = 16 if e1 else 24
            if configured == "pri":
                sig = lib.DAHDI_SIG_HDLCFCS if pos == dpos else lib.DAHDI_SIG_CLEAR
            elif configured == "ss7":
                sig = lib.DAHDI_SIG_MTP2 if pos == dpos else lib.DAHDI_SIG_CLEAR
            elif configured == "cas":
                sig = 0 if (e1 and pos == 16) else lib.DAHDI_SIG_CAS
            elif configured == "clear":
                sig = lib.DAHDI_SIG_CLEAR
            chan = self.chans[ch] = _Chan(ch, number, pos, cap, sig, law,
                                          audio=self.audio_flag(sig))
            if sig == lib.DAHDI_SIG_CAS:
                # As after dahdi_cfg: CHANCONFIG keeps the idle bits, the hangup sends
                # them and rxsig starts from them (dahdi_chanconfig, dahdi_q_sig).
                chan.idlebits = chan.txbits = chan.rxbits = int(idlebits, 2)
        if kind != "analog":
            self._far_span(span)  # (checked now, joined once every span is known)
        if "far_end" in raw:
            self._far_given.add(number)
        if "line" in raw:
            self._line_given.add(number)
        if configured and kind != "analog":
            framing = str(raw.get("framing", line.framing))
            coding = str(raw.get("coding", line.coding))
            crc4 = bool(raw.get("crc4", line.crc4))
            span.lineconfig = self.lineconfig(framing, coding, crc4)
            span.sync = int(raw.get("timing", 0))
            span.running = True
        elif kind == "analog":
            span.running = True
        return span

    def _hybrid(self, number: int, raw: Any, base: int, ports: list[str]) -> None:
        """An analog span's ``hybrid``: for each FXO port (in port order) the DAA setting
        that balances its line, ``{acim = N, coefs = [8 x 0..255]}`` (simwctdm.py); the
        ports then hear the echo of what they send, as that setting leaves it."""
        from trunkline.drivers.backends.dahdi.simwctdm import Balance

        fxo = [base + i for i, kind in enumerate(ports) if kind == "fxo"]
        if not isinstance(raw, list) or len(raw) != len(fxo):
            raise self._error(f"span {number}: hybrid is a list of one {{acim, coefs}} "
                              f"table per FXO port ({len(fxo)} here)")
        for chan, item in zip(fxo, raw, strict=True):
            try:
                self.balances[chan] = Balance(int(item["acim"]),
                                              tuple(int(c) for c in item.get("coefs", [0] * 8)))
            except (KeyError, TypeError, ValueError) as err:
                raise self._error(f"span {number}: hybrid of channel {chan}: {err}") from None

    @property
    def wctdm(self) -> Any:
        """The analog board's WCTDM ioctls and FXO hybrid (simwctdm.py), built on first
        use (it compiles dahdi/wctdm_user.h)."""
        if self._wctdm is None:
            from trunkline.drivers.backends.dahdi.simwctdm import SimWctdm

            self._wctdm = SimWctdm(self, self.balances)
        return self._wctdm

    def _far_span(self, span: _Span) -> int | None:
        """The span a ``far_end = "span N"`` cable joins (None: loop, idle, exchange)."""
        if span.far_end in ("loop", "idle", "exchange"):
            return None
        try:
            number = far_end_span(span.far_end)
        except ValueError as err:
            raise self._error(f"span {span.number}: {err}") from None
        if number is None:
            raise self._error(f"span {span.number}: far_end must be \"loop\", \"idle\" or "
                              f"\"span N\", not {span.far_end!r}")
        return number

    def _cables(self) -> None:
        """Join the spans whose far end is another span (one side saying so is enough;
        two sides saying different things is an error)."""
        for span in self.spans:
            number = self._far_span(span) if span.kind != "analog" else None
            if number is None:
                continue
            where = f"span {span.number}: far_end = {span.far_end!r}"
            if not 1 <= number <= len(self.spans) or number == span.number:
                raise self._error(f"{where} names no other span of this system")
            far = self.spans[number - 1]
            if far.kind != span.kind:
                raise self._error(f"{where} joins a {span.kind} span to a {far.kind} span")
            other = self.cross.peer.get(far.number)
            if other not in (None, span.number) or (far.number in self._far_given and
                                                    self._far_span(far) != span.number):
                raise self._error(f"{where}, but span {number} says far_end = "
                                  f"{far.far_end!r}")
            for end in (span, far):
                if end.number in self._line_given:
                    raise self._error(f"span {end.number} is cabled to a span of this system "
                                      "(far_end): it has no [span.line] of its own")
            self.cross.join(span.number, number)
            far.far_end = f"span {span.number}"

    def lineconfig(self, framing: str, coding: str, crc4: bool) -> int:
        lib = self.lib
        bits = {"ccs": lib.DAHDI_CONFIG_CCS, "cas": 0, "d4": lib.DAHDI_CONFIG_D4,
                "esf": lib.DAHDI_CONFIG_ESF, "sf": lib.DAHDI_CONFIG_D4}[framing]
        bits |= {"hdb3": lib.DAHDI_CONFIG_HDB3, "ami": lib.DAHDI_CONFIG_AMI,
                 "b8zs": lib.DAHDI_CONFIG_B8ZS}[coding]
        return bits | (lib.DAHDI_CONFIG_CRC4 if crc4 else 0)

    # -- the line behind each span ------------------------------------------------------
    def _evaluate_line(self, span: _Span, *, initial: bool = False) -> None:
        """Alarms that follow from the configuration against what the line carries."""
        if span.kind == "analog":
            return
        if self.cross.crossed(span):
            self._evaluate_cable(span, initial=initial)
            return
        lib = self.lib
        before = span.alarms
        keep = span.alarms & (lib.DAHDI_ALARM_BLUE | lib.DAHDI_ALARM_YELLOW)
        line = self.lineconfig(span.line.framing, span.line.coding, span.line.crc4) \
            if span.line.signal else None
        alarms = self._line_alarms(span, line) | self._loop_alarm(span)
        span.alarms = alarms | (keep if alarms & lib.DAHDI_ALARM_RED == 0 else 0)
        if not initial:
            self._alarm_event(span, before)

    def _evaluate_cable(self, span: _Span, *, initial: bool = False) -> None:
        """Both ends of a crossover cable: each receives what the other transmits (nothing
        while it is not running); a span in RED or BLUE alarm sends RAI, so the other is
        YELLOW (wct4xxp t4_check_alarms). An injected BLUE alarm is kept; YELLOW follows
        from the far end only."""
        lib = self.lib
        far = self.cross.peer_span(span)
        pair = ((span, far), (far, span))
        before = {s.number: s.alarms for s in (span, far)}
        base = {s.number: self._line_alarms(s, other.lineconfig if other.running
                                            and not other.removed else None)
                for s, other in pair}
        for s, other in pair:
            alarms = base[s.number] | self._loop_alarm(s)
            if alarms & lib.DAHDI_ALARM_RED == 0:
                alarms |= s.alarms & lib.DAHDI_ALARM_BLUE
            if s.running and other.running and base[other.number] & (
                    lib.DAHDI_ALARM_RED | lib.DAHDI_ALARM_BLUE):
                alarms |= lib.DAHDI_ALARM_YELLOW
            s.alarms = alarms
        if not initial:
            for s in (span, far):
                self._alarm_event(s, before[s.number])
        self.cross.sync_bits(span, quiet=initial)

    def _line_alarms(self, span: _Span, line: int | None) -> int:
        """The alarms of a running span receiving a line framed as ``line`` (a
        lineconfig; None: no signal at all), counting the errors it sees."""
        lib = self.lib
        if not span.running:
            return int(lib.DAHDI_ALARM_NOTOPEN)
        if line is None:
            return int(lib.DAHDI_ALARM_RED | lib.DAHDI_ALARM_LOS)
        alarms = 0
        framing_bits = (lib.DAHDI_CONFIG_CCS | lib.DAHDI_CONFIG_D4 | lib.DAHDI_CONFIG_ESF)
        coding_bits = lib.DAHDI_CONFIG_HDB3 | lib.DAHDI_CONFIG_AMI | lib.DAHDI_CONFIG_B8ZS
        if (line ^ span.lineconfig) & framing_bits:
            # E1 CCS vs CAS: timeslot 16 multiframe lost; T1 D4 vs ESF: frame lost.
            alarms = lib.DAHDI_ALARM_RED | (lib.DAHDI_ALARM_LMFA if span.kind == "E1"
                                             else lib.DAHDI_ALARM_LFA)
        elif (line ^ span.lineconfig) & lib.DAHDI_CONFIG_CRC4:
            alarms = lib.DAHDI_ALARM_RED | lib.DAHDI_ALARM_LMFA
            span.counters["crc4"] += 1000
        if (line ^ span.lineconfig) & coding_bits:
            span.counters["bpv"] += 5000  # AMI read as HDB3 (or back): code violations
        if alarms & lib.DAHDI_ALARM_RED:
            span.counters["fas"] += 100
            span.counters["errsec"] += 1
        return int(alarms)

    def _loop_alarm(self, span: _Span) -> int:
        lib = self.lib
        return int(lib.DAHDI_ALARM_LOOPBACK) if span.maint in (
            lib.DAHDI_MAINT_LOCALLOOP, lib.DAHDI_MAINT_NETWORKLINELOOP,
            lib.DAHDI_MAINT_NETWORKPAYLOADLOOP) else 0

    def _alarm_event(self, span: _Span, before: int) -> None:
        lib = self.lib
        if (before & 0xFF) != (span.alarms & 0xFF):
            self._span_event(span, lib.DAHDI_EVENT_ALARM if span.alarms & 0xFF & ~(
                lib.DAHDI_ALARM_LOOPBACK) else lib.DAHDI_EVENT_NOALARM)

    def _span_event(self, span: _Span, event: int) -> None:
        for ch in self._span_chans(span):
            if self._is_open(ch.number):
                ch.events.append(event)

    def _span_chans(self, span: _Span) -> list[_Chan]:
        return [self.chans[n] for n in range(span.base, span.base + span.total)]

    span_chans = _span_chans

    def is_hdlc(self, ch: _Chan) -> bool:
        """Whether ``ch`` moves whole HDLC frames (D-channel, MTP2 link, or FCS mode)."""
        lib = self.lib
        return ch.hdlc_fcs or ch.sigtype in (lib.DAHDI_SIG_HDLCFCS, lib.DAHDI_SIG_HARDHDLC,
                                             lib.DAHDI_SIG_MTP2)

    def is_open(self, chan: int) -> bool:
        return self._is_open(chan)

    @property
    def modules_fitted(self) -> bool:
        """Whether an analog board (wctdm) is in the system."""
        return any(ch.module for ch in self.chans.values())

    def read_buffers(self, chan: int) -> int:
        """The receive buffers of an open channel (the most any of its fds set)."""
        return max((f.numbufs for f in self._fds.values() if f.chan == chan), default=0)

    @staticmethod
    def with_fcs(frame: bytes) -> bytes:
        """A frame as an HDLC-FCS channel reads it: followed by its two FCS bytes."""
        fcs = fcs16(frame)
        return bytes(frame) + bytes([fcs & 0xFF, fcs >> 8])

    def sample_now(self) -> int:
        """The kernel's time in whole samples."""
        return _samples(self.now())

    def idle_code(self, ch: _Chan) -> int:
        """The byte a channel transmits with nothing to send: silence in its law."""
        return g711.ULAW_SILENCE if ch.law == self.lib.DAHDI_LAW_MULAW \
            else g711.ALAW_SILENCE

    def rbsbits(self, ch: _Chan, bits: int) -> None:
        """The framer received ``bits`` for ``ch`` (dahdi-base.c dahdi_rbsbits: nothing
        when they are unchanged; BITSCHANGED queued on a CAS channel; rxsig kept)."""
        if bits == ch.rxbits:
            return
        if ch.sigtype == self.lib.DAHDI_SIG_CAS:
            ch.events.append(self.lib.DAHDI_EVENT_BITSCHANGED)
        ch.rxbits = bits

    def _hangup_bits(self, ch: _Chan) -> None:
        """dahdi_hangup on a CAS channel sends its idle bits (on configuration, span
        startup and the last close)."""
        if ch.sigtype == self.lib.DAHDI_SIG_CAS:
            self._send_bits(ch, ch.idlebits)

    def _send_bits(self, ch: _Chan, bits: int) -> None:
        ch.txbits = bits & 0xF
        span = self.spans[ch.span - 1]
        if self.cross.crossed(span):
            self.cross.send_bits(ch)
        elif span.far_end == "loop" and self._span_up(span):
            self.rbsbits(ch, ch.txbits)

    def _span_up(self, span: _Span) -> bool:
        lib = self.lib
        return span.running and not span.alarms & (lib.DAHDI_ALARM_RED | lib.DAHDI_ALARM_BLUE
                                                   | lib.DAHDI_ALARM_YELLOW)

    def _is_open(self, chan: int) -> bool:
        return any(f.chan == chan for f in self._fds.values())

    def audio_flag(self, sigtype: int) -> bool:
        """DAHDI_FLAG_AUDIO as dahdi_ioctl_chanconfig sets it: off on clear channels
        (sigtype & DAHDI_SIG_CLEAR: B-channels, HDLC, MTP2), on for the others."""
        clear = self.lib.DAHDI_SIG_CLEAR
        return bool(sigtype) and (sigtype & clear) != clear

    # -- tone zones ------------------------------------------------------------------
    def _load_named_zone(self, country: str) -> None:
        from trunkline.drivers.backends.dahdi import tonezone

        zone = tonezone.find(country)
        if zone is None:
            raise self._error(f"loadzones: libtonezone has no zone {country!r}")
        self._register_zone(zone.number, zone.country, zone.ringcadence, "LOADZONE")

    def _register_zone(self, number: int, name: str, cadence: tuple[int, ...],
                       op: str) -> None:
        # dahdi-base.c dahdi_ioctl_loadzone: zone 0..255 (MAX_ZONE, an unsigned char);
        # dahdi_register_tone_zone: EINVAL for a zone number already loaded; the new zone
        # goes at the list's tail (the first one loaded stays the default).
        if not 0 <= number <= 255 or number in self.zones:
            raise DahdiOperationError(errno.EINVAL, op, f"tone zone {number}")
        self.zones[number] = (name, cadence)

    def register_zone(self, fd: int, country: str) -> None:
        """What libtonezone's tone_zone_register does on this kernel: DAHDI_LOADZONE with
        the zone's header (number, name, ring cadence) from libtonezone; the tone
        definitions that follow it on a real kernel are not modelled (the sim plays
        trunkline's own tones)."""
        from trunkline.drivers.backends.dahdi import tonezone

        zone = tonezone.find(country)
        if zone is None:
            raise DahdiOperationError(errno.EINVAL, "tone_zone_register", country)
        header = self.ffi.new("struct dahdi_tone_def_header *")
        header.zone = zone.number
        header.name = zone.country.encode()[:39]
        for i, ms in enumerate(zone.ringcadence[: self.lib.DAHDI_MAX_CADENCE]):
            header.ringcadence[i] = ms
        self.ioctl(fd, self.lib.DAHDI_LOADZONE, header)

    def _default_zone(self) -> int | None:
        return next(iter(self.zones), None)

    # -- faults and the far end, for tests -----------------------------------------------
    def inject(self, kind: str, **args: Any) -> None:
        """Apply a fault now: alarm (span, alarm=red|yellow|blue|none), irqmiss (span,
        count), counters (span, bpv/crc4/fas/...), removed (span), stall (on=bool; with
        span=N only that span's board stops)."""
        lib = self.lib
        if kind == "alarm":
            span = self.span_by_number(int(args["span"]))
            name = args.get("alarm", "red")
            bits = {"red": lib.DAHDI_ALARM_RED | lib.DAHDI_ALARM_LOS, "yellow":
                    lib.DAHDI_ALARM_YELLOW, "blue": lib.DAHDI_ALARM_BLUE, "none": 0}[name]
            before = span.alarms
            span.alarms = bits | (span.alarms & lib.DAHDI_ALARM_LOOPBACK)
            if bits & lib.DAHDI_ALARM_RED:
                span.counters["fas"] += 1
                span.counters["errsec"] += 1
            if (before & 0xFF) != (span.alarms & 0xFF):
                self._span_event(span, lib.DAHDI_EVENT_ALARM if bits else
                                 lib.DAHDI_EVENT_NOALARM)
        elif kind == "irqmiss":
            self.span_by_number(int(args["span"])).counters["irqmisses"] += int(
                args.get("count", 1))
        elif kind == "counters":
            span = self.span_by_number(int(args["span"]))
            for key, value in args.items():
                if key != "span":
                    span.counters[key] += int(value)
        elif kind == "removed":
            span = self.span_by_number(int(args["span"]))
            span.removed = True
            for ch in self._span_chans(span):
                ch.events.append(lib.DAHDI_EVENT_REMOVED)
        elif kind == "stall":
            on = bool(args.get("on", True))
            if "span" not in args:
                self._stalled = on  # the whole machine: no block anywhere, no timer
                return
            # One board stops (its IRQ lost): every span at its location stops with it.
            board = self.span_by_number(int(args["span"])).location
            for span in self.spans:
                if span.location == board:
                    (self._stalled_spans.add if on else self._stalled_spans.discard)(
                        span.number)
        else:
            raise ValueError(f"unknown simulated fault {kind!r}; known: {FAULT_KINDS}")

    def ring(self, channel: int, on: bool = True) -> None:
        """Ringing voltage on (``on``) or off on the line of an FXO port, as the kernel
        reports it (dahdi-base.c __dahdi_hooksig_pvt and the ring trailer in
        __dahdi_receive_chunk): RINGBEGIN when a burst starts, RINGOFFHOOK
        DAHDI_RINGTRAILER (50 ms) after it ends, and nothing when the rings stop for
        good (no RINGEROFF on an FXO port: that is the FXS ringer's event)."""
        ch = self.chans[channel]
        if on and not ch.ringing:
            ch.ring_trailer_at = None
            ch.events.append(self.lib.DAHDI_EVENT_RINGBEGIN)
        elif not on and ch.ringing:
            ch.ring_trailer_at = self.now() + RING_TRAILER
        ch.ringing = on

    def ring_cadence(self, channel: int, bursts: int, on: float = 1.0,
                     off: float = 4.0) -> None:
        """The exchange rings an FXO port ``bursts`` times with this cadence (seconds;
        cn: 1 s on, 4 s off), starting now, then stops: an unanswered call."""
        t = self.now()
        for i in range(bursts):
            start = t + i * (on + off)
            self._ring_plan.append((start, channel, True))
            self._ring_plan.append((start + on, channel, False))

    def line_audio(self, channel: int, samples: np.ndarray, at: float | None = None) -> None:
        """The exchange sends ``samples`` (linear, 8 kHz) on the line of an FXO port from
        ``at`` (kernel time; default now): caller ID between rings, say. The port
        hears it on hook too, as a real FXO module passes on-hook audio for caller ID."""
        ch = self.chans[channel]
        if ch.module != "fxo":
            raise ValueError(f"channel {channel} is not an FXO port")
        start = _samples(self.now() if at is None else at)
        ch.line_audio.append((start, np.asarray(samples, dtype=np.float64)))

    def _mix_line_audio(self, ch: _Chan, f: _Fd, block: np.ndarray) -> np.ndarray:
        n = len(block)
        first = _samples(f.t0) + f.blocks_read * n
        law = "ulaw" if (f.law_override or ch.law) == self.lib.DAHDI_LAW_MULAW else "alaw"
        pcm = g711.decode(block, law).astype(np.float64)
        for start, samples in ch.line_audio:
            lo, hi = max(first, start), min(first + n, start + len(samples))
            if hi > lo:
                pcm[lo - first: hi - first] += samples[lo - start: hi - start]
        ch.line_audio = [(s, x) for s, x in ch.line_audio if s + len(x) > first + n]
        return g711.encode(np.clip(np.rint(pcm), -32768, 32767).astype(np.int16), law)

    def set_battery(self, channel: int, present: bool) -> None:
        """The exchange's battery on the line of an FXO port goes (line cut, exchange
        fault) or comes back, as wctdm24xxp's wctdm_check_battery_lost/present see it:
        after BATT_DEBOUNCE the loss reads as the far end going on hook (a call in
        progress is hung up: DAHDI_EVENT_ONHOOK), and BATT_ALARM after the change
        dahdi_alarm_channel sets the channel's alarm RED (DAHDI_EVENT_ALARM) or clears
        it (DAHDI_EVENT_NOALARM)."""
        ch = self.chans[channel]
        if ch.module != "fxo":
            raise ValueError(f"channel {channel} is not an FXO port")
        if present == ch.battery:
            return
        ch.battery = present
        self._battery_plan = [p for p in self._battery_plan if p[1] != channel]
        t = self.now()
        if not present:
            self._battery_plan.append((t + BATT_DEBOUNCE, channel, "onhook"))
        self._battery_plan.append((t + BATT_ALARM, channel, "alarm" if not present
                                   else "noalarm"))

    def _battery_step(self, channel: int, step: str) -> None:
        ch = self.chans[channel]
        lib = self.lib
        if step == "onhook":
            # __dahdi_hooksig_pvt, DAHDI_SIG_FXSKS: ignored unless our loop is closed.
            if ch.offhook:
                ch.events.append(lib.DAHDI_EVENT_ONHOOK)
            return
        alarms = lib.DAHDI_ALARM_RED if step == "alarm" else lib.DAHDI_ALARM_NONE
        if ch.chan_alarms != alarms:  # dahdi_alarm_channel: an event only on a change
            ch.chan_alarms = alarms
            ch.events.append(lib.DAHDI_EVENT_ALARM if alarms else lib.DAHDI_EVENT_NOALARM)

    def phone_hook(self, channel: int, offhook: bool) -> None:
        """The phone on an FXS port goes off or on hook."""
        ch = self.chans[channel]
        ch.offhook = offhook
        ch.ringing = False
        self._stop_ringer(ch)  # __dahdi_hooksig_pvt: off hook while ringing trips it
        ch.events.append(self.lib.DAHDI_EVENT_RINGOFFHOOK if offhook
                         else self.lib.DAHDI_EVENT_ONHOOK)

    def reverse_polarity(self, channel: int) -> None:
        """The exchange reverses battery on the line of an FXO port: the driver queues
        DAHDI_EVENT_POLARITY, which carries no value (user.h); the port's state flips."""
        ch = self.chans[channel]
        if ch.module != "fxo":
            raise ValueError(f"channel {channel} is not an FXO port")
        ch.polarity ^= 1
        ch.events.append(self.lib.DAHDI_EVENT_POLARITY)

    def line_event(self, channel: int, event: str) -> None:
        """Queue any DAHDI_EVENT_* by name (e.g. "POLARITY") on a channel."""
        self.chans[channel].events.append(getattr(self.lib, f"DAHDI_EVENT_{event}"))

    def set_rxbits(self, channel: int, bits: int) -> None:
        """The far end sends ABCD ``bits`` on ``channel`` (for tests)."""
        self.rbsbits(self.chans[channel], bits)

    def dchannel_peer(self, span: int) -> DChannelPeer:
        s = self.span_by_number(span)
        for ch in self._span_chans(s):
            if ch.sigtype in (self.lib.DAHDI_SIG_HDLCFCS, self.lib.DAHDI_SIG_HARDHDLC,
                              self.lib.DAHDI_SIG_MTP2):
                return DChannelPeer(self, ch, s)
        raise ValueError(f"simulated span {span} has no D-channel")

    def span_by_number(self, number: int) -> _Span:
        for span in self.spans:
            if span.number == number:
                return span
        raise ValueError(f"the simulated system has no span {number}")

    # -- time ----------------------------------------------------------------------
    def now(self) -> float:
        return self.clock.now() - self._t0

    def _apply_due_faults(self) -> None:
        t = self.now()
        due = [f for f in self._faults if float(f.get("at", 0)) <= t]
        for fault in due:
            self._faults.remove(fault)
            args = {k: v for k, v in fault.items() if k not in ("at", "kind")}
            self.inject(fault["kind"], **args)
        for plan in [p for p in self._ring_plan if p[0] <= t]:
            self._ring_plan.remove(plan)
            self.ring(plan[1], plan[2])
        for step in [p for p in self._battery_plan if p[0] <= t]:
            self._battery_plan.remove(step)
            self._battery_step(step[1], step[2])
        if self.exchange is not None:
            self.exchange.advance(_samples(t))
        for ch in self.chans.values():
            while ch.ringer_until is not None and ch.ringer_until <= t:
                self._ringer_step(ch)
            if ch.ring_trailer_at is not None and ch.ring_trailer_at <= t:
                ch.ring_trailer_at = None
                ch.events.append(self.lib.DAHDI_EVENT_RINGOFFHOOK)
            if ch.dial_until is not None and ch.dial_until <= t:
                ch.dial_until = None
                ch.events.append(self.lib.DAHDI_EVENT_DIALCOMPLETE)

    def _blocks_due(self, f: _Fd) -> int:
        if self._stalled or (f.chan and self.chans[f.chan].span in self._stalled_spans):
            return 0
        return _samples(self.now() - f.t0) // f.blocksize - f.blocks_read

    def _next_deadline(self, f: _Fd) -> float:
        return f.t0 + (f.blocks_read + 1) * f.blocksize / RATE

    # -- Device --------------------------------------------------------------------
    def exists(self, path: str) -> bool:
        if path == TIMER:
            return self.has_timer
        return path in (CTL, CHANNEL, PSEUDO) or self._numbered(path) in self.chans

    @staticmethod
    def _numbered(path: str) -> int | None:
        """N of ``/dev/dahdi/N``: the channel device whose minor is the channel number
        (dahdi-sysfs-chan.c registers one per channel of a registered span; udev's
        dahdi-linux.rules names it /dev/dahdi/<channo>, "backward compat names")."""
        head, _, tail = path.rpartition("/")
        return int(tail) if head == CHANNEL.rpartition("/")[0] and tail.isdigit() else None

    def open(self, path: str, *, nonblock: bool = True) -> int:
        """Open a node; ``nonblock`` is O_NONBLOCK (the kernel's hook ioctl answers
        EINPROGRESS on such an fd where it would otherwise wait)."""
        if not self.exists(path):
            raise DahdiOperationError(errno.ENOENT, "open", path)
        fd = self._next_fd
        numbered = self._numbered(path)
        f = _Fd(CHANNEL if numbered is not None else path, t0=self.now(), nonblock=nonblock)
        if numbered is not None:
            # dahdi_specchan_open on the channel the node names, as DAHDI_SPECIFY does.
            self._specchan_open(f, numbered, "open", path)
        self._next_fd += 1
        self._fds[fd] = f
        return fd

    def close(self, fd: int) -> None:
        f = self._fd(fd, "close")
        del self._fds[fd]
        if f.chan:
            ch = self.chans[f.chan]
            if not self._is_open(f.chan):
                # DAHDI hangs a channel up when its last user closes it (close_channel:
                # buffers freed, events reset, then dahdi_hangup: a CAS channel sends
                # its idle bits).
                if ch.module == "fxo":
                    ch.offhook = False
                    if self.exchange is not None and ch.number in self.exchange.rows:
                        self.exchange.hook(ch.number, False)
                ch.ringing = ch.ringing if ch.module == "fxo" else False
                self._stop_ringer(ch)
                ch.echocan = 0
                if self.cross.crossed(self.spans[ch.span - 1]):
                    self.cross.transmit(ch)  # what was written went out before the close
                    ch.hdlc_in.clear()
                # close_channel: "chan->rxgain = defgain; chan->txgain = defgain".
                ch.rxgain = ch.txgain = None
                ch.tx.clear()
                ch.events.clear()
                ch.dial_until = None
                ch.curzone = None
                ch.mtp2_last = ch.mtp2_repeat = None
                ch.linear = False  # close_channel: "chan->flags &= ~DAHDI_FLAG_LINEAR"
                self._hangup_bits(ch)

    def _fd(self, fd: int, op: str) -> _Fd:
        try:
            return self._fds[fd]
        except KeyError:
            raise DahdiOperationError(errno.EBADF, op, f"fd {fd}") from None

    def _chan_of(self, f: _Fd, op: str) -> _Chan:
        if not f.chan:
            # user.h: DAHDI_SPECIFY "must be done before performing any other ioctls".
            raise DahdiOperationError(errno.EINVAL, op, f.path)
        return self.chans[f.chan]

    def read(self, fd: int, size: int) -> bytes:
        f = self._fd(fd, "read")
        self._apply_due_faults()
        target = f"{f.path} (channel {f.chan})"
        if not f.chan:
            raise DahdiOperationError(errno.EINVAL, "read", f.path)
        ch = self.chans[f.chan]
        span = self.spans[ch.span - 1]
        if size < 1:
            raise DahdiOperationError(errno.EINVAL, "read", target)  # dahdi_chan_read
        if span.removed:
            raise DahdiOperationError(errno.ENODEV, "read", target)
        if not self.is_hdlc(ch):
            self._check_overrun(f, ch)
        if ch.events:
            raise DahdiOperationError(self.lib.ELAST, "read", target)
        if self.is_hdlc(ch):
            self.cross.sync_repeat(ch)
            if not ch.hdlc_in:
                raise DahdiOperationError(errno.EAGAIN, "read", target)
            return ch.hdlc_in.popleft()[:size]
        if f.skip_at is not None and f.blocks_read >= f.skip_at:
            f.blocks_read, f.skip_at = f.skip_to, None
        due = self._blocks_due(f)
        if due <= 0:
            raise DahdiOperationError(errno.EAGAIN, "read", target)
        block = bytes(self._rx_block(ch, span, f)[:size // 2 if ch.linear else size])
        f.blocks_read += 1
        if ch.audio and ch.rxgain is not None:
            # __dahdi_process_putaudio_chunk: "rxb[x] = ms->rxgain[rxb[x]]" (audio only).
            block = block.translate(ch.rxgain)
        if ch.linear:
            # dahdi_chan_read with DAHDI_FLAG_LINEAR: each byte as DAHDI_XLAW, 16 bits.
            return g711.decode(np.frombuffer(block, dtype=np.uint8),
                               self._law_name(ch, f)).astype("<i2").tobytes()
        return block

    def _check_overrun(self, f: _Fd, ch: _Chan) -> None:
        """dahdi-base.c __putbuf_chunk: with every receive buffer full (inreadbuf -1)
        the kernel drops what comes next ("We'll drop it until there's a buffer
        available"), so the reader gets the oldest blocks it held, then a gap; the
        first chunk dropped sets DAHDI_FLAGBIT_RXOVERRUN and, with BUFEVENTS, queues
        DAHDI_EVENT_READ_OVERRUN (once per episode)."""
        if f.skip_at is not None:
            return
        due = self._blocks_due(f)
        if due > f.numbufs:
            f.skip_at = f.blocks_read + f.numbufs
            f.skip_to = f.blocks_read + due
            if not ch.rx_overrun and ch.bufevents:
                ch.events.append(self.lib.DAHDI_EVENT_READ_OVERRUN)
            ch.rx_overrun = True
        elif due > 0:
            ch.rx_overrun = False

    def _idle(self, ch: _Chan, f: _Fd) -> int:
        law = f.law_override if f.law_override else ch.law
        return g711.ULAW_SILENCE if law == self.lib.DAHDI_LAW_MULAW else g711.ALAW_SILENCE

    def _rx_block(self, ch: _Chan, span: _Span, f: _Fd) -> np.ndarray:
        lib = self.lib
        n = f.blocksize
        idle = self._idle(ch, f)
        if span.kind != "analog" and self.cross.crossed(span):
            # Our transmit drains at the line's rate (simcross); we receive the far end's.
            if span.alarms & lib.DAHDI_ALARM_BLUE:
                return np.full(n, 0xFF, dtype=np.uint8)  # AIS: all ones
            start = _samples(f.t0) + f.blocks_read * n
            return self.cross.receive_block(ch, start, n, idle)
        sent = bytes(ch.tx[:n])
        del ch.tx[:n]
        # __dahdi_getbuf_chunk: a chunk with nothing written to send goes out as
        # silence (needtxunderrun); the first sets DAHDI_FLAGBIT_TXUNDERRUN and, with
        # BUFEVENTS, queues DAHDI_EVENT_WRITE_UNDERRUN; a chunk with data clears it.
        if len(sent) < n:
            if not ch.tx_underrun and ch.bufevents:
                ch.events.append(lib.DAHDI_EVENT_WRITE_UNDERRUN)
            ch.tx_underrun = True
        else:
            ch.tx_underrun = False
        tx = np.full(n, idle, dtype=np.uint8)
        tx[: len(sent)] = np.frombuffer(sent, dtype=np.uint8)
        gain = self.tx_gain(ch)
        if gain is not None:
            tx = np.frombuffer(tx.tobytes().translate(gain), dtype=np.uint8)
        if span.kind != "analog":
            if span.maint == lib.DAHDI_MAINT_LOCALLOOP:
                return tx  # our transmit comes straight back, whatever the line does
            if span.alarms & lib.DAHDI_ALARM_BLUE:
                return np.full(n, 0xFF, dtype=np.uint8)  # AIS: all ones
            if not self._span_up(span):
                return np.full(n, idle, dtype=np.uint8)
            if span.far_end == "loop" and span.maint == 0:
                return tx
            if self.exchange is not None and ch.number in self.exchange.rows:
                return self._exchange_block(ch, f, tx)
            return np.full(n, idle, dtype=np.uint8)
        if self.exchange is not None and ch.number in self.exchange.rows:
            block = self._exchange_block(ch, f, tx)
        elif ch.module == "fxo" and ch.offhook:
            block = self._dialtone(f, n, ch)
        else:
            block = np.full(n, idle, dtype=np.uint8)
        if ch.number in self.balances and ch.offhook:
            # The DAA's hybrid returns part of what the port sends (simwctdm.py).
            law = self._law_name(ch, f)
            heard = self.wctdm.receive(ch.number, g711.decode(tx, law).astype(np.float64),
                                       g711.decode(block, law).astype(np.float64))
            block = g711.encode(np.clip(np.rint(heard), -32768, 32767).astype(np.int16), law)
        return self._mix_line_audio(ch, f, block) if ch.line_audio else block

    def _exchange_block(self, ch: _Chan, f: _Fd, tx: np.ndarray) -> np.ndarray:
        """A block to and from the emulated network behind the port (simexchange.py)."""
        assert self.exchange is not None
        law = "ulaw" if (f.law_override or ch.law) == self.lib.DAHDI_LAW_MULAW else "alaw"
        first = _samples(f.t0) + f.blocks_read * len(tx)
        if ch.dial_until is None:  # while dialling the kernel sends its own tones
            self.exchange.send(ch.number, first, g711.decode(tx, law))
        heard = self.exchange.receive(ch.number, first, len(tx))
        return g711.encode(np.clip(np.rint(heard), -32768, 32767).astype(np.int16), law)

    def _dialtone(self, f: _Fd, n: int, ch: _Chan) -> np.ndarray:
        from trunkline.drivers.dsp.tones import sine
        from trunkline.drivers.dsp.zones import load_zone

        tone = load_zone(self.zone).tone("dial")
        start = f.blocks_read * n
        x = sine(tone.cycle[0].freqs, n, start=start) if tone.cycle[0].freqs else np.zeros(n)
        pcm = np.clip(np.rint(x), -32768, 32767).astype(np.int16)
        law = f.law_override if f.law_override else ch.law
        return g711.encode(pcm, "ulaw" if law == self.lib.DAHDI_LAW_MULAW else "alaw")

    def write(self, fd: int, data: bytes) -> int:
        f = self._fd(fd, "write")
        self._apply_due_faults()
        target = f"{f.path} (channel {f.chan})"
        if not f.chan:
            raise DahdiOperationError(errno.EINVAL, "write", f.path)
        ch = self.chans[f.chan]
        if not len(data) & 0xFFFF:
            # dahdi_chan_write: "count &= 0xffff", then EINVAL for nothing to write.
            raise DahdiOperationError(errno.EINVAL, "write", target)
        if ch.dial_until is not None:
            # dahdi-base.c dahdi_chan_write: a write while a dial tone or pulse digit is
            # out (curtone or pdialcount set) clears curtone, dialing, txdialbuf and
            # pdialcount: the dial string is cancelled, and no DIALCOMPLETE follows.
            ch.dial_until = None
        if ch.events:
            raise DahdiOperationError(self.lib.ELAST, "write", target)
        if self.is_hdlc(ch):
            if len(data) < 3:
                raise DahdiOperationError(errno.EINVAL, "write", target)
            frame = bytes(data[:-2])  # the last two bytes make room for the FCS
            span = self.spans[ch.span - 1]
            if self.cross.crossed(span):
                self.cross.send_frame(ch, frame)
            elif self._span_up(span):
                ch.hdlc_out.append(frame)
            return len(data)
        if self.cross.crossed(self.spans[ch.span - 1]):
            self.cross.transmit(ch)  # the buffer drains at the line's rate, read or not
        taken = len(data)
        if ch.linear:
            # dahdi_chan_write with DAHDI_FLAG_LINEAR: at most a block of 16-bit samples,
            # each turned into the channel's law (DAHDI_LIN2X).
            taken = min(len(data) & ~1, f.blocksize * 2)
            pcm = np.frombuffer(bytes(data[:taken]), dtype="<i2")
            data = g711.encode(pcm, self._law_name(ch, f)).tobytes()
        if len(ch.tx) + len(data) > f.numbufs * f.blocksize:
            raise DahdiOperationError(errno.EAGAIN, "write", target)
        ch.tx.extend(data)
        return taken

    def _law_name(self, ch: _Chan, f: _Fd) -> str:
        law = f.law_override if f.law_override else ch.law
        return "ulaw" if law == self.lib.DAHDI_LAW_MULAW else "alaw"

    def poll(self, fds: Mapping[int, int], timeout: float | None) -> dict[int, int]:
        self._apply_due_faults()
        ready = self._ready(fds)
        if ready:
            return ready
        deadlines = []
        for fd in fds:
            f = self._fds.get(fd)
            if f is None or self._stalled or (
                    f.chan and self.chans[f.chan].span in self._stalled_spans):
                continue
            if f.chan and not self._is_hdlc(f):
                deadlines.append(self._next_deadline(f))
            elif f.timer_period:
                deadlines.append(f.timer_start + (f.timer_acked + 1) * f.timer_period / RATE)
        limit = None if timeout is None else self.now() + timeout
        upcoming = [d for d in deadlines if limit is None or d <= limit]
        fault_times = [float(x.get("at", 0)) for x in self._faults]
        fault_times += [p[0] for p in self._ring_plan]
        fault_times += [p[0] for p in self._battery_plan]
        fault_times += [c.ringer_until for c in self.chans.values()
                        if c.ringer_until is not None]
        if self.exchange is not None and self.exchange.next_due() is not None:
            fault_times.append(self.exchange.next_due())
        fault_times += [c.ring_trailer_at for c in self.chans.values()
                        if c.ring_trailer_at is not None]
        upcoming += [t for t in fault_times if limit is None or t <= limit]
        if not upcoming:
            if limit is None:
                raise DahdiOperationError(errno.EDEADLK, "poll",
                                          "simulated kernel (nothing will ever be ready)")
            self.clock.sleep_until(self._t0 + limit)
            self._apply_due_faults()
            return self._ready(fds)
        self.clock.sleep_until(self._t0 + min(upcoming))
        self._apply_due_faults()
        return self._ready(fds)

    def _is_hdlc(self, f: _Fd) -> bool:
        return self.is_hdlc(self.chans[f.chan])

    def _ready(self, fds: Mapping[int, int]) -> dict[int, int]:
        out: dict[int, int] = {}
        for fd, want in fds.items():
            f = self._fds.get(fd)
            if f is None:
                out[fd] = select_pollnval()
                continue
            got = 0
            if f.chan:
                ch = self.chans[f.chan]
                if ch.events:
                    got |= POLLPRI
                if self._is_hdlc(f):
                    self.cross.sync_repeat(ch)
                    got |= POLLIN if ch.hdlc_in else 0
                elif self._blocks_due(f) > 0:
                    got |= POLLIN
                got |= POLLOUT
            elif f.timer_period and self._timer_expired(f) > 0:
                got |= POLLPRI
            if got & (want | POLLPRI):
                out[fd] = got & (want | POLLPRI)
        return out

    def _timer_expired(self, f: _Fd) -> int:
        if self._stalled:
            return 0
        passed = _samples(self.now() - f.timer_start) // f.timer_period
        return passed - f.timer_acked

    # -- ioctl ---------------------------------------------------------------------
    def ioctl(self, fd: int, request: int, arg: Any) -> None:
        f = self._fd(fd, "ioctl")
        self._apply_due_faults()
        name = self.binding.ioctl_names.get(request)
        handler = getattr(self, f"_ioctl_{name[6:].lower()}", None) if name else None
        if handler is None and self.modules_fitted and request in self.wctdm.requests:
            # Not dahdi-base.c's: dahdi_chan_ioctl hands it to the span's driver
            # (wctdm24xxp's wctdm_ioctl; simwctdm.py).
            self.wctdm.ioctl(self._chan_of(f, hex(request)).number, request,
                             getattr(arg, "pointer", arg), hex(request))
            return
        if handler is None:
            # The kernel answers ENOTTY to an ioctl it does not know.
            raise DahdiOperationError(errno.ENOTTY, name or hex(request), f.path)
        handler(f, getattr(arg, "pointer", arg), name)

    def _ioctl_specify(self, f: _Fd, arg: Any, name: str) -> None:
        number = arg[0]
        if f.path != CHANNEL:
            raise DahdiOperationError(errno.EINVAL, name, f.path)
        if f.chan:
            raise DahdiOperationError(errno.EINVAL, name, f"{f.path} (already channel "
                                                          f"{f.chan})")
        self._specchan_open(f, number, name, f.path)

    def _specchan_open(self, f: _Fd, number: int, name: str, path: str) -> None:
        # dahdi_prechan_ioctl DAHDI_SPECIFY: chan_from_num fails -> EINVAL; then
        # dahdi_specchan_open: a channel with no signalling (not configured) -> ENXIO, and
        # one already open (DAHDI_FLAGBIT_OPEN, any process) -> EBUSY.
        if number not in self.chans:
            raise DahdiOperationError(errno.EINVAL, name, f"{path} (channel {number})")
        if not self.chans[number].sigtype:
            raise DahdiOperationError(errno.ENXIO, name, f"{path} (channel {number} is "
                                                         "not configured)")
        if self._is_open(number):
            raise DahdiOperationError(errno.EBUSY, name, f"{path} (channel {number} is "
                                                         "open elsewhere)")
        if not self._is_open(number):
            # dahdi_specchan_open -> initialize_channel -> dahdi_reallocbufs: fresh buffers.
            ch = self.chans[number]
            # initialize_channel -> set_tone_zone(chan, DEFAULT_TONE_ZONE): the default
            # zone if one is loaded, none otherwise (close_channel drops it again).
            ch.curzone = self._default_zone()
            self._take_zone_cadence(ch)
            # initialize_channel: "Make sure that the audio flag is cleared on a clear
            # channel" (sig & DAHDI_SIG_CLEAR or DAHDI_SIG_HARDHDLC).
            if ch.sigtype & (self.lib.DAHDI_SIG_CLEAR | self.lib.DAHDI_SIG_HARDHDLC):
                ch.audio = False
            ch.mtp2_last = ch.mtp2_repeat = None
            # initialize_channel: "chan->rxgain = defgain; chan->txgain = defgain", and
            # "chan->flags &= ~(DAHDI_FLAG_LOOPED | DAHDI_FLAG_LINEAR | ...)".
            ch.rxgain = ch.txgain = None
            ch.linear = False
            if self.cross.crossed(self.spans[ch.span - 1]):
                ch.hdlc_in.clear()
        f.chan = number
        f.t0 = self.now()
        f.blocks_read = 0
        f.skip_at = None
        # Fresh buffers take the next chunks: the overrun episode (if any) is over.
        self.chans[number].rx_overrun = False

    def _ioctl_set_blocksize(self, f: _Fd, arg: Any, name: str) -> None:
        size = arg[0]
        if not 16 <= size <= self.lib.DAHDI_MAX_BLOCKSIZE:
            raise DahdiOperationError(errno.EINVAL, name, f"{f.path} (size {size})")
        f.blocksize = size
        f.t0 = self.now()
        f.blocks_read = 0
        f.skip_at = None

    def _ioctl_get_blocksize(self, f: _Fd, arg: Any, name: str) -> None:
        arg[0] = f.blocksize

    def _ioctl_set_bufinfo(self, f: _Fd, arg: Any, name: str) -> None:
        lib = self.lib
        if not 1 <= arg.numbufs <= 32:
            raise DahdiOperationError(errno.EINVAL, name, f.path)
        # dahdi_chan_ioctl DAHDI_SET_BUFINFO: bufsize 16..DAHDI_MAX_BLOCKSIZE (EINVAL
        # otherwise), then dahdi_reallocbufs(chan, bufsize, numbufs): the block size is
        # bufsize and the buffers are fresh.
        if not 16 <= arg.bufsize <= lib.DAHDI_MAX_BLOCKSIZE:
            raise DahdiOperationError(errno.EINVAL, name, f"{f.path} (bufsize "
                                                          f"{arg.bufsize})")
        f.numbufs = arg.numbufs
        if arg.bufsize != f.blocksize:
            f.blocksize = arg.bufsize
            f.t0 = self.now()
            f.blocks_read = 0
            f.skip_at = None
        if f.chan:
            # dahdi_reallocbufs: fresh buffers, nothing to compare a frame with or repeat.
            ch = self.chans[f.chan]
            ch.mtp2_last = ch.mtp2_repeat = None

    def _ioctl_get_bufinfo(self, f: _Fd, arg: Any, name: str) -> None:
        arg.numbufs = f.numbufs
        arg.bufsize = f.blocksize
        arg.txbufpolicy = arg.rxbufpolicy = self.lib.DAHDI_POLICY_IMMEDIATE
        arg.readbufs = min(max(self._blocks_due(f), 0), f.numbufs) if f.chan else 0
        if f.chan and self.cross.crossed(self.spans[self.chans[f.chan].span - 1]):
            self.cross.transmit(self.chans[f.chan])
        arg.writebufs = len(self.chans[f.chan].tx) // f.blocksize if f.chan else 0

    def _ioctl_flush(self, f: _Fd, arg: Any, name: str) -> None:
        ch = self._chan_of(f, name)
        if arg[0] & self.lib.DAHDI_FLUSH_WRITE:
            ch.tx.clear()
        if arg[0] & self.lib.DAHDI_FLUSH_READ:
            f.blocks_read += max(self._blocks_due(f), 0)
        if arg[0] & self.lib.DAHDI_FLUSH_EVENT:
            ch.events.clear()

    def _ioctl_channo(self, f: _Fd, arg: Any, name: str) -> None:
        arg[0] = self._chan_of(f, name).number

    def _ioctl_get_params(self, f: _Fd, arg: Any, name: str) -> None:
        # dahdi_ioctl_getparams: the fd's own channel first (chan_from_file), else
        # channo (chan_from_num, on /dev/dahdi/ctl): configured or not; EINVAL if none.
        number = f.chan or arg.channo
        if number not in self.chans:
            raise DahdiOperationError(errno.EINVAL, name, f"channel {number}")
        ch = self.chans[number]
        span = self.spans[ch.span - 1]
        arg.channo = ch.number
        arg.spanno = ch.span
        arg.chanpos = ch.pos
        arg.sigtype = ch.sigtype
        arg.sigcap = ch.sigcap
        arg.rxisoffhook = int(ch.offhook if ch.module == "fxs" else ch.ringing)
        arg.rxbits = ch.rxbits
        arg.txbits = ch.txbits
        arg.curlaw = f.law_override if (f.chan == number and f.law_override) else ch.law
        arg.name = f"{span.name}/{ch.pos}".encode()[:39]
        # dahdi_ioctl_getparams: chan->chan_alarms, which dahdi_alarm_notify sets from
        # the span's alarms and a driver from the port's own (the FXO battery alarm).
        arg.chan_alarms = span.alarms | ch.chan_alarms

    def _ioctl_spanstat(self, f: _Fd, arg: Any, name: str) -> None:
        number = arg.spanno or (self.chans[f.chan].span if f.chan else 0)
        if not 1 <= number <= len(self.spans):
            raise DahdiOperationError(errno.EINVAL, name, f"span {number}")
        s = self.spans[number - 1]
        lib = self.lib
        arg.spanno = s.number
        arg.name = s.name.encode()[:19]
        arg.desc = s.description.encode()[:39]
        arg.alarms = s.alarms
        arg.bpvcount = s.counters["bpv"]
        arg.crc4count = s.counters["crc4"]
        arg.ebitcount = s.counters["ebit"]
        arg.fascount = s.counters["fas"]
        arg.errsec = s.counters["errsec"]
        arg.irqmisses = s.counters["irqmisses"]
        arg.syncsrc = self._sync_source()
        arg.numchans = sum(1 for c in self._span_chans(s) if c.sigtype)
        arg.totalchans = s.total
        arg.totalspans = len(self.spans)
        arg.lbo = s.lbo
        arg.lineconfig = s.lineconfig
        arg.lboname = b"0 db (CSU)/0-133 feet (DSX-1)" if s.kind in ("T1", "J1") else b""
        arg.location = s.location.encode()[:39]
        arg.manufacturer = s.manufacturer.encode()[:39]
        arg.devicetype = s.devicetype.encode()[:39]
        arg.irq = s.irq
        arg.linecompat = 0 if s.kind == "analog" else (
            lib.DAHDI_CONFIG_CCS | lib.DAHDI_CONFIG_HDB3 | lib.DAHDI_CONFIG_CRC4
            | lib.DAHDI_CONFIG_AMI if s.kind == "E1" else lib.DAHDI_CONFIG_D4
            | lib.DAHDI_CONFIG_ESF | lib.DAHDI_CONFIG_AMI | lib.DAHDI_CONFIG_B8ZS)
        arg.spantype = {"analog": b"ANALO"}.get(s.kind, s.kind.encode())

    def _sync_source(self) -> int:
        """The best-priority running span without alarms, as the timing source (0: none)."""
        best = None
        for s in self.spans:
            if s.kind != "analog" and s.sync > 0 and self._span_up(s) and (
                    best is None or s.sync < best.sync):
                best = s
        return best.number if best else 0

    def _ioctl_maint(self, f: _Fd, arg: Any, name: str) -> None:
        lib = self.lib
        number = arg.spanno
        if not 1 <= number <= len(self.spans):
            raise DahdiOperationError(errno.EINVAL, name, f"span {number}")
        span = self.spans[number - 1]
        if span.kind == "analog":
            # An analog span's driver has no maintenance hook.
            raise DahdiOperationError(errno.ENOSYS, name, f"span {number} ({span.name})")
        command = arg.command
        self.maint_log.append((number, command))
        loops = (lib.DAHDI_MAINT_NONE, lib.DAHDI_MAINT_LOCALLOOP,
                 lib.DAHDI_MAINT_NETWORKLINELOOP, lib.DAHDI_MAINT_NETWORKPAYLOADLOOP)
        if command in loops:
            span.maint = command
            self._evaluate_line(span)
        elif command == lib.DAHDI_RESET_COUNTERS:
            for key in span.counters:
                span.counters[key] = 0
        elif command in (lib.DAHDI_MAINT_LOOPUP, lib.DAHDI_MAINT_LOOPDOWN,
                         lib.DAHDI_MAINT_ALARM_SIM):
            pass
        elif command in (lib.DAHDI_MAINT_FAS_DEFECT, lib.DAHDI_MAINT_CRC_DEFECT,
                         lib.DAHDI_MAINT_BIPOLAR_DEFECT, lib.DAHDI_MAINT_MULTI_DEFECT,
                         lib.DAHDI_MAINT_CAS_DEFECT, lib.DAHDI_MAINT_PRBS_DEFECT):
            key = {lib.DAHDI_MAINT_FAS_DEFECT: "fas", lib.DAHDI_MAINT_CRC_DEFECT: "crc4",
                   lib.DAHDI_MAINT_BIPOLAR_DEFECT: "bpv"}.get(command)
            if key and span.maint == lib.DAHDI_MAINT_LOCALLOOP:
                span.counters[key] += 1
        else:
            raise DahdiOperationError(errno.EINVAL, name, f"span {number} command {command}")

    def _ioctl_spanconfig(self, f: _Fd, arg: Any, name: str) -> None:
        number = arg.span
        if not 1 <= number <= len(self.spans) or self.spans[number - 1].kind == "analog":
            raise DahdiOperationError(errno.EINVAL, name, f"span {number}")
        span = self.spans[number - 1]
        span.lineconfig = arg.lineconfig
        span.lbo = arg.lbo
        span.sync = arg.sync

    def _ioctl_chanconfig(self, f: _Fd, arg: Any, name: str) -> None:
        number = arg.chan
        if number not in self.chans:
            raise DahdiOperationError(errno.EINVAL, name, f"channel {number}")
        ch = self.chans[number]
        if arg.sigtype and not (arg.sigtype & ch.sigcap) == arg.sigtype:
            raise DahdiOperationError(errno.EINVAL, name, f"channel {number} (signalling "
                                                          f"{arg.sigtype:#x} not supported)")
        if self._is_open(number):
            raise DahdiOperationError(errno.EBUSY, name, f"channel {number}")
        ch.sigtype = arg.sigtype
        ch.audio = self.audio_flag(ch.sigtype)  # dahdi_ioctl_chanconfig
        if arg.deflaw:
            ch.law = arg.deflaw
        # dahdi_ioctl_chanconfig: a CAS channel keeps its idle bits, is hung up (sends
        # them) and takes them as what it receives until the framer says otherwise.
        ch.idlebits = arg.idlebits & 0xF if ch.sigtype == self.lib.DAHDI_SIG_CAS else 0
        if ch.sigtype == self.lib.DAHDI_SIG_CAS:
            ch.rxbits = ch.idlebits
            self._hangup_bits(ch)

    def _ioctl_startup(self, f: _Fd, arg: Any, name: str) -> None:
        number = arg[0]
        if not 1 <= number <= len(self.spans):
            raise DahdiOperationError(errno.EINVAL, name, f"span {number}")
        span = self.spans[number - 1]
        span.running = True
        # dahdi_ioctl_startup: every channel's rxsig from dahdi_q_sig (a CAS channel's
        # idle bits), then dahdi_hangup (a CAS channel sends its idle bits); the framer
        # then reports what the line carries (the cable's bits, when crossed).
        for ch in self._span_chans(span):
            if ch.sigtype == self.lib.DAHDI_SIG_CAS:
                ch.rxbits = ch.txbits = ch.idlebits
        self._evaluate_line(span)

    def _ioctl_shutdown(self, f: _Fd, arg: Any, name: str) -> None:
        number = arg[0]
        if not 1 <= number <= len(self.spans):
            raise DahdiOperationError(errno.EINVAL, name, f"span {number}")
        span = self.spans[number - 1]
        if span.kind != "analog":
            span.running = False
            self._evaluate_line(span)

    def _ioctl_getversion(self, f: _Fd, arg: Any, name: str) -> None:
        arg.version = self.version.encode()
        arg.echo_canceller = self.echo_canceller.encode()

    def _ioctl_attach_echocan(self, f: _Fd, arg: Any, name: str) -> None:
        if arg.chan not in self.chans:
            raise DahdiOperationError(errno.EINVAL, name, f"channel {arg.chan}")
        self.chans[arg.chan].echocan_name = self.ffi.string(arg.echocan).decode()

    def _ioctl_getevent(self, f: _Fd, arg: Any, name: str) -> None:
        if f.timer_period:
            if self._timer_expired(f) > 0:
                arg[0] = self.lib.DAHDI_EVENT_TIMER_EXPIRED
            else:
                arg[0] = self.lib.DAHDI_EVENT_NONE
            return
        ch = self._chan_of(f, name)
        arg[0] = ch.events.popleft() if ch.events else self.lib.DAHDI_EVENT_NONE

    def _analog(self, f: _Fd, name: str) -> _Chan:
        ch = self._chan_of(f, name)
        if not ch.module:
            raise DahdiOperationError(errno.EINVAL, name, f"channel {ch.number} (not analog)")
        return ch

    def _ioctl_hook(self, f: _Fd, arg: Any, name: str) -> None:
        """dahdi-base.c dahdi_chan_ioctl DAHDI_HOOK on an analog port (its span has
        DAHDI_FLAG_RBS, so the kernel's own state machine runs): any op stops a dial
        string; RING and START need a tone zone (ENODATA) and an on-hook txstate (EBUSY);
        RING, START, WINK and FLASH on an O_NONBLOCK fd return EINPROGRESS once started
        (a blocking fd waits for them instead)."""
        lib = self.lib
        ch = self._analog(f, name)
        op = arg[0]
        ch.dial_until = None  # "if dialing, stop it"
        started = False
        if op in (lib.DAHDI_RING, lib.DAHDI_START):
            if ch.curzone is None:
                raise DahdiOperationError(errno.ENODATA, name, f"channel {ch.number} (no "
                                                               "tone zone)")
            onhook = not ch.offhook if ch.module == "fxo" else not ch.ringing
            if not onhook:
                raise DahdiOperationError(errno.EBUSY, name, f"channel {ch.number}")
            started = True
        if ch.module == "fxo":
            if op == lib.DAHDI_OFFHOOK:
                ch.offhook = True
                ch.ringing = False
                # Answered: the exchange trips its ringing (no trailer, no more bursts).
                ch.ring_trailer_at = None
                self._ring_plan = [p for p in self._ring_plan if p[1] != ch.number]
            elif op == lib.DAHDI_START:
                # dahdi_rbs_sethook(TXSIG_START, TXSTATE_START, starttime), then off hook.
                ch.offhook = True
                ch.ringing = False
            elif op == lib.DAHDI_ONHOOK:
                ch.offhook = False
            elif op == lib.DAHDI_FLASH:
                if not ch.offhook:
                    raise DahdiOperationError(errno.EBUSY, name, f"channel {ch.number} (on "
                                                                 "hook: nothing to flash)")
                ch.events.append(lib.DAHDI_EVENT_HOOKCOMPLETE)
                started = True
            elif op == lib.DAHDI_WINK:
                started = True
            else:
                raise DahdiOperationError(errno.EINVAL, name, f"channel {ch.number} (FXO port, "
                                                              f"hook op {op})")
        else:
            if op == lib.DAHDI_RING:
                # The ringer starts with ringcadence[0] on (TXSTATE_RINGON): RINGERON and
                # RINGEROFF are queued by dahdi_rbs_sethook's cadence steps
                # (__do_rbs: TXSTATE_RINGOFF/RINGON), not by this ioctl.
                ch.ringing = True
                self._start_ringer(ch)
            elif op == lib.DAHDI_RINGOFF:
                # dahdi_rbs_sethook(TXSIG_ONHOOK, TXSTATE_ONHOOK, 0): no event.
                ch.ringing = False
                self._stop_ringer(ch)
            elif op in (lib.DAHDI_ONHOOK, lib.DAHDI_OFFHOOK):
                ch.ringing = False
                self._stop_ringer(ch)
            elif op in (lib.DAHDI_WINK, lib.DAHDI_START, lib.DAHDI_FLASH):
                started = True
            else:
                raise DahdiOperationError(errno.EINVAL, name, f"channel {ch.number} (FXS port, "
                                                              f"hook op {op})")
        if self.exchange is not None and ch.number in self.exchange.rows:
            self.exchange.cancel_plans(ch.number)  # the dial string stopped
            if ch.module == "fxo":
                self.exchange.hook(ch.number, ch.offhook)
            elif op == lib.DAHDI_RING:
                self.exchange.ring_phone(ch.number, True)
            elif op in (lib.DAHDI_RINGOFF, lib.DAHDI_OFFHOOK):
                self.exchange.ring_phone(ch.number, False)
            elif op == lib.DAHDI_ONHOOK:
                self.exchange.ring_phone(ch.number, False, disconnect=True)
        if started and f.nonblock:
            raise DahdiOperationError(errno.EINPROGRESS, name, f"channel {ch.number}")

    def _ioctl_dial(self, f: _Fd, arg: Any, name: str) -> None:
        lib = self.lib
        ch = self._chan_of(f, name)
        if ch.curzone is None:
            # dahdi-base.c ioctl_dahdi_dial: "Cannot dial until a tone zone is loaded."
            raise DahdiOperationError(errno.ENODATA, name, f"channel {ch.number} (no tone "
                                                           "zone)")
        if arg.op not in (lib.DAHDI_DIAL_OP_CANCEL, lib.DAHDI_DIAL_OP_REPLACE,
                          lib.DAHDI_DIAL_OP_APPEND):
            raise DahdiOperationError(errno.EINVAL, name, f"dial op {arg.op}")
        if arg.op == lib.DAHDI_DIAL_OP_CANCEL:
            ch.dial_until = None
            if self.exchange is not None:
                self.exchange.cancel_plans(ch.number)
            return
        text = self.ffi.string(arg.dialstr).decode()
        digits = [c for c in text if c.isdigit() or c in "*#ABCD"]
        mode_pulse = text[:1].upper() == "P"
        start = ch.dial_until if (ch.dial_until and arg.op == lib.DAHDI_DIAL_OP_APPEND) \
            else self.now()
        t = start
        behind = self.exchange is not None and ch.number in self.exchange.rows
        for digit in digits or [""]:
            if mode_pulse:
                # dahdi-base.c: pulsebreaktime and pulsemaketime 50 ms each
                # (DAHDI_DEFAULT_PULSE*TIME), pulseaftertime 750 ms between digits.
                pulses = 10 if digit == "0" else int(digit) if digit.isdigit() else 0
                for _ in range(pulses):
                    if behind:
                        assert self.exchange is not None
                        self.exchange.pulse(ch.number, t, False)
                        self.exchange.pulse(ch.number, t + PULSE_BREAK, True)
                    t += PULSE_BREAK + PULSE_MAKE
                t += PULSE_AFTER
            else:
                if behind and digit:
                    assert self.exchange is not None
                    self.exchange.send(ch.number, _samples(t), dtmf(digit, DTMF_MS))
                t += 2 * DTMF_MS / 1000  # the tone, then as long a gap
        ch.dial_until = t

    def _ioctl_dialing(self, f: _Fd, arg: Any, name: str) -> None:
        arg[0] = int(self._chan_of(f, name).dial_until is not None)

    def _ioctl_loadzone(self, f: _Fd, arg: Any, name: str) -> None:
        header = self.ffi.cast("struct dahdi_tone_def_header *", arg)
        cadence = tuple(int(x) for x in header.ringcadence if x)
        self._register_zone(int(header.zone), self.ffi.string(header.name).decode(),
                            cadence, name)

    def _ioctl_freezone(self, f: _Fd, arg: Any, name: str) -> None:
        # dahdi-base.c dahdi_ioctl_freezone: the zone leaves the list (channels using it
        # keep their reference); an unknown number is not an error.
        self.zones.pop(int(arg[0]), None)

    def _ioctl_defaultzone(self, f: _Fd, arg: Any, name: str) -> None:
        # dahdi-base.c dahdi_ioctl_defaultzone: the zone moves to the list's head;
        # EINVAL when it is not loaded.
        number = int(arg[0])
        if number not in self.zones:
            raise DahdiOperationError(errno.EINVAL, name, f"tone zone {number}")
        self.zones = {number: self.zones[number]} | self.zones

    def _ioctl_settonezone(self, f: _Fd, arg: Any, name: str) -> None:
        # dahdi-base.c set_tone_zone: -1 is the default zone; ENODATA when not loaded.
        ch = self._chan_of(f, name)
        number = self._default_zone() if arg[0] == -1 else int(arg[0])
        if number is None or number not in self.zones:
            raise DahdiOperationError(errno.ENODATA, name, f"tone zone {arg[0]}")
        ch.dial_until = None  # stop_tone
        ch.curzone = number
        self._take_zone_cadence(ch)

    def _ioctl_gettonezone(self, f: _Fd, arg: Any, name: str) -> None:
        # dahdi-base.c DAHDI_GETTONEZONE: 0 when the channel has none (0 is also "us").
        zone = self._chan_of(f, name).curzone
        arg[0] = zone if zone is not None else 0

    def _ioctl_setlinear(self, f: _Fd, arg: Any, name: str) -> None:
        # dahdi_chan_ioctl DAHDI_SETLINEAR: "Makes no sense on non-audio channels".
        ch = self._chan_of(f, name)
        if not ch.audio:
            raise DahdiOperationError(errno.EINVAL, name, f"channel {ch.number} (not in "
                                                          "audio mode)")
        ch.linear = bool(arg[0])

    def _ioctl_setlaw(self, f: _Fd, arg: Any, name: str) -> None:
        lib = self.lib
        self._chan_of(f, name)
        if arg[0] not in (lib.DAHDI_LAW_DEFAULT, lib.DAHDI_LAW_ALAW, lib.DAHDI_LAW_MULAW):
            raise DahdiOperationError(errno.EINVAL, name, f"law {arg[0]}")
        f.law_override = arg[0] or None

    def _ioctl_echocancel_params(self, f: _Fd, arg: Any, name: str) -> None:
        ch = self._chan_of(f, name)
        if not ch.audio:
            # dahdi_chan_ioctl DAHDI_ECHOCANCEL_PARAMS: EINVAL without DAHDI_FLAG_AUDIO
            # (a B-channel needs DAHDI_AUDIOMODE first; HDLC channels never have it).
            raise DahdiOperationError(errno.EINVAL, name, f"channel {ch.number} (not in "
                                                          "audio mode)")
        params = self.ffi.cast("struct dahdi_echocanparams *", arg)
        ch.echocan = int(params.tap_length)

    def _ioctl_echotrain(self, f: _Fd, arg: Any, name: str) -> None:
        self._chan_of(f, name)

    def _ioctl_setpolarity(self, f: _Fd, arg: Any, name: str) -> None:
        ch = self._analog(f, name)
        if ch.module != "fxs":
            # Only an FXS port drives battery, so only it can reverse polarity.
            raise DahdiOperationError(errno.EINVAL, name, f"channel {ch.number} (FXO port)")
        ch.polarity = int(bool(arg[0]))

    def _ioctl_setcadence(self, f: _Fd, arg: Any, name: str) -> None:
        # dahdi_chan_ioctl DAHDI_SETCADENCE: a cadence of DAHDI_MAX_CADENCE on/off times
        # (ms); the first negative "on" time marks where ringing loops back to. NULL:
        # the zone's again (or starttime on, DAHDI_RINGOFFTIME off without a zone).
        ch = self._analog(f, name)
        if arg is None or arg == self.ffi.NULL:
            self._take_zone_cadence(ch)
            ch.firstcadencepos = 0
            return
        cad = self.ffi.cast("struct dahdi_ring_cadence *", arg)
        times = [int(cad.ringcadence[i]) for i in range(self.lib.DAHDI_MAX_CADENCE)]
        ch.firstcadencepos = 0
        for i in range(0, len(times), 2):
            if times[i] < 0:
                times[i] = -times[i]
                ch.firstcadencepos = i
                break
        ch.ringcadence = tuple(times)

    def _take_zone_cadence(self, ch: _Chan) -> None:
        """set_tone_zone: "memcpy(chan->ringcadence, z->ringcadence, ...)"."""
        zone = self.zones.get(ch.curzone) if ch.curzone is not None else None
        size = self.lib.DAHDI_MAX_CADENCE
        times = list(zone[1]) if zone and zone[1] else [STARTTIME_MS, RINGOFFTIME_MS]
        ch.ringcadence = tuple((times + [0] * size)[:size])

    def _start_ringer(self, ch: _Chan) -> None:
        """DAHDI_HOOK RING on an FXS port: "chan->cadencepos = 0; ret =
        chan->ringcadence[0]; dahdi_rbs_sethook(chan, DAHDI_TXSIG_START,
        DAHDI_TXSTATE_RINGON, ret)": ringing, with no event for this first burst."""
        ch.cadencepos = 0
        ch.ringer_on = True
        ch.ringer_until = self.now() + ch.ringcadence[0] / 1000

    def _ringer_step(self, ch: _Chan) -> None:
        """__rbs_otimer_expire for TXSTATE_RINGON/RINGOFF: the next cadence time, and
        DAHDI_EVENT_RINGEROFF or RINGERON (the kernel's own indexing, kept as it is)."""
        size = self.lib.DAHDI_MAX_CADENCE
        cad = ch.ringcadence
        ch.cadencepos += 1
        if ch.ringer_on:
            if ch.cadencepos >= size:
                ch.cadencepos = 0
            length = cad[ch.cadencepos]
            if not length:
                ch.cadencepos = 0
                zone = self.zones.get(ch.curzone) if ch.curzone is not None else None
                length = zone[1][0] if zone and zone[1] else cad[0]
            ch.ringer_on = False
            ch.events.append(self.lib.DAHDI_EVENT_RINGEROFF)
        else:
            if ch.cadencepos >= size:
                ch.cadencepos = ch.firstcadencepos
            length = cad[ch.cadencepos]
            if not length:
                ch.cadencepos = ch.firstcadencepos
                length = cad[ch.cadencepos]
            ch.ringer_on = True
            ch.events.append(self.lib.DAHDI_EVENT_RINGERON)
        assert ch.ringer_until is not None
        ch.ringer_until += max(length, 1) / 1000

    def _stop_ringer(self, ch: _Chan) -> None:
        ch.ringer_on = False
        ch.ringer_until = None

    def _ioctl_settxbits(self, f: _Fd, arg: Any, name: str) -> None:
        ch = self._chan_of(f, name)
        if ch.sigtype != self.lib.DAHDI_SIG_CAS:
            raise DahdiOperationError(errno.EINVAL, name, f"channel {ch.number} (not CAS)")
        self._send_bits(ch, arg[0])

    def _ioctl_getrxbits(self, f: _Fd, arg: Any, name: str) -> None:
        arg[0] = self._chan_of(f, name).rxbits

    def _ioctl_hdlcfcsmode(self, f: _Fd, arg: Any, name: str) -> None:
        # dahdi_chan_ioctl DAHDI_HDLCFCSMODE: literal clear channels only; audio off.
        ch = self._clear_only(f, name)
        ch.audio = False
        ch.hdlc_fcs = bool(arg[0])

    def _ioctl_audiomode(self, f: _Fd, arg: Any, name: str) -> None:
        # dahdi_chan_ioctl DAHDI_AUDIOMODE: "Only literal clear channels can be put in";
        # on: audio, no HDLC; off: no audio, and the echo canceller is freed.
        ch = self._clear_only(f, name)
        ch.audio = bool(arg[0])
        ch.hdlc_fcs = False
        if not ch.audio:
            # "chan->rxgain = defgain; chan->txgain = defgain" with the canceller freed.
            ch.echocan = 0
            ch.rxgain = ch.txgain = None

    def tx_gain(self, ch: _Chan) -> bytes | None:
        """The table what ``ch`` sends goes through: __dahdi_process_getaudio_chunk ends
        with "txb[x] = ms->txgain[txb[x]]" (silence filled in for an underrun too), on
        channels with DAHDI_FLAG_AUDIO only (dahdi_transmit)."""
        return ch.txgain if ch.audio else None

    def _gains_chan(self, f: _Fd, arg: Any, name: str) -> _Chan:
        """dahdi_ioctl_getgains/setgains: ``chan`` 0 is the fd's own channel, another is
        chan_from_num's (EINVAL when there is none); EINVAL without DAHDI_FLAG_AUDIO."""
        number = int(arg.chan)
        if number == 0:
            ch = self._chan_of(f, name)
        elif number in self.chans:
            ch = self.chans[number]
        else:
            raise DahdiOperationError(errno.EINVAL, name, f"channel {number}")
        if not ch.audio:
            raise DahdiOperationError(errno.EINVAL, name, f"channel {ch.number} (not in "
                                                          "audio mode)")
        return ch

    def _ioctl_getgains(self, f: _Fd, arg: Any, name: str) -> None:
        ch = self._gains_chan(f, arg, name)
        arg.chan = ch.number
        self.ffi.memmove(arg.rxgain, ch.rxgain or IDENTITY_GAIN, 256)
        self.ffi.memmove(arg.txgain, ch.txgain or IDENTITY_GAIN, 256)

    def _ioctl_setgains(self, f: _Fd, arg: Any, name: str) -> None:
        ch = self._gains_chan(f, arg, name)
        rx = bytes(self.ffi.buffer(arg.rxgain, 256))
        tx = bytes(self.ffi.buffer(arg.txgain, 256))
        # dahdi_ioctl_setgains: both tables equal to defgain free the custom ones; any
        # other setting replaces both ("This is a custom gain setting").
        if rx == IDENTITY_GAIN and tx == IDENTITY_GAIN:
            ch.rxgain = ch.txgain = None
        else:
            ch.rxgain, ch.txgain = rx, tx
        arg.chan = ch.number

    def _clear_only(self, f: _Fd, name: str) -> _Chan:
        ch = self._chan_of(f, name)
        if ch.sigtype != self.lib.DAHDI_SIG_CLEAR:
            raise DahdiOperationError(errno.EINVAL, name, f"channel {ch.number} (not a clear "
                                                          "channel)")
        return ch

    def _ioctl_buffer_events(self, f: _Fd, arg: Any, name: str) -> None:
        # dahdi_chan_ioctl DAHDI_BUFFER_EVENTS: sets or clears DAHDI_FLAGBIT_BUFEVENTS.
        self._chan_of(f, name).bufevents = bool(arg[0])

    def _ioctl_timerconfig(self, f: _Fd, arg: Any, name: str) -> None:
        if f.path != TIMER or arg[0] < 0:
            raise DahdiOperationError(errno.EINVAL, name, f.path)
        f.timer_period = arg[0]
        f.timer_start = self.now()
        f.timer_acked = 0

    def _ioctl_timerack(self, f: _Fd, arg: Any, name: str) -> None:
        expired = max(self._timer_expired(f), 0)
        count = expired if arg[0] < 0 else min(arg[0], expired)
        f.timer_acked += count


def _samples(seconds: float) -> int:
    """Whole samples in ``seconds`` (rounded at 1 us: 0.02 s is 160 samples, not 159.99)."""
    return int(round(seconds * RATE * 1e6) // 1_000_000)


def select_pollnval() -> int:
    import select

    return select.POLLNVAL


def bundled_system(name: str) -> str | Path:
    """``name`` as a system description: a file, or the name of a system bundled with
    trunkline (``firmware-profiles/systems/NAME.toml``, e.g. ``crossed``)."""
    if "/" in name or name.endswith(".toml") or Path(name).exists():
        return name
    bundled = resources.files("trunkline.profiles") / "systems" / f"{name}.toml"
    return Path(str(bundled)) if bundled.is_file() else name


def load_system(path: str | Path, *, clock: Clock | None = None) -> SimulatedKernel:
    """A simulated kernel described by the file at ``path``."""
    return SimulatedKernel(Path(path), clock=clock)
