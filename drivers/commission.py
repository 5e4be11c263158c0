"""The installer's commissioning tools: ``trunkline scan``, ``config``, ``status``, ``test``.

They work on any backend (a DAHDI board, the simulated DAHDI kernel with
``--card dahdi:sim``, or the emulated card), through the same backend interface as
everything else. Each command prints verdicts an installer can act on (PASS / WARN /
FAIL with the likely cause) and exits 1 when any verdict is FAIL, so scripts can use it.
The checks themselves live in :mod:`trunkline.drivers.commission_checks`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from trunkline.clock import RealClock
from trunkline.errors import BackendError, CardNotFound, ConfigError

DEFAULT_SYSTEM_CONF = "/etc/dahdi/system.conf"
DEFAULT_CHAN_DAHDI = "/etc/asterisk/chan_dahdi.conf"


def register(subparsers: argparse._SubParsersAction) -> None:
    from trunkline.drivers.cli import card_options

    scan = subparsers.add_parser(
        "scan", help="boards, spans, alarms, framing, sync source and counters, with verdicts",
        description="List the boards and spans found, their alarms, framing, coding, sync "
                    "source and error counters, with the likely cause of each fault. With "
                    "--card dahdi and no DAHDI loaded, lists the boards on the PCI bus and "
                    "the kernel module each needs.")
    card_options(scan)
    scan.add_argument("--json", action="store_true", help="print one JSON object")
    scan.add_argument("--sysfs", default="/sys", help=argparse.SUPPRESS)
    scan.set_defaults(handler=_scan)

    config = subparsers.add_parser("config", help="generate, import or apply a card "
                                   "configuration")
    csub = config.add_subparsers(dest="config_command", metavar="ACTION")
    gen = csub.add_parser("generate", help="a configuration for the hardware found "
                          "(like dahdi_genconf)")
    card_options(gen)
    gen.add_argument("-o", "--output", metavar="FILE", help="write the TOML here "
                     "(default: stdout)")
    gen.add_argument("--system-conf", metavar="FILE", help="also write a DAHDI system.conf")
    gen.add_argument("--pri", choices=["cpe", "net"], default="cpe",
                     help="PRI side of the digital spans (default: cpe)")
    gen.add_argument("--zone", help="tone zone (default: the card's, else cn)")
    gen.set_defaults(handler=_config_generate)
    imp = csub.add_parser("import", help="read system.conf and chan_dahdi.conf into TOML")
    imp.add_argument("--system-conf", default=DEFAULT_SYSTEM_CONF, metavar="FILE")
    imp.add_argument("--chan-dahdi", metavar="FILE",
                     help=f"chan_dahdi.conf (default: {DEFAULT_CHAN_DAHDI} if present)")
    imp.add_argument("-o", "--output", metavar="FILE", help="write the TOML here")
    imp.set_defaults(handler=_config_import)
    app = csub.add_parser("apply", help="configure spans and channels from a TOML "
                          "(like dahdi_cfg)")
    app.add_argument("config", metavar="CONFIG.toml")
    card_options(app)
    app.add_argument("--dry-run", action="store_true", help="check and show, change nothing")
    app.set_defaults(handler=_config_apply)
    config.set_defaults(handler=lambda args: _usage(config))

    status = subparsers.add_parser("status", help="live span and channel view")
    card_options(status)
    status.add_argument("--once", action="store_true", help="print once and exit")
    status.add_argument("--interval", type=float, default=1.0, metavar="SECONDS")
    status.add_argument("--count", type=int, default=0,
                        help="stop after this many refreshes (default: until Ctrl-C)")
    status.set_defaults(handler=_status)

    test = subparsers.add_parser("test", help="commissioning tests: timing, loopback, "
                                 "tones, levels")
    tsub = test.add_subparsers(dest="test_command", metavar="TEST")
    timing = tsub.add_parser("timing", help="like dahdi_test: 99.99%% or better passes")
    card_options(timing)
    timing.add_argument("--passes", type=int, default=5, help="1-second passes (default 5)")
    timing.set_defaults(handler=_test_timing)
    loop = tsub.add_parser("loopback", help="span loopbacks and a B-channel pattern test")
    card_options(loop)
    loop.add_argument("--span", type=int, action="append",
                      help="span to test (repeatable; default: every digital span)")
    loop.add_argument("--mode", choices=["local", "network_line", "network_payload"],
                      default="local")
    loop.add_argument("--seconds", type=float, default=2.0, help="pattern length / hold")
    loop.add_argument("--off", action="store_true", help="only end any loopback")
    loop.set_defaults(handler=_test_loopback)
    tones = tsub.add_parser("tones", help="play and detect zone tones end to end")
    card_options(tones)
    tones.add_argument("--zone", help="tone zone (default: the card's, else cn)")
    tones.add_argument("--span", type=int, help="digital span to loop (default: first up)")
    tones.add_argument("--channel", type=int, help="FXO port to check dial tone on "
                       "(default: first FXO port)")
    tones.add_argument("--seconds", type=float, default=6.0)
    tones.set_defaults(handler=_test_tones)
    levels = tsub.add_parser("levels", help="rx/tx levels per channel")
    card_options(levels)
    levels.add_argument("--channels", help="channel ranges (default: every analog port)")
    levels.add_argument("--onhook", action="store_true",
                        help="leave FXO ports on hook (default: off hook, to hear dial tone)")
    levels.add_argument("--seconds", type=float, default=1.0)
    levels.set_defaults(handler=_test_levels)
    test.set_defaults(handler=lambda args: _usage(test))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _open(args: argparse.Namespace):
    from trunkline.drivers.cli import open_card_from_args

    return open_card_from_args(args, virtual=not getattr(args, "realtime", False))


def _report(findings: list, as_json: bool = False, extra: dict[str, Any] | None = None) -> int:
    from trunkline.drivers.commission_checks import worst

    verdict = worst(findings)
    if as_json:
        print(json.dumps({**(extra or {}), "verdict": verdict,
                          "findings": [f.as_dict() for f in findings]}, ensure_ascii=False))
    else:
        for f in findings:
            print(f.line())
        print(f"verdict: {verdict}")
    return 1 if verdict == "FAIL" else 0


def _zone_of(card: Any, requested: str | None) -> str:
    if requested:
        return requested
    plan = getattr(card, "plan", None)
    return getattr(plan, "zone", None) or "cn"


# -- scan ------------------------------------------------------------------------------------
def _scan(args: argparse.Namespace) -> int:
    from trunkline.drivers.commission_checks import (
        describe_card,
        diagnose_span,
        diagnose_timing,
    )

    try:
        card = _open(args)
    except CardNotFound:
        if args.card.split(":", 1)[0] == "dahdi":
            _print_pci(args.sysfs)
        raise
    with card:
        info = describe_card(card)
        findings = []
        try:
            card.read_frames()  # one frame: lets the card report its current state
            card.poll_events()
        except BackendError as err:
            findings.append(_finding("FAIL", "timing", "the card delivers no frames",
                                     f"no timing source: {err}"))
        statuses = {s.number: card.span_status(s.number) for s in card.spans}
        rows = []
        for s in card.spans:
            st = statuses[s.number]
            detail_fn = getattr(card, "alarm_detail", None)
            detail = detail_fn(s.number) if callable(detail_fn) else []
            findings += diagnose_span(s, st, detail)
            c = st.counters
            rows.append({
                "span": s.number, "kind": s.kind.value, "signalling": s.signalling.value,
                "channels": len(s.channels), "dchannel": s.dchannel, "framing": s.framing,
                "coding": s.coding, "crc4": s.crc4, "law": s.law,
                "alarms": _alarm_text(st.alarms), "sync_source": st.sync_source,
                "counters": {"bpv": c.bpv, "crc4": c.crc4, "fas": c.fas, "ebit": c.ebit,
                             "errsec": c.errsec, "slips": c.timingslips,
                             "irqmisses": c.irqmisses},
                "description": s.description,
            })
        findings += diagnose_timing(card, statuses)
        for hw in info["spans"]:
            by_reason: dict[str, list[int]] = {}
            for ch, reason in sorted(hw.get("unusable", {}).items()):
                by_reason.setdefault(reason, []).append(ch)
            for reason, chans in by_reason.items():
                from trunkline.drivers.backends.dahdi.sysconf import format_ranges

                findings.append(_finding("WARN", f"DAHDI span {hw['span']} channels "
                                         f"{format_ranges(chans)}", reason))
        version = getattr(card, "version", None)
        if callable(version):
            info["dahdi_version"], info["echo_cancellers"] = version()
    if args.json:
        return _report(findings, True, {"card": info, "spans": rows})
    print(f"card: {info['name']} (backend {info['backend']})")
    if "dahdi_version" in info:
        print(f"DAHDI {info['dahdi_version']}, echo cancellers: "
              f"{info['echo_cancellers'] or 'none'}")
    for hw in info["spans"]:
        from trunkline.drivers.backends.dahdi.profiles import profile_for

        prof = profile_for(hw["devicetype"])
        module = f", module {prof.module}" if prof else ""
        print(f"  DAHDI span {hw['span']}: {hw['name']} \"{hw['description']}\" "
              f"[{hw['manufacturer']} {hw['devicetype']}{module}] at {hw['location']}, "
              f"IRQ {hw['irq']}, {hw['configured']}/{hw['channels']} channels configured")
    print()
    print(f"{'span':>4} {'kind':<4} {'sig':<6} {'chans':>5} {'framing':<14} {'alarms':<16} "
          f"{'sync':>4} {'bpv':>5} {'crc4':>5} {'fas':>5} {'slips':>5} {'irqm':>5}")
    for r in rows:
        framing = "/".join(x for x in (r["framing"], r["coding"], "crc4" if r["crc4"] else "")
                           if x) or "-"
        c = r["counters"]
        print(f"{r['span']:>4} {r['kind']:<4} {r['signalling']:<6} {r['channels']:>5} "
              f"{framing:<14} {r['alarms']:<16} {r['sync_source']:>4} {c['bpv']:>5} "
              f"{c['crc4']:>5} {c['fas']:>5} {c['slips']:>5} {c['irqmisses']:>5}")
    print()
    return _report(findings)


def _finding(level: str, subject: str, message: str, cause: str = ""):
    from trunkline.drivers.commission_checks import Finding

    return Finding(level, subject, message, cause)


def _alarm_text(alarms) -> str:
    names = [a.name for a in type(alarms) if a.value and alarms & a]
    return ",".join(n for n in names if n) or "OK"


def _print_pci(sysfs: str) -> None:
    from trunkline.drivers.backends.dahdi.profiles import find_boards

    boards = find_boards(sysfs)
    if not boards:
        print("no known telephony board on the PCI bus", file=sys.stderr)
        return
    for b in boards:
        state = f"driven by {b.loaded_driver}" if b.loaded_driver else \
            f"no driver: modprobe {b.module}"
        print(f"PCI {b.address}: {b.description} [{b.pci_id}] ({b.profile.vendor}): {state}",
              file=sys.stderr)
        if b.profile.firmware:
            print(f"  firmware it may load from /lib/firmware: "
                  f"{', '.join(b.profile.firmware)}", file=sys.stderr)


# -- config -----------------------------------------------------------------------------------
def _config_generate(args: argparse.Namespace) -> int:
    from trunkline.drivers.backends.dahdi import sysconf

    with _open(args) as card:
        config = generate_config(card, pri=args.pri, zone=_zone_of(card, args.zone))
        name = card.name
    header = f"Generated by `trunkline config generate` from {name}"
    text = sysconf.to_toml(config, header)
    _write(args.output, text)
    if args.system_conf:
        _write(args.system_conf, sysconf.to_system_conf(config, header))
    return 0


def generate_config(card, *, pri: str = "cpe", zone: str = "cn"):
    """A configuration for the hardware of ``card`` (digital spans as PRI, as
    dahdi_genconf does by default; analog ports with kewlstart)."""
    from trunkline.drivers.backends.dahdi.sysconf import ChannelGroup, DahdiConfig, SpanConf

    config = DahdiConfig(zone=zone, loadzones=[zone], source=card.name)
    timing = 1
    dahdi_spans = getattr(card, "dahdi_spans", None)
    for s in card.spans:
        if s.kind.value in ("e1", "t1"):
            e1 = s.kind.value == "e1"
            number = card.dahdi_span(s.number) if dahdi_spans else s.number
            framing = s.framing or ("ccs" if e1 else "esf")
            coding = s.coding or ("hdb3" if e1 else "b8zs")
            crc4 = s.crc4 if s.framing else e1
            config.spans.append(SpanConf(number, timing, 0, framing, coding, crc4))
            timing += 1
            if dahdi_spans:
                chans = list(dahdi_spans[number].channels)
            else:
                chans = sorted([*s.channels, *([s.dchannel] if s.dchannel else [])])
            if not chans:
                continue
            base = chans[0]
            dslot = 16 if e1 else 24
            dchan = [c for c in chans if c - base + 1 == dslot]
            bchans = [c for c in chans if c not in dchan]
            opts = {"pri": pri}
            config.groups.append(ChannelGroup(tuple(bchans), "bchan", options=opts))
            if dchan:
                config.groups.append(ChannelGroup(tuple(dchan), "dchan"))
        else:
            sig = "fxo_ks" if s.kind.value == "fxo" else "fxs_ks"
            config.groups.append(ChannelGroup(tuple(s.channels), sig))
    return config


def _write(path: str | None, text: str) -> None:
    if not path or path == "-":
        sys.stdout.write(text)
        return
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as err:
        raise ConfigError(f"cannot write: {err.strerror}", source=path) from err
    print(f"wrote {path}", file=sys.stderr)


def _config_import(args: argparse.Namespace) -> int:
    from trunkline.drivers.backends.dahdi import sysconf

    chan = args.chan_dahdi
    if chan is None and Path(DEFAULT_CHAN_DAHDI).is_file():
        chan = DEFAULT_CHAN_DAHDI
    config = sysconf.import_files(args.system_conf, chan)
    for w in config.warnings:
        print(f"warning: {w}", file=sys.stderr)
    sources = args.system_conf + (f" and {chan}" if chan else "")
    _write(args.output, sysconf.to_toml(config, f"Imported by `trunkline config import` from "
                                                f"{sources}"))
    return 0


def _config_apply(args: argparse.Namespace) -> int:
    from trunkline.drivers.backends.dahdi import sysconf

    config = sysconf.load_config(args.config)
    with _open(args) as card:
        findings, actions = plan_apply(card, config)
        if any(f.level == "FAIL" for f in findings):
            return _report(findings)
        apply_fn = getattr(card, "ioctl_ctl", None)
        if not callable(apply_fn):
            findings.append(_finding("PASS", "apply", f"the configuration fits card "
                                     f"{card.name}; a {card.backend} card takes its layout from"
                                     " its own file, so nothing is applied"))
            return _report(findings)
        for text, _request, _arg in actions:
            print(("would run: " if args.dry_run else "") + text)
        if not args.dry_run:
            for text, request, arg in actions:
                try:
                    card.ioctl_ctl(request, arg)
                except Exception as err:
                    findings.append(_finding("FAIL", "apply", f"{text}: {err}",
                                             "a channel is in use (stop the gateway), or the "
                                             "board does not support this signalling"))
                    return _report(findings)
            findings.append(_finding("PASS", "apply", f"{len(actions)} changes applied; run "
                                     "`trunkline scan` to see the spans come up"))
    return _report(findings)


def plan_apply(card, config) -> tuple[list, list[tuple[str, str, Any]]]:
    """Check ``config`` against ``card`` and list the DAHDI ioctls that apply it."""
    findings = []
    actions: list[tuple[str, str, Any]] = []
    dahdi_spans = getattr(card, "dahdi_spans", None)
    binding = getattr(card, "binding", None)
    if dahdi_spans is not None:
        known = {n: ds for n, ds in dahdi_spans.items()}
        all_chans = {c: n for n, ds in known.items() for c in ds.channels}
        kinds = {n: ds.spantype.lower() for n, ds in known.items()}
    else:
        known = {s.number: s for s in card.spans}
        all_chans = {c: s.number for s in card.spans
                     for c in (*s.channels, *([s.dchannel] if s.dchannel else []))}
        kinds = {s.number: s.kind.value for s in card.spans}
    for span in config.spans:
        if span.span not in known:
            findings.append(_finding("FAIL", f"span {span.span}", f"the card has no span "
                                     f"{span.span} (it has {sorted(known)})",
                                     f"{config.source}:{span.line}: wrong span number"))
            continue
        have = kinds[span.span]
        if have in ("e1", "t1", "j1") and (have == "e1") != (span.kind == "e1"):
            findings.append(_finding("FAIL", f"span {span.span}", f"configured as "
                                     f"{span.kind.upper()} ({span.framing}/{span.coding}) but "
                                     f"the span is {have.upper()}",
                                     "set the span type (dahdi_span_types, or the board's "
                                     "jumper/module parameter) or fix the framing"))
    for group in config.groups:
        missing = [c for c in group.channels if c not in all_chans]
        if missing:
            findings.append(_finding("FAIL", f"channels {missing[:5]}", "not on this card",
                                     f"{config.source}:{group.line}: channel numbers start "
                                     "at 1 and follow span order"))
    if findings or binding is None:
        return findings, actions
    lib = binding.lib
    for span in config.spans:
        lc = binding.new("struct dahdi_lineconfig *")
        lc.span = span.span
        lc.lbo = span.lbo
        lc.sync = span.timing
        bits = {"ccs": lib.DAHDI_CONFIG_CCS, "cas": 0, "d4": lib.DAHDI_CONFIG_D4,
                "esf": lib.DAHDI_CONFIG_ESF}[span.framing]
        bits |= {"hdb3": lib.DAHDI_CONFIG_HDB3, "ami": lib.DAHDI_CONFIG_AMI,
                 "b8zs": lib.DAHDI_CONFIG_B8ZS}[span.coding]
        lc.lineconfig = bits | (lib.DAHDI_CONFIG_CRC4 if span.crc4 else 0)
        actions.append((f"DAHDI_SPANCONFIG span {span.span}: {span.framing}/{span.coding}"
                        f"{'/crc4' if span.crc4 else ''} timing {span.timing}",
                        "DAHDI_SPANCONFIG", lc))
    sigmap = {"fxo_ks": lib.DAHDI_SIG_FXSKS, "fxo_ls": lib.DAHDI_SIG_FXSLS,
              "fxo_gs": lib.DAHDI_SIG_FXSGS, "fxs_ks": lib.DAHDI_SIG_FXOKS,
              "fxs_ls": lib.DAHDI_SIG_FXOLS, "fxs_gs": lib.DAHDI_SIG_FXOGS,
              "bchan": lib.DAHDI_SIG_CLEAR, "clear": lib.DAHDI_SIG_CLEAR,
              "dchan": lib.DAHDI_SIG_HDLCFCS, "hardhdlc": lib.DAHDI_SIG_HARDHDLC,
              "cas": lib.DAHDI_SIG_CAS, "em": lib.DAHDI_SIG_EM, "em_e1": lib.DAHDI_SIG_EM_E1,
              "unused": lib.DAHDI_SIG_NONE}
    for group in config.groups:
        if group.signalling not in sigmap:
            findings.append(_finding("WARN", f"channels {group.channels[0]}..", "signalling "
                                     f"{group.signalling} is not applied by trunkline"))
            continue
        for ch in group.channels:
            cc = binding.new("struct dahdi_chanconfig *")
            cc.chan = ch
            cc.sigtype = sigmap[group.signalling]
            if group.idlebits:
                cc.idlebits = int(group.idlebits, 2)
            actions.append((f"DAHDI_CHANCONFIG channel {ch}: {group.signalling}",
                            "DAHDI_CHANCONFIG", cc))
            if group.echocanceller:
                ec = binding.new("struct dahdi_attach_echocan *")
                ec.chan = ch
                ec.echocan = group.echocanceller.encode()[:15]
                actions.append((f"DAHDI_ATTACH_ECHOCAN channel {ch}: {group.echocanceller}",
                                "DAHDI_ATTACH_ECHOCAN", ec))
    for span in config.spans:
        actions.append((f"DAHDI_STARTUP span {span.span}", "DAHDI_STARTUP",
                        binding.int_arg(span.span)))
    if config.loadzones:
        findings.append(_finding("WARN", "tone zones", "not loaded into the kernel",
                                 "trunkline plays and detects tones in user space; run "
                                 "dahdi_cfg if another program needs kernel tones"))
    return findings, actions


# -- status -----------------------------------------------------------------------------------
def _status(args: argparse.Namespace) -> int:
    from rich.console import Console

    console = Console(width=120 if args.once else None, force_terminal=False if args.once
                      else None)
    clock = RealClock()
    with _open(args) as card:
        if args.once:
            console.print(status_tables(card))
            return 0
        from rich.live import Live

        refreshes = 0
        with Live(status_tables(card), console=console, refresh_per_second=4) as live:
            while not args.count or refreshes < args.count:
                start = clock.now()
                frames = max(1, int(args.interval / 0.02))
                for _ in range(frames):
                    card.read_frames()  # keeps the card's time moving (and its alarms)
                card.poll_events()
                clock.sleep_until(start + args.interval)  # virtual-time cards: wall pacing
                live.update(status_tables(card))
                refreshes += 1
    return 0


def status_tables(card):
    from rich.console import Group
    from rich.table import Table

    from trunkline.drivers.model import ChannelState

    spans = Table(title=f"{card.name}: spans")
    for col in ("span", "kind", "sig", "channels", "framing", "alarms", "sync", "bpv",
                "crc4", "fas", "slips", "irq misses"):
        spans.add_column(col)
    channels = Table(title="channels (by state)")
    for col in ("span", "idle", "offhook", "dialing", "ringing", "in use", "out of service"):
        channels.add_column(col)
    for s in card.spans:
        st = card.span_status(s.number)
        c = st.counters
        framing = "/".join(x for x in (s.framing, s.coding, "crc4" if s.crc4 else "") if x)
        alarms = _alarm_text(st.alarms)
        style = "red" if "RED" in alarms or "BLUE" in alarms else \
            "yellow" if alarms != "OK" else "green"
        spans.add_row(str(s.number), s.kind.value, s.signalling.value, str(len(s.channels)),
                      framing or "-", f"[{style}]{alarms}[/]", str(st.sync_source),
                      str(c.bpv), str(c.crc4), str(c.fas), str(c.timingslips),
                      str(c.irqmisses))
        counts = dict.fromkeys(ChannelState, 0)
        for ch in s.channels:
            counts[card.channel_state(ch)] += 1
        channels.add_row(str(s.number), *(str(counts[k]) for k in (
            ChannelState.IDLE, ChannelState.OFFHOOK, ChannelState.DIALING,
            ChannelState.RINGING, ChannelState.IN_USE, ChannelState.OUT_OF_SERVICE)))
    return Group(spans, channels)


# -- tests ------------------------------------------------------------------------------------
def _test_timing(args: argparse.Namespace) -> int:
    from trunkline.drivers.commission_checks import judge_timing, measure_timing

    if args.passes < 1:
        raise ConfigError(f"--passes must be at least 1, not {args.passes}")
    with _open(args) as card:
        reference = getattr(card, "clock", None) or RealClock()
        result = measure_timing(card, reference, args.passes)
    for i, pct in enumerate(result.passes, start=1):
        print(f"pass {i}: {pct:.4f}%")
    return _report(judge_timing(result))


def run_loopback(card, spans: list[int], mode: str, seconds: float, off: bool = False
                 ) -> list:
    """Loop each span, check it reports the loop, and (local) run a pattern test."""
    from trunkline.drivers.commission_checks import compare_pattern, pattern_codes, to_linear
    from trunkline.drivers.model import FRAME_SAMPLES, Alarm

    findings = []
    for number in spans:
        span = card.span(number)
        subject = f"span {number}"
        if span.kind.value not in ("e1", "t1"):
            findings.append(_finding("WARN", subject, "analog span: no loopback (use "
                                     "`trunkline test levels`)"))
            continue
        if off:
            card.set_maintenance(number, "off")
            findings.append(_finding("PASS", subject, "loopback off"))
            continue
        try:
            card.set_maintenance(number, mode)
        except Exception as err:
            findings.append(_finding("FAIL", subject, f"cannot loop: {err}",
                                     "the board or its driver has no maintenance loop"))
            continue
        try:
            status = card.span_status(number)
            if not status.alarms & Alarm.LOOPBACK:
                findings.append(_finding("WARN", subject, f"{mode} loop set but the span "
                                         "does not report LOOPBACK", "the driver ignores the "
                                         "command"))
            if mode != "local":
                frames = max(1, int(seconds / 0.02))
                for _ in range(frames):
                    card.read_frames()
                findings.append(_finding("PASS", subject, f"looped towards the network "
                                         f"({mode}) for {seconds:g} s: the carrier can run "
                                         "its pattern test in that window"))
                continue
            chans = list(span.channels)
            if not chans:
                findings.append(_finding("FAIL", subject, "no B-channels configured",
                                         "configure the span first (`trunkline config "
                                         "apply`)"))
                continue
            card.open(chans)
            try:
                frames = max(10, int(seconds / 0.02))
                laws = [card.channel(c).law for c in chans]
                codes = pattern_codes(chans, frames, laws)
                sent = to_linear(codes, laws)
                received = []
                for k in range(frames + 10):
                    rx = card.read_frames()
                    received.append(rx[[card.row(c) for c in chans]])
                    if k < frames:
                        out = np.zeros((len(card.open_channels), FRAME_SAMPLES), np.int16)
                        for i, c in enumerate(chans):
                            out[card.row(c)] = sent[i, k * FRAME_SAMPLES:(k + 1) *
                                                    FRAME_SAMPLES]
                        card.write_frames(out)
                rx_all = np.concatenate(received, axis=1)
                delay, errors = compare_pattern(sent, rx_all, 10 * FRAME_SAMPLES)
            finally:
                card.close_channel(chans)
            total = sum(errors)
            compared = (frames - 10) * FRAME_SAMPLES
            bad = [c for c, e in zip(chans, errors, strict=True) if e]
            if total == 0:
                findings.append(_finding("PASS", subject, f"pattern bit-exact on "
                                         f"{len(chans)} B-channels ({compared} samples each, "
                                         f"loop delay {delay / 8:.0f} ms)"))
            elif all(e >= compared * 0.9 for e in errors):
                findings.append(_finding("FAIL", subject, "the pattern did not come back",
                                         "the loop did not close: the span is in alarm "
                                         "(see `trunkline scan`) or the board ignores local "
                                         "loopback"))
            else:
                findings.append(_finding("FAIL", subject, f"{total} wrong samples on "
                                         f"channel(s) {bad[:8]}",
                                         "timing slips or IRQ misses (check the sync source "
                                         "and /proc/interrupts), or a faulty board"))
        finally:
            card.set_maintenance(number, "off")
    return findings


def _test_loopback(args: argparse.Namespace) -> int:
    with _open(args) as card:
        spans = args.span or [s.number for s in card.spans
                              if s.kind.value in ("e1", "t1") and s.channels]
        if not spans:
            raise ConfigError(f"card {card.name} has no E1/T1 span to loop")
        findings = run_loopback(card, spans, args.mode, args.seconds, args.off)
    return _report(findings)


def run_tones(card, zone_name: str, span: int | None, channel: int | None,
              seconds: float) -> list:
    """Zone tones through a looped digital span, and the dial tone of an FXO line."""
    from trunkline.drivers.commission_checks import (
        judge_tone,
        measure_tone,
        tone_samples,
    )
    from trunkline.drivers.dsp.zones import load_zone
    from trunkline.drivers.model import FRAME_SAMPLES, HookOp, SpanKind

    zone = load_zone(zone_name)
    findings = []
    digital = [s for s in card.spans if s.kind in (SpanKind.E1, SpanKind.T1) and s.channels]
    if span is not None:
        if card.span(span).kind not in (SpanKind.E1, SpanKind.T1):
            raise ConfigError(f"span {span} is not an E1/T1 span")
        digital = [card.span(span)]
    if digital:
        s = digital[0]
        ch = s.channels[0]
        card.set_maintenance(s.number, "local")
        card.open(ch)
        try:
            for name in ("dial", "ringback", "busy", "congestion"):
                if name not in zone.tones:
                    continue
                tone = zone.tone(name)
                samples = tone_samples(tone, seconds)
                frames = len(samples) // FRAME_SAMPLES
                rx = []
                for k in range(frames + 2):
                    got = card.read_frames()
                    rx.append(got[card.row(ch)].copy())
                    out = np.zeros((len(card.open_channels), FRAME_SAMPLES), np.int16)
                    if k < frames:
                        out[card.row(ch)] = samples[k * FRAME_SAMPLES:(k + 1) * FRAME_SAMPLES]
                    card.write_frames(out)
                m = measure_tone(np.concatenate(rx))
                finding = judge_tone(name, tone, m, f"span {s.number} channel {ch} (looped)")
                if finding.level == "FAIL" and not finding.cause:
                    finding = _finding("FAIL", finding.subject, finding.message,
                                       "the looped tone did not come back: the span is in "
                                       "alarm or the loop did not close (`trunkline test "
                                       "loopback`)")
                findings.append(finding)
        finally:
            card.close_channel(ch)
            card.set_maintenance(s.number, "off")
    fxo = [c for s in card.spans if s.kind is SpanKind.FXO for c in s.channels]
    if channel is not None:
        if channel not in fxo:
            raise ConfigError(f"channel {channel} is not an FXO port; FXO ports: {fxo or 'none'}")
        fxo = [channel]
    if fxo:
        ch = fxo[0]
        card.open(ch)
        try:
            card.hook(ch, HookOp.OFFHOOK)
            rx = []
            for _ in range(int(min(seconds, 3.0) / 0.02)):
                got = card.read_frames()
                rx.append(got[card.row(ch)].copy())
                card.write_frames(np.zeros((len(card.open_channels), FRAME_SAMPLES),
                                           np.int16))
            card.hook(ch, HookOp.ONHOOK)
        finally:
            card.close_channel(ch)
        m = measure_tone(np.concatenate(rx[25:]))  # after the exchange's dial-tone delay
        finding = judge_tone("dial", zone.tone("dial"), m, f"FXO channel {ch} (the line)")
        if finding.level == "FAIL" and not finding.cause:
            finding = _finding("FAIL", finding.subject, finding.message,
                               "no line on this port (cable, wrong port, line not "
                               "connected), or the exchange gives no dial tone")
        findings.append(finding)
    if not findings:
        findings.append(_finding("WARN", "tones", "no E1/T1 span with channels and no FXO "
                                 "port: nothing to test"))
    return findings


def _test_tones(args: argparse.Namespace) -> int:
    with _open(args) as card:
        findings = run_tones(card, _zone_of(card, args.zone), args.span, args.channel,
                             args.seconds)
    return _report(findings)


def run_levels(card, channels: list[int], offhook: bool, seconds: float) -> list:
    from trunkline.drivers.commission_checks import judge_level
    from trunkline.drivers.dsp.levels import power_dbm0
    from trunkline.drivers.model import FRAME_SAMPLES, HookOp

    kinds = {c: card.span(card.channel(c).span).kind.value for c in channels}
    states = {c: card.channel_state(c) for c in channels}
    card.open(channels)
    try:
        fxo = [c for c in channels if kinds[c] == "fxo"]
        if offhook:
            for c in fxo:
                card.hook(c, HookOp.OFFHOOK)
        frames = []
        skip = 25  # let dial tone start (the exchange answers the seizure)
        for k in range(skip + max(1, int(seconds / 0.02))):
            rx = card.read_frames()
            if k >= skip:
                frames.append(rx[[card.row(c) for c in channels]].copy())
            card.write_frames(np.zeros((len(card.open_channels), FRAME_SAMPLES), np.int16))
        if offhook:
            for c in fxo:
                card.hook(c, HookOp.ONHOOK)
    finally:
        card.close_channel(channels)
    audio = np.concatenate(frames, axis=1)
    levels = power_dbm0(audio)
    findings = []
    for i, c in enumerate(channels):
        f = judge_level(c, kinds[c], float(levels[i]), offhook and kinds[c] == "fxo",
                        states[c])
        findings.append(_finding(f.level, f.subject, f.message + ", tx silence (-inf dBm0)",
                                 f.cause))
    return findings


def _test_levels(args: argparse.Namespace) -> int:
    from trunkline.drivers.backends.dahdi.sysconf import parse_ranges

    with _open(args) as card:
        if args.channels:
            try:
                channels = list(parse_ranges(args.channels))
            except ValueError as err:
                raise ConfigError(f"--channels: {err}") from None
            for c in channels:
                card.channel(c)
        else:
            channels = [c for s in card.spans if s.kind.value in ("fxo", "fxs")
                        for c in s.channels]
        if not channels:
            raise ConfigError(f"card {card.name} has no analog port: give --channels")
        findings = run_levels(card, channels, not args.onhook, args.seconds)
    return _report(findings)
