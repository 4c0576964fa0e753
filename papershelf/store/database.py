"""Write the collection to SQLite: each table's rows (:mod:`.rows`) into the tables
declared in :mod:`.schema`, with one prepared statement a table."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from operator import itemgetter

import sqlite_utils

from ..collection.enrichment import Enriched
from ..collection.papers import Paper
from ..collection.related import Related
from ..collection.topics import Topic, TopicRules
from ..errors import DatabaseError
from ..ingest.listing_names import ListingLabel, label
from ..ingest.parse import Listing
from . import rows
from .schema import SCHEMA, enable_fts


def insert(db: sqlite_utils.Database, table: str, table_rows: Iterable[dict | tuple]) -> None:
    """Bulk insert with one prepared statement. sqlite-utils' ``insert_all`` spends most
    of a large build converting values one by one; these rows are plain already. Rows are
    dictionaries with exactly the table's columns, or tuples in their order."""
    columns = list(SCHEMA[table]["columns"])
    names = ", ".join(f"[{c}]" for c in columns)
    marks = ", ".join("?" for _ in columns)
    db.conn.executemany(
        f"insert into [{table}] ({names}) values ({marks})", _tuples(table, columns, table_rows)
    )


def _tuples(table: str, columns: list[str], table_rows: Iterable[dict | tuple]) -> Iterator:
    """The rows as tuples; the rows of one table are all dictionaries or all tuples."""
    table_rows = iter(table_rows)
    first = next(table_rows, None)
    if first is None:
        return iter(())
    table_rows = itertools.chain([first], table_rows)
    if not isinstance(first, dict):
        return table_rows
    # itemgetter of two or more columns (every table has) gives a tuple.
    return map(itemgetter(*columns), map(_checker(table, columns), table_rows))


def _checker(table: str, columns: list[str]):
    expected = set(columns)

    def checked(row: dict) -> dict:
        if row.keys() != expected:
            raise DatabaseError(
                f"a row of {table} has the columns {sorted(row)}, not {sorted(expected)}"
            )
        return row

    return checked


# Papers matched and written at a time: the evidence of every paper at once would be most
# of the stage's memory (0.9 GB at 100,000 papers).
MATCH_CHUNK = 2000


def write_topic_matches(
    db: sqlite_utils.Database, rules: TopicRules, papers: list[Paper]
) -> list[set[str]]:
    """Match the papers (sorted by slug) against the topics' rules a chunk at a time and
    write each chunk's memberships, scores and evidence; returns each paper's topics."""
    members = []
    for start in range(0, len(papers), MATCH_CHUNK):
        chunk = papers[start : start + MATCH_CHUNK]
        matches = {paper.slug: rules.match(paper.title, paper.abstract) for paper in chunk}
        with db.conn:
            insert(db, "paper_topics", rows.paper_topic_rows(matches))
            insert(db, "topic_scores", rows.topic_score_rows(matches))
            insert(db, "topic_evidence", rows.topic_evidence_rows(matches))
        members += [{c.topic for c in matches[paper.slug] if c.member} for paper in chunk]
    return members


def write_collection(
    db: sqlite_utils.Database,
    listings: Iterable[Listing],
    papers: list[Paper],
    topics: list[Topic],
    members: list[set[str]],
    retired: dict[str, str] | None = None,
    labels: dict[str, ListingLabel] | None = None,
    enriched: Enriched | None = None,
) -> None:
    """Fill a database shaped by :func:`ensure_db_shape`, after
    :func:`write_topic_matches` gave each paper's topics (``members``), with all but the
    related papers (:func:`write_related`), and index its text for full-text search.
    ``labels``: each listing's title, source and date (by default from the listing);
    ``enriched``: the lookups and provenance of enrichment, when the cache had records
    (the database is shaped with ``enrichment=True``)."""
    listings = list(listings)
    labels = labels or {}
    labels = {item.name: labels.get(item.name) or label(item, None) for item in listings}
    with db.conn:  # in this order: the same input gives the same bytes
        insert(db, "listings", rows.listing_rows(listings, labels, papers))
        insert(db, "papers", rows.paper_rows(papers))
        insert(db, "authors", rows.author_rows(papers))
        insert(db, "paper_authors", rows.paper_author_rows(papers))
        insert(db, "topics", rows.topic_rows(topics, members))
        insert(db, "paper_listings", rows.paper_listing_rows(papers))
        insert(db, "retired_topics", rows.retired_topic_rows(retired or {}))
        insert(db, "links", rows.link_rows(papers))
        if enriched is not None and enriched.present:
            insert(db, "enrichment", rows.enrichment_rows(enriched.lookups))
            insert(db, "field_sources", rows.field_source_rows(enriched.field_sources))
    enable_fts(db)


def write_site(db: sqlite_utils.Database, site_url: str) -> None:
    """Record the site's address; without one, the views give no page_url."""
    with db.conn:
        insert(db, "site", rows.site_rows(site_url))


def write_related(db: sqlite_utils.Database, related: Iterable[Related], papers: int) -> None:
    """Fill the ``related_papers`` table, and ``related_basis`` for the ``papers``."""
    with db.conn:
        insert(db, "related_papers", rows.related_rows(related))
        insert(db, "related_basis", rows.related_basis_rows(papers))
