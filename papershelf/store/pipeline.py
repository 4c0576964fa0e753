"""The database stage end to end: listing files and topics in, ``papers.db`` out."""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import sqlite_utils

from ..collection.enrichment import Enriched, Record, enrich_papers, read_enrichment
from ..collection.papers import arrival_order, merge_listings
from ..collection.related import Background
from ..collection.topics import Taxonomy, TopicRules, load_taxonomy
from ..errors import DatabaseError, InputError, StrictError, display_path, require_file
from ..ingest.formats import SUFFIXES as LISTING_SUFFIXES
from ..ingest.formats import read_listing
from ..ingest.listing_names import (
    ListingLabel,
    check_dates,
    filename_of,
    label,
    load_listing_names,
)
from ..ingest.parse import Listing
from ..outputs import temporary_path, writing
from ..timing import Stopwatch
from .database import write_collection, write_related, write_site, write_topic_matches
from .schema import ensure_db_shape

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
    enriched: int = 0  # papers with a value from content/enrichment/
    uncategorised: list[tuple[str, str]] = field(default_factory=list)  # (slug, title)
    warnings: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)  # per stage, for benchmarks
    peak_mb: dict[str, float] = field(default_factory=dict)  # the process's peak after it
    related_seconds: float = 0.0  # computing related papers, beside the database writes
    related_peak_mb: float = 0.0  # the peak of the process that computed them


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


@dataclass
class _Inputs:
    """Every input parsed: nothing is written before all of it has."""

    listings: list[Listing]
    labels: dict[str, ListingLabel]
    taxonomy: Taxonomy
    warnings: list[str]
    enrichment: list[Record] = field(default_factory=list)


@dataclass(frozen=True)
class _Sources:
    """Where the stage's inputs are, and how to read them (see :func:`build_database`)."""

    listings_dir: Path
    topics_path: Path
    listing_names_path: Path | None
    enrichment_dir: Path | None
    year: int | None
    strict: bool


def _read_inputs(sources: _Sources, progress: Progress) -> _Inputs:
    files = find_listings(sources.listings_dir)
    require_file(sources.topics_path)
    taxonomy = load_taxonomy(sources.topics_path)
    listing_names_path = sources.listing_names_path
    if listing_names_path is None:
        listing_names_path = sources.listings_dir.parent / LISTING_NAMES_FILE
    names = load_listing_names(listing_names_path, [path.name for path in files])
    # A curated full date gives the year of the dates the listing shows without one.
    year = sources.year
    listings = [
        read_listing(path, year=names[path.name].date.year if _dated(names, path) else year)
        for path in progress(files, "Parsing listings")
    ]
    if names:
        check_dates(names, listings, display_path(listing_names_path))
    labels = {listing.name: label(listing, names.get(filename_of(listing))) for listing in listings}
    warnings = [
        f"{listing.source}:{w.line}: {w.message}" for listing in listings for w in listing.warnings
    ]
    return _Inputs(listings, labels, taxonomy, warnings)


@contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Python's cycle collector off for the stage (and the related-papers process, which
    inherits it). The stage makes millions of small objects that live to its end and
    no cycles to speak of, and the collector rescanned them ever more often: 40% of the
    topic matching's time at 10,000 papers."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@_no_cyclic_gc()
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
    enrichment_dir: str | Path | None = None,
) -> BuildResult:
    """Parse, merge, classify and relate, then write ``db_path`` atomically.
    ``listing_names_path``: the optional file that names the listings; by default
    ``listings.yml`` beside the listings directory (``content/listings.yml``).
    ``enrichment_dir``: the cache of ``build.py enrich`` (``content/enrichment``), read
    offline; None or a directory that is not there adds nothing.

    Nothing is written until every input has parsed: bad input raises
    :class:`InputError` (or :class:`StrictError`) and leaves an existing database as it was.
    """
    result = BuildResult(db_path=Path(db_path))
    clock = Stopwatch(result.seconds, result.peak_mb)
    # Related papers are computed in another process while this one matches topics and
    # writes everything else, the full-text index included: both cores work at once. It
    # starts first, to import scikit-learn while this one parses.
    related = Background()
    try:
        sources = _Sources(
            Path(listings_dir),
            Path(topics_path),
            None if listing_names_path is None else Path(listing_names_path),
            None if enrichment_dir is None else Path(enrichment_dir),
            year,
            strict,
        )
        inputs, enriched = _parse_and_merge(result, clock, sources, progress)
        papers = enriched.papers
        related.start(
            [p.slug for p in papers],
            [f"{p.title}. {p.title}. {p.abstract}" for p in papers],
            arrival_order(inputs.listings, papers),
        )
        _write_database(result, clock, inputs, enriched, related, site_url)
    finally:
        related.cancel()  # if anything failed before its result was taken
    clock.lap("database")

    result.listings = len(inputs.listings)
    result.entries = sum(len(listing.entries) for listing in inputs.listings)
    result.papers = len(papers)
    result.topics = len(inputs.taxonomy.topics)
    return result


