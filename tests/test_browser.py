"""Drive the built site in headless Chromium (Debian's chromium, via Playwright)."""

import functools
import os
import shutil
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sqlite_utils

pytestmark = pytest.mark.browser

# $CHROMIUM names another Chromium-based browser (GitHub's runners have Google Chrome).
CHROMIUM = (
    os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
)
if not CHROMIUM:
    # CI installs Debian's chromium (.ci/run) and must not skip; a bare machine may.
    if os.environ.get("CI"):
        raise RuntimeError("chromium is required for the browser tests (apt-get install chromium)")
    pytest.skip("Debian's chromium is not installed", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def heading(page) -> str:
    """The page's h1 without the permalink sign the theme appends."""
    return page.locator("h1").first.inner_text().removesuffix("¶").strip()


def serve(directory):
    handler = functools.partial(_Quiet, directory=str(directory))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture(scope="module")
def browser():
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


@pytest.fixture(scope="module")
def real_url(real_site):
    root, _ = real_site
    server = serve(root / "site")
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_browse_home_topic_paper_related(browser, real_url, real_db):
    db = sqlite_utils.Database(real_db)
    page = browser.new_page()
    page.goto(real_url + "/")
    assert heading(page) == "papershelf"

    link = page.locator("article li a[href^='topics/']:not([href='topics/'])").first
    topic = link.get_attribute("href").rstrip("/").rsplit("/", 1)[-1]
    link.click()
    page.wait_for_url(f"**/topics/{topic}/")
    assert heading(page) == db["topics"].get(topic)["name"]
    assert page.locator(f"img[src*='topic-{topic}-light.svg']").first.is_visible()

    link = page.locator("article table a[href*='papers/']").first
    slug = link.get_attribute("href").rstrip("/").rsplit("/", 1)[-1]
    link.click()
    page.wait_for_url(f"**/papers/{slug}/")
    assert heading(page) == db["papers"].get(slug)["title"]

    related = db.execute(
        "select related_paper from related_papers where paper = ? and rank = 1", [slug]
    ).fetchone()[0]
    page.locator(f"article a[href$='/{related}/']").first.click()
    page.wait_for_url(f"**/papers/{related}/")
    assert heading(page) == db["papers"].get(related)["title"]
    page.close()


def test_site_search_finds_a_known_title(browser, real_url):
    page = browser.new_page()
    page.goto(real_url + "/")
    page.locator("label.md-search__icon, .md-search__input").first.click()
    page.locator("input.md-search__input").fill("Surgical Concept Erasing")
    result = page.locator(".md-search-result__item").first
    result.wait_for(timeout=15000)
    assert "Surgical Concept Erasing" in result.inner_text()
    result.locator("a").first.click()
    page.wait_for_url(lambda url: "/papers/all-but-one-surgical-concept-erasing" in url)
    assert heading(page).startswith("All but One: Surgical Concept Erasing")
    page.close()


def test_pagefind_search_finds_a_known_title_fetching_little(browser, real_url):
    page = browser.new_page()
    fetched = []
    page.on(
        "response",
        lambda response: (
            fetched.append(len(response.body()))
            if "/pagefind/" in response.url and response.ok
            else None
        ),
    )
    page.goto(real_url + "/find/")
    page.locator(".pagefind-ui__search-input").fill("Surgical Concept Erasing")
    result = page.locator(".pagefind-ui__result-link").first
    result.wait_for(timeout=15000)
    assert "Surgical Concept Erasing" in result.inner_text()
    assert 0 < sum(fetched) < 1_000_000  # the UI, the entry and the chunks one query needs
    result.click()
    page.wait_for_url(lambda url: "/papers/all-but-one-surgical-concept-erasing" in url)
    page.close()


def test_hostile_titles_show_as_literal_text(browser, hostile_site):
    root, _ = hostile_site
    db = sqlite_utils.Database(root / "papers.db")
    server = serve(root / "site")
    try:
        page = browser.new_page()
        dialogs = []
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        for paper in db["papers"].rows:
            page.goto(f"http://127.0.0.1:{server.server_address[1]}/papers/{paper['slug']}/")
            assert heading(page) == paper["title"]
            assert page.locator(".ps-abstract").inner_text() == paper["abstract"]
            assert page.title().startswith(paper["title"])
        # Search results show the same text literally
        page.goto(f"http://127.0.0.1:{server.server_address[1]}/find/")
        page.locator(".pagefind-ui__search-input").fill("Hostile")
        result = page.locator(".pagefind-ui__result-link", has_text="Hostile Title").first
        result.wait_for(timeout=15000)
        assert result.inner_text() == "<script>alert('title')</script> Hostile Title"
        page.locator(".pagefind-ui__search-input").fill("onerror")
        page.locator(".pagefind-ui__result-excerpt").first.wait_for(timeout=15000)
        assert page.locator(".pagefind-ui__results img").count() == 0
        assert dialogs == []  # no script from a listing ran
        page.close()
    finally:
        server.shutdown()
