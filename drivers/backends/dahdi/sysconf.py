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

Why one module of this size: it is the one model of a DAHDI configuration
(:class:`DahdiConfig`) with its three forms (system.conf, trunkline TOML, the
gateway's tables); the readers of other files and rules are apart (``chandahdi.py``,
``cfgsyntax.py``, ``sigcaps.py``, ``radiolines.py``, ``trunkspans.py``).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trunkline.drivers.backends.dahdi.cfgsyntax import (
    MAX_CHANNEL,
    MAX_LINE,
    MAX_SPAN,
    MAX_TIMING,
    MAX_ZONES,
    TONE_ZONES,
    channel_list,
    logical_lines,
    scan_int,
    split_args,
    strtok,
    trim,
)
from trunkline.drivers.backends.dahdi.radiolines import KEYWORDS as RADIO_KEYWORDS
from trunkline.drivers.backends.dahdi.radiolines import RadioLines
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

#: system.conf channel types -> trunkline names (the port, then the signalling): dahdi_cfg.c
#: handlers[] (every keyword that reaches chanconfig) and the sigtype chanconfig gives it.
#: ``indclear`` is ``bchan`` (both DAHDI_SIG_CLEAR, one independent channel each) and
#: ``user`` is ``cas``; dahdi_cfg has no ``sf`` keyword.
SYSTEM_CONF_TYPES: dict[str, str] = {
    "fxsks": "fxo_ks", "fxsls": "fxo_ls", "fxsgs": "fxo_gs",
    "fxoks": "fxs_ks", "fxols": "fxs_ls", "fxogs": "fxs_gs",
    "bchan": "bchan", "dchan": "dchan", "hardhdlc": "hardhdlc", "cas": "cas", "user": "cas",
    "clear": "clear", "indclear": "bchan", "e&m": "em", "e&me1": "em_e1",
    "dacs": "dacs", "dacsrbs": "dacsrbs", "nethdlc": "nethdlc", "rawhdlc": "rawhdlc",
    "fcshdlc": "fcshdlc", "mtp2": "mtp2", "unused": "unused",
}
TOML_TO_SYSTEM = {v: k for k, v in SYSTEM_CONF_TYPES.items() if k not in ("indclear", "user")}
#: Signalling the backend drives (ChannelSignalling values, plus hardhdlc for D-channels).
DRIVEN = {"fxo_ks", "fxo_ls", "fxs_ks", "fxs_ls", "bchan", "dchan", "hardhdlc", "cas",
          "clear", "mtp2"}
#: Lines whose channels form one unit, so a group of them is never split: chanconfig makes
#: the first channel of a clear/rawhdlc/nethdlc/fcshdlc line the master and the others its
#: slaves (DAHDI_SIG_SLAVE, one bonded HDLC or clear pipe), and pairs a dacs/dacsrbs
#: line's channels one by one with the channels from its ``:start`` on.
BONDED = {"clear", "rawhdlc", "nethdlc", "fcshdlc", "dacs", "dacsrbs"}
#: dahdi_cfg.c setlaw: alaw/mulaw force a channel's companding, deflaw puts back the
#: driver's default (DAHDI_LAW_DEFAULT, what no line means).
LAWS = {"alaw": "alaw", "mulaw": "mulaw", "deflaw": ""}
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
                   "callprogress", "usecallerid", "cidsignalling", "cidstart", "pridialplan",
                   "prilocaldialplan", "faxdetect", "immediate")


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
    bri: bool = False
    """The span line names a BRI mode (nt, te or term): only BRI drivers take them
    (wcb4xxp's linecompat has DAHDI_CONFIG_NTTE/TERM, the E1/T1 drivers' do not, and
    dahdi-base.c dahdi_spanconfig refuses bits outside linecompat)."""
    nt: bool = False
    """BRI NT mode (DAHDI_CONFIG_NTTE set); the last of ``nt``/``te`` on the line wins."""
    term: bool = False
    """BRI line termination resistors on (DAHDI_CONFIG_TERM)."""

    @property
    def kind(self) -> str:
        return "bri" if self.bri else FRAMINGS[self.framing]


