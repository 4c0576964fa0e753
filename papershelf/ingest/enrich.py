"""Enrichment: look papers up by title on Hugging Face and arXiv, into a committed cache.

``python build.py enrich`` asks, for each paper without an arXiv id, the Hugging Face
papers search (``GET /api/papers/search?q=TITLE``) and, for a match, the paper record
(``GET /api/papers/{id}``); where Hugging Face has no match, the arXiv API
(``GET /api/query?search_query=ti:"TITLE"``, an Atom feed). Results go to one JSON-lines
file per source in ``content/enrichment/``, which the build reads offline.

- **Matching.** A candidate matches when its normalised title
  (:func:`papershelf.ingest.text.normalise_title`, the key the build merges listings by)
  equals the paper's. One distinct candidate is a match; two or more are ``ambiguous``;
  none is ``not_found``. A near miss ("… 2", a subtitle more) is never a match.
- **The cache.** One JSON object per line, keys sorted, lines sorted by the paper's key
  (its normalised title: the slug can change when another paper's title collides, the key
  cannot), each with ``fetched_at``; written atomically, and only when it changes. A paper
  with a result is not asked again unless ``--refresh`` or ``--older-than`` says so; a
  ``failed`` result is asked again on the next run (a failure is not an answer).
- **Untrusted answers.** Every field is type-checked; a wrong type, a text or list over
  its bound, broken JSON or XML (or an XML document type, which could declare entities) is
  a ``failed`` lookup naming the problem. Text goes through
  :func:`papershelf.ingest.text.clean_text`; URLs other than http(s) are dropped.
- **Politeness.** One request at a time, a delay between requests to each server (1 s for
  Hugging Face, 3 s for arXiv as its terms of use ask, or ``--delay``), retries and limits
  from :mod:`papershelf.ingest.http`, and one deadline for the whole run: when it comes,
  or after :data:`MAX_CONSECUTIVE_FAILURES` failed papers in a row, the run stops and
  keeps what it found (the cache is saved after every paper).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import sqlite3
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

from ..errors import EnrichError, InputError
from .formats import SUFFIXES, read_listing
from .http import DownloadError, Limits, base_url_problem, download
from .text import clean_text, normalise_title, slugify

SOURCES = ("hf", "arxiv")  # asked in this order
SOURCE_NAMES = {"hf": "Hugging Face", "arxiv": "arXiv"}
CACHE_FILES = {"hf": "huggingface.jsonl", "arxiv": "arxiv.jsonl"}
STATUSES = ("matched", "ambiguous", "not_found", "failed")
DEFAULT_CACHE_DIR = "content/enrichment"
DEFAULT_HF_URL = "https://huggingface.co"
DEFAULT_ARXIV_URL = "https://export.arxiv.org"
# arXiv's terms of use ask for one request every three seconds
# (https://info.arxiv.org/help/api/tou.html).
DEFAULT_DELAYS = {"hf": 1.0, "arxiv": 3.0}
DEFAULT_DEADLINE = 3600.0  # seconds for the whole run
DEFAULT_MAX_BYTES = 5_000_000  # per response; a search answer is a few tens of kB
SEARCH_LIMIT = 20  # candidates asked per search
HF_QUERY_LENGTH = 250  # the search's longest query
MAX_TEXT = 20_000  # characters in one text field
MAX_ITEMS = 5_000  # entries in one list (authors of the largest collaborations)
MAX_COUNT = 10**12
MAX_CONSECUTIVE_FAILURES = 3
ARXIV_ID = re.compile(r"\d{4}\.\d{4,5}|[a-z][a-z.-]*/\d{7}")
ATOM = "{http://www.w3.org/2005/Atom}"
ARXIV = "{http://arxiv.org/schemas/atom}"
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


class BadAnswer(Exception):
    """A response that is not what the API documents: the lookup failed."""


@dataclass(frozen=True)
class Paper:
    slug: str
    title: str
    key: str  # the normalised title: the cache's key
    arxiv_id: str | None = None


@dataclass(frozen=True)
class Options:
    sources: tuple[str, ...] = SOURCES
    refresh: bool = False
    older_than: float | None = None  # days
    limit: int | None = None
    delays: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_DELAYS))
    limits: Limits = Limits(4, 1.0, 30.0, DEFAULT_DEADLINE, DEFAULT_MAX_BYTES)
    urls: dict[str, str] = field(
        default_factory=lambda: {"hf": DEFAULT_HF_URL, "arxiv": DEFAULT_ARXIV_URL}
    )


@dataclass
class Summary:
    papers: int = 0  # without an arXiv id, in the selection
    cached: int = 0  # answered before and not due: not asked
    asked: int = 0
    outcomes: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STATUSES, 0))
    matched_by: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SOURCES, 0))
    not_asked: int = 0  # due, but left for a later run (--limit, the deadline, failures)
    stopped: str | None = None  # why the run stopped early
    written: list[Path] = field(default_factory=list)


# ---- The papers to look up ------------------------------------------------------------------


def papers_from_db(db_path: Path) -> list[Paper]:
    """The papers of a built database (opened read-only), sorted by key."""
    if not Path(db_path).is_file():
        raise EnrichError(
            f"{db_path}: no such database; run 'python build.py db' first or pass --listings"
        )
    try:
        connection = sqlite3.connect(f"file:{quote(str(db_path))}?mode=ro", uri=True)
        try:
            rows = connection.execute(
                "select slug, title, title_key, arxiv_id from papers order by title_key"
            ).fetchall()
        finally:
            connection.close()
    except sqlite3.Error as error:
        raise EnrichError(f"{db_path}: cannot read the papers: {error}") from None
    return [Paper(slug, title, key, arxiv_id or None) for slug, title, key, arxiv_id in rows]


def papers_from_listings(listings_dir: Path) -> list[Paper]:
    """The distinct papers of a listings directory, without building the database: one per
    normalised title, the first file's title (by file name), an arXiv id if any has one."""
    directory = Path(listings_dir)
    if not directory.is_dir():
        raise EnrichError(f"{listings_dir}: no such listings directory")
    files = sorted(p for p in directory.iterdir() if p.is_file() and p.suffix.lower() in SUFFIXES)
    papers: dict[str, Paper] = {}
    for path in files:
        try:
            listing = read_listing(path)
        except InputError as error:
            raise EnrichError(str(error)) from None
        for entry in listing.entries:
            key = normalise_title(entry.title)
            known = papers.get(key)
            if known is None:
                papers[key] = Paper(slugify(entry.title, key), entry.title, key, entry.arxiv_id)
            elif entry.arxiv_id and not known.arxiv_id:
                papers[key] = Paper(known.slug, known.title, key, entry.arxiv_id)
    return [papers[key] for key in sorted(papers)]


