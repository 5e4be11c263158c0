"""Which signalling a digital span's channels take, so import refuses what the kernel would.

dahdi_cfg's reader passes ``fxoks=`` on an E1 CCS span or ``dchan=16`` on an E1 CAS
span; then the kernel refuses the channel (dahdi-base.c dahdi_ioctl_chanconfig: a
sigtype outside the channel's sigcap is EINVAL) and dahdi_cfg stops with "DAHDI_CHANCONFIG
failed", naming a channel but no line, having configured half the file. ``config import``
says the same thing up front, on the line. The sigcaps are those the E1/T1 drivers give
(wct4xxp t4_chan_set_sigcap; dahdi_ioctl_chanconfig adds every HDLC flavour and DACS to
a channel that can be clear); dahdi_cfg's hints after EINVAL name the same mistakes.

Only spans whose channel numbers are certain are checked: the spans numbered 1, 2, ...
with no gap and no dynamic span (:func:`.sysconf.channel_layout`). BRI spans are left to
their driver.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from trunkline.ranges import format_ranges

if TYPE_CHECKING:
    from trunkline.drivers.backends.dahdi.sysconf import DahdiConfig

#: Clear and what dahdi_ioctl_chanconfig derives from it (HDLC raw/FCS/net, DACS).
_CLEAR = {"bchan", "clear", "dchan", "rawhdlc", "fcshdlc", "nethdlc", "dacs", "unused"}
_ANALOG = {"fxo_ks", "fxo_ls", "fxo_gs", "fxs_ks", "fxs_ls", "fxs_gs"}
#: t4_chan_set_sigcap per kind of span.
ALLOWED = {
    "e1_ccs": _CLEAR | {"mtp2", "hardhdlc"},
    "e1_cas": _CLEAR | _ANALOG | {"em_e1", "cas", "dacsrbs"},
    "t1": _CLEAR | _ANALOG | {"em", "mtp2", "cas", "dacsrbs", "hardhdlc"},
}


def _hint(sig: str, mode: str) -> str:
    """dahdi_cfg.c main's "Possible causes" after EINVAL, for this case."""
    if sig == "em" and mode != "t1":
        return "e&m is for T1; use e&me1 on an E1"
    if sig == "em_e1":
        return "e&me1 is for E1 CAS; use e&m on a T1"
    if mode == "e1_ccs":
        return "robbed-bit/CAS signalling on an E1 CCS span: frame it cas, or use bchan"
    return f"the span ({mode.replace('_', ' ').upper()}) does not offer it"


def sigcap_problems(config: DahdiConfig) -> list[tuple[int, str]]:
    """(line, message) for every channel line the kernel would refuse on these spans."""
    from trunkline.drivers.backends.dahdi.sysconf import TOML_TO_SYSTEM, channel_layout

    if config.dynamic:
        return []
    layout, notes = channel_layout(config)
    if notes:
        return []
    spans = {s.span: s for s in config.spans}
    problems: set[tuple[int, str]] = set()
    for g in config.groups:
        bad: dict[str, list[int]] = {}
        for ch in g.channels:
            if ch not in layout or g.signalling == "unused":
                continue
            number, timeslot = layout[ch]
            span = spans[number]
            if span.kind == "bri":
                continue
            mode = "t1" if span.kind == "t1" else f"e1_{span.framing}"
            if mode == "e1_cas" and timeslot == 16:
                bad.setdefault(f"channel {ch} is timeslot 16 of span {number}, an E1 CAS "
                               "span: it carries the ABCD bits and takes no signalling "
                               "(leave it out)", []).append(ch)
            elif g.signalling not in ALLOWED[mode]:
                bad.setdefault(f"span {number}: {_hint(g.signalling, mode)}", []).append(ch)
        for message, chans in bad.items():
            kind = TOML_TO_SYSTEM.get(g.signalling, g.signalling)
            problems.add((g.line or 0, f"{kind}={format_ranges(chans)}: {message}; the "
                                       "kernel refuses it (DAHDI_CHANCONFIG, EINVAL)"))
    return sorted(problems)
