"""The notebooks run against a freshly built database, and the site shows them."""

import json
import re
from importlib.metadata import version
from pathlib import Path

import nbformat
import pytest
import sqlite_utils

from papershelf.publish.analysis import NO_ALT, RUNNERS, notebook_pages
from papershelf.publish.notebook import ENVIRONMENT_VARIABLE, connect, database_path
from papershelf.publish.versions import PACKAGE, distribution_versions

from .conftest import NOTEBOOKS, REPO

EXPECTED_FIGURES = {"exploring": 8, "querying": 1}


def test_notebooks_are_committed_without_outputs():
    paths = sorted(NOTEBOOKS.glob("*.ipynb"))
    assert [p.stem for p in paths] == sorted(EXPECTED_FIGURES)
    for path in paths:
        notebook = json.loads(path.read_text(encoding="utf-8"))
        for cell in notebook["cells"]:
            if cell["cell_type"] == "code":
                assert cell["outputs"] == [] and cell["execution_count"] is None, path.name


def test_notebooks_name_the_database_in_one_place_only():
    for path in NOTEBOOKS.glob("*.ipynb"):
        notebook = nbformat.read(path, as_version=4)
        source = "\n".join(c.source for c in notebook.cells if c.cell_type == "code")
        assert "papers.db" not in source and "/work" not in source, path.name
        assert "from papershelf.publish.notebook import connect" in source


def test_database_path_is_relative_to_the_repository(monkeypatch, tmp_path):
    monkeypatch.delenv(ENVIRONMENT_VARIABLE, raising=False)
    assert database_path(NOTEBOOKS) == REPO / "datasets" / "papers.db"
    monkeypatch.setenv(ENVIRONMENT_VARIABLE, str(tmp_path / "other.db"))
    assert database_path(NOTEBOOKS) == tmp_path / "other.db"


def test_connect_explains_a_missing_database(tmp_path):
    with pytest.raises(FileNotFoundError, match="run 'python build.py db'"):
        connect(tmp_path / "missing.db")


@pytest.fixture(scope="module")
def executed(real_db, notebook_cache):
    return {page.stem: page for page in notebook_pages(NOTEBOOKS, real_db, notebook_cache)}


@pytest.mark.parametrize("stem", sorted(EXPECTED_FIGURES))
def test_notebook_runs_and_produces_its_figures(executed, stem):
    page = executed[stem]
    figures = [name for name in page.files if name.endswith(".svg")]
    assert len(figures) == EXPECTED_FIGURES[stem]
    assert len(page.files) == len(figures)  # no PNG besides
    for name in figures:
        svg = page.files[name].decode()
        assert svg.startswith("<?xml") and "<svg" in svg
        assert "<dc:date>" not in svg  # no build date: the same data gives the same bytes
    assert "Traceback" not in page.markdown and "Error" not in page.markdown
    assert "Warning" not in page.markdown


def test_executed_notebook_reads_the_given_database(executed, real_db):
    # The exploring notebook prints the counts it read.
    topics = sqlite_utils.Database(real_db)["topics"].count
    assert (
        f"290 papers, 146 with a publication date, {topics} topics"
        in executed["exploring"].markdown
    )


def test_exploring_notebook_measures_topic_quality_against_the_labels(executed, real_db):
    from papershelf.collection.curation import measure

    quality, _ = measure(real_db, REPO / "content" / "topic-labels.yml")
    shown = executed["exploring"].markdown
    assert (
        f"{quality.labelled} labelled papers of topic-labels.yml are in this database "
        f"({len(quality.missing)} are not). Precision {quality.precision:.2f}: {quality.right} "
        f"of the {quality.assigned} memberships they are given are labelled."
    ) in shown
    assert f"{len(quality.near_misses)} labelled memberships not given;" in shown


def test_site_has_the_analysis_pages_with_figures(real_site):
    root, _ = real_site
    site = root / "site"
    for stem, count in EXPECTED_FIGURES.items():
        html = (site / "analysis" / stem / "index.html").read_text(encoding="utf-8")
        images = [p for p in (site / "analysis" / f"{stem}_files").glob("*.svg")]
        assert len(images) == count
        for image in images:
            alt = re.search(f'<img alt="([^"]*)" src="../{stem}_files/{image.name}"', html)
            assert alt and len(alt[1]) > 40 and alt[1] != NO_ALT, image.name
    home = (site / "index.html").read_text(encoding="utf-8")
    assert 'href="analysis/"' in home  # in the navigation
    index = (site / "analysis" / "index.html").read_text(encoding="utf-8")
    for stem in EXPECTED_FIGURES:
        assert f'href="{stem}/"' in index


