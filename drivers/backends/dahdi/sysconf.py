"""DAHDI configuration: ``system.conf`` and ``chan_dahdi.conf`` in, trunkline TOML out.

Installers migrating from Asterisk have a working ``/etc/dahdi/system.conf`` (read by
``dahdi_cfg``) and ``chan_dahdi.conf``; :func:`parse_system_conf` and
:func:`~.chandahdi.parse_chan_dahdi` read them, collecting every malformed line with its
number before failing (one run shows every problem), :func:`import_files` joins them
(MFC/R2 and SS7 spans: :mod:`.trunkspans`) and :func:`to_toml` writes trunkline's own
configuration. :func:`load_config` reads that TOML back (spec 1.0) with line numbers on
errors; :func:`to_system_conf` and :func:`~.chandahdi.to_chan_dahdi` write the DAHDI
files back for machines that still run ``dahdi_cfg`` and Asterisk, and
:func:`gateway_spans` the gateway's ``[[span]]`` tables.

system.conf syntax (dahdi-tools ``system.conf.sample``, DAHDI's documented format)::

    span=<span>,<timing>,<lbo>,<framing>,<coding>[,crc4][,yellow]
    dynamic=<driver>,<address>,<channels>,<timing>
    fxsks=1-4          # channel type = channel ranges (names follow the signalling:
                       # fxs* signalling runs on FXO ports, fxo* on FXS ports)
    cas=1-15:1101      # CAS channels with their idle ABCD bits
    mtp2=16            # an SS7 signalling link (HDLC in the kernel's MTP2 mode)
    echocanceller=oslec,1-15,17-31
    loadzone=cn
    defaultzone=cn

trunkline's TOML (spec 1.0) names ports as the model does (``fxo_ks`` is an FXO port
using kewlstart, i.e. system.conf's ``fxsks``)::

    spec = "1.0"
    backend = "dahdi"
    zone = "cn"
    loadzones = ["cn"]
    [[span]]
    span = 1
    kind = "e1"
    timing = 1
    lbo = 0
    framing = "ccs"
    coding = "hdb3"
    crc4 = true
    [[channels]]
    channels = "1-15,17-31"
    signalling = "bchan"
    echocanceller = "oslec"
    pri = "cpe"                 # from chan_dahdi.conf (signalling=pri_cpe)
    context = "from-pstn"

A span that speaks MFC/R2 or SS7 says so in its ``[[span]]`` table, with the options of
the signalling module in the gateway's names (chan_dahdi's ``mfcr2_*`` and SS7 keys as
``config import`` translates them, :mod:`.sigopts`; docs/r2.md, docs/ss7.md)::

    [[span]]
    span = 2
    kind = "e1"
    framing = "cas"             # ...timing, lbo, coding, crc4 as above
    signalling = "mfcr2"
    variant = "cn"
    max_ani = 10
    max_dnis = 4
    [[span]]
    span = 3
    kind = "e1"
    framing = "ccs"
    signalling = "ss7"
    linkset = "1"
    variant = "china"
    opc = "2-2-2"
    apc = "1-1-1"
    ni = "national"
    cic_start = 1
    signalling_timeslot = 16
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trunkline.drivers.backends.dahdi.sigopts import (
    DEFAULT_LINKSET,
    SIGNALLINGS,
    SS7_LINKSET_OPTIONS,
    check_options,
    option_order,
    r2_problem,
)
from trunkline.drivers.dsp.zones import zone_names
from trunkline.errors import ConfigError
from trunkline.ranges import format_ranges
from trunkline.tomlconf import TomlDocument, load_toml, parse_toml, reject_unknown_keys

SPEC = "1.0"

#: system.conf channel types -> trunkline names (the port, then the signalling).
SYSTEM_CONF_TYPES: dict[str, str] = {
    "fxsks": "fxo_ks", "fxsls": "fxo_ls", "fxsgs": "fxo_gs",
    "fxoks": "fxs_ks", "fxols": "fxs_ls", "fxogs": "fxs_gs",
    "bchan": "bchan", "dchan": "dchan", "hardhdlc": "hardhdlc", "cas": "cas",
    "clear": "clear", "indclear": "clear", "e&m": "em", "e&me1": "em_e1", "sf": "sf",
    "dacs": "dacs", "dacsrbs": "dacsrbs", "nethdlc": "nethdlc", "rawhdlc": "rawhdlc",
    "fcshdlc": "fcshdlc", "mtp2": "mtp2", "unused": "unused",
}
TOML_TO_SYSTEM = {v: k for k, v in SYSTEM_CONF_TYPES.items() if k != "indclear"}
#: Signalling the backend drives (ChannelSignalling values, plus hardhdlc for D-channels).
DRIVEN = {"fxo_ks", "fxo_ls", "fxs_ks", "fxs_ls", "bchan", "dchan", "hardhdlc", "cas",
          "clear", "mtp2"}

FRAMINGS = {"d4": "t1", "esf": "t1", "cas": "e1", "ccs": "e1"}
CODINGS = {"ami": ("e1", "t1"), "b8zs": ("t1",), "hdb3": ("e1",)}

#: chan_dahdi.conf signalling -> trunkline port naming (Asterisk's chan_dahdi.conf.sample).
CHAN_DAHDI_SIGNALLING: dict[str, tuple[str, dict[str, str]]] = {
    "fxs_ks": ("fxo_ks", {}), "fxs_ls": ("fxo_ls", {}), "fxs_gs": ("fxo_gs", {}),
    "fxo_ks": ("fxs_ks", {}), "fxo_ls": ("fxs_ls", {}), "fxo_gs": ("fxs_gs", {}),
    "pri_cpe": ("bchan", {"pri": "cpe"}), "pri_net": ("bchan", {"pri": "net"}),
    "bri_cpe": ("bchan", {"pri": "bri_cpe"}), "bri_net": ("bchan", {"pri": "bri_net"}),
    "bri_cpe_ptmp": ("bchan", {"pri": "bri_cpe_ptmp"}),
    "mfcr2": ("cas", {}), "em": ("em", {}), "em_w": ("em", {}),
    "featd": ("em", {}), "ss7": ("bchan", {}),
}
#: The chan_dahdi signalling ``config generate`` writes for a channel group (MFC/R2 and
#: SS7 come from the span instead).
TOML_TO_CHAN_DAHDI = {"fxo_ks": "fxs_ks", "fxo_ls": "fxs_ls", "fxo_gs": "fxs_gs",
                      "fxs_ks": "fxo_ks", "fxs_ls": "fxo_ls", "fxs_gs": "fxo_gs", "em": "em"}
PRI_TO_CHAN_DAHDI = {"cpe": "pri_cpe", "net": "pri_net", "bri_cpe": "bri_cpe",
                     "bri_net": "bri_net", "bri_cpe_ptmp": "bri_cpe_ptmp"}
#: chan_dahdi.conf keys trunkline keeps (the rest are reported as ignored).
CHAN_DAHDI_KEYS = ("switchtype", "context", "group", "callgroup", "pickupgroup", "language",
                   "echocancel", "echocancelwhenbridged", "rxgain", "txgain", "busydetect",
                   "busycount", "answeronpolarityswitch", "hanguponpolarityswitch",
                   "callprogress", "usecallerid", "pridialplan", "prilocaldialplan",
                   "faxdetect", "immediate")


@dataclass
class SpanConf:
    span: int
    timing: int
    lbo: int
    framing: str
    coding: str
    crc4: bool = False
    yellow: bool = False
    line: int | None = None
    signalling: str = ""
    """``mfcr2`` or ``ss7`` when a signalling module needs ``options`` (empty: PRI or
    analog, whose settings stay with the channels)."""
    options: dict[str, Any] = field(default_factory=dict)
    """The module's options, typed, in the gateway's names (:mod:`.sigopts`)."""
    linkset: str = ""
    """SS7: the linkset's name (the gateway's ``linkset``; chan_dahdi's number). Spans
    that name none share one (sigopts.DEFAULT_LINKSET)."""

    @property
    def kind(self) -> str:
        return FRAMINGS[self.framing]


@dataclass
class ChannelGroup:
    """Channels sharing a signalling (and, after a chan_dahdi import, its settings)."""

    channels: tuple[int, ...]
    signalling: str
    idlebits: str = ""
    echocanceller: str = ""
    options: dict[str, str] = field(default_factory=dict)
    line: int | None = None


@dataclass
class DahdiConfig:
    spans: list[SpanConf] = field(default_factory=list)
    groups: list[ChannelGroup] = field(default_factory=list)
    loadzones: list[str] = field(default_factory=list)
    zone: str = ""
    dynamic: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    source: str = "<string>"

    def channel_map(self) -> dict[int, ChannelGroup]:
        return {c: g for g in self.groups for c in g.channels}


class SystemConfError(ConfigError):
    """DAHDI configuration files have malformed lines.

    ``problems`` lists every one as (file, line, message); ``errors`` those of ``source``
    as (line, message). Problems of ``source`` print as ``line N``, others with their file
    (an ``#include``d file, chan_dahdi.conf next to system.conf).
    """

    def __init__(self, source: str, problems: list[tuple[str, int, str]]) -> None:
        self.problems = problems
        self.errors = [(n, m) for f, n, m in problems if f == source]
        lines = "\n".join(f"  line {n}: {m}" if f == source else f"  {f}:{n}: {m}"
                          for f, n, m in problems)
        count = f"{len(problems)} error{'s' if len(problems) != 1 else ''}"
        first = self.errors[0][0] if self.errors else None
        super().__init__(f"{count}:\n{lines}", source=source, line=first)


# -- channel ranges ----------------------------------------------------------------------
def parse_ranges(text: str) -> tuple[int, ...]:
    """``"1-15,17-31"`` -> channel numbers; raises ValueError naming the bad part."""
    out: list[int] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            raise ValueError(f"empty channel range in {text!r}")
        m = re.fullmatch(r"(\d+)(?:\s*-\s*(\d+))?", part)
        if not m:
            raise ValueError(f"bad channel range {part!r} (expected N or N-M)")
        lo = int(m.group(1))
        hi = int(m.group(2)) if m.group(2) else lo
        if lo < 1 or hi < lo:
            raise ValueError(f"bad channel range {part!r} (channels start at 1, N <= M)")
        out.extend(range(lo, hi + 1))
    return tuple(out)


# -- system.conf --------------------------------------------------------------------------
def _logical_lines(text: str) -> Iterable[tuple[int, str]]:
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if line:
            yield number, line


def parse_system_conf(text: str, source: str = "system.conf") -> DahdiConfig:
    """Parse system.conf; every malformed line is reported (SystemConfError)."""
    config = DahdiConfig(source=source)
    errors: list[tuple[int, str]] = []
    owner: dict[int, int] = {}
    for number, line in _logical_lines(text):
        if "=" not in line:
            errors.append((number, f"expected 'keyword=value', got {line!r}"))
            continue
        key, _, value = (s.strip() for s in line.partition("="))
        key = key.lower()
        try:
            if key == "span":
                span = _parse_span(value, number)
                if any(s.span == span.span for s in config.spans):
                    first = next(s.line for s in config.spans if s.span == span.span)
                    raise ValueError(f"span {span.span} is already defined on line {first}")
                config.spans.append(span)
            elif key == "dynamic":
                if len(value.split(",")) != 4:
                    raise ValueError("dynamic= takes <driver>,<address>,<channels>,<timing>")
                config.dynamic.append(value)
                config.warnings.append(f"{source}:{number}: dynamic spans are kept but not "
                                       "configured by trunkline (use dahdi_cfg)")
            elif key == "loadzone":
                for zone in (z.strip() for z in value.split(",")):
                    _check_zone(zone, config, source, number)
                    config.loadzones.append(zone)
            elif key == "defaultzone":
                _check_zone(value, config, source, number)
                config.zone = value
            elif key == "echocanceller":
                name, _, ranges = value.partition(",")
                if not name.strip() or not ranges.strip():
                    raise ValueError("echocanceller= takes <name>,<channel ranges>")
                for ch in parse_ranges(ranges):
                    config.groups.append(ChannelGroup((ch,), "", echocanceller=name.strip(),
                                                      line=number))
            elif key in SYSTEM_CONF_TYPES:
                ranges, _, idle = value.partition(":")
                if idle and (key != "cas" or not re.fullmatch(r"[01]{4}", idle.strip())):
                    raise ValueError("only cas= takes idle bits, as ':ABCD' (four 0/1 digits)")
                channels = parse_ranges(ranges)
                for ch in channels:
                    if ch in owner:
                        raise ValueError(f"channel {ch} is already assigned on line "
                                         f"{owner[ch]}")
                for ch in channels:
                    owner[ch] = number
                sig = SYSTEM_CONF_TYPES[key]
                config.groups.append(ChannelGroup(channels, sig, idle.strip(), line=number))
                if sig not in DRIVEN and sig != "unused":
                    config.warnings.append(f"{source}:{number}: {key} channels are imported "
                                           "but trunkline does not drive them")
            else:
                raise ValueError(f"unknown keyword {key!r} (expected span, dynamic, "
                                 "loadzone, defaultzone, echocanceller or a channel type: "
                                 f"{', '.join(sorted(SYSTEM_CONF_TYPES))})")
        except ValueError as err:
            errors.append((number, str(err)))
    if errors:
        raise SystemConfError(source, [(source, n, m) for n, m in errors])
    _merge_echocancellers(config)
    return config


def _check_zone(zone: str, config: DahdiConfig, source: str, number: int) -> None:
    if not re.fullmatch(r"[a-z]{2}(-old)?", zone):
        raise ValueError(f"bad tone zone {zone!r} (expected a country code such as cn, us)")
    if zone not in zone_names():
        config.warnings.append(f"{source}:{number}: tone zone {zone!r} is not one trunkline "
                               "ships; calls will use 'us' tones unless you pick another")


def _parse_span(value: str, number: int) -> SpanConf:
    fields = [f.strip().lower() for f in value.split(",")]
    if len(fields) < 5:
        raise ValueError("span= takes <span>,<timing>,<lbo>,<framing>,<coding>[,crc4]"
                         f"[,yellow], got {len(fields)} field(s)")
    try:
        span, timing, lbo = int(fields[0]), int(fields[1]), int(fields[2])
    except ValueError:
        raise ValueError(f"span number, timing and lbo must be whole numbers, got "
                         f"{','.join(fields[:3])!r}") from None
    if span < 1:
        raise ValueError(f"span number must be 1 or more, not {span}")
    if timing < 0:
        raise ValueError(f"timing must be 0 (never a source) or a priority 1.., not {timing}")
    if not 0 <= lbo <= 7:
        raise ValueError(f"lbo must be 0..7, not {lbo}")
    framing, coding = fields[3], fields[4]
    if framing not in FRAMINGS:
        raise ValueError(f"framing must be d4, esf (T1), cas or ccs (E1), not {framing!r}")
    if coding not in CODINGS:
        raise ValueError(f"coding must be ami, b8zs (T1) or hdb3 (E1), not {coding!r}")
    kind = FRAMINGS[framing]
    if kind not in CODINGS[coding]:
        raise ValueError(f"framing {framing} is {kind.upper()} but coding {coding} is not: "
                         f"{'hdb3' if kind == 'e1' else 'b8zs'} is the usual pair")
    extras = fields[5:]
    for extra in extras:
        if extra not in ("crc4", "yellow"):
            raise ValueError(f"unknown span option {extra!r} (expected crc4 or yellow)")
    if "crc4" in extras and kind != "e1":
        raise ValueError("crc4 applies to E1 framing (cas/ccs), not T1")
    return SpanConf(span, timing, lbo, framing, coding, "crc4" in extras, "yellow" in extras,
                    number)


def _merge_echocancellers(config: DahdiConfig) -> None:
    channel_map: dict[int, ChannelGroup] = {}
    for g in config.groups:
        if g.signalling:
            for c in g.channels:
                channel_map[c] = g
    ec: dict[int, str] = {}
    for g in [g for g in config.groups if not g.signalling]:
        if g.channels[0] not in channel_map:
            config.warnings.append(f"{config.source}:{g.line}: echocanceller on channel "
                                   f"{g.channels[0]}, which has no channel type")
        ec[g.channels[0]] = g.echocanceller
    config.groups = [g for g in config.groups if g.signalling]
    if ec:
        split: list[ChannelGroup] = []
        for g in config.groups:
            names = {ec.get(c, "") for c in g.channels}
            for name in sorted(names):
                chans = tuple(c for c in g.channels if ec.get(c, "") == name)
                split.append(ChannelGroup(chans, g.signalling, g.idlebits, name,
                                          dict(g.options), g.line))
        config.groups = split


# -- where each channel is ------------------------------------------------------------------
#: Channels per digital span: DAHDI numbers a span's channels one after the other, the
#: spans' in span order (dahdi-tools system.conf.sample: fxoks=1-24 then bchan=25-47,
#: dchan=48 on the next span; openr2's doc/asterisk/mx/README: cas=32-46 and 48-62 for
#: the second E1).
SPAN_CHANNELS = {"e1": 31, "t1": 24}
_ANALOG = {"fxo_ks", "fxo_ls", "fxo_gs", "fxs_ks", "fxs_ls", "fxs_gs"}


def channel_layout(config: DahdiConfig) -> tuple[dict[int, tuple[int, int]], list[str]]:
    """Each digital channel's (span, timeslot), and notes where it had to be guessed.

    A span's first channel follows the previous span's last. Where system.conf skips
    span numbers (spans before it are analog, with no span= line), the span is taken to
    start at the first non-analog channel after the previous span.
    """
    layout: dict[int, tuple[int, int]] = {}
    notes: list[str] = []
    digital = sorted(c for g in config.groups if g.signalling not in _ANALOG
                     for c in g.channels)
    end, previous = 0, 0
    for span in sorted(config.spans, key=lambda s: s.span):
        first = end + 1
        if span.span != previous + 1:
            after = [c for c in digital if c > end]
            if not after:
                previous = span.span
                continue
            first = after[0]
            notes.append(f"{config.source}:{span.line}: spans before span {span.span} have "
                         f"no span= line; its channels are taken to start at {first}")
        for timeslot in range(1, SPAN_CHANNELS[span.kind] + 1):
            layout[first + timeslot - 1] = (span.span, timeslot)
        end, previous = first + SPAN_CHANNELS[span.kind] - 1, span.span
    return layout, notes


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigError(f"cannot read: {err.strerror}", source=str(path)) from err


def import_files(system_conf: str | Path, chan_dahdi: str | Path | None = None) -> DahdiConfig:
    """system.conf, with chan_dahdi.conf's settings when given: the channels' (context,
    PRI side...) and the MFC/R2 and SS7 spans' (:mod:`.trunkspans`).

    Every problem of both files is collected before failing: SystemConfError lists them
    with their file and line, and nothing is returned half-imported.
    """
    from trunkline.drivers.backends.dahdi.chandahdi import merge_chan_dahdi, parse_chan_dahdi
    from trunkline.drivers.backends.dahdi.trunkspans import attach

    path = Path(system_conf)
    text = _read(path)
    cpath = Path(chan_dahdi) if chan_dahdi is not None else None
    ctext = _read(cpath) if cpath is not None else None
    problems: list[tuple[str, int, str]] = []
    config = parsed = None
    try:
        config = parse_system_conf(text, str(path))
    except SystemConfError as err:
        problems += err.problems
    if cpath is not None and ctext is not None:
        try:
            parsed = parse_chan_dahdi(ctext, str(cpath), cpath.parent)
        except SystemConfError as err:
            problems += err.problems
    if config is not None and parsed is not None and not problems:
        config.warnings.extend(parsed.warnings)
        merge_chan_dahdi(config, parsed.groups(), str(cpath))
        problems += attach(config, parsed)
    if problems:
        raise SystemConfError(problems[0][0], problems)
    assert config is not None
    return config


# -- trunkline TOML ---------------------------------------------------------------------------
def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_toml(config: DahdiConfig, header: str = "") -> str:
    """trunkline's DAHDI configuration (spec 1.0) as TOML text."""
    lines = [f"# {h}" for h in header.splitlines()] if header else []
    lines += [f'spec = "{SPEC}"', 'backend = "dahdi"']
    if config.zone:
        lines.append(f"zone = {_toml_value(config.zone)}")
    if config.loadzones:
        lines.append(f"loadzones = {_toml_value(config.loadzones)}")
    if config.dynamic:
        lines.append(f"dynamic = {_toml_value(config.dynamic)}")
    for s in sorted(config.spans, key=lambda s: s.span):
        lines += ["", "[[span]]", f"span = {s.span}", f'kind = "{s.kind}"',
                  f"timing = {s.timing}", f"lbo = {s.lbo}", f'framing = "{s.framing}"',
                  f'coding = "{s.coding}"']
        if s.kind == "e1":
            lines.append(f"crc4 = {_toml_value(s.crc4)}")
        if s.yellow:
            lines.append("yellow = true")
        lines += _signalling_lines(s)
    for g in sorted(config.groups, key=lambda g: min(g.channels)):
        lines += ["", "[[channels]]", f'channels = "{format_ranges(g.channels)}"',
                  f'signalling = "{g.signalling}"']
        if g.idlebits:
            lines.append(f'idlebits = "{g.idlebits}"')
        if g.echocanceller:
            lines.append(f'echocanceller = "{g.echocanceller}"')
        for key, value in sorted(g.options.items()):
            lines.append(f"{key} = {_toml_value(value)}")
    return "\n".join(lines) + "\n"


def _signalling_lines(span: SpanConf) -> list[str]:
    if not span.signalling:
        return []
    lines = [f"signalling = {_toml_value(span.signalling)}"]
    if span.linkset:
        lines.append(f"linkset = {_toml_value(span.linkset)}")
    order = option_order(span.signalling)
    for key in sorted(span.options, key=lambda k: (order.index(k) if k in order else 99, k)):
        lines.append(f"{key} = {_toml_value(span.options[key])}")
    return lines


def gateway_spans(config: DahdiConfig, header: str = "") -> str:
    """The gateway's ``[[span]]`` tables for the spans whose module takes options (the
    MFC/R2 and SS7 spans), to paste into its configuration (docs/gateway.md).

    Span numbers are DAHDI's; trunkline numbers a board's digital spans the same way
    when they come before its analog ports (``trunkline scan`` shows both).
    """
    lines = [f"# {h}" for h in header.splitlines()] if header else []
    for s in sorted(config.spans, key=lambda s: s.span):
        if s.signalling:
            lines += ["", "[[span]]", f"span = {s.span}", *_signalling_lines(s)]
    return "\n".join(lines).lstrip("\n") + "\n"


def to_system_conf(config: DahdiConfig, header: str = "") -> str:
    """A system.conf for dahdi_cfg with the same content."""
    lines = [f"# {h}" for h in header.splitlines()] if header else []
    for s in sorted(config.spans, key=lambda s: s.span):
        extra = (",crc4" if s.crc4 else "") + (",yellow" if s.yellow else "")
        lines.append(f"span={s.span},{s.timing},{s.lbo},{s.framing},{s.coding}{extra}")
    for g in sorted(config.groups, key=lambda g: min(g.channels)):
        kind = TOML_TO_SYSTEM.get(g.signalling, g.signalling)
        idle = f":{g.idlebits}" if g.idlebits else ""
        lines.append(f"{kind}={format_ranges(g.channels)}{idle}")
    for name in sorted({g.echocanceller for g in config.groups if g.echocanceller}):
        chans = [c for g in config.groups if g.echocanceller == name for c in g.channels]
        lines.append(f"echocanceller={name},{format_ranges(chans)}")
    for dyn in config.dynamic:
        lines.append(f"dynamic={dyn}")
    for zone in config.loadzones:
        lines.append(f"loadzone={zone}")
    if config.zone:
        lines.append(f"defaultzone={config.zone}")
    return "\n".join(lines) + "\n"


_GROUP_KEYS = {"channels", "signalling", "idlebits", "echocanceller", "pri", *CHAN_DAHDI_KEYS}
#: Keys an earlier ``config import`` wrote on channels, now on the span.
_OLD_GROUP_KEYS = {"cas", "ss7", "mfcr2_variant"}
_SPAN_KEYS = {"span", "kind", "timing", "lbo", "framing", "coding", "crc4", "yellow"}


def parse_config(doc: TomlDocument) -> DahdiConfig:
    """trunkline's DAHDI TOML (spec 1.0), validated with line numbers."""
    data = doc.data
    reject_unknown_keys(doc, data, {"spec", "backend", "zone", "loadzones", "dynamic", "span",
                                    "channels"})
    spec = str(data.get("spec", ""))
    if spec != SPEC:
        raise doc.error(f"this file is spec {spec!r}; this trunkline reads spec {SPEC!r}"
                        + (": please update trunkline" if spec > SPEC else ""), ("spec",))
    if data.get("backend", "dahdi") != "dahdi":
        raise doc.error(f"backend must be 'dahdi', not {data['backend']!r}", ("backend",))
    config = DahdiConfig(source=doc.source, zone=str(data.get("zone", "")),
                         loadzones=list(data.get("loadzones", [])),
                         dynamic=list(data.get("dynamic", [])))
    for i, raw in enumerate(data.get("span", [])):
        path: tuple = ("span", i)
        sig = raw.get("signalling", "")
        if sig not in ("", *SIGNALLINGS):
            raise doc.error(f"a span's signalling is one of {', '.join(SIGNALLINGS)} (PRI "
                            f"and analog settings stay on [[channels]]), not {sig!r}",
                            (*path, "signalling"))
        extra = {"signalling", *option_order(sig), *(("linkset",) if sig == "ss7" else ())} \
            if sig else set()
        reject_unknown_keys(doc, raw, _SPAN_KEYS | extra, path)
        text = ",".join(str(raw.get(k, "")) for k in ("span", "timing", "lbo", "framing",
                                                      "coding"))
        text += ",crc4" if raw.get("crc4") else ""
        text += ",yellow" if raw.get("yellow") else ""
        try:
            span = _parse_span(text, 0)
        except ValueError as err:
            raise doc.error(str(err), path) from None
        if "kind" in raw and raw["kind"] != span.kind:
            raise doc.error(f"kind {raw['kind']!r} does not match framing {span.framing} "
                            f"({span.kind})", (*path, "kind"))
        span.line = doc.index.line_of(path)
        if sig:
            _span_signalling(doc, raw, path, span)
        config.spans.append(span)
    _check_linksets(doc, config)
    seen: dict[int, int] = {}
    for i, raw in enumerate(data.get("channels", [])):
        path = ("channels", i)
        old = sorted(_OLD_GROUP_KEYS & set(raw))
        if old:
            raise doc.error(f"{', '.join(old)} on [[channels]] come from an older `trunkline "
                            "config import`: MFC/R2 and SS7 settings are now on the span "
                            "(signalling = ...); import the DAHDI files again",
                            (*path, old[0]))
        reject_unknown_keys(doc, raw, _GROUP_KEYS, path)
        for key in ("channels", "signalling"):
            if key not in raw:
                raise doc.error(f"[[channels]] needs {key!r}", path)
        try:
            chans = parse_ranges(str(raw["channels"]))
        except ValueError as err:
            raise doc.error(str(err), (*path, "channels")) from None
        sig = raw["signalling"]
        if sig not in TOML_TO_SYSTEM:
            raise doc.error(f"unknown signalling {sig!r}; known: "
                            f"{', '.join(sorted(TOML_TO_SYSTEM))}", (*path, "signalling"))
        for c in chans:
            if c in seen:
                raise doc.error(f"channel {c} is already in channels[{seen[c]}]",
                                (*path, "channels"))
            seen[c] = i
        options = {k: str(v) for k, v in raw.items() if k not in ("channels", "signalling",
                                                                 "idlebits", "echocanceller")}
        config.groups.append(ChannelGroup(chans, sig, str(raw.get("idlebits", "")),
                                          str(raw.get("echocanceller", "")), options,
                                          doc.index.line_of(path)))
    return config


def _span_signalling(doc: TomlDocument, raw: dict, path: tuple, span: SpanConf) -> None:
    sig = raw["signalling"]
    options = {k: v for k, v in raw.items() if k not in _SPAN_KEYS | {"signalling", "linkset"}}
    for key, problem in check_options(sig, options):
        raise doc.error(problem, (*path, key))
    if "linkset" in raw:
        if not isinstance(raw["linkset"], str) or not raw["linkset"]:
            raise doc.error(f"linkset must be a name, not {raw['linkset']!r}",
                            (*path, "linkset"))
        span.linkset = raw["linkset"]
    problem = r2_problem(span.span, options) if sig == "mfcr2" else None
    if problem:
        raise doc.error(problem, path)
    if sig == "mfcr2" and span.kind == "e1" and span.framing != "cas":
        raise doc.error(f"span {span.span} speaks MFC/R2 but is framed {span.framing}: E1 "
                        "CAS needs framing cas (TS16 carries the ABCD bits)",
                        (*path, "framing"))
    if sig == "ss7" and span.kind == "e1" and span.framing != "ccs":
        raise doc.error(f"span {span.span} speaks SS7 but is framed {span.framing}: a "
                        "signalling link needs framing ccs", (*path, "framing"))
    span.signalling, span.options = sig, options


def _check_linksets(doc: TomlDocument, config: DahdiConfig) -> None:
    """Spans of one linkset must agree on its options (the SS7 module refuses otherwise)."""
    first: dict[str, SpanConf] = {}
    for i, span in enumerate(config.spans):
        if span.signalling != "ss7":
            continue
        name = span.linkset or DEFAULT_LINKSET
        other = first.setdefault(name, span)
        for key in SS7_LINKSET_OPTIONS:
            mine, theirs = span.options.get(key), other.options.get(key)
            if mine != theirs:
                raise doc.error(f"spans {other.span} and {span.span} are linkset {name!r} "
                                f"but give {key} as {theirs!r} and {mine!r}",
                                ("span", i, key if key in span.options else "signalling"))


def load_config(path: str | Path) -> DahdiConfig:
    return parse_config(load_toml(path))


def config_from_string(text: str, source: str = "<string>") -> DahdiConfig:
    return parse_config(parse_toml(text, source))
