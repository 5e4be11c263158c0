"""The software line echo canceller (drivers/dsp/echo.py) on a synthetic echo path:
what it takes away (ERLE) once converged, that double talk does not undo it, and that
it leaves a far end without echo alone."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trunkline.drivers.dsp.echo import EchoCanceller, erle_db

FRAME = 160


def echo_path(delay: int, erl_db: float) -> np.ndarray:
    """A dispersive echo: a bulk delay, then a short decaying response, at ERL dB."""
    h = np.zeros(delay + 24)
    h[delay:] = np.exp(-np.arange(24) / 6.0) * np.cos(np.arange(24) * 0.9)
    return h * 10 ** (-erl_db / 20) / np.sqrt(np.sum(h ** 2))


def talk(seconds: float, seed: int, level: float = 6000.0) -> np.ndarray:
    """Speech-like: noise shaped to the voice band with a syllabic envelope."""
    rng = np.random.default_rng(seed)
    n = int(seconds * 8000)
    noise = np.convolve(rng.standard_normal(n), np.ones(4) / 2, mode="same")
    envelope = 0.55 + 0.45 * np.sin(2 * np.pi * 3.0 * np.arange(n) / 8000) ** 2
    return level * noise * envelope


def run(canceller: EchoCanceller | None, sent: np.ndarray, h: np.ndarray,
        far: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Frame by frame as the card does: frame k received holds the echo of what was sent
    up to frame k-1. Returns (echo alone, what the canceller let through)."""
    echo = np.convolve(np.concatenate([np.zeros(FRAME), sent]), h)[:len(sent)]
    received = echo + (far if far is not None else 0)
    received = np.clip(np.rint(received), -32768, 32767).astype(np.int16)
    out = []
    previous = None
    for k in range(0, len(sent), FRAME):
        frame = received[k:k + FRAME]
        out.append(frame if canceller is None else canceller.process(frame, previous))
        previous = np.rint(sent[k:k + FRAME]).astype(np.int16)
    return echo, np.concatenate(out).astype(np.float64)


@pytest.mark.parametrize(("delay_ms", "erl_db"), [(2, 6.0), (10, 10.0), (40, 15.0)])
def test_a_converged_canceller_takes_the_echo_away(delay_ms: int, erl_db: float) -> None:
    sent = talk(4.0, 1)
    echo, left = run(EchoCanceller(64), sent, echo_path(delay_ms * 8, erl_db))
    last = slice(-8000, None)  # the last second, converged
    assert erle_db(echo[last], left[last]) > 20


@pytest.mark.parametrize("kind", ["tone", "coloured"])
def test_tones_and_coloured_speech_never_make_it_diverge(kind: str) -> None:
    n = 4 * 8000
    if kind == "tone":
        sent = 8000 * np.sin(2 * np.pi * 1000 * np.arange(n) / 8000)
    else:  # a strong resonance near 400 Hz: neighbouring samples highly correlated
        rng = np.random.default_rng(9)
        x, sent = rng.standard_normal(n), np.zeros(n)
        for i in range(2, n):
            sent[i] = x[i] + 1.746 * sent[i - 1] - 0.941 * sent[i - 2]
        sent *= 5000 / np.std(sent)
    canceller = EchoCanceller(64)
    echo, left = run(canceller, sent, echo_path(80, 15.0))
    assert np.all(np.isfinite(canceller.weights))
    assert erle_db(echo[-8000:], left[-8000:]) > 10


def test_without_a_canceller_nothing_is_taken_away() -> None:
    sent = talk(2.0, 1)
    echo, left = run(None, sent, echo_path(80, 10.0))
    assert abs(erle_db(echo, left)) < 0.1


def test_an_echo_beyond_the_tail_is_not_cancelled() -> None:
    sent = talk(3.0, 2)
    echo, left = run(EchoCanceller(16), sent, echo_path(40 * 8, 10.0))  # 40 ms > 16 ms
    assert erle_db(echo[-8000:], left[-8000:]) < 3


