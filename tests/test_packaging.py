"""The package layout: every folder with code is installed, and imports stay light."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_python_package_folder_is_listed_in_pyproject():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    mapping = {v: k for k, v in config["package-dir"].items()}
    for init in ROOT.glob("*/**/__init__.py"):
        rel = init.parent.relative_to(ROOT)
        top = rel.parts[0]
        if top not in mapping or "tests" in rel.parts:
            continue
        name = ".".join([mapping[top], *rel.parts[1:]])
        assert name in listed, f"{rel} is a package but pyproject.toml does not list {name}"


def test_importing_trunkline_loads_no_native_binding():
    code = ("import sys, trunkline, trunkline.drivers.registry, trunkline.cli;"
            "print([m for m in sys.modules"
            " if m.startswith('_trunkline_') or m == '_cffi_backend'])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
