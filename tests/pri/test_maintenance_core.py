"""RESTART sequencing and SERVICE states (drivers/signalling/pri/maintenance.py), without
libpri: events and ``now`` in, what to send out. tests/pri/test_maintenance.py covers the
same behaviour end to end over two libpri instances."""

from __future__ import annotations

import pytest

from trunkline.drivers.signalling.pri.channels import ChannelTable
from trunkline.drivers.signalling.pri.maintenance import (
    RESTART_ATTEMPTS,
    RESTART_TIMEOUT,
    SERVICE_STATES,
    Maintenance,
    RestartUnacknowledged,
    SendRestart,
    service_name,
)


def core(channels=(1, 2, 3)) -> tuple[Maintenance, ChannelTable]:
    table = ChannelTable(1, channels, "ascending")
    return Maintenance(table), table


def step(m: Maintenance, now: float) -> list:
    """What the span does each tick: take the actions, send, confirm."""
    actions = m.due(now)
    for action in actions:
        if isinstance(action, SendRestart):
            m.sent(action.channel, now, action.attempt)
    return actions


def test_one_restart_at_a_time_each_after_the_previous_acknowledgement() -> None:
    m, table = core()
    m.request_restart([1, 2, 3])
    assert [table.state(ch) for ch in (1, 2, 3)] == ["restarting"] * 3
    assert step(m, 0.0) == [SendRestart(1, 1)]
    assert step(m, 1.0) == []  # waiting for the acknowledgement of channel 1
    assert m.in_flight == 1 and m.deadline() == RESTART_TIMEOUT
    assert m.acknowledged(1) == 1
    assert table.state(1) == "idle" and m.in_flight is None and m.deadline() is None
    assert step(m, 1.5) == [SendRestart(2, 1)]
    assert m.acknowledged(None) == 2  # an acknowledgement naming no channel
    assert step(m, 2.0) == [SendRestart(3, 1)]
    assert m.acknowledged(3) == 3
    assert step(m, 3.0) == []
    assert all(table.state(ch) == "idle" for ch in (1, 2, 3))


def test_unacknowledged_restart_is_sent_again_then_given_up() -> None:
    m, table = core()
    m.request_restart([1, 2])
    assert step(m, 0.0) == [SendRestart(1, 1)]
    assert step(m, RESTART_TIMEOUT - 0.01) == []
    assert step(m, RESTART_TIMEOUT) == [SendRestart(1, 2)]
    assert m.deadline() == 2 * RESTART_TIMEOUT
    assert RESTART_ATTEMPTS == 2
    # given up: reported, no longer restarting, and the next channel goes out at once
    assert step(m, 2 * RESTART_TIMEOUT) == [RestartUnacknowledged(1), SendRestart(2, 1)]
    assert table.state(1) == "idle" and table.state(2) == "restarting"


def test_the_timeout_can_be_changed_while_a_restart_is_in_flight() -> None:
    m, _ = core()
    m.request_restart([1])
    step(m, 0.0)
    m.restart_timeout = 2.0
    assert m.deadline() == 2.0
    assert step(m, 2.0) == [SendRestart(1, 2)]


def test_restarting_a_channel_twice_queues_it_once() -> None:
    m, _ = core()
    m.request_restart([2])
    m.request_restart([2, 3])
    assert step(m, 0.0) == [SendRestart(2, 1)]
    m.acknowledged(2)
    assert step(m, 0.1) == [SendRestart(3, 1)]
    m.acknowledged(3)
    assert step(m, 0.2) == []


def test_a_channel_no_longer_restarting_is_skipped_in_the_queue() -> None:
    m, table = core()
    m.request_restart([1, 2])
    step(m, 0.0)
    table.restart_done(2)  # e.g. acknowledged out of turn
    m.acknowledged(1)
    assert step(m, 0.1) == []


def test_an_acknowledgement_for_another_channel_leaves_the_one_in_flight() -> None:
    m, table = core()
    m.request_restart([1, 2])
    step(m, 0.0)
    assert m.acknowledged(2) == 2
    assert m.in_flight == 1 and table.state(2) == "idle"


def test_d_channel_loss_sends_the_restart_in_flight_again_first() -> None:
    m, table = core()
    m.request_restart([1, 2])
    step(m, 0.0)
    m.link_down()
    assert m.in_flight is None and table.state(1) == "restarting"
    assert step(m, 5.0) == [SendRestart(1, 1)]


def test_refused_restart_is_dropped() -> None:
    m, table = core()
    m.request_restart([1, 2])
    [action] = m.due(0.0)
    m.refused(action.channel)
    assert table.state(1) == "idle" and m.in_flight is None
    assert step(m, 0.1) == [SendRestart(2, 1)]


def test_a_restart_from_the_far_end_puts_channels_back_in_service() -> None:
    m, table = core()
    table.set_service(2, "out_of_service")
    table.set_service(3, "maintenance")
    assert m.restart_received(2) == (2,)
    assert table.state(2) == "idle" and table.state(3) == "maintenance"
    assert m.restart_received(None) == (1, 2, 3)
    assert table.state(3) == "idle"
    assert m.restart_received(40) == (40,)  # not ours: nothing to change


def test_an_acknowledged_restart_puts_the_channel_back_in_service() -> None:
    m, table = core()
    table.set_service(1, "out_of_service")
    m.request_restart([1])
    step(m, 0.0)
    m.acknowledged(1)
    assert table.state(1) == "idle"


@pytest.mark.parametrize(("status", "state"), [
    (0, "in_service"), (1, "maintenance"), (2, "out_of_service"), (7, "out_of_service")])
def test_service_change_status(status: int, state: str) -> None:
    assert service_name(status) == state
    m, table = core()
    assert m.service_changed(2, status) == state
    assert table.state(2) == ("idle" if state == "in_service" else state)


def test_service_states_round_trip() -> None:
    for name, code in SERVICE_STATES.items():
        assert service_name(code) == name