def select(papers: list[Paper], only: Iterable[str] = ()) -> list[Paper]:
    """The papers without an arXiv id; with ``only``, just those slugs (each must exist)."""
    only = list(only)
    by_slug = {paper.slug: paper for paper in papers}
    for slug in only:
        if slug not in by_slug:
            raise EnrichError(f"--only {slug!r}: no paper has this slug")
    chosen = [by_slug[slug] for slug in dict.fromkeys(only)] if only else papers
    return [paper for paper in chosen if not paper.arxiv_id]


# ---- The cache ------------------------------------------------------------------------------


def read_cache(path: Path) -> dict[str, dict]:
    """The records of one cache file by key; none when the file is absent."""
    return {record["key"]: record for _, record in cache_records(path)}


def cache_records(path: Path) -> Iterator[tuple[int, dict]]:
    """Each record of one cache file with its line number (for messages that name the
    line); nothing when the file is absent. A line that is not a record is an error."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return
    except (OSError, UnicodeDecodeError) as error:
        raise EnrichError(f"{path}: cannot read the cache: {error}") from None
    # Split on newlines only: str.splitlines would also split on U+2028 inside a value.
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as error:
            raise EnrichError(f"{path}:{number}: invalid JSON: {error}") from None
        problem = _record_problem(record)
        if problem:
            raise EnrichError(f"{path}:{number}: {problem}")
        yield number, record


def _record_problem(record: object) -> str | None:
    if not isinstance(record, dict):
        return "expected a JSON object"
    if not isinstance(record.get("key"), str) or not record["key"]:
        return "no 'key' (the paper's normalised title)"
    if record.get("status") not in STATUSES:
        return f"'status' must be one of {', '.join(STATUSES)}"
    if _fetched_at(record) is None:
        return f"'fetched_at' must be a time like {dt.datetime(2025, 8, 14):{TIME_FORMAT}}"
    return None


def _fetched_at(record: dict) -> dt.datetime | None:
    try:
        return dt.datetime.strptime(record.get("fetched_at"), TIME_FORMAT).replace(tzinfo=dt.UTC)
    except (TypeError, ValueError):
        return None


def cache_text(records: dict[str, dict]) -> str:
    """The file's text: one object per line, keys sorted, lines sorted by key."""
    lines = (
        json.dumps(records[key], ensure_ascii=False, sort_keys=True) + "\n"
        for key in sorted(records)
    )
    return "".join(lines)


