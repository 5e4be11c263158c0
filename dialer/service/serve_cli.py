"""``trunkline dialer serve``: the dialer as a long-running service (issue 17).

One asyncio loop runs uvicorn (the web API, :mod:`.web`) and the
:class:`~trunkline.dialer.service.host.ServiceHost`, which owns one runner thread per
gateway (``--gateway SOCKET``, repeatable; ``--virtual`` for a gateway on the emulated
card inside this process, in real time). Campaigns are started, paused and stopped
through the API, not by the process's lifetime. SIGTERM or Ctrl-C stop it cleanly:
uvicorn stops taking requests, each running campaign ends as ``trunkline dialer run``
ends a shift (no new calls; calls in flight finish within ``--drain`` seconds), and the
gateways are closed. After a crash, the runner settles what the store left open when its
campaign is started again (the store's crash guarantees).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import signal
import sys
import tempfile
from pathlib import Path
from typing import Any

from trunkline.dialer.runner.cli import DEFAULT_DB, _channels
from trunkline.errors import ConfigError

DEFAULT_LISTEN = "127.0.0.1:8080"


def parse_listen(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[v6]:PORT`` for IPv6) as a host and a port number."""
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise argparse.ArgumentTypeError(f"not HOST:PORT: {text!r} (e.g. {DEFAULT_LISTEN})")
    return host.strip("[]"), int(port)


def register_serve_command(sub: argparse._SubParsersAction) -> None:
    """Add ``trunkline dialer serve`` to the ``dialer`` sub-parsers."""
    serve = sub.add_parser(
        "serve", help="run the dialer as a service with its web API",
        description=(
            "Run the dialer as a long-running service: the JSON HTTP API (OpenAPI at "
            "/openapi.json) and a WebSocket of live events on --listen, campaigns run on "
            "the gateways given (started, paused and stopped through the API by "
            "supervisors), users from 'trunkline users'. SIGTERM or Ctrl-C stop it "
            "cleanly: calls in flight finish. See docs/dialer-service.md."),
        epilog="Example: trunkline dialer serve --virtual --db /var/lib/trunkline/dialer.sqlite")
    serve.add_argument("--listen", type=parse_listen, default=parse_listen(DEFAULT_LISTEN),
                       metavar="HOST:PORT", help=f"where to serve (default {DEFAULT_LISTEN})")
    serve.add_argument("--db", "--store", dest="db", metavar="FILE",
                       default=os.environ.get("TRUNKLINE_DIALER_DB", DEFAULT_DB),
                       help=f"the campaign database (default $TRUNKLINE_DIALER_DB or "
                            f"{DEFAULT_DB})")
    serve.add_argument("--gateway", action="append", default=[], metavar="SOCKET",
                       help="a gateway's socket; repeat for several (default: the "
                            "gateway's default socket, unless --virtual)")
    serve.add_argument("--token", help="token for TCP gateway addresses")
    serve.add_argument("--virtual", action="store_true",
                       help="also run a gateway on the emulated card in this process "
                            "(real time)")
    serve.add_argument("--network", metavar="PLAN.toml",
                       help="--virtual: the number plan (default: the sample network)")
    serve.add_argument("--agents", type=_channels, metavar="CH,CH,...",
                       help="the agent positions' channels (default: the 'agents' group)")
    serve.add_argument("--group", default="outbound",
                       help="the channel group customer calls go out on (default outbound)")
    serve.add_argument("--wrap-up", type=float, default=5.0, metavar="S",
                       help="seconds an agent stays in wrap-up after a call (default 5)")
    serve.add_argument("--abandon-file", metavar="WAV",
                       help="the abandon message (a WAV in the gateway's prompts "
                            "folder; checked on every gateway at start). Without it, "
                            "starting a campaign under regime uk or us is refused (Ofcom "
                            "and the US TSR require a recorded message naming the caller)")
    serve.add_argument("--abandon-tone", default="info", metavar="TONE",
                       help="the zone tone played to abandoned calls without a file "
                            "(regimes cn and none only)")
    serve.add_argument("--hold-file", metavar="WAV",
                       help="music on hold, looped while an agent holds a customer or a "
                            "transfer rings (a WAV in the gateway's prompts folder, "
                            "checked on every gateway at start: a file it could not "
                            "play stops the start; default: the zone's call-waiting "
                            "tone)")
    serve.add_argument("--drain", type=float, default=120.0, metavar="S",
                       help="at stop, how long calls in flight may take to end "
                            "(default 120)")
    serve.add_argument("--idle-timeout", type=float, default=1800.0, metavar="S",
                       help="seconds without a request or an open WebSocket that end "
                            "a web session (default 1800)")
    serve.add_argument("--allow-origin", action="append", default=[], metavar="URL",
                       help="an extra origin allowed to send requests (the public URL of "
                            "a reverse proxy, e.g. https://dialer.example.com)")
    serve.add_argument("--trust-proxy", action="append", default=[], metavar="IP",
                       help="a reverse proxy whose X-Forwarded-For and X-Forwarded-Proto "
                            "are believed (the client's address for login limits and the "
                            "audit; https for Secure cookies); repeatable")
    serve.add_argument("--tls-cert", metavar="PEM", help="serve HTTPS with this certificate")
    serve.add_argument("--tls-key", metavar="PEM", help="the certificate's private key")
    serve.set_defaults(handler=run_serve)


