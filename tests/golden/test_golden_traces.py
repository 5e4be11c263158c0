"""The wire traces of every number-plan behaviour stay exactly as recorded (golden_kit),
over the socket and in process."""

from __future__ import annotations

import pytest
from golden_kit import load_golden, record_socket, record_virtual
from scenarios import SCENARIOS

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_socket_service_reproduces_the_golden_trace(name: str) -> None:
    trace = record_socket(SCENARIOS[name]).as_json()
    golden = load_golden(name)
    assert trace["replies"] == golden["replies"]
    assert trace["events"] == golden["events"]


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_in_process_gateway_reproduces_the_golden_trace(name: str) -> None:
    trace = record_virtual(SCENARIOS[name]).as_json()
    golden = load_golden(name)
    assert trace["replies"] == golden["replies"]
    assert trace["events"] == golden["events"]
