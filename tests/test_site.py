import csv
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import sqlite_utils

from papershelf.publish.site_url import read_site_url
from papershelf.store.schema import data_tables

from .conftest import CONFIG, REAL_SITE_BUNDLE, build_site_into

SAFE_SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


class _Links(HTMLParser):
    """Collects links, and anything a browser would run."""

    def __init__(self):
        super().__init__()
        self.links: list[str] = []
        self.dangerous: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        # JSON-LD is data, never run (test_scholarly checks it parses whole).
        self._in_script = tag == "script" and ("type", "application/ld+json") not in attrs
        for name, value in attrs:
            if name in ("href", "src") and value:
                self.links.append(value)
                if value.strip().lower().startswith("javascript:"):
                    self.dangerous.append(f"{tag} {name}={value}")
            if name.startswith("on"):
                self.dangerous.append(f"{tag} {name}={value}")

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script and "alert(" in data:
            self.dangerous.append(f"script: {data[:80]}")


def links_of(html: str) -> list[str]:
    parser = _Links()
    parser.feed(html)
    return parser.links


def page(site: Path, path: str) -> str:
    return (site / path / "index.html").read_text(encoding="utf-8")


def test_every_paper_topic_and_listing_has_a_page(real_db, real_site):
    root, result = real_site
    site = root / "site"
    db = sqlite_utils.Database(real_db)
    slugs = [r["slug"] for r in db["papers"].rows]
    assert len(slugs) == 290
    assert len(list((site / "papers").glob("*/index.html"))) == 290
    for slug in slugs:
        assert (site / "papers" / slug / "index.html").exists(), slug
    for topic in db["topics"].rows:
        assert topic["name"] in page(site, f"topics/{topic['slug']}")
    for listing in db["listings"].rows:
        assert (site / "listings" / listing["name"] / "index.html").exists()
    # + home, data, search, 3 indexes, the analysis index and 2 notebooks
    assert result.html_pages == 290 + db["topics"].count + 5 + 6 + 3


def test_paper_page_content(real_db, real_site):
    root, _ = real_site
    db = sqlite_utils.Database(real_db)
    slug = "longlora-efficient-fine-tuning-of-long-context-large-language-models"
    html = page(root / "site", f"papers/{slug}")
    paper = db["papers"].get(slug)
    assert "<h1" in html and "LongLoRA: Efficient Fine-tuning of Long-Context" in html
    assert "We present LongLoRA, an efficient fine-tuning approach" in html
    assert "Published Sep 21, 2023" in html and f"{paper['upvotes']} upvotes" in html
    # topics, linked, with the words that matched
    assert 'href="../../topics/parameter-efficient-fine-tuning/"' in html
    assert "“LongLoRA” in the title" in html
    # listings with rank, related papers, elsewhere links
    assert 'href="../../listings/002-dc612afc06a47ab7/"' in html
    for row in db["related_papers"].rows_where("paper = ?", [slug]):
        assert f'href="../{row["related_paper"]}/"' in html
    assert "https://huggingface.co/papers?q=LongLoRA" in html
    assert "https://arxiv.org/search/?searchtype=title&amp;query=LongLoRA" in html
    assert (
        "https://lite.datasette.io/?url=https://papershelf.github.io/papershelf/downloads/papers.db"
        "&amp;metadata=https://papershelf.github.io/papershelf/downloads/metadata.json#/papers/papers/"
        + slug
        in html
    )


def test_abstract_links_are_clickable_and_grouped(real_db, real_site):
    root, _ = real_site
    db = sqlite_utils.Database(real_db)
    slug = next(db["papers"].rows_where("title like 'Ensemble-Instruct%'"))["slug"]
    html = page(root / "site", f"papers/{slug}")
    assert html.count('href="https://github.com/IBM/ensemble-instruct"') == 2  # abstract + links
    assert "Code repository" in html


def test_inferred_year_is_marked(real_db, real_site):
    root, _ = real_site
    row = next(sqlite_utils.Database(real_db)["papers"].rows_where("year_inferred = 1", limit=1))
    assert "without a year;" in page(root / "site", f"papers/{row['slug']}")


