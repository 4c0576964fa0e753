"""Merge the entries of many listings into distinct papers.

The same paper appears in several listings. Entries are one paper when they carry the
same arXiv id or, for entries without one, when their normalised titles are equal (an
entry without an id joins the paper whose id came with the same title). Every
appearance is kept; metadata is merged field by field: a value beats a missing one,
and when two listings disagree the first in (listing name, rank) order wins and a
warning names both places. Upvotes and GitHub stars are not a disagreement (listings
are snapshots and counts only grow): the highest is kept.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from ..errors import InputError
from ..ingest.parse import Entry, Listing
from ..ingest.text import normalise_title, short_name, slugify
from .links import Link, extract_links


@dataclass(frozen=True)
class Appearance:
    listing: str
    source: str
    rank: int
    line: int
    title: str


@dataclass(frozen=True)
class Paper:
    slug: str
    key: str  # the normalised title
    title: str
    short_name: str | None
    abstract: str
    published: dt.date | None
    published_text: str | None
    year_inferred: bool
    upvotes: int | None
    authors_count: int | None
    appearances: tuple[Appearance, ...]
    links: tuple[Link, ...]
    arxiv_id: str | None = None
    authors: tuple[str, ...] = ()
    github_repo: str | None = None
    github_stars: int | None = None
    project_page: str | None = None
    ai_summary: str | None = None
    ai_keywords: tuple[str, ...] = ()


@dataclass(frozen=True)
class MergeWarning:
    source: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: {self.message}"


def merge_listings(listings: list[Listing]) -> tuple[list[Paper], list[MergeWarning]]:
    """Distinct papers sorted by slug, and the disagreements found on the way."""
    listings = sorted(listings, key=lambda item: (item.name, item.source))
    _check_distinct_names(listings)
    ordered = [
        (listing, entry, normalise_title(entry.title))
        for listing in listings
        for entry in listing.entries
    ]
    id_of_title: dict[str, str] = {}
    for _, entry, title_key in ordered:
        if entry.arxiv_id:
            id_of_title.setdefault(title_key, entry.arxiv_id)
    groups: dict[str, list[tuple[Listing, Entry, str]]] = {}
    for listing, entry, title_key in ordered:
        key = entry.arxiv_id or id_of_title.get(title_key) or f"title:{title_key}"
        groups.setdefault(key, []).append((listing, entry, title_key))

    papers, warnings = [], []
    for group in groups.values():
        paper, paper_warnings = _merge_group(group)
        papers.append(paper)
        warnings.extend(paper_warnings)

    papers = _distinct_slugs(papers, warnings)
    return sorted(papers, key=lambda paper: paper.slug), warnings


def _check_distinct_names(listings: list[Listing]) -> None:
    """Two files whose names map to one listing id (``day.txt`` and ``day.html``,
    ``A_b.txt`` and ``a-b.txt``) would share its page and rows."""
    for first, second in zip(listings, listings[1:], strict=False):
        if first.name == second.name:
            raise InputError(
                second.source,
                1,
                f"this listing's id {second.name!r} is also that of {first.source}; "
                "rename one of the two files",
            )


def _distinct_slugs(papers: list[Paper], warnings: list[MergeWarning]) -> list[Paper]:
    """Papers that share a title but not an arXiv id (two items of a JSON listing) get
    their id in the slug, so that each keeps a page of its own."""
    by_slug: dict[str, list[Paper]] = {}
    for paper in papers:
        by_slug.setdefault(paper.slug, []).append(paper)
    distinct = []
    for slug, sharing in by_slug.items():
        if len(sharing) > 1:
            if sum(not paper.arxiv_id for paper in sharing) > 1:  # a hash collision
                first, other = sharing[0].appearances[0], sharing[1].appearances[0]
                raise InputError(
                    other.source,
                    other.line,
                    f"two papers share the slug {slug!r}: this one and {first.source}:{first.line}",
                )
            for paper in sharing:
                place = paper.appearances[0]
                warnings.append(
                    MergeWarning(
                        place.source,
                        place.line,
                        f"{len(sharing)} papers with different arXiv ids share the title "
                        f"{paper.title!r}; each slug gets its arXiv id",
                    )
                )
            sharing = [_with_id_in_slug(paper) for paper in sharing]
        distinct.extend(sharing)
    return distinct


def _with_id_in_slug(paper: Paper) -> Paper:
    if not paper.arxiv_id:
        return paper
    return replace(paper, slug=f"{paper.slug}-{slugify(paper.arxiv_id)}")


def _merge_group(keyed: list[tuple[Listing, Entry, str]]) -> tuple[Paper, list]:
    """One paper from the entries that are it, and the disagreements between them."""
    group = [(listing, entry) for listing, entry, _ in keyed]
    first, first_key = keyed[0][1], keyed[0][2]
    warnings = _title_warnings(keyed)
    field = _FieldPicker(group, first.title, warnings)
    # In this order, the order of the warnings.
    abstract = field.pick("abstract", lambda text: f"({len(text)} characters)")
    authors_count = field.pick("authors_count")
    authors = field.pick("authors", lambda names: f"({', '.join(names)})") or ()
    published_entry = _published_entry(group, first.title, warnings)
    upvotes = [entry.upvotes for _, entry in group if entry.upvotes is not None]
    stars = [entry.github_stars for _, entry in group if entry.github_stars is not None]
    texts = [entry.published_text for _, entry in group if entry.published_text]
    paper = Paper(
        slug=slugify(first.title, first_key),
        key=first_key,
        title=first.title,
        short_name=short_name(first.title),
        abstract=abstract,
        published=published_entry.published if published_entry else None,
        published_text=published_entry.published_text if published_entry else (texts or [None])[0],
        year_inferred=published_entry.year_inferred if published_entry else False,
        upvotes=max(upvotes) if upvotes else None,
        authors_count=authors_count,
        appearances=tuple(
            Appearance(listing.name, listing.source, entry.rank, entry.line, entry.title)
            for listing, entry in group
        ),
        links=extract_links(abstract),
        arxiv_id=field.pick("arxiv_id"),
        authors=authors,
        github_repo=field.pick("github_repo"),
        github_stars=max(stars) if stars else None,  # counts only grow, like upvotes
        project_page=field.pick("project_page"),
        ai_summary=field.pick("ai_summary", lambda text: f"({len(text)} characters)"),
        ai_keywords=field.pick("ai_keywords", lambda words: f"({', '.join(words)})") or (),
    )
    return paper, warnings


class _FieldPicker:
    """The value of a field for a paper: the first entry's that has one; another entry
    with another value is a warning."""

    def __init__(self, group: list[tuple[Listing, Entry]], title: str, warnings: list):
        self.group = group
        self.title = title
        self.warnings = warnings

    def pick(self, field: str, describe=str):
        having = [
            (listing, entry)
            for listing, entry in self.group
            if getattr(entry, field) not in (None, ())
        ]
        if not having:
            return None
        chosen_listing, chosen = having[0]
        value = getattr(chosen, field)
        for listing, entry in having[1:]:
            other = getattr(entry, field)
            if other != value:
                self.warnings.append(
                    MergeWarning(
                        listing.source,
                        entry.line,
                        f"{field.replace('_', ' ')} {describe(other)} differs from "
                        f"{describe(value)} at {chosen_listing.source}:{chosen.line} for "
                        f"{self.title!r}; keeping the latter",
                    )
                )
        return value


def _title_warnings(keyed: list[tuple[Listing, Entry, str]]) -> list[MergeWarning]:
    """An entry of the paper (by arXiv id) whose title is another one's."""
    first, first_key = keyed[0][1], keyed[0][2]
    return [
        MergeWarning(
            listing.source,
            entry.line,
            f"title {entry.title!r} differs from {first.title!r} for arXiv "
            f"{entry.arxiv_id or first.arxiv_id}; keeping the latter",
        )
        for listing, entry, title_key in keyed
        if title_key != first_key
    ]


