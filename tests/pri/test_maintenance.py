"""RESTART, D-channel loss and recovery, B-channel service messages."""

from __future__ import annotations

import pytest
from pri_helpers import RecordingLogger, incoming_call, make_pair, of, run

from trunkline.drivers.signalling.pri import events as ev
from trunkline.drivers.signalling.pri.errors import PriConfigError, PriUnsupported
from trunkline.drivers.signalling.pri.link import LinkPair
from trunkline.drivers.signalling.pri.span import PriSpan


def active_call(clock, cpe, net, channel):
    cid = cpe.setup("123", channel=channel)
    ring = incoming_call(run(clock, (cpe, net), 0.1))
    net.answer(ring.call)
    run(clock, (cpe, net), 0.1)
    assert cpe.call(cid).state == "ACTIVE"
    return cid, ring.call


def test_restart_one_channel_clears_its_call(clock, spans) -> None:
    cpe, net = spans
    cid, _ = active_call(clock, cpe, net, 5)
    other, _ = active_call(clock, cpe, net, 6)
    cpe.restart(5)
    assert cpe.channel_state(5) == "restarting"
    events = run(clock, (cpe, net), 0.2)
    ended = of(events, ev.CallEnded)
    assert {(e.span, e.cause, e.reason) for e in ended} == {(1, 41, "restart"),
                                                             (2, 41, "restart")}
    assert of(events, ev.RestartReceived)[0].channel == 5
    assert of(events, ev.RestartCompleted)[0].channel == 5
    assert cpe.channel_state(5) == "idle"
    assert other in cpe.calls and cid not in cpe.calls


def test_interface_restart_restarts_every_channel(clock, spans) -> None:
    cpe, net = spans
    active_call(clock, cpe, net, 9)
    net.restart()
    events = run(clock, (cpe, net), 3.0)
    assert sorted(e.channel for e in of(events, ev.RestartReceived)) == list(cpe.channels)
    assert sorted(e.channel for e in of(events, ev.RestartCompleted)) == list(net.channels)
    assert cpe.calls == {} and net.calls == {}
    assert all(net.channel_state(ch) == "idle" for ch in net.channels)


def test_short_dchannel_flap_mid_call_keeps_the_call(clock, spans, pair) -> None:
    cpe, net = spans
    cid, _ = active_call(clock, cpe, net, 3)
    pair.down = True
    events = run(clock, (cpe, net), 1.0)
    assert [e.active for e in of(events, ev.LinkAlarm) if e.span == 1] == [True]
    assert of(events, ev.DChannelDown)[0].reason == "layer1"
    assert not cpe.up
    pair.down = False
    events = run(clock, (cpe, net), 1.0)
    assert of(events, ev.DChannelUp) and cpe.up and net.up
    assert cpe.call(cid).state == "ACTIVE"  # Q.931 5.8.9 / T309: survives a flap
    cpe.hangup(cid)
    assert of(run(clock, (cpe, net), 0.2), ev.CallEnded)


def test_long_dchannel_loss_clears_calls_with_a_cause(clock, spans, pair) -> None:
    cpe, net = spans
    cid, _ = active_call(clock, cpe, net, 3)
    ringing = cpe.setup("456", channel=4)
    ring = incoming_call(run(clock, (cpe, net), 0.1))
    net.alerting(ring.call)
    run(clock, (cpe, net), 0.1)
    pair.down = True
    events = run(clock, (cpe, net), 40.0)
    ended = {e.call: e for e in of(events, ev.CallEnded) if e.span == 1}
    assert set(ended) == {cid, ringing}
    assert all(e.cause == 27 for e in ended.values())  # destination out of order
    assert cpe.calls == {} and net.calls == {}
    pair.down = False
    events = run(clock, (cpe, net), 3.0)
    assert {e.span for e in of(events, ev.DChannelUp)} == {1, 2}
    new = cpe.setup("789")
    assert incoming_call(run(clock, (cpe, net), 0.1)).called == "789"
    assert new in cpe.calls


@pytest.mark.parametrize("switchtype", ["ni2", "5ess", "4ess"])
def test_service_messages_where_supported(clock, switchtype) -> None:
    logger = RecordingLogger()
    cpe, net = make_pair(clock, logger, LinkPair(), switchtype=switchtype,
                         service_messages=True)
    cpe.set_service(7, "out_of_service")
    assert cpe.channel_state(7) == "out_of_service"
    events = run(clock, (cpe, net), 0.2)
    remote = [e for e in of(events, ev.ServiceChanged) if e.span == 2]
    assert remote and remote[0].channel == 7 and remote[0].state == "out_of_service"
    assert net.channel_state(7) == "out_of_service"
    assert 7 not in net.free_channels()
    cpe.set_service(7, "in_service")
    run(clock, (cpe, net), 0.2)
    assert net.channel_state(7) == "idle" and cpe.channel_state(7) == "idle"


def test_service_messages_refused_where_unsupported(clock, spans, pair) -> None:
    cpe, _ = spans
    with pytest.raises(PriUnsupported, match="switch type 'euroisdn_e1' has no SERVICE"):
        cpe.set_service(3, "out_of_service")
    with pytest.raises(PriConfigError, match="'qsig' has no B-channel SERVICE"):
        PriSpan(LinkPair().a, switchtype="qsig", clock=clock, service_messages=True)
