"""The SMS agent over a real pty with pyserial, against a scripted PDU-mode module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sms_kit import STAMP, Rig

from trunkline.drivers.backends.mobile import pdu
from trunkline.drivers.backends.mobile.sms import Reassembler, cms_reason
from trunkline.drivers.sms import SmsDelivery, SmsFailed, SmsReceived, SmsSent


@pytest.fixture
def rig() -> Iterator[Rig]:
    r = Rig(reassembly_timeout=60.0, send_timeout=5.0)
    yield r
    r.close()


def ready(rig: Rig) -> Rig:
    rig.until(lambda: rig.agent.ready)
    return rig


def test_setup_puts_the_module_in_pdu_mode_and_reads_what_waits(rig):
    waiting = pdu.encode_deliver("+8613800138000", "早上好", STAMP)[0]
    rig.far.arrive(waiting, announce=False)
    ready(rig)
    assert rig.far.commands[:4] == ["AT+CMGF=0", "AT+CNMI=2,1,0,1,0", 'AT+CPMS="SM"',
                                    "AT+CMGL=4"]
    rig.until(lambda: rig.events)
    [got] = rig.events
    assert isinstance(got, SmsReceived)
    assert (got.sender, got.text, got.encoding) == ("+8613800138000", "早上好", "ucs2")
    assert got.timestamp == STAMP
    assert rig.far.store  # not deleted before the gateway says it is stored
    rig.agent.acknowledge(got.receipt)
    rig.until(lambda: not rig.far.store)


def test_send_a_long_chinese_message_in_parts(rig):
    ready(rig)
    text = "您的账单已逾期，请尽快还款。" * 8  # 112 characters: two UCS-2 parts
    rig.agent.send("m1", "+8613800138000", text)
    rig.until(lambda: rig.events)
    [sent] = rig.events
    assert sent == SmsSent("m1", (7, 8))
    assert [s.user_data.concat.sequence for s in rig.far.submitted] == [1, 2]
    assert "".join(s.text for s in rig.far.submitted) == text
    assert all(s.status_report_request for s in rig.far.submitted)


def test_cms_error_fails_the_message_with_the_reason(rig):
    ready(rig)
    rig.far.cmgs_faults = [0xC3]
    rig.agent.send("m2", "+8613800138000", "hello")
    rig.until(lambda: rig.events)
    [failed] = rig.events
    assert isinstance(failed, SmsFailed)
    assert failed.code == 0xC3 and "invalid recipient address" in failed.reason
    assert failed.uncertain is False


def test_a_silent_module_leaves_the_message_uncertain_and_never_resends(rig):
    ready(rig)
    rig.far.cmgs_faults = ["silent"]
    rig.agent.send("m3", "+8613800138000", "x" * 200)
    rig.until(lambda: rig.events)
    [failed] = rig.events
    assert isinstance(failed, SmsFailed)
    assert failed.uncertain and "did not answer part 1" in failed.reason
    rig.run(2.0)
    assert sum(c.startswith("AT+CMGS") for c in rig.far.commands) == 1


def test_receive_out_of_order_parts_with_a_repeat(rig):
    ready(rig)
    text = "Your code is 1234. " * 12  # 228 septets: two parts
    parts = pdu.encode_deliver("+4915112345678", text, STAMP, concat_reference=9)
    rig.far.arrive(parts[1])
    rig.far.arrive(parts[1])  # the network repeated a part
    rig.run(0.5)
    assert rig.events == []
    rig.far.arrive(parts[0])
    rig.until(lambda: rig.events)
    [got] = rig.events
    assert isinstance(got, SmsReceived)
    assert (got.text, got.parts, got.missing) == (text, 2, ())
    rig.agent.acknowledge(got.receipt)
    rig.until(lambda: not rig.far.store)  # every copy deleted, the repeat too


def test_a_missing_part_times_out_and_what_came_is_delivered(rig):
    ready(rig)
    parts = pdu.encode_deliver("+4915112345678", "z" * 400, STAMP, concat_reference=3)
    rig.far.arrive(parts[0])
    rig.far.arrive(parts[2])
    rig.run(30)
    assert rig.events == []
    rig.run(31)
    [got] = rig.events
    assert got.missing == (2,) and got.text == "z" * (153 + 94)
    assert "part 2 of 3 did not come within 60 s" in got.note


def test_status_report_comes_as_a_delivery(rig):
    ready(rig)
    report = pdu.encode_status_report(7, "+8613800138000", 0x00, STAMP, STAMP)
    rig.far.status_report(report)
    rig.until(lambda: rig.events)
    assert rig.events == [SmsDelivery(7, "+8613800138000", "delivered", 0,
                                      "received by the recipient", "", STAMP)]


def test_an_unreadable_pdu_arrives_with_its_hex_not_dropped(rig):
    ready(rig)
    rig.far.arrive(bytes.fromhex("0004"))
    rig.until(lambda: rig.events)
    [got] = rig.events
    assert got.text == "" and "unreadable PDU" in got.note and "0004" in got.note


def test_restart_sets_pdu_mode_again(rig):
    ready(rig)
    before = rig.far.commands.count("AT+CMGF=0")
    rig.far.restart()
    rig.until(lambda: rig.far.commands.count("AT+CMGF=0") == before + 1)
    rig.until(lambda: rig.agent.ready)
    rig.agent.send("m4", "10086", "CXYE")
    rig.until(lambda: rig.events)
    assert isinstance(rig.events[0], SmsSent)


def test_reassembler_keys_by_sender_and_reference():
    r = Reassembler(10.0)
    a = [pdu.decode(x) for x in pdu.encode_deliver("+1", "a" * 200, STAMP, concat_reference=1)]
    b = [pdu.decode(x) for x in pdu.encode_deliver("+2", "b" * 200, STAMP, concat_reference=1)]
    assert r.add(a[0], "SM:1", b"1", 0.0) is None
    assert r.add(b[1], "SM:2", b"2", 0.0) is None
    got = r.add(a[1], "SM:3", b"3", 1.0)
    assert got is not None and got.text == "a" * 200 and got.sender == "+1"
    assert got.receipt.startswith("SM:1,SM:3#")
    assert len(r) == 1 and r.next_deadline() == 10.0


def test_cms_reasons():
    assert cms_reason(331) == "no network service (+CMS ERROR 331)"
    assert cms_reason(42) == "congestion (+CMS ERROR 42)"
    assert cms_reason(600) == "module-specific error (+CMS ERROR 600)"
    assert cms_reason(None, "SIM busy") == "+CMS ERROR: SIM busy"


def test_a_message_cut_before_its_pdu_went_out_is_sent_after_the_link_comes_back(rig):
    ready(rig)
    rig.agent.send("m5", "+8613800138000", "still here")
    rig.agent.poll(rig.now)  # AT+CMGS is in the channel, not yet on the wire
    rig.channel.reset("the module's port was opened again", rig.now)
    rig.until(lambda: rig.events)
    assert rig.events == [SmsSent("m5", (7,))]
    assert [s.text for s in rig.far.submitted] == ["still here"]
    assert rig.far.commands.count("AT+CMGF=0") == 2  # set up again first


def test_a_module_that_does_not_answer_the_setup_is_tried_again_later():
    r = Rig(setup_retry=20.0)
    try:
        r.far.mute = True
        r.run(40)  # the set-up's commands time out (10 s each)
        assert not r.agent.ready
        r.far.mute = False
        r.until(lambda: r.agent.ready, limit=60)
        assert r.far.commands[:2] == ["AT+CMGF=0", "AT+CNMI=2,1,0,1,0"]
    finally:
        r.close()
