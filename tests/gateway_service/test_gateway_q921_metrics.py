"""The gateway counts each PRI span's Q.921 MDL-ERRORs by span and code
(``trunkline_gateway_q921_errors_total{span,code}``; what the codes mean: docs/pri.md)."""

from __future__ import annotations

from trunkline.drivers.signalling.pri.signalling import PriSignalling
from trunkline.gateway.config import GatewayConfig
from trunkline.gateway.metrics import GatewayMetrics
from trunkline.gateway.testing import VirtualGateway


def test_running_totals_are_counted_by_what_they_grew() -> None:
    metrics = GatewayMetrics()
    metrics.q921_errors_seen(1, {"A": 2})
    metrics.q921_errors_seen(1, {"A": 2, "C": 1})
    metrics.q921_errors_seen(2, {"A": 1})
    metrics.q921_errors_seen(1, {"A": 5, "C": 1})
    name = "trunkline_gateway_q921_errors_total"
    assert metrics.value(name, {"span": "1", "code": "A"}) == 5
    assert metrics.value(name, {"span": "1", "code": "C"}) == 1
    assert metrics.value(name, {"span": "2", "code": "A"}) == 1
    metrics.q921_errors_seen(2, {"A": 0})  # a new span object starts again from zero
    metrics.q921_errors_seen(2, {"A": 1})
    assert metrics.value(name, {"span": "2", "code": "A"}) == 2


def test_the_engine_reports_each_pri_span_once_a_second() -> None:
    with VirtualGateway(GatewayConfig(), start=0.0) as gw:
        spans = {span: module for span, module in gw.engine.loop.modules.items()
                 if isinstance(module, PriSignalling)}
        assert spans, "the emulated card has PRI spans"
        span, module = next(iter(spans.items()))
        gw.run(1.0)
        module.pri.q921_errors["A"] += 2  # as libpri's reports would count them
        gw.run(1.0)
        assert gw.service.metrics.value(
            "trunkline_gateway_q921_errors_total", {"span": str(span), "code": "A"}) == 2
