"""A seeded mutation fuzzer over the listings, for the promises of issue 12.

Each case takes one real listing or fixture (text, saved HTML or daily-papers JSON),
applies one or two mutations chosen by ``random.Random(f"{seed}-{number}")`` (so any case
can be rebuilt from its seed and number alone), puts it in a listings directory, sometimes
beside an unmutated real listing, and builds it. The promises checked per case:

- the build succeeds, or fails with ``Error: <file>:<line>: …`` naming the mutated file and
  a line it has, and no traceback;
- on failure the previous database is byte for byte what it was;
- a mutation that only changes whitespace (line endings, trailing spaces, blank lines)
  gives the same papers (slug, title, abstract) as the unmutated file.

Most cases are built in process (read, merge, match topics, write an in-memory database:
the stages where input can fail); every ``cli_every``-th case goes through the real
``db`` command, whose related-papers process costs about a second.

Run thousands of cases with ``python -m tests.fuzzing --cases 5000 --seed 1 --out DIR``;
rebuild one case with ``--case N`` (its files are written under ``--out``).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures"
TOPICS = REPO / "content" / "topics.yml"
REAL_LISTINGS = tuple(sorted((REPO / "content" / "listings").glob("*.txt")))
TEXT_SOURCES = REAL_LISTINGS + tuple(sorted(FIXTURES.glob("*.txt")))
SOURCES = {
    "txt": TEXT_SOURCES,
    "html": (FIXTURES / "daily.html",),
    "json": (FIXTURES / "daily_papers.json",),
}
# Text listings are the most varied (two layouts, real and crafted), so half the cases.
FORMAT_WEIGHTS = {"txt": 2, "html": 1, "json": 1}
DEFAULT_CASES = 300
DEFAULT_CLI_EVERY = 25
# How many failing cases a report spells out, and how many a run saves.
SHOWN_FAILURES = 8

# ---- Characters the mutations insert -------------------------------------------------------

C0 = [chr(c) for c in (*range(0x00, 0x09), *range(0x0E, 0x20))]
C1 = [chr(c) for c in range(0x80, 0xA0)]
CONTROLS = C0 + ["\x7f"] + C1 + ["\ufffe", "\uffff", "\x1b[31m"]
BIDI = ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"]
BIDI += ["\u200e", "\u200f", "\u061c"]
ZERO_WIDTH = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"]
LINE_LIKE = ["\u2028", "\u2029", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85"]
JSON_ESCAPES = ["\\u0000", "\\u001b", "\\u007f", "\\u0085", "\\u009f", "\\ud800", "\\udfff"]
JSON_ESCAPES += ["\\ufffe", "\\uffff", "\\u202e", "\\u2028", "\\u200b", "\\udc00\\ud800"]
HUGE_COUNTS = ["99999999999999999999999", str(2**63 - 1), str(2**63), str(2**64), "9" * 5000]
# The listing's own date, alone on its line (``Mar 14``).
LISTING_DATE = re.compile(r"^(?P<month>[A-Z][a-z]{2,8})\.? (?P<day>\d{1,2})$", re.MULTILINE)
ENTRY_DATE = re.compile(r"^([A-Z][a-z]{2,8}\.? \d{1,2}(?:, \d{4})?)(?: \d+)?$", re.MULTILINE)
DEEP = 5000


# ---- Mutations ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Mutation:
    name: str
    apply: Callable[[random.Random, str], str | bytes]
    formats: tuple[str, ...] = ("txt", "html", "json")
    whitespace_only: bool = False
    # Formats in which a build that succeeds must keep every entry: the mutation changes
    # no entry's shape, so an entry lost is an entry silently dropped.
    keeps_entries: tuple[str, ...] = ()


def _lines(text: str) -> list[str]:
    return text.split("\n")


def _insert_in_lines(rng: random.Random, text: str, pieces: list[str], count: int) -> str:
    """``count`` pieces inserted at random places in random non-blank lines, where titles,
    abstracts and dates are."""
    lines = _lines(text)
    filled = [i for i, line in enumerate(lines) if line.strip()] or [0]
    for _ in range(count):
        index = rng.choice(filled)
        line = lines[index]
        at = rng.randrange(len(line) + 1)
        lines[index] = line[:at] + rng.choice(pieces) + line[at:]
    return "\n".join(lines)


def _inserting(pieces: list[str]) -> Callable[[random.Random, str], str]:
    return lambda rng, text: _insert_in_lines(rng, text, pieces, rng.randint(1, 5))


def delete_lines(rng: random.Random, text: str) -> str:
    lines = _lines(text)
    start = rng.randrange(len(lines))
    del lines[start : start + rng.randint(1, 3)]
    return "\n".join(lines)


def duplicate_lines(rng: random.Random, text: str) -> str:
    lines = _lines(text)
    start = rng.randrange(len(lines))
    block = lines[start : start + rng.randint(1, 5)]
    at = rng.randrange(len(lines) + 1)
    return "\n".join(lines[:at] + block + lines[at:])


def swap_lines(rng: random.Random, text: str) -> str:
    lines = _lines(text)
    a, b = rng.randrange(len(lines)), rng.randrange(len(lines))
    lines[a], lines[b] = lines[b], lines[a]
    return "\n".join(lines)


def truncate(rng: random.Random, text: str) -> str:
    return text[: rng.choice([0, 1, rng.randrange(len(text) + 1)])]


def flip_bytes(rng: random.Random, text: str) -> bytes:
    data = bytearray(text.encode("utf-8", "surrogateescape"))
    for _ in range(rng.randint(1, 3)):
        at = rng.randrange(len(data) + 1)
        if rng.random() < 0.5 and at < len(data):
            data[at] ^= rng.choice([0x80, 0xFF, 1 << rng.randrange(8)])
        else:  # a byte no UTF-8 has, a lone lead byte, an encoded surrogate
            data[at:at] = rng.choice([b"\xff", b"\xc3", b"\xe2\x80", b"\xed\xa0\x80", b"\x80"])
    return bytes(data)


def line_endings(rng: random.Random, text: str) -> str:
    kind = rng.choice(["\r\n", "\r", "mixed"])
    if kind != "mixed":
        return text.replace("\n", kind)
    lines = _lines(text)
    out = []
    for line, following in zip(lines, lines[1:], strict=False):
        # A lone CR before an empty line that ends in LF would read as one CRLF break:
        # that changes the text, not only its whitespace.
        endings = ["\n", "\r\n"] if not following else ["\n", "\r\n", "\r"]
        out.append(line + rng.choice(endings))
    return "".join(out) + lines[-1]


def trailing_spaces(rng: random.Random, text: str) -> str:
    return "\n".join(
        line + rng.choice(["", " ", "  ", "\t", " \t "]) if rng.random() < 0.5 else line
        for line in _lines(text)
    )


def extra_blank_lines(rng: random.Random, text: str) -> str:
    """Blank lines doubled (a blank line added inside a paragraph would split it)."""
    lines = _lines(text)
    out = []
    for line in lines:
        out.append(line)
        if not line.strip() and rng.random() < 0.3:
            out.extend([rng.choice(["", "  ", "\t"])] * rng.randint(1, 3))
    return "\n".join(out)


def huge_upvotes(rng: random.Random, text: str) -> str:
    """An entry's date line (or an HTML page's upvote count) with a count out of range."""
    count = rng.choice(HUGE_COUNTS)
    html_counts = list(re.finditer(r'(<span class="upvotes">)\d+(</span>)', text))
    if html_counts:
        match = rng.choice(html_counts)
        return text[: match.start()] + match[1] + count + match[2] + text[match.end() :]
    dates = list(ENTRY_DATE.finditer(text))
    if not dates:
        return text + f"\nMar 27, 2024 {count}\n"
    match = rng.choice(dates)
    return text[: match.start()] + f"{match[1]} {count}" + text[match.end() :]


def _listing_date(text: str) -> re.Match | None:
    """The listing's own date line, in a text copy or in a saved page's header."""
    match = re.search(r"(<time datetime=\"[^\"]*\">)([^<]*)(</time>)", text)
    return match if match else LISTING_DATE.search(text)


def duplicate_listing_date(rng: random.Random, text: str) -> str:
    date = _listing_date(text)
    if date is None:
        return text
    lines = _lines(text)
    at = rng.randrange(len(lines) + 1)
    return "\n".join(lines[:at] + [date[0]] + lines[at:])


def alter_listing_date(rng: random.Random, text: str) -> str:
    """The listing's date removed, given a year, marked with an invisible character or
    moved below the first entries."""
    date = _listing_date(text)
    if date is None:
        return text
    shown = date[2] if date.re.groups == 3 else date[0]
    how = rng.choice(["delete", "year", "zero-width", "move"])
    if how == "move":
        before, after = text[: date.start()], text[date.end() :]
        lines = _lines(after)
        at = rng.randrange(len(lines) + 1)
        return before + "\n".join(lines[:at] + [date[0]] + lines[at:])
    new = {
        "delete": "",
        "year": f"{shown}, 2024",
        "zero-width": shown.replace(" ", " " + rng.choice(ZERO_WIDTH)),
    }[how]
    replaced = date[0].replace(shown, new) if date.re.groups == 3 else new
    return text[: date.start()] + replaced + text[date.end() :]


# JSON: wrong types, ranges and nesting, written as raw text where json.dumps cannot.

WRONG_VALUES = [
    "a string",
    "",
    "12",
    42,
    -1,
    1.5,
    True,
    None,
    {"name": "x"},
    [1, 2],
    [["nested"]],
    [{"name": 7}],
    2**63,
    2**64,
    -(2**63) - 1,
    "raw:1e400",
    "raw:-0",
    "raw:NaN",
    "raw:Infinity",
    "raw:" + "9" * 5000,
    "raw:" + "[" * DEEP + "]" * DEEP,
    "raw:" + '{"a":' * DEEP + "1" + "}" * DEEP,
]
JSON_FIELDS = ["authors", "ai_keywords", "upvotes", "githubStars", "title", "summary", "id"]
JSON_FIELDS += ["publishedAt", "githubRepo", "projectPage", "ai_summary", "paper"]


def _dump_with_raw(items: object) -> str:
    """JSON with ``"raw:…"`` strings replaced by their text (huge numbers, deep nesting)."""
    raw: list[str] = []

    def mark(value):
        if isinstance(value, str) and value.startswith("raw:"):
            raw.append(value[4:])
            return f"__RAW_{len(raw) - 1}__"
        if isinstance(value, dict):
            return {k: mark(v) for k, v in value.items()}
        if isinstance(value, list):
            return [mark(v) for v in value]
        return value

    text = json.dumps(mark(items), indent=2, ensure_ascii=False)
    for number, value in enumerate(raw):
        text = text.replace(f'"__RAW_{number}__"', value)
    return text


def _items(text: str) -> list:
    """The items of a JSON listing; those of the fixture when an earlier mutation broke it."""
    try:
        items = json.loads(text)
    except (ValueError, RecursionError):
        items = json.loads(SOURCES["json"][0].read_text(encoding="utf-8"))
    return items if isinstance(items, list) and items else [{"paper": {}}]


def json_wrong_type(rng: random.Random, text: str) -> str:
    items = _items(text)
    item = rng.choice(items)
    value = rng.choice(WRONG_VALUES)
    name = rng.choice(JSON_FIELDS)
    paper = item.get("paper", item) if isinstance(item, dict) else item
    target = item if name == "paper" or rng.random() < 0.2 else paper
    if isinstance(target, dict):
        target[name] = value
    return _dump_with_raw(items)


def json_escapes(rng: random.Random, text: str) -> str:
    """Escapes of control characters, non-characters and lone surrogates inside strings."""
    starts = [m.end() for m in re.finditer(r'":\s*"', text)] or [0]
    for _ in range(rng.randint(1, 4)):
        at = rng.choice(starts) + rng.randrange(4)
        text = text[:at] + rng.choice(JSON_ESCAPES) + text[at:]
        starts = [m.end() for m in re.finditer(r'":\s*"', text)] or [0]
    return text


def json_duplicate_item(rng: random.Random, text: str) -> str:
    """An item repeated, as is or with another arXiv id (so one title, two papers)."""
    items = _items(text)
    copy = json.loads(json.dumps(rng.choice(items)))
    if rng.random() < 0.6 and isinstance(copy.get("paper"), dict):
        copy["paper"]["id"] = rng.choice(["2501.00001", "9999.99999", "not-an-id"])
    items.insert(rng.randrange(len(items) + 1), copy)
    return _dump_with_raw(items)


def json_shape(rng: random.Random, text: str) -> str:
    return rng.choice(["[]", "{}", "null", "[null]", "[[]]", '"text"', "[" * DEEP, "[{}]"])


def html_deep_nesting(rng: random.Random, text: str) -> str:
    tag = rng.choice(["div", "span", "p", "b", "section"])
    deep = f"<{tag}>" * DEEP + "deep" + (f"</{tag}>" * DEEP if rng.random() < 0.5 else "")
    return _insert_in_lines(rng, text, [deep], 1)


def html_unclosed_tags(rng: random.Random, text: str) -> str:
    closing = list(re.finditer(r"</[a-z0-9]+>", text))
    for match in sorted(
        rng.sample(closing, min(len(closing), rng.randint(1, 6))), key=lambda m: -m.start()
    ):
        text = text[: match.start()] + text[match.end() :]
    return _insert_in_lines(rng, text, ["<div>", "<p>", "<b>", "<a href='/papers/2401.0'>"], 2)


TEXT_AND_JSON = ("txt", "json")
ALL = ("txt", "html", "json")
MUTATIONS = (
    Mutation("delete lines", delete_lines),
    Mutation("duplicate lines", duplicate_lines),
    Mutation("swap lines", swap_lines),
    Mutation("truncate", truncate),
    Mutation("insert control characters", _inserting(CONTROLS), keeps_entries=TEXT_AND_JSON),
    Mutation("insert bidirectional characters", _inserting(BIDI), keeps_entries=TEXT_AND_JSON),
    Mutation("insert zero-width characters", _inserting(ZERO_WIDTH), keeps_entries=TEXT_AND_JSON),
    Mutation("insert line-like separators", _inserting(LINE_LIKE), keeps_entries=TEXT_AND_JSON),
    Mutation("flip bytes", flip_bytes),
    Mutation("line endings", line_endings, whitespace_only=True, keeps_entries=ALL),
    Mutation("trailing spaces", trailing_spaces, whitespace_only=True, keeps_entries=ALL),
    Mutation("extra blank lines", extra_blank_lines, whitespace_only=True, keeps_entries=ALL),
    Mutation("huge upvotes", huge_upvotes, ("txt", "html"), keeps_entries=ALL),
    Mutation("duplicate listing date", duplicate_listing_date, ("txt", "html"), keeps_entries=ALL),
    Mutation("alter listing date", alter_listing_date, ("txt", "html"), keeps_entries=ALL),
    Mutation("json wrong type", json_wrong_type, ("json",), keeps_entries=ALL),
    Mutation("json escapes", json_escapes, ("json",), keeps_entries=ALL),
    Mutation("json duplicate item", json_duplicate_item, ("json",)),
    Mutation("json shape", json_shape, ("json",)),
    Mutation("html deep nesting", html_deep_nesting, ("html",)),
    Mutation("html unclosed tags", html_unclosed_tags, ("html",)),
)


# ---- Cases -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    seed: int
    number: int
    source: Path  # the file mutated
    mutations: tuple[str, ...]
    data: bytes  # the mutated file
    companion: Path | None  # an unmutated real listing beside it, or None
    whitespace_only: bool
    keeps_entries: bool

    @property
    def name(self) -> str:
        return self.source.name

    def describe(self) -> str:
        beside = f" beside {self.companion.name}" if self.companion else ""
        return (
            f"seed {self.seed} case {self.number}: {' + '.join(self.mutations)} "
            f"on {self.name}{beside}"
        )

    def reproduce(self) -> str:
        return f"python -m tests.fuzzing --seed {self.seed} --case {self.number} --out DIR"


def make_case(seed: int, number: int) -> Case:
    """Case ``number`` of ``seed``: the same bytes on every machine and every run."""
    rng = random.Random(f"{seed}-{number}")
    fmt = rng.choices(list(FORMAT_WEIGHTS), weights=list(FORMAT_WEIGHTS.values()))[0]
    source = rng.choice(SOURCES[fmt])
    applicable = [m for m in MUTATIONS if fmt in m.formats]
    chosen = [rng.choice(applicable) for _ in range(2 if rng.random() < 0.2 else 1)]
    text: str | bytes = source.read_text(encoding="utf-8")
    for mutation in chosen:
        if isinstance(text, bytes):  # flipped bytes: go on with what still decodes
            text = text.decode("utf-8", "surrogateescape")
        try:
            text = mutation.apply(rng, text)
        except Exception as error:  # a bug of the fuzzer's own: say which case shows it
            raise RuntimeError(f"seed {seed} case {number}: {mutation.name} failed") from error
    data = text if isinstance(text, bytes) else _encode(text)
    others = [path for path in REAL_LISTINGS if path != source]
    companion = rng.choice(others) if rng.random() < 0.3 else None
    return Case(
        seed=seed,
        number=number,
        source=source,
        mutations=tuple(m.name for m in chosen),
        data=data,
        companion=companion,
        whitespace_only=all(m.whitespace_only for m in chosen),
        keeps_entries=all(fmt in m.keeps_entries for m in chosen),
    )


def _encode(text: str) -> bytes:
    """UTF-8, with the bytes flip_bytes made back as they were and any other lone
    surrogate (from a JSON escape written out raw) as the invalid bytes it stands for."""
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")


def write_listings(case: Case, directory: Path) -> Path:
    """The case's listings directory: the mutated file and its companion, if any."""
    listings = directory / "listings"
    shutil.rmtree(listings, ignore_errors=True)
    listings.mkdir(parents=True)
    (listings / case.name).write_bytes(case.data)
    if case.companion:
        shutil.copy(case.companion, listings / case.companion.name)
    return listings


