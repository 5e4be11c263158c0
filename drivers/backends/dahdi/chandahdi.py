"""chan_dahdi.conf in and out: what Asterisk's channel driver sets for each block of
channels, as trunkline keeps it.

Reading follows chan_dahdi's own rules (Asterisk channels/chan_dahdi.c,
``process_dahdi``): in ``[channels]`` a key stays in force until it is set again,
``channel => ranges`` makes channels with the settings in force, and an ``#include``d
file is read in place, with the same settings. The SS7 keys are chan_dahdi globals
(``cur_linkset``, ``cur_pointcode``...): ``sigchan =`` adds a signalling link to the
current linkset with the point codes in force (``linkset_addsigchan``, which refuses a
sigchan before ss7type, pointcode, adjpointcode, defaultdpc and networkindicator), and
each channel of a ``signalling = ss7`` block takes the next circuit code
(``ss7_chan->cic = cur_cicbeginswith++``). MFC/R2 (``mfcr2_*``) and SS7 keys become the
signalling modules' options (:mod:`.sigopts`); :mod:`.trunkspans` puts them on spans.

Writing (:func:`to_chan_dahdi`) produces a file that reads back to the same thing:
since settings stick, blocks are written from the fewest settings to the most, which is
the order of any file chan_dahdi reads (each block has every setting of the blocks
before it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trunkline.drivers.backends.dahdi import sigopts
from trunkline.drivers.backends.dahdi.sigopts import DEFAULT_LINKSET
from trunkline.drivers.backends.dahdi.sysconf import (
    BONDED,
    CHAN_DAHDI_KEYS,
    CHAN_DAHDI_SIGNALLING,
    PRI_TO_CHAN_DAHDI,
    TOML_TO_CHAN_DAHDI,
    TOML_TO_SYSTEM,
    ChannelGroup,
    DahdiConfig,
    SpanConf,
    SystemConfError,
    channel_layout,
    format_ranges,
    parse_ranges,
)
from trunkline.drivers.signalling.ss7.config import VARIANTS as SS7_VARIANTS
from trunkline.drivers.signalling.ss7.mtp3 import NETWORK_INDICATORS, parse_pc
from trunkline.errors import ConfigError

__all__ = ["Block", "ChanDahdi", "SigChan", "merge_chan_dahdi", "parse_chan_dahdi",
           "to_chan_dahdi"]

#: SS7 keys that must be set before ``sigchan =`` (chan_dahdi.c ``linkset_addsigchan``).
SIGCHAN_NEEDS = ("ss7type", "pointcode", "adjpointcode", "defaultdpc", "networkindicator")
#: SS7 keys chan_dahdi takes that the SS7 module has no option for (dropped, with a
#: warning): chan_dahdi.conf.sample's SS7 section.
SS7_UNSUPPORTED = re.compile(r"ss7_.*|isup_timer\..*|mtp3_timer\..*|inr_if_no_calling|"
                             r"non_isdn_access|sls_shift|cause_location")
#: Sections whose keys chan_dahdi reads in order (other sections are templates or
#: per-section channel lists, ``dahdichan =``, which this reader does not follow).
SECTIONS = ("", "channels", "trunkgroups", "general")


@dataclass
class Block:
    """One ``channel =>`` line and the settings it took."""

    channels: tuple[int, ...]
    signalling: str
    """chan_dahdi's (``pri_cpe``, ``mfcr2``, ``ss7``...)."""
    port: str
    """trunkline's channel signalling (ChannelGroup.signalling: ``fxo_ks``, ``cas``...)."""
    options: dict[str, str]
    """The chan_dahdi keys trunkline keeps (CHAN_DAHDI_KEYS), and ``pri`` for PRI."""
    where: str
    """``file:line`` of the ``channel =>``."""
    line: int
    """Its line in the file read first (the ``#include`` line for an included file)."""
    r2: dict[str, Any] = field(default_factory=dict)
    """``signalling = mfcr2``: the MFC/R2 module's options in force."""
    linkset: str = ""
    """``signalling = ss7``: the linkset (chan_dahdi's number)."""
    cics: tuple[int, ...] = ()
    """``signalling = ss7``: each channel's CIC."""
    ss7: dict[str, Any] = field(default_factory=dict)
    """``signalling = ss7``: ``defaultdpc`` (as written) and the NAI options in force."""


