from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from papershelf.pipeline import build_database

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
LISTINGS = REPO / "content" / "listings"
TOPICS = REPO / "content" / "topics.yml"
METADATA = REPO / "datasets" / "metadata.yml"


@pytest.fixture(scope="session")
def real_db(tmp_path_factory) -> Path:
    """papers.db built once from the real content/, in a temporary directory."""
    path = tmp_path_factory.mktemp("real") / "papers.db"
    build_database(LISTINGS, TOPICS, path)
    return path


@pytest.fixture
def fixture_listings(tmp_path) -> Path:
    """A listings directory holding the two small committed fixtures."""
    directory = tmp_path / "listings"
    directory.mkdir()
    for name in ("simple.txt", "rich.txt"):
        shutil.copy(FIXTURES / name, directory / name)
    return directory
