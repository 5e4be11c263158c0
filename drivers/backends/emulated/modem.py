"""An emulated GSM/LTE module: AT commands on one pseudo-terminal, PCM on another.

The mobile backend must be tested as it runs on a real module: pyserial on a serial
device, bytes both ways, nothing mocked. So the emulation is a modem of our own behind
a real pty pair (``os.openpty``) for its AT port and a second pair for its audio port,
which carries 8 kHz 16-bit little-endian PCM in 20 ms frames of 320 bytes, as Quectel's
voice over USB (EC2x, AT+QPCMV) and SIMCom's USB audio port (SIM7600, AT+CPCMREG) do
and chan_dongle's audio port did on Huawei sticks.

Its calls reach the emulated network's number plan (plan.py) through a port of the
simulated network (:class:`ModemLine`), so every subscriber behaviour works as on the
emulated card's trunks: the far end's plan (farend.py) says when it alerts, answers,
clears and with which cause, and its audio (ringback, announcements, speech, a
machine's greeting) flows on the audio port.

What it answers follows 3GPP TS 27.007 and the vendors' AT manuals (Quectel EC2x AT
Commands Manual; SIMCom SIM7500/SIM7600 AT Command Manual):

* ``ATE0/1``, ``ATI``, ``AT+CMEE=0/1/2`` (+CME ERROR numeric or verbose, §9.1),
  ``AT+CPIN?`` and ``AT+CPIN=<pin>`` (§8.3: a wrong PIN costs an attempt, the last one
  blocks the SIM), the PIN retry counters (§8.65 ``AT+CPINR``, Quectel ``AT+QPINC?``,
  SIMCom ``AT+SPIC``, Huawei ``AT^CPIN?``), ``AT+CIMI`` (§5.6),
  ``AT+QCCID``/``AT+CICCID``/``AT+CCID``,
  ``AT+CREG``/``AT+CEREG`` (§7.2, §10.1.22, set ``n`` and read), ``AT+COPS`` (§7.3),
  ``AT+CSQ`` (§8.5), ``AT+CLIP=1`` (§7.6), ``AT+CLCC`` (§7.18, and ``=1`` for SIMCom's
  unsolicited lists), ``AT^DSCI=1`` (Quectel's call status URC), ``ATD<n>;`` (V.250
  §6.3.1, TS 27.007 §6.2: OK at once, the end comes later as NO CARRIER or BUSY),
  ``ATA``, ``ATH``/``AT+CHUP`` (§6.5), ``AT+VTS`` (§C.2.11), ``AT+CEER`` (§6.10;
  this modem reports ``+CEER: "<cause name>",<cause>`` with the TS 24.008 cause),
  ``AT+CFUN``, ``AT+CLVL`` (§8.23, 0..5, kept but not applied to the audio), the
  audio switches (``AT+QPCMV``, ``AT+CPCMREG``, ``AT^CVOICE``,
  ``AT^DDSETEX``; ``AT^CVOICE?`` answers voice on, or ``ERROR`` without ``voice``), and
  OK to the SMS set-up commands (``AT+CMGF``, ``AT+CNMI``, ``AT+CSCS``); anything
  else is ``ERROR``.
* An incoming call rings as ``RING`` every 3 s with ``+CLIP`` after each ring when
  AT+CLIP=1 (§7.6), and stat 4 in +CLCC.

A synthetic echo path (``echo_erl_db``, ``echo_delay_ms``) returns what the backend
sends in what it receives, for the software echo canceller's tests and benchmark.

Faults (the issue's list): no SIM (``+CPIN``: +CME ERROR 10), a SIM asking for its PIN
(again after every reset) or blocked (PUK), no network (+CREG stat 0
or 3), weak signal (+CSQ 3), a reset (the call drops silently, boot noise at the wrong
baud rate, then ``RDY``, ``+CFUN: 1``, ``+CPIN: READY`` as Quectel modules print after
power-on, and echo back on), garbage on the line, and an unplug (both ttys hang up for
good, as a module leaving the USB bus).

SMS in PDU mode (TS 27.005): ``AT+CPMS``, ``AT+CMGL``, ``AT+CMGR``, ``AT+CMGD`` on a SIM
store, ``AT+CMGS`` with its ``> `` prompt (the SUBMIT is decoded and kept in
``sms_sent``; a status report follows 3 s later as ``+CDS`` when it asked for one), and
arrivals (:meth:`EmulatedModem.receive_sms`) stored and announced with ``+CMTI``.

What it does not emulate: data calls, multiparty and held calls, PUK entry, the modem's
own audio processing (echo cancelling, gain), SMS failures on the network's side.

Why one module of this size: it is one emulated module, its AT command set answered
command by command beside the manual section it follows, with its call, SIM store and
faults; the number plan's far ends it routes to are farend.py's.
"""

from __future__ import annotations

