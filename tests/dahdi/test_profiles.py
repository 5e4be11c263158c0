"""Board profiles: every file loads, names its sources, and finds boards on a PCI bus."""

from __future__ import annotations

import os

from trunkline.drivers.backends.dahdi import profiles


def test_every_profile_loads_with_sources():
    loaded = profiles.load_profiles()
    assert len(loaded) >= 10
    for prof in loaded:
        assert prof.sources and prof.module and prof.pci
        for p in prof.pci:
            vendor, _, rest = p.id.partition(":")
            assert len(vendor) == 4 and rest


def test_pci_ids_are_unique_across_profiles():
    ids = [p.id for prof in profiles.load_profiles() for p in prof.pci]
    assert len(ids) == len(set(ids))


def _device(root, name, vendor, device, subv="0x0000", subd="0x0000", driver=None):
    d = root / "bus" / "pci" / "devices" / name
    d.mkdir(parents=True)
    for key, value in (("vendor", vendor), ("device", device), ("subsystem_vendor", subv),
                       ("subsystem_device", subd)):
        (d / key).write_text(value + "\n")
    if driver:
        target = root / "bus" / "pci" / "drivers" / driver
        target.mkdir(parents=True, exist_ok=True)
        os.symlink(target, d / "driver")


def test_find_boards_on_a_fake_sysfs(tmp_path):
    _device(tmp_path, "0000:03:00.0", "0xd161", "0x1420", driver="wct4xxp")
    _device(tmp_path, "0000:04:00.0", "0xd161", "0x0410", "0x0004", "0x0000")
    _device(tmp_path, "0000:05:00.0", "0x1b74", "0xd130")
    _device(tmp_path, "0000:06:00.0", "0x8086", "0x1234")  # not a telephony board
    found = profiles.find_boards(tmp_path)
    assert [(b.address, b.profile.id, b.loaded_driver) for b in found] == [
        ("0000:03:00.0", "digium-te4xx", "wct4xxp"),
        ("0000:04:00.0", "digium-te4xx", ""),
        ("0000:05:00.0", "openvox-d1xx", ""),
    ]
    assert found[1].description == "Wildcard TE410P (4th Gen)"  # the subvendor match wins
    assert found[2].module == "opvxd115"


def test_profile_for_spanstat_devicetype():
    assert profiles.profile_for("Wildcard TE420 (5th Gen)").module == "wct4xxp"
    assert profiles.profile_for("") is None
