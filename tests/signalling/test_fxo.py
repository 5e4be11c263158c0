"""FXO loop-start legs on their own, and the FXO signalling module.

The outbound leg: every row of its TRANSITIONS table, its timers, what the detector
says while our digits go out, lines with and without an answer on polarity reversal,
and the application hanging up in each state. Then the inbound leg and the module.

Times in these tests: started 0.0, dial tone 0.5, digits out 2.0, answered 10.0,
classified 12.0 (see fxo_kit).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fxo_kit import (
    CHANNEL,
    NUMBER,
    SPAN,
    amd,
    announcement,
    answered,
    card,
    connected,
    dialing,
    dtmf,
    fxo_leg,
    mf,
    progress,
    seizing,
    silence,
    sit,
    tone,
    voice,
)

from trunkline.clock import VirtualClock
from trunkline.drivers.dsp.zones import load_zone
from trunkline.drivers.model import (
    ChannelState,
    HookOp,
    LineOptions,
    SpanInfo,
    SpanKind,
    SpanSignalling,
)
from trunkline.drivers.signalling import actions as act
from trunkline.drivers.signalling import events as ev
from trunkline.drivers.signalling.base import InboundPolicy, SignallingContext
from trunkline.drivers.signalling.detection import CALL_PROGRESS, DIGITS, DIGITS_ALSO
from trunkline.drivers.signalling.fxo import (
    AMD_WINDOW,
    EARLY_SOUND_WINDOW,
    TRANSITIONS,
    FxoInboundLeg,
    FxoLeg,
    FxoSignalling,
    Signal,
    State,
    check_number,
    detector_signal,
)
from trunkline.drivers.signalling.leg import CallOptions
from trunkline.errors import CallStateError, NumberFormatError

S, G = State, Signal
ON_HOOK = act.Hook(HookOp.ONHOOK)

#: The rows the tests below take (each test also checks that its leg took the row).
COVERED: set[tuple[State, Signal]] = set()


def row(state: State, signal: Signal) -> Callable[[Callable[..., None]], Callable[..., None]]:
    def mark(test: Callable[..., None]) -> Callable[..., None]:
        COVERED.add((state, signal))
        return test
    return mark


def hung_up(out: list) -> list[ev.HungUp]:
    return [o for o in out if isinstance(o, ev.HungUp)]


def released(out: list, at: float, outcome: str, **notes) -> None:
    """``out`` ends the call from our side with ``outcome`` and puts the line on hook."""
    assert hung_up(out) == [ev.HungUp(at, "near_end", outcome,
                                      notes=(("outcome", outcome), *notes.items()))]
    assert out[-1] == ON_HOOK


def test_every_row_of_the_table_has_a_test() -> None:
    assert set(TRANSITIONS) == COVERED


# -- seizing --------------------------------------------------------------------------------

def test_start_seizes_the_line_with_call_progress_detection() -> None:
    leg = fxo_leg()
    out = leg.start(0.0)
    assert out == [act.StartDetection(act.features(**CALL_PROGRESS)), ev.Seized(0.0),
                   act.Hook(HookOp.OFFHOOK)]
    assert leg.state is S.SEIZING and leg.started == 0.0


def test_detect_options_reach_the_detector() -> None:
    leg = fxo_leg(detect=act.features(amd=False, announcements=False))
    start = leg.start(0.0)[0]
    assert isinstance(start, act.StartDetection)
    assert start.options == {**CALL_PROGRESS, "amd": False, "announcements": False}


@row(S.SEIZING, G.DIAL_TONE)
def test_dial_tone_dials_the_number_on_a_fresh_detector() -> None:
    leg = seizing(fxo_leg(dial_mode="pulse"))
    out = leg.on_detection(0.5, tone("dial"))
    assert out == [ev.ToneHeard(0.5, "dial"), ev.DialTone(0.5), act.RestartDetection(),
                   act.Dial(NUMBER, "pulse")]
    assert leg.state is S.DIALING and leg.rows == [(S.SEIZING, G.DIAL_TONE)]


@row(S.SEIZING, G.NO_DIAL_TONE)
def test_no_dial_tone_gives_up_after_the_dial_tone_timeout() -> None:
    leg = seizing(fxo_leg(dial_tone_timeout=2.5))
    assert leg.on_time(2.49) == []
    out = leg.on_time(2.5)
    released(out, 2.5, "error", reason="no dial tone")
    assert leg.state is S.RELEASING and leg.ended and leg.outcome == "error"
    assert (S.SEIZING, G.NO_DIAL_TONE) in leg.rows


def test_no_dial_tone_dials_blind_when_asked() -> None:
    leg = seizing(fxo_leg(blind_dial=True))
    out = leg.on_time(3.0)
    assert out == [ev.DialToneMissing(3.0, "blind"), act.RestartDetection(), act.Dial(NUMBER)]
    assert leg.state is S.DIALING and not leg.ended


def test_what_is_heard_before_dial_tone_changes_nothing() -> None:
    leg = seizing(fxo_leg())
    for event in (tone("ringback"), voice(), tone("busy"), sit()):
        out = leg.on_detection(0.2, event)
        assert all(isinstance(o, ev.CallEvent) for o in out) and not hung_up(out)
    assert leg.state is S.SEIZING


# -- dialing ----------------------------------------------------------------------------------

@row(S.DIALING, G.DIAL_COMPLETE)
def test_digits_out_listens_for_progress() -> None:
    leg = dialing(fxo_leg())
    out = leg.on_signal(2.0, card("dial_complete", 2.0))
    assert out == [ev.DigitsSent(2.0, NUMBER)]
    assert leg.state is S.PROGRESS and (S.DIALING, G.DIAL_COMPLETE) in leg.rows


def test_detector_events_wait_while_dialing_and_count_at_dial_complete() -> None:
    leg = dialing(fxo_leg())
    heard = leg.on_detection(1.0, tone("ringback")) + leg.on_detection(1.5, voice())
    # Reported as heard, acted on only once the digits are out.
    assert heard == [ev.ToneHeard(1.0, "ringback"), ev.VoiceHeard(1.5)]
    assert leg.state is S.DIALING
    out = leg.on_signal(2.0, card("dial_complete", 2.0))
    assert out == [ev.DigitsSent(2.0, NUMBER), ev.Answered(2.0, "voice"),
                   act.MarkAnswered(exact=False), DIGITS_ALSO]
    assert leg.state is S.ANSWERED


def test_replay_stops_when_a_deferred_event_ends_the_call() -> None:
    leg = dialing(fxo_leg())
    leg.on_detection(1.0, tone("busy"))
    leg.on_detection(1.2, tone("fax_ced"))
    out = leg.on_signal(2.0, card("dial_complete", 2.0))
    released(out, 2.0, "busy")
    assert leg.state is S.RELEASING and leg.outcome == "busy"
    assert not any(isinstance(o, ev.Answered) for o in out)


def test_a_reversal_while_the_last_digit_goes_out_answers_at_dial_complete() -> None:
    """The exchange may answer before our last digit's pause is over: the reversal waits
    for DIAL_COMPLETE with the detector's news, and then answers."""
    leg = dialing(fxo_leg())
    out = leg.on_signal(1.9, card("polarity", 1.9, 1))
    assert out == [ev.PolarityReversal(1.9, True)] and leg.state is S.DIALING
    out = leg.on_signal(2.0, card("dial_complete", 2.0))
    assert ev.Answered(2.0, "polarity") in out and leg.state is S.ANSWERED


