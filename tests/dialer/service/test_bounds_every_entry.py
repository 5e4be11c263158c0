"""Every number a campaign can be given has an upper bound as well as a lower one, from
one table (dialer/campaigns/bounds.py), and any value outside it is refused at every
entry point, in the project's one format, with nothing already stored changed: the
campaign file (``dialer campaign create``: FILE:LINE: [table] key: expected ..., got
...), the admin API (422 with the same words), a supervisor's live change (422), the
dataclasses themselves (for code that builds them directly), the cleaning options and
the run options (issue 15, red-team 10 and 12: before, ``max_attempts = 1000000000``
or a ring timeout of a year was stored)."""

from __future__ import annotations

import json
import math
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from web_kit import client, login

from trunkline.cli import main
from trunkline.dialer.campaigns.bounds import (
    CAMPAIGN,
    CLEANING,
    DESK,
    RETRY_DELAY,
    RUN_OPTIONS,
    STRATEGY,
    Bound,
)
from trunkline.dialer.campaigns.strategies import Strategy
from trunkline.dialer.cleaning.settings import CleaningSettings
from trunkline.dialer.desk.config import DeskConfig
from trunkline.dialer.pacing.campaign import CampaignConfig
from trunkline.dialer.runner.live_settings import PACING_KEYS
from trunkline.dialer.runner.settings import RunnerSettings

#: (table, key, bound) for every bounded key a campaign file, or the admin API, takes.
FILE_KEYS = ([("strategy", k, b) for k, b in STRATEGY.items()]
             + [("campaign", k, b) for k, b in CAMPAIGN.items()]
             + [("desk", k, b) for k, b in DESK.items()])
SETTINGS = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


def outside(bound: Bound) -> st.SearchStrategy[float | int]:
    """Numbers of the right kind just past either end, or far past it."""
    if bound.whole:
        return st.one_of(st.integers(int(bound.high) + 1, 10**12),
                         st.integers(-10**12, int(bound.low) - 1))
    above = st.floats(min_value=bound.high, max_value=1e300, exclude_min=not bound.high_open)
    below = st.floats(min_value=-1e300, max_value=bound.low, exclude_max=not bound.low_open)
    far = st.sampled_from([bound.high * 2 + 1, 365 * 86_400.0, 1e18, bound.low - 1])
    return st.one_of(above, below, far.filter(lambda v: not bound.admits(v)))


@st.composite
def bad_setting(draw: st.DrawFn) -> tuple[str, str, Bound, float | int]:
    table, key, bound = draw(st.sampled_from(FILE_KEYS))
    value = draw(outside(bound))
    assert not bound.admits(value)
    return table, key, bound, value


def toml_number(value: float | int) -> str:
    return repr(value) if isinstance(value, int) or math.isfinite(value) else str(value)


def stored(db: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT name, strategy, config FROM campaign ORDER BY name"
                            ).fetchall()


def test_the_table_covers_every_number_of_the_campaign_dataclasses() -> None:
    """A numeric field added to a campaign's dataclasses without a bound fails here."""
    import dataclasses
    import typing

    for cls, table in ((Strategy, STRATEGY), (CampaignConfig, CAMPAIGN),
                       (RunnerSettings, CAMPAIGN), (DeskConfig, DESK),
                       (CleaningSettings, CLEANING)):
        hints = typing.get_type_hints(cls)
        numeric = {f.name for f in dataclasses.fields(cls)
                   if hints[f.name] in (int, float, int | None, float | None)}
        assert numeric <= set(table), (cls.__name__, sorted(numeric - set(table)))
    for bound in (*STRATEGY.values(), *CAMPAIGN.values(), *DESK.values(),
                  *CLEANING.values(), *RUN_OPTIONS.values(), RETRY_DELAY):
        assert math.isfinite(bound.low) and math.isfinite(bound.high) and bound.why


