"""``scan --via dahdi_scan``, ``test timing --via dahdi_test``, ``test loopback --via
dahdi_maint`` and ``config apply --via dahdi_cfg``: the real tools, our verdicts.

Why: an installer who trusts dahdi-tools can ask trunkline to run them, as they would by
hand, and read the answer in trunkline's terms: the same findings, causes and verdict
as the native path (``trunkline scan``, ``test timing``), which tests check against
each other (tests/dahdi/test_dahdi_tools.py). The tools' own failures become ours
(exit status and stderr in the error).

``dahdi_scan`` prints each span's alarms but no error counters, so ``--via dahdi_scan``
judges alarms only; the native scan also reads the counters. ``config apply --via
dahdi_cfg`` writes the TOML as system.conf (what ``config generate --system-conf``
writes) and runs ``dahdi_cfg -c`` on it; an error on one of its lines names the line.
``test loopback --via dahdi_maint`` sets and ends each span's loop with ``dahdi_maint -s
N --loopback ...`` and runs the same pattern test through trunkline's own channels.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable

from trunkline.drivers.model import Alarm, SpanInfo, SpanKind, SpanSignalling, SpanStatus
from trunkline.errors import BackendError, ConfigError

from .dahditools import ScanSpan, cfg_errors, parse_dahdi_scan, parse_dahdi_test

__all__ = [
    "apply_via_dahdi_cfg",
    "loop_via_dahdi_maint",
    "run_tool",
    "scan_findings",
    "scan_via_dahdi_scan",
    "timing_via_dahdi_test",
]

#: dahdi_scan's alarm words (dahdi_scan.c) as the alarm bits or the detail they name.
ALARM_WORDS: dict[str, Alarm] = {
    "OK": Alarm.NONE, "UNCONFIGURED": Alarm.NOTOPEN, "NOP": Alarm.NOTOPEN,
    "RED": Alarm.RED, "YEL": Alarm.YELLOW, "BLU": Alarm.BLUE, "LB": Alarm.LOOPBACK,
    "REC": Alarm.RECOVER, "UUU": Alarm.NONE,
}
DETAIL_WORDS = ("LFA", "LMFA")


def run_tool(name: str, *args: str, check: bool = True, env: dict[str, str] | None = None,
             ) -> subprocess.CompletedProcess[str]:
    """Run one of dahdi-tools (from PATH, /usr/sbin or /sbin); its failure is ours.
    ``env``: the whole environment to run it in (default: ours)."""
    path = shutil.which(name, path=os.pathsep.join(
        [os.environ.get("PATH", ""), "/usr/sbin", "/sbin"]))
    if path is None:
        raise ConfigError(f"{name} not found: install Debian's dahdi package (dahdi-tools)"
                          " or drop --via")
    proc = subprocess.run([path, *args], capture_output=True, text=True, check=False,
                          env=env)
    if check and proc.returncode != 0:
        raise BackendError(f"{name} failed (status {proc.returncode}): "
                           f"{proc.stderr.strip() or proc.stdout.strip()}")
    return proc


def _framing(span: ScanSpan) -> tuple[str, bool]:
    framing, _, crc = span.values.get("framing", "").partition("/")
    return framing.lower(), crc == "CRC4"


def span_model(span: ScanSpan) -> tuple[SpanInfo, SpanStatus, list[str]]:
    """A digital dahdi_scan block as trunkline's span description, state and detail."""
    kind = SpanKind.T1 if span.values.get("type") in ("digital-T1", "digital-J1") \
        else SpanKind.E1
    framing, crc4 = _framing(span)
    total = int(span.values.get("totchans", "0"))
    info = SpanInfo(span.number, kind, SpanSignalling.PRI, tuple(range(1, total + 1)),
                    framing=framing, coding=span.values.get("coding", "").lower(),
                    crc4=crc4, description=span.values.get("description", ""))
    alarms, detail = Alarm.NONE, []
    for word in span.alarms.split("/"):
        if word in DETAIL_WORDS:
            detail.append(word)
        else:
            alarms |= ALARM_WORDS.get(word, Alarm.NONE)
    return info, SpanStatus(span.number, alarms, sync_source=int(
        span.values.get("syncsrc", "0"))), detail


