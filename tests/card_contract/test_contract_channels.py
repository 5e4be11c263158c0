"""Opening and closing channels, the row order of the frame arrays, closing the card."""

from __future__ import annotations

import numpy as np
import pytest
from card_contract_kit import analog_span, up_digital_span

from trunkline.drivers.model import FRAME_SAMPLES
from trunkline.errors import BackendError, ChannelError, ChannelStateError


def test_rows_follow_the_order_channels_were_opened(card):
    span = up_digital_span(card)
    a, b, c = span.channels[:3]
    other = analog_span(card).channels[0]
    assert card.open_channels == ()
    card.open([b, a])
    assert card.open_channels == (b, a)
    assert (card.row(b), card.row(a)) == (0, 1)
    card.open(a)  # already open: left where it is
    card.open([other, c])
    assert card.open_channels == (b, a, other, c)
    assert [card.row(n) for n in (b, a, other, c)] == [0, 1, 2, 3]
    assert card.read_frames().shape == (4, FRAME_SAMPLES)
    card.close_channel(a)
    assert card.open_channels == (b, other, c)  # the rows after it move up
    assert [card.row(n) for n in (b, other, c)] == [0, 1, 2]
    assert card.read_frames().shape == (3, FRAME_SAMPLES)
    with pytest.raises(ChannelStateError, match=f"channel {a} is not open"):
        card.row(a)
    card.close_channel(a)  # closing a closed channel does nothing
    card.close_channel([b, other, c])
    assert card.open_channels == ()
    assert card.read_frames().shape == (0, FRAME_SAMPLES)


def test_a_channel_can_be_opened_again_after_closing(card):
    ch = up_digital_span(card).channels[0]
    for _ in range(2):
        card.open(ch)
        assert card.read_frames().shape == (1, FRAME_SAMPLES)
        card.close_channel(ch)
    assert card.open_channels == ()


def test_the_dchannel_is_not_opened_for_frames(card):
    span = up_digital_span(card, pri=True)
    with pytest.raises(ChannelStateError, match=f"D-channel of span {span.number}"):
        card.open(span.dchannel)
    assert card.open_channels == ()


def test_a_refused_open_opens_nothing(card):
    """A list with a bad channel in it is refused as a whole: the caller is not left
    guessing which of its channels are open."""
    span = up_digital_span(card)
    missing = max(card.channels) + 1
    with pytest.raises(ChannelError, match=f"no channel {missing}"):
        card.open([span.channels[0], missing])
    assert card.open_channels == ()
    pri = up_digital_span(card, pri=True)
    with pytest.raises(ChannelStateError, match="D-channel"):
        card.open([pri.channels[0], pri.dchannel])
    assert card.open_channels == ()


def test_close_is_safe_twice_and_ends_the_card(card):
    ch = up_digital_span(card).channels[0]
    card.open(ch)
    card.close()
    assert card.open_channels == ()  # closing the card closes its channels
    card.close()
    for operation in (card.read_frames, lambda: card.write_frames(np.zeros((0, 160))),
                      lambda: card.open(ch), card.poll_events,
                      lambda: card.hook(ch, "offhook"), lambda: card.dial(ch, "1"),
                      lambda: card.set_maintenance(1, "off"), lambda: card.span_status(1),
                      lambda: card.channel_state(ch), lambda: card.dchannel(1)):
        with pytest.raises(BackendError, match="closed"):
            operation()


def test_the_card_is_a_context_manager(card_url, open_cards):
    card = open_cards(card_url)
    with card as entered:
        assert entered is card
        ch = up_digital_span(card).channels[0]
        card.open(ch)
        card.read_frames()
    with pytest.raises(BackendError, match="closed"):
        card.read_frames()
    assert card.open_channels == ()