@dataclass
class ChannelGroup:
    """Channels sharing a signalling (and, after a chan_dahdi import, its settings).

    ``idlebits`` is what follows ``:`` on the system.conf line: a cas line's idle ABCD
    bits (``1101``), a dacs/dacsrbs line's first destination channel, a nethdlc line's
    network device name (dahdi_cfg.c chanconfig).
    """

    channels: tuple[int, ...]
    signalling: str
    idlebits: str = ""
    echocanceller: str = ""
    options: dict[str, str] = field(default_factory=dict)
    line: int | None = None
    law: str = ""
    """``alaw`` or ``mulaw`` from system.conf's alaw=/mulaw= lines; empty: the driver's
    default (deflaw=, or no line)."""


@dataclass
class DahdiConfig:
    spans: list[SpanConf] = field(default_factory=list)
    groups: list[ChannelGroup] = field(default_factory=list)
    loadzones: list[str] = field(default_factory=list)
    zone: str = ""
    dynamic: list[str] = field(default_factory=list)
    radio: list[str] = field(default_factory=list)
    """Radio lines (``ctcss=``, ``channels=``...), in order (:mod:`.radiolines`)."""
    hdlc56k: tuple[int, ...] = ()
    """Channels from ``56k=`` lines: HDLC at 56 kbit/s (dahdi_cfg.c apply_fiftysix)."""
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
    """``"1-15,17-31"`` -> channel numbers, read as dahdi_cfg reads them
    (:func:`.cfgsyntax.channel_list`); raises ValueError naming the bad part."""
    return channel_list(text)


