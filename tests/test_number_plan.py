"""The number plan: the schema exactly as specified, longest prefix, clear errors."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trunkline.drivers.backends.emulated.plan import (
    Behaviour,
    default_plan,
    load_plan,
    plan_from_string,
)
from trunkline.errors import ConfigError, NumberPlanError

SPEC_EXAMPLE = """\
zone = "cn"
[[subscriber]]
number = "138*"            # an exact number, or a prefix ending in *
behaviour = "human"
answer_after = [3.0, 12.0] # seconds: a value, or a [low, high] uniform range
talk = [20, 120]           # seconds, same form
ringback = "tone"          # or "music"
[[subscriber]]
number = "139*"
behaviour = "machine"
greeting = 4.0             # machine: greeting seconds, same form
"""


def test_the_specified_schema_is_accepted_as_written():
    plan = plan_from_string(SPEC_EXAMPLE)
    human = plan.lookup("13812345678")
    assert human.behaviour is Behaviour.HUMAN
    assert (human.answer_after.low, human.answer_after.high) == (3.0, 12.0)
    assert (human.talk.low, human.talk.high) == (20.0, 120.0)
    assert human.ringback == "tone"
    machine = plan.lookup("13900000000")
    assert machine.greeting.low == machine.greeting.high == 4.0


def test_longest_prefix_wins_and_exact_beats_prefix():
    plan = plan_from_string("""
[[subscriber]]
number = "1*"
behaviour = "busy"
[[subscriber]]
number = "138*"
behaviour = "human"
[[subscriber]]
number = "13800138000"
behaviour = "fax"
""")
    assert plan.lookup("13912345678").behaviour is Behaviour.BUSY
    assert plan.lookup("13812345678").behaviour is Behaviour.HUMAN
    assert plan.lookup("13800138000").behaviour is Behaviour.FAX


def test_unmatched_numbers_are_invalid():
    plan = plan_from_string('[[subscriber]]\nnumber = "138*"\nbehaviour = "human"\n')
    assert plan.lookup("02000000").behaviour is Behaviour.INVALID_NUMBER


@pytest.mark.parametrize(("text", "match"), [
    ('[[subscriber]]\nnumber = "1"\nbehaviour = "human"\ncolour = "red"\n',
     r":4: unknown key 'colour' in subscriber\[0\]"),
    ('[[subscriber]]\nnumber = "1"\nbehaviour = "human"\ntalk = [30, 10]\n',
     r":4: talk must satisfy 0 <= low <= high"),
    ('[[subscriber]]\nnumber = "1"\nbehaviour = "human"\nanswer_after = "soon"\n',
     r":4: answer_after must be seconds"),
    ('[[subscriber]]\nnumber = "1"\nbehaviour = "robot"\n', r":3: unknown behaviour 'robot'"),
    ('[[subscriber]]\nnumber = "13a*"\nbehaviour = "busy"\n', r":2: number must be a string"),
    ('[[subscriber]]\nnumber = "1"\nbehaviour = "human"\nringback = "jazz"\n',
     r":4: ringback must be 'tone', 'music' or an audio file: .*jazz: no such file"),
    ('[[subscriber]]\nnumber = "1"\nbehaviour = "human"\nringback = 5\n',
     r":4: ringback must be 'tone', 'music' or an audio file, not 5"),
    ('[[subscriber]]\nnumber = "1"\nbehaviour = "busy"\ngreeting = 3\n',
     r":4: unknown key 'greeting'"),
    ('zone = "zz"\n', r":1: unknown zone 'zz'"),
    ('[[subscriber]]\nbehaviour = "busy"\n', r":1: subscriber is missing the 'number' key"),
    ('[[subscriber]]\nnumber = "1"\nbehaviour = "busy"\n[[subscriber]]\nnumber = "1"\n'
     'behaviour = "human"\n', r":5: number '1' is already defined"),
    ("zone = \n", r"not valid TOML"),
])
def test_bad_plans_name_the_key_and_line(text, match):
    with pytest.raises(NumberPlanError, match=match):
        plan_from_string(text, "plan.toml")


def test_errors_are_config_errors_with_fields():
    with pytest.raises(ConfigError) as info:
        plan_from_string('[[subscriber]]\nnumber = "1"\nbehaviour = "human"\nbogus = 1\n',
                         "p.toml")
    assert info.value.key == "subscriber.bogus" and info.value.line == 4
    assert info.value.source == "p.toml"


def test_ringback_file_is_read_relative_to_the_plan(tmp_path):
    """A number's own ring-back recording (a real 彩铃 song): found beside the plan."""
    import numpy as np
    import soundfile

    soundfile.write(tmp_path / "song.wav", np.zeros(800, np.int16), 8000, subtype="PCM_16")
    (tmp_path / "plan.toml").write_text(
        '[[subscriber]]\nnumber = "1"\nbehaviour = "no_answer"\nringback = "song.wav"\n',
        encoding="utf-8")
    assert load_plan(tmp_path / "plan.toml").lookup("1").ringback == str(tmp_path / "song.wav")
    (tmp_path / "bad.wav").write_bytes(b"RIFF not audio")
    (tmp_path / "plan.toml").write_text(
        '[[subscriber]]\nnumber = "1"\nbehaviour = "no_answer"\nringback = "bad.wav"\n',
        encoding="utf-8")
    with pytest.raises(ConfigError, match=r":4: ringback must be .*bad\.wav"):
        load_plan(tmp_path / "plan.toml")
    for start, match in (("0.2", r":5: ringback_start must be seconds, 0 up to the file's 0.1 s"),
                         ('"x"', r":5: ringback_start must be seconds")):
        (tmp_path / "plan.toml").write_text(
            '[[subscriber]]\nnumber = "1"\nbehaviour = "no_answer"\nringback = "song.wav"\n'
            f"ringback_start = {start}\n", encoding="utf-8")
        with pytest.raises(ConfigError, match=match):
            load_plan(tmp_path / "plan.toml")
    (tmp_path / "plan.toml").write_text(
        '[[subscriber]]\nnumber = "1"\nbehaviour = "no_answer"\nringback = "music"\n'
        "ringback_start = 3\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r":5: ringback_start must be seconds, given with an"):
        load_plan(tmp_path / "plan.toml")


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        load_plan(tmp_path / "nope.toml")


def test_sample_plan_covers_every_behaviour():
    plan = default_plan()
    assert {s.behaviour for s in plan.subscribers} == set(Behaviour)


digits = st.text("0123456789", min_size=1, max_size=8)


@given(st.lists(digits, min_size=1, max_size=12, unique=True), digits)
def test_lookup_is_the_longest_matching_prefix(prefixes, number):
    text = "".join(f'[[subscriber]]\nnumber = "{p}*"\nbehaviour = "busy"\nname = "{p}"\n'
                   for p in prefixes)
    plan = plan_from_string(text)
    matching = [p for p in prefixes if number.startswith(p)]
    found = plan.lookup(number)
    if matching:
        assert found.name == max(matching, key=len)
    else:
        assert found.behaviour is Behaviour.INVALID_NUMBER


def test_number_completion_follows_the_plan():
    plan = plan_from_string('max_digits = 11\n[[subscriber]]\nnumber = "10086"\n'
                            'behaviour = "human"\n[[subscriber]]\nnumber = "138*"\n'
                            'behaviour = "busy"\n')
    assert plan.is_complete("10086")
    assert not plan.is_complete("1008")
    assert not plan.is_complete("1381234")
    assert plan.is_complete("13812345678")
