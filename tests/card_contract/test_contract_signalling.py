"""Hook, dial and CAS operations, events and channel states."""

from __future__ import annotations

import pytest
from card_contract_kit import (
    DOWN,
    channels_of,
    check_events,
    known_break,
    run,
    up_digital_span,
)

from trunkline.drivers.model import (
    ChannelSignalling,
    ChannelState,
    EventKind,
    HookOp,
    SpanKind,
)
from trunkline.errors import ChannelError, ChannelStateError

#: DTMF as the card dials it (CardABC.dial): 100 ms tone, 100 ms pause per digit.
DTMF_DIGIT = 0.2


# -- hook ------------------------------------------------------------------------------
def test_fxo_hook_states(card):
    ch = channels_of(card, SpanKind.FXO)[0]
    assert card.channel_state(ch) is ChannelState.IDLE
    card.open(ch)
    card.hook(ch, HookOp.OFFHOOK)
    assert card.channel_state(ch) is ChannelState.OFFHOOK
    check_events(card, run(card, 5))
    card.hook(ch, "onhook")  # the value of a HookOp is taken too
    assert card.channel_state(ch) is ChannelState.IDLE
    card.hook(ch, "offhook")
    card.close_channel(ch)  # closing a channel puts it back on hook
    assert card.channel_state(ch) is ChannelState.IDLE


def test_fxs_ring_states(card):
    ch = channels_of(card, SpanKind.FXS)[0]
    card.open(ch)
    card.hook(ch, HookOp.RING)
    assert card.channel_state(ch) is ChannelState.RINGING
    card.hook(ch, HookOp.RINGOFF)
    assert card.channel_state(ch) is ChannelState.IDLE
    card.close_channel(ch)


def test_hook_refuses_what_the_port_cannot_do(card):
    fxo = channels_of(card, SpanKind.FXO)[0]
    fxs = channels_of(card, SpanKind.FXS)[0]
    bchan = up_digital_span(card).channels[0]
    with pytest.raises(ChannelStateError, match="not open"):
        card.hook(fxo, "offhook")
    card.open([fxo, fxs, bchan])
    with pytest.raises(ChannelStateError, match="FXO port"):
        card.hook(fxo, HookOp.RING)
    with pytest.raises(ChannelStateError, match="FXS port"):
        card.hook(fxs, HookOp.FLASH)
    with pytest.raises(ChannelStateError, match="digital channel"):
        card.hook(bchan, HookOp.OFFHOOK)
    with pytest.raises(ValueError, match="'sideways' is not a valid HookOp"):
        card.hook(fxo, "sideways")
    with pytest.raises(ChannelError, match="no channel"):
        card.hook(max(card.channels) + 1, "offhook")
    assert card.channel_state(fxo) is ChannelState.IDLE
    card.close_channel([fxo, fxs, bchan])


# -- dial -------------------------------------------------------------------------------
def test_dtmf_dialing_ends_with_dial_complete(card):
    ch = channels_of(card, SpanKind.FXO)[0]
    card.open(ch)
    card.hook(ch, "offhook")
    run(card, 10)
    started = card.clock.now()
    card.dial(ch, "123")
    assert card.channel_state(ch) is ChannelState.DIALING
    events = run(card, 50)
    check_events(card, events)
    done = [e for e in events if e.kind is EventKind.DIAL_COMPLETE]
    assert [(e.channel, e.span) for e in done] == [(ch, card.channel(ch).span)]
    # The card times the digits itself: 100 ms on, 100 ms off each (a frame's slack).
    assert 3 * DTMF_DIGIT - 0.1 - 0.02 <= done[0].t - started <= 3 * DTMF_DIGIT + 0.02
    assert card.channel_state(ch) is ChannelState.OFFHOOK
    card.close_channel(ch)


