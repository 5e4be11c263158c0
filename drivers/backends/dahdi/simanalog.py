"""The simulated kernel's analog ports: hook, ringing, cadence, battery, polarity, dialling.

Why apart: the FXO and FXS ports' own state machines (the kernel's RBS hook state, the
FXS ringer's cadence, the FXO battery as wctdm24xxp sees it, DIAL's tones and pulses)
are one job, apart from the buffers every channel has. From dahdi-base.c:
``dahdi_chan_ioctl`` DAHDI_HOOK (``dahdi_rbs_sethook``), ``__dahdi_hooksig_pvt`` and the
ring trailer in ``__dahdi_receive_chunk`` (RINGBEGIN, RINGOFFHOOK), ``__rbs_otimer_expire``
(RINGERON/RINGEROFF), DAHDI_SETCADENCE and ``set_tone_zone``'s cadence copy,
``ioctl_dahdi_dial`` and DAHDI_DIALING; from wctdm24xxp: ``wctdm_check_battery_lost``/
``present`` (``dahdi_alarm_channel``) and battery reversal (DAHDI_EVENT_POLARITY).
"""

# The methods take ``self: SimulatedKernel`` (the class they are mixed into), so mypy checks
# each body against the whole kernel; mypy calls such a self type "not a supertype of its
# class" (code misc), which is expected of a mixin and is switched off here only.
# mypy: disable-error-code="misc"

from __future__ import annotations

import errno
from typing import TYPE_CHECKING, Any

import numpy as np

from trunkline.drivers.backends.dahdi.device import DahdiOperationError
from trunkline.drivers.backends.dahdi.simstate import _Chan, _Fd, _samples
from trunkline.drivers.dsp import g711
from trunkline.drivers.dsp.tones import dtmf

if TYPE_CHECKING:
    from trunkline.drivers.backends.dahdi.simkernel import SimulatedKernel

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


class AnalogPorts:
    """The analog ports' line behaviour (a mixin of
    :class:`~.simkernel.SimulatedKernel`)."""

    def ring(self: SimulatedKernel, channel: int, on: bool = True) -> None:
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

    def ring_cadence(self: SimulatedKernel, channel: int, bursts: int, on: float = 1.0,
                     off: float = 4.0) -> None:
        """The exchange rings an FXO port ``bursts`` times with this cadence (seconds;
        cn: 1 s on, 4 s off), starting now, then stops: an unanswered call."""
        t = self.now()
        for i in range(bursts):
            start = t + i * (on + off)
            self._ring_plan.append((start, channel, True))
            self._ring_plan.append((start + on, channel, False))

    def line_audio(self: SimulatedKernel, channel: int, samples: np.ndarray,
                   at: float | None = None) -> None:
        """The exchange sends ``samples`` (linear, 8 kHz) on the line of an FXO port from
        ``at`` (kernel time; default now): caller ID between rings, say. The port
        hears it on hook too, as a real FXO module passes on-hook audio for caller ID."""
        ch = self.chans[channel]
        if ch.module != "fxo":
            raise ValueError(f"channel {channel} is not an FXO port")
        start = _samples(self.now() if at is None else at)
        ch.line_audio.append((start, np.asarray(samples, dtype=np.float64)))

    def _mix_line_audio(self: SimulatedKernel, ch: _Chan, f: _Fd, block: np.ndarray) -> np.ndarray:
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

    def set_battery(self: SimulatedKernel, channel: int, present: bool) -> None:
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

    def _battery_step(self: SimulatedKernel, channel: int, step: str) -> None:
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

    def phone_hook(self: SimulatedKernel, channel: int, offhook: bool) -> None:
        """The phone on an FXS port goes off or on hook."""
        ch = self.chans[channel]
        ch.offhook = offhook
        ch.ringing = False
        self._stop_ringer(ch)  # __dahdi_hooksig_pvt: off hook while ringing trips it
        ch.events.append(self.lib.DAHDI_EVENT_RINGOFFHOOK if offhook
                         else self.lib.DAHDI_EVENT_ONHOOK)

    def reverse_polarity(self: SimulatedKernel, channel: int) -> None:
        """The exchange reverses battery on the line of an FXO port: the driver queues
        DAHDI_EVENT_POLARITY, which carries no value (user.h); the port's state flips."""
        ch = self.chans[channel]
        if ch.module != "fxo":
            raise ValueError(f"channel {channel} is not an FXO port")
        ch.polarity ^= 1
        ch.events.append(self.lib.DAHDI_EVENT_POLARITY)

    def _dialtone(self: SimulatedKernel, f: _Fd, n: int, ch: _Chan) -> np.ndarray:
        from trunkline.drivers.dsp.tones import sine
        from trunkline.drivers.dsp.zones import load_zone

        tone = load_zone(self.zone).tone("dial")
        start = f.blocks_read * n
        x = sine(tone.cycle[0].freqs, n, start=start) if tone.cycle[0].freqs else np.zeros(n)
        pcm = np.clip(np.rint(x), -32768, 32767).astype(np.int16)
        law = f.law_override if f.law_override else ch.law
        return g711.encode(pcm, "ulaw" if law == self.lib.DAHDI_LAW_MULAW else "alaw")

    def _analog(self: SimulatedKernel, f: _Fd, name: str) -> _Chan:
        ch = self._chan_of(f, name)
        if not ch.module:
            raise DahdiOperationError(errno.EINVAL, name, f"channel {ch.number} (not analog)")
        return ch

    def _ioctl_hook(self: SimulatedKernel, f: _Fd, arg: Any, name: str) -> None:
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

    def _ioctl_dial(self: SimulatedKernel, f: _Fd, arg: Any, name: str) -> None:
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

    def _ioctl_dialing(self: SimulatedKernel, f: _Fd, arg: Any, name: str) -> None:
        arg[0] = int(self._chan_of(f, name).dial_until is not None)

    def _ioctl_setpolarity(self: SimulatedKernel, f: _Fd, arg: Any, name: str) -> None:
        ch = self._analog(f, name)
        if ch.module != "fxs":
            # Only an FXS port drives battery, so only it can reverse polarity.
            raise DahdiOperationError(errno.EINVAL, name, f"channel {ch.number} (FXO port)")
        ch.polarity = int(bool(arg[0]))

    def _ioctl_setcadence(self: SimulatedKernel, f: _Fd, arg: Any, name: str) -> None:
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

    def _take_zone_cadence(self: SimulatedKernel, ch: _Chan) -> None:
        """set_tone_zone: "memcpy(chan->ringcadence, z->ringcadence, ...)"."""
        zone = self.zones.get(ch.curzone) if ch.curzone is not None else None
        size = self.lib.DAHDI_MAX_CADENCE
        times = list(zone[1]) if zone and zone[1] else [STARTTIME_MS, RINGOFFTIME_MS]
        ch.ringcadence = tuple((times + [0] * size)[:size])

    def _start_ringer(self: SimulatedKernel, ch: _Chan) -> None:
        """DAHDI_HOOK RING on an FXS port: "chan->cadencepos = 0; ret =
        chan->ringcadence[0]; dahdi_rbs_sethook(chan, DAHDI_TXSIG_START,
        DAHDI_TXSTATE_RINGON, ret)": ringing, with no event for this first burst."""
        ch.cadencepos = 0
        ch.ringer_on = True
        ch.ringer_until = self.now() + ch.ringcadence[0] / 1000

    def _ringer_step(self: SimulatedKernel, ch: _Chan) -> None:
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

    def _stop_ringer(self: SimulatedKernel, ch: _Chan) -> None:
        ch.ringer_on = False
        ch.ringer_until = None
