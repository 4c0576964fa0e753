"""Render the Markdown pages of the site from ``papers.db``.

The database is the only input. Every string that came from a listing is untrusted: it
goes through :func:`text` (inline Markdown) or :func:`block` (an HTML paragraph), which
encode it so that Markdown, HTML and templates see only literal characters.

Pages are written through :class:`PageWriter`, which leaves a file alone when its
content is unchanged (so rebuilds and ``mkdocs serve`` stay fast) and removes pages
that are no longer generated.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter, defaultdict
from html import escape
from urllib.parse import quote, quote_plus

from ..collection.links import KIND_LABELS, KINDS, link_spans
from .analysis import NotebookPage
from .charts import bar_chart, hbar_chart
from .exports import DOWNLOADS
from .sitedata import SiteData
from .writer import PageWriter

# Characters that Markdown or its extensions may read as syntax. They are written as
# numeric character references, which the browser shows as the character itself.
_MARKDOWN_SPECIAL = set("\\`*_{}[]()#+-.!|~^=:$@%<>&\"'")
_AS_REFERENCES = {ord(c): f"&#{ord(c)};" for c in _MARKDOWN_SPECIAL}


def text(value: object) -> str:
    """Untrusted text, safe inline in Markdown (and in HTML attributes)."""
    return str(value).translate(_AS_REFERENCES)


def code(value: object) -> str:
    """Untrusted text as inline code (a Markdown code span would show the entities)."""
    return f"<code>{text(value)}</code>"


def block(value: str, css_class: str = "") -> str:
    """Untrusted text as a raw HTML paragraph, with its http(s) links made clickable."""
    out, last = [], 0
    for start, end, url in link_spans(value):
        out.append(escape(value[last:start]))
        out.append(f'<a href="{escape(url)}" rel="nofollow noopener">{escape(url)}</a>')
        last = end
    out.append(escape(value[last:]))
    cls = f' class="{css_class}"' if css_class else ""
    return f'<p dir="auto"{cls}>{"".join(out)}</p>'


def front_matter(title: str, description: str = "") -> str:
    # The theme prints page.meta.title without escaping: it must already be HTML-safe.
    meta = {"title": escape(title)}
    if description:
        meta["description"] = escape(description[:200])
    lines = "".join(f"{k}: {_yaml_string(v)}\n" for k, v in meta.items())
    return f"---\n{lines}---\n\n"


# What YAML refuses raw (DEL, C1 controls, surrogates, non-characters) or reads as a line
# break (NEL, U+2028, U+2029). Refused, MkDocs would silently read the whole front matter
# as Markdown.
_SURROGATE = re.compile("[\ud800-\udfff]")
_NOT_YAML_TEXT = re.compile("[\x7f-\x9f\u2028\u2029\ufffe\uffff]")


def _yaml_string(value: str) -> str:
    """A YAML double-quoted scalar that reads back as ``value``, whatever it holds: JSON
    (which YAML reads) with the characters YAML cannot take raw escaped."""
    # YAML has no escape for a lone surrogate: it becomes U+FFFD, as at ingest.
    quoted = json.dumps(_SURROGATE.sub("\ufffd", value), ensure_ascii=False)
    return _NOT_YAML_TEXT.sub(lambda match: f"\\u{ord(match.group()):04x}", quoted)


def format_date(iso: str | None, inferred: bool = False) -> str:
    if not iso:
        return "—"
    date = dt.date.fromisoformat(iso)
    shown = f"{date.strftime('%b')} {date.day}, {date.year}"
    return f"{shown}*" if inferred else shown


def noun(number: int, singular: str, plural: str = "") -> str:
    """The noun for ``number`` of things: a small collection has counts of one."""
    return singular if number == 1 else plural or singular + "s"


def render_site(writer: PageWriter, data: SiteData, site_url: str, publish_metadata: bool) -> int:
    """Write every page and chart of the site; returns the number of pages.

    With ``publish_metadata``, the pages link to the Datasette metadata published beside
    the database."""
    pages = 0
    for relative, content in _Renderer(data, site_url, publish_metadata).pages():
        writer.write(relative, content)
        pages += relative.endswith(".md")
    return pages


def render_analysis(writer: PageWriter, notebooks: list[NotebookPage]) -> int:
    """Write the Analysis section: a page for each executed notebook, with its figures,
    and the section's index; returns the number of pages."""
    for page in notebooks:
        writer.write(f"analysis/{page.stem}.md", analysis_page(page))
        for relative, content in page.files.items():
            writer.write(f"analysis/{relative}", content)
    writer.write("analysis/index.md", analysis_index(notebooks))
    return len(notebooks) + 1