# ---- Building a case and checking the promises ------------------------------------------


# What varies between two cases of one failure: quoted text, paths, numbers.
_VARYING = ((r"'[^']*'|\"[^\"]*\"", "'…'"), (r"/\S+", "PATH"), (r"\d+", "N"))


@dataclass
class Outcome:
    case: Case
    status: str  # "built", "error" (a clean one), "crash" (a traceback) or "broken"
    detail: str  # the error message, the exception or the broken promise
    seconds: float = 0.0
    via_cli: bool = False
    saved: Path | None = None  # where the case's files were saved, when it failed

    @property
    def failed(self) -> bool:
        return self.status in ("crash", "broken")

    @property
    def crash_class(self) -> str:
        """What distinct failures have in common: the exception and its message's head."""
        head = self.detail.splitlines()[0] if self.detail else ""
        for pattern, placeholder in _VARYING:
            head = re.sub(pattern, placeholder, head)
        return f"{self.status}: {head[:90]}"

    def describe(self) -> str:
        path = "the db command" if self.via_cli else "read, merge, topics, write"
        lines = [f"{self.case.describe()} ({path}): {self.status}: {self.detail}"]
        if self.saved:
            lines.append(f"  files saved in {self.saved}")
        lines.append(f"  reproduce: {self.case.reproduce()}")
        return "\n".join(lines)


