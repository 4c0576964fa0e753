"""Ways to follow and cite the collection: Atom feeds (RFC 4287) of the newest papers, for
the whole collection and for each topic, and BibTeX entries, one per paper and all of them
in ``papers.bib``. Python picks the values; ``feed.xml.j2`` (autoescaped XML) and
``entry.bib.j2`` (every value BibTeX-escaped) draw them.

Feeds are made from the data alone, never the clock, so a rebuild gives the same bytes:

- an entry is a paper with a publication date, dated by it (its ``updated`` and
  ``published``, at midnight UTC); a paper whose listing showed no date is in no feed, as
  in the Datasette feed (``newest_papers.atom``): a paper of unknown date cannot be placed
  among the newest. A date whose year was inferred from the listing counts as its date;
- entries are the :data:`FEED_SIZE` newest, newest first, ties by slug;
- a feed's ``updated`` is its newest entry's date, or, with no entry, the newest date in
  the collection (:func:`collection_date`);
- ids are the papers' page URLs (``urn:papershelf:paper:<slug>`` without a site URL), the
  ids of the Datasette feed.

Listings get no feed: a listing is a copy of a page on one day, and never changes.

BibTeX keys are the papers' slugs: unique (the database's key) and stable across builds.
"""

from __future__ import annotations

from markupsafe import Markup

from .pagehead import arxiv_urls, known_date
from .templating import bibtex_text, render

FEED_SIZE = 50
# The date of a collection without any dates (as the sitemap's, sitedata.FALLBACK_DATE_EPOCH).
FALLBACK_DATE = "2000-01-01"


def atom_time(iso_date: str) -> str:
    """An RFC 3339 date-time, as Atom requires, for a day: its midnight UTC."""
    return f"{iso_date}T00:00:00Z"


def collection_date(papers: dict[str, dict], listings: dict[str, dict]) -> str:
    """The newest publication or listing date of the collection."""
    dates = [p["published"] for p in papers.values() if p["published"]]
    dates += [listing["date"] for listing in listings.values() if listing["date"]]
    return max(dates, default=FALLBACK_DATE)


def newest_dated(papers: dict[str, dict], slugs) -> list[str]:
    """The :data:`FEED_SIZE` newest of ``slugs`` with a publication date, newest first."""
    dated = sorted(s for s in slugs if papers[s]["published"])
    dated.sort(key=lambda s: papers[s]["published"], reverse=True)  # stable: ties by slug
    return dated[:FEED_SIZE]


def feed_entry(paper: dict, authors: list[str], topics: list[dict], url: str) -> dict:
    """What a feed says of a paper. ``url`` is its page's (empty without a site URL)."""
    arxiv = arxiv_urls(paper["arxiv_id"]) if paper["arxiv_id"] else {}
    return {
        "id": url or f"urn:papershelf:paper:{paper['slug']}",
        "title": paper["title"],
        # Never without a link (RFC 4287 wants one with no content): the source at worst.
        "link": url or arxiv.get("abstract") or "https://huggingface.co/papers",
        "updated": atom_time(paper["published"]),
        "summary": paper["abstract"],
        "authors": authors,
        "categories": topics,  # {"term": slug, "label": name}
    }


def atom_feed(feed: dict, entries: list[dict], fallback_date: str) -> str:
    """An Atom feed: ``feed`` holds its id, title, subtitle, page (``alternate``) and own
    (``self``) URLs and its author; ``updated`` is the newest entry's."""
    updated = max((e["updated"] for e in entries), default=atom_time(fallback_date))
    return render("feed.xml.j2", feed={**feed, "updated": updated}, entries=entries)


def bibtex_entry(paper: dict, authors: list[str], url: str) -> str:
    """A paper's BibTeX entry, ``@misc`` (as arXiv's own export), with ``eprint`` and
    ``archivePrefix`` when its arXiv id is known. ``url`` is its page's (may be empty)."""
    fields = [("title", paper["title"])]
    if authors:
        fields.append(("author", bibtex_names(authors)))
    if date := known_date(paper):
        fields += [("year", date[:4]), ("date", date)]
    if paper["arxiv_id"]:
        fields += [("eprint", paper["arxiv_id"]), ("archivePrefix", "arXiv")]
        url = arxiv_urls(paper["arxiv_id"])["abstract"]
    if url:
        fields.append(("url", url))
    return render("entry.bib.j2", key=paper["slug"], fields=fields)


def bibtex_names(names: list[str]) -> Markup:
    """An author field: names joined by ``and``; a name that holds a comma or the word
    "and" is braced, so BibTeX reads it as one name as written."""
    written = []
    for name in names:
        text = bibtex_text(name)
        protect = "," in text or " and " in f" {text.casefold()} "
        written.append(Markup("{%s}") % text if protect else text)
    return Markup(" and ").join(written)
