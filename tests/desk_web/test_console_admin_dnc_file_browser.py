"""A DNC file added from the Admin tab in a real browser (headless Chromium) against
``trunkline dialer serve --virtual`` (issue 15, "what a careful operator would find in
their first week").

The page sends a file in batches of 2,000. Before, a bad line in a later batch was
reported as "number N", N its place in its batch, after the earlier batches were already
added. Now the whole file is checked first: a file with bad lines (a broad prefix in the
second batch, a line without a digit, a short number in the third) adds nothing and names
each by the file's line and text. The fixed file, with its second add cut off by the
network, says exactly which lines went in and which not; added again, it adds only the
rest."""

from __future__ import annotations

import time
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import pytest
from desk_browser_kit import browser, chromium_missing, console_page, make_db, served

from trunkline.dialer.service.passwords import hash_password
from trunkline.dialer.store import Store

pytestmark = pytest.mark.slow

ADMIN, PASSWORD = "root", "root-password-1"
GOOD = 4500                           # three batches of the page's 2,000
BAD = {2500: "+8*", 3000: "abc", 4203: "12345"}   # file lines (line 1 is the header)


def _number(line: int) -> str:
    return f"137{line:08d}"


def _file(bad: dict[int, str]) -> bytes:
    lines = ["number,note"] + [bad.get(n, _number(n)) + ",asked"
                               for n in range(2, GOOD + 2)]
    return ("\n".join(lines) + "\n").encode()


def _upload(page: Any, data: bytes) -> None:
    page.set_input_files("[data-testid=adm-dnc-file]", files=[
        {"name": "dnc.csv", "mimeType": "text/csv", "buffer": data}])
    page.click("[data-testid=adm-dnc-upload]")


def _listed(db: Path) -> int:
    with Store(db) as store:
        return int(store.query("SELECT COUNT(*) FROM dnc")[0][0])


def _admin_db(tmp_path: Path) -> Path:
    """The kit's database with the admin user (the test skipped without a browser)."""
    why = chromium_missing()
    if why:
        pytest.skip(why)
    db = make_db(tmp_path)
    with Store(db) as store:
        store.add_user(ADMIN, "admin", hash_password(PASSWORD), now=time.time())
    return db


def test_a_dnc_file_is_checked_whole_then_added_by_its_lines(tmp_path: Path) -> None:
    from playwright.sync_api import expect

    db = _admin_db(tmp_path)
    with served(db) as url, browser() as chromium, \
            closing(httpx.Client(base_url=url, timeout=30.0)) as api:
        page = console_page(chromium, url, user=ADMIN, password=PASSWORD)
        page.click("[data-testid=tab-admin]")
        page.click("[data-testid=adm-section-dnc]")
        error = page.locator("[data-testid=adm-dnc-error]")
        result = page.locator("[data-testid=adm-dnc-result] li")

        # Bad lines in the second and third batches: nothing added, each named by line.
        _upload(page, _file(BAD))
        expect(error).to_have_text(
            "Nothing added: 3 line(s) of dnc.csv refused. Fix them and add the file again.",
            timeout=20_000)
        said = result.all_inner_texts()
        assert [s.split(":")[0] for s in said] == ["line 2500", "line 3000", "line 4203"]
        assert said[0].startswith("line 2500: +8*: prefix '+8*' would bar every number")
        assert said[1] == "line 3000: abc: not a number"
        assert said[2].startswith("line 4203: 12345: ")
        assert _listed(db) == 0

        # Fixed; the second add is cut off by the network: the first 2,000 lines (2 to
        # 2001) are in, the page says so, and the rest is added by adding the file again.
        adds: list[str] = []

        def cut_second(route: Any) -> None:
            adds.append(route.request.url)
            if len(adds) == 2:
                route.abort()
            else:
                route.continue_()

        page.route("**/api/admin/dnc", cut_second)
        _upload(page, _file({}))
        expect(error).to_contain_text("Lines 2–2001 of dnc.csv added; from line 2002 on "
                                      "not added: ", timeout=20_000)
        expect(error).to_contain_text("Adding the file again adds only the rest")
        assert _listed(db) == 2000
        page.unroute("**/api/admin/dnc")
        _upload(page, _file({}))
        expect(result).to_have_text([f"{GOOD} numbers read, {GOOD - 2000} added"],
                                    timeout=20_000)
        expect(error).to_have_text("")
        assert _listed(db) == GOOD
        assert api.post("/api/login", json={"name": ADMIN, "password": PASSWORD}
                        ).status_code == 200
        assert api.get("/api/admin/dnc", params={"number": _number(GOOD + 1)}
                       ).json() == {f"+86{_number(GOOD + 1)}": "dnc"}
        assert page.errors == []


def test_dnc_refusals_in_the_pages_language(tmp_path: Path) -> None:
    """On the zh-CN page, a refused entry is said in Chinese by its code (the list page's
    words for a number, the DNC section's for a prefix, naming the box that confirms
    it), for a file and for numbers typed in; nothing is added either way."""
    from playwright.sync_api import expect

    db = _admin_db(tmp_path)
    with served(db) as url, browser() as chromium:
        page = console_page(chromium, url, "zh-CN", user=ADMIN, password=PASSWORD)
        page.click("[data-testid=tab-admin]")
        page.click("[data-testid=adm-section-dnc]")
        error = page.locator("[data-testid=adm-dnc-error]")
        result = page.locator("[data-testid=adm-dnc-result] li")

        _upload(page, b"number\n13700000001\n+8*\nabc\n1381234567\n+86a*\n")
        expect(error).to_have_text(
            "未添加任何号码：dnc.csv 中有 4 行被拒绝。请修正后重新添加该文件。", timeout=20_000)
        expect(result).to_have_text([
            "第 3 行：+8*：前缀过宽，会拦截整个国家或其大部分号码：前缀须含国家代码及至少 3 "
            "位号码（如 +86400*）；确需添加请勾选“确认添加宽前缀”",
            "第 4 行：abc：号码含有非数字字符",
            "第 5 行：1381234567：号码位数不对（手机号 11 位；固定电话为区号加 7 或 8 位号码）",
            "第 6 行：+86a*：前缀须为 + 加数字再加 *（如 +86400*）"])

        page.fill("[data-testid=adm-dnc-numbers]", "13700000001\n+86*")
        page.click("[data-testid=adm-dnc-add]")
        expect(error).to_have_text("未添加任何号码：有 1 个号码被拒绝。请修正后重新添加。")
        expect(result).to_have_text([
            "第 2 个号码：+86*：前缀过宽，会拦截整个国家或其大部分号码：前缀须含国家代码及至少 "
            "3 位号码（如 +86400*）；确需添加请勾选“确认添加宽前缀”"])
        # a check takes whole numbers: a prefix refused in the page's words, by its place
        page.fill("[data-testid=adm-dnc-numbers]", "13700000001\n+86400*")
        page.click("[data-testid=adm-dnc-check]")
        expect(error).to_have_text("未查询：有 1 个号码被拒绝（只接受完整号码）。")
        expect(result).to_have_text(["第 2 个号码：+86400*：查询只接受完整号码，不接受前缀"])
        assert page.input_value("[data-testid=adm-dnc-numbers]") == "13700000001\n+86400*"
        assert _listed(db) == 0
        assert page.errors == []
