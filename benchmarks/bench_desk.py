"""Agent desk benchmark: the desk and the pacing engine for a floor of agents, sans-IO.

What a runner does per gateway event, without the gateway: the engine handles the event,
the desk follows every agent's engine state and makes the screen events. A synthetic
shift (predictive, every dial a person after 4-12 s of ringing, 30-90 s of talk, the
disposition saved 3-10 s after hang-up, ready again) for ``--agents`` agents; it prints
the CPU time from a live answer to its screen pop coming out of the desk (p50, p99, max:
the part of the issue's answer-to-DOM latency spent in the dialer's core), and the
events handled per second of CPU.

    .venv/bin/python benchmarks/bench_desk.py                 # 200 agents, 1 h
    .venv/bin/python benchmarks/bench_desk.py --agents 50 --hours 0.25
"""

from __future__ import annotations

import argparse
import heapq
import itertools
import random
import time

import numpy as np

from trunkline.dialer.campaigns.strategies import Strategy, Windows
from trunkline.dialer.desk import commands as cmd
from trunkline.dialer.desk.config import DeskConfig, Disposition, FieldSpec, SiteDesk
from trunkline.dialer.desk.desk import CampaignDesk, Desk, agents_concerned, agents_named
from trunkline.dialer.desk.outputs import ContactCard, Op, ScreenPop
from trunkline.dialer.pacing import events as ev
from trunkline.dialer.pacing.actions import Connect, Dial, OfferPreview
from trunkline.dialer.pacing.campaign import CampaignConfig
from trunkline.dialer.pacing.contacts import SyntheticContacts
from trunkline.dialer.pacing.engine import Engine, quiet_logger
from trunkline.dialer.vocab import AnswerKind

CONFIG = DeskConfig("bench", (Disposition("promise", fields=(
    FieldSpec("amount", "money", required=True), FieldSpec("date", "date"))),),
    script="您好 {{name}}，欠款 {{debt}} 元", max_wrap_up=120.0)


def card(contact) -> ContactCard:
    return ContactCard(contact.id, contact.campaign, contact.number, "Asia/Shanghai",
                       {"name": contact.id, "debt": "2000", **{f"c{i}": "x" * 20
                                                              for i in range(20)}})


def run(agents: int, hours: float, seed: int) -> dict:
    rng = random.Random(seed)
    engine = Engine([CampaignConfig("bench", mode="predictive", regime="none")],
                    SyntheticContacts(), log=quiet_logger())
    desk = Desk({"bench": CampaignDesk(CONFIG, Strategy(windows=Windows.from_dict(
        {"default": ["00:00-24:00"]})))}, SiteDesk())
    timers: list[tuple[float, int, object]] = []
    seq = itertools.count()
    contacts: dict[int, object] = {}
    now = 0.0
    latencies: list[float] = []
    handled = 0

    def at(when: float, item: object) -> None:
        heapq.heappush(timers, (when, next(seq), item))

    def feed(items: list) -> list:
        nonlocal handled
        seen = []
        work = list(items)
        while work:
            item = work.pop(0)
            if isinstance(item, Op | ScreenPop) or not isinstance(
                    item, ev.Event.__args__):  # type: ignore[attr-defined]
                seen.append(item)
                continue
            handled += 1
            concerned = agents_concerned(engine, item)
            actions = engine.handle(item, now)
            for action in actions:
                if isinstance(action, Dial):
                    contacts[action.call_id] = action.contact
                    at(now + rng.uniform(4, 12), ev.CallAnswered(action.call_id,
                                                                 AnswerKind.HUMAN))
                    work += desk.on_engine(action, now, card(action.contact))
                elif isinstance(action, Connect):
                    work += desk.on_engine(action, now, card(contacts[action.call_id]))
                    at(now + rng.uniform(30, 90), ev.CallHungUp(action.call_id))
                elif isinstance(action, OfferPreview):
                    work += desk.on_engine(action, now, card(action.contact))
            # as the runner does: the agents the event and its actions concern
            for agent in concerned | agents_named(actions) | set(desk.held_pauses()):
                state = engine.agents.get(agent)
                work += desk.engine_state(agent, state.state if state else None, now)
        return seen

    for i in range(agents):
        agent = f"a{i}"
        feed(desk.command(cmd.Login(agent, "fxs", str(i), (("bench", "standard"),)), now))
        feed(desk.position_answered(agent, now))
        feed(desk.command(cmd.Ready(agent), now))
    end = hours * 3600.0
    cpu = 0.0
    step = 0.1
    while now < end:
        now = round(now + step, 6)
        started = time.perf_counter()
        while timers and timers[0][0] <= now:
            _, _, item = heapq.heappop(timers)
            t0 = time.perf_counter()
            if isinstance(item, tuple):          # (agent, "dispose")
                out = feed(desk.command(cmd.SaveDisposition(
                    item[0], "promise", {"amount": "100"}), now))
            else:
                out = feed([item])
            if isinstance(item, ev.CallAnswered) and any(isinstance(o, ScreenPop)
                                                         for o in out):
                latencies.append(time.perf_counter() - t0)
            if isinstance(item, ev.CallHungUp):
                call = item.call_id
                agent = next((a for a, s in desk.seats.items() if s.call == call), None)
                if agent is not None:
                    at(now + rng.uniform(3, 10), (agent, "dispose"))
        feed([ev.Tick()])
        feed(desk.tick(now))
        cpu += time.perf_counter() - started
    lat = np.array(latencies) * 1e3
    return {"agents": agents, "hours": hours, "screen_pops": len(latencies),
            "answer_to_pop_ms_p50": round(float(np.percentile(lat, 50)), 3),
            "answer_to_pop_ms_p99": round(float(np.percentile(lat, 99)), 3),
            "answer_to_pop_ms_max": round(float(lat.max()), 3),
            "engine_events": handled, "cpu_s": round(cpu, 2),
            "events_per_cpu_s": round(handled / cpu)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--hours", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    for key, value in run(args.agents, args.hours, args.seed).items():
        print(f"{key:>22}: {value}")


if __name__ == "__main__":
    main()
