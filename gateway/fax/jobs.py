"""Fax jobs: broadcast (传真群发) with retries, inbound routing, fax-on-demand.

:class:`BroadcastJob` is the sans-IO core of a broadcast: it holds the destinations,
decides which are due (retry delays, a rate limit in calls per minute, a concurrency
cap), classifies each attempt's result and keeps a report per destination. It reads no
clock; ``now`` comes in. :class:`BroadcastRunner` joins it to a media engine: on the
engine thread, :meth:`BroadcastRunner.poll` places the due calls with a
:class:`~trunkline.gateway.fax.session.FaxSession` waiting for the answer, and the session's
result comes back to the job. The gateway polls runners every half second
(``fax_service``); ``trunkline fax`` and the tests poll between virtual-time ticks.

What is retried (each retry waits ``retry_delay`` seconds, up to ``max_attempts``
attempts in all): ``busy``, ``no_answer``, ``congestion``, a failed negotiation (the
machines never agreed: no DIS, training failed, T1 expired; or a person answered), and a
fax that broke off mid-document (``call_dropped``, page errors). What is not: a number
that does not exist or is unreachable, a document that cannot be read, success.

:class:`InboundFaxRouter` answers offered calls that match a route (called number,
i.e. DNIS, on PRI; channel on analog lines), receives the fax, and delivers the TIFF and
its PDF into a folder, or as an e-mail-ready ``.eml`` message (PDF attached) into a
Maildir-style spool (``tmp/`` then ``new/``) that any MTA or a small script can send.
A route with ``documents`` is a fax-on-demand service: the caller keys a digit (or a
few) and receives the document mapped to it.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any

import structlog

from trunkline.errors import ConfigError, TrunklineError

log = structlog.get_logger("trunkline.gateway.fax.jobs")

#: Call outcomes that will never become a fax however often we dial.
PERMANENT_OUTCOMES = frozenset({"invalid_number", "unreachable", "rejected", "powered_off"})
RETRY_OUTCOMES = frozenset({"busy", "no_answer", "congestion", "not_answered"})


def classify(result: dict[str, Any]) -> tuple[str, bool]:
    """(category, retry?) for one attempt's ``fax.finished`` fields."""
    from trunkline.drivers.native.spandsp_fax import FILE_FAILURES, NEGOTIATION_FAILURES

    name = result.get("result")
    code = result.get("t30_code")
    if name == "ok":
        return "ok", False
    outcome = result.get("call_outcome")
    if code is None:
        if outcome in RETRY_OUTCOMES or name in RETRY_OUTCOMES:
            return str(outcome or name), True
        if outcome in PERMANENT_OUTCOMES or name in PERMANENT_OUTCOMES:
            return str(outcome or name), False
        if name == "error" and result.get("error"):
            return "error", False
        return str(name or "error"), True
    if code in FILE_FAILURES:
        return "document_error", False
    if code in NEGOTIATION_FAILURES:
        return "negotiation_failed", True
    return "failed", True  # broke off during or after a page


@dataclass
class Destination:
    number: str
    status: str = "pending"  # pending | dialing | waiting | sent | failed | cancelled
    attempts: list[dict[str, Any]] = field(default_factory=list)
    next_at: float = 0.0
    call: int | None = None

    def report(self) -> dict[str, Any]:
        last = self.attempts[-1] if self.attempts else {}
        return {"number": self.number, "status": self.status, "attempts": len(self.attempts),
                "result": last.get("category"), "t30_code": last.get("t30_code"),
                "pages": last.get("pages", 0), "rate": last.get("rate", 0),
                "ecm": last.get("ecm"), "history": [
                    {k: a.get(k) for k in ("at", "category", "result", "t30_code", "pages",
                                           "call")} for a in self.attempts]}


