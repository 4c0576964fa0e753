"""The site's pages, from the site data: Python picks what each page shows, the templates
in ``templates/`` draw it (:mod:`papershelf.publish.templating`).

A page's headings stay Markdown, for MkDocs' table of contents; its heavy parts (lists of
papers, tables, evidence, links) are raw HTML blocks, which Python-Markdown passes through
without parsing them. MkDocs rewrites ``.md`` links in Markdown but not in raw HTML, so the
links there are the final URLs, relative to the page, as MkDocs' directory URLs
(``use_directory_urls``, its default) serve it: ``papers/<slug>.md`` at ``papers/<slug>/``.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import quote, quote_plus

from markupsafe import Markup

from ..collection.links import KIND_LABELS, KINDS, link_spans
from ..collection.topics import alternatives
from . import citations, pagehead
from .analysis import NotebookPage
from .charts import NARROW, WIDE, bar_chart, hbar_chart, svg_size
from .exports import DOWNLOADS
from .templating import ENVIRONMENT, Drawing, format_date, noun, render

if TYPE_CHECKING:
    from .sitedata import SiteData

# The queries of datasets/metadata.yml the Data page links to in Datasette Lite.
# Example parameters for the canned queries that take some, so their Data page links
# open with results.
CANNED_QUERY_EXAMPLES = {"search": "q=lora", "papers_in_topic": "topic=instruction-tuning"}


def _query_string(query: str) -> str:
    example = CANNED_QUERY_EXAMPLES.get(query)
    return f"?{example}" if example else ""


def page_url(path: str) -> str:
    """The URL MkDocs serves the page ``path`` at: ``papers/x.md`` at ``papers/x/``."""
    stem = path.removesuffix(".md")
    if stem == "index":
        return ""
    return stem.removesuffix("/index") + "/"


def relative_url(target: str, page: str) -> str:
    """``target`` (a page's URL or a file's path in the site) as a link from the page at
    URL ``page``, written as MkDocs writes the links it rewrites."""
    here = page.split("/")[:-1]
    *there, leaf = target.split("/")
    common = 0
    while common < min(len(here), len(there)) and here[common] == there[common]:
        common += 1
    return "/".join([".."] * (len(here) - common) + there[common:] + [leaf]) or "./"


def linked_pieces(value: str) -> list[tuple[str, bool]]:
    """``value`` in pieces of ``(text, is_link)``: its http(s) links, to be made clickable."""
    pieces, last = [], 0
    for start, end, url in link_spans(value):
        pieces += [(value[last:start], False), (url, True)]
        last = end
    return [*pieces, (value[last:], False)]


def front_matter(title: str, description: str = "") -> str:
    """The front matter every page template starts with (its ``front_matter`` macro)."""
    page_macros = ENVIRONMENT.get_template("_page.md.j2").module
    return str(page_macros.front_matter(title, description)) + "\n"


def analysis_page(page: NotebookPage) -> str:
    # The notebook's Markdown is ours (nbconvert's output of notebooks/), not a listing's.
    return render("analysis.md.j2", page=page, markdown=Markup(page.markdown.strip()))


def analysis_index(pages: list[NotebookPage]) -> str:
    return render("analysis_index.md.j2", pages=pages)


@dataclass(frozen=True)
class SiteLinks:
    """Where the site is published and what it calls itself: what a page's links and head
    tags depend on besides its own data. Part of a paper page's drawing inputs."""

    site_name: str
    site_url: str  # with a trailing slash, or empty
    db_url: str
    metadata_url: str
    website: dict

    @classmethod
    def of(cls, site_url: str, metadata_published: bool, site_name: str) -> SiteLinks:
        site_url = site_url.rstrip("/") + "/" if site_url else ""
        db_url = f"{site_url}{DOWNLOADS}/papers.db" if site_url else ""
        published = bool(site_url) and metadata_published
        metadata_url = f"{site_url}{DOWNLOADS}/metadata.json" if published else ""
        return cls(site_name, site_url, db_url, metadata_url, pagehead.website(site_name, site_url))

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

    def absolute(self, url: str) -> str:
        """The page or file at ``url`` (from the site's root) as an absolute URL; empty
        without a site URL."""
        return self.site_url + url if self.site_url else ""

    def head(self, title: str, text: str, url: str, jsonld: dict, **more) -> dict:
        """What the page at ``url`` says of itself in its <head> (see pagehead)."""
        return {
            "name": title,
            "title": pagehead.page_title(title, self.site_name, is_home=url == ""),
            "description": pagehead.description(text),
            "og_type": "website",
            "citation": [],
            "feeds": [],
            "jsonld": jsonld,
            **more,
        }


