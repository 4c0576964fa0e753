"""The site stage, in order: the site data, the notebooks, the pages, the downloads and
the search documents into the docs directory, then Pagefind and MkDocs into ``site/``,
which the new site replaces at once."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, ExitStack, closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from mkdocs.exceptions import MkDocsException

from ..errors import SiteError
from ..outputs import temporary_path, writing
from ..timing import Stopwatch
from .analysis import NotebookError, NotebookPage, notebook_pages
from .exports import write_downloads
from .mkdocs_build import PreviousSite, build_pages, load_site_config
from .pages import render_analysis, render_site
from .search import BUNDLE_PAPERS, SearchError, pagefind, write_search_documents
from .sitedata import SiteData, data_date_epoch, load_site_data
from .writer import PageWriter

if TYPE_CHECKING:
    from mkdocs.config.defaults import MkDocsConfig


@dataclass
class RenderResult:
    pages: int
    written: list[str]
    unchanged: int
    removed: list[str]
    seconds: dict[str, float] = field(default_factory=dict)  # "pages", "notebooks"


@dataclass
class SiteResult:
    site_dir: Path
    render: RenderResult
    html_pages: int
    mkdocs_seconds: float
    incremental: bool = False


def build_site(
    db_path: Path,
    site_dir: Path,
    docs_dir: Path,
    config_file: Path,
    metadata_path: Path | None = None,
    notebooks_dir: Path | None = None,
    cache_dir: Path | None = None,
    incremental: bool = True,
    workers: int | None = None,
    search_bundle_papers: int = BUNDLE_PAPERS,
) -> SiteResult:
    """Render the site's sources into ``docs_dir`` and build them with MkDocs into
    ``site_dir`` (:func:`.mkdocs_build.build_pages`, in ``workers`` processes). The
    notebooks of ``notebooks_dir``, run against the database (cached in ``cache_dir``),
    are the Analysis pages; the search index is in bundles of ``search_bundle_papers``."""
    _require_database(db_path)
    cache_dir = cache_dir or docs_dir.parent / "cache" / "notebooks"
    publish_metadata = bool(metadata_path and metadata_path.exists())
    docs = PageWriter(docs_dir, docs_dir.parent / "page-keys.json")  # one for all steps
    clock = Stopwatch(seconds := {})
    try:
        with (
            writing(docs_dir.parent),
            ThreadPoolExecutor(1, "notebooks") as pool,
            ExitStack() as index,
        ):
            config = load_site_config(config_file, docs_dir)
            # The previous site is linked into the new one's directory meanwhile.
            previous = index.enter_context(closing(PreviousSite(config, site_dir, incremental)))
            # The notebooks run in their own kernel processes while the pages are written.
            notebooks = pool.submit(_run_notebooks, notebooks_dir, db_path, cache_dir)
            data = load_site_data(db_path, metadata_path)
            index_into = _start_search(index, docs, data, config, site_dir, search_bundle_papers)
            pages = render_site(
                docs, data, config.site_url or "", publish_metadata, config.site_name
            )
            write_downloads(docs, db_path, metadata_path)
            del data  # MkDocs, next, needs the memory more
            clock.lap("pages")
            pages += render_analysis(docs, notebooks.result())
            clock.lap("notebooks")
            previous.forget()  # before docs.finish() removes the stale pages' Markdown
            render = RenderResult(pages, docs.written, docs.unchanged, docs.finish(), seconds)
            started = time.perf_counter()
            only_changed = build_pages(
                config,
                site_dir,
                render.removed,
                source_date_epoch=data_date_epoch(db_path),
                workers=workers,
                beside=index_into,  # the index goes into the new site
                previous=previous,
            )
    except (NotebookError, SearchError, MkDocsException) as error:
        raise SiteError(str(error)) from None
    mkdocs_seconds = time.perf_counter() - started
    html_pages = sum(1 for _ in site_dir.rglob("index.html"))
    return SiteResult(site_dir.resolve(), render, html_pages, mkdocs_seconds, only_changed)


def _require_database(db_path: Path) -> None:
    if not db_path.exists():
        raise SiteError(f"{db_path}: no such database; run 'python build.py db' first")


def _start_search(
    index: ExitStack,
    docs: PageWriter,
    data: SiteData,
    config: MkDocsConfig,
    site_dir: Path,
    bundle_papers: int,
) -> Callable[[Path], AbstractContextManager]:
    """Write the search documents beside the docs directory (``docs``' root); Pagefind
    then indexes them on the other core while the pages are written and built (until
    ``index`` closes). Returns what the MkDocs build runs around itself (see
    :func:`.search.pagefind`)."""
    search_dir = docs.root.parent / "search"
    language = config.theme["language"] or "en"
    bundles = write_search_documents(search_dir, data, language, bundle_papers)
    staging = _index_staging(site_dir)
    return index.enter_context(pagefind(search_dir, bundles, staging, site_dir / "pagefind"))


def _index_staging(site_dir: Path) -> Path:
    """Where Pagefind writes before its index moves into the new site: beside the site
    (one filesystem), under a name a later build clears if this one is killed. Beside
    the resolved site, as the new site is built (a symbolic link may point elsewhere)."""
    temporary = temporary_path(site_dir.resolve())
    return temporary.with_name(f"{temporary.name}-pagefind")


def _run_notebooks(
    notebooks_dir: Path | None, db_path: Path, cache_dir: Path
) -> list[NotebookPage]:
    return notebook_pages(notebooks_dir, db_path, cache_dir) if notebooks_dir else []
