"""content/listings.yml: human names for listings, checked like topics.yml, used by the
database, Datasette and the site."""

import asyncio
import re
import shutil
from html import unescape

import pytest
import sqlite_utils
import yaml
from click.testing import CliRunner
from datasette.app import Datasette

from papershelf.cli import cli
from papershelf.ingest.listing_names import load_listing_names
from papershelf.store.pipeline import build_database

from .conftest import CONFIG, FIXTURES, LISTINGS, METADATA, REPO, TOPICS

HOSTILE_TITLE = "<script>alert(1)</script> *Mar* [x](javascript:alert(1)) & co"


@pytest.fixture
def content(tmp_path):
    """A content directory: listings/ with three fixtures, and no listings.yml yet."""
    listings = tmp_path / "content" / "listings"
    listings.mkdir(parents=True)
    for name in ("simple.txt", "rich.txt", "daily_papers.json"):
        shutil.copy(FIXTURES / name, listings / name)
    return tmp_path / "content"


def build(content, tmp_path, names: str | None = None) -> sqlite_utils.Database:
    if names is not None:
        (content / "listings.yml").write_text(names, encoding="utf-8")
    db_path = tmp_path / "papers.db"
    build_database(content / "listings", TOPICS, db_path)
    return sqlite_utils.Database(db_path)


def listing_rows(db) -> dict[str, dict]:
    return {row["filename"]: row for row in db["listings"].rows}


def test_without_listings_yml_titles_come_from_the_listing(content, tmp_path):
    rows = listing_rows(build(content, tmp_path))
    assert rows["simple.txt"]["title"] == "Hugging Face papers, Mar 14"
    assert rows["rich.txt"]["title"] == "Hugging Face daily papers, Nov 4"
    assert rows["daily_papers.json"]["title"] == "Hugging Face daily papers, 2025-08-14"
    assert {row["source_url"] for row in rows.values()} == {None}


def test_curated_title_source_and_date_are_stored(content, tmp_path):
    rows = listing_rows(
        build(
            content,
            tmp_path,
            "listings:\n"
            "  simple.txt:\n"
            "    title: Fine-tuning search, March 2024\n"
            "    source: https://huggingface.co/papers?q=fine-tuning\n"
            "    date: 2024-03-14\n"
            "  rich.txt: {title: Daily papers}\n",
        )
    )
    simple = rows["simple.txt"]
    assert (simple["title"], simple["source_url"]) == (
        "Fine-tuning search, March 2024",
        "https://huggingface.co/papers?q=fine-tuning",
    )
    assert (simple["date"], simple["year"], simple["year_source"]) == (
        "2024-03-14",
        2024,
        "listings.yml",
    )
    assert (rows["rich.txt"]["title"], rows["rich.txt"]["date"]) == ("Daily papers", "2025-11-04")
    assert rows["daily_papers.json"]["title"] == "Hugging Face daily papers, 2025-08-14"


def test_a_curated_date_gives_the_year_of_dates_shown_without_one(content, tmp_path):
    (content / "listings" / "daily_papers.json").unlink()  # it dates the same paper itself
    # Inferred, the year would be 2025: one more than the latest year the listing shows.
    db = build(content, tmp_path, "listings:\n  rich.txt:\n    date: 2024-11-04\n")
    undated = [
        row
        for row in db.query(
            "select p.published, p.published_text from papers p join paper_listings l "
            "on l.paper = p.slug where l.listing = 'rich' and p.year_inferred = 1"
        )
    ]
    assert [(row["published"], row["published_text"]) for row in undated] == [
        ("2024-08-13", "Aug 13")
    ]


def test_header_keeps_only_what_is_not_page_chrome(content, tmp_path):
    listing = content / "listings" / "simple.txt"
    listing.write_text(
        "new\n\nSubscribe\n\nFine-tuning, sorted by date\n\n" + listing.read_text(encoding="utf-8"),
        encoding="utf-8",
    )
    rows = listing_rows(build(content, tmp_path))
    assert rows["simple.txt"]["header"] == "Fine-tuning, sorted by date"
    assert rows["rich.txt"]["header"] == ""  # only "new", "Subscribe", "Daily Papers", …


BAD = [
    (
        "listings:\n  missing.txt: {title: A}\n",
        2,
        "unknown listing file 'missing.txt' (listing files: daily_papers.json, rich.txt, "
        "simple.txt)",
    ),
    ("listings:\n  simple.txt:\n    date: 2024-02-30\n", 3, "'2024-02-30' is not a date"),
    ("listings:\n  simple.txt:\n    date: March 14\n", 3, "'date' must be a date like 2024-03-14"),
    ("listings:\n  simple.txt:\n    titel: A\n", 3, "simple.txt: unknown key 'titel'"),
    (
        "listings:\n  simple.txt:\n    source: javascript:alert(1)\n",
        3,
        "simple.txt: 'source' must be an http(s) URL: 'javascript:alert(1)'",
    ),
    ("listings:\n  simple.txt:\n    source: huggingface.co/papers\n", 3, "http(s) URL"),
    ("listings:\n  simple.txt:\n    source: http://[::1\n", 3, "'source' must be an http(s) URL"),
    ("listings:\n  simple.txt:\n    date: 20240314\n", 3, "'date' must be a date like"),
    ("listings:\n  simple.txt:\n    date: 2024-03-14 10:00:00\n", 3, "'date' must be a date"),
    ("listings:\n  simple.txt:\n    title: [a, b]\n", 3, "'title' must be non-empty text"),
    ('listings:\n  simple.txt:\n    title: "a\\nb"\n', 3, "'title' must be one line"),
    (
        "listings:\n  simple.txt:\n    date: 2024-03-15\n",
        3,
        "simple.txt: date 2024-03-15 is not the listing's own date 'Mar 14'",
    ),
    (
        "listings:\n  daily_papers.json:\n    date: 2025-08-15\n",
        3,
        "daily_papers.json: date 2025-08-15 is not the listing's own date '2025-08-14'",
    ),
    ("listing:\n  simple.txt: {title: A}\n", 1, "unknown key 'listing' (expected 'listings')"),
    ("listings: [simple.txt]\n", 1, "'listings' must map listing file names to entries"),
    ("listings:\n  simple.txt: {title: [}\n", 2, "invalid YAML"),
]


