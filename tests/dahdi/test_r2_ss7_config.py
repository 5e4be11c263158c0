"""MFC/R2 and SS7 spans in ``config import`` / ``config generate``: chan_dahdi's mfcr2_*
and SS7 keys as the signalling modules' options, every bad line reported, and the round
trip import -> generate -> import (examples, and hypothesis over installers' files)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trunkline.cli import main
from trunkline.drivers.backends.dahdi import chandahdi, sigopts, sysconf
from trunkline.drivers.backends.dahdi.sysconf import SystemConfError
from trunkline.errors import ConfigError

# A site as an installer migrating from Asterisk has it: a PBX on MFC/R2 (China No.1),
# the carrier on SS7 over two E1s (one signalling link, TS16 of the first), and a PRI.
SYSTEM = """\
span=1,1,0,cas,hdb3
cas=1-15:1101
cas=17-31:1101
span=2,2,0,ccs,hdb3,crc4
bchan=32-46,48-62
dchan=47
span=3,3,0,ccs,hdb3,crc4
bchan=63-93
span=4,0,0,ccs,hdb3,crc4
bchan=94-108,110-124
dchan=109
echocanceller=oslec,1-15,17-31
loadzone=cn
defaultzone=cn
"""

CHAN_DAHDI = """\
[channels]
language=zh
context=from-pbx
signalling=mfcr2
mfcr2_variant=china
mfcr2_max_ani=12
mfcr2_max_dnis=8
mfcr2_get_ani_first=no
mfcr2_category=national_subscriber
mfcr2_mfback_timeout=-1
mfcr2_logdir=span1
mfcr2_logging=all
channel => 1-15
channel => 17-31

context=from-carrier
signalling=ss7
ss7type=china
linkset=1
pointcode=1-2-3
adjpointcode=4-5-6
defaultdpc=4-5-6
networkindicator=national
ss7_called_nai=national
ss7_explicitacm=yes
isup_timer.t7=25000
sigchan=47
cicbeginswith=1
channel => 32-46
cicbeginswith=17
channel => 48-62
cicbeginswith=33
channel => 63-93

signalling=pri_cpe
switchtype=euroisdn
context=from-pri
channel => 94-108,110-124
"""


def write(tmp_path, system: str = SYSTEM, chan: str = CHAN_DAHDI):
    (tmp_path / "system.conf").write_text(system)
    (tmp_path / "chan_dahdi.conf").write_text(chan)
    return tmp_path / "system.conf", tmp_path / "chan_dahdi.conf"


def imported(tmp_path, system: str = SYSTEM, chan: str = CHAN_DAHDI) -> sysconf.DahdiConfig:
    return sysconf.import_files(*write(tmp_path, system, chan))


def generated(config: sysconf.DahdiConfig, tmp_path) -> sysconf.DahdiConfig:
    """``config`` through TOML, then DAHDI's files, then imported again."""
    again = sysconf.config_from_string(sysconf.to_toml(config))
    text, _ = chandahdi.to_chan_dahdi(again)
    out = tmp_path / "generated"
    out.mkdir(exist_ok=True)
    return imported(out, sysconf.to_system_conf(again), text)


# -- import ------------------------------------------------------------------------------------
def test_mfcr2_keys_become_the_r2_modules_options(tmp_path):
    config = imported(tmp_path)
    span = config.spans[0]
    assert span.signalling == "mfcr2" and span.linkset == ""
    assert span.options == {"variant": "cn", "max_ani": 12, "max_dnis": 8,
                            "get_ani_first": False, "category": "national_subscriber"}
    groups = {g.channels[0]: g for g in config.groups}
    assert groups[1].signalling == "cas" and groups[1].idlebits == "1101"
    assert groups[1].options == {"context": "from-pbx", "language": "zh"}
    # Unsupported mfcr2_* keys: a warning naming the key and its line, nothing more.
    assert any("chan_dahdi.conf:11: mfcr2_logdir is not supported by trunkline's MFC/R2"
               in w for w in config.warnings)
    assert any(":12: mfcr2_logging is not supported" in w for w in config.warnings)


