"""Query the real database through Datasette's own test client."""

import asyncio

import pytest
import yaml
from datasette.app import Datasette

from .conftest import METADATA


@pytest.fixture(scope="module")
def datasette(real_db):
    return Datasette([str(real_db)], immutables=[], metadata=yaml.safe_load(METADATA.read_text()))


def get_json(datasette, path):
    response = asyncio.run(datasette.client.get(path))
    assert response.status_code == 200, (path, response.text[:500])
    return response.json()


def test_index_lists_the_database_with_its_title(datasette):
    response = asyncio.run(datasette.client.get("/"))
    assert response.status_code == 200
    assert "papershelf" in response.text
    assert "papers" in get_json(datasette, "/.json")


def test_papers_table_shows_descriptions(datasette):
    response = asyncio.run(datasette.client.get("/papers/papers"))
    assert response.status_code == 200
    assert "Distinct papers." in response.text
    assert "Stable id made from the normalised title" in response.text
    data = get_json(datasette, "/papers/papers.json?_shape=objects")
    assert data["filtered_table_rows_count"] == 290


def test_canned_search_returns_snippets(datasette):
    rows = get_json(datasette, "/papers/search.json?_shape=array&q=surgical+concept+erasing")
    assert rows[0]["slug"].startswith("all-but-one-surgical-concept-erasing")
    assert "[" in rows[0]["snippet"] and "]" in rows[0]["snippet"]


def test_canned_search_tolerates_fts_syntax(datasette):
    rows = get_json(datasette, "/papers/search.json?_shape=array&q=%22unbalanced+(")
    assert rows == []


def test_canned_papers_in_topic(datasette, real_db):
    rows = get_json(datasette, "/papers/papers_in_topic.json?_shape=array&topic=model-merging")
    import sqlite_utils

    expected = sqlite_utils.Database(real_db)["topics"].get("model-merging")["paper_count"]
    assert len(rows) == expected > 0
    assert any(r["title"].startswith("LiNeS") for r in rows)
    # Primary memberships first, then by score (then newest first).
    strengths = [(r["is_primary"], r["score"]) for r in rows]
    assert strengths == sorted(strengths, reverse=True)
    assert all(r["explanation"] for r in rows)


def test_canned_most_upvoted(datasette):
    rows = get_json(datasette, "/papers/most_upvoted.json?_shape=array")
    upvotes = [r["upvotes"] for r in rows]
    assert upvotes == sorted(upvotes, reverse=True)
    assert upvotes[0] > 0


def test_canned_papers_per_month(datasette, real_db):
    import sqlite_utils

    rows = get_json(datasette, "/papers/papers_per_month.json?_shape=array")
    dated = (
        sqlite_utils.Database(real_db)
        .execute("select count(*) from papers where published is not null")
        .fetchone()[0]
    )
    assert sum(r["papers"] for r in rows) == dated
    assert [r["month"] for r in rows] == sorted(r["month"] for r in rows)
