"""The supervisor console's Recordings and Reports tabs in a real browser (headless
Chromium) against ``trunkline dialer serve --virtual``: an agent takes one call of the
predictive campaign on the emulated card (through the desk API), then the supervisor
finds that call's recording and plays it in the page's player (the audio element
loads and plays), sees its waveform drawn from the recording's audio with a playhead
that follows the player and seeks on a click, scores it against the campaign's QA form
(质检) in the page and sees the stored score again after a reload; sees the day's
charts drawn from the report API (connects per hour, the regulated-window abandon rate
with a line at the cap), downloads the day's workbook and a chart's CSV (contents
read), and sees the tab in Chinese. (Whispering and the pacing change are in
test_console_browser.py.)"""

from __future__ import annotations

import csv
import io
import os
import random
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pytest
from desk_browser_kit import (
    PASSWORDS,
    Debtor,
    browser,
    chromium_missing,
    console_page,
    make_db,
    served,
    start_campaign,
)

from trunkline.dialer.review.qaform import QaForm

pytestmark = pytest.mark.slow

#: Numbers of the sample network's "1381*" range only: a person answers in 2-6 s
#: (firmware-profiles/networks/sample.toml), so the one call comes quickly.
#: The campaign's QA form (the API's PUT /api/campaigns/{name}/qa-form; [qa] in TOML).
QA_FORM = {"title": "催收通话质检", "pass_score": 80, "item": [
    {"id": "greeting", "label": "开场白 Greeting", "max": 10},
    {"id": "compliance", "label": "合规告知 Compliance", "max": 5, "critical": True,
     "help": "Identity checked before the debt is named"},
    {"id": "resolution", "label": "还款方案 Resolution", "max": 10, "weight": 2}]}
#: Points given in the page, and the score they make: (1 x 8/10 + 1 x 5/5 + 2 x 7.5/10)
#: / 4 = 82.5 % (QaForm.score).
POINTS = {"greeting": "8", "compliance": "5", "resolution": "7.5"}
SCORE = 82.5

QUICK = tuple(Debtor(f"+86138123400{i:02d}", f"客户{i}", "100.00", "9", priority=9 - i)
              for i in range(3))


def _login(url: str, name: str) -> httpx.Client:
    client = httpx.Client(base_url=url, timeout=30.0)
    token = client.post("/api/login", json={"name": name, "password": PASSWORDS[name]}
                        ).json()["csrf_token"]
    client.headers.update({"X-CSRF-Token": token, "Origin": url})
    return client


def _wait(what: str, check: Any, seconds: float) -> Any:
    end = time.monotonic() + seconds
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def _one_call(url: str) -> dict[str, Any]:
    """Agent li at FXS 71 takes one call, hangs up, saves a disposition and pauses;
    returns the call's recording row once it is complete."""
    li, boss = _login(url, "li"), _login(url, "boss")
    assert li.post("/api/desk/login", json={"position": "fxs", "address": "71",
                                             "campaigns": [{"name": "loans"}]}
                   ).status_code == 202

    def state() -> str:
        agents = boss.get("/api/floor").json()["agents"]
        return next((a["state"] for a in agents if a["agent"] == "li"), "")

    _wait("li logged in", lambda: state() == "paused", 60)
    assert li.post("/api/desk/ready").status_code == 202
    _wait("li on a call", lambda: state() == "talking", 60)
    time.sleep(1.5)                                    # some audio in the recording
    assert li.post("/api/desk/hangup").status_code == 202
    _wait("li in wrap-up", lambda: state() == "wrap_up", 20)
    assert li.post("/api/desk/disposition", json={"code": "wrong_party", "then": "pause",
                                                  "reason": "break"}).status_code == 202
    return _wait("the recording", lambda: next(iter(boss.get(
        "/api/recordings", params={"agent": "li", "state": "complete"}).json()["items"]),
        None), 20)


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any, dict]]:
    why = chromium_missing()
    if why:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI: the browser tests must run: {why}")
        pytest.skip(why)
    db = make_db(Path(tmp_path_factory.mktemp("console-reports")), QUICK)
    with served(db) as url, browser() as chromium:
        start_campaign(url)
        yield url, chromium, _one_call(url)


def _console(chromium: Any, url: str, locale: str = "en-US") -> Any:
    return console_page(chromium, url, locale, viewport=(1400, 1000),
                        timezone_id="Asia/Shanghai", accept_downloads=True)


