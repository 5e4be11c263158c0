"""The hard dialer: campaigns, lists, pacing, agents, compliance and reports.

One sub-package per part:

- :mod:`~trunkline.dialer.pacing`: the dialing engine, a sans-IO core (events and ``now``
  in, actions out), its pacers, compliance rules and the simulator (docs/pacing.md);
- :mod:`~trunkline.dialer.campaigns`: numbers, list import, strategies, DNC lists,
  reports and their commands (docs/campaigns.md);
- :mod:`~trunkline.dialer.cli`: ``trunkline dialer ...``, the command every part adds its
  subcommands to; :mod:`~trunkline.dialer.vocab`: the words every part speaks;
  :mod:`~trunkline.dialer.errors`: the dialer's errors.
"""
