"""The same input gives the same output, byte for byte, wherever and whenever it is built."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from papershelf.store.pipeline import build_database

from .conftest import FIXTURES, REPO, TOPICS, build_site_into

FORMATS = ("simple.txt", "rich.txt", "daily_papers.json", "daily.html")


@pytest.fixture(scope="module")
def fixture_db(tmp_path_factory) -> Path:
    """A database of one listing in each format; its newest date is 2025-11-04."""
    root = tmp_path_factory.mktemp("formats")
    (root / "listings").mkdir()
    for name in FORMATS:
        shutil.copy(FIXTURES / name, root / "listings" / name)
    build_database(root / "listings", TOPICS, root / "papers.db")
    return root / "papers.db"


def _lastmods(site: Path) -> set[str]:
    return set(re.findall(r"<lastmod>([^<]*)</lastmod>", (site / "sitemap.xml").read_text()))


def test_the_sitemap_is_dated_from_the_data_not_the_build(fixture_db, tmp_path):
    assert "SOURCE_DATE_EPOCH" not in os.environ
    build_site_into(fixture_db, tmp_path, workers=1)
    assert _lastmods(tmp_path / "site") == {"2025-11-04"}
    assert "SOURCE_DATE_EPOCH" not in os.environ  # set for the MkDocs run only


def test_a_source_date_epoch_given_by_the_user_is_kept(fixture_db, tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")  # 2023-11-14
    build_site_into(fixture_db, tmp_path, workers=1)
    assert _lastmods(tmp_path / "site") == {"2023-11-14"}
    assert os.environ["SOURCE_DATE_EPOCH"] == "1700000000"


def _checkout(root: Path) -> Path:
    """What a clone holds that a build reads, with the fixtures as the listings."""
    root.mkdir()
    (root / "content" / "listings").mkdir(parents=True)
    for name in FORMATS:
        shutil.copy(FIXTURES / name, root / "content" / "listings" / name)
    shutil.copy(TOPICS, root / "content" / "topics.yml")
    shutil.copytree(REPO / "notebooks", root / "notebooks")
    (root / "datasets").mkdir()
    shutil.copy(REPO / "datasets" / "metadata.yml", root / "datasets" / "metadata.yml")
    shutil.copy(REPO / "mkdocs.yml", root / "mkdocs.yml")
    theme = Path("papershelf", "publish", "theme")
    shutil.copytree(REPO / theme, root / theme)
    return root


def _outputs(root: Path) -> dict[str, bytes]:
    files = sorted((root / "site").rglob("*")) + [root / "datasets" / "papers.db"]
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in files if p.is_file()}


def test_two_builds_in_two_directories_are_byte_identical(tmp_path):
    """``build.py all`` (notebooks executed, Pagefind, gzipped sitemap) in two checkouts
    at different paths, side by side: every file of the site and the database agree."""
    roots = [_checkout(tmp_path / "first"), _checkout(tmp_path / "second-copy")]
    builds = [
        subprocess.Popen(
            [sys.executable, "-B", str(REPO / "build.py"), "all"],
            cwd=root,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for root in roots
    ]
    for build in builds:
        _, errors = build.communicate()
        assert build.returncode == 0, errors

    first, second = (_outputs(root) for root in roots)
    assert "site/sitemap.xml.gz" in first and "site/analysis/exploring/index.html" in first
    assert sorted(first) == sorted(second)
    assert [name for name in first if first[name] != second[name]] == []
