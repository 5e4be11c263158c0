"""MTP3 (Q.704, Q.707): point codes, labels, link tests, TRA, changeover and changeback."""

from __future__ import annotations

import pytest

from trunkline.drivers.signalling.ss7 import events as s7
from trunkline.drivers.signalling.ss7.config import Ss7Config
from trunkline.drivers.signalling.ss7.errors import Ss7CodecError, Ss7ConfigError
from trunkline.drivers.signalling.ss7.messages import Rlc
from trunkline.drivers.signalling.ss7.mtp3 import (
    SI_ISUP,
    SI_TEST,
    Label,
    Mtp3Timers,
    PcFormat,
    SnmMessage,
    decode_msu,
    encode_msu,
    format_pc,
    parse_pc,
)
from trunkline.drivers.signalling.ss7.mtp3 import (
    TestMessage as LinkTest,
)
from trunkline.drivers.signalling.ss7.pair import PointPair
from trunkline.drivers.signalling.ss7.point import Ss7Point


def test_itu_point_codes_and_label_q704_2_2() -> None:
    assert parse_pc("2-100-1", PcFormat.ITU) == 4897 and format_pc(4897, PcFormat.ITU) == "2-100-1"
    label = Label(4898, 4897, 5)
    data = label.encode(PcFormat.ITU)
    assert data == (4898 | 4897 << 14 | 5 << 28).to_bytes(4, "little")
    assert Label.decode(data, PcFormat.ITU) == label


def test_china_24_bit_point_codes_and_label() -> None:
    pc = parse_pc("10-27-1", PcFormat.CHINA)
    assert pc == 10 << 16 | 27 << 8 | 1 and format_pc(pc, PcFormat.CHINA) == "10-27-1"
    label = Label(0xA1B01, 0xA1B02, 3)
    data = label.encode(PcFormat.CHINA)
    assert data == bytes([0x01, 0x1B, 0x0A, 0x02, 0x1B, 0x0A, 0x03])
    assert Label.decode(data, PcFormat.CHINA) == label
    payload = encode_msu(2, SI_ISUP, label, b"body", PcFormat.CHINA)
    assert payload[0] == 0x85 and decode_msu(payload, PcFormat.CHINA) == (2, 5, label, b"body")


@pytest.mark.parametrize("text, fmt", [("8-0-0", PcFormat.ITU), ("1-256-1", PcFormat.CHINA),
                                       (1 << 14, PcFormat.ITU), ("x", PcFormat.ITU),
                                       (1 << 24, PcFormat.CHINA)])
def test_bad_point_codes_are_config_errors(text: str | int, fmt: PcFormat) -> None:
    with pytest.raises(Ss7ConfigError):
        parse_pc(text, fmt)


def test_management_and_test_message_formats() -> None:
    assert LinkTest(False, b"ab").encode() == bytes([0x11, 0x20]) + b"ab"
    assert LinkTest.decode(bytes([0x21, 0x20]) + b"ab") == LinkTest(True, b"ab")
    assert SnmMessage.decode(bytes([0x11, 0x85])) == SnmMessage(0x11, 5)   # COO, FSN 5
    assert SnmMessage.decode(bytes([0x17])) == SnmMessage(0x17)             # TRA
    for bad in (b"", bytes([0x11])):
        with pytest.raises(Ss7CodecError):
            SnmMessage.decode(bad)
    with pytest.raises(Ss7CodecError):
        LinkTest.decode(bytes([0x11, 0x50]) + b"ab")


def test_timer_values_follow_q704_and_q707() -> None:
    t = Mtp3Timers()
    assert 0.5 <= t.t1 <= 1.2 and 0.7 <= t.t2 <= 2 and 0.5 <= t.t4 <= 1.2
    assert 0.5 <= t.t5 <= 1.2 and 0.8 <= t.t17 <= 1.5 and 63 <= t.t21 <= 65
    assert 4 <= t.slt_t1 <= 12 and 30 <= t.slt_t2 <= 90