def test_pulse_dialing_ends_with_dial_complete(card):
    ch = channels_of(card, SpanKind.FXO)[0]
    card.open(ch)
    card.hook(ch, "offhook")
    run(card, 10)
    card.dial(ch, "21", "pulse")
    assert card.channel_state(ch) is ChannelState.DIALING
    events = run(card, 250)
    assert [e.kind for e in events if e.channel == ch] == [EventKind.DIAL_COMPLETE]
    assert card.channel_state(ch) is ChannelState.OFFHOOK
    card.close_channel(ch)


@pytest.mark.parametrize(("digits", "mode", "message"), [
    ("", "dtmf", "empty digit string"),
    ("12x4", "dtmf", "illegal digits 'x'"),
    ("1 2", "dtmf", "illegal digits ' '"),
    ("+86", "dtmf", r"illegal digits '\+'"),
    ("12*", "pulse", r"illegal digits '\*'"),
    ("#1", "pulse", "illegal digits '#'"),
    ("1A", "pulse", "illegal digits 'A'"),
    ("", "pulse", "empty digit string"),
])
def test_dial_refuses_illegal_digits(card, digits, mode, message):
    ch = channels_of(card, SpanKind.FXO)[0]
    card.open(ch)
    card.hook(ch, "offhook")
    with pytest.raises(ValueError, match=rf"cannot {mode}-dial .* on channel {ch}: {message}"):
        card.dial(ch, digits, mode)
    assert card.channel_state(ch) is ChannelState.OFFHOOK  # nothing was sent
    card.close_channel(ch)


def test_every_dtmf_key_is_dialable(card):
    ch = channels_of(card, SpanKind.FXO)[0]
    card.open(ch)
    card.hook(ch, "offhook")
    card.dial(ch, "0123456789*#ABCDabcd")
    assert card.channel_state(ch) is ChannelState.DIALING
    card.close_channel(ch)


def test_dial_refuses_ports_that_cannot_dial(card):
    fxo = channels_of(card, SpanKind.FXO)[0]
    fxs = channels_of(card, SpanKind.FXS)[0]
    bchan = up_digital_span(card).channels[0]
    with pytest.raises(ChannelStateError, match="not open"):
        card.dial(fxo, "1")
    card.open([fxo, fxs, bchan])
    with pytest.raises(ChannelStateError, match="on hook"):
        card.dial(fxo, "1")  # seize the line first
    for ch in (fxs, bchan):
        with pytest.raises(ChannelStateError, match="not an FXO port"):
            card.dial(ch, "1")
    assert card.channel_state(fxo) is ChannelState.IDLE
    card.close_channel([fxo, fxs, bchan])


# -- the far end ----------------------------------------------------------------------------
def test_ringing_in_on_an_fxo_port(card, far_end):
    ch = channels_of(card, SpanKind.FXO)[0]
    card.open(ch)
    run(card, 2)
    far_end.ring(ch)
    events = run(card, 2)
    check_events(card, events)
    assert [e.kind for e in events if e.channel == ch] == [EventKind.RING_BEGIN]
    assert card.channel_state(ch) is ChannelState.RINGING
    card.hook(ch, "offhook")  # answer
    assert card.channel_state(ch) is ChannelState.OFFHOOK
    card.close_channel(ch)


def test_a_phone_going_off_and_on_hook(card, far_end):
    ch = channels_of(card, SpanKind.FXS)[0]
    card.open(ch)
    run(card, 2)
    far_end.lift(ch)
    events = run(card, 2)
    check_events(card, events)
    assert [e.kind for e in events if e.channel == ch] == [EventKind.OFFHOOK]
    assert card.channel_state(ch) is ChannelState.OFFHOOK
    far_end.hang_up(ch)
    events = run(card, 2)
    assert [e.kind for e in events if e.channel == ch] == [EventKind.ONHOOK]
    assert card.channel_state(ch) is ChannelState.IDLE
    card.close_channel(ch)


