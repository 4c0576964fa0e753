from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from papershelf.store.pipeline import build_database

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
LISTINGS = REPO / "content" / "listings"
TOPICS = REPO / "content" / "topics.yml"
METADATA = REPO / "datasets" / "metadata.yml"


@pytest.fixture(scope="session")
def real_db(tmp_path_factory) -> Path:
    """papers.db built once from the real content/, in a temporary directory."""
    from papershelf.publish.site import read_site_url

    path = tmp_path_factory.mktemp("real") / "papers.db"
    # As 'build.py db' builds it: with the site's address from mkdocs.yml.
    build_database(LISTINGS, TOPICS, path, site_url=read_site_url(REPO / "mkdocs.yml"))
    return path


@pytest.fixture
def fixture_listings(tmp_path) -> Path:
    """A listings directory holding the two small committed fixtures."""
    directory = tmp_path / "listings"
    directory.mkdir()
    for name in ("simple.txt", "rich.txt"):
        shutil.copy(FIXTURES / name, directory / name)
    return directory


CONFIG = REPO / "mkdocs.yml"


NOTEBOOKS = REPO / "notebooks"


def build_site_into(
    db_path: Path, root: Path, cache_dir: Path | None = None, workers: int | None = None
):
    """Build the site from ``db_path`` under ``root`` (docs and site directories)."""
    from papershelf.publish.site import build_site

    return build_site(
        db_path,
        root / "site",
        root / "docs",
        CONFIG,
        METADATA,
        NOTEBOOKS,
        cache_dir,
        workers=workers,
    )


@pytest.fixture(scope="session")
def notebook_cache(tmp_path_factory) -> Path:
    """Where executed notebooks are cached, shared by the notebook tests and the site."""
    return tmp_path_factory.mktemp("notebook-cache")


@pytest.fixture(scope="session")
def real_site(real_db, notebook_cache, tmp_path_factory):
    """The site built from the real database: (root, SiteResult)."""
    root = tmp_path_factory.mktemp("real-site")
    return root, build_site_into(real_db, root, notebook_cache)


@pytest.fixture(scope="session")
def hostile_site(tmp_path_factory):
    """Database and site built from the hostile fixture alone."""
    root = tmp_path_factory.mktemp("hostile")
    listings = root / "listings"
    listings.mkdir()
    shutil.copy(FIXTURES / "hostile.txt", listings / "hostile.txt")
    build_database(listings, TOPICS, root / "papers.db")
    return root, build_site_into(root / "papers.db", root)
