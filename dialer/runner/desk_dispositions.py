"""Saving what an agent records after a call: dispositions, callbacks, and their SMS.

A disposition with an ``sms`` template (a collections reminder) sends its text, filled
from the contact and the disposition's fields, through the gateway's ``sms.send`` once
the disposition is saved; the message is recorded against the contact (``contact_sms``:
queued with the gateway's id, or failed with the reason it could not go, which never
refuses the disposition) and moved on by the ``sms.sent`` / ``sms.delivered`` /
``sms.failed`` events; at start the messages still open are asked of the gateway
(``sms.status``), so events that came while no runner listened are not lost.

Why a module of its own: a saved disposition may start a message whose life goes on
after the call and after the runner (the gateway reports it later, perhaps to another
runner), so its record and its settling at start belong together, apart from the call
itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from trunkline.dialer.desk.outputs import RecordDisposition, SaveCallback
from trunkline.dialer.desk.sms import compose
from trunkline.dialer.errors import StoreError
from trunkline.dialer.runner.desk_feed import DeskFeed
from trunkline.dialer.runner.gateway import REQUEST_FAILED

#: The gateway events about the SMS a disposition sent.
SMS_EVENTS = ("sms.sent", "sms.delivered", "sms.failed")


class DeskDispositions(DeskFeed):
    """Dispositions, callbacks and the SMS they send (see the module docstring)."""

    def _record_disposition(self, op: RecordDisposition, now: float) -> list[Any]:
        try:
            disposition = self.store.record_disposition(
                campaign=op.campaign, contact=int(op.contact_id), agent=op.agent,
                code=op.code, fields=op.fields, notes=op.notes, at=op.at,
                attempt=op.attempt, automatic=op.automatic)
        except StoreError as err:
            return [self.desk.refuse(op.agent, "save_disposition", str(err))]
        self._disposition_sms(op, disposition, now)
        return []

    def _save_callback(self, op: SaveCallback, now: float) -> list[Any]:
        try:
            callback = self.store.schedule_callback(
                int(op.contact_id), op.due, now=now, agent=op.owner,
                created_by=op.agent, note=op.note or None)
        except StoreError as err:
            return [self.desk.refuse(op.agent, "schedule_callback", str(err))]
        self.store.set_callback_campaign(callback, op.campaign)
        return []

    def _disposition_sms(self, op: RecordDisposition, disposition: int, now: float) -> None:
        """Send the disposition's SMS, if it has one, and record it against the contact:
        queued with the gateway's id, or failed with the reason it could not go. Never
        refuses the disposition (saved already)."""
        campaign = self.desk.campaigns.get(op.campaign)
        if campaign is None:
            return
        try:
            definition = campaign.config.disposition(op.code)
        except ValueError:
            return
        if not definition.sms:
            return
        contact = int(op.contact_id)
        columns, called = self.store.sms_context(contact, op.attempt)
        sms = compose(definition, columns, called, op.fields, home_country=self.home_country)
        assert sms is not None  # the definition has a template
        sms_id: int | None = None
        state, reason = "failed", sms.error
        if not sms.error:
            try:
                reply = self.gateway.sms_send(sms.to, sms.text, group=campaign.config.sms_group,
                                              ref=f"disposition:{disposition}")
                sms_id, state = int(reply["sms"]), "queued"
            except REQUEST_FAILED as err:   # no mobile module, every SIM over its limit...
                reason = f"the gateway refused: {err}"
        record = self.store.add_contact_sms(
            campaign=op.campaign, contact=contact, attempt=op.attempt,
            disposition=disposition, number=sms.to, text=sms.text, sms_id=sms_id,
            state=state, reason=reason, at=now, gateway=self.gateway.name)
        if state == "failed":
            self.log.warning("desk_sms_failed", campaign=op.campaign, contact=contact,
                             record=record, reason=reason)

    def _settle_sms(self, campaigns: Sequence[str], now: float) -> None:
        for sms_id in self.store.open_contact_sms(campaigns, self.gateway.name):
            try:
                status = self.gateway.sms_status(sms_id)
            except REQUEST_FAILED as err:   # not this gateway's message, or its store was reset
                self.log.warning("desk_sms_unknown", sms=sms_id, error=str(err))
                continue
            state = status.get("state")
            if state in ("sent", "delivered", "failed"):
                reason = str(status.get("reason") or "") if state == "failed" else ""
                self.store.update_contact_sms(sms_id, str(state), reason=reason, at=now,
                                              gateway=self.gateway.name)

    def _on_sms_event(self, event: Any, now: float) -> None:
        """``sms.sent`` / ``sms.delivered`` / ``sms.failed`` move the contact's row on."""
        sms_id = event.get("sms")
        if not isinstance(sms_id, int):
            return
        state = str(event["event"]).removeprefix("sms.")
        reason = str(event.get("reason") or "") if state == "failed" else ""
        self.store.update_contact_sms(sms_id, state, reason=reason, at=now,
                                      gateway=self.gateway.name)
