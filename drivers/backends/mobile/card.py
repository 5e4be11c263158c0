"""The mobile card: GSM/LTE modules as spans of one voice channel each (issue 20).

Each module has an AT port, opened with pyserial, where a :class:`~.voice.VoiceModule`
runs its init, status and calls, and an audio port carrying 8 kHz 16-bit little-endian
PCM (Quectel EC2x voice over USB, SIMCom SIM7600's audio port, a Huawei stick's voice
port). Every 20 ms tick the card reads what each module sent, feeds it to its AT state
machine, sends what that has to say, and moves one frame of PCM each way; G.711 is made
at this edge, since the card model carries A-law/µ-law codes like a board.

The call control goes up through :meth:`CardABC.modem` as a
:class:`~trunkline.drivers.modem.ModemLink` (the mobile signalling module drives it),
the module's SMS through :meth:`CardABC.sms` as an :class:`~trunkline.drivers.sms.SmsLink`
(the SMS agent of ``sms.py`` on the same AT channel);
a module's registration makes its span's alarm: not registered, no SIM, not answering
or restarting is RED (out of service), as a lost E1 is.

Modules may be emulated (``emulated = true`` in the card config): an
:class:`~trunkline.drivers.backends.emulated.modem.EmulatedModem` behind real
pseudo-terminals, stepped by the card in its tick, on the emulated network's number
plan, so CI runs the backend with pyserial on real ttys. Everything else is the same
code a real module gets.

A module whose voice is a USB Audio Class card (``audio = "uac"``: Quectel EC2x after
AT+QPCMV=1,2) has its ALSA card found from its USB port in sysfs and paced into the
same 20 ms frames (:mod:`.uac`).

Levels and echo: ``rx_gain``/``tx_gain`` trim on our side; ``echo_canceller`` runs the
software line echo canceller of drivers/dsp/echo.py on a module's received audio during
each call (off by default). The modules' own echo and gain settings are the installer's
``audio_commands``, sent at each init; docs/mobile.md says what is known of them per
family and when our canceller helps.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any

import numpy as np
import serial  # type: ignore[import-untyped]

from trunkline.clock import Clock, RealClock
from trunkline.drivers.backends.mobile.config import (
    UAC_PROFILES,
    MobileCardConfig,
    ModuleConfig,
    load_mobile_config,
    sample_mobile_config,
)
from trunkline.drivers.backends.mobile.sms import SmsAgent
from trunkline.drivers.backends.mobile.uac import (
    AlsaAudio,
    UacPacer,
    choose_audio,
    find_uac_card,
    usb_port_of_tty,
)
from trunkline.drivers.backends.mobile.voice import VoiceModule
from trunkline.drivers.card import CardABC, DialMode, HdlcLink
from trunkline.drivers.dsp import g711
from trunkline.drivers.dsp.echo import EchoCanceller
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
    SpanInfo,
    SpanKind,
    SpanSignalling,
    SpanStatus,
)
from trunkline.drivers.modem import ModemCallEvent, ModemLink
from trunkline.drivers.sms import SmsLink
from trunkline.errors import BackendError, CardNotFound, ChannelStateError, ConfigError

__all__ = ["MobileCard"]

FRAME_BYTES = FRAME_SAMPLES * 2
#: Frames of received PCM held for jitter before the oldest are dropped (a real
#: module's USB port delivers in bursts).
JITTER_FRAMES = 6
#: Seconds the card waits at open for real modules to answer their init.
INIT_SECONDS = 10.0
#: Seconds between attempts to open a lost module's ports again.
REOPEN_EVERY = 5.0


class _Module:
    """One module: its config, ports, AT state machine and audio buffers."""

    def __init__(self, number: int, config: ModuleConfig, law: str) -> None:
        self.number = number
        self.config = config
        self.law = law
        self.voice = VoiceModule(config.profile, pin=config.pin, uac=config.uac,
                                 audio_commands=config.audio_commands)
        # SMS share the AT channel: the agent's commands queue with the calls' ones, and
        # what the voice side does not take (SMS URCs, answers, restarts) goes to it.
        self.sms = SmsAgent(self.voice.submit)
        self.at: serial.Serial | None = None
        self.audio: serial.Serial | None = None
        #: A USB Audio Class card instead of a serial audio port, and its pacing.
        self.alsa: AlsaAudio | None = None
        self.pacer: UacPacer | None = None
        #: How ``audio = "auto"`` chose the audio port (for status).
        self.audio_choice = ""
        self.emulated: Any = None
        self.rx = bytearray()
        self.events: deque[ModemCallEvent] = deque()
        self.alarm = Alarm.NONE
        self.at_read = 0
        self.audio_read = 0
        self.underruns = 0
        self.overruns = 0
        self.paths = ("", "")
        self.rx_scale = 10 ** (config.rx_gain / 20)
        self.tx_scale = 10 ** (config.tx_gain / 20)
        #: Our echo canceller (a fresh one each call: each has its own echo path) and
        #: the frame sent on the last tick, its reference.
        self.canceller: EchoCanceller | None = None
        self.last_sent: np.ndarray | None = None
        self.echo_double_talk = 0
        #: Why the module's ports were lost (None: they work).
        self.lost: str | None = None
        self._reopen_at = 0.0

    def open(self, at_path: str, audio_path: str) -> None:
        self.paths = (at_path, audio_path)
        try:
            # timeout: a read of bytes known to be on their way waits at most 1 s.
            self.at = serial.Serial(at_path, self.config.baudrate, timeout=1.0,
                                    write_timeout=1.0)
            if audio_path == "auto":
                choice = choose_audio(at_path, uac_allowed=self.config.profile in UAC_PROFILES)
                self.audio_choice = choice.why
                self.voice.use_uac(choice.kind == "uac")
                if choice.kind == "uac":
                    self.alsa = AlsaAudio(choice.device, self.config.audio_rate)
                    self.pacer = UacPacer(self.config.audio_rate)
                else:
                    self.audio = serial.Serial(choice.device, 115200, timeout=1.0,
                                               write_timeout=1.0)
            elif self.config.uac:
                device = _alsa_device(audio_path, at_path)
                self.alsa = AlsaAudio(device, self.config.audio_rate)
                self.pacer = UacPacer(self.config.audio_rate)
            elif audio_path:
                self.audio = serial.Serial(audio_path, 115200, timeout=1.0, write_timeout=1.0)
        except CardNotFound as err:
            self.close()
            raise CardNotFound(f"module {self.config.name}: {err}") from err
        except (serial.SerialException, OSError) as err:
            self.close()
            raise CardNotFound(f"module {self.config.name}: cannot open {err.filename or at_path}"
                               f" ({err}); is it plugged in, and may this user open it "
                               "(group dialout, a udev rule: docs/mobile.md)?") from err

    def close(self) -> None:
        for port in (self.at, self.audio):
            if port is not None:
                port.close()
        self.at = self.audio = None
        if self.alsa is not None:
            self.alsa.close()
        self.alsa = self.pacer = None

    def _read(self, port: serial.Serial, announced: int) -> bytes:
        want = max(announced, port.in_waiting)
        return port.read(want) if want else b""

    def pump(self, now: float) -> None:
        """Move AT bytes both ways and take the frame of PCM that came in.

        A port that fails (the module left the USB bus, a hung-up tty) takes only this
        module out of service: its call ends, and its ports are opened again every
        REOPEN_EVERY seconds (a module plugged back under the same udev name returns)."""
        if self.lost is not None:
            if now >= self._reopen_at:
                self._reopen(now)
            return
        try:
            self._pump(now)
        except (serial.SerialException, OSError) as err:
            self._lose(f"the module's port failed: {err}", now)

    def _lose(self, reason: str, now: float) -> None:
        self.close()
        self.lost = reason
        self._reopen_at = now + REOPEN_EVERY
        self.rx.clear()
        self.voice.channel.reset(reason, now)
        self._dispatch(now)

    def _reopen(self, now: float) -> None:
        if self.emulated is not None and self.emulated.at.closed:
            # An unplugged emulated module never comes back (its pty number may even
            # be another pty's by now): nothing to open.
            self._reopen_at = now + REOPEN_EVERY
            return
        try:
            self.open(*self.paths)
        except CardNotFound:
            self._reopen_at = now + REOPEN_EVERY
            return
        self.lost = None
        self.voice.channel.reset("the module's port was opened again", now)
        self._dispatch(now)

    def _dispatch(self, now: float) -> None:
        self.voice.handle_timer(now)
        for event in self.voice.take_other_events():
            self.sms.handle(event, now)
        self.events.extend(self.voice.take_call_events())

    def _pump(self, now: float) -> None:
        assert self.at is not None
        emulated = self.emulated
        data = self._read(self.at, emulated.at.written - self.at_read if emulated else 0)
        self.at_read += len(data)
        if data:
            self.voice.feed(data, now)
        self.voice.handle_timer(now)
        for event in self.voice.take_other_events():
            self.sms.handle(event, now)
        if self.voice.status.initialised:
            self.sms.poll(now)
        out = self.voice.data_to_send()
        if out:
            self.at.write(out)
            if emulated is not None:
                emulated.at.incoming += len(out)
        self.events.extend(self.voice.take_call_events())
        if self.alsa is not None and self.pacer is not None:
            self.pacer.capture(self.alsa.read())
        if self.audio is not None:
            pcm = self._read(self.audio,
                             emulated.audio.written - self.audio_read if emulated else 0)
            self.audio_read += len(pcm)
            self.rx += pcm
            if len(self.rx) > JITTER_FRAMES * FRAME_BYTES:
                drop = len(self.rx) - JITTER_FRAMES * FRAME_BYTES
                del self.rx[:drop - drop % 2]
                self.overruns += 1

    def frame(self) -> np.ndarray:
        """160 received samples (silence when the module sent none), with the echo of
        what we sent taken away when the module has an echo canceller."""
        pcm = self._frame()
        if not self.config.echo_canceller or not self.voice.in_call:
            if self.canceller is not None:
                self.echo_double_talk += self.canceller.double_talk
            self.canceller, self.last_sent = None, None
            return pcm
        if self.canceller is None:
            self.canceller = EchoCanceller(self.config.echo_canceller)
        sent, self.last_sent = self.last_sent, None
        return self.canceller.process(pcm, sent)

    def _frame(self) -> np.ndarray:
        if self.pacer is not None:
            pcm = self.pacer.frame()
            if pcm is not None:
                return _scaled(pcm, self.rx_scale)
        elif len(self.rx) >= FRAME_BYTES:
            pcm = np.frombuffer(bytes(self.rx[:FRAME_BYTES]), dtype="<i2").astype(np.int16)
            del self.rx[:FRAME_BYTES]
            return _scaled(pcm, self.rx_scale)
        if self.voice.in_call:
            self.underruns += 1
        return np.zeros(FRAME_SAMPLES, dtype=np.int16)

    def send(self, samples: np.ndarray, now: float) -> None:
        if not self.voice.in_call or self.lost is not None:
            return
        if self.config.echo_canceller:
            self.last_sent = _scaled(samples, self.tx_scale)
        if self.alsa is not None and self.pacer is not None:
            try:
                self.alsa.write(self.pacer.playback(_scaled(samples, self.tx_scale)))
            except OSError as err:
                self._lose(f"the module's sound card failed: {err}", now)
            return
        if self.audio is None:
            return
        data = _scaled(samples, self.tx_scale).astype("<i2").tobytes()
        try:
            self.audio.write(data)
        except (serial.SerialException, OSError) as err:
            self._lose(f"the module's audio port failed: {err}", now)
            return
        if self.emulated is not None:
            self.emulated.audio.incoming += len(data)

    def current_alarm(self) -> Alarm:
        st = self.voice.status
        return Alarm.NONE if (self.lost is None and st.initialised and st.sim == "ready"
                              and st.registered) else Alarm.RED


def _alsa_device(audio: str, at_path: str) -> str:
    """The ALSA device of a module's USB audio: named (``alsa:<device>``), or the card of
    its USB port (``uac:<port>``) or of the USB device its AT port is on (``uac``)."""
    if audio.startswith("alsa:"):
        return audio[5:]
    port = audio[4:] if audio.startswith("uac:") else usb_port_of_tty(at_path)
    return find_uac_card(port).device


def _scaled(pcm: np.ndarray, scale: float) -> np.ndarray:
    """``pcm`` times ``scale``, saturated at 16 bits (as a codec clips)."""
    if scale == 1.0:
        return pcm
    return np.clip(np.rint(pcm * scale), -32768, 32767).astype(np.int16)


class _Link:
    """A module's :class:`ModemLink`: requests now, answers as the card ticks."""

    def __init__(self, card: MobileCard, module: _Module) -> None:
        self._card = card
        self._module = module

    @property
    def ready(self) -> bool:
        return self._module.lost is None and self._module.voice.ready

    def dial(self, number: str) -> None:
        self._module.voice.dial(number, self._card.now)
        self._module.events.extend(self._module.voice.take_call_events())

    def answer(self) -> None:
        self._module.voice.answer(self._card.now)

    def hang_up(self) -> None:
        self._module.voice.hang_up(self._card.now)

    def send_dtmf(self, digits: str) -> None:
        self._module.voice.send_dtmf(digits, self._card.now)

    def receive(self) -> ModemCallEvent | None:
        return self._module.events.popleft() if self._module.events else None

    def status(self) -> dict[str, Any]:
        m = self._module
        return {"name": m.config.name, "profile": m.config.profile,
                "port": m.at.port if m.at is not None else m.config.port,
                "audio": (m.audio.port if m.audio is not None else
                          m.alsa.device if m.alsa is not None else m.config.audio),
                "emulated": m.config.emulated, "lost": m.lost, **m.voice.status.as_dict(),
                "pin_source": m.config.pin_source, "audio_choice": m.audio_choice,
                "echo_canceller": m.config.echo_canceller,
                "echo_double_talk": m.echo_double_talk + (
                    m.canceller.double_talk if m.canceller else 0),
                "audio_underruns": m.underruns,
                "audio_overruns": m.overruns + (m.pacer.overruns if m.pacer else 0)}


