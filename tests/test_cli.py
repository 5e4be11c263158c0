"""The command line, run as a user runs it (a subprocess), on the emulated card."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from trunkline.cli import main


def trunkline(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "trunkline", *args], capture_output=True,
                          text=True, timeout=120)


def test_call_prints_one_json_object_with_the_specified_fields():
    proc = trunkline("call", "13712345678", "--card", "emulated", "--line", "fxo", "--json")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert {"number", "line", "outcome", "events", "duration"} <= result.keys()
    assert result["outcome"] == "busy" and result["line"] == "fxo"
    kinds = [e["event"] for e in result["events"]]
    assert kinds[:3] == ["seized", "tone", "dial_tone"] and "digits_sent" in kinds
    assert all(isinstance(e["t"], float | int) for e in result["events"])


def test_call_with_a_plan_file(tmp_path):
    plan = tmp_path / "plan.toml"
    plan.write_text('zone = "cn"\n[[subscriber]]\nnumber = "555*"\nbehaviour = "congestion"\n')
    proc = trunkline("call", "5551234", "--network", str(plan), "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["outcome"] == "congestion"


@pytest.mark.parametrize(("args", "message"), [
    (["call", "12ab"], "cannot dial '12ab'"),
    (["call", "123", "--card", "nosuch"], "no card backend named 'nosuch'"),
    (["call", "123", "--channel", "1"], "channel 1 is not an FXO port"),
])
def test_bad_input_gets_a_clear_error_and_exit_1(args, message, capsys):
    assert main(args) == 1
    assert message in capsys.readouterr().err


def test_bad_plan_names_line(tmp_path, capsys):
    plan = tmp_path / "plan.toml"
    plan.write_text('[[subscriber]]\nnumber = "1"\nbehaviour = "human"\nsmile = true\n')
    assert main(["call", "1", "--network", str(plan)]) == 1
    assert f"{plan}:4: unknown key 'smile'" in capsys.readouterr().err


@pytest.mark.slow
def test_call_demo_in_virtual_time_matches_the_plan(capsys):
    assert main(["call-demo", "--virtual", "--calls", "11", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(rows) == 11
    assert all(r["outcome"] == r["expected"] for r in rows), rows


def test_help_names_every_job(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for job in ("call", "call-demo", "demo"):
        assert job in out


def test_pri_call_with_q931_trace():
    proc = trunkline("call", "13712345678", "--line", "pri", "--trace", "--json")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert (result["outcome"], result["cause"]) == ("busy", 17)
    traced = [json.loads(line) for line in proc.stderr.splitlines() if '"q931"' in line]
    messages = [(t["direction"], t["message"]) for t in traced]
    assert ("tx", "SETUP") in messages and ("rx", "DISCONNECT") in messages


@pytest.mark.parametrize(("number", "outcome"), [
    ("13712345678", "busy"), ("13512345678", "congestion"), ("13012345678", "invalid_number"),
    ("13412345678", "unreachable"), ("13812345678", "human")])
def test_a_number_has_the_same_outcome_on_pri_r2_and_ss7(capsys, number, outcome):
    """`trunkline call --line r2|ss7` gives what `--line pri` gives for the same number
    (the default card's spans 1, 5 and 6; the sample network behind them)."""
    results = {}
    for line in ("pri", "r2", "ss7"):
        assert main(["call", number, "--line", line, "--json", "--hold", "0.5"]) == 0
        results[line] = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert {line: r["outcome"] for line, r in results.items()} == dict.fromkeys(
        ("pri", "r2", "ss7"), outcome), results
    assert [r["span"] for r in results.values()] == [1, 5, 6]
    # Without --trace the signalling messages are left out.
    for r in results.values():
        assert not {e["event"] for e in r["events"]} & {"isup", "r2", "r2_line", "q931"}


def test_r2_and_ss7_calls_trace_their_signalling(capsys):
    assert main(["call", "13712345678", "--line", "r2", "--trace", "--json"]) == 0
    r2 = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    groups = {e["group"] for e in r2["events"] if e["event"] == "r2"}
    assert {"I", "A", "B"} <= groups and "r2_line" in {e["event"] for e in r2["events"]}
    assert main(["call", "13712345678", "--line", "ss7", "--trace", "--json"]) == 0
    ss7 = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    messages = [e["message"] for e in ss7["events"] if e["event"] == "isup"]
    assert messages[0] == "IAM" and "REL" in messages, messages
