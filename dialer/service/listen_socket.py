"""Bind the service's listening sockets before anything says the service is up.

uvicorn binds inside ``serve()``, after the caller has announced the address; on a busy or
forbidden port it logs its own ``ERROR:`` line and calls ``sys.exit``. Binding here first
lets ``trunkline dialer serve`` refuse with one line in the project's error format (naming
the address and the reason) before it prints "service on ...", and hand the bound sockets
to ``uvicorn.Server.serve(sockets=...)``.

The sockets are set up as asyncio's ``loop.create_server(host, port)`` sets them up (which
is what uvicorn would have called): one per address ``host`` resolves to, SO_REUSEADDR so
a restart is not refused by connections in TIME_WAIT (on Linux it never lets two
listeners share a port: socket(7)), IPV6_V6ONLY on IPv6 ones so ``localhost`` can bind
both 127.0.0.1 and ::1 on the same port.
"""

from __future__ import annotations

import socket

from trunkline.errors import ConfigError

BACKLOG = 2048  # uvicorn's default --backlog


def _shown(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _reason(err: OSError) -> str:
    """``address already in use``: the C library's words, in the error line's case."""
    text = err.strerror or str(err)
    return text[:1].lower() + text[1:]


def bind_listening(host: str, port: int, backlog: int = BACKLOG) -> list[socket.socket]:
    """Listening, non-blocking TCP sockets on every address ``host`` resolves to.

    Raises ConfigError("cannot listen on HOST:PORT: REASON") if ``host`` does not resolve
    or any address cannot be bound (busy port, a port below 1024 without the right, an
    address this machine does not have); nothing stays bound then.
    """
    try:
        infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM,
                                   flags=socket.AI_PASSIVE)
    except socket.gaierror as err:
        raise ConfigError(f"cannot listen on {_shown(host, port)}: {_reason(err)}") from None
    sockets: list[socket.socket] = []
    seen: set[tuple[int, object]] = set()
    try:
        for family, kind, proto, _, address in infos:
            if (family, address) in seen:
                continue
            seen.add((family, address))
            sock = socket.socket(family, kind, proto)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                sock.bind(address)
            except OSError as err:
                raise ConfigError(
                    f"cannot listen on {_shown(str(address[0]), port)}: {_reason(err)}"
                ) from None
            sock.listen(backlog)
            sock.setblocking(False)
    except BaseException:
        for sock in sockets:
            sock.close()
        raise
    return sockets
