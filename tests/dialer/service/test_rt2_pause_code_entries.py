"""Pause codes from a file or the admin API: unknown keys and wrong types refused in
the project's words, with the line, and nothing saved (second red-team pass, issue 15).

Before: ``lable = "Lunch"`` was refused as ``PauseCode.__init__() got an unexpected
keyword argument 'lable'``; ``label = 5`` was saved as a number, and the admin API's PUT
then answered 500 (its answer could not be built) though the change was stored; now a
number is taken as its text, anything else refused."""

from __future__ import annotations

from pathlib import Path

from qa_data_kit import seeded_db
from web_kit import client, login

from trunkline.cli import main


def test_the_file_is_refused_by_line_and_key(tmp_path: Path, capsys) -> None:
    db = str(tmp_path / "d.sqlite")
    path = tmp_path / "codes.toml"
    for text, words in (
            ('[[pause_code]]\ncode = "a"\n\n[[pause_code]]\ncode = "b"\nlable = "B"\n',
             ":4: pause_code 2: unknown key 'lable'; expected one of: code, label, limit"),
            ('[[pause_code]]\ncode = "a"\nlabel = true\n', ":1: pause_code 1: pause code "
                                                          "'a': label must be text, not True"),
            ("pause_code = [5]\n", ":1: pause_code 1: expected a table")):
        path.write_text(text)
        assert main(["dialer", "pause-codes", "--set", str(path), "--db", db]) == 1
        err = capsys.readouterr().err
        assert f"{path}{words}" in err and "__init__" not in err, err
    assert main(["dialer", "pause-codes", "--db", db]) == 0
    assert "break" in capsys.readouterr().out          # the defaults: nothing was saved


def test_the_api_answers_422_and_saves_nothing(tmp_path: Path) -> None:
    seeded_db(tmp_path)
    with client(tmp_path) as c:
        head = {"X-CSRF-Token": login(c, "root")}
        before = c.get("/api/admin/pause-codes").json()
        for entry in ({"code": "x", "label": [5]}, {"code": "x", "lable": "y"}):
            r = c.put("/api/admin/pause-codes", headers=head, json={"pause_code": [entry]})
            assert r.status_code == 422, r.text
            assert "__init__" not in r.json()["message"]
        assert c.get("/api/admin/pause-codes").json() == before
        r = c.put("/api/admin/pause-codes", headers=head,
                  json={"pause_code": [{"code": "x", "label": 5}]})
        assert r.status_code == 200 and r.json()[0]["label"] == "5"
