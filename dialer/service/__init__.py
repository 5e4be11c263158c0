"""The dialer as a long-running service (issue 17): users and passwords, the service
host that runs campaigns on gateways from threads of its own, and the web API over it
(docs/dialer-service.md).

- :mod:`~trunkline.dialer.service.passwords`: argon2id hashing and the password rules;
- :mod:`~trunkline.dialer.service.ratelimit`: the login limiter (sans-IO, clock injected);
- :mod:`~trunkline.dialer.service.websessions`: web sessions (sans-IO, clock injected);
- :mod:`~trunkline.dialer.service.host`: :class:`ServiceHost`, one runner thread per
  gateway, a command inbox and an event fan-out into asyncio;
- :mod:`~trunkline.dialer.service.web`: the FastAPI application, the request guard
  (body size, JSON, Origin), JSON errors and the WebSocket;
- :mod:`~trunkline.dialer.service.web_auth`: the session cookie, CSRF, roles, the
  signing key, the audit, as dependencies;
- :mod:`~trunkline.dialer.service.web_routes`, :mod:`~trunkline.dialer.service.web_desk`:
  the routes (session, campaigns, calls, audit, users; the agent's desk), with their
  bodies in :mod:`~trunkline.dialer.service.web_models`;
- :mod:`~trunkline.dialer.service.users_cli`, :mod:`~trunkline.dialer.service.serve_cli`:
  ``trunkline users ...`` and ``trunkline dialer serve``.
"""
