"""The engine's event bus: listeners in subscription order, unsubscribing, and a failing
listener that stops nobody else."""

from __future__ import annotations

from typing import Any

import pytest

from trunkline.gateway.media.bus import EventBus


def test_listeners_hear_every_event_in_subscription_order() -> None:
    bus, heard = EventBus(), []
    for name in ("first", "second", "third"):
        bus.subscribe(lambda event, name=name: heard.append((name, event["event"])))
    bus.publish({"event": "a"})
    bus.publish({"event": "b", "call": 1})
    assert heard == [("first", "a"), ("second", "a"), ("third", "a"),
                     ("first", "b"), ("second", "b"), ("third", "b")]
    assert bus.published == 2 and len(bus) == 3


def test_unsubscribe_stops_one_listener_and_is_harmless_twice() -> None:
    bus, heard = EventBus(), []
    keep = bus.subscribe(lambda event: heard.append("keep"))
    drop = bus.subscribe(lambda event: heard.append("drop"))
    assert keep != drop
    bus.unsubscribe(drop)
    bus.unsubscribe(drop)
    bus.unsubscribe(12345)
    bus.publish({"event": "x"})
    assert heard == ["keep"] and len(bus) == 1


def test_tokens_are_not_reused() -> None:
    bus = EventBus()
    first = bus.subscribe(print)
    bus.unsubscribe(first)
    assert bus.subscribe(print) != first


def test_a_failing_listener_does_not_stop_the_others() -> None:
    bus, heard = EventBus(), []

    def broken(event: dict[str, Any]) -> None:
        raise RuntimeError("listener bug")

    bus.subscribe(lambda event: heard.append(1))
    bus.subscribe(broken)
    bus.subscribe(lambda event: heard.append(3))
    bus.publish({"event": "x"})
    bus.publish({"event": "y"})
    assert heard == [1, 3, 1, 3] and bus.published == 2


def test_subscribing_during_a_publish_takes_effect_from_the_next_event() -> None:
    bus, heard = EventBus(), []

    def late(event: dict[str, Any]) -> None:
        heard.append(("late", event["event"]))

    def first(event: dict[str, Any]) -> None:
        heard.append(("first", event["event"]))
        if event["event"] == "a":
            bus.subscribe(late)
            bus.unsubscribe(token)

    token = bus.subscribe(first)
    bus.publish({"event": "a"})
    bus.publish({"event": "b"})
    assert heard == [("first", "a"), ("late", "b")]


@pytest.mark.parametrize("event", [{}, {"event": 3}, {"call": 1}, {"event": None}])
def test_an_event_is_a_map_with_a_string_event_key(event: dict[str, Any]) -> None:
    bus, heard = EventBus(), []
    bus.subscribe(heard.append)
    with pytest.raises(ValueError, match="an event is a map with a string 'event' key"):
        bus.publish(event)
    assert heard == [] and bus.published == 0
