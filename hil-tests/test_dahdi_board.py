"""Tests of a DAHDI card: run with ``pytest hil-tests --card dahdi`` on a board.

They also run on the simulated kernel (``--card dahdi:sim``), except the timing test,
which measures the board against real time; they skip on ``--card emulated``. They only
read and loop back: no call is placed, no configuration changed.
"""

from __future__ import annotations

import pytest

from trunkline.clock import RealClock
from trunkline.drivers.commissioning.checks import (
    TIMING_PASS_PERCENT,
    judge_timing,
    measure_timing,
)
from trunkline.drivers.commissioning.testing import run_loopback
from trunkline.drivers.model import Alarm, SpanKind


@pytest.fixture
def board(card):
    """A DAHDI card: a board, or the simulated kernel."""
    if card.backend != "dahdi":
        pytest.skip("needs a DAHDI card (--card dahdi, or dahdi:sim)")
    return card


@pytest.fixture
def real_board(board, card_url):
    if card_url.startswith("dahdi:sim"):
        pytest.skip("measures a real board against real time (--card dahdi)")
    return board


def _digital_up(board):
    spans = [s for s in board.spans if s.kind in (SpanKind.E1, SpanKind.T1) and s.channels
             and not board.span_status(s.number).alarms & (Alarm.RED | Alarm.BLUE)]
    if not spans:
        pytest.skip("no E1/T1 span is up on this board")
    return spans


def test_board_reports_its_spans(board):
    assert board.spans, "DAHDI reported no span"
    version, _ = board.version()
    assert version
    for span in board.spans:
        board.span_status(span.number)


def test_timing_is_within_dahdi_test_limits(real_board):
    result = measure_timing(real_board, RealClock(), passes=3)
    assert not result.error, judge_timing(result)[0].line()
    assert result.average >= TIMING_PASS_PERCENT, judge_timing(result)[0].line()


def test_local_loopback_pattern(board):
    span = _digital_up(board)[0]
    findings = run_loopback(board, [span.number], "local", 1.0)
    assert findings[0].level == "PASS", findings[0].line()
    assert not board.span_status(span.number).alarms & Alarm.LOOPBACK


def test_channels_open_read_and_close(board):
    channels = [c for s in board.spans for c in s.channels][:8]
    board.open(channels)
    try:
        for _ in range(10):
            assert board.read_frames().shape == (len(channels), 160)
    finally:
        board.close_channel(channels)
