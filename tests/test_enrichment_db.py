"""The enrichment cache (content/enrichment/) read into the database and shown on the site.

The caches here are written in the real format (``cache_text`` of ``build.py enrich``,
records shaped as tests/test_enrich.py shows it writes them), or produced by running
``enrich`` against that module's fake Hugging Face and arXiv servers.
"""

import hashlib
import json
import re
import shutil
import sqlite3

import pytest
import sqlite_utils
import yaml
from click.testing import CliRunner

from papershelf.cli import cli
from papershelf.ingest.enrich import cache_text
from papershelf.ingest.text import normalise_title, slugify
from papershelf.store.pipeline import build_database
from papershelf.store.schema import ENRICHMENT_TABLES, SCHEMA, data_tables

from .conftest import FIXTURES, METADATA, TOPICS, build_site_into
from .test_enrich import RECORD, FakeAPIs, apis, search_item  # noqa: F401 (apis: a fixture)

SURVEY = "A Survey on Post-training of Large Language Models"
LINES = "LiNeS: Post-training Layer Scaling Prevents Forgetting and Enhances Model Merging"
FREE = "Free Process Rewards without Process Labels"  # Aug 13, the year inferred
CORDA = "CorDA: Context-Oriented Decomposition Adaptation of Large Language Models"
NOTHING = "A Paper About Nothing In Particular"
HINDSIGHT = "Chain of Hindsight Aligns Language Models with Feedback"
FETCHED = "2025-08-20T10:00:00Z"


def slug_of(title: str) -> str:
    return slugify(title, normalise_title(title))


def record(title: str, status: str, **fields) -> dict:
    """A cache line as ``enrich`` writes it."""
    return (
        {"key": normalise_title(title), "title": title, "status": status}
        | {"fetched_at": FETCHED}
        | fields
    )


HF_RECORDS = [
    record(
        SURVEY,
        "matched",
        match={
            "arxiv_id": "2503.06072",
            "title": SURVEY,
            "authors": ["Guiyao Tie", "Zeli Zhao"],
            "published": "2025-03-08",
            "upvotes": 30,
            "github_repo": "https://github.com/example/survey",
            "github_stars": 12,
            "project_page": "https://example.org/survey",
            "ai_summary": "A survey of post-training.",
            "ai_keywords": ["post-training", "alignment"],
        },
    ),
    # The listing has 6 authors, a date and upvotes: the 5 names fill the authors, the
    # count disagrees (a warning), the same date does not, the upvotes are a snapshot.
    record(
        LINES,
        "matched",
        match={
            "arxiv_id": "2410.17146",
            "title": LINES,
            "authors": ["Ke Wang", "Nikolaos Dimitriadis", "A", "B", "C"],
            "published": "2024-10-22",
            "upvotes": 99,
        },
    ),
    # The listing showed "Aug 13" and the build inferred 2025: this gives the year.
    record(FREE, "matched", match={"arxiv_id": "2412.01981", "published": "2024-08-13"}),
    record(
        CORDA,
        "ambiguous",
        candidates=[
            {"arxiv_id": "2406.05223", "title": CORDA},
            {"arxiv_id": "2406.05224", "title": CORDA.upper()},
        ],
    ),
    record(NOTHING, "not_found"),
    record(HINDSIGHT, "failed", error="HTTP 503 from http://127.0.0.1"),
    record("A Paper No Listing Has", "matched", match={"arxiv_id": "2501.00009"}),
]
ARXIV_RECORDS = [
    record(
        CORDA,
        "matched",
        match={
            "arxiv_id": "2406.05223",
            "version": "2",
            "title": CORDA,
            "authors": ["Yibo Yang", "Xiaojie Li"],
            "published": "2024-06-07",
            "updated": "2024-10-30",
            "primary_category": "cs.LG",
            "pdf_url": "https://arxiv.org/pdf/2406.05223v2",
        },
    ),
    record(NOTHING, "not_found"),
    # arXiv's answer for the failed paper is the survey's id: one paper, two titles?
    record(HINDSIGHT, "matched", match={"arxiv_id": "2503.06072", "authors": ["X"]}),
]


