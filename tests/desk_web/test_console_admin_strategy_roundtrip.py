"""The Admin tab's strategy editors translate between the strategy's ``windows`` and
``retries`` and rows of inputs (console-admin-strategy.js). Property: for any strategy the
service can store, rows made from it and read back give the same strategy, as the
service reads it (``Strategy.from_dict``), so opening and saving a campaign changes
nothing; and delays shown in a unit come back as the same seconds. The module runs in
headless Chromium (its real engine), served from the source folder through Playwright's
request routing (no server needed); hypothesis draws the strategies."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from desk_browser_kit import browser, chromium_missing
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trunkline.dialer.campaigns.strategies import NEXT_DAY, Strategy

STATIC = Path(__file__).resolve().parents[2] / "dialer" / "service" / "static"
ORIGIN = "http://admin.test"
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
OUTCOMES = ("busy", "no_answer", "machine", "congestion", "unreachable", "abandoned", "error")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def page() -> Iterator[Any]:
    why = chromium_missing()
    if why:
        pytest.skip(why)
    with browser() as chromium:
        tab = chromium.new_page()

        def serve(route: Any) -> None:
            name = route.request.url.removeprefix(f"{ORIGIN}/")
            path = STATIC / name
            if name.endswith(".js") and path.is_file():
                route.fulfill(body=path.read_bytes(), content_type="text/javascript")
            else:  # an empty page of the origin, for the modules to be imported into
                route.fulfill(body="<!doctype html><title>t</title>", content_type="text/html")

        tab.route(f"{ORIGIN}/**", serve)
        tab.goto(f"{ORIGIN}/")
        tab.evaluate("async () => { window.S = await import('/console-admin-strategy.js'); }")
        yield tab


def _minutes(m: int) -> str:
    return f"{m // 60:02d}:{m % 60:02d}"


@st.composite
def windows(draw: st.DrawFn) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    for day in DAYS:
        cuts = sorted(draw(st.sets(st.integers(0, 24 * 60), max_size=6)))
        ranges = [(a, b) for a, b in zip(cuts[::2], cuts[1::2], strict=False) if a < b]
        spec[day] = [f"{_minutes(a)}-{_minutes(b)}" for a, b in ranges]
    spec["holidays"] = sorted(draw(st.sets(st.dates().map(lambda d: d.isoformat()),
                                           max_size=3)))
    return spec


delays = st.one_of(st.just(NEXT_DAY), st.integers(0, 7 * 86_400).map(float),
                   st.floats(0, 86_400, allow_nan=False).map(lambda x: round(x, 3)))


@settings(max_examples=60, deadline=None, suppress_health_check=[
    HealthCheck.function_scoped_fixture])
@given(spec=windows(), retries=st.dictionaries(st.sampled_from(OUTCOMES), delays))
def test_rows_read_back_give_the_same_strategy(page: Any, spec: dict[str, Any],
                                               retries: dict[str, Any]) -> None:
    stored = Strategy.from_dict({"windows": spec, "retries": retries}).to_dict()
    back = page.evaluate(
        "([w, r]) => [S.rowsToWindows(S.windowsToRows(w)), S.rowsToRetries("
        "S.retriesToRows(r).map(([o, a, u]) => [o, a, u]))]",
        [stored["windows"], stored["retries"]])
    assert back[0] == stored["windows"]
    assert back[1] == stored["retries"]
    again = Strategy.from_dict({"windows": back[0], "retries": back[1]})
    assert again.to_dict() == stored


@pytest.mark.parametrize(("seconds", "row"), [
    (600.0, ["10", "min"]), (7200.0, ["2", "h"]), (90.0, ["90", "s"]), (0.0, ["0", "s"]),
    (NEXT_DAY, ["", NEXT_DAY]), (1.5, ["1.5", "s"]), (86_400.0, ["24", "h"])])
def test_a_delay_is_shown_in_its_largest_whole_unit(page: Any, seconds: Any,
                                                    row: list[str]) -> None:
    assert page.evaluate("(v) => S.delayToRow(v)", seconds) == row
    assert page.evaluate("([a, u]) => S.rowToDelay(a, u)", row) == seconds


def test_default_windows_fill_every_day_and_typed_text_goes_as_typed(page: Any) -> None:
    rows = page.evaluate("() => S.rowsToWindows(S.windowsToRows("
                         "{default: ['09:00-12:00'], sun: []}))")
    assert rows == {**{d: ["09:00-12:00"] for d in DAYS[:6]}, "sun": [], "holidays": []}
    # Not a number: sent as typed, for the service to refuse in its own words.
    assert page.evaluate("() => S.rowToDelay('ten', 'min')") == "ten"
    assert page.evaluate("() => S.rowToDelay('1,5', 'h')") == 5400
