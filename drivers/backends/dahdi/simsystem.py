"""The simulated kernel's system description: the versioned TOML file and its checks.

Why apart: reading the description (spans, ports, cables, faults, what ``dahdi_cfg``
applied) is a parser with its own errors, not kernel behaviour; the kernel keeps the
state it builds. It stands for what dahdi-base.c is given rather than what it does: the
spans its drivers register (``dahdi_register_device``) and the configuration
``dahdi_cfg`` applies (``dahdi_ioctl_spanconfig``, ``dahdi_ioctl_chanconfig``; the
``lineconfig`` bits are user.h's DAHDI_CONFIG_*). The format, ``spec = "1.0"``::

    spec = "1.0"
    version = "3.1.0"                 # what DAHDI_GETVERSION reports
    echo_canceller = "OSLEC"
    timer = true                      # /dev/dahdi/timer exists
    zone = "cn"                       # dial tone the analog lines play
    loadzones = ["cn"]                # zones dahdi_cfg loaded (the first is the default);
                                      # [] is a fresh kernel: no DIAL or RING until loaded
    seed = 1

    [[span]]
    type = "E1"                       # E1 | T1 | J1 | analog
    name = "TE4/0/1"
    description = "T4XXP (PCI) Card 0 Span 1"
    manufacturer = "Digium"
    devicetype = "Wildcard TE420 (5th Gen)"
    location = "PCI Bus 03 Slot 01"
    configured = "pri"                # pri | cas | ss7 | clear | "" (not yet configured)
    framing = "ccs"                   # what system.conf set (when configured)
    coding = "hdb3"
    crc4 = true
    timing = 1                        # sync priority (0: never a timing source)
    far_end = "loop"                  # "loop" (the far end echoes) | "idle" | "span N"
    idlebits = "1001"                 # cas: the ABCD bits an idle channel sends
    [span.line]                       # what the carrier sends (not with far_end = "span N")
    framing = "ccs"
    coding = "hdb3"
    crc4 = true
    signal = true                     # false: no signal at all (cable unplugged)

    [[span]]
    type = "analog"
    ports = ["fxo", "fxo", "fxs", "fxs"]   # the modules fitted, in port order
    far_end = "exchange"              # the emulated network's central office behind the
                                      # FXO ports, its phones on the FXS ports
                                      # (simexchange.py); default: nothing behind them
    hybrid = [{ acim = 9, coefs = [2, 250, 253, 5, 253, 1, 0, 255] }, ...]
                                      # per FXO port: the DAA setting (WCTDM_SET_ECHOTUNE)
                                      # that balances its line; with it the port hears the
                                      # echo of what it sends (simwctdm.py); default: none

    [[span]]                          # a crossover cable from span 1's port to this one
    type = "E1"
    configured = "pri"
    far_end = "span 1"                # (saying it on one of the two spans is enough)

    [[fault]]                         # at a time (seconds after the kernel starts)
    at = 5.0
    kind = "alarm"                    # alarm | irqmiss | counters | removed | stall
    span = 1
    alarm = "red"

``configured`` stands for what ``dahdi_cfg`` applied from system.conf: ``pri`` is a
D-channel (``dchan``, HDLC-FCS) on timeslot 16 (E1) or 24 (T1) and clear B-channels,
``cas`` CAS channels with ``idlebits`` (timeslot 16 of an E1 carries their bits), ``ss7``
an SS7 signalling link in the kernel's MTP2 mode (``mtp2``) on timeslot 16 or 24 and
clear channels, ``clear`` clear channels only. ``config`` (top level) names the machine's
trunkline DAHDI configuration (``trunkline config import`` writes it; relative to this
file): the card reads the signalling settings that are not kernel state from it (the
MFC/R2 variant, SS7 point codes), as it does from ``dahdi:config=FILE`` on a machine.
``network`` (top level) names the emulated network's number plan behind
``far_end = "exchange"`` (relative to this file), as ``dahdi:sim`` takes ``network=``.
The analog board answers wctdm24xxp's own ioctls (``WCTDM_*``: simwctdm.py), and each
channel has its numbered node ``/dev/dahdi/N`` (opened as DAHDI_SPECIFY opens it).

``far_end = "span N"`` joins this span and span N as an E1 crossover cable joins two
ports (:mod:`~trunkline.drivers.backends.dahdi.simcross`): audio, ABCD bits and HDLC frames
cross timeslot to timeslot, and each span's alarms follow from the other's state.
"""

