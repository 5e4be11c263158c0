"""Property tests: codecs round-trip and fail only with Ss7CodecError; state machines never
raise on any message order, and legs end with exactly one HungUp."""

from __future__ import annotations

import contextlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trunkline.drivers.signalling import events as ev
from trunkline.drivers.signalling.leg import CallOptions
from trunkline.drivers.signalling.ss7 import events as s7
from trunkline.drivers.signalling.ss7.config import Ss7Config
from trunkline.drivers.signalling.ss7.errors import Ss7CodecError
from trunkline.drivers.signalling.ss7.isup import Isup
from trunkline.drivers.signalling.ss7.leg import Ss7Leg
from trunkline.drivers.signalling.ss7.messages import (
    MESSAGE_TYPES,
    Acm,
    Anm,
    Blo,
    Cause,
    Cgb,
    Cgu,
    Con,
    Cpg,
    Gra,
    Grs,
    Iam,
    PartyNumber,
    Rel,
    Res,
    Rlc,
    Rsc,
    Sus,
    Ubl,
    decode_isup,
)
from trunkline.drivers.signalling.ss7.mtp2 import Fisu, Lssu, Msu, Mtp2Link, decode_su
from trunkline.drivers.signalling.ss7.mtp3 import Label, PcFormat, decode_msu, encode_msu

digits = st.text("0123456789*#", min_size=0, max_size=20)
cics = st.integers(0, 0xFFF)
numbers = st.builds(PartyNumber, digits, nai=st.integers(0, 127), plan=st.integers(0, 7),
                    complete=st.booleans())
callings = st.builds(PartyNumber, digits, nai=st.integers(0, 127), plan=st.integers(0, 7),
                     complete=st.just(False), presentation=st.integers(0, 3),
                     screening=st.integers(0, 3), incomplete=st.booleans())
causes = st.builds(Cause, st.integers(0, 127), st.integers(0, 15), st.integers(0, 3))
status = st.integers(0, 31).flatmap(
    lambda r: st.tuples(st.just(r), st.lists(st.booleans(), min_size=r + 1, max_size=r + 1)
                        .map(tuple)))
messages = st.one_of(
    st.builds(Iam, cics, called=numbers, calling=st.none() | callings,
              category=st.integers(0, 255), nature=st.integers(0, 255),
              forward=st.integers(0, 0xFFFF), medium=st.integers(0, 255)),
    st.builds(Acm, cics, st.integers(0, 0xFFFF)), st.builds(Con, cics, st.integers(0, 0xFFFF)),
    st.builds(Anm, cics), st.builds(Cpg, cics, st.integers(0, 255)),
    st.builds(Rel, cics, causes), st.builds(Rlc, cics), st.builds(Sus, cics, st.integers(0, 1)),
    st.builds(Res, cics, st.integers(0, 1)), st.builds(Blo, cics), st.builds(Ubl, cics),
    st.builds(Rsc, cics), st.builds(Grs, cics, st.integers(1, 31).map(lambda r: (r, None))),
    st.builds(Gra, cics, status), st.builds(Cgb, cics, st.integers(0, 1), status),
    st.builds(Cgu, cics, st.integers(0, 1), status))


@given(messages)
def test_isup_messages_round_trip(message: object) -> None:
    assert decode_isup(message.encode()) == message  # type: ignore[attr-defined]


@given(st.binary(max_size=80))
def test_malformed_isup_gives_codec_errors_only(data: bytes) -> None:
    with contextlib.suppress(Ss7CodecError):
        decode_isup(data)


@given(st.sampled_from(sorted(MESSAGE_TYPES)), st.binary(max_size=40))
def test_known_types_with_garbage_bodies_give_codec_errors_only(kind: int, body: bytes) -> None:
    with contextlib.suppress(Ss7CodecError):
        decode_isup(b"\x01\x00" + bytes([kind]) + body)


seq = st.integers(0, 127)
bit = st.integers(0, 1)
units = st.one_of(st.builds(Fisu, seq, bit, seq, bit),
                  st.builds(Lssu, seq, bit, seq, bit, st.integers(0, 255)),
                  st.builds(Msu, seq, bit, seq, bit, st.binary(min_size=3, max_size=273)))


@given(units)
def test_signal_units_round_trip(unit: object) -> None:
    assert decode_su(unit.encode()) == unit  # type: ignore[attr-defined]


@given(st.binary(max_size=300))
def test_malformed_signal_units_give_codec_errors_only(data: bytes) -> None:
    with contextlib.suppress(Ss7CodecError):
        decode_su(data)


@given(st.sampled_from(list(PcFormat)), st.integers(0, 3), st.integers(0, 15),
       st.integers(0, (1 << 24) - 1), st.integers(0, (1 << 24) - 1), st.integers(0, 15),
       st.binary(max_size=20))
def test_msu_labels_round_trip(fmt: PcFormat, ni: int, si: int, dpc: int, opc: int,
                               sls: int, body: bytes) -> None:
    mask = (1 << fmt.bits) - 1
    label = Label(dpc & mask, opc & mask, sls)
    assert decode_msu(encode_msu(ni, si, label, body, fmt), fmt) == (ni, si, label, body)