def _virtual_spec(args: argparse.Namespace) -> Any:
    """A gateway on the emulated card in this process, behind a Unix socket of its own
    in a scratch folder, reached by the runner as any gateway (real time)."""
    from trunkline.dialer.runner.campaign_runner import CampaignRunner
    from trunkline.dialer.service.host import GatewaySpec

    def open_virtual() -> tuple[Any, Any]:
        from trunkline.gateway.config import GatewayConfig
        from trunkline.gateway.testing import ServiceThread

        folder = Path(tempfile.mkdtemp(prefix="trunkline-serve-"))
        config = GatewayConfig(socket=folder / "gateway.sock",
                               recordings_root=folder / "recordings",
                               fax_spool=folder / "fax")
        if args.network:
            config.network = Path(args.network)
        service = ServiceThread(config).start()
        try:
            gateway = CampaignRunner.live_gateway(service.socket)
        except BaseException:
            service.stop()
            shutil.rmtree(folder, ignore_errors=True)
            raise

        def close() -> None:
            try:
                gateway.close()
            finally:
                service.stop()
                shutil.rmtree(folder, ignore_errors=True)

        return gateway, close

    return GatewaySpec("virtual", open_virtual)


def _socket_spec(address: str, token: str | None) -> Any:
    from trunkline.dialer.runner.campaign_runner import CampaignRunner
    from trunkline.dialer.service.host import GatewaySpec

    def open_socket() -> tuple[Any, Any]:
        gateway = CampaignRunner.live_gateway(address, token=token)
        return gateway, gateway.close

    return GatewaySpec(address, open_socket)


def build(args: argparse.Namespace) -> tuple[Any, Any]:
    """The host and the web application ``args`` describe (nothing started yet)."""
    from trunkline.dialer.runner.desk_runner import DeskRunner
    from trunkline.dialer.service.host import ServiceHost
    from trunkline.dialer.service.web import create_app
    from trunkline.dialer.service.web_auth import secret_key
    from trunkline.dialer.service.websessions import SessionTable
    from trunkline.dialer.store import Store

    if args.network and not args.virtual:
        raise ConfigError("--network goes with --virtual")
    if bool(args.tls_cert) != bool(args.tls_key):
        raise ConfigError("give both --tls-cert and --tls-key, or neither")
    from trunkline.dialer.runner.cli import check_option_bounds

    check_option_bounds(args)   # --wrap-up, --drain, --idle-timeout: finite, in range
    with Store(args.db) as store:  # migrates, or says why the file cannot be used
        if not store.users():
            print(f"trunkline: {args.db} has no users yet: add one with "
                  "'trunkline users add NAME --role admin'", file=sys.stderr)
    specs = [_virtual_spec(args)] if args.virtual else []
    gateways = args.gateway or ([] if args.virtual else [_default_socket()])
    specs += [_socket_spec(address, args.token) for address in gateways]
    from trunkline.dialer.service.playback_check import check_playback_files

    # A typo in a sound file fails the start, not the first Hold (playback_check.py).
    check_playback_files(specs, {"--hold-file": args.hold_file,
                                 "--abandon-file": args.abandon_file})

    def runner(store: Any, names: list[str], gateway: Any, progress: Any, sink: Any) -> Any:
        # agents log in to positions through the desk (POST /api/desk/login)
        return DeskRunner(store, names, gateway, sink=sink, agents=args.agents,
                          group=args.group, wrap_up=args.wrap_up,
                          abandon_file=args.abandon_file, abandon_tone=args.abandon_tone,
                          require_message=True,   # uk/us: refused without a file
                          hold_file=args.hold_file, progress=progress, progress_every=10.0)

    host = ServiceHost(str(Path(args.db).resolve()), specs, runner, drain=args.drain)
    scheme = "https" if args.tls_cert else "http"
    address, port = args.listen
    shown = f"[{address}]" if ":" in address else address
    origins = frozenset(o.rstrip("/") for o in args.allow_origin)
    app = create_app(str(Path(args.db).resolve()), host, key=secret_key(args.db),
                     sessions=SessionTable(idle=args.idle_timeout),
                     allowed_origins=origins)
    return app, f"{scheme}://{shown}:{port}"


def _default_socket() -> str:
    from trunkline.gateway.config import default_socket

    return str(default_socket())


def run_serve(args: argparse.Namespace) -> int:
    import uvicorn

    app, url = build(args)
    address, port = args.listen
    config = uvicorn.Config(app, host=address, port=port, lifespan="on",
                            log_level="warning", ssl_certfile=args.tls_cert,
                            ssl_keyfile=args.tls_key,
                            # without --trust-proxy no forwarded header is believed
                            proxy_headers=bool(args.trust_proxy),
                            forwarded_allow_ips=args.trust_proxy or None,
                            ws="websockets-sansio", timeout_graceful_shutdown=10)
    server = uvicorn.Server(config)
    from trunkline.dialer.service.listen_socket import bind_listening

    # Bound before the announcement: a busy or forbidden port is one error line
    # naming the address, not "service on ..." followed by uvicorn's own ERROR.
    sockets = bind_listening(address, port)
    print(f"trunkline dialer service on {url} (API description: {url}/openapi.json); "
          "Ctrl-C or SIGTERM to stop", flush=True)
    # uvicorn stops gracefully on SIGTERM/SIGINT, then raises the signal again so the
    # process ends "by the signal". By then the campaigns have ended and the gateways are
    # closed: this handler (uvicorn restores it before raising) takes that SIGTERM, so
    # the exit status says how the service ended (0: a clean stop). A SIGTERM before
    # uvicorn listens asks it to stop as well.
    previous = signal.signal(signal.SIGTERM,
                             lambda signum, frame: setattr(server, "should_exit", True))
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(server.serve(sockets=sockets))
    finally:
        signal.signal(signal.SIGTERM, previous)
        for sock in sockets:
            sock.close()
    return 0 if server.started else 1