import contextlib
import functools
import os
import select
import tty
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from trunkline.causes import Q850_CAUSES
from trunkline.drivers.backends.emulated.farend import FarEndPlan, build_plan
from trunkline.drivers.backends.emulated.network import Network, Port
from trunkline.drivers.backends.emulated.plan import Behaviour, NumberPlan, Subscriber
from trunkline.drivers.backends.emulated.sounds import NetworkSounds
from trunkline.drivers.dsp.zones import load_zone
from trunkline.drivers.model import FRAME_SAMPLES

__all__ = ["EmulatedModem", "ModemBank", "ModemLine", "ModemSettings", "PtyPair"]

#: Seconds from ATD to the network's first answer (alerting, busy...): call set-up.
ROUTING_DELAY = 1.0
#: Seconds between RINGs of an incoming call (TS 27.007 leaves it to the network).
RING_EVERY = 3.0
#: Seconds a reset module takes to boot.
BOOT_SECONDS = 2.0
FRAME_BYTES = FRAME_SAMPLES * 2

_CME_TEXT = {3: "operation not allowed", 4: "operation not supported", 10: "SIM not inserted",
             11: "SIM PIN required", 12: "SIM PUK required", 16: "incorrect password",
             30: "no network service", 100: "unknown"}


@dataclass
class ModemSettings:
    """One emulated module's SIM, network and faults (the card config's ``[[module]]``)."""

    number: str = ""
    """The SIM's own number (what callers dial; shown in status)."""
    sim: str = "ready"
    """``ready``, ``absent``, ``pin`` (the SIM's PIN lock is on: it asks for
    :attr:`sim_pin` at every power-up) or ``puk`` (blocked)."""
    sim_pin: str = "1234"
    """The PIN the emulated SIM takes (AT+CPIN)."""
    pin_attempts: int = 3
    """PIN attempts left (TS 31.102: 3 at most); a wrong PIN at 1 blocks the SIM (PUK)."""
    puk_attempts: int = 10
    registration: int = 1
    """TS 27.007 §7.2 <stat>: 1 home, 5 roaming, 0 not searching, 2 searching, 3 denied."""
    rssi: int = 20
    """+CSQ <rssi> 0..31 (3 is a weak signal, about -107 dBm)."""
    operator: str = "CHINA MOBILE"
    imsi: str = "460001234567890"
    iccid: str = "89860012345678901234"
    faults: tuple[tuple[float, str], ...] = ()
    """(seconds after start, ``reset`` | ``garbage`` | ``unplug``)."""
    voice: bool = True
    """False: firmware without voice (Huawei operator firmware): ``AT^CVOICE?`` is
    ``ERROR``."""
    echo_erl_db: float | None = None
    """A synthetic echo path: what the backend sends comes back in what it receives,
    this many dB down (the echo return loss); None: no echo."""
    echo_delay_ms: float = 0.0
    """The echo's bulk delay (on top of the 20 ms the ports take)."""


class PtyPair:
    """A pseudo-terminal: our end (master, non-blocking) and the device path the
    backend opens with pyserial (the slave, in raw mode, so CR and LF pass as they are)."""

    #: How long a read waits for bytes the other end says it has written.
    WAIT = 2.0

    def __init__(self) -> None:
        self.master, self._slave = os.openpty()
        tty.setraw(self._slave)
        os.set_blocking(self.master, False)
        self.path = os.ttyname(self._slave)
        #: Bytes written to the device side so far (the reader's count to wait for).
        self.written = 0
        #: Bytes the device side says it wrote to us and we have not read yet.
        self.incoming = 0
        self.closed = False

    def read(self) -> bytes:
        """What the device side wrote: everything there, and at least the ``incoming``
        bytes it announced (the kernel hands pty data over asynchronously; waiting for
        an announced count keeps virtual-time runs repeatable)."""
        chunks: list[bytes] = []
        got = 0
        while not self.closed:
            try:
                chunk = os.read(self.master, 65536)
            except (BlockingIOError, OSError):
                chunk = b""
            if chunk:
                chunks.append(chunk)
                got += len(chunk)
                continue
            if got >= self.incoming:
                break
            ready, _, _ = select.select([self.master], [], [], self.WAIT)
            if not ready:
                break
        self.incoming = max(0, self.incoming - got)
        return b"".join(chunks)

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view and not self.closed:
            try:
                n = os.write(self.master, view)
            except OSError:
                # The reader is not reading (what does not fit is lost, as on a UART whose
                # receiver overflows), or the device is gone.
                return
            self.written += n
            view = view[n:]

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        for fd in (self.master, self._slave):
            with contextlib.suppress(OSError):
                os.close(fd)


