"""The card's model (drivers/model.py): spans, channels, D-channels and laws."""

from __future__ import annotations

import pytest
from card_contract_kit import DIGITAL

from trunkline.drivers.model import (
    ChannelInfo,
    ChannelSignalling,
    SpanInfo,
    SpanKind,
    SpanSignalling,
)
from trunkline.errors import ChannelError

#: Timeslots of a digital span, and where a PRI span's D-channel sits.
SLOTS = {SpanKind.E1: 31, SpanKind.T1: 24}
DSLOT = {SpanKind.E1: 16, SpanKind.T1: 24}
#: What the channels of each kind of span signal with.
SIGNALLING = {
    # A GSM/LTE module: one voice channel, its signalling on the AT port (drivers/modem.py).
    (SpanKind.MOBILE, SpanSignalling.MOBILE): {ChannelSignalling.BCHAN},
    (SpanKind.FXO, SpanSignalling.ANALOG): {ChannelSignalling.FXO_LOOPSTART,
                                            ChannelSignalling.FXO_KEWLSTART},
    (SpanKind.FXS, SpanSignalling.ANALOG): {ChannelSignalling.FXS_LOOPSTART,
                                            ChannelSignalling.FXS_KEWLSTART},
    (SpanKind.E1, SpanSignalling.PRI): {ChannelSignalling.BCHAN},
    (SpanKind.T1, SpanSignalling.PRI): {ChannelSignalling.BCHAN},
    (SpanKind.E1, SpanSignalling.CAS): {ChannelSignalling.CAS},
    (SpanKind.T1, SpanSignalling.CAS): {ChannelSignalling.CAS},
    (SpanKind.E1, SpanSignalling.SS7): {ChannelSignalling.BCHAN},  # ISUP bearers
}


def test_spans_are_numbered_from_one_in_order(card):
    assert card.spans, "a card has at least one span"
    assert all(isinstance(s, SpanInfo) for s in card.spans)
    assert [s.number for s in card.spans] == list(range(1, len(card.spans) + 1))
    for s in card.spans:
        assert card.span(s.number) is s


def test_every_channel_belongs_to_exactly_one_span(card):
    assert all(isinstance(c, ChannelInfo) for c in card.channels.values())
    assert all(number == info.number for number, info in card.channels.items())
    assert min(card.channels) >= 1  # card-wide numbers start at 1, as DAHDI's do
    owners: dict[int, int] = {}
    for s in card.spans:
        members = [*s.channels, *([s.dchannel] if s.dchannel is not None else [])]
        assert len(set(members)) == len(members)
        for number in members:
            assert number not in owners, f"channel {number} in spans {owners.get(number)}, " \
                                         f"{s.number}"
            owners[number] = s.number
            assert card.channel(number).span == s.number
    assert set(owners) == set(card.channels)


def test_channel_signalling_follows_the_span(card):
    for s in card.spans:
        allowed = SIGNALLING[(s.kind, s.signalling)]
        for number in s.channels:
            assert card.channel(number).signalling in allowed, (s, card.channel(number))


def test_digital_spans_number_their_timeslots_like_dahdi(card):
    """On an E1/T1 span channel number = first number + timeslot - 1; timeslots run
    1..31 (E1) or 1..24 (T1)."""
    for s in card.spans:
        if s.kind not in DIGITAL or not s.channels:
            continue  # (an unconfigured DAHDI span has no channels yet)
        infos = [card.channel(n) for n in (*s.channels, *filter(None, [s.dchannel]))]
        assert {i.number - i.timeslot for i in infos} <= {infos[0].number - infos[0].timeslot}
        assert all(1 <= i.timeslot <= SLOTS[s.kind] for i in infos)


def test_analog_ports_have_distinct_port_numbers(card):
    for s in card.spans:
        if s.kind in DIGITAL:
            continue
        ports = [card.channel(n).timeslot for n in s.channels]
        assert all(p >= 1 for p in ports) and len(set(ports)) == len(ports)
        assert ports == sorted(ports)  # in channel order


def test_pri_spans_have_a_dchannel_outside_their_bearers(card):
    for s in card.spans:
        if s.signalling is SpanSignalling.PRI and s.channels:
            assert s.dchannel is not None, f"PRI span {s.number} has bearers but no D-channel"
            d = card.channel(s.dchannel)
            assert d.signalling is ChannelSignalling.DCHAN
            assert d.timeslot == DSLOT[s.kind]
            assert s.dchannel not in s.channels
            assert len(s.channels) == SLOTS[s.kind] - 1
        elif s.signalling is SpanSignalling.SS7 and s.dchannel is not None:
            # An SS7 span may carry a signalling link of its linkset (MTP2 mode).
            assert card.channel(s.dchannel).signalling is ChannelSignalling.MTP2
            assert s.dchannel not in s.channels
        elif s.signalling is not SpanSignalling.PRI:
            assert s.dchannel is None
    dchannels = {s.dchannel for s in card.spans if s.dchannel is not None}
    assert dchannels == {n for n, i in card.channels.items()
                         if i.signalling in (ChannelSignalling.DCHAN, ChannelSignalling.MTP2)}


def test_laws(card):
    for s in card.spans:
        assert s.law in ("alaw", "ulaw")
        for number in s.channels:
            assert card.channel(number).law == s.law
        if s.kind is SpanKind.E1:
            assert s.law == "alaw"  # G.704 E1 carries A-law
    assert all(i.law in ("alaw", "ulaw") for i in card.channels.values())


def test_span_kinds_and_signalling_go_together(card):
    for s in card.spans:
        assert (s.kind, s.signalling) in SIGNALLING
        assert isinstance(s.description, str)
        if s.kind not in DIGITAL:
            assert (s.framing, s.coding, s.crc4) == ("", "", False)


def test_unknown_span_and_channel_are_refused_by_number(card):
    missing = max(card.channels) + 1
    with pytest.raises(ChannelError, match=rf"no channel {missing}\b"):
        card.channel(missing)
    with pytest.raises(ChannelError, match=r"no channel 0\b"):
        card.channel(0)
    with pytest.raises(ChannelError, match=rf"no span {len(card.spans) + 1}\b"):
        card.span(len(card.spans) + 1)
    with pytest.raises(ChannelError):
        card.span_status(len(card.spans) + 1)
    with pytest.raises(ChannelError):
        card.channel_state(missing)


def test_backend_and_name(card, backend):
    assert card.backend == backend.split(":")[0]
    assert isinstance(card.name, str) and card.name
