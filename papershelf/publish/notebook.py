"""What the notebooks share: where the database is, and a connection to it.

The path comes from one place: ``$PAPERSHELF_DB`` if set, else ``datasets/papers.db``
in the repository that holds the working directory (found by walking up to the
directory with ``mkdocs.yml``), so a notebook works from ``notebooks/`` or the root.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

ENVIRONMENT_VARIABLE = "PAPERSHELF_DB"
RELATIVE_PATH = Path("datasets") / "papers.db"


def database_path(start: Path | None = None) -> Path:
    if os.environ.get(ENVIRONMENT_VARIABLE):
        return Path(os.environ[ENVIRONMENT_VARIABLE])
    here = (start or Path.cwd()).resolve()
    for directory in (here, *here.parents):
        if (directory / "mkdocs.yml").exists() and (directory / "datasets").is_dir():
            return directory / RELATIVE_PATH
    return RELATIVE_PATH


def connect(path: Path | None = None) -> sqlite3.Connection:
    """A read-only connection; a clear error when the database has not been built."""
    path = path or database_path()
    if not path.exists():
        raise FileNotFoundError(
            f"{path}: no database; run 'python build.py db' in the repository first "
            f"(or set {ENVIRONMENT_VARIABLE})"
        )
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
