"""Write the collection to SQLite with sqlite-utils: the single source of truth.

Tables (descriptions of every column are in ``datasets/metadata.yml``)::

    papers ─┬─ paper_listings ── listings
            ├─ paper_authors ─── authors
            ├─ paper_topics ──── topics ── retired_topics
            ├─ topic_scores, topic_evidence (every candidate topic, and why)
            ├─ links
            └─ related_papers ── papers

Rows are inserted in a sorted order, so the same input gives the same database.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

import sqlite_utils

from ..collection.papers import Paper
from ..collection.related import Related
from ..collection.topics import Candidate, Topic
from ..ingest.listing_names import ListingLabel, label
from ..ingest.parse import Listing
from ..ingest.text import slugify

SCHEMA: dict[str, dict] = {
    "listings": {
        "columns": {
            "name": str,
            "filename": str,
            "layout": str,
            "date": str,
            "date_text": str,
            "year": int,
            "year_source": str,
            "entries": int,
            "papers": int,
            "header": str,
            "title": str,
            "source_url": str,
        },
        "pk": "name",
        "not_null": {"filename", "layout", "date_text", "entries", "papers", "title"},
    },
    "papers": {
        "columns": {
            "slug": str,
            "title": str,
            "short_name": str,
            "abstract": str,
            "published": str,
            "published_year": int,
            "published_text": str,
            "year_inferred": int,
            "upvotes": int,
            "authors_count": int,
            "listing_count": int,
            "title_key": str,
            "arxiv_id": str,
            "github_repo": str,
            "github_stars": int,
            "project_page": str,
            "ai_summary": str,
            "ai_keywords": str,
        },
        "pk": "slug",
        "not_null": {"title", "abstract", "year_inferred", "listing_count", "title_key"},
    },
    "authors": {
        "columns": {"slug": str, "name": str, "paper_count": int},
        "pk": "slug",
        "not_null": {"name", "paper_count"},
    },
    "paper_authors": {
        "columns": {"paper": str, "position": int, "author": str},
        "pk": ("paper", "position"),
        "not_null": {"author"},
        "foreign_keys": [("paper", "papers", "slug"), ("author", "authors", "slug")],
    },
    "paper_listings": {
        "columns": {
            "listing": str,
            "rank": int,
            "paper": str,
            "line": int,
            "title_as_listed": str,
        },
        "pk": ("listing", "rank"),
        "not_null": {"paper", "line", "title_as_listed"},
        "foreign_keys": [("listing", "listings", "name"), ("paper", "papers", "slug")],
    },
    "topics": {
        "columns": {
            "slug": str,
            "name": str,
            "description": str,
            "rules": str,
            "strong": str,
            "exclude": str,
            "threshold": float,
            "position": int,
            "paper_count": int,
        },
        "pk": "slug",
        "not_null": {
            "name",
            "description",
            "rules",
            "strong",
            "exclude",
            "threshold",
            "position",
            "paper_count",
        },
    },
    "retired_topics": {
        "columns": {"slug": str, "topic": str},
        "pk": "slug",
        "not_null": {"topic"},
        "foreign_keys": [("topic", "topics", "slug")],
    },
    "paper_topics": {
        "columns": {
            "paper": str,
            "topic": str,
            "score": float,
            "is_primary": int,
            "rank": int,
            "explanation": str,
        },
        "pk": ("paper", "topic"),
        "not_null": {"score", "is_primary", "rank", "explanation"},
        "foreign_keys": [("paper", "papers", "slug"), ("topic", "topics", "slug")],
    },
    "topic_scores": {
        "columns": {
            "paper": str,
            "topic": str,
            "score": float,
            "member": int,
            "reason": str,
        },
        "pk": ("paper", "topic"),
        "not_null": {"score", "member"},
        "foreign_keys": [("paper", "papers", "slug"), ("topic", "topics", "slug")],
    },
    "topic_evidence": {
        "columns": {
            "paper": str,
            "topic": str,
            "position": int,
            "rule": str,
            "field": str,
            "sentence_kind": str,
            "matched": str,
            "snippet": str,
            "weight": float,
            "counted": int,
        },
        "pk": ("paper", "topic", "position"),
        "not_null": {"rule", "field", "sentence_kind", "matched", "snippet", "weight", "counted"},
        "foreign_keys": [("paper", "papers", "slug"), ("topic", "topics", "slug")],
    },
    "links": {
        "columns": {
            "paper": str,
            "position": int,
            "url": str,
            "kind": str,
            "host": str,
        },
        "pk": ("paper", "position"),
        "not_null": {"url", "kind", "host"},
        "foreign_keys": [("paper", "papers", "slug")],
    },
    "related_papers": {
        "columns": {
            "paper": str,
            "rank": int,
            "related_paper": str,
            "score": float,
            "similarity": float,
            "shared_topics": int,
        },
        "pk": ("paper", "rank"),
        "not_null": {"related_paper", "score", "similarity", "shared_topics"},
        "foreign_keys": [("paper", "papers", "slug"), ("related_paper", "papers", "slug")],
    },
    # What the database knows of the site it is published with (site_url from mkdocs.yml),
    # so that the views can give each paper's address there.
    "site": {
        "columns": {"name": str, "value": str},
        "pk": "name",
        "not_null": {"value"},
    },
}

INDEXES = [
    ("papers", ["published"]),
    ("papers", ["upvotes"]),
    ("papers", ["title_key"]),
    ("papers", ["arxiv_id"]),
    ("paper_authors", ["author"]),
    ("paper_listings", ["paper"]),
    ("paper_topics", ["topic"]),
    ("topic_scores", ["topic"]),
    ("topic_scores", ["member", "score"]),
    ("links", ["kind"]),
    ("links", ["url"]),
    ("related_papers", ["related_paper"]),
]

VIEWS = {
    # One row per paper with its topics and listings flattened, for browsing and CSV.
    "papers_with_topics": """