@dataclass
class SigChan:
    """A ``sigchan =`` line: a signalling link of a linkset."""

    channel: int
    linkset: str
    slc: int | None
    """``slc =`` in force (None: chan_dahdi numbers the linkset's links 0, 1... in
    the order of their sigchan lines)."""
    settings: dict[str, Any]
    """The SS7 module's linkset options in force: variant, opc, apc, dpc, ni."""
    where: str
    line: int


@dataclass
class ChanDahdi:
    """What a chan_dahdi.conf says (:func:`parse_chan_dahdi`)."""

    blocks: list[Block] = field(default_factory=list)
    sigchans: list[SigChan] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def groups(self) -> list[ChannelGroup]:
        """The blocks as channel groups with their kept settings."""
        return [ChannelGroup(b.channels, b.port, options=dict(b.options), line=b.line)
                for b in self.blocks]


class _Reader:
    """chan_dahdi.conf's settings as chan_dahdi keeps them while it reads."""

    def __init__(self) -> None:
        self.out = ChanDahdi()
        self.problems: list[tuple[str, int, str]] = []
        self.settings: dict[str, str] = {}
        self.r2: dict[str, Any] = {}
        self.ss7: dict[str, tuple[str, str]] = {}   # key -> (value, where)
        self.nai: dict[str, str] = {}
        self.linkset = ""
        self.slc: int | None = None
        self.cic: int | None = None
        self.section = ""

    def read(self, text: str, source: str, base_dir: Path, depth: int,
             top_line: int | None) -> None:
        for number, raw in enumerate(text.splitlines(), start=1):
            line = raw.split(";", 1)[0].strip()
            if not line:
                continue
            here = top_line if top_line is not None else number
            where = f"{source}:{number}"
            try:
                self._line(line, source, number, base_dir, depth, here, where)
            except ValueError as err:
                self.problems.append((source, number, str(err)))

    def _line(self, line: str, source: str, number: int, base_dir: Path, depth: int,
              here: int, where: str) -> None:
        if line.startswith(("#include", "#exec")):
            name = line.split(None, 1)[1].strip().strip('"<>') if " " in line else ""
            path = base_dir / name
            if line.startswith("#exec") or not name or depth > 4 or not path.is_file():
                self.out.warnings.append(f"{where}: {line!r} not followed (file missing "
                                         "or #exec)")
                return
            self.read(path.read_text(encoding="utf-8"), str(path), path.parent, depth + 1,
                      here)
            return
        if line.startswith("["):
            m = re.fullmatch(r"\[([^\]]+)\](\(.*\))?", line)
            if not m:
                raise ValueError(f"bad section header {line!r}")
            self.section = m.group(1).strip().lower()
            return
        m = re.fullmatch(r"([A-Za-z0-9_.]+)\s*(=>|=)\s*(.*)", line)
        if not m:
            raise ValueError(f"expected 'key=value' or 'channel => ranges', got {line!r}")
        key, value = m.group(1).lower(), m.group(3).strip()
        if self.section not in SECTIONS:
            if key == "dahdichan":
                self.out.warnings.append(f"{where}: channels of section [{self.section}] "
                                         "(dahdichan=) are not read; put them in [channels]")
            return
        if key == "channel":
            self._channel(value, here, where)
        elif key in ("signalling", "signaling"):
            self.settings["signalling"] = value.lower()
        elif key in CHAN_DAHDI_KEYS:
            self.settings[key] = value
        elif key.startswith("mfcr2_"):
            self._mfcr2(key, value, where)
        else:
            self._ss7(key, value, source, number, here, where)

    def _mfcr2(self, key: str, value: str, where: str) -> None:
        if key not in sigopts.MFCR2_KEYS:
            self.out.warnings.append(f"{where}: {key} is not supported by trunkline's MFC/R2 "
                                     "module (dropped)")
            return
        option, typed, warning = sigopts.r2_from_chan_dahdi(key, value)
        if warning:
            self.out.warnings.append(f"{where}: {warning}")
        if typed is None:
            self.r2.pop(option, None)
        else:
            self.r2[option] = typed

    def _ss7(self, key: str, value: str, source: str, number: int, here: int,
             where: str) -> None:
        if key == "ss7type":
            sigopts.ss7_variant(value)
            self.ss7[key] = (value, where)
        elif key in ("pointcode", "adjpointcode", "defaultdpc"):
            if not re.fullmatch(r"\d+|\d+-\d+-\d+", value):
                raise ValueError(f"{key} {value!r} is neither a number nor a-b-c")
            self.ss7[key] = (value, where)
        elif key == "networkindicator":
            self.ss7[key] = (sigopts.ss7_network_indicator(value), where)
        elif key in ("ss7_called_nai", "ss7_calling_nai"):
            self.nai[key[4:]] = sigopts.ss7_nai(value)
        elif key == "linkset":
            if not value.isdigit() or int(value) < 1:
                raise ValueError(f"linkset must be a number 1 or more, not {value!r}")
            self.linkset = str(int(value))
        elif key == "slc":
            if not value.isdigit() or int(value) > 15:
                raise ValueError(f"slc must be a signalling link code 0..15, not {value!r}")
            self.slc = int(value)
        elif key == "cicbeginswith":
            if not value.isdigit() or int(value) > 4095:
                raise ValueError(f"cicbeginswith must be a CIC 0..4095, not {value!r}")
            self.cic = int(value)
        elif key == "sigchan":
            self._sigchan(value, source, number, here, where)
        elif SS7_UNSUPPORTED.fullmatch(key):
            self.out.warnings.append(f"{where}: {key} is not supported by trunkline's SS7 "
                                     "module (dropped)")
        else:
            self.out.warnings.append(f"{where}: {key} is not used by trunkline (ignored)")

    def _sigchan(self, value: str, source: str, number: int, here: int, where: str) -> None:
        if not value.isdigit() or int(value) < 1:
            raise ValueError(f"sigchan must be a channel number, not {value!r}")
        missing = [k for k in SIGCHAN_NEEDS if k not in self.ss7]
        if missing or not self.linkset:
            need = [*(["linkset"] if not self.linkset else []), *missing]
            raise ValueError(f"sigchan={value} before {', '.join(need)}: chan_dahdi needs "
                             "them set first")
        variant = sigopts.ss7_variant(self.ss7["ss7type"][0])
        settings: dict[str, Any] = {"variant": variant,
                                    "ni": self.ss7["networkindicator"][0]}
        for key, option in (("pointcode", "opc"), ("adjpointcode", "apc"),
                            ("defaultdpc", "dpc")):
            text, set_at = self.ss7[key]
            try:
                settings[option], warning = sigopts.ss7_point_code(text, variant)
            except ValueError as err:
                file, _, line = set_at.rpartition(":")
                problem = (file, int(line), f"{key}: {err}")
                if problem not in self.problems:
                    self.problems.append(problem)
                return
            if warning and f"{set_at}: {warning}" not in self.out.warnings:
                self.out.warnings.append(f"{set_at}: {warning}")
        self.out.sigchans.append(SigChan(int(value), self.linkset, self.slc, settings,
                                         where, here))

    def _channel(self, value: str, here: int, where: str) -> None:
        channels = parse_ranges(value)
        sig = self.settings.get("signalling", "")
        if not sig:
            raise ValueError("channel => before any signalling= line")
        if sig not in CHAN_DAHDI_SIGNALLING:
            raise ValueError(f"unknown signalling {sig!r} (known: "
                             f"{', '.join(sorted(CHAN_DAHDI_SIGNALLING))})")
        port, extra = CHAN_DAHDI_SIGNALLING[sig]
        options = {k: v for k, v in self.settings.items() if k in CHAN_DAHDI_KEYS}
        options.update(extra)
        block = Block(channels, sig, port, options, where, here)
        if sig == "mfcr2":
            block.r2 = dict(self.r2)
            for option, default in sigopts.R2_CHAN_DAHDI_DEFAULTS.items():
                if option not in block.r2:
                    block.r2[option] = default
                    key = next(k for k, o in sigopts.MFCR2_KEYS.items() if o == option)
                    self.out.warnings.append(f"{where}: no {key}: chan_dahdi's default "
                                             f"{default} is written")
        elif sig == "ss7":
            if not self.linkset:
                raise ValueError("signalling=ss7 channels before linkset=")
            if self.cic is None:
                raise ValueError("signalling=ss7 channels before cicbeginswith= (chan_dahdi: "
                                 "'Need to set cicbeginswith for the channels!')")
            block.linkset = self.linkset
            block.cics = tuple(range(self.cic, self.cic + len(channels)))
            if block.cics[-1] > 4095:
                raise ValueError(f"these channels take CICs {block.cics[0]}..{block.cics[-1]}"
                                 ", past 4095 (12 bits, Q.763 1.2)")
            self.cic += len(channels)
            block.ss7 = {**self.nai}
            if "defaultdpc" in self.ss7:
                block.ss7["dpc"] = self.ss7["defaultdpc"]
        self.out.blocks.append(block)


