"""Helpers for the agent desktop's browser tests and the screenshot script: a campaign
database ready for a collections desk, ``trunkline dialer serve --virtual`` on it as a
real process, and headless Chromium (Debian's ``/usr/bin/chromium``) driven by
Playwright. A unique module name: never import it from a conftest.

Chromium missing: the tests skip on a developer's machine, and FAIL under CI
(``CI=true``), so a CI image without it cannot pass silently.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from wav_kit import tone_wav

from trunkline.dialer.campaigns.strategies import Strategy, Windows
from trunkline.dialer.desk.config import DeskConfig, pause_codes_from
from trunkline.dialer.service.passwords import hash_password
from trunkline.dialer.store import NewContact, Store

CHROMIUM = "/usr/bin/chromium"
#: Flags that work on this project's machines (../shared/reference/webrtc-browser.md).
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
PASSWORDS = {"li": "li-password", "wang": "wang-password", "boss": "boss-password"}
ROLES = {"li": "agent", "wang": "agent", "boss": "supervisor"}
CAMPAIGN = "loans"
ZONE = "Asia/Shanghai"

DESK = {
    "max_wrap_up": 600,
    "script": ("您好，请问是{{name}}吗？您的账户逾期{{overdue_days}}天，欠款{{debt}}元。\n"
               "Hello, am I speaking with {{name}}? Your account is {{overdue_days}} days "
               "overdue: {{debt}} CNY."),
    "disposition": [
        {"code": "promise", "label": "承诺还款 Promise to pay", "hotkey": "p",
         "callback": "optional", "field": [
             {"name": "amount", "kind": "money", "label": "承诺金额 Amount",
              "required": True, "min": 0.01},
             {"name": "date", "kind": "date", "label": "承诺日期 Date", "required": True},
             {"name": "reason", "kind": "choice", "label": "逾期原因 Reason",
              "choices": ["资金周转", "忘记还款", "失业", "其他"]},
             {"name": "follow_up", "kind": "bool", "label": "到期前提醒 Remind"}]},
        {"code": "callback", "label": "约定回拨 Call back", "hotkey": "c",
         "callback": "required"},
        {"code": "refuse", "label": "拒绝还款 Refused", "hotkey": "r",
         "field": [{"name": "why", "kind": "text", "required": True}]},
        {"code": "wrong_party", "label": "非本人 Wrong party", "hotkey": "w"},
    ],
}
PAUSE_CODES = [{"code": "break", "label": "小休 Break", "limit": 900},
               {"code": "lunch", "label": "午饭 Lunch", "limit": 3600},
               {"code": "coaching", "label": "辅导 Coaching"}]


@dataclass(frozen=True)
class Debtor:
    number: str
    name: str
    debt: str
    overdue_days: str
    priority: int = 0


#: Numbers of the sample network's "1381*" range: a person answers in 2-6 s and talks
#: 8-20 s (firmware-profiles/networks/sample.toml); "138*" others talk 20-120 s.
DEBTORS = (
    Debtor("+8613800001001", "张伟", "12500.00", "37", priority=90),
    Debtor("+8613812340002", "李娜", "3200.50", "12", priority=80),
    Debtor("+8613800001003", "王芳", "880.00", "65", priority=70),
)


def make_db(folder: Path, debtors: tuple[Debtor, ...] = DEBTORS, *,
            mode: str = "predictive") -> Path:
    """A database with the users, the collections campaign, its desk and the debtors."""
    path = folder / "dialer.sqlite"
    now = time.time()
    with Store(path) as store:
        store.create_campaign(
            CAMPAIGN, Strategy(windows=Windows.from_dict({"default": ["00:00-24:00"]}),
                               max_attempts=3, time_zone=ZONE),
            config={"mode": mode}, now=now)
        store.save_desk_config(CAMPAIGN, DeskConfig.from_dict(CAMPAIGN, DESK))
        store.save_pause_codes(pause_codes_from(PAUSE_CODES))
        store.add_list(CAMPAIGN, "debtors", [
            NewContact(d.number, {"name": d.name, "debt": d.debt,
                                  "overdue_days": d.overdue_days, "branch": "上海"},
                       line=i + 2, priority=d.priority)
            for i, d in enumerate(debtors)], now=now)
        for name, role in ROLES.items():
            store.add_user(name, role, hash_password(PASSWORDS[name]), now=now)
            if role == "agent":
                store.assign(name, CAMPAIGN, now=now)
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def abandon_wav(folder: Path) -> Path:
    """A real 1 s recorded abandon message, ``folder/prompts/sorry.wav`` (440 Hz, 8 kHz
    16-bit mono): a campaign under regime us (the kit's, the default) or uk is refused
    without one (dialer/runner/abandon_message.py)."""
    (folder / "prompts").mkdir(exist_ok=True)
    return tone_wav(folder / "prompts" / "sorry.wav")


@contextmanager
def served(db: Path, *, abandon: bool = True) -> Iterator[str]:
    """``trunkline dialer serve --virtual`` on ``db``; yields its URL. ``abandon``: with
    ``--abandon-file`` (:func:`abandon_wav`; without it a us or uk campaign's Start is
    refused)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    sorry = abandon_wav(db.parent)   # the campaign's regime (us) needs a message
    proc = subprocess.Popen(
        [sys.executable, "-m", "trunkline.cli", "dialer", "serve", "--virtual",
         "--db", str(db), "--listen", f"127.0.0.1:{port}", "--drain", "5",
         *(["--abandon-file", sorry.name] if abandon else [])],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "TRUNKLINE_PROMPTS": str(sorry.parent)})
    try:
        end = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"the service exited: {proc.stderr.read()}")
            try:
                httpx.get(f"{url}/openapi.json", timeout=2.0)
                break
            except httpx.TransportError:
                if time.monotonic() > end:
                    raise AssertionError("the service did not come up") from None
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()


