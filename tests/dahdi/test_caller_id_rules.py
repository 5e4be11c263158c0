"""Caller ID on the DAHDI backend's own code path: the FXO port hears the FSK message on
hook in the simulated kernel, chan_dahdi.conf's ``usecallerid`` turns it on, and the
line loop offers the call with the caller's number."""

from __future__ import annotations

from dahdi_helpers import sim_card

from trunkline.drivers.backends.dahdi.sysconf import ChannelGroup, DahdiConfig
from trunkline.drivers.dsp.callerid import CallerId, encode_message, modulate
from trunkline.drivers.dsp.zones import load_zone
from trunkline.drivers.lineloop import LineLoop
from trunkline.drivers.signalling import events as ev
from trunkline.drivers.signalling.base import InboundPolicy

FXO = 32


def _offers(options: dict[str, str], standard: str = "bell202") -> list[tuple[str, float]]:
    config = DahdiConfig(groups=[ChannelGroup((FXO,), "fxs_ks", options=options)])
    card, kernel = sim_card(config=config)
    offers: list[tuple[str, float]] = []

    def heard(leg, event) -> None:
        if isinstance(event, ev.Offered):
            offers.append((event.calling, event.at - leg.started))

    with card, LineLoop(card, zone=load_zone("cn"), listener=heard,
                        inbound=InboundPolicy(timeout=1.0)) as loop:
        start = kernel.now()
        kernel.ring_cadence(FXO, bursts=3)           # cn: 1 s on, 4 s off
        words = encode_message(CallerId(number="02088886666", when="12021830"))
        kernel.line_audio(FXO, modulate(words, standard), at=start + 1.5)
        loop.run(lambda: bool(offers), max_seconds=8)
    return offers


def test_usecallerid_offers_the_call_with_the_number_read_between_rings():
    ((calling, after),) = _offers({"usecallerid": "yes"})
    assert calling == "02088886666" and 1.5 < after < 3.5


def test_v23_caller_id_on_a_v23_line():
    ((calling, _),) = _offers({"usecallerid": "yes", "cidsignalling": "v23"}, "v23")
    assert calling == "02088886666"


def test_without_usecallerid_the_call_is_offered_at_the_first_ring():
    ((calling, after),) = _offers({"usecallerid": "no"})
    assert calling == "" and after == 0.0
