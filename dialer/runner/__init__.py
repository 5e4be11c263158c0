"""The campaign runner: the dialing engine driven through the gateway, one part a module.

- :mod:`~trunkline.dialer.runner.gateway`: what a runner needs from a gateway
  (``GatewayPort``), over its socket (``LiveGateway``) or in process on the emulated card
  in virtual time (``InProcessGateway``);
- :mod:`~trunkline.dialer.runner.translator`: gateway wire events of customer calls ->
  engine events and decisions, sans-IO (``WireTranslator``);
- :mod:`~trunkline.dialer.runner.base`: what the campaign runner and the cleaning runner
  share (``GatewayRunner``: the step loop, timers, the shift, gateway errors);
- :mod:`~trunkline.dialer.runner.settling`: the attempts a crashed run left open;
- :mod:`~trunkline.dialer.runner.settings`: a campaign's engine config and runner
  settings from the store;
- :mod:`~trunkline.dialer.runner.campaign_runner`: ``CampaignRunner`` itself;
- :mod:`~trunkline.dialer.runner.summary`: the bridges made, the summary, its printing;
- :mod:`~trunkline.dialer.runner.cli`: ``trunkline dialer run``.

See docs/campaigns.md, "Running campaigns".
"""
