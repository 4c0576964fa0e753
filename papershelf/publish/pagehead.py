"""What a page's ``<head>`` says about it to the tools that read pages without showing them:
reference managers and Google Scholar (Highwire ``citation_*`` tags), link previews (Open
Graph and Twitter cards), search engines (JSON-LD), feed readers (Atom autodiscovery).

Python picks the values here; they travel in the page's front matter (``head``, written
by the ``yaml`` filter) to the theme's ``main.html``, which draws them autoescaped, the
JSON-LD with Jinja's ``tojson`` (``<``, ``>``, ``&`` and ``'`` escaped: no ``</script>``
can end the block early).
"""

from __future__ import annotations

from .templating import shorten

# Search engines show about 60 characters of a title and 160 of a description.
TITLE_LIMIT = 60
DESCRIPTION_LIMIT = 160
# Material writes a page's <title> as "<title> - <site name>".
TITLE_SEPARATOR = " - "

SCHEMA_ORG = "https://schema.org"


def page_title(title: str, site_name: str, is_home: bool = False) -> str:
    """The ``<title>`` of a page: the site's name alone on the home page, else the page's
    title shortened at a word, then the site's name, in :data:`TITLE_LIMIT` characters."""
    if is_home:
        return site_name
    room = TITLE_LIMIT - len(TITLE_SEPARATOR + site_name)
    return f"{shorten(title, room)}{TITLE_SEPARATOR}{site_name}"


def description(text: str) -> str:
    return shorten(text, DESCRIPTION_LIMIT)


def arxiv_urls(arxiv_id: str) -> dict:
    """The arXiv abstract and PDF pages and the Hugging Face page of an arXiv id."""
    return {
        "abstract": f"https://arxiv.org/abs/{arxiv_id}",
        "pdf": f"https://arxiv.org/pdf/{arxiv_id}",
        "hugging_face": f"https://huggingface.co/papers/{arxiv_id}",
    }


def known_date(paper: dict) -> str | None:
    """The paper's date when the listing showed it whole; ``None`` when its year was
    inferred. Citations and indexers take a date as fact: a guessed year is not one."""
    return None if paper.get("year_inferred") else paper["published"]


def citation_tags(paper: dict, authors: list[str]) -> list[tuple[str, str]]:
    """Highwire Press tags, as Google Scholar and Zotero read them: ``(name, content)``,
    one ``citation_author`` per author, in order."""
    tags = [("citation_title", paper["title"])]
    tags += [("citation_author", name) for name in authors]
    if date := known_date(paper):
        tags.append(("citation_publication_date", date.replace("-", "/")))
    if paper["arxiv_id"]:
        tags.append(("citation_arxiv_id", paper["arxiv_id"]))
        tags.append(("citation_pdf_url", arxiv_urls(paper["arxiv_id"])["pdf"]))
    return tags


def scholarly_article(paper: dict, authors: list[str], url: str, site: dict) -> dict:
    """The paper as a schema.org ``ScholarlyArticle`` (JSON-LD)."""
    article = {
        "@context": SCHEMA_ORG,
        "@type": "ScholarlyArticle",
        "name": paper["title"],
        "headline": shorten(paper["title"], 110),  # schema.org's advice for headlines
        "abstract": paper["abstract"],
    }
    if url:
        article["url"] = url
    if authors:
        article["author"] = [{"@type": "Person", "name": name} for name in authors]
    if date := known_date(paper):
        article["datePublished"] = date
    if paper["arxiv_id"]:
        article["identifier"] = {
            "@type": "PropertyValue",
            "propertyID": "arXiv",
            "value": paper["arxiv_id"],
        }
        article["sameAs"] = arxiv_urls(paper["arxiv_id"])["abstract"]
    article["isPartOf"] = site
    return article


def collection_page(name: str, text: str, url: str, items: int, site: dict) -> dict:
    """A page listing papers (home, all papers, a topic, a listing) as a schema.org
    ``CollectionPage`` (JSON-LD)."""
    page = {"@context": SCHEMA_ORG, "@type": "CollectionPage", "name": name}
    if text:
        page["description"] = text
    if url:
        page["url"] = url
    page["mainEntity"] = {"@type": "ItemList", "numberOfItems": items}
    page["isPartOf"] = site
    return page


def website(site_name: str, site_url: str) -> dict:
    site = {"@type": "WebSite", "name": site_name}
    return {**site, "url": site_url} if site_url else site
