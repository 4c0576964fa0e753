"""The notebooks run against a freshly built database, and the site shows them."""

import json

import nbformat
import pytest
import sqlite_utils

from papershelf.analysis import notebook_pages
from papershelf.notebook import ENVIRONMENT_VARIABLE, connect, database_path

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
        assert "from papershelf.notebook import connect" in source


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
    figures = [name for name in page.files if name.endswith(".png")]
    assert len(figures) == EXPECTED_FIGURES[stem]
    assert all(page.files[name].startswith(b"\x89PNG") for name in figures)
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
    from papershelf.curation import measure

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
        images = [p for p in (site / "analysis" / f"{stem}_files").glob("*.png")]
        assert len(images) == count
        for image in images:
            assert f'src="../{stem}_files/{image.name}"' in html
    home = (site / "index.html").read_text(encoding="utf-8")
    assert 'href="analysis/"' in home  # in the navigation
    index = (site / "analysis" / "index.html").read_text(encoding="utf-8")
    for stem in EXPECTED_FIGURES:
        assert f'href="{stem}/"' in index


def test_exploring_notebook_has_clear_axis_labels():
    notebook = nbformat.read(NOTEBOOKS / "exploring.ipynb", as_version=4)
    code = "\n".join(c.source for c in notebook.cells if c.cell_type == "code")
    assert code.count("xlabel=") >= 6


def test_changing_the_topic_labels_runs_the_notebooks_again(tmp_path, real_db):
    (tmp_path / "mkdocs.yml").write_text("site_name: t\n", encoding="utf-8")
    (tmp_path / "content").mkdir()
    labels = tmp_path / "content" / "topic-labels.yml"
    labels.write_text("papers: []\n", encoding="utf-8")
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell("# Tiny"), nbformat.v4.new_code_cell("1 + 1")]
    nbformat.write(notebook, notebooks / "tiny.ipynb")
    cache = tmp_path / "cache"
    notebook_pages(notebooks, real_db, cache)
    first = sorted(p.name for p in cache.iterdir())
    notebook_pages(notebooks, real_db, cache)
    assert sorted(p.name for p in cache.iterdir()) == first  # nothing changed: cached
    labels.write_text("papers: []\n# relabelled\n", encoding="utf-8")
    notebook_pages(notebooks, real_db, cache)
    assert sorted(p.name for p in cache.iterdir()) != first