def test_early_sound_heard_while_dialing_is_timed_from_when_it_was_heard() -> None:
    leg = dialing(fxo_leg())
    leg.on_detection(1.0, voice())
    leg.on_signal(2.0, card("dial_complete", 2.0))
    assert leg.on_time(1.0 + EARLY_SOUND_WINDOW - 0.01) == []
    out = leg.on_time(1.0 + EARLY_SOUND_WINDOW)
    assert ev.Answered(7.0, "voice_after_early_sound") in out


def test_silence_events_are_not_even_noted() -> None:
    leg = progress(fxo_leg())
    assert leg.on_detection(3.0, silence()) == []
    assert not any(e.NAME == "silence" for e in leg.events)


def test_other_detector_events_are_noted_by_their_kind() -> None:
    leg = progress(fxo_leg())
    out = leg.on_detection(3.0, mf())
    assert out == [ev.DetectorEvent(3.0, "mf")] and leg.state is S.PROGRESS


# -- call progress ----------------------------------------------------------------------------

@row(S.PROGRESS, G.RINGBACK)
def test_ringback_is_never_an_answer_but_lets_voice_answer() -> None:
    leg = progress(fxo_leg())
    out = leg.on_detection(4.0, tone("ringback"))
    assert out == [ev.ToneHeard(4.0, "ringback")] and leg.state is S.PROGRESS
    assert (S.PROGRESS, G.RINGBACK) in leg.rows
    out = leg.on_detection(9.0, voice())
    assert ev.Answered(9.0, "voice") in out and leg.state is S.ANSWERED


def test_music_counts_as_ringback() -> None:
    leg = progress(fxo_leg())
    leg.on_detection(3.0, tone("music"))
    assert ev.Answered(8.0, "voice") in leg.on_detection(8.0, voice())


