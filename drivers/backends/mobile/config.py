"""The mobile card's configuration: which modules, on which ports, speaking which dialect.

Schema (``spec = "1.0"``), documented in docs/mobile-card.md::

    name = "mobile"
    zone = "cn"                   # the tone zone of the calls' audio (ringback, SIT)
    law = "alaw"                  # how the card carries the modules' PCM (alaw | ulaw)
    network = "plan.toml"         # emulated modules only: their number plan (default:
                                  # the sample network); relative to this file
    seed = 1

    [[module]]                    # a module on real ports
    name = "ec25-1"
    port = "/dev/ttyUSB2"         # its AT port
    audio = "/dev/ttyUSB1"        # its PCM port (8 kHz, 16-bit LE); "" for none: a
                                  # Quectel's interface 1 (a SIMCom's is interface 4);
                                  # "auto" (chosen per device from the USB table and
                                  # sysfs), "uac" (USB Audio Class: the ALSA card of the
                                  # AT port's USB device), "uac:1-1.4" (of that USB port)
                                  # or "alsa:hw:CARD=Android,DEV=0" (that ALSA device)
    audio_rate = 8000             # USB audio only: the card's rate (8000 | 16000)
    audio_commands = ["AT+CLVL=3"]   # the module's own level/echo settings, sent at
                                  # each init (docs/mobile.md: what each family has)
    echo_canceller = 0            # our software echo canceller's tail in ms (8..128;
                                  # 0: off): docs/mobile.md says when it helps
    profile = "quectel"           # generic | quectel | simcom | huawei
    baudrate = 115200
    rx_gain = 0.0                 # dB on what the module sends us (-20..20)
    tx_gain = 0.0                 # dB on what we send it
    pin_file = "/etc/trunkline/ec25-1.pin"   # the SIM's PIN, if it asks for one: a file
                                  # (mode 600) or pin_env = "VAR"; pin = "1234" works too
                                  # but puts the PIN in the card file

    [[module]]                    # an emulated module on a pseudo-terminal pair
    name = "gsm1"
    emulated = true
    number = "13900000101"        # its SIM's number
    sim = "ready"                 # ready | absent | pin (asks for sim_pin) | puk (blocked)
    sim_pin = "1234"              # the PIN the emulated SIM takes
    pin_attempts = 3              # PIN attempts it has left
    registration = 1              # TS 27.007 <stat>: 1 home, 5 roaming, 0, 2, 3 (denied)
    rssi = 20                     # +CSQ 0..31
    faults = [{at = 60.0, kind = "reset"}]   # reset | garbage | unplug
    echo_path = {erl_db = 10.0, delay_ms = 5.0}   # a synthetic echo of what we send

Each module is a span of one voice channel, numbered in file order.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from trunkline.drivers.dsp.zones import zone_names
from trunkline.tomlconf import TomlDocument, load_toml, parse_toml, reject_unknown_keys

__all__ = ["MobileCardConfig", "ModuleConfig", "load_mobile_config", "mobile_config_from_string",
           "sample_mobile_config"]

SPEC = "1.0"
PROFILE_NAMES = ("generic", "quectel", "simcom", "huawei")
FAULTS = ("reset", "garbage", "unplug")
_TOP = {"spec", "name", "zone", "law", "network", "seed", "module"}
_PIN_KEYS = ("pin", "pin_file", "pin_env")
#: Commands audio_commands may not carry: they place, answer or end calls, touch the
#: SIM's PIN or locks, send or delete SMS, or power the module down, all of which the
#: backend does itself and must know about.
_FORBIDDEN = ("ATD", "ATA", "ATH", "ATZ", "AT&F", "AT+CHUP", "AT+CPIN", "AT+CLCK", "AT+CPWD",
              "AT+CFUN", "AT+CMG", "AT+CNMI", "AT+CPMS", "AT+CSCA", "AT+QPOWD", "AT+CPOF",
              "AT+CPOWD", "AT+CPCMREG", "AT+QPCMV", "AT^DDSETEX", "ATE")
_REAL = {"name", "port", "audio", "audio_rate", "profile", "baudrate", "rx_gain", "tx_gain",
         "audio_commands", "echo_canceller", *_PIN_KEYS}
#: Profiles whose modules may carry voice on a USB Audio Class card: Quectel EC2x/EG9x
#: (AT+QPCMV=1,2); SIMCom SIM7600 and Huawei sticks use a serial audio port.
UAC_PROFILES = ("quectel", "generic")
_EMULATED = {"name", "emulated", "profile", "number", "sim", "registration", "rssi", "faults",
             "operator", "rx_gain", "tx_gain", "sim_pin", "pin_attempts", "audio_commands",
             "echo_canceller", "echo_path", *_PIN_KEYS}
#: Gains an installer may set, in dB (beyond that, fix the module's own levels).
GAIN_LIMIT = 20.0


@dataclass(frozen=True)
class ModuleConfig:
    name: str
    profile: str = "quectel"
    port: str = ""
    audio: str = ""
    baudrate: int = 115200
    emulated: bool = False
    number: str = ""
    sim: str = "ready"
    registration: int = 1
    rssi: int = 20
    operator: str = "CHINA MOBILE"
    faults: tuple[tuple[float, str], ...] = ()
    rx_gain: float = 0.0
    """dB added to what the module sends us (the far end, as the detector hears it)."""
    tx_gain: float = 0.0
    """dB added to what we send the module (our prompts, as the far end hears them)."""
    pin: str = field(default="", repr=False)
    """The SIM's PIN to enter when it asks (never printed: not in the repr, the status,
    or a log line); "" for none."""
    pin_source: str = ""
    """Where the PIN came from (``the card file``, ``file /etc/...``, ``environment
    VAR``), for status and errors without the PIN itself."""
    sim_pin: str = field(default="1234", repr=False)
    """Emulated modules: the PIN the emulated SIM takes."""
    pin_attempts: int = 3
    """Emulated modules: the PIN attempts the emulated SIM has left."""
    audio_rate: int = 8000
    """The USB audio card's sample rate (``audio = "uac..."`` or ``"alsa:..."``)."""
    audio_commands: tuple[str, ...] = ()
    """The installer's settings of the module's own gains and echo canceller, sent at
    each init (they do not survive a module restart)."""
    echo_canceller: int = 0
    """Our software echo canceller's tail in ms (drivers/dsp/echo.py); 0: none."""
    echo_path: tuple[float, float] | None = None
    """Emulated modules: a synthetic echo of what we send, (ERL dB, delay ms)."""

    @property
    def uac(self) -> bool:
        """Voice on a USB Audio Class card (ALSA) rather than a serial PCM port."""
        return self.audio == "uac" or self.audio.startswith(("uac:", "alsa:"))


