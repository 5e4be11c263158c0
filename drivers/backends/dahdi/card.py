"""The DAHDI backend: real boards through the kernel's /dev/dahdi nodes.

(About 1,400 lines: one class at the ioctl boundary, every call to the kernel in one
place to read beside dahdi-base.c; why it stays one module is said below.)

:class:`DahdiCard` implements the same backend interface as the emulated card
(:class:`~trunkline.drivers.card.CardABC`), so nothing above it knows which one runs.
Every system call goes through a :class:`~trunkline.drivers.backends.dahdi.device.Device`: the
real :class:`~.device.OsDevice`, or in CI the
:class:`~trunkline.drivers.backends.dahdi.simkernel.SimulatedKernel`, which runs this very code.

How it talks to DAHDI (user.h, "DAHDI_SPECIFY ... must be done before performing any
other ioctls"):

* Discovery: ``DAHDI_SPANSTAT`` on /dev/dahdi/ctl for each span, then every channel
  number through /dev/dahdi/channel + ``DAHDI_SPECIFY`` + ``DAHDI_GET_PARAMS``, which
  says its span, position, signalling and law. A span numbering with gaps
  (dahdi_span_assignments) is fine: channels are found by asking, not by counting.
* Media: one non-blocking fd per open channel, ``DAHDI_SET_BLOCKSIZE`` 160 (one 20 ms
  frame per read), ``DAHDI_SET_BUFINFO`` (immediate policy, 4 buffers), ``DAHDI_SETLAW``,
  and the echo canceller with ``DAHDI_ECHOCANCEL_PARAMS`` on voice channels. A read
  blocks (in ``poll``) until the board's next block: timing comes from the hardware.
  With no channel open, /dev/dahdi/timer paces the card (``DAHDI_TIMERCONFIG``).
* Events: a read fails with ``ELAST`` and ``poll`` reports ``POLLPRI`` while an event
  waits; ``DAHDI_GETEVENT`` takes it. :data:`EVENT_MAP` maps every DAHDI_EVENT_* code.
* The D-channel of a PRI span is a channel fd in HDLC-FCS mode, handed to the PRI code
  as an :class:`~trunkline.drivers.card.HdlcLink`; an SS7 signalling link is the same on
  a channel in the kernel's MTP2 mode (``DAHDI_SIG_MTP2``: system.conf ``mtp2=``), where
  the kernel repeats the last frame written and drops a received frame identical to the
  one before it (dahdi-base.c), which the SS7 module's MTP2 expects.
* CAS: ``DAHDI_SETTXBITS`` sends a channel's ABCD bits (CAS channels only: EINVAL
  otherwise), ``DAHDI_GETRXBITS`` reads what the framer received, and
  ``DAHDI_EVENT_BITSCHANGED`` (queued by dahdi-base.c ``dahdi_rbsbits`` when they change)
  becomes a BITS_CHANGED event carrying them.
* What the kernel does not know (an MFC/R2 variant, an SS7 linkset's point codes) comes
  from trunkline's DAHDI configuration, when the card is given one (``config``;
  :mod:`~trunkline.drivers.backends.dahdi.spansignalling`).

A model span is a DAHDI span, except that an analog DAHDI span with both FXO and FXS
modules becomes two model spans (one per port kind), both reporting that span's status.

Why one module of this size: every part of it works on the same open descriptors and
the one event stream the kernel gives per channel (opening, reading and writing frames,
hook and dial ioctls, events, alarms, buffer events); what stands alone is apart (the
ABI in ``abi.py``, the device in ``device.py``, zones in ``tonezone.py``, span
signalling in ``spansignalling.py``, configuration in ``sysconf.py``).
"""

from __future__ import annotations

import contextlib
import errno
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from trunkline.clock import Clock, RealClock
from trunkline.drivers.backends.dahdi import tonezone
from trunkline.drivers.backends.dahdi.device import (
    CHANNEL,
    CTL,
    POLLIN,
    POLLPRI,
    TIMER,
    DahdiOperationError,
    Device,
    open_device,
)
from trunkline.drivers.backends.dahdi.portsettings import gain_table, port_settings
from trunkline.drivers.backends.dahdi.spansignalling import span_protocol
from trunkline.drivers.backends.dahdi.sysconf import DahdiConfig
from trunkline.drivers.card import CardABC, DialMode, HdlcLink
from trunkline.drivers.model import (
    FRAME_SAMPLES,
    TICK_SECONDS,
    Alarm,
    CardEvent,
    ChannelInfo,
    ChannelSignalling,
    ChannelState,
    EventKind,
    HookOp,
    LineOptions,
    SpanCounters,
    SpanInfo,
    SpanKind,
    SpanSignalling,
    SpanStatus,
)
from trunkline.errors import BackendError, ChannelError, ChannelStateError, ConfigError

#: How long a read may wait for the board's next block before we call it a timing
#: failure (a board with no timing source never completes a read; dahdi_test hangs).
READ_TIMEOUT = 1.0
#: Echo canceller taps (8 per ms) enabled on voice channels: 128 is chan_dahdi's
#: default for ``echocancel=yes`` (16 ms).
DEFAULT_EC_TAPS = 128
#: How long one digit of DAHDI_DIAL takes at most, in seconds: DTMF 100 ms of tone and
#: 100 ms of silence (dahdi-base.c dtmf_silence, DAHDI_CONFIG_DEFAULT_DTMF_LENGTH); a
#: pulse digit up to ten 50+50 ms pulses and 750 ms after it (kernel.h
#: DAHDI_DEFAULT_PULSEMAKETIME/BREAKTIME/AFTERTIME).
DIAL_DIGIT_SECONDS = {"dtmf": 0.2, "pulse": 1.75}
#: A dial string not complete (DAHDI_EVENT_DIALCOMPLETE) after twice its longest time and
#: this margin is cancelled (DAHDI_DIAL_OP_CANCEL): the line stops being held silent.
DIAL_TIMEOUT_MARGIN = 2.0
#: ``value`` of the DIAL_COMPLETE event that reports a dial cancelled by its timeout.
DIAL_TIMED_OUT = 1
#: Polarity reversals this soon (seconds) after our off-hook or after the last reversal
#: taken are ignored: chan_dahdi's polarityonanswerdelay (600 ms by default), which
#: sig_analog's ANALOG_EVENT_POLARITY handling measures from p->polaritydelaytv.
POLARITY_DELAY = 0.6
#: An FXO port ringing in is RINGING until this long (seconds) passes without a ring
#: (DAHDI reports ring bursts, RINGBEGIN and RINGOFFHOOK, but never that they stopped):
#: chan_dahdi's DEFAULT_RINGT, 8 s ("ringtimeout"), restarted by every ring.
RING_TIMEOUT = 8.0
#: The tone zone an analog channel is given when neither trunkline's DAHDI
#: configuration nor the kernel names one (the gateway assumes it too).
DEFAULT_ZONE = "cn"
#: Span status is re-read (SPANSTAT) at least this often, in frames, to report alarms
#: of spans whose channels are closed.
ALARM_POLL_FRAMES = 50


@dataclass(frozen=True)
class EventRule:
    """What one DAHDI_EVENT_* becomes: a model event, an internal action, or nothing."""

    kind: EventKind | None
    note: str


