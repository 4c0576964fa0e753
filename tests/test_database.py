import datetime as dt
import json
import re
import sqlite3

import pytest
import sqlite_utils
import yaml

from papershelf.store.pipeline import build_database
from papershelf.store.schema import data_tables

from .conftest import CONFIG, LISTINGS, METADATA, TOPICS


def test_counts(real_db):
    db = sqlite_utils.Database(real_db)
    assert db["papers"].count == 290
    assert db["listings"].count == 5
    assert db["paper_listings"].count == 378
    assert [r["entries"] for r in db["listings"].rows_where(order_by="name")] == [
        65,
        65,
        74,
        94,
        80,
    ]


def test_tables_have_primary_and_foreign_keys(real_db):
    db = sqlite_utils.Database(real_db)
    assert db["papers"].pks == ["slug"]
    assert db["paper_listings"].pks == ["listing", "rank"]
    assert {(fk.column, fk.other_table) for fk in db["paper_topics"].foreign_keys} == {
        ("paper", "papers"),
        ("topic", "topics"),
    }
    assert {(fk.column, fk.other_table) for fk in db["related_papers"].foreign_keys} == {
        ("paper", "papers"),
        ("related_paper", "papers"),
    }
    assert list(db.execute("pragma foreign_key_check").fetchall()) == []


def test_full_text_search_finds_a_known_paper(real_db):
    db = sqlite_utils.Database(real_db)
    rows = list(db["papers"].search("surgical concept erasing", columns=["slug"]))
    assert rows[0]["slug"].startswith("all-but-one-surgical-concept-erasing")
    # porter stemming: "merges" finds "merging"
    titles = [r["title"] for r in db["papers"].search("merges", columns=["title"])]
    assert (
        "LiNeS: Post-training Layer Scaling Prevents Forgetting and Enhances Model Merging"
        in titles
    )


def test_a_paper_in_several_listings_is_one_row_with_every_appearance(real_db):
    db = sqlite_utils.Database(real_db)
    rows = db.execute(
        "select listing_count, count(*) from papers group by listing_count order by 1"
    ).fetchall()
    assert rows == [(1, 230), (2, 37), (3, 18), (4, 5)]
    slug = "language-models-are-few-shot-learners"
    appearances = [r["listing"] for r in db["paper_listings"].rows_where("paper = ?", [slug])]
    assert len(appearances) == db["papers"].get(slug)["listing_count"] >= 1


def test_paper_record_matches_its_listing(real_db):
    db = sqlite_utils.Database(real_db)
    paper = db["papers"].get("free-process-rewards-without-process-labels")
    assert paper["title"] == "Free Process Rewards without Process Labels"
    assert (paper["published"], paper["year_inferred"], paper["upvotes"]) == ("2024-12-02", 0, 2)
    assert paper["authors_count"] == 9


def test_every_topic_membership_is_explained_by_its_evidence(real_db):
    db = sqlite_utils.Database(real_db)
    papers = {r["slug"]: r for r in db["papers"].rows}
    rules = {r["slug"]: yaml.safe_load(r["rules"]) for r in db["topics"].rows}
    for row in db["topic_evidence"].rows:
        assert row["matched"] in papers[row["paper"]][row["field"]]
        assert row["rule"] in rules[row["topic"]]
        assert row["matched"] in row["snippet"]
    # Every score is what its counted evidence adds up to: each rule's best weight, and
    # 0.1 for each further mention.
    evidence = {}
    for row in db["topic_evidence"].rows_where("counted = 1"):
        evidence.setdefault((row["paper"], row["topic"]), []).append(row)
    for row in db["topic_scores"].rows:
        counted = evidence[row["paper"], row["topic"]]
        best = {}
        for e in counted:
            best[e["rule"]] = max(best.get(e["rule"], 0), e["weight"])
        more = len(counted) - len(best)
        assert 0 <= more <= 3
        assert row["score"] == pytest.approx(sum(best.values()) + 0.1 * more)
    members = db.execute(
        "select count(*) from paper_topics join topic_scores using (paper, topic) "
        "where member = 1 and paper_topics.score = topic_scores.score"
    ).fetchone()[0]
    assert members == db["paper_topics"].count == db["topic_scores"].count_where("member = 1")
    assert db.execute(
        "select count(*) from paper_topics where explanation like '%rule%' "
        "or explanation like '%`%' or explanation = ''"
    ).fetchone() == (0,)


def test_papers_have_at_most_three_topics_and_one_primary(real_db):
    db = sqlite_utils.Database(real_db)
    rows = db.execute(
        "select count(*), sum(is_primary), min(rank), max(rank), max(rank) = count(*) "
        "from paper_topics group by paper"
    ).fetchall()
    assert rows and all(
        n <= 3 and primary == 1 and low == 1 and dense for n, primary, low, _, dense in rows
    )