@row(S.PROGRESS, G.BUSY)
@pytest.mark.parametrize("name", ["busy", "congestion"])
def test_busy_or_congestion_releases_with_that_outcome(name: str) -> None:
    leg = progress(fxo_leg())
    out = leg.on_detection(3.0, tone(name))
    assert out[0] == ev.ToneHeard(3.0, name)
    released(out, 3.0, name)
    assert leg.outcome == name and (S.PROGRESS, G.BUSY) in leg.rows


@row(S.PROGRESS, G.SIT)
def test_sit_releases_as_an_invalid_number() -> None:
    leg = progress(fxo_leg())
    out = leg.on_detection(3.0, sit("VC"))
    assert out[0] == ev.SitHeard(3.0, "VC")
    released(out, 3.0, "invalid_number")
    assert (S.PROGRESS, G.SIT) in leg.rows


def test_a_sit_tone_name_also_releases() -> None:
    leg = progress(fxo_leg())
    released(leg.on_detection(3.0, tone("sit")), 3.0, "invalid_number")


@row(S.PROGRESS, G.ANNOUNCEMENT)
@pytest.mark.parametrize(("kind", "outcome"), [
    ("powered_off", "unreachable"), ("invalid_number", "invalid_number"),
    ("call_barred", "rejected"), ("something_new", "unreachable")])
def test_an_announcement_releases_with_its_outcome(kind: str, outcome: str) -> None:
    leg = progress(fxo_leg())
    out = leg.on_detection(4.0, announcement(kind))
    assert out[0] == ev.AnnouncementHeard(4.0, kind)
    released(out, 4.0, outcome, announcement=kind)
    assert (S.PROGRESS, G.ANNOUNCEMENT) in leg.rows


@row(S.PROGRESS, G.VOICE)
def test_voice_after_ringback_answers_a_line_without_answer_signal() -> None:
    leg = progress(fxo_leg())
    leg.on_detection(3.0, tone("ringback"))
    out = leg.on_detection(9.0, voice())
    assert out == [ev.VoiceHeard(9.0), ev.Answered(9.0, "voice"),
                   act.MarkAnswered(exact=False), DIGITS_ALSO]
    assert leg.state is S.ANSWERED and (S.PROGRESS, G.VOICE) in leg.rows


def test_voice_without_ringback_is_early_sound_not_an_answer() -> None:
    leg = progress(fxo_leg())
    out = leg.on_detection(3.0, voice())
    assert out == [ev.VoiceHeard(3.0)] and leg.state is S.PROGRESS


def test_on_a_polarity_line_voice_after_ringback_is_early_media() -> None:
    leg = progress(fxo_leg(polarity=True))
    leg.on_detection(3.0, tone("ringback"))
    assert leg.on_detection(5.0, voice()) == [ev.VoiceHeard(5.0)]
    assert leg.state is S.PROGRESS
    out = leg.on_signal(8.0, card("polarity", 8.0, 1))
    assert ev.Answered(8.0, "polarity") in out


@row(S.PROGRESS, G.FAX_TONE)
@pytest.mark.parametrize("name", ["fax_ced", "fax_cng", "modem_ans", "ansam"])
def test_a_fax_or_modem_tone_answers_and_classifies_at_once(name: str) -> None:
    leg = progress(fxo_leg())
    out = leg.on_detection(5.0, tone(name))
    assert out == [ev.ToneHeard(5.0, name), ev.Answered(5.0, "tone"),
                   act.MarkAnswered(exact=True), DIGITS_ALSO,
                   ev.Classified(5.0, "fax", name, 0.0)]
    assert leg.state is S.CONNECTED and leg.outcome == leg.answered_by == "fax"
    assert (S.PROGRESS, G.FAX_TONE) in leg.rows


@row(S.PROGRESS, G.POLARITY_REVERSED)
@pytest.mark.parametrize("polarity", [True, False])
def test_a_polarity_reversal_answers_on_any_line(polarity: bool) -> None:
    leg = progress(fxo_leg(polarity=polarity))
    out = leg.on_signal(10.0, card("polarity", 10.0, 1))
    assert out == [ev.PolarityReversal(10.0, True), ev.Answered(10.0, "polarity"),
                   act.MarkAnswered(exact=True), DIGITS_ALSO]
    assert leg.state is S.ANSWERED and (S.PROGRESS, G.POLARITY_REVERSED) in leg.rows


def test_polarity_back_to_normal_before_the_answer_is_only_noted() -> None:
    leg = progress(fxo_leg())
    assert leg.on_signal(3.0, card("polarity", 3.0, 0)) == [ev.PolarityReversal(3.0, False)]
    assert leg.state is S.PROGRESS


