"""Light pages and their layout (issue 16, items 5 and 7): what a paper page costs to load,
the header's search loaded only when used, and how the pages look on a desktop and a phone.

The weight is the sum of the response bodies a page load fetches (uncompressed), in headless
Chromium; the figures are printed (``pytest -s``). Screenshots of a paper page go to
``$PYTEST_ARTIFACTS`` when it is set, else to the test's temporary directory.
"""

import html
import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import sqlite_utils

from papershelf.publish.charts import hbar_chart

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
        assert any(url.endswith("/pagefind/0/pagefind-ui.js") for url in fetched)
        assert any(url.endswith("/pagefind/bundles.json") for url in fetched)
        # The chunks this query needs, of every bundle (conftest.real_site makes three).
        searched = {
            url.split("/pagefind/")[1].split("/")[0] for url in fetched if ".pf_index" in url
        }
        assert searched == {"0", "1", "2"}
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


# ---- Layout (item 7) ----------------------------------------------------------------------


@pytest.mark.browser
def test_the_home_statistics_are_one_row_not_a_list(browser, real_url):
    context, page, _ = load(browser, real_url + "/")
    items = page.locator(".ps-stats li").evaluate_all(
        """items => items.map(item => [item.offsetTop, getComputedStyle(item).marginLeft,
                                        getComputedStyle(item).display])"""
    )
    style = page.locator(".ps-stats ul").evaluate(
        "list => [getComputedStyle(list).display, getComputedStyle(list).listStyleType]"
    )
    context.close()
    assert style == ["flex", "none"]
    assert len(items) >= 5 and {(top, margin) for top, margin, _ in items[:4]} == {
        (items[0][0], "0px")
    }  # side by side, not indented (the date range may wrap)


@pytest.mark.browser
def test_abstracts_are_ragged_right_and_hyphenated(browser, real_url, paper_path):
    context, page, _ = load(browser, real_url + paper_path, PHONE)
    style = page.locator(".ps-abstract").evaluate(
        """abstract => [getComputedStyle(abstract).textAlign, getComputedStyle(abstract).hyphens,
                        abstract.closest("[lang]").lang]"""
    )
    context.close()
    assert style[0] in ("start", "left") and style[1:] == ["auto", "en"]


@pytest.fixture(scope="module")
def topic_path(real_db):
    db = sqlite_utils.Database(real_db)
    return f"/topics/{db.execute('select topic from paper_topics limit 1').fetchone()[0]}/"


@pytest.mark.browser
@pytest.mark.parametrize(
    "viewport, drawing", [(PHONE, "-light-narrow.svg"), (DESKTOP, "-light.svg#only-light")]
)
def test_charts_show_their_labels_at_their_size(browser, real_url, topic_path, viewport, drawing):
    """On a phone the narrow drawing, shown at about its own size: its 11 and 12 px labels
    are not shrunk to 5 px as the wide one's were."""
    for path in ("/", topic_path):
        context, page, _ = load(browser, real_url + path, viewport)
        shown = page.locator(".ps-chart img").evaluate_all(
            """images => images.filter(image => image.offsetWidth > 0).map(image =>
                 [image.currentSrc, image.offsetWidth / image.naturalWidth])"""
        )
        context.close()
        assert len(shown) == (2 if path == "/" else 1), path
        for source, scale in shown:
            assert source.endswith(drawing)  # and the light palette's
            assert scale > 0.95, (path, viewport, source, scale)


def svg_texts(svg: str) -> list[str]:
    """The text elements of a chart, a label's lines joined by spaces."""
    root = ET.fromstring(svg)
    return [" ".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text")]


def test_no_chart_label_is_cut_and_no_list_repeats_a_chart(real_site, real_db):
    root, _ = real_site
    site = root / "site"
    db = sqlite_utils.Database(real_db)
    top = db.execute(
        "select name, count(*) from paper_topics join topics on slug = topic "
        "group by topic order by count(*) desc, topic limit 12"
    ).fetchall()
    for drawing in ("topics-light.svg", "topics-dark-narrow.svg"):
        texts = svg_texts((site / "charts" / drawing).read_text(encoding="utf-8"))
        assert [name for name, _ in top if name not in texts] == [], drawing
    charts = sorted((site / "charts").glob("*.svg"))
    assert len(charts) > 8 and not [c.name for c in charts if "…" in c.read_text("utf-8")]
    home = (site / "index.html").read_text(encoding="utf-8")
    # The largest topics are a chart with its data in words, not a chart and a list.
    assert not re.search(r'<li><a href="topics/[^"]+/">', home)
    alt = re.search(r'<img alt="(Largest topics: [^"]*)"', home)[1]
    for name, count in top:
        assert f"{html.escape(name)}, {count} papers" in alt


def test_long_labels_wrap_onto_lines_that_fit():
    label = "Retrieval and retrieval-augmented generation for " + "x" * 70 + " and more"
    for width in (720, 360):
        svg = hbar_chart([label, "b"], [5, 1], "Largest topics", "light", width)
        root = ET.fromstring(svg)
        lines = [t.text for t in root.iter("{http://www.w3.org/2000/svg}tspan")]
        room = min(300, round(width * 0.45)) - 8  # the label column, less its gap
        assert "".join(lines[:-1]).replace(" ", "") == label.replace(" ", "")  # nothing cut
        assert max(len(line) for line in lines) * 12 * 0.6 <= room
        assert int(root.get("height")) > 34 + 2 * 22 + 10  # rows grew for the lines
