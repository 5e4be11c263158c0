"""A campaign's settings for the runner: the engine's config from the store, and the
runner's own settings (machine messages, the campaign type).

A campaign's stored config (``trunkline dialer campaign create``'s ``[campaign]`` table)
holds both: :data:`RUNNER_SETTINGS` are the runner's, the rest is the engine's
:class:`~trunkline.dialer.pacing.campaign.CampaignConfig`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from trunkline.dialer.campaigns.bounds import CAMPAIGN, check_bounds
from trunkline.dialer.cleaning.settings import refuse_cleaning_campaign
from trunkline.dialer.pacing.campaign import CampaignConfig
from trunkline.dialer.store import Store
from trunkline.errors import ConfigError

#: Campaign settings the runner reads (the rest of a campaign's config is the engine's):
#: ``type`` ("dialing", or "cleaning": run by ``trunkline dialer clean``),
#: ``machine_message`` (a WAV on the gateway host left on answering machines after the
#: beep), ``machine_message_wait`` (seconds of quiet that mark the end of the beep) and
#: ``record_calls`` (record every call put through to an agent; default true);
#: ``agent_lost`` and ``agent_lost_wait``: what a customer whose agent's browser was lost
#: for good gets (``requeue``: the next free agent of the campaign, waiting on hold at most
#: ``agent_lost_wait`` seconds, then the apology; ``end``: the apology at once;
#: dialer/runner/softphone_faults.py).
RUNNER_SETTINGS = ("type", "machine_message", "machine_message_wait", "record_calls",
                   "agent_lost", "agent_lost_wait")
#: What ``agent_lost`` may be.
AGENT_LOST_POLICIES = ("requeue", "end")


@dataclass(frozen=True, slots=True)
class RunnerSettings:
    """A campaign's runner-level settings (see :data:`RUNNER_SETTINGS`)."""

    type: str = "dialing"
    machine_message: str | None = None
    machine_message_wait: float = 1.0
    record_calls: bool = True
    agent_lost: str = "requeue"
    agent_lost_wait: float = 30.0

    def __post_init__(self) -> None:
        if not isinstance(self.record_calls, bool):
            raise ValueError(f"record_calls must be true or false, not {self.record_calls!r}")
        if self.type not in ("dialing", "cleaning"):
            raise ValueError(f"type must be 'dialing' or 'cleaning', not {self.type!r}")
        if self.machine_message is not None and not isinstance(self.machine_message, str):
            raise ValueError("machine_message is the path of a WAV file")
        # machine_message_wait and agent_lost_wait: the one table of bounds (bounds.py)
        check_bounds(CAMPAIGN, {"machine_message_wait": self.machine_message_wait,
                                "agent_lost_wait": self.agent_lost_wait})
        if self.agent_lost not in AGENT_LOST_POLICIES:
            raise ValueError(f"agent_lost must be one of {', '.join(AGENT_LOST_POLICIES)}, "
                             f"not {self.agent_lost!r}")


def runner_settings(store: Store, name: str) -> RunnerSettings:
    """``name``'s runner settings from its stored config, checked."""
    stored = store.campaign_config(name)
    try:
        return RunnerSettings(**{k: stored[k] for k in RUNNER_SETTINGS
                                 if stored.get(k) is not None})
    except (TypeError, ValueError) as err:
        raise ConfigError(f"campaign {name!r}: {err}") from err


def campaign_config(store: Store, name: str, *, desk: bool = False,
                    **overrides: Any) -> CampaignConfig:
    """The engine's settings for ``name``: the campaign's stored config, then overrides.

    Unknown keys are refused (the runner's own :data:`RUNNER_SETTINGS` are not the
    engine's and are left out). A list-cleaning campaign is refused: it has no agents
    and is run by ``trunkline dialer clean run``. Under the US regime the 30-day periods
    start when the campaign was created (unless ``start`` is given); ``day_offset`` (where
    calendar days count) comes from the strategy's time zone. Manual and preview
    campaigns need agents at a screen: they are refused unless ``desk`` (the
    :class:`~trunkline.dialer.runner.desk_runner.DeskRunner` asks).
    """
    runner_settings(store, name)               # the runner's own settings, checked first
    refuse_cleaning_campaign(store, name)
    stored = {k: v for k, v in store.campaign_config(name).items()
              if k not in RUNNER_SETTINGS}
    stored.update({k: v for k, v in overrides.items() if v is not None})
    known = {f.name for f in dataclasses.fields(CampaignConfig)} - {"name"}
    unknown = sorted(set(stored) - known)
    if unknown:
        raise ConfigError(f"campaign {name!r}: unknown settings {', '.join(unknown)}; "
                          f"known: {', '.join(sorted(known))}")
    if "start" not in stored:
        stored["start"] = store.campaign_created_at(name)
    if "day_offset" not in stored:
        zone = ZoneInfo(store.strategy(name).time_zone)
        offset = datetime.now(zone).utcoffset()
        stored["day_offset"] = offset.total_seconds() if offset is not None else 0.0
    try:
        config = CampaignConfig(name, **stored)
    except (ValueError, TypeError) as err:
        raise ConfigError(f"campaign {name!r}: {err}") from err
    if not config.mode.automatic and not desk:
        raise ConfigError(f"campaign {name!r}: mode {config.mode} needs agents at a screen; "
                          "the runner drives progressive, power, precise, predictive and "
                          "vicidial campaigns")
    return config

