"""A sans-IO AT command channel: bytes in, lines, results matched to commands, URCs.

The module's serial port carries two interleaved streams: answers to the one command
in flight, and unsolicited result codes (URCs) the module sends whenever something
happens (a ring, a registration change, an SMS). chan_dongle's fragility came from
mixing the two; here one object owns the port's protocol and sorts every line, and
nothing in it reads a clock or a file descriptor (h11-style): the caller feeds bytes
and ``now`` in (:meth:`AtChannel.feed`, :meth:`AtChannel.handle_timer`), and takes bytes
(:meth:`AtChannel.data_to_send`) and events (:meth:`AtChannel.take_events`) out.

The syntax is ITU-T V.250 (07/2003) with the 3GPP additions:

* A command line is ``AT`` ... terminated by S3 (CR) (V.250 §5.2.1); responses are
  ``<CR><LF>text<CR><LF>`` in verbose mode (V.250 §5.7.1), so lines are split on CR or
  LF and empty lines dropped. With echo on (``E1``, the default after a reset, V.250
  §6.2.4) the module repeats the command line first; it is recognised and dropped.
* Final result codes (V.250 §5.7.1, Table 1): ``OK``, ``CONNECT``, ``RING`` (a URC),
  ``NO CARRIER``, ``ERROR``, ``NO DIALTONE``, ``BUSY``, ``NO ANSWER``; 3GPP TS 27.007
  §9.2 adds ``+CME ERROR: <err>`` and TS 27.005 §3.2.5 ``+CMS ERROR: <err>``.
  ``NO CARRIER``/``BUSY``/``NO ANSWER``/``NO DIALTONE``/``CONNECT`` end only a dial or
  answer command (V.250 §6.3.1 D, §6.3.5 A); at any other time they report a call that
  ended by itself (TS 27.007 §6.2: a voice call set up with ``D...;`` answers ``OK``
  at once, and its end comes later), and become URCs here.
* Information text of a command starts with the command's own prefix (``+CSQ:`` for
  ``AT+CSQ``, TS 27.007 §4.1); a line with a URC prefix that is not the pending
  command's is a URC even in the middle of the command's lines (TS 27.007 §4.1 allows
  the TA to hold URCs back, and §8.10 "+CMER" lets it buffer them, but modules in the
  field do interleave them: Quectel EC2x sends +CLIP between RING and anything).
* ``+CREG``/``+CEREG``/``+CGREG`` have the same prefix as a URC (``+CREG: <stat>[,<lac>,
  <ci>[,<AcT>]]``) and as the read command's answer (``+CREG: <n>,<stat>[,...]``),
  TS 27.007 §7.2, §10.1.19, §10.1.22: the answer's second field is a bare number, the
  URC's is a quoted LAC or absent; that tells them apart.
* ``+CMT``, ``+CBM`` and PDU-mode ``+CDS`` (TS 27.005 §3.4.1) are URCs of two lines:
  the header, then the PDU on the next line.
* ``AT+CMGS``/``AT+CMGW``/``AT+CMGC`` (TS 27.005 §3.5.1) answer the command line with
  the prompt ``<CR><LF>> `` (IRA 13 10 62 32); the PDU follows, ended by Ctrl-Z (IRA 26).

A module that restarts (a power dip, its watchdog, a firmware crash) loses the command
in flight and its settings: ``RDY`` (Quectel EC2x and SIMCom SIM7600 AT manuals: sent
when the module is ready after power-on), an unsolicited ``+CFUN: 1`` (Quectel, same
moment), or the echo of our own command while echo was off (E1 is back: the module
reset its profile) are reported as :class:`Restarted`; every queued command then fails
with ``restart`` so the caller re-initialises instead of talking to a module in an
unknown state. Boot notices that follow one another before the module has answered
any command are one restart, not several.

A late answer to a command that timed out: with echo off nothing on the wire says which
command an ``OK`` answers. After a time-out the channel keeps quiet for SETTLE seconds
before the next command, so an answer that was merely late lands as a stray result
(counted as garbage) rather than as the next command's; one later still could be taken
for the next command's, which is why the call state machine above polls state
(``+CLCC``) rather than trusting any single answer.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from enum import StrEnum

__all__ = [
    "CME_ERRORS",
    "AtChannel",
    "AtEvent",
    "Command",
    "Garbage",
    "Prompt",
    "Response",
    "Restarted",
    "Result",
    "Unsolicited",
    "split_fields",
]

#: Longest line kept (a +CMGL PDU line is at most 2 x 176 hex digits plus a header):
#: anything longer is noise (audio on the wrong port, a baud rate mismatch).
MAX_LINE = 1024
#: Seconds of quiet after a time-out before the next command goes: an answer arriving
#: late to the command that timed out lands then, as a stray result, instead of being
#: taken for the next command's.
SETTLE = 0.5
CTRL_Z = b"\x1a"
ESC = b"\x1b"


class Result(StrEnum):
    """How a command ended: a final result code, or what the channel decided."""

    OK = "ok"
    ERROR = "error"
    CME_ERROR = "cme_error"
    CMS_ERROR = "cms_error"
    NO_CARRIER = "no_carrier"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    NO_DIALTONE = "no_dialtone"
    CONNECT = "connect"
    TIMEOUT = "timeout"
    """No final result code came within the command's time."""
    RESTART = "restart"
    """The module restarted while the command was in flight or queued."""