@dataclass(frozen=True)
class MobileCardConfig:
    name: str = "mobile"
    zone: str = "cn"
    law: str = "alaw"
    network: Path | None = None
    seed: int = 0
    modules: tuple[ModuleConfig, ...] = field(default_factory=tuple)
    source: str = "<string>"


def _pin_digits(value: object) -> bool:
    # A SIM's PIN (CHV1 of GSM 11.11, PIN1 of ETSI TS 102 221) is 4 to 8 decimal digits
    # (the range SIMs and phones accept; the spec's clause number was not checked here).
    return isinstance(value, str) and value.isdigit() and value.isascii() \
        and 4 <= len(value) <= 8


def _pin(doc: TomlDocument, raw: dict[str, Any], path: tuple[str | int, ...],
         base: Path | None) -> tuple[str, str]:
    """The module's PIN and where it came from: ``pin`` (in the card file), ``pin_file``
    (a file holding it, relative to the card file; refused when anyone may read it) or
    ``pin_env`` (an environment variable), at most one. Errors name the key and the
    file or variable, never the PIN."""
    given = [k for k in _PIN_KEYS if k in raw]
    if not given:
        return "", ""
    if len(given) > 1:
        raise doc.error(f"give the PIN one way: {' or '.join(given)}, not both", path)
    key = given[0]
    value = raw[key]
    if not isinstance(value, str) or not value:
        raise doc.error(f"{key} must be a non-empty string", (*path, key))
    if key == "pin":
        pin, source = value, "the card file"
    elif key == "pin_env":
        if value not in os.environ:
            raise doc.error(f"pin_env names {value}, which is not set in this environment",
                            (*path, key))
        pin, source = os.environ[value].strip(), f"environment {value}"
    else:
        file = (base / value) if base is not None else Path(value)
        try:
            mode = file.stat().st_mode
            pin = file.read_text(encoding="utf-8").strip()
        except OSError as err:
            raise doc.error(f"pin_file {file}: cannot read it ({err.strerror})",
                            (*path, key)) from None
        if mode & stat.S_IROTH:
            raise doc.error(f"pin_file {file} may be read by any user: chmod 600 it (or 640 "
                            "with the service's group)", (*path, key))
        source = f"file {file}"
    if not _pin_digits(pin):
        raise doc.error(f"the PIN from {source} must be 4 to 8 digits", (*path, key))
    return pin, source


