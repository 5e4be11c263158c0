"""The ``dialer dnc`` commands in the operator's language (issue 15, "what a careful
operator would find in their first week").

``dialer import`` said its refused rows in Chinese on a zh_CN machine (or with
``--lang zh-CN``), but ``dialer dnc import`` and ``dnc add`` said theirs in English
only: each refusal was a bare English sentence with no code a page could translate.
Now every refusal carries a stable code (``dnc.DNC_REFUSAL_CODES``: a number's codes as
a list import's, and the prefixes'), the lines end ``[CODE]`` in every language, and
the words follow the locale or ``--lang`` as ``dialer import``'s do."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trunkline.cli import main
from trunkline.dialer.campaigns.dnc import DNC_REFUSAL_CODES, parse_entries, parse_numbers
from trunkline.dialer.campaigns.refusal_words import (
    ZH_DNC_REFUSALS,
    ZH_REFUSALS,
    dnc_count,
    dnc_import_summary,
    dnc_refusal_line,
)

STATIC = Path(__file__).resolve().parents[3] / "dialer" / "service" / "static"


def test_every_dnc_code_has_chinese_words() -> None:
    assert set(DNC_REFUSAL_CODES) == set(ZH_REFUSALS) - {
        "row_malformed", "row_fields", "time_zone", "priority"} | set(ZH_DNC_REFUSALS)
    # the admin page has words for the prefix codes it can meet (a check's is the API's)
    strings = (STATIC / "console-strings.js").read_text(encoding="utf-8")
    zh = strings[strings.index("const zh = {"):]
    for code in ("prefix_form", "prefix_broad"):
        assert f'"adm.dnc.refusal.{code}": "' in zh, code
        assert f'"adm.dnc.refusal.{code}": "{{reason}}"' in strings[:strings.index(
            "const zh = {")], code   # English keeps the API's sentence


@given(st.lists(st.text(alphabet="0123456789+*-# ,abc", max_size=16), max_size=8))
def test_every_refusal_has_a_known_code_and_its_own_line(lines: list[str]) -> None:
    for refused in (parse_entries(lines)[1], parse_numbers(lines)[1]):
        assert all(r.code in DNC_REFUSAL_CODES for r in refused), refused
        assert all(1 <= r.line <= len(lines) for r in refused), refused


def test_refusal_lines_in_both_languages() -> None:
    reason = "a Chinese mobile number has 11 digits, got 10"
    assert dnc_refusal_line(4, "number_length", reason, "en", path="dnc.csv") == \
        f"dnc.csv:4: field 1 (number): {reason} [number_length]"
    assert dnc_refusal_line(4, "number_length", reason, "zh-CN", path="dnc.csv") == \
        f"dnc.csv:4: 第 1 列（号码）：{ZH_REFUSALS['number_length']} [number_length]"
    assert dnc_refusal_line(2, "prefix_broad", "prefix '+86*' ...", "en") == \
        "argument 2: prefix '+86*' ... [prefix_broad]"
    assert dnc_refusal_line(2, "prefix_broad", "prefix '+86*' ...", "zh-CN") == \
        f"第 2 个参数：{ZH_DNC_REFUSALS['prefix_broad']} [prefix_broad]"
    # a code without words (one added later) keeps the English sentence in zh
    assert dnc_refusal_line(2, "new_code", "why", "zh-CN") == "argument 2: why [new_code]"
    assert dnc_import_summary("a.csv", added=2, already=1, rejected=3, lang="zh-CN") == \
        "a.csv：加入 2，已在名单中 1，拒绝 3"
    assert dnc_count("added", 4, "en") == "4 added"
    assert dnc_count("removed", 4, "zh-CN") == "已移除 4 个"
    with pytest.raises(ValueError, match="lang must be one of"):
        dnc_count("added", 1, "fr")


@pytest.fixture
def db(tmp_path: Path) -> str:
    path = str(tmp_path / "d.sqlite")
    assert main(["dialer", "campaign", "create", "sales", "--db", path]) == 0
    return path


def _dnc(db: str, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "trunkline.cli", "dialer", "dnc", *args, "--db", db],
        capture_output=True, text=True, timeout=60,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env})


def test_the_dnc_commands_speak_the_locale_or_lang(tmp_path: Path, db: str) -> None:
    source = tmp_path / "dnc.csv"
    source.write_text("number\n13800138000\n1380013800\n+8*\n", encoding="utf-8")
    zh = _dnc(db, {"LANG": "zh_CN.UTF-8"}, "import", str(source))
    assert zh.returncode == 3, zh.stderr   # taken, some refused
    assert zh.stderr.splitlines() == [
        f"{source}:3: 第 1 列（号码）：{ZH_REFUSALS['number_length']} [number_length]",
        f"{source}:4: 第 1 列（号码）：{ZH_DNC_REFUSALS['prefix_broad']} [prefix_broad]"]
    assert zh.stdout.strip() == f"{source}：加入 1，已在名单中 0，拒绝 2"

    en = _dnc(db, {"LANG": "zh_CN.UTF-8"}, "add", "13900139000", "abc", "--lang", "en")
    assert en.returncode == 3
    assert en.stderr.strip() == "argument 2: illegal characters 'abc' [number_characters]"
    assert en.stdout.strip() == "1 added"

    removed = _dnc(db, {"LC_ALL": "zh_CN.UTF-8"}, "remove", "13900139000")
    assert (removed.returncode, removed.stdout.strip()) == (0, "已移除 1 个")
    # a check's answers are never translated (scripts read them); its refusals are
    check = _dnc(db, {"LANG": "zh_CN.UTF-8"}, "check", "13800138000", "+86400*")
    assert check.returncode == 2
    assert check.stdout.strip() == "+8613800138000: dnc"
    assert check.stderr.strip() == \
        f"第 2 个参数：{ZH_DNC_REFUSALS['prefix_in_check']} [prefix_in_check]"
    # an unreadable argument: the others removed, exit 3 as add's (it was 1, "nothing")
    removed = _dnc(db, {}, "remove", "13800138000", "x")
    assert (removed.returncode, removed.stdout.strip()) == (3, "1 removed")
    assert removed.stderr.strip() == "argument 2: illegal characters 'x' [number_characters]"