# -- system.conf --------------------------------------------------------------------------
class _Reader:
    """One system.conf read as dahdi_cfg.c main's loop does: each line goes to its
    keyword's handler; every problem is kept with its line (dahdi_cfg counts errors and
    reads on, then exits 1 having configured nothing)."""

    def __init__(self, source: str) -> None:
        self.config = DahdiConfig(source=source)
        self.errors: list[tuple[int, str]] = []
        self.owner: dict[int, tuple[int, str]] = {}   # channel -> (line, keyword)
        self.echo: dict[int, tuple[str, int]] = {}    # channel -> (name, line)
        self.law: dict[int, tuple[str, int]] = {}
        self.spans: dict[int, SpanConf] = {}
        self.radio = RadioLines()

    def warn(self, number: int, text: str) -> None:
        """What dahdi_cfg lets pass but an installer should hear about, with its line."""
        self.config.warnings.append(f"{self.config.source}:{number}: {text}")

    def line(self, number: int, line: str) -> None:
        if not line:
            raise ValueError("a line of only blanks (or blanks before '#') is a syntax "
                             "error to dahdi_cfg (its readline keeps leading blanks); "
                             "remove the blanks")
        key, eq, value = line.partition("=")
        key, value = trim(key).lower(), trim(value)
        if not eq or not key or not value:
            raise ValueError(f"expected 'keyword=value', got {line!r}")
        if key == "span":
            self.span(number, value)
        elif key == "dynamic":
            self.dynamic(number, value)
        elif key == "loadzone":
            self.loadzone(value)
            self.shipped(number, self.config.loadzones[-1])
        elif key == "defaultzone":
            self.config.zone = _zone(value, "defaultzone")
            self.shipped(number, self.config.zone)
        elif key == "echocanceller":
            self.echocanceller(number, value)
        elif key in LAWS:
            for ch in channel_list(value):
                self.law[ch] = (LAWS[key], number)
        elif key == "56k":
            self.config.hdlc56k = tuple(sorted({*self.config.hdlc56k, *channel_list(value)}))
        elif key in SYSTEM_CONF_TYPES:
            self.channels(number, key, value)
        elif key in RADIO_KEYWORDS:
            self.radio.add(key, value)
            self.config.radio = self.radio.lines
            if len(self.radio.lines) == 1:
                self.warn(number, "radio settings (ctcss, channels, ...) are kept for "
                          "dahdi_cfg but trunkline drives no radio interface")
        else:
            known = ["span", "dynamic", "loadzone", "defaultzone", "echocanceller", "56k",
                     *LAWS, *SYSTEM_CONF_TYPES]
            near = [k for k in known if len(key) > 2 and (k.startswith(key) or
                                                          key.startswith(k))] \
                or difflib.get_close_matches(key, known, n=1)
            raise ValueError(f"unknown keyword {key!r}" + (f" (did you mean {near[0]}?)"
                                                           if near else ""))

    def shipped(self, number: int, zone: str) -> None:
        """libtonezone knows more zones than trunkline plays and detects itself."""
        if zone not in zone_names():
            self.warn(number, f"tone zone {zone!r} is not one trunkline ships; calls will "
                      "use 'us' tones unless you pick another")

    def span(self, number: int, value: str) -> None:
        span = _parse_span(value, number)
        earlier = self.spans.get(span.span)
        if earlier is not None:
            # spanconfig keeps both lines and main sends DAHDI_SPANCONFIG for each in
            # turn: the later one is what the span ends up with.
            self.warn(number, f"span {span.span} is also defined on line {earlier.line}; "
                      "dahdi_cfg configures it twice and this line wins")
            self.config.spans.remove(earlier)
        self.spans[span.span] = span
        self.config.spans.append(span)

    def dynamic(self, number: int, value: str) -> None:
        # dahdi_cfg.c dspanconfig: <driver>,<address>,<channels>,<timing>.
        args = split_args(value, 4)
        if args is None or len(args) != 4:
            raise ValueError("dynamic= takes <driver>,<address>,<channels>,<timing>")
        chans, timing = scan_int(args[2]), scan_int(args[3])
        if chans is None or chans < 1:
            raise ValueError(f"dynamic span channels must be a number > 0, not {args[2]!r}")
        if timing is None or timing < 0:
            raise ValueError(f"dynamic span timing must be a number >= 0, not {args[3]!r}")
        self.config.dynamic.append(value)
        self.warn(number, "dynamic spans are kept but not configured by trunkline (use "
                  "dahdi_cfg)")

    def loadzone(self, value: str) -> None:
        # dahdi_cfg.c registerzone keeps the whole value as one name; main's
        # tone_zone_register then fails for a name libtonezone lacks ("us,cn" too).
        if "," in value:
            raise ValueError(f"loadzone={value} names several zones: dahdi_cfg takes one "
                             "zone per loadzone= line")
        if len(self.config.loadzones) >= MAX_ZONES:
            raise ValueError(f"too many tone zones (at most {MAX_ZONES})")
        self.config.loadzones.append(_zone(value, "loadzone"))

    def echocanceller(self, number: int, value: str) -> None:
        # dahdi_cfg.c setechocan: strtok at ',' -- the name, then channel lists; empty
        # fields vanish and a line naming no channels does nothing.
        name, *lists = strtok(value, ",") or [""]
        chans = [c for text in lists for c in channel_list(text)]
        if not chans:
            self.warn(number, f"echocanceller={value} names no channels; dahdi_cfg does "
                      "nothing with it")
        for ch in chans:
            self.echo[ch] = (trim(name), number)

    def channels(self, number: int, key: str, value: str) -> None:
        # dahdi_cfg.c chanconfig: strtok at ':' -- the channels, then what follows.
        fields = strtok(value, ":")
        ranges = fields[0] if fields else value
        extra = fields[1] if len(fields) > 1 else None   # as is: parse_idle reads it so
        sig = SYSTEM_CONF_TYPES[key]
        suffix = ""
        if sig in ("dacs", "dacsrbs"):
            start = scan_int(extra) if extra is not None else None
            if start is None or start < 1:          # parse_channel
                raise ValueError(f"{key} needs its first destination channel as ':N'")
            suffix = str(start)
        chans = channel_list(ranges)
        idle_ok = True
        if sig == "cas":
            idle_ok = extra is not None and re.match(r"[01]{4}", extra) is not None
            suffix = extra[:4] if extra is not None and idle_ok else ""   # parse_idle
        elif sig == "nethdlc" and extra is not None:
            suffix = extra[:15]   # dahdi_chanconfig.netdev_name is IFNAMSIZ (16) bytes
        elif extra is not None and sig not in ("dacs", "dacsrbs"):
            self.warn(number, f"idle bits are not valid on {key} channels; dahdi_cfg "
                      f"ignores ':{extra}'")
        dest = int(suffix) if sig in ("dacs", "dacsrbs") else 0
        if dest and dest + len(chans) - 1 > MAX_CHANNEL:
            raise ValueError(f"{key} destination channels run past {MAX_CHANNEL}")
        self.assign(number, key, chans, dest, idle_ok)
        self.config.groups.append(ChannelGroup(chans, sig, suffix, line=number))
        if sig not in DRIVEN and sig != "unused":
            self.warn(number, f"{key} channels are imported but trunkline does not drive "
                      "them")

    def assign(self, number: int, key: str, chans: tuple[int, ...], dest: int,
               idle_ok: bool) -> None:
        """Mark the line's channels configured channel by channel, as chanconfig's loop
        does: a channel taken by an earlier line is an error and skipped, a dacs
        channel takes the next destination, and a cas line without idle bits stops at
        its first free channel -- which stays marked, so a later line naming it is in
        error too (what dahdi_cfg reports)."""
        taken: dict[tuple[int, str], list[int]] = {}
        problems: list[str] = []
        for ch in chans:
            if ch in self.owner:
                taken.setdefault(self.owner[ch], []).append(ch)
                continue
            if dest:
                if dest in self.owner:
                    ln, kw = self.owner[dest]
                    problems.append(f"{key} destination channel {dest} already configured "
                                    f"as {kw} on line {ln}")
                    continue
                self.owner[dest] = (number, key)
            self.owner[ch] = (number, key)
            if not idle_ok:
                problems.append("cas channels need their idle bits as ':ABCD' (four 0/1 "
                                "digits)")
                break
            dest += 1 if dest else 0
        problems[:0] = [f"channel{'s' if len(cs) > 1 else ''} {format_ranges(cs)} already "
                        f"configured as {kw} on line {ln}"
                        for (ln, kw), cs in sorted(taken.items())]
        if problems:
            raise ValueError("; ".join(problems))

    def finish(self) -> None:
        """Give each group its echo canceller and law (the last line naming a channel
        wins, as ae[]/cc[].deflaw are overwritten), splitting groups that differ."""
        for table, what in ((self.echo, "echocanceller"), (self.law, "law")):
            for ch, (_, number) in sorted(table.items()):
                if ch not in self.owner:
                    self.warn(number, f"{what} on channel {ch}, which has no channel type "
                              "(dahdi_cfg leaves unconfigured channels alone)")
        split: list[ChannelGroup] = []
        for g in self.config.groups:
            def key(ch: int) -> tuple[str, str]:
                return self.echo.get(ch, ("", 0))[0], self.law.get(ch, ("", 0))[0]
            if g.signalling in BONDED:
                keys = {key(c) for c in g.channels}
                if len(keys) > 1:
                    self.warn(g.line or 0, "trunkline keeps one echocanceller and law per "
                              "bonded channel group; channel "
                              f"{g.channels[0]}'s apply to all of {format_ranges(g.channels)}")
                order = {key(g.channels[0]): list(g.channels)}
            else:
                order = {}
                for c in g.channels:
                    order.setdefault(key(c), []).append(c)
            for (echo, law), chans in sorted(order.items()):
                split.append(ChannelGroup(tuple(chans), g.signalling, g.idlebits, echo,
                                          dict(g.options), g.line, law))
        self.config.groups = split