def _line_count(data: bytes) -> int:
    """Lines as an editor counts them: ``\\n``, ``\\r\\n`` and ``\\r`` end a line."""
    return len(re.split(rb"\r\n|\r|\n", data))


def check_error(case: Case, path: str | None, line: int | None) -> str | None:
    """What is wrong with an error naming ``path`` and ``line``, or None."""
    if path is None or Path(path).name != case.name:
        return f"the error names {path!r}, not the mutated file {case.name}"
    if line is None:
        return "the error names no line"
    if not 1 <= line <= _line_count(case.data):
        return f"the error names line {line}; the file has {_line_count(case.data)}"
    return None


@lru_cache(maxsize=64)
def expected_papers(source: Path, companion: Path | None) -> frozenset:
    """(slug, title, abstract) of the unmutated files: what whitespace must not change."""
    from papershelf.collection.papers import merge_listings
    from papershelf.ingest.formats import read_listing

    paths = [source] + ([companion] if companion else [])
    papers, _ = merge_listings([read_listing(path) for path in paths])
    return frozenset((p.slug, p.title, p.abstract) for p in papers)


@lru_cache(maxsize=64)
def expected_entries(source: Path) -> int:
    from papershelf.ingest.formats import read_listing

    return len(read_listing(source).entries)


def _dropped_problem(case: Case, entries: int | None) -> str | None:
    """Entries lost by a build that succeeded, after a mutation that changes none."""
    expected = expected_entries(case.source)
    if not case.keeps_entries or entries == expected:
        return None
    return f"the build succeeded with {entries} entries of {case.name}, not {expected}"