# -- states ----------------------------------------------------------------------------------
def test_channels_start_idle_and_dchannels_up(card):
    for s in card.spans:
        if card.span_status(s.number).alarms & DOWN:
            continue
        for ch in s.channels:
            assert card.channel_state(ch) is ChannelState.IDLE, ch
        if s.dchannel is not None:
            assert card.channel_state(s.dchannel) is ChannelState.IN_USE
            assert card.dchannel(s.number).up


def test_an_open_bchannel_without_a_call_is_idle(card, backend, request):
    """IN_USE means "a digital channel carrying a call" (drivers/model.py)."""
    known_break(request, backend, ("dahdi:sim", "dahdi"), "DAHDI backend: every open "
                "B-channel is IN_USE; the card cannot see calls (PRI runs above it), so the "
                "state needs the signalling layer's word: a larger matter than this suite")
    span = up_digital_span(card, pri=True)
    ch = span.channels[0]
    card.open(ch)
    run(card, 2)
    try:
        assert card.channel_state(ch) is ChannelState.IDLE
    finally:
        card.close_channel(ch)
    assert card.channel_state(ch) is ChannelState.IDLE


def test_the_dchannel_is_an_hdlc_link(card):
    span = up_digital_span(card, pri=True)
    link = card.dchannel(span.number)
    assert card.dchannel(span.number) is link  # one link per span
    assert link.up is True
    frame = link.receive()  # the far end may have spoken first (Q.921 SABME)
    assert frame is None or isinstance(frame, bytes)
    with pytest.raises(TypeError, match="HDLC frame is bytes"):
        link.send("not bytes")  # type: ignore[arg-type]
    analog = next(s for s in card.spans if s.kind in (SpanKind.FXO, SpanKind.FXS))
    with pytest.raises(ChannelError, match=f"span {analog.number} .* has no D-channel"):
        card.dchannel(analog.number)


# -- CAS ---------------------------------------------------------------------------------
def _cas(card) -> list[int]:
    return [n for n, i in card.channels.items() if i.signalling is ChannelSignalling.CAS]


def test_cas_bits_both_ways(cas_card, cas_far_end):
    card = cas_card
    ch = _cas(card)[0]
    card.open(ch)
    run(card, 2)
    bits = card.cas_bits(ch)
    assert isinstance(bits, int) and 0 <= bits <= 15
    for value in (0, 0b0001, 0b1101, 15):
        card.set_cas_bits(ch, value)
    run(card, 2)
    new = 0b0101 if bits != 0b0101 else 0b1101
    cas_far_end.send_cas(ch, new)
    events = run(card, 2)
    check_events(card, events)
    assert [(e.kind, e.channel, e.value) for e in events if e.channel == ch] == [
        (EventKind.BITS_CHANGED, ch, new)]
    assert card.cas_bits(ch) == new
    card.close_channel(ch)


@pytest.mark.parametrize("bits", [16, -1, True, "3", 1.5, None])
def test_cas_bits_are_abcd_0_to_15(cas_card, bits):
    ch = _cas(cas_card)[0]
    cas_card.open(ch)
    with pytest.raises(ValueError, match=r"CAS bits are ABCD as an integer 0\.\.15"):
        cas_card.set_cas_bits(ch, bits)
    cas_card.close_channel(ch)


def test_cas_needs_an_open_channel(cas_card):
    """As hook and dial do (DAHDI_GETRXBITS/SETTXBITS need the channel's fd)."""
    ch = _cas(cas_card)[0]
    with pytest.raises(ChannelStateError, match="not open"):
        cas_card.cas_bits(ch)
    with pytest.raises(ChannelStateError, match="not open"):
        cas_card.set_cas_bits(ch, 1)


def test_cas_is_refused_on_other_channels(card):
    ch = up_digital_span(card).channels[0]
    card.open(ch)
    with pytest.raises(ChannelStateError, match=f"channel {ch} is not a CAS channel"):
        card.set_cas_bits(ch, 1)
    with pytest.raises(ChannelStateError, match=f"channel {ch} is not a CAS channel"):
        card.cas_bits(ch)
    card.close_channel(ch)