def test_ss7_keys_become_the_linkset_and_per_span_options(tmp_path):
    config = imported(tmp_path)
    two, three = config.spans[1], config.spans[2]
    # calling_nai: chan_dahdi's default (national), written.
    linkset = {"variant": "china", "opc": "1-2-3", "apc": "4-5-6", "ni": "national",
               "called_nai": "national", "calling_nai": "national"}
    assert two.signalling == three.signalling == "ss7"
    assert two.linkset == three.linkset == "1"
    # cicbeginswith=1 before 32-46 and 17 before 48-62: CIC = 1 + timeslot - 1.
    assert two.options == {**linkset, "cic_start": 1, "signalling_timeslot": 16}
    assert three.options == {**linkset, "cic_start": 33}
    assert config.spans[3].signalling == ""  # PRI stays on the channels
    # The dchan= sigchan is the kernel's MTP2 mode in trunkline.
    assert next(g for g in config.groups if 47 in g.channels).signalling == "mtp2"
    assert next(g for g in config.groups if 109 in g.channels).signalling == "dchan"
    warnings = "\n".join(config.warnings)
    assert "chan_dahdi.conf:27: sigchan 47 is dchan in" in warnings
    assert "written as mtp2" in warnings
    assert ":25: ss7_explicitacm is not supported by trunkline's SS7 module" in warnings
    assert ":26: isup_timer.t7 is not supported" in warnings


def test_the_toml_says_it_and_the_gateway_tables_follow(tmp_path):
    config = imported(tmp_path)
    text = sysconf.to_toml(config)
    assert 'signalling = "mfcr2"\nvariant = "cn"\nmax_dnis = 8\nmax_ani = 12\n' in text
    assert ('signalling = "ss7"\nlinkset = "1"\nvariant = "china"\nopc = "1-2-3"\n'
            'apc = "4-5-6"\nni = "national"\ncalled_nai = "national"\n'
            'calling_nai = "national"\ncic_start = 1\nsignalling_timeslot = 16\n') in text
    assert sysconf.to_toml(sysconf.config_from_string(text)) == text
    tables = sysconf.gateway_spans(config)
    assert tables.startswith('[[span]]\nspan = 1\nsignalling = "mfcr2"\nvariant = "cn"\n')
    assert '[[span]]\nspan = 3\nsignalling = "ss7"\nlinkset = "1"\n' in tables
    assert "span = 4" not in tables and "timing" not in tables
    from trunkline.gateway.config import config_from_string

    gateway = config_from_string(tables)
    assert gateway.spans[2].name == "ss7" and gateway.spans[2].group == "1"
    assert gateway.spans[3].options["cic_start"] == 33
    assert gateway.spans[1].options["max_dnis"] == 8


def test_chan_dahdis_defaults_are_written_where_it_gives_none(tmp_path):
    config = imported(tmp_path, SYSTEM, "[channels]\nsignalling=mfcr2\nchannel => 1-15\n")
    # chan_dahdi.c dahdi_chan_conf_default: ITU, 10 ANI digits, 4 DNIS digits.
    assert config.spans[0].options == {"variant": "itu", "max_ani": 10, "max_dnis": 4}
    assert any(":3: no mfcr2_max_dnis: chan_dahdi's default 4 is written" in w
               for w in config.warnings)


@pytest.mark.parametrize(("given", "variant", "warning"), [
    ("CN", "cn", None), ("China", "cn", None), ("itu", "itu", None), ("brazil", "br", None),
    ("AR", "ar", None), ("mexico", "mx", None), ("ph", "itu", "openr2 runs ph"),
    ("CZ", "itu", "ITU settings")])
def test_mfcr2_variants_by_openr2_name(given, variant, warning):
    assert sigopts.r2_variant(given)[0] == variant
    got = sigopts.r2_variant(given)[1]
    assert (got is None) if warning is None else (warning in got)


def test_sigchans_numbered_by_chan_dahdi_and_by_span_order_agree(tmp_path):
    system = ("span=1,1,0,ccs,hdb3\nbchan=1-15,17-31\nmtp2=16\n"
              "span=2,2,0,ccs,hdb3\nbchan=32-46,48-62\nmtp2=47\n")
    head = ("[channels]\nsignalling=ss7\nss7type=itu\nlinkset=3\npointcode=4899\n"
            "adjpointcode=4900\ndefaultdpc=4900\nnetworkindicator=international\n")
    chans = ("cicbeginswith=1\nchannel => 1-15\ncicbeginswith=17\nchannel => 17-31\n"
             "cicbeginswith=33\nchannel => 32-46\ncicbeginswith=49\nchannel => 48-62\n")
    config = imported(tmp_path, system, head + "slc=0\nsigchan=16\nslc=1\nsigchan=47\n"
                      + chans)
    assert [s.options["signalling_timeslot"] for s in config.spans] == [16, 16]
    assert [s.options["cic_start"] for s in config.spans] == [1, 33]
    assert config.spans[0].options["ni"] == "international"
    with pytest.raises(SystemConfError, match=r"line 9: this link is SLC 0 for chan_dahdi.*"
                                              r"makes it SLC 1 \(span 2\)"):
        imported(tmp_path, system, head + "sigchan=47\nsigchan=16\n" + chans)