#: Final result codes of V.250 Table 1, verbose form.
_FINAL = {"OK": Result.OK, "ERROR": Result.ERROR}
#: Codes that end only a call-setup command (D, A); otherwise they are URCs.
_CALL_FINAL = {"NO CARRIER": Result.NO_CARRIER, "BUSY": Result.BUSY,
               "NO ANSWER": Result.NO_ANSWER, "NO DIALTONE": Result.NO_DIALTONE,
               "CONNECT": Result.CONNECT}

#: +CME ERROR codes of TS 27.007 §9.2.1 (verbose texts, as AT+CMEE=2 gives them),
#: the ones a voice/SMS gateway meets; other texts keep code None with their text.
CME_ERRORS: dict[int, str] = {
    0: "phone failure",
    1: "no connection to phone",
    3: "operation not allowed",
    4: "operation not supported",
    5: "PH-SIM PIN required",
    10: "SIM not inserted",
    11: "SIM PIN required",
    12: "SIM PUK required",
    13: "SIM failure",
    14: "SIM busy",
    15: "SIM wrong",
    16: "incorrect password",
    17: "SIM PIN2 required",
    18: "SIM PUK2 required",
    20: "memory full",
    21: "invalid index",
    22: "not found",
    23: "memory failure",
    30: "no network service",
    31: "network timeout",
    32: "network not allowed - emergency calls only",
    100: "unknown",
}
_CME_BY_TEXT = {text.lower(): code for code, text in CME_ERRORS.items()}

#: Prefixes that are URCs when they do not answer the pending command.
#: TS 27.007: RING/+CRING §6.11, +CLIP §7.6, +CCWA §7.12, +CLCC §7.18 (sent unsolicited
#: by Quectel with AT+CLCC=1... and SIMCom's AT+CLCC=1), +CREG §7.2, +CGREG §10.1.19,
#: +CEREG §10.1.22, +CUSD §7.15, +CSSI/+CSSU §7.17, +CMEE-less +CME ERROR excluded;
#: TS 27.005 §3.4.1: +CMTI, +CMT, +CBM, +CDS, +CDSI. Vendor: Huawei ^ORIG ^CONF ^CONN
#: ^CEND ^RSSI ^BOOT ^MODE ^DSFLOWRPT (Huawei "HUAWEI UMTS Datacard AT Command
#: Interface Specification"); Quectel +QIND, +QUSIM, +CPIN, +CFUN after boot (Quectel
#: EC2x AT Commands Manual, "URC"); SIMCom "VOICE CALL:", "MISSED_CALL:" (SIM7600 AT
#: manual, call URCs); +CSQ from SIMCom's AT+AUTOCSQ.
URC_PREFIXES = (
    "+CRING", "+CLIP", "+CCWA", "+CLCC", "+CREG", "+CGREG", "+CEREG", "+CSQ", "+CUSD",
    "+CSSI", "+CSSU", "+CMTI", "+CMT", "+CBM", "+CDS", "+CDSI", "+QIND", "+QUSIM",
    "+CPIN", "+CFUN", "+CIEV", "+COLP", "^", "VOICE CALL:", "MISSED_CALL:",
)
#: Bare-word URCs (V.250 RING; boot notices of Quectel/SIMCom modules).
URC_WORDS = ("RING", "RDY", "SMS DONE", "PB DONE", "CALL READY", "SMS READY",
             "NORMAL POWER DOWN", "POWERED DOWN")
#: URCs whose next line is part of them (TS 27.005 §3.4.1, PDU mode).
_TWO_LINE = ("+CMT", "+CBM")


