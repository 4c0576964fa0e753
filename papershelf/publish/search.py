"""The site's search: a Pagefind index of every paper, topic and listing.

Pagefind indexes HTML. Instead of the built site (about 40 KB per page of theme,
navigation and other papers' titles), it reads one small document per paper, topic and
listing, written here from the database at the path of the page it stands for. The
index takes a third of the time, is built while the pages are written and built, and a
paper matches a query by its own words rather than by the titles of its related papers.

:func:`write_search_documents` writes them from the site data (a rebuild rewrites only
those whose content changed); :func:`pagefind` indexes them beside the rest of the build,
in bundles of papers in the order they arrived (:data:`BUNDLE_PAPERS`), taking from the
previous site every bundle whose documents did not change.
"""

from __future__ import annotations

import functools
import hashlib
import json
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import NamedTuple

from ..errors import SearchError
from ..outputs import link_tree
from .sitedata import SiteData
from .templating import Drawing
from .writer import PageWriter

# Papers per index bundle. Pagefind cannot add to an index, and indexing costs about 1 ms
# of CPU per document; in bundles of papers taken in the order they arrived, a rebuild
# after new papers re-indexes only the last bundle (and any whose papers changed). The
# browser merges the bundles' results by score. A collection this size or smaller has
# one bundle, so its ranking is exactly one index's.
BUNDLE_PAPERS = 2000
MANIFEST = "bundles.json"  # in pagefind/: the bundles to search, the first the primary
DIGEST = "papershelf-digest.txt"  # in each bundle: what it was made from


class Bundle(NamedTuple):
    name: str  # its directory under pagefind/ (and under the documents' directory)
    digest: str  # of its documents and the indexer's version


def write_search_documents(
    search_dir: Path, data: SiteData, language: str = "en", bundle_papers: int = BUNDLE_PAPERS
) -> list[Bundle]:
    """Write the documents into ``search_dir``, one directory per bundle, removing those
    of pages gone; returns the bundles. A document is drawn only when its drawing
    changed since the last build (the keys are kept beside ``search_dir``)."""
    writer = PageWriter(search_dir, search_dir.with_name("search-keys.json"))
    bundles = []
    for number, documents in enumerate(search_bundles(data, language, bundle_papers)):
        # The drawings' keys stand for the documents (equal keys draw equal text). They
        # cover the package's code too: after an upgrade every bundle is indexed again.
        digest = hashlib.sha256(_indexer_version().encode())
        for relative, drawing in documents:
            key = writer.write_drawing(f"{number}/{relative}", drawing)
            digest.update(f"{relative} {key}\n".encode())
        bundles.append(Bundle(str(number), digest.hexdigest()))
    writer.finish()
    return bundles