class _Renderer:
    """Every page of the site, as ``(relative path, content)``."""

    def __init__(
        self,
        data: SiteData,
        site_url: str,
        metadata_published: bool = False,
        site_name: str = "papershelf",
    ):
        self.data = data
        # Counted once: a label is asked for every appearance on every paper page.
        self.title_counts = Counter(listing["title"] for listing in data.listings.values())
        self.site = SiteLinks.of(site_url, metadata_published, site_name)
        self.collection_date = citations.collection_date(data.papers, data.listings)
        self._bibtex: dict[str, str] = {}

    # ---- what pages link to ----------------------------------------------------------------

    def collection_head(self, title: str, text: str, url: str, items: int, **more) -> dict:
        site = self.site
        jsonld = pagehead.collection_page(title, text, site.absolute(url), items, site.website)
        return site.head(title, text, url, jsonld, **more)

    def paper_ref(self, slug: str, page: str) -> dict:
        return paper_link(slug, self.data.papers[slug]["title"], page)

    def topic_ref(self, slug: str, page: str) -> dict:
        return topic_link(slug, self.data.topics[slug]["name"], page)

    def listing_label(self, name: str) -> str:
        """The listing's title (untrusted), with its id when another listing has the same."""
        title = self.data.listings[name]["title"]
        return f"{title} ({name})" if self.title_counts[title] > 1 else title

    def downloads(self, page: str) -> dict:
        """What the Download and query list links to, from ``page``."""
        files = {
            name: relative_url(f"{DOWNLOADS}/papers.{name}", page)
            for name in ("db", "csv", "json", "bib")
        }
        return {**files, "lite": self.site.lite("/papers"), "data": relative_url("data/", page)}

    def chart(self, base: str, page: str, alt: str, make, data=()) -> tuple[list, dict]:
        """SVG files for the light and dark palettes, each wide and narrow (for phones), and
        what the page needs to show the right one. ``make(palette, width)`` draws one;
        ``data``, the chart's (label, number of papers), is spelled out in its text
        alternative, for who cannot see it."""
        if data:
            alt += ": " + "; ".join(
                f"{label}, {value} {noun(value, 'paper')}" for label, value in data
            )
        files, image = [], {"alt": alt}
        prefix = relative_url(f"charts/{base}", page)
        for palette in ("light", "dark"):
            for suffix, width in (("", WIDE), ("-narrow", NARROW)):
                svg = make(palette, width)
                files.append((f"charts/{base}-{palette}{suffix}.svg", svg))
                size = dict(zip(("width", "height"), svg_size(svg), strict=True))
                image[palette + suffix.replace("-", "_")] = {
                    "src": f"{prefix}-{palette}{suffix}.svg",
                    **size,
                }
        return files, image

    def paper_rows(self, slugs: list[str], page: str, with_topics: bool = False) -> list[dict]:
        """The rows of a table of papers."""
        rows = []
        for slug in slugs:
            paper = self.data.papers[slug]
            row = {
                **self.paper_ref(slug, page),
                "published": format_date(paper["published"], paper["year_inferred"]),
                "inferred": bool(paper["published"] and paper["year_inferred"]),
                "upvotes": "" if paper["upvotes"] is None else paper["upvotes"],
            }
            if with_topics:
                row["topics"] = [
                    self.data.topics[t["topic"]]["name"]
                    for t in self.data.paper_topics.get(slug, [])
                ]
            rows.append(row)
        return rows

    def member_rows(self, topic: str, members: list[str], page: str) -> list[dict]:
        """The rows of a topic's table of papers, each with its score in the topic and
        whether the topic is its primary one (the order the table is in)."""
        rows = self.paper_rows(members, page)
        for row, paper in zip(rows, members, strict=True):
            (membership,) = (t for t in self.data.paper_topics[paper] if t["topic"] == topic)
            row["score"] = f"{membership['score']:.1f}"  # in tenths: exact
            row["primary"] = bool(membership["is_primary"])
        return rows

    def newest_first(self, slugs) -> list[str]:
        papers = self.data.papers
        return sorted(slugs, key=lambda s: (papers[s]["published"] or "", s), reverse=True)

    # ---- pages -----------------------------------------------------------------------------

    def pages(self):
        yield "find.md", render("find.md.j2")
        yield from self.home()
        yield "data.md", self.data_page()
        yield "papers/index.md", self.papers_index()
        yield "topics/index.md", self.topics_index()
        yield "listings/index.md", self.listings_index()
        for slug in self.data.papers:
            yield f"papers/{slug}.md", self.paper_page(slug)
        for slug in self.data.topics:
            yield from self.topic_page(slug)
        for old, kept in self.data.retired_topics.items():
            yield f"topics/{old}/index.html", self.retired_topic_page(old, kept)
        for name in self.data.listings:
            yield f"listings/{name}.md", self.listing_page(name)
        yield from self.feeds()
        yield f"{DOWNLOADS}/papers.bib", self.papers_bib()

    # ---- feeds and citations ---------------------------------------------------------------

    def feeds(self):
        """The collection's Atom feed at the site's root, and each topic's beside its page."""
        yield "feed.xml", self.feed(self.data.papers, "", "newest papers", "the collection")
        for slug, topic in self.data.topics.items():
            members = self.data.topic_papers.get(slug, [])
            yield f"topics/{slug}/feed.xml", self.feed(members, f"topics/{slug}/", topic["name"])

    def feed(self, slugs, page: str, name: str, of: str = "") -> str:
        """The feed of the newest of ``slugs``, beside the page at URL ``page``."""
        papers = self.data.papers
        entries = []
        for slug in citations.newest_dated(papers, slugs):
            topics = [
                {"term": t["topic"], "label": self.data.topics[t["topic"]]["name"]}
                for t in self.data.paper_topics.get(slug, [])
            ]
            authors = self.data.authors.get(slug, [])
            url = self.site.absolute(f"papers/{slug}/")
            entries.append(citations.feed_entry(papers[slug], authors, topics, url))
        path = f"{page}feed.xml"
        site = self.site
        feed = {
            "id": site.absolute(path) or f"urn:papershelf:feed:{page.rstrip('/') or 'collection'}",
            "title": f"{site.site_name}: {name}",
            "subtitle": f"The newest papers of {of or 'the topic ' + name}, by publication date.",
            "author": site.site_name,
            "alternate": site.absolute(page),
            "self": site.absolute(path),
        }
        return citations.atom_feed(feed, entries, self.collection_date)

    def bibtex(self, slug: str) -> str:
        """The paper's entry, drawn once: its page and papers.bib both show it."""
        entry = self._bibtex.get(slug)
        if entry is None:
            paper, authors = self.data.papers[slug], self.data.authors.get(slug, [])
            url = self.site.absolute(f"papers/{slug}/")
            entry = self._bibtex[slug] = citations.bibtex_entry(paper, authors, url)
        return entry

    def papers_bib(self) -> str:
        """Every paper's BibTeX entry, by key (the slug)."""
        return "\n".join(self.bibtex(slug) for slug in sorted(self.data.papers))

    def home(self):
        papers = self.data.papers
        dated = sorted(p["published"] for p in papers.values() if p["published"])
        upvoted = sorted(
            (s for s in papers if papers[s]["upvotes"]), key=lambda s: (-papers[s]["upvotes"], s)
        )
        newest = [s for s in self.newest_first(papers) if papers[s]["published"]][:10]
        years = Counter(date[:4] for date in dated)
        files, year_chart = [], None
        if years:
            labels = [str(y) for y in range(int(min(years)), int(max(years)) + 1)]
            title = "Papers per year of publication"
            files, year_chart = self.chart(
                "papers-per-year",
                "",
                title,
                lambda p, w: bar_chart(labels, [years.get(y, 0) for y in labels], title, p, w),
                [(y, years.get(y, 0)) for y in labels],
            )
        topic_files, top_topics = self.top_topics()
        yield (
            "index.md",
            render(
                "home.md.j2",
                counts={
                    "papers": len(papers),
                    "topics": len(self.data.topics),
                    "listings": len(self.data.listings),
                    "appearances": sum(len(a) for a in self.data.appearances.values()),
                    "enriched": self.data.enriched,  # completed from content/enrichment/
                },
                dated=dated,
                year_chart=year_chart,
                top_topics=top_topics,
                upvoted=self.paper_rows(upvoted[:10], ""),
                newest=self.paper_rows(newest, ""),
                downloads=self.downloads(""),
                head=self.collection_head(self.site.site_name, HOME_DESCRIPTION, "", len(papers)),
            ),
        )
        yield from files + topic_files

    def top_topics(self) -> tuple[list, dict | None]:
        """The home page's chart of its largest topics (none when every topic is empty: a
        chart of zero-length bars would say nothing)."""
        sizes = {t: len(self.data.topic_papers.get(t, [])) for t in self.data.topics}
        top = sorted((t for t in sizes if sizes[t]), key=lambda t: (-sizes[t], t))[:12]
        if not top:
            return [], None
        names, counts = [self.data.topics[t]["name"] for t in top], [sizes[t] for t in top]
        return self.chart(
            "topics",
            "",
            "Largest topics",
            lambda p, w: hbar_chart(names, counts, "Largest topics", p, w),
            list(zip(names, counts, strict=True)),
        )

    def data_page(self) -> str:
        lite = self.site.lite()
        data = self.data
        tables = [
            {
                "name": table,
                "kind": kind,
                "description": data.table_descriptions.get(table, ""),
                "columns": [
                    (name, type_ or "", data.column_descriptions.get(table, {}).get(name, ""))
                    for name, type_ in columns
                ],
            }
            for table, kind, columns in data.schema
        ]
        canned = [
            (title, self.site.lite(f"/papers/{name}" + _query_string(name)))
            for name, title in self.data.query_titles.items()
        ]
        return render(
            "data.md.j2",
            downloads={**self.downloads("data/"), "data": ""},  # no link to itself
            canned=canned if lite else [],
            tables=tables,
        )

    def papers_index(self) -> str:
        by_year = defaultdict(list)
        for slug, paper in self.data.papers.items():
            by_year[paper["published"][:4] if paper["published"] else "Undated"].append(slug)
        years = sorted((y for y in by_year if y != "Undated"), reverse=True)
        sections = [
            {"year": y, "rows": self.paper_rows(self.newest_first(by_year[y]), "papers/", True)}
            for y in years
        ]
        if "Undated" in by_year:
            undated = sorted(
                by_year["Undated"], key=lambda s: (self.data.papers[s]["title"].casefold(), s)
            )
            sections.append({"year": "Undated", "rows": self.paper_rows(undated, "papers/", True)})
        total = len(self.data.papers)
        head = self.collection_head("All papers", PAPERS_DESCRIPTION, "papers/", total)
        return render("papers_index.md.j2", total=total, sections=sections, head=head)

    def topics_index(self) -> str:
        topics = [
            {
                **self.topic_ref(slug, "topics/"),
                "count": len(self.data.topic_papers.get(slug, [])),
                "description": topic["description"],
            }
            for slug, topic in self.data.topics.items()
        ]
        head = self.collection_head("Topics", TOPICS_DESCRIPTION, "topics/", len(topics))
        return render("topics_index.md.j2", topics=topics, head=head)

    def listings_index(self) -> str:
        listings = [
            {
                **listing,
                "label": self.listing_label(name),
                "href": relative_url(f"listings/{name}/", "listings/"),
                "when": format_date(listing["date"]) if listing["date"] else listing["date_text"],
            }
            for name, listing in self.data.listings.items()
        ]
        count = len(listings)
        head = self.collection_head("Listings", LISTINGS_DESCRIPTION, "listings/", count)
        return render("listings_index.md.j2", listings=listings, head=head)

    def paper_page(self, slug: str) -> Drawing:
        """The paper's page, to be drawn from its inputs by :func:`paper_context` only when
        they differ from the page's last drawing (see PageWriter): most paper pages do not
        change when papers are added, and their contexts are not made."""
        data = self.data
        inputs = dict(
            paper=data.papers[slug],
            authors=data.authors.get(slug, []),
            topics=[  # by rank: the primary topic first
                (t, data.topics[t["topic"]]["name"]) for t in data.paper_topics.get(slug, [])
            ],
            listed_in=[
                (a["listing"], self.listing_label(a["listing"]), a["rank"])
                for a in data.appearances.get(slug, [])
            ],
            related=[
                (r["related_paper"], data.papers[r["related_paper"]]["title"], r["shared_topics"])
                for r in data.related.get(slug, [])
            ],
            links=data.links.get(slug, []),
            # Drawn here, not by paper_context: papers.bib needs every entry anyway.
            bibtex=self.bibtex(slug),
            site=self.site,
        )
        return Drawing("paper.md.j2", inputs, paper_context)

    def topic_page(self, slug: str):
        data, page = self.data, f"topics/{slug}/"
        feed = f"{page}feed.xml"
        topic = data.topics[slug]
        members = data.topic_papers.get(slug, [])
        years = Counter(
            data.papers[s]["published"][:4] for s in members if data.papers[s]["published"]
        )
        files, chart = [], None
        if years:
            labels = [str(y) for y in range(int(min(years)), int(max(years)) + 1)]
            files, chart = self.chart(
                f"topic-{slug}",
                page,
                f"{topic['name']}: papers per year",
                lambda p, w: bar_chart(
                    labels, [years.get(y, 0) for y in labels], "Papers per year", p, w, height=220
                ),
                [(y, years.get(y, 0)) for y in labels],
            )
        shared = Counter()
        member_set = set(members)
        for other, other_members in data.topic_papers.items():
            if other != slug:
                shared[other] = len(member_set.intersection(other_members))
        related = [(t, n) for t, n in sorted(shared.items(), key=lambda i: (-i[1], i[0])) if n]
        strong = json.loads(topic["strong"])
        yield (
            f"topics/{slug}.md",
            render(
                "topic.md.j2",
                topic=topic,
                count=len(members),
                strong=phrases_in_words(strong),
                rules=phrases_in_words(r for r in json.loads(topic["rules"]) if r not in strong),
                exclude=phrases_in_words(json.loads(topic["exclude"])),
                chart=chart,
                undated=len(members) - sum(years.values()),  # not in the chart
                related=[{**self.topic_ref(t, page), "count": n} for t, n in related[:6]],
                lite=self.site.lite(f"/papers/papers_in_topic?topic={slug}"),
                rows=self.member_rows(slug, members, page),
                head=self.collection_head(
                    topic["name"],
                    topic["description"],
                    page,
                    len(members),
                    feeds=[{"title": f"{self.site.site_name}: {topic['name']}", "path": feed}],
                ),
            ),
        )
        yield from files

    def retired_topic_page(self, old: str, kept: str) -> str:
        """A merged topic's old address: a file that sends visitors to the kept topic."""
        ref = self.topic_ref(kept, f"topics/{old}/")
        canonical = self.site.absolute(f"topics/{kept}/") or ref["href"]
        return render(
            "redirect.html.j2",
            old=old,
            kept=ref,
            canonical=canonical,
            site_name=self.site.site_name,
        )

    def listing_page(self, name: str) -> str:
        listing = self.data.listings[name]
        page = f"listings/{name}/"
        entries = self.data.listing_entries.get(name, [])
        rows = self.paper_rows([entry["paper"] for entry in entries], page)
        for row, entry in zip(rows, entries, strict=True):
            row["rank"] = entry["rank"]
        return render(
            "listing.md.j2",
            name=name,
            listing=listing,
            title=self.listing_label(name),
            when=format_date(listing["date"]) if listing["date"] else listing["date_text"],
            year_note=YEAR_NOTES.get(listing["year_source"], " (year unknown)"),
            rows=rows,
            head=self.collection_head(
                self.listing_label(name),
                f"The papers of the listing {self.listing_label(name)}.",
                page,
                listing["papers"],
            ),
        )