def test_itu_point_codes_written_a_b_c_are_read_as_chan_dahdi_reads_them(tmp_path):
    system = "span=1,1,0,ccs,hdb3\nbchan=1-15,17-31\nmtp2=16\n"
    chan = ("[channels]\nsignalling=ss7\nss7type=itu\nlinkset=1\npointcode=0-19-35\n"
            "adjpointcode=0-19-36\ndefaultdpc=4900\nnetworkindicator=national\nsigchan=16\n"
            "cicbeginswith=1\nchannel => 1-15\ncicbeginswith=17\nchannel => 17-31\n")
    config = imported(tmp_path, system, chan)
    # chan_dahdi.c parse_pointcode: (a << 16) | (b << 8) | c.
    assert config.spans[0].options["opc"] == 19 << 8 | 35 == 4899
    assert any(":5: ITU point code '0-19-35' is 4899 as chan_dahdi reads it" in w
               for w in config.warnings)


# -- errors ------------------------------------------------------------------------------------
def test_every_bad_line_is_reported_with_its_file_and_line(tmp_path):
    bad = """\
[channels]
signalling=mfcr2
mfcr2_variant=klingon
mfcr2_max_ani=lots
mfcr2_get_ani_first=maybe
mfcr2_category=vip
mfcr2_metering_pulse_timeout=soon
channel => 1-15
signalling=ss7
ss7type=ansi
linkset=one
pointcode=1-2
networkindicator=galactic
ss7_called_nai=local
cicbeginswith=5000
sigchan=47
channel => 32-46
"""
    with pytest.raises(SystemConfError) as info:
        imported(tmp_path, "span=1,1,0,cas,hdb3\nspan=2,1,0,ccs\ncas=1-15:1101\n", bad)
    err = info.value
    assert [(f.rsplit("/", 1)[-1], n) for f, n, _ in err.problems] == [
        ("system.conf", 2), *(("chan_dahdi.conf", n) for n in
                              (3, 4, 5, 6, 7, 10, 11, 12, 13, 14, 15, 16, 17))]
    text = str(err)
    assert "line 2: span= takes" in text
    assert "chan_dahdi.conf:3: mfcr2_variant: unknown MFC/R2 variant 'klingon'" in text
    assert "chan_dahdi.conf:4: mfcr2_max_ani: 'lots' is not a whole number" in text
    assert ":5: mfcr2_get_ani_first: 'maybe' is not yes or no" in text
    assert ":6: mfcr2_category: unknown MFC/R2 category 'vip'" in text
    assert ":10: ss7type ansi: ANSI SS7 is not supported" in text
    assert ":11: linkset must be a number" in text
    assert ":12: pointcode '1-2' is neither a number nor a-b-c" in text
    assert ":13: unknown networkindicator 'galactic'" in text
    assert ":14: unknown nature of address 'local'" in text
    assert ":15: cicbeginswith must be a CIC 0..4095" in text
    assert ":16: sigchan=47 before linkset, ss7type, pointcode, adjpointcode, defaultdpc" in text
    assert ":17: signalling=ss7 channels before linkset=" in text


def test_spans_that_cannot_be_expressed_are_refused_with_the_line(tmp_path):
    system = ("span=1,1,0,ccs,hdb3\ncas=1-15:1101\ncas=17-31:1101\n"
              "span=2,2,0,ccs,hdb3\nbchan=32-46,48-62\nmtp2=47\n"
              "span=3,3,0,ccs,hdb3\nbchan=63-93\nspan=4,3,0,ccs,hdb3\nbchan=94-124\n")
    chan = """\
[channels]
signalling=mfcr2
mfcr2_variant=cn
channel => 1-15
mfcr2_max_dnis=6
channel => 17-31
signalling=ss7
ss7type=itu
linkset=1
pointcode=4899
adjpointcode=300
defaultdpc=301
networkindicator=national
slc=1
sigchan=47
cicbeginswith=1
channel => 32-46,48-62
cicbeginswith=1
channel => 63-93
linkset=2
cicbeginswith=100
channel => 94-124
"""
    with pytest.raises(SystemConfError) as info:
        imported(tmp_path, system, chan)
    text = str(info.value)
    assert "line 6: span 1 gets other MFC/R2 settings (max_dnis) than at" in text
    assert "line 4: span 1 speaks MFC/R2 but is framed ccs" in text
    # ... which the kernel refuses for the cas= lines themselves (sigcaps.py)
    assert "system.conf:2: cas=1-15: span 1: robbed-bit/CAS signalling on an E1 CCS span" in text
    assert ("line 15: defaultdpc 301 is not the adjacent point 300: routes through a "
            "signalling transfer point are not supported") in text
    assert "line 15: this link is SLC 1 for chan_dahdi" in text
    assert "line 17: span 2: timeslot 1 is CIC 1 but timeslot 17 is CIC 16" in text
    assert "line 19: span 3: CIC(s) 1-30 of linkset 1 already given at" in text
    assert "line 22: linkset 2 has circuits but no sigchan" in text
    assert len(info.value.problems) == 9


