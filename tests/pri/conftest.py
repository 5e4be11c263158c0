"""Fixtures for the PRI tests."""

from __future__ import annotations

import pytest
from pri_helpers import RecordingLogger, make_pair

from trunkline.clock import VirtualClock
from trunkline.drivers.signalling.pri.link import LinkPair
from trunkline.drivers.signalling.pri.span import PriSpan


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(100.0)


@pytest.fixture
def logger() -> RecordingLogger:
    return RecordingLogger()


@pytest.fixture
def pair() -> LinkPair:
    return LinkPair()


@pytest.fixture
def spans(clock: VirtualClock, logger: RecordingLogger,
          pair: LinkPair) -> tuple[PriSpan, PriSpan]:
    cpe, net = make_pair(clock, logger, pair)
    yield cpe, net
    cpe.close()
    net.close()