class BroadcastJob:
    """A broadcast's state (sans-IO): see the module docstring."""

    def __init__(self, job_id: int, numbers: list[str], document: str | Path, *,
                 max_attempts: int = 3, retry_delay: float = 60.0, rate: float = 10.0,
                 concurrency: int = 2, now: float = 0.0) -> None:
        if not numbers:
            raise ConfigError("a fax broadcast needs at least one number")
        bad = [n for n in numbers if not n or not all(c.isdigit() or c in "*#+" for c in n)]
        if bad:
            raise ConfigError(f"fax broadcast: bad numbers {bad[:5]!r}")
        if max_attempts < 1 or concurrency < 1 or rate <= 0 or retry_delay < 0:
            raise ConfigError(f"fax broadcast: {max_attempts=} and {concurrency=} must be >= 1, "
                              f"{rate=} > 0, {retry_delay=} >= 0")
        self.id = job_id
        self.document = Path(document)
        self.max_attempts = max_attempts
        self.retry_delay = retry_delay
        self.interval = 60.0 / rate
        self.concurrency = concurrency
        self.created = now
        self.destinations = [Destination(n, next_at=now) for n in dict.fromkeys(numbers)]
        self.cancelled = False
        self._last_dial: float | None = None
        #: (time, number) of every call started, for the report and audits.
        self.dial_log: list[tuple[float, str]] = []
        self._lock = threading.Lock()

    @property
    def active(self) -> int:
        return sum(d.status == "dialing" for d in self.destinations)

    @property
    def done(self) -> bool:
        return all(d.status in ("sent", "failed", "cancelled") for d in self.destinations)

    def due(self, now: float) -> list[Destination]:
        """Destinations to dial now (marked ``dialing``), within rate and concurrency."""
        out: list[Destination] = []
        with self._lock:
            if self.cancelled:
                return out
            for d in self.destinations:
                if self.active >= self.concurrency:
                    break
                if d.status not in ("pending", "waiting") or d.next_at > now:
                    continue
                if self._last_dial is not None and now - self._last_dial < self.interval:
                    break
                d.status = "dialing"
                self._last_dial = now
                self.dial_log.append((now, d.number))
                out.append(d)
        return out

    def not_placed(self, dest: Destination, now: float, reason: str) -> None:
        """The call could not be placed (no free channel): try again soon, same attempt."""
        with self._lock:
            dest.status = "waiting"
            dest.next_at = now + 5.0
            log.info("fax_broadcast_deferred", job=self.id, number=dest.number, reason=reason)

    def finished(self, dest: Destination, result: dict[str, Any], now: float) -> None:
        """One attempt ended with ``result`` (the fields of ``fax.finished``)."""
        category, retry = classify(result)
        with self._lock:
            dest.attempts.append({**{k: result.get(k) for k in (
                "result", "t30_code", "pages", "rate", "ecm", "call_outcome", "error")},
                "category": category, "at": round(now, 3), "call": dest.call})
            dest.call = None
            if category == "ok":
                dest.status = "sent"
            elif self.cancelled:
                dest.status = "cancelled"
            elif retry and len(dest.attempts) < self.max_attempts:
                dest.status = "waiting"
                dest.next_at = now + self.retry_delay
            else:
                dest.status = "failed"
        log.info("fax_broadcast_attempt", job=self.id, number=dest.number, result=category,
                 attempt=len(dest.attempts), status=dest.status)

    def cancel(self) -> None:
        with self._lock:
            self.cancelled = True
            for d in self.destinations:
                if d.status in ("pending", "waiting"):
                    d.status = "cancelled"

    def report(self) -> dict[str, Any]:
        rows = [d.report() for d in self.destinations]
        counts: dict[str, int] = {}
        for r in rows:
            counts[r["status"]] = counts.get(r["status"], 0) + 1
        state = "cancelled" if self.cancelled and self.done else \
            "done" if self.done else "running"
        return {"job": self.id, "state": state, "document": str(self.document),
                "counts": counts, "destinations": rows}

    def write_report(self, path: str | Path) -> Path:
        """The report as JSON, written atomically (for the operator and the dialer)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(json.dumps(self.report(), indent=2, ensure_ascii=False))
        os.replace(tmp, path)
        return path


class BroadcastRunner:
    """Places a :class:`BroadcastJob`'s calls on a media engine (engine thread only)."""

    def __init__(self, engine: Any, job: BroadcastJob, *, group: str | None = None,
                 options: Any = None, ring_timeout: float = 45.0,
                 publish: Callable[[dict], None] | None = None,
                 report_path: str | Path | None = None) -> None:
        self.engine = engine
        self.job = job
        self.group = group
        self.options = options
        self.ring_timeout = ring_timeout
        self.publish = publish
        self.report_path = Path(report_path) if report_path else None
        self.sessions: dict[int, Any] = {}
        self._reported = False

    def poll(self) -> None:
        from trunkline.gateway.fax.session import FaxSession
        engine = self.engine
        now = engine.clock.now()
        for dest in self.job.due(now):
            try:
                info = engine.originate(dest.number, group=self.group,
                                        ring_timeout=self.ring_timeout)
            except TrunklineError as err:
                self.job.not_placed(dest, now, str(err))
                continue
            call = engine.calls[info["call"]]
            dest.call = call.id

            def done(result: Any, dest: Destination = dest) -> None:
                self.job.finished(dest, result.to_dict(), self.engine.clock.now())

            session = FaxSession("send", calling=True, document=self.job.document,
                                 options=self.options, call=call, on_result=done,
                                 hangup=_hangup_later(engine, call.id), publish=self.publish)
            engine.attach_processor(call.id, session)
            self.sessions[session.id] = session
        if self.job.done and not self._reported:
            self._reported = True
            if self.report_path is not None:
                self.job.write_report(self.report_path)
            if self.publish is not None:
                report = self.job.report()
                self.publish({"event": "fax.job", "job": self.job.id, "state": report["state"],
                              "counts": report["counts"]})