def test_what_the_r2_module_would_refuse_is_refused_at_import(tmp_path):
    chan = ("[channels]\nsignalling=mfcr2\nmfcr2_variant=cn\n"
            "mfcr2_category=international_subscriber\nchannel => 1-15,17-31\n")
    with pytest.raises(SystemConfError, match=r"line 5: span 1: MFC/R2 option "
                                              r"category='international_subscriber': the "
                                              r"names variant cn knows are"):
        imported(tmp_path, SYSTEM, chan)


def test_a_sigchan_must_be_a_signalling_channel_in_system_conf(tmp_path):
    chan = ("[channels]\nsignalling=ss7\nss7type=itu\nlinkset=1\npointcode=1\n"
            "adjpointcode=2\ndefaultdpc=2\nnetworkindicator=national\nsigchan=5\n"
            "cicbeginswith=1\nchannel => 1-4\nsigchan=40\n")
    with pytest.raises(SystemConfError) as info:
        imported(tmp_path, "span=1,1,0,ccs,hdb3\nbchan=1-15,17-31\nmtp2=16\n", chan)
    text = str(info.value)
    assert "line 9: sigchan 5 is bchan in" in text and "a signalling link is mtp2= there" in text
    assert "line 12: channel 40 is on no span of" in text


def test_nothing_is_written_when_the_import_fails(tmp_path, capsys):
    system, chan = write(tmp_path, SYSTEM, CHAN_DAHDI.replace("cicbeginswith=17",
                                                              "cicbeginswith=20"))
    out, spans = tmp_path / "card.toml", tmp_path / "spans.toml"
    assert main(["config", "import", "--system-conf", str(system), "--chan-dahdi", str(chan),
                 "-o", str(out), "--gateway-spans", str(spans)]) == 1
    err = capsys.readouterr().err
    assert "line 31: span 2: timeslot 1 is CIC 1 (" in err
    assert "but timeslot 17 is CIC 20" in err
    assert not out.exists() and not spans.exists()


# -- generate ----------------------------------------------------------------------------------
def test_import_generate_import_is_the_same(tmp_path):
    config = imported(tmp_path)
    again = generated(config, tmp_path)
    assert sysconf.to_toml(again) == sysconf.to_toml(config)


def test_generate_from_a_toml_writes_dahdis_files(tmp_path, capsys):
    config = imported(tmp_path)
    toml = tmp_path / "card.toml"
    toml.write_text(sysconf.to_toml(config))
    out = {name: tmp_path / name for name in ("s.conf", "c.conf", "spans.toml")}
    assert main(["config", "generate", "--from", str(toml), "--system-conf", str(out["s.conf"]),
                 "--chan-dahdi", str(out["c.conf"]),
                 "--gateway-spans", str(out["spans.toml"])]) == 0
    assert capsys.readouterr().out == ""  # --from: no TOML on stdout
    system = out["s.conf"].read_text()
    assert "cas=1-15:1101\ncas=17-31:1101\n" in system
    assert "mtp2=47\n" in system and "dchan=109\n" in system
    chan = out["c.conf"].read_text()
    assert ("linkset=1\nss7type=china\npointcode=1-2-3\nadjpointcode=4-5-6\n"
            "defaultdpc=4-5-6\nnetworkindicator=national\nsigchan=47\n") in chan
    assert "cicbeginswith=1\nchannel => 32-46\ncicbeginswith=17\nchannel => 48-62\n" in chan
    assert "cicbeginswith=33\nchannel => 63-93\n" in chan
    assert "signalling=mfcr2\n" in chan and "mfcr2_variant=cn\n" in chan
    assert "mfcr2_max_dnis=8\n" in chan and "mfcr2_get_ani_first=no\n" in chan
    assert "signalling=pri_cpe\n" in chan and "channel => 94-108,110-124\n" in chan
    header = f"Generated by `trunkline config generate` from {toml}"
    assert out["spans.toml"].read_text() == sysconf.gateway_spans(config, header)


