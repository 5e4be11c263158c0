"""MFC/R2 line signalling (Q.421): every row of the table, every timer, the level reading."""

from __future__ import annotations

import pytest

from trunkline.drivers.signalling.actions import SetBits
from trunkline.drivers.signalling.r2.events import R2LineSignal
from trunkline.drivers.signalling.r2.line import (
    KEEP,
    TRANSITIONS,
    Input,
    Line,
    LineEvent,
    LineNote,
    LineOutput,
    LineState,
    Row,
)
from trunkline.drivers.signalling.r2.variants import VARIANTS, R2Variant

S, I, E = LineState, Input, LineEvent  # noqa: E741
TIMERS = {I.T_SEIZE_ACK: "seize_ack", I.T_DOUBLE_SEIZURE: "double_seizure",
          I.T_RELEASE: "release_guard", I.T_METERING: "metering_pulse"}
REQUESTS = (I.SEIZE, I.ACKNOWLEDGE, I.ANSWER, I.CLEAR, I.BLOCK, I.UNBLOCK)


def bits(v: R2Variant, signal: str) -> int:
    return v.line.bits(signal)


def notes(out: list[LineOutput]) -> list[LineEvent]:
    return [o.event for o in out if isinstance(o, LineNote)]


def sent(out: list[LineOutput]) -> list[int]:
    return [o.bits for o in out if isinstance(o, SetBits)]


def quiet_code(v: R2Variant, state: LineState) -> int:
    """A received code that means nothing in ``state`` (so the level reading rests)."""
    used = {v.line.code(i.value) for (s, i) in TRANSITIONS if s is state
            and i.value in ("idle", "seizing", "clear_forward", "seizure_acknowledged",
                            "answered", "clear_back", "release_guard", "blocked",
                            "forced_release")}
    return min({0, 1, 2, 3} - used)


def final_state(v: R2Variant, row: Row) -> LineState:
    """Where the line rests after ``row``: a timer that is off expires at once."""
    if row.timer not in (None, KEEP) and getattr(v.timers, row.timer) == 0:
        timer = next(i for i, name in TIMERS.items() if name == row.timer)
        return TRANSITIONS[(row.next, timer)].next
    return row.next


ROWS = sorted(TRANSITIONS.items(), key=lambda kv: (kv[0][0].value, kv[0][1].value))


@pytest.mark.parametrize("name", sorted(VARIANTS))
@pytest.mark.parametrize(("key", "row"), ROWS, ids=[f"{s.value}+{i.value}" for (s, i), _ in ROWS])
def test_every_row(name: str, key: tuple[LineState, Input], row: Row) -> None:
    v = VARIANTS[name]
    state, inp = key
    line = Line(v, 1)
    line.state = state
    if inp in REQUESTS:
        line.rx = quiet_code(v, row.next)
        out = line.request(10.0, inp)
    elif inp in TIMERS:
        line.rx = quiet_code(v, row.next)
        line.deadline, line._timer = 10.0, inp
        out = line.on_time(10.0)
    else:
        code = v.line.code(inp.value)
        assert code is not None
        line.rx = (code + 1) % 4
        out = line.receive(10.0, code << 2 | v.line.cd)
        assert R2LineSignal(10.0, inp.value, code << 2 | v.line.cd, sent=False) in out
    assert line.state is final_state(v, row), row.why
    if row.send is not None:
        assert sent(out)[0] == bits(v, row.send)
        assert line.tx_bits == bits(v, row.send) or final_state(v, row) is not row.next
        assert R2LineSignal(10.0, row.send, bits(v, row.send), sent=True) in out
    else:
        assert sent(out) == [] or final_state(v, row) is not row.next
    if row.event is not None:
        assert notes(out)[0] is row.event
    if row.timer not in (None, KEEP) and final_state(v, row) is row.next:
        assert line.deadline == pytest.approx(10.0 + getattr(v.timers, row.timer))
    assert row.why


def test_every_row_cites_a_clause_or_source() -> None:
    for row in TRANSITIONS.values():
        assert any(ref in row.why for ref in ("Q.421", "Q.422", "openr2", "far end",
                                               "incoming end", "metering", "answered")), row


def test_an_unknown_request_is_refused() -> None:
    with pytest.raises(ValueError, match="not a request"):
        Line("itu").request(0.0, I.RX_IDLE)
    line = Line("itu")
    assert line.request(0.0, I.ANSWER) == [] and line.state is S.IDLE  # no row: nothing
    assert not line.can(I.ANSWER) and line.can(I.SEIZE)


# -- calls through the table ---------------------------------------------------------------

def test_outgoing_call_sequence_and_cd_bits() -> None:
    v = VARIANTS["cn"]
    line = Line(v, 5)
    assert line.free and line.tx_bits == 0b1011
    assert sent(line.request(0.0, I.SEIZE)) == [0b0011]
    assert notes(line.receive(0.1, 0b1111)) == [E.ACKNOWLEDGED]
    assert notes(line.receive(5.0, 0b0111)) == [E.ANSWERED]
    assert notes(line.receive(9.0, 0b1111)) == [E.CLEAR_BACK]   # no metering in China
    assert sent(line.request(9.0, I.CLEAR)) == [0b1011]
    assert notes(line.receive(9.1, 0b1011)) == [E.RELEASED]
    assert line.state is S.IDLE and line.free


