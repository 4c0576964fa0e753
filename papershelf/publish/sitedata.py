"""The site's data: everything the pages and the search documents show, read from
``papers.db`` in a few queries (and the table descriptions from Datasette's metadata)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import sqlite_utils
import yaml

from ..store.schema import data_tables


@dataclass
class SiteData:
    """Everything the pages show, read from the database in a few queries."""

    papers: dict[str, dict]
    listings: dict[str, dict]
    topics: dict[str, dict]
    paper_topics: dict[str, list[dict]] = field(default_factory=dict)
    topic_papers: dict[str, list[str]] = field(default_factory=dict)  # strongest first
    retired_topics: dict[str, str] = field(default_factory=dict)  # old slug -> kept slug
    appearances: dict[str, list[dict]] = field(default_factory=dict)
    listing_entries: dict[str, list[dict]] = field(default_factory=dict)
    links: dict[str, list[dict]] = field(default_factory=dict)
    related: dict[str, list[dict]] = field(default_factory=dict)
    authors: dict[str, list[str]] = field(default_factory=dict)
    enriched: int = 0  # papers with a value from content/enrichment/ (field_sources)
    schema: list[tuple[str, str, list[tuple[str, str]]]] = field(default_factory=list)
    column_descriptions: dict[str, dict[str, str]] = field(default_factory=dict)
    table_descriptions: dict[str, str] = field(default_factory=dict)
    query_titles: dict[str, str] = field(default_factory=dict)  # canned query -> its title


def load_site_data(db_path: Path, metadata_path: Path | None) -> SiteData:
    """The database's rows for the pages, with the table descriptions of ``metadata_path``
    (Datasette metadata) when it exists."""
    with closing(sqlite_utils.Database(db_path)) as db:
        data = _load_rows(db)
    if metadata_path and metadata_path.exists():
        _load_descriptions(data, metadata_path)
    return data


def _load_rows(db: sqlite_utils.Database) -> SiteData:
    data = SiteData(
        papers={r["slug"]: r for r in db["papers"].rows_where(order_by="slug")},
        listings={r["name"]: r for r in db["listings"].rows_where(order_by="name")},
        topics={r["slug"]: r for r in db["topics"].rows_where(order_by="position")},
    )
    data.paper_topics = _grouped(db["paper_topics"].rows_where(order_by="paper, rank"))
    # A topic's papers by strength (primary memberships first, then score), then newest.
    for row in db.query(
        "select topic, paper from paper_topics join papers on papers.slug = paper "
        "order by topic, is_primary desc, score desc, published desc nulls last, paper desc"
    ):
        data.topic_papers.setdefault(row["topic"], []).append(row["paper"])
    data.retired_topics = {
        r["slug"]: r["topic"] for r in db["retired_topics"].rows_where(order_by="slug")
    }
    for row in db["paper_listings"].rows_where(order_by="listing, rank"):
        data.appearances.setdefault(row["paper"], []).append(row)
        data.listing_entries.setdefault(row["listing"], []).append(row)
    data.links = _grouped(db["links"].rows_where(order_by="paper, position"))
    data.related = _grouped(db["related_papers"].rows_where(order_by="paper, rank"))
    authors = db.query(
        "select paper, name from paper_authors join authors on authors.slug = author "
        "order by paper, position"
    )
    data.authors = _grouped(authors, value="name")
    if db["field_sources"].exists():  # only a build with enrichment has it
        (data.enriched,) = db.execute(
            "select count(distinct paper) from field_sources where source != 'listing'"
        ).fetchone()
    for name in data_tables(db):
        data.schema.append((name, "table", [(c.name, c.type) for c in db[name].columns]))
    for name in db.view_names():
        data.schema.append((name, "view", [(c.name, c.type) for c in db[name].columns]))
    return data


def _grouped(rows: Iterable[dict], key: str = "paper", value: str | None = None) -> dict:
    """Rows (or one column of them) in lists by ``key``, in the order they come."""
    groups: dict = {}
    for row in rows:
        groups.setdefault(row[key], []).append(row[value] if value else row)
    return groups


def _load_descriptions(data: SiteData, metadata_path: Path) -> None:
    metadata = yaml.safe_load(metadata_path.read_text(encoding="utf-8"))
    for table, meta in metadata["databases"]["papers"]["tables"].items():
        data.table_descriptions[table] = " ".join(str(meta.get("description", "")).split())
        data.column_descriptions[table] = meta.get("columns") or {}
    for name, query in (metadata["databases"]["papers"].get("queries") or {}).items():
        data.query_titles[name] = str(query.get("title") or name)


# The date of a collection without any dates (1 January 2000), for the sitemap.
FALLBACK_DATE_EPOCH = 946684800


def data_date_epoch(db_path: Path) -> int:
    """The newest listing or publication date in the database, as seconds since the
    epoch (midnight UTC): the date the site is "of", whenever it is built."""
    with closing(sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=ro", uri=True)) as db:
        (newest,) = db.execute(
            "select max(day) from (select max(date) as day from listings"
            " union all select max(published) from papers)"
        ).fetchone()
    try:
        day = date.fromisoformat(str(newest)[:10])
    except ValueError:  # no dates at all (None), or not a date
        return FALLBACK_DATE_EPOCH
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())
