"""A campaign's pacing and calling windows changed while it runs (issue 18).

A supervisor changes a running campaign's ``mode``, ``target_abandon``, ``ratio``,
``precise_target`` (the share of live answers precise mode lets find no agent at once:
its connect-rate target), ``agent_wait_target`` (predictive mode's agent-wait objective)
and calling ``windows``. Each change is checked exactly as a
campaign file is (the engine's :class:`~trunkline.dialer.pacing.campaign.CampaignConfig`
and the strategy's :class:`~trunkline.dialer.campaigns.strategies.Windows`, with the
same messages naming the setting), stored in the campaign's row (a restart keeps it),
and, when the campaign runs, handed to the pacing engine, which applies it at its next
decision (:meth:`~trunkline.dialer.pacing.engine.Engine.reconfigure`). New windows are
read by the next contact claimed. A change that fails a check changes nothing.

Why apart from the runners: the check and the store write are the same whether the
campaign runs or not; only the last step (the engine) needs the runner's thread.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from trunkline.dialer.campaigns.strategies import Strategy, Windows
from trunkline.dialer.pacing.campaign import CampaignConfig
from trunkline.dialer.runner.settings import campaign_config
from trunkline.dialer.store import Store
from trunkline.errors import ConfigError

__all__ = ["LIVE_KEYS", "LiveChange", "apply_live_change", "check_live_change"]

#: What a supervisor may change while a campaign runs.
PACING_KEYS = ("mode", "target_abandon", "ratio", "precise_target", "agent_wait_target")
LIVE_KEYS = (*PACING_KEYS, "windows")
_WINDOW_KEYS = frozenset({"mon", "tue", "wed", "thu", "fri", "sat", "sun", "default",
                          "holidays"})


@dataclass(frozen=True, slots=True)
class LiveChange:
    """A checked change: the campaign's new stored config and strategy, the engine's new
    config, and what changed (``{key: [old, new]}``)."""

    campaign: str
    stored: dict[str, Any]
    strategy: Strategy
    config: CampaignConfig
    changed: dict[str, list[Any]]


def check_live_change(store: Store, name: str, changes: Mapping[str, Any]) -> LiveChange:
    """Check ``changes`` to campaign ``name``; ConfigError naming the setting at fault."""
    if not changes:
        raise ConfigError(f"campaign {name!r}: nothing to change; give some of "
                          f"{', '.join(LIVE_KEYS)}")
    unknown = sorted(set(changes) - set(LIVE_KEYS))
    if unknown:
        raise ConfigError(f"campaign {name!r}: {', '.join(unknown)} cannot be changed "
                          f"while it runs; these can: {', '.join(LIVE_KEYS)}")
    stored = store.campaign_config(name)
    pacing = {k: changes[k] for k in PACING_KEYS if k in changes}
    if pacing.get("mode") is not None:
        pacing["mode"] = str(pacing["mode"])
    config = campaign_config(store, name, desk=True, **pacing)
    strategy = store.strategy(name)
    changed: dict[str, list[Any]] = {}
    old_config = campaign_config(store, name, desk=True)
    for key in pacing:
        old = getattr(old_config, key)
        new = getattr(config, key)
        if old != new:
            changed[key] = [str(old) if key == "mode" else old,
                            str(new) if key == "mode" else new]
    if "windows" in changes:
        spec = changes["windows"]
        if not isinstance(spec, Mapping):
            raise ConfigError(f"campaign {name!r}: windows must be a table of weekdays "
                              '("mon": ["09:00-12:00"], "default": [...], "holidays": '
                              f"[...]), got {type(spec).__name__}")
        bad = sorted(set(spec) - _WINDOW_KEYS)
        if bad:
            raise ConfigError(f"campaign {name!r}: windows: unknown keys {', '.join(bad)}; "
                              f"known: {', '.join(sorted(_WINDOW_KEYS))}")
        try:
            windows = Windows.from_dict(spec)
        except (ValueError, TypeError) as err:
            raise ConfigError(f"campaign {name!r}: windows: {err}") from err
        if not any(windows.days):
            raise ConfigError(f"campaign {name!r}: windows: no weekday has a window; the "
                              "campaign would never call (pause it instead)")
        if windows != strategy.windows:
            changed["windows"] = [strategy.windows.to_dict(), windows.to_dict()]
        strategy = dataclasses.replace(strategy, windows=windows)
    new_stored = {**stored, **{k: (str(v) if k == "mode" else v)
                               for k, v in pacing.items()}}
    return LiveChange(name, new_stored, strategy, config, changed)


def apply_live_change(store: Store, change: LiveChange, runner: Any = None) -> None:
    """Hand ``change`` to ``runner``'s engine when it runs the campaign (on the runner's
    thread), then store it. The engine keeps the running config's timing base (the
    period start and the local day's offset, fixed at start), so a change never moves
    the regulated window; a refusal of the engine stores nothing."""
    configs = getattr(runner, "configs", {})
    running = configs.get(change.campaign)
    if running is not None:
        config = dataclasses.replace(change.config, start=running.start,
                                     day_offset=running.day_offset)
        runner.engine.reconfigure(config)
        configs[change.campaign] = config
        if getattr(runner, "config", None) is running:
            runner.config = config
    store.create_campaign(change.campaign, change.strategy, config=change.stored)
