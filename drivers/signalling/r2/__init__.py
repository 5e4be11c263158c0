"""MFC/R2 signalling (China No.1 and other national variants), our own sans-IO engine.

* :mod:`.variants`: one frozen, validated :class:`R2Variant` per country (``cn``,
  ``itu``, ``br``, ``ar``, ``mx``): line code, signal meanings, timers, with sources.
* :mod:`.line`: line signalling on the ABCD bits (ITU-T Q.421), one per circuit.
* :mod:`.register`: the compelled MF cycle (Q.441), outgoing and incoming registers.
* :mod:`.leg`: the call legs :class:`R2Leg` (outbound) and :class:`R2InboundLeg`.
* :mod:`.span`: :class:`R2Span`, the circuits of one span (what a module keeps).
* :mod:`.pair`: :class:`R2Pair`, two spans joined back to back (tests, demos).
* :mod:`.events`: the observation-only :class:`R2Signal` and :class:`R2LineSignal`.
"""

from __future__ import annotations

from trunkline.drivers.signalling.r2.events import R2LineSignal as R2LineSignal
from trunkline.drivers.signalling.r2.events import R2Signal as R2Signal
from trunkline.drivers.signalling.r2.line import Line as Line
from trunkline.drivers.signalling.r2.variants import VARIANTS as VARIANTS
from trunkline.drivers.signalling.r2.variants import R2Variant as R2Variant
from trunkline.drivers.signalling.r2.variants import variant as variant

__all__ = ["VARIANTS", "Line", "R2LineSignal", "R2Signal", "R2Variant", "variant"]
