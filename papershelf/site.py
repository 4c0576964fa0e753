"""The site stage: pages from the database, then MkDocs into ``site/``, atomically."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import yaml

from .analysis import NotebookError
from .pages import RenderResult, render_site


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
) -> SiteResult:
    """Render pages into ``docs_dir`` and build them with MkDocs into ``site_dir``.

    MkDocs writes into a temporary directory beside ``site_dir``, which then replaces it:
    a failed build leaves the previous site as it was. When the previous site was built
    with the same configuration and theme, the temporary directory starts as a hard-linked
    copy of it and MkDocs rebuilds only the pages whose Markdown changed (a "dirty"
    build); every file it writes gets a new inode, so the previous site is never touched.
    """
    from mkdocs.commands.build import build
    from mkdocs.config import load_config
    from mkdocs.exceptions import MkDocsException

    if not db_path.exists():
        raise SiteError(f"{db_path}: no such database; run 'python build.py db' first")
    settings = _read_config(config_file)
    try:
        render = render_site(
            db_path,
            docs_dir,
            settings.get("site_url") or "",
            metadata_path,
            notebooks_dir,
            cache_dir,
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
    temporary = site_dir.with_name(f".{site_dir.name}.tmp-{os.getpid()}")
    shutil.rmtree(temporary, ignore_errors=True)
    overrides = {}
    ours = (settings.get("extra") or {}).get("papershelf") or {}
    if render.pages > ours.get("builtin_search_max_pages", float("inf")):
        overrides["plugins"] = []  # no single-file search index: Pagefind only
    config = load_config(
        config_file=str(config_file),
        docs_dir=str(docs_dir),
        site_dir=str(temporary),
        strict=True,
        **overrides,
    )
    logging.getLogger("mkdocs").setLevel(logging.WARNING)
    started = time.perf_counter()
    stamp_file.unlink(missing_ok=True)
    try:
        if dirty:
            _link_previous_site(site_dir, temporary, docs_dir, render.removed)
        with _quiet_dirty_warning():
            build(config, dirty=dirty)
        _merge_search_index(site_dir if dirty else None, temporary, render.removed)
        _pagefind(temporary)
    except MkDocsException as error:
        shutil.rmtree(temporary, ignore_errors=True)
        raise SiteError(f"mkdocs build failed: {error}") from None
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    old = site_dir.with_name(f".{site_dir.name}.old-{os.getpid()}")
    if site_dir.exists():
        site_dir.rename(old)
    temporary.rename(site_dir)
    shutil.rmtree(old, ignore_errors=True)
    stamp_file.write_text(stamp, encoding="utf-8")
    mkdocs_seconds = time.perf_counter() - started
    html_pages = sum(1 for _ in site_dir.rglob("index.html"))
    return SiteResult(site_dir, render, html_pages, mkdocs_seconds, dirty)


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


def _pagefind(site: Path) -> None:
    """Index the built site with Pagefind (its binary comes from the pagefind-bin wheel)."""
    done = subprocess.run(
        [sys.executable, "-m", "pagefind", "--site", str(site), "--quiet"],
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise SiteError(f"pagefind failed: {(done.stderr or done.stdout).strip()[-2000:]}")


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


def _merge_search_index(previous_site: Path | None, site: Path, removed: list[str]) -> None:
    """Complete the search index after a dirty build, and order it by page either way.

    A dirty build indexes only the pages it rebuilt; the other pages' entries come from
    the previous index. Entries are sorted by page (stably), so an incremental and a full
    build give the same file.
    """
    path = site / "search" / "search_index.json"
    if not path.exists():
        return
    index = json.loads(path.read_text(encoding="utf-8"))
    docs = index["docs"]
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