def test_generate_from_a_card_with_r2_and_ss7_spans(tmp_path, capsys):
    card = tmp_path / "card.toml"
    card.write_text('spec = "1.0"\nzone = "cn"\n[[span]]\nkind = "e1"\nsignalling = "cas"\n'
                    'variant = "itu"\n[[span]]\nkind = "e1"\nsignalling = "ss7"\n'
                    'linkset = "carrier"\nvariant = "china"\npointcode = "2-2-2"\n'
                    'adjpointcode = "1-1-1"\ncicbeginswith = 65\n')
    assert main(["config", "generate", "--card", f"emulated:{card}", "--system-conf", "-",
                 "--chan-dahdi", "-"]) == 0
    out = capsys.readouterr().out
    assert 'signalling = "mfcr2"\nvariant = "itu"\n' in out
    assert ('signalling = "ss7"\nlinkset = "carrier"\nvariant = "china"\nopc = "2-2-2"\n'
            'apc = "1-1-1"\nni = "national"\ncalled_nai = "national"\n'
            'calling_nai = "national"\ncic_start = 65\nsignalling_timeslot = 16\n') in out
    assert "span=1,1,0,cas,hdb3,crc4\n" in out and "cas=1-15,17-31:1101\n" in out
    assert "bchan=32-46,48-62\nmtp2=47\n" in out
    assert '; linkset "carrier"\nlinkset=1\n' in out
    assert "cicbeginswith=65\nchannel => 32-46\ncicbeginswith=81\nchannel => 48-62\n" in out


def test_what_chan_dahdi_cannot_say_is_left_out_with_a_warning():
    config = sysconf.config_from_string(
        'spec = "1.0"\n[[span]]\nspan = 1\ntiming = 1\nlbo = 0\nframing = "cas"\n'
        'coding = "hdb3"\nsignalling = "mfcr2"\nvariant = "cn"\ncategory = 3\n'
        'hunt = "ascending"\n[[span]]\nspan = 2\ntiming = 0\nlbo = 0\nframing = "ccs"\n'
        'coding = "hdb3"\nsignalling = "ss7"\nvariant = "itu"\nopc = "2-100-1"\n'
        'apc = 4898\nreset_on_start = false\ncalled_nai = 4\n'
        '[[channels]]\nchannels = "1-15,17-31"\nsignalling = "cas"\nidlebits = "1101"\n'
        '[[channels]]\nchannels = "32-46,48-62"\nsignalling = "bchan"\n'
        '[[channels]]\nchannels = "47"\nsignalling = "mtp2"\n')
    text, warnings = chandahdi.to_chan_dahdi(config)
    assert warnings == [
        "span 1: MFC/R2 option category has no chan_dahdi key; left out of chan_dahdi.conf",
        "span 1: MFC/R2 option hunt has no chan_dahdi key; left out of chan_dahdi.conf",
        "span 1: no MFC/R2 max_dnis or max_ani: chan_dahdi will take its defaults "
        "(max_dnis 4, max_ani 10 digits); give the lengths the carrier sends if Asterisk "
        "is to use this file",
        "span 2: SS7 option reset_on_start has no chan_dahdi key; left out of "
        "chan_dahdi.conf"]
    # ITU point codes go as numbers (chan_dahdi reads a-b-c as 8-8-8); the linkset with
    # no name is the shared one, numbered 1; cic_start defaults as the SS7 module's.
    assert ('; linkset "ss7"\nlinkset=1\nss7type=itu\npointcode=4897\nadjpointcode=4898\n'
            'defaultdpc=4898\nnetworkindicator=national\nsigchan=47\n') in text
    assert "ss7_called_nai=international\n" in text
    assert "cicbeginswith=1\nchannel => 32-46\ncicbeginswith=17\nchannel => 48-62" in text


