"""The stubs in `_native.pyi` match the compiled module (mypy's stubtest)."""

import pathlib
import shutil
import subprocess
import sys

import pytest

import crm_tiering


def test_stubtest():
    pytest.importorskip("mypy")
    pkg = pathlib.Path(crm_tiering.__file__).parent
    assert (pkg / "_native.pyi").exists() and (pkg / "py.typed").exists()
    r = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", "crm_tiering._native", "--ignore-missing-stub"],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stdout + r.stderr


def test_every_public_name_is_stubbed():
    from crm_tiering import _native

    stub = (pathlib.Path(crm_tiering.__file__).parent / "_native.pyi").read_text()
    for name in dir(_native):
        if name.startswith("__"):
            continue
        assert f"{name}" in stub, f"{name} missing from _native.pyi"