select
  papers.slug,
  papers.title,
  papers.short_name,
  papers.published,
  papers.year_inferred,
  papers.upvotes,
  papers.authors_count,
  papers.listing_count,
  (
    -- A JSON array, so that Datasette facets it (_facet_array=topics).
    select json_group_array(name) from (
      select topics.name from paper_topics
      join topics on topics.slug = paper_topics.topic
      where paper_topics.paper = papers.slug
      order by paper_topics.rank
    )
  ) as topics,
  (
    select group_concat(url, ' ') from (
      select url from links where links.paper = papers.slug and kind = 'code'
      order by position
    )
  ) as code_links,
  papers.arxiv_id,
  (select value from site where name = 'site_url') || 'papers/' || papers.slug || '/'
    as page_url,
  'https://arxiv.org/abs/' || papers.arxiv_id as arxiv_url,
  papers.abstract
from papers
order by papers.published desc nulls last, papers.slug
""",
    # Every appearance of a paper in a listing, with the listing's date.
    "appearances": """
select
  paper_listings.listing,
  listings.date as listing_date,
  paper_listings.rank,
  paper_listings.paper,
  papers.title,
  papers.published,
  papers.upvotes
from paper_listings
join listings on listings.name = paper_listings.listing
join papers on papers.slug = paper_listings.paper
order by paper_listings.listing, paper_listings.rank
""",
    # Topic sizes, date ranges and upvotes at a glance.
    "topic_summary": """
select
  topics.slug,
  topics.name,
  count(papers.slug) as papers,
  count(case when paper_topics.is_primary = 1 then 1 end) as primary_papers,
  min(papers.published) as first_published,
  max(papers.published) as last_published,
  sum(papers.upvotes) as total_upvotes,
  -- An uncorrelated subquery runs once, whatever the query planner knows.
  count(case when papers.slug in (select paper from links where kind = 'code') then 1 end)
    as papers_with_code
from topics
left join paper_topics on paper_topics.topic = topics.slug
left join papers on papers.slug = paper_topics.paper
group by topics.slug
order by topics.position
""",
    # Candidates that are not members, strongest first: what a curator reads to tune the
    # rules and thresholds.
    "topic_near_misses": """
select
  topic_scores.paper,
  papers.title,
  topic_scores.topic,
  topics.name as topic_name,
  topic_scores.score,
  topic_scores.reason,
  (
    select '“' || matched || '” ' || case sentence_kind
      when 'title' then 'in the title'
      else 'in a ' || sentence_kind || ' sentence' end
    from topic_evidence
    where topic_evidence.paper = topic_scores.paper and topic_evidence.topic = topic_scores.topic
    order by weight desc, position
    limit 1
  ) as best_evidence
