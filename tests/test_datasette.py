"""Query the real database through Datasette's own test client."""

import asyncio
import collections
import csv
import io
import json
import re
import sqlite3
from urllib.parse import quote, urlencode

import pytest
import yaml
from datasette.app import Datasette

from papershelf.publish.site_url import read_site_url
from papershelf.store.pipeline import build_database

from .conftest import CONFIG, FIXTURES, METADATA, TOPICS


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


def test_canned_papers_in_topic_lists_them_in_the_order_of_the_topic_page(datasette, real_db):
    # Found by a review: ties went by slug ascending here, descending on the pages.
    from papershelf.publish.sitedata import load_site_data

    site_order = load_site_data(real_db, None).topic_papers
    for topic, papers in site_order.items():
        rows = get_json(datasette, f"/papers/papers_in_topic.json?_shape=array&topic={topic}")
        assert [r["slug"] for r in rows] == papers, topic


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
    "related_basis",
    "related_papers",
    "retired_topics",
    "site",
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


# --- Canned queries that never error ---

QUERIES = yaml.safe_load(METADATA.read_text())["databases"]["papers"]["queries"]
# A usual value for each parameter; every query is also tried without, empty and quote-only.
NORMAL_INPUT = {"q": "instruction tuning", "topic": "Model merging", "limit": "20"}
AWKWARD_INPUT = ["", " ", '"', '""', "'", '" "', "*", "(", "NEAR", "-"]


def canned_query_paths() -> list[str]:
    paths = []
    for name, query in sorted(QUERIES.items()):
        # Not in string literals: 'urn:papershelf:paper:…' names no parameter.
        code = re.sub(r"'[^']*'", "''", re.sub(r"--.*", "", query["sql"]))
        params = sorted(set(re.findall(r"(?<!:):(\w+)", code)))
        paths.append(f"/papers/{name}")
        for value in AWKWARD_INPUT:
            paths.append(f"/papers/{name}?" + urlencode({p: value for p in params}))
        if params:
            paths.append(f"/papers/{name}?" + urlencode({p: NORMAL_INPUT[p] for p in params}))
    return paths


@pytest.mark.parametrize("path", canned_query_paths())
def test_canned_query_answers_200_whatever_the_input(datasette, path):
    for suffix in ("", ".json"):
        base, _, query = path.partition("?")
        response = asyncio.run(datasette.client.get(f"{base}{suffix}?{query}"))
        assert response.status_code == 200, (path, response.text[:300])


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_canned_query_has_title_description_licence_and_source(datasette, name):
    query = QUERIES[name]
    assert query.get("title") and query.get("description"), name
    page = asyncio.run(datasette.client.get(f"/papers/{name}")).text
    assert "Data license:" in page and "CC BY 4.0" in page, name
    assert "Data source:" in page and "https://huggingface.co/papers" in page, name


def test_search_ranks_by_relevance_and_says_how_many_it_found(datasette, real_db):
    rows = get_json(datasette, "/papers/search.json?_shape=array&q=tune*&limit=")
    with sqlite3.connect(real_db) as conn:
        (found,) = conn.execute(
            "select count(*) from papers_fts where papers_fts match '\"tune*\"'"
        ).fetchone()
    assert found > 100  # more than the default limit: the query says so
    assert len(rows) == 100
    assert {r["matches"] for r in rows} == {found}
    assert [r["position"] for r in rows] == list(range(1, 101))
    with sqlite3.connect(real_db) as conn:  # most relevant first: FTS5's bm25 rank
        ranked = conn.execute(
            "select papers.slug from papers_fts join papers on papers.rowid = papers_fts.rowid "
            "where papers_fts match '\"tune*\"' order by rank, papers.slug limit 100"
        ).fetchall()
    assert [r["slug"] for r in rows] == [slug for (slug,) in ranked]
    everything = get_json(datasette, f"/papers/search.json?_shape=array&q=tune*&limit={found}")
    assert len(everything) == found


def test_search_highlights_the_title(datasette):
    rows = get_json(datasette, "/papers/search.json?_shape=array&q=surgical+concept+erasing")
    assert rows[0]["title"].startswith("All but One: [Surgical] [Concept] [Erasing]")


def test_search_without_words_lists_every_paper_newest_first(datasette):
    for q in ("", " ", '"'):
        rows = get_json(datasette, "/papers/search.json?_shape=array&limit=1000&q=" + quote(q))
        assert len(rows) == 290 == rows[0]["matches"]
        dates = [r["published"] for r in rows if r["published"]]
        assert dates == sorted(dates, reverse=True)


def test_papers_in_topic_by_name_or_slug_in_any_case(datasette):
    by_slug = get_json(datasette, "/papers/papers_in_topic.json?_shape=array&topic=model-merging")
    for topic in ("Model merging", "MODEL MERGING", " model-merging ", "Model-Merging"):
        path = "/papers/papers_in_topic.json?_shape=array&topic=" + quote(topic)
        assert get_json(datasette, path) == by_slug, topic


