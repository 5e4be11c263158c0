"""The gateway service: owns the cards and presents every channel through one API.

The wire layer (see ``docs/protocol.md``), importable without loading any native library:

- :mod:`trunkline.gateway.rpc.protocol`: framing (length-prefixed msgpack maps), the sans-IO
  :class:`~trunkline.gateway.rpc.protocol.FrameDecoder`, request validation.
- :mod:`trunkline.gateway.rpc.errors`: wire error codes and the exceptions that carry them.
- :mod:`trunkline.gateway.rpc.registry`: the method registry, parameter schemas, roles.
- :mod:`trunkline.gateway.rpc.server`: the asyncio server (Unix socket, TCP, TLS), event
  fan-out, statistics and the built-in methods; it re-exports ``Session`` and
  ``Subscription``.
- :mod:`trunkline.gateway.rpc.session`: one client connection (the ``asyncio.Protocol``).
- :mod:`trunkline.gateway.rpc.subscriptions`: a client's event filter.
- :mod:`trunkline.gateway.rpc.client`: the asyncio client and the blocking ``GatewayClient``.
- :mod:`trunkline.gateway.metrics`: Prometheus metrics and the /metrics endpoint.

This package imports nothing by itself; import the module you need.
"""
