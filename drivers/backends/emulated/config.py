"""The emulated card's configuration: spans, ports, line properties and faults.

Schema (``spec = "1.0"``), documented with examples in docs/emulated-card.md::

    zone = "cn"                       # tone zone of the network behind the card
    network = "plan.toml"             # number plan (relative to this file); default: sample
    seed = 1                          # makes every random choice repeatable

    [[span]]
    kind = "e1"                       # e1 | t1 | fxo | fxs
    signalling = "pri"                # e1/t1: pri | cas (MFC/R2) | ss7 (E1 only)
    [[span]]
    kind = "e1"
    signalling = "cas"
    variant = "cn"                    # the MFC/R2 variant both ends speak
    [[span]]
    kind = "e1"
    signalling = "ss7"
    far_end = "exchange"              # exchange (our stack) | libss7 (ITU) | none
    linkset = "carrier"               # spans of one linkset share its signalling links
    variant = "china"                 # itu (14-bit point codes) | china (24-bit)
    pointcode = "2-2-2"               # ours; adjpointcode: the exchange's
    adjpointcode = "1-1-1"
    cicbeginswith = 1                 # CIC of timeslot 1; CICs follow the timeslots
    [[span]]
    kind = "fxo"
    ports = 8
    polarity_reversal = true          # the line reverses battery on answer and clear
    disconnect = "loop_drop"          # or "tone": far-end clear by busy tone only
    caller_id = "bell202"             # caller ID after the first ring: bell202 | v23 | ""
    [[span.port]]                     # per-port overrides of the group's line settings
    port = 2
    polarity_reversal = false
    [[fault]]                         # faults at a time (seconds after the card opens)
    at = 30.0
    kind = "alarm"                    # alarm | dchannel_down | out_of_service | slip
    span = 1
    alarm = "red"
    duration = 5.0
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

from trunkline.drivers.backends.emulated.plan import Range
from trunkline.drivers.dsp.zones import zone_names
from trunkline.drivers.model import Alarm, SpanKind, SpanSignalling
from trunkline.errors import ConfigError
from trunkline.tomlconf import TomlDocument, load_toml, parse_toml, reject_unknown_keys

SPEC = "1.0"
FAULT_KINDS = ("alarm", "dchannel_down", "out_of_service", "slip")
ALARMS = {"red": Alarm.RED, "yellow": Alarm.YELLOW, "blue": Alarm.BLUE}


@dataclass(frozen=True)
class LineSettings:
    """How the central office treats one FXO line."""

    polarity_reversal: bool = True
    disconnect: str = "loop_drop"
    dial_tone_delay: float = 0.2
    caller_id: str = ""
    """The caller ID the exchange sends after the first ring: ``bell202``, ``v23`` or
    none (``""``)."""


@dataclass(frozen=True)
class PhoneSettings:
    """How the phone on one FXS port behaves (an agent position)."""

    answer_after: Range = field(default_factory=lambda: Range(0.5, 2.0))
    talks: bool = True
    auto_answer: bool = True


@dataclass(frozen=True)
class SpanConfig:
    kind: SpanKind
    signalling: SpanSignalling
    law: str
    ports: int = 0
    framing: str = ""
    coding: str = ""
    crc4: bool = False
    far_end: str = "exchange"
    """PRI: "exchange" runs libpri's network side behind the span; "none" leaves the
    network end of the D-channel to the caller (``card.network_dchannel``). MFC/R2:
    "exchange" answers with our R2 engine in the backward role; "none" leaves the bits
    and tones to the caller. SS7: "exchange" is our own stack as the carrier's
    exchange, "libss7" is Debian's libss7 (ITU 14-bit point codes only), "none" leaves
    the signalling link to the caller."""
    protocol: str = ""
    """What the span speaks beyond its signalling: ``mfcr2:VARIANT``; an SS7 linkset's
    name (SpanInfo.protocol)."""
    options: tuple[tuple[str, Any], ...] = ()
    """Our side's signalling settings that match this span's network (SpanInfo.options):
    SS7 point codes, variant and first circuit code."""
    lines: tuple[LineSettings, ...] = ()
    phones: tuple[PhoneSettings, ...] = ()


@dataclass(frozen=True)
class FaultConfig:
    at: float
    kind: str
    span: int = 0
    channel: int = 0
    alarm: str = "red"
    duration: float | None = None
    count: int = 1


@dataclass(frozen=True)
class CardConfig:
    zone: str = "cn"
    network: Path | None = None
    seed: int = 0
    name: str = "emulated"
    spans: tuple[SpanConfig, ...] = ()
    faults: tuple[FaultConfig, ...] = field(default_factory=tuple)
    buffers: int = 4
    """20 ms frames the card holds for a late reader before it drops (DAHDI numbufs)."""
    source: str = "<string>"


def _number(doc: TomlDocument, value: Any, path: tuple, *, low: float, high: float,
            integer: bool = False) -> float:
    ok = isinstance(value, int) if integer else isinstance(value, int | float)
    if isinstance(value, bool) or not ok or not (low <= value <= high):
        kind = "a whole number" if integer else "a number"
        raise doc.error(f"{path[-1]} must be {kind} in {low:g}..{high:g}, not {value!r}", path)
    return value


def _bool(doc: TomlDocument, value: Any, path: tuple) -> bool:
    if not isinstance(value, bool):
        raise doc.error(f"{path[-1]} must be true or false, not {value!r}", path)
    return value


def _choice(doc: TomlDocument, value: Any, path: tuple, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise doc.error(f"{path[-1]} must be one of {', '.join(choices)}, not {value!r}", path)
    return value


def _range(doc: TomlDocument, value: Any, path: tuple) -> Range:
    if isinstance(value, list) and len(value) == 2:
        low = _number(doc, value[0], path, low=0, high=3600)
        high = _number(doc, value[1], path, low=low, high=3600)
        return Range(float(low), float(high))
    v = _number(doc, value, path, low=0, high=3600)
    return Range(float(v), float(v))


_LINE_KEYS = ("polarity_reversal", "disconnect", "dial_tone_delay", "caller_id")
_PHONE_KEYS = ("answer_after", "talks", "auto_answer")


def _line(doc: TomlDocument, raw: dict, path: tuple, base: LineSettings) -> LineSettings:
    values: dict[str, Any] = {}
    if "polarity_reversal" in raw:
        values["polarity_reversal"] = _bool(doc, raw["polarity_reversal"],
                                            (*path, "polarity_reversal"))
    if "disconnect" in raw:
        values["disconnect"] = _choice(doc, raw["disconnect"], (*path, "disconnect"),
                                       ("loop_drop", "tone"))
    if "dial_tone_delay" in raw:
        values["dial_tone_delay"] = float(_number(doc, raw["dial_tone_delay"],
                                                  (*path, "dial_tone_delay"), low=0, high=10))
    if "caller_id" in raw:
        values["caller_id"] = _choice(doc, raw["caller_id"], (*path, "caller_id"),
                                      ("", "bell202", "v23"))
    return replace(base, **values)


def _phone(doc: TomlDocument, raw: dict, path: tuple, base: PhoneSettings) -> PhoneSettings:
    values: dict[str, Any] = {}
    if "answer_after" in raw:
        values["answer_after"] = _range(doc, raw["answer_after"], (*path, "answer_after"))
    for key in ("talks", "auto_answer"):
        if key in raw:
            values[key] = _bool(doc, raw[key], (*path, key))
    return replace(base, **values)


def _span(doc: TomlDocument, raw: Any, i: int, zone: str) -> SpanConfig:
    path: tuple = ("span", i)
    if not isinstance(raw, dict):
        raise doc.error("each [[span]] must be a table", path)
    if "kind" not in raw:
        raise doc.error("span is missing the 'kind' key (e1, t1, fxo or fxs)", path)
    # Mobile modules are the mobile backend's, in a card file of their own (mobile-card.md).
    kinds = tuple(k.value for k in SpanKind if k is not SpanKind.MOBILE)
    kind = SpanKind(_choice(doc, raw["kind"], (*path, "kind"), kinds))
    digital = kind in (SpanKind.E1, SpanKind.T1)
    allowed = {"kind", "signalling", "law"}
    if digital:
        allowed |= {"framing", "coding", "crc4", "far_end"}
        signalling = raw.get("signalling", "pri")
        if signalling == "cas":
            allowed |= {"variant"}
        elif signalling == "ss7":
            allowed |= set(_SS7_KEYS)
    elif kind is SpanKind.FXO:
        allowed |= {"ports", "port", *_LINE_KEYS}
    else:
        allowed |= {"ports", "port", *_PHONE_KEYS}
    reject_unknown_keys(doc, raw, allowed, path)
    default_law = "ulaw" if kind is SpanKind.T1 or zone in ("us", "us-old", "jp") else "alaw"
    law = _choice(doc, raw.get("law", default_law), (*path, "law"), ("alaw", "ulaw"))
    if digital:
        sig = SpanSignalling(_choice(doc, raw.get("signalling", "pri"), (*path, "signalling"),
                                     ("pri", "cas", "ss7")))
        e1 = kind is SpanKind.E1
        if sig is not SpanSignalling.PRI and not e1:
            raise doc.error(f"{sig} is emulated on E1 spans only (T1 CAS is robbed-bit "
                            "signalling, which the emulated card does not carry)",
                            (*path, "signalling"))
        framing = _choice(doc, raw.get("framing", "cas" if sig is SpanSignalling.CAS else
                                       "ccs" if e1 else "esf"), (*path, "framing"),
                          ("ccs", "cas", "d4", "esf"))
        coding = _choice(doc, raw.get("coding", "hdb3" if e1 else "b8zs"), (*path, "coding"),
                         ("hdb3", "ami", "b8zs"))
        crc4 = _bool(doc, raw.get("crc4", e1), (*path, "crc4"))
        far_ends = ("exchange", "libss7", "none") if sig is SpanSignalling.SS7 else \
            ("exchange", "none")
        far_end = _choice(doc, raw.get("far_end", "exchange"), (*path, "far_end"), far_ends)
        protocol = ""
        options: tuple[tuple[str, Any], ...] = ()
        if sig is SpanSignalling.CAS:
            variant = raw.get("variant", "cn")
            if not isinstance(variant, str) or not variant:
                raise doc.error(f"variant must name an MFC/R2 variant (cn, itu...), not "
                                f"{variant!r}", (*path, "variant"))
            protocol = f"mfcr2:{variant.lower()}"
        elif sig is SpanSignalling.SS7:
            protocol, options = _ss7(doc, raw, path, far_end)
        return SpanConfig(kind, sig, law, framing=framing, coding=coding, crc4=crc4,
                          far_end=far_end, protocol=protocol, options=options)
    if raw.get("signalling", "analog") != "analog":
        raise doc.error(f"an {kind} span's signalling is 'analog', not {raw['signalling']!r}",
                        (*path, "signalling"))
    ports = int(_number(doc, raw.get("ports", 8), (*path, "ports"), low=1, high=96,
                        integer=True))
    overrides = raw.get("port", [])
    if not isinstance(overrides, list):
        raise doc.error("port overrides must be an array of tables: [[span.port]]",
                        (*path, "port"))
    if kind is SpanKind.FXO:
        base_line = _line(doc, raw, path, LineSettings())
        lines = [base_line] * ports
    else:
        base_phone = _phone(doc, raw, path, PhoneSettings())
        phones = [base_phone] * ports
    for j, over in enumerate(overrides):
        opath = (*path, "port", j)
        if not isinstance(over, dict) or "port" not in over:
            raise doc.error("each [[span.port]] needs a 'port' number (1-based)", opath)
        reject_unknown_keys(doc, over, {"port", *(_LINE_KEYS if kind is SpanKind.FXO
                                                   else _PHONE_KEYS)}, opath)
        n = int(_number(doc, over["port"], (*opath, "port"), low=1, high=ports, integer=True))
        if kind is SpanKind.FXO:
            lines[n - 1] = _line(doc, over, opath, base_line)
        else:
            phones[n - 1] = _phone(doc, over, opath, base_phone)
    if kind is SpanKind.FXO:
        return SpanConfig(kind, SpanSignalling.ANALOG, law, ports=ports, lines=tuple(lines))
    return SpanConfig(kind, SpanSignalling.ANALOG, law, ports=ports, phones=tuple(phones))


_SS7_KEYS = ("linkset", "variant", "pointcode", "adjpointcode", "cicbeginswith")


def _point_code(doc: TomlDocument, value: Any, path: tuple) -> int | str:
    """A point code as an integer or dotted ``a-b-c``; the SS7 module checks its range
    for the variant when it starts."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**24:
        return value
    if isinstance(value, str) and all(p.isdigit() for p in value.split("-")) \
            and len(value.split("-")) == 3:
        return value
    raise doc.error(f"{path[-1]} must be a point code: a number or 'a-b-c' (3-8-3 for ITU, "
                    f"8-8-8 for China), not {value!r}", path)


