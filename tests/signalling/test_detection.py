"""What legs ask of the shared detector (flags), and what its events mean to a call."""

from __future__ import annotations

import pytest

from trunkline.drivers.dsp.events import (
    AmdEvent,
    AnnouncementEvent,
    DtmfEvent,
    MfEvent,
    SilenceEvent,
    SitEvent,
    ToneEvent,
    VoiceEvent,
)
from trunkline.drivers.signalling import actions as act
from trunkline.drivers.signalling import events as ev
from trunkline.drivers.signalling.detection import (
    CALL_PROGRESS,
    DETECT_OPTIONS,
    DIGITS,
    DIGITS_ALSO,
    DIGITS_ONLY,
    detection_flags,
    heard,
    start_progress,
)


def test_detection_flags_name_the_detector_features() -> None:
    assert detection_flags({}) == {}
    assert detection_flags({"call_progress": False, "amd": True, "fax": False,
                            "announcements": True}) == {
        "progress": False, "amd": True, "fax": False, "announcements": True}


def test_detection_flags_refuse_unknown_options_and_name_them() -> None:
    with pytest.raises(ValueError, match=(
            r"call.originate: unknown detect option\(s\) 'dtmf', 'vad'; known: "
            r"call_progress, amd, fax, announcements")):
        detection_flags({"vad": True, "amd": True, "dtmf": False})


@pytest.mark.parametrize("value", [1, 0, "yes", None, 1.0])
def test_detection_flags_take_booleans_only(value: object) -> None:
    with pytest.raises(ValueError, match=f"detect.amd must be true or false, not {value!r}"):
        detection_flags({"amd": value})


def test_every_detect_option_is_a_feature_of_call_progress() -> None:
    assert set(DETECT_OPTIONS.values()) <= set(CALL_PROGRESS)


def test_call_progress_starts_with_the_flags_applied() -> None:
    assert start_progress({}) == act.StartDetection(act.features(**CALL_PROGRESS))
    options = start_progress({"amd": False, "fax": False}).options
    assert options == {**CALL_PROGRESS, "amd": False, "fax": False}
    assert options["dtmf"] is False  # digits only once a person is there


def test_the_digit_configurations() -> None:
    assert DIGITS.options == {"dtmf": True, "progress": False, "fax": False, "vad": False}
    assert isinstance(DIGITS, act.StartDetection)
    assert DIGITS_ONLY.options == {"dtmf": True, "progress": False, "fax": False, "vad": False,
                                   "amd": False, "announcements": False}
    assert DIGITS_ALSO.options == {"dtmf": True}
    assert isinstance(DIGITS_ONLY, act.ConfigureDetection)
    assert isinstance(DIGITS_ALSO, act.ConfigureDetection)


@pytest.mark.parametrize(("event", "expected"), [
    (ToneEvent(1, 0, 0, tone="busy"), ev.ToneHeard(2.5, "busy")),
    (SitEvent(1, 0, 0, code="NC"), ev.SitHeard(2.5, "NC")),
    (AnnouncementEvent(1, 0, 0, announcement="powered_off"),
     ev.AnnouncementHeard(2.5, "powered_off")),
    (AmdEvent(1, 0, 0, result="notsure", after_answer=100), ev.AmdVerdict(2.5, "notsure")),
    (VoiceEvent(1, 0, 0), ev.VoiceHeard(2.5)),
    (DtmfEvent(1, 0, 0, digit="9", duration=640), ev.DigitReceived(2.5, "9")),
    (SilenceEvent(1, 0, 0), ev.DetectorEvent(2.5, "silence")),
    (MfEvent(1, 0, 0, digit="3", duration=400, system="bell"), ev.DetectorEvent(2.5, "mf")),
])
def test_heard_turns_a_detector_event_into_a_call_event_at_card_time(event, expected) -> None:
    # The detector's own sample times do not matter: the leg's clock does.
    assert heard(event, 2.5) == expected
