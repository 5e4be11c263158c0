"""A list uploaded over the API that decodes as neither UTF-8 nor GB18030/GBK is refused
with a remedy the API accepts. It used to say "give --encoding", an option of the CLI
the HTTP API does not have (nor does ``trunkline dialer dnc import``)."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest
from qa_data_kit import seeded_db
from web_kit import client, login

from trunkline.dialer.campaigns.dnc import import_dnc
from trunkline.dialer.campaigns.lists import ListImportError
from trunkline.dialer.store import Store

UNDECODABLE = b"number\n13812345678\n\xff\xfe\xff\n"   # 0xFF starts no GB18030 character


@pytest.mark.parametrize("body", [UNDECODABLE, codecs.BOM_UTF8 + UNDECODABLE],
                         ids=["no_bom", "utf8_bom"])
def test_the_api_names_a_remedy_it_accepts(tmp_path: Path, body: bytes) -> None:
    seeded_db(tmp_path)
    with client(tmp_path) as c:
        head = {"X-CSRF-Token": login(c, "root"), "Content-Type": "text/csv"}
        url = "/api/admin/campaigns/sales/lists"
        r = c.post(url, params={"filename": "odd.csv"}, content=body, headers=head)
        assert r.status_code == 422, r.text
        message = r.json()["message"]
        assert "--encoding" not in message
        assert "UTF-8 nor GB18030/GBK" in message or "as UTF-8 or GB18030/GBK" in message
        assert "save it as UTF-8 (or GBK)" in message, message
        assert [li["name"] for li in c.get(url).json()] == ["seed"]  # nothing stored


def test_dnc_import_names_the_same_remedy(tmp_path: Path) -> None:
    path = tmp_path / "dnc.csv"
    path.write_bytes(UNDECODABLE)
    with Store(tmp_path / "d.sqlite") as store, pytest.raises(ListImportError) as err:
        import_dnc(store, path, now=0.0)
    assert "--encoding" not in str(err.value) and "save it as UTF-8" in str(err.value)
