"""The rows of each table of :data:`~papershelf.store.schema.SCHEMA`, one function a table.

A function gives dictionaries keyed by the table's columns, or, for the tables with most
rows, tuples in the order of its columns (no dictionary is built per row). Rows come in
a sorted order, so the same input gives the same database.

A ``papers`` column is a field of :class:`~papershelf.collection.papers.Paper` of the
same name (stored as SQLite stores it: dates as ISO text, flags as 0/1, lists as JSON),
or one of :data:`PAPER_DERIVED`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from operator import attrgetter

from ..collection.enrichment import FieldSource, Lookup
from ..collection.papers import Paper
from ..collection.related import Related, basis_size, next_basis_size
from ..collection.topics import Candidate, Topic
from ..errors import DatabaseError
from ..ingest.listing_names import ListingLabel
from ..ingest.parse import Listing
from ..ingest.text import slugify
from .schema import SCHEMA

# The columns of ``papers`` that are not a field of Paper under their own name.
PAPER_DERIVED: dict[str, Callable[[Paper], object]] = {
    "published_year": lambda paper: paper.published.year if paper.published else None,
    "listing_count": lambda paper: len(paper.appearances),
    "title_key": attrgetter("key"),
}


_PLAIN = {str, int, float, type(None)}  # stored as they are


def _stored(value: object) -> object:
    """A field's value as a column holds it; an empty list is no value."""
    if type(value) in _PLAIN:
        return value
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, tuple):
        return json.dumps(list(value), ensure_ascii=False) if value else None
    return value


def _json(values: Iterable[str]) -> str:
    return json.dumps(list(values), ensure_ascii=False)


def paper_sources(
    columns: Iterable[str], paper_type: type = Paper
) -> list[tuple[str, Callable[[Paper], object]]]:
    """Each column with the function that reads it from a paper; a column that is neither
    a field nor derived is a :class:`DatabaseError` before any row is written."""
    fields = {field.name for field in dataclasses.fields(paper_type)}
    sources = [
        (column, PAPER_DERIVED.get(column) or (attrgetter(column) if column in fields else None))
        for column in columns
    ]
    missing = [column for column, source in sources if source is None]
    if missing:
        raise DatabaseError(
            f"papers column(s) {', '.join(missing)} have no source: add a field of that name "
            "to Paper (collection/papers.py) or a derivation to PAPER_DERIVED (store/rows.py)"
        )
    return sources


def paper_rows(
    papers: Iterable[Paper], columns: Iterable[str] | None = None, paper_type: type = Paper
) -> Iterator[dict]:
    """``papers``: one row a paper, with the columns of the schema (or ``columns``)."""
    sources = paper_sources(columns or SCHEMA["papers"]["columns"], paper_type)
    return ({column: _stored(source(paper)) for column, source in sources} for paper in papers)


def listing_rows(
    listings: list[Listing], labels: dict[str, ListingLabel], papers: list[Paper]
) -> Iterator[dict]:
    """``listings``, sorted by name; ``labels``: each one's title, source and date."""
    papers_per_listing: dict[str, set[str]] = {}
    for paper in papers:
        for appearance in paper.appearances:
            papers_per_listing.setdefault(appearance.listing, set()).add(paper.slug)
    for listing in sorted(listings, key=lambda listing: listing.name):
        listing_label = labels[listing.name]
        yield {
            "name": listing.name,
            "filename": listing.source.replace("\\", "/").rsplit("/", 1)[-1],
            "layout": listing.layout,
            "date": _stored(listing_label.date),
            "date_text": listing.date_text,
            "year": listing_label.year,
            "year_source": listing_label.year_source,
            "entries": len(listing.entries),
            "papers": len(papers_per_listing.get(listing.name, ())),
            "header": listing_label.header,
            "title": listing_label.title,
            "source_url": listing_label.source_url,
        }


def paper_listing_rows(papers: Iterable[Paper]) -> Iterator[dict]:
    """``paper_listings``: every appearance of every paper."""
    for paper in papers:
        for appearance in paper.appearances:
            yield {
                "listing": appearance.listing,
                "rank": appearance.rank,
                "paper": paper.slug,
                "line": appearance.line,
                "title_as_listed": appearance.title,
            }


