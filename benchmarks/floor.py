"""The floor the database stage is compared with (issue 18): a plain script that parses,
merges and writes the same papers, with none of papershelf's work beyond that.

    python benchmarks/floor.py LISTINGS_DIR DB_PATH [--raw]

It reads the benchmark's synthetic listings (``benchmarks/synthetic.py``: a header ending
with the listing's date, then title, abstract and, in the rich layout, the authors and
date lines), merges papers by their case-folded title (the first spelling wins, every
appearance counted) and writes ``papers`` and ``paper_listings`` with a full-text index
of titles and abstracts (Porter stemming, as papershelf's):

- by default with sqlite-utils, ``insert_all`` and ``enable_fts``, as a dogsheep tool would;
- with ``--raw``, with the ``sqlite3`` module alone: ``executemany`` and an FTS5 table
  filled by one ``insert … select``.

No topics, related papers, authors, links or views: what is left is the least any tool
must do with these files. It prints its own seconds as JSON; the benchmark times the
whole process, start-up included, as it times ``build.py db``.
"""

from __future__ import annotations

import json
import re
import sqlite3
import sys
import time
from pathlib import Path

_DATE = re.compile(r"^[A-Z][a-z]{2} \d{1,2}$")
_META = re.compile(r"•\s*(\d+) authors?\s*\n·\s*\n([A-Z][a-z]{2} \d{1,2}(?:, \d{4})?)(?: (\d+))?")
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def parse(path: Path) -> list[dict]:
    """The entries of one listing file: title, abstract, authors, date and upvotes."""
    paragraphs = [p.strip("\n") for p in path.read_text(encoding="utf-8").split("\n\n")]
    start = next(i for i, p in enumerate(paragraphs) if _DATE.match(p.strip())) + 1
    entries, i = [], start
    while i + 1 < len(paragraphs):
        title, abstract = " ".join(paragraphs[i].split()), " ".join(paragraphs[i + 1].split())
        i += 2
        meta = _META.search(paragraphs[i]) if i < len(paragraphs) else None
        if meta:
            i += 1
        entries.append(
            {
                "title": title,
                "abstract": abstract,
                "authors_count": int(meta[1]) if meta else None,
                "published_text": meta[2] if meta else None,
                "upvotes": int(meta[3]) if meta and meta[3] else None,
            }
        )
    return entries


def merge(listings: dict[str, list[dict]]) -> tuple[list[dict], list[dict]]:
    """Papers (one per case-folded title) and their appearances in the listings."""
    papers: dict[str, dict] = {}
    appearances = []
    for name, entries in listings.items():
        for rank, entry in enumerate(entries, start=1):
            key = entry["title"].casefold()
            paper = papers.get(key)
            if paper is None:
                slug = _NOT_SLUG.sub("-", key).strip("-")[:80]
                paper = papers[key] = {"slug": slug, **entry, "listing_count": 0}
            paper["listing_count"] += 1
            appearances.append({"listing": name, "rank": rank, "paper": paper["slug"]})
    return list(papers.values()), appearances


def write_sqlite_utils(db_path: Path, papers: list[dict], appearances: list[dict]) -> None:
    import sqlite_utils

    db = sqlite_utils.Database(db_path, recreate=True)
    # A file written in one go needs no journal or sync to disk (the database stage
    # writes its file the same way): the floor measures work, not the disk's flushes.
    db.execute("pragma journal_mode = off")
    db.execute("pragma synchronous = off")
    db["papers"].insert_all(papers, pk="slug")
    db["paper_listings"].insert_all(appearances, pk=("listing", "rank"))
    db["papers"].enable_fts(["title", "abstract"], tokenize="porter", create_triggers=True)
    db.close()


def write_raw(db_path: Path, papers: list[dict], appearances: list[dict]) -> None:
    db_path.unlink(missing_ok=True)
    conn = sqlite3.connect(db_path)
    conn.execute("pragma journal_mode = off")
    conn.execute("pragma synchronous = off")
    columns = list(papers[0])
    with conn:
        conn.execute(f"create table papers ({', '.join(columns)}, primary key (slug))")
        conn.executemany(
            f"insert into papers values ({', '.join('?' * len(columns))})",
            (tuple(p.values()) for p in papers),
        )
        conn.execute(
            "create table paper_listings (listing, rank, paper, primary key (listing, rank))"
        )
        conn.executemany(
            "insert into paper_listings values (?, ?, ?)", (tuple(a.values()) for a in appearances)
        )
        conn.execute(
            "create virtual table papers_fts using fts5(title, abstract, content=papers, "
            "tokenize='porter')"
        )
        conn.execute(
            "insert into papers_fts (rowid, title, abstract) "
            "select rowid, title, abstract from papers"
        )
    conn.close()


def main(argv: list[str]) -> None:
    listings_dir, db_path = Path(argv[0]), Path(argv[1])
    started = time.perf_counter()
    listings = {path.stem: parse(path) for path in sorted(listings_dir.glob("*.txt"))}
    papers, appearances = merge(listings)
    parsed = time.perf_counter()
    (write_raw if "--raw" in argv[2:] else write_sqlite_utils)(db_path, papers, appearances)
    done = time.perf_counter()
    figures = {"parse_merge": parsed - started, "write": done - parsed, "papers": len(papers)}
    print(json.dumps(figures))


if __name__ == "__main__":
    main(sys.argv[1:])
