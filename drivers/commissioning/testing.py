"""``trunkline test timing|loopback|tones|levels``: the commissioning tests.

``timing`` measures the card's timing source like dahdi_test; ``loopback`` loops each
digital span and runs a B-channel pattern through it; ``tones`` plays the zone's tones
through a looped span and listens for an FXO line's dial tone; ``levels`` measures the
rx level of each analog port. The ``run_*`` functions work on an open card and return
findings; the ``*_command`` handlers open the card and print them.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import numpy as np

from trunkline.errors import ConfigError

from .common import make_finding, open_card, report, zone_of

__all__ = [
    "levels_command",
    "loopback_command",
    "run_levels",
    "run_loopback",
    "run_tones",
    "timing_command",
    "tones_command",
]


def timing_command(args: argparse.Namespace) -> int:
    from .checks import judge_timing, measure_timing

    if args.passes < 1:
        raise ConfigError(f"--passes must be at least 1, not {args.passes}")
    if getattr(args, "via", None) == "dahdi_test":
        from .via import timing_via_dahdi_test

        return timing_via_dahdi_test(args)
    with open_card(args) as card:
        result = measure_timing(card, card.clock, args.passes)
    for i, pct in enumerate(result.passes, start=1):
        print(f"pass {i}: {pct:.4f}%")
    return report(judge_timing(result))


def run_loopback(card, spans: list[int], mode: str, seconds: float, off: bool = False,
                 set_loop: Callable[[int, str], None] | None = None) -> list:
    """Loop each span, check it reports the loop, and (local) run a pattern test.

    ``set_loop(span, mode)`` sets or ends (``off``) a span's loop; default the card's
    own maintenance call (DAHDI_MAINT), or the real ``dahdi_maint`` (``--via``)."""
    from trunkline.drivers.model import FRAME_SAMPLES, Alarm

    set_loop = set_loop or card.set_maintenance

    from .checks import compare_pattern, pattern_codes, to_linear

    findings = []
    for number in spans:
        span = card.span(number)
        subject = f"span {number}"
        if span.kind.value not in ("e1", "t1"):
            findings.append(make_finding("WARN", subject, "analog span: no loopback (use "
                                     "`trunkline test levels`)"))
            continue
        if off:
            set_loop(number, "off")
            findings.append(make_finding("PASS", subject, "loopback off"))
            continue
        try:
            set_loop(number, mode)
        except Exception as err:
            findings.append(make_finding("FAIL", subject, f"cannot loop: {err}",
                                     "the board or its driver has no maintenance loop"))
            continue
        try:
            status = card.span_status(number)
            if not status.alarms & Alarm.LOOPBACK:
                findings.append(make_finding("WARN", subject, f"{mode} loop set but the span "
                                         "does not report LOOPBACK", "the driver ignores the "
                                         "command"))
            if mode != "local":
                frames = max(1, int(seconds / 0.02))
                for _ in range(frames):
                    card.read_frames()
                findings.append(make_finding("PASS", subject, f"looped towards the network "
                                         f"({mode}) for {seconds:g} s: the carrier can run "
                                         "its pattern test in that window"))
                continue
            chans = list(span.channels)
            if not chans:
                findings.append(make_finding("FAIL", subject, "no B-channels configured",
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
                findings.append(make_finding("PASS", subject, f"pattern bit-exact on "
                                         f"{len(chans)} B-channels ({compared} samples each, "
                                         f"loop delay {delay / 8:.0f} ms)"))
            elif all(e >= compared * 0.9 for e in errors):
                findings.append(make_finding("FAIL", subject, "the pattern did not come back",
                                         "the loop did not close: the span is in alarm "
                                         "(see `trunkline scan`) or the board ignores local "
                                         "loopback"))
            else:
                findings.append(make_finding("FAIL", subject, f"{total} wrong samples on "
                                         f"channel(s) {bad[:8]}",
                                         "timing slips or IRQ misses (check the sync source "
                                         "and /proc/interrupts), or a faulty board"))
        finally:
            set_loop(number, "off")
    return findings


def loopback_command(args: argparse.Namespace) -> int:
    with open_card(args) as card:
        spans = args.span or [s.number for s in card.spans
                              if s.kind.value in ("e1", "t1") and s.channels]
        if not spans:
            raise ConfigError(f"card {card.name} has no E1/T1 span to loop")
        set_loop = None
        if getattr(args, "via", None) == "dahdi_maint":
            from .via import loop_via_dahdi_maint

            set_loop = loop_via_dahdi_maint(card)
        findings = run_loopback(card, spans, args.mode, args.seconds, args.off, set_loop)
    return report(findings)


def run_tones(card, zone_name: str, span: int | None, channel: int | None,
              seconds: float) -> list:
    """Zone tones through a looped digital span, and the dial tone of an FXO line."""
    from trunkline.drivers.dsp.zones import load_zone
    from trunkline.drivers.model import FRAME_SAMPLES, HookOp, SpanKind

    from .checks import (
        judge_tone,
        measure_tone,
        tone_samples,
    )

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
                    finding = make_finding("FAIL", finding.subject, finding.message,
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
            finding = make_finding("FAIL", finding.subject, finding.message,
                               "no line on this port (cable, wrong port, line not "
                               "connected), or the exchange gives no dial tone")
        findings.append(finding)
    if not findings:
        findings.append(make_finding("WARN", "tones", "no E1/T1 span with channels and no FXO "
                                 "port: nothing to test"))
    return findings


def tones_command(args: argparse.Namespace) -> int:
    with open_card(args) as card:
        findings = run_tones(card, zone_of(card, args.zone), args.span, args.channel,
                             args.seconds)
    return report(findings)


def run_levels(card, channels: list[int], offhook: bool, seconds: float) -> list:
    from trunkline.drivers.dsp.levels import power_dbm0
    from trunkline.drivers.model import FRAME_SAMPLES, HookOp

    from .checks import judge_level

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
        findings.append(make_finding(f.level, f.subject, f.message + ", tx silence (-inf dBm0)",
                                 f.cause))
    return findings


def levels_command(args: argparse.Namespace) -> int:
    from trunkline.drivers.backends.dahdi.sysconf import parse_ranges

    with open_card(args) as card:
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
    return report(findings)
