"""The demo's database: a collections campaign in the ``cn`` regime with its dispositions
and script, the sample list, and (for the service) its users and their assignments.

The campaign dials a Chinese list, so it runs under the ``cn`` regime: China sets no
numeric abandonment cap (dialer-anchors.md, section 3), the team holds its own 3 % target
per calendar day, and a live answer may wait up to the engine's limit for an agent.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CAMPAIGN = "demo"
#: The simulated agents' user names (one FXS position each) and the person's.
AGENT_NAMES = tuple(f"agent{i:02d}" for i in range(1, 11))
PERSON = "you"
SUPERVISOR = "lead"
ADMIN = "admin"

#: The campaign's desk: what the collections team records after each call.
DESK: dict[str, Any] = {
    "max_wrap_up": 120,
    "script": ("您好，请问是{{name}}吗？我是XX银行信用卡中心的工作人员，工号{{agent_id}}。"
               "您的账户欠款{{balance}}元，请问您什么时候可以还款？"),
    "disposition": [
        {"code": "promise", "label": "承诺还款 Promise to pay", "hotkey": "p",
         "callback": "optional", "field": [
             {"name": "amount", "kind": "money", "label": "承诺金额", "required": True,
              "min": 0.01},
             {"name": "date", "kind": "date", "label": "承诺日期", "required": True},
             {"name": "reason", "kind": "choice", "label": "逾期原因",
              "choices": ["资金周转", "忘记还款", "失业", "其他"]},
             {"name": "follow_up", "kind": "bool", "label": "到期前提醒"}]},
        {"code": "refuse", "label": "拒绝还款 Refused", "hotkey": "r", "field": [
            {"name": "reason", "kind": "text", "label": "原因", "required": True}]},
        {"code": "callback", "label": "约定回拨 Call back", "hotkey": "c",
         "callback": "required"},
        {"code": "wrong_party", "label": "非本人 Wrong party", "hotkey": "w"},
    ],
}
CONFIG: dict[str, Any] = {"mode": "predictive", "target_abandon": 0.03, "regime": "cn",
                          "ring_timeout": 26.0}


@dataclass(frozen=True, slots=True)
class Logins:
    """The demo's users and their passwords (made up at each run, printed once)."""

    passwords: dict[str, str] = field(default_factory=dict)
    roles: dict[str, str] = field(default_factory=dict)


def create_campaign(store: Any, *, start: float) -> None:
    """The collections campaign: open all day (the demo runs whenever it is started),
    one attempt per contact (the shift ends when the list is done)."""
    from trunkline.dialer.campaigns.strategies import Strategy, Windows
    from trunkline.dialer.desk.config import DeskConfig

    strategy = Strategy(windows=Windows.from_dict({"default": ["00:00-24:00"]}),
                        max_attempts=1, time_zone="Asia/Shanghai")
    store.create_campaign(CAMPAIGN, strategy, config=CONFIG, now=start)
    store.save_desk_config(CAMPAIGN, DeskConfig.from_dict(CAMPAIGN, DESK))


def create_users(store: Any, *, now: float, agents: int) -> Logins:
    """An admin, a supervisor, ``agents`` simulated agents and one for a person, each
    with a fresh random password; the agents are assigned to the campaign."""
    from trunkline.dialer.service.passwords import hash_password

    roles = {ADMIN: "admin", SUPERVISOR: "supervisor"}
    roles |= {name: "agent" for name in (*AGENT_NAMES[:agents], PERSON)}
    passwords = {name: secrets.token_urlsafe(9) for name in roles}
    with store.transaction():
        for name, role in roles.items():
            store.add_user(name, role, hash_password(passwords[name]), now=now)
            if role == "agent":
                store.assign(name, CAMPAIGN, now=now)
    return Logins(passwords, roles)


def network_plan(folder: Path) -> Path:
    """The number plan the demo's emulated card calls: the sample network, with the
    people of a collections list staying on the line until the agent ends the call
    (30-600 s: some hang up first, as debtors do)."""
    from importlib import resources

    text = (resources.files("trunkline.profiles") / "networks" / "sample.toml").read_text(
        encoding="utf-8")
    for old in ("talk = [20, 120]", "talk = [8, 20]"):
        if old not in text:
            raise RuntimeError(f"the sample network no longer has {old!r}; update "
                               "trunkline.dialer.floor.setup.network_plan")
        text = text.replace(old, "talk = [30, 600]")
    path = folder / "collections-network.toml"
    path.write_text(text, encoding="utf-8")
    return path
