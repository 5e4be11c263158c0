"""``trunkline gateway serve`` and the client commands ``trunkline gw ...``."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

from trunkline.cli_numbers import non_negative, positive
from trunkline.errors import ConfigError
from trunkline.ranges import format_ranges


def register(subparsers: argparse._SubParsersAction) -> None:
    gateway = subparsers.add_parser(
        "gateway", help="run the gateway service",
        description="The gateway owns the cards and presents every channel through one "
                    "msgpack API on a Unix socket (and TCP with tokens). See docs/gateway.md.")
    sub = gateway.add_subparsers(dest="gateway_command", metavar="COMMAND")
    serve = sub.add_parser(
        "serve", help="run the service in the foreground",
        description="Run the gateway. Without --config: the emulated card (2 E1 PRI spans, "
                    "8 FXO and 12 FXS ports, an MFC/R2 and an SS7 E1 span: "
                    "firmware-profiles/cards/default.toml) on the sample network. "
                    "SIGTERM/SIGINT stop it gracefully (no new calls, then calls cleared "
                    "after the grace time); SIGHUP reloads tokens, groups, call settings and "
                    "the request rate limit ([server] request_rate, request_burst).")
    serve.add_argument("--config", metavar="GW.toml", help="configuration file")
    serve.add_argument("--socket", metavar="PATH", help="Unix socket path (overrides config)")
    serve.add_argument("--card", metavar="URL", help="card URL (overrides config)")
    serve.add_argument("--network", metavar="PLAN.toml", help="number plan (emulated card)")
    serve.add_argument("--speed", type=positive, default=1.0,
                       help="simulated cards only (emulated, dahdi:sim): run time this many "
                            "times faster (tests)")
    serve.set_defaults(handler=_serve)

    gw = subparsers.add_parser(
        "gw", help="talk to a running gateway",
        description="Client commands for a running gateway: over its Unix socket, or "
                    "tcp://HOST:PORT or tls://HOST:PORT with a token. --socket and "
                    "--token may come before or after the command.")
    _address_options(gw, None)
    gsub = gw.add_subparsers(dest="gw_command", metavar="COMMAND")
    ch = gsub.add_parser("channels", help="list channels and their state")
    ch.add_argument("--json", action="store_true")
    ch.set_defaults(handler=_channels)
    sp = gsub.add_parser("spans", help="list spans: alarms, links, and the line state of "
                         "MFC/R2 timeslots and SS7 circuits")
    sp.add_argument("--json", action="store_true")
    sp.set_defaults(handler=_spans)
    call = gsub.add_parser("call", help="place a call and follow its events until it ends")
    call.add_argument("number")
    call.add_argument("--group", help="channel group (default: outbound)")
    call.add_argument("--channel", type=int)
    call.add_argument("--hold", type=non_negative, default=3.0,
                      help="hang up this long after the answer (default 3 s)")
    call.add_argument("--timeout", type=positive, default=120.0,
                      help="give up waiting for events after this long (default 120 s)")
    call.set_defaults(handler=_call)
    ev = gsub.add_parser("events", help="print events as JSON lines")
    ev.add_argument("--kind", action="append", help="only these event kinds (repeatable)")
    ev.add_argument("--count", type=int, help="stop after this many events")
    ev.set_defaults(handler=_events)
    for sub in (ch, sp, call, ev):
        # `gw channels --socket X` was "unrecognized arguments": the option belonged to
        # `gw` alone; SUPPRESS keeps a value given before the command
        _address_options(sub, argparse.SUPPRESS)


def _address_options(parser: argparse.ArgumentParser, default: object) -> None:
    parser.add_argument("--socket", metavar="PATH", default=default,
                        help="the gateway's socket (default: its default socket), or "
                             "tcp://HOST:PORT or tls://HOST:PORT")
    parser.add_argument("--token", default=default,
                        help="the token for a tcp:// or tls:// gateway (default: "
                             "$TRUNKLINE_GATEWAY_TOKEN)")


def _config(args: argparse.Namespace):
    from trunkline.gateway.config import load_config

    config = load_config(args.config)
    if args.socket:
        config.socket = Path(args.socket)
    if args.card:
        config.card_url = args.card
    if args.network:
        config.network = Path(args.network)
    return config


def _serve(args: argparse.Namespace) -> int:
    from trunkline.clock import RealClock, ScaledClock
    from trunkline.gateway.service import GatewayService

    config = _config(args)
    clock = ScaledClock(args.speed) if args.speed != 1.0 else RealClock()
    service = GatewayService(config, clock=clock)
    if args.speed != 1.0 and service.clock is not clock:
        service.card.close()
        raise ConfigError(f"--speed applies to simulated cards only: {service.card.name} "
                          "keeps real time")
    asyncio.run(_serve_announced(service, config.socket))
    return 0


async def _serve_announced(service: Any, socket: Path) -> None:
    """Serve, saying "serving" only once the socket is bound: a second gateway started on
    a running one's socket printed it, then failed with "another server is listening"."""
    ready = asyncio.Event()

    async def announce() -> None:
        await ready.wait()
        print(f"trunkline gateway: serving {service.card.name} on {socket}", flush=True)

    announcer = asyncio.create_task(announce())
    try:
        await service.serve(ready=ready)
    finally:
        announcer.cancel()


