"""QA forms (质检表): checked the same way from a campaign's TOML and from the API, and
the score of a call (hypothesis: always 0-100, full marks 100, a critical miss 0)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trunkline.cli import main
from trunkline.dialer.review.qaform import QaForm
from trunkline.dialer.store import Store

TOML = """
[strategy]
max_attempts = 2

[qa]
title = "Collections QA"
pass_score = 75

[[qa.item]]
id = "greeting"
label = "问候并报公司名"
max = 5

[[qa.item]]
id = "disclosure"
label = "Reads the mini-Miranda"
max = 1
weight = 3
critical = true
"""


def test_a_campaigns_toml_sets_its_qa_form(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(TOML, encoding="utf-8")
    db = str(tmp_path / "d.sqlite")
    assert main(["dialer", "campaign", "create", "loans", "--strategy", str(path),
                 "--db", db]) == 0
    with Store(db) as store:
        form = store.qa_form("loans")
    assert form is not None and form["pass_score"] == 75.0
    assert [i["id"] for i in form["item"]] == ["greeting", "disclosure"]
    assert form["item"][0]["label"] == "问候并报公司名"
    bad = tmp_path / "bad.toml"
    bad.write_text(TOML.replace("max = 5", "max = 5\nmaxx = 2"), encoding="utf-8")
    assert main(["dialer", "campaign", "create", "other", "--strategy", str(bad),
                 "--db", db]) != 0
    with Store(db) as store:
        assert "other" not in store.campaigns()  # nothing saved from a refused file


@pytest.mark.parametrize("data, message", [
    ({}, "at least one"),
    ({"item": [{"id": "a", "max": 5}], "extra": 1}, "unknown keys extra"),
    ({"item": [{"id": "A b", "max": 5}]}, "id must be"),
    ({"item": [{"id": "a", "max": 5}, {"id": "a", "max": 1}]}, "used twice"),
    ({"item": [{"id": "a", "max": "5"}]}, "max must be a number"),
    ({"item": [{"id": "a", "max": 5, "weight": 0}]}, "weight must be above 0"),
    ({"item": [{"id": "a", "max": 5, "critical": 1}]}, "critical must be true"),
    ({"item": [{"id": "a", "max": 5}], "pass_score": 101}, "pass_score must be 0 to 100"),
])
def test_bad_forms_are_named(data: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        QaForm.from_dict(data)


items = st.lists(st.tuples(st.integers(1, 20), st.floats(0.1, 10), st.booleans()),
                 min_size=1, max_size=8)


@settings(deadline=None)
@given(items, st.data())
def test_a_score_is_0_to_100_full_marks_100_a_critical_miss_0(spec: list, data: st.DataObject
                                                              ) -> None:
    form = QaForm.from_dict({"item": [
        {"id": f"i{n}", "max": top, "weight": w, "critical": crit}
        for n, (top, w, crit) in enumerate(spec)]})
    given_points = {f"i{n}": data.draw(st.integers(0, 2 * top)) / 2
                    for n, (top, _, _) in enumerate(spec)}
    score = form.score(given_points)
    assert 0.0 <= score <= 100.0
    assert form.score({f"i{n}": top for n, (top, _, _) in enumerate(spec)}) == 100.0
    if any(crit and given_points[f"i{n}"] == 0 for n, (_, _, crit) in enumerate(spec)):
        assert score == 0.0
    assert QaForm.from_dict(form.to_dict()) == form  # what is stored reads back the same