def analysis_page(page: NotebookPage) -> str:
    return (
        front_matter(page.title, f"The {page.stem} notebook, run against the database.")
        + page.markdown.strip()
        + '\n\n!!! note "This page is a notebook"\n'
        f"    It is `notebooks/{page.stem}.ipynb`, executed against the database when the "
        "site was built. To run it yourself: `pip install -e .`, `python build.py db`, then "
        "`jupyter lab notebooks/`.\n"
    )


def analysis_index(pages: list[NotebookPage]) -> str:
    out = [front_matter("Analysis", "Notebooks that analyse the collection.")]
    out.append(
        "# Analysis\n\nJupyter notebooks in `notebooks/`, executed against the database "
        "when the site was built. Open them yourself with `jupyter lab notebooks/`.\n\n"
    )
    if not pages:
        out.append("The notebooks were not executed in this build.\n")
    for page in pages:
        out.append(f"- [{text(page.title)}]({page.stem}.md) — `notebooks/{page.stem}.ipynb`\n")
    return "".join(out)


class _Renderer:
    def __init__(self, data: SiteData, site_url: str, metadata_published: bool = False):
        self.data = data
        # Counted once: a label is asked for every appearance on every paper page.
        self.title_counts = Counter(listing["title"] for listing in data.listings.values())
        self.site_url = site_url.rstrip("/") + "/" if site_url else ""
        self.db_url = f"{self.site_url}{DOWNLOADS}/papers.db" if self.site_url else ""
        published = bool(self.site_url) and metadata_published
        self.metadata_url = f"{self.site_url}{DOWNLOADS}/metadata.json" if published else ""

    # ---- helpers -------------------------------------------------------------------------

    def lite(self, fragment: str = "") -> str:
        """A Datasette Lite URL that opens the published database (empty without site_url).

        It carries the published metadata too: without it Lite knows no canned query,
        description or facet.
        """
        if not self.db_url:
            return ""
        url = f"https://lite.datasette.io/?url={quote(self.db_url, safe=':/')}"
        if self.metadata_url:
            url += f"&metadata={quote(self.metadata_url, safe=':/')}"
        return f"{url}#{fragment}"

    def paper_link(self, slug: str, prefix: str) -> str:
        return f"[{text(self.data.papers[slug]['title'])}]({prefix}papers/{slug}.md)"

    def topic_link(self, slug: str, prefix: str) -> str:
        return f"[{text(self.data.topics[slug]['name'])}]({prefix}topics/{slug}.md)"

    def listing_label(self, name: str) -> str:
        """The listing's title (untrusted), with its id when another listing has the same."""
        title = self.data.listings[name]["title"]
        return f"{title} ({name})" if self.title_counts[title] > 1 else title

    def listing_link(self, name: str, prefix: str) -> str:
        return f"[{text(self.listing_label(name))}]({prefix}listings/{name}.md)"

    def chart(self, base: str, prefix: str, alt: str, make) -> tuple[list, str]:
        """Light and dark SVG files, and the Markdown that shows the right one."""
        files = [(f"charts/{base}-{p}.svg", make(p)) for p in ("light", "dark")]
        markdown = (
            f"![{text(alt)}]({prefix}charts/{base}-light.svg#only-light)"
            f"![{text(alt)}]({prefix}charts/{base}-dark.svg#only-dark)\n"
        )
        return files, markdown

    def paper_table(self, slugs: list[str], prefix: str, with_topics: bool = False) -> str:
        head = "| Published | Upvotes | Title |"
        rule = "| --- | ---: | --- |"
        if with_topics:
            head, rule = head + " Topics |", rule + " --- |"
        lines = [head, rule]
        for slug in slugs:
            paper = self.data.papers[slug]
            row = (
                f"| {format_date(paper['published'], paper['year_inferred'])} "
                f"| {'' if paper['upvotes'] is None else paper['upvotes']} "
                f"| {self.paper_link(slug, prefix)} |"
            )
            if with_topics:
                names = [
                    text(self.data.topics[t["topic"]]["name"])
                    for t in self.data.paper_topics.get(slug, [])
                ]
                row += f" {', '.join(names)} |"
            lines.append(row)
        return "\n".join(lines) + "\n"

    def newest_first(self, slugs) -> list[str]:
        papers = self.data.papers
        return sorted(slugs, key=lambda s: (papers[s]["published"] or "", s), reverse=True)

    # ---- pages ---------------------------------------------------------------------------

    def pages(self):
        yield "find.md", self.find_page()
        yield from self.home()
        yield from self.data_page()
        yield "papers/index.md", self.papers_index()
        yield "topics/index.md", self.topics_index()
        yield "listings/index.md", self.listings_index()
        for slug in self.data.papers:
            yield f"papers/{slug}.md", self.paper_page(slug)
        for slug in self.data.topics:
            yield from self.topic_page(slug)
        for old, kept in self.data.retired_topics.items():
            yield f"topics/{old}.md", self.retired_topic_page(old, kept)
        for name in self.data.listings:
            yield f"listings/{name}.md", self.listing_page(name)

    def home(self):
        papers = self.data.papers
        dated = sorted(p["published"] for p in papers.values() if p["published"])
        appearances = sum(len(a) for a in self.data.appearances.values())
        upvoted = sorted(
            (s for s in papers if papers[s]["upvotes"]), key=lambda s: (-papers[s]["upvotes"], s)
        )
        years = Counter(p["published"][:4] for p in papers.values() if p["published"])
        year_labels = [str(y) for y in range(int(min(years)), int(max(years)) + 1)] if years else []
        out = [front_matter("papershelf", "A collection of research papers to browse and query.")]
        out.append("# papershelf\n\n")
        out.append(
            "A collection of research papers gathered from Hugging Face paper listings, "
            "with curated topics, related papers and the data behind it all to download "
            "and query.\n\n"
        )
        out.append(
            f'<div class="ps-stats" markdown>\n\n'
            f"- **{len(papers)}** [{noun(len(papers), 'paper')}](papers/index.md)\n"
            f"- **{len(self.data.topics)}** [{noun(len(self.data.topics), 'topic')}]"
            "(topics/index.md)\n"
            f"- **{len(self.data.listings)}** [{noun(len(self.data.listings), 'listing')}]"
            "(listings/index.md)\n"
            f"- **{appearances}** {noun(appearances, 'appearance')}\n"
            + (
                f"- published **{format_date(dated[0])}** to **{format_date(dated[-1])}** "
                f"({len(dated)} dated)\n"
                if dated
                else ""
            )
            + "\n</div>\n\n"
        )
        files = []
        if year_labels:
            chart = self.chart(
                "papers-per-year",
                "",
                "Papers per year of publication",
                lambda p: bar_chart(
                    year_labels,
                    [years.get(y, 0) for y in year_labels],
                    "Papers per year of publication",
                    p,
                ),
            )
            files += chart[0]
            out.append("## Papers over time\n\n" + chart[1] + "\n")
        chart_files, markdown = self.top_topics()
        files += chart_files
        out.append(markdown)
        if upvoted:
            out.append("## Most upvoted\n\n" + self.paper_table(upvoted[:10], "") + "\n")
        newest = [s for s in self.newest_first(papers) if papers[s]["published"]][:10]
        if newest:
            out.append(
                "## Newest\n\n"
                + self.paper_table(newest, "")
                + "\n\\* the listing showed no year; it was inferred from the listing.\n\n"
            )
        out.append(self.query_help(""))
        yield "index.md", "".join(out)
        yield from files

    def top_topics(self) -> tuple[list, str]:
        """The home page's largest topics: a chart and a list, or why there are none."""
        sizes = {t: len(self.data.topic_papers.get(t, [])) for t in self.data.topics}
        top = sorted((t for t in sizes if sizes[t]), key=lambda t: (-sizes[t], t))[:12]
        if not top:
            # Every topic is empty: a chart of zero-length bars would say nothing.
            return [], (
                "## Top topics\n\nNo paper matched the rules of any topic yet.\n\n"
                "[All topics →](topics/index.md)\n\n"
            )
        files, chart = self.chart(
            "topics",
            "",
            "Papers per topic",
            lambda p: hbar_chart(
                [self.data.topics[t]["name"] for t in top],
                [sizes[t] for t in top],
                "Largest topics",
                p,
            ),
        )
        listed = "".join(
            f"- {self.topic_link(t, '')} — {sizes[t]} {noun(sizes[t], 'paper')}\n" for t in top
        )
        return files, f"## Top topics\n\n{chart}\n{listed}\n[All topics →](topics/index.md)\n\n"

    def query_help(self, prefix: str) -> str:
        lite = self.lite("/papers")
        lines = [
            "## Download and query\n\n",
            f"- [papers.db]({prefix}{DOWNLOADS}/papers.db) — the SQLite database "
            "(every table, full-text search, views)\n",
            f"- [papers.csv]({prefix}{DOWNLOADS}/papers.csv) and "
            f"[papers.json]({prefix}{DOWNLOADS}/papers.json) — one row per paper with its topics\n",
        ]
        if lite:
            lines.append(
                f"- [Query it in your browser with Datasette Lite]({lite}) — SQL with no server\n"
            )
        lines.append(
            "- Locally: `python build.py serve` opens the database in Datasette with the "
            "canned queries; `jupyter lab notebooks/` opens the analysis notebooks.\n\n"
            f"The [Data page]({prefix}data.md) describes every table and column.\n"
        )
        return "".join(lines)

    def find_page(self) -> str:
        # Pagefind's index is split in chunks that the browser fetches as it needs them,
        # so a query costs the same on a site of 300 pages as on one of 100,000.
        return (
            front_matter("Search", "Search every paper, topic and listing.")
            + "# Search\n\n"
            + '<link href="../pagefind/pagefind-ui.css" rel="stylesheet">\n'
            + '<script src="../pagefind/pagefind-ui.js"></script>\n'
            + '<div id="papershelf-search"></div>\n'
            + "<script>\n"
            + "window.addEventListener('DOMContentLoaded', () => {\n"
            + "  new PagefindUI({element: '#papershelf-search', showSubResults: true,"
            + " showImages: false});\n"
            + "});\n"
            + "</script>\n"
        )

    def data_page(self):
        out = [front_matter("Data", "The papershelf database: schema and downloads.")]
        out.append("# Data\n\n")
        out.append(self.query_help("").replace("## Download and query\n\n", ""))
        lite = self.lite()
        if lite:
            queries = [
                "search?q=lora",
                "papers_in_topic?topic=instruction-tuning",
                "topic_list",
                "most_upvoted",
                "papers_per_month",
            ]
            out.append("\n### Canned queries in Datasette Lite\n\n")
            out.extend(f"- [{q.split('?')[0]}]({self.lite('/papers/' + q)})\n" for q in queries)
        out.append("\n## Schema\n\n")
        for table, kind, columns in self.data.schema:
            description = self.data.table_descriptions.get(table, "")
            out.append(f"### {table}\n\n*{kind}* — {text(description)}\n\n")
            out.append("| Column | Type | Description |\n| --- | --- | --- |\n")
            descriptions = self.data.column_descriptions.get(table, {})
            for name, type_ in columns:
                out.append(f"| `{name}` | {type_ or ''} | {text(descriptions.get(name, ''))} |\n")
            out.append("\n")
        yield "data.md", "".join(out)

    def papers_index(self) -> str:
        out = [front_matter("All papers", "Every paper in the collection, newest first.")]
        total = len(self.data.papers)
        out.append(f"# All papers\n\n{total} {noun(total, 'paper')}, newest first by year.\n\n")
        by_year = defaultdict(list)
        for slug, paper in self.data.papers.items():
            by_year[paper["published"][:4] if paper["published"] else "Undated"].append(slug)
        for year in sorted((y for y in by_year if y != "Undated"), reverse=True) + (
            ["Undated"] if "Undated" in by_year else []
        ):
            slugs = by_year[year]
            ordered = (
                sorted(slugs, key=lambda s: (self.data.papers[s]["title"].casefold(), s))
                if year == "Undated"
                else self.newest_first(slugs)
            )
            out.append(f"## {year}\n\n{len(slugs)} {noun(len(slugs), 'paper')}.\n\n")
            out.append(self.paper_table(ordered, "../", with_topics=True) + "\n")
        return "".join(out)

    def topics_index(self) -> str:
        out = [front_matter("Topics", "The curated topics of the collection.")]
        out.append(
            "# Topics\n\nA paper is in a topic when the evidence for it passes the topic's "
            "threshold: the topic's words or phrases in its title, or in the sentences of its "
            "abstract that say what the paper does (a passing mention counts little). A paper "
            "is in its three strongest topics at most; each paper page says why.\n\n"
            "| Topic | Papers | Description |\n| --- | ---: | --- |\n"
        )
        for slug, topic in self.data.topics.items():
            count = len(self.data.topic_papers.get(slug, []))
            out.append(
                f"| {self.topic_link(slug, '../')} | {count} | {text(topic['description'])} |\n"
            )
        return "".join(out)

    def listings_index(self) -> str:
        out = [front_matter("Listings", "The listing files the collection was built from.")]
        out.append(
            "# Listings\n\nThe pages the collection was copied from, in file order.\n\n"
            "| Listing | File | Date | Layout | Entries | Papers |\n"
            "| --- | --- | --- | --- | ---: | ---: |\n"
        )
        for name, listing in self.data.listings.items():
            when = format_date(listing["date"]) if listing["date"] else text(listing["date_text"])
            out.append(
                f"| [{text(self.listing_label(name))}]({name}.md) | {code(listing['filename'])} "
                f"| {when} | {listing['layout']} "
                f"| {listing['entries']} | {listing['papers']} |\n"
            )
        return "".join(out)

    def paper_page(self, slug: str) -> str:
        d = self.data
        paper = d.papers[slug]
        out = [front_matter(paper["title"], paper["abstract"])]
        out.append(f"# {text(paper['title'])}\n\n")
        facts = []
        if paper["short_name"]:
            facts.append(f"**{text(paper['short_name'])}**")
        if paper["published"]:
            inferred = " (year inferred)" if paper["year_inferred"] else ""
            facts.append(f"Published {format_date(paper['published'])}{inferred}")
        elif paper["published_text"]:
            facts.append(f"Published {text(paper['published_text'])} (year unknown)")
        if paper["upvotes"] is not None:
            facts.append(f"{paper['upvotes']} upvotes")
        if paper["authors_count"] is not None:
            n = paper["authors_count"]
            facts.append(f"{n} author{'s' if n != 1 else ''}")
        if paper["arxiv_id"]:
            facts.append(f"arXiv {text(paper['arxiv_id'])}")
        if facts:
            out.append('<div class="ps-facts" markdown>\n' + " · ".join(facts) + "\n</div>\n\n")
        names = d.authors.get(slug)
        if names:
            out.append(f"**Authors:** {', '.join(text(name) for name in names)}\n\n")
        if paper["ai_summary"]:
            out.append(
                f"**In one line** (generated by Hugging Face): {text(paper['ai_summary'])}\n\n"
            )
        if paper["ai_keywords"]:
            words = json.loads(paper["ai_keywords"])
            out.append(f"**Keywords:** {', '.join(text(w) for w in words)}\n\n")
        out.append("## Abstract\n\n" + block(paper["abstract"], "ps-abstract") + "\n\n")

        topics = d.paper_topics.get(slug, [])
        out.append("## Topics\n\n")
        if topics:
            for t in topics:  # by rank: the primary topic first
                primary = " (primary topic)" if t["is_primary"] else ""
                out.append(
                    f"- {self.topic_link(t['topic'], '../')}{primary}: "
                    f'<span class="ps-evidence">{text(t["explanation"])}</span>\n'
                )
        else:
            out.append("No topic has enough evidence for this paper.\n")
        out.append("\n## Listed in\n\n")
        for a in d.appearances.get(slug, []):
            out.append(f"- {self.listing_link(a['listing'], '../')}, rank {a['rank']}\n")

        links = d.links.get(slug, [])
        own = []  # links the richer listings give besides the abstract's
        if paper["github_repo"]:
            stars = paper["github_stars"]
            note = f" ({stars} stars)" if stars is not None else ""
            own.append(("GitHub repository", paper["github_repo"], note))
        if paper["project_page"]:
            own.append(("Project page", paper["project_page"], ""))
        if links or own:
            out.append("\n## Links\n\n")
            for label, url, note in own:
                if url.lower().startswith(("https://", "http://")):
                    out.append(
                        f'- {label}: <a href="{escape(url)}" rel="nofollow noopener">'
                        f"{text(url)}</a>{note}\n"
                    )
            if own:
                out.append("\n")
            for kind in KINDS:
                of_kind = [link for link in links if link["kind"] == kind]
                if of_kind:
                    out.append(f"**{KIND_LABELS[kind]}**\n\n")
                    out.extend(
                        f'- <a href="{escape(link["url"])}" rel="nofollow noopener">'
                        f"{text(link['url'])}</a>\n"
                        for link in of_kind
                    )
                    out.append("\n")

        related = d.related.get(slug, [])
        out.append("\n## Related papers\n\n")
        if related:
            # Scores stay in the database: printed here, every page would change whenever
            # a new paper shifts the term weights, and rebuilds could not skip it.
            for r in related:
                shared = r["shared_topics"]
                note = f" <small>({shared} shared topic{'s' if shared != 1 else ''})</small>"
                out.append(
                    f"1. {self.paper_link(r['related_paper'], '../')}{note if shared else ''}\n"
                )
        else:
            out.append("None found.\n")

        title_q = quote_plus(paper["title"])
        out.append("\n## Find it elsewhere\n\n")
        if paper["arxiv_id"]:
            arxiv = quote(paper["arxiv_id"])
            out.append(
                f'- <a href="https://arxiv.org/abs/{arxiv}" rel="nofollow">arXiv {arxiv}</a>\n'
                f'- <a href="https://huggingface.co/papers/{arxiv}" rel="nofollow">'
                "Hugging Face paper page</a>\n"
            )
        out.append(
            f'- <a href="https://huggingface.co/papers?q={escape(title_q)}" rel="nofollow">'
            "Search Hugging Face papers</a>\n"
            f'- <a href="https://arxiv.org/search/?searchtype=title&amp;query={escape(title_q)}" '
            'rel="nofollow">Search arXiv by title</a>\n'
        )
        lite = self.lite(f"/papers/papers/{quote(slug)}")
        if lite:
            out.append(f"- [Open in Datasette Lite]({lite})\n")
        return "".join(out)

    def topic_page(self, slug: str):
        d = self.data
        topic = d.topics[slug]
        members = d.topic_papers.get(slug, [])
        out = [front_matter(topic["name"], topic["description"])]
        out.append(f"# {text(topic['name'])}\n\n{text(topic['description'])}\n\n")
        out.append(f"**{len(members)} {noun(len(members), 'paper')}.** ")
        out.append(self.topic_evidence_note(topic))
        years = Counter(d.papers[s]["published"][:4] for s in members if d.papers[s]["published"])
        files = []
        if years:
            labels = [str(y) for y in range(int(min(years)), int(max(years)) + 1)]
            chart = self.chart(
                f"topic-{slug}",
                "../",
                f"{topic['name']}: papers per year",
                lambda p: bar_chart(
                    labels, [years.get(y, 0) for y in labels], "Papers per year", p, height=220
                ),
            )
            files += chart[0]
            out.append(chart[1] + "\n")
        co = Counter()
        member_set = set(members)
        for other, other_members in d.topic_papers.items():
            if other != slug:
                co[other] = len(member_set.intersection(other_members))
        related = [(t, n) for t, n in sorted(co.items(), key=lambda i: (-i[1], i[0])) if n][:6]
        if related:
            out.append("## Related topics\n\n")
            out.extend(
                f"- {self.topic_link(t, '../')} — {n} {noun(n, 'paper')} in both\n"
                for t, n in related
            )
            out.append("\n")
        lite = self.lite(f"/papers/papers_in_topic?topic={slug}")
        if lite:
            out.append(f"[Query this topic in Datasette Lite]({lite})\n\n")
        out.append(
            "## Papers\n\nPrimary memberships first, then by strength of evidence, then "
            "newest first.\n\n"
            + (
                self.paper_table(members, "../")
                if members
                else "No paper in the collection has enough evidence for this topic yet.\n"
            )
        )
        yield f"topics/{slug}.md", "".join(out)
        yield from files

    def topic_evidence_note(self, topic: dict) -> str:
        """What puts a paper in the topic, in the words of the taxonomy."""
        strong = json.loads(topic["strong"])
        rules = [r for r in json.loads(topic["rules"]) if r not in strong]
        exclude = json.loads(topic["exclude"])
        out = "Evidence for this topic: " + ", ".join(code(r) for r in rules + strong) + ". "
        if strong:
            out += (
                "Strong (enough alone where the abstract says what the paper does): "
                + ", ".join(map(code, strong))
                + ". "
            )
        if exclude:
            out += "Not counted inside: " + ", ".join(map(code, exclude)) + ". "
        return out + (
            f"A paper needs a score of {topic['threshold']:g}. A match in the title counts 1; "
            "in a sentence of the abstract that says what the paper does 0.5 (a strong phrase "
            "1), elsewhere in the abstract 0.2 (a strong phrase 0.5); each further mention "
            "0.1, up to 0.3.\n\n"
        )

    def retired_topic_page(self, old: str, kept: str) -> str:
        """A merged topic's old address: a page that sends visitors to the kept topic."""
        name = self.data.topics[kept]["name"]
        return (
            front_matter(name, f"This topic is now part of {name}.")
            + f'<meta http-equiv="refresh" content="0; url=../{kept}/">\n\n'
            + f"# {text(name)}\n\nThis topic ({code(old)}) is now part of "
            + f"{self.topic_link(kept, '../')}.\n"
        )

    def listing_page(self, name: str) -> str:
        listing = self.data.listings[name]
        when = format_date(listing["date"]) if listing["date"] else text(listing["date_text"])
        title = self.listing_label(name)
        out = [front_matter(title, f"The papers of the listing {title}.")]
        out.append(f"# {text(title)}\n\n")
        year_note = {
            "inferred": " (year inferred from the dates it shows)",
            "option": " (year given with --year)",
            "listings.yml": " (from content/listings.yml)",
            "explicit": "",
        }.get(listing["year_source"], " (year unknown)")
        # text(): the page is Markdown too, and [ ] ( ) * in a URL would be read as markup.
        source = text(listing.get("source_url") or "")
        link = f'<a href="{source}" rel="nofollow noopener">{source}</a>'
        out.append(
            f"- File: {code(listing['filename'])} (listing {code(name)})\n"
            + (f"- Source: {link}\n" if source else "")
            + f"- Date: {when}{year_note}\n"
            f"- Layout: {listing['layout']}\n"
            f"- {listing['entries']} {noun(listing['entries'], 'entry', 'entries')}, "
            f"{listing['papers']} distinct {noun(listing['papers'], 'paper')}\n\n"
        )
        out.append("## Papers in listed order\n\n| Rank | Published | Upvotes | Title |\n")
        out.append("| ---: | --- | ---: | --- |\n")
        for entry in self.data.listing_entries.get(name, []):
            paper = self.data.papers[entry["paper"]]
            out.append(
                f"| {entry['rank']} | {format_date(paper['published'], paper['year_inferred'])} "
                f"| {'' if paper['upvotes'] is None else paper['upvotes']} "
                f"| {self.paper_link(entry['paper'], '../')} |\n"
            )
        return "".join(out)