def _whitespace_problem(case: Case, papers: frozenset) -> str | None:
    expected = expected_papers(case.source, case.companion)
    if not case.whitespace_only or papers == expected:
        return None
    lost, gained = sorted(expected - papers), sorted(papers - expected)
    example = (lost or gained)[0][:2]
    return (
        f"a whitespace-only change gave other papers: {len(lost)} lost, {len(gained)} new "
        f"(e.g. {'lost' if lost else 'new'} {example!r})"
    )


def _crash(error: BaseException) -> str:
    frames = traceback.extract_tb(error.__traceback__)
    where = f" at {Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else ""
    return f"{type(error).__name__}: {str(error)[:200]}{where}"


def build_in_process(case: Case, directory: Path) -> Outcome:
    """The stages where input can fail, without the related-papers process."""
    import sqlite_utils

    from papershelf.collection.papers import merge_listings
    from papershelf.collection.topics import TopicRules
    from papershelf.errors import InputError
    from papershelf.ingest.formats import read_listing
    from papershelf.store.database import write_collection, write_topic_matches
    from papershelf.store.pipeline import check_foreign_keys
    from papershelf.store.schema import ensure_db_shape

    listings_dir = write_listings(case, directory)
    try:
        listings = [read_listing(path) for path in sorted(listings_dir.iterdir())]
        papers, _ = merge_listings(listings)
        db = sqlite_utils.Database(memory=True)
        ensure_db_shape(db, indexes=False)
        db.execute("pragma foreign_keys = off")  # checked once at the end, as the stage does
        members = write_topic_matches(db, TopicRules(_topics()), papers)
        write_collection(db, listings, papers, _topics(), members)
        check_foreign_keys(db, "papers.db")
        db.close()
    except InputError as error:
        problem = check_error(case, error.path, error.line)
        return Outcome(case, "broken" if problem else "error", problem or str(error))
    except Exception as error:  # any other exception is what the fuzzer looks for
        return Outcome(case, "crash", _crash(error))
    mutated = next(listing for listing in listings if Path(listing.source).name == case.name)
    problem = _whitespace_problem(
        case, frozenset((p.slug, p.title, p.abstract) for p in papers)
    ) or _dropped_problem(case, len(mutated.entries))
    return Outcome(case, "broken" if problem else "built", problem or f"{len(papers)} papers")