@dataclass(frozen=True, slots=True)
class Command:
    """One command line, without AT's terminating CR.

    ``prefixes`` are the information-text prefixes that belong to this command
    (derived from the command name when not given: ``AT+CSQ`` -> ``+CSQ``);
    ``payload`` is what to send after the ``> `` prompt (the PDU in hex; Ctrl-Z is
    added); ``tag`` is the caller's, returned in the :class:`Response`. A ``secret``
    command (AT+CPIN with the SIM's PIN) shows only its name in its repr, so a
    Response or an error that prints the command never prints the PIN.
    """

    text: str
    timeout: float = 5.0
    prefixes: tuple[str, ...] = ()
    payload: bytes | None = None
    tag: object = None
    secret: bool = False

    def __repr__(self) -> str:
        text = self.text.split("=", 1)[0] + "=<secret>" if self.secret else self.text
        return f"Command({text!r}, timeout={self.timeout}, tag={self.tag!r})"

    def __post_init__(self) -> None:
        if not self.text.upper().startswith("AT"):
            raise ValueError(f"an AT command starts with 'AT', not {self.text!r}")
        if any(c in self.text for c in "\r\n\x1a"):
            raise ValueError(f"a command line holds no CR, LF or Ctrl-Z: {self.text!r}")
        if not self.timeout > 0:
            raise ValueError(f"command timeout must be > 0 s, got {self.timeout}")
        if not self.prefixes:
            object.__setattr__(self, "prefixes", _derived_prefixes(self.text))

    @property
    def sets_up_call(self) -> bool:
        """A dial or answer command (V.250 §6.3.1, §6.3.5): call results end it."""
        upper = self.text.upper()
        return upper.startswith("ATD") or upper == "ATA"

    @property
    def wants_prompt(self) -> bool:
        return self.payload is not None


def _derived_prefixes(text: str) -> tuple[str, ...]:
    match = re.match(r"AT([+^$%][A-Za-z0-9]+)", text, re.IGNORECASE)
    if match is None:
        return ()
    name = match.group(1).upper()
    # AT+CCID is answered as +CCID: by some modules, +ICCID: by SIMCom's.
    return (name, "+ICCID") if name in ("+CCID", "+ICCID") else (name,)


@dataclass(frozen=True, slots=True)
class Response:
    """A command ended: its final result, the information lines it got, and the
    error's code (+CME/+CMS) and text where there is one."""

    command: Command
    result: Result
    lines: tuple[str, ...] = ()
    code: int | None = None
    text: str = ""

    @property
    def ok(self) -> bool:
        return self.result is Result.OK

    def line(self, prefix: str) -> str | None:
        """The value of the first information line starting with ``prefix`` (after
        the prefix and its colon), or None."""
        for line in self.lines:
            if line.upper().startswith(prefix.upper()):
                return line[len(prefix):].lstrip(":").strip()
        return None


@dataclass(frozen=True, slots=True)
class Unsolicited:
    """A URC: its name (``RING``, ``+CLIP``, ``NO CARRIER``), its fields, and for a
    two-line URC the second line (the PDU)."""

    name: str
    fields: tuple[str, ...] = ()
    line: str = ""
    data: str | None = None


@dataclass(frozen=True, slots=True)
class Prompt:
    """The module asked for the command's payload (``> ``); it has been sent."""

    command: Command


@dataclass(frozen=True, slots=True)
class Restarted:
    """The module restarted (``rdy``, ``cfun`` or ``echo``, with the line that said so)."""

    reason: str
    line: str


@dataclass(frozen=True, slots=True)
class Garbage:
    """A line that is no AT response (bytes outside IRA, too long, or a stray result)."""

    line: str
    reason: str


AtEvent = Response | Unsolicited | Prompt | Restarted | Garbage


def split_fields(text: str) -> tuple[str, ...]:
    """Split a response's parameters on commas outside double quotes, unquoting them
    (TS 27.007 §4.1: string constants are in double quotes)."""
    fields: list[str] = []
    current: list[str] = []
    quoted = False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        elif ch == "," and not quoted:
            fields.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
    fields.append("".join(current).strip())
    return tuple(fields) if text.strip() else ()


def _is_registration_answer(name: str, rest: str) -> bool:
    """``+CREG: <n>,<stat>...`` (the read command's answer) rather than the URC
    ``+CREG: <stat>[,"<lac>",...]`` (TS 27.007 §7.2)."""
    parts = rest.split(",")
    return len(parts) >= 2 and parts[1].strip().isdigit()


@dataclass
class _Pending:
    command: Command
    deadline: float
    lines: list[str] = field(default_factory=list)
    prompted: bool = False


