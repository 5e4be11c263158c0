"""A desk and a real pacing engine wired together as the runner wires them, in memory
(a unique module name: never import from conftest)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from trunkline.dialer.campaigns.strategies import Strategy, Windows
from trunkline.dialer.desk.config import DeskConfig, Disposition, FieldSpec, SiteDesk
from trunkline.dialer.desk.desk import CampaignDesk, Desk, agents_concerned, agents_named
from trunkline.dialer.desk.outputs import CallOp, ContactCard, Op, Refused
from trunkline.dialer.errors import DialerError
from trunkline.dialer.pacing import events as ev
from trunkline.dialer.pacing.actions import Connect, Dial, OfferPreview, RecordOutcome
from trunkline.dialer.pacing.campaign import CampaignConfig
from trunkline.dialer.pacing.contacts import Contact, ContactQueue
from trunkline.dialer.pacing.engine import Engine, quiet_logger

COLLECTIONS = DeskConfig(
    "loans",
    (Disposition("promise", "Promise to pay", (
        FieldSpec("amount", "money", required=True, min=0.01),
        FieldSpec("date", "date", required=True),
        FieldSpec("reason", "choice", choices=("salary", "loan", "other")),
        FieldSpec("follow_up", "bool")), callback="optional", hotkey="p"),
     Disposition("refused", "Refused to pay", (FieldSpec("reason", "text", required=True),)),
     Disposition("callback", "Call back", callback="required")),
    script="您好，{{name}}，您的欠款 {{debt}} 元。", max_wrap_up=60.0)
ANYTIME = Strategy(windows=Windows.from_dict({"default": ["00:00-24:00"]}))


def card(contact: Contact, attempt: int | None = None) -> ContactCard:
    return ContactCard(contact.id, contact.campaign, contact.number, "Asia/Shanghai",
                       {"name": f"n{contact.id}", "debt": "2000"}, (contact.number,),
                       attempt=attempt)


@dataclass
class Rig:
    """The engine and the desk, and everything they produced."""

    mode: str = "progressive"
    contacts: int = 200
    engine: Engine = field(init=False)
    desk: Desk = field(init=False)
    now: float = 1_000.0
    dials: dict[int, Dial] = field(default_factory=dict)
    talking: dict[int, str] = field(default_factory=dict)
    ops: list[Op] = field(default_factory=list)
    refused: list[Refused] = field(default_factory=list)
    events: list[Any] = field(default_factory=list)
    outcomes: list[RecordOutcome] = field(default_factory=list)
    connects: list[Connect] = field(default_factory=list)

    def __post_init__(self) -> None:
        queue = ContactQueue([Contact(f"c{i}", f"1380000{i:04d}", "loans")
                              for i in range(self.contacts)])
        self.engine = Engine([CampaignConfig("loans", mode=self.mode, regime="none",
                                             preview_timeout=20.0)], queue,
                             log=quiet_logger())
        self.desk = Desk({"loans": CampaignDesk(COLLECTIONS, ANYTIME)}, SiteDesk())

    def command(self, command: Any) -> list[Any]:
        return self.feed(self.desk.command(command, self.now))

    def feed(self, outputs: list[Any]) -> list[Any]:
        """Carry out the desk's outputs (engine events to the engine, its actions back to
        the desk) until nothing is left; returns every output seen."""
        seen = []
        queue = list(outputs)
        while queue:
            item = queue.pop(0)
            seen.append(item)
            if isinstance(item, ev.Event.__args__):  # type: ignore[attr-defined]
                concerned = agents_concerned(self.engine, item)
                actions = self.engine.handle(item, self.now)
                for action in actions:
                    queue += self.act(action)
                # as the runner does: only the agents the event and actions concern
                queue += self.sync(concerned | agents_named(actions)
                                   | set(self.desk.held_pauses()))
            elif isinstance(item, Refused):
                self.refused.append(item)
            elif isinstance(item, CallOp) and item.op == "transfer":
                self.ops.append(item)
                queue += self.transfer(item)
            elif isinstance(item, Op):
                self.ops.append(item)
            else:
                self.events.append(item)
        return seen

    def sync(self, agents: set[str]) -> list[Any]:
        out: list[Any] = []
        for agent in agents:
            if agent in self.desk.seats:
                state = self.engine.agents.get(agent)
                out += self.desk.engine_state(agent, state.state if state else None,
                                              self.now)
        return out

    def transfer(self, op: CallOp) -> list[Any]:
        """What the runner does for a blind transfer to an agent (others: nothing)."""
        mode, kind, target = op.arg.split(":", 2)
        if (mode, kind) != ("blind", "agent"):
            return []
        event = ev.CallTransferred(op.call, agent=target)
        concerned = agents_concerned(self.engine, event)
        try:
            actions = self.engine.handle(event, self.now)
        except DialerError as err:
            return self.desk.call_op_failed(op, str(err))
        out = self.desk.transfer_done(op.agent, target, to_agent=True)
        for action in actions:
            out += self.act(action)
        return out + self.sync(concerned | agents_named(actions))

    def act(self, action: Any) -> list[Any]:
        if isinstance(action, Dial):
            self.dials[action.call_id] = action
            return self.desk.on_engine(action, self.now, card(action.contact))
        if isinstance(action, Connect):
            self.talking[action.call_id] = action.agent
            self.connects.append(action)
            return self.desk.on_engine(action, self.now,
                                       card(self.dials[action.call_id].contact))
        if isinstance(action, OfferPreview):
            return self.desk.on_engine(action, self.now, card(action.contact))
        if isinstance(action, RecordOutcome):
            self.outcomes.append(action)
            self.dials.pop(action.call_id, None)
            self.talking.pop(action.call_id, None)
            return []
        return self.desk.on_engine(action, self.now)

    def engine_event(self, event: Any) -> list[Any]:
        return self.feed([event])

    def advance(self, seconds: float) -> None:
        self.now += seconds
        self.feed([ev.Tick()])
        self.feed(self.desk.tick(self.now))