#: Every DAHDI_EVENT_* of user.h (a test checks the list is complete against the header).
EVENT_MAP: dict[str, EventRule] = {
    "DAHDI_EVENT_NONE": EventRule(None, "no event"),
    "DAHDI_EVENT_ONHOOK": EventRule(EventKind.ONHOOK, "FXS: phone hung up; FXO: loop dropped"),
    "DAHDI_EVENT_RINGOFFHOOK": EventRule(EventKind.OFFHOOK, "FXS: phone off hook; on an FXO "
                                         "port it means ringing: becomes RING_BEGIN"),
    "DAHDI_EVENT_WINKFLASH": EventRule(EventKind.WINKFLASH, "wink or hook flash"),
    "DAHDI_EVENT_ALARM": EventRule(EventKind.ALARM, "span alarm: SPANSTAT gives the bits"),
    "DAHDI_EVENT_NOALARM": EventRule(EventKind.NOALARM, "span alarm cleared"),
    "DAHDI_EVENT_ABORT": EventRule(None, "HDLC abort: counted on the D-channel"),
    "DAHDI_EVENT_OVERRUN": EventRule(None, "HDLC overrun: counted on the D-channel"),
    "DAHDI_EVENT_BADFCS": EventRule(None, "HDLC bad FCS: counted on the D-channel"),
    "DAHDI_EVENT_DIALCOMPLETE": EventRule(EventKind.DIAL_COMPLETE, "DAHDI_DIAL finished"),
    "DAHDI_EVENT_RINGERON": EventRule(None, "our ringer started (we asked for it)"),
    # __rbs_otimer_expire queues RINGEROFF at every silent step of our ringer's cadence
    # (after each burst), not when ringing stops: the port is still ringing.
    "DAHDI_EVENT_RINGEROFF": EventRule(EventKind.RINGER_OFF, "our ringer's silent step "
                                       "(still ringing): caller ID is sent in it"),
    "DAHDI_EVENT_HOOKCOMPLETE": EventRule(None, "a hook change we asked for completed"),
    "DAHDI_EVENT_BITSCHANGED": EventRule(EventKind.BITS_CHANGED, "CAS: GETRXBITS gives bits"),
    "DAHDI_EVENT_PULSE_START": EventRule(None, "pulse digit starts (we detect digits in DSP)"),
    "DAHDI_EVENT_TIMER_EXPIRED": EventRule(None, "timer fd: paces a card with no channels"),
    "DAHDI_EVENT_TIMER_PING": EventRule(None, "timer ping: not used"),
    "DAHDI_EVENT_POLARITY": EventRule(EventKind.POLARITY, "battery polarity reversed"),
    "DAHDI_EVENT_RINGBEGIN": EventRule(EventKind.RING_BEGIN, "ringing voltage began"),
    "DAHDI_EVENT_EC_DISABLED": EventRule(None, "echo canceller disabled (fax/modem tone): "
                                         "counted"),
    "DAHDI_EVENT_REMOVED": EventRule(EventKind.ALARM, "the board went away: the span is "
                                     "reported in RED alarm and the channel out of service"),
    "DAHDI_EVENT_NEONMWI_ACTIVE": EventRule(None, "neon MWI: not used by a dialer"),
    "DAHDI_EVENT_NEONMWI_INACTIVE": EventRule(None, "neon MWI: not used by a dialer"),
    "DAHDI_EVENT_TX_CED_DETECTED": EventRule(None, "hardware fax detection: our DSP detects"),
    "DAHDI_EVENT_RX_CED_DETECTED": EventRule(None, "hardware fax detection: our DSP detects"),
    "DAHDI_EVENT_TX_CNG_DETECTED": EventRule(None, "hardware fax detection: our DSP detects"),
    "DAHDI_EVENT_RX_CNG_DETECTED": EventRule(None, "hardware fax detection: our DSP detects"),
    "DAHDI_EVENT_EC_NLP_DISABLED": EventRule(None, "echo canceller NLP off: counted"),
    "DAHDI_EVENT_EC_NLP_ENABLED": EventRule(None, "echo canceller NLP on: counted"),
    "DAHDI_EVENT_READ_OVERRUN": EventRule(None, "we read too late (the kernel dropped "
                                          "audio): counted in the span's read_overruns"),
    "DAHDI_EVENT_WRITE_UNDERRUN": EventRule(None, "we wrote too late: counted in the "
                                            "span's write_underruns"),
    "DAHDI_EVENT_PULSEDIGIT": EventRule(None, "pulse digit (OR'd with it): DSP detects"),
    "DAHDI_EVENT_DTMFDOWN": EventRule(None, "hardware DTMF (OR'd with digit): DSP detects"),
    "DAHDI_EVENT_DTMFUP": EventRule(None, "hardware DTMF (OR'd with digit): DSP detects"),
}


def _load_config(config: DahdiConfig | str | Path | None) -> DahdiConfig | None:
    """trunkline's DAHDI configuration, read from its file when given one."""
    if config is None or isinstance(config, DahdiConfig):
        return config
    from trunkline.drivers.backends.dahdi.sysconf import load_config

    return load_config(config)


@dataclass
class _DahdiSpan:
    """What SPANSTAT told us about one DAHDI span."""

    number: int
    name: str
    description: str
    spantype: str
    manufacturer: str
    devicetype: str
    location: str
    irq: int
    lbo: str
    lineconfig: int
    totalchans: int
    numchans: int
    channels: list[int] = field(default_factory=list)


@dataclass
class ChannelProbe:
    """One DAHDI channel as GET_PARAMS describes it."""

    number: int
    span: int
    pos: int
    sigtype: int
    sigcap: int
    law: str
    name: str
    signalling: ChannelSignalling | None
    reason: str = ""


