"""The simulated kernel's spans: the line's alarms, maintenance, CAS bits, span faults.

Why apart: what a span receives and which alarms follow from it (framing, CRC4 and
coding against the line's, loopbacks, a crossover cable's far end) is one job, apart
from the channels' audio and the analog ports. From dahdi-base.c: ``dahdi_ioctl_spanstat``
(SPANSTAT and its counters), ``dahdi_ioctl_maint`` (MAINT loopbacks and defects),
``dahdi_ioctl_spanconfig``, ``dahdi_ioctl_startup``/``shutdown``, ``dahdi_alarm_notify``
(ALARM/NOALARM to open channels), ``dahdi_rbsbits`` and ``dahdi_hangup``'s idle bits
(SETTXBITS/GETRXBITS), and the framer's alarms as wct4xxp's ``t4_check_alarms`` sets
them (RAI: YELLOW). The faults a test injects (``inject``) act on the same state.
"""

# The methods take ``self: SimulatedKernel`` (the class they are mixed into), so mypy checks
# each body against the whole kernel; mypy calls such a self type "not a supertype of its
# class" (code misc), which is expected of a mixin and is switched off here only.
# mypy: disable-error-code="misc"

from __future__ import annotations

import errno
from typing import TYPE_CHECKING, Any

from trunkline.drivers.backends.dahdi.device import DahdiOperationError
from trunkline.drivers.backends.dahdi.simstate import _Chan, _Fd, _Span
from trunkline.drivers.backends.dahdi.simsystem import FAULT_KINDS

if TYPE_CHECKING:
    from trunkline.drivers.backends.dahdi.simkernel import SimulatedKernel


class SpanLines:
    """The spans' line state and maintenance (a mixin of
    :class:`~.simkernel.SimulatedKernel`)."""

    def _evaluate_line(self: SimulatedKernel, span: _Span, *, initial: bool = False) -> None:
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

    def _evaluate_cable(self: SimulatedKernel, span: _Span, *, initial: bool = False) -> None:
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

    def _line_alarms(self: SimulatedKernel, span: _Span, line: int | None) -> int:
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

    def _loop_alarm(self: SimulatedKernel, span: _Span) -> int:
        lib = self.lib
        return int(lib.DAHDI_ALARM_LOOPBACK) if span.maint in (
            lib.DAHDI_MAINT_LOCALLOOP, lib.DAHDI_MAINT_NETWORKLINELOOP,
            lib.DAHDI_MAINT_NETWORKPAYLOADLOOP) else 0

    def _alarm_event(self: SimulatedKernel, span: _Span, before: int) -> None:
        lib = self.lib
        if (before & 0xFF) != (span.alarms & 0xFF):
            self._span_event(span, lib.DAHDI_EVENT_ALARM if span.alarms & 0xFF & ~(
                lib.DAHDI_ALARM_LOOPBACK) else lib.DAHDI_EVENT_NOALARM)

    def _span_event(self: SimulatedKernel, span: _Span, event: int) -> None:
        for ch in self._span_chans(span):
            if self._is_open(ch.number):
                ch.events.append(event)

    def _span_chans(self: SimulatedKernel, span: _Span) -> list[_Chan]:
        return [self.chans[n] for n in range(span.base, span.base + span.total)]

    span_chans = _span_chans

    def rbsbits(self: SimulatedKernel, ch: _Chan, bits: int) -> None:
        """The framer received ``bits`` for ``ch`` (dahdi-base.c dahdi_rbsbits: nothing
        when they are unchanged; BITSCHANGED queued on a CAS channel; rxsig kept)."""
        if bits == ch.rxbits:
            return
        if ch.sigtype == self.lib.DAHDI_SIG_CAS:
            ch.events.append(self.lib.DAHDI_EVENT_BITSCHANGED)
        ch.rxbits = bits

    def _hangup_bits(self: SimulatedKernel, ch: _Chan) -> None:
        """dahdi_hangup on a CAS channel sends its idle bits (on configuration, span
        startup and the last close)."""
        if ch.sigtype == self.lib.DAHDI_SIG_CAS:
            self._send_bits(ch, ch.idlebits)

    def _send_bits(self: SimulatedKernel, ch: _Chan, bits: int) -> None:
        ch.txbits = bits & 0xF
        span = self.spans[ch.span - 1]
        if self.cross.crossed(span):
            self.cross.send_bits(ch)
        elif span.far_end == "loop" and self._span_up(span):
            self.rbsbits(ch, ch.txbits)

    def _span_up(self: SimulatedKernel, span: _Span) -> bool:
        lib = self.lib
        return span.running and not span.alarms & (lib.DAHDI_ALARM_RED | lib.DAHDI_ALARM_BLUE
                                                   | lib.DAHDI_ALARM_YELLOW)

    def inject(self: SimulatedKernel, kind: str, **args: Any) -> None:
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

    def set_rxbits(self: SimulatedKernel, channel: int, bits: int) -> None:
        """The far end sends ABCD ``bits`` on ``channel`` (for tests)."""
        self.rbsbits(self.chans[channel], bits)

    def span_by_number(self: SimulatedKernel, number: int) -> _Span:
        for span in self.spans:
            if span.number == number:
                return span
        raise ValueError(f"the simulated system has no span {number}")

    def _ioctl_spanstat(self: SimulatedKernel, f: _Fd, arg: Any, name: str) -> None:
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

    def _sync_source(self: SimulatedKernel) -> int:
        """The best-priority running span without alarms, as the timing source (0: none)."""
        best = None
        for s in self.spans:
            if s.kind != "analog" and s.sync > 0 and self._span_up(s) and (
                    best is None or s.sync < best.sync):
                best = s
        return best.number if best else 0

    def _ioctl_maint(self: SimulatedKernel, f: _Fd, arg: Any, name: str) -> None:
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

    def _ioctl_spanconfig(self: SimulatedKernel, f: _Fd, arg: Any, name: str) -> None:
        number = arg.span
        if not 1 <= number <= len(self.spans) or self.spans[number - 1].kind == "analog":
            raise DahdiOperationError(errno.EINVAL, name, f"span {number}")
        span = self.spans[number - 1]
        span.lineconfig = arg.lineconfig
        span.lbo = arg.lbo
        span.sync = arg.sync

    def _ioctl_startup(self: SimulatedKernel, f: _Fd, arg: Any, name: str) -> None:
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

    def _ioctl_shutdown(self: SimulatedKernel, f: _Fd, arg: Any, name: str) -> None:
        number = arg[0]
        if not 1 <= number <= len(self.spans):
            raise DahdiOperationError(errno.EINVAL, name, f"span {number}")
        span = self.spans[number - 1]
        if span.kind != "analog":
            span.running = False
            self._evaluate_line(span)

    def _ioctl_settxbits(self: SimulatedKernel, f: _Fd, arg: Any, name: str) -> None:
        ch = self._chan_of(f, name)
        if ch.sigtype != self.lib.DAHDI_SIG_CAS:
            raise DahdiOperationError(errno.EINVAL, name, f"channel {ch.number} (not CAS)")
        self._send_bits(ch, arg[0])

    def _ioctl_getrxbits(self: SimulatedKernel, f: _Fd, arg: Any, name: str) -> None:
        arg[0] = self._chan_of(f, name).rxbits
