"""The MkDocs build of the site, behind one door: :func:`build_pages`.

MkDocs writes into a temporary directory beside the site, which then replaces it: a
failed build leaves the previous site as it was. When the previous site was built with
the same configuration, theme and code (:func:`_stamp`), the temporary directory starts
as a hard-linked copy of it and MkDocs rebuilds only the pages whose Markdown changed (a
"dirty" build); every file it writes gets a new inode (what it writes again is removed
from the copy first: pages whose Markdown changed, and files such as the theme's assets
whose source is newer), so the previous site is never touched.

The pages to build are shared among MkDocs processes (by default one per core when there
are enough pages to repay starting one), each building its share with the whole site
known to it, so links resolve exactly as in one process. MkDocs' search plugin is left
out even when configured: the site's search is Pagefind's (:mod:`.search`), and the
plugin's one-file index of the whole site is what every page would fetch on load.

The configuration is read by MkDocs' own loader (:func:`load_site_config`), once in each
process; this process's share builds with the configuration it was given.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import platform
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, closing, contextmanager, nullcontext, suppress
from pathlib import Path
from typing import TYPE_CHECKING

from mkdocs.config import load_config
from mkdocs.exceptions import Abort, MkDocsException, PluginError
from mkdocs.plugins import BasePlugin, PluginCollection
from mkdocs.structure.files import File

from ..outputs import (
    link_tree,
    output_error,
    previous_path,
    replace_directory,
    temporary_path,
    writing,
)
from . import markdown_html
from .versions import child_environment, distribution_versions

if TYPE_CHECKING:
    from mkdocs.config.defaults import MkDocsConfig

# Below this many pages per process, starting another MkDocs process does not pay.
PAGES_PER_WORKER = 400

# Files MkDocs writes on every build, dirty or not.
_ALWAYS_WRITTEN = ("404.html", "sitemap.xml", "sitemap.xml.gz")

# The distributions that turn the Markdown into HTML (with those they require).
_RENDERERS = ("mkdocs", "mkdocs-material")

# MkDocs' search plugin, under the names a configuration may give it.
_SEARCH_PLUGINS = ("search", "material/search")


def load_site_config(config_file: Path, docs_dir: Path) -> MkDocsConfig:
    """``config_file`` as MkDocs reads it, in strict mode, with ``docs_dir`` as its docs
    directory (made when missing: MkDocs requires it to exist). Raises MkDocs'
    :class:`~mkdocs.exceptions.Abort` with the reasons when the configuration is invalid."""
    docs_dir.mkdir(parents=True, exist_ok=True)
    # Absolute: MkDocs reads a relative docs_dir against the configuration file's folder,
    # while the command line's is relative to the working directory.
    docs_dir = docs_dir.resolve()
    with _reporting(f"{config_file}: invalid MkDocs configuration"):
        return load_config(config_file=str(config_file), docs_dir=str(docs_dir), strict=True)


def build_pages(
    config: MkDocsConfig,
    site_dir: Path,
    removed: list[str],
    *,
    source_date_epoch: int,
    incremental: bool = True,
    workers: int | None = None,
    beside: Callable[[Path], AbstractContextManager] | None = None,
    previous: PreviousSite | None = None,
) -> bool:
    """Build the pages of ``config.docs_dir`` into ``site_dir`` with MkDocs, all of them
    or (``incremental``, the previous site permitting) only those changed; returns whether
    the build was incremental. ``config`` is this build's: the build changes it.

    ``removed`` are the pages deleted from the docs directory since the previous build.
    The sitemap is dated ``source_date_epoch`` unless the environment sets
    ``SOURCE_DATE_EPOCH``. ``beside(directory)`` runs around the build, given the
    directory that becomes the site (Pagefind writes its index there meanwhile).
    ``previous``: the previous site, already being linked (see :class:`PreviousSite`);
    by default it is looked at now.
    """
    site_dir = site_dir.resolve()
    own = previous is None  # then looked at, and closed, here
    previous = previous or PreviousSite(config, site_dir, incremental)
    with closing(previous) if own else nullcontext():
        previous.forget()
        temporary = previous.directory
        with writing(site_dir), _source_date_epoch(source_date_epoch):
            try:
                with beside(temporary) if beside else nullcontext():
                    if previous.usable:
                        previous.wait()
                        _leave_out_rewritten(temporary, Path(config.docs_dir).resolve(), removed)
                    _build_in_shares(config, temporary, workers)
            except BaseException:
                shutil.rmtree(temporary, ignore_errors=True)
                raise
            replace_directory(
                temporary, site_dir, keep_previous=previous.kept if previous.usable else None
            )
        with writing(previous.stamp_file):
            previous.stamp_file.write_text(previous.stamp, encoding="utf-8")
        return previous.usable


class PreviousSite:
    """The previous site, when this build may start from it (it was built with the same
    configuration, theme and code: :func:`_stamp`), hard-linked on a thread into the
    directory the new site is built in. Made before the pages are written: the links are
    the kernel's work, done meanwhile.

    An incremental build keeps the site it replaces (:func:`.outputs.previous_path`),
    which shares all but the changed files with the site it left; the next build starts
    from that copy and brings it up to date (about 1,100 links at 10,000 papers and 100
    new ones) instead of making 20,000 links and directories and removing as many."""

    def __init__(self, config: MkDocsConfig, site_dir: Path, incremental: bool = True):
        docs_dir = Path(config.docs_dir).resolve()
        self.site_dir = site_dir.resolve()
        self.directory = temporary_path(self.site_dir)
        self.kept = previous_path(self.site_dir)
        self.stamp_file = docs_dir.parent / "site-stamp.json"
        self.stamp = _stamp(Path(config.config_file_path), self.site_dir, docs_dir)
        self.usable = (
            incremental
            and (self.site_dir / "index.html").exists()
            and self.stamp_file.exists()
            and self.stamp_file.read_text(encoding="utf-8") == self.stamp
        )
        shutil.rmtree(self.directory, ignore_errors=True)
        if self.usable and self.kept.is_dir() and not self.kept.is_symlink():
            self.kept.rename(self.directory)  # a symbolic link is not the build's own
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._link, name="previous-site")
        self._thread.start()

    def _link(self) -> None:
        try:
            if self.usable:
                link_tree(self.site_dir, self.directory, skip=("pagefind",))
                for name in _ALWAYS_WRITTEN:
                    (self.directory / name).unlink(missing_ok=True)
            else:  # a full build: the kept site would share no file with the new one
                shutil.rmtree(self.kept, ignore_errors=True)
        except BaseException as error:  # raised by wait(), in the build's thread
            self._error = error

    def forget(self) -> None:
        """Remove the stamp: until this build is in place, the site does not match the
        docs. Done before any page's Markdown is removed, too: the removed pages are known
        only to the build that removed them, and one interrupted before MkDocs ran would
        otherwise leave their HTML to every later build (found by a review)."""
        with writing(self.stamp_file):
            self.stamp_file.unlink(missing_ok=True)

    def wait(self) -> None:
        """Wait for the links; a failure (a full disk) raises here."""
        self._thread.join()
        if self._error is not None:
            raise self._error

    def close(self) -> None:
        """Wait for the links. If the build did not use them (it failed), keep them for
        the next build as the kept site, which that build brings up to date whatever
        state they are in; a full build's are removed."""
        self._thread.join()
        if self.usable and self.directory.is_dir() and not self.kept.exists():
            with suppress(OSError):
                self.directory.rename(self.kept)
        shutil.rmtree(self.directory, ignore_errors=True)