# The methods take ``self: SimulatedKernel`` (the class they are mixed into), so mypy checks
# each body against the whole kernel; mypy calls such a self type "not a supertype of its
# class" (code misc), which is expected of a mixin and is switched off here only.
# mypy: disable-error-code="misc"

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from trunkline.drivers.backends.dahdi.simcross import far_end_span
from trunkline.drivers.backends.dahdi.simstate import _Chan, _Line, _Span
from trunkline.errors import ConfigError

if TYPE_CHECKING:
    from trunkline.drivers.backends.dahdi.simkernel import SimulatedKernel

SPEC = "1.0"
FAULT_KINDS = ("alarm", "irqmiss", "counters", "removed", "stall")

DEFAULT_SYSTEM = """\
# The default simulated system: one 4-span E1 board and one 4-port analog board.
spec = "1.0"
version = "3.1.0"
echo_canceller = "OSLEC"
timer = true
zone = "cn"

[[span]]
type = "E1"
name = "TE4/0/1"
description = "T4XXP (PCI) Card 0 Span 1"
manufacturer = "Digium"
devicetype = "Wildcard TE420 (5th Gen)"
location = "PCI Bus 03 Slot 01"
configured = "pri"
timing = 1
far_end = "loop"

[[span]]
type = "E1"
name = "TE4/0/2"
description = "T4XXP (PCI) Card 0 Span 2"
manufacturer = "Digium"
devicetype = "Wildcard TE420 (5th Gen)"
location = "PCI Bus 03 Slot 01"
configured = "pri"
timing = 2
far_end = "exchange"              # a carrier's exchange: libpri, network side

[[span]]
type = "E1"
name = "TE4/0/3"
description = "T4XXP (PCI) Card 0 Span 3"
manufacturer = "Digium"
devicetype = "Wildcard TE420 (5th Gen)"
location = "PCI Bus 03 Slot 01"
configured = ""
[span.line]
signal = false

[[span]]
type = "E1"
name = "TE4/0/4"
description = "T4XXP (PCI) Card 0 Span 4"
manufacturer = "Digium"
devicetype = "Wildcard TE420 (5th Gen)"
location = "PCI Bus 03 Slot 01"
configured = ""
[span.line]
signal = false

[[span]]
type = "analog"
name = "WCTDM/0"
description = "Wildcard TDM410P"
manufacturer = "Digium"
devicetype = "Wildcard TDM410P"
location = "PCI Bus 04 Slot 02"
ports = ["fxo", "fxo", "fxs", "fxs"]
far_end = "exchange"              # the emulated network's lines and phones
"""