def write_cache(directory, hf=HF_RECORDS, arxiv=ARXIV_RECORDS):
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "huggingface.jsonl").write_text(
        cache_text({r["key"]: r for r in hf}), encoding="utf-8"
    )
    (directory / "arxiv.jsonl").write_text(
        cache_text({r["key"]: r for r in arxiv}), encoding="utf-8"
    )
    return directory


def build(listings, db, enrichment=None, **options):
    return build_database(listings, TOPICS, db, enrichment_dir=enrichment, **options)


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def enriched_db(fixture_listings, tmp_path):
    cache = write_cache(tmp_path / "enrichment")
    result = build(fixture_listings, tmp_path / "enriched.db", cache)
    return tmp_path / "enriched.db", result


# ---- Without a cache, the database of before ------------------------------------------------


def test_no_cache_gives_the_database_built_without_enrichment(fixture_listings, tmp_path):
    build(fixture_listings, tmp_path / "disabled.db")  # enrichment not asked for at all
    missing = tmp_path / "missing"
    build(fixture_listings, tmp_path / "missing.db", missing)
    empty = tmp_path / "empty"
    empty.mkdir()
    build(fixture_listings, tmp_path / "empty.db", empty)
    blank = tmp_path / "blank"  # both files there, no record in them
    write_cache(blank, hf=[], arxiv=[])
    build(fixture_listings, tmp_path / "blank.db", blank)
    hashes = {sha256(tmp_path / f"{name}.db") for name in ("disabled", "missing", "empty", "blank")}
    assert len(hashes) == 1
    db = sqlite_utils.Database(tmp_path / "disabled.db")
    assert set(data_tables(db)) == set(SCHEMA) - set(ENRICHMENT_TABLES)


def test_deleting_the_cache_gives_the_same_database_back(enriched_db, fixture_listings, tmp_path):
    path, _ = enriched_db
    build(fixture_listings, tmp_path / "before.db")
    after = tmp_path / "after.db"
    build(fixture_listings, after, tmp_path / "enrichment")
    assert sha256(after) == sha256(path)  # the same cache, the same bytes
    assert sha256(after) != sha256(tmp_path / "before.db")
    shutil.rmtree(tmp_path / "enrichment")
    build(fixture_listings, after, tmp_path / "enrichment")
    assert sha256(after) == sha256(tmp_path / "before.db")
    assert list(sqlite3.connect(after).iterdump()) == list(
        sqlite3.connect(tmp_path / "before.db").iterdump()
    )


# ---- What a match fills, and what it does not -----------------------------------------------


def test_a_match_fills_what_the_listings_leave_out(enriched_db):
    path, result = enriched_db
    db = sqlite_utils.Database(path)
    survey = db["papers"].get(slug_of(SURVEY))
    assert {k: survey[k] for k in ("arxiv_id", "published", "published_year", "upvotes")} == {
        "arxiv_id": "2503.06072",
        "published": "2025-03-08",
        "published_year": 2025,
        "upvotes": 30,
    }
    assert survey["authors_count"] == 2 and survey["github_stars"] == 12
    assert survey["github_repo"] == "https://github.com/example/survey"
    assert survey["project_page"] == "https://example.org/survey"
    assert survey["ai_summary"] == "A survey of post-training."
    assert json.loads(survey["ai_keywords"]) == ["post-training", "alignment"]
    # arXiv fills the paper Hugging Face found ambiguous.
    corda = db["papers"].get(slug_of(CORDA))
    assert (corda["arxiv_id"], corda["published"], corda["authors_count"]) == (
        "2406.05223",
        "2024-06-07",
        2,
    )
    assert result.enriched == 4  # the survey, LiNeS, Free Process Rewards and CorDA


def test_the_listing_keeps_its_own_values(enriched_db):
    db = sqlite_utils.Database(enriched_db[0])
    lines = db["papers"].get(slug_of(LINES))
    # Its listing's date, upvotes and count; the names, which it did not give, from the cache.
    assert (lines["published"], lines["upvotes"], lines["authors_count"]) == ("2024-10-22", 0, 6)
    assert lines["arxiv_id"] == "2410.17146"
    assert db.execute(
        "select count(*) from paper_authors where paper = ?", [slug_of(LINES)]
    ).fetchone() == (5,)


