"""A cleaning call answered before its release is never silent: it hears the abandon
message (``abandon_file``, else ``abandon_tone`` for ``abandon_seconds``, as a campaign's
abandoned calls), then it is released, and the attempt is recorded ``abandoned`` with
the evidence saying what was played (issue 15, item 3).

On the emulated card's FXO lines in virtual time: the people's music ring-back is a song
heard from a silent intro (the network plays a WAV of silence), which no detector can
name before they answer 2 s in; one person on tone ring-back is released before the
answer as ever. What the gateway was asked to play is kept as the request passes through
to the real gateway, what it played from its own ``play.finished`` event for the call,
the answer and the release from the exchange's side, and what the person heard from the
audio our FXO port sent the exchange while the call was up (:class:`FarEar`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from cleaning_kit import FarEnds, WatchedGateway, e164, make_store, numbers, write_list
from hypothesis import given
from hypothesis import strategies as st
from wav_kit import tone_wav

from trunkline.dialer.cleaning.probe import Probe
from trunkline.dialer.cleaning.results import cleaned_numbers
from trunkline.dialer.cleaning.runner import CleaningRunner
from trunkline.dialer.cleaning.settings import CleaningSettings
from trunkline.drivers.backends.emulated.lines import ExchangeLine, LineState
from trunkline.errors import ConfigError
from trunkline.gateway.config import GatewayConfig

MESSAGE_SECONDS = 1.5

NETWORK = """
spec = "1.0"
zone = "cn"
seed = 7
max_digits = 11

[[subscriber]]
number = "1381*"
behaviour = "human"
answer_after = 2.0
talk = [8, 12]
ringback = "intro.wav"

