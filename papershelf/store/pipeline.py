"""The database stage end to end: listing files and topics in, ``papers.db`` out."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import sqlite_utils

from ..collection.papers import merge_listings
from ..collection.related import Background
from ..collection.topics import TopicRules, load_taxonomy
from ..errors import InputError, display_path
from ..ingest.formats import SUFFIXES as LISTING_SUFFIXES
from ..ingest.formats import read_listing
from ..ingest.listing_names import check_dates, filename_of, label, load_listing_names
from ..outputs import temporary_path, writing
from ..timing import Stopwatch
from .database import ensure_db_shape, write_collection, write_related, write_site

T = TypeVar("T")
LISTING_NAMES_FILE = "listings.yml"
Progress = Callable[[Iterable[T], str], Iterator[T]]


def _no_progress(items: Iterable[T], label: str) -> Iterator[T]:
    yield from items


@dataclass
class BuildResult:
    db_path: Path
    listings: int = 0
    entries: int = 0
    papers: int = 0
    topics: int = 0
    uncategorised: list[tuple[str, str]] = field(default_factory=list)  # (slug, title)
    warnings: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)  # per stage, for benchmarks
    peak_mb: dict[str, float] = field(default_factory=dict)  # the process's peak after it
    related_seconds: float = 0.0  # computing related papers, beside the database writes
    related_peak_mb: float = 0.0  # the peak of the process that computed them


class StrictError(Exception):
    """Warnings were found and ``--strict`` turns them into an error."""

    def __init__(self, warnings: list[str]):
        self.warnings = warnings
        lines = "\n".join(f"  {warning}" for warning in warnings)
        super().__init__(f"{len(warnings)} warning(s) and --strict is set:\n{lines}")


def find_listings(directory: str | Path) -> list[Path]:
    """The listing files in ``directory``, sorted by name."""
    directory = Path(directory)
    if not directory.is_dir():
        raise InputError(display_path(directory), None, "no such listings directory")
    files = sorted(
        p for p in directory.iterdir() if p.is_file() and p.suffix.lower() in LISTING_SUFFIXES
    )
    if not files:
        raise InputError(
            display_path(directory), None, f"no listing files ({', '.join(LISTING_SUFFIXES)})"
        )
    return files


def _dated(names: dict, path: Path) -> bool:
    return path.name in names and names[path.name].date is not None


def build_database(
    listings_dir: str | Path,
    topics_path: str | Path,
    db_path: str | Path,
    *,
    year: int | None = None,
    strict: bool = False,
    progress: Progress = _no_progress,
    site_url: str = "",
    listing_names_path: str | Path | None = None,
) -> BuildResult:
    """Parse, merge, classify and relate, then write ``db_path`` atomically.
    ``listing_names_path``: the optional file that names the listings; by default
    ``listings.yml`` beside the listings directory (``content/listings.yml``).

    Nothing is written until every input has parsed: bad input raises
    :class:`InputError` (or :class:`StrictError`) and leaves an existing database as it was.
    """
    db_path = Path(db_path)
    result = BuildResult(db_path=db_path)
    clock = Stopwatch(result.seconds, result.peak_mb)
    files = find_listings(listings_dir)
    taxonomy = load_taxonomy(topics_path)
    topics = taxonomy.topics
    if listing_names_path is None:
        listing_names_path = Path(listings_dir).parent / LISTING_NAMES_FILE
    names = load_listing_names(listing_names_path, [path.name for path in files])
    # A curated full date gives the year of the dates the listing shows without one.
    listings = [
        read_listing(path, year=names[path.name].date.year if _dated(names, path) else year)
        for path in progress(files, "Parsing listings")
    ]
    if names:
        check_dates(names, listings, display_path(listing_names_path))
    labels = {listing.name: label(listing, names.get(filename_of(listing))) for listing in listings}
    for listing in listings:
        result.warnings.extend(f"{listing.source}:{w.line}: {w.message}" for w in listing.warnings)
    clock.lap("parse")

    papers, merge_warnings = merge_listings(listings)
    result.warnings.extend(str(w) for w in merge_warnings)
    if strict and result.warnings:
        raise StrictError(result.warnings)
    clock.lap("merge")

    # Related papers are computed in another process while this one matches topics and
    # writes everything else, the full-text index included: both cores work at once.
    related = Background(
        [p.slug for p in papers], [f"{p.title}. {p.title}. {p.abstract}" for p in papers]
    )
    temporary = temporary_path(db_path)
    try:
        rules = TopicRules(topics)
        matches = {paper.slug: rules.match(paper.title, paper.abstract) for paper in papers}
        members = [{c.topic for c in matches[p.slug] if c.member} for p in papers]
        related.score(members)
        result.uncategorised = [
            (p.slug, p.title) for p, topics_of in zip(papers, members, strict=True) if not topics_of
        ]
        clock.lap("topics")
        # A full or read-only disk is an OutputError naming the database, not a traceback.
        with writing(db_path):
            db_path.parent.mkdir(parents=True, exist_ok=True)
            temporary.unlink(missing_ok=True)
            db = sqlite_utils.Database(temporary)
            # A file built aside needs no journal: if anything fails it is thrown away.
            db.execute("pragma journal_mode = off")
            db.execute("pragma synchronous = off")
            ensure_db_shape(db, indexes=False)
            # Every key is checked once at the end (foreign_key_check), not per row.
            db.execute("pragma foreign_keys = off")
            write_collection(db, listings, papers, topics, matches, taxonomy.retired, labels)
            write_site(db, site_url)
            clock.lap("database")
            related_rows = related.result()
            result.related_seconds, result.related_peak_mb = related.seconds, related.peak_mb
            clock.lap("related")  # only the wait: the rest ran beside the writes
            write_related(db, related_rows)
            del related_rows
            ensure_db_shape(db)  # indexes after the bulk load: faster than during it
            # Statistics for the query planner (sqlite_stat1): without them it can pick an
            # index that makes a join scan a whole table for every row. A sample of each
            # index is enough, and deterministic.
            db.execute("pragma analysis_limit = 1000")
            db.execute("analyze")
            problems = list(db.execute("pragma foreign_key_check").fetchall())
            if problems:
                raise RuntimeError(f"foreign key check failed: {problems[:5]}")
            db.close()
            os.replace(temporary, db_path)
    finally:
        related.cancel()  # if anything failed before its result was taken
        with writing(db_path):
            temporary.unlink(missing_ok=True)
    clock.lap("database")

    result.listings = len(listings)
    result.entries = sum(len(listing.entries) for listing in listings)
    result.papers = len(papers)
    result.topics = len(topics)
    return result