def parse_system_conf(text: str, source: str = "system.conf", *,
                      check_spans: bool = True) -> DahdiConfig:
    """Parse system.conf as dahdi_cfg does; every bad line is reported (SystemConfError).

    ``check_spans`` adds what the kernel refuses on the spans (:mod:`.sigcaps`);
    :func:`import_files` runs that check itself, after chan_dahdi.conf's, so one run
    lists the problems of both files."""
    reader = _Reader(source)
    for number, physical, rest, line in logical_lines(text):
        try:
            reader.line(number, line)
        except ValueError as err:
            message = str(err)
            if rest:
                message = (f"the rest of line {physical} of the file, longer than "
                           f"{MAX_LINE} characters, which dahdi_cfg reads as line {number} "
                           f"(split the line): {message}")
            elif number != physical:
                message += (f" (line {physical} of the file: dahdi_cfg counts a line "
                            f"longer than {MAX_LINE} characters before it more than once)")
            reader.errors.append((number, message))
    if reader.errors:
        raise SystemConfError(source, [(source, n, m) for n, m in reader.errors])
    reader.finish()
    from trunkline.drivers.backends.dahdi.sigcaps import sigcap_problems

    problems = sigcap_problems(reader.config) if check_spans else []
    if problems:
        raise SystemConfError(source, [(source, n, m) for n, m in problems])
    return reader.config


