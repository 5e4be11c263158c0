"""The dialing engine: a sans-IO core that decides whom to dial and whom to connect.

Events and ``now`` in, actions out; no clock, no I/O (docs/pacing.md):

- :mod:`~trunkline.dialer.pacing.engine`: :class:`Engine`, the one state machine, and
  its parts by kind of event: ``engine_agents``, ``engine_previews``,
  ``engine_dialing``, ``engine_calls``, ``engine_transfers``, over the books they share
  (``engine_books``, per campaign ``campaign_run``);
- :mod:`~trunkline.dialer.pacing.events`, :mod:`~trunkline.dialer.pacing.actions`: what
  goes in and what comes out;
- :mod:`~trunkline.dialer.pacing.campaign`: a campaign's settings;
- :mod:`~trunkline.dialer.pacing.agents`, :mod:`~trunkline.dialer.pacing.calls`: the
  agent and call state tables;
- :mod:`~trunkline.dialer.pacing.pacers`, :mod:`~trunkline.dialer.pacing.learning`: how
  many to dial, from what the campaign has seen;
- :mod:`~trunkline.dialer.pacing.compliance`: abandon windows, the hard cap, redial
  lockouts;
- :mod:`~trunkline.dialer.pacing.contacts`: the contact provider interface;
- :mod:`~trunkline.dialer.pacing.simulator`, :mod:`~trunkline.dialer.pacing.scenario`,
  :mod:`~trunkline.dialer.pacing.sampling`: the simulator and its scenario files.

Nothing here imports the store, the gateway or the runner: they drive the engine.
"""
