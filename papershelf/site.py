"""The site stage: pages from the database, then MkDocs into ``site/``, atomically."""

from __future__ import annotations

import logging
import os
import shutil
import time
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


class _Loader(yaml.SafeLoader):
    """Reads mkdocs.yml, ignoring tags such as !!python/name that only MkDocs resolves."""


_Loader.add_multi_constructor("", lambda loader, suffix, node: None)


def read_site_url(config_file: Path) -> str:
    config = yaml.load(config_file.read_text(encoding="utf-8"), Loader=_Loader) or {}
    return config.get("site_url") or ""


def build_site(
    db_path: Path,
    site_dir: Path,
    docs_dir: Path,
    config_file: Path,
    metadata_path: Path | None = None,
    notebooks_dir: Path | None = None,
    cache_dir: Path | None = None,
) -> SiteResult:
    """Render pages into ``docs_dir`` and build them with MkDocs into ``site_dir``.

    MkDocs writes into a temporary directory beside ``site_dir``, which then replaces it:
    a failed build leaves the previous site as it was.
    """
    from mkdocs.commands.build import build
    from mkdocs.config import load_config
    from mkdocs.exceptions import MkDocsException

    if not db_path.exists():
        raise SiteError(f"{db_path}: no such database; run 'python build.py db' first")
    try:
        render = render_site(
            db_path, docs_dir, read_site_url(config_file), metadata_path, notebooks_dir, cache_dir
        )
    except NotebookError as error:
        raise SiteError(str(error)) from None

    site_dir = site_dir.resolve()
    temporary = site_dir.with_name(f".{site_dir.name}.tmp-{os.getpid()}")
    shutil.rmtree(temporary, ignore_errors=True)
    config = load_config(
        config_file=str(config_file),
        docs_dir=str(docs_dir.resolve()),
        site_dir=str(temporary),
        strict=True,
    )
    logging.getLogger("mkdocs").setLevel(logging.WARNING)
    started = time.perf_counter()
    try:
        build(config)
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
    mkdocs_seconds = time.perf_counter() - started
    html_pages = sum(1 for _ in site_dir.rglob("index.html"))
    return SiteResult(site_dir, render, html_pages, mkdocs_seconds)
