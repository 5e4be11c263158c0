"""The retention rules file decides what is deleted: every key is checked, and two rules
for one campaign are refused (second red-team pass, issue 15).

Before: a misspelt ``campain = "legal"`` in a ``[[rule]]`` made it a default rule that
replaced ``default_days``, so ``recordings purge --rules`` (the nightly timer) deleted
every other campaign's recordings after that rule's days; ``campaign = 5`` matched no
campaign; ``default_days = "90"`` was read as a number; ``--days`` beside a file's
``default_days`` silently won."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from recording_kit import fake_recording

import trunkline.cli as cli
from trunkline.errors import ConfigError
from trunkline.gateway.recording.archive import RecordingStore, load_rules

TYPO = 'default_days = 90\n\n[[rule]]\ncampain = "legal"\ndays = 1\n'


def test_a_misspelt_key_deletes_nothing(tmp_path: Path, capsys) -> None:
    root = tmp_path / "recs"
    store = RecordingStore(root)
    kept = fake_recording(store, "a", time.time() - 10 * 86400, "spring")
    rules = tmp_path / "retention.toml"
    rules.write_text(TYPO)
    assert cli.main(["recordings", "--root", str(root), "purge", "--rules", str(rules)]) == 1
    err = capsys.readouterr().err
    assert f"{rules}:4: unknown key 'campain'" in err
    assert Path(kept).exists()
    assert len(store.index.search(limit=10)) == 1


@pytest.mark.parametrize(("text", "line", "words"), [
    ('default_days = "90"\n', 1, "default_days: expected a number of days > 0, got the "
                                 "string '90'"),
    ("default_days = 0\n", 1, "got the number 0"),
    ("default_days = inf\n", 1, "got the number inf"),
    ('[[rule]]\ncampaign = 5\ndays = 1\n', 2, "campaign: expected a campaign's name"),
    ('[[rule]]\ndays = 3\n', 1, "needs 'campaign'"),
    ('[[rule]]\ncampaign = "x"\n', 1, "needs 'days'"),
    ('rule = 5\n', 1, "rule must be [[rule]] tables"),
])
def test_each_bad_value_is_named_with_its_line(tmp_path: Path, text: str, line: int,
                                               words: str) -> None:
    path = tmp_path / "r.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_rules(path)
    assert str(caught.value).startswith(f"{path}:{line}:"), str(caught.value)
    assert words in str(caught.value)


def test_two_rules_for_one_campaign_or_two_defaults_are_refused(tmp_path: Path,
                                                                capsys) -> None:
    path = tmp_path / "r.toml"
    path.write_text('[[rule]]\ncampaign = "a"\ndays = 1\n[[rule]]\ncampaign = "a"\ndays = 9\n')
    with pytest.raises(ConfigError, match="two retention rules for campaign 'a'"):
        load_rules(path)
    path.write_text("default_days = 30\n")
    assert cli.main(["recordings", "--root", str(tmp_path / "recs"), "purge", "--rules",
                     str(path), "--days", "90"]) == 1
    assert "two retention rules for the default (30 and 90 days)" in capsys.readouterr().err


def test_a_good_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "r.toml"
    path.write_text('default_days = 90\n[[rule]]\ncampaign = "legal"\ndays = 3650\n')
    assert [(r.campaign, r.days) for r in load_rules(path)] == [(None, 90.0),
                                                                ("legal", 3650.0)]
