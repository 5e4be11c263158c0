"""``trunkline dialer run``: drive a campaign through the gateway (see
dialer/runner/campaign_runner.py).

Registered into the one ``dialer`` sub-parser by :func:`register_run_command` (called
from :func:`trunkline.dialer.cli.register`). The option checks, the gateway opening and
the shift loop here serve ``trunkline dialer clean run`` too.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from trunkline.errors import ConfigError

DEFAULT_DB = "trunkline-dialer.sqlite"
MODES = ("progressive", "power", "precise", "predictive", "vicidial")
#: --virtual without --hours: one shift (virtual time never waits, but it never ends).
VIRTUAL_SHIFT_HOURS = 8.0


def _channels(text: str) -> list[int]:
    try:
        channels = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of channel numbers: {text!r}") from None
    if not channels:
        raise argparse.ArgumentTypeError("give at least one channel")
    return channels


def register_run_command(sub: argparse._SubParsersAction) -> None:
    """Add ``trunkline dialer run``."""
    run = sub.add_parser(
        "run", help="run a campaign on the gateway",
        description=(
            "Run a campaign: ring the agent positions and hold them for the shift, dial the "
            "campaign's list as its pacing mode decides, bridge live answers to free agents "
            "(within the 2 s limit, counted from the answer under the uk regime and from "
            "the end of the greeting otherwise, or play the abandon message; the summary "
            "gives the longest delay by both measures), release machines, faxes "
            "and network announcements, and record every outcome in the campaign database. "
            "Prints a progress line now and then and a summary at the end; when a "
            "campaign dials nothing it says why, once (outside its calling window and "
            "when it next opens, or when its next contact is due). --virtual runs "
            "the gateway on the emulated card in this process, in virtual time."),
        epilog="Example: trunkline dialer run --campaign sales --agents 71,72,73 "
               "--virtual --hours 1")
    run.add_argument("--campaign", required=True, action="append", metavar="NAME",
                     help="the campaign to run; repeat to run several at once on one engine "
                          "(agent positions are shared: each is at home in one campaign, "
                          "round-robin, and overflows into the others)")
    run.add_argument("--db", metavar="FILE",
                     default=os.environ.get("TRUNKLINE_DIALER_DB", DEFAULT_DB),
                     help=f"the campaign database (default $TRUNKLINE_DIALER_DB or {DEFAULT_DB})")
    run.add_argument("--gateway", metavar="SOCKET",
                     help="the gateway's socket (default: the gateway's default socket)")
    run.add_argument("--token", help="token for a TCP gateway address")
    run.add_argument("--agents", type=_channels, metavar="CH,CH,...",
                     help="the agent positions' channels (default: the 'agents' group)")
    run.add_argument("--group", default="outbound",
                     help="the channel group customer calls go out on (default outbound)")
    run.add_argument("--hours", type=float, metavar="H",
                     help="the shift's length (default: until the list is finished; "
                          f"{VIRTUAL_SHIFT_HOURS:g} h with --virtual)")
    run.add_argument("--mode", choices=MODES, help="override the campaign's pacing mode")
    run.add_argument("--ratio", type=float, help="override the lines per agent "
                                                  "(progressive, power)")
    run.add_argument("--wrap-up", type=float, default=5.0, metavar="S",
                     help="seconds an agent stays in wrap-up after a call (default 5)")
    run.add_argument("--abandon-file", metavar="WAV",
                     help="the abandon message: a WAV in the gateway's prompts folder "
                          "([media] prompts; a relative name is taken there); checked "
                          "on the gateway at start with the campaigns' machine_message: "
                          "one it could not play stops the run before any call. "
                          "Required for a campaign under regime uk or us (Ofcom and the "
                          "US TSR require a recorded message naming the caller): without "
                          "it such a run is refused at start")
    run.add_argument("--abandon-tone", default="info", metavar="TONE",
                     help="the zone tone played to abandoned calls without a file "
                          "(default info); only regimes cn and none allow it")
    run.add_argument("--virtual", action="store_true",
                     help="run an in-process gateway on the emulated card in virtual time")
    run.add_argument("--network", metavar="PLAN.toml",
                     help="--virtual: the number plan (default: the sample network)")
    run.add_argument("--start", metavar="ISO",
                     help="--virtual: the wall-clock instant virtual time starts at "
                          "(default now), e.g. 2025-06-04T10:00+08:00")
    run.add_argument("--progress-every", type=float, default=None, metavar="S",
                     help="seconds between progress lines (default 60 virtual, 10 live)")
    run.add_argument("--json", action="store_true", help="print the summary as JSON")
    run.set_defaults(handler=run_dialer)


@contextlib.contextmanager
def stop_on_signals(runner: Any, what: str = "the shift") -> Iterator[None]:
    """SIGINT/SIGTERM end ``what`` gracefully through ``runner.request_stop()`` (a
    second SIGINT interrupts at once). Shared by ``dialer run``, ``dialer clean run``
    and ``trunkline demo``."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

    def stop(signum: int, frame: Any) -> None:
        print(f"trunkline: ending {what}: no new calls; calls in flight finish "
              "(Ctrl-C again to interrupt)", file=sys.stderr, flush=True)
        runner.request_stop()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    for sig in previous:
        signal.signal(sig, stop)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def check_option_bounds(args: argparse.Namespace) -> None:
    """Each numeric option ``args`` has (``--hours``, ``--wrap-up``, ``--ratio``,
    ``--progress-every``, ``--drain``, ``--idle-timeout``) within its bound, from the
    one table (:data:`~trunkline.dialer.campaigns.bounds.RUN_OPTIONS`): ``--hours inf``
    or ``--wrap-up nan`` is refused, naming the option, before any work."""
    from trunkline.dialer.campaigns.bounds import RUN_OPTIONS

    for option, bound in RUN_OPTIONS.items():
        value = getattr(args, option.lstrip("-").replace("-", "_"), None)
        if value is not None and not bound.admits(value):
            raise ConfigError(f"{option}: expected {bound.expected}, got {value!r}")