def _ss7(doc: TomlDocument, raw: dict, path: tuple,
         far_end: str) -> tuple[str, tuple[tuple[str, Any], ...]]:
    """An SS7 span's linkset and our side's settings (the exchange takes the mirror)."""
    linkset = raw.get("linkset", "ss7")
    if not isinstance(linkset, str) or not linkset:
        raise doc.error(f"linkset must be a name, not {linkset!r}", (*path, "linkset"))
    variant = _choice(doc, raw.get("variant", "itu" if far_end == "libss7" else "china"),
                      (*path, "variant"), ("itu", "china"))
    if far_end == "libss7" and variant != "itu":
        raise doc.error("libss7 carries ITU 14-bit point codes only: variant must be 'itu' "
                        "with far_end = 'libss7' (docs/ss7.md)", (*path, "variant"))
    opc = _point_code(doc, raw.get("pointcode", 2), (*path, "pointcode"))
    apc = _point_code(doc, raw.get("adjpointcode", 1), (*path, "adjpointcode"))
    if opc == apc:
        raise doc.error("pointcode (ours) and adjpointcode (the exchange's) must differ",
                        (*path, "adjpointcode"))
    options: list[tuple[str, Any]] = [("variant", variant), ("opc", opc), ("apc", apc)]
    if "cicbeginswith" in raw:
        options.append(("cic_start", int(_number(doc, raw["cicbeginswith"],
                                                 (*path, "cicbeginswith"), low=0,
                                                 high=4095, integer=True))))
    return linkset, tuple(options)


