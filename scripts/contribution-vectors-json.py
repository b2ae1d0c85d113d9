#!/usr/bin/env python3
"""Writes the contribution vectors (rules-spec/contribution-vectors/*.toml, SPEC §20.9) as one
JSON list, for the C and Java test suites, which read JSON: each case as its TOML reads, plus
`name` (the file name). A change of form only: nothing is computed or compared here.

Usage: contribution-vectors-json.py <vectors directory> <output .json>
"""
import json
import pathlib
import sys
import tomllib


def main() -> None:
    folder, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    cases = []
    for path in sorted(folder.glob("*.toml")):
        with path.open("rb") as f:
            cases.append({"name": path.name, **tomllib.load(f)})
    if not cases:
        sys.exit(f"no vectors in {folder}")
    out.write_text(json.dumps(cases, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
