"""The site stage: pages from the database, then MkDocs into ``site/``, atomically."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import yaml
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin

from ..outputs import output_error, replace_directory, temporary_path, writing
from .analysis import NotebookError
from .pages import RenderResult, render_site
from .search import SearchError, finish_index, start_index, stop_index


class SiteError(Exception):
    """MkDocs could not build the site (in strict mode, any warning)."""


@dataclass
class SiteResult:
    site_dir: Path
    render: RenderResult
    html_pages: int
    mkdocs_seconds: float
    incremental: bool = False


class _Loader(yaml.SafeLoader):
    """Reads mkdocs.yml, ignoring tags such as !!python/name that only MkDocs resolves."""


_Loader.add_multi_constructor("", lambda loader, suffix, node: None)


def _read_config(config_file: Path) -> dict:
    return yaml.load(config_file.read_text(encoding="utf-8"), Loader=_Loader) or {}


def read_site_url(config_file: Path) -> str:
    return _read_config(config_file).get("site_url") or ""


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
) -> SiteResult:
    """Render pages into ``docs_dir`` and build them with MkDocs into ``site_dir``.

    MkDocs writes into a temporary directory beside ``site_dir``, which then replaces it:
    a failed build leaves the previous site as it was. When the previous site was built
    with the same configuration and theme, the temporary directory starts as a hard-linked
    copy of it and MkDocs rebuilds only the pages whose Markdown changed (a "dirty"
    build); every file it writes gets a new inode, so the previous site is never touched.

    The pages to build are shared among ``workers`` MkDocs processes (by default one per
    core when there are enough pages to repay starting one), each building its share
    with the whole site known to it, so links resolve exactly as in one process.
    """

    if not db_path.exists():
        raise SiteError(f"{db_path}: no such database; run 'python build.py db' first")
    settings = _read_config(config_file)
    search_dir = docs_dir.parent / "search"
    try:
        with writing(docs_dir.parent):
            render = render_site(
                db_path,
                docs_dir,
                settings.get("site_url") or "",
                metadata_path,
                notebooks_dir,
                cache_dir,
                search_dir,
                (settings.get("theme") or {}).get("language") or "en",
            )
    except NotebookError as error:
        raise SiteError(str(error)) from None

    site_dir = site_dir.resolve()
    docs_dir = docs_dir.resolve()
    stamp_file = docs_dir.parent / "site-stamp.json"
    stamp = _stamp(config_file, site_dir, docs_dir)
    dirty = (
        incremental
        and (site_dir / "index.html").exists()
        and stamp_file.exists()
        and stamp_file.read_text(encoding="utf-8") == stamp
    )
    temporary = temporary_path(site_dir)
    shutil.rmtree(temporary, ignore_errors=True)
    overrides = {}
    ours = (settings.get("extra") or {}).get("papershelf") or {}
    if render.pages > ours.get("builtin_search_max_pages", float("inf")):
        overrides["plugins"] = []  # no single-file search index: Pagefind only
    logging.getLogger("mkdocs").setLevel(logging.WARNING)
    started = time.perf_counter()
    with writing(stamp_file):
        stamp_file.unlink(missing_ok=True)
    with writing(site_dir), _source_date_epoch(db_path):
        # Pagefind indexes the search documents while MkDocs builds the pages.
        pagefind = start_index(search_dir, temporary / "pagefind")
        try:
            if dirty:
                _link_previous_site(site_dir, temporary, docs_dir, render.removed)
            from_shares = _mkdocs(config_file, docs_dir, temporary, overrides, workers)
            _merge_search_index(site_dir if dirty else None, temporary, render.removed, from_shares)
            finish_index(pagefind)
        except SearchError as error:
            shutil.rmtree(temporary, ignore_errors=True)
            raise SiteError(str(error)) from None
        except BaseException:
            stop_index(pagefind)
            shutil.rmtree(temporary, ignore_errors=True)
            raise
        replace_directory(temporary, site_dir)
    with writing(stamp_file):
        stamp_file.write_text(stamp, encoding="utf-8")
    mkdocs_seconds = time.perf_counter() - started
    html_pages = sum(1 for _ in site_dir.rglob("index.html"))
    return SiteResult(site_dir, render, html_pages, mkdocs_seconds, dirty)


# The date of a collection without any dates (1 January 2000), for the sitemap.
FALLBACK_DATE_EPOCH = 946684800


def data_date_epoch(db_path: Path) -> int:
    """The newest listing or publication date in the database, as seconds since the
    epoch (midnight UTC): the date the site is "of", whenever it is built."""
    with closing(sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=ro", uri=True)) as db:
        (newest,) = db.execute(
            "select max(day) from (select max(date) as day from listings"
            " union all select max(published) from papers)"
        ).fetchone()
    try:
        day = date.fromisoformat(str(newest)[:10])
    except ValueError:  # no dates at all (None), or not a date
        return FALLBACK_DATE_EPOCH
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


@contextmanager
def _source_date_epoch(db_path: Path):
    """MkDocs dates the sitemap (and gzip headers) with SOURCE_DATE_EPOCH, else today:
    set it from the data for this build (and the share processes it starts), unless the
    caller chose one, and give the caller's environment back unchanged."""
    if "SOURCE_DATE_EPOCH" in os.environ:
        yield
        return
    os.environ["SOURCE_DATE_EPOCH"] = str(data_date_epoch(db_path))
    try:
        yield
    finally:
        del os.environ["SOURCE_DATE_EPOCH"]


