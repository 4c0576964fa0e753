from __future__ import annotations

import functools
import os
import shutil
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from papershelf.store.pipeline import build_database

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
LISTINGS = REPO / "content" / "listings"
TOPICS = REPO / "content" / "topics.yml"
METADATA = REPO / "datasets" / "metadata.yml"


@pytest.fixture(scope="session")
def real_db(tmp_path_factory) -> Path:
    """papers.db built once from the real content/, in a temporary directory."""
    from papershelf.publish.site_url import read_site_url

    path = tmp_path_factory.mktemp("real") / "papers.db"
    # As 'build.py db' builds it: with the site's address from mkdocs.yml.
    build_database(LISTINGS, TOPICS, path, site_url=read_site_url(REPO / "mkdocs.yml"))
    return path


@pytest.fixture
def fixture_listings(tmp_path) -> Path:
    """A listings directory holding the two small committed fixtures."""
    directory = tmp_path / "listings"
    directory.mkdir()
    for name in ("simple.txt", "rich.txt"):
        shutil.copy(FIXTURES / name, directory / name)
    return directory


CONFIG = REPO / "mkdocs.yml"


NOTEBOOKS = REPO / "notebooks"


# Papers per search bundle of the real site as the tests build it (see real_site).
REAL_SITE_BUNDLE = 100


def build_site_into(
    db_path: Path,
    root: Path,
    cache_dir: Path | None = None,
    search_bundle_papers: int | None = None,
    workers: int | None = None,
):
    """Build the site from ``db_path`` under ``root`` (docs and site directories)."""
    from papershelf.publish.search import BUNDLE_PAPERS
    from papershelf.publish.site import build_site

    return build_site(
        db_path,
        root / "site",
        root / "docs",
        CONFIG,
        METADATA,
        NOTEBOOKS,
        cache_dir,
        workers=workers,
        search_bundle_papers=search_bundle_papers or BUNDLE_PAPERS,
    )


@pytest.fixture(scope="session")
def notebook_cache(tmp_path_factory) -> Path:
    """Where executed notebooks are cached, shared by the notebook tests and the site."""
    return tmp_path_factory.mktemp("notebook-cache")


@pytest.fixture(scope="session")
def real_site(real_db, notebook_cache, tmp_path_factory):
    """The site built from the real database: (root, SiteResult). Its search index is in
    bundles of 100 papers, as a collection of several thousand would be (in production the
    real listings make one bundle), so that the browser tests search across bundles."""
    root = tmp_path_factory.mktemp("real-site")
    return root, build_site_into(real_db, root, notebook_cache, REAL_SITE_BUNDLE)


@pytest.fixture(scope="session")
def hostile_site(tmp_path_factory):
    """Database and site built from the hostile fixture alone."""
    root = tmp_path_factory.mktemp("hostile")
    listings = root / "listings"
    listings.mkdir()
    shutil.copy(FIXTURES / "hostile.txt", listings / "hostile.txt")
    build_database(listings, TOPICS, root / "papers.db")
    return root, build_site_into(root / "papers.db", root)


# ---- Headless Chromium, for the tests marked browser --------------------------------------

# $CHROMIUM names another Chromium-based browser (GitHub's runners have Google Chrome).
CHROMIUM = (
    os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
)


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def serve(directory):
    """An HTTP server for ``directory`` on a free port of 127.0.0.1, in a thread."""
    handler = functools.partial(_Quiet, directory=str(directory))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def send_answer(handler, status: int, headers: dict, body: bytes, delay: float) -> None:
    """A fake server's answer, after ``delay`` seconds; a client that gave up is no error."""
    time.sleep(delay)
    try:
        handler.send_response(status)
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)
    except (BrokenPipeError, ConnectionResetError):
        pass


def heading(page) -> str:
    """The page's h1 without the permalink sign the theme appends."""
    return page.locator("h1").first.inner_text().removesuffix("¶").strip()


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium per test module.

    Not per session: Playwright's sync API keeps an asyncio event loop running in the main
    thread while it is open, and the Datasette tests' ``asyncio.run`` then fails with
    "cannot be called from a running event loop".
    """
    if not CHROMIUM:
        # CI installs Debian's chromium (.ci/run) and must not skip; a bare machine may.
        if os.environ.get("CI"):
            raise RuntimeError(
                "chromium is required for the browser tests (apt-get install chromium)"
            )
        pytest.skip("Debian's chromium is not installed")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def real_url(real_site):
    """The real site, served on 127.0.0.1."""
    root, _ = real_site
    server = serve(root / "site")
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
