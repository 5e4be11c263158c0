"""A red alarm on a PRI span in the middle of a call, and the span coming back.

Runs on the emulated card and on ``--card dahdi:sim`` (the DAHDI backend over the
simulated kernel, whose TE4/0/2 span has libpri in network mode behind it): the fault is
raised the way each simulation raises it (the emulated card's ``simulate_alarm``; the
simulated kernel's own loss of signal, as a board's framer reports it), and everything
after that is the backend's and the signalling's own handling: the alarm event, the
D-channel (Q.921) going down with the line, the call in progress ending, the B-channels
out of service, and after the alarm clears the D-channel re-established and a new call
placed and answered on the same span.
"""

from __future__ import annotations

import pytest
from test_pri_calls import pri_span

from trunkline.drivers.dsp.zones import load_zone
from trunkline.drivers.lineloop import LineLoop
from trunkline.drivers.model import ChannelState
from trunkline.drivers.signalling import events as ev
from trunkline.drivers.signalling.leg import CallOptions

ANSWERS = "13800000001"  # hil-tests/network.toml: a person answers after two rings


def raise_red_alarm(card, span: int, on: bool) -> None:
    """Loss of signal on ``span`` (or its end): the simulated far end's cable."""
    if card.backend == "emulated":
        card.simulate_alarm(span, "red", on=on)
        return
    kernel = getattr(card, "device", None)
    if not hasattr(kernel, "inject"):
        pytest.skip("a real board's line cannot be cut from a test")
    kernel.inject("alarm", span=card.dahdi_span(span), alarm="red" if on else "none")


def answered(leg) -> bool:
    return any(isinstance(e, ev.Answered) for e in leg.events)


def test_red_alarm_ends_the_call_and_the_span_recovers(trunks):
    span = pri_span(trunks)
    links: list[ev.LinkState] = []

    def listener(leg, item) -> None:
        if leg is None and isinstance(item, ev.LinkState) and item.span == span:
            links.append(item)

    with LineLoop(trunks, zone=load_zone("cn"), spans=[span], listener=listener) as loop:
        loop.run(lambda: bool(links) and links[-1].up, max_seconds=10)
        assert links and links[-1].up, "Q.921 never came up with the far end"

        first = loop.originate(CallOptions(ANSWERS, hold=60.0), span=span)
        loop.run(lambda: answered(first) or first.ended, max_seconds=30)
        assert answered(first), first.result()
        bearer = first.channel

        raise_red_alarm(trunks, span, True)
        # An answered call survives a short flap; libpri clears it with cause 27 once
        # Q.921 gives up and T309 runs out (docs/pri.md: Maintenance).
        loop.run(lambda: first.ended, max_seconds=40)
        assert first.ended, "the call outlived the line"
        assert not links[-1].up  # the D-channel went down with the line
        assert trunks.span_status(span).alarms  # the span reports its alarm
        assert trunks.channel_state(bearer) is ChannelState.OUT_OF_SERVICE
        result = first.result()
        assert result["outcome"] == "human"  # what was known before the line went stays
        hangup = next(e for e in result["events"] if e["event"] == "hangup")
        assert hangup["cause"] == 27 and hangup["by"] == "far_end"

        raise_red_alarm(trunks, span, False)
        loop.run(lambda: links[-1].up, max_seconds=30)
        assert links[-1].up, "Q.921 was not re-established after the alarm cleared"
        assert not trunks.span_status(span).alarms

        second = loop.originate(CallOptions(ANSWERS, hold=1.0), span=span)
        loop.run(lambda: second.ended, max_seconds=60)
        assert second.result()["outcome"] == "human", second.result()
