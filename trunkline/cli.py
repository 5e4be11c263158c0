"""The ``trunkline`` command line: one program, a subcommand per job.

Each layer contributes its own subcommands through a ``register(subparsers)`` function in
its ``cli`` module, listed in :data:`COMMAND_MODULES`; a module is imported only when
``trunkline`` starts, and none of them loads a native library at import.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from trunkline import __version__
from trunkline.errors import TrunklineError

#: Modules whose ``register(subparsers)`` adds subcommands, in the order shown by --help.
COMMAND_MODULES: tuple[str, ...] = (
    "trunkline.drivers.cli",
    "trunkline.drivers.commissioning.cli",
    "trunkline.drivers.backends.dahdi.sim_cli",
    "trunkline.drivers.dsp.detect_cli",
    "trunkline.gateway.cli",
    "trunkline.gateway.fax.cli",
    "trunkline.gateway.recording.cli",
    "trunkline.dialer.cli",
    "trunkline.dialer.demo",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="trunkline",
        description=(
            "trunkline: an open hard dialer on DAHDI E1/T1 and analog boards, "
            "or on the built-in emulated card."
        ),
    )
    parser.add_argument("--version", action="version", version=f"trunkline {__version__}")
    parser.add_argument(
        "--log-level", default="warning",
        choices=["debug", "info", "warning", "error"],
        help="level of the structured log written to stderr (default: warning)",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as err:
            if err.name == name:
                continue
            raise
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    from trunkline.logs import configure_logging

    configure_logging(args.log_level)
    try:
        return int(args.handler(args) or 0)
    except TrunklineError as err:
        print(f"trunkline: error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`trunkline gw channels | head`): not an error of ours.
        sys.stderr.close()
        return 0
    except OSError as err:
        # A file the user named cannot be opened or written (`--output` into a folder
        # that does not exist or onto a folder, no permission): one line naming the
        # file, not a traceback, whichever command it was. OSErrors naming no file are
        # not about the user's input and keep their traceback.
        message = _file_error(err)
        if message is None:
            raise
        print(f"trunkline: error: {message}", file=sys.stderr)
        return 1


def _file_error(err: OSError) -> str | None:
    """``FILE: reason`` for an OSError about a file, None for any other OSError
    (connection errors, which carry no file name, are the commands' own to explain)."""
    if err.filename is None or isinstance(err, ConnectionError):
        return None
    reason = err.strerror or str(err)
    return f"{err.filename}: {reason}"


if __name__ == "__main__":
    sys.exit(main())
