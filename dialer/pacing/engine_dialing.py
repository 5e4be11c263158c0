"""The dialing engine's pacing: how many lines a campaign dials now, and placing them.

Why a module of its own: a pace is the one decision the pacers take part in: it bounds
the pacer's wish by the lines per agent, the regime's abandon cap over the calls in
flight and the warm-up of a campaign still learning, then takes contacts (skipping
numbers on a call or locked out, reserving an agent where a redial needs one) and
places the dials.
"""

from __future__ import annotations

import math

import numpy as np

from trunkline.dialer.pacing.actions import Action, Dial
from trunkline.dialer.pacing.agents import Agent
from trunkline.dialer.pacing.calls import Call
from trunkline.dialer.pacing.campaign_run import CampaignRun
from trunkline.dialer.pacing.contacts import Contact
from trunkline.dialer.pacing.engine_books import EngineBooks
from trunkline.dialer.pacing.pacers import ModelPacer, PacingView
from trunkline.dialer.vocab import Mode

_EMPTY = np.zeros(0)
DUPLICATE_DELAY = 120.0     # a number already on a call is retried after two minutes
#: Live answers a model-paced campaign sees before it dials beyond its free agents, by
#: default (``CampaignConfig.warmup_live``; issue 15, item 3). Until then its model is
#: its priors: a fresh campaign dials no more lines than agents are free, so it cannot
#: overshoot its target while it learns. The us and uk caps already start there (no
#: live answers: no abandon allowed); this brings cn and none, which have no numeric
#: cap, to the same start.
WARMUP_LIVE = 20


