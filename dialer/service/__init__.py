"""The dialer as a long-running service (issue 17): users and passwords, the service
host that runs campaigns on gateways from threads of its own, and the web API over it.

- :mod:`~trunkline.dialer.service.passwords`: argon2 hashing and the password rules;
- :mod:`~trunkline.dialer.service.ratelimit`: the login limiter (sans-IO, clock injected);
- :mod:`~trunkline.dialer.service.host`: :class:`ServiceHost`, one runner thread per
  gateway, a command inbox and an event fan-out into asyncio;
- :mod:`~trunkline.dialer.service.web`: the FastAPI application (auth, sessions, CSRF,
  roles, audit, campaigns, the WebSocket);
- :mod:`~trunkline.dialer.service.users_cli`, :mod:`~trunkline.dialer.service.serve_cli`:
  ``trunkline users ...`` and ``trunkline dialer serve``.
"""