def _parse_and_merge(
    result: BuildResult, clock: Stopwatch, sources: _Sources, progress: Progress
) -> tuple[_Inputs, Enriched]:
    """Every input read and the papers merged and enriched; warnings go to ``result``."""
    inputs = _read_inputs(sources, progress)
    inputs.enrichment = read_enrichment(sources.enrichment_dir)
    result.warnings.extend(inputs.warnings)
    clock.lap("parse")

    papers, merge_warnings = merge_listings(inputs.listings)
    result.warnings.extend(str(w) for w in merge_warnings)
    enriched = enrich_papers(papers, inputs.enrichment)
    result.warnings.extend(str(w) for w in enriched.warnings)
    result.enriched = len({s.paper for s in enriched.field_sources if s.source != "listing"})
    if sources.strict and result.warnings:
        raise StrictError(result.warnings)
    clock.lap("merge")
    return inputs, enriched


def _write_database(
    result: BuildResult,
    clock: Stopwatch,
    inputs: _Inputs,
    enriched: Enriched,
    related: Background,
    site_url: str,
) -> None:
    """Write the database aside, topics matched first (the related papers need them),
    and put it in place of ``db_path``."""
    papers = enriched.papers
    db_path = result.db_path
    temporary = temporary_path(db_path)
    # A full or read-only disk is an OutputError naming the database, not a traceback.
    with writing(db_path):
        try:
            db_path.parent.mkdir(parents=True, exist_ok=True)
            temporary.unlink(missing_ok=True)
            db = _bulk_loading(temporary, enrichment=enriched.present)
            members = write_topic_matches(db, TopicRules(inputs.taxonomy.topics), papers)
            related.score(members)
            result.uncategorised = [
                (p.slug, p.title) for p, topics in zip(papers, members, strict=True) if not topics
            ]
            clock.lap("topics")
            write_collection(
                db,
                inputs.listings,
                papers,
                inputs.taxonomy.topics,
                members,
                inputs.taxonomy.retired,
                inputs.labels,
                enriched,
            )
            write_site(db, site_url)
            clock.lap("database")
            related_rows = related.result()
            result.related_seconds, result.related_peak_mb = related.seconds, related.peak_mb
            clock.lap("related")  # only the wait: the rest ran beside the writes
            write_related(db, related_rows, len(papers))
            del related_rows
            _finish(db, db_path)
            os.replace(temporary, db_path)
        finally:
            temporary.unlink(missing_ok=True)


def _bulk_loading(path: Path, enrichment: bool) -> sqlite_utils.Database:
    """A new database at ``path`` shaped for a bulk load: tables without indexes, no journal
    (with the tables of enrichment when there is some)."""
    db = sqlite_utils.Database(path)
    # A file built aside needs no journal: if anything fails it is thrown away.
    db.execute("pragma journal_mode = off")
    db.execute("pragma synchronous = off")
    ensure_db_shape(db, indexes=False, enrichment=enrichment)
    # Every key is checked once at the end (foreign_key_check), not per row.
    db.execute("pragma foreign_keys = off")
    return db


def _finish(db: sqlite_utils.Database, db_path: Path) -> None:
    """Indexes, statistics and the foreign-key check after the bulk load, then close."""
    ensure_db_shape(db)  # indexes after the bulk load: faster than during it
    # Statistics for the query planner (sqlite_stat1): without them it can pick an
    # index that makes a join scan a whole table for every row. A sample of each
    # index is enough, and deterministic.
    db.execute("pragma analysis_limit = 1000")
    db.execute("analyze")
    check_foreign_keys(db, display_path(db_path))
    db.close()


def check_foreign_keys(db: sqlite_utils.Database, name: str) -> None:
    """Every reference of every row names a row that exists, or a :class:`DatabaseError`
    (the rows are made from checked input, so a broken one is a bug in papershelf)."""
    problems = db.execute("pragma foreign_key_check").fetchall()
    if problems:
        examples = "; ".join(
            # A table WITHOUT ROWID (topic_evidence) gives no row id.
            f"{f'a row of {table}' if rowid is None else f'{table} row {rowid}'} "
            f"refers to a missing row of {parent}"
            for table, rowid, parent, _ in problems[:3]
        )
        raise DatabaseError(
            f"{name}: {len(problems)} broken reference(s), e.g. {examples}; "
            "this is a bug in papershelf, please report it"
        )