from topic_scores
join papers on papers.slug = topic_scores.paper
join topics on topics.slug = topic_scores.topic
where topic_scores.member = 0
order by topic_scores.score desc, topics.position, topic_scores.paper
""",
}


FTS_TABLES = ("papers_fts", "authors_fts")


def data_tables(db: sqlite_utils.Database) -> list[str]:
    """The tables that hold data, without the full-text indexes and their shadow tables."""
    return [t for t in db.table_names() if not t.startswith((*FTS_TABLES, "sqlite_"))]


def ensure_db_shape(db: sqlite_utils.Database, indexes: bool = True) -> None:
    """Create the tables, indexes and views. Safe to run again.

    A bulk load is faster with ``indexes=False`` first and a second call after it.
    """
    db.execute("pragma foreign_keys = on")
    for name, spec in SCHEMA.items():  # in order: a table before those that refer to it
        db[name].create(
            spec["columns"],
            pk=spec["pk"],
            not_null=spec.get("not_null"),
            foreign_keys=spec.get("foreign_keys"),
            if_not_exists=True,
        )
    for table, columns in INDEXES if indexes else ():
        db[table].create_index(columns, if_not_exists=True)
    for name, sql in VIEWS.items():
        db.create_view(name, sql.strip(), replace=True)


def write_site(db: sqlite_utils.Database, site_url: str) -> None:
    """Record the site's address (ending in '/'); without one, the views give no page_url."""
    if site_url:
        db["site"].insert({"name": "site_url", "value": site_url.rstrip("/") + "/"})


def _insert(db: sqlite_utils.Database, table: str, rows: Iterable[dict]) -> None:
    """Bulk insert with one prepared statement. sqlite-utils' ``insert_all`` spends most
    of a large build converting values one by one; these rows are plain already."""
    columns = list(SCHEMA[table]["columns"])
    _insert_tuples(db, table, (tuple(row[c] for c in columns) for row in rows))


def _insert_tuples(db: sqlite_utils.Database, table: str, rows: Iterable[tuple]) -> None:
    """:func:`_insert` for rows that are tuples in the order of the table's columns, for
    the tables with most rows: no dictionary is built per row."""
    columns = list(SCHEMA[table]["columns"])
    names = ", ".join(f"[{c}]" for c in columns)
    marks = ", ".join("?" for _ in columns)
    db.conn.executemany(f"insert into [{table}] ({names}) values ({marks})", rows)


def _iso(date) -> str | None:
    return date.isoformat() if date else None


