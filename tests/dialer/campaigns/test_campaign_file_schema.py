"""A campaign file with a wrong type is refused naming the file, the line, the table and
the key, what was expected and what was given, and exits non-zero with nothing saved
(issue 15, red-team 12: before, Python errors, a traceback, or silently accepted)."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trunkline.cli import main
from trunkline.dialer.campaigns.file_schema import check_campaign_file
from trunkline.dialer.store import Store
from trunkline.errors import ConfigError
from trunkline.tomlconf import parse_toml

CASES = [
    ('[strategy]\nmax_attempts = "5"', 2,
     "[strategy] max_attempts: expected a whole number, got the string '5'"),
    ('[strategy]\n\ntime_zone = "Mars/Base"', 3,
     "[strategy] time_zone: expected a time zone of the IANA database"),
    ("[strategy]\nmax_per_day = 1.5", 2,
     "[strategy] max_per_day: expected a whole number, got the number 1.5"),
    ('[strategy]\nbest_time = "no"', 2,
     "[strategy] best_time: expected true or false, got the string 'no'"),
    ("[strategy]\nretries = { busy = -1 }", 2,
     "[strategy] retries.busy: expected seconds >= 0 or 'next_day', got the number -1"),
    ("[strategy.retries]\nbusy = 600\nno_answer = nan", 3,
     "[strategy] retries.no_answer: expected seconds >= 0 or 'next_day', got the number nan"),
    ("[campaign]\nring_timeout = inf", 2,
     "[campaign] ring_timeout: expected a finite number, got the number inf"),
    ("[campaign]\nmode = 5", 2, "[campaign] mode: expected one of manual, preview"),
    ('[campaign]\nregime = "xx"', 2, "[campaign] regime: expected one of us, uk, cn"),
    ('[campaign]\nrecord_calls = "no"', 2, "[campaign] record_calls: expected true or false"),
    ("strategy = 5", 1, "[strategy]: expected a table, got the number 5"),
    # range checks of the dataclasses, in the same shape
    ("[strategy]\nmax_attempts = 0", 2,
     "[strategy] max_attempts: expected a whole number in [1, 100], got the number 0"),
    ('[strategy]\nwindows = { default = ["25:00-26:00"] }', 2,
     "[strategy] windows: window mon: '25:00' is not a time of day"),
]


@pytest.mark.parametrize(("body", "line", "message"), CASES)
def test_a_wrong_value_is_named_by_file_line_and_key(tmp_path: Path, capsys, body: str,
                                                      line: int, message: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(body + "\n")
    db = tmp_path / "d.sqlite"
    assert main(["dialer", "campaign", "create", "x", "--strategy", str(path),
                 "--db", str(db)]) == 1
    err = capsys.readouterr().err
    assert f"{path}:{line}: {message}" in err, err
    assert "Traceback" not in err
    with Store(db) as store:
        assert store.query("SELECT COUNT(*) FROM campaign")[0][0] == 0   # nothing saved


toml_values = st.one_of(st.integers(-10, 10**6), st.floats(allow_nan=True),
                        st.booleans(), st.text(max_size=8), st.just("next_day"),
                        st.lists(st.integers(0, 9), max_size=2))
KEYS = ["max_attempts", "max_per_day", "max_per_week", "time_zone", "abandon_lockout",
        "best_time", "best_time_ratio", "retries", "windows"]


@settings(max_examples=300, deadline=None)
@given(key=st.sampled_from(KEYS), value=toml_values)
def test_any_value_either_passes_the_check_or_is_refused_by_name(key: str, value) -> None:
    """Whatever type a key holds, the check passes or names the key and its line; what it
    passes, the Strategy either takes or refuses with a ValueError (never TypeError or
    a comparison between types)."""
    from trunkline.dialer.campaigns.strategies import Strategy

    doc = parse_toml("[strategy]\nx = 1\n", "c.toml")
    doc.data["strategy"] = {key: value}
    doc.index.lines[("strategy", key)] = 2
    try:
        check_campaign_file(doc)
    except ConfigError as err:
        assert str(err).startswith(f"c.toml:2: [strategy] {key}: expected ")
        return
    with contextlib.suppress(ValueError):
        Strategy.from_dict({key: value})
