"""A simulated DAHDI kernel at the ioctl boundary, in the spirit of pyvisa-sim.

:class:`SimulatedKernel` takes the place of
:class:`~trunkline.drivers.backends.dahdi.device.OsDevice`:
the DAHDI backend runs its own code (the same ioctls on the same cffi structs, compiled
against ``dahdi/user.h``) and the simulation answers as the header documents. A system
(boards, spans, channels, the lines behind them, faults) is described by a versioned
TOML file, ``spec = "1.0"`` (its schema: :mod:`~.simsystem`).

This module holds the kernel's state (spans, channels, descriptors), the Device calls
(open, close, poll), the ioctl dispatch (dahdi-base.c ``dahdi_ioctl``: one
``_ioctl_<name>`` handler per request, ENOTTY for the rest, wctdm24xxp's own ioctls to
simwctdm.py), DAHDI_SPECIFY (``dahdi_specchan_open``), CHANCONFIG, GET_PARAMS,
GETEVENT, the timer and the scheduled faults. The rest is one module per job, each a
mixin of :class:`SimulatedKernel` that names the dahdi-base.c functions it follows:
:mod:`~.simsystem` (the description), :mod:`~.simstate` (span, channel, descriptor),
:mod:`~.simspans` (line alarms, MAINT, SPANSTAT, CAS bits, span faults),
:mod:`~.simanalog` (hook, ringing, cadence, battery, polarity, DIAL),
:mod:`~.simaudio` (read, write, block timing, law, gains), :mod:`~.simtonezones`
(tone zones), :mod:`~.simhdlc` (D-channels, MTP2, :class:`~.simhdlc.DChannelPeer`).
What stands behind the spans is apart too: crossover cables in ``simcross.py``, the
emulated network in ``simexchange.py``, the interposer's server in ``simserver.py``.

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
"""

from __future__ import annotations

import errno
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

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
from trunkline.drivers.backends.dahdi.simanalog import BATT_ALARM as BATT_ALARM
from trunkline.drivers.backends.dahdi.simanalog import BATT_DEBOUNCE as BATT_DEBOUNCE
from trunkline.drivers.backends.dahdi.simanalog import RING_TRAILER as RING_TRAILER
from trunkline.drivers.backends.dahdi.simanalog import AnalogPorts
from trunkline.drivers.backends.dahdi.simaudio import IDENTITY_GAIN as IDENTITY_GAIN
from trunkline.drivers.backends.dahdi.simaudio import AudioBuffers
from trunkline.drivers.backends.dahdi.simcross import Crossover
from trunkline.drivers.backends.dahdi.simexchange import SimExchange
from trunkline.drivers.backends.dahdi.simhdlc import DChannelPeer as DChannelPeer
from trunkline.drivers.backends.dahdi.simhdlc import HdlcChannels
from trunkline.drivers.backends.dahdi.simhdlc import fcs16 as fcs16
from trunkline.drivers.backends.dahdi.simspans import SpanLines
from trunkline.drivers.backends.dahdi.simstate import RATE as RATE
from trunkline.drivers.backends.dahdi.simstate import _Chan as _Chan
from trunkline.drivers.backends.dahdi.simstate import _Fd, _samples
from trunkline.drivers.backends.dahdi.simstate import _Line as _Line
from trunkline.drivers.backends.dahdi.simstate import _Span as _Span
from trunkline.drivers.backends.dahdi.simsystem import DEFAULT_SYSTEM as DEFAULT_SYSTEM
from trunkline.drivers.backends.dahdi.simsystem import FAULT_KINDS as FAULT_KINDS
from trunkline.drivers.backends.dahdi.simsystem import SPEC as SPEC
from trunkline.drivers.backends.dahdi.simsystem import SystemDescription
from trunkline.drivers.backends.dahdi.simtonezones import ToneZones
from trunkline.errors import ConfigError


class SimulatedKernel(SystemDescription, SpanLines, AnalogPorts, AudioBuffers, ToneZones,
                      HdlcChannels):
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

    # -- the boards, and the far end for tests ------------------------------------
    @property
    def wctdm(self) -> Any:
        """The analog board's WCTDM ioctls and FXO hybrid (simwctdm.py), built on first
        use (it compiles dahdi/wctdm_user.h)."""
        if self._wctdm is None:
            from trunkline.drivers.backends.dahdi.simwctdm import SimWctdm

            self._wctdm = SimWctdm(self, self.balances)
        return self._wctdm

    def is_open(self, chan: int) -> bool:
        return self._is_open(chan)

    @property
    def modules_fitted(self) -> bool:
        """Whether an analog board (wctdm) is in the system."""
        return any(ch.module for ch in self.chans.values())

    def sample_now(self) -> int:
        """The kernel's time in whole samples."""
        return _samples(self.now())

    def _is_open(self, chan: int) -> bool:
        return any(f.chan == chan for f in self._fds.values())

    def audio_flag(self, sigtype: int) -> bool:
        """DAHDI_FLAG_AUDIO as dahdi_ioctl_chanconfig sets it: off on clear channels
        (sigtype & DAHDI_SIG_CLEAR: B-channels, HDLC, MTP2), on for the others."""
        clear = self.lib.DAHDI_SIG_CLEAR
        return bool(sigtype) and (sigtype & clear) != clear

    def line_event(self, channel: int, event: str) -> None:
        """Queue any DAHDI_EVENT_* by name (e.g. "POLARITY") on a channel."""
        self.chans[channel].events.append(getattr(self.lib, f"DAHDI_EVENT_{event}"))

    # -- time -------------------------------------------------------------------
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

    # -- Device -----------------------------------------------------------------
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

    # -- ioctl ------------------------------------------------------------------
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
