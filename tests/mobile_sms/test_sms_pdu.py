"""SMS PDUs (TS 23.040) and the GSM 7-bit alphabet (TS 23.038): published vectors, the
standard's own rules, and properties over any text and any bytes."""

from __future__ import annotations

import contextlib
import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trunkline.drivers import gsm7
from trunkline.drivers.backends.mobile import pdu
from trunkline.drivers.backends.mobile.pdu import Address, PduError
from trunkline.drivers.sms import split_text


# -- published vectors -------------------------------------------------------------------
def test_submit_hellohello_matches_the_published_pdu():
    # The SMS-SUBMIT example of "SMS messages and the PDU format" (Lars Pettersson,
    # dreamfabric.com, mirrored at turbocontrol.com): "hellohello" to +46708251358,
    # default SMSC, TP-VP 0xAA (4 days), no status report.
    expected = "0011000B916407281553F80000AA0AE8329BFD4697D9EC37"
    [part] = pdu.encode_submit("+46708251358", "hellohello",
                               validity=dt.timedelta(days=4), status_report=False)
    assert part.hex == expected
    assert part.tpdu_length == len(expected) // 2 - 1  # AT+CMGS excludes the SMSC octet
    back = pdu.decode(expected, direction="mo")
    assert isinstance(back, pdu.Submit)
    assert back.destination == Address("+46708251358", 1, 1)
    assert back.validity == dt.timedelta(days=4)
    assert back.text == "hellohello"


