"""The spandsp binding on its own: two terminals back to back, no line in between."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from fax_kit import make_page

from trunkline.drivers.native import spandsp_fax
from trunkline.drivers.native.spandsp_fax import FaxBindingError, FaxTerminal, completion_name
from trunkline.gateway.fax.documents import compare_pages, read_fax


def back_to_back(a: FaxTerminal, b: FaxTerminal, seconds: float = 120.0) -> list:
    x = np.zeros(160, np.int16)
    y = np.zeros(160, np.int16)
    reports = []
    for _ in range(int(seconds * 50)):
        x2 = a.step(y)
        y = b.step(x)
        x = x2
        reports += [("a", r) for r in a.reports()] + [("b", r) for r in b.reports()]
        if a.finished and b.finished:
            break
    return reports


def test_constants_match_the_header() -> None:
    lib = spandsp_fax.library().lib
    assert lib.T30_ERR_CALLDROPPED == 49 == spandsp_fax.COMPLETION_NAMES.index("call_dropped")
    assert spandsp_fax.COMPLETION_NAMES.index("no_poll") == lib.T30_ERR_NOPOLL
    assert lib.T30_SUPPORT_V17 == spandsp_fax.T30_SUPPORT_V17
    assert lib.T30_SUPPORT_T6_COMPRESSION == spandsp_fax.T30_SUPPORT_T6
    assert lib.T30_SUPPORT_R8_RESOLUTION == spandsp_fax.T30_SUPPORT_R8_RESOLUTION
    assert lib.T30_SUPPORT_US_LEGAL_LENGTH == spandsp_fax.T30_SUPPORT_US_LEGAL_LENGTH
    assert completion_name(0) == "ok" and completion_name(999) == "t30_999"


@pytest.mark.parametrize(("ecm", "modems", "rate"), [(True, ("v17", "v29", "v27ter"), 14400),
                                                     (False, ("v29",), 9600),
                                                     (False, ("v27ter",), 4800)])
def test_send_back_to_back(tmp_path: Path, ecm: bool, modems: tuple, rate: int) -> None:
    page = make_page(tmp_path / "p.tif", 1, lines=600)
    a = FaxTerminal(calling=True, tx_file=page, ident="SENDER", ecm=ecm, modems=modems)
    b = FaxTerminal(calling=False, rx_file=tmp_path / "rx.tif", ident="RECEIVER", ecm=ecm,
                    modems=modems)
    reports = back_to_back(a, b)
    assert a.completion_code == 0 and b.completion_code == 0
    stats = b.stats()
    assert stats["bit_rate"] == rate and bool(stats["ecm"]) is ecm
    assert [r.kind for who, r in reports if who == "a"].count("B") >= 1
    assert a.far_ident == "RECEIVER" and b.far_ident == "SENDER"
    a.close()
    b.close()
    assert sum(compare_pages(read_fax(page), read_fax(tmp_path / "rx.tif"))) == 0


def test_polling_the_called_side(tmp_path: Path) -> None:
    page = make_page(tmp_path / "p.tif", 2, lines=500)
    a = FaxTerminal(calling=True, rx_file=tmp_path / "rx.tif")
    b = FaxTerminal(calling=False, tx_file=page)
    back_to_back(a, b)
    assert a.completion_code == 0
    a.close()
    b.close()
    assert compare_pages(read_fax(page), read_fax(tmp_path / "rx.tif")) == [0]


def test_unreadable_tiff_ends_with_a_file_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.tif"
    bad.write_bytes(b"II*\0garbage")
    a = FaxTerminal(calling=True, tx_file=bad)
    b = FaxTerminal(calling=False, rx_file=tmp_path / "rx.tif")
    back_to_back(a, b, seconds=60)
    assert a.finished
    assert completion_name(a.completion_code) in ("file_error", "bad_tiff", "no_page",
                                                  "bad_tiff_header", "tx_incapable")
    a.close()
    b.close()


def test_bad_settings_are_refused() -> None:
    with pytest.raises(FaxBindingError, match="modems"):
        FaxTerminal(calling=True, modems=("v34",))
    with pytest.raises(FaxBindingError, match="station id"):
        FaxTerminal(calling=True, ident="x" * 21)


def test_close_twice_and_step_after_close(tmp_path: Path) -> None:
    a = FaxTerminal(calling=True)
    a.close()
    a.close()
    with pytest.raises(FaxBindingError, match="closed"):
        a.step(np.zeros(160, np.int16))
