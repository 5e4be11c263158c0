"""The hard dialer: campaigns, lists, pacing, agents, compliance and reports.

One sub-package per part, each usable without the ones after it:

- :mod:`~trunkline.dialer.pacing`: the dialing engine, a sans-IO core (events and ``now``
  in, actions out), its pacers, compliance rules and the simulator (docs/pacing.md);
- :mod:`~trunkline.dialer.campaigns`: numbers, list import, strategies, DNC lists,
  reports and their commands (docs/campaigns.md);
- :mod:`~trunkline.dialer.store`: the campaign database (SQLite), where every decision
  is durable before it is acted on;
- :mod:`~trunkline.dialer.runner`: the campaign runner, the engine driven through the
  gateway (``trunkline dialer run``);
- :mod:`~trunkline.dialer.cleaning`: list cleaning, on the runner's base
  (``trunkline dialer clean``; docs/list-cleaning.md).

At the top: :mod:`~trunkline.dialer.cli` (``trunkline dialer ...``, the command every part
adds its subcommands to), :mod:`~trunkline.dialer.demo` (``trunkline demo``),
:mod:`~trunkline.dialer.vocab` (the words every part speaks) and
:mod:`~trunkline.dialer.errors` (the dialer's errors).
"""