@lru_cache(maxsize=1)
def _topics():
    from papershelf.collection.topics import load_topics

    return load_topics(TOPICS)


ERROR_LINE = re.compile(r"^Error: (?P<path>.+?):(?P<line>\d+): ", re.MULTILINE)


def build_with_cli(case: Case, directory: Path, previous_db: bytes) -> Outcome:
    """The real ``db`` command, into a path that holds a previous good database."""
    import sqlite_utils
    from click.testing import CliRunner

    from papershelf.cli import cli

    listings_dir = write_listings(case, directory)
    db_path = directory / "papers.db"
    db_path.write_bytes(previous_db)
    arguments = ["db", "--listings", str(listings_dir), "--topics", str(TOPICS)]
    result = CliRunner().invoke(cli, arguments + ["--db", str(db_path)])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        return Outcome(case, "crash", _crash(result.exception), via_cli=True)
    if "Traceback" in result.output:
        return Outcome(case, "crash", "a traceback in the output", via_cli=True)
    if result.exit_code == 0:
        return _cli_built(case, sqlite_utils.Database(db_path))
    return _cli_error(case, result, db_path, previous_db)


def _cli_built(case: Case, db) -> Outcome:
    papers = db.execute("select slug, title, abstract from papers").fetchall()
    entries = db.execute("select entries from listings where filename = ?", [case.name])
    problem = _whitespace_problem(case, frozenset(papers)) or _dropped_problem(
        case, (entries.fetchone() or [None])[0]
    )
    db.close()
    return Outcome(case, "broken" if problem else "built", problem or "", via_cli=True)


