"""The AT channel (drivers/backends/mobile/at.py): lines, results, URCs, prompts, time."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trunkline.drivers.backends.mobile.at import (
    AtChannel,
    Command,
    Garbage,
    Prompt,
    Response,
    Restarted,
    Result,
    Unsolicited,
    split_fields,
)


def run(channel: AtChannel, data: bytes, now: float = 0.0) -> list:
    channel.feed(data, now)
    return channel.take_events()


def quiet(echo: bool = False) -> AtChannel:
    return AtChannel(echo=echo)


def test_a_command_goes_out_with_cr_and_ends_with_ok() -> None:
    ch = quiet()
    ch.send(Command("AT+CSQ"), 0.0)
    assert ch.data_to_send() == b"AT+CSQ\r"
    [response] = run(ch, b"\r\n+CSQ: 20,99\r\n\r\nOK\r\n")
    assert response == Response(Command("AT+CSQ"), Result.OK, ("+CSQ: 20,99",))
    assert response.line("+CSQ") == "20,99"
    assert not ch.busy


def test_commands_wait_their_turn() -> None:
    ch = quiet()
    ch.send(Command("ATE0"), 0.0)
    ch.send(Command("AT+CMEE=2"), 0.0)
    assert ch.data_to_send() == b"ATE0\r"
    run(ch, b"\r\nOK\r\n")
    assert ch.data_to_send() == b"AT+CMEE=2\r"


@pytest.mark.parametrize(("line", "result", "code", "text"), [
    (b"ERROR", Result.ERROR, None, ""),
    (b"+CME ERROR: 10", Result.CME_ERROR, 10, "SIM not inserted"),
    (b"+CME ERROR: SIM not inserted", Result.CME_ERROR, 10, "SIM not inserted"),
    (b"+CME ERROR: something new", Result.CME_ERROR, None, "something new"),
    (b"+CMS ERROR: 500", Result.CMS_ERROR, 500, "500"),
])
def test_errors_carry_their_code(line: bytes, result: Result, code: int | None,
                                 text: str) -> None:
    ch = quiet()
    ch.send(Command("AT+CPIN?"), 0.0)
    [response] = run(ch, b"\r\n" + line + b"\r\n")
    assert (response.result, response.code, response.text) == (result, code, text)


def test_call_results_end_only_a_dial() -> None:
    ch = quiet()
    ch.send(Command("ATD10086;"), 0.0)
    [response] = run(ch, b"\r\nBUSY\r\n")
    assert response.result is Result.BUSY
    ch.send(Command("AT+CLCC"), 0.0)
    events = run(ch, b"\r\nNO CARRIER\r\n\r\nOK\r\n")
    assert events == [Unsolicited("NO CARRIER"), Response(Command("AT+CLCC"), Result.OK)]


def test_urcs_interleave_with_a_commands_lines() -> None:
    ch = quiet()
    ch.send(Command("AT+CLCC"), 0.0)
    events = run(ch, b'\r\n+CLCC: 1,0,2,0,0,"10086",129\r\n\r\nRING\r\n'
                     b'\r\n+CLIP: "13800000001",129,,,,0\r\n'
                     b'\r\n+CLCC: 2,1,4,0,0,"13800000001",129\r\n\r\nOK\r\n')
    assert events[0] == Unsolicited("RING", (), "RING")
    assert events[1].name == "+CLIP" and events[1].fields[:2] == ("13800000001", "129")
    assert isinstance(events[2], Response) and events[2].lines == (
        '+CLCC: 1,0,2,0,0,"10086",129', '+CLCC: 2,1,4,0,0,"13800000001",129')


def test_clcc_without_its_command_is_a_urc() -> None:
    ch = quiet()
    [urc] = run(ch, b'\r\n+CLCC: 1,0,3,0,0,"10086",129\r\n')
    assert urc.name == "+CLCC" and urc.fields == ("1", "0", "3", "0", "0", "10086", "129")


def test_creg_answer_and_urc_are_told_apart() -> None:
    ch = quiet()
    ch.send(Command("AT+CREG?"), 0.0)
    events = run(ch, b'\r\n+CREG: 1,"1A2B","01C3",7\r\n\r\n+CREG: 2,1,"1A2B","01C3",7\r\n'
                     b"\r\nOK\r\n\r\n+CREG: 5\r\n")
    assert events[0] == Unsolicited("+CREG", ("1", "1A2B", "01C3", "7"),
                                    '+CREG: 1,"1A2B","01C3",7')
    assert events[1].lines == ('+CREG: 2,1,"1A2B","01C3",7',)
    assert events[2].name == "+CREG" and events[2].fields == ("5",)


def test_bare_information_text_belongs_to_the_command() -> None:
    ch = quiet()
    ch.send(Command("AT+CIMI"), 0.0)
    [response] = run(ch, b"\r\n460001234567890\r\n\r\nOK\r\n")
    assert response.lines == ("460001234567890",)


def test_echo_is_dropped_and_ate0_turns_it_off() -> None:
    ch = AtChannel()
    ch.send(Command("ATE0"), 0.0)
    [response] = run(ch, b"ATE0\r\r\nOK\r\n")
    assert response.ok and response.lines == () and not ch.echo


def test_echo_after_ate0_is_a_restart_and_the_command_stands() -> None:
    ch = quiet()
    ch.send(Command("AT+CSQ"), 0.0)
    ch.send(Command("AT+CREG?"), 0.0)
    events = run(ch, b"AT+CSQ\r\r\n+CSQ: 9,99\r\n\r\nOK\r\n")
    assert events[0] == Restarted("echo", "AT+CSQ")
    assert events[1] == Response(Command("AT+CREG?"), Result.RESTART)
    assert events[2].result is Result.OK and events[2].lines == ("+CSQ: 9,99",)
    assert ch.echo and ch.restarts == 1


def test_rdy_fails_what_was_in_flight() -> None:
    ch = quiet()
    ch.send(Command("ATD10086;"), 0.0)
    ch.send(Command("AT+CLCC"), 0.0)
    events = run(ch, b"\r\nRDY\r\n")
    assert events == [Restarted("rdy", "RDY"), Response(Command("ATD10086;"), Result.RESTART),
                      Response(Command("AT+CLCC"), Result.RESTART)]
    assert ch.echo and not ch.busy


def test_unsolicited_cfun_is_a_restart_but_its_answer_is_not() -> None:
    ch = quiet()
    ch.send(Command("AT+CFUN?"), 0.0)
    [response] = run(ch, b"\r\n+CFUN: 1\r\n\r\nOK\r\n")
    assert response.lines == ("+CFUN: 1",)
    [restart] = run(ch, b"\r\n+CFUN: 1\r\n")
    assert restart == Restarted("cfun", "+CFUN: 1")


def test_the_boot_notices_of_one_boot_are_one_restart() -> None:
    ch = quiet()
    events = run(ch, b"\r\nRDY\r\n\r\n+CFUN: 1\r\n\r\n+CPIN: READY\r\n")
    assert events == [Restarted("rdy", "RDY"), Unsolicited("+CFUN", ("1",), "+CFUN: 1"),
                      Unsolicited("+CPIN", ("READY",), "+CPIN: READY")]
    ch.send(Command("AT"), 0.0)
    run(ch, b"\r\nOK\r\n")
    assert run(ch, b"\r\nRDY\r\n") == [Restarted("rdy", "RDY")]


def test_the_sms_prompt_takes_the_pdu_and_ctrl_z() -> None:
    ch = quiet()
    pdu = b"0011000B915121551532F40000AA0AE8329BFD4697D9EC37"
    ch.send(Command("AT+CMGS=23", timeout=60.0, payload=pdu), 0.0)
    assert ch.data_to_send() == b"AT+CMGS=23\r"
    events = run(ch, b"\r\n> ")
    assert events == [Prompt(Command("AT+CMGS=23", timeout=60.0, payload=pdu))]
    assert ch.data_to_send() == pdu + b"\x1a"
    [response] = run(ch, b"\r\n+CMGS: 12\r\n\r\nOK\r\n")
    assert response.ok and response.line("+CMGS") == "12"


def test_a_prompt_that_times_out_is_abandoned_with_esc() -> None:
    ch = quiet()
    ch.send(Command("AT+CMGS=23", timeout=10.0, payload=b"00"), 0.0)
    ch.data_to_send()
    run(ch, b"\r\n> ")
    ch.data_to_send()
    ch.handle_timer(10.0)
    assert ch.data_to_send() == b"\x1b"
    [response] = ch.take_events()
    assert response.result is Result.TIMEOUT


def test_two_line_urcs_take_their_pdu() -> None:
    ch = quiet()
    events = run(ch, b"\r\n+CMTI: \"SM\",3\r\n\r\n+CDS: 25\r\n0006D60B911326880736F4111011"
                     b"7192230011101171922300\r\n\r\n+CMT: ,24\r\n07911326040000F0\r\n")
    assert events[0] == Unsolicited("+CMTI", ("SM", "3"), '+CMTI: "SM",3')
    assert events[1].name == "+CDS" and events[1].data.startswith("0006D60B")
    assert events[2].name == "+CMT" and events[2].data == "07911326040000F0"


def test_timeouts_come_from_the_callers_time() -> None:
    ch = quiet()
    ch.send(Command("AT+COPS?", timeout=3.0), 10.0)
    ch.send(Command("AT+CSQ"), 10.0)
    assert ch.next_deadline() == 13.0
    ch.handle_timer(12.9)
    assert ch.take_events() == []
    ch.handle_timer(13.0)
    [response] = ch.take_events()
    assert response.result is Result.TIMEOUT
    assert ch.data_to_send() == b"AT+COPS?\r"
    # Quiet before the next command: the late answer is a stray, not AT+CSQ's.
    assert ch.next_deadline() == 13.5
    [stray] = run(ch, b"\r\n+COPS: 0\r\n\r\nOK\r\n", 13.2)[-1:]
    assert isinstance(stray, Garbage) and ch.garbage == 2
    ch.handle_timer(13.5)
    assert ch.data_to_send() == b"AT+CSQ\r"
    assert ch.next_deadline() == 18.5


def test_huawei_and_vendor_urcs() -> None:
    ch = quiet()
    events = run(ch, b"\r\n^ORIG:1,0\r\n\r\n^CONF:1\r\n\r\n^CONN:1,0\r\n"
                     b"\r\n^CEND:1,0,104,16\r\n\r\n+QIND: \"csq\",20,99\r\n"
                     b"\r\nVOICE CALL: END: 000012\r\n")
    names = [e.name for e in events]
    assert names == ["^ORIG", "^CONF", "^CONN", "^CEND", "+QIND", "VOICE CALL:"]
    assert events[3].fields == ("1", "0", "104", "16")


def test_stray_results_and_noise_are_counted_not_raised() -> None:
    ch = quiet()
    events = run(ch, b"\r\nOK\r\n\xff\xfe\x00\r\nhello\r\n")
    assert [type(e) for e in events] == [Garbage, Garbage, Garbage]
    assert ch.garbage == 3


def test_an_overlong_line_is_dropped_once() -> None:
    ch = quiet()
    events = run(ch, b"A" * 5000 + b"\r\nRING\r\n")
    assert [type(e) for e in events] == [Garbage, Unsolicited]


def test_commands_are_checked() -> None:
    with pytest.raises(ValueError, match="starts with 'AT'"):
        Command("CSQ")
    with pytest.raises(ValueError, match="no CR"):
        Command("AT\rATD1;")


def test_fields_split_outside_quotes() -> None:
    assert split_fields('1,"a,b",,x') == ("1", "a,b", "", "x")
    assert split_fields("") == ()


# -- properties ----------------------------------------------------------------------------
SESSION = (b'ATE0\r\r\nOK\r\n\r\n+CSQ: 20,99\r\n\r\nOK\r\n\r\nRING\r\n'
           b'\r\n+CLIP: "13800000001",129,,,,0\r\n\r\n+CREG: 2,1,"1A2B","01C3",7\r\n'
           b'\r\nOK\r\n\r\n+CMTI: "SM",3\r\n\r\n> \r\n+CMGS: 12\r\n\r\nOK\r\n'
           b"\r\nNO CARRIER\r\n\xff\xfegarbage\r\n")
COMMANDS = [Command("ATE0"), Command("AT+CSQ"), Command("AT+CREG?"),
            Command("AT+CMGS=10", payload=b"0011")]


def replay(chunks: list[bytes]) -> tuple[list, bytes, int]:
    ch = AtChannel()
    for command in COMMANDS:
        ch.send(command, 0.0)
    events = []
    sent = b""
    for chunk in chunks:
        ch.feed(chunk, 0.0)
        events += ch.take_events()
        sent += ch.data_to_send()
    return events, sent + ch.data_to_send(), ch.garbage


@st.composite
def splits(draw: st.DrawFn, data: bytes) -> list[bytes]:
    cuts = sorted(draw(st.sets(st.integers(0, len(data)), max_size=12)))
    bounds = [0, *cuts, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


@given(splits(SESSION))
def test_any_split_of_the_stream_gives_the_same_events(chunks: list[bytes]) -> None:
    assert replay(chunks) == replay([SESSION])


@settings(max_examples=300)
@given(st.binary(max_size=400), st.lists(st.sampled_from(COMMANDS), max_size=4))
def test_garbage_never_raises(data: bytes, commands: list[Command]) -> None:
    ch = AtChannel(echo=False)
    for command in commands:
        ch.send(command, 0.0)
    ch.feed(data, 0.0)
    ch.handle_timer(100.0)
    events = ch.take_events()
    assert ch.garbage == sum(isinstance(e, Garbage) for e in events)
    assert all(isinstance(e, Response | Unsolicited | Prompt | Restarted | Garbage)
               for e in events)


@given(st.binary(max_size=200), st.binary(max_size=200))
def test_garbage_is_split_invariant(a: bytes, b: bytes) -> None:
    data = a + b
    def events(chunks: list[bytes]) -> tuple[list, int]:
        ch = AtChannel(echo=False)
        ch.send(Command("AT+CMGS=1", payload=b"00"), 0.0)
        out = []
        for chunk in chunks:
            ch.feed(chunk, 0.0)
            out += ch.take_events()
        return out, ch.garbage
    assert events([a, b]) == events([data])


def test_a_lost_link_drops_everything_in_flight() -> None:
    ch = quiet()
    ch.send(Command("AT+CLCC"), 0.0)
    ch.send(Command("AT+CSQ"), 0.0)
    ch.feed(b"\r\n+CLCC: 1,0,0,0", 0.0)  # half a line, then the port fails
    events = ch.take_events()
    ch.reset("port lost", 1.0)
    assert ch.data_to_send() == b""
    assert ch.take_events() == [Restarted("port lost", ""),
                                Response(Command("AT+CLCC"), Result.RESTART),
                                Response(Command("AT+CSQ"), Result.RESTART)]
    assert events == [] and not ch.busy and ch.echo
    assert run(ch, b",0\r\n") == [Garbage(",0", "no command is waiting for this line")]