def author_rows(papers: Iterable[Paper]) -> Iterator[dict]:
    """``authors``, sorted by slug: an author is the first spelling of a slug."""
    author_papers: dict[str, set[str]] = {}
    author_names: dict[str, str] = {}
    for paper in papers:
        for name in paper.authors:
            slug = slugify(name)
            author_names.setdefault(slug, name)
            author_papers.setdefault(slug, set()).add(paper.slug)
    for slug in sorted(author_names):
        yield {"slug": slug, "name": author_names[slug], "paper_count": len(author_papers[slug])}


def paper_author_rows(papers: Iterable[Paper]) -> Iterator[dict]:
    """``paper_authors``: each paper's authors in their order."""
    for paper in papers:
        for position, name in enumerate(paper.authors, start=1):
            yield {"paper": paper.slug, "position": position, "author": slugify(name)}


def link_rows(papers: Iterable[Paper]) -> Iterator[dict]:
    """``links``: the links of each paper's abstract, in their order."""
    for paper in papers:
        for position, link in enumerate(paper.links, start=1):
            yield {
                "paper": paper.slug,
                "position": position,
                "url": link.url,
                "kind": link.kind,
                "host": link.host,
            }


def topic_rows(topics: Iterable[Topic], members: Iterable[set[str]]) -> Iterator[dict]:
    """``topics``, in the taxonomy's order, with how many papers each has (``members``:
    each paper's topics)."""
    paper_counts = Counter(topic for paper_topics in members for topic in paper_topics)
    for topic in topics:
        yield {
            "slug": topic.slug,
            "name": topic.name,
            "description": topic.description,
            "rules": _json(topic.rules),
            "strong": _json(topic.strong),
            "exclude": _json(topic.exclude),
            "threshold": topic.threshold,
            "position": topic.position,
            "paper_count": paper_counts.get(topic.slug, 0),
        }


def retired_topic_rows(retired: dict[str, str]) -> list[tuple]:
    """``retired_topics``: (old slug, the topic it became), sorted."""
    return sorted(retired.items())


def _candidates(matches: dict[str, list[Candidate]]) -> Iterator[tuple[str, Candidate]]:
    return ((slug, c) for slug in sorted(matches) for c in matches[slug])


def paper_topic_rows(matches: dict[str, list[Candidate]]) -> Iterator[tuple]:
    """``paper_topics``: the memberships."""
    for slug, c in _candidates(matches):
        if c.member:
            yield (slug, c.topic, c.score, int(c.primary), c.rank, c.explanation)


def topic_score_rows(matches: dict[str, list[Candidate]]) -> Iterator[tuple]:
    """``topic_scores``: every candidate topic of every paper, member or not."""
    for slug, c in _candidates(matches):
        yield (slug, c.topic, c.score, int(c.member), c.reason)


def topic_evidence_rows(matches: dict[str, list[Candidate]]) -> Iterator[tuple]:
    """``topic_evidence``: every match behind every candidate (Evidence's fields are the
    columns after paper and topic, in order)."""
    for slug, c in _candidates(matches):
        for e in c.evidence:
            yield (slug, c.topic, *e[:-1], int(e.counted))


def related_rows(related: Iterable[Related]) -> Iterator[tuple]:
    """``related_papers``: each paper's related papers, best first."""
    return ((r.paper, r.rank, r.related, r.score, r.similarity, r.shared_topics) for r in related)


def related_basis_rows(papers: int) -> list[dict]:
    """``related_basis``: how many of the papers the vocabulary and IDF weights come from,
    and at how many papers the basis grows next (and every list may change)."""
    return [
        {
            "papers": papers,
            "basis_papers": basis_size(papers),
            "next_basis_at": next_basis_size(papers),
        }
    ]


def site_rows(site_url: str) -> list[dict]:
    """``site``: the site's address, ending in '/'; without one, the views give no page_url."""
    return [{"name": "site_url", "value": site_url.rstrip("/") + "/"}] if site_url else []


def enrichment_rows(lookups: Iterable[Lookup]) -> Iterator[tuple]:
    """``enrichment``: what each source answered about each paper (Lookup's fields are
    the columns, in order)."""
    return (dataclasses.astuple(lookup) for lookup in lookups)


def field_source_rows(field_sources: Iterable[FieldSource]) -> Iterator[tuple]:
    """``field_sources``: where each value of each paper came from."""
    return (dataclasses.astuple(source) for source in field_sources)