class ModemLine(Port):
    """The network's end of a module's radio link: it routes the module's calls through
    the number plan and plays the far end on the module's audio row."""

    def __init__(self, network: Network, row: int, modem: EmulatedModem) -> None:
        super().__init__(network, 0, 0, row)
        self.modem = modem
        self.plan: FarEndPlan | None = None

    def call(self, number: str) -> None:
        sub = self.network.plan.lookup(number)
        plan = build_plan(sub, self.network.sounds, self.network.call_rng())
        self.plan = plan
        self.cancel_timers()

        def routed() -> None:
            self.play(plan.early)
            if plan.alerting:
                self.modem.network_alerting()
            if plan.answer_after is not None:
                self.after(plan.answer_after, self._answered)
            if plan.release_after is not None:
                self.after(plan.release_after, lambda: self._clear(plan.cause))

        self.after(ROUTING_DELAY, routed)

    def ring_in(self, behaviour: Behaviour) -> FarEndPlan:
        """The plan of a caller calling the module (answered when the module answers)."""
        sub = Subscriber(pattern="inbound", behaviour=behaviour,
                         language=self.network.plan.language)
        self.plan = build_plan(sub, self.network.sounds, self.network.call_rng())
        return self.plan

    def connect_inbound(self) -> None:
        plan = self.plan
        assert plan is not None
        self.cancel_timers()
        self.start_far_end(plan)
        if plan.hangup_after is not None:
            self.after(plan.hangup_after, lambda: self._clear(16))

    def _answered(self) -> None:
        plan = self.plan
        assert plan is not None
        self.start_far_end(plan)
        self.modem.network_answered()
        if plan.hangup_after is not None:
            self.after(plan.hangup_after, lambda: self._clear(16))

    def _clear(self, cause: int) -> None:
        self.release()
        self.modem.network_released(cause)

    def release(self) -> None:
        self.cancel_timers()
        self.attach_live(None)
        self.silence()
        self.plan = None


@dataclass
class _ModemCall:
    direction: str
    number: str
    stat: int
    """TS 27.007 §7.18: 0 active, 2 dialing, 3 alerting, 4 incoming."""
    rings_left: int = 0
    behaviour: Behaviour = Behaviour.HUMAN


@dataclass
class _Timers:
    items: list[tuple[float, int, Callable[[], object]]] = field(default_factory=list)
    generation: int = 0

    def after(self, when: float, action: Callable[[], object]) -> None:
        self.items.append((when, self.generation, action))

    def due(self, now: float) -> list[Callable[[], object]]:
        ready = [(t, g, a) for t, g, a in self.items if t <= now + 1e-9]
        self.items = [(t, g, a) for t, g, a in self.items if t > now + 1e-9]
        return [a for _t, g, a in sorted(ready, key=lambda x: x[0]) if g == self.generation]


