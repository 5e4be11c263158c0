"""``trunkline test echo --via fxotune``: the real fxotune tunes each FXO port's hybrid,
trunkline reads what it found and checks the board kept it.

Why: an analog line echoes what the port sends back into what it receives (the DAA's
hybrid balances the line's impedance only as well as its settings match it). Installers
run ``fxotune -i`` once per line, keep ``/etc/fxotune.conf`` and apply it at boot with
``fxotune -s``; this wrapper runs it for them and reads the answer into trunkline's
terms: per port, the setting chosen (ACIM and the eight hybrid coefficients), the echo
it measured with it, a verdict, and whether the DAA's registers now hold it (read back
with ``WCTDM_GET_REGS``, registers 30 and 45..52).

What fxotune (dahdi-tools 3.1.0) does and prints, from its source (``fxotune.c``): for
each channel from ``-b`` to ``-e`` it goes off hook, dials ``-n``/``-i`` DIALSTRING (``5``
by default, to stop dial tone) and, ``-m`` seconds later (18), does it again; it sweeps
72 settings (``WCTDM_SET_ECHOTUNE``), each time sending 2000 samples of six DTMF
frequencies and measuring what comes back at them over 4000 samples; ``-v`` prints each
setting as ``acim,coef1..coef8: magnitude = M, echo = E dB`` (E = 20 log10 of received /
sent magnitude: minus the return loss) and ``Config with lowest response = I, magnitude
= M, echo = E dB``; ``-p`` the five best as ``Res #k: index=I, ...``; the best goes to
the ``-c`` file as ``CHANNEL=acim,coef1,...,coef8`` and is set on the port. A channel that
is not an FXO port, or not configured, is refused with a message on stderr.
"""

from __future__ import annotations

import argparse
import errno
import fcntl
import math
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from trunkline.errors import ConfigError

from .via import run_tool

__all__ = ["EchoSetting", "FxotunePort", "echo_finding", "echo_via_fxotune", "parse_fxotune",
           "parse_fxotune_conf", "read_echo_registers"]

#: ITU-T G.168 specifies echo cancellers for an echo return loss of 6 dB or more: a
#: hybrid that returns more than that is beyond what any canceller is meant to handle.
FAIL_BELOW_DB = 6.0
#: Below 20 dB of return loss the canceller does most of the work (a WARN).
WARN_BELOW_DB = 20.0


@dataclass(frozen=True)
class EchoSetting:
    """One DAA setting: ACIM (0..15) and the hybrid's eight coefficients (0..255)."""

    acim: int
    coefs: tuple[int, ...]

    def __str__(self) -> str:
        return ",".join(str(v) for v in (self.acim, *self.coefs))


@dataclass
class FxotunePort:
    """What fxotune said about one channel."""

    channel: int
    tries: list[tuple[EchoSetting, float, float]] = field(default_factory=list)
    best: EchoSetting | None = None
    best_magnitude: float | None = None
    best_echo_db: float | None = None
    done: bool = False
    error: str = ""

    @property
    def return_loss_db(self) -> float | None:
        return None if self.best_echo_db is None else -self.best_echo_db


_NUM = r"(-?(?:\d+(?:\.\d+)?|inf|nan))"
_TRY = re.compile(r"^\s*(\d+(?:\s*,\s*\d+){8}): magnitude = " + _NUM + r", echo = " + _NUM
                  + r" dB$")
_LOWEST = re.compile(r"^Config with lowest response = (\d+), magnitude = " + _NUM
                     + r", echo = " + _NUM + r" dB$")
_BEST = re.compile(r"^Found best echo coefficients: (\d+)=(\d+(?:,\d+){8})$")
_TUNING = re.compile(r"^Tuning module (\d+)$")
_REFUSED = re.compile(r"^(?:Channel (\d+) is not an FXO port\.|(\d+) is not a valid channel "
                      r"number\.|Cannot run on unconfigured channel (\d+)\..*)$")


def _setting(text: str) -> EchoSetting:
    values = [int(v) for v in text.replace(" ", "").split(",")]
    return EchoSetting(values[0], tuple(values[1:]))


