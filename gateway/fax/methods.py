"""Gateway methods for fax (registered by ``GatewayService``).

``register_fax_methods(service)`` adds ``call.fax_send``, ``call.fax_receive``,
``fax.send`` (dial and send), ``fax.status``, ``fax.list``, ``fax.broadcast``,
``fax.job``, ``fax.job_cancel``, ``fax.route_add``, ``fax.routes``. See docs/fax.md. It
must be called once the service's engine exists (at the end of
``GatewayService.__init__``). The recording methods are in
:mod:`trunkline.gateway.recording.methods`.

Document conversion (PDF or PNG to TIFF-F) runs in a worker thread before the engine is
involved, so a slow or bad document never touches the tick; the engine only attaches the
prepared :class:`~trunkline.gateway.fax.session.FaxSession`. Inbound routing and recording
policies subscribe to the engine's event bus.

Files go under the fax spool (``$TRUNKLINE_FAX_SPOOL``, default
``$XDG_STATE_HOME/trunkline/fax`` or ``~/.local/state/trunkline/fax``): ``outbox/``
(prepared documents), ``inbox/`` (received faxes), ``jobs/`` (broadcast reports).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import uuid
from pathlib import Path
from typing import Any

import structlog

from trunkline.gateway.fax.jobs import (
    BroadcastJob,
    BroadcastRunner,
    InboundFaxRouter,
    InboundRoute,
    _hangup_later,
)
from trunkline.gateway.fax.session import FaxOptions, FaxRecord, FaxSession
from trunkline.gateway.methods import CALL
from trunkline.gateway.rpc.registry import Param, RpcError

log = structlog.get_logger("trunkline.gateway.fax.methods")

FAX_OPTIONS = {
    "ident": Param(str, default="", maximum=20, doc="station id (TSI/CSI)"),
    "header": Param(str, default="", maximum=50, doc="header line on each page sent"),
    "ecm": Param(bool, default=True, doc="offer error correction mode"),
    "modems": Param(list, items=str, default=["v17", "v29", "v27ter"]),
    "fine": Param(bool, default=True, doc="fine resolution (196 lpi); else standard"),
}


def default_spool() -> Path:
    env = os.environ.get("TRUNKLINE_FAX_SPOOL")
    if env:
        return Path(env)
    base = os.environ.get("XDG_STATE_HOME") or os.path.expanduser("~/.local/state")
    return Path(base) / "trunkline" / "fax"


def _options(ident: str, header: str, ecm: bool, modems: list, fine: bool) -> FaxOptions:
    from trunkline.errors import ConfigError

    try:
        return FaxOptions(ident=ident, header=header, ecm=ecm, modems=tuple(modems), fine=fine)
    except ConfigError as err:
        raise RpcError("invalid_params", str(err)) from None


class FaxDesk:
    """The gateway's fax state: sessions, broadcast jobs, inbound routes."""

    def __init__(self, service: Any, spool: Path) -> None:
        self.service = service
        self.engine = service.engine
        self.spool = spool
        self.faxes: dict[int, FaxRecord] = {}
        self.jobs: dict[int, BroadcastRunner] = {}
        self._job_ids = itertools.count(1)
        self.router = InboundFaxRouter(self.engine, [], work_dir=spool / "inbox",
                                       publish=self.engine.publish)
        self.engine.subscribe(self.router.on_event)

    async def prepare(self, files: list[str], fine: bool, *, method: str,
                      param: str = "files") -> tuple[Path, int]:
        """Convert client-named documents (each confined to the fax documents folder,
        gateway/paths.py) into one TIFF-F in the outbox."""
        from trunkline.gateway.fax.documents import DocumentError, prepare

        out = self.spool / "outbox" / f"{uuid.uuid4().hex}.tif"
        root = self.service.paths.fax

        def confined() -> list[str | Path]:
            return [root.file_to_read(f, method=method, param=f"{param}[{i}]")
                    for i, f in enumerate(files)]
        try:
            doc = await asyncio.to_thread(lambda: prepare(confined(), out, fine=fine))
        except DocumentError as err:
            raise RpcError("invalid_params", str(err)) from None
        return doc.path, doc.pages

    def attach(self, session: FaxSession, call_id: int, number: str = "") -> dict:
        """Engine thread: attach ``session`` to the call and remember it."""
        self.engine.attach_processor(call_id, session)
        self.faxes[session.id] = FaxRecord(session, call_id, number)
        if len(self.faxes) > 1000:  # keep the most recent for fax.status
            for key in sorted(self.faxes)[:100]:
                if self.faxes[key].session.result is not None:
                    del self.faxes[key]
        return {"call": call_id, "fax": session.id, "direction": session.direction}

    def start_runner(self, runner: BroadcastRunner) -> None:
        """Poll the broadcast on the engine's thread every half second of card time."""

        def poll() -> bool:
            runner.poll()
            return runner.job.done

        self.engine.submit(lambda: self.engine.every(0.5, poll))


