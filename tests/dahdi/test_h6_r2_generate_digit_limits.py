"""``config generate`` warns when an MFC/R2 span has no ``max_dnis``/``max_ani``.

Our incoming register takes digits until 2 s of quiet without them, but chan_dahdi.conf
without ``mfcr2_max_dnis`` makes chan_dahdi (and Asterisk) take 4 called digits: the
file written for a machine that goes on running Asterisk cut 11-digit numbers short, and
nothing said so (found generating from the emulated card's layout).
"""

from __future__ import annotations

from pathlib import Path

from trunkline.cli import main

R2_SPAN = ('spec = "1.0"\nbackend = "dahdi"\n[[span]]\nspan = 1\nkind = "e1"\ntiming = 1\n'
           'lbo = 0\nframing = "cas"\ncoding = "hdb3"\ncrc4 = true\nsignalling = "mfcr2"\n'
           'variant = "cn"\n{extra}[[channels]]\nchannels = "1-15,17-31"\n'
           'signalling = "cas"\nidlebits = "1101"\n')


def _generate(tmp_path: Path, extra: str, capsys) -> tuple[str, str]:
    card = tmp_path / "card.toml"
    card.write_text(R2_SPAN.format(extra=extra), encoding="utf-8")
    chan = tmp_path / "chan_dahdi.conf"
    assert main(["config", "generate", "--from", str(card), "--chan-dahdi", str(chan)]) == 0
    return chan.read_text(), capsys.readouterr().err


def test_a_span_without_digit_limits_is_warned_about(tmp_path: Path, capsys) -> None:
    chan, err = _generate(tmp_path, "", capsys)
    assert "signalling=mfcr2\n" in chan and "mfcr2_max_dnis" not in chan
    assert ("warning: span 1: no MFC/R2 max_dnis or max_ani: chan_dahdi will take its "
            "defaults (max_dnis 4, max_ani 10 digits)") in err


def test_a_span_with_them_is_not(tmp_path: Path, capsys) -> None:
    chan, err = _generate(tmp_path, "max_dnis = 11\nmax_ani = 12\n", capsys)
    assert "mfcr2_max_dnis=11\n" in chan and "mfcr2_max_ani=12\n" in chan
    assert "max_dnis" not in err