# Below this many pages per process, starting another MkDocs process does not pay.
PAGES_PER_WORKER = 400


def _mkdocs(config_file: Path, docs_dir: Path, site: Path, overrides: dict, workers) -> list[dict]:
    """Build the pages whose output is missing from ``site``, in shares, side by side.
    Returns the search index entries of the pages the other shares built."""
    pages = sorted(
        path.relative_to(docs_dir).as_posix()
        for path in docs_dir.rglob("*.md")
        if not (site / _output_of(path.relative_to(docs_dir))).exists()
    )
    if workers is None:
        workers = min(os.cpu_count() or 1, max(1, len(pages) // PAGES_PER_WORKER))
    workers = max(1, min(workers, len(pages)))
    shares = [frozenset(pages[k::workers]) for k in range(workers)]
    others = [site.with_name(f"{site.name}-share{k}") for k in range(1, workers)]
    for other in others:
        shutil.rmtree(other, ignore_errors=True)
    arguments = (str(config_file), str(docs_dir), overrides)
    # The other shares run in fresh interpreters (not multiprocessing: it would import
    # the caller's main module again), told what to do on their standard input.
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "papershelf.publish.site"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in others
    ]
    try:
        for process, other, share in zip(processes, others, shares[1:], strict=True):
            process.stdin.write(json.dumps([*arguments, str(other), sorted(share), False]))
            process.stdin.close()
        _build_share(*arguments, str(site), shares[0], True)
        for process in processes:
            error = process.stderr.read()
            if process.wait():
                raise SiteError(
                    error.strip() or f"an MkDocs process ended with {process.returncode}"
                )
        entries = []
        for other in others:
            entries += _move_share(other, site)
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
            process.stderr.close()
        for other in others:
            shutil.rmtree(other, ignore_errors=True)
    return entries


def _build_share(
    config_file: str, docs_dir: str, overrides: dict, site: str, pages, statics: bool
) -> None:
    """One MkDocs build that writes only ``pages`` (and, with ``statics``, the other
    files and assets) into ``site``."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config
    from mkdocs.exceptions import MkDocsException

    config = load_config(
        config_file=config_file, docs_dir=docs_dir, site_dir=site, strict=True, **overrides
    )
    config.plugins["papershelf/share"] = _Share(pages, statics)
    config.plugins["papershelf/front-matter"] = _FrontMatterRead()
    logger = logging.getLogger("mkdocs")
    logger.setLevel(logging.WARNING)
    collected = _Collected()
    logger.addHandler(collected)
    try:
        with _quiet_dirty_warning():
            build(config, dirty=True)
    except MkDocsException as error:
        details = "".join(f"\n  {message}" for message in collected.messages)
        raise SiteError(f"mkdocs build failed: {error}{details}") from None
    finally:
        logger.removeHandler(collected)


class _FrontMatterRead(BasePlugin):
    """Fails the build when a page's front matter was not read. MkDocs keeps front
    matter it cannot parse as Markdown, without a word: the page would show it, and
    Markdown extensions would read it as markup."""

    def on_page_markdown(self, markdown, page, config, files):
        if "title" not in page.meta:
            raise PluginError(f"{page.file.src_uri}: its front matter could not be read")
        return markdown


class _Share(BasePlugin):
    """Makes a dirty build write only some pages: MkDocs asks each file whether it is
    modified. Every file stays in the build, so links to the others still resolve."""

    def __init__(self, pages, statics: bool):
        self.pages, self.statics = pages, statics

    def on_files(self, files, config):
        for file in files:
            if file.is_documentation_page():
                file.is_modified = _yes if file.src_uri in self.pages else _no
            elif not self.statics:
                file.is_modified = _no
        return files


def _yes() -> bool:
    return True


def _no() -> bool:
    return False


class _Collected(logging.Handler):
    """The warnings of a build, to report with its failure."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _move_share(share: Path, site: Path) -> list[dict]:
    """Move a share's pages into ``site``; returns its search index entries (for
    :func:`_merge_search_index`)."""
    index = share / "search" / "search_index.json"
    entries = json.loads(index.read_text(encoding="utf-8"))["docs"] if index.exists() else []
    for path in sorted(share.rglob("*")):
        relative = path.relative_to(share)
        if path.is_file() and relative.as_posix() not in _ALWAYS_WRITTEN:
            (site / relative).parent.mkdir(parents=True, exist_ok=True)
            os.replace(path, site / relative)
    return entries


# Files MkDocs writes on every build, dirty or not.
_ALWAYS_WRITTEN = ("404.html", "sitemap.xml", "sitemap.xml.gz", "search/search_index.json")


def _stamp(config_file: Path, site_dir: Path, docs_dir: Path) -> str:
    """What a site's pages depend on besides their Markdown: config, theme, versions."""
    from importlib.metadata import version

    digest = hashlib.sha256()
    digest.update(config_file.read_bytes())
    theme = Path(__file__).parent / "theme"
    for path in sorted(theme.rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(theme).as_posix().encode() + path.read_bytes())
    for package in ("papershelf", "mkdocs", "mkdocs-material"):
        digest.update(f"{package}={version(package)}".encode())
    return json.dumps(
        {"site_dir": str(site_dir), "docs_dir": str(docs_dir), "inputs": digest.hexdigest()}
    )


def _output_of(relative: Path) -> Path:
    """Where MkDocs (with directory URLs) writes the page or file ``relative``."""
    if relative.suffix != ".md":
        return relative
    if relative.stem in ("index", "README"):
        return relative.with_name("index.html")
    return relative.with_suffix("") / "index.html"


def _link_previous_site(site_dir: Path, target: Path, docs_dir: Path, removed: list[str]):
    """Hard-link the previous site into ``target``, leaving out what will be rewritten."""
    for path in site_dir.rglob("*"):
        if path.relative_to(site_dir).parts[0] == "pagefind":
            continue  # made anew by every build
        destination = target / path.relative_to(site_dir)
        if path.is_dir():
            destination.mkdir(parents=True, exist_ok=True)
        else:
            destination.parent.mkdir(parents=True, exist_ok=True)
            os.link(path, destination)
    for name in _ALWAYS_WRITTEN:
        (target / name).unlink(missing_ok=True)
    for source in docs_dir.rglob("*"):
        if source.is_file():
            output = target / _output_of(source.relative_to(docs_dir))
            if output.exists() and source.stat().st_mtime >= output.stat().st_mtime:
                output.unlink()  # MkDocs writes it anew: a new file, not the old inode
    for relative in removed:
        output = target / _output_of(Path(relative))
        output.unlink(missing_ok=True)
        if output.name == "index.html" and output.parent != target:
            shutil.rmtree(output.parent, ignore_errors=True)


class _DirtyWarningFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "'dirty' build" not in record.getMessage()


@contextmanager
def _quiet_dirty_warning():
    """MkDocs warns about every dirty build (strict mode would fail on it); our dirty builds
    are safe because the navigation never lists the pages that change."""
    logger = logging.getLogger("mkdocs.commands.build")
    quiet = _DirtyWarningFilter()
    logger.addFilter(quiet)
    try:
        yield
    finally:
        logger.removeFilter(quiet)


def _merge_search_index(
    previous_site: Path | None, site: Path, removed: list[str], from_shares: list[dict]
) -> None:
    """Complete the search index after a dirty build, and order it by page either way.

    A dirty build indexes only the pages it rebuilt, and each share only its own: the
    other shares' entries are ``from_shares``, and the pages not rebuilt come from the
    previous index. Entries are sorted by page (stably), so an incremental and a full
    build give the same file.
    """
    path = site / "search" / "search_index.json"
    if not path.exists():
        return
    index = json.loads(path.read_text(encoding="utf-8"))
    docs = index["docs"] + from_shares
    if previous_site is not None:
        old_path = previous_site / "search" / "search_index.json"
        old = json.loads(old_path.read_text(encoding="utf-8")) if old_path.exists() else {}
        rebuilt = {entry["location"].split("#")[0] for entry in docs}
        gone = {_output_of(Path(r)).parent.as_posix() + "/" for r in removed}
        docs = docs + [
            entry
            for entry in old.get("docs", [])
            if entry["location"].split("#")[0] not in rebuilt
            and entry["location"].split("#")[0] not in gone
        ]
    index["docs"] = sorted(docs, key=lambda entry: entry["location"].split("#")[0])
    path.write_text(json.dumps(index, ensure_ascii=False, separators=(",", ":")), "utf-8")


if __name__ == "__main__":  # one share of a build (see _mkdocs)
    try:
        config_file, docs_dir, overrides, site, pages, statics = json.load(sys.stdin)
        _build_share(config_file, docs_dir, overrides, site, frozenset(pages), statics)
    except SiteError as error:
        sys.exit(str(error))
    except OSError as error:  # a full or read-only disk: one line, as the build says it
        if (converted := output_error(error, Path(site))) is None:
            raise
        sys.exit(str(converted))
