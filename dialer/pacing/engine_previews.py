"""The dialing engine's preview records and manual dials: what an agent dials itself.

Why a module of its own: a record shown to an agent holds its number (nobody else dials
it) until the agent decides or the preview times out, and a manual dial takes an agent
out of what pacing counts; both are the agent's decision, not the pacer's, with refusals
of their own (not logged in to the campaign, counted on for a call in flight, the number
already on a call).
"""

from __future__ import annotations

from trunkline.dialer.errors import DialerStateError
from trunkline.dialer.pacing import events as ev
from trunkline.dialer.pacing.actions import Action, OfferPreview, PreviewExpired
from trunkline.dialer.pacing.agents import Agent
from trunkline.dialer.pacing.campaign_run import CampaignRun
from trunkline.dialer.pacing.contacts import Contact
from trunkline.dialer.pacing.engine_books import EngineBooks
from trunkline.dialer.vocab import AgentState

SKIP_DELAY = 3_600.0        # a skipped preview record comes back after an hour


class EnginePreviews(EngineBooks):
    """Preview records and manual dials (see the module docstring)."""

    def _offer_preview(self, agent: Agent, run: CampaignRun, contact: Contact, now: float,
                       out: list[Action]) -> None:
        self._runs[agent.home].home_ready.pop(agent.id, None)
        agent.fire("offer_preview", now)
        self._active_numbers.add(contact.number)  # nobody else dials it while it is shown
        agent.preview = contact
        agent.preview_campaign = run.name
        deadline = now + run.config.preview_timeout
        self._schedule(deadline, "preview", (agent.id, contact.id))
        out.append(OfferPreview(agent.id, run.name, contact, deadline))

    def _on_preview_decision(self, event: ev.PreviewDecision, now: float,
                             out: list[Action]) -> None:
        agent = self._agent(event.agent)
        if agent.state is not AgentState.PREVIEW or agent.preview is None \
                or agent.preview.id != event.contact_id:
            shown = agent.preview.id if agent.preview else None
            raise DialerStateError(
                f"cannot take a preview decision on contact {event.contact_id!r} from agent "
                f"{agent.id!r}: state is {agent.state}, previewing {shown!r}")
        self._preview_resolve(agent, event.dial, now, out)

    def _preview_timeout(self, agent: Agent, now: float, out: list[Action]) -> None:
        # the timer fires only for an agent still previewing that record
        assert agent.preview is not None and agent.preview_campaign is not None
        run = self._runs[agent.preview_campaign]
        dial = run.config.preview_dial_on_timeout
        out.append(PreviewExpired(agent.id, agent.preview.id, dial))
        self._preview_resolve(agent, dial, now, out)

    def _preview_resolve(self, agent: Agent, dial: bool, now: float, out: list[Action]) -> None:
        contact, name = agent.preview, agent.preview_campaign
        assert contact is not None and name is not None  # an agent previewing holds both
        run = self._runs[name]
        agent.preview = agent.preview_campaign = None
        if dial:
            agent.fire("preview_dial", now)
            self._place(run, contact, now, out, agent=agent)
        else:
            agent.fire("preview_skip", now)
            self._active_numbers.discard(contact.number)
            self._provider.defer(contact, now + SKIP_DELAY)
            self._available(agent, now, out)

    def _on_manual_dial(self, event: ev.ManualDial, now: float, out: list[Action]) -> None:
        """Dial for a ready agent; or, with a given contact, for an agent looking at a
        preview record (a callback due for it, a number it typed): the record shown goes
        back to the list at once."""
        agent = self._agent(event.agent)
        run = self._run(event.campaign)
        if event.campaign not in agent.levels:
            raise DialerStateError(f"cannot dial for agent {agent.id!r} on campaign "
                                   f"{run.name!r}: not logged in to it")
        previewing = agent.state is AgentState.PREVIEW and event.contact is not None
        if agent.state is not AgentState.READY and not previewing:
            raise DialerStateError(f"cannot dial for agent {agent.id!r}: state is "
                                   f"{agent.state}")
        home = self._runs[agent.home]
        if home.config.mode.automatic and home.spare < 1 and not previewing:
            raise DialerStateError(f"cannot dial for agent {agent.id!r}: campaign "
                                   f"{home.name!r} counts on the agent for a call in flight")
        contact = event.contact
        if contact is None:
            taken = self._take_contact(run, now, agent_attached=True)
            contact = taken[0] if taken else None
        if contact is None:
            raise DialerStateError(f"cannot dial for agent {agent.id!r}: campaign "
                                   f"{run.name!r} has no contact due")
        if contact.number in self._active_numbers:
            raise DialerStateError(f"cannot dial {contact.number} for agent {agent.id!r}: "
                                   "the number is already on a call")
        if previewing:
            shown = agent.preview
            assert shown is not None
            agent.preview = agent.preview_campaign = None
            agent.fire("preview_skip", now)
            self._active_numbers.discard(shown.number)
            self._provider.defer(shown, now)
        home.home_ready.pop(agent.id, None)
        agent.fire("reserve", now)
        self._place(run, contact, now, out, agent=agent)