def write_cache(path: Path, records: dict[str, dict]) -> bool:
    """Write the records atomically (a temporary file beside it, then a rename), only when
    the text changes; whether it was written."""
    text = cache_text(records)
    path = Path(path)
    try:
        if path.read_text(encoding="utf-8") == text:
            return False
    except (OSError, UnicodeDecodeError):
        pass
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as file:
                file.write(text)
            os.replace(temporary, path)
        finally:
            Path(temporary).unlink(missing_ok=True)
    except OSError as error:
        raise EnrichError(f"cannot write {path}: {error.strerror or error}") from None
    return True


# ---- One server, politely -------------------------------------------------------------------


class _Server:
    """One source's server: a delay between its requests, the run's deadline and limits."""

    def __init__(self, source: str, options: Options, ends_at: float, sleep, log):
        self.base = options.urls[source].rstrip("/")
        self.option = f"--{source}-url"
        self.delay, self.limits, self.ends_at = options.delays[source], options.limits, ends_at
        self.sleep, self.log = sleep, log
        self.accept = "application/atom+xml" if source == "arxiv" else "application/json"
        self.last: float | None = None

    def get(self, path: str) -> bytes:
        if self.last is not None:
            wait = self.last + self.delay - time.monotonic()
            if wait > 0:
                self.sleep(wait)
        try:
            body, _ = download(
                self.base + path,
                self.limits,
                accept=self.accept,
                ends_at=self.ends_at,
                url_option=self.option,
                sleep=self.sleep,
                log=self.log,
            )
        finally:
            self.last = time.monotonic()
        return bytes(body)


# ---- Hugging Face ---------------------------------------------------------------------------


def hf_lookup(server: _Server, paper: Paper) -> dict:
    """The record for ``paper`` from the Hugging Face papers search and paper record."""
    query = urlencode({"q": paper.title[:HF_QUERY_LENGTH], "limit": SEARCH_LIMIT})
    answer = _json(server.get(f"/api/papers/search?{query}"))
    if not isinstance(answer, list):
        raise BadAnswer(f"the search answered {_json_type(answer)}, not a list")
    candidates = [_hf_candidate(item, number) for number, item in enumerate(answer, 1)]
    same = _same_title(candidates, paper.key)
    if len(same) != 1:
        return _result(paper, "ambiguous" if same else "not_found", candidates=same)
    arxiv_id = same[0]["arxiv_id"]
    record = _json(server.get(f"/api/papers/{quote(arxiv_id)}"))
    if not isinstance(record, dict):
        raise BadAnswer(f"the paper record is {_json_type(record)}, not an object")
    return _result(paper, "matched", match=_hf_match(_Fields(record, "record"), arxiv_id))


