"""``trunkline dahdi-sim``: run a program against a fresh simulated DAHDI kernel.

Why a subcommand: an installer (or a test) checks the real dahdi-tools, or
``trunkline --card dahdi`` itself, against the simulated board without a kernel module,
e.g. ``trunkline dahdi-sim -- dahdi_cfg -vv -c system.conf``. See :mod:`.preload`.
"""

from __future__ import annotations

import argparse

from trunkline.cli_numbers import positive
from trunkline.errors import ConfigError


def register(subparsers: argparse._SubParsersAction) -> None:
    sim = subparsers.add_parser(
        "dahdi-sim", help="run a program against a simulated DAHDI kernel "
                          "(the real dahdi-tools, or trunkline --card dahdi)",
        description=(
            "Start a fresh simulated DAHDI kernel (the sample TE420 E1 board and TDM410P "
            "analog board, or --board/--system), run COMMAND with the dahdisim LD_PRELOAD "
            "interposer, which takes its opens, ioctls, reads, writes and polls of "
            "/dev/dahdi/* to that kernel, and exit with COMMAND's status. COMMAND's "
            "children share the kernel. Example: trunkline dahdi-sim -- dahdi_cfg -vv "
            "-c system.conf"
        ),
    )
    which = sim.add_mutually_exclusive_group()
    which.add_argument("--board", metavar="NAME",
                       help="a simulated system bundled with trunkline "
                            "(firmware-profiles/systems/NAME.toml, e.g. crossed), as "
                            "--card dahdi:sim=NAME takes")
    which.add_argument("--system", metavar="FILE",
                       help="a simulated system description (TOML, spec 1.0; "
                            "see docs/dahdi.md)")
    sim.add_argument("--speed", type=positive, default=1.0, metavar="N",
                     help="run the simulated kernel, and COMMAND's sleep(), usleep(), "
                          "nanosleep(), gettimeofday() and time(), N times faster than "
                          "the wall clock (for tools that wait on it, e.g. fxotune's line "
                          "resets; default 1)")
    sim.add_argument("command", nargs=argparse.REMAINDER, metavar="-- COMMAND [ARGS...]",
                     help="the program to run and its arguments")
    sim.set_defaults(handler=_dahdi_sim)


def _dahdi_sim(args: argparse.Namespace) -> int:
    from trunkline.drivers.backends.dahdi.preload import run_under_sim

    command = list(args.command)
    if command[:1] == ["--"]:
        command = command[1:]
    if not command:
        raise ConfigError("dahdi-sim needs a command: trunkline dahdi-sim -- COMMAND [ARGS]")
    if not args.speed > 0:
        raise ConfigError(f"dahdi-sim --speed must be above 0, not {args.speed}")
    return run_under_sim(command, args.system or args.board, args.speed)