def _audio_commands(doc: TomlDocument, raw: dict[str, Any], path: tuple[str | int, ...]
                    ) -> tuple[str, ...]:
    value = raw.get("audio_commands", [])
    key = (*path, "audio_commands")
    if not isinstance(value, list):
        raise doc.error("audio_commands must be a list of AT commands", key)
    for j, command in enumerate(value):
        if not isinstance(command, str) or not command.upper().startswith("AT") or \
                not command.isascii() or not command.isprintable() or ";" in command:
            raise doc.error(f"each audio command is one AT command line (AT..., no ';'), "
                            f"not {command!r}", (*key, j))
        upper = command.upper()
        if upper.startswith(_FORBIDDEN):
            raise doc.error(f"{command!r} is not an audio setting: the backend sends the "
                            "commands for calls, SIM, SMS and power itself", (*key, j))
    return tuple(value)


def _module(doc: TomlDocument, raw: Any, i: int, base: Path | None = None) -> ModuleConfig:
    path: tuple[str | int, ...] = ("module", i)
    if not isinstance(raw, dict):
        raise doc.error("each [[module]] must be a table", path)
    emulated = raw.get("emulated", False)
    if not isinstance(emulated, bool):
        raise doc.error(f"emulated must be true or false, not {emulated!r}", (*path, "emulated"))
    reject_unknown_keys(doc, raw, _EMULATED if emulated else _REAL, path)
    gains: dict[str, float] = {}
    for key in ("rx_gain", "tx_gain"):
        if key in raw:
            value = raw[key]
            if isinstance(value, bool) or not isinstance(value, int | float) \
                    or not -GAIN_LIMIT <= value <= GAIN_LIMIT:
                raise doc.error(f"{key} must be dB in -{GAIN_LIMIT:g}..{GAIN_LIMIT:g}, not "
                                f"{value!r}", (*path, key))
            gains[key] = float(value)
    pin, pin_source = _pin(doc, raw, path, base)
    audio_commands = _audio_commands(doc, raw, path)
    echo = raw.get("echo_canceller", 0)
    if isinstance(echo, bool) or not isinstance(echo, int) or not (echo == 0 or 8 <= echo <= 128):
        raise doc.error(f"echo_canceller is a tail in ms, 8..128 (0: off), not {echo!r}",
                        (*path, "echo_canceller"))
    name = raw.get("name", f"module{i + 1}")
    if not isinstance(name, str) or not name:
        raise doc.error(f"name must be a non-empty string, not {name!r}", (*path, "name"))
    profile = raw.get("profile", "quectel")
    if profile not in PROFILE_NAMES:
        raise doc.error(f"profile must be one of {', '.join(PROFILE_NAMES)}, not {profile!r}",
                        (*path, "profile"))
    if not emulated:
        port = raw.get("port")
        if not isinstance(port, str) or not port:
            raise doc.error("a module needs its AT port: port = \"/dev/ttyUSB2\" (or "
                            "emulated = true)", path)
        audio = raw.get("audio", "")
        if not isinstance(audio, str):
            raise doc.error(f"audio must be a device path or \"\", not {audio!r}",
                            (*path, "audio"))
        uac = audio == "uac" or audio.startswith(("uac:", "alsa:"))
        if uac and profile not in UAC_PROFILES:
            raise doc.error(f"a {profile} module carries voice on a serial audio port, not "
                            f"USB audio: audio = \"/dev/ttyUSB...\"", (*path, "audio"))
        if audio.startswith(("uac:", "alsa:")) and not audio.split(":", 1)[1]:
            raise doc.error(f"{audio!r} needs what follows the colon: a USB port "
                            "(uac:1-1.4) or an ALSA device (alsa:hw:CARD=Android,DEV=0)",
                            (*path, "audio"))
        rate = raw.get("audio_rate", 8000)
        if "audio_rate" in raw and not uac and audio != "auto":
            raise doc.error("audio_rate is for USB audio (audio = \"uac\"); a serial audio "
                            "port carries 8 kHz", (*path, "audio_rate"))
        if rate not in (8000, 16000) or isinstance(rate, bool):
            raise doc.error(f"audio_rate must be 8000 or 16000, not {rate!r}",
                            (*path, "audio_rate"))
        baud = raw.get("baudrate", 115200)
        if isinstance(baud, bool) or not isinstance(baud, int) or baud <= 0:
            raise doc.error(f"baudrate must be a positive whole number, not {baud!r}",
                            (*path, "baudrate"))
        return ModuleConfig(name, profile, port, audio, baud,
                            rx_gain=gains.get("rx_gain", 0.0), tx_gain=gains.get("tx_gain", 0.0),
                            pin=pin, pin_source=pin_source, audio_rate=rate,
                            audio_commands=audio_commands, echo_canceller=echo)
    values: dict[str, Any] = {}
    for key, kind, check, what in (
        ("number", str, lambda v: all(c in "+0123456789" for c in v), "digits"),
        ("operator", str, lambda v: True, "a string"),
        ("sim", str, lambda v: v in ("ready", "absent", "pin", "puk"),
         "'ready', 'absent', 'pin' or 'puk'"),
        ("sim_pin", str, _pin_digits, "4 to 8 digits"),
        ("pin_attempts", int, lambda v: 0 <= v <= 3, "0..3"),
        ("registration", int, lambda v: v in (0, 1, 2, 3, 4, 5), "a TS 27.007 <stat> 0..5"),
        ("rssi", int, lambda v: 0 <= v <= 31 or v == 99, "a +CSQ <rssi> 0..31 or 99"),
    ):
        if key in raw:
            value = raw[key]
            if isinstance(value, bool) or not isinstance(value, kind) or not check(value):
                raise doc.error(f"{key} must be {what}, not {value!r}", (*path, key))
            values[key] = value
    echo_path = None
    if "echo_path" in raw:
        value = raw["echo_path"]
        epath = (*path, "echo_path")
        if not isinstance(value, dict) or set(value) - {"erl_db", "delay_ms"} \
                or "erl_db" not in value:
            raise doc.error("echo_path is {erl_db = dB, delay_ms = ms}", epath)
        erl, delay = value["erl_db"], value.get("delay_ms", 0.0)
        if any(isinstance(v, bool) or not isinstance(v, int | float) for v in (erl, delay)) \
                or not 0 <= erl <= 60 or not 0 <= delay <= 100:
            raise doc.error(f"echo_path wants erl_db 0..60 and delay_ms 0..100, not {value!r}",
                            epath)
        echo_path = (float(erl), float(delay))
    faults: list[tuple[float, str]] = []
    raw_faults = raw.get("faults", [])
    if not isinstance(raw_faults, list):
        raise doc.error("faults must be a list of {at = seconds, kind = ...} tables",
                        (*path, "faults"))
    for j, fault in enumerate(raw_faults):
        fpath = (*path, "faults", j)
        if not isinstance(fault, dict) or set(fault) != {"at", "kind"}:
            raise doc.error("a fault is {at = seconds, kind = \"reset\" | \"garbage\" | "
                            "\"unplug\"}", fpath)
        at, kind = fault["at"], fault["kind"]
        if isinstance(at, bool) or not isinstance(at, int | float) or at < 0:
            raise doc.error(f"at must be seconds >= 0, not {at!r}", fpath)
        if kind not in FAULTS:
            raise doc.error(f"fault kind must be one of {', '.join(FAULTS)}, not {kind!r}",
                            fpath)
        faults.append((float(at), kind))
    return ModuleConfig(name, profile, emulated=True, faults=tuple(faults),
                        rx_gain=gains.get("rx_gain", 0.0), tx_gain=gains.get("tx_gain", 0.0),
                        pin=pin, pin_source=pin_source, audio_commands=audio_commands,
                        echo_canceller=echo, echo_path=echo_path, **values)


