"""The binding against the real header: numbers come from the compiler, never by hand."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from trunkline.drivers.backends.dahdi import abi

HEADER = Path("/usr/include/dahdi/user.h")

pytestmark = pytest.mark.skipif(not HEADER.exists(), reason="dahdi-source is not installed")


@pytest.fixture(scope="module")
def binding():
    return abi.load()


def _header_defines() -> dict[str, str]:
    text = HEADER.read_text()
    return dict(re.findall(r"^#define\s+(DAHDI_\w+)\s+(.+?)\s*(?:/\*.*)?$", text, re.M))


def test_event_list_is_the_headers_complete_list():
    defined = {name for name in _header_defines() if name.startswith("DAHDI_EVENT_")}
    assert defined == set(abi.EVENT_NAMES)


def test_every_event_code_is_mapped_by_the_backend():
    from trunkline.drivers.backends.dahdi.card import EVENT_MAP

    assert set(EVENT_MAP) == set(abi.EVENT_NAMES)


def test_plain_numbers_match_the_header(binding):
    # Constants written as plain numbers in user.h are compared directly; the compiler
    # already checked the rest (cffi "#define X ..." fails to build if X is missing).
    for name, value in _header_defines().items():
        if re.fullmatch(r"-?\d+", value) and hasattr(binding.lib, name):
            assert getattr(binding.lib, name) == int(value), name


def test_ioctl_numbers_are_linux_encoded(binding):
    lib = binding.lib
    # _IOWR(0xDA, 10, struct dahdi_spaninfo): direction 3, size, type 0xDA, number 10.
    size = binding.ffi.sizeof("struct dahdi_spaninfo")
    assert (3 << 30) | (size << 16) | (0xDA << 8) | 10 == lib.DAHDI_SPANSTAT
    assert (1 << 30) | (binding.ffi.sizeof("int") << 16) | (0xDA << 8) | 38 == lib.DAHDI_SPECIFY
    assert len(set(binding.ioctl_names)) == len(binding.ioctl_names)


def test_structs_have_the_headers_layout(binding):
    ffi = binding.ffi
    # struct dahdi_spaninfo is __attribute__((packed)) in user.h: no padding at all.
    ints, u32s = 17, 5
    chars = 20 + 40 + 40 * 4 + 6
    assert ffi.sizeof("struct dahdi_spaninfo") == ints * 4 + u32s * 4 + chars
    assert ffi.offsetof("struct dahdi_params", "name") == 12 * 4
    assert ffi.sizeof("struct dahdi_maintinfo") == 8


def test_echocan_params_follow_the_header(binding):
    owned = binding.echocan_params(128, {"nlp_type": 3})
    assert owned.pointer.tap_length == 128
    assert owned.pointer.param_count == 1
