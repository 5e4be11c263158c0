"""The desktop's pages and files as the service serves them (no browser): the strict
Content-Security-Policy, no inline script or style anywhere, every file shipped as
package data, every string in both languages, and the GET routes the page reads."""

from __future__ import annotations

import re
import time
import tomllib
from fnmatch import fnmatch
from pathlib import Path

from desk_browser_kit import PASSWORDS, make_db
from fastapi.testclient import TestClient

from trunkline.dialer.runner.desk_runner import DeskRunner
from trunkline.dialer.runner.gateway import InProcessGateway
from trunkline.dialer.service.host import GatewaySpec, ServiceHost
from trunkline.dialer.service.web import create_app
from trunkline.dialer.service.web_auth import secret_key
from trunkline.dialer.service.web_pages import CSP, STATIC
from trunkline.dialer.store import Store

ROOT = Path(__file__).resolve().parents[2]
DESK_FILES = ("api.js", "base.css", "desk-form.js", "desk.css", "desk.html", "desk.js",
              "i18n.js", "lang-picker.js", "login.css", "login.html", "login.js",
              "strings.js")


def _client(folder: Path) -> TestClient:
    db = make_db(folder)

    def gateway() -> tuple[InProcessGateway, object]:
        g = InProcessGateway(start=time.time())
        return g, g.close

    def runner(store, names, gw, progress, sink) -> DeskRunner:
        return DeskRunner(store, names, gw, sink=sink, progress=progress)

    host = ServiceHost(str(db), [GatewaySpec("virtual", gateway)], runner, drain=5.0)
    return TestClient(create_app(str(db), host, key=secret_key(str(db))),
                      base_url="http://testserver")


def test_pages_and_files_carry_a_strict_policy(tmp_path: Path) -> None:
    with _client(tmp_path) as c:
        for path in ("/", "/desk", "/static/desk.js", "/static/base.css"):
            r = c.get(path)
            assert r.status_code == 200, path
            assert r.headers["content-security-policy"] == CSP
            assert r.headers["x-content-type-options"] == "nosniff"
            assert r.headers["x-frame-options"] == "DENY"
        assert c.get("/").headers["content-type"].startswith("text/html")
        assert "javascript" in c.get("/static/desk.js").headers["content-type"]
        assert c.get("/static/../web.py").status_code == 404
        assert c.get("/static/nothing.js").status_code == 404
    assert "script-src 'self';" in CSP and "unsafe" not in CSP
    assert "default-src 'none'" in CSP


def test_no_inline_script_or_style_and_no_outside_url() -> None:
    for name in DESK_FILES:
        text = (STATIC / name).read_text()
        if name.endswith(".html"):
            assert not re.search(r"<script(?![^>]*\bsrc=)", text), name
            assert not re.search(r"<style|\sstyle=|\son[a-z]+=", text), name
        assert not re.search(r"https?://(?!127\.0\.0\.1)", text), name
        assert "innerHTML" not in text and "insertAdjacentHTML" not in text, name


def test_every_page_file_is_package_data() -> None:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    globs = data["tool"]["setuptools"]["package-data"]["trunkline.dialer.service"]
    for name in DESK_FILES:
        assert any(fnmatch(f"static/{name}", g) for g in globs), name
    assert "playwright==1.63.0" in data["project"]["optional-dependencies"]["test"]


def _keys(block: str) -> set[str]:
    return set(re.findall(r'^  "([^"]+)":', block, re.M))


def test_every_string_is_in_english_and_chinese() -> None:
    text = (STATIC / "strings.js").read_text()
    en, zh = text.split("const zh")
    assert _keys(en) == _keys(zh)
    used: set[str] = set()
    for path in STATIC.glob("*.html"):
        used |= set(re.findall(r'data-i18n(?:-[a-z-]+)?="([^"]+)"', path.read_text()))
    for name in ("desk.js", "login.js", "desk-form.js", "softphone.js"):
        used |= set(re.findall(r'i18n\.t\("([^"]+)"', (STATIC / name).read_text()))
    assert used and used <= _keys(en), sorted(used - _keys(en))
    # the Chinese strings are Chinese (not an English copy)
    chinese = re.findall(r'^  "[^"]+": "(.*)",$', zh, re.M)
    assert sum(bool(re.search(r"[\u4e00-\u9fff]", s)) for s in chinese) > 0.8 * len(chinese)


def test_the_routes_the_desktop_reads(tmp_path: Path) -> None:
    with _client(tmp_path) as c:
        assert c.get("/api/desk/pause-codes").status_code == 401
        r = c.post("/api/login", json={"name": "li", "password": PASSWORDS["li"]})
        assert r.status_code == 200
        codes = c.get("/api/desk/pause-codes").json()
        assert [p["code"] for p in codes] == ["break", "lunch", "coaching"]
        assert codes[0] == {"code": "break", "label": "小休 Break", "limit": 900.0}
        [loans] = c.get("/api/desk/campaigns").json()
        assert (loans["name"], loans["state"], loans["mode"]) == ("loans", "idle",
                                                                  "predictive")
        assert loans["time_zone"] == "Asia/Shanghai" and loans["max_wrap_up"] == 600
        promise = next(d for d in loans["dispositions"] if d["code"] == "promise")
        assert promise["hotkey"] == "p"
        assert [(f["name"], f["kind"]) for f in promise["fields"]] == [
            ("amount", "money"), ("date", "date"), ("reason", "choice"),
            ("follow_up", "bool")]
        assert c.get("/api/desk/screen").json() == {"seat": None, "campaign": None,
                                                   "script": "", "dispositions": []}
        with Store(tmp_path / "dialer.sqlite") as store:
            store.unassign("wang", "loans")
        c.post("/api/login", json={"name": "wang", "password": PASSWORDS["wang"]})
        assert c.get("/api/desk/campaigns").json() == []   # an agent sees its own only
        c.post("/api/login", json={"name": "boss", "password": PASSWORDS["boss"]})
        assert [x["name"] for x in c.get("/api/desk/campaigns").json()] == ["loans"]
