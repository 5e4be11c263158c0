from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from detector_testkit import espeak

ENGLISH = [
    ("hello", "en-us", "Hello?"),
    ("hi", "en-us+f3", "Hi, who's this?"),
    ("yes", "en-gb+m3", "Yes, speaking."),
    ("machine_en", "en-us+f3", "Hi, you've reached Sarah and Tom. We can't take your call "
                               "right now, so please leave a message after the tone."),
    ("machine_en2", "en-gb+m3", "Thank you for calling the Johnson residence. Nobody is "
                                "available at the moment. Please leave your name and number."),
    ("talk_en", "en-us", "The quick brown fox jumps over the lazy dog while seven children sing "
                         "songs about nine silver stars. Please call me back at four five six, "
                         "one two three, zero nine eight seven. Thank you and good night."),
]
MANDARIN = [
    ("wei", "cmn", "喂？"),
    ("nihao", "cmn+f3", "你好，哪位？"),
    ("machine_zh", "cmn", "您好，我现在不方便接听电话，请在提示音后留言，我会尽快给您回电，谢谢。"),
    ("talk_zh", "cmn+m3", "今天天气很好，我们一起去公园散步吧。我的电话号码是一三九，八八六七，"
                          "五四三二，有事请随时联系我。谢谢你，再见。"),
]


@pytest.fixture(scope="session")
def speech(tmp_path_factory) -> dict[str, np.ndarray]:
    """espeak-ng speech in English and Mandarin, rendered once per session."""
    d: Path = tmp_path_factory.mktemp("speech")
    return {name: espeak(text, voice, d / f"{name}.wav") for name, voice, text in
            ENGLISH + MANDARIN}