def test_double_talk_does_not_undo_the_canceller() -> None:
    sent = talk(6.0, 3)
    far = np.zeros_like(sent)
    far[3 * 8000:4 * 8000] = talk(1.0, 4, level=9000.0)  # the far end talks over us
    canceller = EchoCanceller(64)
    echo, left = run(canceller, sent, echo_path(80, 10.0), far)
    assert canceller.double_talk > 0
    after = slice(-8000, None)  # the far end silent again
    assert erle_db(echo[after], left[after]) > 20
    during = slice(3 * 8000 + 800, 4 * 8000)
    # The far end's speech comes through (it is not echo): within 1 dB of itself.
    assert abs(erle_db(far[during] + echo[during], left[during])
               - erle_db(far[during] + echo[during], far[during])) < 1.5


def test_a_far_end_alone_passes_unchanged() -> None:
    far = talk(1.0, 5)
    canceller = EchoCanceller(64)
    _, left = run(canceller, np.zeros_like(far), echo_path(80, 10.0), far)
    assert np.max(np.abs(left - np.rint(far))) <= 1


@settings(max_examples=20, deadline=None)
@given(st.integers(8, 128), st.lists(st.integers(-32768, 32767), min_size=160,
                                     max_size=160))
def test_any_input_gives_a_frame_of_int16(tail: int, samples: list[int]) -> None:
    canceller = EchoCanceller(tail)
    frame = np.array(samples, dtype=np.int16)
    for _ in range(3):
        out = canceller.process(frame, frame)
        assert out.dtype == np.int16 and len(out) == 160
        assert np.all(np.isfinite(canceller.weights))


def test_tails_are_checked() -> None:
    with pytest.raises(ValueError, match=r"8\.\.128 ms, not 200"):
        EchoCanceller(200)


PLAN = """spec = "1.0"
zone = "cn"
seed = 1
max_digits = 11
[[subscriber]]
number = "139*"
behaviour = "machine"
answer_after = [1.0, 1.0]
greeting = [1.0, 1.0]
"""


def received_levels(tmp_path, keys: str) -> list[float]:
    """dB of what the card received each 20 ms while it sent loud noise into an answered
    call (an answering machine recording after its beep), on an emulated module."""
    from trunkline.clock import VirtualClock
    from trunkline.drivers.backends.mobile.card import MobileCard
    from trunkline.drivers.backends.mobile.config import mobile_config_from_string
    from trunkline.drivers.dsp import g711
    from trunkline.drivers.modem import CallProgress

    (tmp_path / "plan.toml").write_text(PLAN)
    config = mobile_config_from_string(
        f'[[module]]\nname = "gsm1"\nemulated = true\nnumber = "13900000101"\n{keys}\n')
    rng = np.random.default_rng(3)
    levels: list[float] = []
    with MobileCard(config, clock=VirtualClock(), network=tmp_path / "plan.toml") as card:
        card.open(1)
        link = card.modem(1)
        link.dial("13912345678")
        answered = None
        for tick in range(1000):
            rx = card.read_frames()
            while (event := link.receive()) is not None:
                if event.progress is CallProgress.ACTIVE:
                    answered = tick
            out = np.zeros(160, dtype=np.int16)
            if answered is not None and tick - answered > 150:  # past greeting and beep
                pcm = g711.decode_mixed(rx, np.array([False]))[0].astype(np.float64)
                levels.append(10 * np.log10(np.mean(pcm ** 2) + 1e-9))
                out = np.clip(rng.standard_normal(160) * 6000, -32768, 32767).astype(np.int16)
            card.write_frames(g711.encode_mixed(out[None, :], np.array([False])))
            if len(levels) >= 250:
                break
        card.close_channel(1)
    assert len(levels) >= 250, "the call was not answered"
    return levels


def test_on_an_emulated_module_the_canceller_takes_the_echo_of_our_audio_away(
        tmp_path) -> None:
    floor = np.mean(received_levels(tmp_path, "")[-100:])  # no echo at all
    path = "echo_path = {erl_db = 10.0, delay_ms = 5.0}"
    echoed = np.mean(received_levels(tmp_path, path)[-100:])
    cancelled = np.mean(received_levels(tmp_path, path + "\necho_canceller = 64")[-100:])
    assert echoed > floor + 5  # the echo of our noise is heard
    assert cancelled < floor + 0.5  # and taken away, down to the line's own level
