"""Query the real database through Datasette's own test client."""

import asyncio
import collections
import csv
import io
import sqlite3

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


# --- Every row reachable: paging with each table's and view's configured sort ---

PAGE = 50


@pytest.fixture(scope="module")
def paging_datasette(real_db):
    """Datasette whose CSV stream, like the JSON, pages 50 rows at a time."""
    return Datasette(
        [str(real_db)],
        immutables=[],
        metadata=yaml.safe_load(METADATA.read_text()),
        # Streaming asks for the largest page first and the default size after it.
        settings={"max_returned_rows": PAGE, "default_page_size": PAGE},
    )


def browsable(datasette) -> list[str]:
    """Every table and view a visitor can page through (not the full-text indexes)."""
    index = get_json(datasette, "/papers.json")
    tables = [t["name"] for t in index["tables"] if not t["hidden"]]
    return sorted(tables) + sorted(v["name"] for v in index["views"])


def every_row(real_db, name: str) -> collections.Counter:
    with sqlite3.connect(real_db) as conn:
        cursor = conn.execute(f'select * from "{name}"')
        columns = [c[0] for c in cursor.description]
        return collections.Counter(tuple(zip(columns, row, strict=True)) for row in cursor)


def page_with_next_links(datasette, name: str) -> collections.Counter:
    rows = collections.Counter()
    path = f"/papers/{name}.json?_size={PAGE}&_shape=objects"
    while path:
        data = get_json(datasette, path)
        rows.update(tuple((c, row[c]) for c in data["columns"]) for row in data["rows"])
        path = data["next_url"] and data["next_url"].removeprefix("http://localhost")
    return rows


def csv_stream(datasette, name: str) -> collections.Counter:
    response = asyncio.run(datasette.client.get(f"/papers/{name}.csv?_stream=on"))
    assert response.status_code == 200, (name, response.text[:500])
    return collections.Counter(
        tuple(row.items()) for row in csv.DictReader(io.StringIO(response.text))
    )


def as_csv_text(rows: collections.Counter) -> collections.Counter:
    """The same rows as the CSV writes them: every value a string, null an empty one."""
    return collections.Counter(
        {tuple((c, "" if v is None else str(v)) for c, v in row): n for row, n in rows.items()}
    )


BROWSABLE = [
    # tables
    "authors",
    "links",
    "listings",
    "paper_authors",
    "paper_listings",
    "paper_topics",
    "papers",
    "related_papers",
    "retired_topics",
    "topic_evidence",
    "topic_scores",
    "topics",
    # views
    "appearances",
    "papers_with_topics",
    "topic_near_misses",
    "topic_summary",
]


def test_paging_is_checked_for_every_table_and_view(paging_datasette):
    assert browsable(paging_datasette) == BROWSABLE


@pytest.mark.parametrize("name", BROWSABLE)
def test_next_links_reach_every_row_exactly_once(paging_datasette, real_db, name):
    assert page_with_next_links(paging_datasette, name) == every_row(real_db, name)


@pytest.mark.parametrize("name", BROWSABLE)
def test_csv_stream_has_every_row_exactly_once(paging_datasette, real_db, name):
    assert csv_stream(paging_datasette, name) == as_csv_text(every_row(real_db, name))


def test_configured_sorts_are_on_columns_with_unique_values(real_db):
    # Datasette 0.65 orders the first page by the sort column alone and later pages by it
    # and the primary key, so ties in the sort column are shown twice or never.
    tables = yaml.safe_load(METADATA.read_text())["databases"]["papers"]["tables"]
    with sqlite3.connect(real_db) as conn:
        for name, table in tables.items():
            for column in filter(None, (table.get("sort"), table.get("sort_desc"))):
                total, distinct = conn.execute(
                    f'select count(*), count(distinct "{column}") from "{name}"'
                ).fetchone()
                assert distinct == total, f"{name}.{column} has ties: Datasette pages it wrongly"