def test_generate_refuses_what_would_not_read_back(tmp_path, capsys):
    head = ('spec = "1.0"\n[[span]]\nspan = 1\ntiming = 1\nlbo = 0\nframing = "ccs"\n'
            'coding = "hdb3"\nsignalling = "ss7"\nvariant = "itu"\nopc = 1\napc = 2\n'
            '[[channels]]\nchannels = "1-15,17-31"\nsignalling = "bchan"\n')
    with pytest.raises(ConfigError, match="linkset ss7 has no signalling link"):
        chandahdi.to_chan_dahdi(sysconf.config_from_string(head))
    with pytest.raises(ConfigError, match="signalling_timeslot is 15 but its mtp2 channel 16 "
                                          "is timeslot 16"):
        chandahdi.to_chan_dahdi(sysconf.config_from_string(
            head.replace("apc = 2\n", "apc = 2\nsignalling_timeslot = 15\n")
            + '[[channels]]\nchannels = "16"\nsignalling = "mtp2"\n'))
    # Settings that stick in chan_dahdi cannot be "unset": a key with no default to go
    # back to must be given to the later channels too.
    analog = ('spec = "1.0"\n[[channels]]\nchannels = "1"\nsignalling = "fxo_ks"\n'
              'busycount = "4"\n[[channels]]\nchannels = "2"\nsignalling = "fxo_ks"\n'
              'callprogress = "yes"\n')
    path = tmp_path / "c.toml"
    path.write_text(analog)
    assert main(["config", "generate", "--from", str(path), "--chan-dahdi",
                 str(tmp_path / "out.conf"), "--system-conf", str(tmp_path / "s.conf")]) == 1
    assert "channels 2 have no busycount but channels written before them do" in \
        capsys.readouterr().err
    assert not (tmp_path / "s.conf").exists()  # nothing written


# -- the TOML --------------------------------------------------------------------------------
SPAN = 'spec = "1.0"\n[[span]]\nspan = 1\ntiming = 1\nlbo = 0\ncoding = "hdb3"\n'


@pytest.mark.parametrize(("extra", "message"), [
    ('framing = "cas"\nsignalling = "r2"\n', r":8: a span's signalling is one of mfcr2, ss7"),
    ('framing = "cas"\nsignalling = "mfcr2"\nvariant = "china"\n',
     r":9: variant must be one of cn, itu, br, ar, mx, not 'china'"),
    ('framing = "cas"\nsignalling = "mfcr2"\nmax_ani = "10"\n', r":9: max_ani must be a whole"),
    ('framing = "cas"\nsignalling = "mfcr2"\nget_ani_first = "no"\n', r"true or false"),
    ('framing = "cas"\nsignalling = "mfcr2"\ncategory = "vip"\n', r"category must be a signal"),
    ('framing = "cas"\nsignalling = "mfcr2"\nlinkset = "1"\n', r"unknown key 'linkset'"),
    ('framing = "cas"\nsignalling = "mfcr2"\nmax_ani = 40\n',
     r":2: span 1: MFC/R2 option max_ani must be a whole number 0..32, not 40"),
    ('framing = "ccs"\nsignalling = "mfcr2"\n', r"speaks MFC/R2 but is framed ccs"),
    ('framing = "cas"\nsignalling = "ss7"\nopc = 1\napc = 2\n', r"speaks SS7 but is framed cas"),
    ('framing = "ccs"\nsignalling = "ss7"\nopc = 20000\n', r":9: opc: point code 20000 does "
                                                           r"not fit 14 bits"),
    ('framing = "ccs"\nsignalling = "ss7"\napc = 2\ndpc = 3\n',
     r"dpc 3 is not the adjacent point 2: routes through a signalling transfer point"),
    ('framing = "ccs"\nsignalling = "ss7"\nni = "galactic"\n', r"ni must be one of"),
    ('framing = "ccs"\nsignalling = "ss7"\ncic_start = 5000\n', r"cic_start must be a CIC"),
    ('framing = "ccs"\nsignalling = "ss7"\nlinkset = 1\n', r"linkset must be a name"),
    ('framing = "ccs"\nsignalling = "ss7"\nmax_ani = 4\n', r"unknown key 'max_ani'"),
])
def test_toml_span_options_are_checked_with_their_line(extra, message):
    with pytest.raises(ConfigError, match=message):
        sysconf.config_from_string(SPAN + extra)


def test_a_linksets_spans_must_agree():
    text = (SPAN + 'framing = "ccs"\nsignalling = "ss7"\nlinkset = "a"\nopc = 1\napc = 2\n'
            + SPAN.split("\n", 1)[1].replace("span = 1", "span = 2")
            + 'framing = "ccs"\nsignalling = "ss7"\nlinkset = "a"\nopc = 1\napc = 3\n')
    with pytest.raises(ConfigError, match=r":21: spans 1 and 2 are linkset 'a' but give apc "
                                          r"as 2 and 3"):
        sysconf.config_from_string(text)


def test_an_older_imports_channel_keys_are_explained():
    with pytest.raises(ConfigError, match="cas on \\[\\[channels\\]\\] come from an older"):
        sysconf.config_from_string('spec = "1.0"\n[[channels]]\nchannels = "1"\n'
                                   'signalling = "cas"\ncas = "mfcr2"\n')


