"""The network's side of each channel kind: an exchange line, a phone, a B-channel.

- :class:`ExchangeLine` is the central office behind an FXO port: loop current, dial
  tone, DTMF and pulse digit reception, routing into the number plan, in-band progress
  tones, polarity reversal on answer and clear (where the line has it), far-end
  disconnect by loop-current drop or by tone only, and inbound ringing.
- :class:`Phone` is the telephone on an FXS port (an agent position): it rings when the
  card rings it, picks up, talks, and can be lifted, hung up, flashed or made to dial.
- :class:`BearerChannel` is the network's end of an E1/T1 timeslot; the PRI exchange
  decides what it plays.

All timing comes from the network's step time; nothing here reads a clock.
"""

from __future__ import annotations

from collections import deque
from enum import StrEnum

import numpy as np

from trunkline.drivers.backends.emulated.config import LineSettings, PhoneSettings
from trunkline.drivers.backends.emulated.digits import frame_keys
from trunkline.drivers.backends.emulated.farend import FarEndPlan, Step, build_plan
from trunkline.drivers.backends.emulated.network import Network, Port
from trunkline.drivers.backends.emulated.plan import Behaviour, Subscriber
from trunkline.drivers.dsp.callerid import (
    CallerId,
    CallerIdError,
    FskReceiver,
    decode_message,
    encode_message,
    modulate,
)
from trunkline.drivers.dsp.tones import dtmf, silence, to_int16
from trunkline.drivers.model import EventKind

# Pulse dialing at 10 pps: breaks of about 60 ms (accepted 20-120 ms here); a make longer
# than 250 ms ends a digit; a break longer than 400 ms is a hang-up (ITU-T Q.23 does not
# cover pulses; these are the usual exchange limits).
PULSE_BREAK_MAX = 0.12
PULSE_BREAK_MIN = 0.02
INTERDIGIT_MAKE = 0.25
HANGUP_BREAK = 0.4
#: GR-30-CORE: the caller ID message starts at least 500 ms after the first ring ends.
CALLER_ID_DELAY = 0.5
#: How long loop current stays off when the far end clears on a loop-drop line.
LOOP_DROP_SECONDS = 0.8
#: How long an exchange plays dial tone before giving up on a caller (permanent signal).
DIAL_TONE_TIMEOUT = 20.0


class LineState(StrEnum):
    IDLE = "idle"
    DIALTONE = "dialtone"
    COLLECTING = "collecting"
    ROUTED = "routed"
    CONNECTED = "connected"
    CLEARED = "cleared"
    RINGING_IN = "ringing_in"
    LOCKED_OUT = "locked_out"