class MobileCard(CardABC):
    """GSM/LTE modules (see the module docstring), configured by TOML (:mod:`.config`)."""

    backend = "mobile"

    @classmethod
    def from_url_argument(cls, argument: str, **options: Any) -> MobileCard:
        """``mobile`` (the bundled sample: two emulated modules) or ``mobile:CARD.toml``;
        options ``clock``, ``network`` (emulated modules' number plan), ``seed``."""
        unknown = set(options) - {"clock", "network", "seed"}
        if unknown:
            raise ConfigError(f"the mobile backend takes no option "
                              f"{', '.join(sorted(unknown))}; its options are clock, "
                              "network and seed")
        config = load_mobile_config(argument) if argument else sample_mobile_config()
        return cls(config, **options)

    def __init__(self, config: MobileCardConfig | None = None, *, clock: Clock | None = None,
                 network: Any = None, seed: int | None = None) -> None:
        config = config or sample_mobile_config()
        self.config = config
        seed = config.seed if seed is None else seed
        emulated = [m for m in config.modules if m.emulated]
        self.plan = self._plan(config, network) if emulated else None
        if network is not None and self.plan is None:
            raise ConfigError("a number plan is for emulated modules: this mobile card has "
                              "none (its modules are on real networks)")
        spans, channels = [], []
        for i, m in enumerate(config.modules, start=1):
            where = "emulated" if m.emulated else m.port
            spans.append(SpanInfo(i, SpanKind.MOBILE, SpanSignalling.MOBILE, (i,), law=config.law,
                                  description=f"{m.name}: {m.profile} module ({where})",
                                  protocol=m.profile))
            channels.append(ChannelInfo(i, i, ChannelSignalling.BCHAN, config.law, 1))
        super().__init__(spans, channels, clock=clock or RealClock(),
                         tone_zone=self.plan.zone if self.plan is not None else config.zone)
        self._modules = [_Module(i, m, config.law) for i, m in enumerate(config.modules, 1)]
        self._bank: Any = None
        self._events: list[CardEvent] = []
        self._status = {s.number: SpanStatus(s.number) for s in spans}
        self._t0 = self.clock.now()
        self._frame = 0
        self.overruns = 0
        self._ulaw = config.law == "ulaw"
        try:
            self._open_modules(emulated, seed)
            self._initialise()
        except BaseException:
            self._close_internal_card()
            raise
        for module in self._modules:
            module.alarm = module.current_alarm()
            self._status[module.number].alarms = module.alarm

    @staticmethod
    def _plan(config: MobileCardConfig, network: Any) -> Any:
        from trunkline.drivers.backends.emulated.plan import NumberPlan, default_plan, load_plan

        if isinstance(network, NumberPlan):
            return network
        if network is not None:
            return load_plan(network)
        if config.network is not None:
            return load_plan(config.network)
        return default_plan()

    def _open_modules(self, emulated: list[ModuleConfig], seed: int) -> None:
        if emulated:
            from trunkline.drivers.backends.emulated.modem import ModemBank, ModemSettings

            assert self.plan is not None  # emulated modules have a number plan
            # Each emulated SIM its own identity (MCC 460, MNC 00; ICCID prefix 8986).
            self._bank = ModemBank(self.plan, [
                (m.name, ModemSettings(number=m.number, sim=m.sim, registration=m.registration,
                                       rssi=m.rssi, operator=m.operator, faults=m.faults,
                                       sim_pin=m.sim_pin, pin_attempts=m.pin_attempts,
                                       echo_erl_db=m.echo_path[0] if m.echo_path else None,
                                       echo_delay_ms=m.echo_path[1] if m.echo_path else 0.0,
                                       imsi=f"4600012345678{i:02d}",
                                       iccid=f"898600123456789012{i:02d}"))
                for i, m in enumerate(emulated, start=1)], seed)
        modems = iter(self._bank.modems if self._bank is not None else ())
        for module in self._modules:
            if module.config.emulated:
                modem = next(modems)
                module.emulated = modem
                module.open(modem.at.path, modem.audio.path)
            else:
                module.open(module.config.port, module.config.audio)

    def _initialise(self) -> None:
        """Run every module's init before the card is handed out, so its spans say
        from the start whether they are in service. Card time does not move: emulated
        modules answer at once; real ones are waited for (at most INIT_SECONDS)."""
        for module in self._modules:
            module.voice.start(0.0)
        deadline = time.monotonic() + INIT_SECONDS
        while any(m.voice.channel.busy and m.lost is None for m in self._modules):
            if self._bank is not None:
                self._bank.exchange(0.0)
            for module in self._modules:
                module.pump(0.0)
            if self._bank is None:
                time.sleep(0.02)
            if time.monotonic() > deadline:
                break
        for module in self._modules:
            module.events.clear()

    # -- what the card knows ---------------------------------------------------------
    @property
    def name(self) -> str:
        return self.config.name

    @property
    def now(self) -> float:
        """Card time: seconds since the card opened, at the last frame read."""
        return self._frame * TICK_SECONDS

    @property
    def number_plan(self) -> Any:
        return self.plan

    def emulated_modem(self, span: int) -> Any:
        """The emulated module behind ``span`` (for tests and the emulation's controls:
        ring it, reset it, hang its far end up); ChannelStateError for a real one."""
        module = self._module(span)
        if module.emulated is None:
            raise ChannelStateError(f"span {span} ({module.config.name}) is a real module")
        return module.emulated

    def hardware(self) -> list[dict[str, Any]]:
        return [{"span": m.number, "name": m.config.name,
                 "location": m.at.port if m.at is not None else m.config.port,
                 "manufacturer": "emulated" if m.config.emulated else m.config.profile,
                 **_Link(self, m).status()} for m in self._modules]

    def alarm_detail(self, span: int) -> list[str]:
        """Why a module is out of service: ``port lost``, ``not answering``, ``SIM
        absent`` / ``SIM pin`` / ``SIM puk``, ``not registered (denied)``..."""
        module = self._module(span)
        st = module.voice.status
        if module.lost is not None:
            return ["port lost"]
        if not st.responding:
            return ["not answering"]
        if not st.initialised:
            return ["starting"]
        if st.sim != "ready":
            note = f" ({st.pin_note})" if st.pin_note and st.sim in ("pin", "puk") else ""
            return [f"SIM {st.sim}{note}"]  # (no SIM, no network: the SIM is the news)
        if not st.registered:
            return [f"not registered ({st.as_dict()['registration']})"]
        return []

    def _module(self, span: int) -> _Module:
        self.span(span)
        return self._modules[span - 1]

    # -- CardABC --------------------------------------------------------------------
    def _open_internal(self, channel: int) -> None:
        pass

    def _close_internal(self, channel: int) -> None:
        pass

    def _read_internal(self) -> np.ndarray:
        deadline = self._t0 + (self._frame + 1) * TICK_SECONDS
        self.clock.sleep_until(deadline)
        late = self.clock.now() - deadline
        if late > 4 * TICK_SECONDS:
            # Fell behind: the modules' PCM piled up meanwhile; the jitter buffer drops
            # what is too old (counted per module) and card time catches up.
            missed = int(late / TICK_SECONDS)
            self._frame += missed
            self.overruns += 1
            self._audio_gaps.update(self._open)
        self._frame += 1
        now = self.now
        if self._bank is not None:
            self._bank.step(now)
        for module in self._modules:
            dropped = module.overruns
            module.pump(now)
            self._check_alarm(module, now)
            if module.overruns != dropped:  # its jitter buffer dropped older audio
                self._audio_gaps.add(module.number)
        rows = [self._modules[ch - 1].frame() for ch in self._open]
        if not rows:
            return np.zeros((0, FRAME_SAMPLES), dtype=np.uint8)
        pcm = np.stack(rows)
        return g711.encode_mixed(pcm, np.full(len(rows), self._ulaw))

    def _check_alarm(self, module: _Module, now: float) -> None:
        alarm = module.current_alarm()
        if alarm != module.alarm:
            module.alarm = alarm
            self._status[module.number].alarms = alarm
            kind = EventKind.ALARM if alarm else EventKind.NOALARM
            self._events.append(CardEvent(now, kind, 0, module.number, int(alarm)))

    def _write_internal(self, codes: np.ndarray) -> None:
        if not len(self._open):
            return
        pcm = g711.decode_mixed(codes, np.full(len(self._open), self._ulaw))
        for row, channel in enumerate(self._open):
            self._modules[channel - 1].send(pcm[row], self.now)

    def _hook_internal(self, channel: int, op: HookOp) -> None:
        raise ChannelStateError(f"cannot {op} channel {channel}: it is a mobile module's "
                                "voice channel (hook operations are for analog ports)")

    def _dial_internal(self, channel: int, digits: str, mode: DialMode) -> None:
        raise ChannelStateError(f"cannot dial on channel {channel}: not an FXO port (a "
                                "mobile module dials through its modem link)")

    def _poll_events_internal(self) -> list[CardEvent]:
        events, self._events = self._events, []
        return events

    def _channel_state_internal(self, channel: int) -> ChannelState:
        module = self._modules[channel - 1]
        if module.alarm:
            return ChannelState.OUT_OF_SERVICE
        return ChannelState.IN_USE if module.voice.in_call else ChannelState.IDLE

    def _span_status_internal(self, span: int) -> SpanStatus:
        status = self._status[span]
        module = self._modules[span - 1]
        status.counters.read_overruns = module.overruns
        return status

    def _dchannel_internal(self, span: int) -> HdlcLink:
        raise BackendError(f"span {span} is a mobile module: no D-channel")

    def _modem_internal(self, span: int) -> ModemLink:
        return _Link(self, self._module(span))

    def _sms_internal(self, span: int) -> SmsLink:
        return self._module(span).sms

    def _close_internal_card(self) -> None:
        for module in self._modules:
            module.close()
        if self._bank is not None:
            self._bank.close()
