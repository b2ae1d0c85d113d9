"""The crm-tiering CLI for the Python tests that store months with it (test_store.py,
test_store_loans.py): the debug binary of the workspace's target, built once when missing."""

import os
import pathlib
import shutil
import subprocess

import pytest

REPO = pathlib.Path(__file__).resolve().parents[3]


def cli_path() -> pathlib.Path:
    target = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    exe = target / "debug" / "crm-tiering"
    if not exe.exists():
        if shutil.which("cargo") is None:
            pytest.skip(f"the crm-tiering CLI is not built ({exe}) and cargo is not available to build it")
        subprocess.run(["cargo", "build", "-q", "-p", "crm-tiering-cli"], cwd=REPO, check=True)
    return exe


def run_cli(*args: str) -> subprocess.CompletedProcess:
    """Runs the CLI with `args`; a non-zero exit fails the test with its output."""
    r = subprocess.run([str(cli_path()), *args], capture_output=True, text=True)
    assert r.returncode == 0, f"crm-tiering {' '.join(args)} exited {r.returncode}:\n{r.stdout}\n{r.stderr}"
    return r
