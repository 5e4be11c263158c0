"""MFC/R2 variants: every table is valid and cited, the engine finds what it needs in each,
and the MF code agrees with the detector's R2 receiver."""

from __future__ import annotations

import dataclasses
from types import MappingProxyType

import pytest

from trunkline.drivers.dsp import dtmf
from trunkline.drivers.dsp.events import MfEvent
from trunkline.drivers.signalling.actions import ToneSpec
from trunkline.drivers.signalling.r2.line import check_line_code
from trunkline.drivers.signalling.r2.register import PAIRS, decode_tone, mf_signal, mf_tone
from trunkline.drivers.signalling.r2.variants import (
    ACCEPTED,
    REFUSED,
    REQUESTS,
    VARIANTS,
    Backward,
    Group,
    LineCode,
    Meaning,
    R2Variant,
    Timers,
    variant,
)

ALL = sorted(VARIANTS)


def test_the_variants_asked_for_are_there() -> None:
    assert set(VARIANTS) == {"cn", "itu", "br", "ar", "mx"}
    assert variant("CN") is VARIANTS["cn"]
    assert variant(VARIANTS["br"]) is VARIANTS["br"]
    with pytest.raises(ValueError, match="no MFC/R2 variant 'xx'; known: cn, itu"):
        variant("xx")


@pytest.mark.parametrize("name", ALL)
def test_every_row_cites_its_source_and_means_something(name: str) -> None:
    v = VARIANTS[name]
    assert v.sources
    for group, table in v.backward_groups().items():
        for signal, row in table.items():
            assert 1 <= signal <= 15
            assert row.source and row.name
            assert row.meaning in REQUESTS | ACCEPTED | REFUSED
            if group is Group.B:
                assert row.meaning not in REQUESTS


@pytest.mark.parametrize("name", ALL)
def test_the_line_can_tell_every_signal_apart_in_every_state(name: str) -> None:
    check_line_code(VARIANTS[name])


@pytest.mark.parametrize("name", ALL)
def test_both_registers_find_what_they_need(name: str) -> None:
    v = VARIANTS[name]
    for group in v.request_groups():
        assert v.request(group, Meaning.NEXT_ADDRESS, Meaning.NEXT_DIGIT) is not None
        assert v.request(group, Meaning.ADDRESS_COMPLETE_B) is not None
        assert v.request(group, Meaning.CONGESTION) is not None
    assert v.request(Group.B, Meaning.FREE_CHARGE, Meaning.FREE_NO_CHARGE) is not None
    assert v.category in v.categories and v.calling_category in v.calling_categories


def test_itu_is_q441_as_openr2_starts_every_variant() -> None:
    v = VARIANTS["itu"]
    assert {s: r.meaning for s, r in v.group_a.items()} == {
        1: Meaning.NEXT_ADDRESS, 2: Meaning.PREVIOUS_1, 3: Meaning.ADDRESS_COMPLETE_B,
        4: Meaning.CONGESTION, 5: Meaning.CALLING_PARTY, 6: Meaning.ACCEPT,
        7: Meaning.PREVIOUS_2, 8: Meaning.PREVIOUS_3, 15: Meaning.CONGESTION_INTERNATIONAL}
    assert {s: r.meaning for s, r in v.group_b.items()} == {
        2: Meaning.SPECIAL_INFO, 3: Meaning.BUSY, 4: Meaning.CONGESTION,
        5: Meaning.UNALLOCATED, 6: Meaning.FREE_CHARGE, 7: Meaning.FREE_NO_CHARGE,
        8: Meaning.OUT_OF_ORDER}
    assert v.group_a[3].next_group is Group.B
    assert (v.end_of_address, v.end_of_calling, v.calling_restricted) == (15, 15, 12)
    assert v.line.bits("idle") == 0b1001 and v.line.bits("seizing") == 0b0001


def test_china_no1() -> None:
    v = VARIANTS["cn"]
    assert v.group_a[1].meaning is Meaning.NEXT_DIGIT          # A1 发下一位
    assert v.group_a[6].meaning is Meaning.CALLING_PARTY       # A6 发KA和主叫用户号码
    assert v.group_a[3].next_group is Group.B                  # A3 转至B信号
    assert v.group_a[5].meaning is Meaning.UNALLOCATED         # A5 空号
    assert v.group_b[1].meaning is Meaning.FREE_CHARGE         # KB1 被叫用户空闲
    assert v.group_b[2].meaning is v.group_b[3].meaning is Meaning.BUSY  # 市忙, 长忙
    assert v.calling_category_group is Group.I                 # KA is a group I signal
    assert v.category == 3 and v.calling_category == 1         # KD=3, KA=1
    assert v.end_of_address is None and v.end_of_calling == 15
    assert v.request_calling == "after_address"
    # C and D are both 1 in China (openr2 r2config_china).
    assert v.line.bits("idle") == 0b1011 and v.line.bits("answered") == 0b0111


def test_openr2_national_changes() -> None:
    br, ar, mx = VARIANTS["br"], VARIANTS["ar"], VARIANTS["mx"]
    assert br.group_a[9].meaning is Meaning.PREVIOUS_1 and 6 not in br.group_a
    assert br.group_a[2].meaning is Meaning.RESTART_ADDRESS
    assert br.group_b[3].meaning is Meaning.NUMBER_CHANGED
    assert br.group_b[7].meaning is Meaning.UNALLOCATED
    assert (ar.end_of_calling, ar.calling_restricted) == (12, 15)
    assert ar.timers.metering_pulse == 0.4
    assert mx.group_a[6].next_group is Group.C
    assert mx.group_c[5].meaning is Meaning.NEXT_ADDRESS and mx.group_c[5].next_group is Group.A
    assert mx.group_c[3].next_group is Group.B


