"""MFC/R2 and SS7 span settings: chan_dahdi.conf's values as the signalling modules'
options, checked, and back.

chan_dahdi sets MFC/R2 (openr2) and SS7 (libss7) per block of channels, as text;
trunkline's modules take typed options per span (MFC/R2) or per linkset plus a few per
span (SS7), in the gateway's ``[[span]]`` tables (docs/r2.md, docs/ss7.md). This module
holds the one translation table between the two, so ``config import`` (text in) and
``config generate`` (text out) cannot drift apart, and the checks a hand-written TOML
gets. Converters raise ValueError with a message that names the value; callers add the
file and line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from trunkline.drivers.signalling.r2.signalling import CATEGORY_NAMES, r2_settings
from trunkline.drivers.signalling.r2.variants import VARIANTS as R2_VARIANTS
from trunkline.drivers.signalling.ss7.config import VARIANTS as SS7_VARIANTS
from trunkline.drivers.signalling.ss7.errors import Ss7ConfigError
from trunkline.drivers.signalling.ss7.mtp3 import NETWORK_INDICATORS, PcFormat, parse_pc
from trunkline.drivers.signalling.ss7.signalling import LINKSET_KEYS, NAI, SPAN_KEYS
from trunkline.errors import ConfigError

__all__ = [
    "DEFAULT_LINKSET",
    "MFCR2_KEYS",
    "R2_CATEGORIES",
    "R2_CHAN_DAHDI_DEFAULTS",
    "R2_OPTIONS",
    "SIGNALLINGS",
    "SS7_LINKSET_OPTIONS",
    "SS7_OPTIONS",
    "SS7_SPAN_OPTIONS",
    "chan_dahdi_bool",
    "check_options",
    "option_order",
    "r2_from_chan_dahdi",
    "r2_problem",
    "r2_to_chan_dahdi",
    "r2_variant",
    "same_point_code",
    "ss7_nai",
    "ss7_network_indicator",
    "ss7_point_code",
    "ss7_to_chan_dahdi",
    "ss7_variant",
]

#: Span signallings that carry module options in trunkline's DAHDI TOML.
SIGNALLINGS = ("mfcr2", "ss7")
#: The linkset of SS7 spans that name none: they share it (the emulated card's default,
#: drivers/backends/emulated/config.py).
DEFAULT_LINKSET = "ss7"

#: The MFC/R2 module's options (its OPTIONS), in the order ``config import`` writes them.
R2_OPTIONS = ("variant", "max_dnis", "max_ani", "get_ani_first", "category",
              "calling_category", "immediate_accept", "mfback_timeout",
              "metering_pulse_timeout", "seize_timeout", "answer_timeout", "hunt")
#: The SS7 module's options (LINKSET_KEYS and SPAN_KEYS of its signalling module), in the
#: order ``config import`` writes them.
SS7_OPTIONS = ("variant", "opc", "apc", "dpc", "ni", "called_nai", "calling_nai",
               "category", "reset_on_start", "cic_start", "signalling_timeslot")
#: Of these, the ones that belong to one span, not to its linkset.
SS7_SPAN_OPTIONS = SPAN_KEYS
SS7_LINKSET_OPTIONS = LINKSET_KEYS

#: openr2's variant names (r2proto.c ``r2variants``: "AR", "BR", "CN", "ITU", "MX",
#: matched without case by ``openr2_proto_get_variant``) and the countries' names, ours.
_R2_NAMES = {"ar": "ar", "argentina": "ar", "br": "br", "brazil": "br", "cn": "cn",
             "china": "cn", "itu": "itu", "mx": "mx", "mexico": "mx"}
#: openr2 variants it runs with its plain ITU configuration (r2proto.c ``r2variants``:
#: ``.config r2config_itu``): trunkline's ``itu`` does the same.
_R2_ITU_ALIASES = {"cz": "the Czech Republic", "ec": "Ecuador", "ph": "the Philippines"}
#: openr2 variants with their own configuration, which trunkline does not have.
_R2_UNSUPPORTED = {"co": "Colombia", "colombia": "Colombia", "ve": "Venezuela",
                   "venezuela": "Venezuela"}

#: openr2's calling party category names (r2proto.c ``openr2_proto_get_category``) that
#: the MFC/R2 module takes for ``category`` (test_equipment has no name there).
R2_CATEGORIES = tuple(CATEGORY_NAMES)

#: Asterisk's truth values (main/utils.c ``ast_true`` / ``ast_false``).
_TRUE = ("yes", "true", "y", "t", "1", "on")
_FALSE = ("no", "false", "n", "f", "0", "off")


def chan_dahdi_bool(value: str) -> bool:
    """A yes/no value as chan_dahdi reads it (``ast_true``), refusing anything else."""
    text = value.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"{value!r} is not yes or no (Asterisk takes {', '.join(_TRUE)} / "
                     f"{', '.join(_FALSE)})")


def _whole(value: str, low: int) -> int:
    text = value.strip()
    if not re.fullmatch(r"-?\d+", text):
        raise ValueError(f"{value!r} is not a whole number")
    number = int(text)
    if number < low:
        raise ValueError(f"{number} is below {low}")
    return number


# -- MFC/R2 ---------------------------------------------------------------------------------
def r2_variant(value: str) -> tuple[str, str | None]:
    """``mfcr2_variant`` as our variant, and a warning when openr2 knows it by another
    name than ours."""
    name = value.strip().lower()
    if name in _R2_NAMES:
        return _R2_NAMES[name], None
    if name in _R2_ITU_ALIASES:
        return "itu", (f"openr2 runs {value} ({_R2_ITU_ALIASES[name]}) with its ITU "
                       "settings; written as variant = itu")
    if name in _R2_UNSUPPORTED:
        raise ValueError(f"MFC/R2 variant {value!r} ({_R2_UNSUPPORTED[name]}) is not one "
                         f"trunkline has; it has {', '.join(R2_VARIANTS)}")
    raise ValueError(f"unknown MFC/R2 variant {value!r}; trunkline has "
                     f"{', '.join(R2_VARIANTS)} (openr2's names; china, brazil, argentina "
                     "and mexico are taken too)")


def _r2_category(value: str) -> str:
    name = value.strip().lower().replace(" ", "_")
    if name in R2_CATEGORIES:
        return name
    raise ValueError(f"unknown MFC/R2 category {value!r}; known: {', '.join(R2_CATEGORIES)}")


#: chan_dahdi's mfcr2_* keys the MFC/R2 module takes -> its option. What openr2 treats
#: as "the default" (chan_dahdi.conf.sample: -1 for the two timeouts) gives no option.
MFCR2_KEYS = {
    "mfcr2_variant": "variant", "mfcr2_max_dnis": "max_dnis", "mfcr2_max_ani": "max_ani",
    "mfcr2_get_ani_first": "get_ani_first", "mfcr2_category": "category",
    "mfcr2_immediate_accept": "immediate_accept",
    "mfcr2_mfback_timeout": "mfback_timeout",
    "mfcr2_metering_pulse_timeout": "metering_pulse_timeout",
}
#: What chan_dahdi uses when a span gives no mfcr2_variant, mfcr2_max_ani or
#: mfcr2_max_dnis (chan_dahdi.c ``dahdi_chan_conf_default``: OR2_VAR_ITU, max_ani 10,
#: max_dnis 4); ``config import`` writes them, so calls go on as they did.
R2_CHAN_DAHDI_DEFAULTS = {"variant": "itu", "max_ani": 10, "max_dnis": 4}


def r2_from_chan_dahdi(key: str, value: str) -> tuple[str, Any, str | None]:
    """An ``mfcr2_*`` key's value as (option, typed value or None for "the default",
    warning or None). Raises KeyError for keys the module does not take, ValueError for
    a bad value."""
    option = MFCR2_KEYS[key]
    try:
        return _r2_value(key, option, value)
    except ValueError as err:
        raise ValueError(f"{key}: {err}") from None


def _r2_value(key: str, option: str, value: str) -> tuple[str, Any, str | None]:
    if option == "variant":
        variant, warning = r2_variant(value)
        return option, variant, warning
    if option in ("max_dnis", "max_ani"):
        return option, _whole(value, 0), None
    if option in ("get_ani_first", "immediate_accept"):
        return option, chan_dahdi_bool(value), None
    if option == "category":
        return option, _r2_category(value), None
    # The timeouts: chan_dahdi.c takes a negative value (and, for mfback, 0) as openr2's
    # default.
    ms = _whole(value, -(2**31))
    if ms < 0 or (ms == 0 and option == "mfback_timeout"):
        return option, None, None
    return option, ms, None


def r2_to_chan_dahdi(options: Mapping[str, Any]) -> tuple[dict[str, str], list[str]]:
    """The ``mfcr2_*`` keys for a span's options, and the options chan_dahdi has no key
    for (left out; a category given by number is one: openr2 takes only names)."""
    keys: dict[str, str] = {}
    left: list[str] = []
    by_option = {option: key for key, option in MFCR2_KEYS.items()}
    for option, value in options.items():
        if option not in by_option or (option == "category" and not isinstance(value, str)):
            left.append(option)
        elif isinstance(value, bool):
            keys[by_option[option]] = "yes" if value else "no"
        else:
            keys[by_option[option]] = str(value)
    return keys, left


# -- SS7 ------------------------------------------------------------------------------------
def ss7_variant(value: str) -> str:
    """``ss7type`` as our variant (chan_dahdi.c takes itu and ansi)."""
    name = value.strip().lower()
    if name in SS7_VARIANTS:
        return name
    if name == "ansi":
        raise ValueError("ss7type ansi: ANSI SS7 is not supported (trunkline speaks ITU "
                         "and China's national variant)")
    raise ValueError(f"unknown ss7type {value!r} (expected itu or china)")


def ss7_point_code(value: str, variant: str) -> tuple[int | str, str | None]:
    """A point code from chan_dahdi (``pointcode``, ``adjpointcode``, ``defaultdpc``) as
    the SS7 module takes it, and a warning where it had to be converted.

    chan_dahdi reads ``a-b-c`` as three 8-bit fields (chan_dahdi.c ``parse_pointcode``):
    China's 24-bit format, kept as written. An ITU point code has 14 bits, which the
    module writes 3-8-3; an ITU ``a-b-c`` is taken as chan_dahdi took it, as a number.
    """
    text = value.strip()
    fmt = SS7_VARIANTS[variant]
    if text.isdigit():
        code: int | str = int(text)
        _check_pc(code, fmt, value)
        return code, None
    parts = text.split("-")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise ValueError(f"point code {value!r} is neither a number nor a-b-c")
    if fmt is PcFormat.CHINA:
        _check_pc(text, fmt, value)
        return text, None
    a, b, c = (int(p) for p in parts)
    packed = a << 16 | b << 8 | c
    if max(a, b, c) > 255 or packed >= 1 << 14:
        raise ValueError(f"point code {value!r}: chan_dahdi reads a-b-c as 8-8-8 bits "
                         f"({packed}), too big for a 14-bit ITU point code; write it as a "
                         "number")
    return packed, (f"ITU point code {value!r} is {packed} as chan_dahdi reads it (8-8-8); "
                    "written as that number")


def _check_pc(code: int | str, fmt: PcFormat, value: str) -> None:
    try:
        parse_pc(code, fmt)
    except Ss7ConfigError as err:
        raise ValueError(f"point code {value!r}: {err}") from None


def same_point_code(a: int | str, b: int | str, variant: str) -> bool:
    """Whether two point codes (numbers or a-b-c) are the same point."""
    fmt = SS7_VARIANTS[variant]
    try:
        return parse_pc(a, fmt) == parse_pc(b, fmt)
    except Ss7ConfigError:
        return False


def ss7_network_indicator(value: str) -> str:
    """``networkindicator`` (chan_dahdi.c: national, national_spare, international,
    international_spare)."""
    name = value.strip().lower()
    if name not in NETWORK_INDICATORS:
        raise ValueError(f"unknown networkindicator {value!r}; known: "
                         f"{', '.join(NETWORK_INDICATORS)}")
    return name


def ss7_to_chan_dahdi(options: Mapping[str, Any]) -> tuple[dict[str, str], list[str]]:
    """The ``ss7_*_nai`` keys for a span's options, and the per-call options chan_dahdi
    has no key for (left out). The linkset's own keys are written with its sigchans."""
    keys: dict[str, str] = {}
    left: list[str] = []
    names = {v: k for k, v in NAI.items()}
    for option in ("called_nai", "calling_nai"):
        if option in options:
            value = options[option]
            name = value if isinstance(value, str) else names.get(value)
            if name is None:
                left.append(option)
            else:
                keys[f"ss7_{option}"] = name
    left += [k for k in ("category", "reset_on_start") if k in options]
    return keys, left


