"""Write the site's pages: :mod:`papershelf.publish.render` says what each page holds
and draws it from the templates; :class:`PageWriter` leaves a page alone when its content
is unchanged (so rebuilds and ``mkdocs serve`` stay fast).
"""

from __future__ import annotations

from .analysis import NotebookPage
from .render import _Renderer, analysis_index, analysis_page
from .sitedata import SiteData
from .templating import Drawing
from .writer import PageWriter


def render_site(
    writer: PageWriter,
    data: SiteData,
    site_url: str,
    publish_metadata: bool,
    site_name: str = "papershelf",
) -> int:
    """Write every page, chart, feed and citation file of the site; returns the number of
    pages.

    With ``publish_metadata``, the pages link to the Datasette metadata published beside
    the database."""
    pages = 0
    renderer = _Renderer(data, site_url, publish_metadata, site_name)
    for relative, content in renderer.pages():
        if isinstance(content, Drawing):
            writer.write_drawing(relative, content)
        else:
            writer.write(relative, content)
        pages += relative.endswith((".md", "/index.html"))  # a redirect is a page too
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