def test_exploring_notebook_has_clear_axis_labels():
    notebook = nbformat.read(NOTEBOOKS / "exploring.ipynb", as_version=4)
    code = "\n".join(c.source for c in notebook.cells if c.cell_type == "code")
    assert code.count("xlabel=") >= 6


def _tiny_notebooks(root: Path) -> Path:
    """A project at ``root`` with labels and one notebook of one cell; its notebooks' folder."""
    (root / "mkdocs.yml").write_text("site_name: t\n", encoding="utf-8")
    (root / "content").mkdir()
    (root / "content" / "topic-labels.yml").write_text("papers: []\n", encoding="utf-8")
    notebooks = root / "notebooks"
    notebooks.mkdir()
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell("# Tiny"), nbformat.v4.new_code_cell("1 + 1")]
    nbformat.write(notebook, notebooks / "tiny.ipynb")
    return notebooks


def test_changing_the_topic_labels_runs_the_notebooks_again(tmp_path, real_db):
    notebooks = _tiny_notebooks(tmp_path)
    labels = tmp_path / "content" / "topic-labels.yml"
    cache = tmp_path / "cache"
    notebook_pages(notebooks, real_db, cache)
    first = sorted(p.name for p in cache.iterdir())
    notebook_pages(notebooks, real_db, cache)
    assert sorted(p.name for p in cache.iterdir()) == first  # nothing changed: cached
    labels.write_text("papers: []\n# relabelled\n", encoding="utf-8")
    notebook_pages(notebooks, real_db, cache)
    assert sorted(p.name for p in cache.iterdir()) != first


def test_another_version_of_a_library_that_runs_them_runs_the_notebooks_again(
    tmp_path, real_db, monkeypatch
):
    """CI restores the cache but installs whatever versions are newest: a cached page must
    not outlive the library that made it. nbconvert's Markdown parser (mistune, one of
    the libraries nbconvert requires) is installed again in another version, ahead of the
    one there is."""
    notebooks = _tiny_notebooks(tmp_path)
    cache = tmp_path / "cache"
    notebook_pages(notebooks, real_db, cache)
    first = sorted(p.name for p in cache.iterdir())
    installed = tmp_path / "site-packages"
    metadata = installed / "mistune-0.0.1.dist-info" / "METADATA"
    metadata.parent.mkdir(parents=True)
    metadata.write_text("Metadata-Version: 2.1\nName: mistune\nVersion: 0.0.1\n", encoding="utf-8")
    monkeypatch.syspath_prepend(installed)
    assert version("mistune") == "0.0.1"
    notebook_pages(notebooks, real_db, cache)
    assert sorted(p.name for p in cache.iterdir()) != first


def test_the_kernel_imports_the_papershelf_the_build_runs(tmp_path, real_db, monkeypatch):
    """The cache key covers this papershelf's code; a kernel that found another on its path
    (a clone beside an editable install elsewhere) would run code the key does not cover."""
    notebooks = _tiny_notebooks(tmp_path)
    notebook = nbformat.read(notebooks / "tiny.ipynb", as_version=4)
    source = "import papershelf\nprint(papershelf.__file__)"
    notebook.cells.append(nbformat.v4.new_code_cell(source))
    nbformat.write(notebook, notebooks / "tiny.ipynb")
    other = tmp_path / "elsewhere" / "papershelf"
    other.mkdir(parents=True)
    (other / "__init__.py").write_text("", encoding="utf-8")
    monkeypatch.setenv("PYTHONPATH", str(other.parent))
    (page,) = notebook_pages(notebooks, real_db, tmp_path / "cache")
    assert str(PACKAGE / "__init__.py") in page.markdown


def test_the_runners_versions_include_what_their_extras_require():
    versions = distribution_versions(RUNNERS)
    # nbconvert asks for bleach[css], whose extra requires tinycss2
    assert versions["tinycss2"] == version("tinycss2")
    assert {"nbconvert", "ipykernel", "pandas", "matplotlib", "pyyaml"} <= set(versions)


