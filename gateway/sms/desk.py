"""The gateway's SMS desk: the store, the per-SIM limits and the modules' SMS links joined.

:meth:`SmsDesk.submit` admits a message (checks the number and text, counts its parts,
picks a module of the group through the limits, stores it with the grant) and
:meth:`SmsDesk.poll`, run on the engine thread every half second, hands stored messages
to their module one at a time, and turns what the links report into the store's rows and
the wire events ``sms.sent``, ``sms.failed``, ``sms.delivered``, ``sms.received``
(docs/protocol.md). Both run on the engine thread (the RPC methods go through
``service.run``), so they never race.

Time for the limits and the store is wall time (seconds since the epoch, ``wall``):
counters must mean the same after a restart, which the card's clock (virtual in tests,
restarting at zero) would not.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import structlog

from trunkline.drivers.sms import SmsDelivery, SmsFailed, SmsLink, SmsReceived, SmsSent, split_text
from trunkline.errors import InvalidRequest, NotFound
from trunkline.gateway.sms.limits import DAY, LimitExceeded, SimLimits
from trunkline.gateway.sms.store import SmsStore, SmsStoreError

log = structlog.get_logger("trunkline.gateway.sms")

__all__ = ["CallGate", "LimitExceeded", "SmsDesk", "SmsModule", "public_row"]

_NUMBER = re.compile(r"^\+?[0-9*#]{1,20}$")


@dataclass(frozen=True)
class SmsModule:
    """A module that carries SMS: its name, its link, the SIM's identity and the groups
    it belongs to. The SIM is what ``identify`` says now (the ICCID once the module has
    read it), else ``sim``, else the module's name: limits follow the SIM."""

    name: str
    link: SmsLink
    sim: str = ""
    groups: tuple[str, ...] = ()
    identify: Callable[[], str | None] | None = None

    @property
    def current_sim(self) -> str:
        found = self.identify() if self.identify is not None else None
        return found or self.sim or self.name


