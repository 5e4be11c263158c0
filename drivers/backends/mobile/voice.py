"""One module's voice call and registration, as a sans-IO state machine over AT.

:class:`VoiceModule` owns an :class:`~.at.AtChannel`. It initialises the module, keeps
what it knows of the SIM and the network, and runs the one voice call a module
carries, turning the vendor's way of reporting calls into
:class:`~trunkline.drivers.modem.ModemCallEvent` s. Like the channel it reads no clock:
bytes and ``now`` come in (:meth:`feed`, :meth:`handle_timer`), bytes and events go
out (:meth:`data_to_send`, :meth:`take_call_events`).

Call state comes from the standard +CLCC list (3GPP TS 27.007 §7.18: ``<stat>`` 0
active, 1 held, 2 dialing, 3 alerting, 4 incoming, 5 waiting), polled while a call is
up, and from whatever the profile turns on besides: Quectel's ``^DSCI`` (EC2x AT
Commands Manual, AT^DSCI: the same ``<stat>``, and 6 for the end), SIMCom's unsolicited
+CLCC (SIM7600 AT manual, AT+CLCC=1) and ``VOICE CALL: BEGIN/END`` (the voice channel,
which begins before the answer: the answer is +CLCC's stat 0), Huawei's ``^ORIG``
``^CONF`` ``^CONN`` ``^CEND`` (Huawei datacard AT interface specification; ^CEND's last
field is the TS 24.008 cause). Polling stays on with the URCs, slower, because a URC
lost to a restart or noise must not leave a call hanging.

The end of a call: ``BUSY`` (V.250 §5.7.1) is cause 17, ``NO ANSWER`` 19; ``NO
CARRIER`` or the call leaving the list asks AT+CEER (TS 27.007 §6.10, whose report
format is the manufacturer's) for the TS 24.008 §10.5.4.11 cause, read from a number
in the report or from the cause's name (:func:`cause_from_ceer`).

The transitions of the call are one table (:data:`CALL_TRANSITIONS`); the rest of this
module feeds it.

Why one module of this size: it is one module's voice state machine (init, call states
from +CLCC and the vendors' reports through one table, causes, restarts); the AT channel
is at.py, the card around it card.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

from trunkline.causes import Q850_CAUSES
from trunkline.drivers.backends.mobile.at import (
    AtChannel,
    AtEvent,
    Command,
    Response,
    Restarted,
    Result,
    Unsolicited,
    split_fields,
)
from trunkline.drivers.modem import CallProgress, ModemCallEvent
from trunkline.errors import CallStateError

__all__ = ["CALL_TRANSITIONS", "PROFILES", "Profile", "VoiceModule", "cause_from_ceer"]

P = CallProgress

#: Call progress changes the module reports, by (where we are, what it says): forward
#: only, as TS 27.007 §7.18's <stat> moves 2 -> 3 -> 0 for a call we place and
#: 4 -> 0 for one we answer; a stale poll answer cannot move a call backwards.
CALL_TRANSITIONS: dict[tuple[CallProgress, CallProgress], CallProgress] = {
    (P.DIALING, P.ALERTING): P.ALERTING,
    (P.DIALING, P.ACTIVE): P.ACTIVE,      # answered before alerting was seen
    (P.ALERTING, P.ACTIVE): P.ACTIVE,
    (P.INCOMING, P.ACTIVE): P.ACTIVE,     # answered (ATA's OK, or the list says so)
}

#: +CLCC / ^DSCI <stat> (TS 27.007 §7.18) to call progress; 6 is the vendors' "ended".
_STAT = {0: P.ACTIVE, 1: P.ACTIVE, 2: P.DIALING, 3: P.ALERTING, 4: P.INCOMING,
         5: P.INCOMING}
_STAT_ENDED = (6, 7)

#: Registration <stat> values (TS 27.007 §7.2): 1 home, 5 roaming are registered.
REGISTRATION = {0: "not searching", 1: "home", 2: "searching", 3: "denied", 4: "unknown",
                5: "roaming"}


@dataclass(frozen=True)
class Profile:
    """What a family of modules needs beyond TS 27.007 (from the vendors' manuals)."""

    name: str
    iccid: str = "AT+CCID"
    """The ICCID query: Quectel AT+QCCID, SIMCom AT+CICCID, others AT+CCID."""
    init: tuple[str, ...] = ()
    """Extra commands at the end of the init sequence (call URCs, the audio port)."""
    poll: float = 0.5
    """Seconds between +CLCC polls while a call is up."""
    hangup: str = "AT+CHUP"
    """TS 27.007 §6.5 AT+CHUP; ATH (V.250 §6.3.6) for modules without it."""
    audio_on: tuple[str, ...] = ()
    """Commands that start the audio port once a call is active (SIMCom AT+CPCMREG=1)."""
    audio_off: tuple[str, ...] = ()
    pin_counter: str = "AT+CPINR"
    """The query for the PIN and PUK attempts left (:func:`pin_counters`)."""


PROFILES: dict[str, Profile] = {
    "generic": Profile("generic"),
    # Quectel EC2x AT Commands Manual: AT+QCCID; AT^DSCI=1 call status URCs; voice over
    # the USB serial audio port per Quectel's "Voice over USB" note: AT+QPCMV=1,0.
    "quectel": Profile("quectel", iccid="AT+QCCID", init=("AT^DSCI=1", "AT+QPCMV=1,0"),
                       poll=2.0, pin_counter="AT+QPINC?"),
    # SIMCom SIM7500/SIM7600 AT manual: AT+CICCID; AT+CLCC=1 unsolicited call lists;
    # the USB audio port runs while AT+CPCMREG=1 (SIM7600 USB audio application note).
    "simcom": Profile("simcom", iccid="AT+CICCID", init=("AT+CLCC=1",), poll=2.0,
                      audio_on=("AT+CPCMREG=1",), audio_off=("AT+CPCMREG=0",),
                      pin_counter="AT+SPIC"),
    # Huawei E1550/E173: ^ORIG/^CONF/^CONN/^CEND come by themselves. AT^CVOICE? at init
    # only asks whether the firmware has voice (^CVOICE: 0,8000,16,20; ERROR on operator
    # firmware without it): chan_dongle's init queries it and never sets it. Each call's
    # audio goes to the serial voice port with AT^DDSETEX=2, which chan_dongle sends
    # after ATD and after ATA (its at_command.c); we send it at ^ORIG and at the answer.
    "huawei": Profile("huawei", init=("AT^CVOICE?",), poll=2.0,
                      audio_on=("AT^DDSETEX=2",), pin_counter="AT^CPIN?"),
}


def pin_counters(command: str, r: Response) -> tuple[int | None, int | None]:
    """(PIN attempts left, PUK attempts left) from the answer to a profile's
    ``pin_counter`` query; None where the module did not say.

    * TS 27.007 §8.65 ``AT+CPINR``: ``+CPINR: <code>,<retries>,<default_retries>`` a
      line per code (``SIM PIN``, ``SIM PUK``...).
    * Quectel ``AT+QPINC?`` (EC2x AT Commands Manual, "Display PIN Remainder Counter"):
      ``+QPINC: <facility>,<pincounter>,<pukcounter>`` for "SC" (the SIM PIN) and "P2";
      oFono's Quectel driver reads the same lines (drivers/atmodem/sim.c, at_qpinc_cb).
    * SIMCom ``AT+SPIC``: ``+SPIC: <pin1>,<puk1>,<pin2>,<puk2>`` (oFono's SIMCom
      driver, at_spic_cb, reads them in this order); older SIMCom firmware answers the
      first only.
    * Huawei ``AT^CPIN?`` (HUAWEI MU509 AT Command Interface Specification §7.4, and
      the datacard specification): ``^CPIN: <code>,[<times>],<puk_times>,<pin_times>,
      <puk2_times>,<pin2_times>``.
    """
    if not r.ok:
        return None, None

    def num(fields: tuple[str, ...], i: int) -> int | None:
        return int(fields[i]) if len(fields) > i and fields[i].isdigit() else None

    name = command.upper().rstrip("?")
    if name == "AT+QPINC":
        for line in r.lines:
            if line.upper().startswith("+QPINC"):
                f = split_fields(line.split(":", 1)[1])
                if f and f[0].upper() == "SC":
                    return num(f, 1), num(f, 2)
        return None, None
    if name == "AT+SPIC":
        f = split_fields(r.line("+SPIC") or "")
        return num(f, 0), num(f, 1)
    if name == "AT^CPIN":
        f = split_fields(r.line("^CPIN") or "")
        return num(f, 3), num(f, 2)
    pin = puk = None
    for line in r.lines:
        if line.upper().startswith("+CPINR"):
            f = split_fields(line.split(":", 1)[1])
            code = f[0].upper() if f else ""
            if code == "SIM PIN":
                pin = num(f, 1)
            elif code == "SIM PUK":
                puk = num(f, 1)
    return pin, puk

_CAUSE_BY_NAME = {name.lower(): cause for cause, name in Q850_CAUSES.items()}


def cause_from_ceer(report: str) -> int | None:
    """The TS 24.008 §10.5.4.11 cause in an AT+CEER report, or None.

    TS 27.007 §6.10 leaves the report's form to the manufacturer: a number field
    (``"CC_CAUSE",17``), the cause's name (``"User busy"``), or both. Causes share
    their values and names with Q.850 (TS 24.008 Table 10.5.123).
    """
    fields = split_fields(report)
    for value in fields:
        if value.isdigit() and 0 < int(value) <= 127:
            return int(value)
    for value in (*fields, report):
        name = value.strip().strip('"').lower()
        if name in _CAUSE_BY_NAME:
            return _CAUSE_BY_NAME[name]
    return None


@dataclass
class _Call:
    direction: str  # "out" or "in"
    number: str
    progress: CallProgress
    seen: bool = False
    """The +CLCC list has shown it (a call that leaves the list has ended)."""
    misses: int = 0
    dialled: bool = False
    """ATD was answered OK (TS 27.007 §6.2: the call is being set up)."""
    offered: bool = False
    ending: bool = False
    audio: bool = False
    """The profile's audio_on commands went out for this call."""


@dataclass
class ModuleStatus:
    """What the module said about itself, its SIM and its network."""

    initialised: bool = False
    responding: bool = True
    sim: str = "unknown"
    """``ready``, ``absent`` (CME 10), ``pin`` / ``puk`` (locked), ``error: ...``."""
    imsi: str = ""
    iccid: str = ""
    operator: str = ""
    registration: int | None = None
    lte_registration: int | None = None
    rssi: int | None = None
    model: str = ""
    restarts: int = 0
    garbage: int = 0
    voice: bool | None = None
    """Whether the firmware has voice (Huawei ``AT^CVOICE?``); None: not asked."""
    pin_attempts: int | None = None
    """PIN attempts the SIM has left (the profile's counter); None: not known."""
    puk_attempts: int | None = None
    audio: dict[str, str] = field(default_factory=dict)
    """Each of the installer's audio commands and what the module said to it (``OK``, or
    the error), from the last init."""
    pin_note: str = ""
    """What we did about a SIM asking for its PIN, in words (``entered``, ``wrong PIN:
    ...``, ``not entered: ...``); never the PIN."""

    @property
    def registered(self) -> bool:
        return self.registration in (1, 5) or self.lte_registration in (1, 5)

    @property
    def dbm(self) -> int | None:
        """TS 27.007 §8.5 +CSQ <rssi>: 0 is -113 dBm or less, 31 is -51 or more, in
        steps of 2 dB; 99 is not known."""
        if self.rssi is None or self.rssi == 99:
            return None
        return -113 + 2 * self.rssi

    def as_dict(self) -> dict[str, Any]:
        reg = self.registration if self.registration is not None else self.lte_registration
        return {"sim": self.sim, "imsi": self.imsi, "iccid": self.iccid,
                "operator": self.operator, "registered": self.registered,
                "registration": REGISTRATION.get(reg, "unknown") if reg is not None
                else "unknown",
                "rssi": self.rssi, "dbm": self.dbm, "model": self.model,
                "initialised": self.initialised, "responding": self.responding,
                "restarts": self.restarts, "garbage": self.garbage, "voice": self.voice,
                "pin_attempts": self.pin_attempts, "puk_attempts": self.puk_attempts,
                "pin_note": self.pin_note, "audio_commands": dict(self.audio)}


#: Seconds between status polls (+CSQ, +CREG?) and between init attempts when the
#: module does not answer.
STATUS_EVERY = 30.0
RETRY_INIT = 5.0
#: Time a dial may take to be answered by the module (not by the called party: a
#: voice ATD...; answers OK once set-up starts, TS 27.007 §6.2).
DIAL_TIMEOUT = 30.0
#: Seconds from an accepted PIN to the init that reads the SIM (IMSI, ICCID, network):
#: the SIM reads its files first (Huawei's specification: poll +CPIN until ready).
PIN_SETTLE = 2.0


@dataclass
class _Tag:
    """What a command we sent was for (the Response's tag)."""

    purpose: str
    detail: str = ""
    owner: Any = field(default=None, compare=False)


class VoiceModule:
    """One module: init, status, and its one voice call (see the module docstring).

    ``extra_init`` commands are appended to the init sequence (SMS settings: the SMS
    layer's business). Commands the SMS layer sends with :meth:`submit` and URCs this
    class does not act on (+CMTI, +CDS, +CMT, +CUSD...) come back from
    :meth:`take_other_events`, in order.
    """

    def __init__(self, profile: Profile | str = "generic", *,
                 extra_init: tuple[str, ...] = (), pin: str = "", uac: bool = False,
                 audio_commands: tuple[str, ...] = ()) -> None:
        self.profile = self._serial_profile = (
            PROFILES[profile] if isinstance(profile, str) else profile)
        self.use_uac(uac)
        self.extra_init = extra_init
        self.audio_commands = audio_commands
        self._pin = pin
        #: The SIM refused our PIN (or the entry failed): never entered again by us.
        self._pin_refused = False
        self.channel = AtChannel()
        self.status = ModuleStatus()
        self._call: _Call | None = None
        self._events: list[ModemCallEvent] = []
        self._other: list[AtEvent] = []
        self._in_flight: dict[str, int] = {}
        self._next_poll: float | None = None
        self._next_status: float | None = None
        self._retry_init: float | None = None
        self._started = False

    # -- the caller's side --------------------------------------------------------------
    def start(self, now: float) -> None:
        """Initialise the module (again, after a restart): ``ATE0`` first, the rest once
        the module has answered it, so a module that does not answer gets one probe
        every RETRY_INIT seconds, not a pile of commands timing out one by one."""
        self._started = True
        self.status.initialised = False
        self._send(Command("ATE0", timeout=3.0), "init", "ATE0", now)

    def _init_rest(self, now: float) -> None:
        commands = ["AT+CMEE=2", "ATI", "AT+CPIN?", "AT+CIMI", self.profile.iccid,
                    "AT+CLIP=1", "AT+CREG=2", "AT+CEREG=2", "AT+COPS=3,0", "AT+COPS?",
                    *self.profile.init, *self.audio_commands, *self.extra_init, "AT+CREG?",
                    "AT+CSQ"]
        for i, text in enumerate(commands):
            last = i == len(commands) - 1
            self._send(Command(text), "init", "done" if last else text, now)

    def use_uac(self, uac: bool) -> None:
        """Voice on the module's USB Audio Class card (True) or its serial port. Quectel:
        AT+QPCMV=1,2 instead of 1,0 (Quectel's "Voice over USB and UAC" note;
        chan_quectel sends it in UAC mode). Takes effect at the next init."""
        base = self._serial_profile
        self.profile = replace(base, init=tuple(
            "AT+QPCMV=1,2" if c == "AT+QPCMV=1,0" else c for c in base.init)) if uac else base

    @property
    def ready(self) -> bool:
        st = self.status
        return (st.initialised and st.sim == "ready" and st.registered
                and self._call is None)

    @property
    def in_call(self) -> bool:
        return self._call is not None

    @property
    def call_progress(self) -> CallProgress | None:
        return None if self._call is None else self._call.progress

    def dial(self, number: str, now: float) -> None:
        if self._call is not None:
            raise CallStateError(f"cannot dial {number} on the module: it has a call "
                                 f"({self._call.progress.value})")
        if not self.ready:
            self._events.append(ModemCallEvent(now, P.ENDED, number,
                                               reason=f"module not ready: {self._why()}"))
            return
        if not number or any(c not in "0123456789*#+" for c in number):
            self._events.append(ModemCallEvent(now, P.ENDED, number,
                                               reason=f"cannot dial {number!r}"))
            return
        self._call = _Call("out", number, P.DIALING)
        self._events.append(ModemCallEvent(now, P.DIALING, number))
        # V.250 §6.3.1 D with ';' (TS 27.007 §6.2): a voice call, command mode kept.
        self._send(Command(f"ATD{number};", timeout=DIAL_TIMEOUT), "dial", number, now)
        self._schedule_poll(now)

    def answer(self, now: float) -> None:
        call = self._call
        if call is None or call.direction != "in" or call.progress is not P.INCOMING:
            state = "no call" if call is None else f"its call is {call.progress.value}"
            raise CallStateError(f"cannot answer on the module: {state}")
        self._send(Command("ATA", timeout=10.0), "answer", "", now)

    def hang_up(self, now: float) -> None:
        call = self._call
        if call is None or call.ending:
            return
        call.ending = True
        self._send(Command(self.profile.hangup, timeout=5.0), "hangup", "", now)

    def send_dtmf(self, digits: str, now: float) -> None:
        """TS 27.007 §C.2.11 +VTS, one tone a command (the form every module takes)."""
        if self._call is None or self._call.progress is not P.ACTIVE:
            return
        for digit in digits:
            if digit.upper() in "0123456789*#ABCD":
                self._send(Command(f"AT+VTS={digit.upper()}"), "vts", digit, now)

    def submit(self, command: Command, now: float) -> None:
        """Send a command for another layer (SMS); its Response comes back from
        :meth:`take_other_events`."""
        self.channel.send(command, now)

    def feed(self, data: bytes, now: float) -> None:
        self.channel.feed(data, now)
        self._handle(now)

    def handle_timer(self, now: float) -> None:
        self.channel.handle_timer(now)
        self._handle(now)
        if not self._started:
            self.start(now)
        if self._retry_init is not None and now >= self._retry_init:
            self._retry_init = None
            self.start(now)
        if self._next_poll is not None and now >= self._next_poll:
            self._next_poll = None
            if self._call is not None:
                self._send_once(Command("AT+CLCC"), "clcc", now)
                self._schedule_poll(now)
        if self._next_status is not None and now >= self._next_status:
            self._next_status = now + STATUS_EVERY
            self._send_once(Command("AT+CSQ"), "csq", now)
            self._send_once(Command("AT+CREG?"), "creg", now)
            if self.status.sim != "ready":
                self._send_once(Command("AT+CPIN?"), "cpin", now)

    def next_deadline(self) -> float | None:
        times = [t for t in (self.channel.next_deadline(), self._next_poll,
                             self._next_status, self._retry_init) if t is not None]
        return min(times) if times else None

    def data_to_send(self) -> bytes:
        return self.channel.data_to_send()

    def take_call_events(self) -> list[ModemCallEvent]:
        events, self._events = self._events, []
        return events

    def take_other_events(self) -> list[AtEvent]:
        events, self._other = self._other, []
        return events

    # -- inside -------------------------------------------------------------------------
    def _why(self) -> str:
        st = self.status
        if not st.responding:
            return "the module does not answer"
        if not st.initialised:
            return "initialising"
        if st.sim != "ready":
            note = f" ({st.pin_note})" if st.pin_note and st.sim in ("pin", "puk") else ""
            return f"SIM {st.sim}{note}"
        return f"not registered ({REGISTRATION.get(st.registration or 0, 'unknown')})"

    def _send(self, command: Command, purpose: str, detail: str, now: float) -> None:
        tagged = Command(command.text, command.timeout, command.prefixes, command.payload,
                         _Tag(purpose, detail), command.secret)
        self._in_flight[purpose] = self._in_flight.get(purpose, 0) + 1
        self.channel.send(tagged, now)

    def _send_once(self, command: Command, purpose: str, now: float) -> None:
        if not self._in_flight.get(purpose):
            self._send(command, purpose, "", now)

    def _schedule_poll(self, now: float) -> None:
        self._next_poll = now + self.profile.poll

    def _handle(self, now: float) -> None:
        self.status.garbage = self.channel.garbage
        for event in self.channel.take_events():
            if isinstance(event, Response) and isinstance(event.command.tag, _Tag):
                tag = event.command.tag
                self._in_flight[tag.purpose] = max(0, self._in_flight.get(tag.purpose, 0) - 1)
                if event.result is not Result.RESTART:  # _on_restart has dealt with it
                    getattr(self, f"_on_{tag.purpose}")(event, tag.detail, now)
            elif isinstance(event, Unsolicited):
                if not self._on_urc(event, now):
                    self._other.append(event)
            elif isinstance(event, Restarted):
                self._on_restart(event, now)
                self._other.append(event)
            else:
                self._other.append(event)

    # -- responses ------------------------------------------------------------------------
    def _on_init(self, r: Response, detail: str, now: float) -> None:
        st = self.status
        if detail == "ATE0":
            st.responding = r.result is not Result.TIMEOUT
            if st.responding:
                self._init_rest(now)
            else:
                self._retry_init = now + RETRY_INIT
        elif detail == "ATI" and r.ok:
            st.model = " ".join(line for line in r.lines if line)
        elif detail == "AT+CPIN?":
            self._on_cpin(r, "", now)
        elif detail == "AT+CIMI" and r.ok and r.lines:
            st.imsi = r.lines[0].strip()
        elif detail == self.profile.iccid and r.ok and r.lines:
            st.iccid = re.sub(r"^[+^][A-Z]+:\s*", "", r.lines[0]).strip()
        elif detail in self.audio_commands:
            st.audio[detail] = "OK" if r.ok else (r.text or r.result.value)
        elif detail == "AT^CVOICE?":
            # <mode> 0 is voice on; an ERROR is firmware without voice (SMS only).
            mode = split_fields(r.line("^CVOICE") or "") if r.ok else ()
            st.voice = bool(mode) and mode[0] == "0"
        elif detail == "AT+COPS?" and r.ok:
            value = r.line("+COPS")
            fields = split_fields(value or "")
            st.operator = fields[2] if len(fields) >= 3 else ""
        elif detail == "done":
            self._on_csq(r, "", now)
            if st.responding and r.result is not Result.RESTART:
                st.initialised = True
                self._next_status = now + STATUS_EVERY
        if detail == "AT+CREG?":
            self._on_creg(r, "", now)

    def _on_cpin(self, r: Response, detail: str, now: float) -> None:
        if r.ok:
            value = (r.line("+CPIN") or "").upper()
            self.status.sim = {"READY": "ready", "SIM PIN": "pin",
                               "SIM PUK": "puk"}.get(value, f"error: {value or 'no answer'}")
        elif r.result is Result.CME_ERROR:
            self.status.sim = {10: "absent", 11: "pin", 12: "puk"}.get(
                r.code or -1, f"error: {r.text}")
        if self.status.sim in ("pin", "puk"):
            self._send_once(Command(self.profile.pin_counter), "pincount", now)

    # -- the SIM's PIN (TS 27.007 §8.3) -------------------------------------------------
    def _on_pincount(self, r: Response, detail: str, now: float) -> None:
        """The attempts left decide whether we may enter the PIN: only with two or more
        left, so the last attempt is never spent by a machine (a wrong PIN in the
        configuration would block the SIM); a module that does not say gets no PIN."""
        st = self.status
        st.pin_attempts, st.puk_attempts = pin_counters(self.profile.pin_counter, r)
        if st.sim == "puk":
            left = "" if st.puk_attempts is None else f"; {st.puk_attempts} PUK attempts left"
            st.pin_note = f"blocked: the SIM wants its PUK, which trunkline never enters{left}"
        if st.sim != "pin" or self._in_flight.get("pin"):
            return
        if not self._pin:
            st.pin_note = "no PIN configured for this module (pin_file or pin_env)"
        elif self._pin_refused:
            return  # the note says why, from the refusal
        elif st.pin_attempts is None:
            st.pin_note = (f"PIN not entered: the module does not say how many attempts "
                           f"are left ({self.profile.pin_counter} gave none); enter it by hand")
        elif st.pin_attempts < 2:
            st.pin_note = (f"PIN not entered: {st.pin_attempts} attempt left, which trunkline "
                           "never spends; check the PIN, then enter it by hand (AT+CPIN)")
        else:
            st.pin_note = "entering the PIN"
            self._send(Command(f'AT+CPIN="{self._pin}"', timeout=10.0, secret=True), "pin",
                       "", now)

    def _on_pin(self, r: Response, detail: str, now: float) -> None:
        st = self.status
        if r.ok:
            st.pin_note = "entered"
            # Read the SIM again (IMSI, ICCID, registration) once it has settled, and
            # tell the SMS layer to set itself up again as after a restart. Until then
            # the init is not done (scan waits for it; nothing dials).
            st.initialised = False
            self._retry_init = now + PIN_SETTLE
            self._other.append(Restarted("sim", "PIN accepted"))
            return
        self._pin_refused = True
        if r.result is Result.CME_ERROR and r.code == 16:
            st.pin_note = "wrong PIN: the SIM refused it (incorrect password); not entered again"
        else:
            st.pin_note = (f"PIN entry failed ({r.text or r.result.value}); not entered again "
                           "(the attempt may have been counted)")
        if r.result is Result.CME_ERROR and r.code == 12:
            st.sim = "puk"
        # Read the counters again, to report what is left.
        self._send_once(Command(self.profile.pin_counter), "pincount", now)

    def _on_csq(self, r: Response, detail: str, now: float) -> None:
        fields = split_fields(r.line("+CSQ") or "") if r.ok else ()
        if fields and fields[0].isdigit():
            self.status.rssi = int(fields[0])

    def _on_creg(self, r: Response, detail: str, now: float) -> None:
        fields = split_fields(r.line("+CREG") or "") if r.ok else ()
        if len(fields) >= 2 and fields[1].isdigit():
            self.status.registration = int(fields[1])

    def _on_dial(self, r: Response, detail: str, now: float) -> None:
        call = self._call
        if call is None or call.direction != "out" or call.ending:
            return
        if r.ok or r.result is Result.CONNECT:
            call.dialled = True
        elif r.result is Result.BUSY:
            self._end(now, 17, "busy")
        elif r.result is Result.NO_ANSWER:
            self._end(now, 19, "no answer")
        elif r.result is Result.NO_CARRIER:
            self._ask_cause(now)
        elif r.result is Result.NO_DIALTONE:
            self._end(now, None, "no dial tone: the module has no network")
        elif r.result is Result.TIMEOUT:
            call.ending = True
            self._send(Command(self.profile.hangup), "hangup", "timeout", now)
        elif r.result is not Result.RESTART:
            self._end(now, None, f"the module refused the dial: {r.text or r.result.value}")

    def _on_answer(self, r: Response, detail: str, now: float) -> None:
        call = self._call
        if call is None or call.ending:
            return
        if r.ok or r.result is Result.CONNECT:
            self._progress(P.ACTIVE, now)
        elif r.result is Result.NO_CARRIER:
            self._ask_cause(now)
        elif r.result is not Result.RESTART:
            self._end(now, None, f"the module refused to answer: {r.text or r.result.value}")

    def _on_hangup(self, r: Response, detail: str, now: float) -> None:
        if self._call is None:
            return
        if detail == "timeout":
            self._end(now, None, "the module did not set the call up in time")
        else:
            self._end(now, 16, "near_end")

    def _on_vts(self, r: Response, detail: str, now: float) -> None:
        pass

    def _on_audio(self, r: Response, detail: str, now: float) -> None:
        pass

    def _on_ceer(self, r: Response, detail: str, now: float) -> None:
        if self._call is None:
            return
        report = r.line("+CEER") if r.ok else None
        cause = cause_from_ceer(report) if report else None
        self._end(now, cause, "far_end" if cause is not None else
                  f"call ended; the module gave no cause ({report or r.result.value})")

    def _on_clcc(self, r: Response, detail: str, now: float) -> None:
        call = self._call
        if call is None or call.ending or not r.ok:
            return
        entries = [_clcc(split_fields(line.split(":", 1)[1])) for line in r.lines
                   if line.upper().startswith("+CLCC")]
        want = "0" if call.direction == "out" else "1"
        mine = [e for e in entries if e is not None and e[1] == want and e[3] == "0"]
        if not mine:
            call.misses += 1
            if call.seen or call.misses >= 3 or (call.dialled and call.misses >= 2):
                self._ask_cause(now)
            return
        call.seen = True
        call.misses = 0
        self._stat(mine[0][2], mine[0][4], now)

    # -- URCs -------------------------------------------------------------------------------
    def _on_urc(self, u: Unsolicited, now: float) -> bool:
        """Act on ``u``; False when it is not ours (left for the SMS layer)."""
        name = u.name
        call = self._call
        if name in ("+CREG", "+CEREG", "+CGREG"):
            if u.fields and u.fields[0].isdigit():
                if name == "+CREG":
                    self.status.registration = int(u.fields[0])
                elif name == "+CEREG":
                    self.status.lte_registration = int(u.fields[0])
            return True
        if name == "+CSQ" and u.fields and u.fields[0].isdigit():
            self.status.rssi = int(u.fields[0])
            return True
        if name in ("RING", "+CRING"):
            if call is None:
                self._call = _Call("in", "", P.INCOMING)
                self._send_once(Command("AT+CLCC"), "clcc", now)
                self._schedule_poll(now)
            return True
        if name == "+CLIP":
            if call is not None and call.direction == "in" and u.fields:
                call.number = u.fields[0]
                self._offer(now)
            return True
        if name in ("NO CARRIER", "BUSY", "NO ANSWER"):
            if call is not None and not call.ending:
                if name == "BUSY":
                    self._end(now, 17, "busy")
                elif name == "NO ANSWER":
                    self._end(now, 19, "no answer")
                else:
                    self._ask_cause(now)
            return True
        if name in ("^DSCI", "+CLCC"):
            entry = _dsci(u.fields) if name == "^DSCI" else _clcc(u.fields)
            if entry is not None and call is not None and not call.ending:
                cause = _dsci_cause(u.fields) if name == "^DSCI" else None
                if entry[2] in _STAT_ENDED and cause is not None:
                    self._end(now, cause, "far_end")
                elif entry[2] in _STAT_ENDED:
                    self._ask_cause(now)
                else:
                    call.seen = True
                    self._stat(entry[2], entry[4], now)
            return True
        if name in ("^ORIG", "^CONF", "^CONN", "^CEND"):
            if call is not None and not call.ending:
                if name == "^ORIG":
                    self._audio_on(now)  # the call's audio to the voice port, early media
                elif name == "^CONF":
                    self._progress(P.ALERTING, now)
                elif name == "^CONN":
                    self._progress(P.ACTIVE, now)
                elif name == "^CEND":
                    last = u.fields[-1] if u.fields else ""
                    cause = int(last) if last.isdigit() and 0 < int(last) <= 127 else None
                    if cause is None:
                        self._ask_cause(now)
                    else:
                        self._end(now, cause, "far_end")
            return True
        if name == "VOICE CALL:":
            if call is not None and not call.ending:
                if u.line.upper().startswith("VOICE CALL: BEGIN"):
                    # The voice channel is up: on an outbound call that is before the
                    # answer (SIM7600 sends it while +CLCC still says 2, dialing), so it
                    # starts the audio (early media) and the list says when it is answered.
                    self._audio_on(now)
                elif u.line.upper().startswith("VOICE CALL: END"):
                    self._ask_cause(now)
            return True
        if name == "MISSED_CALL:":
            # SIMCom: the caller gave up before we answered.
            if call is not None and call.direction == "in" and not call.ending:
                self._ask_cause(now)
            return True
        return name in ("+CPIN", "+QIND", "+QUSIM", "SMS DONE", "PB DONE", "CALL READY",
                        "SMS READY", "^BOOT", "^RSSI", "^MODE", "^DSFLOWRPT")

    def _on_restart(self, event: Restarted, now: float) -> None:
        self.status.restarts += 1
        if self._call is not None:
            # A boot notice names how we knew; a lost port says so itself (AtChannel.reset).
            why = f"the module restarted ({event.reason})" if event.reason in (
                "rdy", "cfun", "echo") else event.reason
            self._end(now, None, why)
        self.status.initialised = False
        self.status.registration = self.status.lte_registration = None
        self._in_flight.clear()
        self.start(now)

    # -- the call ---------------------------------------------------------------------------
    def _stat(self, stat: int, number: str, now: float) -> None:
        call = self._call
        assert call is not None
        if stat in _STAT_ENDED:
            self._ask_cause(now)
            return
        progress = _STAT.get(stat)
        if progress is P.INCOMING and call.direction == "in":
            if number and not call.number:
                call.number = number
            self._offer(now)
        elif progress is not None:
            self._progress(progress, now)

    def _offer(self, now: float) -> None:
        call = self._call
        if call is not None and not call.offered:
            call.offered = True
            self._events.append(ModemCallEvent(now, P.INCOMING, call.number))

    def _progress(self, to: CallProgress, now: float) -> None:
        call = self._call
        if call is None:
            return
        if call.direction == "in" and not call.offered and to is P.ACTIVE:
            self._offer(now)
        new = CALL_TRANSITIONS.get((call.progress, to))
        if new is None:
            return
        call.progress = new
        self._events.append(ModemCallEvent(now, new, call.number))
        if new is P.ACTIVE:
            self._audio_on(now)

    def _audio_on(self, now: float) -> None:
        call = self._call
        if call is not None and not call.audio:
            call.audio = True
            for text in self.profile.audio_on:
                self._send(Command(text), "audio", text, now)

    def _ask_cause(self, now: float) -> None:
        call = self._call
        if call is None or call.ending:
            return
        call.ending = True
        self._send(Command("AT+CEER"), "ceer", "", now)

    def _end(self, now: float, cause: int | None, reason: str) -> None:
        call, self._call = self._call, None
        if call is None:
            return
        self._next_poll = None
        self._events.append(ModemCallEvent(now, P.ENDED, call.number, cause, reason))
        if call.audio:
            for text in self.profile.audio_off:
                self._send(Command(text), "audio", text, now)


def _clcc(fields: tuple[str, ...]) -> tuple[str, str, int, str, str] | None:
    """(<ccid>, <dir>, <stat>, <mode>, <number>) of a +CLCC entry (TS 27.007 §7.18:
    ``<ccid>,<dir>,<stat>,<mode>,<mpty>[,<number>,<type>...]``), None if malformed."""
    if len(fields) < 4 or not fields[2].isdigit():
        return None
    number = fields[5] if len(fields) > 5 else ""
    return fields[0], fields[1], int(fields[2]), fields[3], number


def _dsci(fields: tuple[str, ...]) -> tuple[str, str, int, str, str] | None:
    """The same for ^DSCI, which comes in two forms: ``<id>,<dir>,<stat>,<type>,<number>,
    <num_type>`` (Quectel EC2x AT^DSCI, as chan_quectel reads it) and, on other
    chipsets, ``<id>,<dir>,<stat>,<mode>,<mpty>,<number>,<type>,<bs_type>,<cause>...``
    (with the TS 24.008 cause of an ended call). A lone 0/1 before a number field is
    <mpty>."""
    if len(fields) < 4 or not fields[2].isdigit():
        return None
    number = fields[4] if len(fields) > 4 else ""
    if _mpty_form(fields):
        number = fields[5]
    return fields[0], fields[1], int(fields[2]), fields[3], number


def _mpty_form(fields: tuple[str, ...]) -> bool:
    return len(fields) > 6 and fields[4] in ("0", "1") and fields[6].isdigit() \
        and int(fields[6]) in (129, 145, 161)  # TS 24.008 §10.5.4.7 type of number


def _dsci_cause(fields: tuple[str, ...]) -> int | None:
    """The cause of the longer ^DSCI form (its ninth field), when it has one."""
    if _mpty_form(fields) and len(fields) > 8 and fields[8].isdigit() \
            and 0 < int(fields[8]) <= 127:
        return int(fields[8])
    return None