def _cli_error(case: Case, result, db_path: Path, previous_db: bytes) -> Outcome:
    message = result.output.strip().splitlines()[-1] if result.output.strip() else ""
    match = ERROR_LINE.search(result.output)
    if result.exit_code != 1:
        problem = f"exit code {result.exit_code}: {message}"
    elif not db_path.exists() or db_path.read_bytes() != previous_db:
        problem = "the previous database changed on error"
    elif match is None:
        problem = f"no 'Error: <file>:<line>: ' message: {message[:200]}"
    else:
        problem = check_error(case, match["path"], int(match["line"]))
    return Outcome(case, "broken" if problem else "error", problem or message, via_cli=True)


def good_database(directory: Path) -> bytes:
    """A database built from the rich fixture: the previous build every CLI case must keep
    byte for byte when it fails."""
    from papershelf.store.pipeline import build_database

    path = directory / "previous.db"
    build_database(_one_listing(directory), TOPICS, path)
    return path.read_bytes()


def _one_listing(directory: Path) -> Path:
    listings = directory / "previous-listings"
    listings.mkdir(parents=True, exist_ok=True)
    shutil.copy(FIXTURES / "rich.txt", listings / "rich.txt")
    return listings


def save_case(case: Case, outcome: Outcome, out: Path) -> Path:
    """The case's listings and a note on how it failed, under ``out``."""
    directory = out / f"seed{case.seed}-case{case.number}"
    listings = write_listings(case, directory)
    (directory / "README.txt").write_text(
        f"{outcome.describe()}\n\nbuild it: python build.py db --listings {listings} "
        f"--db {directory / 'papers.db'}\n",
        encoding="utf-8",
    )
    return directory


