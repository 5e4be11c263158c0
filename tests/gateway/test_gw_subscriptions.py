"""Subscription matching on its own, and the names server.py keeps re-exporting."""

from __future__ import annotations

from trunkline.gateway.rpc import server, session, subscriptions
from trunkline.gateway.rpc.subscriptions import Subscription


def test_server_re_exports_session_and_subscription() -> None:
    assert server.Session is session.Session
    assert server.Subscription is subscriptions.Subscription
    assert {"GatewayServer", "Session", "Subscription", "DEFAULT_UNIX_PATH"} <= set(
        server.__all__)


def test_no_filter_matches_every_event() -> None:
    sub = Subscription.build(1, None, None, None, None)
    assert sub.matches({"event": "call.answered", "call": 3})
    assert sub.matches({"event": "span.alarm"})
    assert sub.describe() == {"id": 1, "events": None, "span": None, "channel": None,
                              "call": None}


def test_kinds_match_exactly_or_by_prefix() -> None:
    sub = Subscription.build(2, ["span.alarm", "call.*"], None, None, None)
    assert sub.events == frozenset({"span.alarm"}) and sub.prefixes == ("call.",)
    assert sub.matches({"event": "span.alarm"})
    assert sub.matches({"event": "call.ended"})
    assert not sub.matches({"event": "span.up"})
    assert not sub.matches({"event": "calls"})
    assert sub.describe()["events"] == ["span.alarm", "call.*"]


def test_keys_must_all_match_and_be_present() -> None:
    sub = Subscription.build(3, None, 1, 5, None)
    assert sub.matches({"event": "x", "span": 1, "channel": 5, "call": 9})
    assert not sub.matches({"event": "x", "span": 1, "channel": 6})
    assert not sub.matches({"event": "x", "span": 1})  # no channel key: no match
    by_call = Subscription.build(4, ["call.*"], None, None, 7)
    assert by_call.matches({"event": "call.answered", "call": 7})
    assert not by_call.matches({"event": "call.answered", "call": 8})
    assert not by_call.matches({"event": "span.alarm", "call": 7})


def test_an_empty_kind_list_matches_nothing() -> None:
    sub = Subscription.build(5, [], None, None, None)
    assert not sub.matches({"event": "call.ended"})