def _hangup_later(engine: Any, call_id: int) -> Callable[[], None]:
    """Hang up at the end of this tick (never from inside the engine's mixing loop)."""
    def run() -> None:
        with contextlib.suppress(TrunklineError):  # the far end may have cleared first
            engine.hangup(call_id)

    return lambda: engine.submit(run)


# -- inbound --------------------------------------------------------------------------

@dataclass
class InboundRoute:
    """Where an inbound fax goes. Match on ``dnis`` (a number or prefix ending in ``*``)
    and/or ``channel``; deliver to ``folder`` or as ``.eml`` into ``spool``; or, with
    ``documents`` (digits -> TIFF-F file), serve fax-on-demand."""

    name: str
    dnis: str | None = None
    channel: int | None = None
    folder: Path | None = None
    spool: Path | None = None
    email_to: str = "fax@localhost"
    email_from: str = "trunkline@localhost"
    documents: dict[str, Path] = field(default_factory=dict)
    digits: int = 1
    digit_timeout: float = 15.0
    ident: str = ""
    ecm: bool = True

    def __post_init__(self) -> None:
        if self.dnis is None and self.channel is None:
            raise ConfigError(f"fax route {self.name!r} needs a 'dnis' or a 'channel'")
        if not self.documents and self.folder is None and self.spool is None:
            raise ConfigError(f"fax route {self.name!r} needs a 'folder', a 'spool' or "
                              "'documents' (fax-on-demand)")
        for key, doc in self.documents.items():
            if not key or not all(c in "0123456789*#" for c in key):
                raise ConfigError(f"fax route {self.name!r}: bad menu key {key!r}")
            if not Path(doc).is_file():
                raise ConfigError(f"fax route {self.name!r}: document {doc} for key {key} "
                                  "does not exist")

    def matches(self, called: str, channel: int | None) -> bool:
        if self.channel is not None and channel != self.channel:
            return False
        if self.dnis is not None:
            if self.dnis.endswith("*"):
                return called.startswith(self.dnis[:-1])
            return called == self.dnis
        return True


