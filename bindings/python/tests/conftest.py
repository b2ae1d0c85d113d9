import pathlib

import pytest

REPO = pathlib.Path(__file__).resolve().parents[3]
VECTORS = REPO / "rules-spec" / "vectors"


@pytest.fixture(scope="session")
def repo() -> pathlib.Path:
    return REPO
