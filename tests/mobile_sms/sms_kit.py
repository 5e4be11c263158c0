"""A scripted far end for SMS: a small PDU-mode module behind a real pty, and the
harness that drives the AT channel and the SMS agent over pyserial on the other side.

The far end speaks only what TS 27.005 asks of a module for SMS (CMGF, CNMI, CPMS, CMGL,
CMGR, CMGD, CMGS with its prompt) and keeps a SIM store with indexes; the test injects
arrivals (+CMTI), status reports (+CDS) and faults (an error answer, silence, a
restart). Everything runs in one thread on virtual time: each step moves bytes both
ways and advances ``now``.
"""

from __future__ import annotations

import datetime as dt
import os
import select
import tty
from dataclasses import dataclass, field

import serial

from trunkline.drivers.backends.mobile import pdu
from trunkline.drivers.backends.mobile.at import AtChannel
from trunkline.drivers.backends.mobile.sms import SmsAgent
from trunkline.drivers.sms import SmsEvent

STAMP = dt.datetime(2026, 12, 2, 18, 0, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


@dataclass
class FarEnd:
    """The module's side of the pty."""

    fd: int
    store: dict[int, tuple[int, str]] = field(default_factory=dict)  # index -> (stat, hex)
    submitted: list[pdu.Submit] = field(default_factory=list)
    next_mr: int = 7
    #: +CMS error code to answer the next N AT+CMGS with (one per entry), or "silent".
    cmgs_faults: list[object] = field(default_factory=list)
    echo: bool = True
    #: A module that hears but never answers (powered, firmware hung).
    mute: bool = False
    _buffer: bytearray = field(default_factory=bytearray)
    _pdu_len: int | None = None
    commands: list[str] = field(default_factory=list)

    def write(self, text: str) -> None:
        os.write(self.fd, text.encode("latin-1"))

    def arrive(self, raw: bytes, *, announce: bool = True) -> int:
        """A message is stored on the SIM (and +CMTI sent)."""
        index = next(i for i in range(1, 100) if i not in self.store)
        self.store[index] = (0, raw.hex().upper())
        if announce:
            self.write(f'\r\n+CMTI: "SM",{index}\r\n')
        return index

    def status_report(self, raw: bytes) -> None:
        self.write(f"\r\n+CDS: {len(raw) - 1 - raw[0]}\r\n{raw.hex().upper()}\r\n")

    def restart(self) -> None:
        self.echo = True
        self._pdu_len = None
        self._buffer.clear()
        self.write("\r\nRDY\r\n")

    def pump(self) -> None:
        while select.select([self.fd], [], [], 0)[0]:
            try:
                chunk = os.read(self.fd, 4096)
            except OSError:
                return
            if not chunk:
                return
            if self.mute:
                continue
            self._buffer += chunk
            self._process()

    def _process(self) -> None:
        while True:
            if self._pdu_len is not None:
                end = self._buffer.find(b"\x1a")
                if end < 0:
                    return
                hex_pdu = bytes(self._buffer[:end]).decode()
                del self._buffer[:end + 1]
                self._pdu_len = None
                self._submit(hex_pdu)
                continue
            end = self._buffer.find(b"\r")
            if end < 0:
                return
            line = bytes(self._buffer[:end]).decode("latin-1").strip()
            del self._buffer[:end + 1]
            if line:
                self._command(line)

    def _command(self, line: str) -> None:
        self.commands.append(line)
        if self.echo:
            self.write(line + "\r")
        upper = line.upper()
        if upper in ("AT+CMGF=0", "AT+CNMI=2,1,0,1,0", "ATE0"):
            if upper == "ATE0":
                self.echo = False
            self.write("\r\nOK\r\n")
        elif upper.startswith("AT+CPMS="):
            self.write(f"\r\n+CPMS: {len(self.store)},30,{len(self.store)},30,"
                       f"{len(self.store)},30\r\n\r\nOK\r\n")
        elif upper == "AT+CMGL=4":
            out = "".join(f"\r\n+CMGL: {i},{stat},,{len(h) // 2 - 1 - int(h[:2], 16)}"
                          f"\r\n{h}" for i, (stat, h) in sorted(self.store.items()))
            self.write(out + "\r\n\r\nOK\r\n")
        elif upper.startswith("AT+CMGR="):
            index = int(upper.split("=")[1])
            if index not in self.store:
                self.write("\r\n+CMS ERROR: 321\r\n")
                return
            stat, h = self.store[index]
            self.store[index] = (1, h)
            self.write(f"\r\n+CMGR: {stat},,{len(h) // 2 - 1 - int(h[:2], 16)}\r\n{h}"
                       "\r\n\r\nOK\r\n")
        elif upper.startswith("AT+CMGD="):
            self.store.pop(int(upper.split("=")[1]), None)
            self.write("\r\nOK\r\n")
        elif upper.startswith("AT+CMGS="):
            self._pdu_len = int(upper.split("=")[1])
            self.write("\r\n> ")
        else:
            self.write("\r\nERROR\r\n")

    def _submit(self, hex_pdu: str) -> None:
        fault = self.cmgs_faults.pop(0) if self.cmgs_faults else None
        if fault == "silent":
            return
        if fault is not None:
            self.write(f"\r\n+CMS ERROR: {fault}\r\n")
            return
        message = pdu.decode(hex_pdu, direction="mo")
        assert isinstance(message, pdu.Submit)
        assert len(bytes.fromhex(hex_pdu)) - 1 - bytes.fromhex(hex_pdu)[0] == \
            self._last_length()
        self.submitted.append(message)
        mr, self.next_mr = self.next_mr, (self.next_mr + 1) % 256
        self.write(f"\r\n+CMGS: {mr}\r\n\r\nOK\r\n")

    def _last_length(self) -> int:
        last = next(c for c in reversed(self.commands) if c.upper().startswith("AT+CMGS="))
        return int(last.split("=")[1])


class Rig:
    """The module's port opened with pyserial, its AT channel and SMS agent, and the
    far end on the pty's other side."""

    def __init__(self, **agent_options: object) -> None:
        master, slave = os.openpty()
        tty.setraw(master)
        self._slave = slave
        self.port = serial.Serial(os.ttyname(slave), baudrate=115200, timeout=0)
        self.far = FarEnd(master)
        self.channel = AtChannel()
        self.agent = SmsAgent(self.channel.send, **agent_options)  # type: ignore[arg-type]
        self.now = 0.0
        self.events: list[SmsEvent] = []
        #: Take the agent's SMS events into ``events`` (False when a gateway takes them).
        self.collect = True
        self.others: list[object] = []

    def close(self) -> None:
        self.port.close()
        os.close(self._slave)
        os.close(self.far.fd)

    def step(self, dt_: float = 0.05) -> None:
        self.now += dt_
        self.agent.poll(self.now)
        out = self.channel.data_to_send()
        if out:
            self.port.write(out)
            self.port.flush()
        self.far.pump()
        data = self.port.read(65536)
        if data:
            self.channel.feed(data, self.now)
        self.channel.handle_timer(self.now)
        for event in self.channel.take_events():
            if not self.agent.handle(event, self.now):
                self.others.append(event)
        while self.collect and (e := self.agent.receive()) is not None:
            self.events.append(e)

    def run(self, seconds: float = 1.0, dt_: float = 0.05) -> None:
        for _ in range(round(seconds / dt_)):
            self.step(dt_)

    def until(self, predicate, limit: float = 30.0) -> None:  # type: ignore[no-untyped-def]
        start = self.now
        while not predicate():
            if self.now - start > limit:
                raise AssertionError(f"not reached within {limit} s; events {self.events}")
            self.step()