def _zone(name: str, key: str) -> str:
    zone = name.lower()
    if zone not in TONE_ZONES:
        raise ValueError(f"{key}: no such tone zone {name!r} in libtonezone (known: "
                         f"{', '.join(sorted(TONE_ZONES))})")
    return zone


def _parse_span(value: str, number: int) -> SpanConf:
    """dahdi_cfg.c spanconfig, plus what the kernel refuses for the whole file: framing,
    coding and CRC-4 outside an E1 or T1 span's linecompat (dahdi-base.c
    dahdi_spanconfig, EINVAL; linecompat as wct4xxp sets it). A line naming nt, te or term
    is a BRI span, whose driver takes every mode (wcb4xxp)."""
    fields = split_args(value, 9)
    if fields is None or len(fields) < 5:
        raise ValueError("span= takes <span>,<timing>,<lbo>,<framing>,<coding>[,crc4]"
                         "[,yellow][,nt|te][,term]"
                         + (f", got {len(fields)} field(s)" if fields else ""))
    fields = [f.lower() for f in fields]
    span, timing, lbo = (scan_int(f) for f in fields[:3])
    if span is None or not 1 <= span <= MAX_SPAN:
        raise ValueError(f"span number must be 1..{MAX_SPAN}, not {fields[0]!r}")
    if timing is None or not 0 <= timing <= MAX_TIMING:
        raise ValueError(f"timing must be 0 (never a source) or a priority 1..{MAX_TIMING}, "
                         f"not {fields[1]!r}")
    if lbo is None or not 0 <= lbo <= 7:
        raise ValueError(f"lbo must be 0..7, not {fields[2]!r}")
    framing, coding = fields[3], fields[4]
    if framing not in FRAMINGS:
        raise ValueError(f"framing must be d4, esf (T1), cas or ccs (E1, BRI), not "
                         f"{framing!r}")
    if coding not in CODINGS:
        raise ValueError(f"coding must be ami, b8zs (T1) or hdb3 (E1), not {coding!r}")
    conf = SpanConf(span, timing, lbo, framing, coding, line=number or None)
    for extra in fields[5:]:
        if extra == "crc4":
            conf.crc4 = True
        elif extra == "yellow":
            conf.yellow = True
        elif extra in ("nt", "te"):
            conf.bri, conf.nt = True, extra == "nt"
        elif extra == "term":
            conf.bri = conf.term = True
        else:
            raise ValueError(f"unknown span option {extra!r} (expected crc4, yellow, nt, te "
                             "or term)")
    kind = conf.kind
    if kind != "bri" and kind not in CODINGS[coding]:
        raise ValueError(f"framing {framing} is {kind.upper()} but coding {coding} is not: "
                         f"{'hdb3' if kind == 'e1' else 'b8zs'} is the usual pair (the "
                         "kernel refuses the span)")
    if conf.crc4 and kind == "t1":
        raise ValueError("crc4 applies to E1 framing (cas/ccs), not T1 (the kernel "
                         "refuses the span)")
    return conf


