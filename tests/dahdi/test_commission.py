"""Every commissioning command, on the emulated card and the simulated DAHDI kernel,
with injected faults: each fault shows its verdict and likely cause."""

from __future__ import annotations

import numpy as np
import pytest
from dahdi_helpers import SMALL_SYSTEM, sim_card

from trunkline.cli import main
from trunkline.clock import VirtualClock
from trunkline.drivers.backends.emulated.card import EmulatedCard
from trunkline.drivers.backends.emulated.config import FaultConfig
from trunkline.drivers.commissioning.checks import (
    diagnose_span,
    judge_timing,
    measure_timing,
)
from trunkline.drivers.commissioning.testing import run_levels, run_loopback, run_tones
from trunkline.drivers.model import Alarm

CARD = """\
spec = "1.0"
name = "bench"
zone = "cn"
[[span]]
kind = "e1"
signalling = "pri"
[[span]]
kind = "fxo"
ports = 2
"""


@pytest.fixture
def card():
    from trunkline.drivers.backends.emulated.config import card_config_from_string

    c = EmulatedCard(card_config_from_string(CARD), clock=VirtualClock())
    yield c
    c.close()


def card_file(tmp_path, faults: str = "") -> str:
    path = tmp_path / "card.toml"
    path.write_text(CARD + faults)
    return f"emulated:{path}"


def levels(findings) -> list[str]:
    return [f.level for f in findings]


# -- scan ---------------------------------------------------------------------------------
def test_scan_clean_card(capsys):
    assert main(["scan"]) == 0
    out = capsys.readouterr().out
    assert "PASS  span 1 (E1): up, no alarms (ccs/hdb3/crc4)" in out
    assert "verdict:" in out


@pytest.mark.parametrize(("alarm", "text", "cause"), [
    ("red", "RED alarm", "framing or CRC4 mismatch"),
    ("yellow", "YELLOW alarm", "the far end does not receive us"),
    ("blue", "BLUE alarm", "upstream of the far end"),
])
def test_scan_alarm_shows_its_cause(tmp_path, capsys, alarm, text, cause):
    url = card_file(tmp_path, f'[[fault]]\nat = 0.0\nkind = "alarm"\nspan = 1\n'
                              f'alarm = "{alarm}"\n')
    assert main(["scan", "--card", url]) == 1
    out = capsys.readouterr().out
    assert f"FAIL  span 1 (E1): {text}" in out and cause in out
    assert "verdict: FAIL" in out


def test_scan_json(capsys):
    assert main(["scan", "--json"]) == 0
    import json

    data = json.loads(capsys.readouterr().out)
    assert data["spans"][0]["framing"] == "ccs" and data["verdict"] in ("PASS", "WARN")


def test_scan_counters_name_their_causes(card):
    span = card.span(1)
    status = card.span_status(1)
    status.counters.bpv, status.counters.irqmisses, status.counters.timingslips = 12, 3, 2
    found = {f.message: f.cause for f in diagnose_span(span, status)}
    assert "line coding mismatch" in found["12 bipolar violations"]
    assert "/proc/interrupts" in found["3 IRQ misses"]
    assert "sync source" in found["2 timing slips"]


def test_scan_on_the_simulated_kernel_with_a_crc4_mismatch(capsys, tmp_path):
    path = tmp_path / "sys.toml"
    path.write_text(SMALL_SYSTEM.replace('far_end = "loop"', 'far_end = "loop"\ncrc4 = false'))
    assert main(["scan", "--card", f"dahdi:sim={path}"]) == 1
    out = capsys.readouterr().out
    assert "RED alarm (LMFA)" in out and "CRC4 set on one side only" in out
    assert "module wct4xxp" in out