def test_a_date_shown_without_its_year_takes_the_year_of_the_same_day(enriched_db):
    paper = sqlite_utils.Database(enriched_db[0])["papers"].get(slug_of(FREE))
    assert (paper["published"], paper["year_inferred"], paper["published_text"]) == (
        "2024-08-13",
        0,
        "Aug 13",
    )


def test_only_matches_fill_and_every_answer_is_recorded(enriched_db):
    db = sqlite_utils.Database(enriched_db[0])
    lookups = {
        (r["paper"], r["source"]): (r["status"], r["arxiv_id"], r["filled"])
        for r in db["enrichment"].rows
    }
    assert lookups == {
        (slug_of(SURVEY), "huggingface"): ("matched", "2503.06072", 10),
        (slug_of(LINES), "huggingface"): ("matched", "2410.17146", 2),  # id and names
        (slug_of(FREE), "huggingface"): ("matched", "2412.01981", 2),  # id and year
        (slug_of(CORDA), "huggingface"): ("ambiguous", None, 0),
        (slug_of(CORDA), "arxiv"): ("matched", "2406.05223", 4),
        (slug_of(NOTHING), "huggingface"): ("not_found", None, 0),
        (slug_of(NOTHING), "arxiv"): ("not_found", None, 0),
        (slug_of(HINDSIGHT), "huggingface"): ("failed", None, 0),
        (slug_of(HINDSIGHT), "arxiv"): ("matched", "2503.06072", 0),  # the survey's id
    }
    corda = db["enrichment"].get((slug_of(CORDA), "huggingface"))
    assert json.loads(corda["candidates"]) == ["2406.05223", "2406.05224"]
    hindsight = db["enrichment"].get((slug_of(HINDSIGHT), "arxiv"))
    assert hindsight["note"] == f"arXiv 2503.06072 is the paper {slug_of(SURVEY)}'s"
    assert db["papers"].get(slug_of(HINDSIGHT))["arxiv_id"] is None
    nothing = db["papers"].get(slug_of(NOTHING))
    assert nothing["arxiv_id"] is None and nothing["authors_count"] is None


def test_field_sources_say_where_each_value_came_from(enriched_db):
    db = sqlite_utils.Database(enriched_db[0])
    rows = {
        (r["field"], r["source"], r["fetched_at"])
        for r in db["field_sources"].rows_where("paper = ?", [slug_of(LINES)])
    }
    assert rows == {
        ("arxiv_id", "huggingface", FETCHED),
        ("authors", "huggingface", FETCHED),
        ("authors_count", "listing", None),
        ("published", "listing", None),
        ("upvotes", "listing", None),
    }
    free = {
        r["field"]: r["source"]
        for r in db["field_sources"].rows_where("paper = ?", [slug_of(FREE)])
    }
    assert free["published"] == "huggingface"
    assert list(db.execute("pragma foreign_key_check")) == []


def test_enriched_authors_fill_the_author_tables_and_their_search(enriched_db):
    db = sqlite_utils.Database(enriched_db[0])
    names = [
        row["name"]
        for row in db.query(
            "select name from paper_authors join authors on slug = author "
            "where paper = ? order by position",
            [slug_of(SURVEY)],
        )
    ]
    assert names == ["Guiyao Tie", "Zeli Zhao"]
    assert db["authors"].count == 2 + 5 + 2  # the survey, LiNeS and CorDA
    assert [r["name"] for r in db["authors"].search("Dimitriadis")] == ["Nikolaos Dimitriadis"]


def test_conflicts_and_a_borrowed_id_are_warnings(enriched_db, fixture_listings, tmp_path):
    rich, cache = fixture_listings / "rich.txt", tmp_path / "enrichment"
    assert enriched_db[1].warnings == [  # in paper order; none for upvotes or an equal date
        f"{rich}:25: arXiv matched the title to arXiv 2503.06072 ({cache / 'arxiv.jsonl'}:2), "
        f"the id of the paper {slug_of(SURVEY)}; not used (one paper under two titles? give "
        "the listing entry its arXiv id to merge them)",
        f"{rich}:17: authors count 5 from Hugging Face ({cache / 'huggingface.jsonl'}:7) "
        f"differs from the listing's 6 for {LINES!r}; keeping the listing's",
    ]


