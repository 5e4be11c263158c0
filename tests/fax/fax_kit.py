"""Helpers for the fax tests: pages, number plans, an engine in virtual time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from trunkline.gateway.config import GatewayConfig
from trunkline.gateway.testing import VirtualGateway

FAX_NUMBER = "01051234567"
BUSY_NUMBER = "13712345678"
NO_ANSWER_NUMBER = "13612345678"
HUMAN_NUMBER = "13812345678"

PLAN = """spec = "1.0"
zone = "cn"
seed = 5
max_digits = 11

[[subscriber]]
number = "0105*"
name = "faxmachine"
behaviour = "fax"
answer_after = 3.0
hangup_after = 240.0

[[subscriber]]
number = "137*"
behaviour = "busy"

[[subscriber]]
number = "136*"
behaviour = "no_answer"

[[subscriber]]
number = "138*"
behaviour = "human"
answer_after = 3.0
talk = 60.0
"""


def write_plan(folder: Path) -> Path:
    path = folder / "plan.toml"
    path.write_text(PLAN)
    return path


def make_page(path: Path, seed: int = 0, *, lines: int = 1100, fine: bool = True) -> Path:
    """A fax-shaped page (1728 wide, bilevel) with text, boxes and random speckles."""
    from PIL import Image, ImageDraw

    img = Image.new("1", (1728, lines), 1)
    draw = ImageDraw.Draw(img)
    rng = np.random.default_rng(seed)
    for y in range(40, lines - 40, 80):
        draw.text((60 + int(rng.integers(0, 200)), y), f"trunkline fax page {seed} line {y} "
                  * 4, fill=0)
    for _ in range(6):
        x, y = int(rng.integers(0, 1500)), int(rng.integers(0, lines - 200))
        draw.rectangle((x, y, x + 200, y + 150), outline=0, width=3)
    dots = rng.integers(0, [1728, lines], size=(400, 2))
    for x, y in dots:
        img.putpixel((int(x), int(y)), 0)
    img.save(path, compression="group4", dpi=(204, 196 if fine else 98))
    return path


class Rig(VirtualGateway):
    """A gateway service on the emulated card, ticked by hand in virtual time; its
    ``pollers`` run after every tick (a broadcast runner, a router)."""

    def __init__(self, plan: Path) -> None:
        super().__init__(GatewayConfig(network=plan), start=0.0)
        self.pollers = self.on_tick

    def named(self, name: str, **fields: Any) -> list[dict]:
        return [e for e in self.events if e.get("event") == name
                and all(e.get(k) == v for k, v in fields.items())]