def test_near_misses_are_queryable_strongest_first(real_db):
    db = sqlite_utils.Database(real_db)
    rows = list(db.query("select * from topic_near_misses"))
    assert rows
    assert [r["score"] for r in rows] == sorted((r["score"] for r in rows), reverse=True)
    reasons = {r["reason"] for r in rows}
    allowed = re.compile(r"below threshold \d\.\d|beyond the 3 strongest topics")
    assert all(allowed.fullmatch(reason) for reason in reasons), reasons
    assert all(r["best_evidence"] and r["best_evidence"].startswith("“") for r in rows)
    members = {(r["paper"], r["topic"]) for r in db["paper_topics"].rows}
    assert not members & {(r["paper"], r["topic"]) for r in rows}


def test_most_papers_have_a_topic(real_db):
    # The revised taxonomy's own test holds it to at most 3% without a topic.
    db = sqlite_utils.Database(real_db)
    with_topic = db.execute("select count(distinct paper) from paper_topics").fetchone()[0]
    assert with_topic / db["papers"].count >= 0.85


def test_links_are_stored_with_their_kind(real_db):
    db = sqlite_utils.Database(real_db)
    rows = list(db["links"].rows_where("url = ?", ["https://github.com/IBM/ensemble-instruct"]))
    assert [(r["kind"], r["host"]) for r in rows] == [("code", "github.com")]
    assert db.execute(
        "select count(*) from links where url like '%.' or url like '%)'"
    ).fetchone() == (0,)


def test_related_papers_exclude_self_and_are_ranked(real_db):
    db = sqlite_utils.Database(real_db)
    assert db.execute(
        "select count(*) from related_papers where paper = related_paper"
    ).fetchone() == (0,)
    per_paper = db.execute(
        "select min(n), max(n) from (select count(*) n from related_papers group by paper)"
    ).fetchone()
    assert per_paper[0] >= 5 and per_paper[1] == 8
    scores = [
        r["score"]
        for r in db["related_papers"].rows_where(
            "paper = ?",
            ["longlora-efficient-fine-tuning-of-long-context-large-language-models"],
            order_by="rank",
        )
    ]
    assert scores == sorted(scores, reverse=True)


def test_views_return_one_row_per_paper(real_db):
    db = sqlite_utils.Database(real_db)
    assert db["papers_with_topics"].count == 290
    assert db["appearances"].count == 378
    row = next(
        db["papers_with_topics"].rows_where(
            "slug = ?", ["longlora-efficient-fine-tuning-of-long-context-large-language-models"]
        )
    )
    assert "Parameter-efficient fine-tuning" in json.loads(row["topics"])


def test_every_table_and_column_is_described_in_the_metadata(real_db):
    metadata = yaml.safe_load(METADATA.read_text())["databases"]["papers"]["tables"]
    db = sqlite_utils.Database(real_db)
    for table in data_tables(db):
        assert metadata[table]["description"], table
        assert set(metadata[table]["columns"]) == set(db[table].columns_dict), table


def test_building_twice_gives_the_same_content(real_db, tmp_path):
    from papershelf.publish.site_url import read_site_url

    again = tmp_path / "again.db"
    build_database(LISTINGS, TOPICS, again, site_url=read_site_url(CONFIG))
    assert list(sqlite3.connect(real_db).iterdump()) == list(sqlite3.connect(again).iterdump())
    assert real_db.read_bytes() == again.read_bytes()


def test_query_planner_has_statistics_and_topic_summary_runs_its_subquery_once(real_db):
    db = sqlite_utils.Database(real_db)
    # ANALYZE ran: without sqlite_stat1 the planner chose idx_links_kind for the code-link
    # check of topic_summary and scanned every code link once per paper (19 s at 10,000).
    assert db["sqlite_stat1"].count > 0
    plan = " ".join(row[3] for row in db.execute("explain query plan select * from topic_summary"))
    assert "CORRELATED" not in plan
    summary = {row["slug"]: row for row in db["topic_summary"].rows}
    with_code = db.execute(
        "select count(distinct paper_topics.paper) from paper_topics join links"
        " on links.paper = paper_topics.paper and links.kind = 'code'"
        " where paper_topics.topic = 'parameter-efficient-fine-tuning'"
    ).fetchone()[0]
    assert summary["parameter-efficient-fine-tuning"]["papers_with_code"] == with_code > 0


# --- Rows in one place: a papers column is a Paper field, a schema line, a description ---


def _real_papers():
    from papershelf.collection.papers import merge_listings
    from papershelf.ingest.formats import read_listing
    from papershelf.store.pipeline import find_listings

    papers, _ = merge_listings([read_listing(path) for path in find_listings(LISTINGS)])
    return papers