def _hf_candidate(item: object, number: int) -> dict:
    """``{"arxiv_id", "title"}`` of one search result: ``{"paper": {"id", "title", …},
    "title", …}``, the title on the item or on its paper."""
    if not isinstance(item, dict) or not isinstance(item.get("paper"), dict):
        raise BadAnswer(f"search result {number}: expected an object with a 'paper' object")
    paper = _Fields(item["paper"], f"search result {number}: paper")
    arxiv_id = paper.text("id")
    title = paper.text("title") or _Fields(item, f"search result {number}").text("title")
    if not arxiv_id or not ARXIV_ID.fullmatch(arxiv_id):
        raise BadAnswer(f"search result {number}: paper.id is not an arXiv id")
    if not title:
        raise BadAnswer(f"search result {number}: no title")
    return {"arxiv_id": arxiv_id, "title": title}


def _hf_match(record: _Fields, arxiv_id: str) -> dict:
    return _without_empty(
        {
            "arxiv_id": arxiv_id,
            "title": record.text("title"),
            "authors": record.names("authors"),
            "published": record.date("publishedAt"),
            "upvotes": record.count("upvotes"),
            "github_repo": record.url("githubRepo"),
            "github_stars": record.count("githubStars"),
            "project_page": record.url("projectPage"),
            "ai_summary": record.text("ai_summary"),
            "ai_keywords": record.texts("ai_keywords"),
        }
    )


# ---- arXiv ----------------------------------------------------------------------------------


def arxiv_lookup(server: _Server, paper: Paper) -> dict:
    """The record for ``paper`` from an arXiv API title search (an Atom feed)."""
    phrase = paper.key.replace('"', " ").strip()
    if not phrase:
        return _result(paper, "not_found")
    query = urlencode({"search_query": f'ti:"{phrase}"', "start": 0, "max_results": SEARCH_LIMIT})
    feed = _atom(server.get(f"/api/query?{query}"))
    entries = [_arxiv_entry(entry, n) for n, entry in enumerate(feed.iter(f"{ATOM}entry"), 1)]
    for entry in entries:
        if entry.get("error"):
            raise BadAnswer(f"arXiv answered with an error: {entry['error']}")
    same = _same_title(entries, paper.key)
    if len(same) != 1:
        candidates = [{"arxiv_id": e["arxiv_id"], "title": e["title"]} for e in same]
        return _result(paper, "ambiguous" if same else "not_found", candidates=candidates)
    return _result(paper, "matched", match=same[0])


def _atom(body: bytes) -> ET.Element:
    head = body[:4096].lower()
    if b"<!doctype" in head or b"<!entity" in body.lower():
        raise BadAnswer("the feed declares a document type or entities; refused")
    try:
        root = ET.fromstring(body)
    except ET.ParseError as error:
        raise BadAnswer(f"invalid XML: {error}") from None
    if root.tag != f"{ATOM}feed":
        raise BadAnswer("expected an Atom feed")
    return root


def _arxiv_entry(entry: ET.Element, number: int) -> dict:
    """One ``<entry>``: ``<id>http://arxiv.org/abs/ID(vN)</id>``, ``<title>``,
    ``<published>``, ``<updated>``, ``<author><name>``, ``<arxiv:primary_category term>``,
    ``<link title="pdf" href>``; an error is an entry whose id is under ``/api/errors``."""
    where = f"entry {number}"
    entry_id = _element_text(entry, f"{ATOM}id", where)
    if "/api/errors" in entry_id:
        return {"error": _element_text(entry, f"{ATOM}summary", where) or "unknown"}
    match = re.fullmatch(r"https?://(?:www\.)?arxiv\.org/abs/(.+?)(v\d+)?", entry_id)
    if not match or not ARXIV_ID.fullmatch(match[1]):
        raise BadAnswer(f"{where}: <id> is not an arXiv abstract URL")
    title = _element_text(entry, f"{ATOM}title", where)
    if not title:
        raise BadAnswer(f"{where}: no <title>")
    authors = [_element_text(a, f"{ATOM}name", where) for a in entry.findall(f"{ATOM}author")]
    if len(authors) > MAX_ITEMS:
        raise BadAnswer(f"{where}: more than {MAX_ITEMS} authors")
    category = entry.find(f"{ARXIV}primary_category")
    pdf = [link.get("href") for link in entry.findall(f"{ATOM}link") if link.get("title") == "pdf"]
    return _without_empty(
        {
            "arxiv_id": match[1],
            "version": match[2][1:] if match[2] else None,
            "title": title,
            "authors": [a for a in authors if a],
            "published": _date(_element_text(entry, f"{ATOM}published", where), where),
            "updated": _date(_element_text(entry, f"{ATOM}updated", where), where),
            "primary_category": _clean(category.get("term", ""), where)
            if category is not None
            else None,
            "pdf_url": _http_url(_clean(pdf[0] or "", where)) if pdf else None,
        }
    )


