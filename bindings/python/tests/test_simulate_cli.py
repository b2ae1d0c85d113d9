"""`crm-tiering simulate` and Python's `simulate` give the same tables: both are checked against
the expected files of crates/crm-tiering-cli/tests/data/simulate (which the CLI's own test checks
too), and, when the CLI binary is built (target/debug/crm-tiering), run side by side."""

import csv
import os
import pathlib
import subprocess

import pytest

import crm_tiering as ct
from conftest import REPO

pa = pytest.importorskip("pyarrow")

DATA = REPO / "crates" / "crm-tiering-cli" / "tests" / "data" / "simulate"
RULES_A = REPO / "rules-spec" / "default-rules.toml"
CLI = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target")) / "debug" / "crm-tiering"


def _cells(path):
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    return (rows[0], rows[1:])


def _csv_rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def _as_csv(table, columns):
    """A table's rows as the CLI writes them: months "YYYY-MM", nulls empty, amounts as text."""
    out = [list(columns)]
    for row in table.to_pylist():
        cells = []
        for c in columns:
            v = row[c]
            if v is None:
                cells.append("")
            elif hasattr(v, "strftime"):
                cells.append(f"{v:%Y-%m}")
            else:
                cells.append(str(v))
        out.append(cells)
    return out


def _python_simulation():
    return ct.simulate(
        ct.load_rules(RULES_A),
        ct.load_rules(DATA / "rules-b.toml"),
        _cells(DATA / "aum.csv"),
        months="2024-01..2024-06",
        designations=_cells(DATA / "designations.csv"),
    )


def test_python_matches_the_expected_files():
    sim = _python_simulation()
    assert _as_csv(sim.counts, ["month", "tier", "count_a", "count_b", "delta"]) == _csv_rows(DATA / "expected-counts.csv")
    changes = ["customer_id", "month", "aum", "tier_a", "tier_b", "status_a", "status_b"]
    assert _as_csv(sim.changes, changes) == _csv_rows(DATA / "expected-changes.csv")


def test_cli_and_python_give_the_same_counts(tmp_path):
    if not CLI.exists():
        pytest.skip(f"{CLI} is not built (cargo build -p crm-tiering-cli)")
    out = tmp_path / "sim"
    r = subprocess.run(
        [
            str(CLI), "simulate", "--rules-a", str(RULES_A), "--rules-b", str(DATA / "rules-b.toml"),
            "--month", "2024-01..2024-06", "--aum", str(DATA / "aum.csv"),
            "--designations", str(DATA / "designations.csv"), "--out", str(out),
        ],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr
    sim = _python_simulation()
    assert _csv_rows(out / "counts.csv") == _as_csv(sim.counts, ["month", "tier", "count_a", "count_b", "delta"])
    changes = ["customer_id", "month", "aum", "tier_a", "tier_b", "status_a", "status_b"]
    assert _csv_rows(out / "changes.csv") == _as_csv(sim.changes, changes)
