"""Listing files in every format papershelf reads, by their extension.

- ``.txt``: a copy of the page's text (see :mod:`papershelf.parse`).
- ``.html`` / ``.htm``: the page saved from the browser. It is converted to Markdown with
  markdownify and then to the same lines a text copy has, so one parser
  (:func:`papershelf.parse.parse_listing`) reads the entry grammar of both. arXiv ids are
  taken from the title links (``/papers/2403.12345``).
- ``.json``: the array returned by the Hugging Face daily-papers API
  (``GET /api/daily_papers?date=…``), read field by field.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from pathlib import Path

from .errors import InputError, display_path
from .parse import Entry, Listing, parse_listing
from .text import normalise_title

SUFFIXES = (".txt", ".html", ".htm", ".json")

# Elements whose text is not part of what a reader sees as the listing.
_NOT_CONTENT = ("head", "script", "style", "noscript", "template", "svg", "nav", "footer")
_PAPER_LINK = re.compile(r"/papers/(\d{4}\.\d{4,5})(?:v\d+)?/?$")
_ARXIV_ID = re.compile(r"^\d{4}\.\d{4,5}$")


def read_listing(path: str | Path, year: int | None = None) -> Listing:
    """Read and parse a listing file of any supported format."""
    path = Path(path)
    source = display_path(path)
    text = _read_text(path, source)
    suffix = path.suffix.lower()
    if suffix in (".html", ".htm"):
        return parse_html_listing(text, source, year=year)
    if suffix == ".json":
        return parse_daily_papers(text, source)
    return parse_listing(text, source, year=year)


def _read_text(path: Path, source: str) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        raise InputError(
            source,
            line,
            f"not UTF-8 text (byte 0x{data[error.start]:02x} at column {column}); "
            "save the listing as UTF-8",
        ) from None


# ---- Saved HTML pages ------------------------------------------------------------------


def html_to_text(html: str) -> tuple[str, dict[str, str]]:
    """The page as the lines a text copy of it has, and arXiv ids by normalised title."""
    from bs4 import BeautifulSoup
    from markdownify import MarkdownConverter

    soup = BeautifulSoup(html, "html.parser")
    for tag in soup.find_all(_NOT_CONTENT):
        tag.decompose()
    ids: dict[str, str] = {}
    for link in soup.find_all("a", href=True):
        match = _PAPER_LINK.search(link["href"])
        if match and link.get_text(strip=True):
            ids.setdefault(normalise_title(link.get_text(" ", strip=True)), match.group(1))
    # Inline markup carries no structure: keep only its text, so titles and abstracts
    # come out as the plain text a copy of the page has.
    for tag in soup.find_all(["a", "b", "strong", "i", "em", "code", "span", "time", "sup", "sub"]):
        tag.unwrap()
    markdown = MarkdownConverter(
        heading_style="ATX",
        bullets="*",
        escape_asterisks=False,
        escape_underscores=False,
        escape_misc=False,
    ).convert_soup(soup)
    lines = []
    for line in markdown.splitlines():
        line = re.sub(r"^\s{0,3}#{1,6}\s+", "", line)  # headings
        line = re.sub(r"^\s*[*+-]\s+(?=\S)", "", line)  # list items
        lines.append(line.strip())
    return "\n".join(lines) + "\n", ids


def parse_html_listing(html: str, source: str, year: int | None = None) -> Listing:
    text, ids = html_to_text(html)
    try:
        listing = parse_listing(text, source, year=year)
    except InputError as error:
        # Name the line of the HTML file, not of the converted text.
        line = _html_line(html, text, error.line)
        raise InputError(source, line, error.message) from None
    entries = tuple(
        dataclasses.replace(
            entry,
            arxiv_id=ids.get(normalise_title(entry.title)),
            line=_html_line(html, text, entry.line) or entry.line,
        )
        for entry in listing.entries
    )
    return dataclasses.replace(listing, layout="html", entries=entries)


def _html_line(html: str, text: str, line: int | None) -> int | None:
    """The line of ``html`` where the text of line ``line`` of ``text`` starts."""
    if not line:
        return None
    lines = text.splitlines()
    wanted = lines[line - 1] if line <= len(lines) else ""
    words = wanted.split()[:4]
    if not words:
        return None
    pattern = r"\s*(?:<[^>]*>\s*)*".join(re.escape(word) for word in words)
    match = re.search(pattern, html)
    return html.count("\n", 0, match.start()) + 1 if match else None


# ---- The daily-papers JSON -------------------------------------------------------------


def parse_daily_papers(text: str, source: str) -> Listing:
    """A listing from the daily-papers API's JSON array. Unknown fields are ignored."""
    items = _array_items(text, source)
    if not items:
        raise InputError(source, 1, "no entries found: the JSON array is empty")
    entries = []
    listed_on: list[dt.date] = []
    for rank, (line, item) in enumerate(items, start=1):
        entry, listed = _daily_paper(item, rank, line, source)
        entries.append(entry)
        if listed:
            listed_on.append(listed)
    date = max(listed_on) if listed_on else None
    return Listing(
        name=Path(source).stem,
        source=source,
        layout="json",
        date_text=date.isoformat() if date else "",
        date=date,
        year=date.year if date else None,
        year_source="explicit" if date else None,
        header=(),
        entries=tuple(entries),
    )


