"""trunkline: an open hard dialer on commodity telephony boards.

The distribution has three layers, each importable on its own (see DESIGN.md):

- :mod:`trunkline.drivers`: cards, spans and channels over backends (emulated, DAHDI), DSP.
- :mod:`trunkline.gateway`: the service presenting every channel through one API.
- :mod:`trunkline.dialer`: campaigns, pacing, agents, compliance.

Importing :mod:`trunkline` loads no native library: backends and cffi bindings are
imported lazily, when first used.
"""

from trunkline._version import __version__ as __version__