def test_deliver_hellohello_matches_the_published_pdu():
    # The SMS-DELIVER example of the same page: SMSC +27381000015, sender 27838890001
    # with type of address 0xC8 (subscriber number, national plan), 99-03-29 15:16:59
    # at GMT+2 (time zone 0x80: 8 quarter hours).
    d = pdu.decode("07917283010010F5040BC87238880900F10000993092516195800AE8329BFD4697D9EC37")
    assert isinstance(d, pdu.Deliver)
    assert d.smsc == Address("+27381000015", 1, 1)
    assert d.sender.number == "27838890001" and d.sender.toa == 0xC8
    assert d.timestamp == dt.datetime(1999, 3, 29, 15, 16, 59,
                                      tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert d.text == "hellohello"
    assert d.more_messages is False  # first octet 0x04: TP-MMS set, no more waiting


def test_cmgs_length_of_a_national_number():
    # A widely reposted PDU-mode walk-through ("SMS PDU mode, data format and length
    # calculation", 9cbs.com): "hello" to 1234567 (type 0x81), AT+CMGS=17.
    [part] = pdu.encode_submit("1234567", "hello", validity=dt.timedelta(days=4),
                               status_report=False)
    assert part.hex == "0011000781214365F70000AA05E8329BFD06"
    assert part.tpdu_length == 17


def test_ucs2_chinese_is_utf16_octets():
    # TS 23.038 §6.2.3: UCS-2, 16 bits a character, most significant octet first;
    # TP-DCS 0x08. 你好 is U+4F60 U+597D.
    [part] = pdu.encode_submit("+8613800138000", "你好", status_report=False, validity=None)
    assert part.hex == "0001000D91683108108300F00008044F60597D"
    assert pdu.decode(part.data, direction="mo").text == "你好"


# -- GSM 7-bit -------------------------------------------------------------------------
def test_extension_characters_take_an_escape():
    assert gsm7.encode_septets("^{}\\[~]|€") == bytes(
        [0x1B, 0x14, 0x1B, 0x28, 0x1B, 0x29, 0x1B, 0x2F, 0x1B, 0x3C, 0x1B, 0x3D,
         0x1B, 0x3E, 0x1B, 0x40, 0x1B, 0x65])
    assert gsm7.septet_cost("€") == 2 and gsm7.septet_cost("a") == 1
    with pytest.raises(gsm7.Gsm7Error, match="U\\+4F60"):
        gsm7.septet_cost("你")


def test_unknown_escape_shows_the_default_character_and_double_escape_a_space():
    # TS 23.038 §6.2.1.1: a code the extension table does not define shows the default
    # alphabet's character; 0x1B 0x1B shows a space.
    assert gsm7.decode_septets(bytes([0x1B, 0x41, 0x1B, 0x1B, 0x42])) == "A B"


def test_fill_bits_after_a_header():
    # 6 header octets (48 bits): one fill bit brings the text to septet 7 (TS 23.040
    # §9.2.3.24); the first septet then starts at bit 1 of the next octet.
    packed = gsm7.pack_septets(b"\x41", fill_bits=1)
    assert packed == bytes([0x82])
    assert gsm7.unpack_septets(packed, 1, 1) == b"\x41"


@given(st.binary(max_size=200).map(lambda b: bytes(x & 0x7F for x in b)),
       st.integers(0, 6))
def test_packing_round_trips(septets, fill):
    assert gsm7.unpack_septets(gsm7.pack_septets(septets, fill), len(septets), fill) == septets


# -- concatenation -----------------------------------------------------------------------
def test_long_gsm7_text_splits_153_a_part_with_an_8bit_reference():
    text = "x" * 400
    parts = pdu.encode_submit("+4915112345678", text, concat_reference=0x42)
    assert len(parts) == 3
    decoded = [pdu.decode(p.data, direction="mo") for p in parts]
    assert [len(d.text) for d in decoded] == [153, 153, 94]
    assert [d.user_data.concat for d in decoded] == [
        pdu.Concat(0x42, 3, i) for i in (1, 2, 3)]
    assert decoded[0].user_data.header == ((0x00, bytes([0x42, 3, 1])),)


def test_a_single_part_holds_160_and_70():
    assert len(split_text("a" * 160)[1]) == 1
    assert len(split_text("a" * 161)[1]) == 2
    assert len(split_text("中" * 70)[1]) == 1
    assert split_text("中" * 71)[1] == ["中" * 67, "中" * 4]


def test_16bit_reference():
    parts = pdu.encode_submit("+4915112345678", "y" * 200, concat_reference=0x1234,
                              wide_reference=True)
    decoded = [pdu.decode(p.data, direction="mo") for p in parts]
    assert [len(d.text) for d in decoded] == [152, 48]
    assert decoded[0].user_data.concat == pdu.Concat(0x1234, 2, 1, wide=True)


def test_split_never_breaks_an_escape_pair():
    text = "a" * 152 + "€" + "b" * 20
    _, parts = split_text(text)
    assert parts == ["a" * 152, "€" + "b" * 20]  # the euro would end at septet 154


def test_split_never_breaks_a_surrogate_pair():
    text = "中" * 66 + "😀" + "中" * 10
    _, parts = split_text(text)
    assert parts == ["中" * 66, "😀" + "中" * 10]  # the pair would take units 67 and 68


def test_too_long_is_refused_clearly():
    with pytest.raises(ValueError, match="at most 255"):
        split_text("x" * (153 * 255 + 1))
    with pytest.raises(PduError, match="at most 255"):
        pdu.encode_submit("+4915112345678", "x" * (153 * 255 + 1))


# -- addresses, timestamps, validity ----------------------------------------------------
def test_alphanumeric_originator_round_trips():
    stamp = dt.datetime(2026, 12, 2, 18, 0, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    [raw] = pdu.encode_deliver("ICBC", "code 1234", stamp)
    d = pdu.decode(raw)
    assert d.sender == Address("ICBC", 5, 0)
    assert d.timestamp == stamp


def test_negative_time_zone():
    stamp = dt.datetime(2026, 1, 5, 1, 2, 3, tzinfo=dt.timezone(-dt.timedelta(hours=5,
                                                                               minutes=45)))
    [raw] = pdu.encode_deliver("+15551234567", "hi", stamp)
    assert pdu.decode(raw).timestamp == stamp


def test_relative_validity_table():
    # TS 23.040 §9.2.3.12.1
    assert pdu.validity_period(0) == dt.timedelta(minutes=5)
    assert pdu.validity_period(143) == dt.timedelta(hours=12)
    assert pdu.validity_period(167) == dt.timedelta(hours=24)
    assert pdu.validity_period(168) == dt.timedelta(days=2)
    assert pdu.validity_period(255) == dt.timedelta(weeks=63)
    assert pdu.validity_octet(dt.timedelta(days=2)) == 168
    assert pdu.validity_octet(dt.timedelta(minutes=7)) == 1


def test_status_report_reads_the_reference_and_status():
    when = dt.datetime(2026, 12, 2, 10, 0, 0, tzinfo=dt.UTC)
    raw = pdu.encode_status_report(0x2A, "+8613800138000", 0x00, when, when, smsc="+8613800100500")
    r = pdu.decode(raw)
    assert isinstance(r, pdu.StatusReport)
    assert (r.reference, r.recipient.number, r.outcome) == (0x2A, "+8613800138000", "delivered")
    assert r.smsc == Address("+8613800100500", 1, 1)
    expired = pdu.decode(pdu.encode_status_report(7, "+1555", 0x46, when, when))
    assert (expired.outcome, expired.reason) == ("failed", "validity period expired")
    assert pdu.decode(pdu.encode_status_report(7, "+1555", 0x21, when, when)).outcome == \
        "pending"


def test_dcs_groups():
    # TS 23.038 §4
    assert pdu._read_dcs(0x00) == pdu.Dcs("gsm7")
    assert pdu._read_dcs(0x08) == pdu.Dcs("ucs2")
    assert pdu._read_dcs(0x18) == pdu.Dcs("ucs2", 0)
    assert pdu._read_dcs(0xF6) == pdu.Dcs("8bit", 2)
    assert pdu._read_dcs(0xE0) == pdu.Dcs("ucs2")
    assert pdu._read_dcs(0x0C) == pdu.Dcs("gsm7")  # reserved alphabet: read as GSM-7
    assert pdu._read_dcs(0x20).compressed


# -- bad input ---------------------------------------------------------------------------
@pytest.mark.parametrize("raw, match", [
    ("zz", "not hexadecimal"),
    ("001", "odd length"),
    ("00", "ends at octet 1"),
    ("0004", "ends at octet 2 inside TP-OA length"),
    ("0001", "TP-MTI 1 .SMS-SUBMIT-REPORT."),
    ("00040B91", "inside TP-OA"),
    ("0004" + "15" + "91" + "11" * 8, "21 digits long"),
])
def test_bad_pdus_name_the_field(raw, match):
    with pytest.raises(PduError, match=match):
        pdu.decode(raw)


def test_sending_to_a_name_is_refused():
    with pytest.raises(PduError, match="must be a number"):
        pdu.encode_submit("ICBC", "hi")


# -- properties --------------------------------------------------------------------------
texts = st.text(max_size=400)


@settings(max_examples=200, deadline=None)
@given(texts, st.integers(0, 255), st.booleans())
def test_any_text_round_trips_through_submit(text, ref, wide):
    parts = pdu.encode_submit("+8613800138000", text, concat_reference=ref,
                              wide_reference=wide)
    assert all(p.tpdu_length == len(p.data) - 1 for p in parts)
    decoded = [pdu.decode(p.data, direction="mo") for p in parts]
    if len(parts) > 1:
        assert [d.user_data.concat.sequence for d in decoded] == list(
            range(1, len(parts) + 1))
    assert "".join(d.text for d in decoded) == text
    assert pdu.join_parts([d.user_data for d in decoded]) == text


@settings(max_examples=100, deadline=None)
@given(texts)
def test_any_text_round_trips_through_deliver(text):
    stamp = dt.datetime(2026, 12, 2, 18, 0, 0, tzinfo=dt.UTC)
    raws = pdu.encode_deliver("+8613800138000", text, stamp, smsc="+8613800100500")
    assert "".join(pdu.decode(r).text for r in raws) == text


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=200), st.sampled_from(["mt", "mo"]), st.booleans())
def test_any_bytes_decode_or_raise_pdu_error(raw, direction, smsc):
    with contextlib.suppress(PduError):
        pdu.decode(raw, direction=direction, smsc=smsc)


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=1, max_size=160))
def test_any_bytes_after_a_valid_deliver_header_decode_or_raise(tail):
    # Aim the fuzzing at the user data: a valid header, then anything.
    head = bytes.fromhex("00" "44" "0B916407281553F8" "00")
    for dcs in (0x00, 0x08, 0x04):
        with contextlib.suppress(PduError):
            pdu.decode(head + bytes([dcs]) + bytes.fromhex("99309251619580") + tail)
