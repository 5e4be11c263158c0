"""Campaign operations: what is dialled, when, and what it came to.

- :mod:`~trunkline.dialer.campaigns.numbers`: phone numbers normalised to E.164 (China's
  mobile and fixed-line plans), and the dial strings sent to a trunk;
- :mod:`~trunkline.dialer.campaigns.lists`: CSV list import (encodings, merging,
  rejected rows) and the watched folder;
- :mod:`~trunkline.dialer.campaigns.strategies`: retries, calling windows in the
  contact's time zone, daily and weekly limits, the best time to call;
- :mod:`~trunkline.dialer.campaigns.dnc`: do-not-call list files;
- :mod:`~trunkline.dialer.campaigns.reports`: per campaign, agent and hour, from the store;
- :mod:`~trunkline.dialer.campaigns.cli`: ``trunkline dialer campaign|import|watch|dnc|
  report``.

The campaign database itself is :mod:`trunkline.dialer.store` (docs/campaigns.md).
"""
