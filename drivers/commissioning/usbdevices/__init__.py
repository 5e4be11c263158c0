"""USB telephony devices for ``trunkline scan``: the profile table
(firmware-profiles/usb/), sysfs reading and discovery with pyusb.

:mod:`.profiles` loads and validates the table, :mod:`.sysfs` reads the kernel's view
(drivers, ttys), :mod:`.discover` joins them with pyusb's. Importing this package loads
neither pyusb nor libusb: :func:`discover_usb` imports pyusb when it runs.
"""

from .discover import FoundUsbDevice as FoundUsbDevice
from .discover import UsbInterface as UsbInterface
from .discover import UsbScan as UsbScan
from .discover import discover_usb as discover_usb
from .profiles import UsbProfile as UsbProfile
from .profiles import load_usb_profiles as load_usb_profiles
from .profiles import parse_usb_id as parse_usb_id

__all__ = ["FoundUsbDevice", "UsbInterface", "UsbProfile", "UsbScan", "discover_usb",
           "load_usb_profiles", "parse_usb_id"]