def check_run_options(args: argparse.Namespace) -> None:
    """The options ``dialer run`` and ``dialer clean run`` share, checked before any work."""
    check_option_bounds(args)
    if not args.virtual and (args.network or args.start):
        raise ConfigError("--network and --start go with --virtual")


def open_gateway(args: argparse.Namespace, live: Callable[..., Any] | None = None) -> Any:
    """The gateway a run drives: ``--virtual`` an in-process one on the emulated card
    starting at ``--start``; else a client of ``--gateway`` (``live(address, token=)``,
    default :class:`~trunkline.dialer.runner.gateway.LiveGateway`; a runner class's
    ``live_gateway`` subscribes to the events that runner reads)."""
    from trunkline.dialer.runner.gateway import InProcessGateway, LiveGateway

    if args.virtual:
        start = None
        if args.start:
            try:
                start = datetime.fromisoformat(args.start).timestamp()
            except ValueError:
                raise ConfigError(f"--start: not an ISO date and time: {args.start!r}"
                                  ) from None
        return InProcessGateway(start=start, network=args.network)
    from trunkline.gateway.config import default_socket

    return (live or LiveGateway)(args.gateway or str(default_socket()), token=args.token)


def run_shift(runner: Any, gateway: Any, args: argparse.Namespace, *, what: str,
              virtual_hours: float) -> Any:
    """Run ``runner`` for ``--hours`` (``virtual_hours`` with ``--virtual``; else until
    done), ending gracefully on signals; the gateway is closed whatever happens."""
    hours = args.hours if args.hours is not None else (
        virtual_hours if args.virtual else None)
    try:
        with stop_on_signals(runner, what):
            return runner.run(seconds=None if hours is None else hours * 3600)
    finally:
        gateway.close()


def progress_printer(args: argparse.Namespace) -> Callable[[str], None]:
    """Progress lines: to stdout, or to stderr when stdout carries ``--json``."""
    def progress(line: str) -> None:
        print(line, file=sys.stderr if args.json else sys.stdout, flush=True)

    return progress


def run_dialer(args: argparse.Namespace) -> int:
    from trunkline.dialer.runner.abandon_message import require_abandon_message
    from trunkline.dialer.runner.campaign_runner import CampaignRunner
    from trunkline.dialer.runner.settings import campaign_config
    from trunkline.dialer.runner.summary import print_run
    from trunkline.dialer.store import Store

    check_run_options(args)
    with Store(args.db) as store:
        for name in dict.fromkeys(args.campaign):  # StoreError naming an unknown one
            if store.campaign_archived(name):      # hidden, its history kept: never dialled
                raise ConfigError(f"campaign {name!r} is archived: restore it first "
                                  f"(trunkline dialer campaign restore {name})")
        configs = [campaign_config(store, name, mode=args.mode, ratio=args.ratio)
                   for name in dict.fromkeys(args.campaign)]
        # uk/us: a recorded abandon message, refused before the gateway is opened
        require_abandon_message(((c.name, c.regime) for c in configs), args.abandon_file)
        gateway = open_gateway(args, live=CampaignRunner.live_gateway)
        try:
            runner = CampaignRunner(
                store, [c.name for c in configs], gateway, config=configs, agents=args.agents,
                group=args.group, wrap_up=args.wrap_up, abandon_file=args.abandon_file,
                abandon_tone=args.abandon_tone, require_message=True,
                progress=progress_printer(args),
                progress_every=args.progress_every or (60.0 if args.virtual else 10.0))
        except BaseException:
            gateway.close()
            raise
        summary = run_shift(runner, gateway, args, what="the shift",
                            virtual_hours=VIRTUAL_SHIFT_HOURS)
    return print_run(summary, runner.gateway_errors, args.json)