# ---- A run of many cases -------------------------------------------------------------------


@dataclass
class Report:
    seed: int
    outcomes: list[Outcome] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for outcome in self.outcomes if outcome.status == status)

    @property
    def failures(self) -> list[Outcome]:
        return [outcome for outcome in self.outcomes if outcome.failed]

    def summary(self) -> str:
        slowest = max(self.outcomes, key=lambda outcome: outcome.seconds)
        cli = [outcome for outcome in self.outcomes if outcome.via_cli]
        seconds = sum(outcome.seconds for outcome in self.outcomes)
        cli_seconds = sum(outcome.seconds for outcome in cli)
        return (
            f"fuzzing seed {self.seed}: {len(self.outcomes)} cases tried in {seconds:.0f} s "
            f"({len(cli)} through the db command, {cli_seconds:.0f} s), "
            f"{self.count('built')} built, {self.count('error')} clean errors, "
            f"{self.count('crash')} crashes, {self.count('broken')} other broken promises; "
            f"slowest {slowest.seconds:.2f} s ({slowest.case.describe()})"
        )

    def describe_failures(self) -> str:
        """Each distinct failure class once, with the first case that shows it."""
        first: dict[str, Outcome] = {}
        for outcome in self.failures:
            first.setdefault(outcome.crash_class, outcome)
        shown = list(first.values())[:SHOWN_FAILURES]
        return "\n".join(
            [self.summary(), f"{len(first)} distinct failures; the first case of each:"]
            + [outcome.describe() for outcome in shown]
        )