# -- where each channel is ------------------------------------------------------------------
#: Channels per digital span: DAHDI numbers a span's channels one after the other, the
#: spans' in span order (dahdi-tools system.conf.sample: fxoks=1-24 then bchan=25-47,
#: dchan=48 on the next span; openr2's doc/asterisk/mx/README: cas=32-46 and 48-62 for
#: the second E1; a BRI span is B1, B2 and D, wcb4xxp).
SPAN_CHANNELS = {"e1": 31, "t1": 24, "bri": 3}
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


def _read(path: Path, newline: str | None = None) -> str:
    """The file's text; ``newline=""`` keeps CR characters (system.conf: dahdi_cfg reads
    bytes, and an empty line of a CRLF file is a syntax error to it)."""
    try:
        with path.open(encoding="utf-8", errors="replace", newline=newline) as f:
            return f.read()
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
    text = _read(path, newline="")
    cpath = Path(chan_dahdi) if chan_dahdi is not None else None
    ctext = _read(cpath) if cpath is not None else None
    problems: list[tuple[str, int, str]] = []
    config = parsed = None
    try:
        config = parse_system_conf(text, str(path), check_spans=False)
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
    if config is not None:
        from trunkline.drivers.backends.dahdi.sigcaps import sigcap_problems

        problems += [(str(path), n, m) for n, m in sigcap_problems(config)]
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
    if config.hdlc56k:
        lines.append(f'hdlc_56k = "{format_ranges(config.hdlc56k)}"')
    if config.radio:
        lines.append(f"radio = {_toml_value(config.radio)}")
    for s in sorted(config.spans, key=lambda s: s.span):
        lines += ["", "[[span]]", f"span = {s.span}", f'kind = "{s.kind}"',
                  f"timing = {s.timing}", f"lbo = {s.lbo}", f'framing = "{s.framing}"',
                  f'coding = "{s.coding}"']
        if s.kind == "e1" or s.crc4:
            lines.append(f"crc4 = {_toml_value(s.crc4)}")
        if s.yellow:
            lines.append("yellow = true")
        if s.bri:
            lines += [f"nt = {_toml_value(s.nt)}", f"term = {_toml_value(s.term)}"]
        lines += _signalling_lines(s)
    for g in sorted(config.groups, key=lambda g: min(g.channels)):
        lines += ["", "[[channels]]", f'channels = "{format_ranges(g.channels)}"',
                  f'signalling = "{g.signalling}"']
        if g.idlebits:
            lines.append(f'idlebits = "{g.idlebits}"')
        if g.echocanceller:
            lines.append(f'echocanceller = "{g.echocanceller}"')
        if g.law:
            lines.append(f'law = "{g.law}"')
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
        if s.bri:
            extra += (",nt" if s.nt else ",te") + (",term" if s.term else "")
        lines.append(f"span={s.span},{s.timing},{s.lbo},{s.framing},{s.coding}{extra}")
    for g in sorted(config.groups, key=lambda g: min(g.channels)):
        kind = TOML_TO_SYSTEM.get(g.signalling, g.signalling)
        idle = f":{g.idlebits}" if g.idlebits else ""
        # A bonded or dacs line must stay one line (BONDED); others may be cut to keep
        # within dahdi_cfg's line length.
        pieces = [g.channels] if g.signalling in BONDED else _pieces(g.channels)
        lines += [f"{kind}={format_ranges(p)}{idle}" for p in pieces]
    for key, names in (("echocanceller", {g.echocanceller for g in config.groups}),
                       ("law", {g.law for g in config.groups})):
        for name in sorted(n for n in names if n):
            chans = [c for g in config.groups if getattr(g, key) == name for c in g.channels]
            head = f"echocanceller={name}," if key == "echocanceller" else f"{name}="
            lines += [f"{head}{format_ranges(p)}" for p in _pieces(chans)]
    for p in _pieces(config.hdlc56k) if config.hdlc56k else []:
        lines.append(f"56k={format_ranges(p)}")
    for dyn in config.dynamic:
        lines.append(f"dynamic={dyn}")
    lines += config.radio
    for zone in config.loadzones:
        lines.append(f"loadzone={zone}")
    if config.zone:
        lines.append(f"defaultzone={config.zone}")
    return "\n".join(lines) + "\n"