def figures_by_alt(page) -> dict[str, str]:
    """Each figure's SVG text, by the alt text the page gives it."""
    found = re.findall(r"!\[((?:[^\]\\]|\\.)*)\]\(([^)]+\.svg)\)", page.markdown)
    return {alt: page.files[path].decode() for alt, path in found}


def svg_texts(svg: str) -> list[str]:
    return [t.strip() for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg) if t.strip()]


def test_every_figure_has_alt_text_computed_from_the_data(executed, real_db):
    db = sqlite_utils.Database(real_db)
    dated = db.execute(
        "select count(*), min(published), max(published) from papers where published is not null"
    ).fetchone()
    alts = figures_by_alt(executed["exploring"])
    assert len(alts) == EXPECTED_FIGURES["exploring"]
    assert (
        f"Bar charts of the {dated[0]} dated papers by year and by month, {dated[1]} to "
        f"{dated[2]}; the most are from "
    ) in "\n".join(alts)
    for page in executed.values():
        assert "![svg]" not in page.markdown and "![png]" not in page.markdown
        assert NO_ALT not in page.markdown


def test_count_axes_and_heatmap_labels_are_whole_numbers(executed):
    figures = figures_by_alt(executed["exploring"])
    fractions = ("Stacked histogram of the topic scores", "Line chart of the share")
    counting = {alt: svg for alt, svg in figures.items() if not alt.startswith(fractions)}
    assert len(counting) == EXPECTED_FIGURES["exploring"] - 2  # scores and shares aside
    for alt, svg in counting.items():
        numbers = [t for t in svg_texts(svg) if re.fullmatch(r"[\d.,−-]+", t)]
        assert numbers, alt
        assert not [t for t in numbers if "." in t], alt  # "65", not "65.0"; no "17.5" tick


def test_listing_overlap_names_listings_by_title_and_states_what_the_data_says(executed, real_db):
    db = sqlite_utils.Database(real_db)
    titles = {r["name"]: r["title"] for r in db["listings"].rows}
    layouts = {r["name"]: r["layout"] for r in db["listings"].rows}
    members = {}
    for row in db["paper_listings"].rows:
        members.setdefault(row["listing"], set()).add(row["paper"])
    names = sorted(members)
    jaccard = {
        (a, b): len(members[a] & members[b]) / len(members[a] | members[b])
        for a in names
        for b in names
        if a < b
    }
    same = [j for (a, b), j in jaccard.items() if layouts[a] == layouts[b]]
    across = [j for (a, b), j in jaccard.items() if layouts[a] != layouts[b]]
    mean_same, mean_across = sum(same) / len(same), sum(across) / len(across)
    verdict = "more" if mean_same > mean_across else "less"
    shown = executed["exploring"].markdown
    assert (
        f"Pairs of listings of the same layout overlap {verdict} than pairs of different "
        f"layouts: mean Jaccard {mean_same:.2f} over {len(same)} pairs of the same layout, "
        f"{mean_across:.2f} over {len(across)} pairs across layouts."
    ) in shown
    assert "Listings from the same kind of page" not in shown  # the old fixed claim
    least = min(jaccard, key=jaccard.get)
    assert (
        f"least: {titles[least[0]]} and {titles[least[1]]} (Jaccard {jaccard[least]:.2f})" in shown
    )
    heatmap = next(
        svg
        for alt, svg in figures_by_alt(executed["exploring"]).items()
        if alt.startswith("Heatmap of the papers shared by each pair of 5 listings")
    )
    labels = svg_texts(heatmap)
    assert all(not any(name in label for label in labels) for name in names)  # no ids
    assert any(label.startswith(titles[names[0]][:20]) for label in labels)


def test_upvotes_are_analysed_only_where_they_exist(executed, real_db):
    db = sqlite_utils.Database(real_db)
    shown, zero, positive = db.execute(
        "select count(upvotes), sum(upvotes = 0), sum(upvotes > 0) from papers"
    ).fetchone()
    assert (
        f"{shown} papers of 290 show an upvote count; {zero} of them show 0, "
        f"{positive} at least one."
    ) in executed["exploring"].markdown
    assert f"Box plots of upvotes for the {positive} papers with upvotes" in (
        executed["exploring"].markdown
    )