@contextmanager
def _source_date_epoch(epoch: int) -> Iterator[None]:
    """MkDocs dates the sitemap (and gzip headers) with SOURCE_DATE_EPOCH, else today:
    set it for this build (and the share processes it starts), unless the caller chose
    one, and give the caller's environment back unchanged."""
    if "SOURCE_DATE_EPOCH" in os.environ:
        yield
        return
    os.environ["SOURCE_DATE_EPOCH"] = str(epoch)
    try:
        yield
    finally:
        del os.environ["SOURCE_DATE_EPOCH"]


def _build_in_shares(config: MkDocsConfig, site: Path, workers: int | None) -> None:
    """Build the pages whose output is missing from ``site``, in shares, side by side: the
    first here, the others in fresh interpreters."""
    docs_dir = Path(config.docs_dir)
    every_page = sorted(path.relative_to(docs_dir).as_posix() for path in docs_dir.rglob("*.md"))
    pages = [page for page in every_page if not (site / _output_of(Path(page))).exists()]
    if workers is None:
        workers = min(os.cpu_count() or 1, max(1, len(pages) // PAGES_PER_WORKER))
    workers = max(1, min(workers, len(pages)))
    shares = [pages[k::workers] for k in range(workers)]
    others = [site.with_name(f"{site.name}-share{k}") for k in range(1, workers)]
    processes = []
    try:
        for other, share in zip(others, shares[1:], strict=True):
            shutil.rmtree(other, ignore_errors=True)
            arguments = [config.config_file_path, config.docs_dir, str(other), share, False]
            processes.append(_start_share(arguments))
        config["site_dir"] = str(site)
        _build_share(config, frozenset(shares[0]), statics=True)
        for process in processes:
            error = process.stderr.read()
            if process.wait():
                raise Abort(error.strip() or f"an MkDocs process ended with {process.returncode}")
        for other in others:
            _move_share(other, site)
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
            process.stderr.close()
        for other in others:
            shutil.rmtree(other, ignore_errors=True)


def _start_share(arguments: list) -> subprocess.Popen:
    """Start a share of the build in a fresh interpreter (not multiprocessing: it would
    import the caller's main module again), told what to build on its standard input."""
    process = subprocess.Popen(
        # -P: not the working directory first on the path, where a project that keeps
        # the theme at papershelf/publish/theme (as mkdocs.yml names it) has a folder
        # papershelf that Python would take for the package, or another checkout's
        # package: the share imports the package this process runs.
        [sys.executable, "-P", "-m", __name__],
        env=child_environment(os.environ),
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    process.stdin.write(json.dumps(arguments))
    process.stdin.close()
    return process


def _build_share(config: MkDocsConfig, pages: frozenset[str], statics: bool) -> None:
    """One MkDocs build that writes only ``pages`` (and, with ``statics``, the other
    files and assets) into its site directory, without MkDocs' search plugin."""
    from mkdocs.commands.build import build  # not imported by every command of the CLI

    config["plugins"] = _without_search(config.plugins)
    config.markdown_extensions.append(markdown_html.HtmlBlocks())
    config.plugins["papershelf/share"] = _Share(pages, statics)
    config.plugins["papershelf/front-matter"] = _FrontMatterRead()
    with _reporting("mkdocs build failed"), _quiet_dirty_warning():
        build(config, dirty=True)


@contextmanager
def _reporting(failure: str) -> Iterator[None]:
    """An MkDocs failure becomes one :class:`~mkdocs.exceptions.Abort` that says
    ``failure``, MkDocs' own reason and the warnings and errors it logged meanwhile."""
    logger = logging.getLogger("mkdocs")
    logger.setLevel(logging.WARNING)
    collected = _Collected()
    logger.addHandler(collected)
    try:
        yield
    except MkDocsException as error:
        details = "".join(f"\n  {message}" for message in collected.messages)
        raise Abort(f"{failure}: {error}{details}") from None
    finally:
        logger.removeHandler(collected)


class _Collected(logging.Handler):
    """The warnings of a build, to report with its failure."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


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

    def __init__(self, pages: frozenset[str], statics: bool):
        self.pages, self.statics = pages, statics

    def on_files(self, files, config):
        for file in files:
            if file.is_documentation_page():
                file.is_modified = _yes if file.src_uri in self.pages else _no
            elif self.statics:
                file.is_modified = functools.partial(_modified_and_unlinked, file)
            else:
                file.is_modified = _no
        return files


def _modified_and_unlinked(file: File) -> bool:
    """MkDocs' own test of whether to copy a file again (its source is newer), and when it
    is, the old copy removed first: in the linked site it is the live site's file (one
    inode), which the copy would rewrite in place."""
    modified = type(file).is_modified(file)
    if modified:
        Path(file.abs_dest_path).unlink(missing_ok=True)
    return modified


def _yes() -> bool:
    return True


def _no() -> bool:
    return False


class _DirtyWarningFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "'dirty' build" not in record.getMessage()


@contextmanager
def _quiet_dirty_warning() -> Iterator[None]:
    """MkDocs warns about every dirty build (strict mode would fail on it); our dirty builds
    are safe because the navigation never lists the pages that change."""
    logger = logging.getLogger("mkdocs.commands.build")
    quiet = _DirtyWarningFilter()
    logger.addFilter(quiet)
    try:
        yield
    finally:
        logger.removeFilter(quiet)


def _without_search(plugins: PluginCollection) -> PluginCollection:
    """``plugins`` less MkDocs' search plugin (a new collection: a plugin's event handlers
    are registered when it is added)."""
    kept = PluginCollection()
    for name, plugin in plugins.items():
        if name not in _SEARCH_PLUGINS:
            kept[name] = plugin
    return kept


def _move_share(share: Path, site: Path) -> None:
    """Move a share's pages into ``site``."""
    for path in sorted(share.rglob("*")):
        relative = path.relative_to(share)
        if path.is_file() and relative.as_posix() not in _ALWAYS_WRITTEN:
            (site / relative).parent.mkdir(parents=True, exist_ok=True)
            os.replace(path, site / relative)


def _stamp(config_file: Path, site_dir: Path, docs_dir: Path) -> str:
    """What a site's pages depend on besides their Markdown: the configuration, the theme,
    this module's code, and the versions of Python and of what renders them. A previous
    site made otherwise (a build restored from an older run, say) is not reused."""
    digest = hashlib.sha256()
    digest.update(config_file.read_bytes())
    theme = Path(__file__).parent / "theme"
    for path in sorted(theme.rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(theme).as_posix().encode() + path.read_bytes())
    # The plugins and the Markdown extension this module adds to every build
    # (papershelf's version number does not change with its code).
    digest.update(Path(__file__).read_bytes())
    digest.update(Path(markdown_html.__file__).read_bytes())
    return json.dumps(
        {
            "site_dir": str(site_dir),
            "docs_dir": str(docs_dir),
            "inputs": digest.hexdigest(),
            # Python's own modules (html.parser, for Markdown's raw HTML) change too.
            "python": platform.python_version(),
            "versions": rendering_versions(),
        }
    )


def rendering_versions() -> dict[str, str]:
    """The versions of MkDocs, Material and of every distribution they require."""
    return distribution_versions(_RENDERERS)


def _output_of(relative: Path) -> Path:
    """Where MkDocs (with directory URLs) writes the page or file ``relative``."""
    if relative.suffix != ".md":
        return relative
    if relative.stem in ("index", "README"):
        return relative.with_name("index.html")
    return relative.with_suffix("") / "index.html"


def _leave_out_rewritten(target: Path, docs_dir: Path, removed: list[str]) -> None:
    """Remove from the linked copy ``target`` the pages MkDocs will write anew (their
    Markdown is newer) and those of ``removed`` pages."""
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


def _share_main() -> None:
    """One share of a build (see :func:`_build_in_shares`): a failure exits with its
    message, which the build reports."""
    config_file, docs_dir, site, pages, statics = json.load(sys.stdin)
    try:
        with _reporting(f"{config_file}: invalid MkDocs configuration"):
            config = load_config(
                config_file=config_file, docs_dir=docs_dir, site_dir=site, strict=True
            )
        _build_share(config, frozenset(pages), statics)
    except Abort as error:
        sys.exit(str(error))
    except OSError as error:  # a full or read-only disk: one line, as the build says it
        if (converted := output_error(error, Path(site))) is None:
            raise
        sys.exit(str(converted))


if __name__ == "__main__":
    _share_main()