class SmsDesk:
    """See the module docstring."""

    def __init__(self, store: SmsStore, limits: SimLimits, modules: Sequence[SmsModule], *,
                 publish: Callable[[dict[str, Any]], None],
                 wall: Callable[[], float] = time.time) -> None:
        self.store = store
        self.limits = limits
        self.modules = {m.name: m for m in modules}
        self.publish = publish
        self.wall = wall
        self._in_flight: dict[str, int] = {}

    def add_module(self, module: SmsModule) -> None:
        """A module that carries SMS (at start, or when one is plugged in); its queued
        messages go out once its link is ready."""
        self.modules[module.name] = module

    @property
    def groups(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for m in self.modules.values():
            for g in m.groups:
                out.setdefault(g, []).append(m.name)
        return out

    def start(self) -> None:
        """After the gateway starts: restore the limits, settle what a crash cut off."""
        now = self.wall()
        for sim, end in self.limits.restore(self.store.grants(now - DAY),
                                            self.store.call_ends(), now):
            self.store.call_ended(sim, end)
        _queued, interrupted = self.store.recover(now)
        for message in interrupted:
            row = self.store.get(message) or {}
            self._publish_failed(row, uncertain=True)

    # -- admitting --------------------------------------------------------------------
    def submit(self, number: str, text: str, *, group: str | None = None,
               module: str | None = None, report: bool = True,
               client_ref: str | None = None) -> dict[str, Any]:
        """Admit and store one message; raises InvalidRequest, NotFound or
        LimitExceeded (naming each SIM's limit)."""
        number = number.strip()
        if not _NUMBER.match(number):
            raise InvalidRequest(f"sms.send: {number!r} is not a number (digits, * or #, "
                                 "at most 20, + first for international)")
        if not text:
            raise InvalidRequest("sms.send: the text is empty")
        try:
            encoding, parts = split_text(text)
        except ValueError as err:
            raise InvalidRequest(f"sms.send: {err}") from None
        if module is not None:
            m = self.modules.get(module)
            if m is None:
                raise NotFound(f"no SMS module {module!r} (modules: "
                               f"{', '.join(sorted(self.modules)) or 'none'})")
            candidates = [m]
            policy_group = group or next(
                (g for g in m.groups if g in self.limits.policies), m.groups[0] if m.groups
                else module)
        elif group is not None:
            names = self.groups.get(group)
            if not names:
                raise NotFound(f"no SMS module in group {group!r} (groups: "
                               f"{', '.join(sorted(self.groups)) or 'none'})")
            candidates = [self.modules[n] for n in names]
            policy_group = group
        else:
            raise InvalidRequest("sms.send: give a group or a module to send from")
        # Modules ready now go first; a group of none ready still queues on one.
        ready = [m for m in candidates if m.link.ready] or candidates
        now = self.wall()
        grant = self.limits.acquire(policy_group, "sms", [(m.name, m.current_sim)
                                                          for m in ready],
                                    now, len(parts))
        try:
            message = self.store.add_outgoing(
                number=number, text=text, group=policy_group, grant=grant,
                parts=len(parts), encoding=encoding, report=report, now=now,
                client_ref=client_ref)
        except SmsStoreError:
            # Not stored, so not counted: give the grant back by restoring from the store.
            self.limits = SimLimits(self.limits.policies)
            self.limits.restore(self.store.grants(now - DAY), self.store.call_ends(), now)
            raise
        log.info("sms_queued", sms=message, module=grant.module, parts=len(parts))
        return {"sms": message, "module": grant.module, "sim": grant.sim,
                "parts": len(parts), "encoding": encoding, "state": "queued"}

    # -- the engine's half-second --------------------------------------------------------
    def poll(self) -> None:
        """Take every link's events, then hand each idle module its next message."""
        for m in self.modules.values():
            while (event := m.link.receive()) is not None:
                try:
                    self._on_event(m, event)
                except SmsStoreError as err:
                    # Not acknowledged: the module keeps the message; it comes again.
                    log.error("sms_store_failed", module=m.name, error=str(err))
        for m in self.modules.values():
            if m.name in self._in_flight or not m.link.ready:
                continue
            try:
                queued = self.store.queued(m.name)
                if not queued:
                    continue
                row = queued[0]
                self.store.mark_sending(row["id"])
            except SmsStoreError as err:
                # Nothing handed over: the message stays queued for the next poll.
                log.error("sms_store_failed", module=m.name, error=str(err))
                continue
            self._in_flight[m.name] = row["id"]
            m.link.send(str(row["id"]), row["number"], row["text"], report=bool(row["report"]))

    def _on_event(self, m: SmsModule, event: object) -> None:
        now = self.wall()
        if isinstance(event, SmsReceived):
            stamp = event.timestamp.isoformat() if event.timestamp else None
            message = self.store.add_incoming(
                module=m.name, sim=m.current_sim, sender=event.sender, text=event.text,
                receipt=event.receipt, parts=event.parts, encoding=event.encoding,
                note=event.note, service_time=stamp, smsc=event.smsc, missing=event.missing,
                now=now)
            m.link.acknowledge(event.receipt)
            if message is not None:
                self.publish({"event": "sms.received", "sms": message, "number": event.sender,
                              "text": event.text, "module": m.name, "parts": event.parts,
                              "missing": list(event.missing), "note": event.note,
                              "service_time": stamp})
            return
        if isinstance(event, SmsSent):
            message = int(event.message)
            self._in_flight.pop(m.name, None)
            self.store.mark_sent(message, event.references, now)
            row = self.store.get(message) or {}
            self.publish({"event": "sms.sent", "sms": message, "number": row.get("number"),
                          "module": m.name, "parts": len(event.references),
                          "references": list(event.references)})
            return
        if isinstance(event, SmsFailed):
            message = int(event.message)
            self._in_flight.pop(m.name, None)
            reason = event.reason
            if event.uncertain:
                reason += "; the module may have sent it: not sent again"
            self.store.mark_failed(message, reason, now, code=event.code)
            self._publish_failed(self.store.get(message) or {}, uncertain=event.uncertain)
            return
        if isinstance(event, SmsDelivery):
            report = self.store.report(m.name, event.reference, event.recipient,
                                       event.outcome, event.status, event.reason, now)
            if event.receipt:
                m.link.acknowledge(event.receipt)
            if report is None:
                log.info("sms_report_unmatched", module=m.name, reference=event.reference,
                         recipient=event.recipient, outcome=event.outcome)
                return
            if report["changed"] and report["state"] == "delivered":
                self.publish({"event": "sms.delivered", "sms": report["id"],
                              "number": report["number"], "module": m.name,
                              "parts": report["parts"]})
            elif report["changed"] and report["state"] == "failed":
                self._publish_failed(report, uncertain=False)

    def _publish_failed(self, row: Mapping[str, Any], *, uncertain: bool) -> None:
        self.publish({"event": "sms.failed", "sms": row.get("id"), "number": row.get("number"),
                      "module": row.get("module"), "reason": row.get("reason"),
                      "code": row.get("code"), "uncertain": uncertain})

    # -- reading ------------------------------------------------------------------------
    def status(self, message: int) -> dict[str, Any]:
        row = self.store.get(message)
        if row is None:
            raise NotFound(f"no SMS {message}")
        return public_row(row)

    def limits_report(self) -> list[dict[str, Any]]:
        now = self.wall()
        out = []
        for m in self.modules.values():
            sim = m.current_sim
            out.append({"module": m.name, "sim": sim, "groups": list(m.groups),
                        "ready": m.link.ready, **self.limits.snapshot(sim, now)})
        return out


def public_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """A message row as the wire shows it."""
    out = {"sms": row["id"], "direction": row["direction"], "number": row["number"],
           "text": row["text"], "state": row["state"], "group": row["grp"],
           "module": row["module"], "parts": row["parts"], "encoding": row["encoding"],
           "created": row["created"], "sent": row["sent"], "finished": row["finished"],
           "reason": row["reason"], "code": row["code"], "note": row["note"],
           "ref": row["client_ref"]}
    if row["direction"] == "in":
        out["service_time"] = row["service_time"]
        out["missing"] = [] if not row["missing"] else json.loads(row["missing"])
    if "part_reports" in row:
        out["part_reports"] = row["part_reports"]
    return out



class CallGate:
    """The per-SIM call limits at the channel picker (``ChannelPicker.gate``).

    The picker hands it the free ``(span, channel)`` candidates of a call in its order.
    A first candidate that is not a mobile module is taken as it is (E1, analog lines:
    no SIM). Otherwise the mobile candidates go through :meth:`SimLimits.acquire` (the
    least recently used SIM within every limit of the group's policy, or of the first of
    the module's groups that has one); when none may call, the first other candidate is
    taken, or the call is refused with :class:`LimitExceeded` naming each SIM's limit.
    A call's end (``call.state`` ``hungup`` on the bus) starts its SIM's rest.
    """

    def __init__(self, desk: SmsDesk, spans: Mapping[int, SmsModule], *,
                 busy: Callable[[int], bool]) -> None:
        self.desk = desk
        self.spans = dict(spans)
        self.busy = busy
        self._calls: dict[int, tuple[str, int | None]] = {}  # span -> (sim, channel)

    def choose(self, group: str | None, free: Sequence[tuple[int, int | None]]
               ) -> tuple[int, int | None]:
        self._sweep()
        if not free:
            raise ValueError("no candidates")
        if free[0][0] not in self.spans:
            return free[0]
        mobile = [c for c in free if c[0] in self.spans]
        first = self.spans[mobile[0][0]]
        policies = self.desk.limits.policies
        policy_group = group if group in policies else next(
            (g for g in first.groups if g in policies), group or first.name)
        now = self.desk.wall()
        by_name = {self.spans[s].name: (s, ch) for s, ch in mobile}
        try:
            grant = self.desk.limits.acquire(
                policy_group, "call", [(self.spans[s].name, self.spans[s].current_sim)
                                       for s, _ in mobile], now)
        except LimitExceeded:
            others = [c for c in free if c[0] not in self.spans]
            if others:
                return others[0]
            raise
        self.desk.store.add_grant(grant)
        span, channel = by_name[grant.module]
        self._calls[span] = (grant.sim, channel)
        return span, channel

    def on_event(self, event: Mapping[str, Any]) -> None:
        """Engine bus listener: a mobile call's end starts its SIM's rest."""
        if event.get("event") != "call.state" or event.get("state") != "hungup":
            return
        span = event.get("span")
        if isinstance(span, int) and span in self._calls:
            self._ended(span)

    def _ended(self, span: int) -> None:
        sim, _ = self._calls.pop(span)
        now = self.desk.wall()
        self.desk.limits.call_ended(sim, now)
        self.desk.store.call_ended(sim, now)

    def _sweep(self) -> None:
        """A call admitted but never placed (its start failed) published no end: its
        channel is idle, so it ended."""
        for span, (_, channel) in list(self._calls.items()):
            if channel is not None and not self.busy(channel):
                self._ended(span)
