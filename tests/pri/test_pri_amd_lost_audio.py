"""A person whose "hello" the card lost in a stalled tick is not taken for a machine.

The hil-tests number plan's 1380* subscribers are people: they answer after 11 s of
ringing with a short greeting, listen, then talk. A tick that stalls 1.2 s across the
answer makes the card overrun (the frames are lost, as a board's receive buffers lose
them), and the greeting with them: AMD then starts on silence and hears the person's
next turn of talk, longer than a "hello". Before the card reported the gap, that turn
was a "long greeting": machine, and the person was hung up on. Now the verdict is
``notsure`` ("audio lost"). Virtual time: the stall is a clock advance between ticks.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from trunkline.clock import VirtualClock
from trunkline.drivers.backends.emulated.card import EmulatedCard
from trunkline.drivers.dsp.events import AmdEvent, DetectionEvent
from trunkline.drivers.dsp.zones import load_zone
from trunkline.drivers.lineloop import LineLoop
from trunkline.drivers.signalling import events as ev
from trunkline.drivers.signalling.leg import CallOptions

PLAN = Path(__file__).resolve().parents[2] / "hil-tests" / "network.toml"
#: When the tick stalls, after the call is placed: 0.4 s before the 11 s answer.
STALL_AT = 10.6
STALL_SECONDS = 1.2


def call_with_stall(seed: int, stall: float) -> tuple[EmulatedCard, list[AmdEvent],
                                                     list[ev.CallEvent]]:
    """One call to a 1380* person on span 1; the card's seed picks the person's
    greeting and talk. Returns the card, AMD's verdicts and the leg's events."""
    clock = VirtualClock()
    card = EmulatedCard(clock=clock, network=PLAN, seed=seed)
    verdicts: list[AmdEvent] = []
    events: list[ev.CallEvent] = []
    try:
        with LineLoop(card, zone=load_zone("cn"), spans=[1],
                      listener=lambda _leg, event: events.append(event)) as loop:
            leg = loop.originate(CallOptions("13800000000", hold=0.5, ring_timeout=30.0),
                                 span=1)
            process = loop.detector.process

            def heard(block: object, ids: object) -> list[DetectionEvent]:
                out = process(block, ids)  # type: ignore[arg-type]
                verdicts.extend(e for e in out if isinstance(e, AmdEvent))
                return out

            loop.detector.process = heard  # type: ignore[method-assign]
            due, stalled = clock.now() + STALL_AT, [stall <= 0]

            def on_tick(_frames: object) -> None:
                if not stalled[0] and clock.now() >= due:
                    stalled[0] = True
                    clock.advance(stall)  # the tick returned this much later

            loop.run(lambda: leg.ended, on_tick=on_tick, max_seconds=30.0)
    finally:
        card.close()
    return card, verdicts, events


@pytest.mark.parametrize("seed", [2, 7])
def test_a_person_whose_greeting_was_lost_is_notsure_not_machine(seed: int) -> None:
    _, verdicts, events = call_with_stall(seed, 0.0)
    assert [(v.result, v.reason) for v in verdicts] == [("human", "short greeting")]

    card, verdicts, events = call_with_stall(seed, STALL_SECONDS)

    assert card.overruns == 1 and card.frames_dropped >= 50  # the greeting went with them
    assert [(v.result, v.reason) for v in verdicts] == [("notsure", "audio lost")]
    (classified,) = [e for e in events if isinstance(e, ev.Classified)]
    assert classified.result == "notsure"
    hung_up = [e for e in events if isinstance(e, ev.HungUp)]
    assert hung_up and hung_up[0].outcome == "human"  # kept for an agent, not dropped


def test_the_card_names_the_channels_whose_audio_had_a_gap_once() -> None:
    clock = VirtualClock()
    card = EmulatedCard(clock=clock, network=PLAN)
    try:
        card.open([1, 2])
        card.read_frames()
        assert card.take_audio_gaps() == frozenset()
        clock.advance(0.06)  # within the card's buffers (4 frames): late, nothing lost
        card.read_frames()
        assert card.take_audio_gaps() == frozenset() and card.overruns == 0
        clock.advance(0.5)
        card.read_frames()
        assert card.take_audio_gaps() == frozenset({1, 2})
        assert card.take_audio_gaps() == frozenset()  # taken once
    finally:
        card.close()