def _fault(doc: TomlDocument, raw: Any, i: int, spans: int) -> FaultConfig:
    path: tuple = ("fault", i)
    if not isinstance(raw, dict):
        raise doc.error("each [[fault]] must be a table", path)
    for key in ("at", "kind"):
        if key not in raw:
            raise doc.error(f"fault is missing the {key!r} key", path)
    kind = _choice(doc, raw["kind"], (*path, "kind"), FAULT_KINDS)
    allowed = {"at", "kind", "duration"} | {
        "alarm": {"span", "alarm"}, "dchannel_down": {"span"}, "slip": {"span", "count"},
        "out_of_service": {"channel"},
    }[kind]
    reject_unknown_keys(doc, raw, allowed, path)
    values: dict[str, Any] = {
        "at": float(_number(doc, raw["at"], (*path, "at"), low=0, high=1e7)), "kind": kind,
    }
    if "span" in allowed:
        if "span" not in raw:
            raise doc.error(f"a {kind} fault needs a 'span' number", path)
        values["span"] = int(_number(doc, raw["span"], (*path, "span"), low=1, high=spans,
                                     integer=True))
    if kind == "out_of_service":
        if "channel" not in raw:
            raise doc.error("an out_of_service fault needs a 'channel' number", path)
        values["channel"] = int(_number(doc, raw["channel"], (*path, "channel"), low=1,
                                        high=100000, integer=True))
    if "alarm" in raw:
        values["alarm"] = _choice(doc, raw["alarm"], (*path, "alarm"), tuple(ALARMS))
    if "count" in raw:
        values["count"] = int(_number(doc, raw["count"], (*path, "count"), low=1, high=1000,
                                      integer=True))
    if "duration" in raw:
        values["duration"] = float(_number(doc, raw["duration"], (*path, "duration"), low=0.02,
                                           high=1e7))
    return FaultConfig(**values)