def test_topic_page_lists_papers_by_strength_then_date_with_chart_and_related_topics(
    real_db, real_site
):
    root, _ = real_site
    db = sqlite_utils.Database(real_db)
    html = page(root / "site", "topics/model-merging")
    rows = list(
        db.query(
            "select p.slug, t.is_primary, t.score, p.published from paper_topics t "
            "join papers p on p.slug = t.paper where t.topic = 'model-merging'"
        )
    )
    assert len({(r["is_primary"], r["score"]) for r in rows}) > 2  # the order is tested
    rows.sort(key=lambda r: html.index(f'href="../../papers/{r["slug"]}/"'))
    keys = [(-r["is_primary"], -r["score"]) for r in rows]
    assert keys == sorted(keys)
    for a, b in zip(rows, rows[1:], strict=False):
        if (a["is_primary"], a["score"]) == (b["is_primary"], b["score"]) and b["published"]:
            assert (a["published"] or "") >= b["published"]
    assert "charts/topic-model-merging-light.svg#only-light" in html
    # Found by a new user's walk-through: 9 papers, 3 dots, and nothing said why.
    undated = sum(1 for r in rows if not r["published"])
    note = f"publication date; {undated} of the {len(rows)} have none."
    assert (note in html) == bool(undated)
    assert "charts/topic-model-merging-dark.svg#only-dark" in html
    assert "Related topics" in html
    assert "<code>model merging</code>" in html
    # The order is shown: found by a review, a visitor saw neither score nor primary mark.
    first = rows[0]
    shown = f"{'primary, ' if first['is_primary'] else ''}{first['score']:.1f}</td>"
    assert shown in html[html.index(f'href="../../papers/{first["slug"]}/"') :]


def test_topic_pages_show_rules_in_words_not_rule_syntax(real_db, real_site):
    # Found by a review: `retrieval | retrieve*` on every topic page, with no legend.
    root, _ = real_site
    html = page(root / "site", "topics/retrieval")
    evidence = html[html.index("Evidence for this topic") :]
    evidence = evidence[: evidence.index("</p>")]
    assert "<code>retrieval</code> or <code>retrieve…</code>" in evidence
    assert "one ending in … matches any ending" in evidence
    for slug in sqlite_utils.Database(real_db)["topics"].rows:
        html = page(root / "site", f"topics/{slug['slug']}")
        codes = re.findall(r"<code>([^<]*)</code>", html)
        assert codes and not any("|" in c or "*" in c for c in codes), slug["slug"]


