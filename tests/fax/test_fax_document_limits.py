"""Fax documents are checked before they are rendered (issue 15, red-team 7: a 25 KB
PDF with one 200x200-inch page used 4.7 GB; a 200-page PDF 1.5 GB)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from trunkline.gateway.fax.documents import (
    MAX_PAGES,
    DocumentError,
    load_pages,
    prepare,
)


def pdf(path: Path, pages: int, *, inches: float = 11.0) -> Path:
    """A PDF of ``pages`` small images, each page ``inches`` long (Pillow writes the page
    size from the pixels and the resolution)."""
    images = [Image.new("L", (85, 110), 255) for _ in range(pages)]
    images[0].save(path, "PDF", save_all=True, append_images=images[1:],
                   resolution=110 / inches)
    return path


def test_a_huge_pdf_page_is_refused_before_it_is_rendered(tmp_path: Path) -> None:
    bomb = pdf(tmp_path / "bomb.pdf", 1, inches=200)
    assert bomb.stat().st_size < 30_000
    with pytest.raises(DocumentError, match="page 1 is 200 inches long; fax pages are at "
                                            "most 20 inches"):
        prepare(bomb, tmp_path / "out.tif")


def test_too_many_pdf_pages_are_refused(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match=f"{MAX_PAGES + 50} pages; a fax document has "
                                            f"at most {MAX_PAGES}"):
        prepare(pdf(tmp_path / "long.pdf", MAX_PAGES + 50), tmp_path / "out.tif")


def test_a_tiff_too_large_is_refused_from_its_header(tmp_path: Path) -> None:
    big = tmp_path / "big.tif"
    Image.new("1", (10_000, 9_000), 1).save(big, compression="group4")
    with pytest.raises(DocumentError, match="10000x9000 pixels; at most 80,000,000"):
        load_pages(big)


def test_an_ordinary_pdf_still_becomes_fax_pages(tmp_path: Path) -> None:
    doc = prepare(pdf(tmp_path / "letter.pdf", 3), tmp_path / "out.tif")
    assert doc.pages == 3
    pages = load_pages(doc.path)
    assert [p.size[0] for p in pages] == [1728] * 3 and all(p.mode == "1" for p in pages)
