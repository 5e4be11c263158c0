"""MFC/R2 signalling (China No.1 and other national variants), our own sans-IO engine.

* :mod:`.variants`: one frozen, validated :class:`R2Variant` per country (``cn``,
  ``itu``, ``br``, ``ar``, ``mx``): line code, signal meanings, timers, with sources.
* :mod:`.line`: line signalling on the ABCD bits (ITU-T Q.421), one per circuit.
* :mod:`.register`: the compelled MF cycle (Q.441), outgoing and incoming registers.
* :mod:`.leg`: the outbound call leg :class:`R2Leg` (and what both legs share);
  :mod:`.inbound`: the inbound one, :class:`R2InboundLeg`.
* :mod:`.span`: :class:`R2Span`, the circuits of one span (what a module keeps).
* :mod:`.pair`: :class:`R2Pair`, two spans joined back to back (tests, demos).
* :mod:`.events`: the observation-only :class:`R2Signal` and :class:`R2LineSignal`.
"""

from __future__ import annotations

from trunkline.drivers.signalling.r2.events import R2LineSignal as R2LineSignal
from trunkline.drivers.signalling.r2.events import R2Signal as R2Signal
from trunkline.drivers.signalling.r2.inbound import R2InboundLeg as R2InboundLeg
from trunkline.drivers.signalling.r2.leg import R2Leg as R2Leg
from trunkline.drivers.signalling.r2.line import Line as Line
from trunkline.drivers.signalling.r2.pair import Behaviour as Behaviour
from trunkline.drivers.signalling.r2.pair import R2Pair as R2Pair
from trunkline.drivers.signalling.r2.span import R2Span as R2Span
from trunkline.drivers.signalling.r2.variants import VARIANTS as VARIANTS
from trunkline.drivers.signalling.r2.variants import R2Variant as R2Variant
from trunkline.drivers.signalling.r2.variants import variant as variant

__all__ = ["VARIANTS", "Behaviour", "Line", "R2InboundLeg", "R2Leg", "R2LineSignal", "R2Pair",
           "R2Signal", "R2Span", "R2Variant", "variant"]
