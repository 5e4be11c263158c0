"""A module under test: the emulated modem behind its real pty, pyserial on the other end,
and the sans-IO :class:`VoiceModule` between, stepped 20 ms at a time in virtual time.
(Not a conftest: test modules import it.)"""

from __future__ import annotations

import serial

from trunkline.drivers.backends.emulated.modem import EmulatedModem, ModemBank, ModemSettings
from trunkline.drivers.backends.emulated.plan import default_plan
from trunkline.drivers.backends.mobile.voice import VoiceModule
from trunkline.drivers.modem import ModemCallEvent

TICK = 0.02


class ModemRig:
    def __init__(self, settings: ModemSettings | None = None, profile: str = "quectel") -> None:
        self.bank = ModemBank(default_plan(), [("gsm1", settings or ModemSettings())])
        self.modem: EmulatedModem = self.bank.modems[0]
        self.port = serial.Serial(self.modem.at.path, 115200, timeout=0)
        self.module = VoiceModule(profile)
        self.now = 0.0
        self.events: list[ModemCallEvent] = []
        self.wire = b""

    def tick(self) -> None:
        self.now = round(self.now + TICK, 6)
        self.bank.step(self.now)
        data = self.port.read(self.port.in_waiting or 1)
        self.wire += data
        if data:
            self.module.feed(data, self.now)
        self.module.handle_timer(self.now)
        out = self.module.data_to_send()
        if out:
            self.port.write(out)
        self.events += self.module.take_call_events()

    def run(self, seconds: float) -> list[ModemCallEvent]:
        start = len(self.events)
        for _ in range(round(seconds / TICK)):
            self.tick()
        return self.events[start:]

    def until(self, predicate, limit: float = 60.0) -> None:
        for _ in range(round(limit / TICK)):
            if predicate():
                return
            self.tick()
        raise AssertionError(f"not within {limit} s; events {self.events}")

    def close(self) -> None:
        self.port.close()
        self.bank.close()