def scan_findings(spans: list[ScanSpan]) -> list:
    """The native scan's span findings, from what dahdi_scan printed."""
    from .checks import Finding, diagnose_span

    findings: list[Finding] = []
    for span in spans:
        if not span.digital:
            ports = [kind for _, kind in span.ports]
            findings.append(Finding("PASS", f"DAHDI span {span.number} (analog)",
                                    f"{len(ports)} analog ports ({ports.count('FXO')} FXO, "
                                    f"{ports.count('FXS')} FXS)"))
            continue
        info, status, detail = span_model(span)
        for finding in diagnose_span(info, status, detail):
            findings.append(Finding(finding.level, f"DAHDI {finding.subject}",
                                    finding.message, finding.cause))
    return findings


def scan_via_dahdi_scan(args: argparse.Namespace) -> int:
    from .common import report

    spans = parse_dahdi_scan(run_tool("dahdi_scan").stdout)
    findings = scan_findings(spans)
    if args.json:
        return report(findings, True, {"via": "dahdi_scan", "dahdi_scan": [
            {"span": s.number, **s.values, "ports": [list(p) for p in s.ports]}
            for s in spans]})
    for span in spans:
        print(f"DAHDI span {span.number}: {span.values.get('name', '')} "
              f"\"{span.values.get('description', '')}\" {span.values.get('type', '')} "
              f"{span.values.get('framing', '')} alarms {span.alarms}")
    print()
    return report(findings)


#: ``trunkline test loopback --mode`` as dahdi_maint's ``--loopback`` words (dahdi_maint.c:
#: localhost is DAHDI_MAINT_LOCALLOOP, networkline NETWORKLINELOOP, networkpayload
#: NETWORKPAYLOADLOOP, off NONE).
MAINT_WORDS = {"local": "localhost", "network_line": "networkline",
               "network_payload": "networkpayload", "off": "off"}


def loop_via_dahdi_maint(card: object) -> Callable[[int, str], None]:
    """A ``set_loop`` for :func:`~.testing.run_loopback` that runs the real dahdi_maint
    on the DAHDI span behind each of the card's spans."""
    dahdi_span = getattr(card, "dahdi_span", None)
    if dahdi_span is None:
        raise ConfigError("--via dahdi_maint needs the DAHDI backend (--card dahdi)")

    def set_loop(span: int, mode: str) -> None:
        run_tool("dahdi_maint", "-s", str(dahdi_span(span)), "--loopback", MAINT_WORDS[mode])

    return set_loop


def timing_via_dahdi_test(args: argparse.Namespace) -> int:
    from .checks import judge_timing
    from .common import report

    result = parse_dahdi_test(run_tool("dahdi_test", "-c", str(args.passes)).stdout)
    for i, pct in enumerate(result.passes, start=1):
        print(f"pass {i}: {pct:.4f}%")
    return report(judge_timing(result))


def apply_via_dahdi_cfg(args: argparse.Namespace, config: object) -> int:
    """``dahdi_cfg -c`` (``-t`` with --dry-run) on the TOML written as system.conf."""
    from trunkline.drivers.backends.dahdi import sysconf

    from .checks import Finding
    from .common import report

    assert isinstance(config, sysconf.DahdiConfig)
    text = sysconf.to_system_conf(config, f"Written by `trunkline config apply --via "
                                          f"dahdi_cfg` from {args.config}")
    lines = text.splitlines()
    with tempfile.NamedTemporaryFile("w", prefix="system-", suffix=".conf") as conf:
        conf.write(text)
        conf.flush()
        flags = ["-t"] if args.dry_run else []
        proc = run_tool("dahdi_cfg", *flags, "-c", conf.name, check=False)
    findings: list[Finding] = []
    if proc.returncode == 0:
        spans = sum(1 for line in lines if line.startswith("span="))
        done = "checked" if args.dry_run else "applied"
        findings.append(Finding("PASS", "apply", f"dahdi_cfg {done} {spans} spans and their "
                                "channels; run `trunkline scan` to see the spans come up"))
        return report(findings)
    errors = cfg_errors(proc.stderr)
    for number, message in errors:
        line = lines[number - 1] if 0 < number <= len(lines) else ""
        findings.append(Finding("FAIL", f"system.conf line {number} ({line})", message,
                                "the TOML gives dahdi_cfg a line it refuses"))
    if not errors:
        findings.append(Finding("FAIL", "apply", f"dahdi_cfg failed (status "
                                f"{proc.returncode}): {proc.stderr.strip()}",
                                "a channel is in use (stop the gateway), or the board does "
                                "not support this signalling"))
    return report(findings)