def parse_chan_dahdi(text: str, source: str = "chan_dahdi.conf",
                     base_dir: Path | None = None) -> ChanDahdi:
    """What chan_dahdi.conf gives each block of channels, its SS7 links and the warnings
    (keys trunkline does not use, includes not followed).

    Follows ``#include`` (dahdi_genconf writes dahdi-channels.conf and the sample
    includes it). Raises SystemConfError listing every malformed line of every file.
    """
    reader = _Reader()
    reader.read(text, source, base_dir or Path("."), 0, None)
    if reader.problems:
        raise SystemConfError(source, reader.problems)
    return reader.out


def merge_chan_dahdi(config: DahdiConfig, groups: list[ChannelGroup], source: str) -> None:
    """Attach chan_dahdi settings to the system.conf channels, reporting contradictions."""
    channel_map = config.channel_map()
    for g in groups:
        for c in g.channels:
            mine = channel_map.get(c)
            if mine is None:
                config.warnings.append(f"{source}:{g.line}: channel {c} is not in "
                                       f"{config.source}")
                continue
            theirs = g.signalling
            ok = mine.signalling in ("bchan", "dchan", "hardhdlc") if theirs == "bchan" \
                else mine.signalling == theirs
            if not ok:
                config.warnings.append(
                    f"{source}:{g.line}: channel {c} is {TOML_TO_SYSTEM.get(mine.signalling)} "
                    f"({mine.signalling}) in {config.source} but chan_dahdi wants "
                    f"{theirs}: Asterisk would refuse this channel")
    # Split system.conf groups where chan_dahdi gives different settings.
    settings = {c: g.options for g in groups for c in g.channels}
    split: list[ChannelGroup] = []
    for g in config.groups:
        keys: dict[tuple, list[int]] = {}
        for c in g.channels:
            # A bonded line (sysconf.BONDED) stays one group: its master's settings.
            first = g.channels[0] if g.signalling in BONDED else c
            opts = settings.get(first, {}) if g.signalling not in ("dchan", "mtp2") else {}
            keys.setdefault(tuple(sorted(opts.items())), []).append(c)
        for opts, chans in keys.items():
            split.append(ChannelGroup(tuple(chans), g.signalling, g.idlebits, g.echocanceller,
                                      {**g.options, **dict(opts)}, g.line, g.law))
    config.groups = split