def run_case(case: Case, directory: Path, previous_db: bytes | None) -> Outcome:
    """Build one case (through the CLI when ``previous_db`` is given) and time it."""
    started = time.perf_counter()
    if previous_db is None:
        outcome = build_in_process(case, directory)
    else:
        outcome = build_with_cli(case, directory, previous_db)
    outcome.seconds = time.perf_counter() - started
    return outcome


def run(
    seed: int,
    cases: int,
    directory: Path,
    cli_every: int = DEFAULT_CLI_EVERY,
    out: Path | None = None,
    first: int = 0,
    progress: bool = False,
) -> Report:
    """Cases ``first`` to ``first + cases - 1`` of ``seed``; every ``cli_every``-th through
    the db command. The first failures of each class are saved under ``out``."""
    previous_db = good_database(directory) if cli_every else None
    report = Report(seed)
    saved_classes: set[str] = set()
    for number in range(first, first + cases):
        case = make_case(seed, number)
        via_cli = bool(cli_every) and number % cli_every == 0
        outcome = run_case(case, directory / "case", previous_db if via_cli else None)
        if outcome.failed and out is not None and outcome.crash_class not in saved_classes:
            saved_classes.add(outcome.crash_class)
            outcome.saved = save_case(case, outcome, out)
        report.outcomes.append(outcome)
        if progress and (number + 1 - first) % 500 == 0:
            print(report.summary(), file=sys.stderr, flush=True)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzzing", description=__doc__)
    parser.add_argument("--cases", type=int, default=DEFAULT_CASES, help="How many cases.")
    parser.add_argument("--seed", type=int, default=1, help="The seed: same seed, same cases.")
    parser.add_argument("--first", type=int, default=0, help="Number of the first case.")
    parser.add_argument("--case", type=int, help="Build only this case, in process and CLI.")
    parser.add_argument(
        "--cli-every", type=int, default=DEFAULT_CLI_EVERY, help="0: never the db command."
    )
    parser.add_argument("--out", type=Path, help="Save failing cases here.")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="papershelf-fuzz-") as work:
        if args.case is not None:
            return _one_case(args.seed, args.case, Path(work), args.out)
        report = run(
            args.seed, args.cases, Path(work), args.cli_every, args.out, args.first, progress=True
        )
    print(report.describe_failures() if report.failures else report.summary())
    return 1 if report.failures else 0


def _one_case(seed: int, number: int, work: Path, out: Path | None) -> int:
    case = make_case(seed, number)
    outcomes = [
        run_case(case, work / "in-process", None),
        run_case(case, work / "cli", good_database(work)),
    ]
    for outcome in outcomes:
        if outcome.failed and out is not None:
            outcome.saved = save_case(case, outcome, out / outcome.status)
        print(outcome.describe())
    return 1 if any(outcome.failed for outcome in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
