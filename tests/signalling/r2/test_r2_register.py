"""The compelled MF cycle (Q.441/Q.442/Q.476): both registers, every backward meaning,
every timer, refusals, each variant's sequence."""

from __future__ import annotations

from collections import deque
from typing import Any

import pytest

from trunkline.drivers.dsp.dtmf import MF_CHARS
from trunkline.drivers.dsp.events import MfEvent
from trunkline.drivers.signalling.actions import DetectMf, PlayTone, StopTone
from trunkline.drivers.signalling.r2.events import R2Signal
from trunkline.drivers.signalling.r2.register import (
    Collected,
    IncomingRegister,
    OutgoingRegister,
    RegisterEnd,
    RegisterOutput,
    decode_tone,
)
from trunkline.drivers.signalling.r2.variants import (
    ACCEPTED,
    REFUSED,
    VARIANTS,
    Group,
    Meaning,
)


def mf(direction: str, signal: int, state: str) -> MfEvent:
    system = f"r2_{direction}"
    return MfEvent(1, 0, 0, digit=MF_CHARS[system][signal - 1], duration=240, system=system,
                   state=state)


def played(out: list[RegisterOutput]) -> list[int]:
    found = []
    for o in out:
        if isinstance(o, PlayTone):
            decoded = decode_tone(o.tone)
            assert decoded is not None
            found.append(decoded[1])
    return found


def ends(out: list[RegisterOutput]) -> list[RegisterEnd]:
    return [o for o in out if isinstance(o, RegisterEnd)]


class Cycle:
    """An outgoing and an incoming register joined with no delay: each tone start and
    stop is the other's MF event at once (a queue, so the cycle does not recurse)."""

    def __init__(self, name: str, called: str, calling: str | None = None,
                 out_kw: dict[str, Any] | None = None, **inc_kw: Any) -> None:
        self.out = OutgoingRegister(name, called, calling, **(out_kw or {}))
        self.inc = IncomingRegister(name, **inc_kw)
        self.now = 0.0
        self.trace: list[R2Signal] = []
        self.end: dict[str, RegisterEnd] = {}
        self.collected = False
        self.playing: dict[str, int | None] = {"out": None, "inc": None}
        self._queue: deque[tuple[str, MfEvent]] = deque()
        self.feed("inc", self.inc.start(0.0))
        self.feed("out", self.out.start(0.0))

    def feed(self, who: str, outputs: list[RegisterOutput]) -> None:
        direction = "forward" if who == "out" else "backward"
        dest = "inc" if who == "out" else "out"
        for o in outputs:
            if isinstance(o, PlayTone):
                decoded = decode_tone(o.tone)
                assert decoded is not None and decoded[0] == direction
                assert self.playing[who] is None, f"{who} plays over its own tone"
                self.playing[who] = decoded[1]
                self._queue.append((dest, mf(direction, decoded[1], "on")))
            elif isinstance(o, StopTone):
                signal = self.playing[who]
                assert signal is not None, f"{who} stops a tone it is not playing"
                self.playing[who] = None
                self._queue.append((dest, mf(direction, signal, "off")))
            elif isinstance(o, R2Signal):
                self.trace.append(o)
            elif isinstance(o, RegisterEnd):
                self.end[who] = o
            elif isinstance(o, Collected):
                self.collected = True
        while self._queue:
            dest, event = self._queue.popleft()
            reg = self.out if dest == "out" else self.inc
            self.feed(dest, reg.on_mf(self.now, event))

    def advance(self, seconds: float, step: float = 0.01) -> None:
        stop = self.now + seconds
        while self.now < stop - 1e-9:
            self.now = round(self.now + step, 6)
            self.feed("out", self.out.on_time(self.now))
            self.feed("inc", self.inc.on_time(self.now))

    def respond(self, meaning: Meaning) -> None:
        self.feed("inc", self.inc.respond(self.now, meaning))

    def names(self, who: str) -> list[str]:
        sent_by_out = who == "out"
        return [f"{s.group}-{s.signal}" for s in self.trace
                if s.sent and (s.direction == "forward") == sent_by_out]


# -- whole sequences -----------------------------------------------------------------------

