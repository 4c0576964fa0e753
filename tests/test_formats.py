"""Saved HTML pages and the daily-papers JSON read as listings, alone and mixed."""

import datetime as dt
import shutil

import pytest
import sqlite_utils

from papershelf.collection.papers import merge_listings
from papershelf.collection.topics import load_topics
from papershelf.errors import InputError
from papershelf.ingest.formats import (
    html_to_text,
    parse_daily_papers,
    parse_html_listing,
    read_listing,
)

from .conftest import FIXTURES, TOPICS, build_site_into

FIELDS = ("title", "abstract", "authors_count", "published", "upvotes", "year_inferred")


def fields(listing):
    return [tuple(getattr(e, f) for f in FIELDS) for e in listing.entries]


def test_html_and_text_copies_of_a_listing_give_the_same_entries():
    text = read_listing(FIXTURES / "rich.txt")
    html = read_listing(FIXTURES / "daily.html")
    assert html.layout == "html"
    assert fields(html) == fields(text)
    assert (html.date, html.year) == (text.date, text.year)


def test_html_title_links_give_arxiv_ids_and_lines_point_into_the_html():
    listing = read_listing(FIXTURES / "daily.html")
    assert [e.arxiv_id for e in listing.entries] == [
        "2503.06072",
        "2410.17146",
        "2302.02676",
        "2412.01981",
    ]
    raw = (FIXTURES / "daily.html").read_text(encoding="utf-8").splitlines()
    for entry in listing.entries:
        assert entry.title in raw[entry.line - 1]


def test_html_conversion_drops_scripts_styles_and_navigation():
    text, _ = html_to_text((FIXTURES / "daily.html").read_text(encoding="utf-8"))
    assert "hubConfig" not in text and "margin" not in text
    assert "Hugging Face" not in text  # the navigation and the footer
    assert "byAK and the research community" in text


def test_bad_html_listing_names_the_html_line():
    html = (FIXTURES / "daily.html").read_text(encoding="utf-8")
    broken = html.replace(
        "<p>We train a process reward model for math reasoning from outcome labels alone.</p>", ""
    )
    with pytest.raises(InputError) as info:
        parse_html_listing(broken, "page.html")
    line = next(n for n, s in enumerate(broken.splitlines(), 1) if "Free Process Rewards" in s)
    assert str(info.value) == (
        f"page.html:{line}: truncated entry: the title 'Free Process Rewards without Process "
        "Labels' has no abstract"
    )


def test_daily_papers_json_fields():
    listing = read_listing(FIXTURES / "daily_papers.json")
    assert (listing.layout, listing.date, listing.year_source) == (
        "json",
        dt.date(2025, 8, 14),
        "explicit",
    )
    first, hindsight, sparse = listing.entries
    assert first.title == "Free Process Rewards without Process Labels"
    assert (
        first.abstract
        == "We train a process reward model for math reasoning from outcome labels alone."
    )
    assert (first.arxiv_id, first.authors_count, first.upvotes) == ("2412.01981", 9, 7)
    assert first.authors[:2] == ("Lifan Yuan", "Wendi Li")
    assert first.published == dt.date(2025, 8, 13)
    assert (first.github_repo, first.github_stars) == (
        "https://github.com/PRIME-RL/ImplicitPRM",
        142,
    )
    assert first.ai_keywords == ("process reward model", "implicit PRM", "outcome labels")
    # projectPage given on the item rather than the paper is accepted too
    assert hindsight.project_page == "https://example.github.io/hindsight/"
    assert (sparse.github_repo, sparse.project_page, sparse.ai_summary) == (None, None, None)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "x.json:1: invalid JSON: Expecting property name enclosed in double quotes"),
        ('{"papers": []}', "x.json:1: expected a JSON array of daily papers"),
        ("[]", "x.json:1: no entries found: the JSON array is empty"),
        ('[\n  {"paper": {"title": "T"}}\n]', "x.json:2: item 1: the paper 'T' has no summary"),
        ('[\n  {"title": "T"}\n]', "x.json:2: item 1: has no 'paper' object"),
        (
            '[{"paper": {"title": "T", "summary": "S", "publishedAt": "soon"}}]',
            "x.json:1: item 1: unparseable date 'soon'",
        ),
    ],
)
def test_bad_json_names_file_and_line(text, message):
    with pytest.raises(InputError) as info:
        parse_daily_papers(text, "x.json")
    assert str(info.value) == message