YEAR_NOTES = {
    "inferred": " (year inferred from the dates it shows)",
    "option": " (year given with --year)",
    "listings.yml": " (from content/listings.yml)",
    "explicit": "",
}


def phrases_in_words(rules) -> list[list[str]]:
    """Each rule as the spellings a reader reads, its wildcard as an ellipsis:
    ``retrieval | retrieve*`` is ``["retrieval", "retrieve…"]`` (rule syntax stays in
    the database)."""
    return [
        [
            spelling.removesuffix("*") + ("…" if spelling.endswith("*") else "")
            for spelling in alternatives(rule)
        ]
        for rule in rules
    ]


def paper_context(
    paper: dict,
    authors: list[str],
    topics: list[tuple[dict, str]],
    listed_in: list[tuple[str, str, int]],
    related: list[tuple[str, str, int]],
    links: list[dict],
    bibtex: str,
    site: SiteLinks,
) -> dict:
    """What a paper page shows, from nothing but its arguments (a drawing's key is made
    of them): its topics (row, name), the listings it appears in (name, label, rank), its
    related papers (slug, title, shared topics), its links, its BibTeX entry and the
    site's."""
    slug = paper["slug"]
    page = f"papers/{slug}/"
    article = pagehead.scholarly_article(paper, authors, site.absolute(page), site.website)
    return dict(
        paper=paper,
        header=paper_header(paper, authors),
        authors=authors,
        keywords=json.loads(paper["ai_keywords"]) if paper["ai_keywords"] else [],
        abstract=linked_pieces(paper["abstract"]),
        topics=[{**topic_link(t["topic"], name, page), **t} for t, name in topics],
        listed_in=[
            {"label": label, "href": relative_url(f"listings/{name}/", page), "rank": rank}
            for name, label, rank in listed_in
        ],
        links=paper_links(paper, links),
        # Scores stay in the database: printed, every page would change whenever a new
        # paper shifts the term weights, and rebuilds could not skip it.
        related=[
            {**paper_link(other, title, page), "shared": shared} for other, title, shared in related
        ],
        arxiv=quote(paper["arxiv_id"]) if paper["arxiv_id"] else "",
        title_query=quote_plus(paper["title"]),
        lite=site.lite(f"/papers/papers/{quote(slug)}"),
        bibtex=bibtex,
        bib_file=relative_url(f"{DOWNLOADS}/papers.bib", page),
        head=site.head(
            paper["title"],
            paper["abstract"],
            page,
            article,
            og_type="article",
            citation=pagehead.citation_tags(paper, authors),
        ),
    )


