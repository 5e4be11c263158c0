"""The supervisor console's page and files as served (no browser): the service's strict
Content-Security-Policy on /console, no inline script or style, no outside URL, nothing
set as HTML, every file package data, and every string in English and Chinese."""

from __future__ import annotations

import re
import time
import tomllib
from fnmatch import fnmatch
from pathlib import Path

from desk_browser_kit import make_db
from fastapi.testclient import TestClient

from trunkline.dialer.runner.desk_runner import DeskRunner
from trunkline.dialer.runner.gateway import InProcessGateway
from trunkline.dialer.service.host import GatewaySpec, ServiceHost
from trunkline.dialer.service.web import create_app
from trunkline.dialer.service.web_auth import secret_key
from trunkline.dialer.service.web_pages import CSP, STATIC

ROOT = Path(__file__).resolve().parents[2]
#: Every file of the console (its modules by their name, so a new one is checked too).
FILES = ("console.html", "console.css", "dom.js",
         *sorted(p.name for p in STATIC.glob("console*.js")))
#: The one URL allowed in the files: SVG's XML namespace name (a name, never fetched).
SVG_NS = "http://www.w3.org/2000/svg"


def test_the_console_page_carries_the_strict_policy(tmp_path: Path) -> None:
    db = make_db(tmp_path)

    def gateway() -> tuple[InProcessGateway, object]:
        g = InProcessGateway(start=time.time())
        return g, g.close

    def runner(store, names, gw, progress, sink) -> DeskRunner:  # type: ignore[no-untyped-def]
        return DeskRunner(store, names, gw, sink=sink, progress=progress)

    host = ServiceHost(str(db), [GatewaySpec("virtual", gateway)], runner, drain=5.0)
    with TestClient(create_app(str(db), host, key=secret_key(str(db))),
                    base_url="http://testserver") as c:
        for path in ("/console", "/static/console.js", "/static/console-strings.js",
                     "/static/console.css"):
            r = c.get(path)
            assert r.status_code == 200, path
            assert r.headers["content-security-policy"] == CSP
        assert c.get("/console").headers["content-type"].startswith("text/html")


def test_no_inline_script_or_style_no_outside_url_no_html() -> None:
    for name in FILES:
        text = (STATIC / name).read_text()
        if name.endswith(".html"):
            assert not re.search(r"<script(?![^>]*\bsrc=)", text), name
            assert not re.search(r"<style|\sstyle=|\son[a-z]+=", text), name
        assert not re.search(r"https?://", text.replace(f'"{SVG_NS}"', "")), name
        assert "innerHTML" not in text and "insertAdjacentHTML" not in text, name
        assert "eval(" not in text, name


def test_every_file_is_package_data() -> None:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    globs = data["tool"]["setuptools"]["package-data"]["trunkline.dialer.service"]
    for name in FILES:
        assert any(fnmatch(f"static/{name}", g) for g in globs), name


def _keys(block: str) -> set[str]:
    return set(re.findall(r'^  "([^"]+)":', block, re.M))


def test_every_string_is_in_english_and_chinese() -> None:
    text = (STATIC / "console-strings.js").read_text()
    en, zh = text.split("const zh")
    assert _keys(en) == _keys(zh)
    used = set(re.findall(r'data-ct="([^"]+)"', (STATIC / "console.html").read_text()))
    script = (STATIC / "console.js").read_text()
    used |= set(re.findall(r'i18n\.t\("([^"]+)"', script))
    used |= set(re.findall(r'button\("([^"]+)"', script))
    for module in ("console-reports.js", "console-recordings.js", "console-waveform.js",
                   "console-qa.js"):
        used |= set(re.findall(r'\b(?:t|label)\("([^"]+)"', (STATIC / module).read_text()))
    assert used and used <= _keys(en), sorted(used - _keys(en))
    assert {"qa.save", "qa.latest", "rec.wave.seek"} <= used  # the new modules' are read
    for prefix in ("state.", "level.", "mode.", "alarm.", "campaign.", "cap.", "chart.",
                   "series.", "outcome."):  # built keys
        assert any(k.startswith(prefix) for k in _keys(en)), prefix
    chinese = re.findall(r'^  "[^"]+": "(.*)",$', zh, re.M)
    assert sum(bool(re.search(r"[\u4e00-\u9fff]", s)) for s in chinese) > 0.8 * len(chinese)