def test_text_html_and_json_of_the_same_papers_are_one_set_of_papers():
    listings = [
        read_listing(FIXTURES / name) for name in ("rich.txt", "daily.html", "daily_papers.json")
    ]
    papers, warnings = merge_listings(listings)
    assert warnings == []
    assert len(papers) == 5  # 4 shared by text and HTML, of which 2 in the JSON, + 1 new
    rewards = next(p for p in papers if p.title.startswith("Free Process Rewards"))
    assert [a.listing for a in rewards.appearances] == ["daily", "daily-papers", "rich"]
    assert rewards.arxiv_id == "2412.01981"
    assert rewards.upvotes == 7  # the highest count any listing shows
    assert rewards.authors_count == 9 and len(rewards.authors) == 9
    assert rewards.github_stars == 142


def test_arxiv_id_merges_papers_whose_titles_differ():
    html = (FIXTURES / "daily.html").read_text(encoding="utf-8")
    renamed = html.replace(
        ">Free Process Rewards without Process Labels<", ">Free Process Rewards Without Labels<"
    )
    listings = [
        parse_html_listing(renamed, "renamed.html"),
        read_listing(FIXTURES / "daily_papers.json"),
    ]
    papers, warnings = merge_listings(listings)
    assert len([p for p in papers if p.arxiv_id == "2412.01981"]) == 1
    assert any("title 'Free Process Rewards Without Labels' differs" in str(w) for w in warnings)


def test_database_and_pages_from_a_mix_of_formats(tmp_path):
    from papershelf.store.pipeline import build_database

    listings = tmp_path / "listings"
    listings.mkdir()
    for name in ("simple.txt", "rich.txt", "daily.html", "daily_papers.json"):
        shutil.copy(FIXTURES / name, listings / name)
    result = build_database(listings, TOPICS, tmp_path / "papers.db")
    assert (result.listings, result.papers, result.warnings) == (4, 7, [])
    db = sqlite_utils.Database(tmp_path / "papers.db")
    layouts = {r["name"]: r["layout"] for r in db["listings"].rows}
    assert layouts == {"daily": "html", "daily-papers": "json", "rich": "rich", "simple": "simple"}
    rewards = db["papers"].get("free-process-rewards-without-process-labels")
    assert (rewards["arxiv_id"], rewards["github_stars"], rewards["listing_count"]) == (
        "2412.01981",
        142,
        3,
    )
    authors = [
        r["author"]
        for r in db["paper_authors"].rows_where("paper = ?", [rewards["slug"]], order_by="position")
    ]
    assert authors[0] == "lifan-yuan" and len(authors) == 9
    assert [r["name"] for r in db["authors"].search("Yuan")] == ["Lifan Yuan"]
    assert list(db.execute("pragma foreign_key_check").fetchall()) == []

    site = build_site_into(tmp_path / "papers.db", tmp_path, tmp_path / "cache")
    page = (tmp_path / "site" / "papers" / rewards["slug"] / "index.html").read_text()
    assert 'href="https://arxiv.org/abs/2412.01981"' in page
    assert 'href="https://huggingface.co/papers/2412.01981"' in page
    assert "Lifan Yuan" in page and "142 stars" in page
    assert "implicit PRM" in page
    topics = len(load_topics(TOPICS))
    assert site.html_pages == 7 + topics + 4 + 6 + 3  # papers, topics, listings, indexes…
