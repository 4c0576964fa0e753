"""Human names for listings: the optional ``content/listings.yml``.

A curator names each listing file (by its file name) with a title, the page or query it
was copied from, and its full date when the page showed no year. Listings without an
entry get a readable title from the listing itself ("Hugging Face papers, Mar 14"). The
file is checked as ``topics.yml`` is: every problem names the file and the line.

Titles are untrusted text like everything else: pages show them as text only.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from ..errors import InputError, display_path
from ..yamlfile import LINE, load_with_lines
from .parse import BOILERPLATE, Listing

ENTRY_KEYS = ("title", "source", "date")
MAX_TITLE_LENGTH = 200
# Control characters would be invisible in a page, or break its lines.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_DAILY_PAGE = "daily papers"  # the header line of Hugging Face's daily pages


@dataclass(frozen=True)
class ListingName:
    """What the curator says about one listing file (each field optional)."""

    filename: str
    line: int  # where its entry starts in listings.yml
    title: str | None = None
    source_url: str | None = None
    date: dt.date | None = None


@dataclass(frozen=True)
class ListingLabel:
    """What the database stores: the title always, the source and date when known."""

    title: str
    source_url: str | None
    date: dt.date | None
    year: int | None  # of the dates the listing shows without one
    header: str  # the page header without Hugging Face's page chrome
    year_source: str | None  # "listings.yml" when the curated date gave the year


def load_listing_names(path: str | Path, filenames: list[str]) -> dict[str, ListingName]:
    """The entries of ``listings.yml`` by file name; no file means no entries.
    ``filenames``: the listing files there are (an entry for another is an error)."""
    path = Path(path)
    if not path.exists():
        return {}
    source = display_path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise InputError(source, None, f"not UTF-8 text: {error}") from None
    return parse_listing_names(text, source, filenames)


def parse_listing_names(text: str, source: str, filenames: list[str]) -> dict[str, ListingName]:
    data = load_with_lines(text, source)
    if data is None:  # an empty file, or comments only
        return {}
    if not isinstance(data, dict):
        raise InputError(source, 1, "expected a mapping with a 'listings:' mapping")
    unknown = sorted(str(k) for k in data if k not in ("listings", LINE))
    if unknown:
        raise InputError(source, 1, f"unknown key {unknown[0]!r} (expected 'listings')")
    entries = data.get("listings") or {}
    if not isinstance(entries, dict):
        raise InputError(source, data[LINE], "'listings' must map listing file names to entries")
    names = {}
    for filename, entry in entries.items():
        if filename == LINE:
            continue
        names[str(filename)] = _parse_entry(str(filename), entry, entries[LINE], source, filenames)
    return dict(sorted(names.items()))


def _parse_entry(filename, entry, parent_line: int, source: str, filenames) -> ListingName:
    line = entry[LINE] if isinstance(entry, dict) else parent_line
    if filename not in filenames:
        known = ", ".join(sorted(filenames)[:5]) + (", …" if len(filenames) > 5 else "")
        raise InputError(
            source, line, f"unknown listing file {filename!r} (listing files: {known or 'none'})"
        )
    if not isinstance(entry, dict):
        raise InputError(source, line, f"{filename}: expected a mapping of {', '.join(ENTRY_KEYS)}")
    unknown = sorted(str(k) for k in entry if k not in (*ENTRY_KEYS, LINE))
    if unknown:
        raise InputError(
            source,
            line,
            f"{filename}: unknown key {unknown[0]!r} (expected {', '.join(ENTRY_KEYS)})",
        )
    return ListingName(
        filename=filename,
        line=line,
        title=_title(entry.get("title"), filename, source, line),
        source_url=_url(entry.get("source"), filename, source, line),
        date=_date(entry.get("date"), filename, source, line),
    )


def _title(value: object, filename: str, source: str, line: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise InputError(source, line, f"{filename}: 'title' must be non-empty text")
    if _CONTROL.search(value) or len(value) > MAX_TITLE_LENGTH:
        raise InputError(
            source,
            line,
            f"{filename}: 'title' must be one line of at most {MAX_TITLE_LENGTH} characters",
        )
    return value.strip()


def _url(value: object, filename: str, source: str, line: int) -> str | None:
    if value is None:
        return None
    try:
        parts = urlsplit(value) if isinstance(value, str) else None
        host = parts.hostname if parts else None
    except ValueError:  # e.g. an unclosed IPv6 bracket
        parts = host = None
    if parts is None or parts.scheme not in ("http", "https") or not host:
        raise InputError(source, line, f"{filename}: 'source' must be an http(s) URL: {value!r}")
    if _CONTROL.search(value) or " " in value:
        raise InputError(source, line, f"{filename}: 'source' must be a URL without spaces")
    return value


def _date(value: object, filename: str, source: str, line: int) -> dt.date | None:
    if value is None:
        return None
    # YAML reads 2024-03-14 as a date; quoted, it is text in the same form.
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise InputError(source, line, f"{filename}: 'date' must be a date like 2024-03-14: {value!r}")


def filename_of(listing: Listing) -> str:
    return listing.source.replace("\\", "/").rsplit("/", 1)[-1]


def check_dates(names: dict[str, ListingName], listings: list[Listing], source: str) -> None:
    """A curated date must be the day the listing's own date line shows."""
    for listing in listings:
        name = names.get(filename_of(listing))
        if name is None or name.date is None or _same_day(name.date, listing):
            continue
        raise InputError(
            source,
            name.line,
            f"{name.filename}: date {name.date.isoformat()} is not the listing's own date "
            f"{listing.date_text!r}",
        )


def _same_day(date: dt.date, listing: Listing) -> bool:
    if listing.layout == "json" or listing.year_source == "explicit":
        return listing.date is None or listing.date == date
    shown = listing.date_text.split()
    return (
        len(shown) >= 2
        and shown[0][:3].casefold() == f"{date:%b}".casefold()
        and shown[1].rstrip(",") == str(date.day)
    )


def label(listing: Listing, name: ListingName | None) -> ListingLabel:
    """The title, source and date the database stores for ``listing``."""
    name = name or ListingName(filename_of(listing), 0)
    return ListingLabel(
        title=name.title or default_title(listing),
        source_url=name.source_url,
        date=name.date or listing.date,
        year=name.date.year if name.date else listing.year,
        header=page_header(listing),
        year_source=(
            "listings.yml"
            if name.date is not None and listing.year_source != "explicit"
            else listing.year_source
        ),
    )


def default_title(listing: Listing) -> str:
    """A readable title from the listing itself: which kind of page, and its date as the
    page shows it ("Hugging Face papers, Mar 14"; "Hugging Face daily papers, 2025-08-14")."""
    daily = listing.layout == "json" or any(
        line.strip().casefold() == _DAILY_PAGE for line in listing.header
    )
    kind = "Hugging Face daily papers" if daily else "Hugging Face papers"
    return f"{kind}, {listing.date_text}" if listing.date_text else kind


def page_header(listing: Listing) -> str:
    """The header lines that are not Hugging Face's page chrome."""
    return "\n".join(line for line in listing.header if line.strip().casefold() not in BOILERPLATE)