def test_topic_list_names_every_topic(datasette, real_db):
    rows = get_json(datasette, "/papers/topic_list.json?_shape=array")
    with sqlite3.connect(real_db) as conn:
        topics = conn.execute("select name, slug, paper_count from topics order by position")
        assert [(r["name"], r["slug"], r["papers"]) for r in rows] == topics.fetchall()
    assert "topic_list" in QUERIES["papers_in_topic"]["description"]


def test_most_upvoted_leaves_out_papers_without_upvotes(datasette):
    rows = get_json(datasette, "/papers/most_upvoted.json?_shape=array")
    assert rows and all(r["upvotes"] > 0 for r in rows)


# --- Views and columns as documented as tables ---


def test_every_column_of_every_table_and_view_is_described(datasette):
    tables = get_json(datasette, "/-/metadata.json")["databases"]["papers"]["tables"]
    undescribed = []
    for name in browsable(datasette):
        columns = get_json(datasette, f"/papers/{name}.json?_size=1")["columns"]
        described = tables.get(name, {}).get("columns") or {}
        if not str(tables.get(name, {}).get("description") or "").strip():
            undescribed.append(name)
        undescribed += [f"{name}.{c}" for c in columns if not str(described.get(c) or "").strip()]
    assert undescribed == []


def test_topics_facet_as_an_array_on_papers_with_topics(datasette, real_db):
    data = get_json(datasette, "/papers/papers_with_topics.json?_facet_array=topics&_size=0")
    facet = {r["value"]: r["count"] for r in data["facet_results"]["topics"]["results"]}
    with sqlite3.connect(real_db) as conn:
        counts = conn.execute(
            "select name, count(*) from paper_topics join topics on slug = topic group by name"
        ).fetchall()
    top = sorted(counts, key=lambda item: (-item[1], item[0]))[: len(facet)]
    assert facet and sorted(facet.items()) == sorted(top)


def test_papers_with_topics_facets_topics_by_default(datasette):
    data = get_json(datasette, "/papers/papers_with_topics.json?_size=0")
    assert data["facet_results"]["topics"]["type"] == "array"


def test_page_url_is_the_papers_page_on_the_site(datasette):
    slug = "longlora-efficient-fine-tuning-of-long-context-large-language-models"
    rows = get_json(datasette, f"/papers/papers_with_topics.json?_shape=array&slug={slug}")
    site_url = read_site_url(CONFIG)
    assert site_url.startswith("https://") and site_url.endswith("/")
    assert rows[0]["page_url"] == f"{site_url}papers/{slug}/"
    assert rows[0]["arxiv_url"] is None  # the text listings give no arXiv id
    assert "Parameter-efficient fine-tuning" in json.loads(rows[0]["topics"])


@pytest.fixture(scope="module")
def json_listing_datasette(tmp_path_factory):
    """A database of the daily-papers JSON fixture (arXiv ids known), built without a site."""
    root = tmp_path_factory.mktemp("json-listing")
    (root / "listings").mkdir()
    (root / "listings" / "daily.json").write_bytes((FIXTURES / "daily_papers.json").read_bytes())
    build_database(root / "listings", TOPICS, root / "papers.db", site_url="")
    return Datasette(
        [str(root / "papers.db")], immutables=[], metadata=yaml.safe_load(METADATA.read_text())
    )


def test_arxiv_url_when_the_id_is_known_and_no_page_url_without_a_site(json_listing_datasette):
    rows = get_json(json_listing_datasette, "/papers/papers_with_topics.json?_shape=array")
    assert rows and all(r["arxiv_id"] for r in rows)
    for row in rows:
        assert row["arxiv_url"] == f"https://arxiv.org/abs/{row['arxiv_id']}"
        assert row["page_url"] is None


def test_tables_empty_in_this_collection_are_not_what_a_visitor_meets_first(real_db):
    import sqlite_utils

    from papershelf.publish.exports import datasette_metadata

    db = sqlite_utils.Database(real_db)
    assert db["authors"].count == 0  # the text listings name no authors
    metadata = datasette_metadata(METADATA, db)
    served = Datasette([str(real_db)], metadata=metadata, immutables=[])
    page = asyncio.run(served.client.get("/papers"))
    assert page.status_code == 200
    tables = get_json(served, "/papers.json")["tables"]
    shown = [t["name"] for t in tables if not t["hidden"]]
    assert "authors" not in shown and "paper_authors" not in shown
    assert all(t["count"] for t in tables if not t["hidden"] and t["name"] in shown[:1])
    # The SQL box starts from the first table listed: not an empty one.
    assert "select * from authors" not in page.text
    assert {"authors", "paper_authors"} <= {t["name"] for t in tables if t["hidden"]}


def test_the_papers_in_topic_page_names_the_topics_it_accepts(real_db):
    import sqlite_utils

    from papershelf.publish.exports import datasette_metadata

    db = sqlite_utils.Database(real_db)
    served = Datasette([str(real_db)], metadata=datasette_metadata(METADATA, db))
    page = asyncio.run(served.client.get("/papers/papers_in_topic"))
    assert page.status_code == 200
    for topic in db["topics"].rows:
        assert f"{topic['name']} ({topic['slug']})" in page.text
