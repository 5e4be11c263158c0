"""The hard dialer: campaigns, lists, pacing, agents, compliance and reports.

The dialing engine (issue 6) is a sans-IO core, flat in this package:

- :mod:`~trunkline.dialer.engine`: :class:`Engine`, events and ``now`` in, actions out;
- :mod:`~trunkline.dialer.events`, :mod:`~trunkline.dialer.actions`: what goes in and out;
- :mod:`~trunkline.dialer.campaign`: a campaign's settings;
- :mod:`~trunkline.dialer.agents`, :mod:`~trunkline.dialer.calls`: state tables;
- :mod:`~trunkline.dialer.pacing`, :mod:`~trunkline.dialer.learning`: how many to dial;
- :mod:`~trunkline.dialer.compliance`: abandon windows, the hard cap, redial lockouts;
- :mod:`~trunkline.dialer.contacts`: the contact provider interface;
- :mod:`~trunkline.dialer.simulator`, :mod:`~trunkline.dialer.scenario`,
  :mod:`~trunkline.dialer.sampling`: the simulator and its scenario files;
- :mod:`~trunkline.dialer.cli`: ``trunkline dialer ...``.

See docs/pacing.md.
"""