class EngineDialing(EngineBooks):
    """Pacing and placing calls (see the module docstring)."""

    def _take_contact(self, run: CampaignRun, now: float, *, agent_attached: bool = False
                      ) -> tuple[Contact, bool] | None:
        """The next dialable contact, deferring duplicates and locked-out numbers.

        Returns ``(contact, reserve)``: ``reserve`` asks the caller to reserve a ready agent
        for the call, because the number may be dialed today only with an agent
        guaranteed (UK, after a machine). Preview records met by an automatic campaign are
        queued for the next free agent.
        """
        automatic = run.config.mode.automatic
        for _ in range(16):
            contact = self._provider.next_contact(run.name, now)
            if contact is None:
                return None
            if contact.number in self._active_numbers:
                self._provider.defer(contact, now + DUPLICATE_DELAY)
                continue
            lock = self._lockouts.check(contact.number, now)
            guaranteed = agent_attached or (automatic and run.spare >= 1)
            if lock is not None and not (lock[1] and guaranteed):
                self._provider.defer(contact, lock[0])
                continue
            if contact.preview and automatic:
                self._active_numbers.add(contact.number)  # held until the agent decides
                run.previews.append(contact)
                continue
            return contact, lock is not None and not agent_attached
        return None

    def _place(self, run: CampaignRun, contact: Contact, now: float, out: list[Action], *,
               agent: Agent | None = None) -> None:
        call_id = next(self._call_ids)
        call = Call(call_id, run.name, run.name, contact, now)
        if agent is not None:
            call.agent, call.reserved = agent.id, True
            agent.call_id = call_id
        else:
            run.pending[call_id] = now
        self._calls[call_id] = call
        self._active_numbers.add(contact.number)
        run.stats.dials += 1
        out.append(Dial(call_id, run.name, contact, run.config.ring_timeout, call.agent))

    @staticmethod
    def _idle_for_preview(run: CampaignRun) -> bool:
        """More agents ready than calls in flight and customers waiting: one can be
        shown a preview record without leaving an answer with no agent."""
        return len(run.home_ready) > len(run.pending) + len(run.waiting) + len(run.requeued)

    def _pace(self, run: CampaignRun, now: float, out: list[Action]) -> None:
        cfg = run.config
        if cfg.mode is Mode.PREVIEW:
            for agent_id in list(run.home_ready):
                taken = self._take_contact(run, now, agent_attached=True)
                if taken is None:
                    break
                self._offer_preview(self._agents[agent_id], run, taken[0], now, out)
            return
        if not cfg.mode.automatic:
            return
        if run.deferred_pauses:
            self._settle_pauses(run, now)
        # preview records met while pacing (a due callback for anyone in the campaign)
        # wait for the next agent to come free (_seek); but an agent who is ready and
        # that no dial in flight nor customer waiting counts on gets one now: else, with
        # nothing else to call, the record waited for ever. Before the pacing counts
        # its ready agents, so it never dials for an agent who is shown a record.
        while run.previews and self._idle_for_preview(run):
            agent = self._agents[next(iter(run.home_ready))]
            self._offer_preview(agent, run, run.previews.popleft(), now, out)
        queued = len(run.previews)
        # requeued customers wait for an agent as live answers do
        ready, pending = len(run.home_ready), len(run.pending)
        waiting = len(run.waiting) + len(run.requeued)
        room = math.floor(cfg.max_lines_per_agent * run.active + 1e-9) - pending
        limit = "lines"
        allowance = None
        if cfg.mode is not Mode.VICIDIAL:  # the baseline keeps VICIdial's own drop control
            horizon = cfg.ring_timeout + cfg.abandon_after + cfg.pace_interval
            # a requeued customer takes an agent but can never be an abandon: it is
            # not in the cap's worst case (the live answers waiting are)
            requeued = len(run.requeued)
            allowance = run.ledger.max_in_flight(now, ready=max(ready - requeued, 0),
                                                 waiting=waiting - requeued,
                                                 horizon=horizon)
            if allowance is not None and allowance - pending < room:
                room = allowance - pending
                limit = "abandon cap"
        model_pacer = isinstance(run.pacer, ModelPacer)
        if model_pacer and run.stats.live < cfg.warmup_live:
            covered = max(ready - waiting, 0)          # dials an agent is free for
            if covered - pending < room:
                room = covered - pending
                limit = f"warm-up ({run.stats.live} of {cfg.warmup_live} live answers)"
        view = PacingView(
            now=now, ready=ready, waiting=waiting,
            pending=now - np.fromiter(run.pending.values(), float, pending)
            if model_pacer and pending else _EMPTY,
            talking=now - np.fromiter(run.talking.values(), float, len(run.talking))
            if model_pacer and run.talking else _EMPTY,
            wrapping=now - np.fromiter(run.wrapping.values(), float, len(run.wrapping))
            if model_pacer and run.wrapping else _EMPTY,
            agents=run.active, connected=len(run.talking), room=max(room, 0),
            in_flight=pending)
        decision = run.pacer.decide(view)
        dials = max(0, min(decision.dials, room))
        if room <= 0:
            reason = f"{limit} leaves no room"
        elif dials == decision.dials:
            reason = decision.reason
        else:
            reason = f"clamped by {limit}"
        placed = 0
        for _ in range(dials):
            taken = self._take_contact(run, now)
            if taken is None:
                reason = "list exhausted"
                break
            contact, reserve = taken
            reserved: Agent | None = None
            if reserve:  # dial with an agent guaranteed: reserve the longest idle one
                reserved = self._agents[next(iter(run.home_ready))]
                del run.home_ready[reserved.id]
                reserved.fire("reserve", now)
            self._place(run, contact, now, out, agent=reserved)
            placed += 1
        if len(run.previews) > queued and self._idle_for_preview(run):
            self._kick(run, now)   # a record found just now: offered at the next pace
        if self._debug and (placed or reason != run.last_reason):
            run.log.debug(
                "pace", t=round(now, 3), dials=placed, why=reason, ready=ready,
                in_flight=pending, waiting=waiting, talking=len(run.talking),
                wrap_up=len(run.wrapping), room=room, allowance=allowance,
                answer_p=round(run.model.answer_probability, 4),
                alpha=None if decision.alpha is None else round(decision.alpha, 5),
                risk_next=None if decision.risk_next is None else round(decision.risk_next, 5),
                expected_free=None if decision.expected_free is None
                else round(decision.expected_free, 2),
                expected_answers=None if decision.expected_answers is None
                else round(decision.expected_answers, 2),
                window_rate=round(run.ledger.rate(now), 5))
        run.last_reason = reason
