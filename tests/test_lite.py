"""Every Datasette Lite link the site writes opens what it promises.

Datasette Lite downloads ``?url=`` (the database) and ``?metadata=`` (parsed with
Datasette's own ``parse_metadata``), starts Datasette with them and serves the route after
``#`` through ``ds.client.get(route, follow_redirects=True)``. These tests do the same with
the files the site publishes.
"""

import asyncio
import collections
import json
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlite_utils
import yaml
from datasette.app import Datasette
from datasette.utils import parse_metadata

from papershelf.store.schema import data_tables

from .conftest import CONFIG, METADATA

LITE = "https://lite.datasette.io/"
SITE_URL = yaml.safe_load(CONFIG.read_text())["site_url"]


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        href = dict(attrs).get("href")
        if tag == "a" and href and href.startswith(LITE):
            self.hrefs.append(href)


def lite_links(site: Path) -> dict[str, str]:
    """Every Datasette Lite link of the built site, and a page that has it."""
    links = {}
    for page in sorted(site.rglob("*.html")):
        parser = _Links()
        parser.feed(page.read_text(encoding="utf-8"))
        for href in parser.hrefs:
            links.setdefault(href, str(page.relative_to(site)))
    return links


def published_file(site: Path, url: str) -> Path:
    assert url.startswith(SITE_URL), url
    return site / url.removeprefix(SITE_URL)


@pytest.fixture(scope="module")
def site(real_site) -> Path:
    root, _ = real_site
    return root / "site"


def lite_datasette(site: Path, href: str) -> Datasette:
    """Datasette as Lite starts it for ``href``: its database, and its metadata if it names any."""
    query = parse_qs(urlsplit(href).query)
    metadata = {}
    if "metadata" in query:
        text = published_file(site, query["metadata"][0]).read_text(encoding="utf-8")
        metadata = parse_metadata(text)
    return Datasette([str(published_file(site, query["url"][0]))], immutables=[], metadata=metadata)


def test_the_metadata_is_published_as_json(site):
    published = json.loads((site / "downloads" / "metadata.json").read_text(encoding="utf-8"))
    expected = yaml.safe_load(METADATA.read_text())
    # The same metadata, with the tables this collection leaves empty hidden.
    db = sqlite_utils.Database(site / "downloads" / "papers.db")
    empty = [t for t in data_tables(db) if not db[t].count]
    assert empty == ["authors", "paper_authors", "retired_topics"]  # in this collection
    for name in empty:
        expected["databases"]["papers"]["tables"].setdefault(name, {})["hidden"] = True
    # and the topics that Papers in a topic accepts named on its page.
    in_topic = published["databases"]["papers"]["queries"]["papers_in_topic"]
    assert in_topic["description"].endswith(
        "Topics: " + "; ".join(f"{t['name']} ({t['slug']})" for t in db["topics"].rows) + "."
    )
    expected["databases"]["papers"]["queries"]["papers_in_topic"] = in_topic
    assert published == expected


def test_every_lite_link_carries_the_published_database_and_metadata(site):
    links = lite_links(site)
    assert len(links) > 290  # a link per paper, per topic, and the Data page's
    for href, page in links.items():
        query = parse_qs(urlsplit(href).query)
        assert query.keys() == {"url", "metadata"}, (page, href)
        assert published_file(site, query["url"][0]) == site / "downloads" / "papers.db"
        assert published_file(site, query["metadata"][0]) == site / "downloads" / "metadata.json"


def test_every_lite_link_resolves(site):
    by_files = collections.defaultdict(set)  # the route of every link, by the files it opens
    for href in lite_links(site):
        by_files[href.split("#")[0]].add(urlsplit(href).fragment or "/")

    async def failures(datasette: Datasette, routes: set[str]) -> list[tuple[str, int]]:
        codes = [
            (r, (await datasette.client.get(r, follow_redirects=True)).status_code)
            for r in sorted(routes)
        ]
        return [(route, code) for route, code in codes if code != 200]

    for files, routes in sorted(by_files.items()):
        assert asyncio.run(failures(lite_datasette(site, files), routes)) == [], files
    expected = {
        "/papers/search?q=lora",
        "/papers/topic_list",
        "/papers/papers_in_topic?topic=model-merging",
    }
    assert expected <= set().union(*by_files.values())


def test_the_data_page_lists_every_canned_query_by_its_title(site):
    """Each canned query of the metadata, by the title Datasette shows (not its internal
    name), each link opening that query."""
    from bs4 import BeautifulSoup

    queries = yaml.safe_load(METADATA.read_text(encoding="utf-8"))["databases"]["papers"]["queries"]
    page = BeautifulSoup((site / "data" / "index.html").read_text(encoding="utf-8"), "html.parser")
    heading = page.find(id="canned-queries-in-datasette-lite")
    links = heading.find_next("ul").find_all("a")
    assert [a.get_text() for a in links] == [q["title"] for q in queries.values()]
    routes = [urlsplit(a["href"]).fragment.split("?")[0] for a in links]
    assert routes == [f"/papers/{name}" for name in queries]
    assert page.find("a", string="Data page") is None  # the page does not link to itself