def test_the_partial_year_is_marked(executed, real_db):
    newest = (
        sqlite_utils.Database(real_db).execute("select max(published) from papers").fetchone()[0]
    )
    assert not newest.endswith("-12-31")
    year = newest[:4]
    exploring = executed["exploring"].markdown
    assert f"* {year} is partial: the newest publication date is {newest}." in exploring
    assert f"{year}*: " in exploring  # in the dated papers per year
    assert f"{year} is partial, to {newest}." in executed["querying"].markdown


def test_topic_trends_are_shares_of_the_year(executed, real_db):
    db = sqlite_utils.Database(real_db)
    per_year = dict(
        db.execute(
            "select substr(published, 1, 4), count(*) from papers where published is not null "
            "group by 1"
        ).fetchall()
    )
    listed = ", ".join(
        f"{year}{'*' if year == max(per_year) else ''}: {n}" for year, n in sorted(per_year.items())
    )
    assert f"Dated papers per year (a share of a small year moves a lot): {listed}." in (
        executed["exploring"].markdown
    )


def test_querying_names_listings_by_title(executed, real_db):
    titles = [r["title"] for r in sqlite_utils.Database(real_db)["listings"].rows]
    for title in titles:
        assert title in executed["querying"].markdown


def test_pandas_tables_lose_scoped_styles_and_empty_headers():
    import pandas as pd

    from papershelf.publish.analysis import accessible_tables

    named = pd.DataFrame({"papers": [3, 1]}, index=pd.Index(["LoRA", "RAG"], name="topic"))
    html = accessible_tables(named._repr_html_())
    assert "<style" not in html and "border=" not in html
    assert re.findall(r"<th>([^<]*)</th>", html) == ["topic", "papers", "LoRA", "RAG"]
    assert "<thead>\n<tr" in html and html.count("<tr") == 3  # the names' row merged up
    plain = accessible_tables(pd.DataFrame({"papers": [3]})._repr_html_())
    assert "<th></th>" not in plain and "<td></td>" in plain  # the corner: a plain cell
    assert "\n\n" not in html + plain  # a blank line would end the HTML block in Markdown
    assert accessible_tables(named._repr_html_()) == html


def test_notebook_pages_have_no_scoped_styles_or_empty_header_cells(real_site):
    root, _ = real_site
    for stem in EXPECTED_FIGURES:
        html = (root / "site" / "analysis" / stem / "index.html").read_text(encoding="utf-8")
        tables = re.findall(r"<table class=\"dataframe\">.*?</table>", html, re.S)
        assert tables, stem
        assert "<style" not in html.split('<article class="md-content__inner', 1)[1], stem
        assert not re.search(r"<th[^>]*>\s*</th>", "".join(tables)), stem


def test_a_printed_block_split_by_the_kernel_renders_as_one():
    """A kernel flushes a print as one stream output or several, as timing falls; the page
    must not depend on it (it did: each piece became its own code block)."""
    from papershelf.publish.analysis import notebook_markdown

    def with_outputs(*texts):
        cell = nbformat.v4.new_code_cell("print(report)")
        cell.outputs = [
            nbformat.v4.new_output("stream", name="stdout", text=text) for text in texts
        ]
        notebook = nbformat.v4.new_notebook()
        notebook.cells = [cell]
        return notebook_markdown(notebook, "report")[0]

    whole = with_outputs("line 1\nline 2\n")
    assert with_outputs("line 1\n", "line 2\n") == whole
    assert whole.count("line") == 2


def test_a_page_that_cannot_be_stored_leaves_no_half_stored_copy(tmp_path):
    """Storing a notebook's page in the cache that fails part way (a full disk fails so)
    removes what it had written: no .tmp directory is left for the next build to trip on."""
    from papershelf.outputs import work_leftovers
    from papershelf.publish.analysis import NotebookPage, _store

    # "a" is written as a file, so "a/b" cannot be: the write fails after the first file.
    page = NotebookPage("x", "X", "# X\n", {"a": b"1", "a/b": b"2"})
    with pytest.raises(OSError):
        _store(tmp_path / "x-key", page)
    assert work_leftovers(tmp_path) == []
    assert not (tmp_path / "x-key").exists()
