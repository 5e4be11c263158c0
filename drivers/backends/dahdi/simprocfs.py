"""The simulated kernel's ``/proc/dahdi``: one file per span, as dahdi-base.c writes them.

Why: dahdi-tools' Perl modules (``Dahdi::spans()``, used by ``dahdi_genconf`` and
``lsdahdi``) learn the spans and channels only from ``/proc/dahdi/N``: the span's name,
description, line configuration and alarms on the first line, one line per channel with
its name, signalling, "(In use)", alarms and echo canceller. The ``dahdisim`` interposer
routes opens, ``stat``\\s and directory reads of ``/proc/dahdi`` to a directory the
server fills from this module just before each access (:func:`write_tree`), so the real
``dahdi_genconf`` reads the simulated board's state as it is at that moment.

The text follows dahdi-base.c (dahdi-linux 3.x) function by function:
``dahdi_seq_show`` (the layout), ``lineconfig_str`` and ``dahdi_lineconfig_bit_name``
(``CCS/HDB3/CRC4``), ``fill_alarm_string`` (``BLUE YELLOW RED LOOP RECOVERING NOTOPEN``,
each followed by a blank), ``sigstr`` (the signalling names). Where the simulation has no
such state it says so: the timing master (dahdi-base.c ``master_span``) is taken as the
first running span without alarms, else the first span, as ``__dahdi_find_master_span``
settles when it has to choose; timing slips are not simulated (never printed). The DAHDI
sysfs trees (``/sys/bus/dahdi_*``) are not generated: dahdi-tools 3.1.0's Perl modules do
not read them (only ``dahdi_span_assignments`` does, for genconf's ``assignedspans``).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from trunkline.drivers.backends.dahdi.simkernel import SimulatedKernel

__all__ = ["PROC_DAHDI", "lineconfig_str", "render_span", "sigstr", "write_tree"]

PROC_DAHDI = "/proc/dahdi"

#: dahdi-base.c ``dahdi_lineconfig_bit_name``: DAHDI_CONFIG_* bit -> name.
_BIT_NAMES = {4: "D4", 5: "ESF", 6: "AMI", 7: "B8ZS", 8: "CCS", 9: "HDB3", 10: "CRC4",
              11: "NTTE", 12: "TERM"}
#: ``lineconfig_str`` takes the first coding bit (B8ZS, AMI, HDB3), the first framing bit
#: (ESF, D4, CCS) and CRC4, each once, in bit order.
_CODING_BITS, _FRAMING_BITS, _CRC4_BIT = {7, 6, 9}, {5, 4, 8}, 10


def lineconfig_str(lineconfig: int) -> str:
    """dahdi-base.c ``lineconfig_str``: e.g. ``CCS/HDB3/CRC4`` (bits 4..12 in order)."""
    names: list[str] = []
    coding = framing = crc4 = False
    for bit in range(4, 13):
        if not lineconfig & (1 << bit):
            continue
        if not coding and bit in _CODING_BITS:
            coding = True
            names.append(_BIT_NAMES[bit])
        if not framing and bit in _FRAMING_BITS:
            framing = True
            names.append(_BIT_NAMES[bit])
        if not crc4 and bit == _CRC4_BIT:
            crc4 = True
            names.append(_BIT_NAMES[bit])
    return "/".join(names)


def _alarm_string(kernel: SimulatedKernel, alarms: int) -> str:
    """dahdi-base.c ``fill_alarm_string`` (nothing for no alarms)."""
    lib = kernel.lib
    if alarms <= 0:
        return ""
    words = ((lib.DAHDI_ALARM_BLUE, "BLUE "), (lib.DAHDI_ALARM_YELLOW, "YELLOW "),
             (lib.DAHDI_ALARM_RED, "RED "), (lib.DAHDI_ALARM_LOOPBACK, "LOOP "),
             (lib.DAHDI_ALARM_RECOVER, "RECOVERING "), (lib.DAHDI_ALARM_NOTOPEN, "NOTOPEN "))
    return "".join(word for bit, word in words if alarms & bit)


def sigstr(kernel: SimulatedKernel, sig: int) -> str:
    """dahdi-base.c ``sigstr``: a signalling's name as /proc/dahdi prints it."""
    lib = kernel.lib
    names = {
        lib.DAHDI_SIG_FXSLS: "FXSLS", lib.DAHDI_SIG_FXSKS: "FXSKS",
        lib.DAHDI_SIG_FXSGS: "FXSGS", lib.DAHDI_SIG_FXOLS: "FXOLS",
        lib.DAHDI_SIG_FXOKS: "FXOKS", lib.DAHDI_SIG_FXOGS: "FXOGS",
        lib.DAHDI_SIG_EM: "E&M", lib.DAHDI_SIG_EM_E1: "E&M-E1",
        lib.DAHDI_SIG_CLEAR: "Clear", lib.DAHDI_SIG_HDLCRAW: "HDLCRAW",
        lib.DAHDI_SIG_HDLCFCS: "HDLCFCS", lib.DAHDI_SIG_HDLCNET: "HDLCNET",
        lib.DAHDI_SIG_HARDHDLC: "Hardware-assisted HDLC", lib.DAHDI_SIG_MTP2: "MTP2",
        lib.DAHDI_SIG_SLAVE: "Slave", lib.DAHDI_SIG_CAS: "CAS",
        lib.DAHDI_SIG_DACS: "DACS", lib.DAHDI_SIG_DACS_RBS: "DACS+RBS",
        lib.DAHDI_SIG_SF: "SF (ToneOnly)",
    }
    return names.get(sig, "Unconfigured")