[[subscriber]]
number = "1382*"
behaviour = "human"
answer_after = 4.0
talk = [8, 12]
ringback = "tone"
"""

RANGES = (("1381", 2, "live"), ("1382", 1, "live"))
SETTINGS = CleaningSettings(concurrency=4, rate=5.0, retries=0, listen=30.0)


class FarEar:
    """What the person behind one exchange line hears while the call is up: the audio our
    port sends the exchange, 20 ms a frame, kept with the number dialled. It listens as
    the exchange's own ports do (``Network.listeners``: each hears its row of our side's
    audio every tick)."""

    def __init__(self, line: ExchangeLine) -> None:
        self.line = line
        self.row = line.row
        self.heard: dict[str, list[np.ndarray]] = {}

    def hear(self, frame: np.ndarray) -> None:
        if self.line.state is LineState.CONNECTED:
            self.heard.setdefault(self.line.digits, []).append(frame.astype(float))


def _sounding(frames: list[np.ndarray]) -> list[bool]:
    """Per 20 ms frame: anything to hear (above -50 dBFS or so)?"""
    return [float(np.sqrt(np.mean(f ** 2))) > 100.0 for f in frames]


class PlaysSeen(WatchedGateway):
    """The watched gateway, also keeping each call's play requests (passed on to the real
    gateway unchanged) and its play events."""

    def __init__(self, db: Path, **kwargs: Any) -> None:
        super().__init__(db, **kwargs)
        self.asked: dict[int, list[dict[str, Any]]] = {}
        self.plays: dict[int, list[tuple[str, float, str | None]]] = {}
        self.ears = [FarEar(p) for p in self.card.network.ports if isinstance(p, ExchangeLine)]
        self.card.network.listeners.update(self.ears)

    def heard(self, number: str) -> list[np.ndarray]:
        """What the person called at ``number`` heard from the answer to the release."""
        return [f for ear in self.ears for f in ear.heard.get(number, [])]

    def play(self, call: int, **params: Any) -> None:
        self.asked.setdefault(call, []).append({**params, "at": self.now()})
        super().play(call, **params)

    def wait(self, until: float) -> list[dict]:
        events = super().wait(until)
        for event in events:
            if str(event.get("event")).startswith("play."):
                self.plays.setdefault(event["call"], []).append(
                    (event["event"], self.now(), event.get("reason")))
        return events


def _clean(tmp_path: Path, **runner_args: Any) -> tuple[FarEnds, PlaysSeen, CleaningRunner]:
    (tmp_path / "network.toml").write_text(NETWORK, encoding="utf-8")
    tone_wav(tmp_path / "intro.wav", 20.0, 0)          # a song's silent intro, 20 s of it
    prompts = tmp_path / "prompts"
    prompts.mkdir()
    tone_wav(prompts / "sorry.wav", MESSAGE_SECONDS, 440)
    store = make_store(tmp_path, settings=SETTINGS, ranges=RANGES)
    config = GatewayConfig(recordings_root=tmp_path / "rec", fax_spool=tmp_path / "fax",
                           prompts=prompts)
    gateway = PlaysSeen(tmp_path / "dialer.sqlite", network=tmp_path / "network.toml",
                        config=config)
    lines = [p for p in gateway.card.network.ports if isinstance(p, ExchangeLine)]
    far = FarEnds()
    gateway.on_tick.append(lambda: far.look(lines, gateway.now()))
    runner = CleaningRunner(store, "clean", gateway, group="fxo", settings=SETTINGS,
                            **runner_args)
    try:
        runner.run(seconds=300)
    finally:
        gateway.close()
    return far, gateway, runner


def _attempts(tmp_path: Path) -> dict[str, tuple[str, str]]:
    """number -> (the attempt's outcome, its evidence), read back from the database."""
    from trunkline.dialer.store import Store

    with Store(tmp_path / "dialer.sqlite") as store:
        rows = store.query("SELECT number, outcome, note FROM attempt")
        statuses = {n.number: n.status for n in cleaned_numbers(store, "clean")}
    assert set(statuses.values()) == {"live"}
    return {r[0]: (r[1], json.loads(r[2])["evidence"]) for r in rows}


def _calls(gateway: PlaysSeen) -> dict[str, int]:
    return {number: call for call, number in gateway.watch.numbers.items()}


def test_an_answered_cleaning_call_hears_the_abandon_message_then_is_released(
        tmp_path: Path) -> None:
    far, gateway, runner = _clean(tmp_path, abandon_file="sorry.wav")
    calls = _calls(gateway)
    answered = [n for n, _ in numbers(RANGES) if n.startswith("1381")]
    assert sorted(n for n in far.answered) == sorted(answered)   # they did pick up
    assert runner.answered == 2 and gateway.watch.dial_violations == []
    for n in answered:
        call = calls[n]
        asked = gateway.asked.get(call, [])
        # asked at the answer itself, for the campaign's abandon file
        assert [a["file"] for a in asked] == ["sorry.wav"]
        assert asked[0]["at"] - gateway.watch.answered[call] < 0.1
        # the gateway played it to its end, and the call was released right after
        (kind, finished, reason), = gateway.plays[call]
        assert (kind, reason) == ("play.finished", "done")
        assert finished - asked[0]["at"] == pytest.approx(MESSAGE_SECONDS, abs=0.1)
        assert finished <= gateway.watch.hangups[call] < finished + 0.1
        up = far.released[n] - far.answered[n]
        assert MESSAGE_SECONDS <= up < MESSAGE_SECONDS + 0.5, up
        # what the person heard: the message's 440 Hz from (almost) the answer on, to
        # the release: never more than 100 ms of silence (the answer's own tick and the
        # play's start)
        frames = gateway.heard(n)
        sounding = _sounding(frames)
        assert True in sounding, "the person heard nothing"
        start = sounding.index(True)
        assert start <= 5 and all(sounding[start:start + 74]), sounding
        assert len(sounding) - (start + 74) <= 5, sounding      # released at its end
        spectrum = np.abs(np.fft.rfft(np.concatenate(frames)))
        peak_hz = np.argmax(spectrum) * 8000 / (len(frames) * 160)
        assert peak_hz == pytest.approx(440, abs=5)
    assert sorted(c for c, _ in runner.messages) == sorted(calls[n] for n in answered)
    # the person on tone ring-back was released before answering: nothing to play
    (ringing,) = [n for n, _ in numbers(RANGES) if n.startswith("1382")]
    assert ringing not in far.answered and calls[ringing] not in gateway.asked
    attempts = _attempts(tmp_path)
    for n in answered:
        assert attempts[e164(n)] == (
            "abandoned", "answered before release; abandon message 'sorry.wav' played")
    assert attempts[e164(ringing)][0] == "no_answer"


def test_without_a_file_the_abandon_tone_plays_for_its_seconds(tmp_path: Path) -> None:
    far, gateway, _ = _clean(tmp_path, abandon_seconds=2.0)
    calls = _calls(gateway)
    answered = [n for n, _ in numbers(RANGES) if n.startswith("1381")]
    assert sorted(far.answered) == sorted(answered)
    for n in answered:
        call = calls[n]
        (asked,) = gateway.asked.get(call, [])
        assert asked["tone"] == "info" and asked.get("file") is None
        hung = gateway.watch.hangups[call] - asked["at"]
        assert 2.0 <= hung < 2.1, hung
        sounding = _sounding(gateway.heard(n))
        assert True in sounding and sounding.index(True) <= 5, sounding
        assert sum(sounding) >= 40, sounding   # the zone's info tone, with its cadence
    attempts = _attempts(tmp_path)
    assert {attempts[e164(n)] for n in answered} == {
        ("abandoned", "answered before release; abandon message (tone 'info', 2 s) played")}


def test_an_abandon_file_the_gateway_cannot_play_stops_the_start(tmp_path: Path) -> None:
    (tmp_path / "prompts").mkdir()
    store = make_store(tmp_path, settings=SETTINGS, ranges=RANGES)
    config = GatewayConfig(recordings_root=tmp_path / "rec", fax_spool=tmp_path / "fax",
                           prompts=tmp_path / "prompts")
    gateway = PlaysSeen(tmp_path / "dialer.sqlite", config=config)
    try:
        runner = CleaningRunner(store, "clean", gateway, group="fxo", settings=SETTINGS,
                                abandon_file="sory.wav")
        with pytest.raises(ConfigError) as info:
            runner.start()
        assert str(info.value).startswith(
            "abandon_file 'sory.wav': the gateway cannot play it: prompts.check: file "
            "'sory.wav': no such file in"), str(info.value)
        assert gateway.calls() == [] and gateway.watch.originated == {}
        assert store.query("SELECT COUNT(*) FROM attempt")[0][0] == 0
    finally:
        gateway.close()


#: What may reach a probe while its abandon message plays: none of it ends the message
#: but the gateway's ``play.finished`` ``done``.
DURING = [{"event": "tone", "call": 1, "tone": t} for t in ("ringback", "music", "sit")] + [
    {"event": "announcement", "call": 1, "kind": "invalid_number"},
    {"event": "call.state", "call": 1, "state": "ringing"},
    {"event": "play.finished", "call": 1, "reason": "stopped"},
    {"event": "play.finished", "call": 1, "reason": "replaced"},
]


@given(st.lists(st.sampled_from(DURING), max_size=6), st.booleans())
def test_the_message_ends_only_when_the_gateway_says_so_or_at_its_cap(
        during: list[dict[str, Any]], finished: bool) -> None:
    probe = Probe(call=1, attempt=1, contact=1, number="13810000000", placed=0.0)
    assert probe.on_event({"event": "call.state", "call": 1, "state": "answered"}, 2.0)
    probe.message_started("'sorry.wav'", until=62.0)
    assert probe.deadline(listen=30.0, sit_wait=8.0) == 62.0
    assert not any(probe.on_event(event, 3.0) for event in during)
    assert not probe.on_time(61.9, listen=30.0, sit_wait=8.0)
    if finished:
        assert probe.on_event({"event": "play.finished", "call": 1, "reason": "done"}, 4.0)
    else:
        assert probe.on_time(62.0, listen=30.0, sit_wait=8.0)
    verdict = probe.on_hungup({"event": "call.state", "state": "hungup", "cause": 16})
    how = "played" if finished else "started, not played to its end"
    assert (verdict.cls, verdict.outcome, verdict.evidence) == (
        "live", "abandoned", f"answered before release; abandon message 'sorry.wav' {how}")


def test_clean_run_refuses_an_abandon_file_the_gateway_cannot_play(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from trunkline.cli import main
    from trunkline.dialer.store import Store

    db = str(tmp_path / "dialer.sqlite")
    assert main(["dialer", "campaign", "create", "sales", "--db", db]) == 0
    assert main(["dialer", "import", "--campaign", "sales",
                 str(write_list(tmp_path, RANGES)), "--db", db]) == 0
    assert main(["dialer", "clean", "create", "sc", "--from-campaign", "sales", "--db", db]) == 0
    capsys.readouterr()
    assert main(["dialer", "clean", "run", "--campaign", "sc", "--virtual",
                 "--abandon-file", "sory.wav", "--db", db]) == 1
    err = capsys.readouterr().err
    assert err.startswith("trunkline: error: abandon_file 'sory.wav': the gateway cannot "
                          "play it: prompts.check: "), err
    with Store(db) as store:
        assert store.query("SELECT COUNT(*) FROM attempt")[0][0] == 0
