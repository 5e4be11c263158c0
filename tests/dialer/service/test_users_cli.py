"""``trunkline users``: add, passwd, list, disable, enable, against a real database file."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from trunkline.cli import main
from trunkline.dialer.service.passwords import verify_password
from trunkline.dialer.store import Store


def _users(db: Path, *argv: str, password: str | None = None,
           monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(sys, "stdin", io.StringIO("" if password is None else password + "\n"))
    return main(["users", *argv, "--db", str(db)])


def test_add_reads_the_password_from_a_pipe_and_stores_only_its_hash(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    db = tmp_path / "d.sqlite"
    assert _users(db, "add", "li", "--role", "agent", password="s3cret-pass",
                  monkeypatch=monkeypatch) == 0
    assert "added agent li" in capsys.readouterr().out
    with Store(db) as store:
        user = store.get_user("li")
        assert user.role == "agent" and "s3cret-pass" not in user.password_hash
        assert verify_password(user.password_hash, "s3cret-pass")
        entry = store.audit_entries()[0]
        assert (entry.action, entry.target, entry.details) == ("user.add", "li",
                                                               {"role": "agent"})
        assert entry.user is not None and entry.user.startswith("cli")


@pytest.mark.parametrize(("argv", "password", "message"), [
    (["add", "li", "--role", "agent"], "another-pass", "user 'li' already exists"),
    (["add", "wang", "--role", "agent"], "", "the password is empty"),
    (["add", "wang", "--role", "agent"], "short", "too short"),
    (["add", "wang", "--role", "agent"], "wang", "too short"),
    (["add", "wangwang", "--role", "agent"], "WANGWANG", "the password is the user name"),
    (["add", "bad name", "--role", "agent"], "good-password", "bad user name"),
    (["passwd", "ghost"], "good-password", "no user 'ghost'"),
    (["disable", "ghost"], None, "no user 'ghost'"),
])
def test_errors_are_clear_and_nothing_stored_is_lost(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture,
        argv: list[str], password: str | None, message: str) -> None:
    db = tmp_path / "d.sqlite"
    _users(db, "add", "li", "--role", "agent", password="s3cret-pass", monkeypatch=monkeypatch)
    before = Store(db).get_user("li")
    capsys.readouterr()
    assert _users(db, *argv, password=password, monkeypatch=monkeypatch) == 1
    assert message in capsys.readouterr().err
    with Store(db) as store:
        assert store.users() == [before]


def test_an_unknown_role_is_refused_by_the_parser(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["users", "add", "li", "--role", "boss", "--db", str(tmp_path / "d.sqlite")])
    assert exit_.value.code == 2
    assert "invalid choice: 'boss'" in capsys.readouterr().err


def test_passwd_disable_enable_and_list(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture) -> None:
    db = tmp_path / "d.sqlite"
    _users(db, "add", "li", "--role", "agent", password="s3cret-pass", monkeypatch=monkeypatch)
    _users(db, "add", "boss", "--role", "supervisor", password="b0ss-pass",
           monkeypatch=monkeypatch)
    assert _users(db, "passwd", "li", password="new-s3cret", monkeypatch=monkeypatch) == 0
    assert _users(db, "disable", "boss", monkeypatch=monkeypatch) == 0
    capsys.readouterr()
    assert _users(db, "list", "--json", monkeypatch=monkeypatch) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["name"], r["role"], r["disabled"]) for r in rows] == [
        ("boss", "supervisor", True), ("li", "agent", False)]
    with Store(db) as store:
        assert verify_password(store.get_user("li").password_hash, "new-s3cret")
        assert [e.action for e in store.audit_entries()] == [
            "user.disable", "user.passwd", "user.add", "user.add"]
    assert _users(db, "enable", "boss", monkeypatch=monkeypatch) == 0
    assert _users(db, "list", monkeypatch=monkeypatch) == 0
    out = capsys.readouterr().out
    assert "boss" in out and "enabled" in out and "disabled" not in out


def test_the_installed_command_reads_a_piped_password(tmp_path: Path) -> None:
    db = tmp_path / "d.sqlite"
    done = subprocess.run([sys.executable, "-m", "trunkline.cli", "users", "add", "admin",
                           "--role", "admin", "--store", str(db)],
                          input="an-admin-pass\n", capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    with Store(db) as store:
        assert verify_password(store.get_user("admin").password_hash, "an-admin-pass")
