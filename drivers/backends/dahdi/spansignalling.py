"""What a DAHDI span speaks beyond what the kernel knows: MFC/R2 variants, SS7 linksets.

The kernel knows a channel's signalling type (``DAHDI_GET_PARAMS``: CAS, an HDLC
D-channel, an MTP2 link) but not the protocol above it: the MFC/R2 variant of a CAS span
or the point codes of an SS7 linkset live in Asterisk's chan_dahdi.conf, which
``trunkline config import`` turns into trunkline's DAHDI configuration
(:mod:`~trunkline.drivers.backends.dahdi.sysconf`): a ``[[span]]`` table that says
``signalling = "mfcr2"`` or ``"ss7"`` with the signalling module's options (an SS7 span
also its ``linkset``). :func:`span_protocol` reads a span's table and says what
:class:`~trunkline.drivers.model.SpanInfo` reports, as the emulated card does from its own
configuration: ``protocol`` ``mfcr2:VARIANT`` for an MFC/R2 span or an SS7 span's linkset
name, and ``options`` in the module's names.
"""

from __future__ import annotations

from typing import Any

from trunkline.drivers.backends.dahdi.sysconf import DahdiConfig
from trunkline.drivers.model import SpanSignalling

__all__ = ["DEFAULT_LINKSET", "span_protocol"]

#: The linkset of an SS7 span whose table names none (the emulated card's default too).
DEFAULT_LINKSET = "ss7"
#: The MFC/R2 variant of a span whose table names none: chan_dahdi's default (chan_dahdi.c
#: ``dahdi_chan_conf_default``: ``.mfcr2.variant = OR2_VAR_ITU``).
DEFAULT_R2_VARIANT = "itu"


def span_protocol(config: DahdiConfig | None, dahdi_span: int, signalling: SpanSignalling
                  ) -> tuple[SpanSignalling, str, tuple[tuple[str, Any], ...]]:
    """DAHDI span ``dahdi_span``'s signalling, protocol and options, from what the kernel
    says of its channels (``signalling``) and the span's table in ``config``.

    The kernel's word stands for CAS: a table saying ``mfcr2`` over channels that are not
    CAS, or ``ss7`` over CAS channels, changes nothing (chan_dahdi would refuse those
    channels too). A span the table gives to an SS7 linkset is SS7 even when its link is
    a plain HDLC D-channel: the SS7 module then says the link must be ``mtp2=``.
    """
    if config is None:
        return signalling, "", ()
    table = next((s for s in config.spans if s.span == dahdi_span), None)
    # (getattr: the span tables gained these as MFC/R2 and SS7 import arrived.)
    declared = str(getattr(table, "signalling", "") or "")
    options: dict[str, Any] = dict(getattr(table, "options", None) or {})
    if declared == "ss7" and signalling is not SpanSignalling.CAS:
        linkset = str(getattr(table, "linkset", "") or DEFAULT_LINKSET)
        return SpanSignalling.SS7, linkset, tuple(options.items())
    if declared == "mfcr2" and signalling is SpanSignalling.CAS:
        variant = str(options.get("variant") or DEFAULT_R2_VARIANT)
        return signalling, f"mfcr2:{variant}", tuple(options.items())
    return signalling, "", ()
