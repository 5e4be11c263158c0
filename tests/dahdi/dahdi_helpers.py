"""Shared builders for the DAHDI tests (not a conftest: other folders have their own)."""

from __future__ import annotations

from trunkline.clock import VirtualClock
from trunkline.drivers.backends.dahdi.card import DahdiCard
from trunkline.drivers.backends.dahdi.simkernel import SimulatedKernel

SMALL_SYSTEM = """\
spec = "1.0"
zone = "cn"
timer = true

[[span]]
type = "E1"
name = "SIM/1"
devicetype = "Wildcard TE420 (5th Gen)"
configured = "pri"
timing = 1
far_end = "loop"

[[span]]
type = "analog"
name = "SIM/2"
ports = ["fxo", "fxs"]
"""


def sim_card(text: str = SMALL_SYSTEM, **options) -> tuple[DahdiCard, SimulatedKernel]:
    kernel = SimulatedKernel(text, clock=VirtualClock())
    return DahdiCard(kernel, **options), kernel