def register_fax_methods(service: Any, *, spool: str | Path | None = None) -> FaxDesk:
    """Add the fax methods to ``service.registry``; returns the desk (also ``service.fax``)."""
    desk = FaxDesk(service, Path(spool) if spool else default_spool())
    service.fax = desk
    r = service.registry
    engine = service.engine

    run = service.run

    @r.method("call.fax_send", role="control", params={
        **CALL, "files": Param(list, items=str, required=True, minimum=1,
                               doc="TIFF, PDF or image files, in page order"),
        **FAX_OPTIONS, "hangup": Param(bool, default=True, doc="hang up when done")})
    async def fax_send(session, call, files, ident="", header="", ecm=True,
                       modems=None, fine=True, hangup=True) -> dict:
        """Send a fax on an answered call (or one being placed: it waits for the answer)."""
        opts = _options(ident, header, ecm, modems or ["v17", "v29", "v27ter"], fine)
        path, pages = await desk.prepare(files, fine, method="call.fax_send")

        def attach() -> dict:
            c = engine.call(call)
            s = FaxSession("send", calling=c.direction == "outbound", document=path,
                           options=opts, call=c, publish=engine.publish,
                           hangup=_hangup_later(engine, call) if hangup else None)
            return {**desk.attach(s, call), "pages": pages, "document": str(path)}
        return await run(attach)

    @r.method("call.fax_receive", role="control", params={
        **CALL, "path": Param(str, doc="TIFF to write (default: the spool's inbox)"),
        **FAX_OPTIONS, "hangup": Param(bool, default=True)})
    async def fax_receive(session, call, path=None, ident="", header="", ecm=True,
                          modems=None, fine=True, hangup=True) -> dict:
        """Receive a fax on the call into a TIFF, with a PDF beside it."""
        opts = _options(ident, header, ecm, modems or ["v17", "v29", "v27ter"], fine)
        await run(lambda: engine.call(call))  # no folder is made for a call that is not
        target = service.paths.fax.file_to_write(
            path, method="call.fax_receive", param="path") if path is not None else \
            desk.spool / "inbox" / f"call{call}-{uuid.uuid4().hex[:8]}.tif"
        await asyncio.to_thread(_check_writable, target)

        def attach() -> dict:
            c = engine.call(call)
            s = FaxSession("receive", calling=c.direction == "outbound", rx_path=target,
                           options=opts, call=c, publish=engine.publish,
                           hangup=_hangup_later(engine, call) if hangup else None)
            return {**desk.attach(s, call), "file": str(target)}
        return await run(attach)

    @r.method("fax.send", role="control", params={
        "number": Param(str, required=True), "files": Param(list, items=str, required=True,
                                                            minimum=1),
        "group": Param(str, doc="channel group (default 'outbound')"),
        "ring_timeout": Param(float, default=60.0, minimum=1, maximum=600), **FAX_OPTIONS})
    async def fax_dial(session, number, files, group=None, ring_timeout=60.0, ident="",
                       header="", ecm=True, modems=None, fine=True) -> dict:
        """Dial ``number`` and send the document when a fax answers."""
        opts = _options(ident, header, ecm, modems or ["v17", "v29", "v27ter"], fine)
        path, pages = await desk.prepare(files, fine, method="fax.send")

        def place() -> dict:
            info = engine.originate(number, group=group, ring_timeout=ring_timeout)
            c = engine.calls[info["call"]]
            s = FaxSession("send", calling=True, document=path, options=opts, call=c,
                           publish=engine.publish, hangup=_hangup_later(engine, c.id))
            return {**desk.attach(s, c.id, number), "pages": pages}
        return await run(place)

    @r.method("fax.status", role="monitor", params={"fax": Param(int, required=True)})
    async def fax_status(session, fax) -> dict:
        """A fax's progress or final result."""
        record = desk.faxes.get(fax)
        if record is None:
            raise RpcError("not_found", f"no fax {fax}")
        return record.info()

    @r.method("fax.list", role="monitor")
    async def fax_list(session) -> list:
        """Recent faxes, newest first."""
        return [desk.faxes[k].info() for k in sorted(desk.faxes, reverse=True)[:200]]

    @r.method("fax.broadcast", role="control", params={
        "numbers": Param(list, items=str, required=True, minimum=1, maximum=100000),
        "files": Param(list, items=str, required=True, minimum=1),
        "group": Param(str), "max_attempts": Param(int, default=3, minimum=1, maximum=20),
        "retry_delay": Param(float, default=120.0, minimum=0, maximum=86400),
        "rate": Param(float, default=10.0, minimum=0.1, maximum=6000,
                      doc="calls started per minute"),
        "concurrency": Param(int, default=2, minimum=1, maximum=480), **FAX_OPTIONS})
    async def broadcast(session, numbers, files, group=None, max_attempts=3,
                        retry_delay=120.0, rate=10.0, concurrency=2, ident="", header="",
                        ecm=True, modems=None, fine=True) -> dict:
        """Send one document to many numbers, with retries and a report per number."""
        from trunkline.errors import ConfigError

        opts = _options(ident, header, ecm, modems or ["v17", "v29", "v27ter"], fine)
        path, pages = await desk.prepare(files, fine, method="fax.broadcast")
        job_id = next(desk._job_ids)
        try:
            job = BroadcastJob(job_id, numbers, path, max_attempts=max_attempts,
                               retry_delay=retry_delay, rate=rate, concurrency=concurrency,
                               now=service.clock.now())
        except ConfigError as err:
            raise RpcError("invalid_params", str(err)) from None
        runner = BroadcastRunner(engine, job, group=group, options=opts,
                                 publish=engine.publish,
                                 report_path=desk.spool / "jobs" / f"job-{job_id}.json")
        desk.jobs[job_id] = runner
        desk.start_runner(runner)
        return {"job": job_id, "destinations": len(job.destinations), "pages": pages}

    @r.method("fax.job", role="monitor", params={"job": Param(int, required=True)})
    async def fax_job(session, job) -> dict:
        """A broadcast's report: state, counts, and each destination's attempts."""
        runner = desk.jobs.get(job)
        if runner is None:
            raise RpcError("not_found", f"no fax job {job}")
        return runner.job.report()

    @r.method("fax.job_cancel", role="control", params={"job": Param(int, required=True)})
    async def fax_job_cancel(session, job) -> dict:
        """Stop dialing new destinations (faxes in progress finish)."""
        runner = desk.jobs.get(job)
        if runner is None:
            raise RpcError("not_found", f"no fax job {job}")
        runner.job.cancel()
        return runner.job.report()

    @r.method("fax.route_add", role="admin", params={
        "name": Param(str, required=True), "dnis": Param(str), "channel": Param(int),
        "folder": Param(str), "spool": Param(str), "email_to": Param(str),
        "documents": Param(dict, default={}, doc="fax-on-demand: digits -> file"),
        "ident": Param(str, default="", maximum=20), "ecm": Param(bool, default=True)})
    async def route_add(session, name, dnis=None, channel=None, folder=None, spool=None,
                        email_to=None, documents=None, ident="", ecm=True) -> dict:
        """Route inbound calls (by DNIS or channel) to fax reception or fax-on-demand."""
        from trunkline.errors import ConfigError

        prepared: dict[str, Path] = {}
        for key, file in (documents or {}).items():
            prepared[str(key)], _ = await desk.prepare([file], True, method="fax.route_add",
                                                       param=f"documents.{key}")
        root = service.paths.fax
        try:
            route = InboundRoute(name, dnis=dnis, channel=channel,
                                 folder=root.folder(folder, method="fax.route_add",
                                                    param="folder") if folder else None,
                                 spool=root.folder(spool, method="fax.route_add",
                                                   param="spool") if spool else None,
                                 email_to=email_to or "fax@localhost", documents=prepared,
                                 ident=ident, ecm=ecm)
        except ConfigError as err:
            raise RpcError("invalid_params", str(err)) from None
        desk.router.routes = [x for x in desk.router.routes if x.name != name] + [route]
        return {"route": name, "routes": len(desk.router.routes)}

    @r.method("fax.routes", role="monitor")
    async def routes(session) -> list:
        """The inbound fax routes."""
        return [{"name": x.name, "dnis": x.dnis, "channel": x.channel,
                 "folder": str(x.folder) if x.folder else None,
                 "spool": str(x.spool) if x.spool else None,
                 "documents": {k: str(v) for k, v in x.documents.items()}}
                for x in desk.router.routes]

    return desk


def _check_writable(target: Path) -> None:
    """Fail before the fax starts if its file cannot be created (folder, disk)."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        probe = target.parent / f".{target.name}.probe"
        with open(probe, "wb") as fh:
            fh.write(b"\0" * 4096)
        probe.unlink()
    except OSError as err:
        raise RpcError("invalid_params", f"cannot receive a fax into {target}: "
                       f"{err.strerror or err}") from None
