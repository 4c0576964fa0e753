"""The Pagefind index is made from one small document per paper, topic and listing."""

from __future__ import annotations

import json

import pytest
import sqlite_utils
from bs4 import BeautifulSoup

from papershelf.publish.search import SearchError, finish_index, pagefind, start_index


def documents(root):
    search = root / "search"
    return {path.relative_to(search).as_posix(): path for path in search.rglob("*.html")}


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
    entry = json.loads((root / "site" / "pagefind" / "pagefind-entry.json").read_text())
    assert entry["languages"]["en"]["page_count"] == len(expected)


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
        html = (root / "search" / "listings" / row["name"] / "index.html").read_text()
        assert BeautifulSoup(html, "html.parser").h1.get_text() == row["title"]


def test_the_index_moves_into_the_new_site_when_the_build_ends(tmp_path):
    documents = tmp_path / "search"
    (documents / "papers" / "a").mkdir(parents=True)
    (documents / "papers" / "a" / "index.html").write_text(
        '<html lang="en"><body data-pagefind-body><h1>Low-rank adapters</h1></body></html>'
    )
    staging, site = tmp_path / ".site.tmp-1-pagefind", tmp_path / ".site.tmp-1"
    site.mkdir()
    with pagefind(documents, staging) as index_into, index_into(site):
        pass  # MkDocs would build the pages here
    assert (site / "pagefind" / "pagefind.js").is_file()
    assert not staging.exists()


def test_an_error_before_the_end_stops_the_index_and_leaves_nothing(tmp_path):
    documents = tmp_path / "search"
    documents.mkdir()
    staging = tmp_path / ".site.tmp-1-pagefind"
    with pytest.raises(RuntimeError), pagefind(documents, staging):
        raise RuntimeError("the pages failed")
    assert not staging.exists()
