"""Q.921 recovery after a late D-channel reader: every MDL-ERROR is handled and counted.

A CPE that stops reading its D-channel for longer than T200 (1 s) makes the network poll
it once per T200 (RR with P=1); reading late, the CPE answers every poll in one burst.
libpri handles each Q.921 management error (MDL-ERROR) on a 0 ms timer and keeps one
pending; a second error in the same burst used to be dropped ("Trying to queue
MDL-ERROR (A) when MDL-ERROR (A) is already scheduled"), and a dropped error J (N(R)
error) lost the D-channel's down report. Virtual time, no sleeps.
"""

from __future__ import annotations

from pri_helpers import TICK, RecordingLogger, of, run

from trunkline.clock import VirtualClock
from trunkline.drivers.signalling.pri import events as ev
from trunkline.drivers.signalling.pri.link import LinkPair
from trunkline.drivers.signalling.pri.span import PriSpan


def stall(clock: VirtualClock, running: PriSpan, seconds: float) -> list[ev.PriEvent]:
    """Run only ``running`` for ``seconds``: the other side reads nothing meanwhile."""
    events: list[ev.PriEvent] = []
    for _ in range(round(seconds / TICK)):
        clock.advance(TICK)
        events += running.poll(clock.now())
    return events


def test_a_late_reader_answers_three_polls_and_no_mdl_error_is_dropped(
        spans: tuple[PriSpan, PriSpan], clock: VirtualClock, pair: LinkPair,
        logger: RecordingLogger) -> None:
    cpe, net = spans
    call = cpe.setup("13800001234")
    run(clock, (cpe, net), 0.2)
    (net_call,) = net.calls
    net.alerting(net_call)  # an I-frame the CPE has to acknowledge within T200
    events = stall(clock, net, 3.5)  # T200 expires three times: three polls
    assert pair.a.pending() == 5  # CALL PROCEEDING / ALERTING and the three polls
    events += run(clock, (cpe, net), 1.0)

    assert not [e for e in net.errors if "Trying to queue" in e], list(net.errors)
    # The first answer ends the network's timer recovery; the two after it are
    # unsolicited F=1 responses: error A, each handled and counted.
    assert net.q921_errors == {"A": 2}
    assert cpe.q921_errors == {}
    recorded = [(level, kw["code"]) for level, event, kw in logger.records
                if event == "pri_q921_error" and kw.get("span") == 2]
    assert recorded == [("info", "A"), ("info", "A")]
    assert not of(events, ev.DChannelDown)  # the recovery cost no call
    assert cpe.up and net.up
    assert cpe.call(call).state == "CALL_DELIVERED"
    net.answer(net_call)
    events = run(clock, (cpe, net), 0.5)
    assert [e.call for e in of(events, ev.CallAnswered) if e.span == 1] == [call]


def test_an_n_r_error_behind_another_mdl_error_still_reports_the_dchannel_down(
        spans: tuple[PriSpan, PriSpan], clock: VirtualClock, pair: LinkPair) -> None:
    cpe, net = spans
    # One burst at the network from the user side (address: SAPI 0, C/R=1 response,
    # TEI 0): an RR response with F=1 nobody asked for (error A), then an RR response
    # acknowledging an I-frame the network never sent, N(R)=5 (error J, Q.921 5.8.5).
    pair.a.send(bytes([0x02, 0x01, 0x01, (0 << 1) | 1]))
    pair.a.send(bytes([0x02, 0x01, 0x01, (5 << 1) | 0]))
    clock.advance(TICK)
    events = net.poll(clock.now())
    events += run(clock, (cpe, net), 2.0)

    assert net.q921_errors == {"A": 1, "J": 1}
    links = [type(e).__name__ for e in events
             if isinstance(e, ev.DChannelDown | ev.DChannelUp) and e.span == 2]
    assert links == ["DChannelDown", "DChannelUp"]  # J re-establishes the link
    assert net.up and cpe.up


def test_timers_due_at_now_run_in_that_poll_whatever_the_float_rounding(
        logger: RecordingLogger) -> None:
    # libpri keeps whole microseconds; the clock's float seconds, rounded to them and
    # converted back, can come out a hair after the ``now`` they came from (here
    # 100.0 + 51 ticks of 0.02 s). A timer libpri set for "now" (its 0 ms MDL-ERROR
    # handling) then looked not yet due, and waited for the next poll.
    clock = VirtualClock(100.0)
    pair = LinkPair()
    cpe = PriSpan(pair.a, role="cpe", clock=clock, span_id=1, logger=logger)
    net = PriSpan(pair.b, role="network", clock=clock, span_id=2, logger=logger)
    run(clock, (cpe, net), 1.0)
    clock.advance(TICK)
    now = clock.now()
    assert round(now * 1_000_000) / 1_000_000 > now  # the case this test is about
    pair.a.send(bytes([0x02, 0x01, 0x01, (0 << 1) | 1]))  # error A, handled at once
    pair.a.send(bytes([0x02, 0x01, 0x01, (0 << 1) | 1]))  # error A again
    net.poll(now)
    assert net.q921_errors == {"A": 2}
    assert not [e for e in net.errors if "Trying to queue" in e], list(net.errors)
    cpe.close()
    net.close()
