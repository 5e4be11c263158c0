#!/usr/bin/env python3
"""Build the bundled announcement templates (fingerprints, not audio) in this folder.

Two sources:

* the emulated network's operator announcements in ``../audio`` (``index.toml``
  entries of kind ``announcement:<kind>``), so the detector recognises exactly what
  the emulated network plays;
* espeak-ng renderings of further common Chinese and English announcements
  (:data:`EXTRA`), standing in for carriers' recordings until real ones are added.

A carrier's real recording is added with one command (see docs/detector.md)::

    trunkline announcements add --kind powered_off --zone cn recording.wav

Run: ``python firmware-profiles/announcements/generate.py`` (needs espeak-ng, sox).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent
AUDIO = HERE.parent / "audio"

# (name, zone, language, kind, espeak voice, text)
EXTRA = [
    ("cn-call_barred-zh", "cn", "zh", "call_barred", "cmn",
     "对不起，您拨打的电话已停机。"),
    ("cn-not_in_service-zh", "cn", "zh", "not_in_service", "cmn",
     "对不起，您拨打的号码不存在，请查证后再拨。"),
    ("cn-no_answer-zh", "cn", "zh", "no_answer", "cmn",
     "您拨打的电话暂时无人接听，请稍后再拨。"),
    ("us-not_in_service-en", "us", "en", "not_in_service", "en-us",
     "The number you have dialed is not in service. Please check the number and try again."),
    ("us-call_barred-en", "us", "en", "call_barred", "en-us",
     "Your call cannot be completed as dialed. Calls to this number are restricted."),
    ("us-unreachable-en", "us", "en", "unreachable", "en-us",
     "The wireless customer you are calling is not available. Please try your call later."),
]


def main() -> int:
    from trunkline.drivers.dsp.announcements import add_template
    from trunkline.drivers.dsp.wavfile import read_audio

    index = tomllib.loads((AUDIO / "index.toml").read_text(encoding="utf-8"))
    for clip in index.get("clip", []):
        kind = clip["kind"]
        if not kind.startswith("announcement:"):
            continue
        zone = "cn" if clip["language"] == "zh" else "us"
        samples = read_audio(AUDIO / f"{clip['name']}.wav")
        path = add_template(samples, kind=kind.split(":", 1)[1], zone=zone,
                            name=f"emulated-{clip['name']}", language=clip["language"],
                            text=clip["text"], directory=HERE)
        print(path.name)
    with tempfile.TemporaryDirectory() as tmp:
        for name, zone, lang, kind, voice, text in EXTRA:
            raw = Path(tmp) / "raw.wav"
            out = Path(tmp) / "out.wav"
            subprocess.run(["espeak-ng", "-v", voice, "-s", "150", "-w", str(raw), text],
                           check=True)
            subprocess.run(["sox", str(raw), "-r", "8000", "-c", "1", "-b", "16", str(out),
                            "sinc", "300-3400"], check=True)
            path = add_template(read_audio(out), kind=kind, zone=zone, name=name,
                                language=lang, text=text, directory=HERE)
            print(path.name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
