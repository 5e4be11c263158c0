"""A webhook URL is checked whole before it is stored (second red-team pass, issue 15).

Before: ``http://[::1/x`` was a ValueError traceback from urlsplit; ``http://h:99999/``
and ``http://a b/`` were stored, and every delivery then failed for a day of retries."""

from __future__ import annotations

from pathlib import Path

import pytest

from trunkline.cli import main
from trunkline.dialer.errors import StoreError
from trunkline.dialer.store.webhooks import check_url


@pytest.mark.parametrize("url", ["http://[::1/x", "http://h:99999/", "http://a b/",
                                 "http://h:abc/", "http://h:0/", "http://h/\x00",
                                 "ftp://h/", "http://"])
def test_a_bad_url_is_refused(url: str) -> None:
    with pytest.raises(StoreError, match="a webhook URL must be"):
        check_url(url)


@pytest.mark.parametrize("url", ["https://crm.example:8443/hook", "http://[::1]:8080/x",
                                 "http://10.0.0.5/trunkline?x=1"])
def test_a_good_url_is_taken(url: str) -> None:
    assert check_url(url) == url


def test_the_cli_says_it_in_one_line(tmp_path: Path, capsys) -> None:
    db = str(tmp_path / "d.sqlite")
    assert main(["dialer", "webhooks", "add", "crm", "http://[::1/x", "--db", db]) == 1
    err = capsys.readouterr().err
    assert err.startswith("trunkline: error: a webhook URL must be") and "Traceback" not in err