class DahdiCard(CardABC):
    """Boards driven by the DAHDI kernel modules (or the simulated kernel)."""

    backend = "dahdi"

    @property
    def dchannels_in_thread(self) -> bool:  # type: ignore[override]
        """True on the kernel's devices (system calls from any thread; the interposer of
        ``trunkline dahdi-sim`` serialises them too); the in-process simulated kernel is
        one Python object the tick owns, unless it is wrapped in a
        :class:`~.device.SerializedDevice`."""
        return bool(getattr(self.device, "threadsafe", False))

    @classmethod
    def from_url_argument(cls, argument: str, **options: Any) -> DahdiCard:
        """``dahdi`` (the kernel), ``dahdi:sim`` or ``dahdi:sim=SYSTEM`` (simulated: a
        file, or the name of a bundled system such as ``crossed``), each optionally with
        ``config=CARD.toml`` (``dahdi:config=CARD.toml``, ``dahdi:sim=SYSTEM,config=...``).

        Options: ``device`` (a :class:`~.device.Device`), ``clock`` (the simulated
        kernel's; a real kernel keeps real time and ignores it), ``config`` (trunkline's
        DAHDI configuration: a file or a :class:`~.sysconf.DahdiConfig`), ``echocancel``
        (taps, 0 to disable), ``read_timeout`` (seconds).
        """
        device = options.pop("device", None)
        clock = options.pop("clock", None)
        sim: str | None = None
        for part in (p.strip() for p in argument.split(",") if p.strip()):
            name, _, value = part.partition("=")
            if name == "sim":
                sim = value
            elif name == "config" and value:
                options.setdefault("config", value)
            else:
                raise ConfigError(f"unknown dahdi card argument {argument!r}: use 'dahdi', "
                                  "'dahdi:sim', 'dahdi:sim=SYSTEM.toml' or add "
                                  "',config=CARD.toml'")
        if device is None and sim is None:
            clock = None  # the boards' own time
        if device is None and sim is not None:
            from trunkline.drivers.backends.dahdi.simkernel import (
                SimulatedKernel,
                bundled_system,
            )

            device = SimulatedKernel(bundled_system(sim) if sim else None, clock=clock,
                                     network=options.pop("network", None))
        if options.pop("network", None) is not None:
            raise ConfigError("a number plan (--network) applies to the emulated card and "
                              "to dahdi:sim's analog lines only")
        options.pop("seed", None)
        unknown = set(options) - {"echocancel", "read_timeout", "config"}
        if unknown:
            raise ConfigError(f"the dahdi backend takes no option {', '.join(sorted(unknown))}")
        return cls(device, clock=clock, **options)

    def __init__(self, device: Device | None = None, *, echocancel: int = DEFAULT_EC_TAPS,
                 read_timeout: float = READ_TIMEOUT, clock: Clock | None = None,
                 config: DahdiConfig | str | Path | None = None) -> None:
        self.device = device if device is not None else open_device()
        #: trunkline's DAHDI configuration: what the spans speak beyond the kernel's word
        #: (given, or the one a simulated machine names).
        self.config = _load_config(config if config is not None
                                   else getattr(self.device, "config_path", None))
        self.binding = self.device.binding
        self.lib = self.binding.lib
        self.echocancel = echocancel
        self.read_timeout = read_timeout
        self.clock = clock or getattr(self.device, "clock", None) or RealClock()
        self._ctl = self.device.open(CTL)
        self._closed_fds: list[int] = []
        try:
            self.dahdi_spans = self._probe_spans()
            self.probes = self._probe_channels()
            spans, channels, self._model_to_dahdi = self._layout()
        except BaseException:
            self.device.close(self._ctl)
            raise
        #: The kernel's default tone zone (libtonezone's), None when none is loaded.
        self.kernel_zone = self._default_zone()
        wanted = (self.config.zone or (self.config.loadzones or [""])[0]) \
            if self.config is not None else ""
        super().__init__(spans, channels, clock=self.clock,
                         tone_zone=wanted or (self.kernel_zone.country
                                              if self.kernel_zone else None))
        self._fds: dict[int, int] = {}
        self._dchans: dict[int, DahdiDChannel] = {}
        self._events: list[CardEvent] = []
        self._alarms: dict[int, int] = {}
        self._frame = 0
        self._last_alarm_poll = -ALARM_POLL_FRAMES
        #: A D-channel saw an alarm event: the spans' alarms are read on the next poll.
        self.alarm_check_due = False
        self._timer: int | None = None
        self._ringing: set[int] = set()
        #: Channels with a DAHDI_DIAL string out, and when it times out (card time).
        self._dialing: dict[int, float] = {}
        #: FXO lines' polarity as sig_analog keeps it (p->polarity: 0 idle, 1 reversed)
        #: and when it last counted (p->polaritydelaytv): DAHDI_EVENT_POLARITY says only
        #: that the battery reversed, never which way it now is.
        self._polarity: dict[int, int] = {}
        self._polarity_since: dict[int, float] = {}
        #: FXO ports ringing in: when the last ring burst was reported.
        self._ring_seen: dict[int, float] = {}
        #: Buffer events per DAHDI span: {span: {"read_overruns": n, ...}}.
        self._buffer_counts: dict[int, dict[str, int]] = {}
        #: Open channels we have written to (an underrun before the first write is the
        #: channel being opened, not a late write).
        self._written: set[int] = set()
        self._offhook: set[int] = set()
        self._removed: set[int] = set()
        #: DAHDI spans whose board stopped delivering blocks (out of service until it
        #: delivers again).
        self._stalled: set[int] = set()
        self._maint: dict[int, str] = {}
        self.stats = {"tx_dropped": 0, "tx_held_dialing": 0, "dial_timeouts": 0,
                      "read_overruns": 0, "write_underruns": 0, "ec_disabled": 0,
                      "unmapped_events": 0, "zones_loaded": 0, "ec_refused": 0,
                      "polarity_ignored": 0, "spans_out_of_service": 0, "battery_alarms": 0}
        for number in self.dahdi_spans:
            self._alarms[number] = self._spanstat(number).alarms
        #: chan_dahdi.conf's per-port settings kept by ``config import`` (gains, answer
        #: on polarity), applied as chan_dahdi applies them (portsettings.py).
        self.port_settings = {c: p for c, p in port_settings(self.config).items()
                              if c in self.channels}
        for channel, settings in self.port_settings.items():
            if self.channels[channel].signalling.value.startswith("fxo"):
                line = self.line_options(channel)
                self.set_line_options(channel, LineOptions(
                    answer_on_polarity=line.answer_on_polarity
                    if settings.answer_on_polarity is None else settings.answer_on_polarity,
                    caller_id=line.caller_id if settings.caller_id is None
                    else settings.caller_id))

    @property  # type: ignore[override]
    def overruns(self) -> int:
        """Reads that found the kernel's buffers overrun (DAHDI_EVENT_READ_OVERRUN)."""
        return self.stats["read_overruns"]

    # -- discovery ------------------------------------------------------------------
    def _spanstat(self, number: int) -> Any:
        info = self.binding.new("struct dahdi_spaninfo *")
        info.spanno = number
        self.device.ioctl(self._ctl, self.lib.DAHDI_SPANSTAT, info)
        return info

    def _probe_spans(self) -> dict[int, _DahdiSpan]:
        s = self.binding.string
        spans: dict[int, _DahdiSpan] = {}
        number, total = 1, None
        while number <= self.lib.DAHDI_MAX_SPANS and (total is None or len(spans) < total):
            try:
                info = self._spanstat(number)
            except DahdiOperationError as err:
                if err.errno == errno.EINVAL and total is not None:
                    number += 1  # a gap in the span numbering
                    continue
                if err.errno == errno.EINVAL:
                    break
                raise
            total = info.totalspans
            spans[number] = _DahdiSpan(
                number, s(info.name), s(info.desc), s(info.spantype), s(info.manufacturer),
                s(info.devicetype), s(info.location), info.irq, s(info.lboname),
                info.lineconfig, info.totalchans, info.numchans,
            )
            number += 1
        if not spans:
            from trunkline.errors import CardNotFound

            raise CardNotFound("DAHDI is loaded but has no spans: is the board driver "
                               "loaded (e.g. modprobe wct4xxp / wcte13xp / wctdm24xxp), and "
                               "are its spans assigned (dahdi_span_assignments auto)?")
        return spans

    def _probe_channels(self) -> dict[int, ChannelProbe]:
        wanted = sum(s.totalchans for s in self.dahdi_spans.values())
        probes: dict[int, ChannelProbe] = {}
        number, misses = 1, 0
        # Stop once every span's channels are found; allow gaps in the numbering.
        while len(probes) < wanted and number <= self.lib.DAHDI_MAX_CHANNELS and misses < 256:
            probe = self.probe_channel(number)
            if probe is None:
                misses += 1
            else:
                misses = 0
                probes[number] = probe
                if probe.span in self.dahdi_spans:
                    self.dahdi_spans[probe.span].channels.append(number)
            number += 1
        return probes

    def probe_channel(self, number: int) -> ChannelProbe | None:
        """GET_PARAMS of one channel, or None if the kernel has no such channel.

        Asked on /dev/dahdi/ctl with ``channo`` (dahdi-base.c dahdi_ioctl_getparams:
        chan_from_num), as dahdi_scan does: opening the channel would fail with ENXIO
        while it is not configured (dahdi_specchan_open) and EBUSY while another
        program (the gateway) holds it, and neither may hide a channel.
        """
        lib = self.lib
        params = self.binding.new("struct dahdi_params *")
        params.channo = number
        try:
            self.device.ioctl(self._ctl, lib.DAHDI_GET_PARAMS, params)
        except DahdiOperationError as err:
            if err.errno in (errno.ENXIO, errno.ENODEV, errno.EINVAL):
                return None
            raise
        law = "ulaw" if params.curlaw == lib.DAHDI_LAW_MULAW else "alaw"
        signalling, reason = self._signalling(params.sigtype)
        return ChannelProbe(number, params.spanno, params.chanpos, params.sigtype,
                            params.sigcap, law, self.binding.string(params.name), signalling,
                            reason)

    def _signalling(self, sigtype: int) -> tuple[ChannelSignalling | None, str]:
        lib = self.lib
        table = {
            # Named after the signalling used towards the far end: FXS signalling runs
            # on an FXO port (a line from the exchange) and the other way round.
            lib.DAHDI_SIG_FXSKS: ChannelSignalling.FXO_KEWLSTART,
            lib.DAHDI_SIG_FXSLS: ChannelSignalling.FXO_LOOPSTART,
            lib.DAHDI_SIG_FXOKS: ChannelSignalling.FXS_KEWLSTART,
            lib.DAHDI_SIG_FXOLS: ChannelSignalling.FXS_LOOPSTART,
            lib.DAHDI_SIG_CLEAR: ChannelSignalling.BCHAN,
            lib.DAHDI_SIG_HDLCFCS: ChannelSignalling.DCHAN,
            lib.DAHDI_SIG_HARDHDLC: ChannelSignalling.DCHAN,
            lib.DAHDI_SIG_MTP2: ChannelSignalling.MTP2,
            lib.DAHDI_SIG_CAS: ChannelSignalling.CAS,
        }
        if sigtype in table:
            return table[sigtype], ""
        if sigtype == lib.DAHDI_SIG_NONE:
            return None, "not configured (run `trunkline config apply` or dahdi_cfg)"
        names = {lib.DAHDI_SIG_FXSGS: "fxsgs (ground start)",
                 lib.DAHDI_SIG_FXOGS: "fxogs (ground start)", lib.DAHDI_SIG_EM: "e&m",
                 lib.DAHDI_SIG_EM_E1: "e&me1", lib.DAHDI_SIG_DACS: "dacs",
                 lib.DAHDI_SIG_HDLCRAW: "hdlc raw", lib.DAHDI_SIG_HDLCNET: "hdlc net",
                 lib.DAHDI_SIG_SF: "sf"}
        return None, f"signalling {names.get(sigtype, hex(sigtype))} is not supported"

    def _layout(self) -> tuple[list[SpanInfo], list[ChannelInfo], dict[int, int]]:
        lib = self.lib
        spans: list[SpanInfo] = []
        channels: list[ChannelInfo] = []
        mapping: dict[int, int] = {}
        model = 1
        for number, ds in sorted(self.dahdi_spans.items()):
            probes = [self.probes[c] for c in ds.channels if self.probes[c].signalling]
            kind_text = ds.spantype.upper()
            if kind_text in ("E1", "T1", "J1") or (ds.lineconfig and kind_text not in (
                    "FXO", "FXS", "ANALO", "ANALOG")):
                kind = SpanKind.E1 if kind_text == "E1" else SpanKind.T1
                links = (ChannelSignalling.DCHAN, ChannelSignalling.MTP2)
                dchan = next((p.number for p in probes if p.signalling in links), None)
                bearer = tuple(p.number for p in probes if p.signalling not in links)
                sig = SpanSignalling.CAS if any(
                    p.signalling is ChannelSignalling.CAS for p in probes) \
                    else SpanSignalling.SS7 if any(
                        p.signalling is ChannelSignalling.MTP2 for p in probes) \
                    else SpanSignalling.PRI
                sig, protocol, sig_options = span_protocol(self.config, number, sig)
                lc = ds.lineconfig
                # lineconfig 0: the span was never configured (no framing to report).
                framing = "" if not lc else ("ccs" if lc & lib.DAHDI_CONFIG_CCS else "esf" if lc &
                           lib.DAHDI_CONFIG_ESF else "d4" if lc & lib.DAHDI_CONFIG_D4 else
                           "cas" if kind is SpanKind.E1 else "")
                coding = "" if not lc else ("hdb3" if lc & lib.DAHDI_CONFIG_HDB3 else "b8zs" if lc &
                          lib.DAHDI_CONFIG_B8ZS else "ami" if lc & lib.DAHDI_CONFIG_AMI else "")
                crc4 = bool(lc & lib.DAHDI_CONFIG_CRC4)
                law = probes[0].law if probes else ("alaw" if kind is SpanKind.E1 else "ulaw")
                described = f"{ds.description} (DAHDI span {number}" + \
                    (f", {protocol})" if protocol else ")")
                spans.append(SpanInfo(model, kind, sig, bearer, dchan, framing, coding, crc4,
                                      law, described, protocol, sig_options))
                mapping[model] = number
                for p in probes:
                    channels.append(ChannelInfo(p.number, model, p.signalling, p.law, p.pos))
                model += 1
                continue
            groups: dict[SpanKind, list[ChannelProbe]] = {}
            for p in probes:
                assert p.signalling is not None
                kind = SpanKind.FXO if p.signalling.value.startswith("fxo") else SpanKind.FXS
                groups.setdefault(kind, []).append(p)
            for kind in (SpanKind.FXO, SpanKind.FXS):
                if kind not in groups:
                    continue
                members = groups[kind]
                spans.append(SpanInfo(
                    model, kind, SpanSignalling.ANALOG, tuple(p.number for p in members),
                    None, law=members[0].law,
                    description=f"{len(members)} {kind.upper()} ports of {ds.description} "
                                f"(DAHDI span {number})"))
                mapping[model] = number
                for p in members:
                    channels.append(ChannelInfo(p.number, model, p.signalling,  # type: ignore
                                                p.law, p.pos))
                model += 1
        return spans, channels, mapping

    # -- extras for the commissioning tools ----------------------------------------
    def dahdi_span(self, span: int) -> int:
        """The DAHDI span number behind model span ``span``."""
        self.span(span)
        return self._model_to_dahdi[span]

    def hardware(self) -> list[dict[str, Any]]:
        """Each DAHDI span's board facts (SPANSTAT), for `trunkline scan`."""
        out = []
        for number, ds in sorted(self.dahdi_spans.items()):
            unsupported = {c: self.probes[c].reason for c in ds.channels
                           if self.probes[c].signalling is None}
            out.append({"span": number, "name": ds.name, "description": ds.description,
                        "type": ds.spantype, "manufacturer": ds.manufacturer,
                        "devicetype": ds.devicetype, "location": ds.location, "irq": ds.irq,
                        "lbo": ds.lbo, "channels": ds.totalchans, "configured": ds.numchans,
                        "unusable": unsupported,
                        "model_spans": [m for m, d in self._model_to_dahdi.items()
                                        if d == number]})
        return out

    def unconfigured_ports(self) -> dict[int, str]:
        """Analog channels the kernel has but nobody configured (sigtype 0), by the
        module fitted as its sigcap says (an FXO module offers the FXS signallings,
        wctdm24xxp's sigcap), for ``config generate`` on a fresh install:
        ``{channel: "fxo" | "fxs"}``."""
        lib = self.lib
        fxo_caps = lib.DAHDI_SIG_FXSKS | lib.DAHDI_SIG_FXSLS
        fxs_caps = lib.DAHDI_SIG_FXOKS | lib.DAHDI_SIG_FXOLS
        out = {}
        for number, probe in sorted(self.probes.items()):
            if probe.sigtype:
                continue
            if probe.sigcap & fxo_caps == fxo_caps:
                out[number] = "fxo"
            elif probe.sigcap & fxs_caps == fxs_caps:
                out[number] = "fxs"
        return out

    # -- the simulated network behind dahdi:sim's analog ports (tests, hil suite) ------
    @property
    def exchange_lines(self) -> bool:
        """True when the analog ports have the emulated network behind them (a
        simulated kernel with ``far_end = "exchange"``): tests may then tell its lines
        and phones what to do (:meth:`line`, :meth:`phone`)."""
        return getattr(self.device, "exchange", None) is not None

    @property
    def number_plan(self) -> Any:
        """The plan of the emulated network behind a simulated board's analog ports;
        None on a real board (or a simulated one with nothing behind its ports)."""
        exchange = getattr(self.device, "exchange", None)
        return exchange.plan if exchange is not None else None

    def network_behind(self, span: int) -> bool:
        """True when the simulated network answers on model span ``span`` (an analog
        span or an E1 PRI span with ``far_end = "exchange"``)."""
        exchange = getattr(self.device, "exchange", None)
        if exchange is None:
            return False
        info = self.span(span)
        return any(c in exchange.rows for c in info.channels)

    def network_side(self, span: int) -> Any:
        """The simulated exchange behind PRI span ``span`` (libpri in network mode), for
        tests: ``network_side(span).exchange.originate(called, calling)`` calls us."""
        exchange = getattr(self.device, "exchange", None)
        side = exchange.pri.get(self.dahdi_span(span)) if exchange is not None else None
        if side is None:
            raise ChannelError(f"span {span} has no simulated exchange behind it")
        return side

    def _exchange_port(self, channel: int) -> Any:
        exchange = getattr(self.device, "exchange", None)
        if exchange is None or channel not in exchange.rows:
            raise ChannelStateError(f"channel {channel} has no simulated line behind it")
        return exchange.port(channel)

    def line(self, channel: int) -> Any:
        """The simulated exchange line on FXO port ``channel`` (ring_in, faults...)."""
        return self._exchange_port(channel)

    def phone(self, channel: int) -> Any:
        """The simulated telephone on FXS port ``channel`` (lift, hang up, heard...)."""
        return self._exchange_port(channel)

    def version(self) -> tuple[str, str]:
        """DAHDI's version and its echo cancellers (DAHDI_GETVERSION)."""
        info = self.binding.new("struct dahdi_versioninfo *")
        self.device.ioctl(self._ctl, self.lib.DAHDI_GETVERSION, info)
        return self.binding.string(info.version), self.binding.string(info.echo_canceller)

    def alarm_detail(self, span: int) -> list[str]:
        """The verbose alarm bits of a span: LOS, LFA, LMFA (user.h upper byte)."""
        alarms = self._spanstat(self.dahdi_span(span)).alarms
        lib = self.lib
        return [name for bit, name in ((lib.DAHDI_ALARM_LOS, "LOS"), (lib.DAHDI_ALARM_LFA,
                "LFA"), (lib.DAHDI_ALARM_LMFA, "LMFA")) if alarms & bit]

    def has_timer(self) -> bool:
        return self.device.exists(TIMER)

    def ioctl_ctl(self, request: str, arg: Any) -> None:
        """One ioctl on /dev/dahdi/ctl by name (for `trunkline config apply`)."""
        self._check_open()
        self.device.ioctl(self._ctl, getattr(self.lib, request), arg)

    # -- tone zones -----------------------------------------------------------------
    def _default_zone(self) -> tonezone.Zone | None:
        """The kernel's default tone zone: DAHDI_SETTONEZONE -1 (the default,
        dahdi-base.c set_tone_zone; ENODATA when none is loaded) then DAHDI_GETTONEZONE
        on one free analog channel. (GETTONEZONE alone reports 0 both for "none" and for
        zone 0, us.)"""
        analog = [p.number for p in self.probes.values()
                  if p.signalling and p.signalling.value.startswith(("fxo", "fxs"))]
        for number in analog:
            fd = self.device.open(CHANNEL)
            try:
                self.device.ioctl(fd, self.lib.DAHDI_SPECIFY, self.binding.int_arg(number))
                self.device.ioctl(fd, self.lib.DAHDI_SETTONEZONE, self.binding.int_arg(-1))
                zone = self.binding.int_arg()
                self.device.ioctl(fd, self.lib.DAHDI_GETTONEZONE, zone)
                return tonezone.find_by_number(int(zone[0]))
            except DahdiOperationError as err:
                if err.errno != errno.EBUSY:
                    return None  # ENODATA: no zone loaded
                # EBUSY: another program (the gateway) holds it: ask the next one.
            finally:
                self.device.close(fd)
        return None

    def _set_zone(self, fd: int, channel: int) -> None:
        """Give an analog channel its tone zone, loading it when the kernel lacks it: as
        libtonezone's tone_zone_set_zone does for chan_dahdi (DAHDI_SETTONEZONE; on
        ENODATA tone_zone_register, then DAHDI_SETTONEZONE again). Without a zone
        dahdi-base.c refuses DAHDI_DIAL and DAHDI_HOOK RING/START with ENODATA."""
        country = self._tone_zone or DEFAULT_ZONE
        zone = tonezone.find(country)
        if zone is None:
            raise ConfigError(f"tone zone {country!r} is not one libtonezone knows")
        number = self.binding.int_arg(zone.number)
        try:
            self.device.ioctl(fd, self.lib.DAHDI_SETTONEZONE, number)
        except DahdiOperationError as err:
            if err.errno != errno.ENODATA:
                raise
            self.device.register_zone(fd, country)
            self.device.ioctl(fd, self.lib.DAHDI_SETTONEZONE, number)
            self.stats["zones_loaded"] += 1
        self._tone_zone = country

    def load_zones(self, countries: list[str], default: str = "") -> list[str]:
        """Load tone zones into the kernel as dahdi_cfg's loadzone=/defaultzone= do
        (libtonezone's tone_zone_register, DAHDI_DEFAULTZONE), for ``config apply``;
        zones already loaded are left alone. Returns the zones loaded now."""
        self._check_open()
        loaded = []
        for country in countries:
            zone = tonezone.find(country)
            if zone is None:
                raise ConfigError(f"tone zone {country!r} is not one libtonezone knows")
            try:
                self.device.register_zone(self._ctl, country)
                loaded.append(country)
            except DahdiOperationError as err:
                if err.errno != errno.EINVAL:  # EINVAL: that zone number is loaded
                    raise
        if default:
            zone = tonezone.find(default)
            if zone is None:
                raise ConfigError(f"tone zone {default!r} is not one libtonezone knows")
            self.device.ioctl(self._ctl, self.lib.DAHDI_DEFAULTZONE,
                              self.binding.int_arg(zone.number))
            self._tone_zone = default
        self.kernel_zone = self._default_zone()
        return loaded

    # -- media ----------------------------------------------------------------------
    def _open_internal(self, channel: int) -> None:
        lib = self.lib
        info = self.channels[channel]
        if info.signalling is ChannelSignalling.MTP2:
            raise ChannelStateError(f"channel {channel} is the SS7 signalling link of span "
                                    f"{info.span}: use dchannel()")
        fd = self.device.open(CHANNEL)
        try:
            self.device.ioctl(fd, lib.DAHDI_SPECIFY, self.binding.int_arg(channel))
            self.device.ioctl(fd, lib.DAHDI_SET_BLOCKSIZE, self.binding.int_arg(FRAME_SAMPLES))
            buf = self.binding.new("struct dahdi_bufferinfo *")
            buf.txbufpolicy = buf.rxbufpolicy = lib.DAHDI_POLICY_IMMEDIATE
            buf.numbufs = 4
            buf.bufsize = FRAME_SAMPLES
            self.device.ioctl(fd, lib.DAHDI_SET_BUFINFO, buf)
            law = lib.DAHDI_LAW_MULAW if info.law == "ulaw" else lib.DAHDI_LAW_ALAW
            self.device.ioctl(fd, lib.DAHDI_SETLAW, self.binding.int_arg(law))
            if info.signalling.value.startswith(("fxo", "fxs")):
                self._set_zone(fd, channel)
            # Without DAHDI_FLAGBIT_BUFEVENTS the kernel never reports overruns and
            # underruns (dahdi-base.c __putbuf_chunk, __dahdi_getbuf_chunk).
            self.device.ioctl(fd, lib.DAHDI_BUFFER_EVENTS, self.binding.int_arg(1))
            settings = self.port_settings.get(channel)
            gains = settings is not None and settings.has_gain
            if info.signalling is ChannelSignalling.BCHAN and (gains or self.echocancel):
                # A clear channel has no DAHDI_FLAG_AUDIO (dahdi_ioctl_chanconfig,
                # initialize_channel), and DAHDI_ECHOCANCEL_PARAMS and DAHDI_SETGAINS are
                # EINVAL without it: audio mode first, as chan_dahdi's dahdi_enable_ec
                # does on PRI/SS7 B-channels.
                self.device.ioctl(fd, lib.DAHDI_AUDIOMODE, self.binding.int_arg(1))
            if gains:
                assert settings is not None
                self._set_gains(fd, settings.rxgain, settings.txgain, info.law)
            if self.echocancel and info.signalling is not ChannelSignalling.CAS:
                try:
                    params = self.binding.echocan_params(self.echocancel)
                    self.device.ioctl(fd, lib.DAHDI_ECHOCANCEL_PARAMS, params)
                except DahdiOperationError as err:
                    # No echo canceller attached to this channel: run without one.
                    if err.errno not in (errno.EINVAL, errno.ENODEV, errno.ENOTTY):
                        raise
                    self.stats["ec_refused"] += 1
        except DahdiOperationError as err:
            self.device.close(fd)
            raise BackendError(f"cannot open channel {channel} (span {info.span}): "
                               f"{err}") from err
        self._fds[channel] = fd

    def _set_gains(self, fd: int, rxgain: float, txgain: float, law: str) -> None:
        """DAHDI_SETGAINS with chan_dahdi's tables (set_actual_gain: both tables at
        once, ``chan`` 0 meaning this fd's channel)."""
        gains = self.binding.new("struct dahdi_gains *")
        gains.chan = 0
        self.binding.ffi.memmove(gains.rxgain, gain_table(rxgain, law), 256)
        self.binding.ffi.memmove(gains.txgain, gain_table(txgain, law), 256)
        self.device.ioctl(fd, self.lib.DAHDI_SETGAINS, gains)

    def _close_internal(self, channel: int) -> None:
        fd = self._fds.pop(channel, None)
        if fd is None:
            return
        info = self.channels[channel]
        try:
            if info.signalling.value.startswith(("fxo", "fxs")):
                self.device.ioctl(fd, self.lib.DAHDI_HOOK,
                                  self.binding.int_arg(self.lib.DAHDI_ONHOOK))
        except DahdiOperationError:
            pass  # closing hangs the channel up anyway
        finally:
            self._ringing.discard(channel)
            self._offhook.discard(channel)
            self._dialing.pop(channel, None)
            self._polarity.pop(channel, None)
            self._polarity_since.pop(channel, None)
            self._ring_seen.pop(channel, None)
            self._written.discard(channel)
            self.device.close(fd)

    def _read_internal(self) -> np.ndarray:
        if not self._open:
            self._pace()
            self._frame += 1
            return np.zeros((0, FRAME_SAMPLES), dtype=np.uint8)
        if self._timer is not None:
            # The channels pace the card now. A timer left open would go on expiring,
            # and once they closed, _pace would return at once for every tick missed
            # meanwhile; it is configured afresh when next needed.
            self.device.close(self._timer)
            self._timer = None
        out = np.empty((len(self._open), FRAME_SAMPLES), dtype=np.uint8)
        fd_row = {self._fds[n]: r for r, n in enumerate(self._open)}
        fd_chan = {self._fds[n]: n for n in self._open}
        # Channels of a board that stalled or went away are not waited for: each span
        # is out of service on its own, and the others keep their timing.
        out_of_service = {fd for fd, ch in fd_chan.items() if self._span_of(ch) in
                          self._stalled | self._removed}
        for fd in out_of_service:
            out[fd_row[fd]] = self._idle_code(fd_chan[fd])
        pending = set(fd_row) - out_of_service
        delivered = False
        while pending:
            ready = self.device.poll({fd: POLLIN | POLLPRI for fd in pending},
                                     self.read_timeout)
            if not ready:
                if not delivered and not out_of_service:
                    waiting = sorted(fd_chan[fd] for fd in pending)
                    raise BackendError(
                        f"no audio from channel(s) {waiting} for {self.read_timeout:g} s: "
                        "the board delivers no frames. Likely cause: no timing source (no "
                        "span in sync and no dahdi_dummy/timer), or the board stopped (IRQ "
                        "lost); check `trunkline scan` and `trunkline test timing`")
                # Some boards deliver and these do not: theirs alone stalled.
                for fd in pending:
                    self._take_out(self._span_of(fd_chan[fd]), self._stalled)
                    out[fd_row[fd]] = self._idle_code(fd_chan[fd])
                pending.clear()
                break
            for fd, revents in ready.items():
                channel = fd_chan[fd]
                if revents & POLLPRI:
                    self._drain_events(channel, fd)
                if not revents & POLLIN or fd not in pending:
                    continue
                data = self._read_block(channel, fd)
                if data is None:
                    if self._span_of(channel) in self._removed:
                        out[fd_row[fd]] = self._idle_code(channel)
                        pending.discard(fd)
                    continue
                out[fd_row[fd]] = np.frombuffer(data, dtype=np.uint8)
                pending.discard(fd)
                delivered = True
        if out_of_service:
            self._check_stalled(out_of_service, fd_chan, fd_row, out)
            if not delivered:
                self._pace()  # no channel paced this tick: the timer does
        self._frame += 1
        return out

    def _span_of(self, channel: int) -> int:
        return self._model_to_dahdi[self.channels[channel].span]

    def _idle_code(self, channel: int) -> int:
        """Silence in the channel's law (what a span out of service gives)."""
        return 0xFF if self.channels[channel].law == "ulaw" else 0xD5

    def _take_out(self, dahdi_span: int, reason: set[int]) -> None:
        """A board stalled (no blocks for read_timeout while others deliver) or went
        away (ENODEV, dahdi-base.c's nodev file operations): its span is out of service
        with a RED alarm; nothing else stops."""
        if dahdi_span in self._stalled | self._removed:
            return
        reason.add(dahdi_span)
        self.stats["spans_out_of_service"] += 1
        for model, d in self._model_to_dahdi.items():
            if d == dahdi_span:
                self._events.append(CardEvent(self.now, EventKind.ALARM, 0, model,
                                              int(Alarm.RED)))

    def _check_stalled(self, fds: set[int], fd_chan: dict[int, int],
                       fd_row: dict[int, int], out: np.ndarray) -> None:
        """A stalled span whose channel delivers again is back in service."""
        for fd in fds:
            channel = fd_chan[fd]
            ds = self._span_of(channel)
            if ds not in self._stalled:
                continue
            if not self.device.poll({fd: POLLIN}, 0).get(fd, 0) & POLLIN:
                continue
            data = self._read_block(channel, fd)
            if data is None:
                continue
            self._stalled.discard(ds)
            out[fd_row[fd]] = np.frombuffer(data, dtype=np.uint8)
            for model, d in self._model_to_dahdi.items():
                if d == ds:
                    self._events.append(CardEvent(self.now, EventKind.NOALARM, 0, model, 0))

    def _read_block(self, channel: int, fd: int) -> bytes | None:
        try:
            data = self.device.read(fd, FRAME_SAMPLES)
        except DahdiOperationError as err:
            if err.errno == self.lib.ELAST:
                self._drain_events(channel, fd)
                return None
            if err.errno == errno.EAGAIN:
                return None
            if err.errno == errno.ENODEV:
                self._take_out(self._span_of(channel), self._removed)
                return None
            raise BackendError(f"cannot read channel {channel}: {err}") from err
        if len(data) != FRAME_SAMPLES:
            raise BackendError(f"channel {channel} gave a block of {len(data)} bytes, not "
                               f"{FRAME_SAMPLES}: another program changed its block size?")
        return data

    def _pace(self) -> None:
        """Wait one frame with no channel open: /dev/dahdi/timer, or the clock."""
        lib = self.lib
        if self._timer is None and self.device.exists(TIMER):
            self._timer = self.device.open(TIMER)
            self.device.ioctl(self._timer, lib.DAHDI_TIMERCONFIG,
                              self.binding.int_arg(FRAME_SAMPLES))
        if self._timer is None:
            self.clock.sleep_until(self.clock.now() + TICK_SECONDS)
            return
        ready = self.device.poll({self._timer: POLLPRI}, self.read_timeout)
        if not ready:
            raise BackendError(f"/dev/dahdi/timer gave no tick in {self.read_timeout:g} s: "
                               "DAHDI has no timing source")
        self.device.ioctl(self._timer, lib.DAHDI_TIMERACK, self.binding.int_arg(1))

    def _write_internal(self, codes: np.ndarray) -> None:
        for row, channel in enumerate(self._open):
            if channel in self._dialing:
                # dahdi-base.c dahdi_chan_write cancels a dial string in progress (it
                # clears curtone, dialing and txdialbuf); chan_dahdi's dahdi_write drops
                # its frames while p->dialing for that reason. We do the same.
                self.stats["tx_held_dialing"] += 1
                continue
            fd = self._fds[channel]
            data = codes[row].tobytes()
            for _ in range(2):
                try:
                    self.device.write(fd, data)
                    self._written.add(channel)
                    break
                except DahdiOperationError as err:
                    if err.errno == self.lib.ELAST:
                        self._drain_events(channel, fd)
                        continue
                    if err.errno == errno.EAGAIN:
                        # Every buffer is full: the board is slower than we are.
                        self.stats["tx_dropped"] += 1
                        break
                    raise BackendError(f"cannot write channel {channel}: {err}") from err

    # -- signalling -----------------------------------------------------------------
    def _fd_of(self, channel: int) -> int:
        if channel not in self._fds:
            raise ChannelStateError(f"channel {channel} is not open: open() it first")
        return self._fds[channel]

    def _hook_internal(self, channel: int, op: HookOp) -> None:
        lib = self.lib
        fd = self._fd_of(channel)
        sig = self.channels[channel].signalling.value
        if sig.startswith("fxo"):
            table = {HookOp.OFFHOOK: lib.DAHDI_OFFHOOK, HookOp.ONHOOK: lib.DAHDI_ONHOOK,
                     HookOp.FLASH: lib.DAHDI_FLASH}
            if op not in table:
                raise ChannelStateError(f"cannot {op} channel {channel}: it is an FXO port "
                                        "(ringing is an FXS operation)")
        elif sig.startswith("fxs"):
            table = {HookOp.RING: lib.DAHDI_RING, HookOp.RINGOFF: lib.DAHDI_RINGOFF,
                     HookOp.ONHOOK: lib.DAHDI_ONHOOK, HookOp.OFFHOOK: lib.DAHDI_OFFHOOK,
                     HookOp.WINK: lib.DAHDI_WINK}
            if op not in table:
                raise ChannelStateError(f"cannot {op} channel {channel}: it is an FXS port")
        else:
            raise ChannelStateError(f"cannot {op} channel {channel}: it is a digital channel "
                                    "(hook operations are for analog ports)")
        try:
            self.device.ioctl(fd, lib.DAHDI_HOOK, self.binding.int_arg(table[op]))
        except DahdiOperationError as err:
            # dahdi-base.c dahdi_chan_ioctl DAHDI_HOOK: RING, START, WINK and FLASH on
            # an O_NONBLOCK fd return EINPROGRESS once started (a blocking fd would wait
            # for them): started is success, as chan_dahdi's dahdi_ring_phone and
            # sig_analog treat it.
            if err.errno != errno.EINPROGRESS:
                raise BackendError(f"cannot {op} channel {channel}: {err}") from err
        # dahdi-base.c dahdi_chan_ioctl DAHDI_HOOK: "if dialing, stop it" (any hook op).
        self._dialing.pop(channel, None)
        self._ring_seen.pop(channel, None)  # answered or refused: no longer ringing in
        if sig.startswith("fxo") and op in (HookOp.OFFHOOK, HookOp.ONHOOK):
            # A seized or released line starts idle (POLARITY_IDLE); sig_analog sets
            # polaritydelaytv when it goes off hook to call.
            self._polarity[channel] = 0
            self._polarity_since[channel] = self.now
        if sig.startswith("fxo"):
            if op is HookOp.OFFHOOK:
                self._offhook.add(channel)
                self._ringing.discard(channel)
            elif op is HookOp.ONHOOK:
                self._offhook.discard(channel)
        if op is HookOp.RING:
            self._ringing.add(channel)
        elif op in (HookOp.RINGOFF, HookOp.ONHOOK, HookOp.OFFHOOK):
            self._ringing.discard(channel)

    def _dial_internal(self, channel: int, digits: str, mode: DialMode) -> None:
        lib = self.lib
        fd = self._fd_of(channel)
        if not self.channels[channel].signalling.value.startswith("fxo"):
            raise ChannelStateError(f"cannot dial on channel {channel}: not an FXO port")
        if channel not in self._offhook:
            # The kernel would take DAHDI_DIAL on hook, and its pulses seize the line.
            raise ChannelStateError(f"cannot dial on channel {channel}: it is on hook")
        op = self.binding.new("struct dahdi_dialoperation *")
        op.op = lib.DAHDI_DIAL_OP_REPLACE
        # user.h dial strings: 'T' selects DTMF, 'P' pulse.
        op.dialstr = (("T" if mode == "dtmf" else "P") + digits).encode()
        try:
            self.device.ioctl(fd, lib.DAHDI_DIAL, op)
        except DahdiOperationError as err:
            raise BackendError(f"cannot dial on channel {channel}: {err}") from err
        self._dialing[channel] = self.now + 2 * DIAL_DIGIT_SECONDS[mode] * len(digits) \
            + DIAL_TIMEOUT_MARGIN

    def _dial_timeouts(self) -> None:
        """Cancel dial strings that never completed (a board that lost its timer, a
        DIALCOMPLETE lost): the channel may carry audio again, and the caller hears of it
        as a DIAL_COMPLETE whose value is :data:`DIAL_TIMED_OUT`."""
        for channel, deadline in list(self._dialing.items()):
            if self.now < deadline:
                continue
            del self._dialing[channel]
            self.stats["dial_timeouts"] += 1
            op = self.binding.new("struct dahdi_dialoperation *")
            op.op = self.lib.DAHDI_DIAL_OP_CANCEL
            # (If this fails the string is gone anyway: our next write clears it.)
            with contextlib.suppress(DahdiOperationError):
                self.device.ioctl(self._fds[channel], self.lib.DAHDI_DIAL, op)
            self._events.append(CardEvent(self.now, EventKind.DIAL_COMPLETE, channel,
                                          self.channels[channel].span, DIAL_TIMED_OUT))

    def set_polarity(self, channel: int, reverse: bool) -> None:
        """Reverse battery on an FXS port (DAHDI_SETPOLARITY), e.g. to signal answer."""
        self._check_open()
        self.channel(channel)
        if not self.channels[channel].signalling.value.startswith("fxs"):
            raise ChannelStateError(f"cannot set polarity on channel {channel}: only an FXS "
                                    "port drives battery")
        self.device.ioctl(self._fd_of(channel), self.lib.DAHDI_SETPOLARITY,
                          self.binding.int_arg(int(reverse)))

    def _set_cas_bits_internal(self, channel: int, bits: int) -> None:
        self.device.ioctl(self._fd_of(channel), self.lib.DAHDI_SETTXBITS,
                          self.binding.int_arg(bits))

    def _cas_bits_internal(self, channel: int) -> int:
        arg = self.binding.int_arg()
        self.device.ioctl(self._fd_of(channel), self.lib.DAHDI_GETRXBITS, arg)
        return int(arg[0]) & 0xF

    # -- events ---------------------------------------------------------------------
    @property
    def now(self) -> float:
        return self._frame * TICK_SECONDS

    def _drain_events(self, channel: int, fd: int) -> None:
        arg = self.binding.int_arg()
        for _ in range(64):  # user.h: DAHDI_MAX_EVENTSIZE, 64 events at most are queued
            self.device.ioctl(fd, self.lib.DAHDI_GETEVENT, arg)
            code = int(arg[0])
            if code == self.lib.DAHDI_EVENT_NONE:
                return
            self._on_event(channel, fd, code)

    def _on_event(self, channel: int, fd: int, code: int) -> None:
        lib = self.lib
        info = self.channels[channel]
        t = self.now
        if code & (lib.DAHDI_EVENT_PULSEDIGIT | lib.DAHDI_EVENT_DTMFDOWN | lib.DAHDI_EVENT_DTMFUP):
            return  # digit events (OR'd with the digit): our DSP detects digits itself
        if code in (lib.DAHDI_EVENT_ALARM, lib.DAHDI_EVENT_NOALARM):
            if info.signalling.value.startswith("fxo") and code == lib.DAHDI_EVENT_ALARM:
                # An analog port's own alarm (wctdm's dahdi_alarm_channel: the FXO line
                # lost its battery). chan_dahdi takes the channel out of use until
                # NOALARM; here channel_state says OUT_OF_SERVICE from the channel's
                # chan_alarms, so no call is placed on it.
                self.stats["battery_alarms"] += 1
            self._check_alarm(self._model_to_dahdi[info.span])
            return
        if code == lib.DAHDI_EVENT_REMOVED:
            ds = self._model_to_dahdi[info.span]
            if ds not in self._removed:
                self._removed.add(ds)
                for model, d in self._model_to_dahdi.items():
                    if d == ds:
                        self._events.append(CardEvent(t, EventKind.ALARM, 0, model,
                                                      int(Alarm.RED)))
            return
        if code == lib.DAHDI_EVENT_RINGOFFHOOK:
            kind = EventKind.RING_BEGIN if info.signalling.value.startswith("fxo") \
                else EventKind.OFFHOOK
            if kind is EventKind.RING_BEGIN:
                self._ring_seen[channel] = t  # the end of a burst (the ring trailer)
            if kind is EventKind.RING_BEGIN and channel in self._ringing:
                return  # RINGBEGIN already reported this ring
            if kind is EventKind.RING_BEGIN:
                self._ringing.add(channel)
            self._events.append(CardEvent(t, kind, channel, info.span))
            return
        if code == lib.DAHDI_EVENT_RINGBEGIN:
            self._ring_seen[channel] = t
            if channel in self._ringing:
                return
            self._ringing.add(channel)
            self._events.append(CardEvent(t, EventKind.RING_BEGIN, channel, info.span))
            return
        if code == lib.DAHDI_EVENT_BITSCHANGED:
            value = self._cas_bits_internal(channel) if info.signalling is \
                ChannelSignalling.CAS else None
            self._events.append(CardEvent(t, EventKind.BITS_CHANGED, channel, info.span,
                                          value))
            return
        simple = {lib.DAHDI_EVENT_ONHOOK: EventKind.ONHOOK,
                  lib.DAHDI_EVENT_WINKFLASH: EventKind.WINKFLASH,
                  lib.DAHDI_EVENT_DIALCOMPLETE: EventKind.DIAL_COMPLETE,
                  lib.DAHDI_EVENT_RINGEROFF: EventKind.RINGER_OFF}
        if code == lib.DAHDI_EVENT_POLARITY:
            self._on_polarity(channel, info.span)
            return
        if code in simple:
            if code == lib.DAHDI_EVENT_DIALCOMPLETE:
                self._dialing.pop(channel, None)
            if code == lib.DAHDI_EVENT_ONHOOK:
                self._ringing.discard(channel)
            self._events.append(CardEvent(t, simple[code], channel, info.span))
            return
        counters = {lib.DAHDI_EVENT_READ_OVERRUN: "read_overruns",
                    lib.DAHDI_EVENT_WRITE_UNDERRUN: "write_underruns",
                    lib.DAHDI_EVENT_EC_DISABLED: "ec_disabled"}
        if code == lib.DAHDI_EVENT_WRITE_UNDERRUN and channel not in self._written:
            return  # the kernel had nothing to send before our first write: not late
        if code in counters:
            self.stats[counters[code]] += 1
            if code == lib.DAHDI_EVENT_READ_OVERRUN:
                # The kernel kept the oldest blocks and dropped what came after them
                # (__putbuf_chunk): the audio read next has a gap.
                self._audio_gaps.add(channel)
            if code != lib.DAHDI_EVENT_EC_DISABLED:
                span = self._buffer_counts.setdefault(self._model_to_dahdi[info.span], {})
                span[counters[code]] = span.get(counters[code], 0) + 1
            return
        if code not in self.binding.event_codes.values():
            self.stats["unmapped_events"] += 1

    def _ring_timeouts(self) -> None:
        """An FXO port whose rings stopped (the caller gave up) leaves RINGING with a
        RING_END, as chan_dahdi's ringt runs out (dahdi_read) and frees the line."""
        for channel, last in list(self._ring_seen.items()):
            if self.now - last < RING_TIMEOUT:
                continue
            del self._ring_seen[channel]
            if channel in self._ringing:
                self._ringing.discard(channel)
                self._events.append(CardEvent(self.now, EventKind.RING_END, channel,
                                              self.channels[channel].span))

    def _on_polarity(self, channel: int, span: int) -> None:
        """A battery reversal, as sig_analog takes it: ignored within
        :data:`POLARITY_DELAY` of our off-hook or of the last reversal taken; otherwise
        the line's polarity flips (idle -> reversed: an answer; back: a far-end clear)
        and the event carries the new polarity (1 reversed, 0 idle)."""
        since = self._polarity_since.get(channel)
        if since is not None and self.now - since <= POLARITY_DELAY:
            self.stats["polarity_ignored"] += 1
            return
        polarity = self._polarity.get(channel, 0) ^ 1
        self._polarity[channel] = polarity
        self._polarity_since[channel] = self.now
        self._events.append(CardEvent(self.now, EventKind.POLARITY, channel, span, polarity))

    def _check_alarm(self, dahdi_span: int) -> None:
        alarms = self._spanstat(dahdi_span).alarms & 0xFF
        if dahdi_span in self._removed | self._stalled:
            return
        if alarms != self._alarms.get(dahdi_span, 0) & 0xFF:
            self._alarms[dahdi_span] = alarms
            kind = EventKind.ALARM if alarms & ~int(Alarm.LOOPBACK) else EventKind.NOALARM
            for model, d in self._model_to_dahdi.items():
                if d == dahdi_span:
                    self._events.append(CardEvent(self.now, kind, 0, model, alarms))

    def _poll_events_internal(self) -> list[CardEvent]:
        for channel in list(self._open):
            fd = self._fds[channel]
            ready = self.device.poll({fd: POLLPRI}, 0)
            if ready.get(fd, 0) & POLLPRI:
                self._drain_events(channel, fd)
        for dchan in self._dchans.values():
            dchan.poll()
        self._dial_timeouts()
        self._ring_timeouts()
        if (self._frame - self._last_alarm_poll >= ALARM_POLL_FRAMES or not self._open
                or self.alarm_check_due):
            self._last_alarm_poll = self._frame
            self.alarm_check_due = False
            for number in self.dahdi_spans:
                self._check_alarm(number)
        events, self._events = self._events, []
        return events

    # -- state ----------------------------------------------------------------------
    def _channel_state_internal(self, channel: int) -> ChannelState:
        lib = self.lib
        info = self.channels[channel]
        ds = self._model_to_dahdi[info.span]
        if ds in self._removed | self._stalled:
            return ChannelState.OUT_OF_SERVICE
        if info.signalling in (ChannelSignalling.DCHAN, ChannelSignalling.MTP2):
            up = self._dchans[info.span].up if info.span in self._dchans else \
                self._span_up(ds)
            return ChannelState.IN_USE if up else ChannelState.OUT_OF_SERVICE
        params = self.binding.new("struct dahdi_params *")
        params.channo = channel
        self.device.ioctl(self._ctl, lib.DAHDI_GET_PARAMS, params)
        if params.chan_alarms & (lib.DAHDI_ALARM_RED | lib.DAHDI_ALARM_BLUE
                                 | lib.DAHDI_ALARM_YELLOW | lib.DAHDI_ALARM_NOTOPEN):
            return ChannelState.OUT_OF_SERVICE
        if channel in self._fds:
            dialing = self.binding.int_arg()
            self.device.ioctl(self._fds[channel], lib.DAHDI_DIALING, dialing)
            if dialing[0]:
                return ChannelState.DIALING
        sig = info.signalling.value
        if channel in self._ringing:
            return ChannelState.RINGING
        if sig.startswith("fxs"):
            return ChannelState.OFFHOOK if params.rxisoffhook else ChannelState.IDLE
        if sig.startswith("fxo"):
            # Our own hook state: GET_PARAMS.txhooksig holds kernel-only (kernel.h) values.
            return ChannelState.OFFHOOK if channel in self._offhook else ChannelState.IDLE
        return ChannelState.IN_USE if channel in self._fds else ChannelState.IDLE

    def _span_up(self, dahdi_span: int) -> bool:
        alarms = self._spanstat(dahdi_span).alarms
        return not alarms & (int(Alarm.RED) | int(Alarm.BLUE) | int(Alarm.YELLOW)
                             | int(Alarm.NOTOPEN))

    def _span_status_internal(self, span: int) -> SpanStatus:
        ds = self._model_to_dahdi[span]
        info = self._spanstat(ds)
        alarms = Alarm(info.alarms & 0x3F)
        if ds in self._removed | self._stalled:
            alarms |= Alarm.RED
        buffers = self._buffer_counts.get(ds, {})
        counters = SpanCounters(bpv=info.bpvcount, crc4=info.crc4count, fas=info.fascount,
                                ebit=info.ebitcount, errsec=info.errsec,
                                irqmisses=info.irqmisses,
                                read_overruns=buffers.get("read_overruns", 0),
                                write_underruns=buffers.get("write_underruns", 0))
        sync = next((m for m, d in self._model_to_dahdi.items() if d == info.syncsrc), 0)
        return SpanStatus(span, alarms, counters, sync, self._maint.get(span, ""))

    # -- D-channel ------------------------------------------------------------------
    def _dchannel_internal(self, span: int) -> HdlcLink:
        if span in self._dchans:
            return self._dchans[span]
        info = self.span(span)
        assert info.dchannel is not None
        lib = self.lib
        fd = self.device.open(CHANNEL)
        try:
            self.device.ioctl(fd, lib.DAHDI_SPECIFY, self.binding.int_arg(info.dchannel))
            buf = self.binding.new("struct dahdi_bufferinfo *")
            # Whole frames, each in one buffer (chan_dahdi gives libpri 32 x 1024 bytes).
            buf.txbufpolicy = buf.rxbufpolicy = lib.DAHDI_POLICY_IMMEDIATE
            buf.numbufs = 32
            buf.bufsize = 1024
            self.device.ioctl(fd, lib.DAHDI_SET_BUFINFO, buf)
        except DahdiOperationError as err:
            self.device.close(fd)
            raise BackendError(f"cannot open the D-channel {info.dchannel} of span {span}: "
                               f"{err}") from err
        link = DahdiDChannel(self, span, info.dchannel, fd,
                             lambda: self._span_up(self._model_to_dahdi[span]))
        self._dchans[span] = link
        return link

    # -- maintenance ----------------------------------------------------------------
    def _maintenance_internal(self, span: int, mode: str) -> None:
        lib = self.lib
        command = {"off": lib.DAHDI_MAINT_NONE, "local": lib.DAHDI_MAINT_LOCALLOOP,
                   "network_line": lib.DAHDI_MAINT_NETWORKLINELOOP,
                   "network_payload": lib.DAHDI_MAINT_NETWORKPAYLOADLOOP}[mode]
        self.maint_command(span, command)
        if mode == "off":
            self._maint.pop(span, None)
        else:
            self._maint[span] = mode

    def maint_command(self, span: int, command: int) -> None:
        """Any DAHDI_MAINT command on a span (loopbacks, error insertion, counter reset)."""
        info = self.binding.new("struct dahdi_maintinfo *")
        info.spanno = self.dahdi_span(span)
        info.command = command
        try:
            self.device.ioctl(self._ctl, self.lib.DAHDI_MAINT, info)
        except DahdiOperationError as err:
            raise BackendError(f"span {span}: the board refused maintenance command "
                               f"{command}: {err}") from err

    # -- lifecycle ------------------------------------------------------------------
    @property
    def name(self) -> str:
        boards = sorted({d.devicetype for d in self.dahdi_spans.values()})
        return "dahdi:" + (", ".join(boards) if boards else "?")

    def _close_internal_card(self) -> None:
        for link in self._dchans.values():
            link.close()
        self._dchans.clear()
        if self._timer is not None:
            self.device.close(self._timer)
            self._timer = None
        self.device.close(self._ctl)