def test_a_campaign_file_out_of_range_is_named_and_nothing_stored_changes(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "d.sqlite"
    good = tmp_path / "good.toml"
    good.write_text("[strategy]\nmax_attempts = 3\n[campaign]\nratio = 2.0\n")
    assert main(["dialer", "campaign", "create", "x", "--strategy", str(good),
                 "--db", str(db)]) == 0
    before = stored(db)
    path = tmp_path / "c.toml"

    @SETTINGS
    @given(bad_setting())
    def attempt(case: tuple[str, str, Bound, float | int]) -> None:
        table, key, bound, value = case
        path.write_text(f"[{table}]\n{key} = {toml_number(value)}\n")
        capsys.readouterr()
        assert main(["dialer", "campaign", "create", "x", "--strategy", str(path),
                     "--db", str(db)]) == 1
        err = capsys.readouterr().err
        assert f"{path}:2: [{table}] {key}: expected {bound.expected}, got the number " \
            in err, err
        assert stored(db) == before

    attempt()


def test_a_retry_delay_of_a_year_is_refused_by_file_and_by_the_strategy(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[strategy.retries]\nbusy = 600\nno_answer = 31536000\n")
    assert main(["dialer", "campaign", "create", "x", "--strategy", str(path),
                 "--db", str(tmp_path / "d.sqlite")]) == 1
    assert (f"{path}:3: [strategy] retries.no_answer: expected seconds in [0, 2592000] "
            "s or 'next_day', got the number 31536000") in capsys.readouterr().err
    with pytest.raises(ValueError, match="retry delay for 'no_answer' must be seconds in"):
        Strategy(retries={"no_answer": 365 * 86_400.0})


def test_the_admin_api_and_live_changes_refuse_the_same_with_422(tmp_path: Path) -> None:
    with client(tmp_path) as c:
        head = {"X-CSRF-Token": login(c, "root")}
        made = c.put("/api/admin/campaigns/loans", headers=head,
                     json={"strategy": {"max_attempts": 3}, "campaign": {"ratio": 2.0}})
        assert made.status_code == 200, made.text
        before = c.get("/api/admin/campaigns/loans").json()
        sales = c.get("/api/admin/campaigns/sales").json()

        @SETTINGS
        @given(bad_setting())
        def attempt(case: tuple[str, str, Bound, float | int]) -> None:
            table, key, bound, value = case
            r = c.put("/api/admin/campaigns/loans", headers=head, json={table: {key: value}})
            assert r.status_code == 422, r.text
            assert f"[{table}] {key}: expected {bound.expected}, got the number" \
                in r.json()["message"], r.text
            if table == "campaign" and key in PACING_KEYS:
                r = c.patch("/api/campaigns/sales/settings", headers=head,
                            json={key: value})
                assert r.status_code == 422 and r.json()["error"] == "invalid", r.text
            assert c.get("/api/admin/campaigns/loans").json() == before
            assert c.get("/api/admin/campaigns/sales").json() == sales

        attempt()


@settings(max_examples=200, deadline=None)
@given(bad_setting())
def test_the_dataclasses_refuse_them_too(case: tuple[str, str, Bound, float | int]) -> None:
    """Code that builds a campaign without a file or a request (the store's callers, the
    simulator) meets the same bounds."""
    table, key, _bound, value = case
    with pytest.raises(ValueError, match=rf"{key} must be"):
        if table == "strategy":
            Strategy(**{key: value})
        elif table == "desk":
            DeskConfig("c", **{key: value})
        elif key in ("machine_message_wait", "agent_lost_wait"):
            RunnerSettings(**{key: value})
        else:
            CampaignConfig("c", regime="cn", **{key: value})


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(sorted(CLEANING)).flatmap(
    lambda key: st.tuples(st.just(key), outside(CLEANING[key]))))
def test_cleaning_settings_refuse_out_of_range(case: tuple[str, float | int]) -> None:
    key, value = case
    with pytest.raises(ValueError, match=rf"{key} must be"):
        CleaningSettings(**{key: value})


@pytest.mark.parametrize(("argv", "words"), [
    (["--concurrency", "1000000000"],
     "concurrency must be a whole number in [1, 2048], got 1000000000"),
    (["--retry-after", "31536000"], "retry_after must be in [0, 604800] s"),
])
def test_dialer_clean_create_refuses_out_of_range_options(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str],
        words: str) -> None:
    db = tmp_path / "d.sqlite"
    assert main(["dialer", "campaign", "create", "src", "--db", str(db)]) == 0
    before = stored(db)
    assert main(["dialer", "clean", "create", "sc", "--from-campaign", "src",
                 "--db", str(db), *argv]) == 1
    assert words in capsys.readouterr().err
    assert stored(db) == before