def test_a_supervisor_finds_and_plays_the_recording_of_a_call(
        service: tuple[str, Any, dict]) -> None:
    url, chromium, recording = service
    page = _console(chromium, url)
    page.click("[data-testid=tab-recordings]")
    page.fill("[data-testid=rec-agent]", "li")
    page.click("[data-testid=rec-search]")
    row = f"[data-testid=rec-table] tr[data-recording='{recording['id']}']"
    page.wait_for_selector(row)
    assert recording["number"] in page.text_content(row)
    # the campaign's label for the disposition, its code in the cell's title
    cell = f"{row} [data-testid=rec-disposition-label]"
    assert page.text_content(cell) == "非本人 Wrong party"
    assert page.get_attribute(cell, "title") == "wrong_party"
    page.click(f"{row} [data-testid=rec-play]")
    player = "[data-testid=rec-player]"
    page.wait_for_function(  # loaded (metadata and data), playing, time moving
        "s => { const a = document.querySelector(s); return a.readyState >= 2 && "
        "!a.paused && a.currentTime > 0 && a.duration > 1; }", arg=player, timeout=10_000)
    assert page.get_attribute(player, "data-recording") == str(recording["id"])
    assert abs(page.eval_on_selector(player, "a => a.duration")
               - recording["duration"]) < 1.0
    assert page.eval_on_selector(player, "a => a.error") is None
    assert "Playing: li with" in page.text_content("[data-testid=rec-now]")


def test_the_days_charts_and_downloads(service: tuple[str, Any, dict]) -> None:
    url, chromium, _ = service
    page = _console(chromium, url)
    page.click("[data-testid=tab-reports]")
    page.wait_for_selector("[data-testid=reports][data-state=ready]", timeout=15_000)
    connects = page.eval_on_selector_all(
        "[data-testid=chart-hourly] rect.s-connects[data-value]",
        "bars => bars.reduce((n, b) => n + Number(b.dataset.value), 0)")
    assert connects >= 1                                # li's call, drawn as a bar
    cap = page.get_attribute("[data-testid=chart-window_rate] g.ref", "data-ref")
    assert float(cap or "nan") == 0.03                  # the US cap (16 CFR 310.4(b)(4)(i))
    assert page.locator("[data-testid=chart-window_rate] rect.bar").count() == 1
    assert page.locator("[data-testid=chart-breakdown] rect.s-talk_s").count() >= 1
    assert "Dials" in page.text_content("[data-testid=report-summary]")

    with page.expect_download() as got:
        page.click("[data-testid=report-daily-xlsx]")
    assert got.value.suggested_filename.startswith("daily-")
    assert got.value.suggested_filename.endswith(".xlsx")
    book = openpyxl.load_workbook(io.BytesIO(Path(got.value.path()).read_bytes()),
                                  read_only=True)
    assert {"hour", "abandon", "outcomes", "breakdown"} <= set(book.sheetnames)
    sheet = list(book["hour"].iter_rows(values_only=True))
    heads = list(sheet[0])
    assert sum(r[heads.index("connects")] or 0 for r in sheet[1:]) >= 1

    with page.expect_download() as got:
        page.click("[data-testid=csv-hourly]")
    rows = list(csv.DictReader(io.StringIO(Path(got.value.path()).read_text("utf-8-sig"))))
    assert sum(int(r["connects"]) for r in rows) == connects

    page.select_option("[data-testid=language]", "zh-CN")
    assert page.text_content("[data-testid=tab-reports]") == "报表"
    assert page.text_content("[data-testid=chart-hourly] h3") == "每小时接通与放弃"
    assert "放弃率" in page.text_content("[data-testid=report-summary]")


def _qa_cases(n: int) -> list[dict[str, Any]]:
    """Random QA forms and points (seeded): most valid, some with an item missing or
    points off the 0.5 grid or above the maximum."""
    rng = random.Random(18)
    out = []
    for _ in range(n):
        items = [{"id": f"i{k}", "label": f"item {k}", "max": rng.choice([1, 2.5, 5, 10, 7]),
                  "weight": rng.choice([1, 0.5, 2, 3.5]), "critical": rng.random() < 0.2}
                 for k in range(rng.randint(1, 6))]
        given = {i["id"]: rng.randint(0, int(i["max"] * 2)) / 2 for i in items}
        spoil = rng.random()
        if spoil < 0.1:
            given.pop(items[0]["id"])
        elif spoil < 0.15:
            given[items[0]["id"]] = items[0]["max"] + 0.5
        elif spoil < 0.2:
            given[items[0]["id"]] = 0.3
        out.append({"form": {"pass_score": 80, "item": items}, "given": given})
    return out


def _open(page: Any, recording: dict[str, Any]) -> str:
    """Find li's recordings in the Recordings tab and open (play) ``recording``."""
    page.click("[data-testid=tab-recordings]")
    page.fill("[data-testid=rec-agent]", "li")
    page.click("[data-testid=rec-search]")
    row = f"[data-testid=rec-table] tr[data-recording='{recording['id']}']"
    page.wait_for_selector(row)
    page.click(f"{row} [data-testid=rec-play]")
    return row


