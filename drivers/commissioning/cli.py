"""The commissioning subcommands' command line: ``trunkline scan``, ``config``, ``status``,
``test``.

Only the argparse wiring lives here (listed in :data:`trunkline.cli.COMMAND_MODULES`);
each command's handler is in the module named after it.
"""

from __future__ import annotations

import argparse

from trunkline.cli_numbers import positive

from .config import (
    DEFAULT_CHAN_DAHDI,
    DEFAULT_SYSTEM_CONF,
    apply_command,
    generate_command,
    import_command,
)
from .scan import scan_command
from .status import status_command
from .testing import levels_command, loopback_command, timing_command, tones_command

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    from trunkline.drivers.cli import card_options

    scan = subparsers.add_parser(
        "scan", help="boards, spans, alarms, framing, sync source and counters, with verdicts",
        description="List the boards and spans found, their alarms, framing, coding, sync "
                    "source and error counters, with the likely cause of each fault; and "
                    "the USB telephony devices (GSM/LTE modules with their AT and audio "
                    "ports, sticks still in storage mode with the usb_modeswitch command "
                    "to run, Astribank boards with their firmware loader): commands are "
                    "printed, never run (docs/mobile.md). With --card dahdi and no DAHDI "
                    "loaded, lists the boards on the PCI bus and the kernel module each "
                    "needs.")
    card_options(scan)
    scan.add_argument("--json", action="store_true", help="print one JSON object")
    scan.add_argument("--sysfs", default="/sys", help=argparse.SUPPRESS)
    scan.add_argument("--no-usb", action="store_true",
                      help="leave out the USB devices (pyusb and sysfs are not read)")
    scan.add_argument("--via", choices=["dahdi_scan"],
                      help="run the real dahdi_scan and judge what it prints with the "
                           "same checks (alarms only: dahdi_scan prints no counters)")
    scan.set_defaults(handler=scan_command)

    config = subparsers.add_parser("config", help="generate, import or apply a card "
                                   "configuration")
    csub = config.add_subparsers(dest="config_command", metavar="ACTION")
    gen = csub.add_parser("generate", help="a configuration for the hardware found "
                          "(like dahdi_genconf), or DAHDI's files from a TOML")
    card_options(gen)
    gen.add_argument("--from", dest="from_toml", metavar="CONFIG.toml",
                     help="start from this TOML (e.g. what `config import` wrote) instead "
                          "of the hardware")
    gen.add_argument("-o", "--output", metavar="FILE", help="write the TOML here "
                     "(default: stdout, unless --from)")
    gen.add_argument("--system-conf", metavar="FILE", help="also write a DAHDI system.conf")
    gen.add_argument("--chan-dahdi", metavar="FILE", help="also write an Asterisk "
                     "chan_dahdi.conf (PRI, analog, MFC/R2 and SS7 settings)")
    gen.add_argument("--gateway-spans", metavar="FILE", help="also write the gateway's "
                     "[[span]] tables for the MFC/R2 and SS7 spans")
    gen.add_argument("--pri", choices=["cpe", "net"], default="cpe",
                     help="PRI side of the digital spans (default: cpe)")
    gen.add_argument("--zone", help="tone zone (default: the card's, else cn)")
    gen.add_argument("--echocanceller", metavar="NAME",
                     help="echo canceller for the B-channels and analog ports, as "
                          "dahdi_genconf's echo_can (default: the first the kernel lists, "
                          "else oslec; 'none' for none)")
    gen.add_argument("--via", choices=["dahdi_genconf"],
                     help="let the real dahdi_genconf write system.conf from the running "
                          "DAHDI (--card dahdi), with these options as its parameters, and "
                          "read it back; --system-conf keeps dahdi_genconf's own file")
    gen.set_defaults(handler=generate_command)
    imp = csub.add_parser("import", help="read system.conf and chan_dahdi.conf into TOML")
    imp.add_argument("--system-conf", default=DEFAULT_SYSTEM_CONF, metavar="FILE",
                     help=f"DAHDI's system.conf (default: {DEFAULT_SYSTEM_CONF})")
    imp.add_argument("--chan-dahdi", metavar="FILE",
                     help=f"chan_dahdi.conf (default: {DEFAULT_CHAN_DAHDI} if present)")
    imp.add_argument("-o", "--output", metavar="FILE", help="write the TOML here")
    imp.add_argument("--gateway-spans", metavar="FILE", help="also write the gateway's "
                     "[[span]] tables for the MFC/R2 and SS7 spans (docs/r2.md, docs/ss7.md)")
    imp.set_defaults(handler=import_command)
    app = csub.add_parser("apply", help="configure spans and channels from a TOML "
                          "(like dahdi_cfg)")
    app.add_argument("config", metavar="CONFIG.toml")
    card_options(app)
    app.add_argument("--dry-run", action="store_true", help="check and show, change nothing")
    app.add_argument("--via", choices=["dahdi_cfg"],
                     help="write the TOML as system.conf and let the real dahdi_cfg apply "
                          "it (dahdi_cfg -t with --dry-run)")
    app.set_defaults(handler=apply_command)
    config.set_defaults(handler=lambda args: _usage(config))

    status = subparsers.add_parser("status", help="live span and channel view")
    card_options(status)
    status.add_argument("--once", action="store_true", help="print once and exit")
    status.add_argument("--interval", type=positive, default=1.0, metavar="SECONDS",
                        help="seconds between refreshes (default 1)")
    status.add_argument("--count", type=int, default=0,
                        help="stop after this many refreshes (default: until Ctrl-C)")
    status.set_defaults(handler=status_command)

    test = subparsers.add_parser("test", help="commissioning tests: timing, loopback, "
                                 "tones, levels, echo")
    tsub = test.add_subparsers(dest="test_command", metavar="TEST")
    timing = tsub.add_parser("timing", help="like dahdi_test: 99.99%% or better passes")
    card_options(timing)
    timing.add_argument("--passes", type=int, default=5, help="1-second passes (default 5)")
    timing.add_argument("--via", choices=["dahdi_test"],
                        help="run the real dahdi_test for --passes passes and judge its "
                             "passes with the same mark (99.99%%)")
    timing.set_defaults(handler=timing_command)
    loop = tsub.add_parser("loopback", help="span loopbacks and a B-channel pattern test")
    card_options(loop)
    loop.add_argument("--span", type=int, action="append",
                      help="span to test (repeatable; default: every digital span)")
    loop.add_argument("--mode", choices=["local", "network_line", "network_payload"],
                      default="local")
    loop.add_argument("--seconds", type=positive, default=2.0, help="pattern length / hold")
    loop.add_argument("--off", action="store_true", help="only end any loopback")
    loop.add_argument("--via", choices=["dahdi_maint"],
                      help="set and end the loops with the real dahdi_maint (the pattern "
                           "test is the same)")
    loop.set_defaults(handler=loopback_command)
    tones = tsub.add_parser("tones", help="play and detect zone tones end to end")
    card_options(tones)
    tones.add_argument("--zone", help="tone zone (default: the card's, else cn)")
    tones.add_argument("--span", type=int, help="digital span to loop (default: first up)")
    tones.add_argument("--channel", type=int, help="FXO port to check dial tone on "
                       "(default: first FXO port)")
    tones.add_argument("--seconds", type=positive, default=6.0)
    tones.set_defaults(handler=tones_command)
    levels = tsub.add_parser("levels", help="rx/tx levels per channel")
    card_options(levels)
    levels.add_argument("--channels", help="channel ranges (default: every analog port)")
    levels.add_argument("--onhook", action="store_true",
                        help="leave FXO ports on hook (default: off hook, to hear dial tone)")
    levels.add_argument("--seconds", type=positive, default=1.0)
    levels.set_defaults(handler=levels_command)
    echo = tsub.add_parser("echo", help="each FXO port's hybrid echo (return loss), "
                           "measured as fxotune measures it; --via fxotune tunes it")
    card_options(echo)
    echo.add_argument("--via", choices=["fxotune"],
                      help="run the real fxotune -i on each FXO port (it tries 72 settings "
                           "of the DAA and keeps the best), read the setting it chose and "
                           "the echo it measured, and check the board holds it")
    echo.add_argument("--channels", help="FXO ports to tune (default: every configured one)")
    echo.add_argument("--dial", default="5", help="digits that stop dial tone (fxotune's "
                      "dialstring, default 5; a number the exchange answers with silence "
                      "is better)")
    echo.add_argument("--delay", type=int, default=0, metavar="SECONDS",
                      help="wait after dialling before measuring (fxotune -l, default 0)")
    echo.add_argument("--silence", type=int, default=18, metavar="SECONDS",
                      help="how long the line stays quiet after dialling, before fxotune "
                           "dials again (fxotune -m, default 18)")
    echo.add_argument("--config", metavar="FILE", help="also write the settings found as "
                      "an fxotune.conf (e.g. /etc/fxotune.conf, for fxotune -s at boot)")
    echo.set_defaults(handler=_echo_command)
    test.set_defaults(handler=lambda args: _usage(test))


def _echo_command(args: argparse.Namespace) -> int:
    from .echo import echo_command

    return echo_command(args)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2