def search_bundles(
    data: SiteData, language: str, bundle_papers: int = BUNDLE_PAPERS
) -> list[list[tuple[str, Drawing]]]:
    """The ``(path, drawing)`` documents of each bundle: the papers ``bundle_papers`` at a
    time in the order they arrived; the topics' in the first bundle (they change only
    with the taxonomy); a listing's in the bundle of the first paper that arrived with
    it (a listing that brought none, in the last), so that a new listing changes only
    the bundles its new papers go to."""
    documents = dict(search_documents(data, language))
    arrivals = _arrivals(data)
    bundles = [[] for _ in range(max(1, -(-len(arrivals) // bundle_papers)))]
    listing_bundle: dict[str, int] = {}
    for index, (slug, listing) in enumerate(arrivals):
        bundles[index // bundle_papers].append(f"papers/{slug}/index.html")
        listing_bundle.setdefault(listing, index // bundle_papers)
    bundles[0] += [f"topics/{slug}/index.html" for slug in data.topics]
    for name in data.listings:
        bundles[listing_bundle.get(name, -1)].append(f"listings/{name}/index.html")
    return [[(path, documents[path]) for path in bundle] for bundle in bundles]


def arrival_order(data: SiteData) -> list[str]:
    """The papers' slugs in the order they arrived: by the first listing that has them
    (listings in file-name order, as the database stage reads them), then their rank."""
    return [slug for slug, _ in _arrivals(data)]


def _arrivals(data: SiteData) -> list[tuple[str, str | None]]:
    """``(slug, the listing it arrived with)`` in the order the papers arrived."""
    by_file = sorted(data.listings, key=lambda name: data.listings[name]["filename"])
    position = {name: index for index, name in enumerate(by_file)}

    def first(slug: str) -> tuple:
        seen = [(position[a["listing"]], a["rank"]) for a in data.appearances.get(slug, [])]
        return min(seen, default=(len(by_file), 0))

    firsts = {slug: first(slug) for slug in data.papers}
    ordered = sorted(data.papers, key=lambda slug: (firsts[slug], slug))
    with_none = [*by_file, None]  # a paper in no listing (none is) arrived with none
    return [(slug, with_none[firsts[slug][0]]) for slug in ordered]


def search_documents(data: SiteData, language: str = "en") -> Iterator[tuple[str, Drawing]]:
    """``(path, drawing)`` of each document, at the path MkDocs gives the page it stands for
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


def _document(title: str, parts: list[str], language: str) -> Drawing:
    return Drawing("search_document.html.j2", dict(title=title, parts=parts, language=language))


@contextmanager
def pagefind(
    search_dir: Path, bundles: list[Bundle], staging: Path, previous: Path
) -> Iterator[Callable[[Path], AbstractContextManager]]:
    """Pagefind indexes the bundles of ``search_dir`` into ``staging`` from now on, beside
    the rest of the build (it needs only the documents, not the pages); a bundle whose
    digest is that of the same bundle in ``previous`` (the current site's ``pagefind/``)
    is taken from there instead. Yields what the MkDocs build runs around itself, given
    the directory that becomes the site: at its end it waits for the index and moves it
    into that directory's ``pagefind/`` (a failure raises :class:`SearchError`). An error
    before then stops Pagefind; ``staging`` never stays."""
    shutil.rmtree(staging, ignore_errors=True)
    indexer = _Indexer(search_dir, bundles, staging, previous)
    try:
        yield functools.partial(_index_into, indexer, staging)
    finally:
        indexer.stop()
        shutil.rmtree(staging, ignore_errors=True)


@contextmanager
def _index_into(indexer: _Indexer, staging: Path, directory: Path) -> Iterator[None]:
    yield
    indexer.finish()
    staging.rename(directory / "pagefind")


class _Indexer:
    """The bundles indexed one after another on a thread (Pagefind itself uses every
    core), each bundle unchanged since the previous site linked from there instead."""

    def __init__(self, search_dir: Path, bundles: list[Bundle], staging: Path, previous: Path):
        self._process: subprocess.Popen | None = None
        self._stopped = False
        self._error: BaseException | None = None
        self._lock = threading.Lock()
        arguments = (search_dir, bundles, staging, previous)
        self._thread = threading.Thread(target=self._run, args=arguments, name="pagefind")
        self._thread.start()

    def _run(self, search_dir: Path, bundles: list[Bundle], staging: Path, previous: Path):
        try:
            staging.mkdir(parents=True)
            for bundle in bundles:
                output = staging / bundle.name
                if not _reuse(previous / bundle.name, output, bundle.digest):
                    self._index(search_dir / bundle.name, output)
                    # Not written into a reused bundle: its files are the previous site's.
                    (output / DIGEST).write_text(bundle.digest + "\n", encoding="utf-8")
            names = [f"{bundle.name}/" for bundle in bundles]
            (staging / MANIFEST).write_text(json.dumps(names), encoding="utf-8")
        except BaseException as error:  # raised by finish(), in the build's thread
            self._error = error

    def _index(self, documents: Path, output: Path) -> None:
        with self._lock:
            if self._stopped:
                raise SearchError("pagefind stopped")
            self._process = start_index(documents, output)
        finish_index(self._process)

    def finish(self) -> None:
        """Wait for every bundle; a failure raises it here."""
        self._thread.join()
        if self._error is not None:
            raise self._error

    def stop(self) -> None:
        """End early (another part of the build failed): no further bundle is started,
        the running one is killed."""
        with self._lock:
            self._stopped = True
            if self._process is not None and self._process.poll() is None:
                self._process.kill()
        self._thread.join()


def _reuse(previous: Path, output: Path, digest: str) -> bool:
    """Link the previous site's copy of a bundle into ``output`` if it was made from the
    same documents by the same Pagefind."""
    try:
        if (previous / DIGEST).read_text(encoding="utf-8") != digest + "\n":
            return False
    except OSError:  # no previous copy (a first build, a new bundle)
        return False
    link_tree(previous, output)
    return True


@functools.cache
def _indexer_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    versions = []
    for name in ("pagefind", "pagefind-bin"):
        try:
            versions.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            versions.append(f"{name} none")
    return ", ".join(versions)


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
