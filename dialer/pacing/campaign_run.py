"""What the dialing engine keeps for one campaign: its pacer, model, ledger and queues.

Why a module of its own: every part of the engine (agents, previews, dialing, calls,
transfers) reads and changes the same per-campaign books within one event; they are
defined once here, with the pacer each mode is paced by, so that a campaign added or
reconfigured at run time is built the same way as one the engine started with.
"""

from __future__ import annotations

from collections import deque

import structlog

from trunkline.dialer.pacing.campaign import CampaignConfig
from trunkline.dialer.pacing.compliance import AbandonLedger, window_index
from trunkline.dialer.pacing.contacts import Contact
from trunkline.dialer.pacing.learning import CampaignModel
from trunkline.dialer.pacing.pacers import (
    ModelPacer,
    Pacer,
    RatioPacer,
    RiskController,
    VicidialPacer,
    WaitController,
)
from trunkline.dialer.vocab import Mode, Regime


def make_pacer(config: CampaignConfig, model: CampaignModel) -> Pacer:
    mode = config.mode
    if mode in (Mode.PROGRESSIVE, Mode.POWER):
        return RatioPacer(config.ratio)
    if mode is Mode.PRECISE:
        # start cautious: until the model has learned the list, err on the safe side
        ctl = RiskController(config.precise_target, alpha=config.precise_target / 3,
                             margin=0.0, recovery=1e9)
        return ModelPacer(model, ctl, grace=0.0, precise=True)
    if mode is Mode.PREDICTIVE:
        ctl = RiskController(config.target_abandon, alpha=config.target_abandon)
        wait = (WaitController(config.agent_wait_target, alpha=config.target_abandon)
                if config.agent_wait_target > 0 else None)
        return ModelPacer(model, ctl, grace=config.abandon_after, precise=False, wait=wait)
    if mode is Mode.VICIDIAL:
        return VicidialPacer(
            limit=config.cap or config.target_abandon, max_level=config.vicidial_max_level,
            drop_action=config.vicidial_drop_action,
            day_of=lambda t: window_index(Regime.NONE, t, day_offset=config.day_offset))
    return Pacer()


class CampaignStats:
    """Counters of one campaign since the engine started (reports read these)."""

    __slots__ = ("abandoned", "answered_without_agent", "dials", "live", "machines")

    def __init__(self) -> None:
        self.dials = self.live = self.abandoned = 0
        self.answered_without_agent = self.machines = 0


class CampaignRun:
    """The live state of one campaign inside the engine."""

    __slots__ = (
        "active",
        "config",
        "deferred_pauses",
        "guests",
        "home_ready",
        "kick_on_failure",
        "kicked",
        "last_reason",
        "ledger",
        "log",
        "members",
        "model",
        "name",
        "pace_scheduled",
        "pacer",
        "pending",
        "previews",
        "requeued",
        "stats",
        "talking",
        "waiting",
        "wrapping",
    )

    def __init__(self, config: CampaignConfig,
                 log: structlog.typing.FilteringBoundLogger) -> None:
        self.config = config
        self.name = config.name
        self.model = CampaignModel(ring_timeout=config.ring_timeout)
        self.pacer = make_pacer(config, self.model)
        self.ledger = AbandonLedger(
            config.regime, config.cap, config.amd_false_positive_rate, start=config.start,
            day_offset=config.day_offset)
        self.log = log.bind(campaign=config.name, mode=str(config.mode))
        self.members: set[str] = set()
        self.guests: set[str] = set()           # members whose home is elsewhere
        self.home_ready: dict[str, None] = {}   # insertion order = longest idle first
        self.talking: dict[str, float] = {}     # home agents on a call -> talk start
        self.wrapping: dict[str, float] = {}    # home agents in wrap-up -> start
        self.active = 0                         # home agents logged in and not paused
        self.pending: dict[int, float] = {}     # unresolved dials, no agent reserved
        self.waiting: dict[int, float] = {}     # live answers waiting -> answered at
        self.requeued: dict[int, float] = {}    # connected calls whose agent was lost -> since
        self.previews: deque[Contact] = deque()  # preview records inside an automatic mode
        self.deferred_pauses = 0
        self.pace_scheduled = False
        self.stats = CampaignStats()
        self.last_reason = ""
        self.kicked = False
        # ratio modes re-dial for a free agent as soon as its line fails; model pacers
        # anticipate and wait for their tick; the VICIdial baseline keeps its own loop
        self.kick_on_failure = config.mode in (Mode.PROGRESSIVE, Mode.POWER)

    @property
    def spare(self) -> int:
        """Ready home agents beyond what the calls in flight may need."""
        return len(self.home_ready) - len(self.pending) - len(self.waiting) \
            - len(self.requeued)