def ss7_nai(value: str) -> str:
    """``ss7_called_nai`` / ``ss7_calling_nai`` (chan_dahdi.c: unknown, subscriber,
    national, international, dynamic)."""
    name = value.strip().lower()
    if name not in (*NAI, "dynamic"):
        raise ValueError(f"unknown nature of address {value!r}; known: "
                         f"{', '.join([*NAI, 'dynamic'])}")
    return name


def r2_problem(span: int, options: Mapping[str, Any]) -> str | None:
    """What the MFC/R2 module would refuse in a span's options (it checks them when the
    gateway starts; asked here, the file's line can be named), or None."""
    try:
        r2_settings(span, options)
    except ConfigError as err:
        return str(err)
    return None


# -- checks of a TOML's span options ----------------------------------------------------
def option_order(signalling: str) -> tuple[str, ...]:
    return R2_OPTIONS if signalling == "mfcr2" else SS7_OPTIONS


def _int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_options(signalling: str, options: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Problems with a span's typed options, as (option, what is wrong); empty if none.

    The modules check the same when they start; this catches them at ``config apply``
    and ``config generate`` time, with the TOML's line.
    """
    if signalling not in SIGNALLINGS:
        return [("signalling", f"signalling must be one of {', '.join(SIGNALLINGS)}, not "
                               f"{signalling!r}")]
    known = option_order(signalling)
    problems = [(k, f"unknown {signalling} option {k!r}; known: {', '.join(known)}")
                for k in options if k not in known]
    check = _check_r2 if signalling == "mfcr2" else _check_ss7
    for key, value in options.items():
        if key in known:
            message = check(key, value, options)
            if message:
                problems.append((key, message))
    return problems


def _check_r2(key: str, value: Any, options: Mapping[str, Any]) -> str | None:
    if key == "variant":
        ok = isinstance(value, str) and value in R2_VARIANTS
        return None if ok else f"variant must be one of {', '.join(R2_VARIANTS)}, not {value!r}"
    if key in ("max_dnis", "max_ani", "mfback_timeout", "metering_pulse_timeout",
               "seize_timeout", "answer_timeout"):
        return None if _int(value) and value >= 0 else \
            f"{key} must be a whole number 0 or more, not {value!r}"
    if key in ("get_ani_first", "immediate_accept"):
        return None if isinstance(value, bool) else f"{key} must be true or false"
    if key in ("category", "calling_category"):
        ok = (_int(value) and 1 <= value <= 15) or value in R2_CATEGORIES
        return None if ok else (f"{key} must be a signal 1..15 or one of "
                                f"{', '.join(R2_CATEGORIES)}, not {value!r}")
    ok = value in ("ascending", "descending")
    return None if ok else f"hunt must be ascending or descending, not {value!r}"


def _check_ss7(key: str, value: Any, options: Mapping[str, Any]) -> str | None:
    variant = options.get("variant", "itu")
    if key == "variant":
        ok = value in SS7_VARIANTS
        return None if ok else f"variant must be itu or china, not {value!r}"
    if key in ("opc", "apc", "dpc"):
        if variant not in SS7_VARIANTS:
            return None  # the variant's own problem is reported
        if not (_int(value) or isinstance(value, str)):
            return f"{key} must be a point code (a number or 'a-b-c'), not {value!r}"
        try:
            parse_pc(value, SS7_VARIANTS[variant])
        except Ss7ConfigError as err:
            return f"{key}: {err}"
        if key == "dpc" and "apc" in options and not same_point_code(
                value, options["apc"], variant):
            return (f"dpc {value!r} is not the adjacent point {options['apc']!r}: routes "
                    "through a signalling transfer point are not supported")
        return None
    if key == "ni":
        ok = value in NETWORK_INDICATORS or (_int(value) and 0 <= value <= 3)
        return None if ok else (f"ni must be one of {', '.join(NETWORK_INDICATORS)}, not "
                                f"{value!r}")
    if key in ("called_nai", "calling_nai"):
        ok = value in (*NAI, "dynamic") or (_int(value) and 0 <= value <= 127)
        return None if ok else (f"{key} must be one of {', '.join([*NAI, 'dynamic'])} or "
                                f"0..127, not {value!r}")
    if key == "category":
        return None if _int(value) and 0 <= value <= 255 else \
            f"category must be a calling party's category 0..255, not {value!r}"
    if key == "reset_on_start":
        return None if isinstance(value, bool) else "reset_on_start must be true or false"
    if key == "cic_start":
        return None if _int(value) and 0 <= value <= 4095 else \
            f"cic_start must be a CIC 0..4095, not {value!r}"
    return None if _int(value) and 1 <= value <= 31 else \
        f"signalling_timeslot must be a timeslot 1..31, not {value!r}"