def _element_text(parent: ET.Element, tag: str, where: str) -> str:
    child = parent.find(tag)
    return _clean(child.text or "", where) if child is not None else ""


# ---- Checking untrusted values --------------------------------------------------------------


class _Fields:
    """Typed reads of one JSON object from a server: a wrong type is a :class:`BadAnswer`
    naming the field; absent or null is None."""

    def __init__(self, values: dict, where: str):
        self.values, self.where = values, where

    def fail(self, name: str, problem: str):
        raise BadAnswer(f"{self.where}.{name} {problem}")

    def text(self, name: str) -> str | None:
        value = self.values.get(name)
        if value is None:
            return None
        if not isinstance(value, str):
            self.fail(name, f"must be a string, not {_json_type(value)}")
        return _clean(value, f"{self.where}.{name}") or None

    def texts(self, name: str) -> list[str]:
        values = self._list(name)
        if not all(isinstance(value, str) for value in values):
            self.fail(name, "must be a list of strings")
        return [text for value in values if (text := _clean(value, f"{self.where}.{name}"))]

    def names(self, name: str) -> list[str]:
        """``[{"name": "…"}, …]``: the names."""
        values = self._list(name)
        if not all(isinstance(v, dict) and isinstance(v.get("name"), str) for v in values):
            self.fail(name, "must be a list of objects with a string 'name'")
        return [text for v in values if (text := _clean(v["name"], f"{self.where}.{name}"))]

    def _list(self, name: str) -> list:
        values = self.values.get(name)
        if values is None:
            return []
        if not isinstance(values, list):
            self.fail(name, f"must be a list, not {_json_type(values)}")
        if len(values) > MAX_ITEMS:
            self.fail(name, f"has more than {MAX_ITEMS} entries")
        return values

    def count(self, name: str) -> int | None:
        value = self.values.get(name)
        if value is None:
            return None
        if not isinstance(value, int) or isinstance(value, bool):
            self.fail(name, f"must be a whole number, not {_json_type(value)}")
        if not 0 <= value <= MAX_COUNT:
            self.fail(name, "is out of range")
        return value

    def date(self, name: str) -> str | None:
        text = self.text(name)
        return _date(text, f"{self.where}.{name}") if text else None

    def url(self, name: str) -> str | None:
        return _http_url(self.text(name))


def _clean(text: str, where: str) -> str:
    """One line of text: unsafe characters out, whitespace collapsed, length bounded."""
    if len(text) > MAX_TEXT:
        raise BadAnswer(f"{where}: a text longer than {MAX_TEXT} characters")
    return " ".join(clean_text(text)[0].split())


def _date(text: str, where: str) -> str | None:
    """``2025-08-13T17:59:59.000Z`` -> ``2025-08-13``."""
    if not text:
        return None
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).date().isoformat()
    except ValueError:
        raise BadAnswer(f"{where}: {text[:40]!r} is not a date") from None


def _http_url(text: str | None) -> str | None:
    """The URL when it is http(s) with a host and no spaces; None for anything else
    (``javascript:``, ``data:``, a relative path)."""
    if not text or any(c.isspace() for c in text):
        return None
    parts = urlsplit(text)
    return text if parts.scheme.lower() in ("http", "https") and parts.hostname else None


def _json(body: bytes) -> object:
    try:
        return json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise BadAnswer("the answer is not UTF-8") from None
    except (ValueError, RecursionError) as error:
        raise BadAnswer(f"invalid JSON: {str(error)[:200]}") from None