def _master_span(kernel: SimulatedKernel) -> int:
    """The span DAHDI takes its timing from (see the module docstring)."""
    for span in kernel.spans:
        if span.running and not span.alarms and not span.removed:
            return span.number
    return kernel.spans[0].number if kernel.spans else 0


def render_span(kernel: SimulatedKernel, number: int) -> str:
    """``/proc/dahdi/NUMBER`` as dahdi-base.c ``dahdi_seq_show`` writes it."""
    span = kernel.span_by_number(number)
    syncsrc = kernel._sync_source() if span.kind != "analog" else 0
    head = f"Span {span.number}: {span.name} \"{span.description}\""
    if _master_span(kernel) == span.number:
        head += " (MASTER)"
    if span.lineconfig:
        head += f" {lineconfig_str(span.lineconfig)}"
    head += " " + _alarm_string(kernel, span.alarms)
    if syncsrc and syncsrc == span.number:
        head += "ClockSource "
    lines = [head]
    for label, key in (("BPV count", "bpv"), ("CRC4 error count", "crc4"),
                       ("E-bit error count", "ebit"), ("FAS error count", "fas"),
                       ("IRQ misses", "irqmisses")):
        if span.counters.get(key):
            lines.append(f"\t{label}: {span.counters[key]}")
    lines.append("")
    for ch in kernel.span_chans(span):
        text = f"\t{ch.number:4d} {span.name}/{ch.pos} "
        if ch.sigtype:
            text += f"{sigstr(kernel, ch.sigtype)} "
        elif not ch.sigcap:
            text += "Reserved "
        if kernel.is_open(ch.number):
            text += "(In use) "
        text += _alarm_string(kernel, span.alarms | ch.chan_alarms)
        if ch.echocan_name:
            # chan->ec_factory's get_name (the canceller's own name, e.g. OSLEC) and
            # whether an echo canceller instance runs (ec_state: ECHOCANCEL_PARAMS set).
            state = "ACTIVE" if ch.echocan else "INACTIVE"
            text += f"(EC: {ch.echocan_name.upper()} - {state}) "
        lines.append(text)
    return "\n".join(lines) + "\n"


def write_tree(kernel: SimulatedKernel, root: str | Path) -> None:
    """Write ``ROOT/proc/dahdi/N`` for every span (each file replaced whole, so a reader
    never sees half a file); files of spans that no longer exist are removed."""
    directory = Path(root) / PROC_DAHDI.lstrip("/")
    directory.mkdir(parents=True, exist_ok=True)
    wanted = {str(span.number) for span in kernel.spans if not span.removed}
    for name in wanted:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".span-")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(render_span(kernel, int(name)))
        os.replace(tmp, directory / name)
    for old in directory.iterdir():
        if old.name not in wanted and not old.name.startswith("."):
            old.unlink(missing_ok=True)
