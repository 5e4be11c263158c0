"""Actions legs ask for: small frozen values, and the detector feature flags."""

from __future__ import annotations

import inspect
from dataclasses import FrozenInstanceError

import pytest

from trunkline.drivers.model import HookOp
from trunkline.drivers.signalling import actions as act


def test_features_are_sorted_and_hashable() -> None:
    flags = act.features(vad=False, dtmf=True, amd=True)
    assert flags == (("amd", True), ("dtmf", True), ("vad", False))
    assert act.features(amd=True, dtmf=True, vad=False) == flags
    assert hash(act.StartDetection(flags)) == hash(act.StartDetection(flags))
    assert act.features() == ()


@pytest.mark.parametrize("cls", [act.StartDetection, act.ConfigureDetection])
def test_detection_actions_give_their_flags_as_options(cls: type) -> None:
    action = cls(act.features(dtmf=True, progress=False))
    assert action.options == {"dtmf": True, "progress": False}


def test_defaults() -> None:
    assert act.TakeChannel(5).open_audio is True
    assert act.Dial("123").mode == "dtmf"
    assert act.SendClear().cause == 16
    assert act.MarkAnswered().exact is True
    assert act.SendSetup("123").calling is None
    assert act.Hook(HookOp.RING).op is HookOp.RING


def test_actions_are_values() -> None:
    assert act.TakeChannel(5) == act.TakeChannel(5, open_audio=True)
    assert act.TakeChannel(5) != act.TakeChannel(5, open_audio=False)
    assert act.OpenAudio() == act.OpenAudio() and act.OpenAudio() != act.StopDetection()
    with pytest.raises(FrozenInstanceError):
        act.ReleaseChannel(3).channel = 4
    with pytest.raises(AttributeError):  # slotted: no stray attributes
        object.__setattr__(act.RestartDetection(), "extra", 1)


def test_every_public_action_is_an_action() -> None:
    data = {"DetectorFlags", "ToneSpec"}  # what actions carry, not actions
    classes = [getattr(act, name) for name in act.__all__ if inspect.isclass(getattr(act, name))
               and name not in data]
    assert len(classes) == 23
    assert all(issubclass(cls, act.Action) for cls in classes)
    assert set(act.__all__) == {cls.__name__ for cls in classes} | {"features"} | data


def test_signalling_tones_and_bits_are_checked_when_built() -> None:
    with pytest.raises(ValueError, match="0, 4000"):
        act.ToneSpec((5000.0,))
    with pytest.raises(ValueError, match=r"-60\.\.3 dBm0"):
        act.ToneSpec((1380.0, 1500.0), level=10.0)
    with pytest.raises(ValueError, match=r"0\.\.15"):
        act.SetBits(16)
    assert act.SetBits(0b1001).bits == 9
