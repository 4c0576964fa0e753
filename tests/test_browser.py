"""Drive the built site in headless Chromium (Debian's chromium, via Playwright)."""

import shutil
from urllib.parse import urlsplit

import pytest
import sqlite_utils

from papershelf.publish.search import arrival_order
from papershelf.publish.sitedata import load_site_data

from .conftest import heading, serve

pytestmark = pytest.mark.browser


def test_browse_home_topic_paper_related(browser, real_url, real_db):
    db = sqlite_utils.Database(real_db)
    page = browser.new_page()
    page.goto(real_url + "/")
    assert heading(page) == "papershelf"

    page.locator("article a[href='topics/']").first.click()  # All topics
    page.wait_for_url("**/topics/")
    link = page.locator("article table a").first
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


def test_header_search_finds_a_known_title(browser, real_url):
    """The header's search is Pagefind's, in a dialog, loaded when first used."""
    page = browser.new_page()
    page.goto(real_url + "/")
    page.locator(".ps-search-button").click()
    dialog = page.locator("dialog.ps-search")
    dialog.locator(".pagefind-ui__search-input").fill("Surgical Concept Erasing")
    result = dialog.locator(".pagefind-ui__result-link").first
    result.wait_for(timeout=15000)
    assert "Surgical Concept Erasing" in result.inner_text()
    result.click()
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


def test_the_search_finds_papers_of_every_bundle_ranked_together(browser, real_url, real_db):
    """The index is in bundles (conftest.real_site: 100 papers each); one query searches
    all of them, and each result links to its own page."""
    arrived = arrival_order(load_site_data(real_db, None))
    papers = sqlite_utils.Database(real_db)["papers"]
    page = browser.new_page()
    page.goto(real_url + "/find/")
    for slug in (arrived[0], arrived[150], arrived[-1]):  # in bundles 0, 1 and 2
        title = papers.get(slug)["title"]
        page.locator(".pagefind-ui__search-input").fill(title)
        result = page.locator(".pagefind-ui__result-link", has_text=title).first
        result.wait_for(timeout=15000)
        assert result.get_attribute("href").endswith(f"/papers/{slug}/")
    page.close()


def shows_title(page, title: str) -> bool:
    """Whether the tab's title is ``title`` (whitespace collapsed), or its start cut at a
    word with an ellipsis: titles stay within 60 characters."""
    shown = page.title().removesuffix(" - papershelf")
    whole = " ".join(title.split())
    return shown == whole or (shown.endswith("…") and whole.startswith(shown[:-1]))


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
            assert shows_title(page, paper["title"])
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


# ---- Every page built from a hostile collection -----------------------------------------

# The three hostile fixtures, one per format, under names with distinct stems.
HOSTILE_FIXTURES = {
    "hostile.txt": "hostile-text.txt",
    "hostile.json": "hostile-json.json",
    "hostile.html": "hostile-html.html",
}

# What a page may not contain, checked in the page itself after it loaded: attributes that
# run script (on*), URLs with a scheme that runs or embeds content, script elements with a
# listing's words in them, and a refresh to any URL. Browsers ignore ASCII whitespace and
# control characters around and inside a scheme, so those are dropped before comparing.
UNSAFE_MARKUP = """() => {
  const unsafeScheme = /^(javascript|data|vbscript):/i;
  const urlAttributes = new Set(["href", "src", "srcset", "action", "formaction", "data",
    "poster", "background", "cite", "ping", "xlink:href", "srcdoc"]);
  const found = [];
  const describe = (element) => element.outerHTML.slice(0, 160);
  for (const element of document.querySelectorAll("*")) {
    for (const attribute of element.attributes) {
      const name = attribute.name.toLowerCase();
      const value = attribute.value.replace(/[\\u0000-\\u0020]/g, "");
      if (name.startsWith("on")) found.push(`event handler ${name}: ${describe(element)}`);
      if (element.matches("form.pagefind-ui__form") && value === "javascript:void(0);")
        continue;  // Pagefind's own search form, which never submits
      if (urlAttributes.has(name) && (name === "srcdoc" || unsafeScheme.test(value)))
        found.push(`${name}=${attribute.value.slice(0, 60)}: ${describe(element)}`);
    }
  }
  for (const script of document.querySelectorAll("script")) {
    if (script.type === "application/ld+json") {
      // Data, never run: it must parse whole (nothing in it closed the element early).
      try { JSON.parse(script.textContent); } catch (e) { found.push(`JSON-LD: ${e}`); }
    } else if (/alert|msgbox/.test(script.textContent)) {
      found.push(`script: ${describe(script)}`);
    }
  }
  for (const meta of document.querySelectorAll("meta[http-equiv]")) {
    if (/refresh/i.test(meta.httpEquiv)) found.push(`refresh: ${describe(meta)}`);
  }
  return found;
}"""