@row(S.PROGRESS, G.LOOP_DROP)
def test_loop_current_drop_before_the_answer_is_an_error() -> None:
    leg = progress(fxo_leg())
    out = leg.on_signal(4.0, card("onhook", 4.0))
    assert out[0] == ev.LoopCurrentDrop(4.0)
    released(out, 4.0, "error", reason="loop current dropped before answer")
    assert (S.PROGRESS, G.LOOP_DROP) in leg.rows


@row(S.PROGRESS, G.RING_TIMEOUT)
def test_ring_timeout_counts_from_the_digits_out() -> None:
    leg = progress(fxo_leg(ring_timeout=30.0))
    leg.on_detection(3.0, tone("ringback"))
    assert leg.on_time(31.99) == []
    out = leg.on_time(32.0)
    released(out, 32.0, "no_answer")
    assert (S.PROGRESS, G.RING_TIMEOUT) in leg.rows


@row(S.PROGRESS, G.EARLY_SOUND_OVER)
def test_sound_nobody_named_is_a_person_said_cautiously() -> None:
    leg = progress(fxo_leg())
    leg.on_detection(3.0, voice())
    assert leg.on_time(3.0 + EARLY_SOUND_WINDOW - 0.01) == []
    out = leg.on_time(3.0 + EARLY_SOUND_WINDOW)
    at = 3.0 + EARLY_SOUND_WINDOW
    assert out == [ev.Answered(at, "voice_after_early_sound"), act.MarkAnswered(exact=False),
                   DIGITS_ALSO, ev.Classified(at, "notsure", "amd_notsure", 0.0)]
    assert leg.state is S.CONNECTED and leg.outcome == leg.answered_by == "human"
    assert (S.PROGRESS, G.EARLY_SOUND_OVER) in leg.rows


def test_sound_nobody_named_on_a_polarity_line_is_the_network_talking() -> None:
    leg = progress(fxo_leg(polarity=True))
    leg.on_detection(3.0, voice())
    out = leg.on_time(9.0)
    assert out[0] == ev.AnnouncementHeard(9.0, "unknown")
    released(out, 9.0, "unreachable", announcement="unknown")


def test_ringback_after_early_sound_stops_its_window() -> None:
    leg = progress(fxo_leg())
    leg.on_detection(3.0, voice())
    leg.on_detection(4.0, tone("ringback"))
    assert leg.on_time(20.0) == [] and leg.state is S.PROGRESS


def test_the_ring_timeout_wins_over_the_early_sound_window() -> None:
    leg = progress(fxo_leg(ring_timeout=5.0))
    leg.on_detection(2.5, voice())
    released(leg.on_time(8.5), 8.5, "no_answer")


def test_tones_that_mean_nothing_before_the_answer_change_nothing() -> None:
    leg = progress(fxo_leg())
    for event in (tone("info"), tone("callwaiting"), amd("human"), dtmf("5")):
        out = leg.on_detection(3.0, event)
        assert not hung_up(out) and not any(isinstance(o, act.Action) for o in out)
    assert leg.state is S.PROGRESS


# -- answered: waiting for AMD --------------------------------------------------------------------

@row(S.ANSWERED, G.FAX_TONE)
def test_a_fax_tone_after_the_answer_classifies_fax() -> None:
    leg = answered(fxo_leg())
    out = leg.on_detection(11.5, tone("fax_cng"))
    assert out == [ev.ToneHeard(11.5, "fax_cng"), ev.Classified(11.5, "fax", "fax_cng", 1.5)]
    assert leg.state is S.CONNECTED and leg.outcome == "fax"
    assert (S.ANSWERED, G.FAX_TONE) in leg.rows


@row(S.ANSWERED, G.AMD)
@pytest.mark.parametrize(("result", "outcome"), [
    ("human", "human"), ("machine", "machine"), ("notsure", "human")])
def test_the_amd_verdict_classifies(result: str, outcome: str) -> None:
    leg = answered(fxo_leg())
    out = leg.on_detection(12.5, amd(result))
    assert out == [ev.AmdVerdict(12.5, result),
                   ev.Classified(12.5, result, f"amd_{result}", 2.5)]
    assert leg.state is S.CONNECTED and leg.outcome == leg.answered_by == outcome
    assert (S.ANSWERED, G.AMD) in leg.rows


@row(S.ANSWERED, G.AMD_TIMEOUT)
def test_amd_that_does_not_decide_in_time_leaves_a_person() -> None:
    leg = answered(fxo_leg())
    assert leg.on_time(10.0 + AMD_WINDOW - 0.01) == []
    out = leg.on_time(10.0 + AMD_WINDOW)
    assert out == [ev.Classified(10.0 + AMD_WINDOW, "notsure", "amd_timeout", AMD_WINDOW)]
    assert leg.outcome == "human" and leg.state is S.CONNECTED
    assert (S.ANSWERED, G.AMD_TIMEOUT) in leg.rows