def parse_mobile_config(doc: TomlDocument, base: Path | None = None) -> MobileCardConfig:
    data = doc.data
    reject_unknown_keys(doc, data, _TOP)
    spec = data.get("spec", SPEC)
    if spec != SPEC:
        raise doc.error(f"this file is spec {spec!r}; this trunkline reads spec {SPEC!r}",
                        ("spec",))
    name = data.get("name", "mobile")
    if not isinstance(name, str) or not name:
        raise doc.error(f"name must be a non-empty string, not {name!r}", ("name",))
    zone = data.get("zone", "cn")
    if zone not in zone_names():
        raise doc.error(f"unknown zone {zone!r}; known zones: {', '.join(zone_names())}",
                        ("zone",))
    law = data.get("law", "ulaw" if zone in ("us", "us-old", "jp") else "alaw")
    if law not in ("alaw", "ulaw"):
        raise doc.error(f"law must be 'alaw' or 'ulaw', not {law!r}", ("law",))
    network = data.get("network")
    if network is not None and not isinstance(network, str):
        raise doc.error(f"network must be a file name, not {network!r}", ("network",))
    seed = data.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise doc.error(f"seed must be a whole number >= 0, not {seed!r}", ("seed",))
    raw = data.get("module", [])
    if not isinstance(raw, list) or not raw:
        raise doc.error("a mobile card needs at least one [[module]]", ("module",))
    modules = tuple(_module(doc, m, i, base) for i, m in enumerate(raw))
    names = [m.name for m in modules]
    for i, n in enumerate(names):
        if names.index(n) != i:
            raise doc.error(f"module name {n!r} is used twice", ("module", i, "name"))
    net = None if network is None else ((base / network) if base else Path(network))
    return MobileCardConfig(name, zone, law, net, seed, modules, doc.source)


def load_mobile_config(path: str | Path) -> MobileCardConfig:
    path = Path(path)
    return parse_mobile_config(load_toml(path), path.parent)


def mobile_config_from_string(text: str, source: str = "<string>") -> MobileCardConfig:
    return parse_mobile_config(parse_toml(text, source))


def sample_mobile_config() -> MobileCardConfig:
    """The bundled sample (firmware-profiles/cards/mobile.toml): two emulated modules on
    the sample network."""
    ref = resources.files("trunkline.profiles") / "cards" / "mobile.toml"
    return mobile_config_from_string(ref.read_text(encoding="utf-8"), "cards/mobile.toml")
