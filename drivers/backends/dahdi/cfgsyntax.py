"""dahdi_cfg's reading rules for system.conf, so ``config import`` reads a line as it does.

``config import`` must accept every file the real ``dahdi_cfg`` accepts, with the same
meaning, and reject what it rejects on the same line (issue 14). dahdi_cfg is lenient in
ways an ordinary parser is not (a trailing comma ends a list, ``sscanf("%d")`` ignores
what follows a number, a channel list is a set), so these helpers state its rules once,
each with the dahdi-tools function it comes from (dahdi_cfg.c; read for facts, not
copied). Limits come from dahdi-linux ``include/dahdi/user.h``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

#: user.h: DAHDI_MAX_CHANNELS 1024; apply_channels accepts 1..DAHDI_MAX_CHANNELS-1.
MAX_CHANNEL = 1023
#: user.h: DAHDI_MAX_SPANS 128 (dahdi_cfg's declared_spans[] has that many entries).
MAX_SPAN = 127
#: dahdi_cfg.c MAX_TIMING: "a sanity check for the timing parameter of the span".
MAX_TIMING = 255
#: user.h: DAHDI_TONE_ZONE_MAX 128 (registerzone: "Too many tone zones specified").
MAX_ZONES = 128
#: dahdi_cfg.c readline reads with fgets into a 256-byte buffer: a longer line is read
#: in pieces of 255 bytes, each counted as a line of its own (logical_lines).
MAX_LINE = 255
#: libtonezone's built-in zones (dahdi-tools zonedata.c), the only names tone_zone_find
#: knows (compared with strcasecmp): defaultzone= refuses any other on its line, and
#: loadzone= fails to register it.
TONE_ZONES = ("us", "au", "fr", "nl", "uk", "fi", "es", "jp", "no", "at", "nz", "it",
              "us-old", "gr", "tw", "cl", "se", "be", "sg", "il", "br", "hu", "lt", "pl",
              "za", "pt", "ee", "mx", "in", "de", "ch", "dk", "cz", "cn", "ar", "my", "th",
              "bg", "ve", "ph", "ru", "tr", "pa", "mo", "cr", "ae")

_BLANKS = "".join(chr(c) for c in range(33))


def trim(text: str) -> str:
    """dahdi_cfg.c trim: every byte below 33 (spaces, tabs, CR, control bytes) goes."""
    return text.strip(_BLANKS)


def logical_lines(text: str) -> Iterable[tuple[int, int, bool, str]]:
    """(dahdi_cfg's line number, the file's line number, whether it is the rest of a long
    line, text) of each line dahdi_cfg reads (dahdi_cfg.c readline and main).

    readline reads with fgets into a 256-byte buffer, so a line longer than 255 bytes is
    read in pieces, each counted as a line of its own (the numbers after it run ahead of
    the file's). Everything from ``#`` on is a comment, so ``#include`` is a comment too
    (dahdi_cfg has no includes); empty lines are skipped but counted. A line of only
    blanks -- or blanks before a ``#`` -- is *not* skipped: readline tests the buffer's
    length after trim(), which moves past leading blanks without removing them, and main
    skips only a line starting with a newline. It comes out as ``""``, a syntax error to
    dahdi_cfg.
    """
    number = 0
    physical_lines = text.split("\n")
    for physical, raw in enumerate(physical_lines, start=1):
        last = physical == len(physical_lines)
        if last and not raw:
            break                       # the end of the file after its last newline
        data = raw.encode("utf-8") + (b"" if last else b"\n")
        for at in range(0, len(data), MAX_LINE):
            number += 1
            piece = data[at:at + MAX_LINE].decode("utf-8", "replace")
            line = piece.split("#", 1)[0]
            if line and not line.startswith("\n"):
                yield number, physical, at > 0, trim(line)


def split_args(text: str, maxargs: int, sep: str = ",") -> list[str] | None:
    """dahdi_cfg.c parseargs: ``text`` cut at ``sep``, None when more than ``maxargs``.

    Blanks after a separator are skipped and a separator with nothing after it ends the
    list (so ``1-4,`` is one argument); an empty field in the middle stays empty.
    """
    parts = text.split(sep)
    out = [parts[0]]
    for i, part in enumerate(parts[1:], start=1):
        if not trim(sep.join(parts[i:])):
            break
        if len(out) >= maxargs:
            return None
        out.append(part.lstrip(_BLANKS))
    return [trim(p) for p in out]


_INT = re.compile(r"[\s]*([+-]?\d+)")


def scan_int(text: str) -> int | None:
    """``sscanf(text, "%d")``: a number at the start (after blanks), the rest ignored."""
    m = _INT.match(text)
    return int(m.group(1)) if m else None


def channel_list(text: str) -> tuple[int, ...]:
    """dahdi_cfg.c apply_channels: ``1-15,17-31`` -> the channels, sorted, each once.

    dahdi_cfg marks channels in a table, so order and repeats within a list do not
    matter; each number must be 1..1023 and a range must not run backwards. Raises
    ValueError with dahdi_cfg's reason.
    """
    args = split_args(text, MAX_CHANNEL + 1)
    if args is None:
        raise ValueError(f"too many channel ranges (at most {MAX_CHANNEL + 1})")
    chans: set[int] = set()
    for arg in args:
        if "-" in arg:
            ends = split_args(arg, 2, "-")
            if ends is None or len(ends) != 2:
                raise ValueError(f"bad channel range {arg!r} (expected N-M)")
            start, finish = scan_int(ends[0]), scan_int(ends[1])
            for what, value in (("start", start), ("end", finish)):
                if value is None or not 1 <= value <= MAX_CHANNEL:
                    raise ValueError(f"bad channel range {arg!r} ({what} must be a channel "
                                     f"1..{MAX_CHANNEL})")
            assert start is not None and finish is not None
            if start > finish:
                raise ValueError(f"bad channel range {arg!r} (it must start before it ends)")
            chans.update(range(start, finish + 1))
        else:
            chan = scan_int(arg)
            if chan is None or not 1 <= chan <= MAX_CHANNEL:
                raise ValueError(f"bad channel {arg!r} (expected a channel 1..{MAX_CHANNEL}"
                                 " or a range N-M)")
            chans.add(chan)
    return tuple(sorted(chans))


def strtok(text: str, sep: str) -> list[str]:
    """C's strtok as dahdi_cfg uses it (chanconfig, setechocan): empty fields vanish."""
    return [t for t in text.split(sep) if t]
