"""Listing files in every format papershelf reads, by their extension.

- ``.txt``: a copy of the page's text (see :mod:`papershelf.ingest.parse`).
- ``.html`` / ``.htm``: the page saved from the browser. It is converted to Markdown with
  markdownify and then to the same lines a text copy has, so one parser
  (:func:`papershelf.ingest.parse.parse_listing`) reads the entry grammar of both. arXiv ids are
  taken from the title links (``/papers/2403.12345``).
- ``.json``: the array returned by the Hugging Face daily-papers API
  (``GET /api/daily_papers?date=…``), read field by field.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
import sys
from html import escape
from pathlib import Path

from ..errors import InputError, display_path
from .parse import MAX_COUNT, Entry, Listing, ParseWarning, parse_listing
from .text import clean_text, line_at, listing_name, normalise_title

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
    converter = MarkdownConverter(
        heading_style="ATX",
        bullets="*",
        escape_asterisks=False,
        escape_underscores=False,
        escape_misc=False,
    )
    # Three frames per level: room for MAX_HTML_DEPTH levels below the caller's frames.
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 1000 + 4 * MAX_HTML_DEPTH))
    try:
        markdown = converter.convert_soup(soup)
    finally:
        sys.setrecursionlimit(limit)
    lines = []
    for line in markdown.split("\n"):
        line = re.sub(r"^\s{0,3}#{1,6}\s+", "", line)  # headings
        line = re.sub(r"^\s*[*+-]\s+(?=\S)", "", line)  # list items
        lines.append(line.strip())
    return "\n".join(lines) + "\n", ids


# markdownify recurses (three frames) once per level of nesting; real pages nest a few
# dozen levels, and deeper nesting is refused before any tree is built.
MAX_HTML_DEPTH = 256
_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param"}
    | {"source", "track", "wbr"}
)
_HTML_TOKEN = re.compile(
    r"<!--.*?-->|<(script|style)\b.*?</\1\s*>|<(/?)([a-zA-Z][\w:-]*)[^>]*?(/?)>",
    re.DOTALL | re.IGNORECASE,
)


def _check_html_depth(html: str, source: str) -> None:
    """Refuse markup nested deeper than :data:`MAX_HTML_DEPTH`, naming the line, in one
    linear pass over the tags."""
    offset = _too_deep(_HTML_TOKEN.finditer(html), _html_step, MAX_HTML_DEPTH)
    if offset is not None:
        message = f"HTML nested more than {MAX_HTML_DEPTH} elements deep"
        raise InputError(source, line_at(html, offset), message)


def _html_step(match: re.Match) -> int:
    closing, name, self_closing = match.group(2, 3, 4)
    if name is None or name.lower() in _VOID or self_closing:
        return 0
    return -1 if closing else 1


def _too_deep(tokens, step, limit: int) -> int | None:
    """The offset of the first token that nests deeper than ``limit``, if any."""
    depth = 0
    for match in tokens:
        depth += step(match)
        if depth > limit:
            return match.start()
    return None


def parse_html_listing(html: str, source: str, year: int | None = None) -> Listing:
    html, removed = clean_text(html)
    _check_html_depth(html, source)
    text, ids = html_to_text(html)
    to_html = _HtmlLines(html, text)
    try:
        listing = parse_listing(text, source, year=year)
    except InputError as error:
        # Name the line of the HTML file, not of the converted text.
        raise InputError(source, to_html.find(error.line), error.message) from None
    entries = tuple(
        dataclasses.replace(
            entry,
            arxiv_id=ids.get(normalise_title(entry.title)),
            line=to_html.next(entry.line),
        )
        for entry in listing.entries
    )
    warnings = [ParseWarning(r.line, r.describe()) for r in removed] + [
        ParseWarning(to_html.find(w.line), w.message) for w in listing.warnings
    ]
    return dataclasses.replace(listing, layout="html", entries=entries, warnings=tuple(warnings))


class _HtmlLines:
    """Finds the line of the HTML file where a line of the converted text starts.

    :meth:`next` searches forward from the previous answer (entries come in document
    order), so mapping every entry is one pass over the file; :meth:`find` searches
    from the top. A line whose words cannot be found gets the nearest line known."""

    def __init__(self, html: str, text: str):
        self.html, self.lines = html, text.split("\n")
        self.position, self.line = 0, 1  # the cursor of next(), and its line

    def next(self, line: int) -> int:
        match = self._search(line, self.position)
        if match:
            self.line += self.html.count("\n", self.position, match.start())
            self.position = match.start()
        return self.line

    def find(self, line: int | None) -> int:
        match = self._search(line, 0) if line else None
        return line_at(self.html, match.start()) if match else self.line

    def _search(self, line: int | None, start: int) -> re.Match | None:
        wanted = self.lines[line - 1] if line and line <= len(self.lines) else ""
        words = wanted.split()[:4]
        if not words:
            return None
        # A word may be written with entities in the HTML (&amp; for &).
        pattern = r"\s*(?:<[^>]*>\s*)*".join(
            f"(?:{re.escape(word)}|{re.escape(escape(word, quote=False))})" for word in words
        )
        return re.compile(pattern).search(self.html, start)


# ---- The daily-papers JSON -------------------------------------------------------------


def parse_daily_papers(text: str, source: str) -> Listing:
    """A listing from the daily-papers API's JSON array. Unknown fields are ignored; the
    fields read are checked for type and range, and their text is cleaned."""
    text, removed = clean_text(text)
    warnings = [ParseWarning(r.line, r.describe()) for r in removed]
    items = _array_items(text, source)
    if not items:
        raise InputError(source, 1, "no entries found: the JSON array is empty")
    entries = []
    listed_on: list[dt.date] = []
    for rank, (line, item) in enumerate(items, start=1):
        reader = _ItemReader(item, rank, line, source)
        entries.append(reader.entry())
        warnings.extend(reader.warnings)
        if reader.listed_on:
            listed_on.append(reader.listed_on)
    date = max(listed_on) if listed_on else None
    return Listing(
        name=listing_name(Path(source).stem),
        source=source,
        layout="json",
        date_text=date.isoformat() if date else "",
        date=date,
        year=date.year if date else None,
        year_source="explicit" if date else None,
        header=(),
        entries=tuple(entries),
        warnings=tuple(warnings),
    )


class _ItemReader:
    """Reads one item of the array into an :class:`Entry`, checking every field it uses:
    a value of the wrong type or out of range is an error naming the field."""

    def __init__(self, item: object, rank: int, line: int, source: str):
        self.rank, self.line, self.source = rank, line, source
        self.warnings: list[ParseWarning] = []
        if not isinstance(item, dict):
            self.fail("expected an object")
        self.item = item
        paper = item.get("paper")
        if not isinstance(paper, dict):
            self.fail("has no 'paper' object")
        self.paper = paper
        self.listed_on = self.date(item.get("publishedAt"), "publishedAt")

    def fail(self, message: str):
        raise InputError(self.source, self.line, f"item {self.rank}: {message}")

    def entry(self) -> Entry:
        title = self.text("title")
        if not title:
            self.fail("has no paper title")
        summary = self.text("summary")
        if not summary:
            self.fail(f"the paper {title!r} has no summary")
        authors = self.authors()
        published = self.date(self.paper.get("publishedAt"), "paper.publishedAt")
        arxiv_id = self.text("id", on_item=False)
        return Entry(
            rank=self.rank,
            line=self.line,
            title=title,
            abstract=summary,
            authors_count=len(authors) if authors else None,
            published=published,
            published_text=published.isoformat() if published else None,
            upvotes=self.count("upvotes", on_item=False),
            arxiv_id=arxiv_id if arxiv_id and _ARXIV_ID.match(arxiv_id) else None,
            authors=authors,
            github_repo=self.text("githubRepo"),
            github_stars=self.count("githubStars"),
            project_page=self.text("projectPage"),
            ai_summary=self.text("ai_summary"),
            ai_keywords=self.keywords(),
        )

    def value(self, name: str, on_item: bool = True) -> tuple[str, object]:
        """The field and where it was found; some clients put fields on the item rather
        than on the paper: both are accepted."""
        value = self.paper.get(name)
        if value not in (None, "") or not on_item:
            return f"paper.{name}", value
        return name, self.item.get(name)

    def text(self, name: str, on_item: bool = True) -> str | None:
        field, value = self.value(name, on_item)
        if value is None:
            return None
        if not isinstance(value, str):
            self.fail(f"{field} must be a string, not {_json_type(value)}")
        return self.clean(value, field) or None

    def count(self, name: str, on_item: bool = True) -> int | None:
        field, value = self.value(name, on_item)
        if value is None:
            return None
        if not isinstance(value, int) or isinstance(value, bool):
            self.fail(f"{field} must be a whole number, not {_json_type(value)}")
        if not 0 <= value <= MAX_COUNT:
            shown = value if abs(value) < 10**30 else f"a number of {len(str(abs(value)))} digits"
            self.fail(f"{field} {shown} is out of range")
        return value

    def authors(self) -> tuple[str, ...]:
        authors = self.paper.get("authors")
        if authors is None:
            return ()
        if not isinstance(authors, list):
            self.fail(f"paper.authors must be a list, not {_json_type(authors)}")
        names = []
        for position, author in enumerate(authors, start=1):
            field = f"paper.authors[{position}]"
            if not isinstance(author, dict) or not isinstance(author.get("name"), str):
                self.fail(f"{field} must be an object with a string 'name'")
            name = self.clean(author["name"], field)
            if name:
                names.append(name)
        return tuple(names)

    def keywords(self) -> tuple[str, ...]:
        field, keywords = self.value("ai_keywords")
        if keywords is None:
            return ()
        if not isinstance(keywords, list) or not all(isinstance(k, str) for k in keywords):
            self.fail(f"{field} must be a list of strings")
        cleaned = (self.clean(k, field) for k in keywords)
        return tuple(k for k in cleaned if k)

    def clean(self, value: str, field: str) -> str:
        """One line of text: unsafe characters out (reported), whitespace collapsed."""
        value, removed = clean_text(value)
        if removed:
            count = sum(len(r.characters) for r in removed)
            what = "character" if count == 1 else "characters"
            self.warnings.append(
                ParseWarning(
                    self.line,
                    f"item {self.rank}: {field}: replaced or removed {count} control or "
                    f"invalid {what}",
                )
            )
        return " ".join(value.split())

    def date(self, value: object, field: str) -> dt.date | None:
        if value in (None, ""):
            return None
        if not isinstance(value, str):
            self.fail(f"{field} must be a date string, not {_json_type(value)}")
        try:
            return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).date()
        except ValueError:
            self.fail(f"unparseable date {value[:40]!r}")


def _json_type(value: object) -> str:
    names = {bool: "a boolean", int: "a number", float: "a number", str: "a string"}
    names |= {list: "a list", dict: "an object"}
    return names.get(type(value), type(value).__name__)


# Deeper than this, a daily-papers file is not what the API returns (it nests 4 levels).
MAX_JSON_DEPTH = 64
_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def _check_depth(text: str, source: str) -> None:
    """Refuse deep nesting before the (recursive) JSON decoder meets it, naming the line."""
    offset = _too_deep(_JSON_TOKEN.finditer(text), _json_step, MAX_JSON_DEPTH)
    if offset is not None:
        message = f"JSON nested more than {MAX_JSON_DEPTH} levels deep"
        raise InputError(source, line_at(text, offset), message)


def _json_step(match: re.Match) -> int:
    return {"[": 1, "{": 1, "]": -1, "}": -1}.get(match.group(), 0)  # strings: 0


_STRING_OR_LONG_NUMBER = re.compile(r'"(?:[^"\\]|\\.)*"|\d{1000,}')


def _long_number_line(text: str) -> int:
    for match in _STRING_OR_LONG_NUMBER.finditer(text):
        if not match.group().startswith('"'):
            return line_at(text, match.start())
    return 1


def _array_items(text: str, source: str) -> list[tuple[int, object]]:
    """The items of a JSON array, each with the line it starts on."""
    text = text.lstrip("\ufeff")
    _check_depth(text, source)
    # strict=False: a raw tab or newline inside a string is text, not an error.
    decoder = json.JSONDecoder(strict=False)
    try:
        decoder.decode(text)
    except json.JSONDecodeError as error:
        raise InputError(source, error.lineno, f"invalid JSON: {error.msg}") from None
    except ValueError:  # a number longer than Python converts (sys.get_int_max_str_digits)
        raise InputError(source, _long_number_line(text), "a number is too long") from None
    index = _skip_space(text, 0)
    if not text.startswith("[", index):
        raise InputError(source, 1, "expected a JSON array of daily papers")
    items = []
    line, counted = 1, 0  # newlines are counted once, forward: linear in the file
    index = _skip_space(text, index + 1)
    while not text.startswith("]", index):
        value, end = decoder.raw_decode(text, index)
        line += text.count("\n", counted, index)
        counted = index
        items.append((line, value))
        index = _skip_space(text, end)
        if text.startswith(",", index):
            index = _skip_space(text, index + 1)
    return items


def _skip_space(text: str, index: int) -> int:
    while index < len(text) and text[index] in " \t\r\n":
        index += 1
    return index
