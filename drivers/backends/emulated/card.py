"""The emulated card: a software board with the telephone network behind it.

It implements the same backend interface as the DAHDI backend (DESIGN.md, principle 1):
above :class:`~trunkline.drivers.card.CardABC` nothing knows which one runs. Audio is
real G.711 at 8 kHz; D-channels carry real HDLC frames to the network side, where the
PRI layer runs libpri in network mode.

What it does not emulate (stated, as python-can's virtual bus does): line impedance,
echo and hybrid balance; caller ID on analog lines; T1 robbed-bit signalling; bit
errors below the alarm level (counters move only when faults are injected). MFC/R2 and
SS7 spans face exchanges of their own (``r2_network.py``, ``ss7_network.py``).

Why one module of this size: it is the card's side of the contract (spans, channels,
frame timing, hook/dial/CAS operations, faults) over one network; the network, its
ports and the exchanges behind digital spans are in modules of their own.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from trunkline.clock import Clock, RealClock
from trunkline.drivers.backends.emulated.config import (
    ALARMS,
    CardConfig,
    FaultConfig,
    default_card_config,
    load_card_config,
)
from trunkline.drivers.backends.emulated.hdlc import HdlcPipe
from trunkline.drivers.backends.emulated.lines import (
    BearerChannel,
    ExchangeLine,
    LineState,
    Phone,
    PhoneState,
)
from trunkline.drivers.backends.emulated.network import Network, Port
from trunkline.drivers.backends.emulated.plan import NumberPlan, default_plan, load_plan
from trunkline.drivers.backends.emulated.pri_network import PriNetworkSide
from trunkline.drivers.backends.emulated.sounds import NetworkSounds
from trunkline.drivers.card import CardABC, DialMode, HdlcLink
from trunkline.drivers.dsp import g711
from trunkline.drivers.dsp.tones import dtmf, silence
from trunkline.drivers.dsp.zones import load_zone
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
    SpanInfo,
    SpanKind,
    SpanSignalling,
    SpanStatus,
)
from trunkline.errors import ChannelError, ChannelOutOfService, ChannelStateError, ConfigError

#: The alarms that take a span's channels out of service, as plain bits: tested for every
#: span on every frame, where combining IntFlag members cost more than the test itself.
_SERVICE_ALARMS = int(Alarm.RED | Alarm.YELLOW | Alarm.BLUE)

#: DTMF as the card dials it (DAHDI's defaults): 100 ms tones, 100 ms pauses.
DTMF_ON_MS, DTMF_OFF_MS = 100, 100
#: Pulse dialing at 10 pulses a second, 60 ms break / 40 ms make, 700 ms between digits.
PULSE_BREAK, PULSE_MAKE, PULSE_INTERDIGIT = 0.06, 0.04, 0.7


class _Dialing:
    """Digits being sent on one channel: prerendered DTMF audio, or pulse timings."""

    def __init__(self, audio: np.ndarray | None, timer: _TimerOwner | None = None) -> None:
        self.audio = audio
        self.pos = 0
        self.timer = timer

    def cancel(self) -> None:
        if self.timer is not None:
            self.timer.cancel_timers()


class EmulatedCard(CardABC):
    """A software card, configured by TOML (see :mod:`.config`), with its network."""

    backend = "emulated"

    @classmethod
    def from_url_argument(cls, argument: str, **options: Any) -> EmulatedCard:
        """``emulated`` (the bundled card) or ``emulated:CARD.toml``; options ``clock``,
        ``network``, ``seed``."""
        unknown = set(options) - {"clock", "network", "seed"}
        if unknown:
            raise ConfigError(f"the emulated backend takes no option "
                              f"{', '.join(sorted(unknown))}; its options are clock, "
                              "network and seed")
        config = load_card_config(argument) if argument else default_card_config()
        return cls(config, **options)

    def __init__(self, config: CardConfig | None = None, *, clock: Clock | None = None,
                 network: NumberPlan | str | Path | None = None,
                 seed: int | None = None) -> None:
        config = config or default_card_config()
        self.config = config
        self.clock = clock or RealClock()
        seed = config.seed if seed is None else seed
        if isinstance(network, NumberPlan):
            plan = network
        elif network is not None:
            plan = load_plan(network)
        elif config.network is not None:
            plan = load_plan(config.network)
        else:
            plan = default_plan()
        if plan.zone != config.zone and network is None and config.network is None:
            plan = NumberPlan(config.zone, plan.subscribers, plan.language,
                              plan.interdigit_timeout, plan.max_digits, plan.seed, plan.source)
        self.plan = plan
        zone = load_zone(plan.zone)
        beeps = tuple({s.beep for s in plan.subscribers} | {1000.0})
        self.sounds = NetworkSounds(zone, seed=plan.seed + seed, beeps=beeps)

        spans, channels, ports = self._layout(config)
        super().__init__(spans, channels, clock=self.clock, tone_zone=plan.zone)
        self.network = Network(plan, self.sounds, len(ports), seed)
        self._ports: dict[int, Port] = {}
        for factory in ports:
            port = factory(self.network, len(self.network.ports))
            self.network.add_port(port)
            self._ports[port.channel] = port
            port.silence()
        # Digital spans take their timing from the first of them, as a board is usually
        # set up (system.conf: span=1,1,...); analog groups run on the card's clock.
        digital = [s.number for s in spans if s.kind in (SpanKind.E1, SpanKind.T1)]
        self._status = {s.number: SpanStatus(s.number, sync_source=digital[0] if digital
                                             and s.number in digital else 0)
                        for s in spans}
        self._pipes = {s.number: HdlcPipe(mtp2=s.signalling is SpanSignalling.SS7)
                       for s in spans if s.dchannel is not None}
        self._tx = np.zeros((len(ports), FRAME_SAMPLES), dtype=np.float32)
        self._rows = np.zeros(0, dtype=np.int64)
        self._dialing: dict[int, _Dialing] = {}
        self._events: list[CardEvent] = []
        self._t0 = self.clock.now()
        self._frame = 0
        self.overruns = 0
        #: Frames the card holds for a late reader (chan_dahdi's default numbufs=4).
        self.buffers = config.buffers
        #: Frames dropped because the application read them too late.
        self.frames_dropped = 0
        self._slip_pending: dict[int, int] = {}
        self._pri_network: dict[int, PriNetworkSide] = {}
        # SS7 network sides by linkset (one exchange for all the spans of a linkset).
        self._ss7_network: dict[str, Any] = {}
        # MFC/R2 exchanges by span, started when our side first opens one of its
        # circuits (a card whose R2 spans go unused never signals on them).
        self._r2_spans = [info for info, conf in zip(self.spans, config.spans, strict=True)
                          if info.signalling is SpanSignalling.CAS and conf.far_end == "exchange"]
        self._r2_network: dict[int, Any] = {}
        self._out_of_service: set[int] = set()
        self._loopback: dict[int, str] = {}
        for fault in config.faults:
            self._schedule_fault(fault)
        for channel, port in self._ports.items():
            if isinstance(port, ExchangeLine):
                self.set_line_options(channel, LineOptions(
                    answer_on_polarity=port.settings.polarity_reversal,
                    caller_id=port.settings.caller_id))

    # -- layout ---------------------------------------------------------------------
    def _layout(self, config: CardConfig) -> tuple[
        list[SpanInfo], list[ChannelInfo], list[Callable[[Network, int], Port]]
    ]:
        spans: list[SpanInfo] = []
        channels: list[ChannelInfo] = []
        ports: list[Callable[[Network, int], Port]] = []
        number = 1
        for s_index, span in enumerate(config.spans, start=1):
            if span.kind in (SpanKind.E1, SpanKind.T1):
                slots = 31 if span.kind is SpanKind.E1 else 24
                # PRI: the D-channel on timeslot 16 (E1) or 24 (T1); SS7: the signalling
                # link on timeslot 16, as carriers provision it; CAS: timeslot 16
                # carries the ABCD multiframe and no channel.
                dslot = (16 if span.kind is SpanKind.E1 else 24) \
                    if span.signalling is not SpanSignalling.CAS else None
                link = ChannelSignalling.MTP2 if span.signalling is SpanSignalling.SS7 \
                    else ChannelSignalling.DCHAN
                bearer: list[int] = []
                dchan = None
                for ts in range(1, slots + 1):
                    ch = number + ts - 1
                    if ts == dslot:
                        dchan = ch
                        channels.append(ChannelInfo(ch, s_index, link, span.law, ts))
                        continue
                    if span.kind is SpanKind.E1 and ts == 16:
                        continue  # CAS: timeslot 16 carries the ABCD multiframe
                    sig = ChannelSignalling.BCHAN if dslot else ChannelSignalling.CAS
                    channels.append(ChannelInfo(ch, s_index, sig, span.law, ts))
                    bearer.append(ch)
                    ports.append(lambda net, row, ch=ch, s=s_index: BearerChannel(net, ch, s, row))
                desc = f"{span.kind.upper()} {span.signalling.upper()} ({span.framing}/" \
                       f"{span.coding}{'/crc4' if span.crc4 else ''})"
                if span.protocol:
                    desc += f" {span.protocol}"
                spans.append(SpanInfo(s_index, span.kind, span.signalling, tuple(bearer), dchan,
                                      span.framing, span.coding, span.crc4, span.law, desc,
                                      span.protocol, self._span_options(config, s_index - 1)))
                number += slots
            else:
                chans = tuple(range(number, number + span.ports))
                for port_no, ch in enumerate(chans, start=1):
                    if span.kind is SpanKind.FXO:
                        sig = ChannelSignalling.FXO_KEWLSTART
                        settings = span.lines[port_no - 1]
                        ports.append(lambda net, row, ch=ch, s=s_index, st=settings:
                                     ExchangeLine(net, ch, s, row, st))
                    else:
                        sig = ChannelSignalling.FXS_KEWLSTART
                        phone = span.phones[port_no - 1]
                        ports.append(lambda net, row, ch=ch, s=s_index, st=phone:
                                     Phone(net, ch, s, row, st))
                    channels.append(ChannelInfo(ch, s_index, sig, span.law, port_no))
                spans.append(SpanInfo(s_index, span.kind, SpanSignalling.ANALOG, chans, None,
                                      law=span.law,
                                      description=f"{span.ports} {span.kind.upper()} ports"))
                number += span.ports
        return spans, channels, ports

    @staticmethod
    def _span_options(config: CardConfig, index: int) -> tuple[tuple[str, Any], ...]:
        """Our side's settings for the span's network. SS7 circuits follow the
        timeslots, 32 codes per span of the linkset in card order (CIC 1..31 on its
        first span), unless the configuration gives ``cicbeginswith``."""
        span = config.spans[index]
        if span.signalling is not SpanSignalling.SS7:
            return span.options
        before = sum(1 for s in config.spans[:index]
                     if s.signalling is SpanSignalling.SS7 and s.protocol == span.protocol)
        options = dict(span.options)
        options.setdefault("cic_start", 32 * before + 1)
        return tuple(options.items())

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def now(self) -> float:
        """Card time: seconds since the card opened, at the last frame read."""
        return self._frame * TICK_SECONDS

    def port(self, channel: int) -> Port:
        """The network's end of ``channel`` (for tests and the emulation's controls)."""
        self.channel(channel)
        try:
            return self._ports[channel]
        except KeyError:
            raise ChannelStateError(f"channel {channel} is a D-channel: use dchannel()") from None

    def phone(self, channel: int) -> Phone:
        port = self.port(channel)
        if not isinstance(port, Phone):
            raise ChannelStateError(f"channel {channel} is not an FXS port")
        return port

    def line(self, channel: int) -> ExchangeLine:
        port = self.port(channel)
        if not isinstance(port, ExchangeLine):
            raise ChannelStateError(f"channel {channel} is not an FXO port")
        return port

    def network_dchannel(self, span: int) -> HdlcLink:
        """The network's end of a PRI span's D-channel."""
        if span not in self._pipes:
            raise ChannelError(f"span {span} has no D-channel")
        return self._pipes[span].network

    # -- CardABC --------------------------------------------------------------------
    def _open_internal(self, channel: int) -> None:
        self._rows = np.array([self._ports[n].row for n in (*self._open, channel)],
                              dtype=np.int64)

    def _close_internal(self, channel: int) -> None:
        port = self._ports.get(channel)
        if isinstance(port, ExchangeLine):
            port.hook(False)
        elif isinstance(port, Phone):
            port.ring(False)
        if channel in self._dialing:
            self._dialing.pop(channel).cancel()
        if port is not None:
            self._tx[port.row] = 0
        remaining = [n for n in self._open if n != channel]
        self._rows = np.array([self._ports[n].row for n in remaining], dtype=np.int64)

    def _read_internal(self) -> np.ndarray:
        deadline = self._t0 + (self._frame + 1) * TICK_SECONDS
        self.clock.sleep_until(deadline)
        late = self.clock.now() - deadline
        if late > self.buffers * TICK_SECONDS:
            # The application fell behind by more than the card buffers. A board's
            # buffers would have overflowed and the frames been lost, so they are lost
            # here too and counted as one overrun. The line does not stop meanwhile:
            # the network runs each missed frame, and digits being dialled go on
            # sounding (DAHDI_DIAL is the kernel's, not the application's, to send).
            missed = int(late / TICK_SECONDS)
            for _ in range(missed):
                self._step()
            self.overruns += 1
            self.frames_dropped += missed
            self._audio_gaps.update(self._open)
            for status in self._status.values():
                status.counters.irqmisses += 1
        rx = self._step()
        out = rx[self._rows] if len(self._rows) else np.zeros((0, FRAME_SAMPLES), np.float32)
        codes = g711.encode_mixed(np.clip(np.rint(out), -32768, 32767).astype(np.int16),
                                  self._is_ulaw)
        self._apply_line_faults(codes)
        return codes

    def _step(self) -> np.ndarray:
        """One frame of the line: our digits and what we wrote go out, the network
        (exchange, far ends, PRI network side) moves on; returns what every port hears."""
        self._frame += 1
        self._send_dialing()
        now = self._frame * TICK_SECONDS
        self.network.now = now
        for side in self._pri_network.values():
            side.poll(now)
        for ss7 in self._ss7_network.values():
            ss7.poll(now)
        self._step_r2(now)
        looped = self._looped_tx()
        rx = self.network.step(now, self._tx)
        if looped is not None:
            rx[looped[0]] = looped[1]
        self._tx[:] = 0
        self._events.extend(self.network.take_events())
        return rx

    def _step_r2(self, now: float) -> None:
        for info in self._r2_spans:
            side = self._r2_network.get(info.number)
            if side is None:
                if not any(ch in self._row for ch in info.channels):
                    continue
                from trunkline.drivers.backends.emulated.r2_network import R2NetworkSide

                side = self._r2_network[info.number] = R2NetworkSide(self, info)
            side.step(now, self._tx)

    def _write_internal(self, codes: np.ndarray) -> None:
        if len(self._rows):
            self._tx[self._rows] = g711.decode_mixed(codes, self._is_ulaw)

    def _require_open(self, channel: int) -> Port:
        if channel not in self._row:
            raise ChannelStateError(f"channel {channel} is not open: open() it first")
        return self.port(channel)

    def _hook_internal(self, channel: int, op: HookOp) -> None:
        port = self._require_open(channel)
        if isinstance(port, ExchangeLine):
            if op in (HookOp.OFFHOOK, HookOp.ONHOOK):
                if op is HookOp.ONHOOK and channel in self._dialing:
                    self._dialing.pop(channel).cancel()
                port.hook(op is HookOp.OFFHOOK)
            elif op is HookOp.FLASH:
                port.hook(False)
                port.after(0.5, lambda: port.hook(True))  # a 500 ms hookflash
            else:
                raise ChannelStateError(
                    f"cannot {op} channel {channel}: it is an FXO port (ringing is an FXS "
                    "operation)"
                )
        elif isinstance(port, Phone):
            if op is HookOp.RING:
                port.ring(True)
            elif op is HookOp.RINGOFF:
                port.ring(False)
            elif op is HookOp.ONHOOK:
                port.ring(False)
                port.disconnect()
            elif op is HookOp.OFFHOOK:
                pass  # FXS "off hook" only acknowledges the phone; nothing to do
            else:
                raise ChannelStateError(f"cannot {op} channel {channel}: it is an FXS port")
        else:
            raise ChannelStateError(
                f"cannot {op} channel {channel}: it is a digital channel (hook operations "
                "are for analog ports)"
            )

    def _dial_internal(self, channel: int, digits: str, mode: DialMode) -> None:
        port = self._require_open(channel)
        if not isinstance(port, ExchangeLine):
            raise ChannelStateError(f"cannot dial on channel {channel}: not an FXO port")
        if port.out_of_service:
            raise ChannelOutOfService(f"channel {channel} is out of service")
        if not port.offhook:
            raise ChannelStateError(f"cannot dial on channel {channel}: it is on hook")
        if channel in self._dialing:
            raise ChannelStateError(f"channel {channel} is already dialing")
        zone = self.sounds.zone
        if mode == "dtmf":
            audio = np.concatenate([
                np.concatenate([dtmf(d, DTMF_ON_MS, low_dbm0=zone.dtmf_low_level,
                                     high_dbm0=zone.dtmf_high_level), silence(DTMF_OFF_MS)])
                for d in digits
            ])
            self._dialing[channel] = _Dialing(audio)
            return
        # The card's own timers: what the exchange does must not cancel our pulsing.
        timer = _TimerOwner(self.network)
        self._dialing[channel] = _Dialing(None, timer)
        t = 0.0
        for d in digits:
            for _ in range(10 if d == "0" else int(d)):
                timer.after(t, lambda p=port: p.hook(False))
                timer.after(t + PULSE_BREAK, lambda p=port: p.hook(True))
                t += PULSE_BREAK + PULSE_MAKE
            t += PULSE_INTERDIGIT
        timer.after(t, lambda: self._dial_done(channel))

    def _dial_done(self, channel: int) -> None:
        if self._dialing.pop(channel, None) is not None:
            self._events.append(CardEvent(self._frame * TICK_SECONDS, EventKind.DIAL_COMPLETE,
                                          channel, self.channel(channel).span))

    def _send_dialing(self) -> None:
        for channel, dialing in list(self._dialing.items()):
            if dialing.audio is None:
                continue
            row = self._ports[channel].row
            chunk = dialing.audio[dialing.pos: dialing.pos + FRAME_SAMPLES]
            self._tx[row] = 0
            self._tx[row, : len(chunk)] = chunk
            dialing.pos += FRAME_SAMPLES
            if dialing.pos >= len(dialing.audio):
                self._dial_done(channel)

    def _set_cas_bits_internal(self, channel: int, bits: int) -> None:
        port = self._require_open(channel)
        assert isinstance(port, BearerChannel)
        port.tx_bits = bits

    def _cas_bits_internal(self, channel: int) -> int:
        port = self._require_open(channel)
        assert isinstance(port, BearerChannel)
        return port.rx_bits

    def _poll_events_internal(self) -> list[CardEvent]:
        self._events.extend(self.network.take_events())
        events, self._events = self._events, []
        return events

    def _channel_state_internal(self, channel: int) -> ChannelState:
        info = self.channels[channel]
        if info.signalling in (ChannelSignalling.DCHAN, ChannelSignalling.MTP2):
            up = self._pipes[info.span].up
            return ChannelState.IN_USE if up else ChannelState.OUT_OF_SERVICE
        port = self._ports[channel]
        if port.out_of_service or self._status[info.span].alarms.value & _SERVICE_ALARMS:
            return ChannelState.OUT_OF_SERVICE
        if channel in self._dialing:
            return ChannelState.DIALING
        if isinstance(port, ExchangeLine):
            if port.state is LineState.RINGING_IN:
                return ChannelState.RINGING
            return ChannelState.OFFHOOK if port.offhook else ChannelState.IDLE
        if isinstance(port, Phone):
            return {PhoneState.ONHOOK: ChannelState.IDLE, PhoneState.RINGING:
                    ChannelState.RINGING, PhoneState.OFFHOOK: ChannelState.OFFHOOK}[port.state]
        assert isinstance(port, BearerChannel)
        return ChannelState.IN_USE if port.in_use else ChannelState.IDLE

    def _span_status_internal(self, span: int) -> SpanStatus:
        return self._status[span]

    def _dchannel_internal(self, span: int) -> HdlcLink:
        # The far end's libpri starts when our side first takes the D-channel, so a
        # card whose PRI spans go unused never loads libpri; an SS7 exchange starts when
        # our side first takes one of its linkset's signalling links.
        info, config = self.span(span), self.config.spans[span - 1]
        if (span not in self._pri_network and info.signalling is SpanSignalling.PRI
                and config.far_end == "exchange"):
            # It comes up now, at this line time, whatever steps the network has yet
            # to run for a late reader (pri_network.py).
            self._pri_network[span] = PriNetworkSide(
                self, info, started=max(0.0, self.clock.now() - self._t0))
        if (info.signalling is SpanSignalling.SS7 and config.far_end != "none"
                and info.protocol not in self._ss7_network):
            from trunkline.drivers.backends.emulated.ss7_network import open_network_side

            linkset = [s for s in self.spans if s.signalling is SpanSignalling.SS7
                       and s.protocol == info.protocol]
            self._ss7_network[info.protocol] = open_network_side(self, linkset,
                                                                 config.far_end)
        return self._pipes[span].card

    def network_side(self, span: int) -> Any:
        """The exchange behind ``span`` (PRI: its libpri exchange side; SS7: the linkset's
        exchange; MFC/R2: its register), started with our side's first use of the span's
        link (R2: of one of its circuits); for tests and
        the emulation's controls (``originate`` a call toward us, block a circuit...)."""
        info = self.span(span)
        if info.signalling is SpanSignalling.SS7:
            side = self._ss7_network.get(info.protocol)
        elif info.signalling is SpanSignalling.CAS:
            side = self._r2_network.get(span)
        else:
            side = self._pri_network.get(span)
        if side is None:
            raise ChannelError(f"span {span} has no network side running (none is "
                               "configured, or our side has not taken its link yet)")
        return side

    def _close_internal_card(self) -> None:
        for side in self._ss7_network.values():
            side.close()
        self._ss7_network.clear()
        self._r2_network.clear()

    # -- maintenance ----------------------------------------------------------------
    def _maintenance_internal(self, span: int, mode: str) -> None:
        status = self._status[span]
        before = status.alarms
        if mode == "off":
            self._loopback.pop(span, None)
            status.loopback = ""
            status.alarms &= ~Alarm.LOOPBACK
        else:
            self._loopback[span] = mode
            status.loopback = mode
            status.alarms |= Alarm.LOOPBACK
        if status.alarms != before:
            kind = EventKind.ALARM if status.alarms & ~Alarm.LOOPBACK else EventKind.NOALARM
            self._events.append(CardEvent(self.network.now, kind, 0, span,
                                          int(status.alarms)))

    def _looped_tx(self) -> tuple[np.ndarray, np.ndarray] | None:
        """Rows of spans in local loopback and what we sent on them (received back).

        A network loopback is only recorded (status, LOOPBACK alarm): the emulated
        network behind the card runs no pattern test of its own.
        """
        rows = [self._ports[c].row for s, mode in self._loopback.items() if mode == "local"
                for c in self.span(s).channels]
        if not rows:
            return None
        index = np.array(rows, dtype=np.int64)
        return index, self._tx[index].copy()

    # -- faults ---------------------------------------------------------------------
    @property
    def number_plan(self) -> NumberPlan:
        return self.plan

    def simulate_alarm(self, span: int, alarm: str, *, on: bool = True,
                       duration: float | None = None) -> None:
        self.span(span)
        if alarm not in ALARMS:
            raise ValueError(f"alarm must be one of {', '.join(ALARMS)}, not {alarm!r}")
        fault = FaultConfig(at=0, kind="alarm", span=span, alarm=alarm, duration=duration)
        if on:
            self.inject(fault)
        else:
            self.clear(fault)

    def inject(self, fault: FaultConfig) -> None:
        """Apply ``fault`` now (its ``at`` is ignored); cleared after its duration, if any."""
        self._apply_fault(fault, on=True)
        if fault.duration is not None:
            _TimerOwner(self.network).after(fault.duration,
                                            lambda: self._apply_fault(fault, on=False))

    def clear(self, fault: FaultConfig) -> None:
        """Undo ``fault`` now."""
        self._apply_fault(fault, on=False)

    def _schedule_fault(self, fault: FaultConfig) -> None:
        _TimerOwner(self.network).after(fault.at, lambda: self.inject(fault))

    def _apply_fault(self, fault: FaultConfig, *, on: bool) -> None:
        now = self.network.now
        if fault.kind == "alarm":
            status = self._status[fault.span]
            bit = ALARMS[fault.alarm]
            before = status.alarms
            status.alarms = (status.alarms | bit) if on else (status.alarms & ~bit)
            if on and bit is Alarm.RED:
                status.counters.fas += 1
                status.counters.crc4 += 1 if self.span(fault.span).crc4 else 0
                status.counters.errsec += 1
            if fault.span in self._pipes:
                self._pipes[fault.span].set_up(not (status.alarms & (Alarm.RED | Alarm.BLUE
                                                                     | Alarm.YELLOW)))
            if status.alarms != before:
                # A loop (LOOPBACK) is no fault, as in _maintenance_internal.
                kind = EventKind.ALARM if status.alarms & ~Alarm.LOOPBACK else EventKind.NOALARM
                self._events.append(CardEvent(now, kind, 0, fault.span, int(status.alarms)))
        elif fault.kind == "dchannel_down":
            self.dchannel(fault.span)
            self._pipes[fault.span].set_up(not on)
        elif fault.kind == "out_of_service":
            port = self.port(fault.channel)
            port.set_out_of_service(on)  # type: ignore[attr-defined]
            (self._out_of_service.add if on else self._out_of_service.discard)(fault.channel)
        elif fault.kind == "slip" and on:
            self._status[fault.span].counters.timingslips += fault.count
            self._slip_pending[fault.span] = self._slip_pending.get(fault.span, 0) + fault.count
        else:
            if fault.kind not in ("slip",):
                raise ConfigError(f"unknown fault kind {fault.kind!r}")

    def _apply_line_faults(self, codes: np.ndarray) -> None:
        """Alarms and out-of-service channels replace received audio, as on a real line.

        Vectorised over the open channels: the per-channel work is done only when a
        fault is actually present.
        """
        if not len(self._open):
            return
        faulted_spans = {n: st.alarms for n, st in self._status.items()
                         if st.alarms.value & _SERVICE_ALARMS}
        if faulted_spans or self._out_of_service or self._slip_pending:
            for row, number in enumerate(self._open):
                info = self.channels[number]
                alarms = faulted_spans.get(info.span, Alarm.NONE)
                if alarms & Alarm.BLUE:
                    codes[row] = 0xFF  # AIS: all ones
                elif alarms or self._ports[number].out_of_service:
                    codes[row] = g711.ULAW_SILENCE if info.law == "ulaw" else g711.ALAW_SILENCE
        for span in list(self._slip_pending):
            rows = [r for r, n in enumerate(self._open) if self.channels[n].span == span]
            # A controlled slip repeats one 125 us frame: one sample per channel.
            codes[rows] = np.concatenate([codes[rows, :1], codes[rows, :-1]], axis=1)
            del self._slip_pending[span]



class _TimerOwner(Port):
    """Owns timers of the card itself (pulse dialing, faults), apart from any port's."""

    def __init__(self, network: Network) -> None:
        self.network = network
        self._generation = 0
