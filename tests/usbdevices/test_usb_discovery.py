"""USB discovery against sysfs trees in the kernel's layout, against this machine's own
/sys, and through pyusb with a backend serving a device that cannot be opened."""

from __future__ import annotations

import errno
from types import SimpleNamespace

import pytest
from usb_sysfs_kit import Intf, add_device, huawei_e1550

from trunkline.drivers.commissioning.usbdevices import discover_usb
from trunkline.drivers.commissioning.usbdevices.sysfs import read_usb_devices


def by_id(scan):
    return {d.id: d for d in scan.devices}


def test_a_modem_stick_gives_its_at_and_voice_ports(tmp_path):
    huawei_e1550(tmp_path)
    scan = discover_usb(tmp_path)
    assert scan.method == "sysfs" and scan.notes == ()
    (dev,) = scan.devices
    assert (dev.name, dev.id, dev.kind, dev.seen_by) == ("1-1", "12d1:1001", "modem",
                                                        "sysfs")
    assert (dev.at_port, dev.audio_port) == ("/dev/ttyUSB2", "/dev/ttyUSB1")
    assert [i.role for i in dev.interfaces] == ["modem", "voice", "at"]
    assert [i.driver for i in dev.interfaces] == ["option"] * 3
    assert dev.manufacturer == "HUAWEI Technology" and dev.profile.voice == "firmware"
    assert not dev.storage_mode and dev.modeswitch_command is None
    data = dev.as_dict()
    assert data["interfaces"][2] == {"number": 2, "class": "ff/ff/ff", "driver": "option",
                                     "ttys": ["/dev/ttyUSB2"], "sound_cards": [],
                                     "role": "at"}


def test_a_stick_in_storage_mode_and_its_mode_switch(tmp_path):
    add_device(tmp_path, "1-2", 0x12D1, 0x1446, devnum=4,
               interfaces=[Intf(0, 0x08, 0x06, 0x50, "usb-storage"),
                           Intf(1, 0x08, 0x06, 0x50, "usb-storage")])
    (dev,) = discover_usb(tmp_path).devices
    assert dev.storage_mode and dev.kind == "storage"
    assert dev.modeswitch_command == "usb_modeswitch -v 0x12d1 -p 0x1446 -J"
    assert dev.at_port is None


def test_an_unknown_huawei_stick_in_storage_mode_still_shows(tmp_path):
    add_device(tmp_path, "1-3", 0x12D1, 0x9FFF, interfaces=[Intf(0, 0x08, 0x06, 0x50)])
    (dev,) = discover_usb(tmp_path).devices
    assert dev.profile is None and dev.storage_mode
    assert "not in trunkline's USB table" in dev.description
    assert dev.modeswitch_command == "usb_modeswitch -v 0x12d1 -p 0x9fff -J"


def test_a_quectel_module_with_usb_audio(tmp_path):
    interfaces = [Intf(n, driver="option", ttys=[f"ttyUSB{n}"]) for n in range(4)]
    interfaces.append(Intf(4, driver="qmi_wwan"))
    interfaces += [Intf(5, 0x01, 0x01, 0x00, "snd-usb-audio", sound_cards=["card1"]),
                   Intf(6, 0x01, 0x02, 0x00, "snd-usb-audio")]
    add_device(tmp_path, "2-1.3", 0x2C7C, 0x0125, busnum=2, devnum=7,
               interfaces=interfaces)
    (dev,) = discover_usb(tmp_path).devices
    assert (dev.name, dev.at_port, dev.audio_port, dev.sound_card) == (
        "2-1.3", "/dev/ttyUSB2", "/dev/ttyUSB1", "card1")
    assert dev.interfaces[4].role == "net" and dev.interfaces[5].role == ""


