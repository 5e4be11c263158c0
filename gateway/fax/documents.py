"""Fax documents: pages to fax resolution (TIFF-F) and received faxes back to PDF.

A G3 fax page is a bilevel image 1728 pixels wide at 204 dpi across and 98 (standard)
or 196 (fine) lines per inch down. :func:`prepare` turns what users have (TIFF, PNG,
JPEG, PDF) into one multi-page TIFF-F file (T.6 / Group 4 compressed) that spandsp sends
as it is; :func:`tiff_to_pdf` writes the PDF placed beside every received TIFF, with the
pages scaled to square pixels so they print at their real size.

A page that already is fax-shaped (1728 pixels wide, bilevel, at 204 dpi across) is
kept pixel for pixel, so what a test sends can be compared bit for bit with what the
far end received. Everything else is scaled (Lanczos) and reduced to black and white
(Floyd-Steinberg dithering, which keeps photos readable and leaves line art as is).

PDF input is rendered by poppler's ``pdftoppm`` (Debian ``poppler-utils``) when it is
installed; without it a PDF is refused with an error saying so. Images go through
Pillow. Files are written to a temporary name in the destination folder and renamed
into place, so a failure (bad input, full disk) never leaves half a document behind and
never replaces a good one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from trunkline.errors import TrunklineError

FAX_WIDTH = 1728
X_DPI = 204
Y_DPI_FINE = 196
Y_DPI_STANDARD = 98
#: Longest page we send (in fine lines): a little over B4 length, as fax machines allow.
MAX_FINE_LINES = 3300
#: Limits checked before anything is rendered (a 25 KB PDF with one 200x200-inch page
#: took 4.7 GB; a 200-page one 1.5 GB): pages in one document, the largest page side of a
#: PDF (A3 is 16.5 in; 20 in leaves room), and pixels in one source image (600 dpi A3 is
#: 70 million).
MAX_PAGES = 100
MAX_PAGE_INCHES = 20.0
MAX_SOURCE_PIXELS = 80_000_000
IMAGE_SUFFIXES = {".tif", ".tiff", ".png", ".jpg", ".jpeg", ".gif", ".bmp", ".pbm", ".pgm",
                  ".ppm", ".webp"}


class DocumentError(TrunklineError, ValueError):
    """A fax document could not be read, converted or written; the message names it."""


@dataclass(frozen=True, slots=True)
class PreparedDocument:
    """A TIFF-F file ready for spandsp, with its page count and vertical resolution."""

    path: Path
    pages: int
    fine: bool


def _pil() -> Any:
    try:
        from PIL import Image
    except ImportError as err:  # pragma: no cover - pillow is a stated dependency
        raise DocumentError("fax documents need Pillow (pip install pillow)") from err
    return Image


def _is_pdf(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            return fh.read(5) == b"%PDF-"
    except OSError as err:
        raise DocumentError(f"{path}: cannot read fax document: {err.strerror}") from err


def _pdf_pages(path: Path) -> int:
    """The PDF's page count, after checking it and every page's size against the limits
    (poppler's pdfinfo reads the page boxes without rendering anything)."""
    tool = shutil.which("pdfinfo")
    if tool is None:
        raise DocumentError(f"{path}: PDF pages need poppler-utils (pdfinfo, pdftoppm), "
                            "which is not installed; send TIFF or PNG pages instead")

    def info(*args: str) -> str:
        proc = subprocess.run([tool, *args, str(path)], capture_output=True, text=True,
                              timeout=60)
        if proc.returncode != 0:
            lines = proc.stderr.strip().splitlines()
            raise DocumentError(f"{path}: not a readable PDF ({lines[-1] if lines else ''})")
        return proc.stdout

    pages = 0
    for line in info().splitlines():
        if line.startswith("Pages:"):
            pages = int(line.split()[1])
    if pages < 1:
        raise DocumentError(f"{path}: the PDF has no pages")
    if pages > MAX_PAGES:
        raise DocumentError(f"{path}: {pages} pages; a fax document has at most {MAX_PAGES}")
    for line in info("-f", "1", "-l", str(pages)).splitlines():
        # "Page    1 size: 612 x 792 pts (letter)"
        if line.startswith("Page") and " size:" in line:
            number = line.split()[1]
            width, _, height = line.split("size:")[1].split()[:3]
            inches = max(float(width), float(height)) / 72
            if inches > MAX_PAGE_INCHES:
                raise DocumentError(f"{path}: page {number} is {inches:.0f} inches long; "
                                    f"fax pages are at most {MAX_PAGE_INCHES:.0f} inches")
    return pages


def _render_pdf(path: Path, fine: bool, work: Path) -> list[Any]:
    """Render one page at a time and keep it only as a fax page (1 bit, 1728 wide): a
    document's memory is its fax pages', not its rendered grey pages'."""
    tool = shutil.which("pdftoppm")
    count = _pdf_pages(path)
    if tool is None:
        raise DocumentError(f"{path}: PDF pages need pdftoppm (Debian poppler-utils), which "
                            "is not installed; send TIFF or PNG pages instead")
    ydpi = Y_DPI_FINE if fine else Y_DPI_STANDARD
    Image = _pil()
    pages = []
    for number in range(1, count + 1):
        out = work / f"page{number}"
        proc = subprocess.run([tool, "-gray", "-rx", str(X_DPI), "-ry", str(ydpi),
                               "-f", str(number), "-l", str(number), "-singlefile",
                               str(path), str(out)], capture_output=True, text=True,
                              timeout=120)
        if proc.returncode != 0:
            msg = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "no output"
            raise DocumentError(f"{path}: not a readable PDF ({msg})")
        rendered = out.with_suffix(".pgm")
        with Image.open(rendered) as img:
            img.load()
            img.info["dpi"] = (X_DPI, ydpi)
            try:
                pages.append(to_fax_page(img, fine=fine))
            except DocumentError as err:
                raise DocumentError(f"page {number}: {err}") from None
        rendered.unlink()
    return pages


def load_pages(path: str | Path, *, fine: bool = True) -> list[Any]:
    """Every page of ``path`` as a Pillow image (PDF through pdftoppm)."""
    path = Path(path)
    if not path.is_file():
        raise DocumentError(f"{path}: no such fax document")
    if _is_pdf(path):
        with tempfile.TemporaryDirectory(prefix="tl-pdf-") as work:
            return _render_pdf(path, fine, Path(work))
    Image = _pil()
    from PIL import ImageSequence, UnidentifiedImageError

    try:
        img = Image.open(path)
        pages = []
        for index, frame in enumerate(ImageSequence.Iterator(img)):
            # Checked from the header, before the pixels are decoded.
            if index >= MAX_PAGES:
                raise DocumentError(f"{path}: more than {MAX_PAGES} pages; a fax document "
                                    f"has at most {MAX_PAGES}")
            if frame.width * frame.height > MAX_SOURCE_PIXELS:
                raise DocumentError(f"{path}: page {index + 1} is {frame.width}x"
                                    f"{frame.height} pixels; at most {MAX_SOURCE_PIXELS:,} "
                                    "pixels a page")
            page = frame.copy()
            page.load()
            page.info.setdefault("dpi", frame.info.get("dpi"))
            pages.append(page)
    except DocumentError:
        raise
    except Image.DecompressionBombError as err:
        raise DocumentError(f"{path}: the image is too large to be a fax page ({err})") \
            from err
    except UnidentifiedImageError as err:
        raise DocumentError(f"{path}: unsupported fax document (not a TIFF, PNG, JPEG or "
                            "PDF file)") from err
    except (OSError, SyntaxError, ValueError) as err:
        raise DocumentError(f"{path}: corrupt fax document ({err})") from err
    if not pages:
        raise DocumentError(f"{path}: the document has no pages")
    return pages


def _dpi(img: Any) -> tuple[float, float]:
    dpi = img.info.get("dpi")
    if not dpi or not dpi[0] or not dpi[1]:
        return (float(X_DPI), float(X_DPI))  # unknown: assume square pixels
    return float(dpi[0]), float(dpi[1])


def to_fax_page(img: Any, *, fine: bool = True) -> Any:
    """One page as a fax page: mode ``"1"``, 1728 wide, at 204 x (196 or 98) dpi."""
    Image = _pil()
    ydpi = Y_DPI_FINE if fine else Y_DPI_STANDARD
    sx, sy = _dpi(img)
    if img.mode == "1" and img.width == FAX_WIDTH and round(sx) in (203, 204, 200) \
            and round(sy) in ((195, 196, 200) if fine else (97, 98, 100)):
        return img.copy()  # already fax-shaped: keep every pixel
    if img.mode in ("RGBA", "LA", "P"):
        background = Image.new("RGB", img.size, "white")
        background.paste(img.convert("RGBA"), mask=img.convert("RGBA").getchannel("A"))
        img = background
    gray = img.convert("L")
    scale = FAX_WIDTH / gray.width
    height = max(1, round(gray.height * scale * (ydpi / X_DPI) * (sx / sy)))
    limit = MAX_FINE_LINES if fine else MAX_FINE_LINES // 2
    if height > limit:
        raise DocumentError(f"page of {img.width}x{img.height} pixels is {height} fax lines "
                            f"long; the longest page sent is {limit} lines")
    gray = gray.resize((FAX_WIDTH, height), Image.Resampling.LANCZOS)
    return gray.convert("1")


def _atomic_target(path: Path) -> Path:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise DocumentError(f"{path.parent}: cannot create the folder: {err.strerror}") from err
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    return Path(tmp)


def _commit(tmp: Path, path: Path) -> None:
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def write_tiff_f(pages: list[Any], path: str | Path, *, fine: bool = True) -> Path:
    """Write fax pages (mode ``"1"``, 1728 wide) as one multi-page T.6 TIFF-F file."""
    path = Path(path)
    if not pages:
        raise DocumentError(f"{path}: no pages to write")
    ydpi = Y_DPI_FINE if fine else Y_DPI_STANDARD
    try:
        tmp = _atomic_target(path)
    except OSError as err:
        raise DocumentError(f"{path}: cannot write the fax document: {err.strerror}") from err
    try:
        pages[0].save(tmp, format="TIFF", save_all=True, append_images=pages[1:],
                      compression="group4", dpi=(X_DPI, ydpi))
        _commit(tmp, path)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise DocumentError(f"{path}: cannot write the fax document: "
                            f"{err.strerror or err}") from err
    return path


def prepare(sources: list[str | Path] | str | Path, out: str | Path, *,
            fine: bool = True) -> PreparedDocument:
    """Convert ``sources`` (files, in order) into one TIFF-F file ``out`` to send."""
    if isinstance(sources, (str, Path)):
        sources = [sources]
    if not sources:
        raise DocumentError("no fax document given")
    pages: list[Any] = []
    for source in sources:
        for page in load_pages(source, fine=fine):
            try:
                pages.append(to_fax_page(page, fine=fine))
            except DocumentError as err:
                raise DocumentError(f"{source}: {err}") from None
    write_tiff_f(pages, out, fine=fine)
    return PreparedDocument(Path(out), len(pages), fine)


def read_fax(path: str | Path) -> list[np.ndarray]:
    """The pages of a fax TIFF as boolean arrays (True = black), for comparisons."""
    pages = load_pages(path)
    out = []
    for page in pages:
        arr = np.asarray(page.convert("1"), dtype=bool)
        out.append(~arr)  # Pillow "1": True is white
    return out


def compare_pages(sent: list[np.ndarray], received: list[np.ndarray]) -> list[int]:
    """Differing pixels per page; a received page may carry a header line on top.

    spandsp prepends the sender's header line (station id, date, page) as extra rows,
    so a received page is compared on its last rows, as tall as the sent page. A page
    missing or of another width counts as all its pixels differing.
    """
    diffs = []
    for i, page in enumerate(sent):
        if i >= len(received) or received[i].shape[1] != page.shape[1] \
                or received[i].shape[0] < page.shape[0]:
            diffs.append(int(page.size))
            continue
        got = received[i][received[i].shape[0] - page.shape[0]:]
        diffs.append(int(np.count_nonzero(got != page)))
    diffs += [int(p.size) for p in received[len(sent):]]
    return diffs


def tiff_to_pdf(tiff: str | Path, pdf: str | Path | None = None) -> Path:
    """Write the PDF of a received fax beside it (or at ``pdf``); returns its path."""
    tiff = Path(tiff)
    pdf = Path(pdf) if pdf is not None else tiff.with_suffix(".pdf")
    Image = _pil()
    pages = []
    for page in load_pages(tiff):
        sx, sy = _dpi(page)
        if abs(sx - sy) > 1:  # print at real size: square the pixels
            height = max(1, round(page.height * sx / sy))
            page = page.convert("L").resize((page.width, height),
                                            Image.Resampling.NEAREST).convert("1")
        pages.append(page)
    tmp = _atomic_target(pdf)
    try:
        pages[0].save(tmp, format="PDF", save_all=True, append_images=pages[1:],
                      resolution=float(_dpi(pages[0])[0]))
        _commit(tmp, pdf)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise DocumentError(f"{pdf}: cannot write the PDF of {tiff.name}: "
                            f"{err.strerror or err}") from err
    return pdf


def page_count(path: str | Path) -> int:
    """Pages in a TIFF (0 for a missing or unreadable file: nothing was received)."""
    try:
        return len(load_pages(path))
    except DocumentError:
        return 0