def test_amd_off_classifies_a_person_on_the_answer() -> None:
    leg = progress(fxo_leg(amd=False))
    out = leg.on_signal(10.0, card("polarity", 10.0, 1))
    assert ev.Classified(10.0, "human", "amd_off", 0.0) in out
    assert leg.state is S.CONNECTED and leg.outcome == "human"


@row(S.ANSWERED, G.POLARITY_NORMAL)
def test_polarity_back_before_amd_decided_is_a_person_who_hung_up() -> None:
    leg = answered(fxo_leg())
    out = leg.on_signal(11.0, card("polarity", 11.0, 0))
    assert out == [ev.PolarityReversal(11.0, False),
                   ev.Classified(11.0, "notsure", "amd_timeout", 1.0),
                   ev.HungUp(11.0, "far_end", "human", notes=(("signal", "polarity_reversal"),)),
                   ON_HOOK]
    assert leg.state is S.RELEASING and (S.ANSWERED, G.POLARITY_NORMAL) in leg.rows


@row(S.ANSWERED, G.LOOP_DROP)
def test_loop_drop_before_amd_decided_is_a_person_who_hung_up() -> None:
    leg = answered(fxo_leg())
    out = leg.on_signal(11.0, card("onhook", 11.0))
    assert hung_up(out) == [ev.HungUp(11.0, "far_end", "human",
                                      notes=(("signal", "loop_current_drop"),))]
    assert (S.ANSWERED, G.LOOP_DROP) in leg.rows


# -- connected --------------------------------------------------------------------------------

@row(S.CONNECTED, G.POLARITY_NORMAL)
def test_polarity_back_ends_a_connected_call() -> None:
    leg = connected(fxo_leg(), "machine")
    out = leg.on_signal(30.0, card("polarity", 30.0, 0))
    assert out == [ev.PolarityReversal(30.0, False),
                   ev.HungUp(30.0, "far_end", "machine", notes=(("signal", "polarity_reversal"),)),
                   ON_HOOK]
    assert (S.CONNECTED, G.POLARITY_NORMAL) in leg.rows


@row(S.CONNECTED, G.LOOP_DROP)
def test_loop_drop_ends_a_connected_call() -> None:
    leg = connected(fxo_leg(), "human")
    out = leg.on_signal(30.0, card("onhook", 30.0))
    assert hung_up(out) == [ev.HungUp(30.0, "far_end", "human",
                                      notes=(("signal", "loop_current_drop"),))]
    assert out[-1] == ON_HOOK and (S.CONNECTED, G.LOOP_DROP) in leg.rows


@row(S.CONNECTED, G.BUSY)
@pytest.mark.parametrize("name", ["busy", "congestion"])
def test_busy_after_the_conversation_is_the_far_end_clearing(name: str) -> None:
    leg = connected(fxo_leg(), "human")
    out = leg.on_detection(40.0, tone(name))
    assert hung_up(out) == [ev.HungUp(40.0, "far_end", "human",
                                      notes=(("signal", f"{name}_tone"),))]
    assert (S.CONNECTED, G.BUSY) in leg.rows


@row(S.ANSWERED, G.BUSY)
@row(S.ANSWERED, G.INFO_TONE)
@pytest.mark.parametrize("name", ["busy", "congestion", "info"])
def test_a_clearing_tone_before_the_classification_is_the_far_end_clearing(name: str) -> None:
    """On a line that signals the far end's hang-up only by tone, a person who hangs up
    while AMD is still listening is heard at once, not when the AMD window ends."""
    leg = answered(fxo_leg())
    out = leg.on_detection(11.0, tone(name))
    assert hung_up(out) == [ev.HungUp(11.0, "far_end", "human",
                                      notes=(("signal", f"{name}_tone"),))]
    assert out[-1] == ON_HOOK and leg.outcome == "human"
    assert (S.ANSWERED, G.INFO_TONE if name == "info" else G.BUSY) in leg.rows


@row(S.CONNECTED, G.INFO_TONE)
def test_an_information_tone_after_the_conversation_is_the_far_end_clearing() -> None:
    leg = connected(fxo_leg(), "machine")
    out = leg.on_detection(40.0, tone("info"))
    assert hung_up(out) == [ev.HungUp(40.0, "far_end", "machine",
                                      notes=(("signal", "info_tone"),))]
    assert (S.CONNECTED, G.INFO_TONE) in leg.rows


