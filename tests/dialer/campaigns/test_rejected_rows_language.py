"""The rejected-rows file and the import CLI speak the operator's language: each refused
row's reason in English or Chinese (the console list page's words for its code, after
the column's name), its stable code in a ``_code`` column of its own after the file's
columns (which keep their positions, so tools reading the old columns still do), cells
still spreadsheet-safe; the CLI's lines and summary follow ``--lang``, else the POSIX
locale (LC_ALL, LC_MESSAGES, LANG)."""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from trunkline.dialer.campaigns.lists import ROW_REFUSAL_CODES, import_file
from trunkline.dialer.campaigns.refusal_words import (
    ZH_REFUSALS,
    cli_language,
    import_summary,
)
from trunkline.dialer.campaigns.strategies import Strategy
from trunkline.dialer.store import Store

STATIC = Path(__file__).resolve().parents[3] / "dialer" / "service" / "static"
T0 = 1_750_000_000.0
#: Line 3: 7 digits (number_length); 4: a field short (row_fields); 5: two fields more;
#: 6: a formula in a cell and no number (number_empty); 7: a bad priority; 8: good.
LIST = ("姓名,电话,priority\n"
        "张三,13812345678,1\n"
        "李四,1234567,2\n"
        "王五,13812345679\n"
        "赵六,13812345670,3,多,余\n"
        '"=HYPERLINK(""http://evil"")",,4\n'
        "钱七,13812345671,high\n"
        "孙八,13812345672,5\n")


def _store(tmp_path: Path) -> Store:
    store = Store(tmp_path / "dialer.sqlite")
    store.create_campaign("sales", Strategy(), now=T0)
    return store


def _rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.reader(fh))


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_the_rejected_file_has_the_code_in_its_own_column(tmp_path: Path, lang: str) -> None:
    source = tmp_path / "june.csv"
    source.write_text(LIST, encoding="utf-8")
    with _store(tmp_path) as store:
        report = import_file(store, "sales", source, now=T0, lang=lang)
        stored = store.query("SELECT line, reason, code FROM import_error ORDER BY line")
    assert report.added == 2 and report.rejected_file is not None
    rows = _rows(report.rejected_file)
    assert rows[0] == ["_line", "_reason", "姓名", "电话", "priority", "_code"]
    by_line = {r[0]: r for r in rows[1:]}
    assert list(by_line) == ["3", "4", "5", "6", "7"]
    code = {line: r[5] for line, r in by_line.items()}
    assert code == {"3": "number_length", "4": "row_fields", "5": "row_fields",
                    "6": "number_empty", "7": "priority"}
    # the file's columns where they were; a short row filled so that _code stays in its
    # column, a long one's extra cells after it: no cell lost
    assert by_line["3"][2:5] == ["李四", "1234567", "2"]
    assert by_line["4"][2:] == ["王五", "13812345679", "", "row_fields"]
    assert by_line["5"][2:] == ["赵六", "13812345670", "3", "row_fields", "多", "余"]
    # spreadsheet-safe as before: the formula is text
    assert by_line["6"][2] == "'=HYPERLINK(\"http://evil\")"
    reasons = {line: r[1] for line, r in by_line.items()}
    if lang == "en":
        assert reasons["3"].startswith("电话: ") and "11 digits" in reasons["3"]
        assert reasons["4"] == "2 fields, the header has 3"
        assert reasons["7"] == "priority: 'high' is not a whole number"
    else:
        assert reasons == {
            "3": "电话：" + ZH_REFUSALS["number_length"],
            "4": ZH_REFUSALS["row_fields"], "5": ZH_REFUSALS["row_fields"],
            "6": "电话：号码为空", "7": "priority：优先级列不是整数"}
    # the store keeps the English sentence and the code, whatever the file's language
    assert [(line, c) for line, _, c in stored] == [(int(k), v) for k, v in code.items()]
    assert [r for _, r, _ in stored] == [e.reason for e in report.errors]
    assert all(not re.search("[\u4e00-\u9fff]", r.split(":", 1)[-1]) for _, r, _ in stored)


def test_old_column_positions_are_kept(tmp_path: Path) -> None:
    """What a tool reading the file before _code existed finds at each position:
    _line, _reason, then the row's cells, unchanged (en)."""
    source = tmp_path / "june.csv"
    source.write_text(LIST, encoding="utf-8")
    with _store(tmp_path) as store:
        report = import_file(store, "sales", source, now=T0)
    assert report.rejected_file is not None
    rows = _rows(report.rejected_file)
    for err, row in zip(report.errors, rows[1:], strict=True):
        assert row[:2] == [str(err.line), err.reason]
        width = min(len(err.raw), 3)
        assert row[2:2 + width] == [c if not c.startswith("=") else "'" + c
                                    for c in err.raw][:width]


def test_every_code_has_the_console_pages_chinese_words() -> None:
    strings = (STATIC / "console-strings.js").read_text(encoding="utf-8")
    zh = strings[strings.index("const zh = {"):]
    page = dict(re.findall(r'"adm\.list\.refusal\.(\w+)": "([^"]*)"', zh))
    assert set(ZH_REFUSALS) == set(ROW_REFUSAL_CODES) == set(page)
    assert page == ZH_REFUSALS


