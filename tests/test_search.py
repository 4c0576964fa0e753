"""The Pagefind index is made from one small document per paper, topic and listing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import sqlite_utils
from bs4 import BeautifulSoup

from papershelf.publish.search import (
    DIGEST,
    Bundle,
    SearchError,
    arrival_order,
    finish_index,
    pagefind,
    start_index,
    write_search_documents,
)
from papershelf.publish.sitedata import load_site_data
from papershelf.store.pipeline import build_database

from .conftest import FIXTURES, LISTINGS, TOPICS


def documents(root):
    """The search documents by the path of their page (each is in its bundle's directory)."""
    search = root / "search"
    return {
        path.relative_to(search).as_posix().split("/", 1)[1]: path
        for path in search.rglob("*.html")
    }


def test_every_paper_topic_and_listing_has_a_document_at_its_page(real_site, real_db):
    root, _ = real_site
    db = sqlite_utils.Database(real_db)
    expected = (
        {f"papers/{row['slug']}/index.html" for row in db["papers"].rows}
        | {f"topics/{row['slug']}/index.html" for row in db["topics"].rows}
        | {f"listings/{row['name']}/index.html" for row in db["listings"].rows}
    )
    assert set(documents(root)) == expected
    assert all((root / "site" / relative).exists() for relative in expected)
    bundles = json.loads((root / "site" / "pagefind" / "bundles.json").read_text())
    assert len(bundles) == 3  # 290 papers in bundles of 100 (conftest.real_site)
    counts = [
        json.loads((root / "site" / "pagefind" / name / "pagefind-entry.json").read_text())[
            "languages"
        ]["en"]["page_count"]
        for name in bundles
    ]
    assert sum(counts) == len(expected)


def test_a_paper_document_holds_its_own_words_not_its_neighbours(real_site, real_db):
    root, _ = real_site
    db = sqlite_utils.Database(real_db)
    paper = next(db.query("select slug, title, abstract from papers order by slug limit 1"))
    related = next(
        db.query(
            "select title from related_papers join papers on slug = related_paper "
            "where paper = ? order by rank limit 1",
            [paper["slug"]],
        )
    )
    html = documents(root)[f"papers/{paper['slug']}/index.html"].read_text(encoding="utf-8")
    document = BeautifulSoup(html, "html.parser")
    assert document.h1.get_text() == paper["title"]
    assert paper["abstract"] in [p.get_text() for p in document.find_all("p")]
    assert related["title"] not in document.get_text()


def test_search_documents_escape_hostile_text(hostile_site):
    root, _ = hostile_site
    texts = [path.read_text(encoding="utf-8") for path in documents(root).values()]
    joined = "".join(texts)
    assert "&lt;script&gt;alert(" in joined
    assert "<script" not in joined
    assert "<img" not in joined


def test_a_failing_index_reports_what_pagefind_said(tmp_path):
    empty = tmp_path / "documents"
    empty.mkdir()
    with pytest.raises(SearchError, match="pagefind failed: .*not able to build an index"):
        finish_index(start_index(empty, tmp_path / "pagefind"))


def test_a_listing_is_found_under_its_title(real_site, real_db):
    root, _ = real_site
    for row in sqlite_utils.Database(real_db)["listings"].rows:
        html = documents(root)[f"listings/{row['name']}/index.html"].read_text()
        assert BeautifulSoup(html, "html.parser").h1.get_text() == row["title"]


def _one_bundle(search: Path, title: str) -> list[Bundle]:
    (search / "0" / "papers" / "a").mkdir(parents=True, exist_ok=True)
    (search / "0" / "papers" / "a" / "index.html").write_text(
        f'<html lang="en"><body data-pagefind-body><h1>{title}</h1></body></html>'
    )
    return [Bundle("0", title)]  # the digest stands for the documents


def test_the_index_moves_into_the_new_site_when_the_build_ends(tmp_path):
    search = tmp_path / "search"
    bundles = _one_bundle(search, "Low-rank adapters")
    staging, site = tmp_path / ".site.tmp-1-pagefind", tmp_path / ".site.tmp-1"
    site.mkdir()
    previous = tmp_path / "site" / "pagefind"
    with pagefind(search, bundles, staging, previous) as index_into, index_into(site):
        pass  # MkDocs would build the pages here
    assert (site / "pagefind" / "0" / "pagefind.js").is_file()
    assert json.loads((site / "pagefind" / "bundles.json").read_text()) == ["0/"]
    assert not staging.exists()


def _indexed(tmp_path: Path, bundles: list[Bundle], previous: Path, name: str) -> Path:
    """The pagefind/ directory of a new site ``name``, the previous site's at ``previous``."""
    site = tmp_path / name
    site.mkdir()
    staging = tmp_path / f".{name}.tmp-1-pagefind"
    search = tmp_path / "search"
    with pagefind(search, bundles, staging, previous) as index_into, index_into(site):
        pass
    return site / "pagefind"


def test_a_bundle_made_from_the_same_documents_is_taken_from_the_previous_site(tmp_path):
    bundles = _one_bundle(tmp_path / "search", "Low-rank adapters")
    first = _indexed(tmp_path, bundles, tmp_path / "none", "first")
    inode = (first / "0" / "pagefind-entry.json").stat().st_ino
    recorded = (first / "0" / DIGEST).stat().st_mtime_ns
    # The same documents: the bundle is linked, not indexed again (the same file).
    again = _indexed(tmp_path, bundles, first, "again")
    assert (again / "0" / "pagefind-entry.json").stat().st_ino == inode
    assert (first / "0" / DIGEST).stat().st_mtime_ns == recorded  # the previous site untouched
    # Other documents (another digest): indexed again.
    changed = _one_bundle(tmp_path / "search", "Adapters of low rank")
    other = _indexed(tmp_path, changed, first, "other")
    assert (other / "0" / "pagefind-entry.json").stat().st_ino != inode
    assert (other / "0" / DIGEST).read_text() == "Adapters of low rank\n"


def test_an_error_before_the_end_stops_the_index_and_leaves_nothing(tmp_path):
    search = tmp_path / "search"
    bundles = _one_bundle(search, "Low-rank adapters")
    staging = tmp_path / ".site.tmp-1-pagefind"
    with pytest.raises(RuntimeError), pagefind(search, bundles, staging, tmp_path / "none"):
        raise RuntimeError("the pages failed")
    assert not staging.exists()


def _site_data(listings: Path, db: Path):
    build_database(listings, TOPICS, db)
    return load_site_data(db, None)


def test_new_papers_change_only_the_bundles_they_go_to(tmp_path):
    """Papers are bundled in the order they arrived, a listing's document with the first
    paper it brought: a new listing's papers and its document go into the last bundle
    and new ones, so the earlier bundles' documents and digests stay."""
    listings, db = tmp_path / "listings", tmp_path / "papers.db"
    listings.mkdir()
    for name in ("rich.txt", "simple.txt"):
        shutil.copy(FIXTURES / name, listings / name)
    before = write_search_documents(tmp_path / "search", _site_data(listings, db), "en", 2)
    arrived = arrival_order(_site_data(listings, db))
    simple = (FIXTURES / "simple.txt").read_text(encoding="utf-8")
    header = simple[: simple.index("Mar 14\n") + len("Mar 14\n")]
    papers = ["Teapots Considered Harmful", "Umbrellas at Scale", "Kettles Are All You Need"]
    entries = "".join(f"\n{title}\n\nWe study {title.lower()}.\n" for title in papers)
    (listings / "zz-new.txt").write_text(header + entries, encoding="utf-8")
    data = _site_data(listings, db)
    after = write_search_documents(tmp_path / "search", data, "en", 2)

    assert arrival_order(data)[: len(arrived)] == arrived  # the new papers arrived last
    assert len(before) == 3 and len(after) == 5  # 6 papers, then 9, two a bundle
    assert after[:3] == before  # the old bundles: the same documents
    search = tmp_path / "search"
    bundle_of = {
        p.relative_to(search).parts[2]: p.relative_to(search).parts[0] for p in search.glob("*/*/*")
    }
    assert {bundle_of[slug] for slug in data.topics} == {"0"}
    # rich.txt brought the first four papers, simple.txt the next two, zz-new the rest.
    assert [bundle_of[name] for name in ("rich", "simple", "zz-new")] == ["0", "2", "3"]
    assert [bundle_of[slug] for slug in arrival_order(data)] == [
        "0",
        "0",
        "1",
        "1",
        "2",
        "2",
        "3",
        "3",
        "4",
    ]


def test_the_bundles_take_the_papers_in_the_order_the_database_stage_does(real_db):
    """The site reads the arrival order back from the database (the first listing that has
    a paper, by file name, then its rank); it is the order the database stage gave the
    related papers' basis (collection.papers.arrival_order) from the parsed listings."""
    from papershelf.collection.papers import arrival_order as stage_order
    from papershelf.collection.papers import merge_listings
    from papershelf.ingest.formats import read_listing
    from papershelf.store.pipeline import find_listings

    listings = [read_listing(path) for path in find_listings(LISTINGS)]
    papers, _ = merge_listings(listings)
    stage = [papers[row].slug for row in stage_order(listings, papers)]
    assert arrival_order(load_site_data(real_db, None)) == stage
