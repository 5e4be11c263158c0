"""Command-line jobs of the driver layer: ``trunkline call`` and ``trunkline call-demo``.

``card_options`` and ``open_card_from_args`` are shared with the commissioning commands.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from trunkline.cli_numbers import non_negative, positive
from trunkline.clock import RealClock, VirtualClock
from trunkline.drivers.model import SpanKind, SpanSignalling
from trunkline.errors import ConfigError

#: ``--line`` kinds: the span signalling each calls over (None: an FXO port).
LINES = {"fxo": None, "pri": SpanSignalling.PRI, "r2": SpanSignalling.CAS,
         "ss7": SpanSignalling.SS7}
#: Observations a leg reports for traces only, shown with --trace.
TRACE_EVENTS = frozenset({"isup", "r2", "r2_line"})


def register(subparsers: argparse._SubParsersAction) -> None:
    call = subparsers.add_parser(
        "call", help="place one call and report what happened on the line",
        description=(
            "Place one outbound call and print what happened: signalling and audio "
            "observations with their times, the outcome (human, machine, fax, busy, "
            "no_answer, congestion, invalid_number, unreachable, error) and the duration. "
            "On the emulated card the call runs in virtual time unless --realtime is given."
        ),
    )
    call.add_argument("number", help="the number to dial (digits, * and #)")
    card_options(call)
    call.add_argument("--line", choices=list(LINES), default="fxo",
                      help="the kind of line to call on: an FXO port, or an E1 speaking "
                           "ISDN PRI, MFC/R2 or SS7 ISUP (default: fxo)")
    call.add_argument("--channel", type=int,
                      help="card channel to use (default: the first FXO port; on R2, the "
                           "first free timeslot)")
    call.add_argument("--span", type=int,
                      help="digital span to call on (default: the first of the --line kind)")
    call.add_argument("--calling", metavar="NUMBER",
                      help="calling party number (PRI, SS7; R2: the ANI)")
    call.add_argument("--trace", action="store_true",
                      help="show the signalling: every Q.931 message (PRI, logged), ISUP "
                           "message (SS7) or R2 line and register signal, decoded")
    call.add_argument("--pulse", action="store_true", help="pulse-dial instead of DTMF")
    call.add_argument("--ring-timeout", type=positive, default=45.0, metavar="SECONDS",
                      help="give up as no_answer after this much ringing (default: 45)")
    call.add_argument("--hold", type=non_negative, default=None, metavar="SECONDS",
                      help="hang up this long after the answer is classified "
                           "(default: stay until the far end clears)")
    call.add_argument("--json", action="store_true", help="print one JSON object")
    call.set_defaults(handler=_call)

    demo = subparsers.add_parser(
        "call-demo", help="the emulated card places a batch of calls; watch every line live",
        description=(
            "Start the emulated card with its sample network and place a batch of calls "
            "over its FXO ports, showing live what happens on each line, then a summary "
            "of outcomes against what the number plan says each number does."
        ),
    )
    card_options(demo, default_virtual=False)
    demo.add_argument("--calls", type=int, default=24, help="how many calls (default: 24)")
    demo.add_argument("--virtual", action="store_true",
                      help="run in virtual time (as fast as the CPU allows)")
    demo.add_argument("--hold", type=non_negative, default=4.0, metavar="SECONDS",
                      help="stay this long on an answered call after classifying it "
                           "(default: 4)")
    demo.add_argument("--json", action="store_true",
                      help="print the per-call results as JSON lines instead of a display")
    demo.set_defaults(handler=_demo)


def card_options(parser: argparse.ArgumentParser, default_virtual: bool = True) -> None:
    parser.add_argument("--card", default="emulated", metavar="URL",
                        help="card to use: 'emulated' (default), 'emulated:CARD.toml', 'dahdi', "
                             "'dahdi:sim' (a simulated DAHDI kernel: docs/dahdi.md), 'mobile' "
                             "(two emulated GSM modules), 'mobile:CARD.toml'")
    parser.add_argument("--network", metavar="PLAN.toml",
                        help="number plan of the emulated network (default: the sample plan)")
    if default_virtual:
        parser.add_argument("--realtime", action="store_true",
                            help="run the emulated card in real time (default: virtual time)")
    parser.add_argument("--seed", type=int, help="seed for the emulated network")


def open_card_from_args(args: argparse.Namespace, *, virtual: bool):
    from trunkline.drivers.registry import open_card

    # A simulation keeps virtual time unless asked for real time; a board keeps its own.
    return open_card(args.card, clock=VirtualClock() if virtual else RealClock(),
                     network=args.network, seed=args.seed)


def _call(args: argparse.Namespace) -> int:
    from trunkline.drivers.dsp.zones import load_zone
    from trunkline.drivers.lineloop import LineLoop
    from trunkline.drivers.signalling.leg import CallOptions

    virtual = not getattr(args, "realtime", False)
    if args.line == "pri" and args.trace and args.log_level in ("warning", "error"):
        # --trace asks for the decoded Q.931 messages, which are logged at info.
        from trunkline.logs import configure_logging

        configure_logging("info")
    options = CallOptions(args.number, ring_timeout=args.ring_timeout, hold=args.hold,
                          dial_mode="pulse" if args.pulse else "dtmf", calling=args.calling)
    with open_card_from_args(args, virtual=virtual) as card:
        if args.line != "fxo":
            kind, name = LINES[args.line], args.line.upper()
            spans = [s.number for s in card.spans if s.signalling is kind]
            if not spans:
                raise ConfigError(f"card {card.name} has no {name} span to call on")
            span = args.span if args.span is not None else spans[0]
            if span not in spans:
                raise ConfigError(f"span {span} is not a {name} span; {name} spans: {spans}")
            channel = args.channel if args.line == "r2" else None
            if channel is not None and channel not in card.span(span).channels:
                raise ConfigError(f"channel {channel} is not a timeslot of span {span}")
            where: dict[str, Any] = {"line": args.line, "span": span}
        else:
            fxo = [c for s in card.spans if s.kind is SpanKind.FXO for c in s.channels]
            if not fxo:
                raise ConfigError(f"card {card.name} has no FXO port to call on")
            channel = args.channel if args.channel is not None else fxo[0]
            if channel not in fxo:
                raise ConfigError(f"channel {channel} is not an FXO port; FXO ports: "
                                  f"{fxo[0]}..{fxo[-1]}")
            span = card.channel(channel).span
            where = {"line": "fxo", "channel": channel}
        zone = load_zone(card.tone_zone or "cn")
        with LineLoop(card, zone=zone, spans=[span],
                      options={"pri_trace": args.trace}) as loop:
            leg = loop.originate(options, span=span, channel=channel)
            loop.run(lambda: leg.ended)
    result = leg.result()
    if not args.trace:
        result["events"] = [e for e in result["events"] if e["event"] not in TRACE_EVENTS]
    _print_call({"number": args.number, **where, **result}, args.json)
    return 0


def _print_call(result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(result, ensure_ascii=False))
        return
    for ev in result["events"]:
        detail = " ".join(f"{k}={v}" for k, v in ev.items() if k not in ("t", "event"))
        print(f"{ev['t']:8.2f}s  {ev['event']:<18} {detail}")
    name = result.get("cause_name")
    cause = f"  cause: {result['cause']}" + (f" ({name})" if name else "") \
        if result.get("cause") else ""
    print(f"outcome: {result['outcome']}{cause}  duration: {result['duration']:.1f}s")


def _demo(args: argparse.Namespace) -> int:
    from trunkline.drivers.demo import run_demo

    if args.calls < 1:
        raise ConfigError(f"--calls must be at least 1, not {args.calls}")
    card = open_card_from_args(args, virtual=args.virtual)
    with card:
        return run_demo(card, calls=args.calls, hold=args.hold, as_json=args.json,
                        live=sys.stdout.isatty() and not args.json)
