"""DAHDI configuration: ``system.conf`` and ``chan_dahdi.conf`` in, trunkline TOML out.

Installers migrating from Asterisk have a working ``/etc/dahdi/system.conf`` (read by
``dahdi_cfg``) and ``chan_dahdi.conf``; :func:`parse_system_conf` and
:func:`parse_chan_dahdi` read them, collecting every malformed line with its number
before failing (one run shows every problem), and :func:`to_toml` writes trunkline's own
configuration. :func:`load_config` reads that TOML back (spec 1.0) with line numbers on
errors, and :func:`to_system_conf` writes a system.conf for machines that still run
``dahdi_cfg``.

system.conf syntax (dahdi-tools ``system.conf.sample``, DAHDI's documented format)::

    span=<span>,<timing>,<lbo>,<framing>,<coding>[,crc4][,yellow]
    dynamic=<driver>,<address>,<channels>,<timing>
    fxsks=1-4          # channel type = channel ranges (names follow the signalling:
                       # fxs* signalling runs on FXO ports, fxo* on FXS ports)
    cas=1-15:1101      # CAS channels with their idle ABCD bits
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
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trunkline.drivers.dsp.zones import zone_names
from trunkline.errors import ConfigError
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
          "clear"}

FRAMINGS = {"d4": "t1", "esf": "t1", "cas": "e1", "ccs": "e1"}
CODINGS = {"ami": ("e1", "t1"), "b8zs": ("t1",), "hdb3": ("e1",)}

#: chan_dahdi.conf signalling -> trunkline port naming (Asterisk's chan_dahdi.conf.sample).
CHAN_DAHDI_SIGNALLING: dict[str, tuple[str, dict[str, str]]] = {
    "fxs_ks": ("fxo_ks", {}), "fxs_ls": ("fxo_ls", {}), "fxs_gs": ("fxo_gs", {}),
    "fxo_ks": ("fxs_ks", {}), "fxo_ls": ("fxs_ls", {}), "fxo_gs": ("fxs_gs", {}),
    "pri_cpe": ("bchan", {"pri": "cpe"}), "pri_net": ("bchan", {"pri": "net"}),
    "bri_cpe": ("bchan", {"pri": "bri_cpe"}), "bri_net": ("bchan", {"pri": "bri_net"}),
    "bri_cpe_ptmp": ("bchan", {"pri": "bri_cpe_ptmp"}),
    "mfcr2": ("cas", {"cas": "mfcr2"}), "em": ("em", {}), "em_w": ("em", {}),
    "featd": ("em", {}), "ss7": ("bchan", {"ss7": "yes"}),
}
#: chan_dahdi.conf keys trunkline keeps (the rest are reported as ignored).
CHAN_DAHDI_KEYS = ("switchtype", "context", "group", "callgroup", "pickupgroup", "language",
                   "echocancel", "echocancelwhenbridged", "rxgain", "txgain", "busydetect",
                   "busycount", "answeronpolarityswitch", "hanguponpolarityswitch",
                   "callprogress", "usecallerid", "pridialplan", "prilocaldialplan",
                   "faxdetect", "immediate", "mfcr2_variant")


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
    """A DAHDI configuration file has malformed lines; ``errors`` lists (line, message)."""

    def __init__(self, source: str, errors: list[tuple[int, str]]) -> None:
        self.errors = errors
        lines = "\n".join(f"  line {n}: {m}" for n, m in errors)
        count = f"{len(errors)} error{'s' if len(errors) != 1 else ''}"
        super().__init__(f"{count}:\n{lines}", source=source, line=errors[0][0])


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


def format_ranges(channels: Iterable[int]) -> str:
    """Channel numbers as ``"1-15,17-31"``."""
    numbers = sorted(set(channels))
    parts: list[str] = []
    i = 0
    while i < len(numbers):
        j = i
        while j + 1 < len(numbers) and numbers[j + 1] == numbers[j] + 1:
            j += 1
        parts.append(str(numbers[i]) if i == j else f"{numbers[i]}-{numbers[j]}")
        i = j + 1
    return ",".join(parts)


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
        raise SystemConfError(source, errors)
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


# -- chan_dahdi.conf -------------------------------------------------------------------------
def parse_chan_dahdi(text: str, source: str = "chan_dahdi.conf",
                     base_dir: Path | None = None, _depth: int = 0
                     ) -> tuple[list[ChannelGroup], list[str]]:
    """The ``channel =>`` assignments of chan_dahdi.conf, with the settings they take.

    Follows ``#include`` (dahdi_genconf writes dahdi-channels.conf and the sample
    includes it); returns the groups and warnings (ignored keys, missing includes).
    """
    errors: list[tuple[int, str]] = []
    warnings: list[str] = []
    groups: list[ChannelGroup] = []
    settings: dict[str, str] = {}
    section = ""
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split(";", 1)[0].strip()
        if not line:
            continue
        if line.startswith("#include") or line.startswith("#exec"):
            name = line.split(None, 1)[1].strip().strip('"<>') if " " in line else ""
            path = (base_dir or Path(".")) / name
            if line.startswith("#exec") or not name or _depth > 4 or not path.is_file():
                warnings.append(f"{source}:{number}: {line!r} not followed (file missing "
                                "or #exec)")
                continue
            sub, sub_warn = parse_chan_dahdi(path.read_text(encoding="utf-8"), str(path),
                                             path.parent, _depth + 1)
            groups.extend(sub)
            warnings.extend(sub_warn)
            continue
        if line.startswith("["):
            m = re.fullmatch(r"\[([^\]]+)\](\(.*\))?", line)
            if not m:
                errors.append((number, f"bad section header {line!r}"))
                continue
            section = m.group(1).strip().lower()
            continue
        m = re.fullmatch(r"([A-Za-z0-9_]+)\s*(=>|=)\s*(.*)", line)
        if not m:
            errors.append((number, f"expected 'key=value' or 'channel => ranges', got {line!r}"))
            continue
        key, value = m.group(1).lower(), m.group(3).strip()
        if section and section not in ("channels", "trunkgroups", "general"):
            continue  # a context of other settings (e.g. a template)
        if key == "channel":
            try:
                channels = parse_ranges(value)
            except ValueError as err:
                errors.append((number, str(err)))
                continue
            sig = settings.get("signalling", "")
            if not sig:
                errors.append((number, "channel => before any signalling= line"))
                continue
            if sig not in CHAN_DAHDI_SIGNALLING:
                errors.append((number, f"unknown signalling {sig!r} (known: "
                                       f"{', '.join(sorted(CHAN_DAHDI_SIGNALLING))})"))
                continue
            port, extra = CHAN_DAHDI_SIGNALLING[sig]
            options = {k: v for k, v in settings.items() if k in CHAN_DAHDI_KEYS}
            options.update(extra)
            groups.append(ChannelGroup(channels, port, options=options, line=number))
        elif key in ("signalling", "signaling"):
            settings["signalling"] = value.lower()
        elif key in CHAN_DAHDI_KEYS:
            settings[key] = value
        else:
            warnings.append(f"{source}:{number}: {key} is not used by trunkline (ignored)")
    if errors:
        raise SystemConfError(source, errors)
    return groups, warnings


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
            opts = settings.get(c, {}) if g.signalling != "dchan" else {}
            keys.setdefault(tuple(sorted(opts.items())), []).append(c)
        for opts, chans in keys.items():
            split.append(ChannelGroup(tuple(chans), g.signalling, g.idlebits, g.echocanceller,
                                      {**g.options, **dict(opts)}, g.line))
    config.groups = split


def import_files(system_conf: str | Path, chan_dahdi: str | Path | None = None) -> DahdiConfig:
    path = Path(system_conf)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigError(f"cannot read: {err.strerror}", source=str(path)) from err
    config = parse_system_conf(text, str(path))
    if chan_dahdi is not None:
        cpath = Path(chan_dahdi)
        try:
            ctext = cpath.read_text(encoding="utf-8")
        except OSError as err:
            raise ConfigError(f"cannot read: {err.strerror}", source=str(cpath)) from err
        groups, warnings = parse_chan_dahdi(ctext, str(cpath), cpath.parent)
        config.warnings.extend(warnings)
        merge_chan_dahdi(config, groups, str(cpath))
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


_GROUP_KEYS = {"channels", "signalling", "idlebits", "echocanceller", "pri", "cas", "ss7",
               *CHAN_DAHDI_KEYS}


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
        reject_unknown_keys(doc, raw, {"span", "kind", "timing", "lbo", "framing", "coding",
                                       "crc4", "yellow"}, path)
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
        config.spans.append(span)
    seen: dict[int, int] = {}
    for i, raw in enumerate(data.get("channels", [])):
        path = ("channels", i)
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


def load_config(path: str | Path) -> DahdiConfig:
    return parse_config(load_toml(path))


def config_from_string(text: str, source: str = "<string>") -> DahdiConfig:
    return parse_config(parse_toml(text, source))
