"""The database's shape: its tables, indexes, views and full-text indexes, declared.

Tables (descriptions of every column are in ``datasets/metadata.yml``; the rows of each
come from :mod:`papershelf.store.rows`)::

    papers ─┬─ paper_listings ── listings
            ├─ paper_authors ─── authors
            ├─ paper_topics ──── topics ── retired_topics
            ├─ topic_scores, topic_evidence (every candidate topic, and why)
            ├─ links
            ├─ related_papers ── papers
            └─ enrichment, field_sources (only when content/enrichment/ has records)
"""

from __future__ import annotations

import sqlite_utils

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
        # The largest table, with no other index: stored in its key's order, it needs no
        # second copy of every paper's slug and topic for that key (9% of the file).
        # Not for tables with other indexes: theirs would hold the whole key instead of a
        # rowid, and grow by more than the key's copy saves.
        "without_rowid": True,
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
    # Which papers the related papers' vocabulary and IDF weights come from (one row).
    "related_basis": {
        "columns": {"papers": int, "basis_papers": int, "next_basis_at": int},
        "pk": "papers",
        "not_null": {"basis_papers", "next_basis_at"},
    },
    # What the database knows of the site it is published with (site_url from mkdocs.yml),
    # so that the views can give each paper's address there.
    "site": {
        "columns": {"name": str, "value": str},
        "pk": "name",
        "not_null": {"value"},
    },
    # The tables of ENRICHMENT_TABLES last: a build without enrichment has none of them, and
    # its database is byte for byte the one built before enrichment existed.
    #
    # What each source answered about each paper it was asked about.
    "enrichment": {
        "columns": {
            "paper": str,
            "source": str,
            "status": str,
            "arxiv_id": str,
            "candidates": str,
            "error": str,
            "fetched_at": str,
            "filled": int,
            "note": str,
        },
        "pk": ("paper", "source"),
        "not_null": {"status", "fetched_at", "filled"},
        "foreign_keys": [("paper", "papers", "slug")],
    },
    # Where each value of each paper came from: a listing, or a source and when it was asked.
    "field_sources": {
        "columns": {"paper": str, "field": str, "source": str, "fetched_at": str},
        "pk": ("paper", "field"),
        "not_null": {"source"},
        "foreign_keys": [("paper", "papers", "slug")],
    },
}
ENRICHMENT_TABLES = ("enrichment", "field_sources")

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
    ("field_sources", ["source"]),
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


# The columns each full-text index covers, and how it splits words.
FTS_CONFIG = {
    "papers": {"columns": ["title", "abstract"], "tokenize": "porter"},
    "authors": {"columns": ["name"]},
}
FTS_TABLES = tuple(f"{table}_fts" for table in FTS_CONFIG)


def data_tables(db: sqlite_utils.Database) -> list[str]:
    """The tables that hold data, without the full-text indexes and their shadow tables."""
    return [t for t in db.table_names() if not t.startswith((*FTS_TABLES, "sqlite_"))]


def ensure_db_shape(
    db: sqlite_utils.Database, indexes: bool = True, enrichment: bool = False
) -> None:
    """Create the tables, indexes and views. Safe to run again.

    A bulk load is faster with ``indexes=False`` first and a second call after it. The
    tables of :data:`ENRICHMENT_TABLES` are made with ``enrichment`` (and indexed when
    they exist).
    """
    db.execute("pragma foreign_keys = on")
    for name, spec in SCHEMA.items():  # in order: a table before those that refer to it
        if name in ENRICHMENT_TABLES and not enrichment:
            continue
        sql = db.create_table_sql(
            name,
            spec["columns"],
            pk=spec["pk"],
            not_null=spec.get("not_null"),
            foreign_keys=spec.get("foreign_keys"),
            if_not_exists=True,
        )
        if spec.get("without_rowid"):
            sql = sql.rstrip().removesuffix(";") + " WITHOUT ROWID"
        db.execute(sql)
    for table, columns in INDEXES if indexes else ():
        if table not in ENRICHMENT_TABLES or db[table].exists():
            db[table].create_index(columns, if_not_exists=True)
    for name, sql in VIEWS.items():
        db.create_view(name, sql.strip(), replace=True)


def enable_fts(db: sqlite_utils.Database) -> None:
    """Index the text of the tables in :data:`FTS_CONFIG`, kept current by triggers."""
    for table, config in FTS_CONFIG.items():
        db[table].enable_fts(
            config["columns"],
            tokenize=config.get("tokenize"),
            create_triggers=True,
            replace=True,
        )
