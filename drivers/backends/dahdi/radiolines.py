"""system.conf's radio lines (pciradio: CTCSS/DCS tones, COR, gains), checked as
dahdi_cfg checks them so ``config import`` accepts and refuses the same ones.

trunkline drives no radio interface, but a file that ``dahdi_cfg`` accepts must import
(issue 14): the lines are kept in order -- dahdi_cfg applies the settings gathered so far
at each ``channel=``/``channels=`` line and then clears them (rad_chanconfig,
clear_fields), so only their order among themselves matters -- and written back by
``config generate``. Each rule below is the one of the dahdi_cfg.c handler named.
"""

from __future__ import annotations

from trunkline.drivers.backends.dahdi.cfgsyntax import channel_list, scan_int, split_args

#: dahdi_cfg.c NUM_TONES: ctcss lines fill tone slots 1..14 between channels= lines.
NUM_TONES = 15
#: dahdi_cfg.c corthreshes[].
COR_THRESHOLDS = (3125, 6250, 9375, 12500, 15625, 18750, 21875, 25000)
KEYWORDS = ("ctcss", "dcsrx", "rxdcs", "tx", "debouncetime", "bursttime", "exttone",
            "invertcor", "corthresh", "rxgain", "txgain", "deemp", "preemp", "channel",
            "channels")


class RadioLines:
    """The radio lines of one file, in order, each checked on its own line."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._tones = 1

    def add(self, key: str, value: str) -> None:
        """Check ``key=value`` (ValueError with dahdi_cfg's reason) and keep it."""
        if key in ("channel", "channels"):
            channel_list(value)                  # rad_chanconfig: apply_channels
            self._tones = 1
        else:
            count = 3 if key == "ctcss" else 1
            args = split_args(value, count)
            if args is None or len(args) != count:
                raise ValueError(f"{key}= takes {count} value{'s' if count > 1 else ''}")
            _check(key, args)
            if key == "ctcss":
                if self._tones >= NUM_TONES:
                    raise ValueError(f"at most {NUM_TONES - 1} CTCSS tones before a "
                                     "channels= line")
                self._tones += 1
        self.lines.append(f"{key}={value}")


def _number(text: str, low: int | None, what: str) -> int:
    value = scan_int(text)
    if value is None or (low is not None and value < low):
        raise ValueError(f"{what} must be a number" + (f" >= {low}" if low is not None
                                                        else "") + f", not {text!r}")
    return value


def _check(key: str, args: list[str]) -> None:
    arg = args[0]
    if key == "ctcss":                          # ctcss: rxtone >= 1, rxtag >= 0, txtone
        _number(args[0], 1, "rxtone")
        _number(args[1], 0, "rxtag")
        _number(args[2][1:] if args[2][:1] in ("D", "d") else args[2], None, "txtone")
    elif key == "tx":                           # tx: [D]txtone >= 1
        _number(arg[1:] if arg[:1] in ("D", "d") else arg, 1, "tx tone")
    elif key in ("dcsrx", "rxdcs", "debouncetime", "bursttime", "deemp", "preemp"):
        _number(arg, 1, key)
    elif key in ("rxgain", "txgain"):
        _number(arg, None, key)
    elif key == "invertcor":                    # invert_cor: y, n or a number >= 0
        if arg[:1] not in ("y", "Y", "n", "N"):
            _number(arg, 0, key)
    elif key == "exttone":                      # ext_tone: y, n, i or 0..2
        if arg[:1] not in ("y", "Y", "n", "N", "i", "I") and \
                _number(arg, 0, key) > 2:
            raise ValueError(f"exttone must be y, n, i or 0..2, not {arg!r}")
    elif key == "corthresh" and scan_int(arg) not in COR_THRESHOLDS:   # cor_thresh
        raise ValueError(f"corthresh must be one of {', '.join(map(str, COR_THRESHOLDS))}, "
                         f"not {arg!r}")