def test_cdc_acm_ttys_are_found(tmp_path):
    add_device(tmp_path, "1-4", 0x2C7C, 0x7777,
               interfaces=[Intf(0, 0x02, 0x02, 0x01, "cdc_acm", ttys=["ttyACM0"]),
                           Intf(1, 0x0A, 0x00, 0x00, "cdc_acm")])
    assert read_usb_devices(tmp_path)[0].interfaces[0].ttys == ("ttyACM0",)
    # an unknown Quectel id with no vendor-specific or storage interface is not listed
    assert discover_usb(tmp_path).devices == ()


def test_an_astribank_says_which_firmware_to_load(tmp_path):
    add_device(tmp_path, "3-2", 0xE4E4, 0x1151, busnum=3, devnum=12,
               interfaces=[Intf(0, driver="xpp_usb")])
    (dev,) = discover_usb(tmp_path).devices
    assert dev.kind == "board"
    assert dev.firmware_command == ("astribank_hexload -D /dev/bus/usb/003/012 -F "
                                    "/usr/share/dahdi/FPGA_1151.hex")
    assert "FPGA" in dev.profile.firmware.state


def test_an_at_interface_without_a_driver_is_reported(tmp_path):
    huawei_e1550(tmp_path, driver="")
    (dev,) = discover_usb(tmp_path).devices
    assert dev.at_port is None and dev.unbound_interfaces == [1, 2]


def test_hubs_and_other_devices_are_left_out(tmp_path):
    add_device(tmp_path, "1-5", 0x8087, 0x0024, interfaces=[Intf(0, 0x09, 0, 0, "hub")])
    add_device(tmp_path, "1-6", 0x046D, 0xC52B, interfaces=[Intf(0, 0x03, 1, 1, "usbhid")])
    huawei_e1550(tmp_path, name="1-7", devnum=9)
    assert [d.name for d in read_usb_devices(tmp_path)] == ["1-5", "1-6", "1-7"]
    assert [d.name for d in discover_usb(tmp_path).devices] == ["1-7"]


def test_no_usb_bus_at_all(tmp_path):
    scan = discover_usb(tmp_path)
    assert scan.devices == () and scan.method == "sysfs"


def test_this_machines_own_sys_does_not_fail():
    """Whatever this machine has (often no USB bus in a container), the scan answers."""
    scan = discover_usb("/sys")
    assert scan.method in ("pyusb", "sysfs")
    for dev in scan.devices:
        dev.as_dict()


# -- pyusb --------------------------------------------------------------------------------
usb_core = pytest.importorskip("usb.core")
from usb.backend import IBackend  # noqa: E402


class UnpluggedBackend(IBackend):
    """A pyusb backend (usb.backend.IBackend, pyusb's interface for libusb0/libusb1/
    openusb) serving the descriptors of devices that are not on this machine's bus.
    Opening a device fails as libusb fails for a user without access: EACCES."""

    def __init__(self, devices):
        self.devices = devices

    def enumerate_devices(self):
        return iter(self.devices)

    def get_device_descriptor(self, dev):
        return SimpleNamespace(
            bLength=18, bDescriptorType=1, bcdUSB=0x0200, bDeviceClass=0,
            bDeviceSubClass=0, bDeviceProtocol=0, bMaxPacketSize0=64,
            idVendor=dev["vid"], idProduct=dev["pid"], bcdDevice=0, iManufacturer=3,
            iProduct=2, iSerialNumber=0, bNumConfigurations=1, address=dev["address"],
            bus=dev["bus"], port_number=dev["ports"][-1], port_numbers=dev["ports"],
            speed=3)

    def get_configuration_descriptor(self, dev, config):
        if config != 0:
            raise IndexError(config)
        return SimpleNamespace(
            bLength=9, bDescriptorType=2, wTotalLength=0,
            bNumInterfaces=len(dev["interfaces"]), bConfigurationValue=1,
            iConfiguration=0, bmAttributes=0xE0, bMaxPower=250, extra_descriptors=[])

    def get_interface_descriptor(self, dev, intf, alt, config):
        if alt != 0 or intf >= len(dev["interfaces"]):
            raise IndexError(intf)
        cls, sub, proto = dev["interfaces"][intf]
        return SimpleNamespace(
            bLength=9, bDescriptorType=4, bInterfaceNumber=intf, bAlternateSetting=0,
            bNumEndpoints=0, bInterfaceClass=cls, bInterfaceSubClass=sub,
            bInterfaceProtocol=proto, iInterface=0, extra_descriptors=[])

    def open_device(self, dev):
        raise usb_core.USBError("Access denied (insufficient permissions)", -3,
                                errno.EACCES)