def start_campaign(url: str, name: str = CAMPAIGN) -> None:
    with httpx.Client(base_url=url, timeout=30.0) as boss:
        token = boss.post("/api/login", json={"name": "boss", "password": PASSWORDS["boss"]}
                          ).json()["csrf_token"]
        r = boss.post(f"/api/campaigns/{name}/start", headers={"X-CSRF-Token": token})
        assert r.status_code == 200, r.text


def chromium_missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} is not installed (Debian package chromium: bash scripts/setup)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[test]')"
    return None


@contextmanager
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def log_in(page: Any, url: str, name: str) -> None:
    page.goto(f"{url}/")
    page.fill("#name", name)
    page.fill("#password", PASSWORDS[name])
    page.click("#login-submit")
    page.wait_for_url(f"{url}/desk")
    page.wait_for_selector("body[data-ready='1']")


def take_position(page: Any, address: str) -> None:
    page.select_option("[data-testid=position-kind]", "fxs")
    page.fill("[data-testid=position-address]", address)
    page.click("[data-testid=position-login]")
    page.wait_for_selector("[data-testid=agent-state][data-state=paused]", timeout=60_000)


def console_page(chromium: Any, url: str, locale: str = "en-US", *,
                 viewport: tuple[int, int] = (1600, 1000), user: str = "boss",
                 password: str | None = None, **context: Any) -> Any:
    """A new browser context logged in as ``user`` (the supervisor ``boss`` unless told)
    on the console page, once the page says it is ready (``context``: more of
    Playwright's context options). ``page.errors`` collects the page's script errors."""
    width, height = viewport
    page = chromium.new_context(locale=locale, viewport={"width": width, "height": height},
                                **context).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.errors = errors
    page.goto(f"{url}/?next=/console")
    page.fill("#name", user)
    page.fill("#password", password if password is not None else PASSWORDS[user])
    page.click("#login-submit")
    page.wait_for_url(f"{url}/console")
    page.wait_for_selector("body[data-ready='1']", timeout=30_000)
    return page