def test_strict_makes_conflicts_an_error_and_keeps_the_old_database(fixture_listings, tmp_path):
    cache = write_cache(tmp_path / "enrichment")
    db = tmp_path / "papers.db"
    args = ["db", "--listings", fixture_listings, "--topics", TOPICS, "--db", db]
    args += ["--enrichment", cache]
    runner = CliRunner()
    result = runner.invoke(cli, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "Warning: " in result.output and "authors count 5 from Hugging Face" in result.output
    assert "2 warnings, 4 enriched." in result.output
    before = db.read_bytes()
    result = runner.invoke(cli, [str(a) for a in [*args, "--strict"]], catch_exceptions=False)
    assert result.exit_code == 1
    assert "2 warning(s) and --strict is set" in result.output
    assert db.read_bytes() == before


def test_a_named_enrichment_directory_must_exist(fixture_listings, tmp_path):
    args = ["db", "--listings", fixture_listings, "--topics", TOPICS, "--db", tmp_path / "x.db"]
    result = CliRunner().invoke(cli, [str(a) for a in [*args, "--enrichment", tmp_path / "no"]])
    assert result.exit_code == 1
    assert f"{tmp_path / 'no'}: no such enrichment directory" in result.output
    assert not (tmp_path / "x.db").exists()


# ---- A bad cache line is an error naming its file and line ----------------------------------


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "invalid JSON"),
        (json.dumps(record(SURVEY, "matched")), "a 'matched' record needs a 'match' object"),
        (json.dumps(record(SURVEY, "guessed")), "'status' must be one of"),
        (
            json.dumps(record(SURVEY, "matched", match={"arxiv_id": "1706.03762 or so"})),
            "is not an arXiv id",
        ),
        (
            json.dumps(
                record(
                    SURVEY,
                    "matched",
                    match={"arxiv_id": "1706.03762", "github_repo": "javascript:alert(1)"},
                )
            ),
            "match.github_repo must be an http(s) URL",
        ),
        (
            json.dumps(record(SURVEY, "matched", match={"arxiv_id": "1706.03762", "authors": "X"})),
            "match.authors must be a list of strings",
        ),
        (
            json.dumps(record(SURVEY, "matched", match={"arxiv_id": "1706.03762", "upvotes": -1})),
            "match.upvotes must be a whole number",
        ),
    ],
)
def test_a_malformed_cache_line_is_an_error_naming_file_and_line(
    fixture_listings, tmp_path, line, message
):
    cache = write_cache(tmp_path / "enrichment", arxiv=[])
    path = cache / "arxiv.jsonl"
    path.write_text(json.dumps(record(NOTHING, "not_found")) + "\n" + line + "\n")
    db = tmp_path / "papers.db"
    db.write_bytes(b"the old database")
    args = ["db", "--listings", fixture_listings, "--topics", TOPICS, "--db", db]
    result = CliRunner().invoke(cli, [str(a) for a in [*args, "--enrichment", cache]])
    assert result.exit_code == 1, result.output
    assert f"Error: {path}:2: " in result.output and message in result.output
    assert db.read_bytes() == b"the old database"


def test_hostile_text_in_the_cache_is_cleaned(fixture_listings, tmp_path):
    hostile = record(
        SURVEY,
        "matched",
        match={"arxiv_id": "2503.06072", "authors": ["<script>x</script>\u2028Eve\x00", "  "]},
    )
    cache = write_cache(tmp_path / "enrichment", hf=[hostile], arxiv=[])
    build(fixture_listings, tmp_path / "papers.db", cache)
    db = sqlite_utils.Database(tmp_path / "papers.db")
    assert [r["name"] for r in db["authors"].rows] == ["<script>x</script> Eve"]


# ---- Described, and shown --------------------------------------------------------------------


def test_the_enrichment_tables_are_described_in_the_metadata(enriched_db):
    metadata = yaml.safe_load(METADATA.read_text())["databases"]["papers"]["tables"]
    db = sqlite_utils.Database(enriched_db[0])
    for table in ENRICHMENT_TABLES:
        assert metadata[table]["description"], table
        assert set(metadata[table]["columns"]) == set(db[table].columns_dict), table