class ExchangeLine(Port):
    """The central office's end of an analog line plugged into an FXO port."""

    def __init__(self, network: Network, channel: int, span: int, row: int,
                 settings: LineSettings) -> None:
        super().__init__(network, channel, span, row)
        self.settings = settings
        self.state = LineState.IDLE
        self.offhook = False
        self.loop_current = False
        self.reversed = False
        self.digits = ""
        self.call: FarEndPlan | None = None
        self.history: deque[str] = deque(maxlen=64)
        self._last_key = ""
        self._key_frames = 0
        self._break_at: float | None = None
        self._pulses = 0
        self._inbound: Subscriber | None = None

    # -- our side's hook ------------------------------------------------------------
    def hook(self, offhook: bool) -> None:
        """Our port went off hook (seize, answer) or on hook (release, pulse break)."""
        if offhook == self.offhook:
            return
        self.offhook = offhook
        now = self.network.now
        if self.out_of_service:
            return
        if not offhook:
            if self.state in (LineState.DIALTONE, LineState.COLLECTING):
                # Maybe a dial pulse: decide when the loop closes again, or hang up.
                self._break_at = now
                self.after(HANGUP_BREAK, lambda: self._clear_if_still_on_hook(now))
                return
            self._release()
            return
        # Off hook.
        if self._break_at is not None:
            brk = now - self._break_at
            self._break_at = None
            if PULSE_BREAK_MIN <= brk <= PULSE_BREAK_MAX:
                self._pulses += 1
                self._schedule_pulse_digit_end()
            return
        if self.state is LineState.RINGING_IN:
            self._answer_inbound()
            return
        if self.state is LineState.IDLE:
            self.loop_current = True
            self.state = LineState.DIALTONE
            self.digits = ""
            self.cancel_timers()
            self.after(self.settings.dial_tone_delay, self._give_dial_tone)
            self.after(DIAL_TONE_TIMEOUT, self._permanent_signal)

    def _clear_if_still_on_hook(self, break_at: float) -> None:
        """Hang up if the break that began at ``break_at`` is still going on."""
        if not self.offhook and self._break_at == break_at:
            self._break_at = None
            self._release()

    def _schedule_pulse_digit_end(self) -> None:
        count = self._pulses

        def end_of_digit() -> None:
            if self._pulses == count and self.offhook:
                self._pulses = 0
                self._digit("0" if count == 10 else str(count % 10))

        self.after(INTERDIGIT_MAKE, end_of_digit)

    def _release(self) -> None:
        """Our side hung up: the exchange clears whatever was going on."""
        self.attach_live(None)
        self.cancel_timers()
        self.network.listeners.discard(self)
        if self.call is not None:
            self.history.append(f"released:{self.call.behaviour}")
        self.call = None
        self._inbound = None
        self.state = LineState.IDLE
        self.loop_current = False
        self.reversed = False
        self._pulses = 0
        self.silence()

    # -- dialing --------------------------------------------------------------------
    def _give_dial_tone(self) -> None:
        if self.state is LineState.DIALTONE:
            prefix, cycle = self.network.sounds.tone("dial")
            steps = [Step(prefix, label="dial")] if prefix else []
            self.play([*steps, Step(cycle, loop=True, label="dial")])
            self.network.listeners.add(self)

    def _permanent_signal(self) -> None:
        if self.state in (LineState.DIALTONE, LineState.COLLECTING) and not self.digits:
            # Off hook without dialing: the exchange parks the line on congestion tone.
            self.state = LineState.LOCKED_OUT
            self.network.listeners.discard(self)
            _prefix, cycle = self.network.sounds.tone("congestion")
            self.play([Step(cycle, loop=True, label="congestion")])

    def hear(self, frame: np.ndarray) -> None:
        key = str(frame_keys(frame[None, :])[0])
        if key and key == self._last_key:
            self._key_frames += 1
            if self._key_frames == 2:  # 40 ms of the same key: a digit (Q.24 minimum)
                self._digit(key)
        else:
            self._key_frames = 1 if key else 0
        self._last_key = key

    def _digit(self, key: str) -> None:
        if self.state not in (LineState.DIALTONE, LineState.COLLECTING):
            return
        if self.state is LineState.DIALTONE:
            self.silence()  # the first digit stops dial tone
            self.state = LineState.COLLECTING
        self.cancel_timers()
        if key == "#":
            self._route()
            return
        self.digits += key
        if self.network.plan.is_complete(self.digits):
            self._route()
        else:
            self.after(self.network.plan.interdigit_timeout, self._route)

    # -- the call -------------------------------------------------------------------
    def _route(self) -> None:
        if self.state is not LineState.COLLECTING:
            return
        self.network.listeners.discard(self)
        self.cancel_timers()
        sub = self.network.plan.lookup(self.digits)
        plan = build_plan(sub, self.network.sounds, self.network.call_rng())
        self.call = plan
        self.state = LineState.ROUTED
        self.history.append(f"routed:{self.digits}:{plan.behaviour}")
        self.play(plan.early)
        if plan.answer_after is not None:
            self.after(plan.answer_after, self._far_answer)

    def _far_answer(self) -> None:
        if self.state is not LineState.ROUTED or self.call is None:
            return
        self.state = LineState.CONNECTED
        if self.settings.polarity_reversal:
            self.reversed = True
            self.emit(EventKind.POLARITY, 1)
        self.start_far_end(self.call)
        if self.call.hangup_after is not None:
            self.after(self.call.hangup_after, self._far_clear)

    def _far_clear(self) -> None:
        """The far end hung up: polarity back, loop drop or tone, then busy tone."""
        if self.state is not LineState.CONNECTED:
            return
        self.state = LineState.CLEARED
        self.attach_live(None)
        if self.reversed:
            self.reversed = False
            self.emit(EventKind.POLARITY, 0)
        busy = [Step(self.network.sounds.tone("busy")[1], loop=True, label="busy")]
        if self.settings.disconnect == "loop_drop":
            self.loop_current = False
            self.emit(EventKind.ONHOOK)
            self.silence()

            def restore() -> None:
                if self.state is LineState.CLEARED and self.offhook:
                    self.loop_current = True
                    self.play(busy)

            self.after(LOOP_DROP_SECONDS, restore)
        else:
            self.play(busy)

    # -- inbound --------------------------------------------------------------------
    def ring_in(self, behaviour: Behaviour = Behaviour.HUMAN, rings: int = 6, *,
                caller: str = "") -> None:
        """The network calls this line: ring with the zone's cadence, ``rings`` times.
        On a line with caller ID the exchange sends ``caller`` (private when empty)
        half a second after the first ring, as GR-30-CORE places it."""
        if self.state is not LineState.IDLE or self.offhook or self.out_of_service:
            raise RuntimeError(f"line on channel {self.channel} is busy ({self.state})")
        self.state = LineState.RINGING_IN
        self._inbound = Subscriber(pattern="inbound", behaviour=behaviour,
                                   language=self.network.plan.language)
        cadence = self.network.sounds.zone.ring_cadence_ms or (1000, 4000)
        on = cadence[0] / 1000
        off = sum(cadence[1:]) / 1000 if len(cadence) > 1 else 4.0

        def ring(n: int) -> None:
            if self.state is not LineState.RINGING_IN:
                return
            if n >= rings:
                self.state = LineState.IDLE  # the caller gave up
                self._inbound = None
                return
            self.emit(EventKind.RING_BEGIN)
            self.after(on, lambda: self.state is LineState.RINGING_IN
                       and self.emit(EventKind.RING_END))
            if n == 0 and self.settings.caller_id:
                self.after(on + CALLER_ID_DELAY, lambda: self.state is LineState.RINGING_IN
                           and self._send_caller_id(caller))
            self.after(on + off, lambda: ring(n + 1))

        ring(0)

    def _send_caller_id(self, caller: str) -> None:
        """The caller ID message (MDMF; the emulated exchange keeps no calendar, so no
        date and time), as FSK on the line: our port listens while on hook."""
        cid = CallerId(number=caller) if caller else CallerId(number_absent="P")
        words = encode_message(cid)
        bank = self.network.sounds.bank
        name = f"callerid:{self.settings.caller_id}:{words.hex()}"
        clip = bank.get(name) if name in bank else bank.add(
            to_int16(modulate(words, self.settings.caller_id)), name)
        self.play([Step(clip, label="caller_id")])

    def _answer_inbound(self) -> None:
        assert self._inbound is not None
        self.cancel_timers()
        self.loop_current = True
        plan = build_plan(self._inbound, self.network.sounds, self.network.call_rng())
        self.call = plan
        self.state = LineState.CONNECTED
        self.start_far_end(plan)
        if plan.hangup_after is not None:
            self.after(plan.hangup_after, self._far_clear)

    # -- faults ---------------------------------------------------------------------
    def set_out_of_service(self, out: bool) -> None:
        self.out_of_service = out
        if out:
            self._release()
            self.offhook_before = self.offhook
        elif self.offhook and self.state is LineState.IDLE:
            self.offhook = False
            self.hook(True)


