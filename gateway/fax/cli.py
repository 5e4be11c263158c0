"""``trunkline fax ...``.

``trunkline fax send NUMBER FILE --card emulated --line fxo|pri`` runs a gateway media
engine in-process on the card and sends one fax; on the emulated card it runs in virtual
time (a minute of fax in about a second) and the network's fax subscriber is a real
spandsp fax machine, so the result names the far end's copy for comparison.
``trunkline recordings`` is in :mod:`trunkline.gateway.recording.cli`.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from trunkline.cli_numbers import positive
from trunkline.errors import ConfigError, TrunklineError


class FaxCommandError(TrunklineError):
    """A fax command could not run (bad card, no line, engine failure)."""


def register(subparsers: Any) -> None:
    fax = subparsers.add_parser("fax", help="send faxes (spandsp T.30 over the line's audio)")
    fsub = fax.add_subparsers(dest="fax_command", metavar="ACTION")
    send = fsub.add_parser("send", help="send one fax to NUMBER")
    send.add_argument("number")
    send.add_argument("files", nargs="+", metavar="FILE", help="TIFF, PDF or image pages")
    send.add_argument("--card", default="emulated", help="card URL (default: emulated)")
    send.add_argument("--network", type=Path, help="number plan of the emulated network")
    send.add_argument("--line", choices=("fxo", "pri"), default="fxo",
                      help="which kind of line to place the call on (default: fxo)")
    send.add_argument("--ident", default="", help="our station id (TSI), up to 20 chars")
    send.add_argument("--header", default="", help="header line printed on each page")
    send.add_argument("--no-ecm", dest="ecm", action="store_false", help="turn ECM off")
    send.add_argument("--modems", default="v17,v29,v27ter",
                      help="image modems offered, comma-separated (default: v17,v29,v27ter)")
    send.add_argument("--standard", dest="fine", action="store_false",
                      help="standard resolution (98 lpi) instead of fine (196 lpi)")
    send.add_argument("--inbox", type=Path,
                      help="emulated card: where the far-end fax machine stores pages")
    send.add_argument("--far-no-ecm", action="store_true",
                      help="emulated card: the far-end machine offers no ECM")
    send.add_argument("--timeout", type=positive, default=600.0,
                      help="give up after this many (card) seconds (default: 600)")
    send.add_argument("--json", action="store_true", help="print one JSON object at the end")
    send.set_defaults(handler=fax_send)


# -- fax send --------------------------------------------------------------------------

def fax_send(args: argparse.Namespace) -> int:
    result = send_one(args.number, [Path(f) for f in args.files], card=args.card,
                      network=args.network, line=args.line, ident=args.ident,
                      header=args.header, ecm=args.ecm,
                      modems=tuple(m.strip() for m in args.modems.split(",") if m.strip()),
                      fine=args.fine, inbox=args.inbox, far_ecm=not args.far_no_ecm,
                      timeout=args.timeout)
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{result['result']}: {result['pages']} page(s) at {result['rate']} bit/s, "
              f"ECM {'on' if result['ecm'] else 'off'}, T.30 code {result['t30_code']}")
        if result.get("received_file"):
            print(f"far end's copy: {result['received_file']}")
    return 0 if result["result"] == "ok" else 1


def send_one(number: str, files: list[Path], *, card: str = "emulated",
             network: Path | None = None, line: str = "fxo", ident: str = "",
             header: str = "", ecm: bool = True,
             modems: tuple[str, ...] = ("v17", "v29", "v27ter"), fine: bool = True,
             inbox: Path | None = None, far_ecm: bool = True,
             timeout: float = 600.0) -> dict[str, Any]:
    """Send one fax through an in-process engine; the dict ``trunkline fax send`` prints."""
    from trunkline.gateway.fax.session import FaxOptions

    if not number or not all(c.isdigit() or c in "*#" for c in number):
        raise ConfigError(f"fax number {number!r} must be digits (and * #)")
    if network is not None and not network.is_file():
        raise ConfigError(f"--network {network}: no such number plan")
    try:
        options = FaxOptions(ident=ident, header=header, ecm=ecm, modems=modems, fine=fine)
    except ConfigError:
        raise
    work = Path(tempfile.mkdtemp(prefix="tl-fax-"))
    try:
        return _send(work, number, files, card=card, network=network, line=line,
                     options=options, fine=fine, inbox=inbox, far_ecm=far_ecm,
                     timeout=timeout)
    finally:
        # The prepared document (and, without --inbox, the far end's pages) are this
        # command's scratch: each run used to leave its folder behind (issue 15,
        # red-team 14).
        shutil.rmtree(work, ignore_errors=True)


def _send(work: Path, number: str, files: list[Path], *, card: str, network: Path | None,
          line: str, options: Any, fine: bool, inbox: Path | None, far_ecm: bool,
          timeout: float) -> dict[str, Any]:
    from trunkline.clock import RealClock, VirtualClock
    from trunkline.gateway.config import GatewayConfig
    from trunkline.gateway.fax.documents import prepare
    from trunkline.gateway.fax.jobs import _hangup_later
    from trunkline.gateway.fax.session import FaxSession
    from trunkline.gateway.service import GatewayService

    document = prepare(files, work / "document.tif", fine=fine)
    emulated = card.split(":", 1)[0] == "emulated"
    far_before = 0
    if emulated:
        from trunkline.drivers.backends.emulated import fax_far_end

        fax_far_end.configure(inbox=inbox or work / "far-inbox", ecm=far_ecm)
        far_before = len(fax_far_end.SESSIONS)
    clock = VirtualClock() if emulated else RealClock()
    config = GatewayConfig(card_url=card, network=network)
    service = GatewayService(config, clock=clock)
    engine = service.engine
    events: list[dict] = []
    engine.subscribe(events.append)
    try:
        session = None
        start = clock.now()
        while session is None:
            try:
                info = engine.originate(number, group=line, ring_timeout=60.0)
            except TrunklineError as err:
                if clock.now() - start > 10.0:  # PRI D-channel never came up, no free port
                    raise FaxCommandError(f"cannot place the call on a {line} line: "
                                          f"{err}") from None
                engine.tick()
                continue
            call = engine.calls[info["call"]]
            session = FaxSession("send", calling=True, document=document.path,
                                 options=options, call=call, publish=events.append,
                                 hangup=_hangup_later(engine, call.id))
            engine.attach_processor(call.id, session)
        deadline = clock.now() + timeout
        while (session.result is None or engine.calls) and clock.now() < deadline:
            engine.tick()
        if session.result is None:
            session.close()  # ends T.30 and reports
        result = session.future.result(timeout=30)
    finally:
        engine.close()
        service.card.close()
    out = {"result": result.result, "pages": result.pages, "rate": result.rate,
           "ecm": result.ecm, "t30_code": result.t30_code, "received_file": None,
           "far_ident": result.far_ident, "call_outcome": result.call_outcome}
    if emulated:
        from trunkline.drivers.backends.emulated import fax_far_end

        mine = list(fax_far_end.SESSIONS)[far_before:]
        if mine and mine[-1].rx_file is not None and mine[-1].rx_file.exists():
            # Only a folder the user named outlives the command.
            out["received_file"] = str(mine[-1].rx_file) if inbox is not None else None
            out["far_result"] = "ok" if mine[-1].ok else f"t30_{mine[-1].completion_code}"
    return out
