"""MFC/R2 register signalling: the compelled MF cycle in both roles, sans-IO.

Q.440/Q.441 compelled signalling, as both registers run it here::

    forward   ──signal on──────────────┐                 ┌─next signal on──
    backward          └─answer on──────┼──┐  (answer off)│
    1. the outgoing register sends a forward signal (group I digits, group II category);
    2. the incoming register recognises it and answers with a backward signal (A, B, C);
    3. the outgoing register recognises the answer and stops its signal;
    4. the incoming register recognises that and stops its answer;
    5. the outgoing register recognises that and acts on what the answer meant.

The outgoing register (:class:`OutgoingRegister`) answers the backward requests of
groups A (and C) by their meaning in the variant, and ends with a group B (or A) result.
The incoming register (:class:`IncomingRegister`) asks for the called number, the
calling-party category and calling number, changes over to group B, and holds the last
forward signal until its leg decides (:meth:`IncomingRegister.respond`). Where a
variant has no signal to end a number, the outgoing register falls silent and the
incoming one, hearing nothing, takes the number as complete and sends its next request
as a pulse (Q.442). A far end that stops answering the cycle ends the register with no
result (Q.476 abnormal release), after the variant's timers.

MF tones go out as :class:`~trunkline.drivers.signalling.actions.PlayTone` /
:class:`~trunkline.drivers.signalling.actions.StopTone` (Q.441 frequencies, the
variant's level) and come in as the detector's
:class:`~trunkline.drivers.dsp.events.MfEvent` ``on``/``off``. Every signal sent or
recognised is noted as an :class:`~.events.R2Signal`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from trunkline.drivers.dsp.dtmf import MF_CHARS, R2_BACKWARD_FREQS, R2_FORWARD_FREQS
from trunkline.drivers.dsp.events import MfEvent
from trunkline.drivers.signalling.actions import Action, DetectMf, PlayTone, StopTone, ToneSpec
from trunkline.drivers.signalling.r2.events import R2Signal
from trunkline.drivers.signalling.r2.variants import (
    ACCEPTED,
    REFUSED,
    Backward,
    Group,
    Meaning,
    R2Variant,
    variant,
)

__all__ = ["PAIRS", "Collected", "IncomingRegister", "OutgoingRegister", "RegisterEnd",
           "RegisterOutput", "decode_tone", "mf_signal", "mf_tone"]

#: Q.441 (Table 5, the 2-out-of-6 code): signal n is sent as frequencies f_i + f_j of
#: its direction (forward 1380..1980 Hz, backward 1140..540 Hz, f0 first).
PAIRS: Final = ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3), (0, 4), (1, 4), (2, 4),
                (3, 4), (0, 5), (1, 5), (2, 5), (3, 5), (4, 5))
_FREQS: Final = {"forward": R2_FORWARD_FREQS, "backward": R2_BACKWARD_FREQS}
_SYSTEM: Final = {"forward": "r2_forward", "backward": "r2_backward"}


def mf_tone(direction: str, signal: int, level: float) -> ToneSpec:
    """The tone of MF signal ``signal`` (1..15) sent ``direction`` at ``level`` dBm0."""
    if not 1 <= signal <= 15:
        raise ValueError(f"MFC/R2 signals are 1..15, not {signal!r}")
    freqs = _FREQS[direction]
    i, j = PAIRS[signal - 1]
    return ToneSpec((freqs[i], freqs[j]), level)


def decode_tone(tone: ToneSpec) -> tuple[str, int] | None:
    """(direction, signal) of an MF tone, None for any other tone."""
    for direction, freqs in _FREQS.items():
        for n, (i, j) in enumerate(PAIRS, start=1):
            if tuple(tone.frequencies) == (freqs[i], freqs[j]):
                return direction, n
    return None


def mf_signal(event: MfEvent, direction: str) -> int | None:
    """The signal number (1..15) of a detector MF event heard from ``direction``
    (None: another system, or a character that is no R2 signal)."""
    if event.system != _SYSTEM[direction]:
        return None
    chars: str = MF_CHARS[event.system]
    index = chars.find(event.digit)
    return None if index < 0 else index + 1


@dataclass(frozen=True, slots=True)
class RegisterEnd:
    """The register signalling is over. ``result`` is the meaning of the signal that
    ended it (an acceptance or a refusal); None when it failed (``reason`` says why)."""

    result: Meaning | None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Collected:
    """The incoming register has the whole call (called, calling, category) and holds
    the last forward signal until its leg answers it (:meth:`IncomingRegister.respond`)."""


RegisterOutput = Action | R2Signal | RegisterEnd | Collected


class _Register:
    """What both registers share: the output list, the deadline, sending MF."""

    direction: str = ""  # the direction this register sends

    def __init__(self, r2: R2Variant | str) -> None:
        self.variant = variant(r2)
        self.tone: int | None = None  # the signal we are sending
        self.deadline: float | None = None
        self.over = False
        self.reason = ""
        self._out: list[RegisterOutput] = []

    def next_deadline(self) -> float | None:
        return None if self.over else self.deadline

    def stop(self, now: float) -> list[RegisterOutput]:
        """End the register signalling now (the call is being cleared): no tone, no MF
        detection, no result."""
        if not self.over:
            self._silence()
            self._out.append(DetectMf(None))
            self.over = True
            self.deadline = None
        return self._take()

    def _send(self, now: float, group: Group, signal: int, meaning: str) -> None:
        self.tone = signal
        self._out.append(PlayTone(mf_tone(self.direction, signal, self.variant.mf_level)))
        self._out.append(R2Signal(now, self.direction, group.value, signal, meaning, sent=True))

    def _silence(self) -> None:
        if self.tone is not None:
            self.tone = None
            self._out.append(StopTone())

    def _end(self, result: Meaning | None, reason: str = "") -> None:
        self._silence()
        self._out.append(DetectMf(None))
        self._out.append(RegisterEnd(result, reason))
        self.over = True
        self.reason = reason
        self.deadline = None

    def _take(self) -> list[RegisterOutput]:
        out, self._out = self._out, []
        return out


# -- the outgoing (forward) register -------------------------------------------------------

class OutgoingRegister(_Register):
    """Sends ``called`` (and, when asked, ``calling`` and the categories) to the incoming
    register and learns what became of the call (see the module docstring)."""

    direction = "forward"

    def __init__(self, r2: R2Variant | str, called: str, calling: str | None = None, *,
                 category: int | None = None, calling_category: int | None = None) -> None:
        super().__init__(r2)
        v = self.variant
        if not called or not called.isdigit():
            raise ValueError(f"an R2 called number is digits 0-9, not {called!r}")
        if calling and not calling.isdigit():
            raise ValueError(f"an R2 calling number is digits 0-9, not {calling!r}")
        self.called = called
        self.calling = (calling or "")[:v.max_calling]
        self.category = v.category if category is None else category
        self.calling_category = v.calling_category if calling_category is None \
            else calling_category
        for name, value, table in (("category", self.category, v.categories),
                                   ("calling_category", self.calling_category,
                                    v.calling_categories)):
            if value not in table:
                raise ValueError(f"{name} {value!r} is not one of variant {v.name}'s "
                                 f"({', '.join(map(str, table))})")
        self.group = Group.A
        #: Index of the last called digit sent (-1: none yet).
        self.sent = -1
        self.calling_sent = 0
        self.calling_mode = False
        self.category_sent = False
        self.calling_done = False
        #: The backward signal recognised and not yet ended.
        self.pending: int | None = None
        self.result: Meaning | None = None

    def start(self, now: float) -> list[RegisterOutput]:
        """The seizure was acknowledged: listen for backward signals, send the first
        called digit (Q.440: the outgoing register begins)."""
        self._out.append(DetectMf("r2_backward"))
        self._send_called(now, 0)
        return self._take()

    def on_mf(self, now: float, event: MfEvent) -> list[RegisterOutput]:
        signal = mf_signal(event, "backward")
        if signal is None or self.over:
            return []
        if event.state == "on":
            if signal != self.pending:
                # Step 3: the answer is recognised, our signal stops.
                self.pending = signal
                self._silence()
                self.deadline = now + self.variant.timers.mf_forward_safety
        elif signal == self.pending:
            # Step 5: the answer ended; act on it.
            self.pending = None
            self._act(now, signal)
        return self._take()

    def on_time(self, now: float) -> list[RegisterOutput]:
        if not self.over and self.deadline is not None and now >= self.deadline:
            waited = "the backward signal did not end" if self.pending is not None else \
                "no backward signal came"
            self._end(None, f"{waited} in {self.variant.timers.mf_forward_safety:g} s "
                            f"(Q.476)")
        return self._take()

    def _act(self, now: float, signal: int) -> None:
        group = self.group
        row = self.variant.backward(group, signal)
        if row is None:
            self._out.append(R2Signal(now, "backward", group.value, signal,
                                      "no meaning in this variant", sent=False))
            self._end(None, f"backward signal {group}-{signal} means nothing in variant "
                            f"{self.variant.name}")
            return
        self._out.append(R2Signal(now, "backward", group.value, signal, row.name, sent=False))
        meaning = row.meaning
        if meaning in ACCEPTED or meaning in REFUSED:
            self.result = meaning
            self._end(meaning)
            return
        self.group = row.next_group or group
        self._answer(now, meaning)

    def _answer(self, now: float, meaning: Meaning) -> None:
        """Send what the backward request asks for (Q.441 meanings, by the variant)."""
        back = {Meaning.PREVIOUS_1: 1, Meaning.PREVIOUS_2: 2, Meaning.PREVIOUS_3: 3}
        if meaning is Meaning.NEXT_ADDRESS:
            self._send_called(now, self.sent + 1)
        elif meaning is Meaning.NEXT_DIGIT:
            if self.calling_mode:
                self._send_calling(now)
            else:
                self._send_called(now, self.sent + 1)
        elif meaning in back:
            self._send_called(now, max(self.sent - back[meaning], 0))
        elif meaning is Meaning.RESTART_ADDRESS:
            self._send_called(now, 0)
        elif meaning is Meaning.CALLING_PARTY:
            if self.category_sent:
                self._send_calling(now)
            else:
                self.category_sent = self.calling_mode = True
                v = self.variant
                self._send(now, v.calling_category_group, self.calling_category,
                           v.calling_categories[self.calling_category])
                self._wait(now)
        elif meaning is Meaning.ADDRESS_COMPLETE_B:
            self.calling_mode = False
            self._send(now, Group.II, self.category, self.variant.categories[self.category])
            self._wait(now)

    def _send_called(self, now: float, index: int) -> None:
        self.calling_mode = False
        if index < len(self.called):
            self.sent = index
            digit = self.called[index]
            self._send(now, Group.I, int(digit) or 10, f"digit {digit}")
        elif self.variant.end_of_address is not None:
            self.sent = len(self.called)
            self._send(now, Group.I, self.variant.end_of_address, Meaning.END_OF_ADDRESS.value)
        # else: nothing more to send; the incoming register will notice (Q.442)
        self._wait(now)

    def _send_calling(self, now: float) -> None:
        v = self.variant
        if self.calling_sent < len(self.calling):
            digit = self.calling[self.calling_sent]
            self.calling_sent += 1
            self._send(now, Group.I, int(digit) or 10, f"calling digit {digit}")
        else:
            self.calling_mode = False
            self.calling_done = True
            if not self.calling and v.calling_restricted is not None:
                self._send(now, Group.I, v.calling_restricted, Meaning.CALLING_RESTRICTED.value)
            elif v.end_of_calling is not None:
                self._send(now, Group.I, v.end_of_calling, Meaning.END_OF_CALLING.value)
        self._wait(now)

    def _wait(self, now: float) -> None:
        """Whatever we sent (or nothing, when a number has run out), the far end's next
        step of the cycle is due within the safety time (Q.476)."""
        self.deadline = now + self.variant.timers.mf_forward_safety


# -- the incoming (backward) register ------------------------------------------------------

class Expect(StrEnum):
    """What the incoming register takes the next forward signal for."""

    CALLED = "a called digit"
    CALLING_CATEGORY = "the calling party's category"
    CALLING = "a calling digit"
    CATEGORY = "the group II category"
    HOLD = "nothing: the call is complete, the last forward signal is held"


class IncomingRegister(_Register):
    """Collects a call from the outgoing register (see the module docstring).

    ``max_called``: the called number is complete at this many digits (None: when the
    far end ends it, or stops sending); ``request_calling`` and ``max_calling`` override
    the variant's.
    """

    direction = "backward"

    def __init__(self, r2: R2Variant | str, *, max_called: int | None = None,
                 max_calling: int | None = None, request_calling: str | None = None) -> None:
        super().__init__(r2)
        v = self.variant
        if max_called is not None and not 1 <= max_called <= 32:
            raise ValueError(f"max_called={max_called!r} must be 1..32 or None")
        self.max_called = max_called
        self.max_calling = v.max_calling if max_calling is None else max_calling
        self.request_calling = request_calling or v.request_calling
        if self.request_calling != "never" and v.request(Group.A, Meaning.CALLING_PARTY) is None:
            raise ValueError(f"variant {v.name} has no signal to ask for the calling number")
        self.group = Group.A
        self.expect = Expect.CALLED
        self.called = ""
        self.calling = ""
        self.category: int | None = None
        self.calling_category: int | None = None
        self.calling_restricted = False
        self.called_complete = False
        self.calling_complete = self.request_calling == "never" or self.max_calling == 0
        #: The forward signal recognised and not yet ended.
        self.fwd: int | None = None
        #: What the backward signal we send means (a result ends the register).
        self.meaning: Meaning | None = None
        self.pulse_until: float | None = None
        self.refusal: Meaning | None = None
        self.result: Meaning | None = None

    def start(self, now: float) -> list[RegisterOutput]:
        """The seizure is acknowledged: listen for the first forward signal."""
        self._out.append(DetectMf("r2_forward"))
        self.deadline = now + self.variant.timers.mf_forward_safety
        return self._take()

    def on_mf(self, now: float, event: MfEvent) -> list[RegisterOutput]:
        signal = mf_signal(event, "forward")
        if signal is None or self.over:
            return []
        if event.state == "on" and signal != self.fwd:
            self.fwd = signal
            self._forward_on(now, signal)
        elif event.state == "off" and signal == self.fwd:
            self.fwd = None
            self._forward_off(now)
        return self._take()

    def on_time(self, now: float) -> list[RegisterOutput]:
        if self.over or self.deadline is None or now < self.deadline:
            return []
        self.deadline = None
        if self.pulse_until is not None:
            self._pulse_over(now)
        elif self.tone is not None:
            self._end(None, "the forward signal did not end (Q.476)")
        elif self.expect is Expect.CALLED and self.called and not self.called_complete:
            # No end-of-number signal came and none more digits: the number is complete
            # (variants without I-15 for it); the next request goes as a pulse (Q.442).
            self.called_complete = True
            self._request(now, pulse=True)
        elif self.expect is Expect.CALLING and not self.calling_complete:
            self.calling_complete = True
            self._request(now, pulse=True)
        else:
            self._end(None, f"no forward signal (waiting for {self.expect.value}) (Q.476)")
        return self._take()

    def respond(self, now: float, meaning: Meaning) -> list[RegisterOutput]:
        """Answer the held call with a group B signal of ``meaning`` (the variant's
        congestion signal where it has none with that meaning)."""
        if self.over or self.expect is not Expect.HOLD:
            return []
        self._reply(now, meaning, pulse=self.fwd is None)
        return self._take()

    def refuse(self, now: float, meaning: Meaning = Meaning.CONGESTION) -> list[RegisterOutput]:
        """Refuse the call with ``meaning`` at the first chance: in answer to the forward
        signal on now or next, or as a pulse (Q.442) if none comes."""
        if self.over:
            return []
        if self.fwd is not None and self.tone is None:
            self._reply(now, meaning, pulse=False)
        elif self.tone is not None or self.pulse_until is not None:
            self.refusal = meaning  # answered when the current signal is over
        else:
            self._reply(now, meaning, pulse=True)
        return self._take()

    # -- the cycle ----------------------------------------------------------------------
    def _forward_on(self, now: float, signal: int) -> None:
        """Step 2: a forward signal is recognised; answer it."""
        if self.pulse_until is not None:
            # The far end began before our pulse ended: the pulse ends now.
            self.pulse_until = None
            self._silence()
        if self.refusal is not None:
            self._note_forward(now, signal, self._group_of_expected(), "received")
            self._reply(now, self.refusal, pulse=False)
            return
        v = self.variant
        expect = self.expect
        if expect is Expect.CALLED:
            meaning = v.forward_meaning(signal, calling=False)
            if meaning is Meaning.DIGIT:
                self.called += str(signal % 10)
                self._note_forward(now, signal, Group.I, f"digit {signal % 10}")
                if self.max_called is not None and len(self.called) >= self.max_called:
                    self.called_complete = True
            elif meaning is Meaning.END_OF_ADDRESS:
                self.called_complete = True
                self._note_forward(now, signal, Group.I, meaning.value)
            else:
                self._protocol(now, signal, Group.I)
                return
        elif expect is Expect.CALLING_CATEGORY:
            self.calling_category = signal
            self._note_forward(now, signal, v.calling_category_group,
                               v.calling_categories.get(signal, "calling party's category"))
        elif expect is Expect.CALLING:
            meaning = v.forward_meaning(signal, calling=True)
            if meaning is Meaning.DIGIT:
                self.calling += str(signal % 10)
                self._note_forward(now, signal, Group.I, f"calling digit {signal % 10}")
                if len(self.calling) >= self.max_calling:
                    self.calling_complete = True
            elif meaning in (Meaning.END_OF_CALLING, Meaning.CALLING_RESTRICTED):
                self.calling_complete = True
                self.calling_restricted = meaning is Meaning.CALLING_RESTRICTED
                self._note_forward(now, signal, Group.I, meaning.value)
            else:
                self._protocol(now, signal, Group.I)
                return
        elif expect is Expect.CATEGORY:
            self.category = signal
            self._note_forward(now, signal, Group.II,
                               v.categories.get(signal, "calling party's category"))
            self.expect = Expect.HOLD
            self.deadline = None
            self._out.append(Collected())
            return
        else:  # HOLD: a second forward signal while we decide
            self._protocol(now, signal, Group.II)
            return
        self._request(now, pulse=False)

    def _forward_off(self, now: float) -> None:
        """Step 4: the forward signal ended; our answer ends too."""
        if self.tone is not None:
            self._silence()
            if self.meaning in ACCEPTED or self.meaning in REFUSED:
                self._finish()
        elif self.expect is Expect.HOLD:
            self._end(None, "the outgoing register gave up before the call was answered")

    def _request(self, now: float, *, pulse: bool) -> None:
        """Ask for what comes next (the called number, the calling party, group B)."""
        v, group = self.variant, self.group
        calling_due = not self.calling_complete and (
            (self.request_calling == "after_first_digit" and len(self.called) >= 1)
            or self.called_complete)
        if self.expect in (Expect.CALLING_CATEGORY, Expect.CALLING) \
                and not self.calling_complete:
            self.expect = Expect.CALLING
            wanted: tuple[Meaning, ...] = (Meaning.NEXT_DIGIT, Meaning.CALLING_PARTY)
        elif calling_due:
            self.expect = Expect.CALLING_CATEGORY
            wanted = (Meaning.CALLING_PARTY,)
        elif not self.called_complete:
            self.expect = Expect.CALLED
            wanted = (Meaning.NEXT_ADDRESS, Meaning.NEXT_DIGIT)
        else:
            self.expect = Expect.CATEGORY
            wanted = (Meaning.ADDRESS_COMPLETE_B,)
        signal = v.request(group, *wanted)
        if signal is None:  # the variant was checked for these: a broken table
            self._end(None, f"variant {v.name} group {group} has no signal for "
                            f"{wanted[0].value}")
            return
        self._play(now, group, signal, v.backward_groups()[group][signal], pulse=pulse)

    def _reply(self, now: float, meaning: Meaning, *, pulse: bool) -> None:
        """Send a result (group B in the held state, else the current group)."""
        self.refusal = None
        group = self.group  # after A-3 (or C-3) this is group B
        signal = self.variant.request(group, meaning, Meaning.CONGESTION)
        if signal is None:  # checked for every group by the variant
            self._end(None, f"no congestion signal in group {group}")
            return
        self._play(now, group, signal, self.variant.backward_groups()[group][signal],
                   pulse=pulse)

    def _play(self, now: float, group: Group, signal: int, row: Backward, *,
              pulse: bool) -> None:
        t = self.variant.timers
        self._silence()
        self.meaning = row.meaning
        self.group = row.next_group or group
        self._send(now, group, signal, row.name)
        if pulse:
            self.pulse_until = self.deadline = now + t.mf_back_pulse
        else:
            # openr2 mf_back_cycle: from our signal's start to the next forward signal.
            self.deadline = now + t.mf_back_cycle

    def _pulse_over(self, now: float) -> None:
        self.pulse_until = None
        self._silence()
        if self.meaning in ACCEPTED or self.meaning in REFUSED:
            self._finish()
        elif self.refusal is not None:
            self._reply(now, self.refusal, pulse=True)
        else:
            self.deadline = now + self.variant.timers.mf_back_cycle

    def _finish(self) -> None:
        self.result = self.meaning
        self._end(self.meaning, self.reason)

    def _protocol(self, now: float, signal: int, group: Group) -> None:
        self._note_forward(now, signal, group, f"unexpected while waiting for "
                                               f"{self.expect.value}")
        self.reason = f"forward signal {signal} unexpected (waiting for {self.expect.value})"
        self._reply(now, Meaning.CONGESTION, pulse=False)

    def _group_of_expected(self) -> Group:
        if self.expect is Expect.CATEGORY:
            return Group.II
        if self.expect is Expect.CALLING_CATEGORY:
            return self.variant.calling_category_group
        return Group.I

    def _note_forward(self, now: float, signal: int, group: Group, meaning: str) -> None:
        self._out.append(R2Signal(now, "forward", group.value, signal, meaning, sent=False))