class PhoneState(StrEnum):
    ONHOOK = "onhook"
    RINGING = "ringing"
    OFFHOOK = "offhook"


class Phone(Port):
    """A telephone on an FXS port: an agent's position.

    The phone keeps the last ten seconds of what it heard (``heard``), so tests can
    check what reached the agent. While it rings it reads caller ID, as a phone with a
    display does: ``caller_id`` is the last message read (None: none yet this call).

    The port's ringer runs here too, with the zone's ring cadence: each silent step of
    the cadence is a RINGER_OFF event, as DAHDI's __rbs_otimer_expire queues
    DAHDI_EVENT_RINGEROFF (on dahdi:sim the simulated kernel's ringer does that and
    these events are not passed on).
    """

    HEARD_SECONDS = 10

    def __init__(self, network: Network, channel: int, span: int, row: int,
                 settings: PhoneSettings) -> None:
        super().__init__(network, channel, span, row)
        self.settings = settings
        self.state = PhoneState.ONHOOK
        self._heard = np.zeros(self.HEARD_SECONDS * 8000, dtype=np.int16)
        self._heard_pos = 0
        self.rings = 0
        self.caller_id: CallerId | None = None
        self._fsk: FskReceiver | None = None

    # -- the card's side -------------------------------------------------------------
    def ring(self, on: bool) -> None:
        if self.out_of_service:
            return
        if on and self.state is PhoneState.ONHOOK:
            self.state = PhoneState.RINGING
            self.rings += 1
            self.caller_id = None
            self._fsk = FskReceiver()
            self.network.listeners.add(self)  # the line between rings: caller ID
            self._ringer_step(0)
            if self.settings.auto_answer:
                self.after(self.settings.answer_after.sample(self.network.rng), self.lift)
        elif not on and self.state is PhoneState.RINGING:
            self.state = PhoneState.ONHOOK
            self.cancel_timers()
            self.network.listeners.discard(self)
            self._fsk = None

    def _ringer_step(self, position: int) -> None:
        """Cadence step ``position`` (even: ringing, odd: silent) has begun."""
        cadence = self.network.sounds.zone.ring_cadence_ms or (1000, 4000)
        if position % 2:
            self.emit(EventKind.RINGER_OFF)
        length = cadence[position % len(cadence)] / 1000
        self.after(max(length, 0.02), lambda: self._ringer_step(position + 1))

    def disconnect(self) -> None:
        """The card removed battery (kewlstart disconnect): the agent hangs up."""
        if self.state is PhoneState.OFFHOOK:
            self.after(0.2, self.hangup)

    # -- the person's side ------------------------------------------------------------
    def lift(self) -> None:
        if self.out_of_service or self.state is PhoneState.OFFHOOK:
            return
        self.cancel_timers()
        self.state = PhoneState.OFFHOOK
        self._fsk = None
        self.network.listeners.add(self)
        self.emit(EventKind.OFFHOOK)
        if self.settings.talks:
            self._talk()

    def hangup(self) -> None:
        if self.state is not PhoneState.OFFHOOK:
            return
        self.cancel_timers()
        self.state = PhoneState.ONHOOK
        self.network.listeners.discard(self)
        self.silence()
        self.emit(EventKind.ONHOOK)

    def flash(self) -> None:
        if self.state is PhoneState.OFFHOOK:
            self.emit(EventKind.WINKFLASH)

    def press(self, digits: str, on_ms: int = 100, off_ms: int = 100) -> None:
        """The agent keys ``digits`` on the phone's keypad (DTMF into the line)."""
        if self.state is not PhoneState.OFFHOOK:
            raise RuntimeError(f"the phone on channel {self.channel} is on hook")
        audio = np.concatenate([np.concatenate([dtmf(d, on_ms), silence(off_ms)])
                                for d in digits])
        clip = self.network.sounds.bank.add(audio, f"keys:{digits}:{on_ms}:{off_ms}")
        self.play([Step(clip, label="dtmf")])

    def _talk(self) -> None:
        lang = self.network.plan.language
        talks = self.network.sounds.clips(lang, "talk")
        rng = self.network.rng
        steps: list[Step] = []
        for _ in range(20):
            steps += [Step(None, float(rng.uniform(2.0, 6.0)), label="listening"),
                      Step(talks[rng.integers(len(talks))].clip, label="talk")]
        self.play(steps)

    def hear(self, frame: np.ndarray) -> None:
        if self.state is PhoneState.RINGING:
            self._read_caller_id(frame)
            return
        n = frame.size
        pos = self._heard_pos % self._heard.size
        self._heard[pos:pos + n] = np.clip(frame, -32768, 32767).astype(np.int16)
        self._heard_pos += n

    def _read_caller_id(self, frame: np.ndarray) -> None:
        if self._fsk is None:
            return
        for message in self._fsk.feed(frame):
            try:
                self.caller_id = decode_message(message)
            except CallerIdError:
                continue  # a display shows nothing for a message it cannot read

    @property
    def heard(self) -> np.ndarray:
        """What the phone heard, oldest first (up to ten seconds)."""
        n = min(self._heard_pos, self._heard.size)
        pos = self._heard_pos % self._heard.size
        return np.concatenate([self._heard[pos:], self._heard[:pos]])[-n:] if n else \
            np.zeros(0, dtype=np.int16)

    def set_out_of_service(self, out: bool) -> None:
        if out:
            self.ring(False)
        self.out_of_service = out
        if out:
            self.hangup()
            self.state = PhoneState.ONHOOK


class BearerChannel(Port):
    """The network's end of a digital timeslot (B-channel or CAS channel)."""

    def __init__(self, network: Network, channel: int, span: int, row: int) -> None:
        super().__init__(network, channel, span, row)
        self.in_use = False
        # Idle E1 CAS bits: A=1, B=0 (ITU-T Q.421 idle), C, D = 0, 1 (ITU-T G.704).
        self.rx_bits = 0b1001
        self.tx_bits = 0b1001

    def far_end_bits(self, bits: int) -> None:
        """The far end sends ABCD ``bits`` (reported as BITS_CHANGED when they change)."""
        if bits != self.rx_bits:
            self.rx_bits = bits
            self.emit(EventKind.BITS_CHANGED, bits)

    def set_out_of_service(self, out: bool) -> None:
        self.out_of_service = out
        if out:
            self.in_use = False
            self.silence()