# -- where channels are ------------------------------------------------------------------------
def test_channels_follow_the_spans_and_skip_analog_cards_before_them():
    config = sysconf.parse_system_conf("fxsks=1-4\nspan=2,1,0,cas,hdb3\ncas=5-19,21-35:1101\n"
                                       "span=3,0,0,esf,b8zs\nbchan=36-58\ndchan=59\n")
    layout, notes = sysconf.channel_layout(config)
    assert layout[5] == (2, 1) and layout[20] == (2, 16) and layout[35] == (2, 31)
    assert layout[36] == (3, 1) and layout[59] == (3, 24) and 1 not in layout
    assert notes == ["system.conf:2: spans before span 2 have no span= line; its channels "
                     "are taken to start at 5"]


def test_includes_are_read_in_place_with_the_settings_in_force(tmp_path):
    (tmp_path / "dahdi-channels.conf").write_text("channel => 1-15,17-31\nmfcr2_bogus=1\n")
    (tmp_path / "chan_dahdi.conf").write_text(
        "[channels]\nsignalling=mfcr2\nmfcr2_variant=mx\n#include dahdi-channels.conf\n")
    parsed = chandahdi.parse_chan_dahdi((tmp_path / "chan_dahdi.conf").read_text(),
                                        str(tmp_path / "chan_dahdi.conf"), tmp_path)
    (block,) = parsed.blocks
    assert block.r2["variant"] == "mx" and block.line == 4
    assert block.where == f"{tmp_path / 'dahdi-channels.conf'}:1"
    assert f"{tmp_path / 'dahdi-channels.conf'}:2: mfcr2_bogus is not supported" in \
        "\n".join(parsed.warnings)


# -- the modules' own names --------------------------------------------------------------------
def test_option_names_are_the_modules():
    from trunkline.drivers.signalling.ss7.signalling import LINKSET_KEYS, SPAN_KEYS

    assert set(sigopts.SS7_OPTIONS) == LINKSET_KEYS | SPAN_KEYS
    from trunkline.drivers.signalling.r2.signalling import OPTIONS

    assert set(sigopts.R2_OPTIONS) == set(OPTIONS)
    assert set(sigopts.MFCR2_KEYS.values()) <= set(OPTIONS)


# -- the round trip, for any site ------------------------------------------------------------
NAMES = st.sampled_from(["from-pstn", "from-pbx", "outbound", "x"])