@pytest.mark.parametrize(("asked", "env", "lang"), [
    ("en", {"LANG": "zh_CN.UTF-8"}, "en"),
    ("zh-CN", {}, "zh-CN"),
    (None, {"LANG": "zh_CN.UTF-8"}, "zh-CN"),
    (None, {"LANG": "zh_TW.UTF-8"}, "zh-CN"),
    (None, {"LANG": "zh"}, "zh-CN"),
    (None, {"LANG": "C.UTF-8"}, "en"),
    (None, {"LANG": "zh_CN.UTF-8", "LC_MESSAGES": "en_US.UTF-8"}, "en"),
    (None, {"LC_ALL": "zh_CN.GB18030", "LC_MESSAGES": "en_US.UTF-8"}, "zh-CN"),
    (None, {"LC_ALL": "", "LANG": "zh_CN.UTF-8"}, "zh-CN"),
    (None, {"LANG": "zhx_YY"}, "en"),
    (None, {}, "en"),
])
def test_the_cli_language_follows_lang_then_the_locale(
        asked: str | None, env: dict[str, str], lang: str) -> None:
    assert cli_language(asked, env) == lang


def test_the_summary_in_both_languages() -> None:
    assert import_summary(rows=8, added=2, merged=0, rejected=5, rejected_file="x.csv",
                          lang="en") == "8 rows: 2 added, 0 merged, 5 rejected (written to x.csv)"
    assert import_summary(rows=8, added=2, merged=0, rejected=0, rejected_file=None,
                          lang="zh-CN") == "共 8 行：加入 2，合并 0，拒绝 0"
    with pytest.raises(ValueError, match="lang must be one of en, zh-CN, not 'fr'"):
        import_summary(rows=1, added=1, merged=0, rejected=0, rejected_file=None, lang="fr")


def _import(tmp_path: Path, name: str, env: dict[str, str], *extra: str
            ) -> subprocess.CompletedProcess:
    db = tmp_path / "dialer.sqlite"
    if not db.exists():
        _store(tmp_path).close()
    source = tmp_path / f"{name}.csv"
    source.write_text(LIST, encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "trunkline.cli", "dialer", "import", "--campaign", "sales",
         "--db", str(db), str(source), *extra], capture_output=True, text=True, timeout=60,
        env={"PATH": "/usr/bin:/bin", **env})


def test_the_cli_speaks_the_locale_or_lang(tmp_path: Path) -> None:
    zh = _import(tmp_path, "list0", {"LANG": "zh_CN.UTF-8"})
    assert zh.returncode == 3, zh.stderr   # imported, rows refused
    rejected = tmp_path / "list0.rejected.csv"
    assert zh.stdout.strip() == f"共 7 行：加入 2，合并 0，拒绝 5（被拒的行已写入 {rejected}）"
    lines = zh.stderr.strip().splitlines()
    assert lines[0] == f"{tmp_path / 'list0.csv'}:3: 电话：{ZH_REFUSALS['number_length']} " \
                       "[number_length]"
    assert _rows(rejected)[1][1] == "电话：" + ZH_REFUSALS["number_length"]
    # --lang over the locale; the file's same rows merge with the first import's
    en = _import(tmp_path, "list1", {"LANG": "zh_CN.UTF-8"}, "--lang", "en")
    assert en.returncode == 3, en.stderr
    rejected = tmp_path / "list1.rejected.csv"
    assert en.stdout.strip() == f"7 rows: 0 added, 2 merged, 5 rejected (written to {rejected})"
    assert en.stderr.splitlines()[0].endswith(":3: 电话: a Chinese mobile number has 11 "
                                              "digits, got 7 [number_length]")
    assert _rows(rejected)[1][1].startswith("电话: ")
    # --json: the English sentence and the code, for scripts, in any language
    js = _import(tmp_path, "list2", {"LANG": "zh_CN.UTF-8"}, "--json")
    errors = json.loads(js.stdout)["errors"]
    assert errors[0] == {"line": 3, "code": "number_length",
                         "reason": "电话: a Chinese mobile number has 11 digits, got 7"}
    bad = _import(tmp_path, "list3", {}, "--lang", "fr")
    assert bad.returncode == 2 and "invalid choice: 'fr'" in bad.stderr


def test_the_watched_folder_writes_its_rejected_rows_in_the_language_given(
        tmp_path: Path) -> None:
    from trunkline.dialer.campaigns.lists import watch_once

    folder = tmp_path / "drop" / "sales"
    folder.mkdir(parents=True)
    (folder / "june.csv").write_text(LIST, encoding="utf-8")
    with _store(tmp_path) as store:
        [report] = watch_once(store, tmp_path / "drop", now=time.time() + 60, lang="zh-CN")
    assert report.rejected_file is not None
    assert report.rejected_file.parent == folder / "archive"
    rows = _rows(report.rejected_file)
    assert rows[0][-1] == "_code" and rows[1][1] == "电话：" + ZH_REFUSALS["number_length"]