def _daily_paper(item: object, rank: int, line: int, source: str) -> tuple[Entry, dt.date | None]:
    def fail(message: str):
        raise InputError(source, line, f"item {rank}: {message}")

    if not isinstance(item, dict):
        fail("expected an object")
    paper = item.get("paper")
    if not isinstance(paper, dict):
        fail("has no 'paper' object")
    title = paper.get("title") or item.get("title")
    if not isinstance(title, str) or not title.strip():
        fail("has no paper title")
    summary = paper.get("summary") or item.get("summary")
    if not isinstance(summary, str) or not summary.strip():
        fail(f"the paper {title.strip()!r} has no summary")

    def field(name: str):
        # Some clients put these on the item rather than on the paper: accept both.
        value = paper.get(name)
        return value if value not in (None, "") else item.get(name)

    authors = tuple(
        " ".join(a["name"].split())
        for a in paper.get("authors") or []
        if isinstance(a, dict) and isinstance(a.get("name"), str) and a["name"].strip()
    )
    arxiv_id = paper.get("id")
    keywords = field("ai_keywords") or []
    published = _date(paper.get("publishedAt"), source, line, rank)
    entry = Entry(
        rank=rank,
        line=line,
        title=" ".join(title.split()),
        abstract=" ".join(summary.split()),
        authors_count=len(authors) if authors else None,
        published=published,
        published_text=published.isoformat() if published else None,
        upvotes=_int(paper.get("upvotes")),
        arxiv_id=arxiv_id if isinstance(arxiv_id, str) and _ARXIV_ID.match(arxiv_id) else None,
        authors=authors,
        github_repo=_text(field("githubRepo")),
        github_stars=_int(field("githubStars")),
        project_page=_text(field("projectPage")),
        ai_summary=_text(field("ai_summary")),
        ai_keywords=tuple(k.strip() for k in keywords if isinstance(k, str) and k.strip()),
    )
    return entry, _date(item.get("publishedAt"), source, line, rank)


def _array_items(text: str, source: str) -> list[tuple[int, object]]:
    """The items of a JSON array, each with the line it starts on."""
    text = text.lstrip("\ufeff")
    decoder = json.JSONDecoder()
    try:
        json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(source, error.lineno, f"invalid JSON: {error.msg}") from None
    index = _skip_space(text, 0)
    if not text.startswith("[", index):
        raise InputError(source, 1, "expected a JSON array of daily papers")
    items = []
    index = _skip_space(text, index + 1)
    while not text.startswith("]", index):
        value, end = decoder.raw_decode(text, index)
        items.append((text.count("\n", 0, index) + 1, value))
        index = _skip_space(text, end)
        if text.startswith(",", index):
            index = _skip_space(text, index + 1)
    return items


def _skip_space(text: str, index: int) -> int:
    while index < len(text) and text[index] in " \t\r\n":
        index += 1
    return index


def _date(value: object, source: str, line: int, rank: int) -> dt.date | None:
    if value in (None, ""):
        return None
    try:
        return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00")).date()
    except ValueError:
        raise InputError(source, line, f"item {rank}: unparseable date {value!r}") from None


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _text(value: object) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None
