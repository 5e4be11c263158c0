"""Two tables that claim the same thing in a gateway's configuration are refused, naming
the line, instead of the later one silently winning (second red-team pass, issue 15).

Before: two ``[[group]]`` tables named ``outbound`` kept only the second, so the first's
FXO lines were never dialled and nothing said so; one token given two roles by two
``[[token]]`` tables took the later role."""

from __future__ import annotations

from pathlib import Path

import pytest

from trunkline.gateway.config import ConfigError, config_from_string, load_config

TOKEN = "a-secret-of-more-than-16"


def test_two_groups_of_one_name_are_refused_with_both_lines(tmp_path: Path) -> None:
    path = tmp_path / "gw.toml"
    path.write_text('[[group]]\nname = "outbound"\nchannels = ["fxo"]\n\n'
                    '[[group]]\nname = "outbound"\nchannels = ["pri"]\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:6:"), message
    assert "group 'outbound' has two [[group]] tables (the first at line 3)" in message


def test_groups_of_different_names_still_load() -> None:
    cfg = config_from_string('[[group]]\nname = "a"\nchannels = ["fxo"]\n'
                             '[[group]]\nname = "b"\nchannels = ["pri"]\n')
    assert cfg.groups == {"a": ["fxo"], "b": ["pri"]}


def test_one_token_with_two_roles_is_refused_without_showing_it() -> None:
    text = (f'[[token]]\ntoken = "{TOKEN}"\nrole = "monitor"\n'
            f'[[token]]\ntoken = "{TOKEN}"\nrole = "admin"\n')
    with pytest.raises(ConfigError) as caught:
        config_from_string(text)
    message = str(caught.value)
    assert ":6:" in message and "already given the role 'monitor'" in message
    assert TOKEN not in message


def test_one_token_repeated_with_its_role_is_harmless() -> None:
    text = (f'[[token]]\ntoken = "{TOKEN}"\nrole = "monitor"\n'
            f'[[token]]\ntoken = "{TOKEN}"\nrole = "monitor"\n')
    assert config_from_string(text).tokens == {TOKEN: "monitor"}
