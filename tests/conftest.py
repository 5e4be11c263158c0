from __future__ import annotations

from pathlib import Path

import pytest

REAL_AUDIO = Path(__file__).resolve().parents[2] / "shared" / "testdata" / "real-audio"


@pytest.fixture
def real_audio() -> Path:
    """The shared folder of real recordings (skips when it is not beside the checkout)."""
    if not REAL_AUDIO.is_dir():
        pytest.skip(f"real audio not found at {REAL_AUDIO}")
    return REAL_AUDIO