def parse_card_config(doc: TomlDocument, base_dir: Path | None = None) -> CardConfig:
    data = doc.data
    reject_unknown_keys(doc, data, {"spec", "name", "zone", "network", "seed", "span", "fault",
                                    "buffers"})
    spec = data.get("spec", SPEC)
    if spec != SPEC:
        raise doc.error(
            f"this file is spec {spec!r}; this trunkline reads spec {SPEC!r}"
            + (": please update trunkline" if str(spec) > SPEC else ""), ("spec",),
        )
    zone = data.get("zone", "cn")
    if zone not in zone_names():
        raise doc.error(f"unknown zone {zone!r}; known zones: {', '.join(zone_names())}",
                        ("zone",))
    network = None
    if "network" in data:
        if not isinstance(data["network"], str) or not data["network"]:
            raise doc.error("network must be the path of a number plan file", ("network",))
        network = Path(data["network"])
        if not network.is_absolute() and base_dir is not None:
            network = base_dir / network
    seed = int(_number(doc, data.get("seed", 0), ("seed",), low=0, high=2**63 - 1, integer=True))
    name = data.get("name", "emulated")
    if not isinstance(name, str):
        raise doc.error(f"name must be a string, not {name!r}", ("name",))
    raw_spans = data.get("span", [])
    if not isinstance(raw_spans, list) or not raw_spans:
        raise doc.error("a card needs at least one [[span]]", ("span",))
    spans = tuple(_span(doc, raw, i, zone) for i, raw in enumerate(raw_spans))
    raw_faults = data.get("fault", [])
    if not isinstance(raw_faults, list):
        raise doc.error("fault must be an array of tables: [[fault]]", ("fault",))
    faults = tuple(_fault(doc, raw, i, len(spans)) for i, raw in enumerate(raw_faults))
    buffers = int(_number(doc, data.get("buffers", 4), ("buffers",), low=1, high=32,
                          integer=True))
    return CardConfig(zone=zone, network=network, seed=seed, name=name, spans=spans,
                      faults=faults, buffers=buffers, source=doc.source)


def load_card_config(path: str | Path) -> CardConfig:
    path = Path(path)
    return parse_card_config(load_toml(path), path.parent)


def card_config_from_string(text: str, source: str = "<string>") -> CardConfig:
    return parse_card_config(parse_toml(text, source))


def default_card_config() -> CardConfig:
    """The bundled default (firmware-profiles/cards/default.toml): 2 E1 PRI spans, 8 FXO
    and 12 FXS ports, an MFC/R2 and an SS7 E1 span, the sample network."""
    ref = resources.files("trunkline.profiles") / "cards" / "default.toml"
    return card_config_from_string(ref.read_text(encoding="utf-8"), "cards/default.toml")


__all__ = ["ALARMS", "CardConfig", "ConfigError", "FaultConfig", "LineSettings",
           "PhoneSettings", "SpanConfig", "default_card_config", "load_card_config"]
