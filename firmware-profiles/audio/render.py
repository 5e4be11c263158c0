#!/usr/bin/env python3
"""Render the emulated network's speech with espeak-ng: greetings, talk, machine
greetings and operator announcements, in Mandarin and English.

The clips are shipped (``firmware-profiles/audio/*.wav``, A-law at 8 kHz, band-limited
to the telephone band by sox) together with ``index.toml``, which lists each clip's
language, kind and text. Run this again after changing :data:`CLIPS`:

    python firmware-profiles/audio/render.py

Needs espeak-ng and sox (Debian packages of the same names).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent

# (name, language, kind, voice, speed wpm, pitch 0-99, text)
# kind: greeting (a person answering), talk (a person talking), machine (an answering
# machine's greeting, before its beep), announcement:<kind> (a carrier's recording).
CLIPS: list[tuple[str, str, str, str, int, int, str]] = [
    ("zh_greeting_1", "zh", "greeting", "cmn", 160, 50, "喂，你好。"),
    ("zh_greeting_2", "zh", "greeting", "cmn+f3", 170, 60, "喂？"),
    ("zh_greeting_3", "zh", "greeting", "cmn+m3", 150, 40, "你好，哪位？"),
    ("zh_talk_1", "zh", "talk", "cmn", 160, 50, "好的，你说吧，我听着呢。"),
    ("zh_talk_2", "zh", "talk", "cmn+f3", 170, 60, "这个我需要再考虑一下。"),
    ("zh_talk_3", "zh", "talk", "cmn+m3", 150, 40, "可以，没问题，你把资料发给我吧。"),
    ("zh_talk_4", "zh", "talk", "cmn", 165, 55, "我现在有点忙，下午再联系好吗？"),
    ("zh_talk_5", "zh", "talk", "cmn+f3", 160, 60, "明白了，谢谢你。"),
    ("zh_machine_1", "zh", "machine", "cmn+f3", 160, 60,
     "您好，我现在不方便接听电话，请在提示音后留言，谢谢。"),
    ("zh_machine_2", "zh", "machine", "cmn", 150, 45,
     "你好，这里是王先生的电话。我暂时无法接听，请留下您的姓名和电话号码，我会尽快给您回电。"),
    ("zh_announce_invalid", "zh", "announcement:invalid_number", "cmn+f3", 150, 60,
     "您好，您拨打的号码是空号，请查证后再拨。"),
    ("zh_announce_powered_off", "zh", "announcement:powered_off", "cmn+f3", 150, 60,
     "您好，您拨打的电话已关机。"),
    ("zh_announce_unreachable", "zh", "announcement:unreachable", "cmn+f3", 150, 60,
     "您好，您拨打的电话暂时无法接通，请稍后再拨。"),
    ("zh_announce_busy", "zh", "announcement:busy", "cmn+f3", 150, 60,
     "您好，您拨打的电话正在通话中，请稍后再拨。"),
    ("en_greeting_1", "en", "greeting", "en-us", 170, 50, "Hello?"),
    ("en_greeting_2", "en", "greeting", "en-us+f3", 175, 60, "Hi, who's this?"),
    ("en_greeting_3", "en", "greeting", "en-gb+m3", 160, 40, "Yes, speaking."),
    ("en_talk_1", "en", "talk", "en-us", 170, 50, "Okay, go ahead, I'm listening."),
    ("en_talk_2", "en", "talk", "en-us+f3", 175, 60, "I'd have to think about that one."),
    ("en_talk_3", "en", "talk", "en-gb+m3", 160, 40, "Sure, send me the details by email."),
    ("en_talk_4", "en", "talk", "en-us", 165, 55,
     "I'm a bit busy right now, could you call back this afternoon?"),
    ("en_talk_5", "en", "talk", "en-us+f3", 170, 60, "Got it, thanks."),
    ("en_machine_1", "en", "machine", "en-us+f3", 165, 60,
     "Hi, you've reached Sarah. I can't take your call right now. "
     "Please leave a message after the tone."),
    ("en_machine_2", "en", "machine", "en-gb+m3", 155, 45,
     "Hello, this is the Johnson residence. We're not available to take your call. "
     "Leave your name and number and we'll get back to you as soon as we can."),
    ("en_announce_invalid", "en", "announcement:invalid_number", "en-us+f3", 155, 55,
     "The number you have dialed is not in service. Please check the number and try again."),
    ("en_announce_powered_off", "en", "announcement:powered_off", "en-us+f3", 155, 55,
     "The mobile phone you are calling is switched off."),
    ("en_announce_unreachable", "en", "announcement:unreachable", "en-us+f3", 155, 55,
     "The number you are calling cannot be reached at the moment. Please try again later."),
    ("en_announce_busy", "en", "announcement:busy", "en-us+f3", 155, 55,
     "The number you are calling is busy. Please try again later."),
]


def render(name: str, voice: str, speed: int, pitch: int, text: str, out_dir: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw.wav"
        subprocess.run(
            ["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "-w", str(raw), text],
            check=True,
        )
        # Telephone band (300-3400 Hz), 8 kHz, A-law, peak-normalised to -6 dBFS so that
        # speech sits near -20 dBm0 on average, a typical talker level on a line.
        subprocess.run(
            ["sox", str(raw), "-r", "8000", "-c", "1", "-e", "a-law", "-b", "8",
             str(out_dir / f"{name}.wav"),
             "highpass", "300", "lowpass", "3400", "norm", "-6",
             # Trim leading and trailing silence: timing is the network model's job.
             "silence", "1", "0.02", "0.5%", "reverse", "silence", "1", "0.02", "0.5%",
             "reverse"],
            check=True,
        )


def main() -> int:
    for tool in ("espeak-ng", "sox"):
        if shutil.which(tool) is None:
            print(f"render.py needs {tool} (apt-get install {tool})", file=sys.stderr)
            return 1
    index = ["# Generated by render.py: the network's speech clips.", "spec = \"1.0\"", ""]
    for name, lang, kind, voice, speed, pitch, text in CLIPS:
        render(name, voice, speed, pitch, text, HERE)
        index += [
            "[[clip]]",
            f'name = "{name}"',
            f'language = "{lang}"',
            f'kind = "{kind}"',
            f'text = "{text}"',
            "",
        ]
    (HERE / "index.toml").write_text("\n".join(index), encoding="utf-8")
    print(f"{len(CLIPS)} clips rendered in {HERE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
