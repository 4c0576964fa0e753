"""The Jinja templates that draw the pages and charts: escaping, links and raw HTML."""

import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import markdown
import pytest
import yaml
from jinja2 import DictLoader
from mkdocs.structure.files import File
from mkdocs.utils import get_relative_url

from papershelf.publish import citations
from papershelf.publish.charts import bar_chart, hbar_chart
from papershelf.publish.render import _Renderer, page_url, relative_url
from papershelf.publish.sitedata import load_site_data
from papershelf.publish.templating import ENVIRONMENT, TEMPLATES
from papershelf.store.pipeline import build_database

from .conftest import CONFIG, FIXTURES, METADATA, TOPICS

# What the paper templates write (and Markdown adds for headings).
PAGE_TAGS = {"p", "a", "h1", "h2", "ul", "ol", "li", "div", "strong", "small", "span", "code"}
PAGE_TAGS |= {"table", "thead", "tbody", "tr", "th", "td"}
PAGE_TAGS |= {"pre"}  # the BibTeX entry, a fenced code block
HOSTILE = "<b>x</b> *em* [link](javascript:alert(1)) {{ 7*7 }} & `code`"


def markdown_extensions() -> tuple[list, dict]:
    """The Markdown extensions of mkdocs.yml, as MkDocs gives them to Python-Markdown."""

    class Loader(yaml.SafeLoader):
        pass

    # mkdocs.yml may hold MkDocs' !ENV or !relative tags: read them as plain values.
    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    config = yaml.load(CONFIG.read_text(encoding="utf-8"), Loader=Loader)
    names, options = [], {}
    for item in config["markdown_extensions"]:
        name, value = next(iter(item.items())) if isinstance(item, dict) else (item, None)
        names.append(name)
        if value:
            options[name] = value
    return names, options


def to_html(text: str) -> str:
    names, options = markdown_extensions()
    body = text.split("---\n", 2)[2]  # after the front matter
    return markdown.markdown(body, extensions=names, extension_configs=options)


def test_a_template_that_forgets_a_filter_still_shows_text():
    env = ENVIRONMENT.overlay(
        loader=DictLoader({"page.md.j2": "{{ value }}", "block.html.j2": "{{ value }}"})
    )
    in_markdown = env.get_template("page.md.j2").render(value=HOSTILE)
    assert "<" not in in_markdown and "*" not in in_markdown and "[" not in in_markdown
    assert to_html("---\n---\n" + in_markdown) == f"<p>{escape_all(HOSTILE)}</p>"
    in_html = env.get_template("block.html.j2").render(value=HOSTILE)
    assert in_html.startswith("&lt;b&gt;x&lt;/b&gt; *em*")


def escape_all(text: str) -> str:
    """What Python-Markdown outputs for text that was encoded as numeric references."""
    return "".join(f"&#{ord(c)};" if c in "\\`*_{}[]()#+-.!|~^=:$@%<>&\"'" else c for c in text)


