"""Backends by name or URL, as python-can finds its interfaces.

``open_card("emulated")`` opens the built-in emulated card with its default
configuration; ``open_card("emulated:path/card.toml")`` with a given one. Third-party
backends register a ``name = "module:Class"`` entry point in the ``trunkline.backends``
group. Backend modules are imported only when opened, so ``import trunkline`` loads no
native library.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from typing import Any

from trunkline.drivers.card import CardABC
from trunkline.errors import BackendNotFound

#: Built-in backends: name -> (module, class).
BACKENDS: dict[str, tuple[str, str]] = {
    "emulated": ("trunkline.drivers.backends.emulated.card", "EmulatedCard"),
    "dahdi": ("trunkline.drivers.backends.dahdi.card", "DahdiCard"),
    "mobile": ("trunkline.drivers.backends.mobile.card", "MobileCard"),
}


def available_backends() -> dict[str, tuple[str, str]]:
    """Built-in and entry-point backends (entry points may not override built-ins)."""
    found = dict(BACKENDS)
    for ep in entry_points(group="trunkline.backends"):
        module, _, cls = ep.value.partition(":")
        found.setdefault(ep.name, (module, cls))
    return found


def parse_card_url(url: str) -> tuple[str, str]:
    """Split ``"name:argument"`` into its parts (the argument may be empty)."""
    name, _, argument = url.partition(":")
    return name.strip().lower(), argument.strip()


def open_card(url: str, **options: Any) -> CardABC:
    """Open the card named by ``url`` (``"emulated"``, ``"emulated:card.toml"``, ``"dahdi"``).

    ``options`` go to the backend's constructor (for the emulated card: ``clock``,
    ``network``, ``seed``). Raises :class:`BackendNotFound` for an unknown name and the
    backend's own error (e.g. :class:`~trunkline.errors.CardNotFound`) when its hardware
    is missing.
    """
    name, argument = parse_card_url(url)
    backends = available_backends()
    if name not in backends:
        raise BackendNotFound(
            f"no card backend named {name!r}; available: {', '.join(sorted(backends))}"
        )
    module_name, class_name = backends[name]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as err:
        if err.name and module_name.startswith(err.name):
            raise BackendNotFound(
                f"the {name!r} backend is not available in this installation ({err})"
            ) from err
        raise
    cls = getattr(module, class_name)
    return cls.from_url_argument(argument, **options)