def test_china_sequence() -> None:
    """Called digits on A1, A6 for KA and the calling number (A1 each, I-15 at the end),
    A3, KD, then KB (the national call flow)."""
    c = Cycle("cn", "13800000001", "02012345678", max_called=11)
    assert c.collected and c.end == {}
    assert c.inc.called == "13800000001" and c.inc.calling == "02012345678"
    assert (c.inc.calling_category, c.inc.category) == (1, 3)     # KA=1, KD=3
    assert c.names("inc") == ["A-1"] * 10 + ["A-6"] + ["A-1"] * 12 + ["A-3"]
    assert c.names("out") == (["I-1", "I-3", "I-8"] + ["I-10"] * 7 + ["I-1"] + ["I-1"]
                              + ["I-10", "I-2", "I-10", "I-1", "I-2", "I-3", "I-4", "I-5",
                                 "I-6", "I-7", "I-8", "I-15"] + ["II-3"])
    c.respond(Meaning.FREE_CHARGE)
    assert c.end["out"].result is Meaning.FREE_CHARGE
    assert c.end["inc"].result is Meaning.FREE_CHARGE
    assert c.playing == {"out": None, "inc": None}


def test_itu_sequence_asks_for_the_calling_party_after_the_first_digit() -> None:
    c = Cycle("itu", "4321", "99")
    assert c.names("inc") == ["A-5", "A-5", "A-5", "A-5", "A-1", "A-1", "A-1", "A-1", "A-3"]
    assert c.names("out") == ["I-4", "II-1", "I-9", "I-9", "I-15", "I-3", "I-2", "I-1",
                              "I-15", "II-1"]
    assert c.inc.called == "4321" and c.inc.calling == "99" and c.inc.called_complete
    c.respond(Meaning.FREE_CHARGE)
    assert [s.signal for s in c.trace if s.group == "B"] == [6, 6]  # B-6 free, charge


def test_mexico_goes_through_group_c() -> None:
    c = Cycle("mx", "55", "1234", max_called=2)
    assert c.names("inc") == ["A-1", "A-6", "C-1", "C-1", "C-1", "C-1", "C-1", "C-3"]
    assert c.inc.calling == "1234" and c.inc.group is Group.B
    c.respond(Meaning.BUSY)
    assert c.end["out"].result is Meaning.BUSY  # B-2


def test_no_calling_number_is_sent_as_restricted() -> None:
    c = Cycle("itu", "12", None, max_called=2)
    assert c.inc.calling == "" and c.inc.calling_restricted
    assert "I-12" in c.names("out")


def test_calling_number_is_cut_to_the_variants_maximum() -> None:
    c = Cycle("mx", "5", "123456789012345", max_called=1)
    assert c.inc.calling == "1234567890"  # openr2 mx sample: 10 digits


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_every_variant_completes_and_refuses(name: str) -> None:
    for meaning in (Meaning.FREE_CHARGE, Meaning.BUSY, Meaning.CONGESTION):
        c = Cycle(name, "87654321", "1234", max_called=8)
        assert c.collected, c.names("inc")
        c.respond(meaning)
        expected = c.inc.variant.backward(Group.B, c.inc.variant.request(
            Group.B, meaning, Meaning.CONGESTION) or 0)
        assert expected is not None
        assert c.end["out"].result is expected.meaning is c.end["inc"].result


# -- a number with no end signal (Q.442) ---------------------------------------------------

def test_the_end_of_a_number_is_heard_as_silence_and_the_next_request_is_a_pulse() -> None:
    c = Cycle("cn", "123", "45")
    assert c.names("inc") == ["A-1", "A-1", "A-1"]  # then the forward side is silent
    assert c.out.tone is None and c.inc.tone is None
    c.advance(1.98)
    assert c.names("inc")[-1] == "A-1"
    c.advance(0.03)  # mf_back_cycle 2 s after the last A-1 began: A6 as a pulse
    assert c.names("inc")[-1] == "A-6"
    assert c.inc.pulse_until == pytest.approx(2.15)
    assert c.names("out")[-1] == "I-3"  # the forward side waits for the pulse to end
    c.advance(0.15)
    # at the pulse's end: KA, the calling number (no delay in this harness), A3, KD
    assert c.names("out") == ["I-1", "I-2", "I-3", "I-1", "I-4", "I-5", "I-15", "II-3"]
    assert c.collected and c.inc.calling == "45"


def test_calling_digits_ended_by_silence() -> None:
    """A far end that sends no end-of-calling signal: silence ends the number too."""
    reg = IncomingRegister("itu", max_called=1)
    reg.start(0.0)
    for t, signal in ((0.1, 5), (0.3, 1), (0.5, 7)):   # digit 5, category II-1, digit 7
        reg.on_mf(t, mf("forward", signal, "on"))
        reg.on_mf(t + 0.05, mf("forward", signal, "off"))
    assert reg.calling == "7" and not reg.calling_complete
    assert reg.on_time(2.49) == []
    out = reg.on_time(2.5)
    assert played(out) == [3] and reg.calling_complete   # A-3, as a pulse
    assert reg.pulse_until == pytest.approx(2.65)


# -- every backward meaning at the outgoing register ---------------------------------------

