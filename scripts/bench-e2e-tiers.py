"""The work issue 19's benchmark compares (scripts/bench-e2e.sh): the tiering of the AUM.

    bench-e2e-tiers.py BOOK.toml OUT_BOOK.json EXTRACT.csv OUT_EXTRACT.csv

Writes BOOK's tiers only (its measures, warnings, lifecycle stages, upgrade pause and loan
settings dropped: DuckDB's query does none of them) as JSON, and EXTRACT with its identity and
AUM component columns only (the demo also writes its measures as columns, which DuckDB's query
would add into the AUM). The cells are copied as text, unchanged.
"""

import csv
import json
import sys
import tomllib

IDS = ["month", "customer_id", "legal_entity", "legal_entity_name", "customer_kind"]


def main() -> None:
    book_path, out_book, extract, out_extract = sys.argv[1:5]
    with open(book_path, "rb") as f:
        book = tomllib.load(f)
    book.pop("loans", None)
    components = []
    for rule_set in book["rule_sets"]:
        for version in rule_set["versions"]:
            for key in ("measures", "warnings", "lifecycle", "pause_upgrades_while"):
                version.pop(key, None)
            for c in version.get("aum", {}).get("components", []):
                if c["code"] not in components:
                    components.append(c["code"])
    with open(out_book, "w", encoding="utf-8") as f:
        json.dump(book, f, ensure_ascii=False)
    with open(extract, newline="", encoding="utf-8") as src, open(out_extract, "w", newline="", encoding="utf-8") as dst:
        rows = csv.reader(src)
        head = next(rows)
        keep = [head.index(c) for c in IDS + components if c in head]
        w = csv.writer(dst, lineterminator="\n")
        w.writerow([head[i] for i in keep])
        for row in rows:
            w.writerow([row[i] for i in keep])


main()