@row(S.CONNECTED, G.HOLD_OVER)
def test_hold_ends_the_call_that_long_after_it_was_classified() -> None:
    leg = connected(fxo_leg(hold=5.0), "human")
    assert leg.on_time(16.99) == []
    out = leg.on_time(17.0)
    assert out == [ev.HungUp(17.0, "near_end", "human"), ON_HOOK]
    assert leg.state is S.RELEASING and (S.CONNECTED, G.HOLD_OVER) in leg.rows


def test_without_hold_a_connected_call_waits_for_the_far_end() -> None:
    leg = connected(fxo_leg(), "human")
    assert leg.on_time(500.0) == [] and leg.state is S.CONNECTED


def test_hold_zero_releases_as_soon_as_amd_times_out() -> None:
    leg = answered(fxo_leg(hold=0.0))
    out = leg.on_time(10.0 + AMD_WINDOW)
    assert [type(o) for o in out] == [ev.Classified, ev.HungUp, act.Hook]


# -- the end --------------------------------------------------------------------------------

@row(S.RELEASING, G.RELEASED)
def test_a_released_line_is_done_one_tick_later() -> None:
    leg = connected(fxo_leg(hold=1.0), "human")
    leg.on_time(13.0)
    assert leg.state is S.RELEASING and not leg.done
    assert leg.on_time(13.02) == []
    assert leg.state is S.DONE and leg.done and (S.RELEASING, G.RELEASED) in leg.rows
    assert leg.on_time(20.0) == [] and leg.state is S.DONE


def test_after_the_hangup_line_signals_are_only_noted() -> None:
    leg = progress(fxo_leg())
    leg.on_detection(3.0, tone("busy"))
    out = leg.on_signal(3.1, card("polarity", 3.1, 1)) + leg.on_signal(3.2, card("onhook", 3.2))
    out += leg.on_detection(3.3, voice()) + leg.on_detection(3.4, tone("fax_ced"))
    assert out == [ev.PolarityReversal(3.1, True), ev.LoopCurrentDrop(3.2), ev.VoiceHeard(3.3),
                   ev.ToneHeard(3.4, "fax_ced")]
    assert leg.outcome == "busy" and sum(isinstance(e, ev.HungUp) for e in leg.events) == 1


MAX_DURATION_STATES = {
    S.SEIZING: seizing, S.DIALING: dialing, S.PROGRESS: progress, S.ANSWERED: answered,
    S.CONNECTED: connected}


COVERED.update((state, G.MAX_DURATION) for state in MAX_DURATION_STATES)


@pytest.mark.parametrize("state", list(MAX_DURATION_STATES))
def test_max_duration_ends_the_call_in_every_state(state: State) -> None:
    # Times chosen so that no other timer of the state runs out first.
    max_duration = {S.SEIZING: 1.0, S.DIALING: 1.5, S.PROGRESS: 20.0, S.ANSWERED: 13.0,
                    S.CONNECTED: 50.0}[state]
    leg = MAX_DURATION_STATES[state](fxo_leg(max_duration=max_duration))
    assert leg.state is state
    assert leg.on_time(max_duration - 0.01) == []
    out = leg.on_time(max_duration)
    assert (state, G.MAX_DURATION) in leg.rows and leg.state is S.RELEASING
    if state is S.CONNECTED:
        assert out == [ev.HungUp(max_duration, "near_end", "machine"), ON_HOOK]
    else:
        released(out, max_duration, "error", reason="maximum call duration reached")


# -- the application hangs up ---------------------------------------------------------------

@pytest.mark.parametrize(("state", "outcome"), [
    (S.SEIZING, "no_answer"), (S.DIALING, "no_answer"), (S.PROGRESS, "no_answer"),
    (S.ANSWERED, "human")])
def test_hangup_before_classification(state: State, outcome: str) -> None:
    leg = MAX_DURATION_STATES[state](fxo_leg())
    out = leg.hangup(20.0)
    released(out, 20.0, outcome, reason="near_end")
    assert leg.state is S.RELEASING and leg.outcome == outcome


def test_hangup_of_a_classified_call_keeps_its_outcome() -> None:
    leg = connected(fxo_leg(), "machine")
    assert leg.hangup(20.0, cause=21) == [ev.HungUp(20.0, "near_end", "machine"), ON_HOOK]


def test_hangup_of_a_released_call_does_nothing() -> None:
    leg = connected(fxo_leg(), "machine")
    leg.hangup(20.0)
    assert leg.hangup(20.5) == []
    leg.on_time(21.0)
    assert leg.state is S.DONE and leg.hangup(22.0) == []
    assert sum(isinstance(e, ev.HungUp) for e in leg.events) == 1


def test_an_outbound_loop_start_call_cannot_be_answered() -> None:
    with pytest.raises(CallStateError, match="cannot answer call 1: it is outbound"):
        seizing(fxo_leg()).answer(1.0)


