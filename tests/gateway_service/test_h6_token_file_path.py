"""A ``token_file`` the gateway cannot read is named as resolved, not by the relative name
the file gave (issue 15: ``No such file or directory: 'admin.token'`` left the reader to
guess the folder it was looked for in: the configuration's, not the working one)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from trunkline.errors import ConfigError
from trunkline.gateway.config import load_config


def test_a_missing_relative_token_file_is_named_by_its_resolved_path(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "etc"
    folder.mkdir()
    (folder / "gw.toml").write_text('\n[[token]]\ntoken_file = "admin.token"\nrole = "admin"\n')
    monkeypatch.chdir(tmp_path)   # the file is named relative to the working folder
    with pytest.raises(ConfigError) as caught:
        load_config(os.path.join("etc", "gw.toml"))
    assert str(caught.value) == (
        f"etc/gw.toml:3: [[token]] token_file: cannot read {folder.resolve()}/admin.token "
        "('admin.token' is relative to the configuration's folder): No such file or directory")


def test_an_absolute_token_file_is_named_as_given_and_a_readable_one_loads(
        tmp_path: Path) -> None:
    config = tmp_path / "gw.toml"
    config.write_text(f'[[token]]\ntoken_file = "{tmp_path}/none.token"\nrole = "admin"\n')
    with pytest.raises(ConfigError, match=rf"cannot read {tmp_path.resolve()}/none.token: "
                                          "No such file or directory$"):
        load_config(config)
    (tmp_path / "none.token").write_text("s3cret-token-of-20-chars\n")
    assert load_config(config).tokens == {"s3cret-token-of-20-chars": "admin"}