class AtChannel:
    """The AT protocol of one serial port, sans-IO (see the module docstring).

    One command is in flight at a time; others wait in order. ``echo`` is what the
    module is believed to do now (True after power-on, V.250 §6.2.4).
    """

    def __init__(self, *, echo: bool = True) -> None:
        self.echo = echo
        #: Lines (and overlong runs) that were not AT, since the channel began.
        self.garbage = 0
        #: Restarts seen since the channel began.
        self.restarts = 0
        self._buffer = bytearray()
        self._discarding = False
        self._queue: deque[tuple[Command, float]] = deque()
        self._pending: _Pending | None = None
        self._out = bytearray()
        self._events: list[AtEvent] = []
        self._urc_head: Unsolicited | None = None
        # From a restart until the module first answers a command, its other boot
        # notices (RDY then +CFUN: 1, as Quectel prints them) are the same boot.
        self._booting = False
        self._quiet_until: float | None = None

    # -- the caller's side --------------------------------------------------------------
    def send(self, command: Command, now: float) -> None:
        """Queue ``command``; it goes out when the one before it has ended."""
        self._queue.append((command, now))
        self._next(now)

    @property
    def busy(self) -> bool:
        """A command is in flight or waiting."""
        return self._pending is not None or bool(self._queue)

    @property
    def pending(self) -> Command | None:
        return None if self._pending is None else self._pending.command

    def feed(self, data: bytes, now: float) -> None:
        """Bytes the module sent. Never raises: what is not AT becomes :class:`Garbage`."""
        for byte in data:
            if byte in (0x0D, 0x0A):
                if self._discarding:
                    self._discarding = False
                elif self._buffer:
                    self._line(bytes(self._buffer), now)
                self._buffer.clear()
                continue
            if self._discarding:
                continue
            self._buffer.append(byte)
            if len(self._buffer) > MAX_LINE:
                self._buffer.clear()
                self._discarding = True
                self._garbage("", f"line longer than {MAX_LINE} bytes")
            elif (self._buffer == b"> " and self._pending is not None
                  and self._pending.command.wants_prompt and not self._pending.prompted):
                self._buffer.clear()
                self._prompt()

    def handle_timer(self, now: float) -> None:
        """Time has come to ``now``: a command past its time ends with TIMEOUT, and
        the next one waits SETTLE seconds (see the module docstring)."""
        if self._pending is not None and now >= self._pending.deadline:
            pending, self._pending = self._pending, None
            if pending.prompted:
                # Abandon the PDU the module is waiting for (TS 27.005 §3.5.1: ESC).
                self._out += ESC
            self._events.append(Response(pending.command, Result.TIMEOUT,
                                         tuple(pending.lines)))
            self._quiet_until = now + SETTLE
        if self._quiet_until is not None and now >= self._quiet_until:
            self._quiet_until = None
            self._next(now)

    def next_deadline(self) -> float | None:
        if self._pending is not None:
            return self._pending.deadline
        return self._quiet_until

    def reset(self, reason: str, now: float) -> None:
        """The link to the module itself was lost or opened again (a USB unplug, a port
        that failed): what was in flight is gone as in a restart (:class:`Restarted`
        with ``reason``, every command failed with RESTART), and bytes half received or
        not yet sent are dropped."""
        self._buffer.clear()
        self._discarding = False
        self._out.clear()
        self._quiet_until = None
        self._restarted(reason, "", now)

    def data_to_send(self) -> bytes:
        out = bytes(self._out)
        self._out.clear()
        return out

    def take_events(self) -> list[AtEvent]:
        events, self._events = self._events, []
        return events

    # -- inside -------------------------------------------------------------------------
    def _next(self, now: float) -> None:
        if self._pending is not None or not self._queue or self._quiet_until is not None:
            return
        command, _queued = self._queue.popleft()
        self._pending = _Pending(command, now + command.timeout)
        self._out += command.text.encode("ascii", "replace") + b"\r"

    def _prompt(self) -> None:
        assert self._pending is not None and self._pending.command.payload is not None
        self._pending.prompted = True
        self._out += self._pending.command.payload + CTRL_Z
        self._events.append(Prompt(self._pending.command))

    def _garbage(self, line: str, reason: str) -> None:
        self.garbage += 1
        self._events.append(Garbage(line, reason))

    def _line(self, raw: bytes, now: float) -> None:
        text = raw.decode("latin-1")
        # IRA (T.50) printable characters only; tab is tolerated as white space.
        if any(not (0x20 <= b < 0x7F or b == 0x09) for b in raw):
            self._urc_head = None
            self._garbage(text, "bytes outside the AT character set")
            return
        line = text.strip()
        if not line:
            return
        if self._urc_head is not None:
            head, self._urc_head = self._urc_head, None
            self._events.append(Unsolicited(head.name, head.fields, head.line, line))
            return
        pending = self._pending
        if pending is not None and self._is_echo(line, pending):
            if not self.echo:
                # Echo is back: the module lost its profile, i.e. it restarted. The
                # command was received after the restart, so its answer stands.
                self.echo = True
                self._restarted("echo", line, now, keep_pending=True)
            return
        upper = line.upper()
        if upper in _FINAL or upper.startswith(("+CME ERROR:", "+CMS ERROR:")):
            self._final(line, now)
            return
        if upper in _CALL_FINAL:
            if pending is not None and pending.command.sets_up_call:
                self._final(line, now)
            else:
                self._events.append(Unsolicited(upper))
            return
        if upper == "RDY" and not self._booting:
            self._restarted("rdy", line, now)
            return
        name, rest = _split_name(line)
        if pending is not None and self._answers(pending.command, name, rest):
            pending.lines.append(line)
            return
        if name == "+CFUN" and rest.strip() == "1" and not self._booting:
            self._restarted("cfun", line, now)
            return
        if upper in URC_WORDS or (name and name.startswith(URC_PREFIXES)):
            fields = split_fields(rest) if name else ()
            urc = Unsolicited(name or upper, fields, line)
            if name in _TWO_LINE or (name == "+CDS" and len(fields) == 1):
                self._urc_head = urc
            else:
                self._events.append(urc)
            return
        if pending is not None and not pending.prompted:
            # Information text without a prefix (ATI, AT+CIMI, AT+CGSN answer bare).
            pending.lines.append(line)
            return
        self._garbage(line, "no command is waiting for this line")

    def _is_echo(self, line: str, pending: _Pending) -> bool:
        text = pending.command.text.upper()
        if line.upper() == text:
            return True
        payload = pending.command.payload
        return bool(payload) and pending.prompted and line.encode("latin-1").rstrip(
            CTRL_Z).endswith(payload or b"")

    @staticmethod
    def _answers(command: Command, name: str, rest: str) -> bool:
        if not name or name not in command.prefixes:
            return False
        if name in ("+CREG", "+CGREG", "+CEREG"):
            return _is_registration_answer(name, rest)
        return True

    def _final(self, line: str, now: float) -> None:
        pending, self._pending = self._pending, None
        if pending is None:
            self._garbage(line, "a final result code with no command in flight")
            return
        upper = line.upper()
        code: int | None = None
        text = ""
        if upper.startswith(("+CME ERROR:", "+CMS ERROR:")):
            result = Result.CME_ERROR if upper.startswith("+CME") else Result.CMS_ERROR
            text = line.split(":", 1)[1].strip()
            code = int(text) if text.isdigit() else (
                _CME_BY_TEXT.get(text.lower()) if result is Result.CME_ERROR else None)
            if code is not None and text.isdigit() and result is Result.CME_ERROR:
                text = CME_ERRORS.get(code, text)
        else:
            result = _FINAL.get(upper) or _CALL_FINAL[upper]
        self._booting = False
        command = pending.command
        if result is Result.OK and command.text.upper() in ("ATE0", "ATE1", "ATZ", "AT&F"):
            self.echo = command.text.upper() != "ATE0"
        self._events.append(Response(command, result, tuple(pending.lines), code, text))
        self._next(now)

    def _restarted(self, reason: str, line: str, now: float, *,
                   keep_pending: bool = False) -> None:
        self.restarts += 1
        self._urc_head = None
        self._booting = True
        if reason != "echo":
            self.echo = True  # V.250 §6.2.4: E1 after power-on
        self._events.append(Restarted(reason, line))
        lost: list[Command] = []
        if self._pending is not None and not keep_pending:
            lost.append(self._pending.command)
            self._pending = None
        lost += [command for command, _ in self._queue]
        self._queue.clear()
        for command in lost:
            self._events.append(Response(command, Result.RESTART))
        if keep_pending:
            return
        self._next(now)


def _split_name(line: str) -> tuple[str, str]:
    """``+CSQ: 20,99`` -> (``+CSQ``, ``20,99``); a line with no ``+X:``/``^X:`` name
    gives ("", line). SIMCom's ``VOICE CALL: END`` keeps its words as the name."""
    match = re.match(r"([+^][A-Za-z0-9]+)\s*:?\s*(.*)$", line)
    if match is not None and (":" in line or line == match.group(1)):
        return match.group(1).upper(), match.group(2)
    for word in ("VOICE CALL:", "MISSED_CALL:"):
        if line.upper().startswith(word):
            return word, line[len(word):].strip()
    return "", line
