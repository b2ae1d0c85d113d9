"""Checks the DuckDB side against the crate's outputs: python3 duckdb_crosscheck.py RUST_OUT_DIR DUCKDB_CSV."""

import csv, sys
from decimal import Decimal
rust, duck = sys.argv[1], sys.argv[2]
cust = {r['customer']: r for r in csv.DictReader(open(rust + '/customers.csv'))}
mk = {}
for r in csv.DictReader(open(rust + '/lineage.csv')):
    if r['pool'] == 'marketing':
        mk[r['customer']] = -Decimal(r['amount'])
n = 0
for r in csv.DictReader(open(duck)):
    c = cust[r['customer']]
    assert Decimal(c['interest_asset']) == Decimal(r['interest_asset']), (r, c)
    assert Decimal(c['interest_liability']) == Decimal(r['interest_liability']), (r, c)
    assert mk.get(r['customer'], Decimal(0)) == Decimal(r['marketing']), (r, mk.get(r['customer']))
    n += 1
assert n == len(cust)
print(f"{n} customers: interest by side and the marketing shares agree")
