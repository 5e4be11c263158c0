"""``--encoding`` given by the operator: any name Python knows as a codec, the file read
with it or refused with one clear error, nothing stored (second red-team pass, issue 15).

Before: ``--encoding base64|hex|zlib|rot13`` (Python's bytes/text transforms) and
``--encoding utf-16`` on a file without a BOM ended in tracebacks (binascii.Error,
zlib.error, TypeError, UnicodeError)."""

from __future__ import annotations

import codecs

import pytest
from campaign_testkit import T0, open_store

from trunkline.cli import main
from trunkline.dialer.campaigns.lists import ListImportError, decode, import_file

GOOD = "name,phone\n张三,13800138000\n李四,13800138001\n"


@pytest.mark.parametrize("encoding", ["base64", "hex", "zlib", "rot13", "bz2", "uu"])
def test_a_transform_codec_is_refused_as_not_a_text_encoding(tmp_path, encoding) -> None:
    path = tmp_path / "list.csv"
    path.write_bytes(GOOD.encode("utf-8"))
    store = open_store()
    with pytest.raises(ListImportError, match="not a text encoding"):
        import_file(store, "sales", path, now=T0, encoding=encoding)
    with pytest.raises(ListImportError, match="not a text encoding"):
        decode(GOOD.encode("utf-8"), encoding, source="upload.csv")
    assert store.query("SELECT COUNT(*) FROM contact")[0][0] == 0
    assert store.query("SELECT COUNT(*) FROM list")[0][0] == 0


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32"])
def test_a_bom_codec_on_a_file_without_its_bom_is_a_decode_error(tmp_path, encoding) -> None:
    path = tmp_path / "list.csv"
    path.write_bytes(GOOD.encode("utf-8"))
    store = open_store()
    with pytest.raises(ListImportError, match=f"cannot decode as {encoding}"):
        import_file(store, "sales", path, now=T0, encoding=encoding)
    assert store.query("SELECT COUNT(*) FROM contact")[0][0] == 0


def test_a_right_forced_encoding_still_imports(tmp_path) -> None:
    path = tmp_path / "list.csv"
    path.write_bytes(codecs.BOM_UTF16_LE + GOOD.encode("utf-16-le"))
    store = open_store()
    report = import_file(store, "sales", path, now=T0, encoding="utf-16")
    assert (report.rows, report.added) == (2, 2)


def test_the_command_says_which_file_and_exits_1(tmp_path, capsys) -> None:
    path = tmp_path / "list.csv"
    path.write_bytes(GOOD.encode("utf-8"))
    db = str(tmp_path / "d.sqlite")
    assert main(["dialer", "campaign", "create", "sales", "--db", db]) == 0
    assert main(["dialer", "import", "--campaign", "sales", str(path), "--encoding",
                 "base64", "--db", db]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"trunkline: error: {path}: cannot decode as base64")
    assert "Traceback" not in err