class DahdiDChannel:
    """A PRI D-channel or an SS7 link: a DAHDI channel fd in HDLC-FCS (or MTP2) mode, as
    an HdlcLink.

    Each read returns one frame followed by its two FCS bytes; each write must leave two
    bytes at the end for the FCS the kernel computes (libpri's own I/O does the same).
    The link is ``up`` while the span has no RED/BLUE/YELLOW alarm.
    """

    def __init__(self, card: DahdiCard, span: int, channel: int, fd: int,
                 span_up: Callable[[], bool]) -> None:
        self._card = card
        self.span = span
        self.channel = channel
        self._fd = fd
        self._span_up = span_up
        self._inbox: list[bytes] = []
        self.errors = {"abort": 0, "badfcs": 0, "overrun": 0, "dropped": 0}
        self._closed = False

    @property
    def up(self) -> bool:
        return not self._closed and self._span_up()

    def send(self, frame: bytes) -> None:
        if not isinstance(frame, bytes | bytearray | memoryview):
            raise TypeError(f"an HDLC frame is bytes, not {type(frame).__name__}")
        device = self._card.device
        for _ in range(2):
            try:
                device.write(self._fd, bytes(frame) + b"\0\0")
                return
            except DahdiOperationError as err:
                if err.errno == self._card.lib.ELAST:
                    self._events()
                    continue
                if err.errno == errno.EAGAIN:
                    self.errors["dropped"] += 1
                    return
                raise BackendError(f"D-channel {self.channel} of span {self.span}: "
                                   f"{err}") from err

    def receive(self) -> bytes | None:
        if self._inbox:
            return self._inbox.pop(0)
        device = self._card.device
        for _ in range(4):
            try:
                data = device.read(self._fd, 1024)
            except DahdiOperationError as err:
                if err.errno == self._card.lib.ELAST:
                    self._events()
                    continue
                if err.errno == errno.EAGAIN:
                    return None
                raise BackendError(f"D-channel {self.channel} of span {self.span}: "
                                   f"{err}") from err
            if len(data) <= 2:
                continue
            return data[:-2]
        return None

    def poll(self) -> None:
        ready = self._card.device.poll({self._fd: POLLPRI}, 0)
        if ready.get(self._fd, 0) & POLLPRI:
            self._events()

    def _events(self) -> None:
        lib = self._card.lib
        arg = self._card.binding.int_arg()
        for _ in range(64):
            self._card.device.ioctl(self._fd, lib.DAHDI_GETEVENT, arg)
            code = int(arg[0])
            if code == lib.DAHDI_EVENT_NONE:
                return
            key = {lib.DAHDI_EVENT_ABORT: "abort", lib.DAHDI_EVENT_BADFCS: "badfcs",
                   lib.DAHDI_EVENT_OVERRUN: "overrun"}.get(code)
            if key:
                self.errors[key] += 1
            elif code in (lib.DAHDI_EVENT_ALARM, lib.DAHDI_EVENT_NOALARM):
                # Read again on the tick's next event poll, not here: this may run in the
                # D-channel keeper's thread, and the card's alarm state is the tick's.
                self._card.alarm_check_due = True

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._card.device.close(self._fd)
