"""Glare and hunting across spans and groups."""

from __future__ import annotations

import pytest
from pri_helpers import RecordingLogger, make_pair, of, run

from trunkline.drivers.signalling.pri import events as ev
from trunkline.drivers.signalling.pri.errors import PriConfigError, PriNoChannel
from trunkline.drivers.signalling.pri.group import SpanGroup
from trunkline.drivers.signalling.pri.link import LinkPair


def test_glare_preferred_channel_is_moved_not_lost(clock, spans) -> None:
    cpe, net = spans
    out = cpe.setup("111", channel=5, exclusive=False)
    inbound = net.setup("222", channel=5, exclusive=True)  # both seize channel 5
    events = run(clock, (cpe, net), 0.2)
    ring_cpe = next(e for e in of(events, ev.IncomingCall) if e.span == 1)
    ring_net = next(e for e in of(events, ev.IncomingCall) if e.span == 2)
    assert ring_cpe.channel == 5  # Q.931 5.7: the network's call keeps the channel
    assert ring_net.channel != 5 and ring_net.requested_channel == 5
    net.alerting(ring_net.call)
    events = run(clock, (cpe, net), 0.2)
    moved = of(events, ev.CallChannelChanged)[0]
    assert (moved.call, moved.channel, moved.previous) == (out, ring_net.channel, None)
    assert of(events, ev.CallAlerting)[0].call == out
    assert cpe.call(out).channel == ring_net.channel
    assert cpe.call(ring_cpe.call).channel == 5
    assert inbound in net.calls


def test_glare_exclusive_is_retried_by_the_group(clock, spans) -> None:
    cpe, net = spans
    group = SpanGroup({"trunk": [cpe]})
    cid = group.setup("111", channel=5, exclusive=True)
    net.setup("222", channel=5, exclusive=True)
    events = []
    for _ in range(20):
        clock.advance(0.02)
        events += group.poll(clock.now())
        events += net.poll(clock.now())
    retry = of(events, ev.CallRetrying)
    assert retry and retry[0].call == cid and retry[0].cause == 44
    assert not [e for e in of(events, ev.CallEnded) if e.call == cid]
    assert not [e for e in of(events, ev.CallDisconnecting) if e.call == cid]


def test_glare_retry_without_channel_pin(clock, spans) -> None:
    cpe, net = spans
    group = SpanGroup([cpe])
    cid = group.setup("111", exclusive=True)
    taken = cpe.call(cid).channel
    net.setup("222", channel=taken, exclusive=True)
    events = []
    for _ in range(30):
        clock.advance(0.02)
        events += group.poll(clock.now())
        events += net.poll(clock.now())
    assert of(events, ev.CallRetrying)
    rings = [e for e in of(events, ev.IncomingCall) if e.span == 2 and e.called == "111"]
    assert rings[-1].channel != taken  # the retry took another channel
    net.answer(rings[-1].call)
    events = []
    for _ in range(10):
        clock.advance(0.02)
        events += group.poll(clock.now())
        events += net.poll(clock.now())
    assert of(events, ev.CallAnswered)[0].call == cid
    assert group.span_of(cid) is cpe


def test_hunting_across_groups_and_spans(clock) -> None:
    logger = RecordingLogger()
    a_cpe, a_net = make_pair(clock, logger, LinkPair(), channels=[1, 2])
    b_cpe, b_net = make_pair(clock, logger, LinkPair(), channels=[1])
    group = SpanGroup({"primary": [a_cpe], "backup": [b_cpe]})
    ids = [group.setup(f"10{i}") for i in range(3)]
    assert [group.span_of(c) for c in ids] == [a_cpe, a_cpe, b_cpe]
    with pytest.raises(PriNoChannel, match=r"groups \['primary', 'backup'\].*no free"):
        group.setup("999")
    with pytest.raises(PriNoChannel, match=r"groups \['primary'\]"):
        group.setup("999", groups=["primary"])
    with pytest.raises(PriConfigError, match="unknown span group 'tertiary'"):
        group.setup("999", groups=["tertiary"])
    events = run(clock, (group, a_net, b_net), 0.2)
    assert len(of(events, ev.IncomingCall)) == 3
    group.hangup(ids[2])
    run(clock, (group, a_net, b_net), 0.2)
    assert b_cpe.free_channels() == [1]
    with pytest.raises(PriConfigError, match="unknown hunting strategy 'random'"):
        SpanGroup([a_cpe], strategy="random")