@pytest.mark.parametrize("text, line, message", BAD)
def test_bad_listings_yml_names_file_and_line_and_keeps_the_database(
    content, tmp_path, text, line, message
):
    db_path = tmp_path / "papers.db"
    args = ["db", "--listings", content / "listings", "--topics", TOPICS, "--db", db_path]
    runner = CliRunner()
    assert runner.invoke(cli, [str(a) for a in args]).exit_code == 0
    before = db_path.read_bytes()
    (content / "listings.yml").write_text(text, encoding="utf-8")
    result = runner.invoke(cli, [str(a) for a in args])
    assert result.exit_code == 1
    assert f"Error: {content / 'listings.yml'}:{line}: " in result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert db_path.read_bytes() == before


def test_listings_meta_option_names_another_file(content, tmp_path):
    names = tmp_path / "names.yml"
    names.write_text("listings:\n  simple.txt: {title: From the option}\n", encoding="utf-8")
    (content / "listings.yml").write_text("listings:\n  simple.txt: {title: Beside}\n")
    db_path = tmp_path / "papers.db"
    args = ["db", "--listings", content / "listings", "--topics", TOPICS, "--db", db_path]
    result = CliRunner().invoke(cli, [str(a) for a in [*args, "--listings-meta", names]])
    assert result.exit_code == 0, result.output
    assert listing_rows(sqlite_utils.Database(db_path))["simple.txt"]["title"] == "From the option"


def test_the_committed_listings_yml_names_every_real_listing(real_db):
    files = sorted(path.name for path in LISTINGS.iterdir())
    names = load_listing_names(REPO / "content" / "listings.yml", files)
    assert sorted(names) == files
    rows = {row["filename"]: row for row in sqlite_utils.Database(real_db)["listings"].rows}
    assert {f: rows[f]["title"] for f in files} == {f: names[f].title for f in files}
    # No listing copy shows its URL or year: none is claimed.
    assert all(name.source_url is None and name.date is None for name in names.values())
    assert len({name.title for name in names.values()}) == len(files)


def test_datasette_labels_listings_by_title(real_db):
    metadata = yaml.safe_load(METADATA.read_text(encoding="utf-8"))
    datasette = Datasette([str(real_db)], immutables=[], metadata=metadata)
    response = asyncio.run(
        datasette.client.get(
            "/papers/paper_listings.json?_labels=on&_shape=array"
            "&listing=000-01ff736d1a2e613b&_size=1"
        )
    )
    assert response.status_code == 200
    assert response.json()[0]["listing"] == {
        "value": "000-01ff736d1a2e613b",
        "label": "Hugging Face papers, Mar 14: fine-tuning (few-shot, parameter-efficient)",
    }
    columns = metadata["databases"]["papers"]["tables"]["listings"]["columns"]
    assert {"title", "source_url"} <= set(columns)


@pytest.fixture
def hostile_named_site(content, tmp_path):
    """A site whose listings.yml holds markup in a title and a URL with quotes in it."""
    build(
        content,
        tmp_path,
        "listings:\n  simple.txt:\n"
        f"    title: {yaml.safe_dump(HOSTILE_TITLE).splitlines()[0]}\n"
        "    source: 'https://example.org/p?q=\"><script>x</script>&r=[a](javascript:alert(1))*b*'\n",
    )
    from papershelf.publish.site import build_site

    notebooks = tmp_path / "no-notebooks"
    notebooks.mkdir()
    build_site(
        tmp_path / "papers.db", tmp_path / "site", tmp_path / "docs", CONFIG, METADATA, notebooks
    )
    return tmp_path / "site"


def test_site_shows_listing_titles_as_text_everywhere(hostile_named_site):
    site = hostile_named_site
    pages = {
        "listing page": (site / "listings" / "simple" / "index.html").read_text(),
        "listings index": (site / "listings" / "index.html").read_text(),
        "paper page": (
            site
            / "papers"
            / "corda-context-oriented-decomposition-adaptation-of-large-language-models"
            / "index.html"
        ).read_text(),
    }
    for where, html in pages.items():
        assert "<script>alert(1)" not in html, where
        assert 'href="javascript:' not in html, where
        assert "<em>Mar</em>" not in html, where
        assert HOSTILE_TITLE in unescape(html), where  # shown as the text it is
    assert re.search(r"<h1 id=[^>]*>&#60;script&#62;alert", pages["listing page"])
    # The default titles of the others, in the paper's "appears in" list of the rich listing.
    assert "Hugging Face daily papers, Nov 4" in pages["listings index"]
    # The source link points at exactly the curated URL; nothing in it became markup.
    source = 'https://example.org/p?q="><script>x</script>&r=[a](javascript:alert(1))*b*'
    hrefs = [unescape(h) for h in re.findall(r'href="([^"]*)"', pages["listing page"])]
    assert source in hrefs
    assert "<em>b</em>" not in pages["listing page"]