@st.composite
def sites(draw):
    """system.conf and chan_dahdi.conf as an installer writes them: E1 spans speaking
    PRI, MFC/R2 or SS7 (one or two linksets), analog ports after them, settings changed
    between blocks in any order (they stick, as in chan_dahdi)."""
    kinds = draw(st.lists(st.sampled_from(["pri", "r2", "ss7", "ss7", "unused"]),
                          min_size=1, max_size=4))
    system: list[str] = []
    blocks: list[tuple[str, list[str], str]] = []  # (kind, setting lines, channel lines)
    linksets: dict[str, list[int]] = {}
    offset = 32 * draw(st.integers(0, 100))
    for i, kind in enumerate(kinds, start=1):
        b = 31 * (i - 1)
        halves = f"{b + 1}-{b + 15},{b + 17}-{b + 31}"
        if kind == "r2":
            system += [f"span={i},{i},0,cas,hdb3", f"cas={halves}:1101"]
            variant = draw(st.sampled_from(["cn", "China", "itu", "BR", "mx"]))
            r2 = [f"mfcr2_variant={variant}"]
            # Names every variant has (China's KA has only these, r2/signalling.py): the
            # keys stick, so a later span of another variant inherits the category.
            categories = ["national_subscriber", "national_priority_subscriber"]
            for key, values in (("mfcr2_max_ani", st.integers(0, 20)),
                                ("mfcr2_max_dnis", st.integers(1, 20)),
                                ("mfcr2_get_ani_first", st.sampled_from(["yes", "no"])),
                                ("mfcr2_category", st.sampled_from(categories)),
                                ("mfcr2_immediate_accept", st.sampled_from(["yes", "no"])),
                                ("mfcr2_mfback_timeout", st.sampled_from([-1, 1500, 3000])),
                                ("mfcr2_metering_pulse_timeout", st.sampled_from([-1, 0, 400]))):
                if draw(st.booleans()):
                    r2.append(f"{key}={draw(values)}")
            if draw(st.booleans()):
                blocks.append(("r2", ["signalling=mfcr2", *r2], f"channel => {halves}"))
            else:  # two blocks, other settings between them, the same MFC/R2 ones
                blocks.append(("r2", ["signalling=mfcr2", *r2],
                               f"channel => {b + 1}-{b + 15}\ncontext={draw(NAMES)}\n"
                               f"channel => {b + 17}-{b + 31}"))
        elif kind == "pri":
            system += [f"span={i},{i},0,ccs,hdb3,crc4", f"bchan={halves}", f"dchan={b + 16}"]
            side = draw(st.sampled_from(["pri_cpe", "pri_net"]))
            blocks.append(("pri", [f"signalling={side}", "switchtype=euroisdn"],
                           f"channel => {halves}"))
        elif kind == "ss7":
            linkset = draw(st.sampled_from(["1", "2"]))
            link = not linksets.get(linkset) or draw(st.booleans())
            system.append(f"span={i},{i},0,ccs,hdb3,crc4")
            kind_of_link = draw(st.sampled_from(["mtp2", "mtp2", "dchan", "hardhdlc"]))
            system += [f"bchan={halves}", f"{kind_of_link}={b + 16}"] if link else \
                [f"bchan={b + 1}-{b + 31}"]
            linksets.setdefault(linkset, []).append(b + 16 if link else 0)
            start = offset + 32 * (i - 1) + draw(st.sampled_from([0, 1]))
            runs = [(b + 1, b + 15, 1), (b + 17, b + 31, 17)] if link else [(b + 1, b + 31, 1)]
            lines = "\n".join(f"cicbeginswith={start + t - 1}\nchannel => {lo}-{hi}"
                              for lo, hi, t in runs)
            nai = [f"ss7_called_nai={draw(st.sampled_from(['national', 'international']))}"] \
                if draw(st.booleans()) else []
            blocks.append(("ss7", ["signalling=ss7", f"linkset={linkset}", *nai], lines))
    for i in draw(st.lists(st.integers(1, len(kinds)), unique=True)):
        b = 31 * (i - 1)
        system.append(f"echocanceller=oslec,{b + 1}-{b + 15}")
    # Companding forced on some channels (dahdi_cfg.c setlaw: the last line naming a
    # channel wins, deflaw puts back the driver's default).
    for i, law, lo, hi in draw(st.lists(st.tuples(
            st.integers(1, len(kinds)), st.sampled_from(["alaw", "mulaw", "deflaw"]),
            st.integers(1, 31), st.integers(0, 30)), max_size=3)):
        b = 31 * (i - 1)
        system.append(f"{law}={b + lo}-{b + min(31, lo + hi)}")
    analog = draw(st.integers(0, 3))
    if analog:
        first = 31 * len(kinds) + 1
        system.append(f"fxoks={first}-{first + analog - 1}")
        blocks.append(("fxs", ["signalling=fxo_ks"], f"channel => {first}-{first + analog - 1}"))
    chan = ["[channels]"]
    slcs = draw(st.booleans())  # slc= sticks (chan_dahdi's cur_slc): all or none
    for number, sigchans in sorted(linksets.items()):
        variant = draw(st.sampled_from(["itu", "china"]))
        opc, apc = draw(st.lists(st.integers(1, 2**14 - 1), min_size=2, max_size=2,
                                 unique=True))
        if variant == "china" and draw(st.booleans()):
            opc, apc = f"{opc >> 8}-{opc & 255}-{number}", f"{apc >> 8}-{apc & 255}-9"
        chan += [f"linkset={number}", f"ss7type={variant}", f"pointcode={opc}",
                 f"adjpointcode={apc}", f"defaultdpc={apc}",
                 f"networkindicator={draw(st.sampled_from(['national', 'international']))}",
                 *(f"slc={slc}\nsigchan={c}" if slcs else f"sigchan={c}"
                   for slc, c in enumerate(c for c in sigchans if c))]
        blocks = [(k, [*s, f"defaultdpc={apc}"] if f"linkset={number}" in s else s, c)
                  for k, s, c in blocks]
    for _, setting_lines, channel_lines in draw(st.permutations(blocks)):
        for key in draw(st.lists(st.sampled_from(["context", "group", "language"]),
                                 max_size=2)):
            chan.append(f"{key}={draw(NAMES)}")
        chan += [*setting_lines, channel_lines]
    return "\n".join(system) + "\n", "\n".join(chan) + "\n"


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sites())
def test_import_generate_import_is_the_same_for_any_site(tmp_path, site):
    system, chan = site
    config = imported(tmp_path, system, chan)
    first = sysconf.to_toml(config)
    assert sysconf.to_toml(generated(config, tmp_path)) == first