def _published_entry(
    group: list[tuple[Listing, Entry]], title: str, warnings: list[MergeWarning]
) -> Entry | None:
    """The entry whose date the paper takes: a date shown with its year beats one whose
    year was inferred; another date shown with its year is a warning."""
    dated = sorted(
        ((listing, entry) for listing, entry in group if entry.published is not None),
        key=lambda pair: pair[1].year_inferred,
    )
    if not dated:
        return None
    published_entry = dated[0][1]
    for listing, entry in dated[1:]:
        if entry.published != published_entry.published and not entry.year_inferred:
            warnings.append(
                MergeWarning(
                    listing.source,
                    entry.line,
                    f"published date {entry.published} differs from {published_entry.published} "
                    f"for {title!r}; keeping the latter",
                )
            )
    return published_entry


def arrival_order(listings: list[Listing], papers: list[Paper]) -> list[int]:
    """The papers' positions in the order they arrived: by the first listing that has
    them, listings taken in the order given (file-name order, which is date order for the
    files ``fetch`` writes), then by their rank there; ties in slug order."""
    position = {listing.source: index for index, listing in enumerate(listings)}
    first = [min((position[a.source], a.rank) for a in paper.appearances) for paper in papers]
    return sorted(range(len(papers)), key=first.__getitem__)