@pytest.mark.parametrize(("command", "option", "value"), [
    (["dialer", "run", "--campaign", "x", "--virtual"], "--hours", "inf"),
    (["dialer", "run", "--campaign", "x", "--virtual"], "--hours", "100000"),
    (["dialer", "run", "--campaign", "x", "--virtual"], "--wrap-up", "nan"),
    (["dialer", "run", "--campaign", "x", "--virtual"], "--wrap-up", "31536000"),
    (["dialer", "run", "--campaign", "x", "--virtual"], "--ratio", "1e9"),
    (["dialer", "clean", "run", "--campaign", "x", "--virtual"], "--progress-every", "-1"),
    (["dialer", "serve", "--virtual"], "--drain", "nan"),
    (["dialer", "serve", "--virtual"], "--idle-timeout", "inf"),
    (["dialer", "serve", "--virtual"], "--wrap-up", "-5"),
])
def test_run_options_out_of_range_stop_before_any_work(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str],
        option: str, value: str) -> None:
    db = tmp_path / "d.sqlite"
    assert main([*command, "--db", str(db), f"{option}={value}"]) == 1
    err = capsys.readouterr().err
    assert f"{option}: expected {RUN_OPTIONS[option].expected}, got {float(value)!r}" \
        in err, err
    assert not db.exists()   # refused before the database was opened


def test_the_bounds_are_what_the_docs_say() -> None:
    """docs/campaigns.md carries the table; each bound there matches the code's."""
    text = (Path(__file__).resolve().parents[3] / "docs" / "campaigns.md").read_text()
    for key, bound in (*STRATEGY.items(), *CAMPAIGN.items(), *DESK.items(),
                       *CLEANING.items()):
        assert f"| `{key}` | {bound.interval} |" in text, key
    assert f"| `retries.OUTCOME` | {RETRY_DELAY.interval} or" in text
    for option, bound in RUN_OPTIONS.items():
        assert f"| `{option}` | {bound.interval} |" in text, option


def test_a_cleaning_file_out_of_range_is_named_by_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "clean.toml"
    path.write_text("[strategy]\nmax_per_day = 2\n[cleaning]\nrate = 2.0\n"
                    "concurrency = 100000\n")
    db = tmp_path / "d.sqlite"
    assert main(["dialer", "clean", "create", "sc", "--strategy", str(path),
                 "--db", str(db)]) == 1
    assert (f"{path}:5: [cleaning] concurrency: expected a whole number in [1, 2048], "
            "got the number 100000") in capsys.readouterr().err


def test_a_campaign_stored_before_the_bounds_is_refused_by_name_and_kept(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A database from before the bounds may hold max_attempts = 10^9: a run says which
    campaign and setting (no traceback) and the row stays as stored until corrected."""
    db = tmp_path / "d.sqlite"
    assert main(["dialer", "campaign", "create", "old", "--db", str(db)]) == 0
    with sqlite3.connect(db) as conn:
        raw = json.loads(conn.execute("SELECT strategy FROM campaign").fetchone()[0])
        raw["max_attempts"] = 10**9
        conn.execute("UPDATE campaign SET strategy=?", (json.dumps(raw),))
    before = stored(db)
    capsys.readouterr()
    assert main(["dialer", "run", "--campaign", "old", "--db", str(db), "--virtual",
                 "--agents", "71", "--group", "pri", "--hours", "0.1"]) == 1
    err = capsys.readouterr().err
    assert ("campaign 'old': its stored strategy is refused: max_attempts must be a whole "
            "number in [1, 100], got 1000000000") in err, err
    assert "Traceback" not in err
    assert stored(db) == before
