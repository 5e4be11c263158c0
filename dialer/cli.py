"""``trunkline dialer ...``: the dialer's subcommands.

:func:`register` adds the ``dialer`` command to the main program's subparsers, with one
subcommand so far: ``simulate``. Other subcommands (``run``, ``import``, ``report``) are
added by their own modules into the same ``dialer`` sub-parser::

    from trunkline.dialer.cli import dialer_subparsers

    def register_report(subparsers) -> None:
        sub = dialer_subparsers(subparsers)       # the one ``dialer`` sub-parser
        parser = sub.add_parser("report", help="...", description="...")
        parser.set_defaults(handler=run_report)   # handler(args) -> exit code

:func:`dialer_subparsers` creates the ``dialer`` command on first use and returns the
same object afterwards, so the order of registration does not matter.
"""

from __future__ import annotations

import argparse
import json
import sys
import weakref

from trunkline.cli_numbers import positive
from trunkline.dialer.pacing.scenario import load_scenario

#: Keyed by the main program's sub-parsers object itself, weakly: an ``id()`` key outlived
#: its parser, and a later parser given the same id got the dead one's ``dialer``
#: sub-parsers back ("conflicting subparser: simulate", now and then, in the tests).
_DIALER_SUBPARSERS: weakref.WeakKeyDictionary[
    argparse._SubParsersAction, argparse._SubParsersAction] = weakref.WeakKeyDictionary()


def dialer_subparsers(subparsers: argparse._SubParsersAction) -> argparse._SubParsersAction:
    """The sub-parsers of ``trunkline dialer`` under the main program's ``subparsers``."""
    key = subparsers
    if key not in _DIALER_SUBPARSERS:
        parser = subparsers.add_parser(
            "dialer",
            help="the outbound dialer: pacing, campaigns, simulation",
            description=(
                "The outbound dialer: campaigns, pacing (manual, preview, progressive, "
                "power, precise, predictive), agents and abandon-rate compliance."
            ),
        )
        parser.set_defaults(handler=lambda args: (parser.print_help(), 2)[1])
        _DIALER_SUBPARSERS[key] = parser.add_subparsers(dest="dialer_command",
                                                        metavar="SUBCOMMAND")
    return _DIALER_SUBPARSERS[key]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``trunkline dialer simulate`` (called by :mod:`trunkline.cli`)."""
    sub = dialer_subparsers(subparsers)
    simulate = sub.add_parser(
        "simulate",
        help="run the dialing engine against a simulated list and team",
        description=(
            "Run the real dialing engine in virtual time against a stochastic model of a "
            "list and a team, described by a scenario file (TOML; see docs/pacing.md), "
            "and print what it measured: occupancy, talk minutes per agent hour, the "
            "abandon rate as the scenario's regime defines it (and its worst window), "
            "dials, live answers, abandons and idle time between calls. Days of calling "
            "take seconds."
        ),
        epilog="Example: trunkline dialer simulate --scenario predictive.toml --json",
    )
    simulate.add_argument("--scenario", required=True, metavar="FILE",
                          help="the scenario file (TOML)")
    simulate.add_argument("--json", action="store_true",
                          help="print one JSON object instead of a readable table")
    simulate.add_argument("--seed", type=int, metavar="N",
                          help="override the scenario's seed")
    simulate.add_argument("--hours", type=positive, metavar="H",
                          help="override the scenario's simulated hours")
    simulate.set_defaults(handler=run_simulate)
    __import__("trunkline.dialer.campaigns.cli", fromlist=["_"]).register_campaign_commands(sub)
    __import__("trunkline.dialer.runner.cli", fromlist=["_"]).register_run_command(sub)
    __import__("trunkline.dialer.cleaning.cli", fromlist=["_"]).register_clean_commands(sub)
    __import__("trunkline.dialer.service.serve_cli", fromlist=["_"]).register_serve_command(sub)
    __import__("trunkline.dialer.webhooks.cli", fromlist=["_"]).register_machine_commands(sub)
    # ``trunkline users`` is a top-level command: the service's users are not a dialing job
    __import__("trunkline.dialer.service.users_cli",
               fromlist=["_"]).register_users_command(subparsers)


def run_simulate(args: argparse.Namespace) -> int:
    """Handler of ``trunkline dialer simulate``; a bad scenario raises ConfigError."""
    import dataclasses

    import structlog

    scenario = load_scenario(args.scenario)
    changes = {}
    if args.seed is not None:
        changes["seed"] = args.seed
    if args.hours is not None:
        if args.hours <= 0:
            print("trunkline: error: --hours must be > 0", file=sys.stderr)
            return 2
        changes["hours"] = args.hours
    if changes:
        scenario = dataclasses.replace(scenario, **changes)
    result = scenario.run(log=structlog.get_logger("trunkline.dialer").bind())
    summary = {"mode": str(scenario.campaign.mode), **result.summary(),
               "seed": scenario.seed}
    if args.json:
        print(json.dumps(summary))
    else:
        width = max(map(len, summary))
        for key, value in summary.items():
            print(f"{key:<{width}}  {value}")
    return 0