def test_papers_rows_have_exactly_the_schema_columns_read_from_the_paper_fields(real_db):
    import dataclasses

    from papershelf.collection.papers import Paper
    from papershelf.store.rows import PAPER_DERIVED, paper_rows
    from papershelf.store.schema import SCHEMA

    columns = list(SCHEMA["papers"]["columns"])
    fields = {field.name for field in dataclasses.fields(Paper)}
    # Every column is a field of its name or derived; every field is a column, derived
    # into one (key: title_key), or the rows of a table of its own.
    assert set(columns) <= fields | set(PAPER_DERIVED)
    assert fields - set(columns) == {"key", "appearances", "links", "authors"}
    papers = _real_papers()
    rows = list(paper_rows(papers))
    assert all(list(row) == columns for row in rows)
    stored = {row["slug"]: row for row in sqlite_utils.Database(real_db)["papers"].rows}
    assert rows == [stored[paper.slug] for paper in papers]
    # As SQLite stores them: a tuple as JSON (none when empty), a flag as 0/1, a date as text.
    paper = dataclasses.replace(
        papers[0], ai_keywords=("LoRA", "réseau"), year_inferred=True, published=dt.date(2024, 3, 1)
    )
    [row] = paper_rows([paper])
    assert (row["ai_keywords"], row["year_inferred"]) == ('["LoRA", "réseau"]', 1)
    assert (row["published"], row["published_year"]) == ("2024-03-01", 2024)
    assert next(paper_rows([dataclasses.replace(paper, ai_keywords=())]))["ai_keywords"] is None


def test_a_new_papers_column_is_a_field_and_a_schema_line():
    import dataclasses

    from papershelf.collection.papers import Paper
    from papershelf.store.rows import paper_rows
    from papershelf.store.schema import SCHEMA

    @dataclasses.dataclass(frozen=True)
    class PaperWithDoi(Paper):
        doi: str | None = None

    paper = _real_papers()[0]
    with_doi = PaperWithDoi(**dataclasses.asdict(paper) | {"doi": "10.1/x"})
    columns = [*SCHEMA["papers"]["columns"], "doi"]
    [row] = paper_rows([with_doi], columns, PaperWithDoi)
    assert row["doi"] == "10.1/x" and list(row) == columns


def test_a_schema_column_with_no_source_fails_before_any_row():
    from papershelf.errors import DatabaseError
    from papershelf.store.rows import paper_rows
    from papershelf.store.schema import SCHEMA

    columns = [*SCHEMA["papers"]["columns"], "doi"]
    with pytest.raises(DatabaseError, match=r"papers column\(s\) doi have no source"):
        paper_rows([], columns)


def test_a_row_with_other_columns_than_its_table_is_refused():
    from papershelf.errors import DatabaseError
    from papershelf.store.database import insert
    from papershelf.store.schema import ensure_db_shape

    db = sqlite_utils.Database(memory=True)
    ensure_db_shape(db)
    with pytest.raises(DatabaseError, match=r"a row of site has the columns \['name'\]"):
        insert(db, "site", [{"name": "site_url"}])
    with pytest.raises(DatabaseError, match="a row of site has the columns"):
        insert(db, "site", [{"name": "site_url", "value": "/", "extra": 1}])
    assert db["site"].count == 0


def test_topics_matched_a_chunk_at_a_time_give_the_same_rows(real_db, tmp_path, monkeypatch):
    from papershelf.store import database

    monkeypatch.setattr(database, "MATCH_CHUNK", 7)  # chunks that split the 290 papers unevenly
    chunked = tmp_path / "chunked.db"
    build_database(LISTINGS, TOPICS, chunked)
    for table in ("paper_topics", "topic_scores", "topic_evidence", "topics"):
        with sqlite3.connect(real_db) as whole, sqlite3.connect(chunked) as parts:
            # In the order they were stored (topic_evidence has no rowid: its key's order).
            order = "paper, topic, position" if table == "topic_evidence" else "rowid"
            query = f"select * from {table} order by {order}"
            assert parts.execute(query).fetchall() == whole.execute(query).fetchall(), table


def test_topic_evidence_is_stored_in_its_key_s_order_without_a_copy_of_the_key(real_db):
    with sqlite3.connect(real_db) as conn:
        (sql,) = conn.execute(
            "select sql from sqlite_master where name = 'topic_evidence'"
        ).fetchone()
        indexes = conn.execute(
            "select name from sqlite_master where tbl_name = 'topic_evidence' and type = 'index'"
        )
        assert sql.endswith("WITHOUT ROWID") and indexes.fetchall() == []