# -- writing ----------------------------------------------------------------------------------
@dataclass
class _Out:
    channels: list[int]
    signalling: str
    keys: dict[str, str]          # chan_dahdi keys that stick
    span: SpanConf | None = None  # MFC/R2 and SS7 blocks: their span


#: What chan_dahdi does when a key is not set (chan_dahdi.c ``dahdi_chan_conf_default``),
#: written where a block lacks a key a block before it set.
_DEFAULTS = {"context": "default", "group": "", "callgroup": "", "pickupgroup": "",
             "language": "", "mfcr2_max_ani": "10", "mfcr2_max_dnis": "4",
             "mfcr2_mfback_timeout": "-1", "mfcr2_metering_pulse_timeout": "-1",
             "mfcr2_category": "national_subscriber", "ss7_called_nai": "national",
             "ss7_calling_nai": "national"}


#: Keys whose default (above) reads back as not set (sigopts.r2_from_chan_dahdi).
_UNSET = {"mfcr2_mfback_timeout", "mfcr2_metering_pulse_timeout"}


def to_chan_dahdi(config: DahdiConfig, header: str = "") -> tuple[str, list[str]]:
    """chan_dahdi.conf for ``config`` and warnings (settings chan_dahdi has no key for).

    Raises ConfigError when the configuration cannot be written so that it reads back the
    same (an SS7 span without its signalling link, settings that cannot stick in any
    order).
    """
    warnings: list[str] = []
    layout, _ = channel_layout(config)
    spans = {s.span: s for s in config.spans}
    blocks = _blocks(config, layout, spans, warnings)
    linksets = _linkset_numbers(config)
    links = _links(config, layout, spans)
    lines = [f"; {h}" for h in header.splitlines()] if header else []
    lines.append("[channels]")
    state: dict[str, str] = {}
    current = ""
    done: set[str] = set()
    for block in sorted(blocks, key=_order):
        span = block.span
        if block.signalling == "ss7" and span is not None:
            number = linksets[span.linkset or DEFAULT_LINKSET]
            if current != number:
                lines += ["", *_linkset_header(config, span, number)]
                current = number
            if number not in done:
                done.add(number)
                lines += [f"sigchan={c}" for c in links.get(number, [])]
        lines.append("")
        _set(lines, state, "signalling", block.signalling)
        for key in sorted(set(state) - {"signalling"} - set(block.keys)):
            if _applies(key, block.signalling):
                if key not in _DEFAULTS:
                    raise ConfigError(f"channels {format_ranges(block.channels)} have no {key} "
                                      f"but channels written before them do: chan_dahdi "
                                      f"keeps a setting until it is set again, so give "
                                      f"them a {key}", source=config.source)
                _set(lines, state, key, _DEFAULTS[key])
        for key in sorted(block.keys):
            _set(lines, state, key, block.keys[key])
        if block.signalling == "ss7" and span is not None:
            lines += _ss7_channels(config, block, span, layout)
        else:
            lines.append(f"channel => {format_ranges(block.channels)}")
    return "\n".join(lines) + "\n", warnings


