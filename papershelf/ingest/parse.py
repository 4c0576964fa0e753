"""Parse listing files (copies of Hugging Face paper listings) into records.

Parsing is pure: :func:`parse_listing` takes text and returns a :class:`Listing`;
reading files is :func:`papershelf.ingest.formats.read_listing`'s job.

A listing is a page header, ending with the listing's own date on a line of its own
(``Mar 14``), then entries. An entry is a title line and an abstract paragraph,
optionally followed by metadata lines (the "rich" layout)::

    Title of the paper

    The abstract, one paragraph.

      • 4 authors
    ·
    Mar 27, 2024 2          <- published 2024-03-27, 2 upvotes; the year may be missing
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError
from .text import clean_text, listing_name

# A title longer than this is taken for an abstract that lost its title.
MAX_TITLE_LENGTH = 300
# SQLite's largest integer: a count above it cannot be stored.
MAX_COUNT = 2**63 - 1
# The page chrome Hugging Face puts above a listing's date (compared case-folded).
BOILERPLATE = frozenset(
    {
        "new",
        "get trending papers in your email inbox!",
        "subscribe",
        "daily papers",
        "byak and the research community",
        "trending papers",
        "papers",
    }
)
# In a header, a paragraph this long after another paragraph reads as an abstract.
_ABSTRACT_LIKE = 40

_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}
_MONTH_RE = "|".join(sorted(_MONTHS, key=len, reverse=True))
# Anything that starts like a date is parsed as one, so that "Feb 30, 2024" is an
# error rather than being mistaken for a title.
_DATE_LIKE = re.compile(rf"^(?:{_MONTH_RE})\.?\s+\d{{1,2}}\b[\d ,]*$", re.IGNORECASE)
_DATE = re.compile(
    rf"^(?P<month>{_MONTH_RE})\.?\s+(?P<day>\d{{1,2}})"
    r"(?:,\s*(?P<year>\d{4}))?(?:\s+(?P<upvotes>\d+))?$",
    re.IGNORECASE,
)
_AUTHORS = re.compile(r"^[•*\-]\s*(?P<count>\d+)\s+authors?$", re.IGNORECASE)
_DOT = re.compile(r"^[·•]$")


@dataclass(frozen=True)
class ParseWarning:
    line: int
    message: str


@dataclass(frozen=True)
class Entry:
    """One appearance of a paper in a listing."""

    rank: int  # 1-based position in the listing
    line: int  # line of the title
    title: str
    abstract: str
    authors_count: int | None = None
    published: dt.date | None = None
    published_text: str | None = None  # the date as the listing shows it
    year_inferred: bool = False
    upvotes: int | None = None
    # Richer inputs (saved HTML pages, the daily-papers JSON) may add these:
    arxiv_id: str | None = None
    authors: tuple[str, ...] = ()
    github_repo: str | None = None
    github_stars: int | None = None
    project_page: str | None = None
    ai_summary: str | None = None
    ai_keywords: tuple[str, ...] = ()


@dataclass(frozen=True)
class Listing:
    name: str  # the file's stem: a stable id
    source: str  # the path as shown in messages
    layout: str  # "simple", "rich" (with metadata lines), "html" or "json"
    date_text: str
    date: dt.date | None
    year: int | None
    year_source: str | None  # "option", "inferred" or None when unknown
    header: tuple[str, ...]
    entries: tuple[Entry, ...]
    warnings: tuple[ParseWarning, ...] = field(default=())


@dataclass(frozen=True)
class _Date:
    month: int
    day: int
    year: int | None
    upvotes: int | None
    text: str  # the whole line, as the listing shows it
    shown: str  # the date alone, without the upvote count that may follow it


@dataclass(frozen=True)
class _Token:
    kind: str  # text, authors, dot, date
    line: int
    text: str
    value: object = None


def parse_listing(text: str, source: str, year: int | None = None) -> Listing:
    """Parse the text of one listing. ``year`` is the year of dates that show none."""
    text, removed = clean_text(text)
    lines = _clean_lines(text)
    header_end = _find_header_end(lines, source)
    date_line = header_end + 1
    listing_date = _parse_date(lines[header_end], source, date_line)
    _check_header(lines, header_end, source)
    tokens = _tokenize(lines, header_end + 1, source)
    raw_entries = _group_entries(tokens, source)
    if not raw_entries:
        raise InputError(source, date_line, "no entries found after the listing date")
    _check_no_chrome_in_entries(raw_entries, source)

    listing_year, year_source = _listing_year(raw_entries, year)
    warnings = [ParseWarning(r.line, r.describe()) for r in removed]
    entries = [
        _entry(rank, raw, listing_year, source, warnings)
        for rank, raw in enumerate(raw_entries, start=1)
    ]

    listing_dt = None
    if listing_year is not None:
        listing_dt = _make_date(listing_year, listing_date, source, date_line)
    rich = any(t.kind != "text" for t in tokens)
    return Listing(
        name=listing_name(Path(source).stem),
        source=source,
        layout="rich" if rich else "simple",
        date_text=listing_date.text,
        date=listing_dt,
        year=listing_year,
        year_source=year_source,
        header=tuple(line for line in lines[:header_end] if line),
        entries=tuple(entries),
        warnings=tuple(warnings),
    )


def _listing_year(raw_entries: list, year: int | None) -> tuple[int | None, str | None]:
    """The year of the dates shown without one, and where it comes from."""
    if year is not None:
        return year, "option"
    explicit_years = [d.year for *_, d in raw_entries if d is not None and d.year is not None]
    if explicit_years:
        # Hugging Face leaves out the year for dates in the current year, so the
        # listing is from the year after the latest year it shows.
        return max(explicit_years) + 1, "inferred"
    return None, None


def _entry(
    rank: int, raw: tuple, listing_year: int | None, source: str, warnings: list[ParseWarning]
) -> Entry:
    """One entry from its tokens; a date that cannot be dated adds to ``warnings``."""
    title_tok, abstract_tok, authors, date = raw
    published = None
    inferred = False
    if date is not None:
        if date.year is not None:
            published = _make_date(date.year, date, source, date.value_line)
        elif listing_year is not None:
            published = _make_date(listing_year, date, source, date.value_line)
            inferred = True
        else:
            warnings.append(
                ParseWarning(
                    date.value_line,
                    f"date {date.text!r} has no year and the listing's year is unknown; "
                    "pass --year to date it",
                )
            )
    return Entry(
        rank=rank,
        line=title_tok.line,
        title=title_tok.text,
        abstract=abstract_tok.text,
        authors_count=authors,
        published=published,
        published_text=date.shown if date else None,
        year_inferred=inferred,
        upvotes=(date.upvotes or 0) if date else None,
    )


def _clean_lines(text: str) -> list[str]:
    # Line breaks are "\n" alone by now (clean_text), so line numbers are an editor's;
    # a BOM and trailing spaces are noise.
    return [line.rstrip() for line in text.lstrip("\ufeff").split("\n")]


def _find_header_end(lines: list[str], source: str) -> int:
    for index, line in enumerate(lines):
        match = _DATE.match(line.strip())
        if match and not match["year"] and not match["upvotes"]:
            return index
    first = _first_entry_line(lines, len(lines), source)
    raise InputError(
        source,
        first or 1,
        "no listing date found: the page header must end with the listing's date on a line "
        "of its own, such as 'Mar 14', before the first entry",
    )


def _check_header(lines: list[str], header_end: int, source: str) -> None:
    """The header is page chrome only: an entry above the listing's date means the date
    line is missing or altered, and the entries above it would be lost in the header."""
    first = _first_entry_line(lines, header_end, source)
    if first is not None:
        raise InputError(
            source,
            first,
            f"an entry comes before the listing's date line (line {header_end + 1}: "
            f"{lines[header_end].strip()!r}); the page header must end with the listing's "
            "own date, such as 'Mar 14', on a line of its own: is it missing or altered?",
        )


def _check_no_chrome_in_entries(raw_entries: list[tuple], source: str) -> None:
    """Page chrome after the listing's date means the date line is repeated above the
    real one: read on, the chrome would become papers."""
    for title, abstract, *_ in raw_entries:
        for token in (title, abstract):
            if token.text.casefold() in BOILERPLATE:
                raise InputError(
                    source,
                    token.line,
                    f"{token.text!r} is page chrome, not part of an entry: is the listing's "
                    "date line repeated above the page header?",
                )


def _first_entry_line(lines: list[str], end: int, source: str) -> int | None:
    """The line of the first entry-shaped block in ``lines[:end]``: a paragraph followed
    by an abstract-like one, a paragraph too long for a title, or metadata lines."""
    before: list[_Token | None] = [None, None]  # the last two paragraphs; None: chrome
    for token in _tokenize(lines[:end], 0, source):
        if token.kind != "text":  # an entry's metadata: name its title
            return (before[-2] or before[-1] or token).line
        if token.text.casefold() in BOILERPLATE:
            before.append(None)
            continue
        if before[-1] is not None and len(token.text) >= _ABSTRACT_LIKE:
            return before[-1].line
        if len(token.text) > MAX_TITLE_LENGTH:
            return token.line
        before.append(token)
    return None


def _parse_date(text: str, source: str, line: int) -> _Date:
    text = text.strip()
    match = _DATE.match(text)
    if not match:
        raise InputError(source, line, f"unparseable date {text!r} (expected e.g. 'Mar 27, 2024')")
    date = _Date(
        month=_MONTHS[match["month"].lower()],
        day=int(match["day"]),
        year=int(match["year"]) if match["year"] else None,
        upvotes=_count(match["upvotes"], "upvote count", source, line),
        text=text,
        shown=text[: match.end("year") if match["year"] else match.end("day")],
    )
    # Check the day now, whatever the year turns out to be (Feb 29 is checked later).
    _make_date(date.year or 2000, date, source, line)
    return date


def _count(digits: str | None, what: str, source: str | None, line: int) -> int | None:
    """A count shown in a listing, checked against what the database can store."""
    if digits is None:
        return None
    if len(digits) > len(str(MAX_COUNT)) or int(digits) > MAX_COUNT:
        shown = digits if len(digits) <= 30 else f"{digits[:12]}… ({len(digits)} digits)"
        raise InputError(source, line, f"{what} {shown} is out of range")
    return int(digits)


def _make_date(year: int, date: _Date, source: str, line: int) -> dt.date:
    try:
        return dt.date(year, date.month, date.day)
    except ValueError as error:
        raise InputError(source, line, f"unparseable date {date.text!r}: {error}") from None


def _tokenize(lines: list[str], start: int, source: str) -> list[_Token]:
    tokens: list[_Token] = []
    paragraph: list[tuple[int, str]] = []

    def flush() -> None:
        if paragraph:
            tokens.append(_Token("text", paragraph[0][0], " ".join(t for _, t in paragraph)))
            paragraph.clear()

    for index in range(start, len(lines)):
        number, line = index + 1, lines[index].strip()
        if not line:
            flush()
        elif match := _AUTHORS.match(line):
            flush()
            count = _count(match["count"], "author count", source, number)
            tokens.append(_Token("authors", number, line, count))
        elif _DOT.match(line):
            flush()
            tokens.append(_Token("dot", number, line))
        elif _DATE_LIKE.match(line):
            flush()
            tokens.append(_Token("date", number, line, _parse_date(line, source, number)))
        else:
            paragraph.append((number, line))
    flush()
    return tokens


@dataclass(frozen=True)
class _EntryDate(_Date):
    value_line: int = 0


def _group_entries(tokens: list[_Token], source: str) -> list[tuple]:
    entries = []
    i = 0
    while i < len(tokens):
        title = tokens[i]
        if title.kind != "text":
            raise InputError(
                source, title.line, f"{title.text!r} does not follow an entry's title and abstract"
            )
        if len(title.text) > MAX_TITLE_LENGTH:
            raise InputError(
                source,
                title.line,
                f"expected a paper title, found a paragraph of {len(title.text)} characters "
                "(an abstract without a title?)",
            )
        if i + 1 >= len(tokens) or tokens[i + 1].kind != "text":
            raise InputError(
                source, title.line, f"truncated entry: the title {title.text!r} has no abstract"
            )
        abstract = tokens[i + 1]
        i += 2
        authors = None
        date = None
        if i < len(tokens) and tokens[i].kind == "authors":
            authors = tokens[i].value
            i += 1
            if i >= len(tokens) or tokens[i].kind != "dot":
                raise InputError(
                    source,
                    tokens[i - 1].line,
                    f"truncated entry: {tokens[i - 1].text!r} must be followed by a '·' line "
                    "and a date line",
                )
        if i < len(tokens) and tokens[i].kind == "dot":
            i += 1
            if i >= len(tokens) or tokens[i].kind != "date":
                raise InputError(
                    source,
                    tokens[i - 1].line,
                    "truncated entry: the '·' line must be followed by a date line",
                )
        if i < len(tokens) and tokens[i].kind == "date":
            value: _Date = tokens[i].value
            date = _EntryDate(**value.__dict__, value_line=tokens[i].line)
            i += 1
        entries.append((title, abstract, authors, date))
    return entries