def paper_link(slug: str, title: str, page: str) -> dict:
    """A link to the paper's page from the page at URL ``page``."""
    return {"title": title, "href": relative_url(f"papers/{slug}/", page)}


def topic_link(slug: str, name: str, page: str) -> dict:
    """A link to the topic's page from the page at URL ``page``."""
    return {"name": name, "href": relative_url(f"topics/{slug}/", page)}


def paper_links(paper: dict, links: list[dict]) -> dict | None:
    """The links of the Links section: the richer listings' own (repository, project
    page), then the abstract's (``links``) by kind; None when there are none."""
    own = []
    if paper["github_repo"]:
        stars = paper["github_stars"]
        note = f" ({stars} stars)" if stars is not None else ""
        own.append(("GitHub repository", paper["github_repo"], note))
    if paper["project_page"]:
        own.append(("Project page", paper["project_page"], ""))
    if not links and not own:
        return None
    kinds = [
        (KIND_LABELS[kind], [link["url"] for link in links if link["kind"] == kind])
        for kind in KINDS
    ]
    return {
        "own": [o for o in own if o[1].lower().startswith(("https://", "http://"))],
        "kinds": [(label, urls) for label, urls in kinds if urls],
    }


def paper_header(paper: dict, authors: list[str]) -> dict:
    """The header block of a paper page: always its date (or that the listing showed
    none), with an inferred year said in words; its upvotes when known; its authors, their
    count, or that the listing named none; links when its arXiv id is known."""
    shown = paper["published_text"]
    if paper["published"]:
        date = f"Published {format_date(paper['published'])}"
        if paper["year_inferred"]:
            year = paper["published"][:4]
            date += f" (the listing showed “{shown}”, without a year; {year} is inferred from it)"
    elif shown:
        date = f"Published {shown} (the listing showed no year)"
    else:
        date = "Date not shown in the listing"
    facts = [date]
    if paper["upvotes"] is not None:
        facts.append(f"{paper['upvotes']} {noun(paper['upvotes'], 'upvote')}")
    count = paper["authors_count"]
    if not authors:
        facts.append(
            f"{count} {noun(count, 'author')} (names not shown in the listing)"
            if count
            else "Authors not shown in the listing"
        )
    links = pagehead.arxiv_urls(paper["arxiv_id"]) if paper["arxiv_id"] else None
    return {"facts": facts, "links": links}


HOME_DESCRIPTION = (
    "Research papers gathered from Hugging Face paper listings, with curated topics, "
    "related papers and the data to download and query."
)
PAPERS_DESCRIPTION = "Every paper in the collection, newest first."
TOPICS_DESCRIPTION = "The curated topics of the collection, and how papers are placed in them."
LISTINGS_DESCRIPTION = "The listing files the collection was built from."
