"""What an operator's dashboards and logs see (issue 15, red-team 13): card frames lost
are counted as overruns, and a handler's bug is logged with its traceback."""

from __future__ import annotations

import io
import json
import sys

from trunkline.gateway.config import GatewayConfig
from trunkline.gateway.testing import VirtualGateway
from trunkline.logs import configure_logging


def test_card_frames_lost_count_as_overruns() -> None:
    with VirtualGateway(GatewayConfig(), start=0.0) as gw:
        metrics = gw.service.metrics
        gw.tick()
        before = metrics.tick_overruns._value.get()
        gw.card.overruns += 4  # the card lost four frames: the tick read them too late
        gw.tick()
        gw.tick()
        assert metrics.card_overruns._value.get() == 4
        assert metrics.tick_overruns._value.get() == before + 1


def test_an_internal_error_is_logged_with_its_traceback(monkeypatch) -> None:
    from trunkline.gateway.rpc.registry import MethodRegistry

    stderr = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stderr)
    configure_logging("info", json=True)
    try:
        registry = MethodRegistry()
        try:
            {}["boom"]
        except KeyError as exc:
            error = registry.failure("call.play", exc)
        assert error.name == "internal"
    finally:
        configure_logging("warning")
    line = next(json.loads(x) for x in stderr.getvalue().splitlines()
                if "handler_failed" in x)
    assert line["method"] == "call.play"
    assert line["exception"].startswith("Traceback (most recent call last)")
    assert "KeyError: 'boom'" in line["exception"]
