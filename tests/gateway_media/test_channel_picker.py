"""Choosing where a call goes (gateway/media/channels.py): explicit channel, span, group,
blocked, busy, nothing free, unknown group, a channel that cannot place calls."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from trunkline.clock import VirtualClock
from trunkline.drivers.card import CardABC
from trunkline.drivers.dsp.zones import load_zone
from trunkline.drivers.lineloop import LineLoop
from trunkline.drivers.model import ChannelState
from trunkline.drivers.registry import open_card
from trunkline.drivers.signalling.leg import CallOptions
from trunkline.errors import ChannelError, InvalidRequest, NotFound, StateConflict
from trunkline.gateway.media.channels import ChannelPicker, resolve_groups

PRI_1 = tuple(range(1, 16)) + tuple(range(17, 32))
PRI_2 = tuple(range(32, 47)) + tuple(range(48, 63))
FXO = tuple(range(63, 71))
FXS = tuple(range(71, 83))


@pytest.fixture
def card() -> Iterator[CardABC]:
    card = open_card("emulated", clock=VirtualClock())
    yield card
    card.close()


@pytest.fixture
def loop(card: CardABC) -> Iterator[LineLoop]:
    with LineLoop(card, zone=load_zone("cn")) as loop:
        yield loop


def picker(loop: LineLoop, **groups: list) -> ChannelPicker:
    return ChannelPicker(loop, resolve_groups(loop.card, groups))


def test_groups_name_kinds_spans_and_channels(card: CardABC) -> None:
    groups = resolve_groups(card, {"fxo": ["fxo"], "agents": ["fxs"], "pri": ["pri"],
                                   "span2": ["span:2"], "mixed": [64, "63", "fxo", "span:3"]})
    assert groups["fxo"] == list(FXO) and groups["agents"] == list(FXS)
    assert groups["pri"] == list(PRI_1 + PRI_2) and groups["span2"] == list(PRI_2)
    assert groups["mixed"] == [64, 63, *[c for c in FXO if c not in (63, 64)]]  # no repeats
    with pytest.raises(ChannelError, match="has no channel 999"):
        resolve_groups(card, {"bad": [999]})
    with pytest.raises(ChannelError, match="has no span 9"):
        resolve_groups(card, {"bad": ["span:9"]})


def test_an_explicit_channel(loop: LineLoop) -> None:
    chooser = picker(loop, outbound=["fxo"])
    assert chooser.pick(channel=65) == (3, 65)
    assert chooser.pick(channel=5) == (1, 5)  # a B-channel: the D-channel's module hunts it


def test_an_explicit_channel_that_is_busy_or_blocked(loop: LineLoop) -> None:
    chooser = picker(loop, outbound=["fxo"])
    leg = loop.originate(CallOptions("13800000001"), span=3, channel=63)
    with pytest.raises(StateConflict, match="channel 63 is busy or blocked"):
        chooser.pick(channel=63)
    chooser.blocked.add(64)
    with pytest.raises(StateConflict, match="channel 64 is busy or blocked"):
        chooser.pick(channel=64)
    loop.hangup(leg)
    assert chooser.pick(channel=63) == (3, 63)


def test_channels_that_cannot_place_calls(card: CardABC) -> None:
    with LineLoop(card, zone=load_zone("cn"), spans=[3]) as loop:
        chooser = picker(loop, outbound=["fxo"])
        with pytest.raises(InvalidRequest, match="channel 16 \\(dchan\\) cannot place calls"):
            chooser.pick(channel=16)
        with pytest.raises(InvalidRequest, match="channel 5 \\(bchan\\) cannot place calls"):
            chooser.pick(channel=5)  # its span has no module in this loop
        with pytest.raises(ChannelError, match="has no channel 500"):
            chooser.pick(channel=500)
        bad_group = picker(loop, outbound=[1, 63])
        with pytest.raises(InvalidRequest, match="channel 1 \\(bchan\\) cannot place calls"):
            bad_group.pick()


def test_a_span_gives_its_first_free_port(loop: LineLoop, monkeypatch: pytest.MonkeyPatch
                                          ) -> None:
    chooser = picker(loop, outbound=["fxo"])
    assert chooser.pick(span=3) == (3, 63)
    leg = loop.originate(CallOptions("13800000001"), span=3, channel=63)
    chooser.blocked.add(64)
    real = loop.card.channel_state
    monkeypatch.setattr(loop.card, "channel_state", lambda ch: ChannelState.RINGING
                        if ch == 65 else real(ch))  # a line ringing in
    assert chooser.pick(span=3) == (3, 66)
    loop.hangup(leg)


def test_nothing_free(loop: LineLoop) -> None:
    chooser = picker(loop, outbound=[63, 64])
    chooser.blocked.update(FXO)
    with pytest.raises(StateConflict, match="no free channel in outbound"):
        chooser.pick()
    with pytest.raises(StateConflict, match="no free channel in span 3"):
        chooser.pick(span=3)


def test_a_group_hunts_on_a_pri_span_once_its_link_is_up(loop: LineLoop) -> None:
    chooser = picker(loop, outbound=["pri"], fxo=["fxo"])
    with pytest.raises(StateConflict, match="no free channel in outbound"):
        chooser.pick()  # the D-channels are not up yet
    with pytest.raises(StateConflict, match="no free channel in span 1"):
        chooser.pick(span=1)
    loop.run(lambda: bool(loop.module(1).link_up and loop.module(2).link_up), max_seconds=5)
    assert chooser.pick() == (1, None) and chooser.pick(span=2) == (2, None)
    assert chooser.pick(group="fxo") == (3, 63)


def test_the_default_group_is_outbound_and_unknown_groups_are_named(loop: LineLoop) -> None:
    chooser = picker(loop, outbound=["fxo"], agents=["fxs"])
    assert chooser.pick() == (3, 63) and chooser.pick(group="agents") == (4, 71)
    with pytest.raises(NotFound, match="no group 'sales'; groups: outbound, agents"):
        chooser.pick(group="sales")
    with pytest.raises(NotFound, match="no group 'outbound'"):
        picker(loop, agents=["fxs"]).pick()


def test_groups_can_be_replaced(loop: LineLoop) -> None:
    chooser = picker(loop, outbound=["fxo"])
    chooser.groups = {"outbound": [70]}
    assert chooser.pick() == (3, 70)