def _order(block: _Out) -> tuple[int, int, int, int]:
    """Fewest settings first, per kind of setting: in any file chan_dahdi reads, a block
    has every generic setting of the blocks before it, every mfcr2_* setting of the
    MFC/R2 blocks before it, every ss7_* one of the SS7 blocks before it; so ordering by
    these counts keeps each kind's order, and each block reads back as it was. (The two
    timeouts do not count: chan_dahdi's ``-1`` puts them back to "not set".)"""
    kinds = [0, 0, 0]
    for key in block.keys:
        if key not in _UNSET:
            kinds[2 if key.startswith("ss7_") else 1 if key.startswith("mfcr2_") else 0] += 1
    return kinds[0], kinds[1], kinds[2], min(block.channels)


def _applies(key: str, signalling: str) -> bool:
    """Whether a key in force matters to a block of ``signalling``."""
    if key.startswith("mfcr2_"):
        return signalling == "mfcr2"
    if key.startswith("ss7_"):
        return signalling == "ss7"
    return True


def _set(lines: list[str], state: dict[str, str], key: str, value: str) -> None:
    if state.get(key) != value:
        lines.append(f"{key}={value}")
        state[key] = value


def _blocks(config: DahdiConfig, layout: dict[int, tuple[int, int]],
            spans: dict[int, SpanConf], warnings: list[str]) -> list[_Out]:
    out: dict[tuple, _Out] = {}
    for g in sorted(config.groups, key=lambda g: min(g.channels)):
        if g.signalling in ("dchan", "hardhdlc", "mtp2", "unused"):
            continue
        keys = {k: v for k, v in g.options.items() if k in CHAN_DAHDI_KEYS}
        for c in g.channels:
            span = spans.get(layout.get(c, (0, 0))[0])
            if span is not None and span.signalling == "mfcr2" and g.signalling == "cas":
                sig, r2keys, left = "mfcr2", *sigopts.r2_to_chan_dahdi(span.options)
                block_keys = {**keys, **r2keys}
                for option in left:
                    _note(warnings, f"span {span.span}: MFC/R2 option {option} has no "
                                    "chan_dahdi key; left out of chan_dahdi.conf")
                # Without them our register takes digits until 2 s of quiet, but chan_dahdi
                # (and `config import` of this file) takes its defaults: 4 called digits
                # would cut an 11-digit number short under Asterisk.
                unset = [o for o in ("max_dnis", "max_ani") if o not in span.options]
                if unset:
                    takes = ", ".join(f"{o} {sigopts.R2_CHAN_DAHDI_DEFAULTS[o]}"
                                      for o in unset)
                    _note(warnings, f"span {span.span}: no MFC/R2 {' or '.join(unset)}: "
                                    f"chan_dahdi will take its defaults ({takes} digits); "
                                    "give the lengths the carrier sends if Asterisk is to "
                                    "use this file")
            elif span is not None and span.signalling == "ss7" and g.signalling == "bchan":
                nai, left = sigopts.ss7_to_chan_dahdi(span.options)
                sig, block_keys = "ss7", {**keys, **nai}
                for option in left:
                    _note(warnings, f"span {span.span}: SS7 option {option} has no "
                                    "chan_dahdi key; left out of chan_dahdi.conf")
            elif g.signalling == "bchan" and g.options.get("pri") in PRI_TO_CHAN_DAHDI:
                sig, block_keys, span = PRI_TO_CHAN_DAHDI[g.options["pri"]], keys, None
            elif g.signalling in TOML_TO_CHAN_DAHDI:
                sig, block_keys, span = TOML_TO_CHAN_DAHDI[g.signalling], keys, None
            else:
                if keys:
                    _note(warnings, f"channels {format_ranges(g.channels)} ({g.signalling}) "
                                    "have chan_dahdi settings but no chan_dahdi signalling; "
                                    "left out of chan_dahdi.conf")
                continue
            key = (id(g), sig, span.span if span is not None else None)
            out.setdefault(key, _Out([], sig, block_keys, span)).channels.append(c)
    return list(out.values())


