"""What each package may import (docs/architecture.md, "Who may import what").

Read from the source with ``ast`` (every import, also those inside functions), so a
layering slip fails here before it becomes a habit.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = {"drivers": "trunkline.drivers", "gateway": "trunkline.gateway",
           "dialer": "trunkline.dialer", "trunkline": "trunkline"}

#: (importing package prefix, imported prefix) pairs that are allowed across layers;
#: anything under trunkline.drivers/gateway/dialer not listed here or within the same
#: layer is refused. The root package (trunkline.errors, .clock, .vocab...) is shared.
ALLOWED = {
    "trunkline.drivers": ("trunkline.drivers",),
    "trunkline.gateway": ("trunkline.gateway", "trunkline.drivers"),
    "trunkline.dialer": ("trunkline.dialer", "trunkline.gateway.rpc.client",
                         "trunkline.gateway.rpc.errors", "trunkline.gateway.testing",
                         "trunkline.gateway.config"),
}
#: Inside the driver layer: nothing that drives calls knows which backend runs.
BACKEND_FREE = ("trunkline.drivers.signalling", "trunkline.drivers.lineloop",
                "trunkline.drivers.card", "trunkline.drivers.dsp", "trunkline.drivers.model",
                "trunkline.drivers.registry")
#: Known exceptions, each with its reason.
EXCEPTIONS = {
    # `trunkline fax send` demonstrates against the emulated network's live fax
    # machine: it configures that machine (inbox, ECM) when the card simulates one.
    ("trunkline.gateway.fax.cli", "trunkline.drivers.backends.emulated"),
    # Type annotation only: the number plan of a simulated network (CardABC.number_plan).
    ("trunkline.drivers.card", "trunkline.drivers.backends.emulated.plan"),
}


def imports() -> Iterator[tuple[str, str]]:
    for folder, package in FOLDERS.items():
        for path in (ROOT / folder).rglob("*.py"):
            module = ".".join([package, *path.relative_to(ROOT / folder).with_suffix("").parts])
            module = module.removesuffix(".__init__")
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    if name.startswith("trunkline."):
                        yield module, name


def _layer(module: str) -> str | None:
    for layer in ALLOWED:
        if module == layer or module.startswith(layer + "."):
            return layer
    return None


def _under(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def test_the_root_package_imports_no_layer() -> None:
    wrong = [(m, n) for m, n in imports()
             if _layer(m) is None and m != "trunkline.cli" and _layer(n) is not None]
    assert wrong == []


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_each_layer_imports_only_what_it_may(layer: str) -> None:
    wrong = sorted((m, n) for m, n in imports() if _layer(m) == layer
                   and _layer(n) is not None and not _under(n, ALLOWED[layer])
                   and (m, n) not in EXCEPTIONS)
    assert wrong == []


def test_nothing_that_drives_calls_knows_the_backend() -> None:
    wrong = sorted((m, n) for m, n in imports() if _under(m, BACKEND_FREE)
                   and _under(n, ("trunkline.drivers.backends",))
                   and (m, n) not in EXCEPTIONS)
    assert wrong == []


def test_nothing_above_the_driver_layer_knows_the_backend() -> None:
    wrong = sorted((m, n) for m, n in imports()
                   if _layer(m) in ("trunkline.gateway", "trunkline.dialer")
                   and _under(n, ("trunkline.drivers.backends",))
                   and (m, n) not in EXCEPTIONS)
    assert wrong == []
