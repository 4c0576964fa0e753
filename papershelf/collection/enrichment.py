"""Enrichment into the collection: the cache ``build.py enrich`` keeps in
``content/enrichment/`` filling what the listings leave out.

The same rules as merging listings (:mod:`.papers`): a listing's own value is kept and
enrichment fills what is missing. A value that differs from the one kept is a warning
naming the listing's line and the cache's line, except upvotes and GitHub stars (counts
are snapshots taken on different days). A date whose year the listing did not show (and
the build inferred) takes the year of an enrichment date on the same month and day.

Only ``matched`` records fill anything; ``ambiguous``, ``not_found`` and ``failed`` ones
are recorded as lookups (:class:`Lookup`). A match whose arXiv id is already another
paper's fills nothing either, with a warning: the two are likely one paper listed under
two titles. Where each value came from is a :class:`FieldSource`.

Nothing here reads the network or a clock: the cache's records in, papers out. Without
a record (no cache, or an empty one) the papers come back as they were and
:attr:`Enriched.present` is false, so the database is the one built without enrichment.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from ..errors import InputError, display_path
from ..ingest.enrich import ARXIV_ID, CACHE_FILES, SOURCES, cache_records
from ..ingest.text import clean_text
from .papers import MergeWarning, Paper

# How a source is named in the database: its cache file's name without ``.jsonl``.
SOURCE_NAMES = {source: CACHE_FILES[source].removesuffix(".jsonl") for source in SOURCES}
SOURCE_LABELS = {"huggingface": "Hugging Face", "arxiv": "arXiv"}
LISTING = "listing"  # the source of a listing's own value
# The fields of Paper that enrichment can fill, in the order of the provenance rows.
FIELDS = (
    "arxiv_id",
    "authors",
    "authors_count",
    "published",
    "upvotes",
    "github_repo",
    "github_stars",
    "project_page",
    "ai_summary",
    "ai_keywords",
)
# Counts that only grow: a listing's and a cache's differ by when they were taken.
COUNTS = {"upvotes", "github_stars"}


@dataclass(frozen=True)
class Record:
    """One line of a cache file, checked: ``match`` holds the fields it can fill."""

    source: str  # "huggingface" or "arxiv"
    path: str
    line: int
    key: str  # the paper's normalised title
    status: str
    fetched_at: str
    match: dict = field(default_factory=dict)
    candidates: tuple[str, ...] = ()  # arXiv ids, when ambiguous
    error: str | None = None

    @property
    def place(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass(frozen=True)
class Lookup:
    """What one source answered about one paper (a row of ``enrichment``)."""

    paper: str
    source: str
    status: str
    arxiv_id: str | None
    candidates: str | None  # JSON list of arXiv ids
    error: str | None
    fetched_at: str
    filled: int  # how many of the paper's fields it gave
    note: str | None  # why a match gave nothing


@dataclass(frozen=True)
class FieldSource:
    """Where one field of one paper came from (a row of ``field_sources``)."""

    paper: str
    field: str
    source: str  # "listing", "huggingface" or "arxiv"
    fetched_at: str | None  # when the source was asked; None for a listing


@dataclass
class Enriched:
    papers: list[Paper]
    lookups: list[Lookup] = field(default_factory=list)
    field_sources: list[FieldSource] = field(default_factory=list)
    warnings: list[MergeWarning] = field(default_factory=list)
    present: bool = False  # whether the cache held any record


# ---- Reading the cache ----------------------------------------------------------------------


def read_enrichment(directory: str | Path | None) -> list[Record]:
    """The records of every cache file in ``directory``, sources in order; none when the
    directory (or a file) is absent. A malformed line is an error naming file and line."""
    if directory is None or not Path(directory).is_dir():
        return []
    records = []
    for source in SOURCES:
        path = Path(directory) / CACHE_FILES[source]
        shown = display_path(path)
        for line, raw in cache_records(path):
            records.append(_record(SOURCE_NAMES[source], shown, line, raw))
    return records


def _record(source: str, path: str, line: int, raw: dict) -> Record:
    status = raw["status"]
    match = raw.get("match")
    if status == "matched" and not isinstance(match, dict):
        raise InputError(path, line, "a 'matched' record needs a 'match' object")
    candidates = raw.get("candidates") or []
    if not isinstance(candidates, list) or not all(isinstance(c, dict) for c in candidates):
        raise InputError(path, line, "'candidates' must be a list of objects")
    error = raw.get("error")
    return Record(
        source=source,
        path=path,
        line=line,
        key=raw["key"],
        status=status,
        fetched_at=raw["fetched_at"],
        match=_checked_match(match, path, line) if status == "matched" else {},
        candidates=tuple(_arxiv_id(c.get("arxiv_id"), path, line) for c in candidates),
        error=_text(error, path, line, "error") if error is not None else None,
    )


def _checked_match(match: dict, path: str, line: int) -> dict:
    """The fields of a match that fill a paper, typed as Paper holds them. The cache is
    committed content anyone can edit: every value is checked as a listing's would be."""

    def get(name, check):
        value = match.get(name)
        return None if value is None else check(value, path, line, f"match.{name}")

    values = {
        "arxiv_id": _arxiv_id(match.get("arxiv_id"), path, line),
        "authors": get("authors", _texts),
        "published": get("published", _date),
        "upvotes": get("upvotes", _count),
        "github_repo": get("github_repo", _url),
        "github_stars": get("github_stars", _count),
        "project_page": get("project_page", _url),
        "ai_summary": get("ai_summary", _text),
        "ai_keywords": get("ai_keywords", _texts),
    }
    values["authors_count"] = len(values["authors"]) if values["authors"] else None
    return {name: value for name, value in values.items() if value not in (None, "", ())}