def parse_fxotune(stdout: str, stderr: str = "") -> list[FxotunePort]:
    """fxotune's ``-i -v`` output, port by port (a line it prints that is neither a
    setting nor a message this reader knows is an error: a changed format must not pass
    as a tuned port)."""
    ports: list[FxotunePort] = []
    for number, raw in enumerate(stdout.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith(("Top ", "Res #", "Resetting line")):
            continue
        head = _TUNING.match(line)
        if head:
            ports.append(FxotunePort(int(head.group(1))))
            continue
        if line.startswith("fxotune: "):  # its own -s step after the sweep
            continue
        if not ports:
            raise ValueError(f"fxotune output line {number} comes before any 'Tuning "
                             f"module N': {raw!r}")
        port = ports[-1]
        if m := _TRY.match(line):
            port.tries.append((_setting(m.group(1)), float(m.group(2)), float(m.group(3))))
        elif m := _LOWEST.match(line):
            port.best_magnitude, port.best_echo_db = float(m.group(2)), float(m.group(3))
            index = int(m.group(1))
            if 0 <= index < len(port.tries):
                port.best = port.tries[index][0]
        elif m := _BEST.match(line):
            port.best = _setting(m.group(2))
        elif line == "Done!":
            port.done = True
        elif line == "Failure!":
            port.error = port.error or "fxotune failed on this port"
        else:
            raise ValueError(f"fxotune output line {number} is not one this reader knows: "
                             f"{raw!r}")
    for raw in stderr.splitlines():
        m = _REFUSED.match(raw.strip())
        if m:
            chan = int(next(g for g in m.groups() if g))
            ports.append(FxotunePort(chan, error=raw.strip()))
    return ports


def parse_fxotune_conf(text: str, source: str = "fxotune.conf") -> dict[int, EchoSetting]:
    """An fxotune.conf (``CHANNEL=acim,coef1,...,coef8`` per line), checked as ``fxotune
    -s`` checks it (each value 0..255); an error names the line."""
    out: dict[int, EchoSetting] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        chan, sep, values = line.partition("=")
        parts = values.split(",")
        if not sep or not chan.strip().isdigit() or len(parts) != 9 or not all(
                p.strip().isdigit() and int(p) <= 255 for p in parts):
            raise ConfigError(f"line {number}: expected CHANNEL=acim,coef1,...,coef8 with "
                              f"values 0..255, not {raw!r}", source=source)
        out[int(chan)] = _setting(values)
    return out


def read_echo_registers(channel: int) -> EchoSetting:
    """The DAA's echo registers of an FXO port (30 and 45..52) through WCTDM_GET_REGS on
    its channel node, as the board holds them now."""
    from trunkline.drivers.backends.dahdi.wctdm import REG_ACIM, REG_HYB1, wctdm_binding

    ext = wctdm_binding()
    buf = bytearray(ext.ffi.sizeof("struct wctdm_regs"))
    fd = os.open(f"/dev/dahdi/{channel}", os.O_RDWR)
    try:
        fcntl.ioctl(fd, ext.lib.WCTDM_GET_REGS, buf)
    finally:
        os.close(fd)
    regs = ext.ffi.cast("struct wctdm_regs *", ext.ffi.from_buffer(buf))
    return EchoSetting(regs.direct[REG_ACIM],
                       tuple(regs.direct[REG_HYB1 + k] for k in range(8)))


def _fxo_ports(args: argparse.Namespace) -> list[int]:
    from trunkline.drivers.backends.dahdi.sysconf import parse_ranges
    from trunkline.drivers.model import SpanKind

    from .common import open_card

    with open_card(args) as card:
        if getattr(card, "dahdi_spans", None) is None:
            raise ConfigError("--via fxotune needs the DAHDI backend (--card dahdi)")
        fxo = [c for s in card.spans if s.kind is SpanKind.FXO for c in s.channels]
    if args.channels:
        wanted = list(parse_ranges(args.channels))
        others = [c for c in wanted if c not in fxo]
        if others:
            raise ConfigError(f"channels {others} are not configured FXO ports (the FXO "
                              f"ports are {fxo or 'none'})")
        return wanted
    return fxo


def _verdict(port: FxotunePort, kept: EchoSetting | None, read_error: str):
    from .common import make_finding

    subject = f"FXO port {port.channel}"
    if port.error or port.best is None or port.return_loss_db is None:
        return make_finding("FAIL", subject, port.error or "fxotune found no setting",
                            "not an FXO port, not configured, held by another program "
                            "(stop the gateway), or no line")
    loss = port.return_loss_db
    text = (f"acim {port.best.acim}, coefficients {','.join(map(str, port.best.coefs))}: "
            f"echo {port.best_echo_db:.1f} dB (return loss {loss:.1f} dB, "
            f"{len(port.tries)} settings tried)")
    if read_error:
        return make_finding("FAIL", subject, f"{text}; the board's registers could not be "
                            f"read back: {read_error}")
    if kept != port.best:
        return make_finding("FAIL", subject, f"{text}; but the DAA holds {kept}",
                            "fxotune did not set it: run fxotune -s")
    return echo_finding(port.channel, -loss, text + "; set in the DAA")


def echo_finding(channel: int, echo: float, text: str = ""):
    """The verdict on a port's echo (dB, as fxotune measures it: minus the return loss),
    the same for ``test echo`` and ``test echo --via fxotune``."""
    from .common import make_finding

    loss = -echo
    subject = f"FXO port {channel}"
    text = text or f"echo {echo:.1f} dB (return loss {loss:.1f} dB) at the port's setting"
    if not math.isfinite(loss) or loss < FAIL_BELOW_DB:
        return make_finding("FAIL", subject, text, "the line echoes more than an echo "
                            "canceller handles (G.168: 6 dB): check the line and opermode, "
                            "and tune it (test echo --via fxotune)")
    if loss < WARN_BELOW_DB:
        return make_finding("WARN", subject, text, "a poorly balanced line: the echo "
                            "canceller does most of the work (tune it: test echo --via "
                            "fxotune)")
    return make_finding("PASS", subject, text)


def echo_via_fxotune(args: argparse.Namespace) -> int:
    """Tune each FXO port with ``fxotune -i``, then judge and check the result."""
    from .common import report

    ports = _fxo_ports(args)
    if not ports:
        raise ConfigError("no configured FXO port to tune (configure them first: "
                          "trunkline config apply, or dahdi_cfg)")
    results: list[FxotunePort] = []
    lines: list[str] = []
    with tempfile.TemporaryDirectory(prefix="trunkline-fxotune-") as tmp:
        for chan in ports:
            conf = Path(tmp) / f"{chan}.conf"
            # One run per port: fxotune -i truncates its -c file, and one port's failure
            # must not hide the others'.
            proc = run_tool("fxotune", "-i", args.dial, "-b", str(chan), "-e", str(chan),
                            "-l", str(args.delay), "-m", str(args.silence), "-c", str(conf),
                            "-v", "-p", check=False)
            found = [p for p in parse_fxotune(proc.stdout, proc.stderr) if p.channel == chan]
            port = found[0] if found else FxotunePort(chan, error=(
                f"fxotune (status {proc.returncode}): "
                f"{proc.stderr.strip() or proc.stdout.strip()[-200:]}"))
            if conf.is_file():
                saved = parse_fxotune_conf(conf.read_text(), str(conf)).get(chan)
                if saved is not None:
                    port.best = saved  # what fxotune wrote is what -s will set at boot
                    lines.append(f"{chan}={saved}")
            results.append(port)
    findings = []
    for port in results:
        kept, read_error = None, ""
        if port.best is not None and not port.error:
            try:
                kept = read_echo_registers(port.channel)
            except OSError as err:
                read_error = os.strerror(err.errno or errno.EIO)
        findings.append(_verdict(port, kept, read_error))
    if args.config and lines:
        Path(args.config).write_text("\n".join(lines) + "\n", encoding="utf-8")
        print(f"wrote {args.config} (apply at boot with: fxotune -s -c {args.config})")
    return report(findings)