class _Evidence(HTMLParser):
    """The text of each ``ps-evidence`` span of a page, as a visitor reads it."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.spans: list[str] = []
        self.depth = 0

    def handle_starttag(self, tag, attrs):
        if self.depth:
            self.depth += 1
        elif tag == "span" and ("class", "ps-evidence") in attrs:
            self.depth = 1
            self.spans.append("")

    def handle_endtag(self, tag):
        self.depth = max(0, self.depth - 1)

    def handle_data(self, data):
        if self.depth:
            self.spans[-1] += data


def test_a_paper_page_shows_exactly_the_stored_explanation_primary_first(real_db, real_site):
    root, _ = real_site
    db = sqlite_utils.Database(real_db)
    explained = {}
    for row in db["paper_topics"].rows_where(order_by="paper, rank"):
        explained.setdefault(row["paper"], []).append(row["explanation"])
    assert len(explained) > 200
    for slug, explanations in explained.items():
        html = page(root / "site", f"papers/{slug}")
        parser = _Evidence()
        parser.feed(html)
        assert parser.spans == explanations, slug
        assert "(rule" not in html and "primary topic" in html


def test_listing_page_keeps_listing_order(real_db, real_site):
    root, _ = real_site
    db = sqlite_utils.Database(real_db)
    html = page(root / "site", "listings/004-f398639f93e6417c")
    slugs = [
        r["paper"]
        for r in db["paper_listings"].rows_where(
            "listing = ?", ["004-f398639f93e6417c"], order_by="rank"
        )
    ]
    positions = [html.index(f'href="../../papers/{s}/"') for s in slugs]
    assert positions == sorted(positions) and len(slugs) == 80


def test_home_and_data_pages(real_db, real_site):
    root, _ = real_site
    site = root / "site"
    home = (site / "index.html").read_text(encoding="utf-8")
    for text in (
        "290",
        "Most upvoted",
        "Newest",
        "Top topics",
        "papers.db",
        "papers.csv",
        "Datasette Lite",
        "jupyter lab notebooks/",
    ):
        assert text in home, text
    assert "charts/papers-per-year-light.svg#only-light" in home
    data = page(site, "data")
    db = sqlite_utils.Database(real_db)
    for table in data_tables(db):
        assert f'id="{table}"' in data, table
    assert "Stable id made from the normalised title" in data


def test_downloads_match_the_database(real_db, real_site):
    root, _ = real_site
    downloads = root / "site" / "downloads"
    assert (downloads / "papers.db").read_bytes() == real_db.read_bytes()
    rows = list(csv.DictReader((downloads / "papers.csv").open(encoding="utf-8")))
    assert len(rows) == 290 and "topics" in rows[0]
    records = json.loads((downloads / "papers.json").read_text(encoding="utf-8"))
    assert len(records) == 290
    longlora = next(r for r in records if r["slug"].startswith("longlora"))
    assert "Parameter-efficient fine-tuning" in longlora["topics"]


def test_charts_are_local_svg_files_for_both_palettes(real_site):
    root, _ = real_site
    charts = sorted(p.name for p in (root / "site" / "charts").glob("*.svg"))
    assert "papers-per-year-light.svg" in charts and "papers-per-year-dark.svg" in charts
    svg = (root / "site" / "charts" / "papers-per-year-dark.svg").read_text()
    assert svg.startswith("<svg") and "http" not in svg.replace("http://www.w3.org/2000/svg", "")


def test_no_broken_internal_links(real_site):
    root, _ = real_site
    site = root / "site"
    base = urlsplit(read_site_url(CONFIG)).path  # 404.html links absolutely, from here
    broken = []
    checked = 0
    for html_file in site.rglob("*.html"):
        for link in links_of(html_file.read_text(encoding="utf-8")):
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or link.startswith(("#", "mailto:")):
                continue
            checked += 1
            if parts.path.startswith("/"):
                target = (site / unquote(parts.path).removeprefix(base)).resolve()
            else:
                target = (html_file.parent / unquote(parts.path)).resolve()
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                broken.append(f"{html_file.relative_to(site)} -> {link}")
    assert broken == []
    assert checked > 290 * 20  # the check did look at the links


def test_papers_stay_out_of_the_navigation(real_site):
    root, _ = real_site
    home = (root / "site" / "index.html").read_text(encoding="utf-8")
    nav = home[home.index('<nav class="md-nav md-nav--primary') :]
    nav = nav[: nav.index("</nav>")]
    assert "papers/longlora" not in nav


def test_unchanged_rebuild_rewrites_no_page(real_db, real_site, notebook_cache):
    root, _ = real_site
    sources = [root / "docs", root / "search"]
    before = {p: p.stat().st_mtime_ns for d in sources for p in d.rglob("*") if p.is_file()}
    result = build_site_into(real_db, root, notebook_cache, REAL_SITE_BUNDLE)
    assert result.render.written == [] and result.render.removed == []
    assert result.incremental
    assert {p: p.stat().st_mtime_ns for d in sources for p in d.rglob("*") if p.is_file()} == before


def test_hostile_text_renders_as_literal_text(hostile_site):
    root, result = hostile_site
    site = root / "site"
    db = sqlite_utils.Database(root / "papers.db")
    slugs = [r["slug"] for r in db["papers"].rows]
    assert len(slugs) == 7
    for slug in slugs:
        assert SAFE_SLUG.match(slug), slug
        assert (site / "papers" / slug / "index.html").resolve().is_relative_to(site.resolve())
    pages = {
        p.relative_to(site).as_posix(): p.read_text(encoding="utf-8") for p in site.rglob("*.html")
    }
    for html in pages.values():
        parser = _Links()
        parser.feed(html)
        assert parser.dangerous == []
        assert "<b>bold</b>" not in html
    hostile = pages[f"papers/{slugify_first(slugs, 'script')}/index.html"]
    assert "&lt;script&gt;alert(&#39;title&#39;)&lt;/script&gt; Hostile Title" in hostile or (
        "&lt;script&gt;alert(&#x27;title&#x27;)&lt;/script&gt;" in hostile
    )
    templates = pages[f"papers/{slugify_first(slugs, 'config')}/index.html"]
    assert "{{ config.site_name }}" in templates.replace("&#123;", "{").replace("&#125;", "}")
    assert "papershelf and" not in templates  # the template was not evaluated
    assert "49" not in re.sub(r"<[^>]+>", "", templates.split('class="ps-abstract"')[1])[:200]


def slugify_first(slugs: list[str], word: str) -> str:
    return next(s for s in slugs if word in s)


def test_pagefind_indexes_the_site_in_chunks(real_site):
    root, _ = real_site
    site = root / "site"
    assert (site / "pagefind" / "0" / "pagefind-ui.js").exists()
    chunks = list((site / "pagefind").glob("*/index/*.pf_index"))
    assert len(chunks) > 1
    assert max(chunk.stat().st_size for chunk in chunks) < 1_000_000
    # Pagefind is the only search: no index of the whole site in one file
    assert not (site / "search").exists()
    assert not list(site.rglob("search_index.json"))
    assert "papershelfSearch(" in page(site, "find")  # Pagefind's UI, over every bundle


HOSTILE_TITLE = (
    'DEL\x7f C1\x85\x9b non\ufffe\uffff {: onerror="alert(1)" } [x](javascript:alert(2))'
)


def test_front_matter_of_any_text_is_read_back_by_mkdocs():
    from markupsafe import escape
    from mkdocs.utils.meta import get_data

    from papershelf.publish.render import front_matter
    from papershelf.publish.templating import shorten

    markdown, meta = get_data(front_matter(HOSTILE_TITLE, HOSTILE_TITLE) + "# Page\n")
    # A description is cut to 160 characters at a word, its whitespace made spaces.
    description = escape(shorten(HOSTILE_TITLE, 160))
    assert meta == {"title": escape(HOSTILE_TITLE), "description": description}
    assert markdown == "# Page\n"


def test_a_page_whose_front_matter_cannot_be_read_fails_the_build(tmp_path):
    from mkdocs.exceptions import Abort

    from papershelf.publish.mkdocs_build import build_pages, load_site_config

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "index.md").write_text('---\ntitle: "a\x7f"\n---\n\n# Page\n', encoding="utf-8")
    config = tmp_path / "mkdocs.yml"
    config.write_text("site_name: t\n", encoding="utf-8")
    with pytest.raises(Abort, match="index.md: its front matter could not be read"):
        build_pages(load_site_config(config, docs), tmp_path / "site", [], source_date_epoch=0)
    assert not (tmp_path / "site").exists()


def test_marked_html_blocks_come_out_as_python_markdown_would_give_them(real_site):
    """The blocks handed to Python-Markdown's stash unparsed (markdown_html) are the same
    HTML Python-Markdown gives when it parses them, and no marker reaches a page."""
    import markdown

    from papershelf.publish.markdown_html import END, START, HtmlBlocks

    root, _ = real_site
    pages = sorted((root / "site").rglob("*.html"))
    assert not [p for p in pages if START in p.read_text() or END in p.read_text()]
    sources = sorted((root / "docs").rglob("*.md"))
    marked = [p for p in sources if START in p.read_text()]
    assert len(marked) > 290  # every paper page, and the index, topic and listing pages
    extensions = ["tables", "fenced_code", "attr_list", "md_in_html", "toc"]
    for path in marked:
        text = path.read_text().split("\n---\n", 1)[1]  # after the front matter
        plain = text.replace(START + "\n", "").replace("\n" + END, "")
        stashed = markdown.markdown(text, extensions=[*extensions, HtmlBlocks()])
        assert stashed == markdown.markdown(plain, extensions=extensions), path.name
