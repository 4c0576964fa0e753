"""Degenerate collections build, and their pages and notebooks say what they cannot show.

Three collections cover the cases (each is one database and one whole site, notebooks
included, since a build takes several seconds):

- ``one-real-simple-listing``: a real simple-layout listing alone: no upvotes and no
  dates anywhere, one listing, topics with one paper.
- ``one-paper``: one paper in one listing, in one topic (a topic with one paper), dated.
- ``no-topic-matched``: two undated papers that no topic rule reaches.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path

import pytest
import sqlite_utils

from papershelf.collection.topics import load_topics
from papershelf.store.pipeline import build_database

from .conftest import LISTINGS, TOPICS, build_site_into

TOPIC_COUNT = len(load_topics(TOPICS))

ONE_PAPER = """\
Daily Papers

byAK and the research community

Nov 4

LoRA Adapters for Tiny Models

We fine-tune tiny models with low-rank adapters and report what changes.

  • 2 authors
·
Oct 22, 2024 3
"""

NO_TOPIC_MATCHED = """\
byAK and the research community

Mar 14

A Paper About Teapots

This abstract names no topic at all; it rambles about teapots and umbrellas.

Umbrellas in the Rain

Another abstract about umbrellas, kettles and the weather, with nothing else in it.
"""


@dataclass(frozen=True)
class Collection:
    name: str
    listings: dict[str, str | Path]  # file name: its text, or a file to copy
    # What each page must say (its text, tags removed), by page path under site/.
    says: dict[str, list[str]]
    # How many figures each notebook draws: no empty charts.
    figures: dict[str, int]
    says_not: dict[str, list[str]] = field(default_factory=dict)


COLLECTIONS = [
    Collection(
        "one-real-simple-listing",
        {"001_c0a37795df050ea4.txt": LISTINGS / "001_c0a37795df050ea4.txt"},
        says={
            "analysis/exploring": [
                f"65 papers, 0 with a publication date, {TOPIC_COUNT} topics",
                "No paper has a publication date (65 papers in all;",
                "so there is nothing to chart by year or month.",
                "Growth needs dated papers in topics from two years at least; "
                "no paper in a topic has a publication date.",
                "No paper shows upvotes (65 papers in all;",
                "so there are no upvotes to analyse.",
                "The collection has 1 listing: there is no overlap to show.",
            ],
            "analysis/querying": ["No paper in a topic has a publication date (65 papers in all)."],
            "": ["65 papers\n", "1 listing\n", "65 appearances\n"],
            "topics/agents-tool-use": ["1 paper."],
            # The only listing's page, whatever its name maps to.
            "listings/*": ["65 entries, 65 distinct papers"],
        },
        says_not={"": ["Most upvoted", "Newest", "Papers over time"]},
        figures={"exploring": 4, "querying": 0},
    ),
    Collection(
        "one-paper",
        {"single.txt": ONE_PAPER},
        says={
            "analysis/exploring": [
                f"1 paper, 1 with a publication date, {TOPIC_COUNT} topics, "
                "1 paper-topic membership",
                "Growth needs dated papers in topics from two years at least; "
                "all of them are from 2024.",
                "No two topics share a paper: only Parameter-efficient fine-tuning has papers.",
                "Papers linking to code: 0 of 1.",
                "The collection has 1 listing: there is no overlap to show.",
            ],
            "analysis/querying": [
                "No title mentions catastrophic forgetting (1 searched).",
                "No paper is about LoRA and links to code (1 searched).",
                "No pair of related papers without a shared topic (0 pairs in all).",
            ],
            "": [
                "1 paper\n",
                "1 listing\n",
                "1 appearance\n",
                # the topic chart's text alternative
                "Largest topics: Parameter-efficient fine-tuning, 1 paper\n",
            ],
            "topics/parameter-efficient-fine-tuning": ["1 paper."],
            "topics/agents-tool-use": [
                "No paper in the collection has enough evidence for this topic yet."
            ],
            "listings/*": ["1 entry, 1 distinct paper"],
            "papers": ["1 paper, newest first by year."],
            "papers/lora-adapters-for-tiny-models": ["Related papers\nNone found."],
        },
        says_not={"": ["Agents and tool use"]},
        figures={"exploring": 5, "querying": 1},
    ),
    Collection(
        "no-topic-matched",
        {"teapots.txt": NO_TOPIC_MATCHED},
        says={
            "analysis/exploring": [
                f"No paper is in a topic (of 2 papers), so all {TOPIC_COUNT} topics are empty.",
                "No two topics share a paper: no paper is in a topic.",
                "No paper is in a topic, so there is no code-link coverage by topic to show.",
                "No paper shows upvotes (2 papers in all;",
            ],
            "analysis/querying": [
                "No paper is in a topic (2 searched): every topic is empty.",
                "No paper mentions low rank adaptation (2 searched).",
            ],
            "": ["No paper has enough evidence for any topic yet."],
            "topics/code": ["No paper in the collection has enough evidence for this topic yet."],
        },
        says_not={"topics/code": ["Published"]},
        figures={"exploring": 0, "querying": 0},
    ),
]


@pytest.fixture(scope="module", params=COLLECTIONS, ids=lambda c: c.name)
def built(request, tmp_path_factory):
    """(collection, site directory): the database and whole site, notebooks included."""
    collection = request.param
    root = tmp_path_factory.mktemp(collection.name)
    listings = root / "listings"
    listings.mkdir()
    for name, source in collection.listings.items():
        if isinstance(source, Path):
            shutil.copy(source, listings / name)
        else:
            (listings / name).write_text(source, encoding="utf-8")
    build_database(listings, TOPICS, root / "papers.db")
    build_site_into(root / "papers.db", root, root / "cache")
    return collection, root / "site"


def page_text(site: Path, page: str) -> str:
    """A built page's article as text: images by their text alternative, tags and permalinks
    removed, entities decoded, blank lines dropped. ``page`` may be a pattern that names one
    page (``listings/*``)."""
    (path,) = site.glob(f"{page}/index.html") if page else [site / "index.html"]
    html = path.read_text(encoding="utf-8")
    article = html[html.index("<article") : html.index("</article>")]
    article = re.sub(r'<img alt="([^"]*)"[^>]*>', "\\n\\1\\n", article)
    lines = unescape(re.sub(r"<[^>]+>", "", article)).replace("¶", "").splitlines()
    return "\n".join(" ".join(line.split()) for line in lines if line.strip()) + "\n"


def test_pages_say_what_the_collection_lacks(built):
    collection, site = built
    for page, sentences in collection.says.items():
        shown = page_text(site, page)
        for sentence in sentences:
            assert sentence in shown, (page, sentence)


def test_pages_leave_out_what_the_collection_lacks(built):
    collection, site = built
    for page, sentences in collection.says_not.items():
        shown = page_text(site, page)
        for sentence in sentences:
            assert sentence not in shown, (page, sentence)


def test_notebooks_draw_no_empty_charts_and_raise_nothing(built):
    collection, site = built
    for stem, count in collection.figures.items():
        assert len(list((site / "analysis" / f"{stem}_files").glob("*.svg"))) == count, stem
        shown = page_text(site, f"analysis/{stem}")
        assert "Traceback" not in shown and "Error" not in shown and "Warning" not in shown


def test_charts_are_drawn_only_for_what_exists(built):
    collection, site = built
    db = sqlite_utils.Database(site.parent / "papers.db")
    charts = {path.name for path in (site / "charts").glob("*-light.svg")}
    dated = db.execute("select count(*) from papers where published is not null").fetchone()[0]
    in_topics = db.execute("select count(*) from paper_topics").fetchone()[0]
    assert ("papers-per-year-light.svg" in charts) == bool(dated)
    assert ("topics-light.svg" in charts) == bool(in_topics)
    # A topic's chart per year only where it has dated papers.
    with_chart = {name.removeprefix("topic-").removesuffix("-light.svg") for name in charts}
    dated_topics = {
        row[0]
        for row in db.execute(
            "select distinct topic from paper_topics join papers on papers.slug = paper "
            "where published is not null"
        )
    }
    assert with_chart - {"papers-per-year", "topics"} == dated_topics
