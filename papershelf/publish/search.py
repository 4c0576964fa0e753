"""The site's search: a Pagefind index of every paper, topic and listing.

Pagefind indexes HTML. Instead of the built site (about 40 KB per page of theme,
navigation and other papers' titles), it reads one small document per paper, topic and
listing, written here from the database at the path of the page it stands for. The
index takes a third of the time, is built while the pages are written and built, and a
paper matches a query by its own words rather than by the titles of its related papers.

:func:`write_search_documents` writes them from the site data (a rebuild rewrites only
those whose content changed); :func:`pagefind` indexes them beside the rest of the build.
"""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from ..errors import SearchError
from .sitedata import SiteData
from .templating import render
from .writer import PageWriter


def write_search_documents(search_dir: Path, data: SiteData, language: str = "en") -> None:
    """Write the documents into ``search_dir``, removing those of pages gone."""
    writer = PageWriter(search_dir)
    for relative, content in search_documents(data, language):
        writer.write(relative, content)
    writer.remove_stale()


def search_documents(data: SiteData, language: str = "en") -> Iterator[tuple[str, str]]:
    """``(path, html)`` of each document, at the path MkDocs gives the page it stands for
    (``papers/<slug>.md`` is served as ``papers/<slug>/``). Every value is escaped."""
    for slug, paper in data.papers.items():
        parts = []
        if paper["short_name"]:
            parts.append(paper["short_name"])
        names = data.authors.get(slug)
        if names:
            parts.append("Authors: " + ", ".join(names))
        if paper["ai_summary"]:
            parts.append(paper["ai_summary"])
        if paper["ai_keywords"]:
            parts.append("Keywords: " + ", ".join(json.loads(paper["ai_keywords"])))
        parts.append(paper["abstract"])
        topics = [data.topics[t["topic"]]["name"] for t in data.paper_topics.get(slug, [])]
        if topics:
            parts.append("Topics: " + "; ".join(topics))
        yield f"papers/{slug}/index.html", _document(paper["title"], parts, language)
    for slug, topic in data.topics.items():
        rules = ", ".join(json.loads(topic["rules"]))
        parts = [topic["description"], f"Rules: {rules}"]
        yield f"topics/{slug}/index.html", _document(topic["name"], parts, language)
    for name, listing in data.listings.items():
        parts = [
            f"{listing['date'] or listing['date_text']}, file {listing['filename']}, listing {name}"
        ]
        yield f"listings/{name}/index.html", _document(listing["title"], parts, language)


def _document(title: str, parts: list[str], language: str) -> str:
    return render("search_document.html.j2", title=title, parts=parts, language=language)


@contextmanager
def pagefind(documents: Path, staging: Path) -> Iterator[Callable[[Path], AbstractContextManager]]:
    """Pagefind indexes ``documents`` into ``staging`` from now on, beside the rest of the
    build (it needs only the documents, not the pages). Yields what the MkDocs build runs
    around itself, given the directory that becomes the site: at its end it waits for the
    index and moves it into that directory's ``pagefind/`` (a failure raises
    :class:`SearchError`). An error before then stops Pagefind; ``staging`` never stays."""
    shutil.rmtree(staging, ignore_errors=True)
    process = start_index(documents, staging)
    try:
        yield functools.partial(_index_into, process, staging)
    finally:
        if process.returncode is None:
            stop_index(process)
        shutil.rmtree(staging, ignore_errors=True)


@contextmanager
def _index_into(process: subprocess.Popen, staging: Path, directory: Path) -> Iterator[None]:
    yield
    finish_index(process)
    staging.rename(directory / "pagefind")


def start_index(documents: Path, output: Path) -> subprocess.Popen:
    """Start Pagefind (its binary comes from the ``pagefind[bin]`` wheel) on
    ``documents``, writing the index and its UI into ``output``; see :func:`finish_index`."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pagefind",
            "--site",
            str(documents),
            "--output-path",
            str(output),
            "--quiet",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def finish_index(process: subprocess.Popen) -> None:
    """Wait for Pagefind; a failure raises :class:`SearchError` with what it printed."""
    output, _ = process.communicate()
    if process.returncode:
        raise SearchError(f"pagefind failed: {output.strip()[-2000:]}")


def stop_index(process: subprocess.Popen) -> None:
    """End Pagefind early (another part of the build failed)."""
    if process.poll() is None:
        process.kill()
    process.communicate()
