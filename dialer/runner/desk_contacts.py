"""The store's contacts as the desk runner hands them to the engine.

Why a module of its own: the desk adds two things to the plain runner's contacts that
the engine must not know about: a campaign the supervisor paused gives no next contact,
and a claim made outside the engine (a manual dial, a personal callback that came due)
is adopted so the engine can dial it like any other. Both the feed (screen cards of
previews) and the agent's own dials use it.
"""

from __future__ import annotations

from typing import Any

from trunkline.dialer.pacing.contacts import Contact
from trunkline.dialer.runner.campaign_runner import _Contacts
from trunkline.dialer.store import Claim


class DeskContacts(_Contacts):
    """The store's contacts, with campaigns that can be paused and claims made outside
    the engine (manual dials, personal callbacks) handed to it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.paused: set[str] = set()

    def next_contact(self, campaign: str, now: float) -> Contact | None:
        if campaign in self.paused:
            return None
        return super().next_contact(campaign, now)

    def adopt(self, claim: Claim) -> Contact:
        key = str(claim.contact)
        self._claims[key] = claim
        return Contact(key, claim.number, claim.campaign)

    def held(self, contact_id: str) -> Claim | None:
        return self._claims.get(contact_id)
