"""Caller ID sent to a phone on an FXS port, read by the phone's own FSK receiver.

On the emulated card and on ``--card dahdi:sim`` (where the simulated kernel's ringer
queues DAHDI_EVENT_RINGEROFF and the backend writes the message as the port's audio),
the call to the phone carries who calls; the message goes out in the first pause of the
ring cadence (sig_analog.c: ``cidrings``), the phone's display decodes it, and the call
is answered as any other.
"""

from __future__ import annotations

import dataclasses

import pytest
from signal_checks import channels_of

from trunkline.drivers.dsp.callerid import CallerId
from trunkline.drivers.dsp.zones import load_zone
from trunkline.drivers.lineloop import LineLoop
from trunkline.drivers.model import LineOptions, SpanKind
from trunkline.drivers.signalling.leg import CallOptions


def quiet_phone(card, channel: int):
    """The phone on ``channel``, set to ring until the test lifts it."""
    phone = card.phone(channel)
    phone.settings = dataclasses.replace(phone.settings, auto_answer=False)
    return phone


@pytest.mark.parametrize("standard", ["bell202", "v23"])
def test_the_phone_shows_who_calls(lines, standard):
    ch = channels_of(lines, SpanKind.FXS)[0]
    lines.set_line_options(ch, LineOptions(caller_id=standard))
    phone = quiet_phone(lines, ch)
    span = next(s.number for s in lines.spans if ch in s.channels)
    with LineLoop(lines, zone=load_zone("cn"), spans=[span]) as loop:
        leg = loop.originate(CallOptions("agent 7", calling="13800000001",
                                         calling_name="ZHANG SAN"), span=span, channel=ch)
        loop.run(lambda: phone.caller_id is not None, max_seconds=5.0)
        assert phone.caller_id == CallerId(number="13800000001", name="ZHANG SAN")
        assert not leg.ended and leg.answered_by is None  # still ringing
        phone.lift()
        loop.run(lambda: leg.answered_by is not None, max_seconds=1.0)
        assert leg.answered_by == "human"
        loop.hangup(leg)
        loop.run(lambda: True, max_seconds=0.2)


def test_no_message_without_caller_id_on_the_port(lines):
    ch = channels_of(lines, SpanKind.FXS)[0]
    lines.set_line_options(ch, LineOptions())
    phone = quiet_phone(lines, ch)
    span = next(s.number for s in lines.spans if ch in s.channels)
    with LineLoop(lines, zone=load_zone("cn"), spans=[span]) as loop:
        leg = loop.originate(CallOptions("agent 7", calling="13800000001"), span=span,
                             channel=ch)
        loop.run(lambda: False, max_seconds=6.5)  # past the first and second bursts
        assert phone.caller_id is None
        loop.hangup(leg)