@pytest.fixture(scope="module")
def hostile_collection(tmp_path_factory):
    """(root, server URL): database and site built from the text, JSON and HTML hostile
    fixtures together, served on 127.0.0.1."""
    from papershelf.publish.site_url import read_site_url
    from papershelf.store.pipeline import build_database

    from .conftest import CONFIG, FIXTURES, TOPICS, build_site_into

    root = tmp_path_factory.mktemp("hostile-collection")
    listings = root / "listings"
    listings.mkdir()
    for fixture, name in HOSTILE_FIXTURES.items():
        shutil.copy(FIXTURES / fixture, listings / name)
    build_database(listings, TOPICS, root / "papers.db")
    build_site_into(root / "papers.db", root, root / "cache")
    # Served under site_url's path, as published: the 404 page's links are absolute.
    prefix = urlsplit(read_site_url(CONFIG)).path.strip("/")
    published = root / "published" / prefix
    published.parent.mkdir(parents=True, exist_ok=True)
    published.symlink_to(root / "site", target_is_directory=True)
    server = serve(root / "published")
    yield root, f"http://127.0.0.1:{server.server_address[1]}/{prefix}".rstrip("/")
    server.shutdown()


def built_pages(site) -> list[str]:
    """Every HTML page of the site, as the path a visitor asks for."""
    paths = []
    for path in sorted(site.rglob("*.html")):
        relative = path.relative_to(site).as_posix()
        paths.append("/" + relative.removesuffix("index.html"))
    return paths


def test_no_page_built_from_a_hostile_collection_runs_or_links_script(browser, hostile_collection):
    root, url = hostile_collection
    context = browser.new_context()
    page = context.new_page()
    dialogs, errors, unsafe = [], [], []
    page.on("dialog", lambda dialog: (dialogs.append((page.url, dialog.message)), dialog.dismiss()))
    page.on("pageerror", lambda error: errors.append((page.url, str(error))))
    page.on(
        "console",
        lambda message: message.type == "error" and errors.append((page.url, message.text)),
    )
    paths = built_pages(root / "site")
    for path in paths:
        page.goto(url + path, wait_until="load")
        unsafe.extend((path, finding) for finding in page.evaluate(UNSAFE_MARKUP))
    context.close()
    assert len(paths) > 50  # every paper, topic and listing page, and the rest
    assert (dialogs, unsafe, errors) == ([], [], [])


# Text each hostile paper's page must show literally, by a part of the paper's title.
LITERAL_TEXT = {
    "JSON Hostile Title": [
        "<script>alert(1)</script> JSON Hostile Title {: onerror=alert(1) }",
        '{: onerror=alert(1) } and {: onerror="alert(1)" } and a [x](javascript:alert(1))',
        "<img src=x onerror=alert(1)> and <script>alert(1)</script>;",
        "{{ config.site_name }} and {% raw %} and {% endraw %}",
        "&lt;script&gt;alert(1)&lt;/script&gt; and &amp;amp; entities",
        "<svg onload=alert(1)> Mallory",
        '{: onclick="alert(1)" } Eve',
        "javascript:alert(1), <b onmouseover=alert(1)>bold</b>",
        "--- title: injected --- {{ 7*7 }} <script>alert(1)</script>",
    ],
    "HTML Hostile Title": [
        "<script>alert(1)</script> HTML Hostile Title <img src=x onerror=alert(1)> "
        "{: onerror=alert(1) }",
        "first, then {: onerror=alert(1) } and [x](javascript:alert(1));",
        "escaped tags <img src=x onerror=alert(1)> and &lt;b&gt; entities;",
        "{{ config.site_name }} and {% raw %};",
    ],
    "Templates in JSON": ["{% raw %}{{ page.title }}{% endraw %} Templates in JSON"],
    "DEL in the title, attribute lists": ["![a](http://127.0.0.1:9/x.png){: onerror=alert(4) }"],
}


def test_hostile_text_shows_literally_on_its_paper_page(browser, hostile_collection):
    root, url = hostile_collection
    db = sqlite_utils.Database(root / "papers.db")
    page = browser.new_page()
    for part, expected in LITERAL_TEXT.items():
        (slug, title), *others = db.execute(
            "select slug, title from papers where instr(title, ?) order by slug", [part]
        ).fetchall()
        assert others == [], part
        page.goto(f"{url}/papers/{slug}/")
        assert heading(page) == title
        assert shows_title(page, title)
        shown = " ".join(page.locator("article").inner_text().split())
        for literal in expected:
            assert literal in shown, (slug, literal)
    page.close()
