"""Gateway methods for SMS: ``sms.send``, ``sms.status``, ``sms.list``, ``sms.limits``.

``register_sms_methods(service, ...)`` builds the :class:`~trunkline.gateway.sms.desk.SmsDesk`
(the store, the per-SIM limits, the modules' SMS links), restores it after a restart,
polls it on the engine thread every half second of card time, puts the call limits on
the channel picker (``CallGate``) when the card has mobile modules, and declares the
methods on the service's registry with their roles (docs/gateway.md, docs/protocol.md).
Events: ``sms.sent``, ``sms.failed``, ``sms.delivered``, ``sms.received``.

The store is ``$TRUNKLINE_SMS_STORE``, else ``sms.sqlite`` under
``$XDG_STATE_HOME/trunkline`` (``~/.local/state/trunkline``), unless the configuration
names one (``[sms] store``).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import structlog

from trunkline.gateway.rpc.registry import Param, RpcError
from trunkline.gateway.sms.desk import CallGate, SmsDesk, SmsModule, public_row
from trunkline.gateway.sms.limits import LimitExceeded, LimitPolicy, SimLimits
from trunkline.gateway.sms.store import SmsStore, SmsStoreError

log = structlog.get_logger("trunkline.gateway.sms")

__all__ = ["default_store", "register_sms_methods"]


def default_store() -> Path:
    env = os.environ.get("TRUNKLINE_SMS_STORE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_STATE_HOME") or os.path.expanduser("~/.local/state")
    return Path(base) / "trunkline" / "sms.sqlite"


#: Every module that carries SMS is in this group, besides the channel groups that hold
#: its channel.
ALL_MODULES = "mobile"


def card_modules(card: Any, groups: Mapping[str, Sequence[int]]) -> dict[int, SmsModule]:
    """The card's mobile spans as SMS modules by span (``CardABC.sms``): named as the
    card names them, in group ``mobile`` and in each channel group holding their
    channel, the SIM known by the ICCID the module reads."""
    out = {}
    for span in card.spans:
        if span.signalling.value != "mobile":
            continue
        link = card.sms(span.number)
        modem = card.modem(span.number)
        name = str(modem.status().get("name") or f"span{span.number}")
        member = tuple(g for g, chans in groups.items()
                       if g != ALL_MODULES and set(chans) & set(span.channels))

        def identify(modem: Any = modem) -> str | None:
            iccid = modem.status().get("iccid")
            return f"iccid:{iccid}" if iccid else None

        out[span.number] = SmsModule(name, link, name, (ALL_MODULES, *member), identify)
    return out


def limit_error(err: LimitExceeded) -> RpcError:
    """``unavailable``, naming each SIM's limit, with the detail as data."""
    return RpcError("unavailable", str(err), data={
        "group": err.group, "kind": err.kind, "limits": err.reasons, "retry_at": err.retry_at})


def register_sms_methods(service: Any, *, modules: Sequence[SmsModule] | None = None,
                         store: str | Path | SmsStore | None = None,
                         policies: Mapping[str, LimitPolicy] | None = None,
                         wall: Callable[[], float] = time.time) -> SmsDesk:
    """Add the SMS methods to ``service.registry``; returns the desk (also ``service.sms``).

    ``modules`` default to the card's mobile modules (:func:`card_modules`); ``wall`` is
    the time the limits and the store count in (seconds since the epoch)."""
    spans: dict[int, SmsModule] = {}
    if modules is None:
        spans = card_modules(service.card, service.engine.groups)
        modules = list(spans.values())
    if not isinstance(store, SmsStore):
        path = Path(store) if store else default_store()
        try:
            store = SmsStore(path)
        except SmsStoreError as err:
            if modules:
                raise
            # No module can send or receive: a gateway of E1 or analog lines must not
            # fail to start for it. The methods answer from an empty, passing store.
            log.warning("sms_store_unavailable", path=str(path), error=str(err),
                        hint="no mobile modules on this card; SMS is not kept")
            store = SmsStore(":memory:")
    desk = SmsDesk(store, SimLimits(policies or {}), modules, publish=service.engine.publish,
                   wall=wall)
    service.sms = desk
    desk.start()
    engine = service.engine

    def poll() -> bool:
        desk.poll()
        return False

    engine.submit(lambda: engine.every(0.5, poll))
    # Calls on mobile modules go through the same per-SIM limits.
    if spans:
        gate = CallGate(desk, spans, busy=engine.loop.busy)
        engine.picker.gate = gate
        engine.subscribe(gate.on_event)
    r = service.registry

    @r.method("sms.send", role="control", params={
        "to": Param(str, required=True, maximum=24, doc="the recipient's number"),
        "text": Param(str, required=True, minimum=1, maximum=39015,
                      doc="the message; long texts go as concatenated parts"),
        "group": Param(str, doc="a group of modules: the least recently used SIM within "
                                "its limits sends it"),
        "module": Param(str, doc="one module to send from"),
        "report": Param(bool, default=True, doc="ask the network for delivery reports"),
        "ref": Param(str, maximum=200, doc="the caller's reference, kept with the message"),
    })
    async def sms_send(session: Any, to: str, text: str, group: str | None = None,
                       module: str | None = None, report: bool = True,
                       ref: str | None = None) -> dict[str, Any]:
        """Store a message and queue it on a module; events follow (sms.sent, ...)."""
        try:
            return await service.run(lambda: desk.submit(
                to, text, group=group, module=module, report=report, client_ref=ref))
        except LimitExceeded as err:
            raise limit_error(err) from None

    @r.method("sms.status", role="monitor",
              params={"sms": Param(int, required=True, doc="the message id")})
    async def sms_status(session: Any, sms: int) -> dict[str, Any]:
        """One message: its state, reason, parts and their delivery reports."""
        return await asyncio.to_thread(desk.status, sms)

    @r.method("sms.list", role="monitor", params={
        "direction": Param(str, choices=("out", "in")),
        "state": Param(str, choices=("queued", "sending", "sent", "delivered", "failed",
                                     "received")),
        "number": Param(str, doc="messages to or from this number, as stored"),
        "since": Param(float, doc="created at or after (seconds since the epoch)"),
        "limit": Param(int, default=100, minimum=1, maximum=1000),
    })
    async def sms_list(session: Any, direction: str | None = None, state: str | None = None,
                       number: str | None = None, since: float | None = None,
                       limit: int = 100) -> list[dict[str, Any]]:
        """Messages sent and received, newest first."""
        rows = await asyncio.to_thread(desk.store.messages, direction=direction, state=state,
                                       number=number, since=since, limit=limit)
        return [public_row(row) for row in rows]

    @r.method("sms.limits", role="monitor")
    async def sms_limits(session: Any) -> list[dict[str, Any]]:
        """Each module's SIM and its calls and SMS in the last hour and day."""
        return await service.run(desk.limits_report)

    return desk
