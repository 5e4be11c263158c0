"""The emulated module (drivers/backends/emulated/modem.py) answers every command line
with exactly one final result code, whatever the line, and never raises."""

from __future__ import annotations

import functools

from hypothesis import given, settings
from hypothesis import strategies as st

from trunkline.drivers.backends.emulated.modem import ModemBank, ModemSettings
from trunkline.drivers.backends.emulated.plan import default_plan
from trunkline.drivers.backends.mobile.at import AtChannel, Command, Response

KNOWN = ["AT", "ATI", "ATZ", "ATE0", "ATE1", "ATA", "ATH", "AT+CHUP", "AT+CEER", "AT+CPIN?",
         "AT+CIMI", "AT+QCCID", "AT+CICCID", "AT+CCID", "AT+CREG?", "AT+CEREG?", "AT+COPS?",
         "AT+CSQ", "AT+CLCC", "AT+CFUN?", "AT^DSCI=1", "AT+CLCC=1", "AT+CLIP=1",
         "AT+CMEE=2", "AT+CMEE=9", "AT+CREG=2", "AT+CREG=x", "AT+CEREG=", "AT+VTS=1",
         "ATD13800000001;", "ATD;", "ATDabc;", "AT+CMGF=0", "AT+CPMS=\"SM\"", "AT+CMGL=4",
         "AT+CMGR=1", "AT+CMGR=x", "AT+CMGD=1", "AT+CMGD=", "AT+QPCMV=1,0", "AT+FOO", "ATX"]


@functools.cache
def bank() -> ModemBank:
    return ModemBank(default_plan(), [("m", ModemSettings())])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(KNOWN),
                          st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E),
                                  max_size=20).map(lambda s: "AT" + s)), max_size=12))
def test_every_command_line_gets_one_final_result(lines: list[str]) -> None:
    modem = bank().modems[0]
    modem.far_hang_up()
    channel = AtChannel()
    responses = []
    for line in lines:
        modem.echo = True
        channel.echo = True
        command = Command(line.replace(";", "") + (";" if line.endswith(";") else ""))
        channel.send(command, 0.0)
        modem._receive(channel.data_to_send())
        channel.feed(bytes(modem._out), 0.0)
        modem._out.clear()
        events = [e for e in channel.take_events() if isinstance(e, Response)]
        assert len(events) == 1, (line, events)
        responses.append(events[0])
    assert not channel.busy