def _note(warnings: list[str], text: str) -> None:
    if text not in warnings:
        warnings.append(text)


def _linkset_numbers(config: DahdiConfig) -> dict[str, str]:
    """chan_dahdi numbers linksets: a linkset named by a number keeps it, the others take
    the next free numbers (spans that name no linkset share one, as on the emulated
    card)."""
    names = sorted({s.linkset or DEFAULT_LINKSET for s in config.spans
                    if s.signalling == "ss7"})
    numbers = {n: n for n in names if n.isdigit() and int(n) >= 1}
    free = (str(i) for i in range(1, 10_000) if str(i) not in numbers.values())
    for name in names:
        if name not in numbers:
            numbers[name] = next(free)
    return numbers


def _links(config: DahdiConfig, layout: dict[int, tuple[int, int]],
           spans: dict[int, SpanConf]) -> dict[str, list[int]]:
    """Each linkset's sigchans in span order: chan_dahdi numbers the links 0, 1... in
    sigchan order, which is then the SS7 module's SLC order (span order)."""
    numbers = _linkset_numbers(config)
    links: dict[str, list[tuple[int, int]]] = {}
    for g in config.groups:
        if g.signalling != "mtp2":
            continue
        for c in g.channels:
            span_no, timeslot = layout.get(c, (0, 0))
            span = spans.get(span_no)
            if span is None or span.signalling != "ss7":
                raise ConfigError(f"mtp2 channel {c} is on no SS7 span (give its span "
                                  "signalling = \"ss7\")", source=config.source)
            want = span.options.get("signalling_timeslot", timeslot)
            if want != timeslot:
                raise ConfigError(f"span {span.span}: signalling_timeslot is {want} but its "
                                  f"mtp2 channel {c} is timeslot {timeslot}",
                                  source=config.source)
            number = numbers[span.linkset or DEFAULT_LINKSET]
            links.setdefault(number, []).append((span.span, c))
    for span in config.spans:
        name = span.linkset or DEFAULT_LINKSET
        if span.signalling == "ss7" and numbers[name] not in links:
            raise ConfigError(f"span {span.span}: linkset {name} has no signalling link (an "
                              "mtp2 channel on one of its spans)", source=config.source)
    return {n: [c for _, c in sorted(spans_chans)] for n, spans_chans in links.items()}