def outgoing_after(name: str, digits_sent: int, **kw: Any) -> tuple[OutgoingRegister, float]:
    """An outgoing register that has sent ``digits_sent`` called digits (answered by
    each variant's next-digit request) and is sending the next."""
    v = VARIANTS[name]
    reg = OutgoingRegister(name, "123456", "789", **kw)
    reg.start(0.0)
    nxt = v.request(Group.A, Meaning.NEXT_ADDRESS, Meaning.NEXT_DIGIT)
    assert nxt is not None
    t = 0.0
    for _ in range(digits_sent - 1):
        t += 0.1
        reg.on_mf(t, mf("backward", nxt, "on"))
        reg.on_mf(t, mf("backward", nxt, "off"))
    return reg, t + 0.1


def answer(reg: OutgoingRegister, t: float, signal: int) -> list[RegisterOutput]:
    out = reg.on_mf(t, mf("backward", signal, "on"))
    assert [o for o in out if isinstance(o, StopTone)], "the forward tone stops on the answer"
    return reg.on_mf(t, mf("backward", signal, "off"))


CASES = [(name, group, signal) for name, v in sorted(VARIANTS.items())
         for group in v.request_groups() for signal in sorted(v.backward_groups()[group])]


@pytest.mark.parametrize(("name", "group", "signal"), CASES)
def test_every_backward_signal_of_groups_a_and_c(name: str, group: Group, signal: int) -> None:
    v = VARIANTS[name]
    row = v.backward_groups()[group][signal]
    reg, t = outgoing_after(name, 4)    # "1234" sent, the last digit "4" (index 3) on
    reg.group = group
    out = answer(reg, t, signal)
    meaning = row.meaning
    if meaning in ACCEPTED or meaning in REFUSED:
        assert ends(out) == [RegisterEnd(meaning)]
        assert DetectMf(None) in out
        return
    expected = {
        Meaning.NEXT_ADDRESS: [5], Meaning.NEXT_DIGIT: [5], Meaning.PREVIOUS_1: [3],
        Meaning.PREVIOUS_2: [2], Meaning.PREVIOUS_3: [1], Meaning.RESTART_ADDRESS: [1],
        Meaning.CALLING_PARTY: [v.calling_category],
        Meaning.ADDRESS_COMPLETE_B: [v.category],
    }[meaning]
    assert played(out) == expected, row.name
    assert reg.group is (row.next_group or group)
    if meaning is Meaning.CALLING_PARTY:
        # asked again: the calling number, digit by digit
        nxt = v.request(reg.group, Meaning.NEXT_DIGIT, Meaning.CALLING_PARTY)
        assert nxt is not None
        assert played(answer(reg, t + 0.1, nxt)) == [7]
        assert played(answer(reg, t + 0.2, nxt)) == [8]


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_every_group_b_signal_ends_the_register(name: str) -> None:
    v = VARIANTS[name]
    for signal, row in v.group_b.items():
        reg, t = outgoing_after(name, 2)
        reg.group = Group.B
        assert ends(answer(reg, t, signal)) == [RegisterEnd(row.meaning)]
        assert reg.over and reg.result is row.meaning


def test_a_backward_signal_with_no_meaning_fails_the_register() -> None:
    reg, t = outgoing_after("itu", 1)
    out = answer(reg, t, 13)
    assert ends(out)[0].result is None and "A-13 means nothing" in ends(out)[0].reason
    assert R2Signal(t, "backward", "A", 13, "no meaning in this variant", sent=False) in out


def test_previous_digits_do_not_go_before_the_first() -> None:
    reg, t = outgoing_after("itu", 1)
    assert played(answer(reg, t, 8)) == [1]   # A-8 n-3 on the first digit: the first again


def test_the_end_of_the_called_number() -> None:
    reg, t = outgoing_after("itu", 6)
    assert played(answer(reg, t, 1)) == [15]  # I-15 end of pulsing
    reg, t = outgoing_after("cn", 6)
    out = answer(reg, t, 1)
    assert played(out) == [] and reg.tone is None   # China: nothing, wait
    assert reg.next_deadline() == pytest.approx(t + 30.0)


def test_outgoing_register_bad_arguments() -> None:
    with pytest.raises(ValueError, match="digits 0-9"):
        OutgoingRegister("cn", "12#")
    with pytest.raises(ValueError, match="digits 0-9"):
        OutgoingRegister("cn", "12", "+86")
    with pytest.raises(ValueError, match="category 9 is not one of variant cn's"):
        OutgoingRegister("cn", "12", category=9)


# -- timers (Q.476 abnormal release) -------------------------------------------------------

