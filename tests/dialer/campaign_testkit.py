"""Helpers for the campaign and store tests (a unique module name: never import from
conftest; tests/dialer/conftest.py puts this folder on sys.path)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from trunkline.dialer.campaigns.strategies import Strategy, Windows
from trunkline.dialer.store import NewContact, Store

SHANGHAI = ZoneInfo("Asia/Shanghai")
#: Wednesday 2025-06-04 10:00 in Shanghai: inside the default 09:00-21:00 window.
T0 = datetime(2025, 6, 4, 10, 0, tzinfo=SHANGHAI).timestamp()

ALWAYS = Windows.from_dict({"default": ["00:00-24:00"]})


def at(*args: int, tz: str = "Asia/Shanghai") -> float:
    """Epoch seconds of a local wall-clock time."""
    return datetime(*args, tzinfo=ZoneInfo(tz)).timestamp()


def mobile(i: int) -> str:
    return f"+86138{i:08d}"


def open_store(path: Path | str = ":memory:", *, campaign: str = "sales",
               strategy: Strategy | None = None, contacts: int = 0) -> Store:
    store = Store(path)
    store.create_campaign(campaign, strategy or Strategy(windows=ALWAYS), now=T0)
    if contacts:
        store.add_list(campaign, "seed", [NewContact(mobile(i), {"name": f"c{i}"}, line=i + 2)
                                          for i in range(contacts)], now=T0)
    return store


def finished_call(store: Store, ended: float, *, agent: str | None = None,
                  talk: float | None = None, wrap: float | None = None,
                  outcome: str = "human", campaign: str = "sales",
                  window: int | None = None) -> int:
    """One finished call of the next due contact, as the runner records it: claimed 30 s
    before its talk began, dialled a second later; returns the attempt."""
    claimed = ended - (talk or 0.0) - 30.0
    claim = store.claim_next(campaign, claimed)
    assert claim is not None, "the test store ran out of contacts"
    assert store.mark_dialing(claim.attempt, claimed + 1.0, agent=agent)
    store.record_outcome(claim.attempt, outcome, ended, agent=agent, talk=talk, wrap=wrap,
                         window=window)
    return claim.attempt
