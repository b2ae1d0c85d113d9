"""Writes portfolio_walkthrough.ipynb from portfolio_walkthrough.py (cells split on `# %%`),
so that the notebook's cells are the script's. `--check` fails when they differ."""

import json
import pathlib
import sys

HERE = pathlib.Path(__file__).parent
SCRIPT = HERE / "portfolio_walkthrough.py"
NOTEBOOK = HERE / "portfolio_walkthrough.ipynb"


def cells(text: str) -> list:
    out = []
    for chunk in text.split("# %%")[1:]:
        header, _, body = chunk.partition("\n")
        body = body.strip("\n")
        if header.strip() == "[markdown]":
            lines = [line[2:] if line.startswith("# ") else line.lstrip("#") for line in body.splitlines()]
            out.append({"cell_type": "markdown", "metadata": {}, "source": "\n".join(lines)})
        else:
            out.append({"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": body})
    return out


def notebook() -> str:
    nb = {
        "cells": cells(SCRIPT.read_text(encoding="utf-8")),
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    for i, c in enumerate(nb["cells"]):
        c["id"] = f"cell-{i}"
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    if "--check" in sys.argv:
        if NOTEBOOK.read_text(encoding="utf-8") != notebook():
            sys.exit("portfolio_walkthrough.ipynb differs from the script: run make_notebook.py")
        print("notebook matches the script")
    else:
        NOTEBOOK.write_text(notebook(), encoding="utf-8")
