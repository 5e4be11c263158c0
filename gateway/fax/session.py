"""A fax on a call: the media processor that runs spandsp's T.30 terminal in the tick.

:class:`FaxSession` is attached to a call with ``engine.attach_processor`` and from then
on owns the call's audio: every 20 ms it hands spandsp the 160 samples the call received
and sends the 160 spandsp made. It works the same on any channel (FXO, PRI, FXS),
because the engine gives it linear audio whatever the line.

Events (published with ``call``, ``span`` and ``channel`` added):

- ``fax.progress``: ``phase`` is ``waiting`` (attached before answer), ``started``
  (answered; T.30 begins), ``negotiated`` (phase B: ``rate``, ``ecm``, ``far_ident``),
  ``page`` (phase D: a page sent or received; ``pages``, ``bad_rows``);
- ``fax.finished``: ``result`` (``ok``, a T.30 failure such as ``tx_phase_b_dead``, or the
  call's outcome when no fax happened: ``busy``, ``no_answer``...), ``t30_code``,
  ``t30_text``, ``pages``, ``rate``, ``ecm``, ``file`` (the TIFF), ``pdf`` (received).

``fax.finished`` is published exactly once, also when the call ends under the fax (then
T.30 is terminated and the result is ``call_dropped`` or what phase E said). A received
document's PDF is written by a worker thread, never in the tick; the session keeps the
line (sending silence) until it is written, then reports and lets go. Pages received
before a failure stay in the TIFF and get their PDF too: nothing received is dropped.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import structlog

from trunkline.drivers.model import FRAME_SAMPLES
from trunkline.gateway.background import worker

log = structlog.get_logger("trunkline.gateway.fax.session")

_ids = itertools.count(1)


def _worker() -> ThreadPoolExecutor:
    """The background thread that writes PDFs (document work never runs in the tick)."""
    return worker("fax-doc")


@dataclass
class FaxOptions:
    """What the local fax machine says and offers."""

    ident: str = ""
    """Station id (TSI/CSI): up to 20 characters, usually the fax number."""
    header: str = ""
    """Header line printed at the top of each page sent (up to 50 characters)."""
    ecm: bool = True
    modems: tuple[str, ...] = ("v17", "v29", "v27ter")
    fine: bool = True
    max_duration: float = 1800.0
    """Seconds after answer after which the fax is abandoned (T.30 terminated)."""
    linger: float = 0.4
    """Seconds of silence kept after T.30 ends before letting go of the call."""

    def __post_init__(self) -> None:
        from trunkline.errors import ConfigError

        if len(self.ident) > 20 or not self.ident.isascii():
            raise ConfigError(f"fax ident {self.ident!r} must be at most 20 ASCII characters")
        if len(self.header) > 50 or not self.header.isascii():
            raise ConfigError(f"fax header {self.header!r} must be at most 50 ASCII characters")
        bad = [m for m in self.modems if m not in ("v17", "v29", "v27ter")]
        if bad or not self.modems:
            raise ConfigError(f"fax modems {list(self.modems)!r}: choose from v17, v29, v27ter")


@dataclass
class FaxResult:
    """The end of one fax: what happened, as reported in ``fax.finished``."""

    fax: int
    direction: str
    result: str
    t30_code: int | None
    t30_text: str
    pages: int
    rate: int
    ecm: bool
    file: str | None
    pdf: str | None = None
    far_ident: str = ""
    call_outcome: str | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.result == "ok"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Progress:
    rate: int = 0
    ecm: bool = False
    pages: int = 0
    far_ident: str = ""


class FaxSession:
    """Send or receive a fax on one call (a media processor: see
    :class:`~trunkline.gateway.media.engine.MediaProcessor`).

    ``direction`` is ``"send"`` (give ``document``, a TIFF-F file from
    :func:`trunkline.gateway.fax.documents.prepare`) or ``"receive"`` (give ``rx_path``, the
    TIFF to write; the PDF goes beside it). ``calling`` is True when we placed the call.
    With ``call`` (the engine's Call), the session may be attached before the answer: it
    waits silently until the call is answered, and if the call ends unanswered its result
    is the call's outcome (``busy``, ``no_answer``...), which is how fax jobs learn why a
    destination failed. ``hangup`` is called (on the engine thread) once the fax is over;
    ``publish`` carries ``fax.finished`` when the call ended first and the engine has
    already let the session go. ``future`` resolves to the :class:`FaxResult`.
    """

    def __init__(self, direction: str, *, calling: bool, document: str | Path | None = None,
                 rx_path: str | Path | None = None, options: FaxOptions | None = None,
                 call: Any = None, hangup: Callable[[], None] | None = None,
                 publish: Callable[[dict], None] | None = None,
                 on_result: Callable[[FaxResult], None] | None = None) -> None:
        from trunkline.errors import ConfigError

        if direction not in ("send", "receive"):
            raise ConfigError(f"fax direction must be 'send' or 'receive', not {direction!r}")
        if direction == "send" and not document:
            raise ConfigError("sending a fax needs a document")
        if direction == "receive" and not rx_path:
            raise ConfigError("receiving a fax needs a file to receive into")
        self.id = next(_ids)
        self.direction = direction
        self.calling = calling
        self.document = Path(document) if document else None
        self.rx_path = Path(rx_path) if rx_path else None
        self.options = options or FaxOptions()
        self.call = call
        self._hangup = hangup
        self._publish = publish
        self._on_result = on_result
        self.future: Future[FaxResult] = Future()
        self._terminal: Any = None
        self._started_at: float | None = None
        self._ended_at: float | None = None
        self._progress = _Progress()
        self._negotiated = False
        self._finishing: Future | None = None
        self._result: FaxResult | None = None
        self._reported = False
        self._done = False
        self._closed = False
        self._silence = np.zeros(FRAME_SAMPLES, dtype=np.float32)
        self._waiting_sent = False
        self._lock = threading.Lock()

    # -- MediaProcessor ---------------------------------------------------------------
    @property
    def done(self) -> bool:
        return self._done

    def process(self, received: np.ndarray, now: float) -> tuple[np.ndarray | None, list[dict]]:
        events: list[dict] = []
        if self._done:
            return None, events
        if self._terminal is None and self._result is None:
            if self.call is not None and getattr(self.call, "answered_at", 0) is None:
                if not self._waiting_sent:
                    self._waiting_sent = True
                    events.append(self._event("fax.progress", phase="waiting"))
                return None, events
            events += self._start(now)
            if self._result is not None:  # the terminal could not start
                return None, events + self._maybe_finish(now)
        if self._terminal is not None:
            out = self._terminal.step(received)
            events += self._reports()
            if self._terminal.finished:
                self._conclude(now)
            elif self._started_at is not None and \
                    now - self._started_at >= self.options.max_duration:
                log.warning("fax_max_duration", fax=self.id, seconds=self.options.max_duration)
                self._terminal.terminate()
                events += self._reports()
                self._conclude(now, error="maximum fax duration reached")
            return out.astype(np.float32), events + self._maybe_finish(now)
        return self._silence, events + self._maybe_finish(now)

    def close(self) -> None:
        """The engine let go of the session (done, or the call ended)."""
        if self._closed:
            return
        self._closed = True
        if self._result is None:
            if self._terminal is not None:
                self._terminal.terminate()
                self._reports()
                self._conclude(None, dropped=True)
            else:
                outcome = getattr(self.call, "outcome", None) if self.call is not None else None
                self._result = self._make_result("not_answered" if outcome in (None, "human")
                                                 else outcome, None, call_outcome=outcome)
                self._finishing = None
        if self._finishing is not None and not self._finishing.done():
            self._finishing.add_done_callback(lambda _f: self._report_late())
        else:
            self._report_late()

    # -- internals ---------------------------------------------------------------------
    def _event(self, name: str, **fields: Any) -> dict:
        return {"event": name, "fax": self.id, "direction": self.direction, **fields}

    def _start(self, now: float) -> list[dict]:
        from trunkline.drivers.native.spandsp_fax import FaxTerminal
        from trunkline.errors import TrunklineError

        try:
            if self.rx_path is not None:
                self.rx_path.parent.mkdir(parents=True, exist_ok=True)
            self._terminal = FaxTerminal(
                calling=self.calling,
                tx_file=self.document if self.direction == "send" else None,
                rx_file=self.rx_path if self.direction == "receive" else None,
                ident=self.options.ident, header=self.options.header, ecm=self.options.ecm,
                modems=tuple(self.options.modems), fine=self.options.fine)
        except (TrunklineError, OSError) as err:
            log.error("fax_start_failed", fax=self.id, error=str(err))
            self._result = self._make_result("error", None, error=str(err))
            self._ended_at = now
            return []
        self._started_at = now
        return [self._event("fax.progress", phase="started", calling=self.calling,
                            ecm_offered=self.options.ecm)]

    def _reports(self) -> list[dict]:
        events = []
        term = self._terminal
        for report in term.reports():
            stats = term.stats()
            p = self._progress
            if report.kind == "B":
                self._negotiated = True
            if self._negotiated:  # before phase B spandsp reports its defaults
                p.rate = stats.get("bit_rate", p.rate) or p.rate
                p.ecm = bool(stats.get("ecm", p.ecm))
            p.pages = stats["pages_tx"] if self.direction == "send" else stats["pages_rx"]
            if report.kind == "B":
                p.far_ident = term.far_ident
                events.append(self._event("fax.progress", phase="negotiated", rate=p.rate,
                                          ecm=p.ecm, pages=p.pages, far_ident=p.far_ident))
            elif report.kind == "D":
                events.append(self._event("fax.progress", phase="page", rate=p.rate,
                                          ecm=p.ecm, pages=p.pages,
                                          bad_rows=stats.get("bad_rows", 0)))
        return events

    def _conclude(self, now: float | None, *, error: str | None = None,
                  dropped: bool = False) -> None:
        """T.30 ended: free the terminal (closing its files), then finish the documents."""
        from trunkline.drivers.native.spandsp_fax import completion_name

        term = self._terminal
        code = term.completion_code if term is not None else None
        if code is None:
            code = 49 if dropped else None  # T30_ERR_CALLDROPPED
        if term is not None:
            self._progress.far_ident = term.far_ident or self._progress.far_ident
            term.close()
            self._terminal = None
        result = "error" if code is None else completion_name(code)
        if error and result == "ok":
            result = "error"
        self._result = self._make_result(result, code, error=error)
        self._ended_at = now
        if self.direction == "receive" and self.rx_path is not None:
            self._finishing = _worker().submit(self._finish_received)

    def _finish_received(self) -> None:
        """Worker thread: count the received pages and write the PDF beside the TIFF."""
        from trunkline.gateway.fax.documents import DocumentError, page_count, tiff_to_pdf

        assert self._result is not None and self.rx_path is not None
        if not self.rx_path.exists():
            self._result.file = None
            return
        pages = page_count(self.rx_path)
        self._result.pages = max(self._result.pages, pages)
        if pages == 0:
            return
        try:
            self._result.pdf = str(tiff_to_pdf(self.rx_path))
        except DocumentError as err:
            log.error("fax_pdf_failed", fax=self.id, error=str(err))
            self._result.error = str(err)

    def _make_result(self, result: str, code: int | None, *, error: str | None = None,
                     call_outcome: str | None = None) -> FaxResult:
        from trunkline.drivers.native.spandsp_fax import completion_name

        p = self._progress
        file = str(self.rx_path if self.direction == "receive" else self.document)
        return FaxResult(self.id, self.direction, result, code,
                         completion_name(code) if code is not None else "", p.pages, p.rate,
                         p.ecm, file, None, p.far_ident, call_outcome, error)

    def _maybe_finish(self, now: float) -> list[dict]:
        """Publish fax.finished (once) when the documents are written and linger is over."""
        if self._result is None or self._done:
            return []
        if self._finishing is not None and not self._finishing.done():
            return []
        if self._ended_at is not None and now - self._ended_at < self.options.linger:
            return []
        self._done = True
        events = self._final_events()
        if self._hangup is not None:
            try:
                self._hangup()
            except Exception:  # the call may already be gone
                log.debug("fax_hangup_failed", fax=self.id)
        return events

    def _final_events(self) -> list[dict]:
        with self._lock:
            if self._reported:
                return []
            self._reported = True
        result = self._result
        assert result is not None
        log.info("fax_finished", **{k: v for k, v in result.to_dict().items() if k != "fax"},
                 fax=self.id)
        if not self.future.done():
            self.future.set_result(result)
        if self._on_result is not None:
            try:
                self._on_result(result)
            except Exception:
                log.exception("fax_result_handler_failed", fax=self.id)
        return [self._event("fax.finished", **{k: v for k, v in result.to_dict().items()
                                               if k not in ("fax", "direction")})]

    def _report_late(self) -> None:
        events = self._final_events()
        if events and self._publish is not None and self.call is not None:
            base = {"call": self.call.id, "span": self.call.span, "channel": self.call.channel}
            for event in events:
                self._publish({**event, **base})

    @property
    def result(self) -> FaxResult | None:
        """The result once ``fax.finished`` has been reported, else None."""
        return self._result if self._reported else None


@dataclass
class FaxRecord:
    """The gateway's memory of a fax for ``fax.status``: the session and its call."""

    session: FaxSession
    call: int
    number: str = ""
    extra: dict = field(default_factory=dict)

    def info(self) -> dict[str, Any]:
        s = self.session
        out: dict[str, Any] = {"fax": s.id, "call": self.call, "direction": s.direction,
                               "number": self.number, "state": "finished" if s.result
                               else "running"}
        if s.result is not None:
            out.update(s.result.to_dict())
        else:
            out.update({"pages": s._progress.pages, "rate": s._progress.rate,
                        "ecm": s._progress.ecm})
        return {**out, **self.extra}