# -- the result, numbers, detector signals -------------------------------------------------------

def test_result_lists_the_observations_from_the_start() -> None:
    leg = fxo_leg()
    leg.start(100.0)
    leg.on_detection(100.5, tone("dial"))
    leg.on_signal(102.0, card("dial_complete", 102.0))
    leg.on_detection(103.0, tone("busy"))
    result = leg.result()
    assert result["outcome"] == "busy" and result["answered_by"] is None
    assert result["duration"] == 3.0
    assert [e["event"] for e in result["events"]] == [
        "seized", "tone", "dial_tone", "digits_sent", "tone", "hangup"]
    assert result["events"][-1] == {"t": 3.0, "event": "hangup", "by": "near_end",
                                    "outcome": "busy"}


@pytest.mark.parametrize(("number", "mode", "match"), [
    ("", "dtmf", "cannot dial ''"), ("138-0000", "dtmf", "digits 0-9, \\* and # only"),
    ("+8613800000001", "dtmf", "cannot dial"), ("12*3", "pulse", "cannot pulse-dial '12\\*3'")])
def test_numbers_a_loop_start_line_cannot_dial(number: str, mode: str, match: str) -> None:
    with pytest.raises(NumberFormatError, match=match):
        check_number(number, mode)
    with pytest.raises(NumberFormatError):
        FxoLeg(1, 1, 1, CallOptions(number, dial_mode=mode))


def test_numbers_a_loop_start_line_can_dial() -> None:
    assert check_number("*21#0123456789", "dtmf") == "*21#0123456789"
    assert check_number("0123456789", "pulse") == "0123456789"


@pytest.mark.parametrize(("event", "signal"), [
    (ev.ToneHeard(0, "dial"), G.DIAL_TONE), (ev.ToneHeard(0, "ringback"), G.RINGBACK),
    (ev.ToneHeard(0, "music"), G.RINGBACK), (ev.ToneHeard(0, "busy"), G.BUSY),
    (ev.ToneHeard(0, "congestion"), G.BUSY), (ev.ToneHeard(0, "info"), G.INFO_TONE),
    (ev.ToneHeard(0, "sit"), G.SIT), (ev.ToneHeard(0, "ansam"), G.FAX_TONE),
    (ev.ToneHeard(0, "callwaiting"), None), (ev.SitHeard(0, "IC"), G.SIT),
    (ev.AnnouncementHeard(0, "busy"), G.ANNOUNCEMENT), (ev.VoiceHeard(0), G.VOICE),
    (ev.AmdVerdict(0, "human"), G.AMD), (ev.DigitReceived(0, "1"), None),
    (ev.DetectorEvent(0, "mf"), None)])
def test_detector_signal(event: ev.CallEvent, signal: Signal | None) -> None:
    assert detector_signal(event) is signal


# -- the inbound leg ------------------------------------------------------------------------

def inbound(offer_for: float = 10.0) -> FxoInboundLeg:
    leg = FxoInboundLeg(7, SPAN, CHANNEL, offer_for=offer_for)
    assert leg.start(50.0) == [ev.Offered(50.0, calling="", called="")]
    return leg


def test_an_inbound_call_is_offered_until_its_deadline() -> None:
    leg = inbound(offer_for=4.0)
    assert leg.next_deadline() == 54.0 and leg.direction == "inbound"
    assert leg.on_time(53.99) == []
    assert leg.on_time(54.0) == [ev.HungUp(54.0, "near_end", "rejected")]
    assert leg.ended and leg.outcome == "rejected"


def test_answering_an_inbound_call_lifts_the_line_and_listens_for_digits() -> None:
    leg = inbound()
    out = leg.answer(51.0)
    assert out == [act.Hook(HookOp.OFFHOOK), ev.Answered(51.0, "request"), DIGITS]
    assert leg.next_deadline() == float("inf")
    assert leg.on_detection(52.0, dtmf("7")) == [ev.DigitReceived(52.0, "7")]
    with pytest.raises(CallStateError, match="cannot answer call 7: it is not offered"):
        leg.answer(52.0)


def test_the_far_end_ends_an_answered_inbound_call() -> None:
    leg = inbound()
    leg.answer(51.0)
    assert leg.on_signal(60.0, card("onhook", 60.0)) == [ev.HungUp(60.0, "far_end", "human")]


def test_loop_signals_before_the_answer_change_nothing() -> None:
    leg = inbound()
    for kind in ("ring_end", "onhook", "ring_begin", "polarity"):
        assert leg.on_signal(51.0, card(kind, 51.0)) == []
    assert not leg.ended