def _json_type(value: object) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "true or false"}
    if value is None:
        return "null"
    return names.get(type(value), "a number")


# ---- Results --------------------------------------------------------------------------------


def _same_title(candidates: list[dict], key: str) -> list[dict]:
    """The candidates whose normalised title is ``key``, one per arXiv id."""
    same: dict[str, dict] = {}
    for candidate in candidates:
        if normalise_title(candidate["title"]) == key:
            same.setdefault(candidate["arxiv_id"], candidate)
    return [same[arxiv_id] for arxiv_id in sorted(same)]


def _result(paper: Paper, status: str, match=None, candidates=(), error=None) -> dict:
    """A cache record without ``fetched_at`` (added when it is stored)."""
    return _without_empty(
        {
            "key": paper.key,
            "title": paper.title,
            "status": status,
            "match": match,
            "candidates": list(candidates) if status == "ambiguous" else None,
            "error": error,
        }
    )


def _without_empty(values: dict) -> dict:
    return {name: value for name, value in values.items() if value not in (None, "", [], {})}


# ---- The run --------------------------------------------------------------------------------

LOOKUPS = {"hf": hf_lookup, "arxiv": arxiv_lookup}


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _no_progress(items: Iterable, label: str) -> Iterator:
    yield from items


def enrich(
    papers: list[Paper],
    cache_dir: Path,
    options: Options = Options(),
    progress: Callable[[Iterable, str], Iterator] = _no_progress,
    sleep: Callable[[float], None] = time.sleep,
    log: Callable[[str], None] = lambda message: None,
    now: Callable[[], dt.datetime] = _utc_now,
) -> Summary:
    """Look up the due papers among ``papers`` and store the results in ``cache_dir``.

    The cache is saved after every paper, so a run that stops (the deadline, failures in a
    row, Ctrl-C) keeps what it found.
    """
    for source in options.sources:
        problem = base_url_problem(options.urls[source], f"--{source}-url")
        if problem:
            raise EnrichError(problem)
    paths = {source: Path(cache_dir) / CACHE_FILES[source] for source in SOURCES}
    caches = {source: read_cache(path) for source, path in paths.items()}
    started = now()
    due = [paper for paper in papers if _wanted(paper, caches, options, started)]
    chosen = due if options.limit is None else due[: options.limit]
    summary = Summary(papers=len(papers), cached=len(papers) - len(due))
    summary.not_asked = len(due) - len(chosen)
    ends_at = time.monotonic() + options.limits.deadline
    servers = {s: _Server(s, options, ends_at, sleep, log) for s in options.sources}
    in_a_row = 0
    for done, paper in enumerate(progress(chosen, "Looking papers up")):
        try:
            outcome = _ask(paper, servers, caches, options, (started, now, log), summary)
        except DownloadError:  # only the deadline reaches here
            summary.stopped = f"the --deadline of {options.limits.deadline:g} s passed"
            summary.not_asked += len(chosen) - done
            break
        summary.asked += 1
        summary.outcomes[outcome] += 1
        _save(paths, caches, summary)
        in_a_row = in_a_row + 1 if outcome == "failed" else 0
        if in_a_row >= MAX_CONSECUTIVE_FAILURES:
            summary.stopped = f"{in_a_row} papers failed in a row"
            summary.not_asked += len(chosen) - done - 1
            break
    return summary


def _wanted(paper: Paper, caches: dict, options: Options, now: dt.datetime) -> bool:
    """Whether some source is to be asked about ``paper``: Hugging Face when its record is
    due; arXiv when Hugging Face has no match and the arXiv record is due."""
    hf_record = caches["hf"].get(paper.key)
    if "hf" in options.sources and _due(hf_record, options, now):
        return True
    hf_matched = hf_record is not None and hf_record["status"] == "matched"
    return (
        "arxiv" in options.sources
        and not hf_matched
        and _due(caches["arxiv"].get(paper.key), options, now)
    )