@pytest.fixture(scope="module")
def enriched_site(tmp_path_factory):
    """The site of the fixture listings built with the cache above."""
    root = tmp_path_factory.mktemp("enriched-site")
    listings = root / "listings"
    listings.mkdir()
    for name in ("simple.txt", "rich.txt"):
        shutil.copy(FIXTURES / name, listings / name)
    cache = write_cache(root / "enrichment")
    build(listings, root / "papers.db", cache)
    build_site_into(root / "papers.db", root)
    return root / "site"


def page_text(site, slug: str) -> str:
    return (site / "papers" / slug / "index.html").read_text(encoding="utf-8")


def test_paper_pages_link_to_arxiv_and_name_the_authors(enriched_site):
    html = page_text(enriched_site, slug_of(SURVEY))
    assert 'href="https://arxiv.org/abs/2503.06072"' in html
    assert 'href="https://arxiv.org/pdf/2503.06072"' in html
    assert 'href="https://huggingface.co/papers/2503.06072"' in html
    assert "Guiyao Tie" in html and "Zeli Zhao" in html
    corda = page_text(enriched_site, slug_of(CORDA))
    assert 'href="https://arxiv.org/pdf/2406.05223"' in corda and "Yibo Yang" in corda
    # A paper no source matched keeps the title searches alone.
    nothing = page_text(enriched_site, slug_of(NOTHING))
    assert "arxiv.org/abs/" not in nothing and "arxiv.org/search/" in nothing


def test_the_home_page_counts_the_enriched_papers(enriched_site):
    home = (enriched_site / "index.html").read_text(encoding="utf-8")
    text = re.sub(r"<[^>]+>", "", home)
    assert "4 papers completed from Hugging Face and arXiv" in text
    assert 'href="data/#field_sources"' in home  # the table that says which, described
    data = (enriched_site / "data" / "index.html").read_text(encoding="utf-8")
    assert 'id="field_sources"' in data and 'id="enrichment"' in data


def test_the_downloads_carry_the_enriched_ids(enriched_site):
    rows = json.loads((enriched_site / "downloads" / "papers.json").read_text(encoding="utf-8"))
    ids = {row["slug"]: row["arxiv_id"] for row in rows}
    assert ids[slug_of(SURVEY)] == "2503.06072" and ids[slug_of(NOTHING)] is None
    metadata = json.loads((enriched_site / "downloads" / "metadata.json").read_text())
    tables = metadata["databases"]["papers"]["tables"]
    assert not tables["authors"].get("hidden") and not tables["enrichment"].get("hidden")


# ---- End to end: enrich against the fake servers, then build ---------------------------------


def test_enrich_then_db_fills_the_papers_it_matched(apis, fixture_listings, tmp_path):  # noqa: F811
    apis.search[SURVEY] = [search_item("1706.03762", SURVEY)]
    apis.records["1706.03762"] = RECORD | {"title": SURVEY}
    cache = tmp_path / "enrichment"
    runner = CliRunner()
    enrich_args = ["enrich", "--listings", fixture_listings, "--cache-dir", cache, "--delay", "0"]
    enrich_args += ["--hf-url", apis.url, "--arxiv-url", apis.url, "--backoff", "0.01"]
    result = runner.invoke(cli, [str(a) for a in enrich_args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "1 matched" in result.output
    db = tmp_path / "papers.db"
    args = ["db", "--listings", fixture_listings, "--topics", TOPICS, "--db", db]
    result = runner.invoke(cli, [str(a) for a in [*args, "--enrichment", cache]])
    assert result.exit_code == 0, result.output
    assert "1 enriched." in result.output
    rows = sqlite_utils.Database(db)
    survey = rows["papers"].get(slug_of(SURVEY))
    assert (survey["arxiv_id"], survey["authors_count"]) == ("1706.03762", 2)
    statuses = {r["status"] for r in rows["enrichment"].rows}
    assert statuses == {"matched", "not_found"}  # every other paper: neither source knew it