def e1550_descriptors(bus=1, address=3, ports=(1,)):
    return {"vid": 0x12D1, "pid": 0x1001, "bus": bus, "address": address,
            "ports": ports, "interfaces": [(0xFF, 0xFF, 0xFF)] * 3}


def test_pyusb_without_permission_falls_back_to_sysfs_names_and_says_which_rule(tmp_path):
    huawei_e1550(tmp_path)
    backend = UnpluggedBackend([e1550_descriptors(),
                                {"vid": 0x046D, "pid": 0xC52B, "bus": 1, "address": 4,
                                 "ports": (2,), "interfaces": [(3, 1, 1)]}])
    scan = discover_usb(tmp_path, backend=backend)
    assert scan.method == "pyusb"
    (dev,) = scan.devices
    assert dev.seen_by == "pyusb" and dev.name == "1-1"
    assert dev.manufacturer == "HUAWEI Technology"  # from sysfs: pyusb could not open it
    assert dev.at_port == "/dev/ttyUSB2"  # only sysfs knows the tty
    (note,) = scan.notes
    assert "could not open 12d1:1001 at 1-1 (permission denied)" in note
    assert 'ATTR{idVendor}=="12d1", MODE="0660", GROUP="trunkline"' in note
    assert "docs/90-trunkline-mobile.rules" in note


def test_pyusb_sees_a_device_sysfs_does_not_show(tmp_path):
    scan = discover_usb(tmp_path, backend=UnpluggedBackend([e1550_descriptors()]))
    (dev,) = scan.devices
    assert dev.seen_by == "pyusb" and dev.at_port is None
    assert [i.class_triple for i in dev.interfaces] == ["ff/ff/ff"] * 3
    assert any("kernel drivers and ttys unknown" in n for n in scan.notes)


def test_no_libusb_backend_says_which_package(tmp_path, monkeypatch):
    import usb.backend.libusb1

    huawei_e1550(tmp_path)
    # what get_backend() answers on a machine without libusb-1.0 installed
    monkeypatch.setattr(usb.backend.libusb1, "get_backend", lambda *a, **k: None)
    scan = discover_usb(tmp_path, use_pyusb=True)
    assert scan.method == "sysfs" and len(scan.devices) == 1
    assert "libusb-1.0-0" in scan.notes[0]


# -- whatever the files hold, the scan answers ----------------------------------------------
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

junk = st.one_of(st.text(max_size=8), st.sampled_from(["12d1", "ff", "0x12d1", "", "zz"]))


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(vendor=junk, product=junk, number=junk, cls=junk, busnum=junk)
def test_garbage_in_sysfs_files_never_breaks_the_scan(tmp_path_factory, vendor, product,
                                                     number, cls, busnum):
    root = tmp_path_factory.mktemp("sys")
    dev = huawei_e1550(root)
    for path, value in ((dev / "idVendor", vendor), (dev / "idProduct", product),
                        (dev / "busnum", busnum),
                        (dev / "1-1:1.2" / "bInterfaceNumber", number),
                        (dev / "1-1:1.2" / "bInterfaceClass", cls)):
        path.write_text(value)
    scan = discover_usb(root)
    for found in scan.devices:  # a device whose id survived is still described
        assert found.id == f"{found.vendor_id:04x}:{found.product_id:04x}"
        found.as_dict()