@pytest.fixture(scope="module")
def hostile_pages(tmp_path_factory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("templates-hostile")
    listings = root / "listings"
    listings.mkdir()
    shutil.copy(FIXTURES / "hostile.txt", listings / "hostile.txt")
    build_database(listings, TOPICS, root / "papers.db")
    data = load_site_data(root / "papers.db", METADATA)
    renderer = _Renderer(data, "https://example.org/shelf/", metadata_published=True)
    return {
        path: content if isinstance(content, str) else content.draw()
        for path, content in renderer.pages()
        if path.endswith(".md")
    }


def test_hostile_text_in_raw_html_blocks_stays_text(hostile_pages):
    papers = {p: text for p, text in hostile_pages.items() if p.startswith("papers/")}
    assert len(papers) == 8  # 7 papers and the index
    for path, text in papers.items():
        html = to_html(text)
        # Tags come from the templates only: the hostile titles hold <script>, <b>, <img>.
        tags = set(re.findall(r"<([a-z0-9]+)", html))
        assert tags <= PAGE_TAGS, path
        assert "javascript:" not in " ".join(re.findall(r'href="([^"]*)"', html)), path


def test_raw_html_blocks_reach_the_page_unparsed(hostile_pages):
    """Python-Markdown passes the HTML blocks through: a title's * and [ ] stay literal
    and its paper link is the one the template wrote."""
    index = hostile_pages["papers/index.md"]
    html = to_html(index)
    rows = re.findall(r"<tr>\n<td>.*?</tr>", index, re.S)
    assert len(rows) == 7
    for row in rows:
        assert row in html  # byte for byte
    assert "<em>" not in html


def test_heavy_parts_are_html_and_headings_markdown(hostile_pages):
    for path, text in hostile_pages.items():
        if path.startswith(("papers/", "topics/", "listings/")) and not path.endswith("index.md"):
            lines = text.split("---\n", 2)[2].splitlines()
            assert [line for line in lines if re.match(r"(- |\d+\. |\| )", line)] == [], path
            assert any(line.startswith("## ") for line in lines), path


@pytest.mark.parametrize(
    "target",
    ["index.md", "papers/index.md", "papers/a-b.md", "topics/t.md", "data.md"],
)
@pytest.mark.parametrize(
    "source",
    ["index.md", "papers/index.md", "papers/x.md", "topics/t.md", "listings/l.md", "data.md"],
)
def test_links_in_html_are_the_ones_mkdocs_writes(tmp_path, source, target):
    def url(path):
        return File(path, str(tmp_path), str(tmp_path), use_directory_urls=True).url

    assert page_url(source) == url(source).removeprefix("./")  # the home page is ''
    assert page_url(target) == url(target).removeprefix("./")
    assert relative_url(page_url(target), page_url(source)) == get_relative_url(
        url(target), url(source)
    )
    assert relative_url("downloads/papers.db", page_url(source)) == get_relative_url(
        "downloads/papers.db", url(source)
    )


def test_the_site_uses_directory_urls():
    # The HTML blocks link to papers/<slug>/: MkDocs must serve pages there.
    assert "use_directory_urls" not in CONFIG.read_text(encoding="utf-8")


def test_charts_are_well_formed_svg_with_labels_as_text():
    label = '<script>alert("x")</script> & co'
    for svg in (
        hbar_chart([label, "b"], [3, 1], f"Top {label}", "dark"),
        bar_chart([label, "2021"], [3, 7], f"Per year {label}", "light"),
    ):
        root = ET.fromstring(svg)  # well-formed XML, whatever the labels hold
        assert root.get("aria-label").endswith(label)
        texts = [element.text for element in root.iter() if element.text]
        assert label in texts and f"{label}: 3" in texts
        assert not [e for e in root.iter() if e.tag.endswith("script")]


def test_every_template_compiles():
    names = sorted(p.name for p in Path(TEMPLATES).glob("*.j2"))
    assert "paper.md.j2" in names and "bar_chart.svg.j2" in names
    for name in names:
        ENVIRONMENT.get_template(name)


def test_every_paper_s_bibtex_entry_is_drawn_once_for_its_page_and_papers_bib(real_db, monkeypatch):
    """A paper page and papers.bib both show the entry: a full render draws it once."""
    drawn = []
    original = citations.bibtex_entry
    monkeypatch.setattr(
        citations,
        "bibtex_entry",
        lambda paper, *rest: drawn.append(paper["slug"]) or original(paper, *rest),
    )
    data = load_site_data(real_db, METADATA)
    pages = dict(_Renderer(data, "https://example.org/shelf/").pages())
    for path, page in pages.items():
        if path.startswith("papers/") and not isinstance(page, str):
            page.draw()
    assert sorted(drawn) == sorted(data.papers)


def test_a_paper_page_s_key_changes_with_all_it_shows_from_outside_the_paper(real_db):
    """A paper page is drawn from its inputs alone (``paper_context``): a change to the
    title of a related paper, the name of a topic, the title of a listing or the site's
    URL changes its key, so an incremental build draws it again; a change elsewhere
    does not."""
    data = load_site_data(real_db, METADATA)
    slug = next(s for s in data.papers if data.related.get(s) and data.paper_topics.get(s))

    def key(site_url: str = "https://example.org/shelf/") -> str:
        return _Renderer(data, site_url, metadata_published=True).paper_page(slug).key

    before = key()
    assert key() == before
    assert key("https://example.org/other/") != before
    edits = [
        (data.papers[data.related[slug][0]["related_paper"]], "title"),
        (data.topics[data.paper_topics[slug][0]["topic"]], "name"),
        (data.listings[data.appearances[slug][0]["listing"]], "title"),
    ]
    for row, field in edits:
        kept = row[field]
        row[field] = kept + " (renamed)"
        assert key() != before, field
        row[field] = kept
    shown = {slug} | {r["related_paper"] for r in data.related[slug]}
    other = next(s for s in data.papers if s not in shown)
    data.papers[other]["title"] += " (renamed)"
    assert key() == before
