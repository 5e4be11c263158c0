"""``trunkline detect`` and ``trunkline announcements``: the detector from the command line.

``trunkline detect FILE [--zone cn] [--json]`` prints the detection events of a
recording, one per line (DESIGN.md's JSON objects with ``--json``). For answering-
machine detection the start of the file is the moment of answer unless
``--answered-at SECONDS`` says otherwise; ``--early-media`` treats the whole file as
heard before answer (ringback, music, SIT, announcements; no AMD). A file of several
channels needs ``--channel N``: the two sides of a call are two signals (a trunkline
recording has the line on the left, what was sent on the right), and a mix of them
would hear the agent as the callee; the channel read is said on stderr.

``trunkline announcements add --kind K --zone Z FILE`` fingerprints a carrier's
recording into the announcement library; ``trunkline announcements list`` shows it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from trunkline.cli_numbers import non_negative
from trunkline.errors import AudioFileError, ConfigError


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "detect", help="detect tones, digits, SIT, fax, voice and answering machines in a file",
        description="Print the detection events of an 8 kHz recording (WAV PCM16, A-law, "
                    "mu-law; other rates are resampled).")
    p.add_argument("file", help="audio file (WAV; .gsm and .raw through sox)")
    p.add_argument("--zone", default="cn", help="tone zone (default: cn)")
    p.add_argument("--json", action="store_true", help="one JSON object a line")
    when = p.add_mutually_exclusive_group()
    when.add_argument("--answered-at", type=non_negative, default=0.0, metavar="SECONDS",
                      help="answer time for AMD, in seconds from the start (default: 0)")
    when.add_argument("--early-media", action="store_true",
                      help="the whole file is before answer (no AMD)")
    p.add_argument("--mf", choices=["bell", "r2_forward", "r2_backward"],
                   help="also detect MF signals of this system")
    p.add_argument("--channel", type=int, metavar="N",
                   help="the channel of a multi-channel file to read, from 1 (a trunkline "
                        "recording: 1 = the line, 2 = what was sent); required for such a "
                        "file, which is never mixed")
    p.add_argument("--channel-field", action="store_true",
                   help="add the detector's channel number (0) to each JSON object")
    p.set_defaults(handler=cmd_detect)

    a = subparsers.add_parser("announcements", help="manage the operator-announcement library")
    asub = a.add_subparsers(dest="announcements_command", metavar="ACTION", required=True)
    add = asub.add_parser("add", help="add a carrier's recording as a template")
    add.add_argument("file", help="the recording (WAV or anything `detect` reads)")
    add.add_argument("--kind", required=True,
                     help="invalid_number, powered_off, unreachable, busy, call_barred, ...")
    add.add_argument("--zone", default="cn", help="tone zone of the carrier (default: cn)")
    add.add_argument("--name", help="template name (default: <zone>-<kind>-<file stem>)")
    add.add_argument("--language", default="", help="language code, e.g. zh or en")
    add.add_argument("--text", default="", help="what the recording says")
    add.add_argument("--library", help="library folder (default: the bundled one, or "
                                       "$TRUNKLINE_ANNOUNCEMENTS)")
    add.set_defaults(handler=cmd_announcements_add)
    ls = asub.add_parser("list", help="list the templates")
    ls.add_argument("--library", help="library folder")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(handler=cmd_announcements_list)


def cmd_detect(args: argparse.Namespace) -> int:
    from trunkline.drivers.dsp.detector import detect_file
    from trunkline.drivers.dsp.events import to_json
    from trunkline.drivers.dsp.wavfile import read_audio_channel
    from trunkline.drivers.dsp.zones import load_zone

    zone = load_zone(args.zone)  # ConfigError for an unknown zone
    if args.answered_at is not None and args.answered_at < 0:
        raise ConfigError(f"--answered-at {args.answered_at} must be >= 0 seconds",
                          key="answered-at")
    samples, channels = read_audio_channel(args.file, args.channel)
    if channels > 1 and args.channel is None:
        raise AudioFileError(
            f"{args.file}: has {channels} channels; say which to read with --channel N "
            f"(1..{channels}; a trunkline recording: 1 = the line, 2 = what was sent). "
            "The channels are not mixed: the two sides of a call would blur")
    if args.channel is not None:
        side = {1: " (left)", 2: " (right)"}.get(args.channel, "") if channels == 2 else ""
        print(f"trunkline detect: {args.file}: reading channel {args.channel} of "
              f"{channels}{side}", file=sys.stderr)
    answered = None if args.early_media else args.answered_at
    if answered is not None and answered * 8000 > samples.size:
        raise AudioFileError(f"{args.file}: --answered-at {answered} s is after the end of "
                             f"the audio ({samples.size / 8000:.2f} s)")
    events = detect_file(samples, zone, answered_at=answered, mf=args.mf)
    out = sys.stdout
    for e in events:
        obj = to_json(e, channel=args.channel_field)
        if args.json:
            out.write(json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n")
        else:
            rest = " ".join(f"{k}={v}" for k, v in obj.items() if k not in ("t", "event"))
            out.write(f"{obj['t']:8.3f}  {obj['event']:<12} {rest}\n")
    return 0


def cmd_announcements_add(args: argparse.Namespace) -> int:
    from trunkline.drivers.dsp.announcements import add_template
    from trunkline.drivers.dsp.wavfile import read_audio

    samples = read_audio(args.file)
    name = args.name or f"{args.zone}-{args.kind}-{Path(args.file).stem}".lower().replace(" ", "_")
    path = add_template(samples, kind=args.kind, zone=args.zone, name=name,
                        language=args.language, text=args.text, directory=args.library)
    print(f"added {path}")
    return 0


def cmd_announcements_list(args: argparse.Namespace) -> int:
    from trunkline.drivers.dsp.announcements import load_library

    for t in load_library(args.library):
        if args.json:
            print(json.dumps({"name": t.name, "kind": t.kind, "zone": t.zone,
                              "language": t.language, "seconds": t.bits.size / 50,
                              "text": t.text}, ensure_ascii=False))
        else:
            print(f"{t.name:<40} {t.kind:<16} {t.zone:<4} {t.language:<3} "
                  f"{t.bits.size / 50:5.1f}s  {t.text}")
    return 0