def test_timers_are_openr2_defaults_unless_national() -> None:
    t = VARIANTS["itu"].timers
    assert (t.seize_ack, t.double_seizure, t.release_guard, t.answer, t.answer_delay,
            t.mf_back_cycle, t.mf_back_pulse, t.mf_forward_safety, t.metering_pulse) == (
        2.0, 0.15, 3.0, 60.0, 0.15, 2.0, 0.15, 30.0, 0.0)
    with pytest.raises(ValueError, match="timer seize_ack=0 must be a number > 0 s"):
        Timers(seize_ack=0)
    with pytest.raises(ValueError, match="metering_pulse=-1"):
        Timers(metering_pulse=-1)


def _change(v: R2Variant, **changes: object) -> R2Variant:
    return dataclasses.replace(v, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(("changes", "match"), [
    ({"group_a": MappingProxyType({16: VARIANTS["itu"].group_a[1]})}, "signal 16 is not 1..15"),
    ({"group_b": MappingProxyType({1: Backward(Meaning.NEXT_ADDRESS, "x", "y")})},
     "B-1 means NEXT_ADDRESS, which is not a group B meaning"),
    ({"group_a": MappingProxyType({1: Backward(Meaning.DIGIT, "x", "y")})},
     "A-1 means DIGIT, which is not a backward meaning"),
    ({"group_a": MappingProxyType({**VARIANTS["itu"].group_a,
                                   9: Backward(Meaning.NEXT_ADDRESS, "x", "y", Group.C)})},
     "changes to group C, which the variant does not have"),
    ({"group_a": MappingProxyType({**VARIANTS["itu"].group_a,
                                   9: Backward(Meaning.NEXT_ADDRESS, "x", "")})},
     "A-9 cites no source"),
    ({"group_a": MappingProxyType({k: r for k, r in VARIANTS["itu"].group_a.items()
                                   if r.meaning is not Meaning.CONGESTION})},
     "group A has no signal to refuse a call"),
    ({"group_b": MappingProxyType({4: VARIANTS["itu"].group_b[4]})},
     "group B needs a 'free' and a congestion signal"),
    ({"end_of_address": 3}, "end_of_address=3: a group I signal 11..15"),
    ({"category": 4}, "default 4 is not one of its categories"),
    ({"request_calling": "sometimes"}, "request_calling='sometimes' is not one of"),
    ({"mf_level": 0.0}, "mf_level=0.0 dBm0"),
    ({"name": "no such"}, "name must be a short identifier"),
])
def test_a_bad_table_is_refused_naming_the_field(changes: dict[str, object],
                                                  match: str) -> None:
    with pytest.raises(ValueError, match=match):
        _change(VARIANTS["itu"], **changes)


def test_a_bad_line_code_is_refused() -> None:
    with pytest.raises(ValueError, match=r"line signal answered=4: an ab code is 0\.\.3"):
        LineCode(answered=4)
    with pytest.raises(ValueError, match="cd=5"):
        LineCode(cd=5)
    assert LineCode().code("forced_release") == 0
    with pytest.raises(ValueError, match="no line signal 'ring'"):
        LineCode().code("ring")
    with pytest.raises(ValueError, match="no 'forced_release' signal"):
        LineCode(forced_release=None).bits("forced_release")


def test_a_line_code_that_confuses_two_signals_is_found() -> None:
    confused = _change(VARIANTS["itu"], line=LineCode(answered=0b00))
    with pytest.raises(ValueError, match="cannot tell"):
        check_line_code(confused)


# -- the MF code (Q.441) and the detector ------------------------------------------------

def test_the_pair_order_is_the_detectors() -> None:
    assert list(PAIRS) == dtmf._PAIR_ORDER


@pytest.mark.parametrize("direction", ["forward", "backward"])
def test_every_signal_has_its_own_pair_of_frequencies(direction: str) -> None:
    seen = set()
    for signal in range(1, 16):
        tone = mf_tone(direction, signal, -11.5)
        assert tone.level == -11.5
        assert decode_tone(tone) == (direction, signal)
        seen.add(tone.frequencies)
    assert len(seen) == 15
    freqs = {f for pair in seen for f in pair}
    assert freqs == set(dtmf.R2_FORWARD_FREQS if direction == "forward"
                        else dtmf.R2_BACKWARD_FREQS)


def test_q441_frequencies() -> None:
    assert mf_tone("forward", 1, -8).frequencies == (1380.0, 1500.0)
    assert mf_tone("forward", 15, -8).frequencies == (1860.0, 1980.0)
    assert mf_tone("backward", 1, -8).frequencies == (1140.0, 1020.0)
    assert mf_tone("backward", 15, -8).frequencies == (660.0, 540.0)
    assert decode_tone(ToneSpec((450.0,))) is None
    with pytest.raises(ValueError, match=r"1\.\.15"):
        mf_tone("forward", 16, -8)


def test_detector_characters_map_to_signals() -> None:
    def event(digit: str, system: str) -> MfEvent:
        return MfEvent(1, 0, 0, digit=digit, duration=240, system=system, state="on")
    assert mf_signal(event("1", "r2_forward"), "forward") == 1
    assert mf_signal(event("0", "r2_forward"), "forward") == 10
    assert mf_signal(event("F", "r2_backward"), "backward") == 15
    assert mf_signal(event("1", "r2_backward"), "forward") is None
    assert mf_signal(event("1", "bell"), "forward") is None