def _client(args: argparse.Namespace):
    from trunkline.gateway.config import default_socket
    from trunkline.gateway.rpc.client import GatewayClient, parse_address

    path = args.socket or str(default_socket())
    try:
        kind, _, _ = parse_address(path)
    except ValueError as err:
        raise ConfigError(str(err)) from None
    if kind == "unix" and not Path(path).exists():
        raise ConfigError(f"no gateway socket at {path}: is `trunkline gateway serve` "
                          "running? (--socket PATH names another)")
    token = args.token or os.environ.get("TRUNKLINE_GATEWAY_TOKEN") or None
    client = GatewayClient(path, token=token)
    try:
        return client.connect()
    except OSError as err:
        # a socket file left by a gateway that stopped (kill -9, a crash) refuses the
        # connection: that was a ConnectionRefusedError traceback
        reason = err.strerror or str(err) or type(err).__name__
        hint = ("a socket left by a gateway that has stopped? is `trunkline gateway "
                "serve` running?" if kind == "unix" else "is the gateway listening there?")
        raise ConfigError(f"cannot connect to the gateway at {path}: {reason} ({hint})"
                          ) from None


def _channels(args: argparse.Namespace) -> int:
    with _client(args) as gw:
        rows = gw.call("channels.list")
    if args.json:
        print(json.dumps(rows))
        return 0
    print(f"{'chan':>5} {'span':>4} {'signalling':<10} {'state':<15} call")
    for r in rows:
        print(f"{r['channel']:>5} {r['span']:>4} {r['signalling']:<10} {r['state']:<15} "
              f"{r['call'] or ''}")
    return 0


def _spans(args: argparse.Namespace) -> int:
    with _client(args) as gw:
        rows = gw.call("spans.list")
    if args.json:
        print(json.dumps(rows, ensure_ascii=False))
        return 0
    for line in span_lines(rows):
        print(line)
    return 0


def span_lines(rows: list[dict[str, Any]]) -> list[str]:
    """The spans as ``trunkline gw spans`` prints them: one line each, then for MFC/R2
    spans the timeslots grouped by line state, for SS7 the linkset, its links and the
    circuits grouped by state."""
    lines = [f"{'span':>4} {'kind':<4} {'signalling':<10} {'alarms':<10} {'chans':>5} link"]
    for r in rows:
        link = {True: "up", False: "down", None: "-"}[r.get("dchannel_up")]
        lines.append(f"{r['span']:>4} {r['kind']:<4} {r['signalling']:<10} {r['alarms']:<10} "
                     f"{r['channels']:>5} {link}")
        state = r.get("signalling_state")
        if not state:
            continue
        if "timeslots" in state:
            lines.append(f"     MFC/R2 variant {state['variant']}:")
            groups: dict[str, list[int]] = {}
            for ts, item in state["timeslots"].items():
                groups.setdefault(item["state"], []).append(int(ts))
            for name, slots in sorted(groups.items(), key=lambda kv: min(kv[1])):
                lines.append(f"       timeslots {format_ranges(slots):<12} {name}")
        if "circuits" in state:
            lines.append(f"     SS7 linkset {state['linkset']}:")
            for slc, link_state in sorted(state["links"].items(), key=lambda kv: int(kv[0])):
                lines.append(f"       link SLC {slc} on span {link_state['span']}: "
                             f"{link_state['state']}")
            groups = {}
            for cic, item in state["circuits"].items():
                groups.setdefault(item["state"], []).append(int(cic))
            for name, cics in sorted(groups.items(), key=lambda kv: min(kv[1])):
                lines.append(f"       CIC {format_ranges(cics):<12} {name}")
    return lines


def _call(args: argparse.Namespace) -> int:
    import time

    with _client(args) as gw:
        gw.subscribe()
        info = gw.call("call.originate", number=args.number, group=args.group,
                       channel=args.channel)
        call_id = info["call"]
        print(json.dumps({"event": "originated", **info}), flush=True)
        deadline = time.monotonic() + args.timeout
        hangup_at = None
        while time.monotonic() < deadline:
            try:
                event = gw.next_event(timeout=0.5)
            except TimeoutError:
                event = None
            if hangup_at is not None and time.monotonic() >= hangup_at:
                gw.call("call.hangup", call=call_id)
                hangup_at = None
            if event is None or event.get("call") != call_id:
                continue
            print(json.dumps(event, ensure_ascii=False), flush=True)
            if event.get("event") == "call.state" and event.get("state") == "answered":
                hangup_at = time.monotonic() + args.hold
            if event.get("event") == "call.state" and event.get("state") == "hungup":
                return 0
    print("trunkline: no hang-up before the timeout", file=sys.stderr)
    return 1


def _events(args: argparse.Namespace) -> int:
    with _client(args) as gw:
        gw.subscribe(events=args.kind)
        seen = 0
        while args.count is None or seen < args.count:
            try:
                event = gw.next_event(timeout=1.0)
            except TimeoutError:
                continue
            if event is not None:
                print(json.dumps(event, ensure_ascii=False), flush=True)
                seen += 1
    return 0
