"""List cleaning (外呼数据预处理, issue 7 item 3): find the bad numbers before the real campaign.

A *cleaning campaign* is an ordinary campaign in the store whose config says
``{"type": "cleaning", "cleaning": {...settings...}}``. The
:class:`~trunkline.dialer.cleaning.runner.CleaningRunner` dials its list through a
:class:`~trunkline.dialer.runner.gateway.GatewayPort` with no agents and no pacing engine:
it keeps up to ``concurrency`` lines busy, places at most ``rate`` calls a second
(carriers flag bursts of short calls), and **releases every call before it is answered**:
as soon as the network says the number rings (PRI ALERTING, FXO ring-back heard: the
gateway's ``call.state ringing``) the call is hung up. What the network said until then
classifies the number:

=============  ==================================================================
class          meaning
=============  ==================================================================
``invalid``    the number does not exist (空号): Q.850 cause 1, 22, 28; SIT; an
               "invalid number" / "not in service" announcement
``barred``     suspended or barred from incoming calls (停机): cause 54, 55; a
               "call barred" announcement
``powered_off``  the phone is off (关机): cause 20; a "powered off" announcement
``unreachable``  out of coverage or out of order (无法接通): cause 18, 27; an
               "unreachable" announcement
``live``       the number rang, was busy or answered: it exists and works
``unknown``    nothing decisive (congestion, network errors, silence) after the
               configured retries
=============  ==================================================================

How each piece of evidence is read is in the tables of
:mod:`~trunkline.dialer.cleaning.verdicts` (``CAUSE_CLASSES``, ``ANNOUNCEMENT_CLASSES``,
``SIT_CLASSES``, ``OUTCOME_CLASSES``); one :class:`~trunkline.dialer.cleaning.probe.Probe`
per call applies them in one place (see its transition table). A call
whose evidence is undetermined (``unknown``) is tried again ``retries`` times, each
``retry_after`` seconds later, before the number is reported as ``unknown``.

The store's contract holds as for the campaign runner (docs/campaigns.md): a contact is
claimed (``claim_next``, committed) and its attempt is marked ``dialing`` (committed,
DNC re-checked) **before** the originate is sent; the gateway's call id is stored as the
attempt's ``call_ref``. The verdict is committed in one transaction: the attempt's
``outcome`` and ``cause`` (what the call did, in the dialer's outcome vocabulary), its
``note`` (JSON: the class and the evidence), and the contact's state: ``done`` with
``last_outcome`` = the class, or ``ready`` again for a retry. No schema change: only the
existing tables are used.

:func:`~trunkline.dialer.cleaning.results.apply_cleaning` then removes the bad numbers
from the campaign that will really be dialled: each goes on the *target campaign's* DNC
list (``kind`` = the class, ``source`` = the cleaning campaign), and the target's contacts
still waiting are set to ``dnc``, so they are never claimed; numbers imported into the
target later are barred at claim time.
By default only ``invalid`` and ``barred`` are removed (``DEFAULT_REMOVE``): those are
properties of the number; a phone powered off or out of coverage is usually so for hours.

What it does not do: it cannot tell a carrier that *answers* to play an announcement from
a person (the call is hung up at the answer: ``live``); such carriers need their
announcement recognised before the answer, or the numbers come out ``live``. Unrecognised
announcements on FXO lines without polarity reversal are taken by the gateway as an
answer (docs/emulated-network.md, the FXO controller): add the carrier's recording
(``trunkline announcements add``).

The parts, one module each:

- :mod:`~trunkline.dialer.cleaning.verdicts`: the classes and the tables that read the
  evidence (Q.850 causes, SIT codes, announcements, the gateway's outcomes);
- :mod:`~trunkline.dialer.cleaning.probe`: ``Probe``, one call's sans-IO machine;
- :mod:`~trunkline.dialer.cleaning.settings`: a cleaning campaign's settings, and
  creating one from another campaign's contacts;
- :mod:`~trunkline.dialer.cleaning.results`: verdicts recorded, numbers by class, and
  ``apply_cleaning``;
- :mod:`~trunkline.dialer.cleaning.runner`: ``CleaningRunner``, which shares the
  campaign runner's base (:class:`~trunkline.dialer.runner.base.GatewayRunner`);
- :mod:`~trunkline.dialer.cleaning.cli`: ``trunkline dialer clean ...``.

The SQL is the store's (:mod:`trunkline.dialer.store.cleaning`).
"""
