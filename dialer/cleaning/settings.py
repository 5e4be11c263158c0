"""A cleaning campaign: an ordinary campaign whose config says ``{"type": "cleaning",
"cleaning": {...}}``; its settings, checks that a campaign is (or is not) one, and
creating one from the contacts of the campaign to be cleaned."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from trunkline.dialer.campaigns.bounds import CLEANING, check_bounds
from trunkline.dialer.campaigns.strategies import Strategy
from trunkline.dialer.store import Store
from trunkline.errors import ConfigError

#: At most this many lines by default (one E1's worth): the rest of the group is left to
#: the campaigns running beside the cleaning.
MAX_CONCURRENCY = 30
#: Call attempts per trunk in any minute, by default: what ``rate``'s default (1 a second)
#: places, so raising ``rate`` (or running with many lines) never bursts one trunk.
TRUNK_PER_MINUTE = 60


@dataclass(frozen=True, slots=True)
class CleaningSettings:
    """A cleaning campaign's settings (its config's ``cleaning`` table).

    ``concurrency``: lines kept busy (None: the group's channels, at most
    :data:`MAX_CONCURRENCY`); ``rate``: new calls per second at most; ``retries``: more
    tries for a number whose calls said nothing decisive; ``retry_after``: seconds before
    such a try; ``listen``: seconds a call may go on with nothing decisive; ``sit_wait``:
    seconds after a SIT to wait for the announcement or the cause that says more;
    ``trunk_per_minute``: call attempts on one trunk (the channel group dialled) in any
    60 s at most; ``trunk_min_gap``: seconds between
    two attempts on one trunk at least (:mod:`trunkline.dialer.cleaning.trunk_limit`).
    """

    concurrency: int | None = None
    rate: float = 1.0
    retries: int = 2
    retry_after: float = 600.0
    listen: float = 30.0
    sit_wait: float = 8.0
    trunk_per_minute: int = TRUNK_PER_MINUTE
    trunk_min_gap: float = 0.0

    def __post_init__(self) -> None:
        # One table of bounds for every entry point (bounds.py says why each value).
        check_bounds(CLEANING, {f.name: getattr(self, f.name) for f in fields(self)})

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)
                if getattr(self, f.name) is not None}


def is_cleaning(store: Store, campaign: str) -> bool:
    """Whether ``campaign`` (which must exist) is a list-cleaning campaign."""
    return store.campaign_config(campaign).get("type") == "cleaning"


def require_cleaning(store: Store, campaign: str) -> None:
    """Raise :class:`ConfigError` unless ``campaign`` is a cleaning campaign."""
    if not is_cleaning(store, campaign):
        raise ConfigError(f"campaign {campaign!r} is not a list-cleaning campaign; create "
                          f"one with `trunkline dialer clean create NAME --from-campaign "
                          f"{campaign}`")


def refuse_cleaning_campaign(store: Store, campaign: str) -> None:
    """For ``trunkline dialer run``: a cleaning campaign has no agents and its own runner."""
    if is_cleaning(store, campaign):
        raise ConfigError(f"campaign {campaign!r} is a list-cleaning campaign: run it with "
                          f"`trunkline dialer clean run --campaign {campaign}`")


def cleaning_settings(store: Store, campaign: str, **overrides: Any) -> CleaningSettings:
    """``campaign``'s stored settings, then ``overrides`` (None values ignored), checked."""
    require_cleaning(store, campaign)
    stored = dict(store.campaign_config(campaign).get("cleaning") or {})
    stored.update({k: v for k, v in overrides.items() if v is not None})
    known = {f.name for f in fields(CleaningSettings)}
    unknown = sorted(set(stored) - known)
    if unknown:
        raise ConfigError(f"campaign {campaign!r}: unknown cleaning settings "
                          f"{', '.join(unknown)}; known: {', '.join(sorted(known))}")
    try:
        return CleaningSettings(**stored)
    except (TypeError, ValueError) as err:
        raise ConfigError(f"campaign {campaign!r}: {err}") from err


def create_cleaning_campaign(store: Store, name: str, *, now: float,
                             source: str | None = None, strategy: Strategy | None = None,
                             settings: CleaningSettings | None = None) -> dict[str, int]:
    """Create (or update) cleaning campaign ``name``; copy ``source``'s contacts into it.

    The strategy (calling windows: a ringing phone at night wakes people, released or
    not) is ``strategy``, else the source's, else the default. Contacts already on a DNC
    list in the source (state ``dnc``) are not copied. Re-running merges: contacts keep
    their cleaning history. Returns ``{"added": n, "merged": m}``.
    """
    if source is not None:
        store.campaign_id(source)  # raises for an unknown campaign
        if source == name:
            raise ConfigError(f"a cleaning campaign cannot copy itself ({name!r})")
    if name in store.campaigns():
        if not is_cleaning(store, name):
            raise ConfigError(f"campaign {name!r} already exists and is not a list-cleaning "
                              "campaign; give the cleaning campaign another name")
        if settings is None:
            settings = cleaning_settings(store, name)
        if strategy is None:
            strategy = store.strategy(name)
    if strategy is None:
        strategy = store.strategy(source) if source is not None else Strategy()
    settings = settings or CleaningSettings()
    store.create_campaign(name, strategy, config={"type": "cleaning",
                                                  "cleaning": settings.to_dict()}, now=now)
    if source is None:
        return {"added": 0, "merged": 0}
    rows = store.copyable_contacts(source)
    counts = store.add_list(name, f"from campaign {source}", rows, now=now,
                            source=f"campaign:{source}")
    return {"added": counts["added"], "merged": counts["merged"]}

