"""The emulated network's fax subscriber: a real fax machine (spandsp) on the far side.

Importing this module registers :func:`factory` as ``LIVE_FAR_ENDS["fax"]``, so a call
answered by a ``behaviour = "fax"`` subscriber, over FXO or emulated PRI, is answered by
a live T.30 terminal: it sends CED and DIS as a called fax does, receives what it is
sent into the inbox folder, and, when it has a document for polling and the caller asks
for it, sends that. :func:`caller` makes the other kind: a fax machine that calls *us*
(inbound fax, fax-on-demand), attached to a line with ``port.attach_live``.

Where received files go, and what the subscriber offers for polling, are module
settings (:func:`configure`, or the ``TRUNKLINE_FAX_INBOX`` / ``TRUNKLINE_FAX_DOCUMENT``
environment variables). Every far-end fax is kept in :data:`SESSIONS` (the last 256),
so a test or ``trunkline fax send`` can find the far end's copy and compare pages.

Set ``TRUNKLINE_FAX_FAR_END=prerendered`` (or ``configure(live=False)``) to get the old
behaviour back: the network then plays its prerendered CED and V.21 flags. If the spandsp
binding cannot be built, the factory logs why and the prerendered audio plays as well.
"""

from __future__ import annotations

import itertools
import os
import tempfile
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import structlog

from trunkline.drivers.backends.emulated.farend import LIVE_FAR_ENDS, FarEndPlan
from trunkline.drivers.model import FRAME_SAMPLES

log = structlog.get_logger("trunkline.drivers.backends.emulated.fax")


@dataclass
class _Settings:
    inbox: Path | None = None
    document: Path | None = None
    ecm: bool = True
    ident: str = "EMULATED FAX"
    modems: tuple[str, ...] = ("v17", "v29", "v27ter")
    live: bool = True


_settings = _Settings()
_seq = itertools.count(1)
#: The far-end fax machines of this process, newest last.
SESSIONS: deque[FarEndFax] = deque(maxlen=256)


def configure(*, inbox: str | Path | None = None, document: str | Path | None = None,
              ecm: bool | None = None, ident: str | None = None,
              modems: tuple[str, ...] | None = None, live: bool | None = None) -> None:
    """Set where the fax subscriber stores what it receives and what it sends if polled.

    Only the settings given change. ``document`` is a TIFF-F file (see
    :func:`trunkline.gateway.fax.documents.prepare`); ``ecm`` and ``modems`` are what the far
    machine offers (turn ECM off to test non-ECM transfers).
    """
    if inbox is not None:
        _settings.inbox = Path(inbox)
    if document is not None:
        _settings.document = Path(document)
    if ecm is not None:
        _settings.ecm = ecm
    if ident is not None:
        _settings.ident = ident
    if modems is not None:
        _settings.modems = tuple(modems)
    if live is not None:
        _settings.live = live


def reset() -> None:
    """Back to the defaults (and forget the sessions): for tests."""
    global _settings
    _settings = _Settings()
    SESSIONS.clear()


def inbox() -> Path:
    """The folder received faxes go to (created on first use)."""
    folder = _settings.inbox or (Path(os.environ["TRUNKLINE_FAX_INBOX"])
                                 if os.environ.get("TRUNKLINE_FAX_INBOX") else
                                 Path(tempfile.gettempdir()) / f"trunkline-fax-{os.getuid()}")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _document() -> Path | None:
    if _settings.document is not None:
        return _settings.document
    env = os.environ.get("TRUNKLINE_FAX_DOCUMENT")
    return Path(env) if env else None