class InboundFaxRouter:
    """Claims matching offered calls and receives (or serves) faxes on them.

    ``on_event`` takes every event the engine publishes (it is called on the engine
    thread); the claim itself runs at the end of the tick through ``engine.submit``.
    """

    def __init__(self, engine: Any, routes: list[InboundRoute], *, work_dir: str | Path,
                 publish: Callable[[dict], None] | None = None) -> None:
        self.engine = engine
        self.routes = list(routes)
        self.work_dir = Path(work_dir)
        self.publish = publish
        self.deliveries: list[dict[str, Any]] = []
        self.sessions: dict[int, Any] = {}
        self._lock = threading.Lock()

    def route_for(self, called: str, channel: int | None) -> InboundRoute | None:
        # A route naming both a DNIS and a channel is the most specific; then the order.
        ranked = sorted(self.routes, key=lambda r: -((r.dnis is not None)
                                                     + (r.channel is not None)))
        return next((r for r in ranked if r.matches(called, channel)), None)

    def on_event(self, event: dict) -> None:
        if event.get("event") != "call.offered":
            return
        route = self.route_for(str(event.get("called") or ""), event.get("channel"))
        if route is None:
            return
        call_id = int(event["call"])
        self.engine.submit(lambda: self._claim(call_id, route, event))

    def _claim(self, call_id: int, route: InboundRoute, offer: dict) -> None:
        try:
            self.engine.answer(call_id)
        except TrunklineError as err:
            log.warning("fax_route_claim_failed", call=call_id, route=route.name,
                        error=str(err))
            return
        log.info("fax_route_claimed", call=call_id, route=route.name,
                 called=offer.get("called"), channel=offer.get("channel"))
        if route.documents:
            future = self.engine.collect_dtmf(call_id, route.digits, route.digit_timeout, "#")
            future.add_done_callback(
                lambda f: self.engine.submit(lambda: self._serve(call_id, route, f.result())))
            return
        from trunkline.gateway.fax.session import FaxOptions, FaxSession

        call = self.engine.calls[call_id]
        stamp = time.strftime("%Y%m%d-%H%M%S")
        rx = self.work_dir / f"{stamp}-call{call_id}.tif"
        session = FaxSession(
            "receive", calling=False, rx_path=rx,
            options=FaxOptions(ident=route.ident, ecm=route.ecm), call=call,
            hangup=_hangup_later(self.engine, call_id), publish=self.publish,
            on_result=lambda r: _deliver_later(self, route, offer, r))
        self.engine.attach_processor(call_id, session)
        self.sessions[session.id] = session

    def _serve(self, call_id: int, route: InboundRoute, collected: dict) -> None:
        """Fax-on-demand: send the document the caller chose, or hang up."""
        from trunkline.gateway.fax.session import FaxOptions, FaxSession
        digits = collected.get("digits", "")
        call = self.engine.calls.get(call_id)
        if call is None:
            return
        document = route.documents.get(digits)
        if document is None:
            log.info("fax_on_demand_no_document", call=call_id, digits=digits,
                     reason=collected.get("reason"))
            self._record({"route": route.name, "call": call_id, "digits": digits,
                          "status": "no_document"})
            with contextlib.suppress(TrunklineError):
                self.engine.hangup(call_id)
            return

        def sent(result: Any) -> None:
            self._record({"route": route.name, "call": call_id, "digits": digits,
                          "document": str(document), "status": "sent" if result.ok
                          else "failed", **result.to_dict()})

        session = FaxSession("send", calling=False, document=document,
                             options=FaxOptions(ident=route.ident, ecm=route.ecm), call=call,
                             hangup=_hangup_later(self.engine, call_id),
                             publish=self.publish, on_result=sent)
        self.engine.attach_processor(call_id, session)
        self.sessions[session.id] = session

    def _record(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self.deliveries.append(entry)
        if self.publish is not None:
            self.publish({"event": "fax.delivered", **{k: v for k, v in entry.items()
                                                       if isinstance(v, (str, int, bool,
                                                                         float, type(None)))}})


def _deliver_later(router: InboundFaxRouter, route: InboundRoute, offer: dict,
                   result: Any) -> None:
    """Deliver on the document thread, queued at the end of the tick: the session's
    ``fax.finished`` (published by the tick, or by the document thread that finished
    the PDF) always goes out before the delivery's ``fax.delivered``."""
    from trunkline.gateway.fax.session import _worker

    router.engine.submit(lambda: _worker().submit(_deliver, router, route, offer, result))


def _deliver(router: InboundFaxRouter, route: InboundRoute, offer: dict, result: Any) -> None:
    """Worker thread: move the received fax to its folder, or spool it as e-mail."""
    entry: dict[str, Any] = {"route": route.name, "call": offer.get("call"),
                             "calling": offer.get("calling"), "called": offer.get("called"),
                             "result": result.result, "pages": result.pages}
    tiff = Path(result.file) if result.file else None
    if tiff is None or not tiff.exists() or result.pages == 0:
        entry["status"] = "nothing_received"
        router._record(entry)
        return
    pdf = Path(result.pdf) if result.pdf else None
    try:
        if route.folder is not None:
            route.folder.mkdir(parents=True, exist_ok=True)
            dst_tiff = route.folder / tiff.name
            shutil.move(str(tiff), dst_tiff)
            tiff = dst_tiff
            if pdf is not None and pdf.exists():
                dst_pdf = route.folder / pdf.name
                shutil.move(str(pdf), dst_pdf)
                pdf = dst_pdf
            entry.update(status="delivered",
                         files=[str(tiff)] + ([str(pdf)] if pdf is not None else []))
        if route.spool is not None:
            eml = write_eml(route, offer, result, pdf, tiff)
            entry.update(status="spooled", eml=str(eml))
    except OSError as err:
        # The fax stays where it was received; the error names both places.
        entry.update(status="delivery_failed", error=f"{err.filename or ''}: {err.strerror}",
                     kept=str(tiff))
        log.error("fax_delivery_failed", route=route.name, file=str(tiff), error=str(err))
    router._record(entry)


def write_eml(route: InboundRoute, offer: dict, result: Any, pdf: Path | None,
              tiff: Path) -> Path:
    """An RFC 5322 message with the fax's PDF attached, into ``spool/new`` (Maildir)."""
    assert route.spool is not None
    msg = EmailMessage()
    calling = offer.get("calling") or "unknown"
    msg["From"] = route.email_from
    msg["To"] = route.email_to
    msg["Subject"] = f"Fax from {calling} ({result.pages} page{'s' if result.pages != 1 else ''})"
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = make_msgid(domain="trunkline")
    msg["X-Trunkline-Fax-Result"] = str(result.result)
    msg.set_content(f"A fax was received.\n\nFrom: {calling}\nTo: {offer.get('called') or ''}\n"
                    f"Channel: {offer.get('channel')}\nPages: {result.pages}\n"
                    f"Rate: {result.rate} bit/s, ECM: {'on' if result.ecm else 'off'}\n"
                    f"Result: {result.result}\nRemote station: {result.far_ident}\n")
    attach = pdf if pdf is not None and pdf.exists() else tiff
    data = attach.read_bytes()
    if attach.suffix == ".pdf":
        msg.add_attachment(data, maintype="application", subtype="pdf", filename=attach.name)
    else:
        msg.add_attachment(data, maintype="image", subtype="tiff", filename=attach.name)
    tmp_dir, new_dir = route.spool / "tmp", route.spool / "new"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    new_dir.mkdir(parents=True, exist_ok=True)
    name = f"{int(time.time())}.{os.getpid()}.{tiff.stem}.eml"
    tmp = tmp_dir / name
    with open(tmp, "wb") as fh:
        fh.write(msg.as_bytes())
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, new_dir / name)
    return new_dir / name