@given(st.lists(st.binary(max_size=12) | units.map(lambda u: u.encode()), max_size=40),
       st.lists(st.floats(0, 20), max_size=40))
@settings(max_examples=150)
def test_mtp2_never_raises_on_any_frames(frames: list[bytes], times: list[float]) -> None:
    link = Mtp2Link()
    link.start(0.0)
    now = 0.0
    for frame, dt in zip(frames, times + [0.1] * len(frames), strict=False):
        now += dt
        link.receive(now, frame)
        link.on_time(now)


incoming = st.one_of(
    st.builds(Iam, st.integers(1, 4), called=st.just(PartyNumber("123"))),
    st.builds(Acm, st.integers(1, 4)), st.builds(Anm, st.integers(1, 4)),
    st.builds(Con, st.integers(1, 4)), st.builds(Cpg, st.integers(1, 4), st.integers(0, 3)),
    st.builds(Rel, st.integers(1, 4), causes), st.builds(Rlc, st.integers(1, 4)),
    st.builds(Rsc, st.integers(1, 4)), st.builds(Blo, st.integers(1, 4)),
    st.builds(Ubl, st.integers(1, 4)), st.builds(Grs, st.just(1), st.just((3, None))),
    st.builds(Gra, st.just(1), st.just((3, (False,) * 4))),
    st.builds(Cgb, st.just(1), st.integers(0, 1), st.just((3, (True,) * 4))),
    st.builds(Sus, st.integers(1, 4)), st.builds(Res, st.integers(1, 4)))
steps = st.lists(st.one_of(incoming, st.sampled_from(
    ["place", "answer", "release", "alert", "block", "reset", "tick", "down", "up"])),
    max_size=40)


@given(steps)
@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
def test_isup_never_raises_on_any_message_order_and_calls_end_once(todo: list[object]) -> None:
    point = Isup(Ss7Config(4897, 4898, reset_on_start=False,
                           circuits=__import__("trunkline.drivers.signalling.ss7.config",
                                               fromlist=["CircuitMap"]).CircuitMap.of(
                               {c: (1, c) for c in range(1, 5)})))
    point.linkset(0.0, True)
    now, ended, started = 0.0, [], set()
    outputs: list[object] = []
    from trunkline.drivers.signalling.ss7.errors import Ss7Error

    for step in todo:
        now += 1.0
        try:
            if step == "place":
                call, out = point.place(now, "1")
                started.add(call.id)
            elif step in ("answer", "release", "alert"):
                for call_id in list(point.calls):
                    try:
                        out = getattr(point, step)(now, call_id)
                    except Ss7Error:
                        out = []
                    outputs += out
                out = []
            elif step == "block":
                out = point.block(now, 2)
            elif step == "reset":
                out = point.reset(now, 3)
            elif step == "tick":
                out = point.on_time(now + 400.0)
                now += 400.0
            elif step in ("down", "up"):
                out = point.linkset(now, step == "up")
            else:
                out = point.receive(now, step)  # type: ignore[arg-type]
        except Ss7Error:
            out = []
        outputs += out
    for out in outputs:
        if isinstance(out, s7.CallReleased):
            ended.append(out.call)
    assert len(ended) == len(set(ended)), "a call was released twice"


leg_signals = st.lists(st.one_of(
    st.builds(s7.AddressComplete, st.just(1), st.just(1), st.booleans()),
    st.builds(s7.CallProgressed, st.just(1), st.just(1), st.integers(0, 6)),
    st.builds(s7.CallAnswered, st.just(1), st.just(1), st.sampled_from(["anm", "con"])),
    st.builds(s7.CallReleased, st.just(1), st.just(1), st.integers(1, 127),
              st.sampled_from(["remote", "local", "link", "reset"]), st.booleans()),
    st.builds(s7.CircuitChanged, st.just(1), st.integers(1, 9), st.just(1)),
    st.builds(s7.LinksetChanged, st.booleans()),
    st.sampled_from(["hangup", "tick", "iam"])), max_size=25)


@given(leg_signals)
@settings(max_examples=200)
def test_legs_end_with_exactly_one_hangup(signals: list[object]) -> None:
    leg = Ss7Leg(1, 1, CallOptions("123", ring_timeout=5, max_duration=60),
                 bearer=lambda cic: cic)
    out = leg.start(0.0)
    now = 0.0
    for signal in signals:
        now += 1.0
        if signal == "hangup":
            out += leg.hangup(now)
        elif signal == "tick":
            now += 10.0
            out += leg.on_time(now)
        elif signal == "iam":
            if leg.ss7_call is None and not leg.ended:
                out += leg.on_iam_sent(now, 1, 1)
        else:
            out += leg.on_signal(now, signal)
    # whatever happened, the far end's release (or our timers) ends the call once
    out += leg.on_signal(now + 1, s7.CallReleased(1, 1, 16, "local"))
    out += leg.on_time(now + 1000.0)
    out += leg.on_signal(now + 1001, s7.CallReleased(1, 1, 16, "local"))
    hangups = [o for o in out if isinstance(o, ev.HungUp)]
    if leg.ss7_call is None and not leg.ended:
        out += leg.hangup(now + 2000)
        hangups = [o for o in out if isinstance(o, ev.HungUp)]
    assert len(hangups) == 1 and leg.ended