class FarEndFax:
    """One fax machine in the network, answering (or calling) frame by frame.

    ``frame`` is the network's :class:`~trunkline.drivers.backends.emulated.network.LiveSource`
    hook. Once T.30 ends the terminal is closed at once, so its TIFF is complete on disk
    before anyone hangs up; after that it sends silence.
    """

    def __init__(self, number: str, *, calling: bool, rx_file: Path | None,
                 tx_file: Path | None, ecm: bool, ident: str, modems: tuple[str, ...],
                 digits: str = "", digits_delay: float = 1.0) -> None:
        from trunkline.drivers.native.spandsp_fax import FaxTerminal

        self.number = number
        self.calling = calling
        self.rx_file = rx_file
        self.tx_file = tx_file
        self.ecm = ecm
        self.completion_code: int | None = None
        self.stats: dict[str, int] = {}
        self.far_ident = ""
        self._terminal: Any = FaxTerminal(calling=calling, rx_file=rx_file, tx_file=tx_file,
                                          ecm=ecm, ident=ident, modems=modems)
        self._prefix = self._dtmf(digits, digits_delay)
        self._pos = 0
        self._silence = np.zeros(FRAME_SAMPLES, dtype=np.int16)
        SESSIONS.append(self)

    @staticmethod
    def _dtmf(digits: str, delay: float) -> np.ndarray:
        """What a fax-on-demand caller keys before pressing Start: a pause, then digits."""
        if not digits:
            return np.zeros(0, np.int16)
        from trunkline.drivers.dsp.tones import dtmf_string

        tones = np.asarray(dtmf_string(digits, 100, 100), dtype=np.float32)
        pause = np.zeros(int(delay * 8000), np.float32)
        tail = np.zeros(int(delay * 8000), np.float32)
        return np.concatenate([pause, tones, tail]).astype(np.int16)

    @property
    def finished(self) -> bool:
        return self.completion_code is not None

    @property
    def ok(self) -> bool:
        return self.completion_code == 0

    def frame(self, heard: np.ndarray) -> np.ndarray:
        if self._pos < self._prefix.size:
            chunk = self._prefix[self._pos:self._pos + FRAME_SAMPLES]
            self._pos += FRAME_SAMPLES
            out = np.zeros(FRAME_SAMPLES, np.int16)
            out[:chunk.size] = chunk
            return out
        term = self._terminal
        if term is None:
            return self._silence
        out = term.step(heard)
        term.reports()
        if term.finished:
            self.completion_code = term.completion_code
            self.stats = term.stats()
            self.far_ident = term.far_ident
            term.close()
            self._terminal = None
            log.info("far_end_fax_finished", number=self.number, code=self.completion_code,
                     pages=self.stats.get("pages_rx") or self.stats.get("pages_tx"),
                     file=str(self.rx_file) if self.rx_file else None)
        return out

    def close(self) -> None:
        """Hang up: free the terminal (its file keeps the pages that arrived)."""
        if self._terminal is not None:
            self._terminal.terminate()
            self.completion_code = self._terminal.completion_code
            self.stats = self._terminal.stats()
            self._terminal.close()
            self._terminal = None

    def __del__(self) -> None:
        try:  # noqa: SIM105 - at interpreter exit contextlib may be gone already
            self.close()
        except Exception:
            pass


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in text).strip("_") or "fax"


def factory(plan: FarEndPlan) -> FarEndFax | None:
    """``LIVE_FAR_ENDS["fax"]``: the live fax machine for a call answered by ``plan``."""
    if not _settings.live or os.environ.get("TRUNKLINE_FAX_FAR_END") == "prerendered":
        return None
    sub = plan.subscriber
    name = _slug(sub.name or sub.pattern)
    rx = inbox() / f"{name}-{os.getpid()}-{next(_seq):04d}.tif"
    try:
        return FarEndFax(name, calling=False, rx_file=rx, tx_file=_document(),
                         ecm=_settings.ecm, ident=_settings.ident, modems=_settings.modems)
    except Exception as err:  # no binding: the prerendered fax tones still answer
        log.warning("far_end_fax_unavailable", error=str(err))
        return None


def caller(document: str | Path | None = None, *, receive: bool = False, digits: str = "",
           ecm: bool | None = None, ident: str = "CALLING FAX") -> FarEndFax:
    """A fax machine that calls us: it sends ``document``, or with ``receive`` it keys
    ``digits`` (fax-on-demand) and then receives what we send, into the inbox."""
    rx = inbox() / f"caller-{os.getpid()}-{next(_seq):04d}.tif" if receive else None
    return FarEndFax("caller", calling=True, rx_file=rx,
                     tx_file=Path(document) if document and not receive else None,
                     ecm=_settings.ecm if ecm is None else ecm, ident=ident,
                     modems=_settings.modems, digits=digits)


LIVE_FAR_ENDS["fax"] = factory
