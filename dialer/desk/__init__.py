"""The agent desk (issue 17, agent-desktop): what an agent at a screen does, sans-IO.

- :mod:`~trunkline.dialer.desk.config`: pause codes (site), dispositions with typed
  fields, script, wrap-up limit (campaign); read from TOML, checked when built;
- :mod:`~trunkline.dialer.desk.commands`: what the agent asks (frozen dataclasses,
  ``to_dict``/:func:`~trunkline.dialer.desk.commands.command_from_dict`);
- :mod:`~trunkline.dialer.desk.outputs`: what comes back (screen events, runner ops,
  store writes) and the contact card of the screen pop;
- :mod:`~trunkline.dialer.desk.script`: the script with the contact's fields, safely;
- :mod:`~trunkline.dialer.desk.desk`: the state machine that ties them to the engine.

The runner that carries the desk out is
:class:`~trunkline.dialer.runner.desk_runner.DeskRunner`.
"""
