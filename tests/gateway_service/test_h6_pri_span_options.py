"""A PRI ``[[span]]`` table refuses an option or a libpri timer it does not know, naming
the file and the table's line, as the MFC/R2 and SS7 tables do (issue 15: a fresh
installer's ``timers = {T999 = 5}`` started the gateway; the PRI module took any key)."""

from __future__ import annotations

from pathlib import Path

import pytest

from trunkline.clock import VirtualClock
from trunkline.drivers.native import libpri
from trunkline.drivers.signalling.pri.options import TIMER_NAMES
from trunkline.errors import ConfigError
from trunkline.gateway.config import load_config
from trunkline.gateway.service import GatewayService

TABLE = '[card]\nzone = "cn"\n\n[[span]]\nspan = 1\nsignalling = "pri"\n'


def _service(tmp_path: Path, options: str) -> tuple[Path, GatewayService]:
    path = tmp_path / "gw.toml"
    path.write_text(TABLE + options, encoding="utf-8")
    return path, GatewayService(load_config(path), clock=VirtualClock())


@pytest.mark.parametrize(("options", "words"), [
    ("timers = {T999 = 5}\n", "[[span]] span 1: unknown libpri timer 'T999'; libpri's "
                              "Q.921/Q.931 timers: N200, "),
    ("swichtype = \"ni2\"\n", "[[span]] span 1: unknown PRI option swichtype; known: "
                              "switchtype (the switch type (4ess, "),
    ("timers = {T303 = -1}\n", "[[span]] span 1: PRI timer T303 must be a whole number "
                               "of milliseconds >= 0, not -1"),
    ("timers = 4000\n", "[[span]] span 1: PRI option timers must be a table"),
    ("trace = \"no\"\n", "[[span]] span 1: PRI option trace must be true or false"),
    ("switchtype = \"ni9\"\n", "[[span]] span 1: unknown switch type 'ni9'"),
])
def test_a_bad_pri_option_names_the_file_and_line(tmp_path: Path, options: str,
                                                  words: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _service(tmp_path, options)
    assert str(caught.value).startswith(f"{tmp_path / 'gw.toml'}:5: {words}")


def test_known_options_reach_the_span(tmp_path: Path) -> None:
    _path, service = _service(tmp_path, 'switchtype = "qsig"\ntrace = false\n'
                                        "timers = {T303 = 4500, N200 = 4, T310 = 20000}\n")
    try:
        span = service.engine.loop.module(1).pri
        assert span.config.switchtype == "qsig"
        assert (span.get_timer("T303"), span.get_timer("N200")) == (4500, 4)
        assert span.t310 == 20.0
    finally:
        service.card.close()


def test_every_timer_the_message_lists_is_one_libpri_knows() -> None:
    lib = libpri.load().lib
    assert all(lib.pri_timer2idx(name.encode()) >= 0 for name in TIMER_NAMES)
    assert lib.pri_timer2idx(b"T999") < 0