def points(variant: str = "itu", links: dict[int, int] | None = None, **kw: object
           ) -> PointPair:
    pcs = {"itu": ("2-100-1", "2-100-2"), "china": ("10-27-1", "10-27-2")}[variant]
    links = links or {0: 1}
    a = Ss7Point(Ss7Config(pcs[0], pcs[1], variant=variant, links=links, **kw))  # type: ignore[arg-type]
    b = Ss7Point(Ss7Config(pcs[1], pcs[0], variant=variant, links=links, **kw))  # type: ignore[arg-type]
    pair = PointPair(a, b)
    pair.start()
    return pair


@pytest.mark.parametrize("variant", ["itu", "china"])
def test_link_test_and_traffic_restart_bring_the_linkset_up(variant: str) -> None:
    pair = points(variant)
    assert pair.run_until(lambda: pair.a.up and pair.b.up, 5)
    traced = [e for e in pair.of("a", s7.LinksetChanged)]
    assert traced == [s7.LinksetChanged(True)]
    assert pair.a.linkset._tra_sent and pair.a.linkset._tra_received


def test_q707_link_test_repeats_every_t2_and_failing_twice_takes_the_link_down(
        monkeypatch: pytest.MonkeyPatch) -> None:
    pair = points()
    assert pair.run_until(lambda: pair.a.up, 5)
    link = pair.a.linkset.links[0]
    assert link.deadlines["slt_t2"] == pytest.approx(pair.now + 60.0, abs=0.1)
    monkeypatch.setattr(pair.b.linkset, "_on_test", lambda *args: None)   # no SLTA
    assert pair.run_until(lambda: not pair.a.up, 60 + 2 * 8 + 1)
    down = pair.of("a", s7.LinkChanged)[-1]
    assert isinstance(down, s7.LinkChanged) and down.reason == "Q.707 link test failed twice"
    assert pair.now == pytest.approx(0.55 + 60 + 2 * 8, abs=0.2)


def test_messages_for_another_point_or_network_are_dropped() -> None:
    pair = points()
    assert pair.run_until(lambda: pair.a.up and bool(pair.a.free_circuits()), 5)
    linkset = pair.b.linkset
    before = linkset.discarded
    wrong = encode_msu(2, SI_ISUP, Label(1234, linkset.apc, 0), Rlc(1).encode(), PcFormat.ITU)
    linkset._deliver(linkset.links[0], wrong)
    wrong_ni = encode_msu(0, SI_ISUP, Label(linkset.opc, linkset.apc, 0), b"xyz", PcFormat.ITU)
    linkset._deliver(linkset.links[0], wrong_ni)
    bad_test = encode_msu(2, SI_TEST, Label(linkset.opc, linkset.apc, 7), b"\x11\x00",
                          PcFormat.ITU)
    linkset._deliver(linkset.links[0], bad_test)
    assert linkset.discarded == before + 3


def test_changeover_and_changeback_keep_traffic_flowing() -> None:
    pair = points(links={0: 1, 1: 2})
    assert pair.run_until(lambda: pair.a.up and len(pair.a.linkset.available()) == 2, 5)
    pair.cut(1)
    assert pair.run_until(lambda: pair.a.linkset.available() == [0], 10)
    assert pair.a.up and pair.b.up
    assert s7.LinkChanged(1, False, pair.of("a", s7.LinkChanged)[-1].reason) in \
        pair.of("a", s7.LinkChanged)
    pair.cut(1, False)
    assert pair.run_until(lambda: len(pair.a.linkset.available()) == 2, 30)
    assert [e for e in pair.of("a", s7.LinksetChanged)] == [s7.LinksetChanged(True)]


def test_losing_the_last_link_takes_the_linkset_down_and_it_recovers() -> None:
    pair = points()
    assert pair.run_until(lambda: pair.a.up, 5)
    pair.cut(0)
    assert pair.run_until(lambda: not pair.a.up and not pair.b.up, 10)
    pair.cut(0, False)
    assert pair.run_until(lambda: pair.a.up and pair.b.up, 20)
    assert [e.up for e in pair.of("a", s7.LinksetChanged)] == [True, False, True]