def test_the_waveform_follows_the_player_and_a_qa_score_is_kept(
        service: tuple[str, Any, dict]) -> None:
    url, chromium, recording = service
    with closing(_login(url, "boss")) as boss:
        assert boss.put("/api/campaigns/loans/qa-form", json=QA_FORM).status_code == 200
        wave = boss.get(f"/api/recordings/{recording['id']}/waveform",
                        params={"buckets": 1000}).json()
    loudest = [max(map(abs, ch["min"] + ch["max"])) for ch in wave["peaks"]]
    assert max(loudest) > 0.01                         # the call's audio, not silence

    page = _console(chromium, url)
    _open(page, recording)
    svg = "[data-testid=rec-waveform]"
    page.wait_for_selector(f"{svg} path.wave")
    drawn = page.eval_on_selector_all(
        f"{svg} path.wave", "ps => ps.map(p => ({channel: p.dataset.channel, "
        "peak: Number(p.dataset.peak), corners: p.getAttribute('d').split('L').length, "
        "height: p.getBBox().height}))")
    assert [d["channel"] for d in drawn] == ["customer", "agent"]
    for d, peak in zip(drawn, loudest, strict=True):
        assert d["corners"] == 4 * wave["buckets"]       # two corners a bucket, both edges
        assert abs(d["peak"] - peak) < 1e-3              # drawn from the server's peaks
        assert d["height"] >= 0.95 * peak * 29           # as tall as the audio is loud
    # the playhead follows the player, then a click at 3/4 of the width seeks there
    page.wait_for_function(
        "s => Number(document.querySelector(s).dataset.time) > 0.2",
        arg="[data-testid=rec-playhead]", timeout=10_000)
    page.eval_on_selector("[data-testid=rec-player]", "a => a.pause()")
    box = page.locator(svg).bounding_box()
    assert box is not None
    page.click(svg, position={"x": box["width"] * 0.75, "y": 10})
    duration = page.eval_on_selector("[data-testid=rec-player]", "a => a.duration")
    page.wait_for_function(
        "([s, want]) => Math.abs(document.querySelector(s).currentTime - want) < 0.3",
        arg=["[data-testid=rec-player]", 0.75 * duration], timeout=5_000)
    head = float(page.get_attribute("[data-testid=rec-playhead]", "x1") or "nan")
    assert abs(head - 0.75 * wave["buckets"]) < 0.02 * wave["buckets"]

    # the page's score preview is the API's figure (QaForm.score), ties to the even cent
    # included, on 300 random forms
    cases = _qa_cases(300)
    previews = page.evaluate(
        "async cases => { const m = await import('/static/console-qa.js');"
        " return cases.map(c => m.previewScore(c.form, c.given)); }", cases)
    for case, preview in zip(cases, previews, strict=True):
        try:
            want: float | None = QaForm.from_dict(case["form"]).score(case["given"])
        except ValueError:
            want = None
        assert preview == want, (case, preview, want)     # None: the API refuses it

    # the campaign's QA form, rendered from its definition, scored in the page
    page.wait_for_selector("[data-testid=qa-form]")
    assert page.text_content("[data-testid=qa-latest]") == "Not scored yet."
    assert page.locator("[data-testid=qa-item]").count() == 3
    assert "critical" in page.text_content("[data-testid=qa-form] tr[data-item=compliance]")
    assert page.text_content("[data-testid=qa-preview]") == "Score every item."
    for item, points in {**POINTS, "compliance": "0"}.items():
        page.fill(f"[data-testid=qa-item][data-item={item}]", points)
    assert page.text_content("[data-testid=qa-preview]") == "Score: 0.0"  # critical at 0
    page.fill("[data-testid=qa-item][data-item=compliance]", POINTS["compliance"])
    assert page.text_content("[data-testid=qa-preview]") == f"Score: {SCORE}"
    page.fill("[data-testid=qa-comments]", "语气礼貌 polite")
    page.click("[data-testid=qa-save]")
    page.wait_for_selector(f"[data-testid=qa-latest][data-score='{SCORE}']")
    row = f"[data-testid=rec-table] tr[data-recording='{recording['id']}']"
    assert page.text_content(f"{row} [data-testid=rec-qa]") == f"{SCORE}"

    # stored: after a reload the search results and the opened recording show it
    page.reload()
    page.wait_for_selector("body[data-ready='1']")
    row = _open(page, recording)
    page.wait_for_selector(f"{row} [data-testid=rec-qa]:text-is('{SCORE}')")
    page.wait_for_selector(f"[data-testid=qa-latest][data-score='{SCORE}']")
    assert "by boss" in page.text_content("[data-testid=qa-latest]")
    assert page.input_value("[data-testid=qa-item][data-item=resolution]") == "7.5"
    assert page.input_value("[data-testid=qa-comments]") == "语气礼貌 polite"
    with closing(_login(url, "boss")) as boss:
        scores = boss.get(f"/api/recordings/{recording['id']}").json()["scores"]
    assert [(s["score"], s["reviewer"], s["items"]["resolution"]) for s in scores] == \
        [(SCORE, "boss", 7.5)]

    page.select_option("[data-testid=language]", "zh-CN")
    assert page.text_content("[data-testid=qa-save]") == "保存评分"
    assert "合格" in page.text_content("[data-testid=qa-latest]")
    assert page.text_content("[data-testid=rec-open] .key-agent") == "坐席（右声道）"
