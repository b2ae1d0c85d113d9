"""Runs duckdb_contribution.sql in one process: python duckdb_contribution.py DATA_DIR OUT_CSV."""

import sys
from pathlib import Path

import duckdb

data, out = sys.argv[1], sys.argv[2]
sql = (Path(__file__).parent / "duckdb_contribution.sql").read_text()
duckdb.connect().execute(sql.replace(":data", data).replace(":out", out))
