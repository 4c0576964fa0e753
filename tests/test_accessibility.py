"""axe-core, in headless Chromium, on one page of each type in the light and dark palettes.

axe-core comes with the axe-playwright-python package (the ``test`` extra). A page fails on
a serious or critical violation, and on any break in heading order.
"""

import pytest
import sqlite_utils

# One page of each type: (page type, path) by what the database holds.
STATIC_PAGES = {
    "home": "/",
    "papers index": "/papers/",
    "topics index": "/topics/",
    "listings index": "/listings/",
    "data": "/data/",
    "find": "/find/",
    "analysis index": "/analysis/",
    "notebook": "/analysis/exploring/",
    "notebook (tables)": "/analysis/querying/",
}
PAGE_TYPES = [*STATIC_PAGES, "paper", "topic", "listing"]
SCHEMES = {"light": "default", "dark": "slate"}  # what the browser prefers: Material's scheme
FAILING_IMPACTS = {"serious", "critical"}
FAILING_RULES = {"heading-order"}  # moderate for axe; issue 16 asks for it


@pytest.fixture(scope="module")
def axe():
    return pytest.importorskip("axe_playwright_python.sync_playwright").Axe()


@pytest.fixture(scope="module")
def page_paths(real_db):
    """The path of one page of each type."""
    db = sqlite_utils.Database(real_db)
    first = "select {0} from {1} order by {0} limit 1"
    topic = db.execute(
        "select topic from paper_topics join topics on topics.slug = topic "
        "group by topic order by position limit 1"
    ).fetchone()[0]
    return {
        **STATIC_PAGES,
        "paper": f"/papers/{db.execute(first.format('slug', 'papers')).fetchone()[0]}/",
        "topic": f"/topics/{topic}/",
        "listing": f"/listings/{db.execute(first.format('name', 'listings')).fetchone()[0]}/",
    }


def open_page(browser, url: str, scheme: str, page_type: str):
    """The page in a new context that prefers ``scheme``, with search results on the find page."""
    context = browser.new_context(color_scheme=scheme)
    page = context.new_page()
    page.goto(url, wait_until="load")
    if page_type == "find":
        page.locator(".pagefind-ui__search-input").fill("language model")
        page.locator(".pagefind-ui__result-link").first.wait_for(timeout=15000)
    return context, page


def describe(violation: dict) -> str:
    targets = ", ".join(" ".join(node["target"]) for node in violation["nodes"][:3])
    more = len(violation["nodes"]) - 3
    return (
        f"{violation['id']} ({violation['impact']}): {violation['help']}; "
        f"{len(violation['nodes'])} element(s): {targets}{f' and {more} more' if more > 0 else ''}"
    )


@pytest.mark.browser
@pytest.mark.parametrize("scheme", sorted(SCHEMES))
@pytest.mark.parametrize("page_type", PAGE_TYPES)
def test_no_serious_accessibility_violation(browser, real_url, page_paths, axe, page_type, scheme):
    context, page = open_page(browser, real_url + page_paths[page_type], scheme, page_type)
    try:
        # The palette followed the browser's preference (else both runs test one palette).
        assert page.evaluate("document.body.dataset.mdColorScheme") == SCHEMES[scheme]
        violations = axe.run(page).response["violations"]
    finally:
        context.close()
    failing = [v for v in violations if v["impact"] in FAILING_IMPACTS or v["id"] in FAILING_RULES]
    problems = [describe(v) for v in failing]
    assert not problems, f"{page_type} page, {scheme} palette:\n" + "\n".join(problems)


@pytest.mark.browser
@pytest.mark.parametrize("scheme", sorted(SCHEMES))
def test_links_in_text_are_underlined(browser, real_url, page_paths, scheme):
    """Colour alone does not tell a link in a sentence from its words (WCAG 1.4.1)."""
    context, page = open_page(browser, real_url + page_paths["home"], scheme, "home")
    try:
        decorations = page.locator("article p a:not(.headerlink)").evaluate_all(
            "links => links.map(a => getComputedStyle(a).textDecorationLine)"
        )
    finally:
        context.close()
    assert decorations and set(decorations) == {"underline"}