def _arxiv_id(value: object, path: str, line: int) -> str:
    if not isinstance(value, str) or not ARXIV_ID.fullmatch(value):
        raise InputError(path, line, f"{value!r} is not an arXiv id")
    return value


def _text(value: object, path: str, line: int, name: str) -> str:
    if not isinstance(value, str):
        raise InputError(path, line, f"{name} must be a string")
    return " ".join(clean_text(value)[0].split())


def _texts(value: object, path: str, line: int, name: str) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise InputError(path, line, f"{name} must be a list of strings")
    texts = (_text(item, path, line, name) for item in value)
    return tuple(text for text in texts if text)


def _date(value: object, path: str, line: int, name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        raise InputError(path, line, f"{name} must be a date like 2025-08-14") from None


def _count(value: object, path: str, line: int, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise InputError(path, line, f"{name} must be a whole number, 0 or more")
    return value


def _url(value: object, path: str, line: int, name: str) -> str:
    text = _text(value, path, line, name)
    parts = urlsplit(text)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or " " in text:
        raise InputError(path, line, f"{name} must be an http(s) URL")
    return text


# ---- Filling the papers ---------------------------------------------------------------------


def enrich_papers(papers: list[Paper], records: list[Record]) -> Enriched:
    """``papers`` with what the ``records`` add, the lookups, the provenance of every
    filled field and the disagreements. Without records, ``papers`` as they are."""
    if not records:
        return Enriched(papers)
    by_key: dict[str, list[Record]] = {}
    for record in records:
        by_key.setdefault(record.key, []).append(record)
    owners = {paper.arxiv_id: paper.slug for paper in papers if paper.arxiv_id}
    result = Enriched([], present=True)
    for paper in papers:  # in slug order: who claims an arXiv id first is deterministic
        filler = _Filler(paper, result.warnings)
        for record in by_key.get(paper.key, ()):
            result.lookups.append(_lookup(paper, record, filler, owners))
        enriched = filler.paper()
        if enriched.arxiv_id:
            owners.setdefault(enriched.arxiv_id, paper.slug)
        result.papers.append(enriched)
        result.field_sources.extend(filler.field_sources())
    return result


def _lookup(paper: Paper, record: Record, filler: _Filler, owners: dict[str, str]) -> Lookup:
    """The lookup row of ``record``, having filled what a usable match gives."""
    arxiv_id = record.match.get("arxiv_id")
    note = None
    filled = 0
    if record.status == "matched":
        owner = owners.get(arxiv_id)
        if owner is not None and owner != paper.slug:
            note = f"arXiv {arxiv_id} is the paper {owner}'s"
            filler.warn(
                f"{SOURCE_LABELS[record.source]} matched the title to arXiv {arxiv_id} "
                f"({record.place}), the id of the paper {owner}; not used (one paper under "
                "two titles? give the listing entry its arXiv id to merge them)"
            )
        else:
            filled = filler.fill(record)
    return Lookup(
        paper=paper.slug,
        source=record.source,
        status=record.status,
        arxiv_id=arxiv_id,
        candidates=json.dumps(list(record.candidates)) if record.candidates else None,
        error=record.error,
        fetched_at=record.fetched_at,
        filled=filled,
        note=note,
    )


def _describe(value: object) -> str:
    if isinstance(value, tuple):
        return f"({', '.join(value)})"
    if isinstance(value, str) and len(value) > 80:
        return f"({len(value)} characters)"
    return str(value)


class _Filler:
    """One paper's values as sources fill them in turn, and where each came from."""

    def __init__(self, paper: Paper, warnings: list[MergeWarning]):
        self.original = paper
        self.values = {name: getattr(paper, name) for name in FIELDS}
        self.year_inferred = paper.year_inferred
        self.sources = {
            name: (LISTING, None) for name, value in self.values.items() if value not in (None, ())
        }
        self.warnings = warnings

    def warn(self, message: str) -> None:
        place = self.original.appearances[0]
        self.warnings.append(MergeWarning(place.source, place.line, message))

    def fill(self, record: Record) -> int:
        """Take what ``record`` has and the paper lacks; how many fields it filled."""
        filled = 0
        for name in FIELDS:
            value = record.match.get(name)
            if value is None:
                continue
            if self.values[name] in (None, ()) or self._completes_date(name, value):
                self.values[name] = value
                self.sources[name] = (record.source, record.fetched_at)
                filled += 1
            elif self.values[name] != value and name not in COUNTS:
                self._disagree(name, value, record)
        return filled

    def _completes_date(self, name: str, value: dt.date) -> bool:
        """Whether ``value`` is the date the listing showed without its year."""
        listed = self.values[name]
        if name != "published" or not self.year_inferred or self.sources[name][0] != LISTING:
            return False
        if (listed.month, listed.day) != (value.month, value.day):
            return False
        self.year_inferred = False
        return True

    def _disagree(self, name: str, value: object, record: Record) -> None:
        kept_from = self.sources[name][0]
        kept = "the listing's" if kept_from == LISTING else f"{SOURCE_LABELS[kept_from]}'s"
        self.warn(
            f"{name.replace('_', ' ')} {_describe(value)} from {SOURCE_LABELS[record.source]} "
            f"({record.place}) differs from {kept} {_describe(self.values[name])} for "
            f"{self.original.title!r}; keeping {kept}"
        )

    def paper(self) -> Paper:
        if self.values == {name: getattr(self.original, name) for name in FIELDS}:
            return self.original
        return dataclasses.replace(self.original, **self.values, year_inferred=self.year_inferred)

    def field_sources(self) -> list[FieldSource]:
        slug = self.original.slug
        return [
            FieldSource(slug, name, *self.sources[name]) for name in FIELDS if name in self.sources
        ]