def test_scan_without_dahdi_lists_pci_boards(monkeypatch, capsys, tmp_path):
    from test_profiles import _device

    _device(tmp_path, "0000:03:00.0", "0xd161", "0x800a")
    monkeypatch.setattr("os.path.exists", lambda path: False)
    assert main(["scan", "--card", "dahdi", "--sysfs", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "Wildcard TE131/TE133" in err and "modprobe wcte13xp" in err
    assert "/dev/dahdi/ctl not found" in err


# -- timing -------------------------------------------------------------------------------
class DriftingClock(VirtualClock):
    """A reference that sees each card frame take 20.1 ms (the card runs 0.5 % slow)."""

    def __init__(self, card_clock: VirtualClock, factor: float) -> None:
        super().__init__()
        self.card_clock = card_clock
        self.factor = factor

    def now(self) -> float:
        return self.card_clock.now() * self.factor


def test_timing_passes_on_the_cards_own_clock(card, capsys):
    result = measure_timing(card, card.clock, passes=2)
    assert levels(judge_timing(result)) == ["PASS"]
    assert main(["test", "timing", "--passes", "2"]) == 0
    assert "(>= 99.99%)" in capsys.readouterr().out


def test_timing_drift_fails_with_its_cause(card):
    result = measure_timing(card, DriftingClock(card.clock, 1.005), passes=2)
    findings = judge_timing(result)
    assert result.average == pytest.approx(99.5, abs=1e-6)
    assert findings[0].level == "FAIL" and "no hardware timing source" in findings[0].cause


def test_timing_stall_is_no_timing_source():
    card, kernel = sim_card()
    with card:
        card.open(1)
        kernel.inject("stall")
        findings = judge_timing(measure_timing(card, kernel.clock, passes=1))
        card.close_channel(1)
    assert findings[0].level == "FAIL" and "no timing source" in findings[0].cause


def test_timing_irq_misses_warn(card):
    card.span_status(1).counters.irqmisses = 0

    class Missing(VirtualClock):
        def now(inner) -> float:
            card.span_status(1).counters.irqmisses += 1
            return card.clock.now()

    findings = judge_timing(measure_timing(card, Missing(), passes=1))
    assert "WARN" in levels(findings) and any("IRQ misses" in f.message for f in findings)


# -- loopback -----------------------------------------------------------------------------
def test_loopback_pattern_is_bit_exact(card, capsys):
    findings = run_loopback(card, [1], "local", 0.5)
    assert levels(findings) == ["PASS"] and "bit-exact on 30 B-channels" in findings[0].message
    assert card.span_status(1).loopback == "" and not card.open_channels
    assert main(["test", "loopback", "--seconds", "0.5"]) == 0


def test_loopback_slips_corrupt_the_pattern():
    from trunkline.drivers.backends.emulated.config import card_config_from_string

    config = card_config_from_string(CARD + '[[fault]]\nat = 0.3\nkind = "slip"\nspan = 1\n')
    with EmulatedCard(config, clock=VirtualClock()) as card:
        findings = run_loopback(card, [1], "local", 0.5)
    assert findings[0].level == "FAIL" and "timing slips" in findings[0].cause


def test_loopback_on_a_red_span_does_not_close(card):
    card.inject(FaultConfig(0, "alarm", span=1, alarm="red"))
    findings = run_loopback(card, [1], "local", 0.5)
    assert findings[0].level == "FAIL" and "did not come back" in findings[0].message


def test_loopback_network_modes_and_analog(card):
    findings = run_loopback(card, [1, 2], "network_line", 0.2)
    assert levels(findings) == ["PASS", "WARN"]
    assert "carrier can run its pattern test" in findings[0].message


def test_loopback_on_the_simulated_kernel(capsys):
    card, _ = sim_card(SMALL_SYSTEM.replace('far_end = "loop"', 'far_end = "idle"'))
    with card:
        findings = run_loopback(card, [1], "local", 0.4)
    assert levels(findings) == ["PASS"]


# -- tones ----------------------------------------------------------------------------------
def test_tones_pass_end_to_end(card, capsys):
    findings = run_tones(card, "cn", None, None, 6.0)
    assert levels(findings) == ["PASS"] * 5
    assert any("cadence 350/350 ms" in f.message for f in findings)
    assert main(["test", "tones", "--seconds", "6"]) == 0


def test_tones_with_the_wrong_zone_fail(card):
    findings = run_tones(card, "us", None, 32, 6.0)
    line = findings[-1]
    assert line.level == "FAIL" and "zone says 350, 440 Hz" in line.message
    assert "tone zone" in line.cause


def test_tones_on_a_red_span_and_a_dead_line(card):
    card.inject(FaultConfig(0, "alarm", span=1, alarm="red"))
    card.inject(FaultConfig(0, "out_of_service", channel=32))
    findings = run_tones(card, "cn", None, None, 3.0)
    assert all(f.level == "FAIL" for f in findings)
    assert "span is in alarm" in findings[0].cause
    assert "no line on this port" in findings[-1].cause


def test_tones_on_the_simulated_kernel():
    card, _ = sim_card()
    with card:
        findings = run_tones(card, "cn", None, None, 6.0)
    assert levels(findings) == ["PASS"] * 5


# -- levels ---------------------------------------------------------------------------------
def test_levels_hear_dial_tone(card, capsys):
    findings = run_levels(card, [32, 33], True, 0.5)
    assert levels(findings) == ["PASS", "PASS"]
    assert "-13.0 dBm0" in findings[0].message
    assert main(["test", "levels", "--seconds", "0.5"]) == 0


def test_levels_dead_line_fails(card):
    card.inject(FaultConfig(0, "out_of_service", channel=33))
    findings = run_levels(card, [32, 33], True, 0.5)
    assert levels(findings) == ["PASS", "FAIL"]
    assert "out of service" in findings[1].message


def test_levels_rejects_bad_ranges(capsys):
    assert main(["test", "levels", "--channels", "9-2"]) == 1
    assert "bad channel range" in capsys.readouterr().err


# -- config -----------------------------------------------------------------------------------
def test_config_generate_round_trips(tmp_path, capsys):
    out = tmp_path / "card.toml"
    conf = tmp_path / "system.conf"
    assert main(["config", "generate", "-o", str(out), "--system-conf", str(conf)]) == 0
    from trunkline.drivers.backends.dahdi import sysconf

    config = sysconf.load_config(out)
    assert [s.span for s in config.spans][:2] == [1, 2]
    text = conf.read_text()
    assert "span=1,1,0,ccs,hdb3,crc4" in text and "dchan=16" in text
    assert "fxsks=63-70" in text and "fxoks=71-82" in text


def test_config_generate_on_the_simulated_kernel_covers_unconfigured_spans(capsys):
    assert main(["config", "generate", "--card", "dahdi:sim"]) == 0
    out = capsys.readouterr().out
    assert 'channels = "63-77,79-93"' in out and 'channels = "78"' in out


def test_config_import_cli(tmp_path, capsys):
    from test_sysconf import CHAN_DAHDI, GENCONF

    (tmp_path / "system.conf").write_text(GENCONF)
    (tmp_path / "chan_dahdi.conf").write_text(CHAN_DAHDI)
    assert main(["config", "import", "--system-conf", str(tmp_path / "system.conf"),
                 "--chan-dahdi", str(tmp_path / "chan_dahdi.conf")]) == 0
    captured = capsys.readouterr()
    assert 'signalling = "fxo_ks"' in captured.out
    assert "musiconhold is not used" in captured.err


def test_config_import_reports_malformed_lines(tmp_path, capsys):
    (tmp_path / "system.conf").write_text("span=1,1,0,ccs,hdb3\nbchan=1-15,17-31\n")
    assert main(["config", "import", "--system-conf", str(tmp_path / "system.conf"),
                 "--chan-dahdi", str(tmp_path / "none.conf")]) == 1
    assert "none.conf: cannot read" in capsys.readouterr().err
    (tmp_path / "system.conf").write_text("span=1,1,0,ccs,hdb3\nbchan=1-15,17-31\nbogus\n")
    assert main(["config", "import", "--system-conf", str(tmp_path / "system.conf")]) == 1
    assert "line 3: expected 'keyword=value'" in capsys.readouterr().err


def test_config_apply_on_the_simulated_kernel(tmp_path, capsys):
    from trunkline.drivers.backends.dahdi import sysconf
    from trunkline.drivers.commissioning.config import generate_config, plan_apply

    card, kernel = sim_card(SMALL_SYSTEM.replace('configured = "pri"', 'configured = ""'))
    with card:
        assert card.span(1).channels == ()
        config = generate_config(card)
        findings, actions = plan_apply(card, config)
        assert not [f for f in findings if f.level == "FAIL"]
        for _, request, arg in actions:
            if request:  # (the tone zones are loaded by card.load_zones)
                card.ioctl_ctl(request, arg)
    assert kernel.chans[16].sigtype == kernel.lib.DAHDI_SIG_HDLCFCS
    assert kernel.spans[0].running and not kernel.spans[0].alarms & kernel.lib.DAHDI_ALARM_RED
    card2 = type(card)(kernel)
    with card2:
        assert card2.span(1).dchannel == 16 and len(card2.span(1).channels) == 30
    path = tmp_path / "c.toml"
    path.write_text(sysconf.to_toml(config))
    assert main(["config", "apply", str(path), "--dry-run", "--card", "dahdi:sim"]) == 0
    assert "would run: DAHDI_SPANCONFIG span 1" in capsys.readouterr().out


def test_config_apply_mismatch_fails(tmp_path, capsys):
    path = tmp_path / "c.toml"
    path.write_text('spec = "1.0"\n[[span]]\nspan = 1\ntiming = 1\nlbo = 0\n'
                    'framing = "esf"\ncoding = "b8zs"\n[[channels]]\nchannels = "1-400"\n'
                    'signalling = "bchan"\n')
    assert main(["config", "apply", str(path), "--card", "dahdi:sim"]) == 1
    out = capsys.readouterr().out
    assert "configured as T1" in out and "not on this card" in out
    assert main(["config", "apply", str(path)]) == 1


def test_config_apply_on_the_emulated_card_checks_only(tmp_path, capsys):
    from trunkline.drivers.backends.dahdi import sysconf
    from trunkline.drivers.commissioning.config import generate_config

    with EmulatedCard(clock=VirtualClock()) as card:
        text = sysconf.to_toml(generate_config(card))
    path = tmp_path / "c.toml"
    path.write_text(text)
    assert main(["config", "apply", str(path)]) == 0
    assert "nothing is applied" in capsys.readouterr().out


# -- status -----------------------------------------------------------------------------------
def test_status_once(capsys, tmp_path):
    url = card_file(tmp_path, '[[fault]]\nat = 0.0\nkind = "alarm"\nspan = 1\nalarm = "red"\n')
    assert main(["status", "--once", "--card", url]) == 0
    out = capsys.readouterr().out
    assert "spans" in out and "ccs/hdb3/crc4" in out
    assert main(["status", "--once", "--card", "dahdi:sim"]) == 0
    assert "NOTOPEN" in capsys.readouterr().out


# -- the maintenance addition to the backend interface ----------------------------------------
def test_emulated_local_loopback_returns_what_we_send(card):
    card.open([1, 2])
    card.set_maintenance(1, "local")
    status = card.span_status(1)
    assert status.alarms & Alarm.LOOPBACK and status.loopback == "local"
    card.read_frames()
    card.write_frames(np.full((2, 160), 1234, np.int16))
    rx = card.read_frames()
    assert np.all(np.abs(rx - 1234) < 40)
    card.set_maintenance(1, "off")
    card.read_frames()
    card.write_frames(np.full((2, 160), 1234, np.int16))
    assert not np.all(np.abs(card.read_frames() - 1234) < 40)
    kinds = [e.kind.value for e in card.poll_events() if e.span == 1]
    assert kinds == ["noalarm", "noalarm"]
    with pytest.raises(ValueError, match="maintenance mode must be one of"):
        card.set_maintenance(1, "sideways")
    card.close_channel([1, 2])


def test_config_apply_loads_the_tone_zones_a_fresh_kernel_lacks(tmp_path, capsys):
    from trunkline.drivers.backends.dahdi import sysconf
    from trunkline.drivers.commissioning.config import generate_config

    system = tmp_path / "fresh.toml"
    system.write_text(SMALL_SYSTEM.replace('zone = "cn"\n', 'zone = "cn"\nloadzones = []\n'))
    card, _ = sim_card(system.read_text())
    with card:
        config = generate_config(card, zone="cn")
    path = tmp_path / "c.toml"
    path.write_text(sysconf.to_toml(config))
    assert main(["config", "apply", str(path), "--card", f"dahdi:sim={system}"]) == 0
    out = capsys.readouterr().out
    assert "loaded: cn" in out and "default cn" in out
