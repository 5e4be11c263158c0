"""The B-channel table: states, hunting order and the choice for an incoming SETUP,
without libpri."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trunkline.drivers.signalling.pri.channels import ChannelTable, IncomingChoice
from trunkline.drivers.signalling.pri.config import E1_CHANNELS
from trunkline.drivers.signalling.pri.errors import PriNoChannel


def table(hunt: str = "descending", channels=E1_CHANNELS) -> ChannelTable:
    return ChannelTable(3, channels, hunt)


def test_every_channel_starts_idle_and_is_hunted_in_order() -> None:
    down, up = table("descending"), table("ascending")
    assert all(down.state(ch) == "idle" for ch in E1_CHANNELS)
    assert down.free() == list(reversed(E1_CHANNELS)) and down.hunt() == 31
    assert up.free() == list(E1_CHANNELS) and up.hunt() == 1


def test_states_by_priority() -> None:
    t = table()
    t.claim(5, 100)
    t.mark_restarting(6)
    t.set_service(7, "maintenance")
    t.set_service(8, "out_of_service")
    t.mark_restarting(8)
    assert [t.state(ch) for ch in (5, 6, 7, 8, 9)] == [
        "busy", "restarting", "maintenance", "restarting", "idle"]
    t.claim(8, 101)
    assert t.state(8) == "busy"
    assert not {5, 6, 7, 8} & set(t.free())
    t.release(8, 101)
    t.restart_done(8)
    assert t.state(8) == "out_of_service"
    t.set_service(8, "in_service")
    assert t.state(8) == "idle"


def test_release_only_frees_a_channel_the_call_holds() -> None:
    t = table()
    t.claim(5, 100)
    t.release(5, 999)
    t.release(None, 100)
    assert t.holder(5) == 100 and dict(t.holders) == {5: 100}
    t.release(5, 100)
    assert t.holder(5) is None and t.state(5) == "idle"


def test_mark_restarting_reports_a_channel_already_restarting() -> None:
    t = table()
    assert t.mark_restarting(4) is True
    assert t.mark_restarting(4) is False
    assert t.is_restarting(4)
    t.restart_done(4)
    assert not t.is_restarting(4)


@pytest.mark.parametrize("channel", [16, 0, 32, 40])
def test_a_foreign_channel_is_refused_naming_the_span(channel: int) -> None:
    t = table(channels=range(1, 16))
    with pytest.raises(PriNoChannel, match=f"span 3 has no B-channel {channel}; its "
                                           "channels are 1..15"):
        t.state(channel)
    with pytest.raises(PriNoChannel):
        t.check(channel)


def test_hunting_gives_none_when_all_are_taken() -> None:
    t = table(channels=(1, 2))
    t.claim(1, 10)
    t.set_service(2, "out_of_service")
    assert t.free() == [] and t.hunt() is None


@given(st.sets(st.sampled_from(E1_CHANNELS)), st.sampled_from(["ascending", "descending"]))
def test_hunting_takes_the_first_free_channel_in_order(busy: set[int], hunt: str) -> None:
    t = table(hunt)
    for i, ch in enumerate(sorted(busy)):
        t.claim(ch, i)
    free = [ch for ch in E1_CHANNELS if ch not in busy]
    expected = free if hunt == "ascending" else free[::-1]
    assert t.free() == expected
    assert t.hunt() == (expected[0] if expected else None)


# -- incoming SETUP (Q.931 5.2.3.1, 5.7) ----------------------------------------------------
def test_incoming_without_a_channel_is_hunted() -> None:
    t = table("ascending")
    assert t.choose_incoming(None, True) == IncomingChoice(1)
    for ch in E1_CHANNELS:
        t.claim(ch, ch)
    assert t.choose_incoming(None, True) == IncomingChoice(None, 34)


def test_incoming_gets_the_idle_channel_it_asks_for() -> None:
    t = table()
    assert t.choose_incoming(9, False) == IncomingChoice(9)
    assert t.choose_incoming(9, True) == IncomingChoice(9)


def test_incoming_asking_for_a_foreign_channel() -> None:
    t = table("descending", channels=range(1, 10))
    assert t.choose_incoming(20, False) == IncomingChoice(None, 82)
    assert t.choose_incoming(20, True) == IncomingChoice(9)


def test_incoming_asking_for_a_busy_channel() -> None:
    t = table("ascending")
    t.claim(1, 50)
    t.claim(2, 51)
    assert t.choose_incoming(1, False) == IncomingChoice(None, 44)
    assert t.choose_incoming(1, True) == IncomingChoice(3)


def test_incoming_asking_for_a_channel_out_of_service_or_restarting() -> None:
    t = table("ascending")
    t.set_service(1, "out_of_service")
    t.mark_restarting(2)
    assert t.choose_incoming(1, False) == IncomingChoice(None, 44)
    assert t.choose_incoming(2, False) == IncomingChoice(None, 44)
    assert t.choose_incoming(2, True) == IncomingChoice(3)
    # a yielding holder only matters on a busy channel
    assert t.choose_incoming(2, False, holder_yields=True) == IncomingChoice(None, 44)


def test_glare_our_unanswered_call_gives_the_channel_to_the_network() -> None:
    t = table()
    t.claim(5, 77)
    choice = t.choose_incoming(5, False, holder_yields=True)
    assert choice == IncomingChoice(5, takes_from=77)
    assert t.holder(5) == 77  # the choice changes nothing; the span moves the calls


def test_no_channel_anywhere_gives_cause_34_for_a_preferred_request() -> None:
    t = table(channels=(1,))
    t.claim(1, 5)
    assert t.choose_incoming(1, True) == IncomingChoice(None, 34)
