"""The browser pages: the login page at ``/``, the agent's desktop at ``/desk``, and their
files (HTML, CSS, JavaScript modules) under ``/static/``, shipped as package data in
``dialer/service/static/``.

Every answer carries a strict Content-Security-Policy (:data:`CSP`): scripts and styles
only from this service's own files (no inline script, no ``eval``), connections only to
this service (its API and WebSocket), nothing from another site: sites are on-premises and
often offline, and a contact's data shown on a page can never become script. Pages are
also refused framing (clickjacking) and MIME sniffing, and are not cached, so an upgrade
of the service reaches every agent at the next load.

Another page (the supervisor console, the softphone) adds its HTML to ``static/`` and a
line to :data:`PAGES`; it shares ``base.css``, ``i18n.js`` and ``api.js``.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: Where the pages' files are (package data).
STATIC = Path(__file__).resolve().parent / "static"

#: The Content-Security-Policy of every page and file (CSP Level 3; 'self' in
#: connect-src also allows the same host's ws:/wss:).
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "font-src 'self'; connect-src 'self'; media-src 'self' blob:; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")

#: Headers sent with every page and static file.
HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff",
           "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin",
           "Cache-Control": "no-cache"}

#: URL path -> the HTML file served there.
PAGES = {"/": "login.html", "/desk": "desk.html", "/console": "console.html"}

pages = APIRouter(include_in_schema=False)


def _page(name: str) -> Response:
    return FileResponse(STATIC / name, media_type="text/html; charset=utf-8",
                        headers=HEADERS)


def _register(path: str, name: str) -> None:
    async def page() -> Response:
        return _page(name)

    page.__name__ = f"page_{name.split('.')[0]}"
    pages.add_api_route(path, page, methods=["GET"], response_class=Response)


for _path, _name in PAGES.items():
    _register(_path, _name)


class _WithHeaders:
    """ASGI wrapper adding :data:`HEADERS` to every response of ``app``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                for key, value in HEADERS.items():
                    if key.lower().encode() not in names:
                        headers.append((key.lower().encode(), value.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, sending)


def static_files() -> ASGIApp:
    """The ``/static`` mount: the pages' CSS and JavaScript (JavaScript as
    ``text/javascript``, which ES modules need)."""
    return _WithHeaders(StaticFiles(directory=STATIC))