def _pieces(chans: Iterable[int], width: int = 200) -> list[tuple[int, ...]]:
    """Channels cut into lists whose ranges fit ``width`` characters (MAX_LINE)."""
    out: list[tuple[int, ...]] = []
    current: list[int] = []
    for c in sorted(chans):
        if current and len(format_ranges([*current, c])) > width:
            out.append(tuple(current))
            current = []
        current.append(c)
    return [*out, tuple(current)] if current else out


_GROUP_KEYS = {"channels", "signalling", "idlebits", "echocanceller", "law", "pri",
               *CHAN_DAHDI_KEYS}
#: Keys an earlier ``config import`` wrote on channels, now on the span.
_OLD_GROUP_KEYS = {"cas", "ss7", "mfcr2_variant"}
_SPAN_KEYS = {"span", "kind", "timing", "lbo", "framing", "coding", "crc4", "yellow", "nt",
              "term"}


def parse_config(doc: TomlDocument) -> DahdiConfig:
    """trunkline's DAHDI TOML (spec 1.0), validated with line numbers."""
    data = doc.data
    reject_unknown_keys(doc, data, {"spec", "backend", "zone", "loadzones", "dynamic",
                                    "hdlc_56k", "radio", "span", "channels"})
    spec = str(data.get("spec", ""))
    if spec != SPEC:
        raise doc.error(f"this file is spec {spec!r}; this trunkline reads spec {SPEC!r}"
                        + (": please update trunkline" if spec > SPEC else ""), ("spec",))
    if data.get("backend", "dahdi") != "dahdi":
        raise doc.error(f"backend must be 'dahdi', not {data['backend']!r}", ("backend",))
    config = DahdiConfig(source=doc.source, zone=str(data.get("zone", "")),
                         loadzones=list(data.get("loadzones", [])),
                         dynamic=list(data.get("dynamic", [])))
    radio = RadioLines()
    for i, line in enumerate(data.get("radio", [])):
        key, _, value = str(line).partition("=")
        try:
            if key not in RADIO_KEYWORDS:
                raise ValueError(f"{line!r} is not a radio line (key=value, the key one of "
                                 f"{', '.join(RADIO_KEYWORDS)})")
            radio.add(key, value)
        except ValueError as err:
            raise doc.error(str(err), ("radio", i)) from None
    config.radio = radio.lines
    if "hdlc_56k" in data:
        try:
            config.hdlc56k = parse_ranges(str(data["hdlc_56k"]))
        except ValueError as err:
            raise doc.error(str(err), ("hdlc_56k",)) from None
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
        if raw.get("kind") == "bri" or "nt" in raw or "term" in raw:
            text += (",nt" if raw.get("nt") else ",te") + (",term" if raw.get("term") else "")
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
        law = raw.get("law", "")
        if law not in ("", "alaw", "mulaw"):
            raise doc.error(f"law is alaw or mulaw (or absent: the driver's default), not "
                            f"{law!r}", (*path, "law"))
        options = {k: str(v) for k, v in raw.items() if k not in ("channels", "signalling",
                                                                 "idlebits", "echocanceller",
                                                                 "law")}
        config.groups.append(ChannelGroup(chans, sig, str(raw.get("idlebits", "")),
                                          str(raw.get("echocanceller", "")), options,
                                          doc.index.line_of(path), law))
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