def _linkset_header(config: DahdiConfig, span: SpanConf, number: str) -> list[str]:
    """The keys chan_dahdi needs before a linkset's sigchans (linkset_addsigchan)."""
    options = span.options
    variant = str(options.get("variant", "itu"))
    fmt = SS7_VARIANTS[variant]

    def pc(value: Any) -> str:
        # chan_dahdi reads a-b-c as 8-8-8: China's own format; ITU codes go as numbers.
        return str(value) if variant == "china" else str(parse_pc(value, fmt))

    ni = options.get("ni", "national")
    if not isinstance(ni, str):
        ni = {v: k for k, v in NETWORK_INDICATORS.items()}[ni]
    name = span.linkset or DEFAULT_LINKSET
    lines = [f'; linkset "{name}"'] if name != number else []
    return [*lines, f"linkset={number}", f"ss7type={variant}", f"pointcode={pc(options['opc'])}",
            f"adjpointcode={pc(options['apc'])}",
            f"defaultdpc={pc(options.get('dpc', options['apc']))}", f"networkindicator={ni}"]


def _ss7_channels(config: DahdiConfig, block: _Out, span: SpanConf,
                  layout: dict[int, tuple[int, int]]) -> list[str]:
    """cicbeginswith before each run of consecutive timeslots: chan_dahdi counts CICs per
    channel written, the SS7 module per timeslot (cic_start + timeslot - 1)."""
    start = span.options.get("cic_start")
    if start is None:
        # The SS7 module's default: the spans of a linkset in order, 32 CICs each.
        members = sorted(s.span for s in config.spans if s.signalling == "ss7"
                         and (s.linkset or DEFAULT_LINKSET)
                         == (span.linkset or DEFAULT_LINKSET))
        start = 32 * members.index(span.span) + 1
    lines: list[str] = []
    run: list[int] = []
    for c in [*sorted(block.channels), None]:
        if run and (c is None or c != run[-1] + 1):
            timeslot = layout[run[0]][1]
            lines += [f"cicbeginswith={start + timeslot - 1}",
                      f"channel => {format_ranges(run)}"]
            run = []
        if c is not None:
            run.append(c)
    return lines