class SystemDescription:
    """Builds the kernel's spans and channels from the description (a mixin of
    :class:`~.simkernel.SimulatedKernel`)."""

    #: Declared for mypy: SimulatedKernel.__init__ sets it, ``_parse`` reads ``config``.
    config_path: Path | None

    def _error(self: SimulatedKernel, message: str) -> ConfigError:
        return ConfigError(message, source=self.source)

    def _parse(self: SimulatedKernel, text: str) -> None:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as err:
            raise self._error(f"not valid TOML: {err}") from err
        spec = str(data.get("spec", ""))
        if spec != SPEC:
            hint = ": please update trunkline" if spec > SPEC else ""
            raise self._error(f"this simulated system is spec {spec!r}; this trunkline reads "
                              f"spec {SPEC!r}{hint}")
        known = {"spec", "version", "echo_canceller", "timer", "zone", "seed", "span", "fault",
                 "config", "loadzones", "network"}
        unknown = set(data) - known
        if unknown:
            raise self._error(f"unknown key(s) {', '.join(sorted(unknown))}; known: "
                              f"{', '.join(sorted(known))}")
        self.version = str(data.get("version", "3.1.0"))
        self.echo_canceller = str(data.get("echo_canceller", ""))
        self.has_timer = bool(data.get("timer", True))
        self.zone = str(data.get("zone", "cn"))
        #: Tone zones loaded into the kernel (number -> (country, ring cadence)), the
        #: default first, as dahdi-base.c keeps its tone_zones list.
        self.zones: dict[int, tuple[str, tuple[int, ...]]] = {}
        for country in data.get("loadzones", [self.zone]):
            self._load_named_zone(str(country))
        self.rng = np.random.default_rng(int(data.get("seed", 0)))
        if "config" in data:
            config = Path(str(data["config"]))
            if not config.is_absolute() and self.source.startswith("<"):
                raise self._error("config: a relative path needs the system in a file")
            self.config_path = config if config.is_absolute() else \
                Path(self.source).parent / config
        #: The emulated network's number plan (the top-level ``network`` key, relative to
        #: this file), as ``dahdi:sim`` takes ``network=PLAN.toml``.
        self.network_path: Path | None = None
        if "network" in data:
            plan = Path(str(data["network"]))
            if not plan.is_absolute() and self.source.startswith("<"):
                raise self._error("network: a relative path needs the system in a file")
            self.network_path = plan if plan.is_absolute() else Path(self.source).parent / plan
        spans = data.get("span", [])
        if not isinstance(spans, list) or not spans:
            raise self._error("a simulated system needs at least one [[span]]")
        base = 1
        for i, raw in enumerate(spans, start=1):
            span = self._span(i, raw, base)
            base += span.total
        self._cables()
        for raw in data.get("fault", []):
            kind = raw.get("kind")
            if kind not in FAULT_KINDS:
                raise self._error(f"fault kind {kind!r} is not one of {', '.join(FAULT_KINDS)}")
            self._faults.append(dict(raw))

    def _span(self: SimulatedKernel, number: int, raw: dict[str, Any], base: int) -> _Span:
        lib = self.lib
        known = {"type", "name", "description", "manufacturer", "devicetype", "location",
                 "irq", "configured", "framing", "coding", "crc4", "timing", "far_end",
                 "line", "ports", "counters", "idlebits", "hybrid"}
        unknown = set(raw) - known
        if unknown:
            raise self._error(f"span {number}: unknown key(s) {', '.join(sorted(unknown))}; "
                              f"known: {', '.join(sorted(known))}")
        kind = str(raw.get("type", "E1"))
        if kind not in ("E1", "T1", "J1", "analog"):
            raise self._error(f"span {number}: type must be E1, T1, J1 or analog, not {kind!r}")
        e1 = kind == "E1"
        configured = str(raw.get("configured", "pri" if kind != "analog" else "analog"))
        line_raw = raw.get("line", {})
        # An E1 CAS span's line is framed for CAS (timeslot 16 multiframe) unless it says.
        line = _Line(str(line_raw.get("framing", ("cas" if configured == "cas" else "ccs")
                                      if e1 else "esf")),
                     str(line_raw.get("coding", "hdb3" if e1 else "b8zs")),
                     bool(line_raw.get("crc4", e1)), bool(line_raw.get("signal", True)))
        ports = list(raw.get("ports", []))
        total = {"E1": 31, "T1": 24, "J1": 24}.get(kind, len(ports))
        if kind == "analog" and (not ports or set(ports) - {"fxo", "fxs"}):
            raise self._error(f"span {number}: an analog span needs ports = [\"fxo\"|\"fxs\"...]")
        if "hybrid" in raw:
            self._hybrid(number, raw["hybrid"], base, ports)
        if kind == "analog" and str(raw.get("far_end", "none")) not in ("none", "exchange",
                                                                         "loop"):
            raise self._error(f"span {number}: an analog span's far_end is \"exchange\" (the "
                              f"emulated network's lines and phones) or \"none\"")
        if kind != "analog" and raw.get("far_end") == "exchange" and (
                kind != "E1" or raw.get("configured", "pri") != "pri"):
            raise self._error(f"span {number}: far_end = \"exchange\" is for analog spans "
                              "and E1 PRI spans")
        span = _Span(
            number, kind, str(raw.get("name", f"SIM/{number}")),
            str(raw.get("description", f"Simulated {kind} span {number}")),
            str(raw.get("manufacturer", "trunkline")),
            str(raw.get("devicetype", "Simulated")), str(raw.get("location", "simulation")),
            int(raw.get("irq", 16)), base, total, line, str(raw.get("far_end", "loop")),
        )
        for key, value in raw.get("counters", {}).items():
            span.counters[key] = int(value)
        self.spans.append(span)
        if kind != "analog" and configured not in ("pri", "cas", "ss7", "clear", ""):
            raise self._error(f"span {number}: configured must be pri, cas, ss7, clear or "
                              f"\"\" (not configured), not {configured!r}")
        idlebits = str(raw.get("idlebits", "0000"))
        if len(idlebits) != 4 or set(idlebits) - {"0", "1"}:
            raise self._error(f"span {number}: idlebits are ABCD as four 0/1 digits (as "
                              f"system.conf's cas=1-15:1101), not {idlebits!r}")
        for pos in range(1, total + 1):
            ch = base + pos - 1
            if kind == "analog":
                module = ports[pos - 1]
                # An FXO module is driven with FXS signalling and the other way round
                # (user.h names DAHDI_SIG_* after the signalling, not the port).
                cap = lib.DAHDI_SIG_FXSKS | lib.DAHDI_SIG_FXSLS | lib.DAHDI_SIG_FXSGS \
                    if module == "fxo" else \
                    lib.DAHDI_SIG_FXOKS | lib.DAHDI_SIG_FXOLS | lib.DAHDI_SIG_FXOGS
                sig = (lib.DAHDI_SIG_FXSKS if module == "fxo" else lib.DAHDI_SIG_FXOKS) \
                    if configured else 0
                self.chans[ch] = _Chan(ch, number, pos, cap, sig,
                                       lib.DAHDI_LAW_ALAW if self.zone not in ("us", "jp")
                                       else lib.DAHDI_LAW_MULAW, module,
                                       audio=self.audio_flag(sig))
                continue
            # What the E1/T1 drivers offer (wct4xxp t4_chan_set_sigcap: CCS adds MTP2 and
            # HARDHDLC, CAS adds CAS; HDLCFCS is within MTP2's bits), for either framing.
            cap = lib.DAHDI_SIG_CLEAR | lib.DAHDI_SIG_HDLCFCS | lib.DAHDI_SIG_HARDHDLC \
                | lib.DAHDI_SIG_CAS | lib.DAHDI_SIG_MTP2
            law = lib.DAHDI_LAW_ALAW if e1 else lib.DAHDI_LAW_MULAW
            sig = 0
            dpos = 16 if e1 else 24
            if configured == "pri":
                sig = lib.DAHDI_SIG_HDLCFCS if pos == dpos else lib.DAHDI_SIG_CLEAR
            elif configured == "ss7":
                sig = lib.DAHDI_SIG_MTP2 if pos == dpos else lib.DAHDI_SIG_CLEAR
            elif configured == "cas":
                sig = 0 if (e1 and pos == 16) else lib.DAHDI_SIG_CAS
            elif configured == "clear":
                sig = lib.DAHDI_SIG_CLEAR
            chan = self.chans[ch] = _Chan(ch, number, pos, cap, sig, law,
                                          audio=self.audio_flag(sig))
            if sig == lib.DAHDI_SIG_CAS:
                # As after dahdi_cfg: CHANCONFIG keeps the idle bits, the hangup sends
                # them and rxsig starts from them (dahdi_chanconfig, dahdi_q_sig).
                chan.idlebits = chan.txbits = chan.rxbits = int(idlebits, 2)
        if kind != "analog":
            self._far_span(span)  # (checked now, joined once every span is known)
        if "far_end" in raw:
            self._far_given.add(number)
        if "line" in raw:
            self._line_given.add(number)
        if configured and kind != "analog":
            framing = str(raw.get("framing", line.framing))
            coding = str(raw.get("coding", line.coding))
            crc4 = bool(raw.get("crc4", line.crc4))
            span.lineconfig = self.lineconfig(framing, coding, crc4)
            span.sync = int(raw.get("timing", 0))
            span.running = True
        elif kind == "analog":
            span.running = True
        return span

    def _hybrid(self: SimulatedKernel, number: int, raw: Any, base: int, ports: list[str]) -> None:
        """An analog span's ``hybrid``: for each FXO port (in port order) the DAA setting
        that balances its line, ``{acim = N, coefs = [8 x 0..255]}`` (simwctdm.py); the
        ports then hear the echo of what they send, as that setting leaves it."""
        from trunkline.drivers.backends.dahdi.simwctdm import Balance

        fxo = [base + i for i, kind in enumerate(ports) if kind == "fxo"]
        if not isinstance(raw, list) or len(raw) != len(fxo):
            raise self._error(f"span {number}: hybrid is a list of one {{acim, coefs}} "
                              f"table per FXO port ({len(fxo)} here)")
        for chan, item in zip(fxo, raw, strict=True):
            try:
                self.balances[chan] = Balance(int(item["acim"]),
                                              tuple(int(c) for c in item.get("coefs", [0] * 8)))
            except (KeyError, TypeError, ValueError) as err:
                raise self._error(f"span {number}: hybrid of channel {chan}: {err}") from None

    def _far_span(self: SimulatedKernel, span: _Span) -> int | None:
        """The span a ``far_end = "span N"`` cable joins (None: loop, idle, exchange)."""
        if span.far_end in ("loop", "idle", "exchange"):
            return None
        try:
            number = far_end_span(span.far_end)
        except ValueError as err:
            raise self._error(f"span {span.number}: {err}") from None
        if number is None:
            raise self._error(f"span {span.number}: far_end must be \"loop\", \"idle\" or "
                              f"\"span N\", not {span.far_end!r}")
        return number

    def _cables(self: SimulatedKernel) -> None:
        """Join the spans whose far end is another span (one side saying so is enough;
        two sides saying different things is an error)."""
        for span in self.spans:
            number = self._far_span(span) if span.kind != "analog" else None
            if number is None:
                continue
            where = f"span {span.number}: far_end = {span.far_end!r}"
            if not 1 <= number <= len(self.spans) or number == span.number:
                raise self._error(f"{where} names no other span of this system")
            far = self.spans[number - 1]
            if far.kind != span.kind:
                raise self._error(f"{where} joins a {span.kind} span to a {far.kind} span")
            other = self.cross.peer.get(far.number)
            if other not in (None, span.number) or (far.number in self._far_given and
                                                    self._far_span(far) != span.number):
                raise self._error(f"{where}, but span {number} says far_end = "
                                  f"{far.far_end!r}")
            for end in (span, far):
                if end.number in self._line_given:
                    raise self._error(f"span {end.number} is cabled to a span of this system "
                                      "(far_end): it has no [span.line] of its own")
            self.cross.join(span.number, number)
            far.far_end = f"span {span.number}"

    def lineconfig(self: SimulatedKernel, framing: str, coding: str, crc4: bool) -> int:
        lib = self.lib
        bits = {"ccs": lib.DAHDI_CONFIG_CCS, "cas": 0, "d4": lib.DAHDI_CONFIG_D4,
                "esf": lib.DAHDI_CONFIG_ESF, "sf": lib.DAHDI_CONFIG_D4}[framing]
        bits |= {"hdb3": lib.DAHDI_CONFIG_HDB3, "ami": lib.DAHDI_CONFIG_AMI,
                 "b8zs": lib.DAHDI_CONFIG_B8ZS}[coding]
        return bits | (lib.DAHDI_CONFIG_CRC4 if crc4 else 0)
