"""Light pages and their layout (issue 16, items 5 and 7): what a paper page costs to load,
the header's search loaded only when used, and how the pages look on a desktop and a phone.

The weight is the sum of the response bodies a page load fetches (uncompressed), in headless
Chromium; the figures are printed (``pytest -s``). Screenshots of a paper page go to
``$PYTEST_ARTIFACTS`` when it is set, else to the test's temporary directory.
"""

import os
from pathlib import Path

import pytest
import sqlite_utils

from .conftest import REPO

PAPER_PAGE_BUDGET = 400_000  # bytes, uncompressed (issue 16)
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1400, "height": 900}


@pytest.fixture(scope="module")
def paper_path(real_db):
    """A paper page with an abstract, authors and related papers: a typical one."""
    db = sqlite_utils.Database(real_db)
    slug = db.execute(
        "select slug from papers where slug like 'all-but-one-surgical-concept-erasing%'"
    ).fetchone()[0]
    return f"/papers/{slug}/"


def load(browser, url: str, viewport: dict = DESKTOP):
    """(context, page, responses): ``url`` loaded until the network is idle, with the
    ``(url, body size)`` of every response it fetched."""
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    responses = []
    page.on("response", lambda r: responses.append((r.url, len(r.body()) if r.ok else 0)))
    page.goto(url, wait_until="networkidle")
    return context, page, responses


@pytest.mark.browser
def test_a_paper_page_loads_under_400_kb_without_a_search_index(browser, real_url, paper_path):
    context, _, responses = load(browser, real_url + paper_path)
    context.close()
    total = sum(size for _, size in responses)
    largest = sorted(responses, key=lambda r: -r[1])[:4]
    print(f"\npaper page: {total / 1000:.1f} KB in {len(responses)} responses; largest:")
    for url, size in largest:
        print(f"  {size / 1000:7.1f} KB  {url.removeprefix(real_url)}")
    assert total < PAPER_PAGE_BUDGET
    urls = [url for url, _ in responses]
    assert not [url for url in urls if "search_index" in url or "/search/" in url]
    assert not [url for url in urls if "/pagefind/" in url]  # not before the search is used


@pytest.mark.browser
def test_the_header_search_fetches_pagefind_only_when_opened(browser, real_url, paper_path):
    context, page, responses = load(browser, real_url + paper_path)
    try:
        assert not [url for url, _ in responses if "/pagefind/" in url]
        page.keyboard.press("/")  # as Material's search opened
        dialog = page.locator("dialog.ps-search")
        box = dialog.locator(".pagefind-ui__search-input")
        box.wait_for()
        assert box.evaluate("box => box === document.activeElement")
        assert box.get_attribute("aria-label") == "Search papers, topics and listings"
        box.fill("retrieval augmented generation")
        dialog.locator(".pagefind-ui__result-link").first.wait_for(timeout=15000)
        fetched = [url for url, _ in responses if "/pagefind/" in url]
        assert any(url.endswith("/pagefind/pagefind-ui.js") for url in fetched)
        assert any(".pf_index" in url for url in fetched)  # the chunks this query needs
        page.keyboard.press("Escape")
        assert not dialog.evaluate("dialog => dialog.open")
    finally:
        context.close()


@pytest.mark.browser
def test_the_header_search_button_without_script_is_the_search_page(browser, real_url):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(real_url + "/topics/")
    page.locator(".ps-search-button").click()
    page.wait_for_url("**/find/")
    context.close()


def test_the_header_partial_is_materials_with_pagefind_for_its_search():
    """When Material changes its header, copy it again (and put the search button back)."""
    material = pytest.importorskip("material")
    theirs = (Path(material.__file__).parent / "templates/partials/header.html").read_text()
    ours = (REPO / "papershelf/publish/theme/partials/header.html").read_text()

    def around_search(template: str, start: str, end: str) -> tuple[str, str]:
        body = template.split("-#}\n", 1)[1]
        return body[: body.index(start)], body[body.index(end) :]

    search_end = "    {% if config.repo_url %}"
    assert around_search(ours, "    {#- papershelf:", search_end) == around_search(
        theirs, '    {% if "material/search" in config.plugins %}', search_end
    )
    assert 'class="md-header__button md-icon ps-search-button"' in ours


@pytest.mark.browser
@pytest.mark.parametrize("name, viewport", [("1400", DESKTOP), ("390", PHONE)])
def test_screenshot_of_a_paper_page(browser, real_url, paper_path, tmp_path, name, viewport):
    """A paper page at desktop and phone widths, saved for review."""
    folder = Path(os.environ.get("PYTEST_ARTIFACTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    context, page, _ = load(browser, real_url + paper_path, viewport)
    path = folder / f"paper-page-{name}px.png"
    page.screenshot(path=path, full_page=True)
    # Nothing is wider than the screen (no sideways scrolling on a phone).
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    context.close()
    print(f"\nscreenshot: {path}")
    assert path.stat().st_size > 10_000