def test_outgoing_register_times_out_when_nothing_answers() -> None:
    reg = OutgoingRegister("itu", "12")
    reg.start(0.0)
    assert reg.on_time(29.99) == []
    out = reg.on_time(30.0)
    assert [type(o) for o in out] == [StopTone, DetectMf, RegisterEnd]
    assert ends(out)[0].result is None and "no backward signal came in 30 s" in ends(out)[0].reason
    assert reg.on_time(60.0) == [] and reg.next_deadline() is None


def test_outgoing_register_times_out_when_a_backward_signal_never_ends() -> None:
    reg = OutgoingRegister("itu", "12")
    reg.start(0.0)
    reg.on_mf(1.0, mf("backward", 1, "on"))
    out = reg.on_time(31.0)
    assert "did not end" in ends(out)[0].reason
    assert StopTone() not in out  # our tone stopped when the answer came


def test_incoming_register_timers() -> None:
    reg = IncomingRegister("itu")
    assert reg.start(0.0) == [DetectMf("r2_forward")]
    assert reg.on_time(29.9) == []
    assert "no forward signal" in ends(reg.on_time(30.0))[0].reason
    reg = IncomingRegister("itu")
    reg.start(0.0)
    out = reg.on_mf(1.0, mf("forward", 1, "on"))
    assert played(out) == [5]  # the calling party, after the first digit
    assert reg.on_time(2.99) == []
    out = reg.on_time(3.0)  # mf_back_cycle: the forward signal never ended
    assert StopTone() in out and "did not end" in ends(out)[0].reason
    reg = IncomingRegister("itu")
    reg.start(0.0)
    reg.on_mf(1.0, mf("forward", 1, "on"))
    reg.on_mf(1.1, mf("forward", 1, "off"))   # and no category follows
    assert "waiting for the calling party's category" in ends(reg.on_time(3.0))[0].reason


def test_stop_silences_and_stops_detection() -> None:
    reg = OutgoingRegister("cn", "12")
    reg.start(0.0)
    assert reg.stop(1.0) == [StopTone(), DetectMf(None)]
    assert reg.stop(2.0) == [] and reg.on_mf(2.0, mf("backward", 1, "on")) == []


# -- refusals at the incoming register -----------------------------------------------------

def test_refused_at_once_with_the_forward_signal_on() -> None:
    reg = IncomingRegister("cn")
    reg.start(0.0)
    reg.on_mf(1.0, mf("forward", 1, "on"))
    reg.on_mf(1.1, mf("forward", 1, "off"))
    reg.on_mf(1.2, mf("forward", 2, "on"))      # answered with A1 already
    assert played(reg.refuse(1.25, Meaning.UNALLOCATED)) == []   # our A1 is still on
    out = reg.on_mf(1.3, mf("forward", 2, "off"))
    assert StopTone() in out
    out = reg.on_mf(1.4, mf("forward", 3, "on"))
    assert played(out) == [5]                    # A5 空号, answering the next digit
    assert ends(reg.on_mf(1.5, mf("forward", 3, "off"))) == [RegisterEnd(Meaning.UNALLOCATED)]


def test_refused_with_nothing_on_is_a_pulse() -> None:
    reg = IncomingRegister("itu")
    reg.start(0.0)
    out = reg.refuse(0.5)
    assert played(out) == [4] and reg.pulse_until == pytest.approx(0.65)   # A-4 congestion
    assert ends(reg.on_time(0.65)) == [RegisterEnd(Meaning.CONGESTION)]


def test_an_unexpected_forward_signal_is_answered_with_congestion() -> None:
    reg = IncomingRegister("cn")
    reg.start(0.0)
    out = reg.on_mf(1.0, mf("forward", 13, "on"))
    assert played(out) == [4]
    end = ends(reg.on_mf(1.1, mf("forward", 13, "off")))[0]
    assert end.result is Meaning.CONGESTION and "unexpected" in end.reason


def test_respond_only_when_held_and_the_forward_gave_up() -> None:
    inc = IncomingRegister("itu")
    inc.start(0.0)
    assert inc.respond(0.0, Meaning.FREE_CHARGE) == []   # nothing to respond to yet
    c = Cycle("itu", "1", "2", max_called=1)
    assert c.collected
    signal = c.playing["out"]
    assert signal is not None
    out = c.inc.on_mf(c.now, mf("forward", signal, "off"))  # the far end gave up
    assert ends(out)[0].result is None and "gave up" in ends(out)[0].reason


def test_incoming_register_arguments() -> None:
    with pytest.raises(ValueError, match="max_called=0"):
        IncomingRegister("cn", max_called=0)
    reg = IncomingRegister("cn", request_calling="never", max_called=1)
    reg.start(0.0)
    out = reg.on_mf(0.1, mf("forward", 1, "on"))
    assert played(out) == [3]   # no calling party asked for: straight to A3
