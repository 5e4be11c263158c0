"""The WebRTC position's leg (sans-IO), telephone-events (RFC 4733) and the answer's
telephone-event line."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from trunkline.drivers.signalling import events as ev
from trunkline.gateway.webrtc.leg import PeerSignal, WebRtcLeg
from trunkline.gateway.webrtc.peer import add_telephone_event
from trunkline.gateway.webrtc.rfc4733 import EVENT_KEYS, TelephoneEvents, parse


def _leg() -> WebRtcLeg:
    return WebRtcLeg(1, 9, 200, "agent", ring_timeout=30.0, reconnect=10.0)


def _events(outputs: list) -> list:
    return [o for o in outputs if isinstance(o, ev.CallEvent)]


def test_rings_until_connected_then_answered_by_a_person() -> None:
    leg = _leg()
    assert isinstance(_events(leg.start(0.0))[0], ev.Alerting)
    answered = _events(leg.on_signal(2.0, PeerSignal("connected")))
    assert isinstance(answered[0], ev.Answered) and answered[0].person


def test_no_page_within_ring_timeout_is_no_answer() -> None:
    leg = _leg()
    leg.start(0.0)
    assert leg.next_deadline() == 30.0
    assert leg.on_time(29.9) == []
    ended = _events(leg.on_time(30.0))[-1]
    assert isinstance(ended, ev.HungUp) and ended.outcome == "no_answer"


def test_a_lost_peer_waits_for_a_new_one_then_ends() -> None:
    leg = _leg()
    leg.start(0.0)
    leg.on_signal(1.0, PeerSignal("connected"))
    leg.on_signal(5.0, PeerSignal("lost", reason="ice_failed"))
    assert leg.next_deadline() == 15.0
    leg.on_signal(8.0, PeerSignal("connected"))           # the page came back
    assert leg.next_deadline() == float("inf") and not leg.ended
    leg.on_signal(20.0, PeerSignal("lost", reason="ice_disconnected"))
    ended = _events(leg.on_time(30.0))[-1]
    assert isinstance(ended, ev.HungUp) and ended.by == "far_end"
    assert dict(ended.notes)["reason"] == "ice_disconnected" and ended.outcome == "human"


def test_keys_are_reported_only_once_answered_and_bye_ends() -> None:
    leg = _leg()
    leg.start(0.0)
    assert _events(leg.on_signal(0.5, PeerSignal("digit", digit="5"))) == []
    leg.on_signal(1.0, PeerSignal("connected"))
    digit = _events(leg.on_signal(2.0, PeerSignal("digit", digit="5")))[0]
    assert isinstance(digit, ev.DigitReceived) and digit.digit == "5"
    ended = _events(leg.on_signal(3.0, PeerSignal("bye")))[-1]
    assert isinstance(ended, ev.HungUp) and ended.by == "far_end"
    assert leg.on_signal(4.0, PeerSignal("connected")) == []


def _payload(event: int, end: bool, duration: int) -> bytes:
    return bytes([event, (0x80 if end else 0) | 10]) + duration.to_bytes(2, "big")


def test_one_key_per_event_however_many_packets_and_ends() -> None:
    keys = TelephoneEvents()
    got = [keys.feed(1000, _payload(5, False, d)) for d in (160, 320, 480)]
    got += [keys.feed(1000, _payload(5, True, 640)) for _ in range(3)]
    got += [keys.feed(3000, _payload(11, False, 160))]
    assert [k for k in got if k] == ["5", "#"]


@given(st.binary(max_size=8), st.integers(0, 2**32 - 1))
def test_any_payload_is_a_key_or_nothing(payload: bytes, ts: int) -> None:
    key = TelephoneEvents().feed(ts, payload)
    if len(payload) >= 4 and payload[0] < 16:
        assert key == EVENT_KEYS[payload[0]] and parse(payload)[0] == payload[0]
    else:
        assert key is None


OFFER = ("v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111 0 8 126\r\na=rtpmap:111 opus/48000/2\r\n"
         "a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n"
         "a=rtpmap:126 telephone-event/8000\r\n")
ANSWER = "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\na=rtpmap:0 PCMU/8000\r\n"


def test_the_answer_accepts_the_offers_telephone_event() -> None:
    answer, pt = add_telephone_event(OFFER, ANSWER)
    assert pt == 126
    assert "m=audio 9 UDP/TLS/RTP/SAVPF 0 126\r\n" in answer
    assert "a=rtpmap:126 telephone-event/8000\r\na=fmtp:126 0-15" in answer
    assert add_telephone_event(OFFER.replace("a=rtpmap:126 telephone-event/8000\r\n", ""),
                               ANSWER) == (ANSWER, None)
