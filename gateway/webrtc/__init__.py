"""Agents in the browser (issue 19): WebRTC audio as an agent position.

- :mod:`~trunkline.gateway.webrtc.jitter`: the jitter buffer and loss concealment (sans-IO).
- :mod:`~trunkline.gateway.webrtc.rfc4733`: DTMF as RTP telephone-events (sans-IO).

docs/softphone.md says how it fits together.
"""