def write_collection(
    db: sqlite_utils.Database,
    listings: Iterable[Listing],
    papers: list[Paper],
    topics: list[Topic],
    matches: dict[str, list[Candidate]],
    retired: dict[str, str] | None = None,
    labels: dict[str, ListingLabel] | None = None,
) -> None:
    """Fill an empty database shaped by :func:`ensure_db_shape`, all but the related
    papers (:func:`write_related`), and index its text for full-text search.
    ``labels``: each listing's title, source and date (by default from the listing)."""
    listings = sorted(listings, key=lambda listing: listing.name)
    labels = labels or {}
    labels = {item.name: labels.get(item.name) or label(item, None) for item in listings}
    topic_counts = {topic.slug: 0 for topic in topics}
    for candidates in matches.values():
        for candidate in candidates:
            topic_counts[candidate.topic] += candidate.member
    papers_per_listing: dict[str, set[str]] = {}
    for paper in papers:
        for appearance in paper.appearances:
            papers_per_listing.setdefault(appearance.listing, set()).add(paper.slug)

    with db.conn:
        _insert(
            db,
            "listings",
            (
                {
                    "name": listing.name,
                    "filename": listing.source.replace("\\", "/").rsplit("/", 1)[-1],
                    "layout": listing.layout,
                    "date": _iso(labels[listing.name].date),
                    "date_text": listing.date_text,
                    "year": labels[listing.name].year,
                    "year_source": labels[listing.name].year_source,
                    "entries": len(listing.entries),
                    "papers": len(papers_per_listing.get(listing.name, ())),
                    "header": labels[listing.name].header,
                    "title": labels[listing.name].title,
                    "source_url": labels[listing.name].source_url,
                }
                for listing in listings
            ),
        )
        _insert(
            db,
            "papers",
            (
                {
                    "slug": paper.slug,
                    "title": paper.title,
                    "short_name": paper.short_name,
                    "abstract": paper.abstract,
                    "published": paper.published.isoformat() if paper.published else None,
                    "published_year": paper.published.year if paper.published else None,
                    "published_text": paper.published_text,
                    "year_inferred": int(paper.year_inferred),
                    "upvotes": paper.upvotes,
                    "authors_count": paper.authors_count,
                    "listing_count": len(paper.appearances),
                    "title_key": paper.key,
                    "arxiv_id": paper.arxiv_id,
                    "github_repo": paper.github_repo,
                    "github_stars": paper.github_stars,
                    "project_page": paper.project_page,
                    "ai_summary": paper.ai_summary,
                    "ai_keywords": (
                        json.dumps(list(paper.ai_keywords), ensure_ascii=False)
                        if paper.ai_keywords
                        else None
                    ),
                }
                for paper in papers
            ),
        )
        author_papers: dict[str, set[str]] = {}
        author_names: dict[str, str] = {}
        for paper in papers:
            for name in paper.authors:
                slug = slugify(name)
                author_names.setdefault(slug, name)
                author_papers.setdefault(slug, set()).add(paper.slug)
        _insert(
            db,
            "authors",
            (
                {"slug": slug, "name": author_names[slug], "paper_count": len(author_papers[slug])}
                for slug in sorted(author_names)
            ),
        )
        _insert(
            db,
            "paper_authors",
            (
                {"paper": paper.slug, "position": position, "author": slugify(name)}
                for paper in papers
                for position, name in enumerate(paper.authors, start=1)
            ),
        )
        _insert(
            db,
            "topics",
            (
                {
                    "slug": topic.slug,
                    "name": topic.name,
                    "description": topic.description,
                    "rules": json.dumps(list(topic.rules), ensure_ascii=False),
                    "strong": json.dumps(list(topic.strong), ensure_ascii=False),
                    "exclude": json.dumps(list(topic.exclude), ensure_ascii=False),
                    "threshold": topic.threshold,
                    "position": topic.position,
                    "paper_count": topic_counts[topic.slug],
                }
                for topic in topics
            ),
        )
        _insert(
            db,
            "paper_listings",
            (
                {
                    "listing": appearance.listing,
                    "rank": appearance.rank,
                    "paper": paper.slug,
                    "line": appearance.line,
                    "title_as_listed": appearance.title,
                }
                for paper in papers
                for appearance in paper.appearances
            ),
        )
        _insert_tuples(db, "retired_topics", sorted((retired or {}).items()))
        _write_topic_scores(db, matches)
        _insert(
            db,
            "links",
            (
                {
                    "paper": paper.slug,
                    "position": position,
                    "url": link.url,
                    "kind": link.kind,
                    "host": link.host,
                }
                for paper in papers
                for position, link in enumerate(paper.links, start=1)
            ),
        )
    db["papers"].enable_fts(
        ["title", "abstract"], tokenize="porter", create_triggers=True, replace=True
    )
    db["authors"].enable_fts(["name"], create_triggers=True, replace=True)


def _write_topic_scores(db: sqlite_utils.Database, matches: dict[str, list[Candidate]]) -> None:
    """Memberships, every candidate's score and every piece of evidence."""
    ordered = [(slug, c) for slug in sorted(matches) for c in matches[slug]]
    _insert_tuples(
        db,
        "paper_topics",
        (
            (slug, c.topic, c.score, int(c.primary), c.rank, c.explanation)
            for slug, c in ordered
            if c.member
        ),
    )
    _insert_tuples(
        db,
        "topic_scores",
        ((slug, c.topic, c.score, int(c.member), c.reason) for slug, c in ordered),
    )
    _insert_tuples(
        db,
        "topic_evidence",
        ((slug, c.topic, *e[:-1], int(e.counted)) for slug, c in ordered for e in c.evidence),
    )


def write_related(db: sqlite_utils.Database, related: Iterable[Related]) -> None:
    """Fill the ``related_papers`` table."""
    with db.conn:
        _insert_tuples(
            db,
            "related_papers",
            ((r.paper, r.rank, r.related, r.score, r.similarity, r.shared_topics) for r in related),
        )