def test_incoming_call_sequence() -> None:
    v = VARIANTS["itu"]
    line = Line(v, 5)
    assert notes(line.receive(0.0, 0b0001)) == [E.SEIZED]
    assert line.state is S.IN_SEIZED and not line.free
    assert sent(line.request(0.0, I.ACKNOWLEDGE)) == [0b1101]
    assert sent(line.request(3.0, I.ANSWER)) == [0b0101]
    out = line.receive(8.0, 0b1001)
    assert sent(out) == [0b1001] and notes(out) == [E.CLEAR_FORWARD]
    assert line.state is S.IDLE and line.free


def test_clearing_when_the_far_end_is_already_idle_is_released_at_once() -> None:
    """Q.421 codes are levels: a far end already sending idle has given its release guard."""
    line = Line("itu")
    line.request(0.0, I.SEIZE)
    line.receive(0.1, 0b1101)
    assert notes(line.receive(1.0, 0b1001)) == [E.FAR_END_IDLE]
    out = line.request(1.0, I.CLEAR)
    assert sent(out) == [0b1001] and notes(out) == [E.RELEASED]
    assert line.free


def test_seizure_acknowledgement_timer() -> None:
    line = Line("itu")
    line.request(0.0, I.SEIZE)
    assert line.next_deadline() == 2.0
    assert line.on_time(1.98) == []
    out = line.on_time(2.0)
    # clear forward; the far end never left idle, so that is its release guard
    assert sent(out) == [0b1001] and notes(out) == [E.SEIZE_ACK_TIMEOUT, E.RELEASED]


def test_a_clear_before_the_acknowledgement_waits_for_it() -> None:
    """Q.422 3.2.3.2: seizing is held until acknowledged."""
    line = Line("itu")
    line.request(0.0, I.SEIZE)
    assert line.request(0.05, I.CLEAR) == [] and line.state is S.OUT_SEIZED_CLEARING
    assert line.next_deadline() == 2.0  # the seizure timer still runs
    out = line.receive(0.1, 0b1101)
    assert sent(out) == [0b1001] and line.state is S.OUT_CLEARING
    assert line.next_deadline() == pytest.approx(3.1)


def test_release_guard_timer_leaves_the_circuit_out_of_use() -> None:
    line = Line("itu")
    line.request(0.0, I.SEIZE)
    line.receive(0.1, 0b1101)
    line.request(1.0, I.CLEAR)
    assert line.next_deadline() == 4.0 and line.on_time(3.99) == []
    assert notes(line.on_time(4.0)) == [E.RELEASE_TIMEOUT]
    assert line.state is S.OUT_CLEARING and not line.free and line.next_deadline() is None
    assert notes(line.receive(60.0, 0b1001)) == [E.RELEASED] and line.free


def test_double_seizure_holds_seizing_then_clears() -> None:
    line = Line("itu")
    line.request(0.0, I.SEIZE)
    assert notes(line.receive(0.02, 0b0001)) == [E.DOUBLE_SEIZURE]
    assert line.next_deadline() == pytest.approx(0.17)
    assert line.on_time(0.16) == []
    assert sent(line.on_time(0.17)) == [0b1001]
    assert line.state is S.OUT_CLEARING
    assert notes(line.receive(0.3, 0b1001)) == [E.RELEASED]


def test_metering_pulse_in_argentina() -> None:
    line = Line("ar")
    line.request(0.0, I.SEIZE)
    line.receive(0.1, 0b1101)
    line.receive(1.0, 0b0101)
    assert notes(line.receive(5.0, 0b1101)) == []           # a pulse, or a clear-back
    assert line.next_deadline() == pytest.approx(5.4)
    assert notes(line.receive(5.2, 0b0101)) == [E.METERING]  # back to answered: a pulse
    assert line.state is S.OUT_ANSWERED
    line.receive(8.0, 0b1101)
    assert notes(line.on_time(8.4)) == [E.CLEAR_BACK]


def test_forced_release_and_re_answer() -> None:
    line = Line("br")
    line.request(0.0, I.SEIZE)
    line.receive(0.1, 0b1101)
    line.receive(1.0, 0b0101)
    assert notes(line.receive(2.0, 0b0001)) == [E.CLEAR_BACK]     # forced release
    assert notes(line.receive(2.5, 0b0101)) == [E.RE_ANSWERED]


def test_blocking_both_ways() -> None:
    line = Line("itu")
    assert notes(line.receive(0.0, 0b1101)) == [E.BLOCKED]
    assert not line.free and not line.can(I.SEIZE)
    assert notes(line.receive(1.0, 0b1001)) == [E.UNBLOCKED] and line.free
    assert sent(line.request(2.0, I.BLOCK)) == [0b1101] and not line.free
    assert line.receive(2.5, 0b0001) == [R2LineSignal(2.5, "unexpected", 0b0001, sent=False)]
    assert sent(line.request(3.0, I.UNBLOCK)) == [0b1001]


def test_bits_that_mean_nothing_are_noted_and_ignored() -> None:
    line = Line("itu")
    line.request(0.0, I.SEIZE)
    line.receive(0.1, 0b1101)
    assert line.receive(0.5, 0b1101) == []  # no change, nothing
    out = line.receive(1.0, 0b0101 ^ 0b0010)  # c bit flipped: ab still answered
    assert notes(out) == [E.ANSWERED]
    line2 = Line("itu")
    line2.request(0.0, I.SEIZE)
    assert line2.receive(0.1, 0b0101) == [R2LineSignal(0.1, "unexpected", 0b0101, sent=False)]
    assert line2.state is S.OUT_SEIZED
