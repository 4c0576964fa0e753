"""What the site says to tools that read it without showing it, and a paper page's header:
citation_*, Open Graph and JSON-LD in the head, Atom feeds, BibTeX; built from listings
with and without arXiv ids and authors, hostile text included (tests/fixtures)."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET

import bibtexparser
import feedparser
import pytest
import sqlite_utils
from bibtexparser.middlewares import LatexDecodingMiddleware
from bs4 import BeautifulSoup

from papershelf.publish.citations import FEED_SIZE
from papershelf.publish.render import paper_header
from papershelf.publish.site_url import read_site_url
from papershelf.store.pipeline import build_database

from .conftest import CONFIG, FIXTURES, TOPICS, build_site_into, serve

ATOM = "{http://www.w3.org/2005/Atom}"
SITE_URL = read_site_url(CONFIG)

# Listings with arXiv ids and authors (JSON), hostile text in every format, dates with and
# without a year (text), under names with distinct stems.
LISTINGS = {
    "daily_papers.json": "daily.json",
    "hostile.json": "hostile-json.json",
    "hostile.txt": "hostile-text.txt",
    "rich.txt": "rich.txt",
    "simple.txt": "simple.txt",
}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """(root, database): a site built from :data:`LISTINGS`."""
    root = tmp_path_factory.mktemp("scholarly")
    (root / "listings").mkdir()
    for fixture, name in LISTINGS.items():
        shutil.copy(FIXTURES / fixture, root / "listings" / name)
    build_database(root / "listings", TOPICS, root / "papers.db", site_url=SITE_URL)
    build_site_into(root / "papers.db", root, root / "cache")
    return root, sqlite_utils.Database(root / "papers.db")


def soup(root, page: str) -> BeautifulSoup:
    return BeautifulSoup((root / "site" / page / "index.html").read_text("utf-8"), "html.parser")


def metas(head: BeautifulSoup, attribute: str, name: str) -> list[str]:
    return [tag["content"] for tag in head.find_all("meta", attrs={attribute: name})]


def json_ld(page: BeautifulSoup) -> dict:
    (script,) = page.find_all("script", type="application/ld+json")
    return json.loads(script.string)


def papers(db, where: str) -> list[dict]:
    return list(db.query(f"select * from papers where {where} order by slug"))


def authors_of(db, slug: str) -> list[str]:
    rows = db.query(
        "select name from paper_authors join authors on slug = author"
        " where paper = ? order by position",
        [slug],
    )
    return [row["name"] for row in rows]


def test_paper_head_with_arxiv_id_and_authors(built):
    root, db = built
    paper = papers(db, "arxiv_id = '2412.01981'")[0]
    authors = authors_of(db, paper["slug"])
    assert len(authors) > 1
    head = soup(root, f"papers/{paper['slug']}").head
    assert metas(head, "name", "citation_title") == [paper["title"]]
    assert metas(head, "name", "citation_author") == authors
    date = paper["published"].replace("-", "/")
    assert metas(head, "name", "citation_publication_date") == [date]
    assert metas(head, "name", "citation_arxiv_id") == ["2412.01981"]
    assert metas(head, "name", "citation_pdf_url") == ["https://arxiv.org/pdf/2412.01981"]
    url = f"{SITE_URL}papers/{paper['slug']}/"
    assert metas(head, "property", "og:url") == [url]
    assert metas(head, "property", "og:type") == ["article"]
    assert metas(head, "property", "og:title") == [paper["title"]]
    assert metas(head, "property", "og:site_name") == ["papershelf"]
    assert metas(head, "name", "twitter:card") == ["summary"]
    article = json_ld(head)
    assert article["@type"] == "ScholarlyArticle"
    assert (article["name"], article["url"], article["datePublished"]) == (
        paper["title"],
        url,
        paper["published"],
    )
    assert [a["name"] for a in article["author"]] == authors
    assert article["identifier"]["value"] == "2412.01981"


def test_paper_head_without_arxiv_id(built):
    root, db = built
    for paper in papers(db, "arxiv_id is null and published is null"):
        head = soup(root, f"papers/{paper['slug']}").head
        assert metas(head, "name", "citation_title") == [paper["title"]]
        for absent in ("citation_arxiv_id", "citation_pdf_url", "citation_publication_date"):
            assert metas(head, "name", absent) == []
        assert "identifier" not in json_ld(head) and "datePublished" not in json_ld(head)


def test_titles_and_descriptions_are_short_and_cut_at_a_word(built):
    root, db = built
    for paper in papers(db, "1"):
        head = soup(root, f"papers/{paper['slug']}").head
        title = head.title.string
        assert len(title) <= 60 and title.endswith(" - papershelf")
        shown = title.removesuffix(" - papershelf")
        whole = " ".join(paper["title"].split())
        assert shown == whole or (shown.endswith("…") and whole.startswith(shown[:-1]))
        (description,) = metas(head, "name", "description")
        abstract = " ".join(paper["abstract"].split())
        assert len(description) <= 160
        if description != abstract:  # cut: before a space, never inside a word
            kept = description.removesuffix("…")
            assert description.endswith("…") and abstract.startswith(kept)
            assert abstract[len(kept.rstrip(" ,;:.-–—"))] in " ,;:.-–—"
    assert soup(root, "").head.title.string == "papershelf"


def test_hostile_text_stays_text_in_the_head(built):
    root, db = built
    hostile = papers(db, "instr(title, '<script>') or instr(title, '{%')")
    assert len(hostile) >= 3
    for paper in hostile:
        head = soup(root, f"papers/{paper['slug']}").head
        assert metas(head, "name", "citation_title") == [paper["title"]]
        assert metas(head, "name", "citation_author") == authors_of(db, paper["slug"])
        assert json_ld(head)["name"] == paper["title"]  # one script, parsed whole
        assert head.find_all("script", src=False, type=False)[1:] == []  # Material's only
        assert len(head.find_all("meta", property="og:title")) == 1


def test_collection_and_topic_pages_are_collection_pages_with_feeds(built):
    root, db = built
    topic = db.execute(
        "select topic, count(*) from paper_topics group by topic order by 2 desc, 1"
    ).fetchone()[0]
    for page, items in (("", 0), ("papers", 0), (f"topics/{topic}", 1)):
        html = soup(root, page)
        page_json = json_ld(html.head)
        assert page_json["@type"] == "CollectionPage"
        assert page_json["url"] == SITE_URL + (page + "/" if page else "")
        feeds = [
            link["href"]
            for link in html.head.find_all("link", rel="alternate")
            if link.get("type") == "application/atom+xml"
        ]
        assert len(feeds) == 1 + items  # the collection's, and the topic's own
    topic_page = soup(root, f"topics/{topic}")
    subscribe = topic_page.select_one("article .ps-subscribe a")
    assert "Subscribe" in subscribe.text and subscribe["href"] == "feed.xml"
    assert soup(root, "").select_one("article .ps-subscribe a")["href"] == "feed.xml"


def feed_files(root) -> list:
    site = root / "site"
    return [site / "feed.xml", *sorted((site / "topics").glob("*/feed.xml"))]


def test_feeds_parse_and_hold_what_rfc_4287_requires(built):
    root, db = built
    files = feed_files(root)
    assert len(files) > 3
    # A feed without entries is as new as the collection: its newest date of any kind.
    (newest,) = db.execute(
        "select max(day) from (select max(published) as day from papers"
        " union all select max(date) from listings)"
    ).fetchone()
    for path in files:
        assert not feedparser.parse(path.read_bytes()).bozo, path
        feed = ET.fromstring(path.read_bytes())
        for element in ("id", "title", "updated", "author/name"):
            assert feed.find(ATOM + element.replace("/", "/" + ATOM)).text, (path, element)
        entries = feed.findall(f"{ATOM}entry")
        assert len(entries) <= FEED_SIZE
        for entry in entries:
            for element in ("id", "title", "updated"):
                assert entry.find(ATOM + element).text, (path, element)
            assert [link.get("rel") for link in entry.findall(f"{ATOM}link")] == ["alternate"]
        dates = [entry.find(f"{ATOM}updated").text for entry in entries]
        assert dates == sorted(dates, reverse=True)
        assert feed.find(f"{ATOM}updated").text == (dates[0] if dates else f"{newest}T00:00:00Z")


def test_collection_feed_is_the_newest_dated_papers_as_text(built):
    root, db = built
    feed = ET.fromstring((root / "site" / "feed.xml").read_bytes())
    expected = list(
        db.query("select * from papers where published is not null order by published desc, slug")
    )[:FEED_SIZE]
    entries = feed.findall(f"{ATOM}entry")
    assert [e.find(f"{ATOM}id").text for e in entries] == [
        f"{SITE_URL}papers/{p['slug']}/" for p in expected
    ]
    titles = [e.find(f"{ATOM}title").text for e in entries]
    assert titles == [p["title"] for p in expected]
    assert any("<script>" in title for title in titles)  # a hostile title, as text


def decoded(text: str) -> str:
    """A title as pylatexenc decodes it compared with ours: whitespace collapsed, and its
    U+02C6 for \\textasciicircum (LaTeX's "^") read as "^"."""
    return " ".join(text.replace("\u02c6", "^").split())


def test_papers_bib_parses_back_with_the_same_titles(built):
    root, db = built
    text = (root / "site" / "downloads" / "papers.bib").read_text("utf-8")
    library = bibtexparser.parse_string(text, append_middleware=[LatexDecodingMiddleware()])
    assert library.failed_blocks == []
    every = papers(db, "1")
    assert [entry.key for entry in library.entries] == [p["slug"] for p in every]
    assert [decoded(entry["title"]) for entry in library.entries] == [
        " ".join(p["title"].split()) for p in every
    ]
    with_arxiv = {e.key: e for e in library.entries if "eprint" in e.fields_dict}
    assert with_arxiv and all(e["archivePrefix"] == "arXiv" for e in with_arxiv.values())


def test_paper_page_shows_its_bibtex_entry(built):
    root, db = built
    text = (root / "site" / "downloads" / "papers.bib").read_text("utf-8")
    for paper in papers(db, "instr(title, '{%') or arxiv_id is not null"):
        code = soup(root, f"papers/{paper['slug']}").select_one("article pre code").get_text()
        assert code.startswith(f"@misc{{{paper['slug']},") and code in text


def facts(root, slug: str) -> str:
    return " ".join(soup(root, f"papers/{slug}").select_one("article .ps-facts").text.split())


def test_paper_header_says_what_the_listing_showed(built):
    root, db = built
    for paper in papers(db, "1"):
        shown = facts(root, paper["slug"])
        if paper["published"] is None:
            assert "Date not shown in the listing" in shown
        elif paper["year_inferred"]:
            assert "without a year" in shown and "*" not in shown
        if paper["upvotes"] is not None:
            s = "" if paper["upvotes"] == 1 else "s"
            assert f"{paper['upvotes']} upvote{s} " in shown + " "
        if paper["arxiv_id"] and paper["arxiv_id"][0].isdigit():
            assert "arXiv abstract · PDF · Hugging Face" in shown
    assert papers(db, "upvotes = 1") and papers(db, "published is null")


def test_an_inferred_year_is_explained_in_words():
    paper = {
        "published": "2025-05-30",
        "published_text": "May 30",
        "year_inferred": 1,
        "upvotes": 1,
        "authors_count": 1,
        "arxiv_id": None,
    }
    assert paper_header(paper, [])["facts"] == [
        "Published May 30, 2025 (the listing showed “May 30”, without a year;"
        " 2025 is inferred from it)",
        "1 upvote",
        "1 author (names not shown in the listing)",
    ]


@pytest.mark.browser
def test_paper_topic_and_listing_pages_highlight_their_tab_without_a_sidebar(browser, built):
    root, db = built
    paper = papers(db, "arxiv_id = '2412.01981'")[0]["slug"]
    topic = db.execute("select topic from paper_topics order by topic").fetchone()[0]
    listing = db.execute("select name from listings order by name").fetchone()[0]
    server = serve(root / "site")
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        requested = []
        page.on("request", lambda request: requested.append(request.url))
        for path, tab in (
            (f"papers/{paper}/", "Papers"),
            (f"topics/{topic}/", "Topics"),
            (f"listings/{listing}/", "Listings"),
        ):
            page.goto(f"{url}/{path}")
            assert page.locator(".md-tabs__item--active").inner_text().strip() == tab
            assert not page.locator(".md-sidebar--primary").is_visible()
        page.goto(f"{url}/papers/{paper}/")
        # Material gives a code block its copy button once it is on screen.
        page.locator("article pre").first.scroll_into_view_if_needed()
        page.locator("article pre button[data-md-type='copy']").wait_for(timeout=10000)
        # The feed links are not read as language versions (Material would fetch the
        # sitemap beside each): no page loads the sitemap.
        assert [url for url in requested if "sitemap" in url] == []
        page.close()
    finally:
        server.shutdown()


def test_a_guessed_year_is_not_cited_as_a_date():
    """A listing showing "May 30" without a year: the page explains the guessed year, but
    BibTeX, the citation tags and JSON-LD (read as fact by indexers) carry no date."""
    from papershelf.publish.citations import bibtex_entry
    from papershelf.publish.pagehead import citation_tags, scholarly_article

    paper = {
        "slug": "a-paper",
        "title": "A Paper",
        "abstract": "An abstract.",
        "published": "2025-05-30",
        "year_inferred": 1,
        "arxiv_id": None,
    }
    site = {"name": "papershelf", "url": "https://example.org/"}
    for shown, inferred in ((False, 1), (True, 0)):
        paper["year_inferred"] = inferred
        entry = bibtex_entry(paper, [], "")
        tags = dict(citation_tags(paper, []))
        article = scholarly_article(paper, [], "", site)
        assert ("2025-05-30" in entry) is shown
        assert ("citation_publication_date" in tags) is shown
        assert ("datePublished" in article) is shown
