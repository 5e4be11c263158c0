"""Every subscriber behaviour, called over an FXO port: signalling and received audio."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import hilbert
from signal_checks import band_share, channels_of, dominant_frequency, level_db, tone_cadence

from trunkline.drivers.dsp.zones import load_zone
from trunkline.drivers.lineloop import LineLoop
from trunkline.drivers.model import SpanKind
from trunkline.drivers.signalling.leg import CallOptions, Leg

CN = load_zone("cn")


class Placed:
    """A finished call: its result and the audio the channel received, by call time."""

    def __init__(self, leg: Leg, audio: list[np.ndarray]) -> None:
        self.result = leg.result()
        self.audio = np.concatenate(audio)
        self.events = self.result["events"]

    def t(self, event: str, **match) -> float:
        for e in self.events:
            if e["event"] == event and all(e.get(k) == v for k, v in match.items()):
                return e["t"]
        raise AssertionError(f"no {event} {match} in {[e['event'] for e in self.events]}")

    def has(self, event: str) -> bool:
        return any(e["event"] == event for e in self.events)

    def between(self, start: float, end: float) -> np.ndarray:
        return self.audio[int(start * 8000): int(end * 8000)]


def place(card, number: str, *, port: int = 0, hold: float | None = 1.0,
          ring_timeout: float = 45.0, mode: str = "dtmf") -> Placed:
    channel = channels_of(card, SpanKind.FXO)[port]
    span = card.channel(channel).span
    audio: list[np.ndarray] = []
    with LineLoop(card, zone=CN, spans=[span]) as loop:
        leg = loop.originate(CallOptions(number, hold=hold, ring_timeout=ring_timeout,
                                         dial_mode=mode), span=span, channel=channel)
        loop.run(lambda: leg.ended, max_seconds=300,
                 on_tick=lambda frames: audio.append(frames[loop.rows[channel]].copy()))
    return Placed(leg, audio)


def assert_cadence(runs, on_ms: int, off_ms: int, cycles: int = 1, tol: int = 40) -> None:
    pairs = [(runs[i][1], runs[i + 1][1]) for i in range(len(runs) - 1)
             if runs[i][0] and not runs[i + 1][0]]
    good = [p for p in pairs if abs(p[0] - on_ms) <= tol and abs(p[1] - off_ms) <= tol]
    assert len(good) >= cycles, f"expected {cycles} x {on_ms}/{off_ms} ms, measured {pairs}"


def test_human_answers_after_ringback_with_polarity_reversal(lines):
    call = place(lines, "13800000001")
    assert call.result["outcome"] == "human"
    answered = call.t("answered", by="polarity")
    assert call.t("seized") < call.t("dial_tone") < call.t("digits_sent") < answered
    # What the line sent before the answer: China's ringback, 450 Hz, 1 s on / 4 s off.
    early = call.between(call.t("digits_sent") - 0.4, answered)  # from before routing
    assert_cadence(tone_cadence(early, 450.0), 1000, 4000, cycles=2)
    assert abs(dominant_frequency(early[: 2 * 8000]) - 450) < 3
    # After the answer: a person's speech, well above the line noise.
    speech = call.between(answered, answered + 3)
    assert np.percentile(level_db(speech), 90) > 55
    assert call.has("hangup")


def exchange_audio(card, number: str, seconds: float) -> np.ndarray:
    """What the line sends after dialing ``number``, listened to for ``seconds``
    (our dialer hangs up as soon as it knows; the exchange's whole signal is wanted)."""
    channel = channels_of(card, SpanKind.FXO)[0]
    card.open(channel)
    card.hook(channel, "offhook")
    record(card, channel, 0.5)
    card.dial(channel, number)
    audio = record(card, channel, seconds)
    card.close_channel(channel)
    return audio


def test_busy_is_recognised_and_its_cadence_is_chinas(lines):
    call = place(lines, "13700000001")
    assert call.result["outcome"] == "busy"
    assert not call.has("answered")
    tone = exchange_audio(lines, "13700000002", 5.0)
    assert_cadence(tone_cadence(tone, 450.0), 350, 350, cycles=3)
    assert abs(dominant_frequency(tone[-16000:]) - 450) < 3


def test_congestion_is_recognised_and_its_cadence_is_chinas(lines):
    call = place(lines, "13500000001")
    assert call.result["outcome"] == "congestion"
    tone = exchange_audio(lines, "13500000002", 6.0)
    assert_cadence(tone_cadence(tone, 450.0), 700, 700, cycles=2)


def test_fax_sends_ced_then_v21(lines):
    call = place(lines, "01050000001", hold=5.0)
    assert call.result["outcome"] == "fax"
    answered = call.t("answered")
    after = call.between(answered, answered + 5.0)
    ced = band_share(after, 2100.0) > 0.8
    assert 2.5 <= ced.sum() * 0.02 <= 3.1  # T.30 CED lasts 2.6 to 4.0 s; ours 3.0 s
    first = int(np.argmax(ced)) * 160
    assert abs(dominant_frequency(after[first: first + 16000]) - 2100) < 2
    v21 = call.between(answered + 3.4, answered + 4.4)
    share = band_share(v21, 1750.0, 140)
    assert np.median(share) > 0.8  # V.21 channel 2: 1650 / 1850 Hz


def test_modem_answers_with_ansam(lines):
    call = place(lines, "01060000001", hold=3.0)
    assert call.result["outcome"] == "fax"
    answered = call.t("answered")
    tone = call.between(answered + 0.5, answered + 3.0).astype(float)
    assert abs(dominant_frequency(tone) - 2100) < 2
    envelope = np.abs(hilbert(tone))
    spectrum = np.abs(np.fft.rfft(envelope - envelope.mean()))
    freq = np.argmax(spectrum) * 8000 / tone.size
    assert abs(freq - 15) < 1.0  # V.8 ANSam: 15 Hz amplitude modulation


def test_machine_greeting_then_beep(lines):
    call = place(lines, "13900000001", hold=8.0)
    assert call.result["outcome"] == "machine"
    answered = call.t("answered")
    greeting_then_beep = call.between(answered, answered + 7.0)
    beep = band_share(greeting_then_beep, 1400.0) > 0.9
    assert 0.4 <= beep.sum() * 0.02 <= 0.6
    first_beep = np.argmax(beep) * 0.02
    assert first_beep >= 5.0  # after the 5 s greeting


def test_invalid_number_gets_sit_then_announcement(lines):
    call = place(lines, "13000000001")
    assert call.result["outcome"] == "invalid_number"
    assert call.has("sit") and not call.has("answered")


def test_sit_sequence_as_sent_by_the_exchange(lines):
    audio = exchange_audio(lines, "13000000002", 6.0)
    shares = {f: band_share(audio, f) > 0.8 for f in (950.0, 1400.0, 1800.0)}
    starts = {f: int(np.argmax(on)) for f, on in shares.items()}
    assert 0 < starts[950.0] < starts[1400.0] < starts[1800.0]  # ITU-T E.180 order
    for f, on in shares.items():
        first = on[starts[f]: starts[f] + 30]
        assert 0.3 <= first.sum() * 0.02 <= 0.36, f  # 330 ms each
    after = audio[(starts[1800.0] + 20) * 160:]
    assert np.percentile(level_db(after), 90) > 55  # then the announcement speaks


def record(card, channel: int, seconds: float) -> np.ndarray:
    out = []
    for _ in range(round(seconds / 0.02)):
        frames = card.read_frames()
        out.append(frames[card.row(channel)].copy())
        card.write_frames(np.zeros_like(frames))
    return np.concatenate(out)


@pytest.mark.parametrize("number", ["13400000001", "13300000001"])
def test_announcements_without_ringback_are_unreachable(lines, number):
    call = place(lines, number)
    assert call.result["outcome"] == "unreachable"
    assert call.has("announcement") and not call.has("answered")
    early = call.between(call.t("digits_sent"), call.result["duration"])
    assert np.percentile(level_db(early), 90) > 55  # speech arrived
    # Speech passes through 450 Hz now and then, never for a tone's 350 ms or more.
    assert max((ms for on, ms in tone_cadence(early, 450.0) if on), default=0) < 300


def test_music_ringback_is_not_an_answer(lines):
    call = place(lines, "13810000001")
    assert call.result["outcome"] == "human"
    answered = call.t("answered")
    assert answered - call.t("digits_sent") > 6.0  # answered at 7 s, not during the music
    early = call.between(call.t("digits_sent") + 0.5, answered - 0.2)
    assert max((ms for on, ms in tone_cadence(early, 450.0) if on), default=0) < 300
    assert np.min(level_db(early)) > 35  # music plays on without silences


def test_no_answer_rings_until_we_give_up(lines):
    call = place(lines, "13600000001", ring_timeout=12.0)
    assert call.result["outcome"] == "no_answer"
    assert call.result["duration"] == pytest.approx(call.t("digits_sent") + 12.0, abs=0.1)


def test_line_without_polarity_reversal_answers_on_voice(emulated):
    call = place(emulated, "13800000002", port=6)  # the emulated card's port 7 setting
    assert call.result["outcome"] == "human"
    assert call.t("answered", by="voice") > call.t("digits_sent")
    assert not call.has("polarity_reversal")


def test_far_end_clear_by_tone_only(emulated):
    call = place(emulated, "13800000003", port=7, hold=None)  # port 8: disconnect = tone
    assert call.result["outcome"] == "human"
    hangup = next(e for e in call.events if e["event"] == "hangup")
    assert hangup["by"] == "far_end" and hangup["signal"] == "busy_tone"
    assert not call.has("loop_current_drop")


def test_far_end_clear_by_loop_drop(lines):
    call = place(lines, "13800000004", port=0, hold=None)
    hangup = next(e for e in call.events if e["event"] == "hangup")
    assert hangup["by"] == "far_end"
    assert call.t("polarity_reversal", reversed=False) == pytest.approx(
        call.t("answered") + 6.0, abs=0.05)  # talk = 6 s


def test_pulse_dialing(lines):
    call = place(lines, "13700000005", mode="pulse")
    assert call.result["outcome"] == "busy"


def test_an_inbound_call_is_offered_with_the_callers_number(lines):
    """Caller ID between the first and second rings (GR-30 FSK), read on hook."""
    from dataclasses import replace

    from trunkline.drivers.model import LineOptions
    from trunkline.drivers.signalling import events as ev
    from trunkline.drivers.signalling.base import InboundPolicy

    channel = channels_of(lines, SpanKind.FXO)[0]
    line = lines.line(channel)
    line.settings = replace(line.settings, caller_id="bell202")  # the exchange sends it
    lines.set_line_options(channel, LineOptions(answer_on_polarity=True,
                                                caller_id="bell202"))  # and we expect it
    offers: list[tuple[ev.Offered, float]] = []

    def heard(leg, event) -> None:
        if isinstance(event, ev.Offered):
            offers.append((event, event.at - leg.started))

    span = lines.channel(channel).span
    with LineLoop(lines, zone=CN, spans=[span], listener=heard,
                  inbound=InboundPolicy(timeout=2.0)) as loop:
        line.ring_in(caller="075583216688")
        loop.run(lambda: bool(offers), max_seconds=10)
        (leg,) = loop.legs.values()
        loop.answer(leg)
        loop.run(lambda: leg.ended or loop.clock.now() - leg.started > 5, max_seconds=10)
        if not leg.ended:
            loop.hangup(leg)
            loop.run(lambda: leg.ended, max_seconds=5)
    ((offered, after),) = offers
    assert offered.calling == "075583216688"
    assert 1.5 < after < 3.5  # read in the silence after the first 1 s ring