def _due(record: dict | None, options: Options, now: dt.datetime) -> bool:
    if record is None or options.refresh or record["status"] == "failed":
        return True
    if options.older_than is None:
        return False
    return _fetched_at(record) < now - dt.timedelta(days=options.older_than)


def _ask(paper: Paper, servers: dict, caches: dict, options: Options, clock, summary) -> str:
    """Ask the due sources about ``paper`` (arXiv only without a Hugging Face match), store
    their records in ``caches`` and return the paper's outcome."""
    started, now, log = clock
    statuses = {}
    for source in options.sources:
        record = caches[source].get(paper.key)
        if source == "arxiv" and statuses.get("hf", _status(caches["hf"], paper)) == "matched":
            break
        if _due(record, options, started):
            record = _lookup(source, servers[source], paper, log)
            record["fetched_at"] = now().strftime(TIME_FORMAT)
            caches[source][paper.key] = record
        statuses[source] = record["status"]
    for source, status in statuses.items():
        if status == "matched":
            summary.matched_by[source] += 1
            return "matched"
    for status in ("failed", "ambiguous"):
        if status in statuses.values():
            return status
    return "not_found"


def _status(cache: dict, paper: Paper) -> str | None:
    record = cache.get(paper.key)
    return record["status"] if record else None


def _lookup(source: str, server: _Server, paper: Paper, log) -> dict:
    """One source's record for ``paper``; a failure is a ``failed`` record, except the
    deadline, which is raised for the run to stop."""
    try:
        return LOOKUPS[source](server, paper)
    except BadAnswer as problem:
        error = f"bad response from {server.base}: {problem}"
    except DownloadError as problem:
        if problem.out_of_time:
            raise
        error = str(problem)
    log(f"{paper.slug}: {SOURCE_NAMES[source]}: {error}")
    return _result(paper, "failed", error=error)


def _save(paths: dict[str, Path], caches: dict, summary: Summary) -> None:
    for source, path in paths.items():
        if not caches[source] and not path.exists():
            continue  # a source never asked leaves no empty file
        if write_cache(path, caches[source]) and path not in summary.written:
            summary.written.append(path)


# ---- For the command line -------------------------------------------------------------------


def options_from(
    sources: str,
    refresh: bool = False,
    older_than: float | None = None,
    limit: int | None = None,
    delay: float | None = None,
    limits: Limits = Options.limits,
    hf_url: str = DEFAULT_HF_URL,
    arxiv_url: str = DEFAULT_ARXIV_URL,
) -> Options:
    """The run's options from the command line's values; ``sources`` as ``hf,arxiv``."""
    names = [name.strip() for name in sources.split(",") if name.strip()]
    unknown = [name for name in names if name not in SOURCES]
    if unknown or not names:
        raise EnrichError(f"--sources {sources!r}: give one or both of {', '.join(SOURCES)}")
    delays = dict(DEFAULT_DELAYS) if delay is None else dict.fromkeys(SOURCES, delay)
    return Options(
        sources=tuple(source for source in SOURCES if source in names),
        refresh=refresh,
        older_than=older_than,
        limit=limit,
        delays=delays,
        limits=limits,
        urls={"hf": hf_url, "arxiv": arxiv_url},
    )


def describe(summary: Summary) -> str:
    """What the run did, in a few lines for the terminal."""
    outcomes = summary.outcomes
    by_source = ", ".join(
        f"{count} on {SOURCE_NAMES[source]}" for source, count in summary.matched_by.items()
    )
    lines = [
        f"Looked up {summary.asked} of {summary.papers} papers without an arXiv id "
        f"({summary.cached} answered before): {outcomes['matched']} matched ({by_source}), "
        f"{outcomes['ambiguous']} ambiguous, {outcomes['not_found']} not found, "
        f"{outcomes['failed']} failed."
    ]
    if summary.stopped:
        lines.append(f"Stopped early: {summary.stopped}.")
    if summary.not_asked:
        lines.append(f"{summary.not_asked} papers left for a later run.")
    if summary.written:
        lines.append(f"Wrote {', '.join(str(path) for path in summary.written)}.")
    else:
        lines.append("The cache is unchanged.")
    return "\n".join(lines)