@pytest.mark.parametrize(("answer", "outcome"), [(False, "rejected"), (True, "human")])
def test_the_application_hangs_up_an_inbound_call(answer: bool, outcome: str) -> None:
    leg = inbound()
    if answer:
        leg.answer(51.0)
    assert leg.hangup(55.0) == [ON_HOOK, ev.HungUp(55.0, "near_end", outcome)]
    assert leg.hangup(56.0) == []
    with pytest.raises(CallStateError):
        leg.answer(56.0)


# -- the module ---------------------------------------------------------------------------------

class FakeCard:
    """What the analog modules ask of a card: line options and channel states."""

    def __init__(self, polarity: dict[int, bool]) -> None:
        self.polarity = polarity

    def line_options(self, channel: int) -> LineOptions:
        return LineOptions(answer_on_polarity=self.polarity.get(channel, False))

    def channel_state(self, channel: int) -> ChannelState:
        return ChannelState.IDLE


def module(timeout: float = 3.0) -> FxoSignalling:
    span = SpanInfo(SPAN, SpanKind.FXO, SpanSignalling.ANALOG, (CHANNEL, CHANNEL + 1))
    ids = iter(range(100, 200))
    context = SignallingContext(VirtualClock(), load_zone("cn"), lambda: next(ids),
                                InboundPolicy(timeout=timeout))
    return FxoSignalling(FakeCard({CHANNEL: True}), span, context)


def test_the_module_builds_legs_with_the_line_options_of_their_port() -> None:
    fxo = module()
    polarity = fxo.outbound(1, CHANNEL, CallOptions(NUMBER))
    plain = fxo.outbound(2, CHANNEL + 1, CallOptions(NUMBER))
    assert isinstance(polarity, FxoLeg) and polarity.answer_on_polarity
    assert isinstance(plain, FxoLeg) and not plain.answer_on_polarity
    assert (plain.id, plain.span, plain.channel, plain.kind) == (2, SPAN, CHANNEL + 1, "fxo")
    assert fxo.always_open and not fxo.hunts() and fxo.link_up is None


def test_an_fxo_call_needs_a_port() -> None:
    with pytest.raises(CallStateError, match=f"an FXO call needs a port of span {SPAN}"):
        module().outbound(1, None, CallOptions(NUMBER))


def test_ringing_on_an_idle_port_offers_a_call() -> None:
    fxo = module(timeout=3.0)
    leg = fxo.unclaimed(5.0, card("ring_begin", 5.0))
    assert isinstance(leg, FxoInboundLeg)
    assert (leg.id, leg.span, leg.channel, leg.offer_for) == (100, SPAN, CHANNEL, 3.0)
    assert isinstance(fxo.unclaimed(9.0, card("ring_begin", 9.0)), FxoInboundLeg)


def test_hook_changes_on_an_idle_port_are_span_events() -> None:
    fxo = module()
    assert fxo.unclaimed(1.0, card("offhook")) == ev.IdleHook(SPAN, CHANNEL, "offhook")
    assert fxo.unclaimed(1.0, card("onhook")) == ev.IdleHook(SPAN, CHANNEL, "onhook")
    assert fxo.unclaimed(1.0, card("polarity", value=1)) is None
    assert fxo.unclaimed(1.0, card("ring_end")) is None


def test_an_inbound_call_hung_up_before_its_deadline_ends_once() -> None:
    leg = inbound(offer_for=4.0)
    leg.hangup(51.0)
    assert leg.on_time(54.0) == [] and leg.on_time(60.0) == []
    leg = inbound(offer_for=4.0)
    leg.answer(51.0)
    leg.hangup(52.0)
    assert leg.on_signal(53.0, card("onhook", 53.0)) == []
    assert sum(isinstance(e, ev.HungUp) for e in leg.events) == 1


def test_a_call_answered_at_card_time_zero_still_times_its_amd() -> None:
    leg = fxo_leg()
    leg.start(0.0)
    leg.on_detection(0.0, tone("dial"))
    leg.on_signal(0.0, card("dial_complete"))
    leg.on_signal(0.0, card("polarity", 0.0, 1))
    assert leg.state is S.ANSWERED
    assert leg.on_time(AMD_WINDOW) == [ev.Classified(AMD_WINDOW, "notsure", "amd_timeout",
                                                     AMD_WINDOW)]
    leg = fxo_leg()
    leg.start(0.0)
    leg.on_detection(0.0, tone("dial"))
    leg.on_signal(0.0, card("dial_complete"))
    leg.on_signal(0.0, card("polarity", 0.0, 1))
    out = leg.on_detection(2.5, amd("machine"))
    assert out[-1] == ev.Classified(2.5, "machine", "amd_machine", 2.5)