class EmulatedModem:
    """One emulated module (see the module docstring). The card steps it each tick
    with :meth:`step`; everything it says goes through its ptys."""

    def __init__(self, name: str, network: Network, row: int,
                 settings: ModemSettings | None = None) -> None:
        self.name = name
        self.settings = settings or ModemSettings()
        self.at = PtyPair()
        self.audio = PtyPair()
        self.line = ModemLine(network, row, self)
        network.add_port(self.line)
        self.line.silence()
        self.network = network
        self.now = 0.0
        #: Every command line the module received, in order (for tests).
        self.received: list[str] = []
        #: DTMF digits the module was asked to send (AT+VTS).
        self.dtmf_sent = ""
        self._input = bytearray()
        self._out = bytearray()
        # Three clocks of events: faults (never cancelled), what a reset cancels (the
        # boot, status reports), and an incoming call's rings (answer and reset cancel).
        self._faults = _Timers()
        self._timers = _Timers()
        self._rings = _Timers()
        self._call: _ModemCall | None = None
        self._last_cause = 0
        self._booting = False
        #: The SIM's message store: index -> (TS 27.005 <stat>: 0 unread, 1 read; PDU hex).
        self.sms_store: dict[int, tuple[int, str]] = {}
        #: SMS-SUBMITs the module sent for us, in order.
        self.sms_sent: list[Any] = []
        self._mr = 0
        #: The SIM as it is now: ``ready``, ``absent``, ``pin`` (locked) or ``puk``.
        self.sim_state = self.settings.sim
        self.pin_left = self.settings.pin_attempts if self.settings.sim != "puk" else 0
        self.puk_left = self.settings.puk_attempts
        self._prompt_for: int | None = None
        self._pdu = bytearray()
        self._reset_state()
        s = self.settings
        self._echo = None if s.echo_erl_db is None else _EchoPath(
            int(s.echo_delay_ms * 8), s.echo_erl_db)
        for at, kind in self.settings.faults:
            self._faults.after(at, functools.partial(self.inject, kind))

    def _reset_state(self) -> None:
        self.echo = True
        self.volume = 3
        self.cmee = 0
        self.clip = False
        self.creg_n = 0
        self.cereg_n = 0
        self.dsci = False
        self.clcc_urc = False

    # -- the card's tick --------------------------------------------------------------
    def step(self, now: float, heard: np.ndarray | None = None) -> np.ndarray:
        """Advance to ``now``: read what the backend wrote, answer it, run timers.
        Returns the 160 samples the backend sent on the audio port (silence if none)."""
        self.now = now
        for timers in (self._faults, self._timers, self._rings):
            for action in timers.due(now):
                action()
        data = self.at.read()
        if data and not self._booting:
            self._receive(data)
        tx = self.audio.read()
        frame = np.zeros(FRAME_SAMPLES, dtype=np.float32)
        if tx and self._call is not None:
            samples = np.frombuffer(tx[: len(tx) // 2 * 2], dtype="<i2")[-FRAME_SAMPLES:]
            frame[: samples.size] = samples
        #: The last 20 ms the backend sent (for tests: what the far end heard).
        self.heard = frame
        return frame

    def flush(self) -> None:
        """Send what the module has to say on its AT port."""
        if self._out:
            self.at.write(bytes(self._out))
            self._out.clear()

    def send_audio(self, frame: np.ndarray) -> None:
        """The far end's 20 ms of audio, onto the audio port while a call is up."""
        if self._call is None or self._booting:
            return
        if self._echo is not None:
            frame = frame + self._echo.next(self.heard)
        pcm = np.clip(np.rint(frame), -32768, 32767).astype("<i2")
        self.audio.write(pcm.tobytes())

    def close(self) -> None:
        self.at.close()
        self.audio.close()

    # -- faults and the far end's doings ------------------------------------------------
    def inject(self, kind: str) -> None:
        if kind == "reset":
            self.reset()
        elif kind == "unplug":
            self.unplug()
        elif kind == "garbage":
            self.garbage(b"\xff\x00\xfe~~\x13NO\x80\x81CARR\r\n\x07\x7f%%%\r\n")
        else:
            raise ValueError(f"unknown module fault {kind!r}: reset, garbage or unplug")

    def reset(self) -> None:
        """The module restarts: the call drops without a word, then it boots."""
        self._drop_call()
        self._booting = True
        self._timers.generation += 1
        self._rings.generation += 1
        self._input.clear()
        self._out.clear()

        def booted() -> None:
            self._booting = False
            self._reset_state()
            # Boot-loader output at another baud rate reads as noise on ours.
            self._out += b"\x00\xf0\xfe\x1c\x8f"
            self._urc("RDY")
            self._urc("+CFUN: 1")
            if self.sim_state == "ready" and self.settings.sim == "pin":
                self.sim_state = "pin"  # the SIM's PIN lock asks again at power-up
            self._urc(_CPIN_URC[self.sim_state])
            self._urc("SMS DONE")

        self._timers.after(self.now + BOOT_SECONDS, booted)

    def unplug(self) -> None:
        """The module leaves the USB bus: its ttys hang up and never come back (a real
        one comes back under a new tty, or the same udev name, when plugged again)."""
        self._drop_call()
        self._booting = True
        self._timers.generation += 1
        self._rings.generation += 1
        self.at.close()
        self.audio.close()

    def garbage(self, data: bytes) -> None:
        self._out += data

    def set_registration(self, stat: int) -> None:
        if stat == self.settings.registration:
            return
        self.settings.registration = stat
        if self.creg_n:
            self._urc(f"+CREG: {self._creg_fields(self.creg_n)}")
        if self.cereg_n:
            self._urc(f"+CEREG: {self._creg_fields(self.cereg_n)}")
        if stat not in (1, 5) and self._call is not None:
            self._network_drop(38 if stat == 0 else 41)  # network out of order / temporary

    def set_signal(self, rssi: int) -> None:
        self.settings.rssi = rssi

    def ring_in(self, number: str = "13800000001", behaviour: Behaviour = Behaviour.HUMAN,
                rings: int = 6) -> None:
        """A caller calls the module's SIM."""
        if self._call is not None or self._booting:
            raise RuntimeError(f"module {self.name} is busy")
        self.line.ring_in(behaviour)
        self._call = _ModemCall("in", number, 4, rings, behaviour)
        self._report_stat()
        self._ring()

    def far_hang_up(self) -> None:
        """The far end of the call hangs up now."""
        if self._call is not None:
            self.line.release()
            self.network_released(16)

    def press(self, digits: str) -> None:
        """The far end keys DTMF into the call (heard on the audio port)."""
        from trunkline.drivers.backends.emulated.network import Step
        from trunkline.drivers.dsp.tones import dtmf, silence

        audio = np.concatenate([np.concatenate([dtmf(d, 100), silence(100)])
                                for d in digits])
        clip = self.network.sounds.bank.add(audio, f"keys:{digits}")
        self.line.play([Step(clip, label="dtmf")])

    @property
    def call_state(self) -> int | None:
        return None if self._call is None else self._call.stat

    # -- what the network says ----------------------------------------------------------
    def network_alerting(self) -> None:
        if self._call is not None and self._call.stat == 2:
            self._call.stat = 3
            self._report_stat()

    def network_answered(self) -> None:
        if self._call is not None and self._call.stat in (2, 3):
            self._call.stat = 0
            self._report_stat()

    def network_released(self, cause: int) -> None:
        self._network_drop(cause)

    def _network_drop(self, cause: int) -> None:
        if self._call is None:
            return
        self._last_cause = cause
        self._call.stat = 6
        self._report_stat()
        self._drop_call()
        # V.250 §5.7.1: BUSY when the called line is busy; NO CARRIER otherwise.
        self._urc("BUSY" if cause == 17 else "NO CARRIER")

    def _drop_call(self) -> None:
        self._call = None
        self.line.release()

    def _ring(self) -> None:
        call = self._call
        if call is None or call.direction != "in" or call.stat != 4:
            return
        if call.rings_left <= 0:
            self._last_cause = 19  # the caller gave up
            call.stat = 6
            self._report_stat()
            self._drop_call()
            self._urc("NO CARRIER")
            return
        call.rings_left -= 1
        self._urc("RING")
        if self.clip:
            self._urc(f'+CLIP: "{call.number}",{_ton(call.number)},,,,0')
        self._rings.after(self.now + RING_EVERY, self._ring)

    # -- AT -------------------------------------------------------------------------------
    def _receive(self, data: bytes) -> None:
        for byte in data:
            if self._prompt_for is not None:
                self._pdu_byte(byte)
                continue
            if byte == 0x0D:  # S3 ends the command line (V.250 §5.2.1)
                line = self._input.decode("latin-1").strip()
                self._input.clear()
                if self.echo:
                    self._out += line.encode("latin-1") + b"\r"
                if line:
                    self.received.append(line)
                    self._command(line)
            elif byte != 0x0A:
                self._input.append(byte)

    def _urc(self, text: str) -> None:
        self._out += b"\r\n" + text.encode("latin-1") + b"\r\n"

    def _reply(self, *lines: str, final: str = "OK") -> None:
        for line in lines:
            self._out += b"\r\n" + line.encode("latin-1") + b"\r\n"
        self._out += b"\r\n" + final.encode("ascii") + b"\r\n"

    def _error(self, code: int) -> None:
        if self.cmee == 0:
            self._reply(final="ERROR")
        elif self.cmee == 1:
            self._reply(final=f"+CME ERROR: {code}")
        else:
            self._reply(final=f"+CME ERROR: {_CME_TEXT.get(code, 'unknown')}")

    @property
    def registration(self) -> int:
        """What +CREG says: without a SIM a module does not register (0)."""
        return self.settings.registration if self.sim_state == "ready" else 0

    def _creg_fields(self, n: int, *, read: bool = False) -> str:
        stat = self.registration
        fields = [str(stat)]
        if n >= 2 and stat in (1, 5):
            fields += ['"1A2B"', '"01C3D4E5"', "7"]
        return (f"{n}," if read else "") + ",".join(fields)

    def _command(self, line: str) -> None:
        upper = line.upper()
        if not upper.startswith("AT"):
            self._reply(final="ERROR")
            return
        body = upper[2:]
        sim = self.sim_state == "ready"
        handler = _HANDLERS.get(body)
        if handler is not None:
            handler(self)
            return
        if body.startswith("D") and body.endswith(";"):
            self._dial(line[3:-1])
        elif body.startswith("E") and body[1:] in ("0", "1"):
            self.echo = body[1:] == "1"
            self._reply()
        elif body.startswith("+CMEE="):
            self.cmee = int(body[6:]) if body[6:] in ("0", "1", "2") else self.cmee
            self._reply()
        elif body.startswith("+CLIP="):
            self.clip = body.endswith("1")
            self._reply()
        elif body.startswith(("+CREG=", "+CEREG=")):
            value = body.split("=", 1)[1] or "0"
            if value not in ("0", "1", "2", "3"):  # TS 27.007 §7.2 <n>
                self._error(4)
                return
            if body.startswith("+CREG="):
                self.creg_n = int(value)
            else:
                self.cereg_n = int(value)
            self._reply()
        elif body == "^DSCI=1":
            self.dsci = True
            self._reply()
        elif body == "+CLCC=1":
            self.clcc_urc = True
            self._reply()
        elif body.startswith("+VTS="):
            if self._call is None or self._call.stat != 0:
                self._error(3)
            else:
                self.dtmf_sent += line[7:].strip('"')
                self._reply()
        elif body.startswith(("+CIMI", "+QCCID", "+CICCID", "+CCID")):
            if not sim:
                self._sim_error()
            elif body.startswith("+CIMI"):
                self._reply(self.settings.imsi)
            else:
                name = body.split("=")[0].lstrip("+")
                label = {"QCCID": "+QCCID", "CICCID": "+ICCID", "CCID": "+CCID"}[name]
                self._reply(f"{label}: {self.settings.iccid}")
        elif body.startswith("+CPIN="):
            self._enter_pin(line)
        elif body.startswith("+CLVL"):
            # TS 27.007 §8.23 loudspeaker volume: this module's range is 0..5 (the range
            # is the manufacturer's; +CLVL=? says it); its audio is not scaled by it.
            value = body[6:]
            if body == "+CLVL?":
                self._reply(f"+CLVL: {self.volume}")
            elif body == "+CLVL=?":
                self._reply("+CLVL: (0-5)")
            elif body.startswith("+CLVL=") and value.isdigit() and int(value) <= 5:
                self.volume = int(value)
                self._reply()
            else:
                self._error(4)
        elif body in ("+QPINC?", "+SPIC", "^CPIN?", "+CPINR", '+CPINR="SIM PIN"'):
            self._pin_counters(body)
        elif body == "^CVOICE?":
            # Huawei: <mode> 0 is voice on, then the PCM's rate, bits and frame period
            # (chan_dongle reads it at init to know the stick has voice).
            if self.settings.voice:
                self._reply("^CVOICE: 0,8000,16,20")
            else:
                self._reply(final="ERROR")
        elif body.startswith(("+CMGF", "+CNMI", "+CSCS", "+QPCMV", "+CPCMREG", "^CVOICE",
                              "^DDSETEX", "+COPS=", "+CFUN=")):
            self._reply()
        elif body.startswith(("+CPMS", "+CMGL", "+CMGR=", "+CMGD=", "+CMGS=")):
            self._sms_command(body)
        else:
            self._reply(final="ERROR")

    def _at(self) -> None:
        self._reply()

    def _restore(self) -> None:
        """ATZ (V.250 §6.1.1): back to the stored profile, echo on."""
        self._reset_state()
        self._reply()

    def _ati(self) -> None:
        self._reply("trunkline", "Emulated EC25", "Revision: emulated-1")

    def _cpin(self) -> None:
        """TS 27.007 §8.3 +CPIN? (<code> READY, SIM PIN, SIM PUK; CME 10 without SIM)."""
        if self.sim_state == "absent":
            self._error(10)
        else:
            self._reply(f"+CPIN: {_CPIN_CODE[self.sim_state]}")

    def _sim_error(self) -> None:
        """What a command needing the SIM gets while it is not ready (TS 27.007 §9.2.1)."""
        self._error({"absent": 10, "pin": 11, "puk": 12}.get(self.sim_state, 10))

    def _enter_pin(self, line: str) -> None:
        """TS 27.007 §8.3 AT+CPIN=<pin>[,<newpin>]: a wrong PIN costs an attempt and the
        last one blocks the SIM (PUK); with no PIN asked for it is not allowed. A PUK
        (two parameters) is refused here: the backend never enters one."""
        values = [v.strip().strip('"') for v in line.split("=", 1)[1].split(",")]
        if self.sim_state == "absent":
            self._error(10)
        elif self.sim_state != "pin" or len(values) != 1:
            self._error(3)
        elif values[0] == self.settings.sim_pin:
            self.sim_state = "ready"
            self.pin_left = self.settings.pin_attempts
            self._reply()
            self._urc("+CPIN: READY")
        else:
            self.pin_left -= 1
            if self.pin_left <= 0:
                self.pin_left = 0
                self.sim_state = "puk"
            self._error(16)

    def _pin_counters(self, body: str) -> None:
        """The vendors' PIN retry counters: Quectel AT+QPINC? (``+QPINC: "SC",<pin>,
        <puk>``), SIMCom AT+SPIC (``+SPIC: <pin1>,<puk1>,<pin2>,<puk2>``), Huawei
        AT^CPIN? (``^CPIN: <code>,[<times>],<puk_times>,<pin_times>,<puk2>,<pin2>``)
        and TS 27.007 §8.65 AT+CPINR (``+CPINR: <code>,<retries>,<default>``)."""
        if self.sim_state == "absent":
            self._error(10)
            return
        pin, puk = self.pin_left, self.puk_left
        code = _CPIN_CODE[self.sim_state]
        if body == "+QPINC?":
            self._reply(f'+QPINC: "SC",{pin},{puk}', '+QPINC: "P2",3,10')
        elif body == "+SPIC":
            self._reply(f"+SPIC: {pin},{puk},3,10")
        elif body == "^CPIN?":
            times = {"pin": str(pin), "puk": str(puk)}.get(self.sim_state, "")
            self._reply(f"^CPIN: {code},{times},{puk},{pin},10,3")
        else:
            self._reply(f"+CPINR: SIM PIN,{pin},{self.settings.pin_attempts}",
                        f"+CPINR: SIM PUK,{puk},{self.settings.puk_attempts}")

    def _creg_read(self) -> None:
        self._reply(f"+CREG: {self._creg_fields(self.creg_n, read=True)}")

    def _cereg_read(self) -> None:
        self._reply(f"+CEREG: {self._creg_fields(self.cereg_n, read=True)}")

    def _cops_read(self) -> None:
        if self.registration in (1, 5):
            self._reply(f'+COPS: 0,0,"{self.settings.operator}",7')
        else:
            self._reply("+COPS: 0")

    def _csq(self) -> None:
        self._reply(f"+CSQ: {self.settings.rssi},99")

    def _cfun_read(self) -> None:
        self._reply("+CFUN: 1")

    def _clcc(self) -> None:
        call = self._call
        lines = [] if call is None else [self._clcc_line(call)]
        self._reply(*lines)

    def _clcc_line(self, call: _ModemCall) -> str:
        direction = 0 if call.direction == "out" else 1
        return (f'+CLCC: 1,{direction},{call.stat},0,0,"{call.number}",'
                f"{_ton(call.number)}")

    def _report_stat(self) -> None:
        call = self._call
        if call is None:
            return
        direction = 0 if call.direction == "out" else 1
        if self.dsci:
            self._urc(f'^DSCI: 1,{direction},{call.stat},0,"{call.number}",'
                      f"{_ton(call.number)}")
        if self.clcc_urc:
            self._urc(self._clcc_line(call))

    def _dial(self, number: str) -> None:
        if self.sim_state != "ready":
            self._sim_error()
            return
        if self.settings.registration not in (1, 5):
            self._error(30)
            return
        if self._call is not None or not number or any(
                c not in "0123456789*#+" for c in number):
            self._error(3)
            return
        self._call = _ModemCall("out", number, 2)
        self._reply()
        self._report_stat()
        self.line.call(number)

    def _answer(self) -> None:
        call = self._call
        if call is None or call.direction != "in" or call.stat != 4:
            self._reply(final="NO CARRIER")
            return
        call.stat = 0
        self._rings.generation += 1  # no more rings
        self.line.connect_inbound()
        self._reply()
        self._report_stat()

    def _hang_up(self) -> None:
        if self._call is not None:
            self._last_cause = 16
            self._call.stat = 6
            self._report_stat()
            self._drop_call()
        self._reply()

    def _ceer(self) -> None:
        cause = self._last_cause
        name = Q850_CAUSES.get(cause, "No cause information available")
        self._reply(f'+CEER: "{name}",{cause}' if cause else '+CEER: "No report available"')

    # -- SMS (TS 27.005, PDU mode) ------------------------------------------------------
    def receive_sms(self, sender: str, text: str) -> list[int]:
        """A message arrives for the SIM: stored (one index a part), each announced with
        ``+CMTI: "SM",<index>`` (§3.4.1, AT+CNMI=2,1). Returns the indexes."""
        from trunkline.drivers.backends.mobile import pdu

        indexes = []
        for raw in pdu.encode_deliver(sender, text, self._stamp()):
            index = min(set(range(1, len(self.sms_store) + 2)) - set(self.sms_store))
            self.sms_store[index] = (0, raw.hex().upper())
            indexes.append(index)
            self._urc(f'+CMTI: "SM",{index}')
        return indexes

    def _stamp(self) -> Any:
        import datetime as dt

        china = dt.timezone(dt.timedelta(hours=8))
        return dt.datetime(2026, 1, 1, tzinfo=china) + dt.timedelta(seconds=self.now)

    def _sms_command(self, body: str) -> None:
        if self.sim_state != "ready":
            self._sim_error()
            return
        used = len(self.sms_store)
        if body.startswith("+CPMS"):
            self._reply(f"+CPMS: {used},30,{used},30,{used},30")
        elif body.startswith("+CMGL"):
            lines = []
            for index, (stat, hex_pdu) in sorted(self.sms_store.items()):
                lines += [f"+CMGL: {index},{stat},,{_tpdu_length(hex_pdu)}", hex_pdu]
            self._reply(*lines)
        elif body.startswith("+CMGR="):
            index = int(body[6:]) if body[6:].isdigit() else -1
            if index not in self.sms_store:
                self._reply(final="+CMS ERROR: 321")  # §3.2.5: invalid memory index
                return
            stat, hex_pdu = self.sms_store[index]
            self.sms_store[index] = (1, hex_pdu)
            self._reply(f"+CMGR: {stat},,{_tpdu_length(hex_pdu)}", hex_pdu)
        elif body.startswith("+CMGD="):
            slot = body[6:].split(",")[0]
            self.sms_store.pop(int(slot) if slot.isdigit() else -1, None)
            self._reply()
        else:  # +CMGS=<length>: the prompt, then the PDU up to Ctrl-Z (§3.5.1)
            length = body[6:]
            if not length.isdigit() or self.settings.registration not in (1, 5):
                self._reply(final="+CMS ERROR: 331" if length.isdigit()  # no network
                            else "+CMS ERROR: 304")
                return
            self._prompt_for = int(length)
            self._pdu.clear()
            self._out += b"\r\n> "

    def _pdu_byte(self, byte: int) -> None:
        if byte == 0x1B:  # ESC: the message is abandoned
            self._prompt_for = None
            self._reply()
        elif byte == 0x1A:
            self._prompt_for = None
            self._submit(self._pdu.decode("latin-1").strip())
        elif byte not in (0x0D, 0x0A):
            self._pdu.append(byte)

    def _submit(self, hex_pdu: str) -> None:
        from trunkline.drivers.backends.mobile import pdu

        try:
            submit = pdu.decode(hex_pdu, direction="mo")
        except (pdu.PduError, ValueError):
            self._reply(final="+CMS ERROR: 304")  # invalid PDU mode parameter
            return
        self._mr = (self._mr + 1) % 256
        mr = self._mr
        self.sms_sent.append(submit)
        self._reply(f"+CMGS: {mr}")
        if getattr(submit, "status_report_request", False):
            recipient = submit.destination  # type: ignore[union-attr]
            sent_at = self._stamp()

            def report() -> None:
                raw = pdu.encode_status_report(mr, recipient, 0, sent_at, self._stamp())
                self._urc(f"+CDS: {len(raw) - 1 - raw[0]}\r\n{raw.hex().upper()}")

            self._timers.after(self.now + 3.0, report)  # a reset cancels it

    def status(self) -> dict[str, Any]:
        return {"name": self.name, "at": self.at.path, "audio": self.audio.path,
                "number": self.settings.number, "call": self.call_state}


class ModemBank:
    """The emulated modules of one card, on one simulated network (the number plan)."""

    def __init__(self, plan: NumberPlan, modules: list[tuple[str, ModemSettings]],
                 seed: int = 0) -> None:
        zone = load_zone(plan.zone)
        beeps = tuple({s.beep for s in plan.subscribers} | {1000.0})
        sounds = NetworkSounds(zone, seed=plan.seed + seed, beeps=beeps)
        self.network = Network(plan, sounds, len(modules), seed)
        self.modems = [EmulatedModem(name, self.network, row, settings)
                       for row, (name, settings) in enumerate(modules)]
        self._tx = np.zeros((len(modules), FRAME_SAMPLES), dtype=np.float32)

    def step(self, now: float) -> None:
        """One 20 ms step of every module and of the network behind them."""
        for row, modem in enumerate(self.modems):
            self._tx[row] = modem.step(now)
        rx = self.network.step(now, self._tx)
        for row, modem in enumerate(self.modems):
            modem.send_audio(rx[row])
            modem.flush()

    def exchange(self, now: float) -> None:
        """Answer AT commands only, with no time passing (the card's init at open)."""
        for modem in self.modems:
            modem.step(now)
            modem.flush()

    def close(self) -> None:
        for modem in self.modems:
            modem.close()


class _EchoPath:
    """A synthetic line echo (for the echo canceller's tests and benchmark): a bulk
    delay, then 3 ms of decaying, ringing response, scaled to ``erl_db`` of echo
    return loss (the whole response's energy, G.168's ERL)."""

    def __init__(self, delay: int, erl_db: float) -> None:
        h = np.zeros(delay + 24)
        h[delay:] = np.exp(-np.arange(24) / 6.0) * np.cos(np.arange(24) * 0.9)
        self.h = h * 10 ** (-erl_db / 20) / np.sqrt(np.sum(h ** 2))
        self._history = np.zeros(len(h) - 1)

    def next(self, frame: np.ndarray) -> np.ndarray:
        joined = np.concatenate([self._history, frame.astype(np.float64)])
        self._history = joined[len(joined) - len(self._history):]
        return np.convolve(joined, self.h, mode="valid")


#: +CPIN <code> (TS 27.007 §8.3) and the URC a module prints at boot for each SIM state.
_CPIN_CODE = {"ready": "READY", "pin": "SIM PIN", "puk": "SIM PUK", "absent": "NOT INSERTED"}
_CPIN_URC = {state: f"+CPIN: {code}" for state, code in _CPIN_CODE.items()}


def _tpdu_length(hex_pdu: str) -> int:
    """The TPDU's octets, the SMSC prefix not counted (TS 27.005 §3.1 <length>)."""
    raw = bytes.fromhex(hex_pdu)
    return len(raw) - 1 - raw[0]


def _ton(number: str) -> int:
    """Type of number (TS 24.008 §10.5.4.7): 145 international (+...), 129 unknown."""
    return 145 if number.startswith("+") else 129


_HANDLERS: dict[str, Callable[[EmulatedModem], None]] = {
    "": EmulatedModem._at,
    "I": EmulatedModem._ati,
    "Z": EmulatedModem._restore,
    "+CPIN?": EmulatedModem._cpin,
    "+CREG?": EmulatedModem._creg_read,
    "+CEREG?": EmulatedModem._cereg_read,
    "+COPS?": EmulatedModem._cops_read,
    "+CSQ": EmulatedModem._csq,
    "+CFUN?": EmulatedModem._cfun_read,
    "+CLCC": EmulatedModem._clcc,
    "A": EmulatedModem._answer,
    "H": EmulatedModem._hang_up,
    "H0": EmulatedModem._hang_up,
    "+CHUP": EmulatedModem._hang_up,
    "+CEER": EmulatedModem._ceer,
}
