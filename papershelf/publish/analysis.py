"""The site's Analysis section: the notebooks, executed against the database.

Each notebook in ``notebooks/`` runs top to bottom (nbclient) with ``PAPERSHELF_DB``
pointing at the database being published, and is converted to a Markdown page with its
figures. Figures are SVG; each gets the alt text its cell gives it
(``display(fig, metadata={"image/svg+xml": {"alt": …}})``). Tables (pandas' HTML) lose their
scoped styles and empty header cells, which HTML forbids and screen readers read as nameless
columns. Results are cached by the
notebook's and the database's content, and by what else makes the page (papershelf's code,
which the notebooks import too, and the versions of Python, SQLite and the libraries that
run them), so a rebuild with none of them changed executes nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import shutil
import sqlite3
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from ..collection.curation import labels_path
from ..errors import NotebookError
from ..imports import import_notebook_runner
from .notebook import ENVIRONMENT_VARIABLE
from .versions import child_environment, code_digest, distribution_versions

EXECUTION_TIMEOUT = 600  # seconds per cell
# What runs a notebook and converts it, and what the notebooks import (papershelf's
# modules are in the key by their code): with every library these require.
RUNNERS = (
    *("nbclient", "nbconvert", "nbformat", "ipykernel"),
    *("pandas", "matplotlib", "sqlite-utils", "pyyaml"),
)
SVG = "image/svg+xml"
# How nbconvert's Markdown template writes a figure: the format where the alt text goes.
_FIGURE = re.compile(r"!\[(svg|png)\]\(([^)\s]+)\)")
NO_ALT = "A figure (its notebook cell gives no description)"


@dataclass(frozen=True)
class NotebookPage:
    stem: str
    title: str
    markdown: str
    files: dict[str, bytes]  # relative to the page's directory


def notebook_pages(notebooks_dir: Path, db_path: Path, cache_dir: Path) -> list[NotebookPage]:
    """A page for every notebook, from the cache when nothing its key covers changed
    (the notebook, the database, the labels, :func:`runner_digest`)."""
    if not notebooks_dir.is_dir():
        return []
    db_digest = _digest(db_path.read_bytes())
    # The topic-quality section also reads the labels: a change to them reruns it.
    labels = labels_path(notebooks_dir)
    if labels.exists():
        db_digest += _digest(labels.read_bytes())
    inputs = (db_digest + runner_digest()).encode()
    cached = {}
    for path in sorted(notebooks_dir.glob("*.ipynb")):
        key = _digest(path.read_bytes() + inputs)[:16]
        cached[path] = cache_dir / f"{path.stem}-{key}"
    missing = [path for path, directory in cached.items() if not (directory / "page.md").exists()]
    if missing:
        import_notebook_runner()
    # Each notebook runs in its own kernel process: run them side by side.
    with ThreadPoolExecutor(max_workers=max(1, min(len(missing), os.cpu_count() or 1))) as pool:
        executed = pool.map(lambda path: _execute(path, db_path), missing)
        for path, page in zip(missing, executed, strict=True):
            _store(cached[path], page)
            for stale in cache_dir.glob(f"{path.stem}-*"):
                if stale != cached[path]:
                    shutil.rmtree(stale, ignore_errors=True)
    return [_load(directory, path.stem) for path, directory in cached.items()]


def _execute(path: Path, db_path: Path) -> NotebookPage:
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=EXECUTION_TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    # The kernel imports papershelf: the one this build runs, which the cache key covers.
    environment = {**child_environment(os.environ), ENVIRONMENT_VARIABLE: str(db_path.resolve())}
    try:
        # The kernel's own log (a warning about unencrypted local TCP) is noise here;
        # errors in cells come back as outputs and are raised below.
        client.execute(stderr=subprocess.DEVNULL, env=environment)
    except CellExecutionError as error:
        raise NotebookError(f"{path}: a cell failed:\n{error}") from None
    body, resources = notebook_markdown(notebook, path.stem)
    title = next(
        (
            line.lstrip("# ").strip()
            for cell in notebook.cells
            if cell.cell_type == "markdown"
            for line in cell.source.splitlines()
            if line.startswith("# ")
        ),
        path.stem,
    )
    body = _with_alt_texts(body, _alt_texts(notebook))
    return NotebookPage(path.stem, title, body, dict(resources.get("outputs", {})))


def notebook_markdown(notebook, stem: str) -> tuple[str, dict]:
    """An executed notebook as Markdown, and its extracted output files.

    A kernel may split one printed block into several stream outputs, depending on when it
    flushes; each would become its own code block. Consecutive stream outputs are joined
    first, so the same notebook always gives the same page.
    """
    from nbconvert import MarkdownExporter
    from nbconvert.preprocessors import CoalesceStreamsPreprocessor

    notebook, _ = CoalesceStreamsPreprocessor().preprocess(notebook, {})
    _clean_tables(notebook)
    return MarkdownExporter().from_notebook_node(
        notebook, resources={"output_files_dir": f"{stem}_files"}
    )


def _clean_tables(notebook) -> None:
    """Rewrite every HTML output that holds a pandas table (see :func:`accessible_tables`)."""
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            html = output.get("data", {}).get("text/html")
            if html and 'class="dataframe"' in html:
                output["data"]["text/html"] = accessible_tables(html)


def accessible_tables(html: str) -> str:
    """pandas' HTML without ``<style scoped>`` (not valid HTML) nor empty header cells.

    A named index's row of its own (its name, then empty cells) is merged into the column
    header's empty corner; a corner still empty becomes a plain cell. The same input gives
    the same output.
    """
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    for style in soup.find_all("style"):
        _remove(style)
    for table in soup.find_all("table", class_="dataframe"):
        del table["border"]  # presentation, obsolete: the site's CSS draws the borders
        head = table.find("thead")
        if head:
            _merge_index_names(head.find_all("tr", recursive=False))
        for cell in table.find_all("th"):
            if not cell.get_text(strip=True):
                cell.name = "td"
    return str(soup)


def _merge_index_names(rows) -> None:
    """Move the index names up into the empty corner of the header row above them."""
    if len(rows) < 2:
        return
    columns, names = rows[-2].find_all(["th", "td"]), rows[-1].find_all(["th", "td"])
    named = [cell for cell in names if cell.get_text(strip=True)]
    corner = columns[: len(named)]
    if (
        named
        and names[: len(named)] == named
        and all(not cell.get_text(strip=True) for cell in corner)
        and len(columns) == len(names)
    ):
        for empty, name in zip(corner, named, strict=True):
            empty.replace_with(name.extract())
        _remove(rows[-1])


def _remove(tag) -> None:
    """Remove ``tag`` and the line break before it (a blank line would end Markdown's HTML)."""
    before = tag.previous_sibling
    if isinstance(before, str) and not before.strip():
        before.extract()
    tag.decompose()


def _alt_texts(notebook) -> list[str]:
    """The alt text of every figure, in the order the page shows them."""
    alts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if SVG in data or "image/png" in data:
                kind = SVG if SVG in data else "image/png"
                alts.append(output.get("metadata", {}).get(kind, {}).get("alt") or NO_ALT)
    return alts


def _with_alt_texts(body: str, alts: list[str]) -> str:
    """Put each figure's alt text where nbconvert writes the format's name."""
    figures = iter(alts)

    def replace(match: re.Match) -> str:
        alt = " ".join(str(next(figures, NO_ALT)).split())  # one line
        alt = re.sub(r"([\\\[\]])", r"\\\1", alt)  # brackets would end the alt text
        return f"![{alt}]({match[2]})"

    return _FIGURE.sub(replace, body)


def _store(directory: Path, page: NotebookPage) -> None:
    temporary = directory.with_name(directory.name + ".tmp")
    shutil.rmtree(temporary, ignore_errors=True)
    try:
        for relative, data in page.files.items():
            (temporary / "files" / relative).parent.mkdir(parents=True, exist_ok=True)
            (temporary / "files" / relative).write_bytes(data)
        temporary.mkdir(parents=True, exist_ok=True)
        (temporary / "title.txt").write_text(page.title, encoding="utf-8")
        (temporary / "page.md").write_text(page.markdown, encoding="utf-8")
    except BaseException:  # a full disk: say so, and leave no half-stored page behind
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    shutil.rmtree(directory, ignore_errors=True)
    temporary.rename(directory)


def _load(directory: Path, stem: str) -> NotebookPage:
    files_dir = directory / "files"
    files = {
        p.relative_to(files_dir).as_posix(): p.read_bytes()
        for p in sorted(files_dir.rglob("*"))
        if p.is_file()
    }
    return NotebookPage(
        stem,
        (directory / "title.txt").read_text(encoding="utf-8"),
        (directory / "page.md").read_text(encoding="utf-8"),
        files,
    )


def runner_digest() -> str:
    """What a notebook's page depends on besides the notebook, the database and the
    labels: papershelf's code, and the versions of Python, SQLite and :data:`RUNNERS`. An
    upgrade (in CI, whose installs are not pinned) reruns the notebooks."""
    runners = {
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "versions": distribution_versions(RUNNERS),
    }
    return _digest(code_digest() + json.dumps(runners, sort_keys=True).encode())


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
